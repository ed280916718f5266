# -*- coding: utf-8 -*-
"""playbooks/k8s_storage_cleanup.yml through ansible-playbook against the API stand-in: the dry
run lists exactly the stale objects seeded, deleting needs k8s_cleanup_delete=true, Retain PVs
need their name too, and nothing else in the store changes. What the cleanup reports deleted
is really gone: a claim a scheduled pod still names (a finished Job's pod too) is kept by
kubernetes.io/pvc-protection (pvc_protection_controller.go podUsesPVC), so it is not stale."""
from __future__ import annotations

import json
import os
import sys

import yaml

sys.path.insert(0, os.path.dirname(__file__))
import storage_seed as seed  # noqa: E402  pylint: disable=wrong-import-position

PLAYBOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "playbooks", "k8s_storage_cleanup.yml")
KINDS = (("v1", "PersistentVolume"), ("v1", "PersistentVolumeClaim"), ("v1", "Pod"),
         ("storage.k8s.io/v1", "StorageClass"), ("v1", "Namespace"))

STALE_PVS = ["pv-stale-delete", "pv-stale-retain"]
STALE_PVCS = ["team/old-unused"]


def mixed_cluster():
    objects = [seed.storageclass("fast"), seed.storageclass("keep", reclaim="Retain")]
    objects.append(seed.pv("pv-stale-delete", phase="Released", claim=("team", "gone-1", "uid-g1"), transition=40))
    objects.append(seed.pv("pv-stale-retain", klass="keep", reclaim="Retain", phase="Released",
                           claim=("team", "gone-2", "uid-g2"), transition=45))
    objects.append(seed.pv("pv-fresh", phase="Released", claim=("team", "gone-3", "uid-g3"), transition=3, created=90))
    # claim gone but not (yet) Released: reported as orphaned, never stale
    objects.append(seed.pv("pv-orphan", phase="Bound", claim=("team", "vanished", "uid-v"), created=90))
    # unused for long: bound to a Retain PV, which the (modelled) PV controller Releases on delete
    objects += seed.bound_pair("team", "old-unused", "pv-of-old-unused", klass="keep", reclaim="Retain", created=60)
    objects += seed.bound_pair("team", "old-job", "pv-of-old-job", created=90)
    objects.append(seed.pod("team", "job-1", claims=["old-job"], phase="Succeeded", started=50))
    objects += seed.bound_pair("team", "fresh-unused", "pv-of-fresh-unused", created=5)
    objects += seed.bound_pair("team", "mounted", "pv-of-mounted", created=90)
    objects.append(seed.pod("team", "server", claims=["mounted"], started=80))
    return objects


def snapshot(standin):
    """{(kind, namespace, name): (uid, resourceVersion, phase)} of everything in the store."""
    out = {}
    for api_version, kind in KINDS:
        for obj in standin.list(api_version, kind):
            meta = obj["metadata"]
            out[(kind, meta.get("namespace"), meta["name"])] = (meta["uid"], meta["resourceVersion"],
                                                                (obj.get("status") or {}).get("phase"))
    return out


def run_cleanup(standin, ansible_run, tmp_path, check=False, **extravars):
    report_file = str(tmp_path / ("report-%d.json" % len(list(tmp_path.iterdir()))))
    extravars = dict({"k8s_auth_kubeconfig": standin.kubeconfig, "k8s_cleanup_report_file": report_file}, **extravars)
    result = ansible_run(PLAYBOOK, extravars=extravars, check=check)
    assert result.rc == 0, result.stdout[-4000:] + result.stderr[-4000:]
    if check:
        return result, result.result("Show the result")["k8s_cleanup"]
    with open(report_file) as handle:
        return result, json.load(handle)


def deletes(standin):
    return [r for r in standin.requests() if r["method"] == "DELETE"]


def test_dry_run_lists_exactly_the_stale_objects(standin, ansible_run, tmp_path):
    standin.seed(mixed_cluster())
    before = snapshot(standin)
    standin.reset_requests()
    result, out = run_cleanup(standin, ansible_run, tmp_path)
    assert out["delete"] is False
    assert out["stale_pvs"] == STALE_PVS
    assert out["stale_pvcs"] == STALE_PVCS
    assert out["retain_pvs"] == ["pv-stale-retain"]
    assert out["since_fallbacks"] == []
    assert sorted((e["kind"], e["name"]) for e in out["would_delete"]) == [
        ("PersistentVolume", "pv-stale-delete"), ("PersistentVolumeClaim", "old-unused")]
    assert [(e["name"], e["reason"]) for e in out["refused"]] == [
        ("pv-stale-retain", "persistentVolumeReclaimPolicy is Retain; name it in retain_pvs_to_delete to delete it")]
    assert out["deleted"] == [] and out["gone"] == []
    assert deletes(standin) == []
    assert result.changed_tasks() == ["Write the result to a file"]  # the local report file, not the cluster
    assert snapshot(standin) == before
    # the AWX stats carry the same data
    assert "k8s_cleanup" in result.stdout


