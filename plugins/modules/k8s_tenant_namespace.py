#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_tenant_namespace
short_description: A tenant's Kubernetes namespace with storage quotas, limits, RBAC, network policies and Pod Security
version_added: 0.1.0
description:
  - Applies, in one call, everything a tenant namespace needs
    (all labelled C(app.kubernetes.io/managed-by=strata.storage) and C(strata.storage/tenant=<tenant>)).
  - The Namespace, with Pod Security Admission labels (C(pod-security.kubernetes.io/enforce|audit|warn)
    and their C(-version)).
  - A ResourceQuota C(strata-tenant-quota) with total storage and PVC count and per-StorageClass
    limits (C(<class>.storageclass.storage.k8s.io/requests.storage) and
    C(<class>.storageclass.storage.k8s.io/persistentvolumeclaims)) plus any other hard limits.
  - A LimitRange C(strata-tenant-limits) (PVC min/max size, container defaults).
  - A Role and RoleBinding C(strata-tenant) giving the tenant's group what it needs in the namespace.
  - NetworkPolicies C(strata-default-deny) (ingress, and egress with O(deny_egress)) and
    C(strata-allow-tenant-traffic) (traffic within the namespace and from O(allowed_namespaces)).
  - "O(state=absent) removes the tenant in this order, so that no volume escapes being kept.
    (1) A ResourceQuota C(strata-tenant-closing) with C(persistentvolumeclaims: 0) stops new
    claims (the module waits until the API server enforces it).
    (2) Claims not bound yet are deleted (they hold no data; a volume provisioned for one later
    would otherwise go with the namespace).
    (3) Every PersistentVolume bound to one of its claims whose reclaim policy is C(Delete) is
    switched to C(Retain), so the PV and its data survive as C(Released), unless
    O(delete_volumes=true); the kept PVs are returned.
    (4) The namespace is deleted. Deletion is asynchronous: the namespace is C(Terminating) until
    Kubernetes has removed everything in it; O(wait) waits for that."
  - A namespace that is already C(Terminating) is left alone - O(state=absent) reports no change
    (and waits with O(wait)), O(state=present) fails saying so, since nothing can be created in
    it.
  - Input the API server would refuse is refused before the first request - Role rules without
    verbs, apiGroups or resources, quota keys that are not quota resources, negative or fractional
    counts, Pod Security levels and versions other than C(privileged|baseline|restricted) and
    C(latest|v1.N), LimitRange bounds out of order (min above max, default above max...),
    container limits on what is no container resource (C(storage)) or no quantity, and an extended
    resource's default request other than its default.
  - Updates replace each object with the resourceVersion read; a concurrent change (409) is read
    again and planned again (at most 3 times). Check mode sends every request as a server-side
    dry run.
author:
  - strata.storage maintainers (@strata-storage)
