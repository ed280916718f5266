# -*- coding: utf-8 -*-
"""k8s_storage_info's listing (calls per kind, per-namespace mode) and k8s_storage_cleanup's
guards and delete requests, against a fake kubernetes API (no server)."""
from __future__ import annotations

import json

import pytest

from ansible_collections.strata.storage.plugins.module_utils.k8s import client as k8s
from ansible_collections.strata.storage.plugins.modules import k8s_storage_cleanup, k8s_storage_info

kubernetes = pytest.importorskip("kubernetes")


class Response(object):
    def __init__(self, payload):
        self.data = json.dumps(payload).encode()


def conflict(message):
    exc = k8s.ApiException(status=409, reason="Conflict")
    exc.body = json.dumps({"kind": "Status", "status": "Failure", "reason": "Conflict", "code": 409, "message": message})
    return exc


class FakeApi(object):
    """Serves lists from `store` {kind: [objects]}, paginated by `limit`; records every call."""

    def __init__(self, store, calls):
        self.store, self.calls = store, calls
        self.fail_delete = {}

    def _list(self, kind, namespace=None, limit=None, _continue=None, field_selector=None, _preload_content=True,
              _request_timeout=None):
        assert _preload_content is False and limit
        self.calls.append(("list", kind, namespace, limit, _continue, field_selector))
        items = [o for o in self.store.get(kind, []) if namespace is None or o["metadata"].get("namespace") == namespace]
        start = int(_continue or 0)
        page = items[start:start + limit]
        meta = {"continue": str(start + limit)} if start + limit < len(items) else {}
        return Response({"items": page, "metadata": meta})

    def __getattr__(self, name):
        kinds = {"persistent_volume_claim": "pvcs", "persistent_volume": "pvs", "storage_class": "classes",
                 "pod": "pods", "event": "events"}
        if name.startswith("list_"):
            for key in sorted(kinds, key=len, reverse=True):
                if key in name:
                    return lambda namespace=None, **kw: self._list(kinds[key], namespace, **kw)
        raise AttributeError(name)

    def read_persistent_volume(self, name, _preload_content=True, _request_timeout=None):
        return self._read("pvs", name, None)

    def read_namespaced_persistent_volume_claim(self, name, namespace, _preload_content=True, _request_timeout=None):
        return self._read("pvcs", name, namespace)

    def _read(self, kind, name, namespace):
        self.calls.append(("get", kind, namespace, name))
        for obj in self.store.get(kind, []):
            if obj["metadata"]["name"] == name and obj["metadata"].get("namespace") == namespace:
                return Response(obj)
        raise k8s.ApiException(status=404, reason="Not Found")

    def delete_persistent_volume(self, name, **kwargs):
        return self._delete("pvs", name, None, kwargs)

    def delete_namespaced_persistent_volume_claim(self, name, namespace, **kwargs):
        return self._delete("pvcs", name, namespace, kwargs)

    def _delete(self, kind, name, namespace, kwargs):
        pre = kwargs["body"].preconditions
        # handlers/delete.go reads the body of a DELETE that has one and ignores the query then:
        # the dry run must be in the body, never a query parameter next to it
        assert "dry_run" not in kwargs
        self.calls.append(("delete", kind, namespace, name, pre.uid, pre.resource_version, kwargs["body"].dry_run))
        if name in self.fail_delete:
            raise self.fail_delete[name]
        return Response({})


def obj(kind, name, namespace=None, rv="1", **fields):
    meta = {"name": name, "uid": "uid-" + name, "resourceVersion": rv}
    if namespace:
        meta["namespace"] = namespace
    out = {"metadata": meta}
    out.update(fields)
    return out


# --- k8s_storage_info: one paginated list per kind -----------------------------------------

@pytest.fixture
def info_api(monkeypatch):
    calls = []
    store = {
        "pvs": [obj("pv", "pv%d" % i, spec={}, status={"phase": "Available"}) for i in range(7)],
        "pvcs": [obj("pvc", "c%d" % i, namespace="ns%d" % (i % 3), spec={}, status={"phase": "Pending"}) for i in range(12)],
        "classes": [], "pods": [], "events": [],
    }
    api = FakeApi(store, calls)
    monkeypatch.setattr(kubernetes.client, "CoreV1Api", lambda client: api)
    monkeypatch.setattr(kubernetes.client, "StorageV1Api", lambda client: api)
    return api


