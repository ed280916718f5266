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
  - O(state=absent) deletes the namespace; before that, every PersistentVolume bound to one of its
    claims whose reclaim policy is C(Delete) is switched to C(Retain), so the PV and its data
    survive as C(Released), unless O(delete_volumes=true). The kept PVs are returned.
  - Updates replace each object with the resourceVersion read (409 on a concurrent change).
    Check mode sends every request with server-side dry run.
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
  - Deleting a namespace is asynchronous in a real cluster (it is C(Terminating) until its
    objects are gone); the module returns once the API accepted the deletion.
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
  description: Each write request sent (with C(dryRun=All) in check mode), in order; never a body.
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
    KINDS, MANAGED_BY, MANAGED_BY_LABEL, Executor, plan_object, pv_summary, tenant_objects, view, volumes_to_keep,
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


def present(module, executor, params):
    ns = params["name"]
    objects = tenant_objects(params)
    live_ns = executor.get(KINDS["Namespace"], ns)
    if live_ns:
        _check_owner(ns, live_ns, params)
    plans = []
    for obj in objects:
        spec = KINDS[obj["kind"]]
        if spec.namespaced:
            live = executor.get(spec, obj["metadata"]["name"], ns) if live_ns else None
            plans.append(plan_object(spec, obj, live, recreate=True, create_sendable=bool(live_ns),
                                     unsent_reason="check mode cannot dry-run objects in namespace %s before it exists" % ns))
        else:
            plans.append(plan_object(spec, obj, live_ns))
    answers = executor.apply_all(plans)
    before, after = {}, {}
    for obj, plan in zip(objects, plans):
        key = _key(obj)
        before[key] = plan.before
        answer = answers.get((plan.spec.kind, plan.namespace, plan.name))
        after[key] = view(answer) if answer else plan.after
    return plans, before, after, {}


def absent(module, executor, params):
    ns = params["name"]
    live_ns = executor.get(KINDS["Namespace"], ns)
    if not live_ns:
        return [], {}, {}, {"kept_volumes": [], "deleted_volumes": []}
    _check_owner(ns, live_ns, params)
    pv_spec = KINDS["PersistentVolume"]
    to_patch, kept = volumes_to_keep(ns, executor.list(pv_spec))
    plans, kept_report, deleted_report = [], [pv_summary(pv) for pv in kept], []
    if params["delete_volumes"]:
        deleted_report = [pv_summary(pv) for pv in to_patch]
    else:
        for pv in to_patch:
            plan = plan_object(pv_spec, {"metadata": {"name": pv["metadata"]["name"]},
                                         "spec": {"persistentVolumeReclaimPolicy": "Retain"}}, pv)
            claim = pv["spec"].get("claimRef") or {}
            for step in plan.steps:
                step.description = "keep PV %s of claim %s/%s: reclaim policy Delete -> Retain" % (
                    pv["metadata"]["name"], ns, claim.get("name"))
            plans.append(plan)
            kept_report.append(pv_summary(pv, policy="Delete"))
    plans.append(plan_object(KINDS["Namespace"], {"metadata": {"name": ns}}, live_ns, state="absent"))
    executor.apply_all(plans)
    before = {"Namespace/%s" % ns: view(live_ns)}
    return plans, before, {}, {"kept_volumes": kept_report, "deleted_volumes": deleted_report}


def body(module, runner):
    params = module.params
    executor = Executor(api_client(params), module.check_mode, runner.actions, runner.reads)
    if params["state"] == "present":
        plans, before, after, extra = present(module, executor, params)
        extra.update(kept_volumes=[], deleted_volumes=[])
    else:
        plans, before, after, extra = absent(module, executor, params)
    steps = [s for p in plans for s in p.steps]
    plan = Plan(actions=steps, before=before, after=after, notes=sorted(set(executor.notes)))
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
    )
    argument_spec.update(AUTH_ARG_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    require_client(module)
    run_module(module, body)


if __name__ == "__main__":
    main()
