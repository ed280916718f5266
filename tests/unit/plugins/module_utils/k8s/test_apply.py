# -*- coding: utf-8 -*-
"""Every planning decision of k8s_apply, on plain dicts shaped like the API's objects (no client)."""
from __future__ import annotations

import copy
import json
import re

import pytest

from ansible_collections.strata.storage.plugins.module_utils.k8s import apply as ka
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError

SC = ka.KINDS["StorageClass"]
VSC = ka.KINDS["VolumeSnapshotClass"]
DEFAULT = ka.SC_DEFAULT_ANNOTATION


def sc_params(**kw):
    params = dict(name="fast", provisioner="topolvm.io", parameters=None, reclaim_policy=None, volume_binding_mode=None,
                  allow_volume_expansion=None, mount_options=None, allowed_topologies=None, labels=None,
                  annotations=None, default=None, recreate=False)
    params.update(kw)
    return params


def stored(obj, rv="7", **extra):
    """What the API server would hand back for a created object (server metadata, defaults)."""
    out = copy.deepcopy(obj)
    out["metadata"].update(uid="uid-" + out["metadata"]["name"], resourceVersion=rv,
                           creationTimestamp="2026-11-01T00:00:00Z",
                           managedFields=[{"manager": "kubectl"}])
    out.update(extra)
    return out


def live_sc(**kw):
    desired = ka.storageclass_desired(sc_params(**kw), None)
    return stored(desired)


# ---------------------------------------------------------------- StorageClass planning

def test_create_sends_every_field_with_documented_defaults():
    desired = ka.storageclass_desired(sc_params(parameters={"fstype": "xfs", "thin": True, "n": 3}), None)
    plan = ka.plan_object(SC, desired, None)
    assert [(s.method, s.path) for s in plan.steps] == [("POST", "/apis/storage.k8s.io/v1/storageclasses")]
    body = plan.steps[0].body
    assert body["reclaimPolicy"] == "Delete"
    assert body["volumeBindingMode"] == "WaitForFirstConsumer"
    assert body["parameters"] == {"fstype": "xfs", "thin": "true", "n": "3"}
    assert "annotations" not in body["metadata"]
    assert plan.before == {} and plan.after["provisioner"] == "topolvm.io"


def test_create_without_provisioner_is_refused():
    with pytest.raises(StrataError, match="StorageClass fast does not exist and no provisioner was given"):
        ka.storageclass_desired(sc_params(provisioner=None), None)


def test_nested_parameter_value_is_refused():
    with pytest.raises(StrataError, match="parameter x must be a string"):
        ka.storageclass_desired(sc_params(parameters={"x": {"a": 1}}), None)


def test_same_input_plans_nothing():
    live = live_sc(parameters={"a": "1"}, mount_options=["discard"], labels={"team": "a"})
    desired = ka.storageclass_desired(sc_params(parameters={"a": 1}, mount_options=["discard"], labels={"team": "a"}), live)
    plan = ka.plan_object(SC, desired, live)
    assert plan.steps == [] and plan.changed_fields == []
    assert plan.before == plan.after


def test_left_out_options_keep_live_values():
    # the class was made Immediate/Retain by someone else: leaving the options out keeps that
    live = stored({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast", "labels": {"x": "1"}},
                   "provisioner": "topolvm.io", "reclaimPolicy": "Retain", "volumeBindingMode": "Immediate",
                   "parameters": {"a": "1"}, "allowVolumeExpansion": True})
    desired = ka.storageclass_desired(sc_params(provisioner=None), live)
    assert "reclaimPolicy" not in desired and "volumeBindingMode" not in desired and "parameters" not in desired
    assert ka.plan_object(SC, desired, live).steps == []


def test_mutable_change_is_one_put_with_live_resource_version_and_merged_labels():
    live = live_sc(labels={"team": "a", "old": "x"}, allow_volume_expansion=False)
    desired = ka.storageclass_desired(sc_params(provisioner=None, allow_volume_expansion=True,
                                                labels={"team": "b", "old": None}), live)
    plan = ka.plan_object(SC, desired, live)
    assert [(s.method, s.path) for s in plan.steps] == [("PUT", "/apis/storage.k8s.io/v1/storageclasses/fast")]
    body = plan.steps[0].body
    assert body["metadata"]["resourceVersion"] == "7"            # 409 if it changed meanwhile
    assert "managedFields" not in body["metadata"]
    assert body["metadata"]["labels"] == {"team": "b"}
    assert body["allowVolumeExpansion"] is True
    assert body["provisioner"] == "topolvm.io" and body["reclaimPolicy"] == "Delete" and "parameters" not in body
    assert sorted(plan.changed_fields) == ["allowVolumeExpansion", "metadata.labels.old", "metadata.labels.team"]
    assert plan.immutable_changes == []
    assert plan.after["metadata"]["labels"] == {"team": "b"} and plan.before["metadata"]["labels"]["old"] == "x"


