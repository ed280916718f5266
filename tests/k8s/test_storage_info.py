# -*- coding: utf-8 -*-
"""k8s_storage_info through ansible-playbook against the API stand-in: the report's relations
on a small cluster (exact values), and the 5,000 PV / 5,000 PVC cluster in 200 namespaces
listed with a fixed number of paginated calls.

API calls: one list per kind, following pagination, so with page size P the module makes
sum over the 5 kinds (PVs, PVCs, StorageClasses, pods, PVC events) of max(1, ceil(n / P)).
For 5,000 PVs, 5,000 PVCs, 3 classes, 400 pods and 200 events at P=500: 10+10+1+1+1 = 23.
"""
from __future__ import annotations

import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import storage_seed as seed  # noqa: E402  pylint: disable=wrong-import-position

GI = seed.GI
LIST_PATHS = {
    "/api/v1/persistentvolumes": "persistentvolumes",
    "/api/v1/persistentvolumeclaims": "persistentvolumeclaims",
    "/apis/storage.k8s.io/v1/storageclasses": "storageclasses",
    "/api/v1/pods": "pods",
    "/api/v1/events": "events",
}


def info_play(kubeconfig, **options):
    lines = ["- name: Storage report", "  hosts: localhost", "  gather_facts: false", "  tasks:",
             "    - name: Report", "      strata.storage.k8s_storage_info:",
             "        kubeconfig: %s" % kubeconfig]
    for key, value in options.items():
        lines.append("        %s: %s" % (key, value))
    return "\n".join(lines) + "\n"


def run_info(standin, ansible_run, **options):
    result = ansible_run(info_play(standin.kubeconfig, **options))
    assert result.rc == 0, result.stdout + result.stderr
    report = result.result("Report")
    assert report["changed"] is False
    return report


def small_cluster():
    objects = [seed.storageclass("fast", default=True), seed.storageclass("keep", reclaim="Retain"),
               seed.storageclass("wait", binding="WaitForFirstConsumer")]
    db = seed.bound_pair("app", "db", "pv-db", size="10Gi")
    db[1]["spec"]["capacity"]["storage"] = "12Gi"  # the provisioner rounded up
    objects += db
    objects += seed.bound_pair("app", "cache", "pv-cache", size="2Gi", klass="keep", reclaim="Retain")
    objects.append(seed.pvc("app", "broken", size="5Gi", phase="Pending", created=0))
    objects.append(seed.event("app", "broken", "ExternalProvisioning", "waiting for a volume to be created", 5, etype="Normal"))
    objects.append(seed.event("app", "broken", "ProvisioningFailed", "rpc error: no space left on backend", 1, count=6))
    objects.append(seed.pvc("web", "waiting", size="1Gi", klass="wait", phase="Pending", created=1))
    objects.append(seed.event("web", "waiting", "WaitForFirstConsumer", "waiting for first consumer to be created before binding",
                              2, etype="Normal"))
    objects.append(seed.pvc("web", "typo", size="3Gi", klass="fsat", phase="Pending", created=1))
    objects += seed.bound_pair("web", "web-0-scratch", "pv-scratch", size="1Gi", created=1)
    objects.append(seed.pod("app", "db-0", claims=["db"]))
    objects.append(seed.pod("web", "web-0", ephemeral=["scratch"]))
    objects.append(seed.pod("web", "web-1", claims=["waiting"], phase="Pending", started=None))
    objects.append(seed.pod("web", "nothing"))
    objects.append(seed.pv("pv-old", size="4Gi", phase="Released", claim=("app", "gone", "uid-gone"), transition=40))
    objects.append(seed.pv("pv-failed", phase="Failed", claim=("app", "gone2", "uid-gone2")))
    objects.append(seed.pv("pv-recreated", phase="Released", claim=("app", "db", "uid-of-an-earlier-db"), transition=2))
    return objects