def test_delete_removes_stale_objects_but_not_retain_ones(standin, ansible_run, tmp_path):
    standin.seed(mixed_cluster())
    before = snapshot(standin)
    standin.reset_requests()
    result, out = run_cleanup(standin, ansible_run, tmp_path, k8s_cleanup_delete=True)
    deleted = sorted((e["kind"], e.get("namespace"), e["name"]) for e in out["deleted"])
    assert deleted == [("PersistentVolume", None, "pv-stale-delete"), ("PersistentVolumeClaim", "team", "old-unused")]
    assert [e["name"] for e in out["refused"]] == ["pv-stale-retain"]
    # every delete carried preconditions in its DeleteOptions body
    assert len(deletes(standin)) == 2
    assert all(d["body"]["preconditions"]["uid"] and "dryRun" not in d["body"] for d in deletes(standin))
    after = snapshot(standin)
    expected = dict(before)
    for kind, namespace, name in deleted:
        del expected[(kind, namespace, name)]
    # the PV controller's answer to deleting a claim (modelled by the stand-in): the Retain PV
    # of old-unused becomes Released; old-job, held by its finished Job's pod, is untouched
    released = after[("PersistentVolume", None, "pv-of-old-unused")]
    assert released[2] == "Released"
    expected[("PersistentVolume", None, "pv-of-old-unused")] = released
    assert after == expected

    # the stand-in, like a 1.31+ server, stamped status.lastPhaseTransitionTime when it
    # Released pv-of-old-unused: it is 0 days in phase, so not stale
    assert (standin.get("v1", "PersistentVolume", "pv-of-old-unused")["status"]["lastPhaseTransitionTime"]
            >= seed.ago(0, 1))

    # named, the Retain PV goes too. A Released Retain PV seeded without
    # lastPhaseTransitionTime (a server before 1.31) is aged by creationTimestamp (60 days):
    # stale by the documented fallback, said so in since_fallbacks, and refused as Retain
    standin.seed([seed.pv("pv-legacy", klass="keep", reclaim="Retain", phase="Released",
                          claim=("team", "gone-4", "uid-g4"), created=60)])
    standin.reset_requests()
    result, out = run_cleanup(standin, ansible_run, tmp_path, k8s_cleanup_delete=True,
                              k8s_cleanup_retain_pvs=["pv-stale-retain"])
    assert [e["name"] for e in out["deleted"]] == ["pv-stale-retain"]
    assert standin.get("v1", "PersistentVolume", "pv-stale-retain") is None
    assert out["stale_pvs"] == ["pv-legacy", "pv-stale-retain"]
    assert out["since_fallbacks"] == ["pv-legacy"]
    assert [e["name"] for e in out["refused"]] == ["pv-legacy"]
    assert standin.get("v1", "PersistentVolume", "pv-of-old-unused") is not None
    assert standin.get("v1", "PersistentVolume", "pv-legacy") is not None

    # the rest is idempotent: nothing left to delete
    result, out = run_cleanup(standin, ansible_run, tmp_path, k8s_cleanup_delete=True,
                              k8s_cleanup_retain_pvs=["pv-stale-retain"])
    assert out["deleted"] == [] and out["stale_pvs"] == ["pv-legacy"] and out["stale_pvcs"] == []
    assert "Check the guards, and delete when k8s_cleanup_delete is true" not in result.changed_tasks()


def test_check_mode_with_delete_uses_server_dry_run(standin, ansible_run, tmp_path):
    standin.seed(mixed_cluster())
    before = snapshot(standin)
    standin.reset_requests()
    result, out = run_cleanup(standin, ansible_run, tmp_path, check=True, k8s_cleanup_delete=True)
    assert sorted(e["name"] for e in out["deleted"]) == ["old-unused", "pv-stale-delete"]
    reqs = deletes(standin)
    # handlers/delete.go reads the DeleteOptions body (which carries the preconditions): dryRun
    # must be there, not in the query
    assert len(reqs) == 2 and all(r["body"].get("dryRun") == ["All"] and "dryRun" not in r["query"] for r in reqs)
    assert snapshot(standin) == before