options:
  name:
    description: Namespace name (a DNS-1123 label). For branch environments use the P(strata.storage.k8s_namespace_name#filter) filter.
    type: str
    required: true
  tenant:
    description: Tenant name for the C(strata.storage/tenant) label. Defaults to O(name).
    type: str
  state:
    description: V(present) creates or updates the tenant; V(absent) removes it (see O(delete_volumes)).
    type: str
    choices: [present, absent]
    default: present
  adopt:
    description:
      - Take over an existing namespace that is not labelled C(app.kubernetes.io/managed-by=strata.storage)
        (it gets the labels). Without it, such a namespace is refused, for O(state=present) and
        O(state=absent) alike, so a name collision never touches someone else's namespace.
    type: bool
    default: false
  labels:
    description: Extra namespace labels (others on the namespace are kept; null removes one).
    type: dict
  annotations:
    description: Namespace annotations (others are kept; null removes one).
    type: dict
  pod_security:
    description:
      - Pod Security Admission levels. Left out, the namespace's labels stay as they are.
    type: dict
    suboptions:
      enforce:
        description: Level enforced.
        type: str
        choices: [privileged, baseline, restricted]
      audit:
        description: Level audited.
        type: str
        choices: [privileged, baseline, restricted]
      warn:
        description: Level warned about.
        type: str
        choices: [privileged, baseline, restricted]
      version:
        description: Policy version for every given mode (V(latest) or for example V(v1.31)).
        type: str
  quota:
    description:
      - Storage quota. The ResourceQuota holds exactly these limits (a limit removed here is removed).
        Left out, an existing quota is kept as it is.
    type: dict
    suboptions:
      storage:
        description: Total requested storage of all PVCs (C(requests.storage)), for example V(500Gi).
        type: str
      pvcs:
        description: Number of PVCs (C(persistentvolumeclaims)).
        type: int
      per_class:
        description:
          - "Per StorageClass limits, C({<class>: {storage: 100Gi, pvcs: 10}}). V(0) forbids a class."
        type: dict
      hard:
        description: 'Any other ResourceQuota hard limits, for example C({requests.cpu: "8", pods: "50"}).'
        type: dict
  limits:
    description: LimitRange. Left out, an existing one is kept.
    type: dict
    suboptions:
      pvc_min:
        description: Smallest PVC size.
        type: str
      pvc_max:
        description: Largest PVC size.
        type: str
      container_default:
        description: "Default container limits, for example C({cpu: 500m, memory: 512Mi})."
        type: dict
      container_default_request:
        description: Default container requests.
        type: dict
      container_max:
        description: Largest container limits.
        type: dict
  group:
    description: Group (as the API server's authenticator names it) bound to the tenant Role. Left out, no Role is managed.
    type: str
  role_rules:
    description:
      - RBAC rules of the tenant Role, as in the API. Default - manage pods (exec, logs,
        port-forward), services, configmaps, secrets, PVCs, service accounts, deployments,
        statefulsets, daemonsets, jobs, cronjobs, HPAs, PDBs, ingresses, volume snapshots; read
        events, quotas, limit ranges and network policies (so the tenant cannot lift the deny).
    type: list
    elements: dict
  network_policy:
    description: Manage the two NetworkPolicies. V(false) leaves network policies alone.
    type: bool
    default: true
  allowed_namespaces:
    description:
      - Namespaces whose pods may reach this namespace's pods (selected by their
        C(kubernetes.io/metadata.name) label), for example an ingress controller or monitoring.
        Pods in the namespace may always reach each other.
    type: list
    elements: str
    default: []
  deny_egress:
    description:
      - Also deny egress by default, allowing only traffic to the namespace itself, to
        O(allowed_namespaces) and DNS (port 53) in C(kube-system). Off by default, as most
        workloads need to reach services outside; ingress is always denied by default.
    type: bool
    default: false
  delete_volumes:
    description:
      - With O(state=absent), let the namespace's PVs with reclaim policy C(Delete) be deleted
        with their data. Without it they are switched to C(Retain) first and kept.
    type: bool
    default: false
  wait:
    description:
      - With O(state=absent), return only once the namespace is gone (Kubernetes deletes what is
        in it first; finalizers, for example a claim a pod still uses, can hold it).
    type: bool
    default: false
  wait_timeout:
    description: How many seconds O(wait) waits at most; then the module fails naming what holds the namespace.
    type: int
    default: 120
  wait_sleep:
    description: The longest pause, in seconds, between two checks while waiting.
    type: int
    default: 5
extends_documentation_fragment:
  - strata.storage.k8s_auth
  - strata.storage.attributes
  - strata.storage.action_groups.k8s
attributes:
  platform:
    platforms: posix
    description:
      - Any host with the C(kubernetes) Python client that can reach the API server, usually the controller.
notes:
  - Network policies need a CNI that enforces them (Calico, Cilium, ...).
  - Deleting a namespace is asynchronous (it is C(Terminating) until its objects are gone); the
    module returns once the API accepted the deletion, or with O(wait) once it is gone.
  - A removal that fails after step 1 leaves the C(strata-tenant-closing) quota (no new claims);
    running O(state=absent) again finishes it, O(state=present) removes that quota again.
  - The credentials need to create Roles with the permissions they grant (RBAC escalation check).
seealso:
  - module: strata.storage.k8s_storageclass
"""

EXAMPLES = r"""
- name: Tenant team-a with storage quota per class
  strata.storage.k8s_tenant_namespace:
    name: team-a
    group: team-a-devs
    pod_security: {enforce: restricted, audit: restricted, warn: restricted, version: latest}
    quota:
      storage: 500Gi
      pvcs: 20
      per_class:
        fast: {storage: 100Gi, pvcs: 5}
        archive: {storage: 0, pvcs: 0}
    limits: {pvc_min: 1Gi, pvc_max: 200Gi}
    allowed_namespaces: [ingress-nginx, monitoring]

- name: Remove the tenant, keeping its volumes (they become Released with reclaim policy Retain)
  strata.storage.k8s_tenant_namespace:
    name: team-a
    state: absent
    wait: true
"""

RETURN = r"""
namespace:
  description: Name of the namespace.
  returned: always
  type: str
  sample: team-a
objects:
  description: The objects of the tenant after the run (as the API (or its dry run) answered, or predicted), by C(Kind/name).
  returned: always
  type: dict
  sample: {"Namespace/team-a": {}, "ResourceQuota/strata-tenant-quota": {}}
kept_volumes:
  description:
    - With O(state=absent), the PVs of the namespace that stay (switched to C(Retain) in this run,
      or already C(Retain)), with their claim, class, capacity and the reclaim policy they had.
  returned: always
  type: list
  elements: dict
  sample: [{name: pvc-1a2b, claim: team-a/data, storage_class: fast, capacity: 10Gi, reclaim_policy: Delete}]
deleted_volumes:
  description: With O(delete_volumes=true), the PVs with reclaim policy C(Delete) that go with the namespace.
  returned: always
  type: list
  elements: dict
actions:
  description: Each write request sent (as a server-side dry run in check mode), in order; never a body.
  returned: always
  type: list
  elements: dict
reads:
  description: The read requests made, as [method, path].
  returned: always
  type: list
  elements: list
notes:
  description: Decisions worth knowing (for example requests check mode could not dry-run).
  returned: when there are any
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.k8s.client import AUTH_ARG_SPEC, api_client, require_client
from ansible_collections.strata.storage.plugins.module_utils.k8s.apply import (
    CLOSING_QUOTA, KINDS, MANAGED_BY, MANAGED_BY_LABEL, TENANT_LABEL, Executor, delete_body, plan_object, pv_summary,
    retry_on_conflict, tenant_objects, view, volumes_to_keep, Step,
)
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import finish, run_module
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan


def _key(obj):
    return "%s/%s" % (obj["kind"], obj["metadata"]["name"])


def _check_owner(ns, live, params):
    labels = (live.get("metadata") or {}).get("labels") or {}
    if labels.get(MANAGED_BY_LABEL) != MANAGED_BY and not params["adopt"]:
        raise StrataError("namespace %s exists and is not managed by strata.storage (label %s=%s is missing); nothing was changed"
                          % (ns, MANAGED_BY_LABEL, MANAGED_BY),
                          hint="set adopt: true to take it over, or choose another name")


def _terminating_since(live):
    return (live.get("metadata") or {}).get("deletionTimestamp")


def _closing_quota(ns, tenant):
    return {"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": CLOSING_QUOTA, "namespace": ns,
                         "labels": {MANAGED_BY_LABEL: MANAGED_BY, TENANT_LABEL: tenant}},
            "spec": {"hard": {"persistentvolumeclaims": "0"}}}