def test_mount_options_list_compared_as_a_whole():
    live = live_sc(mount_options=["a", "b"])
    desired = ka.storageclass_desired(sc_params(provisioner=None, mount_options=["b", "a"]), live)
    plan = ka.plan_object(SC, desired, live)
    assert plan.changed_fields == ["mountOptions"]


@pytest.mark.parametrize("change, fields", [
    (dict(parameters={"a": "2"}), ["parameters"]),
    (dict(parameters={"a": "1", "extra": "x"}), ["parameters"]),
    (dict(parameters={}), ["parameters"]),              # given parameters are the complete set
    (dict(reclaim_policy="Retain", volume_binding_mode="Immediate"), ["reclaimPolicy", "volumeBindingMode"]),
    (dict(provisioner="nfs.csi.k8s.io"), ["provisioner"]),
])
def test_immutable_change_is_refused_with_names_and_values(change, fields):
    live = live_sc(parameters={"a": "1"})
    desired = ka.storageclass_desired(sc_params(**change), live)
    plan = ka.plan_object(SC, desired, live)
    assert plan.immutable_changes == fields
    assert plan.steps == []                                     # nothing is sent
    err = ka.immutable_error(plan)
    msg = err.fail_kwargs()["msg"]
    assert msg.startswith("StorageClass fast: %s cannot change after creation" % ", ".join(fields))
    assert "recreate: true" in msg and "nothing was changed" in msg
    assert err.details["diff"]["before"] != err.details["diff"]["after"]
    assert err.details["immutable_fields"] == fields


def test_immutable_error_shows_old_and_new_values():
    live = live_sc(parameters={"a": "1"})
    plan = ka.plan_object(SC, ka.storageclass_desired(sc_params(parameters={"a": "2"}), live), live)
    assert 'parameters: {"a": "1"} -> {"a": "2"}' in ka.immutable_error(plan).msg


def test_recreate_deletes_with_preconditions_then_creates_carrying_over_other_fields():
    live = live_sc(parameters={"a": "1"}, mount_options=["discard"], labels={"keep": "me"})
    desired = ka.storageclass_desired(sc_params(provisioner=None, parameters={"a": "2"}), live)
    plan = ka.plan_object(SC, desired, live, recreate=True)
    assert [(s.method, s.path) for s in plan.steps] == [
        ("DELETE", "/apis/storage.k8s.io/v1/storageclasses/fast"),
        ("POST", "/apis/storage.k8s.io/v1/storageclasses")]
    assert plan.steps[0].body["preconditions"] == {"uid": "uid-fast", "resourceVersion": "7"}
    new = plan.steps[1].body
    assert new["parameters"] == {"a": "2"} and new["mountOptions"] == ["discard"]
    assert new["metadata"] == {"name": "fast", "labels": {"keep": "me"}}   # no uid/resourceVersion
    assert plan.steps[0].sendable_in_check and not plan.steps[1].sendable_in_check


def test_absent_deletes_existing_and_does_nothing_when_gone():
    live = live_sc()
    plan = ka.plan_object(SC, {"metadata": {"name": "fast"}}, live, state="absent")
    assert [(s.method, s.description) for s in plan.steps] == [("DELETE", "delete StorageClass fast")]
    assert plan.after == {}
    assert ka.plan_object(SC, {"metadata": {"name": "fast"}}, None, state="absent").steps == []


# ---------------------------------------------------------------- default class

def classes(*specs):
    out = []
    for name, mark, driver in specs:
        meta = {"name": name, "uid": "u-" + name, "resourceVersion": "3"}
        if mark is not None:
            meta["annotations"] = {DEFAULT: mark, "x": "y"}
        out.append({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta,
                    "provisioner": driver, "driver": driver})
    return out


