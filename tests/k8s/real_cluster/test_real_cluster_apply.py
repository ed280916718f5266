# -*- coding: utf-8 -*-
"""The StorageClass and tenant playbooks against a REAL cluster (kind, k3s, ...).

Runs only when KUBECONFIG points at a cluster that answers; skipped with a reason otherwise.
Creates a uniquely named StorageClass and tenant namespace and removes them again.
"""
from __future__ import annotations

import os
import uuid

import pytest

from . import SKIP_REASON, reachable_cluster

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
KUBECONFIG = reachable_cluster()
pytestmark = pytest.mark.skipif(KUBECONFIG is None, reason=SKIP_REASON)


@pytest.fixture
def api():
    from kubernetes import client, config
    configuration = client.Configuration()
    config.load_kube_config(config_file=KUBECONFIG, client_configuration=configuration)
    return client.ApiClient(configuration)


def test_storageclass_and_tenant_on_a_real_cluster(ansible_run, api):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    suffix = uuid.uuid4().hex[:8]
    sc_name, ns_name = "strata-test-%s" % suffix, "strata-test-%s" % suffix
    extra = {
        "k8s_auth_kubeconfig": KUBECONFIG,
        "k8s_storage_classes": [{"name": sc_name, "provisioner": "strata.example/none", "parameters": {"a": "1"},
                                 "allow_volume_expansion": True}],
        "k8s_tenant_tenants": [{"name": ns_name, "group": "strata-test", "pod_security": "restricted",
                                "quotas": {"storage": "10Gi", "pvcs": 3, "per_class": {sc_name: {"storage": "5Gi", "pvcs": 2}}},
                                "limits": {"pvc_max": "5Gi"}, "allowed_namespaces": ["kube-system"]}],
    }
    storage = client.StorageV1Api(api)
    core = client.CoreV1Api(api)
    playbook = os.path.join(REPO, "playbooks", "k8s_storage.yml")
    try:
        first = ansible_run(playbook, extra)
        assert first.rc == 0, first.stdout[-4000:]
        assert storage.read_storage_class(sc_name).volume_binding_mode == "WaitForFirstConsumer"
        hard = core.read_namespaced_resource_quota("strata-tenant-quota", ns_name).spec.hard
        assert hard["%s.storageclass.storage.k8s.io/persistentvolumeclaims" % sc_name] == "2"

        again = ansible_run(playbook, extra)
        assert again.rc == 0 and again.changed_tasks() == [], again.changed_tasks()

        changed_class = dict(extra["k8s_storage_classes"][0], parameters={"a": "2"})
        check = ansible_run(playbook, dict(extra, k8s_storage_classes=[changed_class]), check=True)
        assert check.rc != 0 and "cannot change after creation" in check.stdout

        extra["k8s_tenant_tenants"][0]["state"] = "absent"
        extra["k8s_storage_classes"][0]["state"] = "absent"
        gone = ansible_run(playbook, extra)
        assert gone.rc == 0, gone.stdout[-4000:]
    finally:
        for call in (lambda: storage.delete_storage_class(sc_name), lambda: core.delete_namespace(ns_name)):
            try:
                call()
            except ApiException:
                pass
