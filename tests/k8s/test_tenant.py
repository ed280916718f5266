# -*- coding: utf-8 -*-
"""k8s_tenant_namespace, the k8s_tenant role and the branch playbook against the API stand-in."""
from __future__ import annotations

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BRANCH_PLAYBOOK = os.path.join(REPO, "playbooks", "k8s_tenant_branch.yml")
STORAGE_PLAYBOOK = os.path.join(REPO, "playbooks", "k8s_storage.yml")

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: under test
      strata.storage.k8s_tenant_namespace: {args}
"""

TENANT = {
    "name": "team-a", "group": "team-a-devs",
    "pod_security": {"enforce": "restricted", "audit": "restricted", "warn": "restricted", "version": "latest"},
    "quota": {"storage": "500Gi", "pvcs": 20, "per_class": {"fast": {"storage": "100Gi", "pvcs": 5}}},
    "limits": {"pvc_min": "1Gi", "pvc_max": "200Gi"},
    "allowed_namespaces": ["monitoring"],
}


def run(ansible_run, standin, args, **kw):
    args = dict(args, kubeconfig="{{ kc }}")
    result = ansible_run(PLAY.format(args=json.dumps(args)), {"kc": standin.kubeconfig}, **kw)
    return result.result("under test")


def writes(standin):
    return [r for r in standin.requests() if r["method"] != "GET"]


def test_tenant_create_exact_quota_and_idempotent(standin, ansible_run):
    res = run(ansible_run, standin, TENANT)
    assert res["changed"] is True, res
    ns = standin.get("v1", "Namespace", "team-a")
    labels = ns["metadata"]["labels"]
    assert labels["app.kubernetes.io/managed-by"] == "strata.storage"
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/warn-version"] == "latest"
    quota = standin.get("v1", "ResourceQuota", "strata-tenant-quota", "team-a")
    assert quota["spec"]["hard"] == {
        "requests.storage": "500Gi", "persistentvolumeclaims": "20",
        "fast.storageclass.storage.k8s.io/requests.storage": "100Gi",
        "fast.storageclass.storage.k8s.io/persistentvolumeclaims": "5"}
    assert standin.get("v1", "LimitRange", "strata-tenant-limits", "team-a")["spec"]["limits"][0]["max"] == {"storage": "200Gi"}
    binding = standin.get("rbac.authorization.k8s.io/v1", "RoleBinding", "strata-tenant", "team-a")
    assert binding["subjects"][0]["name"] == "team-a-devs"
    assert standin.get("rbac.authorization.k8s.io/v1", "Role", "strata-tenant", "team-a")["rules"]
    deny = standin.get("networking.k8s.io/v1", "NetworkPolicy", "strata-default-deny", "team-a")
    assert deny["spec"]["policyTypes"] == ["Ingress"]
    allow = standin.get("networking.k8s.io/v1", "NetworkPolicy", "strata-allow-tenant-traffic", "team-a")
    assert allow["spec"]["ingress"][0]["from"][1]["namespaceSelector"]["matchExpressions"][0]["values"] == ["monitoring"]
    assert len(res["actions"]) == 7

    standin.reset_requests()
    again = run(ansible_run, standin, TENANT)
    assert again["changed"] is False and again["actions"] == []
    assert writes(standin) == []
    # one GET per object, and one for the quota an unfinished removal would have left; nothing else
    assert len(standin.requests()) == 8


def test_tenant_check_mode_on_new_namespace(standin, ansible_run):
    standin.reset_requests()
    checked = run(ansible_run, standin, TENANT, check=True)
    assert checked["changed"] is True
    ws = writes(standin)
    # only the namespace create can be dry-run: the others need the namespace to exist
    assert [(w["method"], w["path"], w["query"].get("dryRun")) for w in ws] == [("POST", "/api/v1/namespaces", "All")]
    assert [a.get("sent", True) for a in checked["actions"]] == [True] + [False] * 6
    assert any("before it exists" in n for n in checked["notes"])
    assert standin.get("v1", "Namespace", "team-a") is None
    real = run(ansible_run, standin, TENANT)
    assert [(a["description"], a["method"], a["path"]) for a in real["actions"]] == \
        [(a["description"], a["method"], a["path"]) for a in checked["actions"]]

    # on an existing namespace every request is dry-run
    changed = dict(TENANT, quota=dict(TENANT["quota"], per_class={}), deny_egress=True)
    standin.reset_requests()
    checked = run(ansible_run, standin, changed, check=True, diff=True)
    ws = writes(standin)
    assert ws and all(w["query"].get("dryRun") == "All" for w in ws)
    assert sorted(w["path"] for w in ws) == [
        "/api/v1/namespaces/team-a/resourcequotas/strata-tenant-quota",
        "/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies/strata-allow-tenant-traffic",
        "/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies/strata-default-deny"]
    assert "fast.storageclass.storage.k8s.io/requests.storage" in \
        checked["diff"]["before"]["ResourceQuota/strata-tenant-quota"]["spec"]["hard"]
    assert "fast.storageclass.storage.k8s.io/requests.storage" not in \
        checked["diff"]["after"]["ResourceQuota/strata-tenant-quota"]["spec"]["hard"]
    assert "fast.storageclass.storage.k8s.io/requests.storage" in \
        standin.get("v1", "ResourceQuota", "strata-tenant-quota", "team-a")["spec"]["hard"]

    # the real run removes the class limit; turning deny_egress off again removes the egress rules
    run(ansible_run, standin, changed)
    assert set(standin.get("v1", "ResourceQuota", "strata-tenant-quota", "team-a")["spec"]["hard"]) == {
        "requests.storage", "persistentvolumeclaims"}
    assert standin.get("networking.k8s.io/v1", "NetworkPolicy", "strata-allow-tenant-traffic", "team-a")["spec"]["egress"]
    run(ansible_run, standin, dict(changed, deny_egress=False))
    allow = standin.get("networking.k8s.io/v1", "NetworkPolicy", "strata-allow-tenant-traffic", "team-a")
    assert not allow["spec"].get("egress")
    assert allow["spec"]["policyTypes"] == ["Ingress"]
    assert run(ansible_run, standin, dict(changed, deny_egress=False))["changed"] is False


def seed_bound_volume(standin, ns, pv_name, claim, policy):
    standin.seed([
        {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": pv_name},
         "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
                  "persistentVolumeReclaimPolicy": policy, "csi": {"driver": "topolvm.io", "volumeHandle": pv_name},
                  "claimRef": {"kind": "PersistentVolumeClaim", "namespace": ns, "name": claim, "apiVersion": "v1"}},
         "status": {"phase": "Bound"}},
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": claim, "namespace": ns},
         "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast", "volumeName": pv_name,
                  "resources": {"requests": {"storage": "10Gi"}}},
         "status": {"phase": "Bound"}},
    ])


def seed_managed_namespace(standin, name):
    """A tenant namespace as k8s_tenant_namespace leaves it (its creation is tested above)."""
    standin.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {
        "app.kubernetes.io/managed-by": "strata.storage", "strata.storage/tenant": name}}}])


def test_tenant_absent_keeps_volumes(standin, ansible_run):
    seed_managed_namespace(standin, "team-a")
    seed_bound_volume(standin, "team-a", "pv-data", "data", "Delete")
    seed_bound_volume(standin, "team-a", "pv-kept", "kept", "Retain")
    seed_bound_volume(standin, "elsewhere", "pv-other", "data", "Delete")

    before = standin.snapshot()
    standin.reset_requests()
    checked = run(ansible_run, standin, {"name": "team-a", "state": "absent"}, check=True)
    # the dry run goes where each handler reads it: the query of a POST/PUT, the body of a DELETE
    assert [(w["method"], w["path"], w["query"].get("dryRun"), (w["body"] or {}).get("dryRun"))
            for w in writes(standin)] == [
        ("POST", "/api/v1/namespaces/team-a/resourcequotas", "All", None),
        ("PUT", "/api/v1/persistentvolumes/pv-data", "All", None),
        ("DELETE", "/api/v1/namespaces/team-a", None, ["All"])]
    assert standin.snapshot() == before

    standin.store.controller_delay = 0.2
    res = run(ansible_run, standin, {"name": "team-a", "state": "absent", "wait": True, "wait_timeout": 30})
    assert res["changed"] is True
    assert [a["description"] for a in res["actions"]] == [a["description"] for a in checked["actions"]]
    assert sorted(v["name"] for v in res["kept_volumes"]) == ["pv-data", "pv-kept"]
    # wait: the module returned once the namespace controller had removed it
    assert standin.get("v1", "Namespace", "team-a") is None
    pv = standin.get("v1", "PersistentVolume", "pv-data")
    assert pv is not None and pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert pv["status"]["phase"] == "Released"
    assert standin.get("v1", "PersistentVolume", "pv-other")["spec"]["persistentVolumeReclaimPolicy"] == "Delete"

    assert run(ansible_run, standin, {"name": "team-a", "state": "absent"})["changed"] is False


def test_tenant_absent_with_delete_volumes(standin, ansible_run):
    seed_managed_namespace(standin, "team-a")
    seed_bound_volume(standin, "team-a", "pv-data", "data", "Delete")
    res = run(ansible_run, standin, {"name": "team-a", "state": "absent", "delete_volumes": True})
    assert [v["name"] for v in res["deleted_volumes"]] == ["pv-data"] and res["kept_volumes"] == []
    assert [a["method"] for a in res["actions"]] == ["POST", "DELETE"]
    assert standin.store.run_controllers() == []
    # the stand-in plays the provisioner: a Delete-policy PV goes with its claim
    assert standin.get("v1", "PersistentVolume", "pv-data") is None


def test_tenant_on_a_terminating_namespace_and_input_the_server_refuses(standin, ansible_run):
    """Namespace deletion is asynchronous (namespace/storage/storage.go): while team-a is
    Terminating, absent changes nothing and present says why it cannot work; present on a
    namespace a failed removal left with its closing quota takes that quota away again.
    And rules the real server enforces (rbac validation.go validatePolicyRule; core
    validation.go ValidateResourceQuotaResourceName and ValidateLimitRange; pod-security-admission
    ParseVersion) are checked before the first request, so check mode cannot approve a run that
    would stop half-way with the namespace created."""
    seed_managed_namespace(standin, "team-a")
    seed_bound_volume(standin, "team-a", "pv-data", "data", "Retain")
    standin.delete("v1", "Namespace", "team-a")
    seed_managed_namespace(standin, "team-b")
    standin.seed([{"apiVersion": "v1", "kind": "ResourceQuota",
                   "metadata": {"name": "strata-tenant-closing", "namespace": "team-b",
                                "labels": {"app.kubernetes.io/managed-by": "strata.storage"}},
                   "spec": {"hard": {"persistentvolumeclaims": "0"}}}])
    before = standin.snapshot()
    bad = (
        ("rules", dict(TENANT, name="team-v", role_rules=[{"verbs": ["get"]}]), "rules[0]"),
        ("quota", dict(TENANT, name="team-v", quota={"hard": {"pvcs": "3"}}), "pvcs"),
        ("psa", dict(TENANT, name="team-v", pod_security={"enforce": "restricted", "version": "1.31"}),
         '"latest" or "v1.x"'),
        ("limits", dict(TENANT, name="team-v", limits={"pvc_min": "10Gi", "pvc_max": "1Gi"}),
         "pvc_min 10Gi is greater than pvc_max 1Gi"),
    )
    tasks = (("absent", {"name": "team-a", "state": "absent"}), ("present", TENANT),
             ("reopen", dict(TENANT, name="team-b"))) + tuple((name, args) for name, args, dummy in bad)
    standin.reset_requests()
    play = "\n".join(["- hosts: localhost", "  gather_facts: false", "  tasks:"] + [
        "    - name: %s\n      strata.storage.k8s_tenant_namespace: %s\n      ignore_errors: true"
        % (name, json.dumps(dict(args, kubeconfig=standin.kubeconfig))) for name, args in tasks]) + "\n"
    result = ansible_run(play)
    absent, present, reopen = (result.result(n) for n in ("absent", "present", "reopen"))
    assert absent.get("failed") is not True and absent["changed"] is False, absent
    assert any("team-a is being deleted" in n for n in absent["notes"]), absent
    assert present["failed"] is True
    assert present["msg"].startswith("namespace team-a is being deleted (Terminating since "), present["msg"]
    assert "run again once it is gone" in present["msg"]
    assert reopen["changed"] is True and not reopen.get("failed"), reopen
    assert standin.get("v1", "ResourceQuota", "strata-tenant-closing", "team-b") is None
    team_a = dict((k, v) for k, v in standin.snapshot().items() if k[1] == "team-a" or k[2] == "team-a")
    assert team_a == dict((k, v) for k, v in before.items() if k[1] == "team-a" or k[2] == "team-a")
    assert not [w for w in writes(standin) if "team-a" in w["path"]]
    for name, dummy, words in bad:
        res = result.result(name)
        assert res["failed"] is True and words in res["msg"], (name, res["msg"])
        assert "nothing was changed" in res["msg"], res["msg"]
        assert res["actions"] == []
    assert not [r for r in standin.requests() if "team-v" in r["path"] or "team-v" in json.dumps(r["body"])]


def test_tenant_removal_leaves_no_window_for_a_new_claim(standin, ansible_run):
    """Removing a tenant lists PVs once. A claim created, or a pending claim bound, after that
    list would keep reclaim policy Delete and lose its volume with the namespace. The module
    first stops new claims (a ResourceQuota of persistentvolumeclaims: 0, which quota admission
    enforces: resourcequota/controller.go) and deletes the claims that are not bound yet."""
    seed_managed_namespace(standin, "team-a")
    seed_bound_volume(standin, "team-a", "pv-data", "data", "Delete")
    standin.seed([{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "waiting", "namespace": "team-a"},
                   "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
                            "resources": {"requests": {"storage": "1Gi"}}}, "status": {"phase": "Pending"}}])
    made = []

    def bind(store, claim):
        """What the PV controller does for a claim: provision a Delete volume and bind both."""
        pv_name = "pv-%s" % claim["metadata"]["name"]
        store.seed([{"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": pv_name},
                     "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
                              "persistentVolumeReclaimPolicy": "Delete",
                              "csi": {"driver": "topolvm.io", "volumeHandle": pv_name},
                              "claimRef": {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": "team-a",
                                           "name": claim["metadata"]["name"], "uid": claim["metadata"]["uid"]}},
                     "status": {"phase": "Bound"}}])
        bound = json.loads(json.dumps(claim))
        bound["spec"]["volumeName"] = pv_name
        bound["status"] = {"phase": "Bound"}
        store.seed([bound])
        made.append(pv_name)

    def after_pv_list(store, method, path, query):
        if method != "GET" or path != "/api/v1/persistentvolumes":
            return
        from k8s.apiserver_standin.resources import BY_KIND
        from k8s.apiserver_standin.store import ApiError
        pvcs = BY_KIND[("v1", "PersistentVolumeClaim")]
        try:
            late = store.create(pvcs, "team-a", {"metadata": {"name": "late"}, "spec": {
                "accessModes": ["ReadWriteOnce"], "storageClassName": "fast", "resources": {"requests": {"storage": "1Gi"}}}})
            bind(store, late)
        except ApiError as exc:
            made.append("refused: %s" % exc.message)
        waiting = store.get_object("v1", "PersistentVolumeClaim", "waiting", "team-a")
        if waiting is not None and not waiting["metadata"].get("deletionTimestamp"):
            bind(store, waiting)

    standin.store.add_hook(after_pv_list, after=True, once=False)
    res = run(ansible_run, standin, {"name": "team-a", "state": "absent"})
    assert res["changed"] is True and not res.get("failed"), res
    assert not standin.store.hook_errors, standin.store.hook_errors
    assert made, "the hook never ran"
    assert standin.store.run_controllers() == []
    assert standin.get("v1", "Namespace", "team-a") is None
    survivors = [n for n in made if not n.startswith("refused")]
    for name in ["pv-data"] + survivors:
        pv = standin.get("v1", "PersistentVolume", name)
        assert pv is not None, "%s lost with the namespace (hook made %s)" % (name, made)
        assert pv["status"]["phase"] == "Released"
    assert any("exceeded quota: strata-tenant-closing" in n for n in made), made


def test_tenant_refuses_a_namespace_it_does_not_manage(standin, ansible_run):
    standin.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}])
    for args in (TENANT, {"name": "team-a", "state": "absent"}):
        standin.reset_requests()
        res = run(ansible_run, standin, args)
        assert res["failed"] is True
        assert res["msg"].startswith("namespace team-a exists and is not managed by strata.storage")
        assert "adopt: true" in res["msg"]
        assert writes(standin) == []
    res = run(ansible_run, standin, dict(TENANT, adopt=True))
    assert res["changed"] is True
    assert standin.get("v1", "Namespace", "team-a")["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "strata.storage"


def test_branch_playbook_creates_and_removes_the_branch_namespace(standin_tls, ansible_run):
    # TLS, host + token + CA from the k8s_auth_* variables: the role gets every one of them
    standin = standin_tls
    extra = {"k8s_auth_host": standin.url, "k8s_auth_api_key": standin.token, "k8s_auth_ca_cert": standin.ca_cert,
             "k8s_tenant_branch": "feature/Login_Form",
             "k8s_tenant_branch_prefix": "ci",
             "k8s_tenant_branch_settings": {"group": "developers", "quotas": {"storage": "20Gi", "pvcs": 5}}}
    result = ansible_run(BRANCH_PLAYBOOK, extra)
    assert result.rc == 0, result.stdout[-3000:]
    ns = [n for n in standin.list("v1", "Namespace") if n["metadata"]["name"].startswith("ci-")]
    assert len(ns) == 1
    name = ns[0]["metadata"]["name"]
    assert name.startswith("ci-feature-login-form-") and len(name) == len("ci-feature-login-form-") + 6
    assert ns[0]["metadata"]["annotations"]["strata.storage/branch"] == "feature/Login_Form"
    assert ns[0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert standin.get("v1", "ResourceQuota", "strata-tenant-quota", name)["spec"]["hard"] == {
        "requests.storage": "20Gi", "persistentvolumeclaims": "5"}

    again = ansible_run(BRANCH_PLAYBOOK, extra)
    assert again.rc == 0 and again.changed_tasks() == []

    gone = ansible_run(BRANCH_PLAYBOOK, dict(extra, k8s_tenant_state="absent"))
    assert gone.rc == 0, gone.stdout[-3000:]
    assert standin.get("v1", "Namespace", name)["status"]["phase"] == "Terminating"
    assert standin.store.run_controllers() == []
    assert standin.get("v1", "Namespace", name) is None


def test_storage_playbook_applies_classes_and_tenants(standin_tls, ansible_run):
    # TLS without the CA: only k8s_auth_validate_certs=false, given to the class modules and to
    # the role alike, lets the run reach the stand-in
    standin = standin_tls
    extra = {
        "k8s_auth_host": standin.url, "k8s_auth_api_key": standin.token, "k8s_auth_validate_certs": False,
        "k8s_storage_classes": [{"name": "fast", "provisioner": "topolvm.io", "default": True},
                                {"name": "archive", "provisioner": "nfs.csi.k8s.io", "reclaim_policy": "Retain",
                                 "volume_binding_mode": "Immediate"}],
        "k8s_snapshot_classes": [{"name": "snap", "driver": "topolvm.io", "default": True}],
        "k8s_tenant_tenants": [{"name": "team-b", "group": "b", "pod_security": "baseline",
                                "quotas": {"per_class": {"fast": {"storage": "1Ti"}}}}],
    }
    result = ansible_run(STORAGE_PLAYBOOK, extra)
    assert result.rc == 0, result.stdout[-3000:]
    assert standin.get("storage.k8s.io/v1", "StorageClass", "archive")["reclaimPolicy"] == "Retain"
    assert standin.get("snapshot.storage.k8s.io/v1", "VolumeSnapshotClass", "snap") is not None
    labels = standin.get("v1", "Namespace", "team-b")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert standin.token not in result.stdout + result.stderr + json.dumps(result.records)
    again = ansible_run(STORAGE_PLAYBOOK, extra)
    assert again.rc == 0 and again.changed_tasks() == []
