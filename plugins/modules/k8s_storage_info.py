#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_storage_info
short_description: Report PersistentVolumes, PersistentVolumeClaims and StorageClasses with the relations between them
version_added: 0.1.0
description:
  - Reads a cluster's storage objects and reports, in one result, capacity requested and bound
    per namespace and per StorageClass, PVCs that are pending and why (from their newest
    event), Released and Failed PVs, PVs whose claim is gone, which pods mount which PVC, PVCs
    no pod uses, PVCs naming a class that does not exist, and which class is the default.
  - With O(stale_days), adds the C(stale) section that the cleanup playbook acts on (Released
    PVs and unused PVCs older than that; the rules are in the notes).
  - Fast on large clusters. It lists each kind once, following the API's pagination (O(page_size)
    objects per call), and never asks for one object at a time. The RV(api_calls) return value
    counts the calls made for each kind.
  - Read-only. It never changes the cluster, so C(changed) is always false.
author:
  - strata.storage maintainers (@strata-storage)
options:
  namespaces:
    description:
      - Limit the namespaced parts of the report (PVCs, pods, events, and the PVs whose claim is
        in these namespaces) to these namespaces. StorageClasses and PVs are cluster-scoped and
        are always listed whole.
      - With up to 10 namespaces, PVCs, pods and events are listed per namespace (3 list
        calls per namespace, plus more pages if needed). This works with namespace-scoped
        RBAC and reads only those namespaces. With more than 10, each kind is listed once for
        all namespaces and filtered here, which keeps the call count fixed.
      - Left out, the whole cluster is reported.
    type: list
    elements: str
  stale_days:
    description:
      - Add the C(stale) section with the Released PVs and unused PVCs that are stale after
        this many days (see the notes).
    type: int
  include:
    description:
      - Which sections to return. All are returned by default.
      - V(stale) is returned only when O(stale_days) is set.
    type: list
    elements: str
    choices: [summary, namespaces, classes, pending_pvcs, released_pvs, failed_pvs, orphaned_pvs,
              pod_mounts, unused_pvcs, missing_class_pvcs, stale]
  page_size:
    description:
      - Objects per list call (the API's C(limit)). Larger pages mean fewer calls but
        bigger responses.
    type: int
    default: 500
extends_documentation_fragment:
  - strata.storage.k8s_auth
  - strata.storage.action_groups.k8s
attributes:
  check_mode:
    support: full
    description:
      - The module only reads, so it runs the same in check mode.
  diff_mode:
    support: none
    description:
      - Nothing changes, so there is nothing to show.
  platform:
    support: full
    platforms: posix
    description:
      - Runs where the C(kubernetes) Python client is installed, usually the controller.
notes:
  - "RBAC: C(list) on persistentvolumes, storageclasses (cluster), and persistentvolumeclaims,
    pods and events (all namespaces, or the named ones)."
  - "A PVC is B(used) when a pod names it in C(spec.volumes[].persistentVolumeClaim.claimName),
    or owns it as a generic ephemeral volume (PVC C(<pod>-<volume>)), and the pod has not
    finished (Pending pods count) or is scheduled to a node, finished or not: Kubernetes keeps a
    claim a scheduled pod names (the C(kubernetes.io/pvc-protection) finalizer) until that pod is
    deleted, so a finished Job's pod that still exists keeps its claim in use."
  - "A Released PV is B(stale) when it has been Released for O(stale_days) or more. The time is
    measured from C(status.lastPhaseTransitionTime), which Kubernetes sets from 1.31 on. Older
    clusters do not set it, so the PV's C(creationTimestamp) is used instead, and the entry says
    so in C(since_source)."
  - "A PVC is B(stale) when no pod uses it, it was created O(stale_days) or more ago, and no pod
    that references it, finished pods included, started within O(stale_days). Kubernetes keeps no
    last-used time, so a PVC whose last pod is gone is judged by its age alone."
  - "A PV's claim is B(gone) when its C(claimRef) has a uid, and no PVC of that namespace and name
    exists or the one that exists has another uid (a re-created PVC is a different claim). A
    claimRef without a uid is a pre-binding reservation and is not reported."
seealso:
  - module: strata.storage.k8s_storage_cleanup
  - name: Storage reports and cleanup (docs/k8s_reports.md in the collection)
    description: What each section means, the staleness rules, API call counts measured.
    link: https://github.com/strata-storage/strata.storage/blob/main/docs/k8s_reports.md
"""

EXAMPLES = r"""
- name: Storage report of the whole cluster
  strata.storage.k8s_storage_info:
    kubeconfig: ~/.kube/config
  register: storage

- name: Pending PVCs and why
  ansible.builtin.debug:
    msg: "{{ storage.pending_pvcs | map(attribute='reason') | list }}"

- name: What is stale after 30 days, for two namespaces only
  strata.storage.k8s_storage_info:
    namespaces: [team-a, team-b]
    stale_days: 30
    include: [summary, stale]
  register: stale
"""

RETURN = r"""
api_calls:
  description:
    - List calls made per kind, and their total. It equals the sum, over the kinds, of
      ceil(objects / O(page_size)), with at least one call per kind. Per-namespace listing
      costs that per namespace.
  returned: always
  type: dict
  sample: {persistentvolumes: 10, persistentvolumeclaims: 10, storageclasses: 1, pods: 1, events: 1, total: 23}
generated_at:
  description: When the report was made (UTC). Ages and staleness are measured from this time.
  returned: always
  type: str
  sample: "2026-11-20T10:00:00Z"
summary:
  description: Counts and totals.
  returned: when included
  type: dict
  contains:
    pvs: {description: PVs in the report., type: int}
    pvcs: {description: PVCs in the report., type: int}
    storageclasses: {description: StorageClasses in the cluster., type: int}
    pods_with_pvcs: {description: Pods that reference at least one PVC., type: int}
    namespaces: {description: Namespaces that hold PVCs., type: int}
    requested_bytes: {description: Sum of the PVCs' C(spec.resources.requests.storage)., type: int}
    bound_bytes: {description: Sum of the capacity of the PVs bound to those PVCs., type: int}
    pending_pvcs: {description: Number of pending PVCs., type: int}
    released_pvs: {description: Number of Released PVs., type: int}
    failed_pvs: {description: Number of Failed PVs., type: int}
    orphaned_pvs: {description: Number of PVs whose claim is gone., type: int}
    unused_pvcs: {description: Number of PVCs no pod uses., type: int}
    missing_class_pvcs: {description: Number of PVCs naming a class that does not exist., type: int}
    default_classes: {description: Names of the classes marked default (more than one is a misconfiguration)., type: list, elements: str}
namespaces:
  description:
    - Per namespace, the PVC count, bytes requested and bound, pending count, and the same
      split per class (key C("") means no class).
  returned: when included
  type: dict
  sample: {team-a: {pvcs: 2, requested_bytes: 2147483648, bound_bytes: 1073741824, pending: 1,
           classes: {fast: {pvcs: 2, requested_bytes: 2147483648, bound_bytes: 1073741824}}}}
classes:
  description: Every StorageClass with its settings, whether it is default, and its PV and PVC counts and bytes.
  returned: when included
  type: list
  elements: dict
  contains:
    name: {description: Class name., type: str}
    provisioner: {description: Provisioner., type: str}
    reclaim_policy: {description: Reclaim policy (API default Delete)., type: str}
    volume_binding_mode: {description: Binding mode (API default Immediate)., type: str}
    allow_volume_expansion: {description: Whether PVCs may grow., type: bool}
    default: {description: Whether the class carries the default-class annotation., type: bool}
    pvs: {description: PVs of this class., type: int}
    pvcs: {description: PVCs asking for this class., type: int}
    requested_bytes: {description: Bytes those PVCs request., type: int}
    bound_bytes: {description: Capacity of the PVs bound to those PVCs., type: int}
classes_not_defined:
  description: Class names used by PVs or PVCs that are not StorageClasses (C("") is no class), with the same counts.
  returned: when classes are included
  type: dict
pending_pvcs:
  description:
    - Pending PVCs and why. C(reason) and C(message) come from the PVC's newest event (for
      example ProvisioningFailed, WaitForFirstConsumer, ExternalProvisioning), or are
      C(no events).
  returned: when included
  type: list
  elements: dict
  sample: [{namespace: team-a, name: data, class: fast, requested_bytes: 1073741824, reason: ProvisioningFailed,
            message: "no space left", event_type: Warning, event_time: "2026-11-20T09:00:00Z", event_count: 3,
            created: "2026-11-20T08:00:00Z", age_days: 0.08}]
released_pvs:
  description:
    - Released PVs. Each entry has name, phase, class, capacity_bytes, reclaim_policy, claim
      (namespace, name, uid), since and since_source (see the notes), days_in_phase, and ref
      (name, uid, resource_version).
  returned: when included
  type: list
  elements: dict
failed_pvs:
  description: Failed PVs, with the same keys as RV(released_pvs) plus C(message) when the API gives one.
  returned: when included
  type: list
  elements: dict
orphaned_pvs:
  description: PVs whose claim is gone, in any phase, with the keys of RV(released_pvs) plus C(reason).
  returned: when included
  type: list
  elements: dict
pod_mounts:
  description: Pods that reference PVCs, with phase, node, start_time, the PVC names, and missing_pvcs (names that do not exist).
  returned: when included
  type: list
  elements: dict
unused_pvcs:
  description:
    - PVCs no pod uses (see the notes), with namespace, name, phase, class, volume,
      requested_bytes, created, age_days, last_pod_start (newest start of a finished pod that
      referenced it), and ref (namespace, name, uid, resource_version).
  returned: when included
  type: list
  elements: dict
missing_class_pvcs:
  description: PVCs naming a StorageClass that does not exist.
  returned: when included
  type: list
  elements: dict
stale:
  description: What the cleanup acts on. See the notes for the rules.
  returned: when O(stale_days) is set and the section is included
  type: dict
  contains:
    days: {description: O(stale_days)., type: int}
    cutoff: {description: Objects older than this time count as stale., type: str}
    released_pvs: {description: "Stale Released PVs (keys of RV(released_pvs), plus class_reclaim_policy and retain: true when the PV or its
                   class has reclaim policy Retain).", type: list, elements: dict}
    pvcs: {description: Stale PVCs (keys of RV(unused_pvcs))., type: list, elements: dict}
    pv_names: {description: "Names of the stale PVs, sorted.", type: list, elements: str}
    pvc_names: {description: "C(namespace/name) of the stale PVCs, sorted.", type: list, elements: str}
    since_fallbacks: {description: Stale PVs judged by creationTimestamp because the server did not set lastPhaseTransitionTime., type: list, elements: str}
"""

import datetime

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.k8s import client as k8s, report as k8s_report
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import run_module

# Up to this many named namespaces, namespaced kinds are listed per namespace.
PER_NAMESPACE_LIMIT = 10
PVC_EVENTS = "involvedObject.kind=PersistentVolumeClaim"


def read_cluster(client, namespaces=None, page_size=k8s.LIST_PAGE_SIZE):
    """Every object the report needs, one paginated list per kind (per namespace when few are
    named). Returns (objects by kind, calls by kind)."""
    from kubernetes import client as kclient

    core = kclient.CoreV1Api(client)
    storage = kclient.StorageV1Api(client)
    host = getattr(getattr(client, "configuration", None), "host", None)
    objects, calls = {}, {}

    def fetch(kind, fn, what, **kwargs):
        items, n = k8s.list_all(fn, what, page_size=page_size, host=host, **kwargs)
        objects.setdefault(kind, []).extend(items)
        calls[kind] = calls.get(kind, 0) + n

    fetch("persistentvolumes", core.list_persistent_volume, "PersistentVolumes")
    fetch("storageclasses", storage.list_storage_class, "StorageClasses")
    if namespaces and len(namespaces) <= PER_NAMESPACE_LIMIT:
        for namespace in namespaces:
            fetch("persistentvolumeclaims", core.list_namespaced_persistent_volume_claim,
                  "PersistentVolumeClaims in namespace %s" % namespace, namespace=namespace)
            fetch("pods", core.list_namespaced_pod, "Pods in namespace %s" % namespace, namespace=namespace)
            fetch("events", core.list_namespaced_event, "PVC events in namespace %s" % namespace,
                  namespace=namespace, field_selector=PVC_EVENTS)
    else:
        fetch("persistentvolumeclaims", core.list_persistent_volume_claim_for_all_namespaces, "PersistentVolumeClaims")
        fetch("pods", core.list_pod_for_all_namespaces, "Pods")
        fetch("events", core.list_event_for_all_namespaces, "PVC events", field_selector=PVC_EVENTS)
    return objects, calls


def body(module, _runner):
    params = module.params
    if params["page_size"] < 1:
        module.fail_json(msg="page_size must be 1 or more, got %s" % params["page_size"])
    if params["stale_days"] is not None and params["stale_days"] < 0:
        module.fail_json(msg="stale_days must be 0 or more, got %s" % params["stale_days"])
    client = k8s.api_client(params)
    objects, calls = read_cluster(client, params["namespaces"], params["page_size"])
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    report = k8s_report.build_report(
        objects["persistentvolumes"], objects["persistentvolumeclaims"], objects["storageclasses"],
        objects["pods"], objects["events"], now, stale_days=params["stale_days"],
        namespaces=params["namespaces"], include=params["include"])
    if len((report.get("summary") or {}).get("default_classes") or []) > 1:
        module.warn("more than one StorageClass is marked default: %s" % ", ".join(report["summary"]["default_classes"]))
    module.exit_json(changed=False, api_calls=k8s_report.count_calls(calls),
                     generated_at=k8s_report.format_time(now), **report)


def main():
    argument_spec = dict(
        namespaces=dict(type="list", elements="str"),
        stale_days=dict(type="int"),
        include=dict(type="list", elements="str", choices=list(k8s_report.SECTIONS)),
        page_size=dict(type="int", default=k8s.LIST_PAGE_SIZE),
    )
    argument_spec.update(k8s.AUTH_ARG_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    k8s.require_client(module)
    run_module(module, body)


if __name__ == "__main__":
    main()