def test_object_changed_since_the_report_is_skipped(standin, ansible_run, tmp_path):
    standin.seed(mixed_cluster())
    pv = standin.get("v1", "PersistentVolume", "pv-stale-delete")
    pvc = standin.get("v1", "PersistentVolumeClaim", "old-unused", "team")
    play = """
- name: Cleanup with refs from an older report
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Cleanup
      strata.storage.k8s_storage_cleanup:
        kubeconfig: {kubeconfig}
        delete: true
        pvs:
          - {{name: pv-stale-delete, uid: "{pv_uid}", resource_version: "1"}}
        pvcs:
          - {{namespace: team, name: old-unused, uid: "another-uid", resource_version: "{pvc_rv}"}}
          - {{namespace: team, name: old-job}}
""".format(kubeconfig=standin.kubeconfig, pv_uid=pv["metadata"]["uid"], pvc_rv=pvc["metadata"]["resourceVersion"])
    result = ansible_run(play)
    assert result.rc == 0, result.stdout + result.stderr
    out = result.result("Cleanup")
    assert out["deleted"] == [] and not out["changed"]
    reasons = {e["name"]: e["reason"] for e in out["refused"]}
    assert reasons["old-job"] == ("pod job-1 (Succeeded) still names it; Kubernetes keeps the claim until that "
                                  "pod is deleted (kubernetes.io/pvc-protection)"), reasons["old-job"]
    assert reasons["pv-stale-delete"].startswith("changed since the report: resourceVersion %s, expected 1"
                                                 % pv["metadata"]["resourceVersion"])
    assert reasons["old-unused"].startswith("re-created since the report")
    assert standin.get("v1", "PersistentVolume", "pv-stale-delete") is not None


def test_report_file_yaml(standin, ansible_run, tmp_path):
    standin.seed(mixed_cluster())
    path = str(tmp_path / "report.yml")
    result = ansible_run(PLAYBOOK, extravars={"k8s_auth_kubeconfig": standin.kubeconfig, "k8s_cleanup_report_file": path,
                                              "k8s_cleanup_stale_days": 55})
    assert result.rc == 0, result.stdout[-4000:]
    with open(path) as handle:
        out = yaml.safe_load(handle)
    # at 55 days: old-unused (60 days) is stale; old-job (90 days) is not, its job started 50
    # days ago; the Released PVs (40 and 45 days) are not
    assert (out["stale_days"], out["stale_pvs"], out["stale_pvcs"]) == (55, [], ["team/old-unused"])


def test_delete_waits_for_finalizers(standin, ansible_run):
    """A deleted object that carries a finalizer stays until its controller removes it
    (generic registry store.go): with wait, the module returns once it is gone."""
    import threading

    standin.seed([seed.pvc("team", "held", phase="Pending")])
    claim = standin.get("v1", "PersistentVolumeClaim", "held", "team")
    claim["metadata"]["finalizers"] = ["kubernetes.io/pvc-protection", "example.com/backup"]
    standin.seed([claim])

    def backup_done(store, method, path, query):
        if method == "DELETE" and path.endswith("/persistentvolumeclaims/held"):
            def release():
                current = store.get_object("v1", "PersistentVolumeClaim", "held", "team")
                from k8s.apiserver_standin.resources import BY_KIND
                store.patch(BY_KIND[("v1", "PersistentVolumeClaim")], "team", "held",
                            [{"op": "remove", "path": "/metadata/finalizers"}], "application/json-patch+json")
                assert current is not None
            timer = threading.Timer(1.0, release)
            timer.daemon = True
            timer.start()

    standin.store.add_hook(backup_done, after=True, once=False)
    play = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Cleanup
      strata.storage.k8s_storage_cleanup:
        kubeconfig: {kubeconfig}
        delete: true
        wait: true
        wait_timeout: 30
        pvcs: [{{namespace: team, name: held}}]
""".format(kubeconfig=standin.kubeconfig)
    result = ansible_run(play)
    out = result.result("Cleanup")
    assert out.get("failed") is not True and [e["name"] for e in out["deleted"]] == ["held"], out
    assert out["still_deleting"] == []
    assert standin.get("v1", "PersistentVolumeClaim", "held", "team") is None
    assert not standin.store.hook_errors
