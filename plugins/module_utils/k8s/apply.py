# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan and apply Kubernetes objects: StorageClasses, VolumeSnapshotClasses, tenant namespaces.

Two halves:
- pure planning over plain dicts (no client needed, unit-tested): the desired object from the
  module's options, what differs from the live object (only fields the user gave: leaving an
  option out keeps what is there), which of those differences touch immutable fields, the
  default-class annotation switch, and the predicted after-state for diff mode;
- `Executor`, which sends the planned requests with the official `kubernetes` client: every
  update is a PUT carrying the live resourceVersion (a concurrent change answers 409; the
  callers read again and plan again, a bounded number of times, instead of overwriting it),
  and in check mode the same requests go out as server-side dry runs, each option where the
  real API server reads it (staging/src/k8s.io/apiserver/pkg/endpoints/handlers): dryRun,
  fieldManager and fieldValidation in the query of a POST/PUT/PATCH (create.go, update.go,
  patch.go), DeleteOptions (preconditions and dryRun) in the body of a DELETE (delete.go reads
  the body whenever there is one and then ignores the query).

Actions are reported as {description, method, path, dry_run}: never a request body, so no
secret can leak through them.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field

import time

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.k8s.report import exact_quantity
from ansible_collections.strata.storage.plugins.module_utils.k8s.client import (
    REQUEST_TIMEOUT, ApiException, api_error, connection_error, connection_errors, paginate, status_of,
)

FIELD_MANAGER = "strata.storage"
# How often a write that met a concurrent change (409) is planned again from a fresh read.
CONFLICT_RETRIES = 3
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "strata.storage"
TENANT_LABEL = "strata.storage/tenant"
SC_DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
VSC_DEFAULT_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class"
# Shown in diffs it would only be noise (kubectl apply keeps a copy of the whole object there).
HIDDEN_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
# Server-set metadata dropped from a body that re-creates an object.
SERVER_METADATA = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields",
                   "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds")


@dataclass(frozen=True)
class KindSpec:
    api_version: str
    kind: str
    plural: str
    namespaced: bool
    immutable: tuple = ()              # top-level fields the API refuses to change (422)
    exact_maps: tuple = ()             # field paths whose maps must match key for key
    quantities: bool = False           # compare string leaves of `spec` as quantities
    default_annotation: str = None     # annotation that marks the default class
    default_scope: str = None          # field that scopes "only one default" (VSC: driver)

    def path(self, name=None, namespace=None):
        base = "/api/v1" if self.api_version == "v1" else "/apis/%s" % self.api_version
        if self.namespaced:
            if not namespace:
                raise StrataError("%s %s: a namespace is required" % (self.kind, name))
            base += "/namespaces/%s" % namespace
        base += "/" + self.plural
        return base + "/" + name if name else base

    def what(self, name, namespace=None):
        return "%s %s" % (self.kind, "%s/%s" % (namespace, name) if namespace else name)


KINDS = {
    "StorageClass": KindSpec(
        "storage.k8s.io/v1", "StorageClass", "storageclasses", False,
        immutable=("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"),
        exact_maps=(("parameters",),), default_annotation=SC_DEFAULT_ANNOTATION),
    "VolumeSnapshotClass": KindSpec(
        "snapshot.storage.k8s.io/v1", "VolumeSnapshotClass", "volumesnapshotclasses", False,
        immutable=("driver", "parameters"), exact_maps=(("parameters",),),
        default_annotation=VSC_DEFAULT_ANNOTATION, default_scope="driver"),
    "Namespace": KindSpec("v1", "Namespace", "namespaces", False),
    "ResourceQuota": KindSpec("v1", "ResourceQuota", "resourcequotas", True,
                              exact_maps=(("spec", "hard"),), quantities=True),
    "LimitRange": KindSpec("v1", "LimitRange", "limitranges", True, quantities=True),
    "Role": KindSpec("rbac.authorization.k8s.io/v1", "Role", "roles", True),
    "RoleBinding": KindSpec("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", True,
                            immutable=("roleRef",)),
    "NetworkPolicy": KindSpec("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", True),
    "PersistentVolume": KindSpec("v1", "PersistentVolume", "persistentvolumes", False),
    "PersistentVolumeClaim": KindSpec("v1", "PersistentVolumeClaim", "persistentvolumeclaims", True),
}


# --------------------------------------------------------------------------------------------
# quantities ("100Gi", "1.5T", "500m") - only to compare what the server canonicalised

def parse_quantity(text):
    """Exact value of a Kubernetes quantity as a Fraction, or None when it is not one."""
    return exact_quantity(text)


# --------------------------------------------------------------------------------------------
# comparing desired with live

def _same_leaf(want, have, quantities):
    if want == have:
        return True
    if quantities and isinstance(want, (str, int)) and isinstance(have, (str, int)):
        a, b = parse_quantity(want), parse_quantity(have)
        return a is not None and a == b
    return False


def _empty(value):
    """What the server stores as nothing: Go's encoding/json omits empty maps and slices of
    `omitempty` fields, so asking for {} or [] is asking for what an absent field is."""
    return value is None or value == {} or value == []


def differences(spec, desired, live):
    """Paths (tuples) of the fields of `desired` that differ from `live`.

    Maps compare only the keys the user gave (the server adds defaults; other tools add keys),
    except the maps in spec.exact_maps (StorageClass parameters, quota `hard`), which are a
    complete set. Lists compare element by element and must have the same length. In
    labels/annotations a None value means "remove this key". An empty map or list equals a
    missing field (the server drops them).
    """
    found = []

    def walk(want, have, path):
        quantities = spec.quantities and path[:1] == ("spec",)
        if isinstance(want, dict):
            if _empty(want) and _empty(have):
                return
            if not isinstance(have, dict):
                found.append(path)
                return
            if path in spec.exact_maps and set(want) != set(have):
                found.append(path)
                return
            for key, value in want.items():
                if value is None:          # None: this key must not be there
                    if have.get(key) not in (None, {}, []) or (key in have and path[:1] == ("metadata",)):
                        found.append(path + (key,))
                    continue
                if _empty(value) and _empty(have.get(key)):
                    continue
                if key not in have:
                    found.append(path + (key,))
                else:
                    walk(value, have[key], path + (key,))
        elif isinstance(want, list):
            if _empty(want) and _empty(have):
                return
            if not isinstance(have, list) or len(want) != len(have):
                found.append(path)
                return
            before = len(found)
            for index, (w, h) in enumerate(zip(want, have)):
                walk(w, h, path + (index,))
            if len(found) > before:   # report a list as one field: it is replaced as a whole
                del found[before:]
                found.append(path)
        elif not _same_leaf(want, have, quantities):
            found.append(path)

    for key, value in desired.items():
        if key in ("apiVersion", "kind"):
            continue
        if key == "metadata":
            for meta_key in ("labels", "annotations"):
                if meta_key in value:
                    walk(value[meta_key], (live.get("metadata") or {}).get(meta_key) or {}, ("metadata", meta_key))
            continue
        if value is None:
            if live.get(key) not in (None, {}, []):
                found.append((key,))
        elif _empty(value) and _empty(live.get(key)):
            continue
        elif key not in live:
            found.append((key,))
        else:
            walk(value, live[key], (key,))
    return found