def present(module, executor, params):
    ns = params["name"]
    objects = tenant_objects(params)   # refuses bad input before any request
    live_ns = executor.get(KINDS["Namespace"], ns)
    if live_ns:
        _check_owner(ns, live_ns, params)
        if _terminating_since(live_ns):
            # NamespaceLifecycle admission refuses anything new in it (403)
            raise StrataError("namespace %s is being deleted (Terminating since %s); nothing was changed"
                              % (ns, _terminating_since(live_ns)),
                              hint="run again once it is gone; state absent with wait: true waits for that")
    plans = []
    for obj in objects:
        spec = KINDS[obj["kind"]]
        if spec.namespaced:
            live = executor.get(spec, obj["metadata"]["name"], ns) if live_ns else None
            plans.append(plan_object(spec, obj, live, recreate=True, create_sendable=bool(live_ns),
                                     unsent_reason="check mode cannot dry-run objects in namespace %s before it exists" % ns))
        else:
            plans.append(plan_object(spec, obj, live_ns))
    if live_ns:
        # a removal that failed half-way leaves its closing quota: the tenant is wanted again
        quota = KINDS["ResourceQuota"]
        closing = executor.get(quota, CLOSING_QUOTA, ns)
        if closing and ((closing.get("metadata") or {}).get("labels") or {}).get(MANAGED_BY_LABEL) == MANAGED_BY:
            plan = plan_object(quota, {"metadata": {"name": CLOSING_QUOTA, "namespace": ns}}, closing, state="absent")
            for step in plan.steps:
                step.description = "delete ResourceQuota %s/%s left by an unfinished removal (it blocks new claims)" % (
                    ns, CLOSING_QUOTA)
            plans.append(plan)
    answers = executor.apply_all(plans)
    before, after = {}, {}
    for plan in plans:
        key = "%s/%s" % (plan.spec.kind, plan.name)
        before[key] = plan.before
        answer = answers.get((plan.spec.kind, plan.namespace, plan.name))
        after[key] = view(answer) if answer else plan.after
    return plans, before, after, {}