def test_default_true_marks_this_class():
    desired = ka.storageclass_desired(sc_params(default=True), None)
    assert desired["metadata"]["annotations"] == {DEFAULT: "true"}


def test_default_false_unmarks_only_a_marked_class_and_left_out_keeps():
    marked = live_sc(annotations={DEFAULT: "true"})
    unmarked = live_sc()
    d = ka.storageclass_desired(sc_params(provisioner=None, default=False), marked)
    assert ka.plan_object(SC, d, marked).changed_fields == ["metadata.annotations.%s" % DEFAULT]
    assert d["metadata"]["annotations"][DEFAULT] == "false"
    d = ka.storageclass_desired(sc_params(provisioner=None, default=False), unmarked)
    assert ka.plan_object(SC, d, unmarked).steps == []
    d = ka.storageclass_desired(sc_params(provisioner=None), marked)
    assert ka.plan_object(SC, d, marked).steps == []


def test_default_switch_unmarks_every_other_marked_class_only():
    items = classes(("fast", None, "a"), ("standard", "true", "a"), ("old", "true", "b"), ("slow", "false", "a"),
                    ("plain", None, "a"))
    plans = ka.plan_default_others(SC, "fast", None, items)
    assert [p.name for p in plans] == ["old", "standard"]
    for p in plans:
        (step,) = p.steps
        assert step.method == "PUT" and step.description == "take the default mark off StorageClass %s" % p.name
        assert step.body["metadata"]["annotations"] == {DEFAULT: "false", "x": "y"}
        assert step.body["metadata"]["resourceVersion"] == "3"


def test_snapshot_default_switch_is_per_driver():
    items = []
    for name, driver in (("a1", "drv-a"), ("a2", "drv-a"), ("b1", "drv-b")):
        items.append({"kind": "VolumeSnapshotClass", "driver": driver,
                      "metadata": {"name": name, "annotations": {VSC.default_annotation: "true"}}})
    plans = ka.plan_default_others(VSC, "a1", "drv-a", items)
    assert [p.name for p in plans] == ["a2"]


def test_snapshotclass_desired_and_immutables():
    d = ka.snapshotclass_desired(dict(name="snap", driver="topolvm.io", parameters=None, deletion_policy=None,
                                      labels=None, annotations=None, default=True), None)
    assert d["deletionPolicy"] == "Delete" and d["metadata"]["annotations"] == {VSC.default_annotation: "true"}
    live = stored(ka.for_create(d))
    d2 = ka.snapshotclass_desired(dict(name="snap", driver="other", parameters=None, deletion_policy="Retain",
                                       labels=None, annotations=None, default=None), live)
    plan = ka.plan_object(VSC, d2, live)
    assert plan.immutable_changes == ["driver"]
    assert sorted(plan.changed_fields) == ["deletionPolicy", "driver"]
    with pytest.raises(StrataError, match="no driver was given"):
        ka.snapshotclass_desired(dict(name="s", driver=None, parameters=None, deletion_policy=None, labels=None,
                                      annotations=None, default=None), None)


# ---------------------------------------------------------------- comparison details

@pytest.mark.parametrize("a, b, same", [
    ("1Gi", "1024Mi", True), ("100Gi", "107374182400", True), ("1G", "1000M", True), ("500m", "0.5", True),
    ("1Gi", "1G", False), ("10", "1e1", True), ("abc", "abc", True), ("abc", "abd", False),
])
def test_quantities_compare_by_value_in_spec(a, b, same):
    rq = ka.KINDS["ResourceQuota"]
    desired = {"spec": {"hard": {"requests.storage": a}}}
    live = {"metadata": {}, "spec": {"hard": {"requests.storage": b}}}
    assert (ka.differences(rq, desired, live) == []) is same


def test_quantities_are_not_used_outside_quota_kinds():
    assert ka.differences(SC, {"parameters": {"size": "1Gi"}}, {"parameters": {"size": "1024Mi"}}) == [("parameters", "size")]


def test_server_defaults_in_maps_do_not_count_as_changes():
    np_spec = ka.KINDS["NetworkPolicy"]
    desired = {"spec": {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]}}
    live = {"metadata": {}, "spec": {"podSelector": {"matchLabels": {}}, "policyTypes": ["Ingress"],
                                     "ingress": [{"from": [{"podSelector": {}, "extra": 1}]}]}}
    assert ka.differences(np_spec, desired, live) == []


