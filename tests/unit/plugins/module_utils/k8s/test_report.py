# -*- coding: utf-8 -*-
"""k8s_report: quantities, times, every report section and the staleness rules, on objects
shaped like what the API server returns (JSON of `kubectl get -o json`)."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.strata.storage.plugins.module_utils.k8s import report as k8s_report
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError

GI = 1024 ** 3
NOW = datetime.datetime(2026, 11, 20, 12, 0, 0, tzinfo=datetime.timezone.utc)


def ago(days, hours=0):
    return (NOW - datetime.timedelta(days=days, hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def sc(name, provisioner="csi.strata.io", reclaim=None, default=False, binding=None):
    obj = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
           "metadata": {"name": name, "uid": "sc-" + name, "resourceVersion": "10", "creationTimestamp": ago(400)},
           "provisioner": provisioner}
    if reclaim:
        obj["reclaimPolicy"] = reclaim
    if binding:
        obj["volumeBindingMode"] = binding
    if default:
        obj["metadata"]["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    return obj


def pvc(ns, name, size="1Gi", klass="fast", phase="Bound", volume=None, uid=None, created=100, capacity=None, **meta):
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}, "volumeMode": "Filesystem"}
    if klass is not None:
        spec["storageClassName"] = klass
    if volume:
        spec["volumeName"] = volume
    status = {"phase": phase}
    if phase == "Bound":
        status["capacity"] = {"storage": capacity or size}
        status["accessModes"] = ["ReadWriteOnce"]
    metadata = {"name": name, "namespace": ns, "uid": uid or "uid-%s-%s" % (ns, name), "resourceVersion": "100",
                "creationTimestamp": ago(created)}
    metadata.update(meta)
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": spec, "status": status}


def pv(name, size="1Gi", klass="fast", phase="Bound", claim=None, reclaim="Delete", transition=None, created=100, **meta):
    spec = {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"], "persistentVolumeReclaimPolicy": reclaim,
            "storageClassName": klass, "csi": {"driver": "csi.strata.io", "volumeHandle": name}}
    if claim:
        ns, cname, uid = claim
        spec["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": ns, "name": cname, "apiVersion": "v1"}
        if uid is not None:
            spec["claimRef"]["uid"] = uid
    status = {"phase": phase}
    if transition is not None:
        status["lastPhaseTransitionTime"] = ago(transition)
    metadata = {"name": name, "uid": "uid-" + name, "resourceVersion": "200", "creationTimestamp": ago(created)}
    metadata.update(meta)
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": metadata, "spec": spec, "status": status}


def pod(ns, name, claims=(), phase="Running", started=1, ephemeral=(), node="node1"):
    volumes = [{"name": "v%d" % i, "persistentVolumeClaim": {"claimName": c}} for i, c in enumerate(claims)]
    volumes += [{"name": v, "ephemeral": {"volumeClaimTemplate": {"spec": {"resources": {"requests": {"storage": "1Gi"}}}}}}
                for v in ephemeral]
    volumes.append({"name": "kube-api-access", "projected": {"sources": []}})
    status = {"phase": phase}
    if started is not None:
        status["startTime"] = ago(started)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "uid": "pod-" + name},
            "spec": dict({"nodeName": node} if node else {}, volumes=volumes,
                         containers=[{"name": "c", "image": "busybox"}]),
            "status": status}


def event(ns, claim, reason, message, when, etype="Warning", uid=None, count=1, core=True):
    involved = {"kind": "PersistentVolumeClaim", "namespace": ns, "name": claim, "apiVersion": "v1"}
    if uid:
        involved["uid"] = uid
    obj = {"apiVersion": "v1", "kind": "Event", "involvedObject": involved, "reason": reason, "message": message,
           "type": etype, "metadata": {"name": "%s.%s" % (claim, reason), "namespace": ns, "creationTimestamp": when}}
    if core:
        obj.update(lastTimestamp=when, firstTimestamp=when, count=count)
    else:  # events.k8s.io style written through core/v1: eventTime and series
        obj.update(eventTime=when.replace("Z", ".000000Z"), series={"count": count, "lastObservedTime": when.replace("Z", ".000000Z")})
    return obj


# --- quantities and times -------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("1Gi", GI), ("10Gi", 10 * GI), ("512Mi", 512 * 1024 ** 2), ("1Ki", 1024), ("2Ti", 2 * 1024 ** 4),
    ("1Pi", 1024 ** 5), ("1Ei", 1024 ** 6), ("1.5Gi", 3 * GI // 2),
    ("1k", 1000), ("5M", 5 * 10 ** 6), ("1G", 10 ** 9), ("3T", 3 * 10 ** 12), ("1P", 10 ** 15), ("2E", 2 * 10 ** 18),
    ("1e9", 10 ** 9), ("1E3", 1000), ("12e-1", 2), ("2.5e3", 2500), ("100m", 1), ("1500m", 2), ("0", 0),
    ("123", 123), (".5Ki", 512), ("1.", 1), ("+1Gi", GI), (42, 42), (None, None),
])
def test_quantities(text, expected):
    assert k8s_report.parse_quantity(text) == expected


@pytest.mark.parametrize("text", ["1GB", "1gi", "Gi", "1 Gi", "1.2.3", "1Gi ", "ten", "1e", "--1"])
def test_bad_quantities(text):
    if text == "1Gi ":  # surrounding blanks are tolerated, as kubectl does
        assert k8s_report.parse_quantity(text) == GI
        return
    with pytest.raises(StrataError, match="is not a Kubernetes quantity"):
        k8s_report.parse_quantity(text, what="size")


@pytest.mark.parametrize("text, expected", [
    ("2026-11-20T12:00:00Z", NOW),
    ("2026-11-20T12:00:00.123456Z", NOW.replace(microsecond=123456)),
    ("2026-11-20T13:30:00+01:30", NOW),
    ("2026-11-20T10:00:00-02:00", NOW),
])
def test_times(text, expected):
    assert k8s_report.parse_time(text) == expected


def test_bad_time():
    with pytest.raises(StrataError, match="not an RFC 3339 time"):
        k8s_report.parse_time("yesterday")


# --- the report on a small cluster ----------------------------------------------------------

def small_cluster():
    classes = [sc("fast", default=True), sc("keep", reclaim="Retain"), sc("wait", binding="WaitForFirstConsumer")]
    pvcs = [
        pvc("a", "db", size="10Gi", volume="pv-db", capacity="12Gi"),
        pvc("a", "logs", size="2Gi", volume="pv-logs", klass="keep"),
        pvc("a", "broken", size="5Gi", phase="Pending"),
        pvc("b", "waiting", size="1Gi", klass="wait", phase="Pending"),
        pvc("b", "quiet", size="1Gi", klass="wait", phase="Pending"),
        pvc("b", "typo", size="3Gi", klass="fsat", phase="Pending"),
        pvc("b", "static", size="500M", klass="", volume="pv-static"),
        pvc("b", "recreated", size="1Gi", uid="uid-new", phase="Pending"),
        pvc("c", "web-scratch", size="1Gi"),  # generic ephemeral volume of pod c/web
    ]
    pvs = [
        pv("pv-db", size="12Gi", claim=("a", "db", "uid-a-db")),
        pv("pv-logs", size="2Gi", klass="keep", reclaim="Retain", claim=("a", "logs", "uid-a-logs")),
        pv("pv-static", size="500M", klass="", reclaim="Retain", claim=("b", "static", "uid-b-static")),
        pv("pv-rel", size="4Gi", phase="Released", claim=("a", "gone", "uid-a-gone"), transition=40),
        pv("pv-rec", size="1Gi", phase="Released", claim=("b", "recreated", "uid-old"), transition=2, created=90),
        pv("pv-failed", size="1Gi", phase="Failed", claim=("a", "gone2", "uid-a-gone2"), reclaim="Delete"),
        pv("pv-free", size="8Gi", phase="Available", claim=None),
        pv("pv-reserved", size="8Gi", phase="Available", claim=("a", "future", None)),
    ]
    pvs[5]["status"]["message"] = "error deleting volume: backend timeout"
    pods = [
        pod("a", "db-0", claims=["db", "logs"]),
        pod("a", "job-1", claims=["db"], phase="Succeeded", started=3),
        pod("b", "stuck", claims=["typo"], phase="Pending", started=None),
        pod("c", "web", ephemeral=["scratch"]),
        pod("c", "nopvc"),
    ]
    events = [
        event("a", "broken", "ExternalProvisioning", "waiting for a volume to be created", ago(0, 5), etype="Normal"),
        event("a", "broken", "ProvisioningFailed", "rpc error: no space left", ago(0, 1), count=7),
        event("b", "waiting", "WaitForFirstConsumer", "waiting for first consumer to be created before binding",
              ago(0, 2), etype="Normal", core=False, count=4),
        event("b", "recreated", "ProvisioningFailed", "old claim's failure", ago(0, 1), uid="uid-old"),
        event("b", "typo", "ProvisioningFailed", 'storageclass.storage.k8s.io "fsat" not found', ago(0, 1), uid="uid-b-typo"),
    ]
    return pvs, pvcs, classes, pods, events


def report(**kwargs):
    pvs, pvcs, classes, pods, events = small_cluster()
    return k8s_report.build_report(pvs, pvcs, classes, pods, events, NOW, **kwargs)


def test_summary():
    summary = report()["summary"]
    assert summary["pvs"] == 8 and summary["pvcs"] == 9 and summary["storageclasses"] == 3
    assert summary["default_classes"] == ["fast"]
    assert summary["namespaces"] == 3
    assert summary["requested_bytes"] == (10 + 2 + 5 + 1 + 1 + 3 + 1 + 1) * GI + 500 * 10 ** 6
    # bound: PV capacity of the bound claims (12Gi, not the 10Gi asked), 2Gi, 500M, and the
    # ephemeral PVC's status capacity (no PV object for it in this cluster)
    assert summary["bound_bytes"] == (12 + 2 + 1) * GI + 500 * 10 ** 6
    assert (summary["pending_pvcs"], summary["released_pvs"], summary["failed_pvs"]) == (5, 2, 1)
    assert summary["pods_with_pvcs"] == 4


def test_namespaces_requested_and_bound_per_class():
    namespaces = report()["namespaces"]
    assert list(namespaces) == ["a", "b", "c"]
    a = namespaces["a"]
    assert (a["pvcs"], a["requested_bytes"], a["bound_bytes"], a["pending"]) == (3, 17 * GI, 14 * GI, 1)
    assert a["classes"] == {"fast": {"pvcs": 2, "requested_bytes": 15 * GI, "bound_bytes": 12 * GI},
                            "keep": {"pvcs": 1, "requested_bytes": 2 * GI, "bound_bytes": 2 * GI}}
    b = namespaces["b"]
    assert b["classes"][""] == {"pvcs": 1, "requested_bytes": 500 * 10 ** 6, "bound_bytes": 500 * 10 ** 6}
    assert b["classes"]["fsat"]["pvcs"] == 1 and b["pending"] == 4


def test_classes_counts_default_and_undefined():
    out = report()
    by_name = {c["name"]: c for c in out["classes"]}
    assert [c["name"] for c in out["classes"]] == ["fast", "keep", "wait"]
    assert by_name["fast"]["default"] and not by_name["keep"]["default"]
    assert by_name["fast"]["reclaim_policy"] == "Delete"  # API default when absent
    assert by_name["keep"]["reclaim_policy"] == "Retain"
    assert by_name["wait"]["volume_binding_mode"] == "WaitForFirstConsumer"
    assert by_name["fast"]["volume_binding_mode"] == "Immediate"
    assert (by_name["fast"]["pvs"], by_name["fast"]["pvcs"]) == (6, 4)
    assert by_name["fast"]["bound_bytes"] == 13 * GI
    assert (by_name["wait"]["pvs"], by_name["wait"]["pvcs"], by_name["wait"]["bound_bytes"]) == (0, 2, 0)
    assert out["classes_not_defined"] == {
        "": {"pvcs": 1, "requested_bytes": 500 * 10 ** 6, "bound_bytes": 500 * 10 ** 6, "pvs": 1, "exists": False},
        "fsat": {"pvcs": 1, "requested_bytes": 3 * GI, "bound_bytes": 0, "pvs": 0, "exists": False},
    }


def test_pending_pvcs_and_why():
    pending = {(p["namespace"], p["name"]): p for p in report()["pending_pvcs"]}
    assert list(pending) == [("a", "broken"), ("b", "quiet"), ("b", "recreated"), ("b", "typo"), ("b", "waiting")]
    broken = pending[("a", "broken")]
    assert (broken["reason"], broken["event_type"], broken["event_count"]) == ("ProvisioningFailed", "Warning", 7)
    assert broken["message"] == "rpc error: no space left"  # the newest of its two events
    assert broken["event_time"] == ago(0, 1)
    waiting = pending[("b", "waiting")]
    assert (waiting["reason"], waiting["event_type"], waiting["event_count"]) == ("WaitForFirstConsumer", "Normal", 4)
    assert pending[("b", "quiet")]["reason"] == "no events"
    # the only event names the earlier PVC of that name (another uid): not this claim's story
    assert pending[("b", "recreated")]["reason"] == "no events"
    assert pending[("b", "typo")]["reason"] == "ProvisioningFailed"


def test_released_and_failed_pvs():
    out = report()
    released = {p["name"]: p for p in out["released_pvs"]}
    assert sorted(released) == ["pv-rec", "pv-rel"]
    rel = released["pv-rel"]
    assert rel["claim"] == {"namespace": "a", "name": "gone", "uid": "uid-a-gone"}
    assert (rel["since"], rel["since_source"], rel["days_in_phase"]) == (ago(40), "lastPhaseTransitionTime", 40.0)
    assert rel["capacity_bytes"] == 4 * GI and rel["ref"] == {"name": "pv-rel", "uid": "uid-pv-rel", "resource_version": "200"}
    failed = out["failed_pvs"]
    assert [f["name"] for f in failed] == ["pv-failed"]
    assert failed[0]["message"] == "error deleting volume: backend timeout"
    assert failed[0]["since_source"] == "creationTimestamp"  # no lastPhaseTransitionTime: fallback


def test_orphaned_pvs_missing_and_recreated_claims():
    orphaned = {p["name"]: p for p in report()["orphaned_pvs"]}
    assert sorted(orphaned) == ["pv-failed", "pv-rec", "pv-rel"]  # pv-reserved: pre-bound, no uid
    assert orphaned["pv-rel"]["reason"] == "claim not found"
    assert orphaned["pv-rec"]["reason"].startswith("claim re-created: PVC uid uid-new differs")


def test_orphaned_includes_bound_pv_whose_claim_vanished():
    pvs = [pv("pv-x", claim=("a", "x", "uid-a-x"))]
    out = k8s_report.build_report(pvs, [], [], [], [], NOW)
    assert [(p["name"], p["phase"], p["reason"]) for p in out["orphaned_pvs"]] == [("pv-x", "Bound", "claim not found")]


def test_pod_mounts_and_unused_pvcs():
    out = report()
    mounts = {(m["namespace"], m["name"]): m for m in out["pod_mounts"]}
    assert sorted(mounts) == [("a", "db-0"), ("a", "job-1"), ("b", "stuck"), ("c", "web")]
    assert mounts[("a", "db-0")]["pvcs"] == ["db", "logs"]
    assert mounts[("c", "web")]["pvcs"] == ["web-scratch"]
    assert mounts[("b", "stuck")]["missing_pvcs"] == [] and mounts[("b", "stuck")]["phase"] == "Pending"
    unused = [(u["namespace"], u["name"]) for u in out["unused_pvcs"]]
    # db: a running pod; typo: a pending pod; web-scratch: ephemeral volume of a running pod
    assert unused == [("a", "broken"), ("b", "quiet"), ("b", "recreated"), ("b", "static"), ("b", "waiting")]


def test_pod_naming_a_missing_pvc():
    out = k8s_report.build_report([], [], [], [pod("a", "p", claims=["nothere"])], [], NOW)
    assert out["pod_mounts"][0]["missing_pvcs"] == ["nothere"]


def test_missing_class_pvcs():
    assert report()["missing_class_pvcs"] == [{"namespace": "b", "name": "typo", "class": "fsat", "phase": "Pending"}]


def test_beta_class_annotation_and_unset_class():
    old = pvc("a", "old", klass=None, phase="Pending", annotations={"volume.beta.kubernetes.io/storage-class": "fast"})
    unset = pvc("a", "unset", klass=None, phase="Pending")
    out = k8s_report.build_report([], [old, unset], [sc("fast")], [], [], NOW)
    assert out["namespaces"]["a"]["classes"] == {"fast": {"pvcs": 1, "requested_bytes": GI, "bound_bytes": 0},
                                                 "": {"pvcs": 1, "requested_bytes": GI, "bound_bytes": 0}}
    assert out["missing_class_pvcs"] == []


def test_namespace_filter():
    out = report(namespaces=["a"])
    assert list(out["namespaces"]) == ["a"]
    assert [p["name"] for p in out["released_pvs"]] == ["pv-rel"]  # pv-rec's claim is in b
    assert sorted(p["name"] for p in out["orphaned_pvs"]) == ["pv-failed", "pv-rel"]
    assert out["summary"]["pvs"] == 5  # claimRef in a: pv-db, pv-logs, pv-rel, pv-failed, pv-reserved
    assert all(m["namespace"] == "a" for m in out["pod_mounts"])


def test_include_limits_sections():
    out = report(include=["summary", "pending_pvcs"], stale_days=30)
    assert sorted(out) == ["pending_pvcs", "summary"]
    assert "stale" not in report()
    assert "stale" in report(stale_days=30)


def test_bound_requires_matching_claim_uid():
    # the PVC says Bound to pv-db, but pv-db's claimRef names another uid: count its status capacity
    claim = pvc("a", "db", size="10Gi", volume="pv-db", capacity="11Gi")
    volume = pv("pv-db", size="12Gi", claim=("a", "db", "someone-else"))
    out = k8s_report.build_report([volume], [claim], [sc("fast")], [], [], NOW)
    assert out["namespaces"]["a"]["bound_bytes"] == 11 * GI


# --- staleness ------------------------------------------------------------------------------

def stale(pvs=(), pvcs=(), pods=(), classes=(), days=30):
    return k8s_report.build_report(list(pvs), list(pvcs), list(classes) or [sc("fast"), sc("keep", reclaim="Retain")],
                                   list(pods), [], NOW, stale_days=days)["stale"]


def test_released_pv_staleness_boundary_and_fallback():
    out = stale(pvs=[
        pv("exactly", phase="Released", claim=("a", "x", "u1"), transition=30),
        pv("almost", phase="Released", claim=("a", "y", "u2"), transition=29, created=300),
        pv("old-no-transition", phase="Released", claim=("a", "z", "u3"), created=31),
        pv("young-no-transition", phase="Released", claim=("a", "w", "u4"), created=5),
        pv("bound-old", claim=("a", "v", "u5"), transition=100),
        pv("failed-old", phase="Failed", claim=("a", "t", "u6"), transition=100),
        pv("deleting", phase="Released", claim=("a", "s", "u7"), transition=90, deletionTimestamp=ago(0)),
    ])
    assert out["pv_names"] == ["exactly", "old-no-transition"]
    assert out["since_fallbacks"] == ["old-no-transition"]
    assert out["days"] == 30 and out["cutoff"] == ago(30)


def test_released_pv_retain_flag():
    out = stale(pvs=[
        pv("pv-own-retain", phase="Released", claim=("a", "x", "u1"), transition=40, reclaim="Retain"),
        pv("pv-class-retain", phase="Released", claim=("a", "y", "u2"), transition=40, klass="keep", reclaim="Delete"),
        pv("pv-delete", phase="Released", claim=("a", "z", "u3"), transition=40),
    ])
    retain = {e["name"]: (e["retain"], e["class_reclaim_policy"]) for e in out["released_pvs"]}
    assert retain == {"pv-own-retain": (True, "Delete"), "pv-class-retain": (True, "Retain"), "pv-delete": (False, "Delete")}


def test_pvc_staleness_rules():
    out = stale(
        pvcs=[
            pvc("a", "old-unused", created=31),
            pvc("a", "young-unused", created=29),
            pvc("a", "old-running", created=300),
            pvc("a", "old-job-recent", created=300),
            pvc("a", "old-job-long-ago", created=300),
            pvc("a", "old-pending-pod", created=300, phase="Pending"),
            pvc("a", "old-deleting", created=300, deletionTimestamp=ago(0)),
            pvc("a", "old-never-scheduled", created=300),
            pvc("b", "old-unused", created=31),
        ],
        pods=[
            pod("a", "server", claims=["old-running"], started=200),  # running since long ago: in use
            pod("a", "job-new", claims=["old-job-recent"], phase="Succeeded", started=3),
            # a finished Job's pod that still exists keeps its claim (pvc-protection podUsesPVC)
            pod("a", "job-old", claims=["old-job-long-ago"], phase="Failed", started=45),
            pod("a", "waiting", claims=["old-pending-pod"], phase="Pending", started=None),
            # failed before it was scheduled: holds nothing
            pod("a", "never-ran", claims=["old-never-scheduled"], phase="Failed", started=None, node=None),
        ],
    )
    assert out["pvc_names"] == ["a/old-never-scheduled", "a/old-unused", "b/old-unused"]
    by_name = {(e["namespace"], e["name"]): e for e in out["pvcs"]}
    assert by_name[("a", "old-unused")]["last_pod_start"] is None
    assert by_name[("b", "old-unused")]["ref"] == {"namespace": "b", "name": "old-unused", "uid": "uid-b-old-unused",
                                                   "resource_version": "100"}


def test_zero_days_and_negative():
    out = stale(pvcs=[pvc("a", "new", created=0)], days=0)
    assert out["pvc_names"] == ["a/new"]
    with pytest.raises(StrataError, match="stale_days must be 0 or more"):
        stale(days=-1)


# --- cleanup guards -------------------------------------------------------------------------

CLASSES = {"fast": sc("fast"), "keep": sc("keep", reclaim="Retain")}


def test_pv_refusals():
    released = pv("p", phase="Released", claim=("a", "x", "u"), transition=40)
    assert k8s_report.pv_refusal(released, CLASSES) is None
    assert k8s_report.pv_refusal(released, CLASSES, {"uid": "uid-p", "resource_version": "200"}) is None
    assert "resourceVersion 200, expected 150" in k8s_report.pv_refusal(released, CLASSES, {"resource_version": "150"})
    assert "re-created since the report" in k8s_report.pv_refusal(released, CLASSES, {"uid": "other"})
    assert "phase is Bound" in k8s_report.pv_refusal(pv("q", claim=("a", "x", "u")), CLASSES)
    own = pv("r", phase="Released", reclaim="Retain")
    assert "persistentVolumeReclaimPolicy is Retain" in k8s_report.pv_refusal(own, CLASSES)
    assert k8s_report.pv_refusal(own, CLASSES, retain_names={"r"}) is None
    by_class = pv("s", phase="Released", klass="keep")
    assert "StorageClass keep has reclaimPolicy Retain" in k8s_report.pv_refusal(by_class, CLASSES)
    assert k8s_report.pv_refusal(by_class, CLASSES, retain_names=["s"]) is None
    # a Bound PV stays refused even when named as a Retain exception
    assert "phase is Bound" in k8s_report.pv_refusal(pv("t", reclaim="Retain"), CLASSES, retain_names=["t"])


def test_pvc_refusals():
    claim = pvc("a", "data")
    users = k8s_report.active_users([pod("a", "p1", claims=["data"]), pod("a", "p0", claims=["data"], phase="Pending"),
                                     pod("a", "done", claims=["data"], phase="Succeeded"), pod("b", "other", claims=["data"])])
    assert k8s_report.pvc_refusal(claim, users) == "mounted by pod(s) p0, p1"
    finished = k8s_report.active_users([pod("a", "job", claims=["data"], phase="Succeeded"),
                                        pod("a", "gone", claims=["data"], phase="Failed", node=None)])
    assert k8s_report.pvc_refusal(claim, finished) == (
        "pod job (Succeeded) still names it; Kubernetes keeps the claim until that pod is deleted "
        "(kubernetes.io/pvc-protection)")
    assert k8s_report.pvc_refusal(claim, {}) is None
    assert "changed since the report" in k8s_report.pvc_refusal(claim, {}, {"uid": "uid-a-data", "resource_version": "99"})


def test_count_calls():
    assert k8s_report.count_calls({"pods": 2, "events": 1}) == {"pods": 2, "events": 1, "total": 3}