def test_small_cluster_relations(standin, ansible_run):
    standin.seed(small_cluster())
    standin.reset_requests()
    report = run_info(standin, ansible_run, stale_days=30)

    assert report["api_calls"] == {"persistentvolumes": 1, "persistentvolumeclaims": 1, "storageclasses": 1,
                                   "pods": 1, "events": 1, "total": 5}
    assert len(standin.requests()) == 5
    summary = report["summary"]
    assert (summary["pvs"], summary["pvcs"], summary["storageclasses"], summary["namespaces"]) == (6, 6, 3, 2)
    assert summary["default_classes"] == ["fast"]
    assert report["namespaces"]["app"] == {
        "pvcs": 3, "requested_bytes": 17 * GI, "bound_bytes": 14 * GI, "pending": 1,
        "classes": {"fast": {"pvcs": 2, "requested_bytes": 15 * GI, "bound_bytes": 12 * GI},
                    "keep": {"pvcs": 1, "requested_bytes": 2 * GI, "bound_bytes": 2 * GI}}}
    assert report["namespaces"]["web"] == {
        "pvcs": 3, "requested_bytes": 5 * GI, "bound_bytes": 1 * GI, "pending": 2,
        "classes": {"wait": {"pvcs": 1, "requested_bytes": GI, "bound_bytes": 0},
                    "fsat": {"pvcs": 1, "requested_bytes": 3 * GI, "bound_bytes": 0},
                    "fast": {"pvcs": 1, "requested_bytes": GI, "bound_bytes": GI}}}
    classes = {c["name"]: (c["pvs"], c["pvcs"], c["requested_bytes"], c["bound_bytes"], c["default"], c["reclaim_policy"])
               for c in report["classes"]}
    assert classes == {"fast": (5, 3, 16 * GI, 13 * GI, True, "Delete"), "keep": (1, 1, 2 * GI, 2 * GI, False, "Retain"),
                       "wait": (0, 1, GI, 0, False, "Delete")}
    pending = {"%s/%s" % (p["namespace"], p["name"]): (p["reason"], p["event_type"]) for p in report["pending_pvcs"]}
    assert pending == {"app/broken": ("ProvisioningFailed", "Warning"), "web/typo": ("no events", None),
                       "web/waiting": ("WaitForFirstConsumer", "Normal")}
    assert report["pending_pvcs"][0]["message"] == "rpc error: no space left on backend"
    assert [p["name"] for p in report["released_pvs"]] == ["pv-old", "pv-recreated"]
    assert [p["name"] for p in report["failed_pvs"]] == ["pv-failed"]
    orphaned = {p["name"]: p["reason"] for p in report["orphaned_pvs"]}
    assert sorted(orphaned) == ["pv-failed", "pv-old", "pv-recreated"]
    assert orphaned["pv-old"] == "claim not found"
    assert orphaned["pv-recreated"].startswith("claim re-created")
    mounts = {"%s/%s" % (m["namespace"], m["name"]): m["pvcs"] for m in report["pod_mounts"]}
    assert mounts == {"app/db-0": ["db"], "web/web-0": ["web-0-scratch"], "web/web-1": ["waiting"]}
    assert ["%s/%s" % (u["namespace"], u["name"]) for u in report["unused_pvcs"]] == ["app/broken", "app/cache", "web/typo"]
    assert report["missing_class_pvcs"] == [{"namespace": "web", "name": "typo", "class": "fsat", "phase": "Pending"}]
    assert report["stale"]["pv_names"] == ["pv-old"]
    assert report["stale"]["pvc_names"] == ["app/cache"]
    assert report["stale"]["since_fallbacks"] == []


def test_include_and_namespaces_per_namespace_lists(standin, ansible_run):
    standin.seed(small_cluster())
    standin.reset_requests()
    report = run_info(standin, ansible_run, namespaces="[web]", include="[summary, pending_pvcs]")
    assert sorted(k for k in report if k in ("summary", "pending_pvcs", "namespaces", "classes")) == ["pending_pvcs", "summary"]
    assert [p["name"] for p in report["pending_pvcs"]] == ["typo", "waiting"]
    paths = sorted(r["path"] for r in standin.requests())
    assert paths == ["/api/v1/namespaces/web/events", "/api/v1/namespaces/web/persistentvolumeclaims",
                     "/api/v1/namespaces/web/pods", "/api/v1/persistentvolumes", "/apis/storage.k8s.io/v1/storageclasses"]
    assert report["api_calls"]["total"] == 5