def test_none_means_key_must_be_absent():
    np_spec = ka.KINDS["NetworkPolicy"]
    live = {"metadata": {}, "spec": {"egress": [{"to": []}], "podSelector": {}}}
    assert ka.differences(np_spec, {"spec": {"egress": None}}, live) == [("spec", "egress")]
    assert ka.merged({"spec": {"egress": None}}, dict(live, metadata={"name": "x"}))["spec"] == {"podSelector": {}}
    assert ka.differences(np_spec, {"spec": {"egress": None}}, {"metadata": {}, "spec": {}}) == []


def test_view_hides_server_noise():
    live = live_sc(annotations={"kubectl.kubernetes.io/last-applied-configuration": "{...}", "a": "b"})
    live["status"] = {"x": 1}
    shown = ka.view(live)
    assert shown["metadata"] == {"name": "fast", "annotations": {"a": "b"}}
    assert "status" not in shown


# ---------------------------------------------------------------- tenants

def tenant_params(**kw):
    params = dict(name="team-a", tenant=None, labels=None, annotations=None,
                  pod_security={"enforce": "restricted", "audit": "restricted", "warn": "baseline", "version": "v1.31"},
                  quota={"storage": "500Gi", "pvcs": 20,
                         "per_class": {"fast": {"storage": "100Gi", "pvcs": 5}, "archive": {"storage": 0, "pvcs": 0}},
                         "hard": {"requests.cpu": "8"}},
                  limits={"pvc_min": "1Gi", "pvc_max": "200Gi", "container_default": {"cpu": "500m"},
                          "container_default_request": None, "container_max": None},
                  group="team-a-devs", role_rules=None, network_policy=True, allowed_namespaces=["monitoring", "ingress"],
                  deny_egress=False)
    params.update(kw)
    return params


def by_kind(objects):
    return dict(("%s/%s" % (o["kind"], o["metadata"]["name"]), o) for o in objects)