def test_read_cluster_lists_each_kind_once_with_pages(info_api):
    objects, calls = k8s_storage_info.read_cluster(None, None, page_size=5)
    assert calls == {"persistentvolumes": 2, "storageclasses": 1, "persistentvolumeclaims": 3, "pods": 1, "events": 1}
    assert len(objects["persistentvolumeclaims"]) == 12 and len(objects["persistentvolumes"]) == 7
    assert all(c[0] == "list" and c[2] is None for c in info_api.calls)
    events = [c for c in info_api.calls if c[1] == "events"]
    assert events[0][5] == "involvedObject.kind=PersistentVolumeClaim"
    # pages follow the continue token
    assert [c[4] for c in info_api.calls if c[1] == "pvcs"] == [None, "5", "10"]


def test_read_cluster_per_namespace_when_few_are_named(info_api):
    objects, calls = k8s_storage_info.read_cluster(None, ["ns0", "ns2"], page_size=500)
    assert calls == {"persistentvolumes": 1, "storageclasses": 1, "persistentvolumeclaims": 2, "pods": 2, "events": 2}
    assert sorted(set(o["metadata"]["namespace"] for o in objects["persistentvolumeclaims"])) == ["ns0", "ns2"]


def test_read_cluster_all_namespaces_when_many_are_named(info_api):
    names = ["ns%d" % i for i in range(k8s_storage_info.PER_NAMESPACE_LIMIT + 1)]
    objects, calls = k8s_storage_info.read_cluster(None, names, page_size=500)
    assert calls["persistentvolumeclaims"] == 1 and calls["pods"] == 1


# --- k8s_storage_cleanup ---------------------------------------------------------------------

class FakeModule(object):
    def __init__(self, params, check_mode=False, diff=False):
        base = {"pvs": [], "pvcs": [], "delete": False, "retain_pvs_to_delete": [], "page_size": 500, "wait": False,
                "wait_timeout": 120}
        base.update(params)
        self.params, self.check_mode, self._diff = base, check_mode, diff
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)


