# -*- coding: utf-8 -*-
"""Tests against a REAL cluster (kind, k3s, ...): they run only when KUBECONFIG points at a
cluster that answers, and are skipped with that reason otherwise."""
from __future__ import annotations

import os

SKIP_REASON = "no real Kubernetes cluster: set KUBECONFIG to a kind/k3s cluster to run"


def reachable_cluster():
    """The first KUBECONFIG path when the cluster it names answers /version within 5 s, else None."""
    path = os.environ.get("KUBECONFIG")
    if not path or not os.path.exists(path.split(os.pathsep)[0]):
        return None
    try:
        from kubernetes import client, config
        configuration = client.Configuration()
        config.load_kube_config(config_file=path.split(os.pathsep)[0], client_configuration=configuration)
        configuration.retries = 0
        client.VersionApi(client.ApiClient(configuration)).get_code(_request_timeout=5)
    except Exception:
        return None
    return path.split(os.pathsep)[0]