def dotted(path):
    return ".".join(str(part) for part in path)


def _merge_into(target, want, path, exact_maps):
    for key, value in want.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict) and path + (key,) not in exact_maps:
            _merge_into(target[key], value, path + (key,), exact_maps)
        else:
            target[key] = copy.deepcopy(value)


def merged(desired, live, exact_maps=()):
    """The object to PUT: the live object with the user's fields merged in (maps key by key,
    except exact maps, lists and values replaced), labels/annotations merged key by key (None
    removes a key). Keeps live.resourceVersion, so a change made by someone else since we read
    it makes the API answer 409."""
    out = copy.deepcopy(live)
    out.pop("status", None)
    out["metadata"].pop("managedFields", None)
    for key, value in desired.items():
        if key == "metadata":
            for meta_key in ("labels", "annotations"):
                if meta_key in value:
                    target = out["metadata"].setdefault(meta_key, {}) or {}
                    for k, v in value[meta_key].items():
                        if v is None:
                            target.pop(k, None)
                        else:
                            target[k] = v
                    out["metadata"][meta_key] = target
            continue
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict) and (key,) not in exact_maps:
            _merge_into(out[key], value, (key,), exact_maps)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _drop_none(value):
    if isinstance(value, dict):
        return dict((k, _drop_none(v)) for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def for_create(obj):
    """A body for POST: server-set metadata and status removed, None values dropped."""
    out = _drop_none(copy.deepcopy(obj))
    out.pop("status", None)
    meta = out.setdefault("metadata", {})
    for key in SERVER_METADATA:
        meta.pop(key, None)
    for meta_key in ("labels", "annotations"):
        if meta_key in meta:
            meta[meta_key] = dict((k, v) for k, v in (meta[meta_key] or {}).items() if v is not None)
            if not meta[meta_key]:
                del meta[meta_key]
    return out


def view(obj):
    """What diff mode shows of an object: identity, labels, annotations and content."""
    if not obj:
        return {}
    meta = obj.get("metadata") or {}
    shown = {"name": meta.get("name")}
    if meta.get("namespace"):
        shown["namespace"] = meta["namespace"]
    for meta_key in ("labels", "annotations"):
        values = dict((k, v) for k, v in (meta.get(meta_key) or {}).items()
                      if v is not None and k not in HIDDEN_ANNOTATIONS)
        if values:
            shown[meta_key] = values
    out = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": shown}
    for key, value in obj.items():
        if key not in ("apiVersion", "kind", "metadata", "status"):
            out[key] = copy.deepcopy(value)
    return out


# --------------------------------------------------------------------------------------------
# planning one object

@dataclass
class Step:
    """One write request. `sendable_in_check` is False when check mode cannot send it even as a
    dry run (the object it needs does not exist yet, or still exists), with the reason."""
    description: str
    method: str
    path: str
    body: dict = None
    sendable_in_check: bool = True
    unsent_reason: str = None
    name: str = None
    # a DELETE whose object must be gone before the next step (re-create): wait for finalizers
    wait_gone: bool = False
    # a write the snapshot webhook may refuse for a moment after the old default was unmarked
    # (it reads an informer cache): retried briefly
    retry_webhook: bool = False
    # the DELETE of a re-create: (path, body, what) of the create that follows, sent first as a dry run
    # so that a body the API server refuses is refused before the object is deleted
    preflight: tuple = None


@dataclass
class ObjectPlan:
    spec: KindSpec
    name: str
    namespace: str = None
    steps: list = field(default_factory=list)
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    changed_fields: list = field(default_factory=list)
    immutable_changes: list = field(default_factory=list)

    @property
    def changed(self):
        return bool(self.steps)


def _get_path(obj, path):
    for part in path:
        if isinstance(obj, dict):
            obj = obj.get(part)
        elif isinstance(obj, list) and isinstance(part, int) and part < len(obj):
            obj = obj[part]
        else:
            return None
    return obj


def delete_body(live):
    """DeleteOptions with preconditions: delete only the object we read, as we read it."""
    meta = live.get("metadata") or {}
    pre = {}
    if meta.get("uid"):
        pre["uid"] = meta["uid"]
    if meta.get("resourceVersion"):
        pre["resourceVersion"] = meta["resourceVersion"]
    body = {"apiVersion": "v1", "kind": "DeleteOptions"}
    if pre:
        body["preconditions"] = pre
    return body


def plan_object(spec, desired, live, state="present", recreate=False, create_sendable=True, unsent_reason=None):
    """Plan one object. `desired` holds only what the user gave (plus what we always set)."""
    meta = desired.get("metadata") or {}
    name, namespace = meta.get("name"), meta.get("namespace")
    plan = ObjectPlan(spec=spec, name=name, namespace=namespace)
    # items of a list answer carry no apiVersion/kind: every body we send names them
    desired = dict(desired, apiVersion=spec.api_version, kind=spec.kind)
    if live:
        live = dict(live, apiVersion=spec.api_version, kind=spec.kind)
    what = spec.what(name, namespace)
    plan.before = view(live)
    if state == "absent":
        if live:
            plan.steps.append(Step("delete %s" % what, "DELETE", spec.path(name, namespace), delete_body(live), name=name))
        plan.after = {}
        return plan
    if not live:
        body = for_create(desired)
        plan.steps.append(Step("create %s" % what, "POST", spec.path(None, namespace), body,
                               sendable_in_check=create_sendable, unsent_reason=unsent_reason, name=name))
        plan.after = view(body)
        return plan
    diffs = differences(spec, desired, live)
    plan.changed_fields = [dotted(p) for p in diffs]
    if not diffs:
        plan.after = view(live)
        return plan
    new = merged(desired, live, spec.exact_maps)
    plan.after = view(new)
    plan.immutable_changes = [p[0] for p in diffs if p[0] in spec.immutable]
    plan.immutable_changes = sorted(set(plan.immutable_changes), key=plan.immutable_changes.index)
    if plan.immutable_changes:
        if not recreate:
            return plan   # the caller refuses (after building the diff)
        body = for_create(new)
        plan.steps.append(Step("delete %s to re-create it (changing %s)" % (what, ", ".join(plan.immutable_changes)),
                               "DELETE", spec.path(name, namespace), delete_body(live), name=name, wait_gone=True,
                               preflight=(spec.path(None, namespace), body, what)))
        plan.steps.append(Step("re-create %s" % what, "POST", spec.path(None, namespace), body,
                               sendable_in_check=False, name=name,
                               unsent_reason="check mode cannot dry-run the re-create while %s still exists" % what))
        return plan
    plan.steps.append(Step("update %s (%s)" % (what, ", ".join(plan.changed_fields)), "PUT",
                           spec.path(name, namespace), new, name=name))
    return plan


def immutable_error(plan):
    """StrataError naming the object, the immutable fields and their values."""
    parts = []
    for key in plan.immutable_changes:
        parts.append("%s: %s -> %s" % (key, json.dumps(_get_path(plan.before, (key,)), sort_keys=True),
                                       json.dumps(_get_path(plan.after, (key,)), sort_keys=True)))
    what = plan.spec.what(plan.name, plan.namespace)
    return StrataError(
        "%s: %s cannot change after creation (%s); nothing was changed"
        % (what, ", ".join(plan.immutable_changes), "; ".join(parts)),
        hint="set recreate: true to delete and re-create it; PersistentVolumes already provisioned keep working",
        details={"immutable_fields": plan.immutable_changes,
                 "diff": {"before": {plan.name: plan.before}, "after": {plan.name: plan.after}}})


# --------------------------------------------------------------------------------------------
# default class

def set_default_flag(spec, desired, live, default):
    """default True: mark this class; False: unmark it if marked; None: leave it."""
    if default is None:
        return desired
    annotations = desired.setdefault("metadata", {}).setdefault("annotations", {})
    current = ((live or {}).get("metadata") or {}).get("annotations") or {}
    if default:
        annotations[spec.default_annotation] = "true"
    elif spec.default_annotation in current and current[spec.default_annotation] != "false":
        annotations[spec.default_annotation] = "false"
    return desired


def plan_default_others(spec, name, scope_value, items):
    """Take the default mark off every other class (of the same driver for snapshot classes):
    set to "false", as `kubectl patch` in the Kubernetes docs does; an explicit "false" also
    survives tools that add the annotation when it is missing."""
    plans = []
    for item in sorted(items, key=lambda i: i["metadata"]["name"]):
        meta = item.get("metadata") or {}
        if meta.get("name") == name:
            continue
        if (meta.get("annotations") or {}).get(spec.default_annotation) != "true":
            continue
        if spec.default_scope and item.get(spec.default_scope) != scope_value:
            continue
        desired = {"metadata": {"name": meta["name"], "annotations": {spec.default_annotation: "false"}}}
        plan = plan_object(spec, desired, item)
        for step in plan.steps:
            step.description = "take the default mark off %s" % spec.what(meta["name"])
        plans.append(plan)
    return plans


# --------------------------------------------------------------------------------------------
# desired objects from module options

def _labels_annotations(meta, labels, annotations):
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def _str_map(values, what):
    """Parameters are map[string]string in the API: turn YAML numbers/booleans into the strings
    a user would expect (true -> "true"), and refuse nested values."""
    out = {}
    for key, value in (values or {}).items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (dict, list)):
            raise StrataError("%s: parameter %s must be a string, not %s" % (what, key, type(value).__name__))
        elif value is None:
            raise StrataError("%s: parameter %s has no value" % (what, key))
        out[str(key)] = str(value)
    return out