def _wait_quota_enforced(executor, ns, timeout=30):
    """Quota admission enforces status.hard, which the resource quota controller fills in after
    the quota is created (staging/src/k8s.io/apiserver/pkg/admission/plugin/resourcequota/
    controller.go): wait for it, so that the volumes listed next are all there will be."""
    import time
    quota = KINDS["ResourceQuota"]
    deadline, delay = time.time() + timeout, 0.1
    while True:
        live = executor.get(quota, CLOSING_QUOTA, ns)
        if "persistentvolumeclaims" in (((live or {}).get("status") or {}).get("hard") or {}):
            return
        if time.time() >= deadline:
            raise StrataError("namespace %s: the ResourceQuota %s that stops new claims is not enforced after %d seconds "
                              "(its status.hard is empty); the namespace was not deleted" % (ns, CLOSING_QUOTA, timeout),
                              hint="is kube-controller-manager (the resource quota controller) running? run again")
        time.sleep(delay)
        delay = min(delay * 2, 2)


def _keep_volume(executor, pv, ns):
    """Switch one PV to reclaim policy Retain: first on the listed object, after a conflict (409)
    on a fresh read. Returns the plan, or None when the PV is gone."""
    pv_spec = KINDS["PersistentVolume"]
    attempts = []

    def keep():
        live = executor.get(pv_spec, pv["metadata"]["name"]) if attempts else pv
        attempts.append(live)
        if live is None:
            return None
        plan = plan_object(pv_spec, {"metadata": {"name": pv["metadata"]["name"]},
                                     "spec": {"persistentVolumeReclaimPolicy": "Retain"}}, live)
        claim = pv["spec"].get("claimRef") or {}
        for step in plan.steps:
            step.description = "keep PV %s of claim %s/%s: reclaim policy Delete -> Retain" % (
                pv["metadata"]["name"], ns, claim.get("name"))
        executor.apply_all([plan])
        return plan

    return retry_on_conflict(keep, "PV %s" % pv["metadata"]["name"], executor.notes, executor)


def _delete_namespace(executor, live_ns, params):
    """Delete the namespace with uid/resourceVersion preconditions; after a conflict (someone
    changed it since it was read) read it again, check it is still ours, and try again."""
    ns = params["name"]
    attempts = []

    def delete():
        live = executor.get(KINDS["Namespace"], ns) if attempts else live_ns
        attempts.append(live)
        if live is None or _terminating_since(live):
            return None
        _check_owner(ns, live, params)
        plan = plan_object(KINDS["Namespace"], {"metadata": {"name": ns}}, live, state="absent")
        executor.apply_all([plan])
        return plan

    return retry_on_conflict(delete, "namespace %s" % ns, executor.notes, executor)


