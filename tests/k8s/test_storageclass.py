# -*- coding: utf-8 -*-
"""k8s_storageclass and k8s_volumesnapshotclass through ansible-playbook against the API stand-in."""
from __future__ import annotations

import json

SC_V = "storage.k8s.io/v1"
VSC_V = "snapshot.storage.k8s.io/v1"
DEFAULT = "storageclass.kubernetes.io/is-default-class"
VSC_DEFAULT = "snapshot.storage.kubernetes.io/is-default-class"

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: under test
      {module}: {args}
"""


def play(args, module="strata.storage.k8s_storageclass", auth="kubeconfig"):
    args = dict(args)
    if auth == "kubeconfig":
        args.setdefault("kubeconfig", "{{ kc }}")
    return PLAY.format(module=module, args=json.dumps(args))


def writes(standin):
    return [r for r in standin.requests() if r["method"] != "GET"]


def run_playbook(ansible_run, standin, args, module="strata.storage.k8s_storageclass", **kw):
    result = ansible_run(play(args, module), {"kc": standin.kubeconfig}, **kw)
    return result, result.result("under test")


def run(ansible_run, standin, args, module="strata.storage.k8s_storageclass", **kw):
    """The module's result."""
    return run_playbook(ansible_run, standin, args, module, **kw)[1]


def seed_class(standin, name, default=None, **fields):
    obj = {"apiVersion": SC_V, "kind": "StorageClass", "metadata": {"name": name}, "provisioner": "other.io"}
    if default is not None:
        obj["metadata"]["annotations"] = {DEFAULT: default}
    obj.update(fields)
    standin.seed([obj])


FAST = {"name": "fast", "provisioner": "topolvm.io", "parameters": {"topolvm.io/device-class": "thin", "fstype": "xfs"},
        "allow_volume_expansion": True, "mount_options": ["discard"], "labels": {"tier": "fast"}, "default": True}