# What a StorageClass gets on create when the option is left out (sent explicitly, so the
# class says what it does): Delete is the API's own default; WaitForFirstConsumer (the API's
# default is Immediate) because local and zonal storage (LVM, topolvm, local-path, zonal
# iSCSI/NVMe-oF) must be provisioned where the pod is scheduled, and it works for every
# provisioner. Both are immutable, so the choice is made once.
SC_CREATE_DEFAULTS = {"reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"}


def storageclass_desired(params, live):
    """The StorageClass fields the user gave (plus the create defaults when it does not exist)."""
    what = "StorageClass %s" % params["name"]
    obj = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
           "metadata": _labels_annotations({"name": params["name"]}, params.get("labels"), params.get("annotations"))}
    if params.get("provisioner") is not None:
        obj["provisioner"] = params["provisioner"]
    if params.get("parameters") is not None:
        obj["parameters"] = _str_map(params["parameters"], what)
    mapping = (("reclaim_policy", "reclaimPolicy"), ("volume_binding_mode", "volumeBindingMode"),
               ("allow_volume_expansion", "allowVolumeExpansion"), ("mount_options", "mountOptions"),
               ("allowed_topologies", "allowedTopologies"))
    for option, key in mapping:
        if params.get(option) is not None:
            obj[key] = copy.deepcopy(params[option])
    if not live:
        if "provisioner" not in obj:
            raise StrataError("%s does not exist and no provisioner was given" % what,
                              hint="set provisioner, for example topolvm.io or nfs.csi.k8s.io")
        for key, value in SC_CREATE_DEFAULTS.items():
            obj.setdefault(key, value)
    set_default_flag(KINDS["StorageClass"], obj, live, params.get("default"))
    return obj


