# -*- coding: utf-8 -*-
"""Check mode of every deleting path against a REAL API server: a real server reads DELETE
options from the body whenever there is one (handlers/delete.go), so this is where a dry run in
the wrong place would delete for real. Creates uniquely named objects, runs every deleting path
in check mode, and asserts with the kubernetes client (not the modules' output) that each object
still exists with the same uid and resourceVersion. Skipped without KUBECONFIG."""
from __future__ import annotations

import json
import uuid

import pytest

from . import SKIP_REASON, reachable_cluster

KUBECONFIG = reachable_cluster()
pytestmark = pytest.mark.skipif(KUBECONFIG is None, reason=SKIP_REASON)
MANAGED = {"app.kubernetes.io/managed-by": "strata.storage"}


@pytest.fixture
def api():
    from kubernetes import client, config
    configuration = client.Configuration()
    config.load_kube_config(config_file=KUBECONFIG, client_configuration=configuration)
    return client.ApiClient(configuration)


def _has_snapshot_crd(api):
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    try:
        client.CustomObjectsApi(api).list_cluster_custom_object("snapshot.storage.k8s.io", "v1", "volumesnapshotclasses",
                                                                limit=1)
        return True
    except ApiException:
        return False


def test_check_mode_deletes_nothing_on_a_real_cluster(ansible_run, api):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    suffix = uuid.uuid4().hex[:8]
    names = dict((k, "strata-chk-%s-%s" % (k, suffix)) for k in ("sc", "resc", "vsc", "revsc", "ns", "nsb", "pv", "pvc"))
    storage, core, rbac = client.StorageV1Api(api), client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
    custom = client.CustomObjectsApi(api)
    snapshots = _has_snapshot_crd(api)
    created = []

    def sc(name, parameters=None):
        storage.create_storage_class({"metadata": {"name": name}, "provisioner": "strata.example/none",
                                      "parameters": parameters or {"a": "1"}})
        created.append(("sc", name))

    try:
        sc(names["sc"])
        sc(names["resc"])
        if snapshots:
            for key in ("vsc", "revsc"):
                custom.create_cluster_custom_object("snapshot.storage.k8s.io", "v1", "volumesnapshotclasses", {
                    "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass",
                    "metadata": {"name": names[key]}, "driver": "strata.example/none", "deletionPolicy": "Delete"})
                created.append(("vsc", names[key]))
        for key in ("ns", "nsb"):
            core.create_namespace({"metadata": {"name": names[key], "labels": dict(
                MANAGED, **{"strata.storage/tenant": names[key]})}})
            created.append(("ns", names[key]))
        # a statically bound pair with reclaim policy Delete: what tenant removal must keep
        core.create_persistent_volume({"metadata": {"name": names["pv"]}, "spec": {
            "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "",
            "persistentVolumeReclaimPolicy": "Delete", "hostPath": {"path": "/tmp/%s" % names["pv"]},
            "claimRef": {"namespace": names["ns"], "name": names["pvc"]}}})
        created.append(("pv", names["pv"]))
        core.create_namespaced_persistent_volume_claim(names["ns"], {"metadata": {"name": names["pvc"]}, "spec": {
            "accessModes": ["ReadWriteOnce"], "storageClassName": "", "volumeName": names["pv"],
            "resources": {"requests": {"storage": "1Gi"}}}})
        rbac.create_namespaced_role_binding(names["nsb"], {
            "metadata": {"name": "strata-tenant", "labels": MANAGED},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "strata-test"}]})

        def state():
            out = {"sc": [storage.read_storage_class(names[k]).metadata for k in ("sc", "resc")],
                   "ns": [core.read_namespace(names[k]).metadata for k in ("ns", "nsb")],
                   "pv": core.read_persistent_volume(names["pv"]).metadata,
                   "pvc": core.read_namespaced_persistent_volume_claim(names["pvc"], names["ns"]).metadata,
                   "rb": rbac.read_namespaced_role_binding("strata-tenant", names["nsb"]).metadata}
            if snapshots:
                out["vsc"] = [custom.get_cluster_custom_object("snapshot.storage.k8s.io", "v1", "volumesnapshotclasses",
                                                               names[k])["metadata"] for k in ("vsc", "revsc")]
            flat = json.loads(json.dumps(out, default=lambda m: {"uid": m.uid, "rv": m.resource_version,
                                                                 "deleting": m.deletion_timestamp is not None}))
            return flat

        before = state()
        calls = [
            ("strata.storage.k8s_storageclass", {"name": names["sc"], "state": "absent"}),
            ("strata.storage.k8s_storageclass", {"name": names["resc"], "parameters": {"a": "2"}, "recreate": True}),
            ("strata.storage.k8s_tenant_namespace", {"name": names["ns"], "state": "absent"}),
            ("strata.storage.k8s_tenant_namespace", {"name": names["nsb"], "group": "strata-test",
                                                     "network_policy": False}),
            ("strata.storage.k8s_storage_cleanup", {"delete": True, "pvs": [{"name": names["pv"]}],
                                                    "pvcs": [{"namespace": names["ns"], "name": names["pvc"]}]}),
        ]
        if snapshots:
            calls += [("strata.storage.k8s_volumesnapshotclass", {"name": names["vsc"], "state": "absent"}),
                      ("strata.storage.k8s_volumesnapshotclass", {"name": names["revsc"], "driver": "other.example",
                                                                  "recreate": True})]
        lines = ["- hosts: localhost", "  gather_facts: false", "  tasks:"]
        for index, (module, args) in enumerate(calls):
            lines += ["    - name: path %d" % index,
                      "      %s: %s" % (module, json.dumps(dict(args, kubeconfig=KUBECONFIG))),
                      "      ignore_errors: true"]
        result = ansible_run("\n".join(lines) + "\n", check=True)
        for index in range(len(calls)):
            res = result.result("path %d" % index)
            assert not res.get("failed"), res
        assert state() == before
    finally:
        for kind, name in reversed(created):
            try:
                if kind == "sc":
                    storage.delete_storage_class(name)
                elif kind == "vsc":
                    custom.delete_cluster_custom_object("snapshot.storage.k8s.io", "v1", "volumesnapshotclasses", name)
                elif kind == "ns":
                    core.delete_namespace(name)
                elif kind == "pv":
                    core.delete_persistent_volume(name)
            except ApiException:
                pass
