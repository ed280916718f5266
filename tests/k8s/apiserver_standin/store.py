# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""In-memory object store and API semantics of the stand-in (no HTTP here).

Objects are plain dicts that are never mutated once stored (every write stores a new dict), so
a list snapshot is a list of references and continue tokens can page through it consistently.
"""

from __future__ import annotations

import base64
import collections
import json
import random
import re
import threading
import time
import uuid

from . import validation
from .resources import BY_KIND, lookup_kind

GENERATE_CHARS = "bcdfghjklmnpqrstvwxz2456789"
SNAPSHOTS_KEPT = 256
PVC_PROTECTION = "kubernetes.io/pvc-protection"   # pkg/volume/util/finalizer.go
PV_PROTECTION = "kubernetes.io/pv-protection"
# staging/src/k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle/admission.go Register()
IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")
SNAPSHOT_DEFAULT = "snapshot.storage.kubernetes.io/is-default-class"
SNAPSHOT_WEBHOOK = "validation-webhook.snapshot.storage.k8s.io"


class ApiError(Exception):
    """An error answered with a Status body."""

    def __init__(self, code, reason, message, details=None, headers=None):
        Exception.__init__(self, message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "code": self.code}
        if self.reason:  # a webhook denial has none (reason is omitempty)
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        return body


def _details(resource, name, kind=None):
    details = {"name": name}
    if resource.group:
        details["group"] = resource.group
    details["kind"] = kind or resource.plural
    return details


def not_found(resource, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (resource.qualified, name), _details(resource, name))


def namespace_not_found(name):
    return ApiError(404, "NotFound", 'namespaces "%s" not found' % name, {"name": name, "kind": "namespaces"})


def already_exists(resource, name):
    return ApiError(409, "AlreadyExists", '%s "%s" already exists' % (resource.qualified, name),
                    _details(resource, name))


def conflict(resource, name):
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object has been modified; '
                    'please apply your changes to the latest version and try again' % (resource.qualified, name),
                    _details(resource, name))


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def forbidden(resource, name, why, causes=None):
    """apierrors.NewForbidden(qualifiedResource, name, err)."""
    details = _details(resource, name)
    if causes:
        details["causes"] = causes
    return ApiError(403, "Forbidden", '%s "%s" is forbidden: %s' % (resource.qualified, name, why), details)


def invalid_options(kind, errors):
    """apierrors.NewInvalid(GroupKind{meta.k8s.io, <kind>Options}, "", errs): bad request options."""
    causes = [{"reason": e.reason, "message": e.body(), "field": e.field} for e in errors]
    text = str(errors[0]) if len(errors) == 1 else "[%s]" % ", ".join(str(e) for e in errors)
    return ApiError(422, "Invalid", '%s.meta.k8s.io "" is invalid: %s' % (kind, text),
                    {"name": "", "group": "meta.k8s.io", "kind": kind, "causes": causes})


def invalid(resource, name, errors):
    causes = [{"reason": e.reason, "message": e.body(), "field": e.field} for e in errors]
    if len(errors) == 1:
        text = str(errors[0])
    else:
        text = "[%s]" % ", ".join(str(e) for e in errors)
    details = _details(resource, name or "", kind=resource.kind)
    details["causes"] = causes
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s' % (resource.qualified_kind, name or "", text), details)


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def errs_text(errors):
    return [str(e) for e in errors]


def _quantity_text(value):
    """A quantity as resource.Quantity.String() shows whole binary sizes ("10Gi") and counts ("2")."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return str(value)
    if number != value:
        return str(value)
    for suffix, factor in (("Ti", 2 ** 40), ("Gi", 2 ** 30), ("Mi", 2 ** 20), ("Ki", 2 ** 10)):
        if number and number % factor == 0:
            return "%d%s" % (number // factor, suffix)
    return str(number)


def _copy(obj):
    return json.loads(json.dumps(obj))


def _stamp_phase_transition(resource, old, new):
    """PV status strategy (Kubernetes 1.31+, PersistentVolumeLastPhaseTransitionTime GA): when
    the phase changes and the writer did not set a new lastPhaseTransitionTime, the server sets
    it to now. Other kinds have no such field."""
    if resource.kind != "PersistentVolume":
        return
    old_status = old.get("status") or {}
    new_status = new.get("status")
    if not isinstance(new_status, dict) or new_status.get("phase") == old_status.get("phase"):
        return
    if new_status.get("lastPhaseTransitionTime") == old_status.get("lastPhaseTransitionTime"):
        new_status["lastPhaseTransitionTime"] = now()


# ---------------------------------------------------------------------------------------------
# selectors

_REQ_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9./_-]+)\s*(?:(==|=|!=|\snotin\s|\sin\s)\s*(.*?))?\s*$")


def _split_top(text):
    parts, depth, cur = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += char
    if cur.strip():
        parts.append(cur)
    return parts


def parse_label_selector(text):
    """[(key, op, values)] with op in = != in notin exists !exists."""
    reqs = []
    for part in _split_top(text or ""):
        match = _REQ_RE.match(" " + part.replace("(", " (") + " ")
        if not match:
            raise bad_request("unable to parse requirement: found '%s', expected: identifier" % part.strip())
        neg, key, op, rest = match.groups()
        if op is None:
            reqs.append((key, "!exists" if neg else "exists", ()))
            continue
        if neg:
            raise bad_request("unable to parse requirement: found '%s'" % part.strip())
        op = op.strip()
        if op in ("in", "notin"):
            rest = rest.strip()
            if not (rest.startswith("(") and rest.endswith(")")):
                raise bad_request("unable to parse requirement: found '%s', expected: '('" % rest)
            values = tuple(v.strip() for v in rest[1:-1].split(",") if v.strip())
            reqs.append((key, op, values))
        else:
            reqs.append((key, "!=" if op == "!=" else "=", (rest.strip(),)))
    return reqs