def absent(module, executor, params):
    ns = params["name"]
    nothing = {"kept_volumes": [], "deleted_volumes": []}
    live_ns = executor.get(KINDS["Namespace"], ns)
    if not live_ns:
        return [], {}, {}, nothing
    _check_owner(ns, live_ns, params)
    before = {"Namespace/%s" % ns: view(live_ns)}
    if _terminating_since(live_ns):
        executor.notes.append("namespace %s is being deleted (Terminating since %s); nothing to do"
                              % (ns, _terminating_since(live_ns)))
        if params["wait"] and not module.check_mode:
            executor.wait_gone(KINDS["Namespace"].path(ns), "namespace %s" % ns, params["wait_timeout"],
                               params["wait_sleep"])
        return [], before, {}, nothing
    quota_spec, pvc_spec, pv_spec = KINDS["ResourceQuota"], KINDS["PersistentVolumeClaim"], KINDS["PersistentVolume"]
    plans = []
    # 1. stop new claims, so that no volume appears after the volumes are listed
    closing = plan_object(quota_spec, _closing_quota(ns, params.get("tenant") or ns),
                          executor.get(quota_spec, CLOSING_QUOTA, ns))
    for step in closing.steps:
        step.description = "stop new claims in namespace %s: ResourceQuota %s with persistentvolumeclaims 0" % (
            ns, CLOSING_QUOTA)
    executor.apply_all([closing])
    plans.append(closing)
    if not module.check_mode:
        _wait_quota_enforced(executor, ns)
    # 2. claims not bound yet could still get a volume (with the class's reclaim policy) after
    #    the list: delete them first; they hold no data. Preconditions refuse one that was bound
    #    in between (409), which the list below then finds.
    if not params["delete_volumes"]:
        for claim in executor.list(pvc_spec, ns):
            meta = claim.get("metadata") or {}
            if meta.get("deletionTimestamp") or (claim.get("spec") or {}).get("volumeName"):
                continue
            step = Step("delete claim %s/%s, not bound yet, so no volume is provisioned for it after the volumes are "
                        "listed" % (ns, meta.get("name")), "DELETE", pvc_spec.path(meta.get("name"), ns),
                        delete_body(dict(claim, metadata=dict(meta, namespace=ns))), name=meta.get("name"))
            plan = plan_object(pvc_spec, {"metadata": {"name": meta.get("name"), "namespace": ns}}, None, state="absent")
            plan.steps = [step]
            try:
                executor.apply_all([plan])
            except StrataError as exc:
                if exc.rc not in (404, 409):
                    raise
            plans.append(plan)
    # 3. keep the volumes: every PV of the namespace's claims with reclaim policy Delete -> Retain
    to_patch, kept = volumes_to_keep(ns, executor.list(pv_spec))
    kept_report, deleted_report = [pv_summary(pv) for pv in kept], []
    if params["delete_volumes"]:
        deleted_report = [pv_summary(pv) for pv in to_patch]
    else:
        for pv in to_patch:
            plan = _keep_volume(executor, pv, ns)
            if plan is not None:
                plans.append(plan)
                kept_report.append(pv_summary(pv, policy="Delete"))
    # 4. the namespace; the namespace controller deletes what is in it
    plan = _delete_namespace(executor, live_ns, params)
    if plan is not None:
        plans.append(plan)
    if params["wait"] and not module.check_mode:
        executor.wait_gone(KINDS["Namespace"].path(ns), "namespace %s" % ns, params["wait_timeout"], params["wait_sleep"])
    return plans, before, {}, {"kept_volumes": kept_report, "deleted_volumes": deleted_report}


def body(module, runner):
    params = module.params
    executor = Executor(api_client(params), module.check_mode, runner.actions, runner.reads)
    notes = []
    if params["state"] == "present":
        plans, before, after, extra = retry_on_conflict(lambda: present(module, executor, params),
                                                        "namespace %s" % params["name"], notes, executor)
        extra.update(kept_volumes=[], deleted_volumes=[])
    else:
        plans, before, after, extra = absent(module, executor, params)
    plan = Plan(actions=executor.done, before=before, after=after, notes=sorted(set(executor.notes + notes)))
    finish(module, runner, plan, namespace=params["name"], objects=after, **extra)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        tenant=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        adopt=dict(type="bool", default=False),
        labels=dict(type="dict"),
        annotations=dict(type="dict"),
        pod_security=dict(type="dict", options=dict(
            enforce=dict(type="str", choices=["privileged", "baseline", "restricted"]),
            audit=dict(type="str", choices=["privileged", "baseline", "restricted"]),
            warn=dict(type="str", choices=["privileged", "baseline", "restricted"]),
            version=dict(type="str"),
        )),
        quota=dict(type="dict", options=dict(
            storage=dict(type="str"),
            pvcs=dict(type="int"),
            per_class=dict(type="dict"),
            hard=dict(type="dict"),
        )),
        limits=dict(type="dict", options=dict(
            pvc_min=dict(type="str"),
            pvc_max=dict(type="str"),
            container_default=dict(type="dict"),
            container_default_request=dict(type="dict"),
            container_max=dict(type="dict"),
        )),
        group=dict(type="str"),
        role_rules=dict(type="list", elements="dict"),
        network_policy=dict(type="bool", default=True),
        allowed_namespaces=dict(type="list", elements="str", default=[]),
        deny_egress=dict(type="bool", default=False),
        delete_volumes=dict(type="bool", default=False),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=120),
        wait_sleep=dict(type="int", default=5),
    )
    argument_spec.update(AUTH_ARG_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    require_client(module)
    run_module(module, body)


if __name__ == "__main__":
    main()