def test_check_mode_then_create_then_rerun_changes_nothing(standin, ansible_run):
    """One flow: check mode dry-runs exactly the requests of the real run and stores nothing;
    the real run creates the class and moves the default mark; a re-run sends no write."""
    seed_class(standin, "standard", default="true")
    seed_class(standin, "other-default", default="true")
    standin.reset_requests()
    checked = run(ansible_run, standin, FAST, check=True)
    assert checked["changed"] is True
    ws = writes(standin)
    assert [w["method"] for w in ws] == ["POST", "PUT", "PUT"]
    assert all(w["query"].get("dryRun") == "All" for w in ws)
    assert standin.get(SC_V, "StorageClass", "fast") is None
    for name in ("standard", "other-default"):
        assert standin.get(SC_V, "StorageClass", name)["metadata"]["annotations"][DEFAULT] == "true"
    assert all(a["dry_run"] is True for a in checked["actions"])
    assert checked["storageclass"]["volumeBindingMode"] == "WaitForFirstConsumer"

    standin.reset_requests()
    res = run(ansible_run, standin, FAST)
    assert res.get("failed") is not True, res
    assert res["changed"] is True
    stored = standin.get(SC_V, "StorageClass", "fast")
    assert stored["provisioner"] == "topolvm.io"
    assert stored["parameters"] == {"topolvm.io/device-class": "thin", "fstype": "xfs"}
    assert stored["reclaimPolicy"] == "Delete" and stored["volumeBindingMode"] == "WaitForFirstConsumer"
    assert stored["metadata"]["annotations"][DEFAULT] == "true"
    # the default mark moved: every other class says "false" now
    for name in ("standard", "other-default"):
        assert standin.get(SC_V, "StorageClass", name)["metadata"]["annotations"][DEFAULT] == "false"
    assert sorted(res["default_removed_from"]) == ["other-default", "standard"]
    assert [(a["method"], a["path"]) for a in res["actions"]] == [
        ("POST", "/apis/storage.k8s.io/v1/storageclasses"),
        ("PUT", "/apis/storage.k8s.io/v1/storageclasses/other-default"),
        ("PUT", "/apis/storage.k8s.io/v1/storageclasses/standard")]
    assert [w["method"] for w in writes(standin)] == ["POST", "PUT", "PUT"]
    assert all(w["query"].get("dryRun") is None for w in writes(standin))
    # every write names its field manager and asks for strict field validation
    assert all(w["query"].get("fieldManager") == "strata.storage" and w["query"].get("fieldValidation") == "Strict"
               for w in writes(standin)), writes(standin)
    strip = [(a["description"], a["method"], a["path"]) for a in res["actions"]]
    assert strip == [(a["description"], a["method"], a["path"]) for a in checked["actions"]]
    assert all(a["dry_run"] is False for a in res["actions"])

    standin.reset_requests()
    again = run(ansible_run, standin, FAST)
    assert again["changed"] is False and again["actions"] == []
    assert writes(standin) == []
    assert standin.get(SC_V, "StorageClass", "fast")["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]


def test_diff_shows_before_and_after(standin, ansible_run):
    seed_class(standin, "fast", allowVolumeExpansion=False, provisioner="topolvm.io")
    result, res = run_playbook(ansible_run, standin, {"name": "fast", "allow_volume_expansion": True}, diff=True)
    assert res["changed"] is True
    assert res["diff"]["before"]["fast"]["allowVolumeExpansion"] is False
    assert res["diff"]["after"]["fast"]["allowVolumeExpansion"] is True
    assert [a["method"] for a in res["actions"]] == ["PUT"]
    assert "allowVolumeExpansion" in result.stdout      # the diff is printed


def test_left_out_options_keep_what_is_there(standin, ansible_run):
    seed_class(standin, "fast", provisioner="topolvm.io", reclaimPolicy="Retain", volumeBindingMode="Immediate",
               parameters={"a": "1"}, mountOptions=["hard"])
    standin.reset_requests()
    res = run(ansible_run, standin, {"name": "fast", "labels": {"x": "y"}})
    assert res["changed"] is True
    stored = standin.get(SC_V, "StorageClass", "fast")
    assert stored["reclaimPolicy"] == "Retain" and stored["volumeBindingMode"] == "Immediate"
    assert stored["parameters"] == {"a": "1"} and stored["mountOptions"] == ["hard"]
    assert stored["metadata"]["labels"] == {"x": "y"}


def test_immutable_change_is_refused_then_recreate_works(standin, ansible_run):
    assert run(ansible_run, standin, FAST)["changed"] is True
    before = standin.get(SC_V, "StorageClass", "fast")
    changed = dict(FAST, parameters={"topolvm.io/device-class": "thin", "fstype": "ext4"}, reclaim_policy="Retain")
    standin.reset_requests()
    refused = run(ansible_run, standin, changed, diff=True)
    assert refused["failed"] is True
    msg = refused["msg"]
    assert msg.startswith("StorageClass fast: parameters, reclaimPolicy cannot change after creation")
    assert '"fstype": "xfs"' in msg and '"fstype": "ext4"' in msg and "Delete -> " in msg.replace('"', "")
    assert "recreate: true" in msg
    assert refused["details"]["diff"]["after"]["fast"]["reclaimPolicy"] == "Retain"
    assert writes(standin) == []
    assert standin.get(SC_V, "StorageClass", "fast") == before

    # check mode of the re-create: the delete is dry-run, the create cannot be sent
    standin.reset_requests()
    checked = run(ansible_run, standin, dict(changed, recreate=True), check=True)
    assert checked["changed"] is True
    # the create is first dry-run against the existing class (AlreadyExists: it passed validation)
    assert [(w["method"], w["query"].get("dryRun") or w["body"].get("dryRun")) for w in writes(standin)] == [
        ("POST", "All"), ("DELETE", ["All"])]
    assert checked["actions"][1]["sent"] is False
    assert standin.get(SC_V, "StorageClass", "fast") == before

    done = run(ansible_run, standin, dict(changed, recreate=True))
    assert done["changed"] is True, done
    after = standin.get(SC_V, "StorageClass", "fast")
    assert after["metadata"]["uid"] != before["metadata"]["uid"]
    assert after["parameters"]["fstype"] == "ext4" and after["reclaimPolicy"] == "Retain"
    assert after["mountOptions"] == ["discard"] and after["metadata"]["labels"] == {"tier": "fast"}
    assert any("keep working" in n for n in done["notes"])

    again = run(ansible_run, standin, dict(changed, recreate=True))
    assert again["changed"] is False


def test_recreate_refused_by_the_api_server_deletes_nothing(standin, ansible_run):
    """A re-create whose new object the API server refuses (422 here: a provisioner that is no
    qualified name) must fail before the DELETE, in check mode and in a real run alike; before,
    the class was deleted and the POST failed, leaving no class."""
    assert run(ansible_run, standin, FAST)["changed"] is True
    before = standin.get(SC_V, "StorageClass", "fast")
    bad = dict(FAST, provisioner="topolvm.io/not a name!", recreate=True)
    for check in (True, False):
        standin.reset_requests()
        res = run(ansible_run, standin, bad, check=check)
        assert res["failed"] is True, res
        assert "refuses the object it would be re-created as" in res["msg"] and "422" in res["msg"], res["msg"]
        assert [(w["method"], w["query"].get("dryRun")) for w in writes(standin)] == [("POST", "All")]
        assert standin.get(SC_V, "StorageClass", "fast") == before


def test_default_false_unmarks_and_absent_deletes(standin, ansible_run):
    seed_class(standin, "fast", default="true", provisioner="topolvm.io")
    res = run(ansible_run, standin, {"name": "fast", "default": False})
    assert res["changed"] is True
    assert standin.get(SC_V, "StorageClass", "fast")["metadata"]["annotations"][DEFAULT] == "false"
    res = run(ansible_run, standin, {"name": "fast", "state": "absent"})
    assert res["changed"] is True and standin.get(SC_V, "StorageClass", "fast") is None
    standin.reset_requests()
    res = run(ansible_run, standin, {"name": "fast", "state": "absent"})
    assert res["changed"] is False and writes(standin) == []


def test_schema_error_shows_in_check_mode(standin, ansible_run):
    """Server-side dry run validates: a bad value fails in check mode too."""
    args = {"name": "bad", "provisioner": "topolvm.io", "allowed_topologies": [{"matchLabelExpressions": "not-a-list"}]}
    res = run(ansible_run, standin, args, check=True)
    assert res["failed"] is True
    assert "create StorageClass bad: API answered 4" in res["msg"]
    assert standin.get(SC_V, "StorageClass", "bad") is None


# token + CA, TLS without the CA, a wrong token: tests/k8s/test_auth.py (one playbook)


# ---------------------------------------------------------------- VolumeSnapshotClass

def vsc(name, driver, default=None):
    obj = {"apiVersion": VSC_V, "kind": "VolumeSnapshotClass", "metadata": {"name": name}, "driver": driver,
           "deletionPolicy": "Delete"}
    if default:
        obj["metadata"]["annotations"] = {VSC_DEFAULT: default}
    return obj


def test_snapshotclass_default_per_driver_idempotent_and_immutable(standin, ansible_run):
    """The snapshot validation webhook (external-snapshotter validation-webhook/snapshot.go)
    refuses a second default class per driver, dry runs included: the old default is unmarked
    first, and check mode cannot dry-run marking the new one while the old still is."""
    standin.seed([vsc("old-a", "topolvm.io", "true"), vsc("other-b", "nfs.csi.k8s.io", "true")])
    mod = "strata.storage.k8s_volumesnapshotclass"
    args = {"name": "snap", "driver": "topolvm.io", "default": True}
    before = standin.snapshot()
    checked = run(ansible_run, standin, args, module=mod, check=True)
    assert checked.get("failed") is not True and checked["changed"] is True, checked
    assert [(a["method"], a.get("sent", True)) for a in checked["actions"]] == [("PUT", True), ("POST", False)]
    assert any("snapshot webhook" in n for n in checked["notes"]), checked["notes"]
    assert standin.snapshot() == before
    res = run(ansible_run, standin, args, module=mod)
    assert res["changed"] is True, res
    assert [a["description"] for a in res["actions"]] == [a["description"] for a in checked["actions"]]
    assert res["default_removed_from"] == ["old-a"]
    assert standin.get(VSC_V, "VolumeSnapshotClass", "old-a")["metadata"]["annotations"][VSC_DEFAULT] == "false"
    assert standin.get(VSC_V, "VolumeSnapshotClass", "other-b")["metadata"]["annotations"][VSC_DEFAULT] == "true"
    assert standin.get(VSC_V, "VolumeSnapshotClass", "snap")["deletionPolicy"] == "Delete"

    standin.reset_requests()
    again = run(ansible_run, standin, args, module=mod)
    assert again["changed"] is False and writes(standin) == []

    upd = run(ansible_run, standin, {"name": "snap", "deletion_policy": "Retain"}, module=mod)
    assert upd["changed"] is True and [a["method"] for a in upd["actions"]] == ["PUT"]
    assert standin.get(VSC_V, "VolumeSnapshotClass", "snap")["deletionPolicy"] == "Retain"

    refused = run(ansible_run, standin, {"name": "snap", "driver": "other.io"}, module=mod)
    assert refused["failed"] is True
    assert refused["msg"].startswith("VolumeSnapshotClass snap: driver cannot change after creation")


def test_omitempty_conflict_retry_and_missing_crd(standin, ansible_run):
    """Three things a lenient server hides, in one playbook:
    - the server drops empty maps and lists of omitempty fields (storage/v1 types.go
      `parameters,omitempty`, `mountOptions,omitempty`): asking for them empty must not be a
      change, let alone an immutable one, on every run;
    - a 409 Conflict (someone wrote between our read and our PUT) is answered by reading again
      and planning again, keeping the other writer's change;
    - without the external-snapshotter CRDs the API answers a plain-text 404 for the whole
      resource (not_found_handler.go), which is not "the class does not exist"."""
    seed_class(standin, "fast", provisioner="topolvm.io", allowVolumeExpansion=False)
    standin.store.unserved.add("volumesnapshotclasses.snapshot.storage.k8s.io")
    fired = []

    def other_writer(store, method, path, query):
        if method == "PUT" and path == "/apis/storage.k8s.io/v1/storageclasses/fast" and not fired:
            fired.append(path)
            from k8s.apiserver_standin.resources import BY_KIND
            store.patch(BY_KIND[(SC_V, "StorageClass")], None, "fast", {"metadata": {"labels": {"team": "other"}}},
                        "application/merge-patch+json")

    standin.store.add_hook(other_writer, once=False)
    empty = {"name": "empty", "provisioner": "topolvm.io", "parameters": {}, "mount_options": [],
             "labels": {}, "annotations": {}}
    vsc_mod = "strata.storage.k8s_volumesnapshotclass"
    tasks = (("empty first", "strata.storage.k8s_storageclass", empty),
             ("empty again", "strata.storage.k8s_storageclass", empty),
             ("conflict", "strata.storage.k8s_storageclass", {"name": "fast", "allow_volume_expansion": True}),
             ("crd absent", vsc_mod, {"name": "snap", "state": "absent"}),
             ("crd present", vsc_mod, {"name": "snap", "driver": "topolvm.io"}))
    play_text = "\n".join(["- hosts: localhost", "  gather_facts: false", "  tasks:"] + [
        "    - name: %s\n      %s: %s\n      ignore_errors: true" % (name, mod, json.dumps(dict(args, kubeconfig=standin.kubeconfig)))
        for name, mod, args in tasks]) + "\n"
    standin.reset_requests()
    result = ansible_run(play_text)

    first, again = result.result("empty first"), result.result("empty again")
    assert first["changed"] is True, first
    assert again.get("failed") is not True and again["changed"] is False, again
    stored = standin.get(SC_V, "StorageClass", "empty")
    assert "parameters" not in stored and "mountOptions" not in stored
    assert [w["method"] for w in writes(standin) if "empty" in w["path"] or (w["body"] or {}).get(
        "metadata", {}).get("name") == "empty"] == ["POST"]

    res = result.result("conflict")
    assert res.get("failed") is not True and res["changed"] is True, res
    stored = standin.get(SC_V, "StorageClass", "fast")
    assert stored["allowVolumeExpansion"] is True and stored["metadata"]["labels"] == {"team": "other"}
    assert any("conflict" in n for n in res["notes"]), res.get("notes")
    assert [w["method"] for w in writes(standin) if w["path"].endswith("/fast")] == ["PUT", "PUT"]

    absent, present = result.result("crd absent"), result.result("crd present")
    assert absent.get("failed") is not True and absent["changed"] is False
    assert any("VolumeSnapshotClass API is not served" in w for w in absent.get("warnings", [])), absent
    assert present["failed"] is True
    assert present["msg"].startswith("the VolumeSnapshotClass API is not served by this cluster"), present["msg"]
    assert "external-snapshotter" in present["msg"]
    assert not [w for w in writes(standin) if "snapshot" in w["path"]]


def test_conflict_in_check_mode_reports_each_change_once(standin, ansible_run):
    """A 409 on the second dry run (someone changed the old default meanwhile) makes the module
    plan again and dry-run both requests again; the first attempt's dry runs wrote nothing, so
    they must not be reported next to the second's (before: four actions for two changes, one of
    them the refused request)."""
    seed_class(standin, "a", default="true", provisioner="topolvm.io")
    seed_class(standin, "b", provisioner="topolvm.io")
    fired = []

    def other_writer(store, method, path, query):
        if method == "PUT" and path.endswith("/storageclasses/a") and not fired:
            fired.append(path)
            from k8s.apiserver_standin.resources import BY_KIND
            store.patch(BY_KIND[(SC_V, "StorageClass")], None, "a", {"metadata": {"labels": {"team": "other"}}},
                        "application/merge-patch+json")

    standin.store.add_hook(other_writer, once=False)
    before = standin.snapshot()
    res = run(ansible_run, standin, {"name": "b", "default": True}, check=True)
    assert fired and res.get("failed") is not True, res
    assert [(a["method"], a["path"].rsplit("/", 1)[1]) for a in res["actions"]] == [("PUT", "b"), ("PUT", "a")], res
    assert res["default_removed_from"] == ["a"]
    assert [k for k, v in standin.snapshot().items() if before.get(k) != v] == [
        ("storage.k8s.io/v1/StorageClass", None, "a")]   # the other writer's label only