def test_tenant_object_set():
    objs = by_kind(ka.tenant_objects(tenant_params()))
    assert list(objs) == ["Namespace/team-a", "ResourceQuota/strata-tenant-quota", "LimitRange/strata-tenant-limits",
                          "Role/strata-tenant", "RoleBinding/strata-tenant", "NetworkPolicy/strata-default-deny",
                          "NetworkPolicy/strata-allow-tenant-traffic"]
    ns_labels = objs["Namespace/team-a"]["metadata"]["labels"]
    assert ns_labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert ns_labels["pod-security.kubernetes.io/warn"] == "baseline"
    assert ns_labels["pod-security.kubernetes.io/audit-version"] == "v1.31"
    assert ns_labels[ka.MANAGED_BY_LABEL] == "strata.storage" and ns_labels[ka.TENANT_LABEL] == "team-a"
    for key, obj in objs.items():
        assert obj["metadata"]["labels"][ka.MANAGED_BY_LABEL] == "strata.storage", key
        if key != "Namespace/team-a":
            assert obj["metadata"]["namespace"] == "team-a"
    assert objs["ResourceQuota/strata-tenant-quota"]["spec"]["hard"] == {
        "requests.storage": "500Gi", "persistentvolumeclaims": "20",
        "fast.storageclass.storage.k8s.io/requests.storage": "100Gi",
        "fast.storageclass.storage.k8s.io/persistentvolumeclaims": "5",
        "archive.storageclass.storage.k8s.io/requests.storage": "0",
        "archive.storageclass.storage.k8s.io/persistentvolumeclaims": "0",
        "requests.cpu": "8"}
    assert objs["LimitRange/strata-tenant-limits"]["spec"]["limits"] == [
        {"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"}, "max": {"storage": "200Gi"}},
        {"type": "Container", "default": {"cpu": "500m"}}]
    binding = objs["RoleBinding/strata-tenant"]
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "team-a-devs"}]
    assert binding["roleRef"]["name"] == "strata-tenant"
    rules = objs["Role/strata-tenant"]["rules"]
    np_rule = [r for r in rules if r["resources"] == ["networkpolicies"]][0]
    assert np_rule["verbs"] == ["get", "list", "watch"]         # a tenant cannot lift the deny
    deny = objs["NetworkPolicy/strata-default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}
    allow = objs["NetworkPolicy/strata-allow-tenant-traffic"]["spec"]
    assert allow["ingress"][0]["from"][1]["namespaceSelector"]["matchExpressions"][0]["values"] == ["ingress", "monitoring"]
    assert allow["egress"] is None


def test_tenant_sections_left_out_are_not_planned():
    objs = by_kind(ka.tenant_objects(tenant_params(quota=None, limits=None, group=None, pod_security=None,
                                                   network_policy=False)))
    assert list(objs) == ["Namespace/team-a"]
    assert not any(k.startswith("pod-security") for k in objs["Namespace/team-a"]["metadata"]["labels"])


def test_tenant_deny_egress_allows_dns_and_listed_namespaces():
    objs = by_kind(ka.tenant_objects(tenant_params(deny_egress=True)))
    assert objs["NetworkPolicy/strata-default-deny"]["spec"]["policyTypes"] == ["Ingress", "Egress"]
    egress = objs["NetworkPolicy/strata-allow-tenant-traffic"]["spec"]["egress"]
    assert egress[1]["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def test_tenant_quota_removal_of_a_class_is_a_change_and_replaces_hard():
    rq = ka.KINDS["ResourceQuota"]
    objs = by_kind(ka.tenant_objects(tenant_params()))
    live = stored(ka.for_create(objs["ResourceQuota/strata-tenant-quota"]))
    live["spec"]["hard"]["requests.storage"] = "512000Mi"     # the server canonicalises quantities
    same = ka.plan_object(rq, objs["ResourceQuota/strata-tenant-quota"], live)
    assert same.steps == []
    params = tenant_params()
    del params["quota"]["per_class"]["archive"]
    smaller = by_kind(ka.tenant_objects(params))["ResourceQuota/strata-tenant-quota"]
    plan = ka.plan_object(rq, smaller, live)
    assert plan.changed_fields == ["spec.hard"]
    assert "archive.storageclass.storage.k8s.io/persistentvolumeclaims" not in plan.steps[0].body["spec"]["hard"]


def test_tenant_unknown_per_class_key_is_refused():
    with pytest.raises(StrataError, match="quota.per_class.fast: unknown keys size"):
        ka.quota_hard({"per_class": {"fast": {"size": "1Gi"}}})


def pv(name, ns, policy, claim="data"):
    return {"metadata": {"name": name}, "spec": {"persistentVolumeReclaimPolicy": policy, "storageClassName": "fast",
                                                 "capacity": {"storage": "10Gi"},
                                                 "claimRef": {"namespace": ns, "name": claim}}}


def test_volumes_to_keep_picks_delete_policy_pvs_of_the_namespace():
    pvs = [pv("p3", "team-a", "Delete"), pv("p1", "team-a", "Retain"), pv("p2", "other", "Delete"),
           {"metadata": {"name": "free"}, "spec": {}}]
    to_patch, kept = ka.volumes_to_keep("team-a", pvs)
    assert [p["metadata"]["name"] for p in to_patch] == ["p3"]
    assert [p["metadata"]["name"] for p in kept] == ["p1"]
    assert ka.pv_summary(to_patch[0], policy="Delete") == {"name": "p3", "claim": "team-a/data", "storage_class": "fast",
                                                           "capacity": "10Gi", "reclaim_policy": "Delete"}


def test_pv_retain_patch_keeps_the_rest_of_the_spec():
    live = stored(pv("p3", "team-a", "Delete"))
    plan = ka.plan_object(ka.KINDS["PersistentVolume"], {"metadata": {"name": "p3"},
                                                         "spec": {"persistentVolumeReclaimPolicy": "Retain"}}, live)
    body = plan.steps[0].body
    assert plan.steps[0].path == "/api/v1/persistentvolumes/p3"
    assert body["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert (body["apiVersion"], body["kind"]) == ("v1", "PersistentVolume")   # list items lack them
    assert body["spec"]["claimRef"] == {"namespace": "team-a", "name": "data"} and body["spec"]["capacity"]


def test_paths():
    assert ka.KINDS["ResourceQuota"].path("q", "ns") == "/api/v1/namespaces/ns/resourcequotas/q"
    assert ka.KINDS["Role"].path(None, "ns") == "/apis/rbac.authorization.k8s.io/v1/namespaces/ns/roles"
    assert VSC.path("x") == "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses/x"
    with pytest.raises(StrataError):
        ka.KINDS["Role"].path("x")


# ---------------------------------------------------------------- branch names

DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@pytest.mark.parametrize("branch, prefix, expected", [
    ("main", "br", "br-main"),
    ("feature-a", "br", "br-feature-a"),
    ("refs/heads/main", "br", "br-main"),
    ("release-1-2", "", "release-1-2"),
])
def test_branch_namespace_plain(branch, prefix, expected):
    assert ka.branch_namespace(branch, prefix) == expected


@pytest.mark.parametrize("branch", ["feature/A", "Feature-A", "fix/ÜBER_bug..2", "a" * 80, "x/" * 40, "---", "_"])
def test_branch_namespace_changed_names_get_a_stable_hash(branch):
    name = ka.branch_namespace(branch, "ci")
    assert DNS1123.match(name) and len(name) <= 63, name
    assert re.search(r"-[0-9a-f]{6}$", name) or re.match(r"^ci-[0-9a-f]{6}$", name), name
    assert ka.branch_namespace(branch, "ci") == name


def test_branch_namespace_no_collisions_between_similar_branches():
    names = {ka.branch_namespace(b) for b in ("feature/a", "feature-a", "Feature-A", "feature_a", "feature.a")}
    assert len(names) == 5


def test_branch_namespace_refuses_bad_input():
    with pytest.raises(StrataError, match="empty"):
        ka.branch_namespace("  ")
    with pytest.raises(StrataError, match="not a DNS-1123 label"):
        ka.branch_namespace("main", prefix="Bad_Prefix")


# ---------------------------------------------------------------- executor (fake transport)

class FakeResponse(object):
    def __init__(self, status, payload):
        self.status = status
        self.reason = {200: "OK", 201: "Created", 404: "Not Found", 409: "Conflict"}.get(status, "X")
        self.data = json.dumps(payload).encode()
        self.headers = {}

    def read(self):
        return self.data

    # older kubernetes clients (the newest for Python 3.9) build ApiException from these
    def getheaders(self):
        return self.headers

    def getheader(self, name, default=None):
        return self.headers.get(name, default)


class FakeApi(object):
    """Implements the two calls Executor uses of the new-style kubernetes ApiClient."""

    def __init__(self, answers):
        self.answers = answers        # list of (status, payload) served in order
        self.sent = []

    def param_serialize(self, method, resource_path, query_params, header_params, body, auth_settings):
        return (method, resource_path, list(query_params), header_params, body)

    def call_api(self, method, url, query, headers, body, _request_timeout=None):
        assert _request_timeout == ka.REQUEST_TIMEOUT
        self.sent.append((method, url, query, body))
        status, payload = self.answers.pop(0)
        return FakeResponse(status, payload)


def test_executor_check_mode_sends_dry_run_and_records_unsent_steps():
    api = FakeApi([(201, {"kind": "StorageClass", "metadata": {"name": "fast"}})])
    actions, reads = [], []
    ex = ka.Executor(api, True, actions, reads)
    live = {"metadata": {"name": "fast", "uid": "u1", "resourceVersion": "7"}}
    plan = ka.ObjectPlan(spec=SC, name="fast", steps=[
        ka.Step("delete StorageClass fast", "DELETE", SC.path("fast"), ka.delete_body(live)),
        ka.Step("re-create StorageClass fast", "POST", SC.path(), {}, sendable_in_check=False, unsent_reason="why")])
    ex.apply_all([plan])
    # the API server reads DeleteOptions from the body whenever a DELETE has one (delete.go):
    # the dry run is in the body, next to the preconditions, and nothing is in the query
    assert api.sent == [("DELETE", "/apis/storage.k8s.io/v1/storageclasses/fast", [],
                         {"apiVersion": "v1", "kind": "DeleteOptions", "dryRun": ["All"],
                          "preconditions": {"uid": "u1", "resourceVersion": "7"}})]
    assert plan.steps[0].body == ka.delete_body(live)    # the planned body is not changed
    assert actions == [
        {"description": "delete StorageClass fast", "method": "DELETE", "path": SC.path("fast"), "dry_run": True},
        {"description": "re-create StorageClass fast", "method": "POST", "path": SC.path(), "dry_run": True, "sent": False}]
    assert ex.notes == ["why"]


def test_executor_get_404_is_none_and_409_is_a_clear_error():
    status = {"kind": "Status", "code": 409, "reason": "Conflict",
              "message": 'Operation cannot be fulfilled on storageclasses.storage.k8s.io "fast": the object has been modified'}
    api = FakeApi([(404, {"kind": "Status", "code": 404, "reason": "NotFound"}), (409, status)])
    ex = ka.Executor(api, False, [], [])
    assert ex.get(SC, "fast") is None
    with pytest.raises(StrataError) as err:
        ex.apply(ka.Step("update StorageClass fast (allowVolumeExpansion)", "PUT", SC.path("fast"), {}))
    msg = err.value.fail_kwargs()["msg"]
    assert msg.startswith("update StorageClass fast (allowVolumeExpansion): API answered 409 Conflict: Operation cannot")
    assert "run again" in msg
    # no dryRun outside check mode; every write names its field manager and validates strictly
    assert api.sent[1][2] == [("fieldManager", "strata.storage"), ("fieldValidation", "Strict")]


def test_executor_list_follows_continue_tokens():
    api = FakeApi([(200, {"items": [{"a": 1}], "metadata": {"continue": "t1"}}), (200, {"items": [{"a": 2}], "metadata": {}})])
    reads = []
    ex = ka.Executor(api, False, [], reads, page_size=1)
    assert ex.list(SC) == [{"a": 1}, {"a": 2}]
    assert [s[2] for s in api.sent] == [[("limit", "1")], [("limit", "1"), ("continue", "t1")]]
    assert reads == [["GET", SC.path()], ["GET", SC.path()]]


def test_executor_list_relists_in_full_after_410_on_a_later_page():
    expired = {"kind": "Status", "code": 410, "reason": "Expired", "message": "The provided continue parameter is too old"}
    api = FakeApi([(200, {"items": [{"a": 1}], "metadata": {"continue": "t1"}}), (410, expired),
                   (200, {"items": [{"a": 1}, {"a": 2}], "metadata": {}})])
    reads = []
    ex = ka.Executor(api, False, [], reads, page_size=1)
    assert ex.list(SC) == [{"a": 1}, {"a": 2}]   # the first page's items are not kept twice
    assert [s[2] for s in api.sent] == [[("limit", "1")], [("limit", "1"), ("continue", "t1")], []]
    # 410 on the first page is an error (client-go's pager falls back only on later pages)
    api = FakeApi([(410, expired)])
    with pytest.raises(StrataError) as err:
        ka.Executor(api, False, [], [], page_size=1).list(SC)
    assert err.value.rc == 410


def test_executor_not_served_is_told_apart_from_not_found():
    class Plain(FakeResponse):
        def __init__(self):
            FakeResponse.__init__(self, 404, None)
            self.data = b"404 page not found\n"

    api = FakeApi([])
    api.answers = []
    api.call_api = lambda *a, **k: Plain()
    with pytest.raises(ka.NotServed):
        ka.Executor(api, False, [], []).get(VSC, "snap")


def test_empty_maps_and_lists_equal_missing_fields():
    live = {"metadata": {"name": "fast"}, "provisioner": "topolvm.io"}
    assert ka.differences(SC, {"metadata": {"name": "fast", "labels": {}}, "parameters": {}, "mountOptions": []}, live) == []
    assert ka.differences(SC, {"parameters": {"a": "1"}}, live) == [("parameters",)]
    assert ka.differences(SC, {"mountOptions": []}, dict(live, mountOptions=["x"])) == [("mountOptions",)]


@pytest.mark.parametrize("params,words", [
    ({"role_rules": [{"verbs": ["get"]}]}, "rules[0] has no apiGroups and no resources"),
    ({"role_rules": [{"verbs": ["get"], "nonResourceURLs": ["/x"]}]}, "rules[0] has nonResourceURLs"),
    ({"quota": {"hard": {"pvcs": "3"}}}, "pvcs is not a resource a quota can limit"),
    ({"quota": {"hard": {"count/deployments.apps": "1.5"}}}, "count/deployments.apps 1.5 must be a whole number"),
    ({"quota": {"storage": "-1Gi"}}, "requests.storage -1Gi is negative"),
    # extended resource names are integer resources (helpers.go IsIntegerResourceName)
    ({"quota": {"per_class": {"fast": {"storage": "500m"}}}},
     "fast.storageclass.storage.k8s.io/requests.storage 500m must be a whole number"),
    ({"quota": {"hard": {"nvidia.com/gpu": "0.5"}}}, "nvidia.com/gpu 0.5 must be a whole number"),
    ({"quota": {"storage": "lots"}}, "requests.storage lots is not a quantity"),
    ({"pod_security": {"enforce": "baseline", "version": "1.31"}}, 'must be "latest" or "v1.x"'),
    ({"labels": {"pod-security.kubernetes.io/enforce": "strict"}}, "must be one of privileged, baseline, restricted"),
    ({"limits": {"pvc_min": "10Gi", "pvc_max": "1Gi"}}, "pvc_min 10Gi is greater than pvc_max 1Gi"),
    ({"limits": {"container_default": {"cpu": "2"}, "container_max": {"cpu": "1"}}},
     "container_default cpu 2 is greater than container_max cpu 1"),
    # ValidateLimitRange: container resource names, quantities, no overcommit of extended resources
    ({"limits": {"container_default": {"storage": "1Gi"}}}, "storage is not a container resource"),
    ({"limits": {"container_max": {"cpu": "two"}}}, "container_max cpu two is not a quantity"),
    ({"limits": {"container_default": {"nvidia.com/gpu": "2"}, "container_default_request": {"nvidia.com/gpu": "1"}}},
     "container_default_request nvidia.com/gpu 1 must equal container_default nvidia.com/gpu 2"),
])
def test_tenant_input_the_server_would_refuse_is_refused_first(params, words):
    with pytest.raises(StrataError) as err:
        ka.tenant_objects(dict({"name": "team-a"}, **params))
    msg = err.value.fail_kwargs()["msg"]
    assert words in msg and "nothing was changed" in msg, msg


def test_tenant_input_the_server_accepts_passes():
    # resourceNames with several resources is valid (rbac validation.go ValidatePolicyRule has no such rule)
    params = {"name": "team-a", "role_rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
                                               {"apiGroups": [""], "resources": ["configmaps", "secrets"],
                                                "resourceNames": ["app"], "verbs": ["get"]}],
              "quota": {"storage": "1Ti", "pvcs": 3, "per_class": {"fast": {"storage": "1Gi", "pvcs": 0}},
                        "hard": {"count/deployments.apps": "2", "requests.nvidia.com/gpu": "1", "pods": "10"}},
              "pod_security": {"enforce": "restricted", "version": "v1.31"},
              "limits": {"pvc_min": "1Gi", "pvc_max": "1Gi", "container_default_request": {"cpu": "100m", "example.com/x": "1"},
                         "container_default": {"cpu": "1", "example.com/x": "1", "hugepages-2Mi": "2Mi"},
                         "container_max": {"cpu": "2", "memory": "1Gi"}}}
    assert ka.tenant_problems(params) == []


def test_one_quantity_parser_with_every_suffix():
    """apply and report share report.exact_quantity; the micro and nano suffixes are quantities
    (apimachinery quantity.go), which apply's own parser used to refuse."""
    from fractions import Fraction
    from ansible_collections.strata.storage.plugins.module_utils.k8s import report
    assert ka.parse_quantity("500u") == Fraction(1, 2000) and ka.parse_quantity("5n") == Fraction(5, 10 ** 9)
    assert ka.parse_quantity("1.5Gi") == 3 * 2 ** 29 and ka.parse_quantity("1e3") == 1000
    assert ka.parse_quantity("lots") is None and ka.parse_quantity(True) is None
    assert report.parse_quantity("100m") == 1 and report.parse_quantity("1.5k") == 1500
    assert ka.tenant_problems({"name": "t", "quota": {"hard": {"requests.cpu": "500u"}}}) == []


def test_a_quota_on_quotas_leaves_room_for_the_closing_quota():
    """Removal adds strata-tenant-closing next to the tenant's quota; resourcequotas: 1 would make
    quota admission refuse it, and state=absent could never finish."""
    for key in ("resourcequotas", "count/resourcequotas"):
        problems = ka.tenant_problems({"name": "t", "quota": {"hard": {key: "1"}}})
        assert problems and "closing quota" in problems[0], problems
        assert ka.tenant_problems({"name": "t", "quota": {"hard": {key: "2"}}}) == []