def cleanup_store():
    released = {"phase": "Released"}
    return {
        "pvs": [
            obj("pv", "pv-del", rv="5", spec={"persistentVolumeReclaimPolicy": "Delete", "storageClassName": "fast"}, status=released),
            obj("pv", "pv-keep", rv="6", spec={"persistentVolumeReclaimPolicy": "Delete", "storageClassName": "keep"}, status=released),
            obj("pv", "pv-own", rv="7", spec={"persistentVolumeReclaimPolicy": "Retain", "storageClassName": "fast"}, status=released),
            obj("pv", "pv-bound", rv="8", spec={"persistentVolumeReclaimPolicy": "Delete", "storageClassName": "fast",
                                                "claimRef": {"namespace": "a", "name": "x"}}, status={"phase": "Bound"}),
        ],
        "pvcs": [obj("pvc", "old", namespace="a", rv="11"), obj("pvc", "used", namespace="a", rv="12"),
                 obj("pvc", "moved", namespace="b", rv="99")],
        "classes": [{"metadata": {"name": "fast"}, "reclaimPolicy": "Delete"},
                    {"metadata": {"name": "keep"}, "reclaimPolicy": "Retain"}],
        "pods": [{"metadata": {"name": "web", "namespace": "a"}, "spec": {"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "used"}}]},
                  "status": {"phase": "Running"}}],
    }


@pytest.fixture
def cleanup_api(monkeypatch):
    calls = []
    api = FakeApi(cleanup_store(), calls)
    monkeypatch.setattr(kubernetes.client, "CoreV1Api", lambda client: api)
    monkeypatch.setattr(kubernetes.client, "StorageV1Api", lambda client: api)
    return api


PVS = [{"name": n, "uid": "uid-" + n, "resource_version": rv} for n, rv in
       (("pv-del", "5"), ("pv-keep", "6"), ("pv-own", "7"), ("pv-bound", "8"), ("pv-missing", None))]
PVCS = [{"namespace": "a", "name": "old", "uid": "uid-old", "resource_version": "11"},
        {"namespace": "a", "name": "used", "uid": "uid-used", "resource_version": "12"},
        {"namespace": "b", "name": "moved", "uid": "uid-moved", "resource_version": "13"}]


def run_cleanup(api, check_mode=False, **params):
    module = FakeModule(dict({"pvs": PVS, "pvcs": PVCS}, **params), check_mode=check_mode, diff=True)
    cleanup = k8s_storage_cleanup.Cleanup(None, check_mode, 500)
    return k8s_storage_cleanup.run(module, cleanup), module


def names(entries):
    return sorted("%s/%s" % (e.get("namespace", ""), e["name"]) for e in entries)


def test_cleanup_reports_only_without_delete(cleanup_api):
    result, module = run_cleanup(cleanup_api)
    assert not result["changed"] and result["deleted"] == [] and result["actions"] == []
    assert not [c for c in cleanup_api.calls if c[0] == "delete"]
    assert names(result["would_delete"]) == ["/pv-del", "a/old"]
    refused = {e["name"]: e["reason"] for e in result["refused"]}
    assert refused["used"] == "mounted by pod(s) web"
    assert refused["moved"].startswith("changed since the report: resourceVersion 99, expected 13")
    assert "StorageClass keep has reclaimPolicy Retain" in refused["pv-keep"]
    assert "persistentVolumeReclaimPolicy is Retain" in refused["pv-own"]
    assert refused["pv-bound"].startswith("phase is Bound")
    assert names(result["gone"]) == ["/pv-missing"]
    # pods listed once per namespace of the PVCs, classes once, one GET per object
    assert result["api_calls"] == {"list pods": 2, "list storageclasses": 1, "get PersistentVolumeClaim": 3,
                                   "get PersistentVolume": 5, "total": 11}


def test_cleanup_deletes_with_preconditions(cleanup_api):
    result, module = run_cleanup(cleanup_api, delete=True, retain_pvs_to_delete=["pv-own", "pv-other"])
    assert result["changed"]
    assert names(result["deleted"]) == ["/pv-del", "/pv-own", "a/old"]
    deletes = [c for c in cleanup_api.calls if c[0] == "delete"]
    assert deletes == [("delete", "pvcs", "a", "old", "uid-old", "11", None),
                       ("delete", "pvs", None, "pv-del", "uid-pv-del", "5", None),
                       ("delete", "pvs", None, "pv-own", "uid-pv-own", "7", None)]
    assert result["actions"][0] == {"description": "delete PersistentVolumeClaim a/old", "method": "DELETE",
                                    "path": "/api/v1/namespaces/a/persistentvolumeclaims/old",
                                    "preconditions": {"uid": "uid-old", "resourceVersion": "11"}, "dry_run": False}
    assert module.warnings == ["retain_pvs_to_delete names pv-other, which is not in pvs: nothing is deleted for it"]
    assert result["diff"]["after"]["pvs"] == ["pv-keep", "pv-bound"]


def test_cleanup_check_mode_uses_server_dry_run(cleanup_api):
    result, module = run_cleanup(cleanup_api, check_mode=True, delete=True)
    deletes = [c for c in cleanup_api.calls if c[0] == "delete"]
    assert [c[-1] for c in deletes] == [["All"], ["All"]]
    assert all(a["dry_run"] for a in result["actions"]) and result["changed"]


def test_cleanup_precondition_conflict_is_refused(cleanup_api):
    cleanup_api.fail_delete["pv-del"] = conflict("Precondition failed: ResourceVersion in precondition: 5, ResourceVersion in object meta: 9")
    result, module = run_cleanup(cleanup_api, delete=True)
    refused = {e["name"]: e["reason"] for e in result["refused"]}
    assert refused["pv-del"].startswith("changed between read and delete")
    assert "ResourceVersion in precondition: 5" in refused["pv-del"]
    assert names(result["deleted"]) == ["a/old"]


def test_cleanup_delete_404_is_gone(cleanup_api):
    cleanup_api.fail_delete["old"] = k8s.ApiException(status=404, reason="Not Found")
    result, module = run_cleanup(cleanup_api, delete=True)
    assert "a/old" in names(result["gone"]) and "a/old" not in names(result["deleted"])