def snapshotclass_desired(params, live):
    what = "VolumeSnapshotClass %s" % params["name"]
    obj = {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass",
           "metadata": _labels_annotations({"name": params["name"]}, params.get("labels"), params.get("annotations"))}
    if params.get("driver") is not None:
        obj["driver"] = params["driver"]
    if params.get("parameters") is not None:
        obj["parameters"] = _str_map(params["parameters"], what)
    if params.get("deletion_policy") is not None:
        obj["deletionPolicy"] = params["deletion_policy"]
    if not live:
        if "driver" not in obj:
            raise StrataError("%s does not exist and no driver was given" % what, hint="set driver, the CSI driver name")
        obj.setdefault("deletionPolicy", "Delete")
    set_default_flag(KINDS["VolumeSnapshotClass"], obj, live, params.get("default"))
    return obj


# --------------------------------------------------------------------------------------------
# tenant namespaces

QUOTA_NAME = "strata-tenant-quota"
# Set first when a tenant is removed: no new claim can be created in the namespace while its
# volumes are listed and kept (quota admission enforces persistentvolumeclaims: 0).
CLOSING_QUOTA = "strata-tenant-closing"
LIMITS_NAME = "strata-tenant-limits"
ROLE_NAME = "strata-tenant"
DENY_POLICY = "strata-default-deny"
ALLOW_POLICY = "strata-allow-tenant-traffic"
PSA_MODES = ("enforce", "audit", "warn")

