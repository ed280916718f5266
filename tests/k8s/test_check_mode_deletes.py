# -*- coding: utf-8 -*-
"""Check mode of every module path that deletes, against the stand-in that reads DELETE
options where a real API server does (the body, when a DELETE has one: handlers/delete.go).

One playbook in check mode runs every deleting path; afterwards the stand-in's own store must be
unchanged (same uid, resourceVersion, no deletionTimestamp) and every request that could write
must carry its dry run where the server reads it: DeleteOptions.dryRun in the body of a DELETE,
the dryRun query parameter of a POST/PUT/PATCH."""
from __future__ import annotations

import json

SC_V = "storage.k8s.io/v1"
VSC_V = "snapshot.storage.k8s.io/v1"
MANAGED = {"app.kubernetes.io/managed-by": "strata.storage"}


def cluster():
    def sc(name, **fields):
        return dict({"apiVersion": SC_V, "kind": "StorageClass", "metadata": {"name": name},
                     "provisioner": "topolvm.io", "reclaimPolicy": "Delete"}, **fields)

    def vsc(name, driver="topolvm.io"):
        return {"apiVersion": VSC_V, "kind": "VolumeSnapshotClass", "metadata": {"name": name}, "driver": driver,
                "deletionPolicy": "Delete"}

    def ns(name):
        return {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": name, "labels": dict(MANAGED, **{"strata.storage/tenant": name})}}

    def pvc(ns_, name, volume=None, phase="Bound"):
        spec = {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
                "resources": {"requests": {"storage": "1Gi"}}}
        if volume:
            spec["volumeName"] = volume
        return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": ns_},
                "spec": spec, "status": {"phase": phase}}

    def pv(name, claim=None, phase="Bound", policy="Delete"):
        spec = {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
                "persistentVolumeReclaimPolicy": policy, "csi": {"driver": "topolvm.io", "volumeHandle": name}}
        if claim:
            spec["claimRef"] = {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": claim[0],
                                "name": claim[1]}
        return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name}, "spec": spec,
                "status": {"phase": phase}}

    return [
        sc("fast"), sc("gone-sc"), sc("re-sc", parameters={"a": "1"}),
        vsc("gone-vsc"), vsc("re-vsc"),
        ns("team-a"), pvc("team-a", "data", "pv-data"), pv("pv-data", ("team-a", "data")),
        pvc("team-a", "waiting", phase="Pending"),
        ns("team-b"),
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "strata-tenant", "namespace": "team-b", "labels": dict(MANAGED)},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "b"}]},
        pv("pv-stale", ("team-c", "gone"), phase="Released"), pvc("team-c", "old"),
    ]


def tasks(kubeconfig):
    auth = {"kubeconfig": kubeconfig}
    calls = [
        ("strata.storage.k8s_storageclass", {"name": "gone-sc", "state": "absent"}),
        ("strata.storage.k8s_storageclass", {"name": "re-sc", "parameters": {"a": "2"}, "recreate": True}),
        ("strata.storage.k8s_volumesnapshotclass", {"name": "gone-vsc", "state": "absent"}),
        ("strata.storage.k8s_volumesnapshotclass", {"name": "re-vsc", "driver": "other.io", "recreate": True}),
        ("strata.storage.k8s_tenant_namespace", {"name": "team-a", "state": "absent"}),
        ("strata.storage.k8s_tenant_namespace", {"name": "team-b", "group": "b", "network_policy": False}),
        ("strata.storage.k8s_storage_cleanup", {"delete": True, "pvs": [{"name": "pv-stale"}],
                                                "pvcs": [{"namespace": "team-c", "name": "old"}]}),
    ]
    lines = ["- hosts: localhost", "  gather_facts: false", "  tasks:"]
    for index, (module, args) in enumerate(calls):
        lines += ["    - name: path %d" % index, "      %s: %s" % (module, json.dumps(dict(args, **auth))),
                  "      ignore_errors: true"]
    return "\n".join(lines) + "\n", len(calls)


def assert_nothing_would_be_executed(standin, before):
    assert standin.snapshot() == before
    writes = standin.writes()
    deletes = [w for w in writes if w["method"] == "DELETE"]
    for write in writes:
        if write["method"] == "DELETE":
            # handlers/delete.go reads DeleteOptions from the body and ignores the query then
            assert isinstance(write["body"], dict) and write["body"].get("dryRun") == ["All"], write
        else:
            # create.go/update.go/patch.go read dryRun from the query
            assert write["query"].get("dryRun") == "All", write
    return deletes


def test_check_mode_of_every_deleting_path_writes_nothing(standin, ansible_run):
    standin.seed(cluster())
    before = standin.snapshot()
    standin.reset_requests()
    playbook, count = tasks(standin.kubeconfig)
    result = ansible_run(playbook, check=True)
    results = [result.result("path %d" % i) for i in range(count)]
    for res in results:
        assert not res.get("failed"), res
        assert res["changed"] is True, res
    deletes = assert_nothing_would_be_executed(standin, before)
    paths = sorted(d["path"] for d in deletes)
    for expected in ("/apis/storage.k8s.io/v1/storageclasses/gone-sc", "/apis/storage.k8s.io/v1/storageclasses/re-sc",
                     "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses/gone-vsc",
                     "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses/re-vsc",
                     "/api/v1/namespaces/team-a",
                     "/apis/rbac.authorization.k8s.io/v1/namespaces/team-b/rolebindings/strata-tenant",
                     "/api/v1/persistentvolumes/pv-stale",
                     "/api/v1/namespaces/team-c/persistentvolumeclaims/old"):
        assert expected in paths, paths
    assert all(a["dry_run"] is True for res in results for a in res["actions"])