def expected_calls(counts, page_size):
    calls = {kind: max(1, int(math.ceil(n / float(page_size)))) for kind, n in counts.items()}
    calls["total"] = sum(calls.values())
    return calls


def check_requests(requests, counts, page_size):
    """Every request a GET of a list path with this page size, as many per kind as expected."""
    by_kind = {}
    for req in requests:
        assert req["method"] == "GET"
        assert req["path"] in LIST_PATHS, "not a list call: %s" % req["path"]  # never one object at a time
        assert str(req["query"].get("limit")) == str(page_size)
        by_kind.setdefault(LIST_PATHS[req["path"]], []).append(req)
    for kind, reqs in by_kind.items():
        assert len(reqs) == expected_calls(counts, page_size)[kind], kind
    assert by_kind["events"][0]["query"].get("fieldSelector") == "involvedObject.kind=PersistentVolumeClaim"


def module_level_read(standin, page_size):
    """The module's own read_cluster + build_report in this process (no ansible-playbook)."""
    live = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), ".cache", "live")
    if live not in sys.path:
        sys.path.insert(0, live)
    import datetime
    from ansible_collections.strata.storage.plugins.module_utils.k8s import report as k8s_report
    from ansible_collections.strata.storage.plugins.modules import k8s_storage_info
    objects, calls = k8s_storage_info.read_cluster(standin.api_client(), None, page_size)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    report = k8s_report.build_report(objects["persistentvolumes"], objects["persistentvolumeclaims"],
                                     objects["storageclasses"], objects["pods"], objects["events"], now, stale_days=30)
    return k8s_report.count_calls(calls), report


def test_scale_5000_objects_fixed_calls(standin, ansible_run):
    """Through ansible-playbook at the default page size (500), then the module's read at
    page size 2000 in-process on the same store (the call count follows the page size)."""
    page_size = 500
    objects = seed.scale_cluster(namespaces=200, pairs_per_namespace=25)
    counts = {"persistentvolumes": 5000, "persistentvolumeclaims": 5000, "storageclasses": 3, "pods": 400, "events": 200}
    started = time.time()
    standin.seed(objects)
    seeded = time.time()
    standin.reset_requests()
    report = run_info(standin, ansible_run, stale_days=30, page_size=page_size)
    elapsed = time.time() - seeded
    print("seed %.1fs, ansible-playbook with k8s_storage_info %.1fs, api_calls %s"
          % (seeded - started, elapsed, report["api_calls"]))

    assert report["api_calls"] == expected_calls(counts, page_size)
    assert report["api_calls"]["total"] == 23
    requests = standin.requests()
    assert len(requests) == report["api_calls"]["total"]
    check_requests(requests, counts, page_size)

    standin.reset_requests()
    calls_2000, report_2000 = module_level_read(standin, 2000)
    assert calls_2000 == expected_calls(counts, 2000)
    assert calls_2000["total"] == 3 + 3 + 1 + 1 + 1
    check_requests(standin.requests(), counts, 2000)
    assert report_2000["summary"] == dict(report["summary"])
    assert report_2000["stale"]["pv_names"] == report["stale"]["pv_names"]

    # 410 Expired on a later page (the snapshot of the first page was compacted): the listing
    # starts again as one full list, as client-go's pager does (tools/pager/pager.go)
    standin.store.expire_continue = 1
    standin.reset_requests()
    dummy, report_expired = module_level_read(standin, 2000)
    assert report_expired["summary"] == report_2000["summary"]
    assert [r["query"].get("limit") for r in standin.requests() if r["path"] == "/api/v1/persistentvolumes"] == [
        "2000", "2000", None]

    summary = report["summary"]
    assert (summary["pvs"], summary["pvcs"], summary["namespaces"]) == (5000, 5000, 200)
    # every 10th pair: a Released PV whose claim is gone, and a Pending PVC
    assert (summary["released_pvs"], summary["pending_pvcs"], summary["orphaned_pvs"]) == (600, 600, 600)
    assert summary["requested_bytes"] == 5000 * GI and summary["bound_bytes"] == 4400 * GI
    assert len(report["stale"]["pv_names"]) == 600
    assert summary["pods_with_pvcs"] == 400 and summary["unused_pvcs"] == 4600
