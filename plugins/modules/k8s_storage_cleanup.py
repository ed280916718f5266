#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_storage_cleanup
short_description: Delete the PersistentVolumes and PersistentVolumeClaims it is given, with guards
version_added: 0.1.0
description:
  - Deletes the PVs and PVCs it is given, usually the C(stale) section of
    M(strata.storage.k8s_storage_info) (each entry's C(ref)). Nothing is deleted unless
    O(delete=true). Without it, the module only checks the guards and reports what it would
    delete.
  - Before deleting, it reads each object again. An object that changed since the report
    (another uid or resourceVersion than the one given) is skipped and reported in
    RV(refused). The delete request carries DeleteOptions preconditions on the uid and
    resourceVersion it read, so the API server also refuses it (409) if the object changes
    between that read and the delete.
  - A PVC that a pod keeps in use at delete time is refused. That is a pod that has not
    finished, or a pod scheduled to a node that names it, finished or not (Kubernetes keeps
    such a claim, with the C(kubernetes.io/pvc-protection) finalizer, until the pod is deleted;
    deleting it would only mark it). Pods are listed once per namespace of the given PVCs, or
    once for the whole cluster when there are more than 10 namespaces.
  - Deleting is asynchronous when an object has finalizers (it stays, with a
    C(deletionTimestamp), until its controller removes them). With O(wait), the module returns
    once every deleted object is gone; those still there after O(wait_timeout) are returned in
    RV(still_deleting).
  - A PV is refused when it is Bound or Pending. It is also refused when its
    persistentVolumeReclaimPolicy is Retain, or its StorageClass has reclaimPolicy Retain,
    unless its name is also in O(retain_pvs_to_delete). Deleting the PV object of a Retain
    volume does not free the storage behind it. That storage must be cleaned up by hand.
author:
  - strata.storage maintainers (@strata-storage)
options:
  pvs:
    description:
      - PersistentVolumes to delete.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: PV name.
        type: str
        required: true
      uid:
        description: The uid the report saw. When given, a PV with another uid (re-created) is refused.
        type: str
      resource_version:
        description: The resourceVersion the report saw. When given, a PV changed since then is refused.
        type: str
  pvcs:
    description:
      - PersistentVolumeClaims to delete.
    type: list
    elements: dict
    default: []
    suboptions:
      namespace:
        description: Namespace of the PVC.
        type: str
        required: true
      name:
        description: PVC name.
        type: str
        required: true
      uid:
        description: The uid the report saw (see O(pvs[].uid)).
        type: str
      resource_version:
        description: The resourceVersion the report saw (see O(pvs[].resource_version)).
        type: str
  delete:
    description:
      - Actually delete. Left false, the module only reports, in RV(would_delete), what it
        would delete, and makes no delete request at all.
    type: bool
    default: false
  retain_pvs_to_delete:
    description:
      - Names of PVs in O(pvs) that may be deleted although their own or their class's reclaim
        policy is Retain. A name that is not also in O(pvs) deletes nothing (a warning says so).
    type: list
    elements: str
    default: []
  page_size:
    description: Objects per list call when listing pods and StorageClasses.
    type: int
    default: 500
  wait:
    description: Wait until the deleted objects are gone (their finalizers removed).
    type: bool
    default: false
  wait_timeout:
    description: How many seconds O(wait) waits at most; what is still there is returned in RV(still_deleting) with a warning.
    type: int
    default: 120
extends_documentation_fragment:
  - strata.storage.k8s_auth
  - strata.storage.action_groups.k8s
attributes:
  check_mode:
    support: full
    description:
      - With O(delete=true), the delete requests are sent as server-side dry runs (C(dryRun)
        in the DeleteOptions body, where the API server reads it). The server validates them,
        checks the preconditions and stores nothing, so RV(deleted) and RV(actions) are what a
        real run would do.
  diff_mode:
    support: full
    description:
      - Returns the given objects that exist before the run and those left after it.
  platform:
    support: full
    platforms: posix
    description:
      - Runs where the C(kubernetes) Python client is installed, usually the controller.
notes:
  - "RBAC: C(get) and C(delete) on persistentvolumes and on persistentvolumeclaims of the
    namespaces given, C(list) on pods (those namespaces) and storageclasses."
  - Idempotent. An object that is already gone, or is already being deleted, is reported in
    RV(gone) and does not count as a change.
seealso:
  - module: strata.storage.k8s_storage_info
"""

EXAMPLES = r"""
- name: What is stale after 30 days
  strata.storage.k8s_storage_info:
    stale_days: 30
    include: [stale]
  register: report

- name: Report what would be deleted (no delete request is made)
  strata.storage.k8s_storage_cleanup:
    pvs: "{{ report.stale.released_pvs | map(attribute='ref') | list }}"
    pvcs: "{{ report.stale.pvcs | map(attribute='ref') | list }}"

- name: Delete them, including one Retain PV named explicitly
  strata.storage.k8s_storage_cleanup:
    pvs: "{{ report.stale.released_pvs | map(attribute='ref') | list }}"
    pvcs: "{{ report.stale.pvcs | map(attribute='ref') | list }}"
    retain_pvs_to_delete: [pvc-0b5e3c1a-old-db]
    delete: true
"""

RETURN = r"""
deleted:
  description: Objects deleted (in check mode, the ones the server accepted in a dry run).
  returned: always
  type: list
  elements: dict
  sample: [{kind: PersistentVolume, name: pvc-1234}, {kind: PersistentVolumeClaim, namespace: team-a, name: scratch}]
would_delete:
  description: With O(delete=false), objects that passed every guard and would be deleted.
  returned: always
  type: list
  elements: dict
refused:
  description: Objects not deleted, each with a C(reason) (changed since the report, mounted by a pod, Retain, bound).
  returned: always
  type: list
  elements: dict
  sample: [{kind: PersistentVolume, name: pv-keep, reason: "its StorageClass keep has reclaimPolicy Retain; name it in retain_pvs_to_delete to delete it"}]
gone:
  description: Objects that no longer exist or are already being deleted.
  returned: always
  type: list
  elements: dict
still_deleting:
  description: With O(wait), deleted objects still there after O(wait_timeout) (finalizers pending), with their finalizers.
  returned: always
  type: list
  elements: dict
actions:
  description: Each delete request sent, with method, path, the preconditions and whether it was a dry run.
  returned: always
  type: list
  elements: dict
  sample: [{description: delete PersistentVolume pvc-1234, method: DELETE, path: /api/v1/persistentvolumes/pvc-1234,
            preconditions: {uid: 0b5e..., resourceVersion: "4711"}, dry_run: false}]
api_calls:
  description: API requests made, per kind of request, and their total.
  returned: always
  type: dict
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.k8s import client as k8s, report as k8s_report
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import run_module

PER_NAMESPACE_LIMIT = 10


class Cleanup(object):
    """Reads, checks and deletes; every request counted in `calls`."""

    def __init__(self, client, check_mode, page_size):
        from kubernetes import client as kclient

        self.host = getattr(getattr(client, "configuration", None), "host", None)
        self.kclient = kclient
        self.core = kclient.CoreV1Api(client)
        self.storage = kclient.StorageV1Api(client)
        self.check_mode = check_mode
        self.page_size = page_size
        self.calls = {}
        self.actions = []

    def _count(self, what, n=1):
        self.calls[what] = self.calls.get(what, 0) + n

    def list_classes(self):
        items, n = k8s.list_all(self.storage.list_storage_class, "StorageClasses", page_size=self.page_size,
                                host=self.host)
        self._count("list storageclasses", n)
        return {(c.get("metadata") or {}).get("name"): c for c in items}

    def list_pods(self, namespaces):
        pods = []
        if len(namespaces) <= PER_NAMESPACE_LIMIT:
            for namespace in sorted(namespaces):
                items, n = k8s.list_all(self.core.list_namespaced_pod, "Pods in namespace %s" % namespace,
                                        page_size=self.page_size, host=self.host, namespace=namespace)
                self._count("list pods", n)
                pods.extend(items)
        else:
            items, n = k8s.list_all(self.core.list_pod_for_all_namespaces, "Pods", page_size=self.page_size,
                                    host=self.host)
            self._count("list pods", n)
            pods.extend(i for i in items if (i.get("metadata") or {}).get("namespace") in namespaces)
        return pods

    def read(self, kind, name, namespace=None):
        """The live object as a dict, or None when it does not exist."""
        self._count("get %s" % kind)
        what = "reading %s %s" % (kind, _label(name, namespace))
        try:
            if namespace is None:
                response = self.core.read_persistent_volume(name, _preload_content=False,
                                                            _request_timeout=k8s.REQUEST_TIMEOUT)
            else:
                response = self.core.read_namespaced_persistent_volume_claim(name, namespace, _preload_content=False,
                                                                             _request_timeout=k8s.REQUEST_TIMEOUT)
        except k8s.ApiException as exc:
            if exc.status == 404:
                return None
            if not exc.status:
                raise k8s.connection_error(exc, self.host, what)
            raise k8s.api_error(what, exc)
        except k8s.connection_errors() as exc:
            raise k8s.connection_error(exc, self.host, what)
        return json.loads(response.data)

    def delete(self, kind, obj):
        """Delete with preconditions on the uid and resourceVersion read; (ok, reason)."""
        meta = obj["metadata"]
        name, namespace = meta["name"], meta.get("namespace")
        preconditions = {"uid": meta.get("uid"), "resourceVersion": meta.get("resourceVersion")}
        path = ("/api/v1/namespaces/%s/persistentvolumeclaims/%s" % (namespace, name) if namespace
                else "/api/v1/persistentvolumes/%s" % name)
        self.actions.append({"description": "delete %s %s" % (kind, _label(name, namespace)), "method": "DELETE",
                             "path": path, "preconditions": preconditions, "dry_run": self.check_mode})
        # DeleteResource (apiserver handlers/delete.go) reads every option from the body when a
        # DELETE has one and then ignores the query: the dry run goes into the body too
        body = self.kclient.V1DeleteOptions(
            dry_run=["All"] if self.check_mode else None,
            preconditions=self.kclient.V1Preconditions(uid=preconditions["uid"],
                                                       resource_version=preconditions["resourceVersion"]))
        kwargs = dict(body=body, _preload_content=False, _request_timeout=k8s.REQUEST_TIMEOUT)
        self._count("delete %s" % kind)
        what = "deleting %s %s" % (kind, _label(name, namespace))
        try:
            if namespace:
                self.core.delete_namespaced_persistent_volume_claim(name, namespace, **kwargs)
            else:
                self.core.delete_persistent_volume(name, **kwargs)
        except k8s.ApiException as exc:
            if exc.status == 404:
                return False, "gone"
            if exc.status == 409:
                message = k8s.status_of(exc).get("message") or exc.reason
                return False, "changed between read and delete (the API refused the preconditions): %s" % message
            if not exc.status:
                raise k8s.connection_error(exc, self.host, what)
            raise k8s.api_error(what, exc)
        except k8s.connection_errors() as exc:
            raise k8s.connection_error(exc, self.host, what)
        return True, None

    def wait_gone(self, entries, timeout):
        """Poll the deleted objects until each is gone (or is another object of the same name);
        returns those still there after `timeout` seconds, with their finalizers."""
        import time
        deadline, delay = time.time() + timeout, 0.2
        pending = list(entries)
        while True:
            left = []
            for entry in pending:
                obj = self.read(entry["kind"], entry["name"], entry.get("namespace"))
                if obj is not None and (obj.get("metadata") or {}).get("uid") == entry.get("uid"):
                    left.append(dict(entry, finalizers=(obj.get("metadata") or {}).get("finalizers") or []))
            if not left or time.time() >= deadline:
                return [dict((k, v) for k, v in e.items() if k != "uid") for e in left]
            pending = left
            time.sleep(min(delay, max(0.0, deadline - time.time())))
            delay = min(delay * 2, 5)


def _label(name, namespace=None):
    return "%s/%s" % (namespace, name) if namespace else name


def _entry(kind, name, namespace=None, **extra):
    out = {"kind": kind, "name": name}
    if namespace:
        out["namespace"] = namespace
    out.update(extra)
    return out


def run(module, cleanup):
    params = module.params
    result = {"deleted": [], "would_delete": [], "refused": [], "gone": [], "still_deleting": []}
    waiting = []
    before = {"pvs": [], "pvcs": []}
    retain_names = set(params["retain_pvs_to_delete"])
    given_pv_names = set(p["name"] for p in params["pvs"])
    for name in sorted(retain_names - given_pv_names):
        module.warn("retain_pvs_to_delete names %s, which is not in pvs: nothing is deleted for it" % name)

    def handle(kind, obj, refusal, namespace=None, name=None):
        if obj is None or (obj.get("metadata") or {}).get("deletionTimestamp"):
            result["gone"].append(_entry(kind, name, namespace))
            return
        before["pvcs" if namespace else "pvs"].append(_label(name, namespace))
        if refusal:
            result["refused"].append(_entry(kind, name, namespace, reason=refusal))
        elif not params["delete"]:
            result["would_delete"].append(_entry(kind, name, namespace))
        else:
            ok, reason = cleanup.delete(kind, obj)
            if ok:
                result["deleted"].append(_entry(kind, name, namespace))
                waiting.append(_entry(kind, name, namespace, uid=(obj.get("metadata") or {}).get("uid")))
            elif reason == "gone":
                result["gone"].append(_entry(kind, name, namespace))
            else:
                result["refused"].append(_entry(kind, name, namespace, reason=reason))

    if params["pvcs"]:
        users = k8s_report.active_users(cleanup.list_pods(set(p["namespace"] for p in params["pvcs"])))
        for want in params["pvcs"]:
            obj = cleanup.read("PersistentVolumeClaim", want["name"], want["namespace"])
            refusal = k8s_report.pvc_refusal(obj, users, want) if obj is not None else None
            handle("PersistentVolumeClaim", obj, refusal, want["namespace"], want["name"])
    if params["pvs"]:
        classes = cleanup.list_classes()
        for want in params["pvs"]:
            obj = cleanup.read("PersistentVolume", want["name"])
            refusal = k8s_report.pv_refusal(obj, classes, want, retain_names) if obj is not None else None
            handle("PersistentVolume", obj, refusal, None, want["name"])

    if params["wait"] and waiting and not module.check_mode:
        result["still_deleting"] = cleanup.wait_gone(waiting, params["wait_timeout"])
        for entry in result["still_deleting"]:
            module.warn("%s %s is still being deleted after %d seconds (finalizers: %s)"
                        % (entry["kind"], _label(entry["name"], entry.get("namespace")), params["wait_timeout"],
                           ", ".join(entry["finalizers"]) or "none"))
    removed = set(_label(e["name"], e.get("namespace")) for e in result["deleted"])
    result.update(changed=bool(result["deleted"]), actions=cleanup.actions,
                  api_calls=k8s_report.count_calls(cleanup.calls))
    if module._diff:
        result["diff"] = {"before": before, "after": {k: [x for x in v if x not in removed] for k, v in before.items()}}
    return result


def body(module, _runner):
    cleanup = Cleanup(k8s.api_client(module.params), module.check_mode, module.params["page_size"])
    try:
        result = run(module, cleanup)
    except StrataError as exc:
        # say what was already deleted before the failure
        exc.details = dict(exc.details or {}, actions_done=cleanup.actions)
        raise
    module.exit_json(**result)


def main():
    item = dict(name=dict(type="str", required=True), uid=dict(type="str"), resource_version=dict(type="str"))
    pvc_item = dict(item, namespace=dict(type="str", required=True))
    argument_spec = dict(
        pvs=dict(type="list", elements="dict", default=[], options=item),
        pvcs=dict(type="list", elements="dict", default=[], options=pvc_item),
        delete=dict(type="bool", default=False),
        retain_pvs_to_delete=dict(type="list", elements="str", default=[]),
        page_size=dict(type="int", default=k8s.LIST_PAGE_SIZE),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=120),
    )
    argument_spec.update(k8s.AUTH_ARG_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    k8s.require_client(module)
    if module.params["page_size"] < 1:
        module.fail_json(msg="page_size must be 1 or more, got %s" % module.params["page_size"])
    run_module(module, body)


if __name__ == "__main__":
    main()