# What a tenant's group may do in its namespace: run and manage workloads and their storage;
# read (not change) its quota, limits and network policies.
DEFAULT_TENANT_RULES = [
    {"apiGroups": [""], "resources": ["pods", "pods/log", "pods/exec", "pods/portforward", "services", "endpoints",
                                      "configmaps", "secrets", "persistentvolumeclaims", "serviceaccounts"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]},
    {"apiGroups": [""], "resources": ["events", "resourcequotas", "limitranges"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets", "daemonsets", "replicasets"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]},
    {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]},
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["snapshot.storage.k8s.io"], "resources": ["volumesnapshots"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
]


def quota_hard(quota):
    """ResourceQuota `hard` from the quota option (storage, pvcs, per_class, hard)."""
    hard = {}
    if quota.get("storage") is not None:
        hard["requests.storage"] = str(quota["storage"])
    if quota.get("pvcs") is not None:
        hard["persistentvolumeclaims"] = str(quota["pvcs"])
    for cls, limits in sorted((quota.get("per_class") or {}).items()):
        limits = limits or {}
        prefix = "%s.storageclass.storage.k8s.io/" % cls
        if limits.get("storage") is not None:
            hard[prefix + "requests.storage"] = str(limits["storage"])
        if limits.get("pvcs") is not None:
            hard[prefix + "persistentvolumeclaims"] = str(limits["pvcs"])
        unknown = set(limits) - {"storage", "pvcs"}
        if unknown:
            raise StrataError("quota.per_class.%s: unknown keys %s" % (cls, ", ".join(sorted(unknown))),
                              hint="use storage and pvcs")
    for key, value in sorted((quota.get("hard") or {}).items()):
        hard[str(key)] = str(value)
    return hard


def _limit_range(limits):
    items = []
    pvc = {"type": "PersistentVolumeClaim"}
    if limits.get("pvc_min"):
        pvc["min"] = {"storage": str(limits["pvc_min"])}
    if limits.get("pvc_max"):
        pvc["max"] = {"storage": str(limits["pvc_max"])}
    if len(pvc) > 1:
        items.append(pvc)
    container = {"type": "Container"}
    for option, key in (("container_default", "default"), ("container_default_request", "defaultRequest"),
                        ("container_max", "max")):
        if limits.get(option):
            container[key] = dict((k, str(v)) for k, v in limits[option].items())
    if len(container) > 1:
        items.append(container)
    return items


# What the API server checks and this module checks first, so that no run (and no check-mode
# run, which cannot dry-run objects inside a namespace that does not exist yet) stops half-way:
# pkg/apis/core/helper/helpers.go standardQuotaResources (kubernetes/kubernetes)
QUOTA_RESOURCES = frozenset((
    "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.storage",
    "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods",
    "resourcequotas", "services", "replicationcontrollers", "secrets", "persistentvolumeclaims", "configmaps",
    "services.nodeports", "services.loadbalancers"))
COUNTED_QUOTA_RESOURCES = frozenset((
    "pods", "resourcequotas", "services", "replicationcontrollers", "secrets", "configmaps",
    "persistentvolumeclaims", "services.nodeports", "services.loadbalancers"))
_QUALIFIED = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# kubernetes/pod-security-admission api/helpers.go ParseLevel and ParseVersion
PSA_LEVELS = ("privileged", "baseline", "restricted")
_PSA_VERSION = re.compile(r"^v1\.([0-9]|[1-9][0-9]*)$")


def _quota_key_problem(key):
    """pkg/apis/core/validation/validation.go ValidateResourceQuotaResourceName."""
    prefix, dummy, base = key.rpartition("/")
    if not base or len(base) > 63 or not _QUALIFIED.match(base) or (prefix and not _SUBDOMAIN.match(prefix)):
        return "%s is not a qualified name" % key
    if not prefix and key not in QUOTA_RESOURCES and not key.startswith(("hugepages-", "requests.hugepages-")):
        return ("%s is not a resource a quota can limit (a standard name such as persistentvolumeclaims or "
                "requests.storage, or a qualified one such as count/deployments.apps)" % key)
    return None


def _extended_resource(key):
    """helpers.go IsExtendedResourceName: a "/" outside *kubernetes.io/, no "requests." prefix,
    still a qualified name with "requests." in front."""
    if "/" not in key or "kubernetes.io/" in key or key.startswith("requests."):
        return False
    prefix, dummy, base = ("requests." + key).rpartition("/")
    return bool(_QUALIFIED.match(base)) and len(base) <= 63 and len(prefix) <= 253 and bool(_SUBDOMAIN.match(prefix))


def _container_resource_problem(key):
    """core validation.go validateContainerResourceName (what a Container LimitRange item may
    name): cpu, memory, ephemeral-storage, hugepages-*, or a qualified *kubernetes.io/ or
    extended resource name."""
    prefix, dummy, base = key.rpartition("/")
    if not base or len(base) > 63 or not _QUALIFIED.match(base) or (prefix and not _SUBDOMAIN.match(prefix)):
        return "%s is not a qualified name" % key
    if not prefix:
        if key not in ("cpu", "memory", "ephemeral-storage") and not key.startswith("hugepages-"):
            return "%s is not a container resource (cpu, memory, ephemeral-storage, hugepages-*)" % key
    elif "kubernetes.io/" not in key and not _extended_resource(key):
        return "%s does not follow the extended resource name standard" % key
    return None


def _integer_quota_resource(key):
    """pkg/apis/core/helper/helpers.go IsIntegerResourceName: the object counts, and every
    extended resource name: one with a "/" outside *kubernetes.io/, not starting with
    "requests.", that is still a qualified name with "requests." in front (so count/<resource>,
    <class>.storageclass.storage.k8s.io/persistentvolumeclaims and .../requests.storage too)."""
    return key in COUNTED_QUOTA_RESOURCES or _extended_resource(key)


def tenant_problems(params):
    """What the API server would refuse in this tenant, as sentences (empty when it is fine):
    Role rules without verbs, apiGroups or resources (rbac validation.go validatePolicyRule),
    quota keys that are no quota resource and negative or fractional counts (core validation.go
    ValidateResourceQuotaResourceName, ValidateResourceQuantityValue), Pod Security levels and
    versions other than the levels, `latest` or `v1.N` (PodSecurity admission), and LimitRange
    bounds out of order (core validation.go ValidateLimitRange: min <= defaultRequest <= default
    <= max)."""
    problems = []
    for index, rule in enumerate(params.get("role_rules") or []):
        rule = rule or {}
        where = "role_rules: rules[%d]" % index
        if rule.get("nonResourceURLs"):
            problems.append("%s has nonResourceURLs, which a namespaced Role cannot have" % where)
            continue
        missing = [key for key in ("verbs", "apiGroups", "resources") if not rule.get(key)]
        if missing:
            problems.append("%s has no %s (every rule needs verbs, apiGroups and resources; the core group is \"\")"
                            % (where, " and no ".join(missing)))
    if params.get("quota") is not None:
        for key, value in sorted(quota_hard(params["quota"]).items()):
            problem = _quota_key_problem(key)
            amount = parse_quantity(value)
            if problem:
                problems.append("quota: %s" % problem)
            elif amount is None:
                problems.append("quota: %s %s is not a quantity" % (key, value))
            elif amount < 0:
                problems.append("quota: %s %s is negative" % (key, value))
            elif _integer_quota_resource(key) and amount.denominator != 1:
                problems.append("quota: %s %s must be a whole number" % (key, value))
            elif key in ("resourcequotas", "count/resourcequotas") and amount < 2:
                # removal first adds CLOSING_QUOTA next to QUOTA_NAME: with room for one quota,
                # quota admission refuses it (403) and state=absent can never finish
                problems.append("quota: %s %s leaves no room for the closing quota that tenant removal adds "
                                "(state=absent would be refused with 403); give at least 2" % (key, value))
    psa_labels = dict((k, v) for k, v in (params.get("labels") or {}).items() if k.startswith("pod-security.kubernetes.io/"))
    psa = params.get("pod_security") or {}
    for mode in PSA_MODES:
        if psa.get(mode):
            psa_labels["pod-security.kubernetes.io/%s" % mode] = psa[mode]
            if psa.get("version"):
                psa_labels["pod-security.kubernetes.io/%s-version" % mode] = psa["version"]
    if psa.get("version") and psa["version"] != "latest" and not _PSA_VERSION.match(str(psa["version"])):
        problems.append('pod_security.version: %s must be "latest" or "v1.x", for example v1.31' % psa["version"])
    else:
        for key, value in sorted(psa_labels.items()):
            if key.endswith("-version") and value != "latest" and not _PSA_VERSION.match(str(value)):
                problems.append('labels: %s %s must be "latest" or "v1.x"' % (key, value))
            elif not key.endswith("-version") and value not in PSA_LEVELS:
                problems.append("labels: %s %s must be one of %s" % (key, value, ", ".join(PSA_LEVELS)))
    limits = params.get("limits") or {}
    order = (("pvc_min", "pvc_max"),)
    for low, high in order:
        a, b = parse_quantity(limits.get(low)), parse_quantity(limits.get(high))
        for option, amount in ((low, a), (high, b)):
            if limits.get(option) is not None and amount is None:
                problems.append("limits: %s %s is not a quantity" % (option, limits[option]))
        if a is not None and b is not None and a > b:
            problems.append("limits: %s %s is greater than %s %s" % (low, limits[low], high, limits[high]))
    chain = ("container_default_request", "container_default", "container_max")
    for option in chain:
        for resource, amount in sorted((limits.get(option) or {}).items()):
            problem = _container_resource_problem(str(resource))
            if problem:
                problems.append("limits: %s: %s" % (option, problem))
            elif parse_quantity(amount) is None:
                problems.append("limits: %s %s %s is not a quantity" % (option, resource, amount))
    for resource in sorted(set(limits.get("container_default") or {}) & set(limits.get("container_default_request") or {})):
        # ValidateLimitRange: resources that cannot be overcommitted (extended ones, hugepages-*)
        # need the default request equal to the default limit
        overcommit = ("/" not in resource or "kubernetes.io/" in resource) and not resource.startswith("hugepages-")
        a = parse_quantity(limits["container_default_request"][resource])
        b = parse_quantity(limits["container_default"][resource])
        if not overcommit and a is not None and b is not None and a != b:
            problems.append("limits: container_default_request %s %s must equal container_default %s %s (it cannot "
                            "be overcommitted)" % (resource, limits["container_default_request"][resource], resource,
                                                   limits["container_default"][resource]))
    for i, low in enumerate(chain):
        for high in chain[i + 1:]:
            for resource in sorted(set(limits.get(low) or {}) & set(limits.get(high) or {})):
                a, b = parse_quantity(limits[low][resource]), parse_quantity(limits[high][resource])
                if a is not None and b is not None and a > b:
                    problems.append("limits: %s %s %s is greater than %s %s %s"
                                    % (low, resource, limits[low][resource], high, resource, limits[high][resource]))
    return problems


def tenant_objects(params):
    """Desired objects of a tenant namespace, in the order they are applied, after refusing
    (StrataError, before any request) what the API server would reject.

    Sections left out (quota, limits, group) are not planned, so existing objects stay as
    they are; network policies are always planned (default deny is the safe default)."""
    problems = tenant_problems(params)
    if problems:
        raise StrataError("namespace %s: %s; nothing was changed" % (params["name"], "; ".join(problems)),
                          hint="the API server would refuse this; fix the input")
    ns = params["name"]
    base_labels = {MANAGED_BY_LABEL: MANAGED_BY, TENANT_LABEL: params.get("tenant") or ns}
    ns_labels = dict(params.get("labels") or {})
    ns_labels.update(base_labels)
    psa = params.get("pod_security") or {}
    for mode in PSA_MODES:
        if psa.get(mode):
            ns_labels["pod-security.kubernetes.io/%s" % mode] = psa[mode]
            if psa.get("version"):
                ns_labels["pod-security.kubernetes.io/%s-version" % mode] = psa["version"]
    namespace = {"apiVersion": "v1", "kind": "Namespace",
                 "metadata": _labels_annotations({"name": ns}, ns_labels, params.get("annotations"))}
    objects = [namespace]

    def meta(name):
        return {"name": name, "namespace": ns, "labels": dict(base_labels)}

    if params.get("quota") is not None:
        hard = quota_hard(params["quota"])
        if hard:
            objects.append({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta(QUOTA_NAME),
                            "spec": {"hard": hard}})
    if params.get("limits") is not None:
        items = _limit_range(params["limits"])
        if items:
            objects.append({"apiVersion": "v1", "kind": "LimitRange", "metadata": meta(LIMITS_NAME),
                            "spec": {"limits": items}})
    if params.get("group"):
        objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(ROLE_NAME),
                        "rules": copy.deepcopy(params.get("role_rules") or DEFAULT_TENANT_RULES)})
        objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(ROLE_NAME),
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ROLE_NAME},
                        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": params["group"]}]})
    if params.get("network_policy", True):
        deny_egress = bool(params.get("deny_egress"))
        objects.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(DENY_POLICY),
                        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"] if deny_egress else ["Ingress"]}})
        peers = [{"podSelector": {}}]
        allowed = sorted(set(params.get("allowed_namespaces") or []))
        if allowed:
            peers.append({"namespaceSelector": {"matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "In", "values": allowed}]}})
        spec = {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": peers}]}
        if deny_egress:
            dns = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
                   "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
            spec["policyTypes"] = ["Ingress", "Egress"]
            spec["egress"] = [{"to": copy.deepcopy(peers)}, dns]
        else:
            spec["egress"] = None   # turning deny_egress off removes the egress rules again
        objects.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(ALLOW_POLICY),
                        "spec": spec})
    return objects


def volumes_to_keep(namespace, pvs):
    """PVs bound (or once bound) to claims of `namespace`: (to_patch, already_kept).

    to_patch: those with reclaimPolicy Delete, which deleting the namespace would destroy."""
    to_patch, kept = [], []
    for pv in sorted(pvs, key=lambda p: p["metadata"]["name"]):
        claim = (pv.get("spec") or {}).get("claimRef") or {}
        if claim.get("namespace") != namespace:
            continue
        policy = (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy") or "Delete"
        (to_patch if policy == "Delete" else kept).append(pv)
    return to_patch, kept


def pv_summary(pv, policy=None):
    spec = pv.get("spec") or {}
    claim = spec.get("claimRef") or {}
    return {"name": pv["metadata"]["name"], "claim": "%s/%s" % (claim.get("namespace"), claim.get("name")),
            "storage_class": spec.get("storageClassName"), "capacity": (spec.get("capacity") or {}).get("storage"),
            "reclaim_policy": policy or spec.get("persistentVolumeReclaimPolicy")}


# --------------------------------------------------------------------------------------------
# branch environments: DNS-1123 namespace names

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def branch_namespace(branch, prefix="br", max_length=63):
    """`<prefix>-<slug>` for a Git branch, a valid DNS-1123 label of at most max_length chars.

    The slug lowercases and turns every run of other characters into one "-". When that changed
    the name (so `feature/A` and `feature-a` do not collide) or it had to be cut, a 6-hex-digit
    hash of the branch name is appended."""
    if not branch or not str(branch).strip():
        raise StrataError("branch name is empty")
    branch = str(branch).strip()
    for strip in ("refs/heads/",):
        if branch.startswith(strip):
            branch = branch[len(strip):]
    prefix = (prefix or "").strip()
    if prefix and not _DNS_LABEL.match(prefix):
        raise StrataError("namespace prefix %r is not a DNS-1123 label (lowercase letters, digits, '-')" % prefix)
    slug = re.sub(r"[^a-z0-9]+", "-", branch.lower()).strip("-")
    base = "%s-%s" % (prefix, slug) if prefix and slug else (prefix or slug)
    suffix = hashlib.sha256(branch.encode("utf-8")).hexdigest()[:6]
    if slug == branch and len(base) <= max_length and base:
        return base
    room = max_length - len(suffix) - 1
    base = base[:room].rstrip("-")
    return "%s-%s" % (base, suffix) if base else "%s" % suffix


# --------------------------------------------------------------------------------------------
# executor

def _hint_for(status):
    return {
        401: "the API server rejected the credentials: check api_key, or the kubeconfig's user and context",
        403: "the credentials lack RBAC permission for this request, or an admission plugin refused it",
        409: "the object changed (or appeared) since it was read; run again to work on its current state",
    }.get(status)


class NotServed(StrataError):
    """The API server serves no such resource at all (a CRD that is not installed)."""


def is_conflict(exc):
    return isinstance(exc, StrataError) and exc.rc == 409


class Executor:
    """Sends requests with the kubernetes client; records reads and actions in the lists given
    (the module's Runner lists, so failures report what was already done)."""

    def __init__(self, api_client, check_mode, actions, reads, page_size=500):
        self.api = api_client
        self.check_mode = check_mode
        self.actions = actions
        self.reads = reads
        self.page_size = page_size
        self.notes = []
        self.done = []   # the steps that were applied (or, in check mode, would be): the changes

    @property
    def host(self):
        return getattr(getattr(self.api, "configuration", None), "host", None)

    def request(self, method, path, query=None, body=None, what=None):
        """JSON request; returns the decoded body. Raises StrataError on failure."""
        query = list(query or [])
        if method in ("POST", "PUT", "PATCH"):
            # read from the query by create.go/update.go/patch.go: our name in managedFields, and
            # an unknown field refused (400) instead of silently dropped (the default, Warn)
            query += [("fieldManager", FIELD_MANAGER), ("fieldValidation", "Strict")]
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            if hasattr(self.api, "param_serialize"):      # kubernetes >= 32 (new generator)
                serialized = self.api.param_serialize(method=method, resource_path=path, query_params=query,
                                                      header_params=headers, body=body, auth_settings=["BearerToken"])
                response = self.api.call_api(*serialized, _request_timeout=REQUEST_TIMEOUT)
                data = response.read()
                if not 200 <= response.status <= 299:
                    raise ApiException(http_resp=response)
            else:                                           # older clients
                response = self.api.call_api(path, method, query_params=query, header_params=headers, body=body,
                                             auth_settings=["BearerToken"], _preload_content=False,
                                             _return_http_data_only=True, _request_timeout=REQUEST_TIMEOUT)
                data = response.data
        except ApiException as exc:
            if not exc.status:   # the client's own wrapper of a TLS failure
                raise connection_error(exc, self.host, what or path)
            if exc.status == 404 and not status_of(exc):
                # not a Status: no handler serves the path (notfoundhandler's text/plain 404)
                raise NotServed("%s: the API server does not serve %s" % (what or "%s %s" % (method, path), path), rc=404)
            raise api_error(what or "%s %s" % (method, path), exc, hint=_hint_for(exc.status))
        except StrataError:
            raise
        except connection_errors() as exc:   # no HTTP answer at all
            raise connection_error(exc, self.host, what or path)
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        return json.loads(data) if data else {}

    def get(self, spec, name, namespace=None):
        """The live object as a dict, or None when it does not exist (NotServed when the API has
        no such resource at all)."""
        path = spec.path(name, namespace)
        self.reads.append(["GET", path])
        try:
            return self.request("GET", path, what="reading %s" % spec.what(name, namespace))
        except NotServed:
            raise
        except StrataError as exc:
            if exc.rc == 404:
                return None
            raise

    def list(self, spec, namespace=None):
        """Every item (client.paginate: continue tokens, a full list after 410 Expired)."""
        path = spec.path(None, namespace)

        def fetch(limit, token):
            query = [("limit", str(limit))] if limit else []
            if token:
                query.append(("continue", token))
            self.reads.append(["GET", path])
            return self.request("GET", path, query=query, what="listing %s" % spec.plural)

        return paginate(fetch, self.page_size)[0]

    def apply(self, step):
        """Send one planned write as a dry run in check mode; returns the API's answer or None."""
        action = {"description": step.description, "method": step.method, "path": step.path,
                  "dry_run": self.check_mode}
        if self.check_mode and not step.sendable_in_check:
            action["sent"] = False
            self.actions.append(action)
            self.done.append(step)
            if step.unsent_reason and step.unsent_reason not in self.notes:
                self.notes.append(step.unsent_reason)
            return None
        if step.preflight is not None:
            self.preflight_create(step)
        self.actions.append(action)
        query, body = [], step.body
        if step.method == "DELETE":
            # handlers/delete.go decodes DeleteOptions from the body whenever there is one and
            # then never reads the query: dryRun must be in the body
            body = dict(body or {"apiVersion": "v1", "kind": "DeleteOptions"})
            if self.check_mode:
                body["dryRun"] = ["All"]
        elif self.check_mode:
            query = [("dryRun", "All")]
        for attempt in range(6):
            try:
                answer = self.request(step.method, step.path, query=query, body=body, what=step.description)
                break
            except StrataError as exc:
                if is_conflict(exc):
                    # not applied: the caller plans again from a fresh read (retry_on_conflict)
                    self.actions.remove(action)
                if not (step.retry_webhook and exc.rc == 400 and "already exists for driver" in exc.msg and attempt < 5):
                    raise
                time.sleep(1)
        self.done.append(step)
        if step.wait_gone and not self.check_mode and answer and (answer.get("metadata") or {}).get("deletionTimestamp"):
            self.wait_gone(step.path, step.description, timeout=60)
        return answer

    def preflight_create(self, step):
        """Dry-run the create that follows a re-create's DELETE, before the DELETE (in check mode
        too). The real server validates and admits a create before its storage finds the name
        taken (registry/generic/registry/store.go Create: BeforeCreate, then createValidation,
        then Storage.Create; a dry run stops there with AlreadyExists): 409 AlreadyExists means
        the body passed, any other refusal would leave the object deleted and not re-created.
        The snapshot webhook's "default ... already exists for driver" is no verdict on the body:
        the plan takes the other defaults' marks off first, and the old object is still there."""
        path, body, what = step.preflight
        self.reads.append(["POST", path, "dryRun=All"])
        try:
            self.request("POST", path, query=[("dryRun", "All")], body=body, what="dry run of the re-create")
        except StrataError as exc:
            reason = (((exc.details or {}).get("status") or {}).get("reason"))
            if exc.rc == 409 and reason == "AlreadyExists":
                return
            if exc.rc == 400 and "already exists for driver" in exc.msg:
                return
            raise StrataError("%s: the API server refuses the object it would be re-created as, so it was not "
                              "deleted; nothing was changed: %s" % (what, exc.msg),
                              rc=exc.rc, hint="fix the input the API server refused", details=exc.details)

    def wait_gone(self, path, what, timeout, sleep=2):
        """Poll until GET answers 404; StrataError naming what remains after `timeout` seconds."""
        deadline = time.time() + timeout
        delay = 0.2
        while True:
            self.reads.append(["GET", path])
            try:
                obj = self.request("GET", path, what=what)
            except StrataError as exc:
                if exc.rc == 404:
                    return True
                raise
            if time.time() >= deadline:
                meta = obj.get("metadata") or {}
                why = ""
                finalizers = list(meta.get("finalizers") or [])
                finalizers.extend((obj.get("spec") or {}).get("finalizers") or [])
                if finalizers:
                    why = " (finalizers: %s)" % ", ".join(finalizers)
                conditions = [c.get("message") for c in (obj.get("status") or {}).get("conditions") or []
                              if c.get("status") == "True" and c.get("message")]
                if conditions:
                    why += ": " + "; ".join(conditions)
                raise StrataError("%s: still there after %d seconds, being deleted%s" % (what, timeout, why), rc=408,
                                  hint="its finalizers are waiting for controllers; wait longer (wait_timeout) "
                                       "or look at what remains")
            time.sleep(min(delay, sleep, max(0.0, deadline - time.time())))
            delay *= 2

    def apply_all(self, plans):
        """Apply the steps of every plan in order; returns {(kind, name): last answer}."""
        answers = {}
        for plan in plans:
            for step in plan.steps:
                answer = self.apply(step)
                if answer and answer.get("kind") != "Status":
                    answers[(plan.spec.kind, plan.namespace, plan.name)] = answer
                elif step.method == "DELETE":
                    answers[(plan.spec.kind, plan.namespace, plan.name)] = None
        return answers


def retry_on_conflict(work, what, notes, executor=None):
    """Run work() again from a fresh read when a write met a concurrent change (409 Conflict or
    AlreadyExists), at most CONFLICT_RETRIES times. In check mode the dry runs of the attempt
    that met the conflict wrote nothing, and the next attempt plans and sends them again: they
    are dropped from the executor's actions, so each change is reported once."""
    for attempt in range(CONFLICT_RETRIES + 1):
        marks = (len(executor.actions), len(executor.done)) if executor is not None else None
        try:
            return work()
        except StrataError as exc:
            if not is_conflict(exc) or attempt == CONFLICT_RETRIES:
                raise
            if executor is not None and executor.check_mode:
                del executor.actions[marks[0]:]
                del executor.done[marks[1]:]
            notes.append("%s changed while this run worked on it (409 conflict: %s); read it again and planned again"
                         % (what, exc.msg))


# --------------------------------------------------------------------------------------------
# the body shared by k8s_storageclass and k8s_volumesnapshotclass

def not_served_error(kind):
    return StrataError("the %s API is not served by this cluster; nothing was changed" % kind,
                       rc=404, hint="install the CSI external-snapshotter's CRDs (snapshot.storage.k8s.io), or check "
                                    "that host, kubeconfig and context point at the cluster you mean")


def _plan_class(executor, params, spec, build_desired):
    """Read and plan one class and the default switch; (plans, warnings)."""
    name = params["name"]
    live = executor.get(spec, name)
    warnings = []
    if params["state"] == "absent":
        plans = [plan_object(spec, {"metadata": {"name": name}}, live, state="absent")]
        if live and ((live.get("metadata") or {}).get("annotations") or {}).get(spec.default_annotation) == "true":
            warnings.append("%s was the default %s; there is none now unless another is marked"
                            % (spec.what(name), spec.kind))
        return plans, warnings
    desired = build_desired(params, live)
    main = plan_object(spec, desired, live, recreate=params["recreate"])
    if main.immutable_changes and not params["recreate"]:
        raise immutable_error(main)
    others = []
    if params.get("default"):
        scope = (desired.get(spec.default_scope) or (live or {}).get(spec.default_scope)) if spec.default_scope else None
        others = plan_default_others(spec, name, scope, executor.list(spec))
    if spec.default_scope and others:
        # The snapshot validation webhook (external-snapshotter pkg/validation-webhook/
        # snapshot.go) refuses a second default per driver: unmark the others first. Its dry
        # run of the mark would be refused too while they are still marked.
        for step in main.steps:
            if step.method in ("POST", "PUT"):
                step.retry_webhook = True
                step.sendable_in_check = False
                step.unsent_reason = ("check mode cannot dry-run marking %s default while %s %s still marked: the "
                                      "snapshot webhook refuses two defaults per driver"
                                      % (spec.what(name), ", ".join(p.name for p in others),
                                         "is" if len(others) == 1 else "are"))
        return others + [main], warnings
    # StorageClass: mark this one first, then unmark the others, so there is always a default
    return [main] + others, warnings


def apply_class(module, runner, kind, build_desired, result_key):
    """Read, plan (refusing immutable changes unless recreate), apply, report; a concurrent
    change (409) is answered by reading and planning again."""
    from ansible_collections.strata.storage.plugins.module_utils.k8s.client import api_client
    from ansible_collections.strata.storage.plugins.module_utils.core.module_support import finish
    from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan

    params = module.params
    spec = KINDS[kind]
    name = params["name"]
    executor = Executor(api_client(params), module.check_mode, runner.actions, runner.reads)
    notes, first = [], {}

    def work():
        plans, warnings = _plan_class(executor, params, spec, build_desired)
        if not first:
            first["before"] = dict((p.name, p.before) for p in plans if p.before or p.changed)
            first["plans"] = plans
        after = dict((p.name, p.after) for p in plans if p.after or p.changed)
        answers = executor.apply_all(plans)
        for p in plans:
            key = (spec.kind, None, p.name)
            if key in answers:
                after[p.name] = view(answers[key]) if answers[key] else {}
        return plans, after, warnings

    try:
        plans, after, warnings = retry_on_conflict(work, spec.what(name), notes, executor)
    except NotServed:
        if params["state"] != "absent":
            raise not_served_error(kind)
        module.warn("the %s API is not served by this cluster (its CRD is not installed), so there is no %s to delete"
                    % (kind, name))
        plans, after, warnings = [], {}, []
        first.setdefault("before", {})
    plan = Plan(actions=executor.done, before=first["before"], after=after, warnings=warnings,
                notes=executor.notes + notes)
    main = [p for p in plans if p.name == name]
    if params.get("recreate") and main and main[0].immutable_changes:
        plan.notes.append("%s was deleted and re-created to change %s; PersistentVolumes provisioned from it keep "
                          "working" % (spec.what(name), ", ".join(main[0].immutable_changes)))
    finish(module, runner, plan, **{
        result_key: after.get(name, {}),
        "default_removed_from": [p.name for p in plans if p.name != name and p.changed],
    })