def label_match(reqs, labels):
    for key, op, values in reqs:
        has = key in labels
        value = labels.get(key)
        if op == "exists" and not has:
            return False
        if op == "!exists" and has:
            return False
        if op == "=" and value != values[0]:
            return False
        if op == "!=" and has and value == values[0]:
            return False
        if op == "in" and value not in values:
            return False
        if op == "notin" and has and value in values:
            return False
    return True


def parse_field_selector(resource, text):
    reqs = []
    for part in [p for p in (text or "").split(",") if p.strip()]:
        match = re.match(r"^\s*([^!=]+?)\s*(==|!=|=)\s*(.*?)\s*$", part)
        if not match:
            raise bad_request("invalid selector: '%s'; can't understand '%s'" % (text, part))
        field, op, value = match.groups()
        if field not in resource.fields:
            raise bad_request('Unable to find "%s/%s, Resource=%s" that match label selector "", field selector '
                              '"%s": field label not supported: %s'
                              % (resource.group, resource.version, resource.plural, text, field))
        reqs.append((field, op != "!=", value))
    return reqs


def _field_value(obj, field):
    node = obj
    for part in field.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if field == "source":
        node = ((obj.get("source") or {}).get("component")) or obj.get("reportingComponent")
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, list):
        return ",".join(str(i.get("ip", i)) if isinstance(i, dict) else str(i) for i in node)
    return str(node)


def field_match(reqs, obj):
    for field, equal, value in reqs:
        if (_field_value(obj, field) == value) != equal:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# patches


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return _copy(patch)
    result = _copy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request("the server rejected our request due to an error in our request: invalid JSON pointer %r"
                          % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, parts):
    node = doc
    for part in parts:
        if isinstance(node, list):
            try:
                node = node[int(part)]
            except (ValueError, IndexError):
                raise _patch_failed("index %s out of bounds" % part)
        elif isinstance(node, dict):
            if part not in node:
                raise _patch_failed("missing path %s" % part)
            node = node[part]
        else:
            raise _patch_failed("cannot descend into %s" % part)
    return node


def _patch_failed(why):
    return ApiError(422, "Invalid", "the server rejected our request due to an error in our request: %s" % why)


def json_patch(doc, ops):
    """RFC 6902 JSON patch."""
    if not isinstance(ops, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = _copy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise bad_request("invalid JSON patch operation: %s" % json.dumps(op))
        kind = op["op"]
        parts = _pointer(op["path"])

        def put(doc, parts, value, replace=False):
            if not parts:
                return value
            parent = _walk(doc, parts[:-1])
            last = parts[-1]
            if isinstance(parent, list):
                if last == "-":
                    parent.append(value)
                else:
                    idx = int(last)
                    if idx > len(parent) or idx < 0:
                        raise _patch_failed("index %s out of bounds" % last)
                    if replace:
                        parent[idx] = value
                    else:
                        parent.insert(idx, value)
            elif isinstance(parent, dict):
                if replace and last not in parent:
                    raise _patch_failed("replace operation does not apply: doc is missing key: %s" % op["path"])
                parent[last] = value
            else:
                raise _patch_failed("cannot set %s" % op["path"])
            return doc

        def remove(doc, parts):
            parent = _walk(doc, parts[:-1])
            last = parts[-1]
            if isinstance(parent, list):
                try:
                    return parent.pop(int(last))
                except (ValueError, IndexError):
                    raise _patch_failed("remove operation does not apply: index out of bounds: %s" % op["path"])
            if not isinstance(parent, dict) or last not in parent:
                raise _patch_failed("remove operation does not apply: doc is missing path: \"%s\": missing value"
                                    % op["path"])
            return parent.pop(last)

        if kind == "add":
            doc = put(doc, parts, _copy(op.get("value")))
        elif kind == "replace":
            doc = put(doc, parts, _copy(op.get("value")), replace=True)
        elif kind == "remove":
            remove(doc, parts)
        elif kind in ("move", "copy"):
            source = _pointer(op.get("from", ""))
            value = _copy(_walk(doc, source))
            if kind == "move":
                remove(doc, source)
            doc = put(doc, parts, value)
        elif kind == "test":
            if _walk(doc, parts) != op.get("value"):
                raise _patch_failed("testing value %s failed: test failed" % op["path"])
        else:
            raise bad_request("Unexpected kind: %s" % kind)
    return doc


# ---------------------------------------------------------------------------------------------
# the store


class Store(object):
    """Objects by resource, the resourceVersion counter, list snapshots, request log."""

    def __init__(self):
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        with self.lock:
            self.rv = 0
            self.objects = collections.defaultdict(dict)  # resource -> {(ns, name): obj}
            self.snapshots = collections.OrderedDict()
            self.request_log = []
            # knobs tests turn (reset to these defaults before every test)
            self.controller_delay = None   # namespace controller: None = only run_controllers(); else seconds
            self.expire_continue = 0       # the next N list requests carrying a continue token get 410 Expired
            self.unserved = set()          # resource.qualified names answered as not served (CRD missing)
            self.snapshot_webhook = True   # external-snapshotter's validating webhook is installed
            self.hooks = []                # [(fn, once)]: fn(store, method, path, query) before each API request
            self.hook_errors = []
            self._generation = getattr(self, "_generation", 0) + 1  # stops timers of earlier tests

    # -- test hooks -----------------------------------------------------------------------------

    def add_hook(self, fn, once=True, after=False):
        """fn(store, method, path, query) runs before the request is served (after=True: once
        it was served), outside the lock; e.g. to change an object between a client's read and
        its write."""
        with self.lock:
            self.hooks.append((fn, once, after))

    def run_hooks(self, method, path, query, after=False):
        with self.lock:
            hooks = [h for h in self.hooks if h[2] == after]
        for entry in hooks:
            fn, once, dummy = entry
            if once:
                with self.lock:
                    if entry not in self.hooks:
                        continue
                    self.hooks.remove(entry)
            try:
                fn(self, method, path, query)
            except Exception as exc:  # the test reads hook_errors
                self.hook_errors.append(exc)

    # -- request accounting --------------------------------------------------------------------

    def record(self, method, path, query, body=None, headers=None):
        """One API request: method, path, query (last value of each parameter, `continue` left
        out), body (the decoded JSON of a write, else None) and headers (the ones tests look at:
        impersonation, the authorization scheme, user agent, Via)."""
        with self.lock:
            self.request_log.append({"method": method, "path": path,
                                     "query": dict((k, v) for k, v in query.items() if k != "continue"),
                                     "body": body, "headers": dict(headers or {})})

    def requests(self):
        with self.lock:
            return [dict(r, query=dict(r["query"]), headers=dict(r["headers"]), body=_copy(r["body"]))
                    for r in self.request_log]

    def reset_requests(self):
        with self.lock:
            self.request_log = []

    # -- helpers ------------------------------------------------------------------------------

    def _next_rv(self):
        self.rv += 1
        return str(self.rv)

    def _key(self, resource, namespace, name):
        return ((namespace or "") if resource.namespaced else "", name)

    def current(self, resource, namespace, name):
        return self.objects[resource].get(self._key(resource, namespace, name))

    def namespace_exists(self, name):
        return (("", name)) in self.objects[BY_KIND[("v1", "Namespace")]]

    def namespace(self, name):
        return self.objects[BY_KIND[("v1", "Namespace")]].get(("", name))

    def _initial_status(self, resource):
        return {"Namespace": {"phase": "Active"}, "PersistentVolume": {"phase": "Available"},
                "PersistentVolumeClaim": {"phase": "Pending"}, "Pod": {"phase": "Pending"}}.get(resource.kind)

    def _stamp_new(self, resource, obj, dry_run):
        meta = obj["metadata"]
        for key in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(key, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now()
        meta["generation"] = 1
        if dry_run:
            meta.pop("resourceVersion", None)
        else:
            meta["resourceVersion"] = self._next_rv()

    # -- in-process seeding (trusted test data; no schema pass) ----------------------------------

    def seed(self, objects, validate=False):
        """Store full objects (with apiVersion/kind) as given, status included. Namespaces of
        namespaced objects are created when missing. Returns the stored objects."""
        stored = []
        with self.lock:
            for raw in objects:
                obj = _copy(raw)
                resource = lookup_kind(obj.get("apiVersion"), obj.get("kind"))
                meta = obj.setdefault("metadata", {})
                if not meta.get("name"):
                    raise ValueError("seed object without metadata.name: %r" % (raw,))
                if resource.namespaced:
                    meta.setdefault("namespace", "default")
                    if not self.namespace_exists(meta["namespace"]):
                        self.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": meta["namespace"]}}])
                else:
                    meta.pop("namespace", None)
                validation.apply_defaults(resource, obj)
                validation.omit_empty(resource, obj)
                if validate:
                    validation.check_quantities(resource, obj)
                    validation.validate_create(resource, obj)
                status = self._initial_status(resource)
                if status is not None and "status" not in obj:
                    obj["status"] = status
                if "finalizers" not in meta:
                    # the protection controllers add their finalizer to claims and volumes that
                    # lack it (pvc_protection_controller.go / pv_protection_controller.go addFinalizer)
                    self._protect(resource, obj)
                self._quota_status(resource, obj)
                meta.setdefault("uid", str(uuid.uuid4()))
                meta.setdefault("creationTimestamp", now())
                meta.setdefault("generation", 1)
                meta["resourceVersion"] = self._next_rv()
                self.objects[resource][self._key(resource, meta.get("namespace"), meta["name"])] = obj
                stored.append(obj)
            self._reconcile()
        return stored

    def get_object(self, api_version, kind, name, namespace=None):
        resource = lookup_kind(api_version, kind)
        with self.lock:
            obj = self.current(resource, namespace, name)
            return _copy(obj) if obj is not None else None

    def list_objects(self, api_version, kind, namespace=None):
        resource = lookup_kind(api_version, kind)
        with self.lock:
            items = [o for k, o in sorted(self.objects[resource].items())
                     if namespace is None or not resource.namespaced or k[0] == namespace]
            return _copy(items)

    def dump(self):
        with self.lock:
            return dict(("%s/%s" % (r.api_version, r.kind), sorted(objs.values(), key=lambda o: (
                o["metadata"].get("namespace", ""), o["metadata"]["name"]))) for r, objs in self.objects.items() if objs)

    # -- API verbs -----------------------------------------------------------------------------

    def _prepare_body(self, resource, body, namespace, field_validation, warnings):
        if not isinstance(body, dict):
            raise bad_request("the body of the request was not a JSON object")
        obj = _copy(body)
        api_version = obj.get("apiVersion")
        kind = obj.get("kind")
        if api_version is not None and api_version != resource.api_version or kind is not None and kind != resource.kind:
            raise bad_request("the API version in the data (%s) does not match the expected API version (%s)"
                              % (api_version, resource.api_version) if api_version != resource.api_version else
                              "the kind in the data (%s) does not match the expected kind (%s)" % (kind, resource.kind))
        obj["apiVersion"] = resource.api_version
        obj["kind"] = resource.kind
        meta = obj.get("metadata")
        if meta is None:
            meta = obj["metadata"] = {}
        if not isinstance(meta, dict):
            raise bad_request('%s in version "%s" cannot be handled as a %s: json: cannot unmarshal %s into Go struct '
                              'field %s.metadata of type v1.ObjectMeta'
                              % (resource.kind, resource.version, resource.kind, type(meta).__name__, resource.kind))
        if resource.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise bad_request("the namespace of the provided object does not match the namespace sent on the "
                                  "request")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        try:
            unknown = validation.check_schema(resource, obj)
            validation.check_quantities(resource, obj)
        except validation.BadRequest as exc:
            raise bad_request(str(exc))
        except validation.Invalid as exc:
            raise invalid(resource, meta.get("name") or meta.get("generateName"), exc.errors)
        if unknown:
            if field_validation == "Strict":
                if len(unknown) == 1:
                    why = 'unknown field "%s"' % unknown[0]
                else:
                    why = ", ".join('unknown field "%s"' % u for u in unknown)
                if resource.crd:
                    raise bad_request("strict decoding error: %s" % why)
                raise bad_request('%s in version "%s" cannot be handled as a %s: strict decoding error: %s'
                                  % (resource.kind, resource.version, resource.kind, why))
            if field_validation == "Warn":
                warnings.extend('unknown field "%s"' % u for u in unknown)
            validation.drop_fields(obj, unknown)
        return obj

    def create(self, resource, namespace, body, dry_run=False, field_validation="Warn", warnings=None):
        warnings = [] if warnings is None else warnings
        with self.lock:
            obj = self._prepare_body(resource, body, namespace, field_validation, warnings)
            meta = obj["metadata"]
            if resource.namespaced and not self.namespace_exists(namespace):
                raise namespace_not_found(namespace)
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + "".join(random.choice(GENERATE_CHARS) for dummy in range(5))
            self._namespace_lifecycle(resource, namespace, meta.get("name"))
            validation.apply_defaults(resource, obj)
            self._admit_create(resource, obj)
            self._protect(resource, obj)
            validation.omit_empty(resource, obj)
            try:
                validation.validate_create(resource, obj)
            except validation.Invalid as exc:
                raise invalid(resource, meta.get("name"), exc.errors)
            self._validating_admission(resource, None, obj)
            if self.current(resource, namespace, meta["name"]) is not None:
                raise already_exists(resource, meta["name"])
            obj.pop("status", None)
            status = self._initial_status(resource)
            if status is not None:
                obj["status"] = status
                if resource.kind == "PersistentVolume":
                    obj["status"]["lastPhaseTransitionTime"] = now()
            self._quota_status(resource, obj)
            self._stamp_new(resource, obj, dry_run)
            if not dry_run:
                self.objects[resource][self._key(resource, namespace, meta["name"])] = obj
                self._reconcile()
            return _copy(obj)

    def _namespace_lifecycle(self, resource, namespace, name):
        """NamespaceLifecycle admission (staging/src/k8s.io/apiserver/pkg/admission/plugin/
        namespace/lifecycle/admission.go): nothing new may be created in a namespace that is
        being terminated; dry-run requests are admitted the same way."""
        if not resource.namespaced:
            return
        ns = self.namespace(namespace)
        if ns is not None and (ns.get("status") or {}).get("phase") == "Terminating":
            raise forbidden(resource, name or "Unknown", "unable to create new content in namespace %s because it "
                            "is being terminated" % namespace,
                            causes=[{"reason": "NamespaceTerminating", "field": "metadata.namespace",
                                     "message": "namespace %s is being terminated" % namespace}])

    def _protect(self, resource, obj):
        """StorageObjectInUseProtection admission (plugin/pkg/admission/storage/
        storageobjectinuseprotection/admission.go): claims and volumes get their protection
        finalizer on create."""
        finalizer = {"PersistentVolumeClaim": PVC_PROTECTION, "PersistentVolume": PV_PROTECTION}.get(resource.kind)
        if finalizer:
            finalizers = obj["metadata"].setdefault("finalizers", [])
            if finalizer not in finalizers:
                finalizers.append(finalizer)

    def _quota_status(self, resource, obj):
        """The resource quota controller copies spec.hard to status.hard (quota admission only
        enforces what status.hard holds). Modelled as instant."""
        if resource.kind == "ResourceQuota":
            hard = dict((obj.get("spec") or {}).get("hard") or {})
            obj.setdefault("status", {})["hard"] = hard

    def _validating_admission(self, resource, old, new):
        """Validating admission that can refuse a create/update, dry runs included:
        PodSecurity (namespace labels), ResourceQuota (claims), the snapshot webhook."""
        if resource.kind == "Namespace":
            # kubernetes/pod-security-admission admission/admission.go ValidateNamespace: labels
            # must parse on create, and on update when they changed
            errs = validation.pod_security_errors((new["metadata"].get("labels") or {}))
            if errs and (old is None or errs_text(errs) != errs_text(validation.pod_security_errors(
                    old["metadata"].get("labels") or {}))):
                raise invalid(resource, new["metadata"].get("name"), errs)
        elif resource.kind == "PersistentVolumeClaim" and old is None:
            self._admit_quota(resource, new)
        elif resource.kind == "VolumeSnapshotClass" and self.snapshot_webhook:
            self._snapshot_webhook(old, new)

    def _admit_quota(self, resource, pvc):
        """ResourceQuota admission for a new claim (staging/src/k8s.io/apiserver/pkg/admission/
        plugin/resourcequota/controller.go checkRequest): every quota of the namespace whose
        status.hard limits what the claim consumes must still have room, else 403 "exceeded
        quota". Usage is counted from the store (the quota controller modelled as instant)."""
        namespace = pvc["metadata"]["namespace"]
        klass = (pvc.get("spec") or {}).get("storageClassName") or ""
        quotas = [q for k, q in sorted(self.objects[BY_KIND[("v1", "ResourceQuota")]].items()) if k[0] == namespace]
        if not quotas:
            return
        claims = [c for k, c in self.objects[resource].items() if k[0] == namespace]

        def size(claim):
            try:
                return validation.parse_quantity((((claim.get("spec") or {}).get("resources") or {})
                                                  .get("requests") or {}).get("storage") or 0)
            except ValueError:
                return 0

        def usage(key, members):
            if key.endswith("requests.storage"):
                return sum(size(c) for c in members)
            return len(members)

        for quota in quotas:
            hard = (quota.get("status") or {}).get("hard") or {}
            exceeded = []
            for key in sorted(hard):
                prefix = "%s.storageclass.storage.k8s.io/" % klass
                if key in ("persistentvolumeclaims", "requests.storage"):
                    members = claims
                elif klass and key in (prefix + "persistentvolumeclaims", prefix + "requests.storage"):
                    members = [c for c in claims if ((c.get("spec") or {}).get("storageClassName") or "") == klass]
                else:
                    continue
                requested = size(pvc) if key.endswith("requests.storage") else 1
                used = usage(key, members)
                try:
                    limit = validation.parse_quantity(hard[key])
                except ValueError:
                    continue
                if used + requested > limit:
                    exceeded.append((key, requested, used, hard[key]))
            if exceeded:
                def fmt(values):
                    return ",".join("%s=%s" % (key, _quantity_text(value)) for key, value in values)
                raise forbidden(resource, pvc["metadata"]["name"], "exceeded quota: %s, requested: %s, used: %s, "
                                "limited: %s" % (quota["metadata"]["name"], fmt((e[0], e[1]) for e in exceeded),
                                                 fmt((e[0], e[2]) for e in exceeded),
                                                 fmt((e[0], e[3]) for e in exceeded)))

    def _snapshot_webhook(self, old, new):
        """kubernetes-csi/external-snapshotter pkg/validation-webhook/snapshot.go
        decideSnapshotClassV1 (until v8.0; the webhook is called for dry runs too, its
        sideEffects is None): a class may become the default of its driver only while no other
        class of that driver is marked default. Denials are 400 (webhook/errors ToStatusErr)."""
        if (new["metadata"].get("annotations") or {}).get(SNAPSHOT_DEFAULT) != "true":
            return
        if old is not None and (old["metadata"].get("annotations") or {}).get(SNAPSHOT_DEFAULT) == "true" \
                and old.get("driver") == new.get("driver"):
            return
        for key, other in sorted(self.objects[BY_KIND[("snapshot.storage.k8s.io/v1", "VolumeSnapshotClass")]].items()):
            if (other["metadata"].get("annotations") or {}).get(SNAPSHOT_DEFAULT) != "true":
                continue
            if other.get("driver") == new.get("driver"):
                raise ApiError(400, "", 'admission webhook "%s" denied the request: default snapshot class: '
                               '%s already exists for driver: %s' % (SNAPSHOT_WEBHOOK, other["metadata"]["name"],
                                                                     new.get("driver")))

    def _admit_create(self, resource, obj):
        """Admission plugins that change objects: DefaultStorageClass."""
        if resource.kind == "PersistentVolumeClaim":
            spec = obj.setdefault("spec", {})
            if "storageClassName" not in spec:
                default = [sc for sc in self.objects[BY_KIND[("storage.k8s.io/v1", "StorageClass")]].values()
                           if (sc["metadata"].get("annotations") or {}).get(
                               "storageclass.kubernetes.io/is-default-class") == "true"]
                if default:
                    newest = sorted(default, key=lambda s: (s["metadata"]["creationTimestamp"], s["metadata"]["name"]))
                    spec["storageClassName"] = newest[-1]["metadata"]["name"]

    def _admit_update(self, resource, old, new):
        """PersistentVolumeClaimResize admission: growing a claim needs an expandable class."""
        if resource.kind != "PersistentVolumeClaim":
            return
        old_size = (((old.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
        new_size = (((new.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
        if old_size is None or new_size is None:
            return
        try:
            grow = validation.parse_quantity(new_size) > validation.parse_quantity(old_size)
        except ValueError:
            return
        if not grow:
            return
        sc_name = (old.get("spec") or {}).get("storageClassName")
        sc = self.objects[BY_KIND[("storage.k8s.io/v1", "StorageClass")]].get(("", sc_name or ""))
        if not sc_name or sc is None or sc.get("allowVolumeExpansion") is not True:
            raise ApiError(403, "Forbidden", 'persistentvolumeclaims "%s" is forbidden: only dynamically provisioned '
                           'pvc can be resized and the storageclass that provisions the pvc must support resize'
                           % old["metadata"]["name"], {"name": old["metadata"]["name"], "kind": "persistentvolumeclaims"})

    def replace(self, resource, namespace, name, body, dry_run=False, field_validation="Warn", warnings=None,
                subresource=None):
        warnings = [] if warnings is None else warnings
        with self.lock:
            obj = self._prepare_body(resource, body, namespace, field_validation, warnings)
            if obj["metadata"].get("name") != name:
                raise bad_request("the name of the object (%s) does not match the name on the URL (%s)"
                                  % (obj["metadata"].get("name"), name))
            return self._update(resource, namespace, name, obj, dry_run, subresource)

    def patch(self, resource, namespace, name, patch, content_type, dry_run=False, field_validation="Warn",
              warnings=None, subresource=None):
        warnings = [] if warnings is None else warnings
        with self.lock:
            old = self.current(resource, namespace, name)
            if old is None:
                raise not_found(resource, name)
            if content_type == "application/json-patch+json":
                new = json_patch(old, patch)
            elif content_type == "application/merge-patch+json":
                if not isinstance(patch, dict):
                    raise bad_request("json: cannot unmarshal %s into Go value of type map[string]interface {}"
                                      % type(patch).__name__)
                new = merge_patch(old, patch)
            elif content_type == "application/strategic-merge-patch+json" and not resource.crd:
                if not isinstance(patch, dict):
                    raise bad_request("json: cannot unmarshal array into Go value of type map[string]interface {}")
                new = merge_patch(old, patch)  # lists replaced: see README
            else:
                accepted = ["application/json-patch+json", "application/merge-patch+json"]
                if not resource.crd:
                    accepted.append("application/strategic-merge-patch+json")
                raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                               "accepted media types include: %s" % ", ".join(accepted))
            obj = self._prepare_body(resource, new, namespace, field_validation, warnings)
            if obj["metadata"].get("name") != name:
                raise bad_request("the name of the object (%s) does not match the name on the URL (%s)"
                                  % (obj["metadata"].get("name"), name))
            return self._update(resource, namespace, name, obj, dry_run, subresource)

    def _update(self, resource, namespace, name, obj, dry_run, subresource):
        old = self.current(resource, namespace, name)
        if old is None:
            raise not_found(resource, name)
        meta = obj["metadata"]
        want_rv = meta.get("resourceVersion")
        if want_rv and want_rv != old["metadata"]["resourceVersion"]:
            raise conflict(resource, name)
        if meta.get("uid") and meta["uid"] != old["metadata"]["uid"]:
            raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": Precondition failed: UID in '
                           'precondition: %s, UID in object meta: %s'
                           % (resource.qualified, name, old["metadata"]["uid"], meta["uid"]), _details(resource, name))
        for key in ("uid", "creationTimestamp", "generation", "resourceVersion"):
            if key in old["metadata"]:
                meta[key] = old["metadata"][key]
            else:
                meta.pop(key, None)
        if subresource == "status":
            new = _copy(old)
            if "status" in obj:
                new["status"] = obj["status"]
            else:
                new.pop("status", None)
            obj = new
            _stamp_phase_transition(resource, old, obj)
        elif resource.status:
            if "status" in old:
                obj["status"] = old["status"]
            else:
                obj.pop("status", None)
        for key in ("deletionTimestamp", "deletionGracePeriodSeconds"):
            # set by deletes only (ObjectMeta update validation keeps them)
            if key in old["metadata"]:
                meta[key] = old["metadata"][key]
            else:
                meta.pop(key, None)
        validation.apply_defaults(resource, obj)
        validation.omit_empty(resource, obj)
        if subresource != "status":
            self._admit_update(resource, old, obj)
            try:
                validation.validate_update(resource, old, obj)
            except validation.Invalid as exc:
                raise invalid(resource, name, exc.errors)
            self._validating_admission(resource, old, obj)
            self._quota_status(resource, obj)
        if obj == old:
            return _copy(old)  # no-op update: nothing written, resourceVersion unchanged
        ignore = ("metadata", "status", "apiVersion", "kind")
        if dict((k, v) for k, v in obj.items() if k not in ignore) != dict((k, v) for k, v in old.items() if k not in ignore):
            meta["generation"] = int(old["metadata"].get("generation") or 0) + 1
        if dry_run:
            return _copy(obj)
        meta["resourceVersion"] = self._next_rv()
        self.objects[resource][self._key(resource, namespace, name)] = obj
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and not self._spec_finalizers(resource, obj):
            # the last finalizer went: the registry deletes the object (store.go
            # ShouldDeleteDuringUpdate; for namespaces also spec.finalizers must be empty)
            self._remove(resource, namespace, name)
        self._reconcile()
        return _copy(obj)

    def delete(self, resource, namespace, name, options=None, dry_run=False):
        """DELETE as the registry does it: staging/src/k8s.io/apiserver/pkg/registry/generic/
        registry/store.go Delete (preconditions from rest/delete.go BeforeDelete; an object with
        finalizers only gets deletionTimestamp and stays, and that object is the answer) and
        pkg/registry/core/namespace/storage/storage.go REST.Delete for namespaces."""
        options = options or {}
        with self.lock:
            if resource.kind == "Namespace" and name in IMMORTAL_NAMESPACES:
                # NamespaceLifecycle admission (before the registry) refuses the immortal namespaces
                raise forbidden(resource, name, "this namespace may not be deleted")
            old = self.current(resource, namespace, name)
            if old is None:
                raise not_found(resource, name)
            self._check_preconditions(resource, old, options.get("preconditions") or {})
            if resource.kind == "Namespace":
                return self._delete_namespace(resource, old, dry_run)
            meta = old["metadata"]
            if meta.get("finalizers") or meta.get("deletionTimestamp"):
                answer = _copy(old)
                if not meta.get("deletionTimestamp"):
                    answer["metadata"]["deletionTimestamp"] = now()
                    answer["metadata"]["deletionGracePeriodSeconds"] = 0
                    if not dry_run:
                        answer["metadata"]["resourceVersion"] = self._next_rv()
                        self.objects[resource][self._key(resource, namespace, name)] = _copy(answer)
                        self._reconcile()
                return answer
            if not dry_run:
                self._remove(resource, namespace, name)
                self._reconcile()
            if resource.delete_returns_object:
                return _copy(old)
            details = _details(resource, name)
            details["uid"] = old["metadata"]["uid"]
            return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}

    def _check_preconditions(self, resource, old, pre):
        meta = old["metadata"]
        if resource.kind == "Namespace":  # namespace/storage/storage.go words them this way
            if pre.get("uid") and pre["uid"] != meta["uid"]:
                raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on namespaces "%s": Precondition failed: '
                               'UID in precondition: %s, UID in object meta: %s' % (meta["name"], pre["uid"], meta["uid"]),
                               _details(resource, meta["name"]))
            if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
                raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on namespaces "%s": Precondition failed: '
                               'ResourceVersion in precondition: %s, ResourceVersion in object meta: %s'
                               % (meta["name"], pre["resourceVersion"], meta["resourceVersion"]),
                               _details(resource, meta["name"]))
            return
        # rest/delete.go BeforeDelete: the conflict names the Kind (GroupResource{Resource: Kind})
        if pre.get("uid") and pre["uid"] != meta["uid"]:
            raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the UID in the precondition (%s) '
                           'does not match the UID in record (%s). The object might have been deleted and then '
                           'recreated' % (resource.qualified_kind, meta["name"], pre["uid"], meta["uid"]),
                           _details(resource, meta["name"], kind=resource.kind))
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
            raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the ResourceVersion in the '
                           'precondition (%s) does not match the ResourceVersion in record (%s). The object might '
                           'have been modified' % (resource.qualified_kind, meta["name"], pre["resourceVersion"],
                                                   meta["resourceVersion"]),
                           _details(resource, meta["name"], kind=resource.kind))

    def _delete_namespace(self, resource, old, dry_run):
        """pkg/registry/core/namespace/storage/storage.go REST.Delete: the first delete sets
        deletionTimestamp and phase Terminating (and answers with the namespace); while
        spec.finalizers is not empty a later delete changes nothing and answers the same; the
        namespace controller empties it and removes the `kubernetes` finalizer."""
        meta = old["metadata"]
        if not meta.get("deletionTimestamp"):
            answer = _copy(old)
            answer["metadata"]["deletionTimestamp"] = now()
            answer.setdefault("status", {})["phase"] = "Terminating"
            if not dry_run:
                answer["metadata"]["resourceVersion"] = self._next_rv()
                self.objects[resource][self._key(resource, None, meta["name"])] = _copy(answer)
                self._schedule_controllers()
            return answer
        if self._spec_finalizers(resource, old) or meta.get("finalizers"):
            return _copy(old)
        if not dry_run:
            self._remove(resource, None, meta["name"])
        return _copy(old)

    @staticmethod
    def _spec_finalizers(resource, obj):
        return ((obj.get("spec") or {}).get("finalizers") or []) if resource.kind == "Namespace" else []

    def _delete_existing(self, resource, obj):
        """A delete by a controller (no preconditions): finalizers are honoured."""
        meta = obj["metadata"]
        key = self._key(resource, meta.get("namespace"), meta["name"])
        if meta.get("finalizers"):
            if not meta.get("deletionTimestamp"):
                new = _copy(obj)
                new["metadata"]["deletionTimestamp"] = now()
                new["metadata"]["deletionGracePeriodSeconds"] = 0
                new["metadata"]["resourceVersion"] = self._next_rv()
                self.objects[resource][key] = new
        else:
            self._remove(resource, meta.get("namespace"), meta["name"])

    def _remove(self, resource, namespace, name):
        obj = self.objects[resource].pop(self._key(resource, namespace, name))
        self.rv += 1  # a delete is a write
        if resource.kind == "PersistentVolumeClaim":
            self._release_volume(obj)

    # -- controllers ------------------------------------------------------------------------------

    def _pvc_in_use(self, pvc):
        """pkg/controller/volume/pvcprotection/pvc_protection_controller.go podUsesPVC: a pod
        that is scheduled (spec.nodeName set) and names the claim keeps it, whatever its phase
        (a finished Job's pod too, until the pod is deleted); a generic ephemeral volume only
        while the pod is not shut down."""
        meta = pvc["metadata"]
        for key, pod in self.objects[BY_KIND[("v1", "Pod")]].items():
            if key[0] != meta.get("namespace") or not (pod.get("spec") or {}).get("nodeName"):
                continue
            pod_meta = pod["metadata"]
            shut_down = bool(pod_meta.get("deletionTimestamp")) and pod_meta.get("deletionGracePeriodSeconds") == 0
            for volume in (pod.get("spec") or {}).get("volumes") or []:
                claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
                if claim == meta["name"]:
                    return True
                if volume.get("ephemeral") is not None and not shut_down \
                        and "%s-%s" % (pod_meta["name"], volume.get("name")) == meta["name"]:
                    return True
        return False

    def _drop_finalizer(self, resource, key, obj, finalizer):
        new = _copy(obj)
        new["metadata"]["finalizers"] = [f for f in new["metadata"].get("finalizers") or [] if f != finalizer]
        if not new["metadata"]["finalizers"]:
            del new["metadata"]["finalizers"]
        new["metadata"]["resourceVersion"] = self._next_rv()
        self.objects[resource][key] = new
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            self._remove(resource, key[0] or None, key[1])

    def _reconcile(self):
        """The controllers modelled as acting at once after every write: PVC protection (the
        finalizer goes when no pod uses the claim) and PV protection (pv_protection_controller.go
        isBeingUsed: the finalizer goes when the volume is not Bound)."""
        pvc_res, pv_res = BY_KIND[("v1", "PersistentVolumeClaim")], BY_KIND[("v1", "PersistentVolume")]
        changed = True
        while changed:
            changed = False
            for key, pvc in sorted(self.objects[pvc_res].items()):
                meta = pvc["metadata"]
                if meta.get("deletionTimestamp") and PVC_PROTECTION in (meta.get("finalizers") or []) \
                        and not self._pvc_in_use(pvc):
                    self._drop_finalizer(pvc_res, key, pvc, PVC_PROTECTION)
                    changed = True
            for key, pv in sorted(self.objects[pv_res].items()):
                meta = pv["metadata"]
                if meta.get("deletionTimestamp") and PV_PROTECTION in (meta.get("finalizers") or []) \
                        and (pv.get("status") or {}).get("phase") != "Bound":
                    self._drop_finalizer(pv_res, key, pv, PV_PROTECTION)
                    changed = True

    def run_controllers(self):
        """One pass of the namespace controller (pkg/controller/namespace/deletion/
        namespaced_resources_deleter.go): in every Terminating namespace delete all content
        (finalizers honoured, so a claim a pod still uses stays); once nothing is left, remove
        the `kubernetes` finalizer (the finalize subresource), which deletes the namespace.
        Returns the namespaces still terminating."""
        ns_res = BY_KIND[("v1", "Namespace")]
        left = []
        with self.lock:
            for key, ns in sorted(self.objects[ns_res].items()):
                if (ns.get("status") or {}).get("phase") != "Terminating":
                    continue
                name = key[1]
                for resource, objs in sorted(self.objects.items(), key=lambda item: item[0].plural != "pods"):
                    if resource.namespaced:
                        for obj in [o for k, o in sorted(objs.items()) if k[0] == name]:
                            self._delete_existing(resource, obj)
                self._reconcile()
                if any(k[0] == name for r, objs in self.objects.items() if r.namespaced for k in objs):
                    left.append(name)
                    continue
                new = _copy(ns)
                spec = new.setdefault("spec", {})
                spec["finalizers"] = [f for f in spec.get("finalizers") or [] if f != "kubernetes"]
                if not spec["finalizers"]:
                    del spec["finalizers"]
                new["metadata"]["resourceVersion"] = self._next_rv()
                self.objects[ns_res][key] = new
                if not new["metadata"].get("finalizers") and not spec.get("finalizers"):
                    self._remove(ns_res, None, name)
        return left

    def _schedule_controllers(self):
        """With controller_delay set, the namespace controller runs that many seconds after a
        namespace starts terminating, and again every controller_delay while one is left."""
        if self.controller_delay is None:
            return
        generation, delay = self._generation, self.controller_delay

        def tick(attempt):
            with self.lock:
                if self._generation != generation:
                    return
            if self.run_controllers() and attempt < 200:
                timer = threading.Timer(delay, tick, (attempt + 1,))
                timer.daemon = True
                timer.start()

        timer = threading.Timer(delay, tick, (0,))
        timer.daemon = True
        timer.start()

    def _release_volume(self, pvc):
        """The one controller behaviour modelled: the PV bound to a deleted claim becomes
        Released (reclaimPolicy Retain/Recycle) or is deleted (reclaimPolicy Delete)."""
        pv_res = BY_KIND[("v1", "PersistentVolume")]
        meta = pvc["metadata"]
        for key, pv in list(self.objects[pv_res].items()):
            ref = (pv.get("spec") or {}).get("claimRef") or {}
            if ref.get("namespace") != meta.get("namespace") or ref.get("name") != meta["name"]:
                continue
            if ref.get("uid") and ref["uid"] != meta.get("uid"):
                continue
            if (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy") == "Delete":
                self.objects[pv_res].pop(key)
                self.rv += 1
            else:
                new = _copy(pv)
                new.setdefault("status", {})["phase"] = "Released"
                _stamp_phase_transition(pv_res, pv, new)
                new["metadata"]["resourceVersion"] = self._next_rv()
                self.objects[pv_res][key] = new

    def delete_collection(self, resource, namespace, label_selector, field_selector, dry_run=False):
        with self.lock:
            labels = parse_label_selector(label_selector)
            fields = parse_field_selector(resource, field_selector)
            items = [o for k, o in sorted(self.objects[resource].items())
                     if (namespace is None or k[0] == namespace)
                     and label_match(labels, o["metadata"].get("labels") or {}) and field_match(fields, o)]
            if not dry_run:
                for obj in items:
                    self._delete_existing(resource, obj)
                self._reconcile()
            return self._list_body(resource, items, str(self.rv), None, None)

    def _list_body(self, resource, items, rv, token, remaining):
        meta = {"resourceVersion": rv}
        if token:
            meta["continue"] = token
        if remaining is not None:
            meta["remainingItemCount"] = remaining
        if resource.crd:
            out_items = items
        else:
            out_items = [dict((k, v) for k, v in o.items() if k not in ("apiVersion", "kind")) for o in items]
        return {"kind": resource.kind + "List", "apiVersion": resource.api_version, "metadata": meta,
                "items": out_items}

    def list(self, resource, namespace, label_selector=None, field_selector=None, limit=None, token=None):
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(resource, field_selector)
        try:
            limit = int(limit) if limit not in (None, "") else 0
        except ValueError:
            raise bad_request("invalid limit %r" % limit)
        with self.lock:
            if token:
                snap_id, start = self._decode_token(token)
                if self.expire_continue > 0:
                    # as etcd compacting the snapshot's revision between two pages
                    self.expire_continue -= 1
                    self.snapshots.pop(snap_id, None)
                if snap_id not in self.snapshots:
                    raise ApiError(410, "Expired", "The provided continue parameter is too old to display a consistent "
                                   "list result. You can start a new list without the continue parameter, or use the "
                                   "continue token in this response to retrieve the remainder of the results. "
                                   "Continuing with the provided token results in an inconsistent list - objects that "
                                   "were created, modified, or deleted between the time the first chunk was returned "
                                   "and now may show up in the list.")
                snap_rv, snap_items, snap_ns = self.snapshots[snap_id]
                if snap_ns != namespace:
                    raise bad_request("continue key is not valid: key provided for a different list")
            else:
                snap_rv = str(self.rv)
                snap_items = [o for k, o in sorted(self.objects[resource].items())
                              if namespace is None or k[0] == namespace]
                snap_id, start, snap_ns = None, 0, namespace
        # filtering and serialising happen outside the lock: snapshot objects are never mutated
        page, pos = [], start
        while pos < len(snap_items) and (not limit or len(page) < limit):
            obj = snap_items[pos]
            pos += 1
            if labels and not label_match(labels, obj["metadata"].get("labels") or {}):
                continue
            if fields and not field_match(fields, obj):
                continue
            page.append(obj)
        new_token, remaining = None, None
        if limit and pos < len(snap_items):
            # like etcd paging: a token whenever unread objects remain, even if none of them match
            if not labels and not fields:
                remaining = len(snap_items) - pos
            with self.lock:
                if snap_id is None:
                    snap_id = uuid.uuid4().hex
                    self.snapshots[snap_id] = (snap_rv, snap_items, snap_ns)
                    while len(self.snapshots) > SNAPSHOTS_KEPT:
                        self.snapshots.popitem(last=False)
            new_token = self._encode_token(snap_id, pos, snap_rv)
        return self._list_body(resource, page, snap_rv, new_token, remaining)

    @staticmethod
    def _encode_token(snap_id, pos, rv):
        raw = json.dumps({"v": "standin.k8s.io/v1", "rv": int(rv), "snap": snap_id, "start": pos})
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @staticmethod
    def _decode_token(token):
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
            return data["snap"], int(data["start"])
        except (ValueError, KeyError, TypeError):
            raise bad_request("continue key is not valid: incorrect encoded start resourceVersion (version "
                              "meta.k8s.io/v1)")
