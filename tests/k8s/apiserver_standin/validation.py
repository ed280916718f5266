# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request body checks of the API server stand-in.

Three layers, in the order the real API server applies them:

1. decoding against the real OpenAPI-derived JSON schemas bundled by the PyPI package
   `kubernetes-validate` (newest bundled Kubernetes version, "-strict" variant): wrong JSON
   types are 400 BadRequest ("cannot be handled as a Kind"), unknown fields are collected for
   the `fieldValidation` mode (Strict: 400, Warn: dropped + Warning header, Ignore: dropped);
2. defaults (`apply_defaults`);
3. the hand-written Go-style validation of the fields our modules touch (`validate_create`,
   `validate_update`): 422 Invalid with the real `field.Error` texts.

VolumeSnapshotClass is a CRD in real clusters and has no schema in kubernetes-validate: it is
checked against a small schema transcribed from the external-snapshotter CRD (driver and
deletionPolicy required, deletionPolicy Delete|Retain, parameters map of strings).
"""

from __future__ import annotations

import json
import os
import re
import threading
from decimal import Decimal, InvalidOperation

import jsonschema
from referencing import Registry, Resource

# ---------------------------------------------------------------------------------------------
# errors


class FieldError(object):
    """One k8s.io/apimachinery field.Error: reason (FieldValueInvalid...), field path, text."""

    def __init__(self, kind, field, detail="", value=None, supported=None):
        self.kind = kind  # Required, Invalid, Forbidden, NotSupported, Duplicate, TooLong
        self.field = field
        self.detail = detail
        self.value = value
        self.supported = supported

    @property
    def reason(self):
        return {
            "Required": "FieldValueRequired",
            "Invalid": "FieldValueInvalid",
            "Forbidden": "FieldValueForbidden",
            "NotSupported": "FieldValueNotSupported",
            "Duplicate": "FieldValueDuplicate",
            "TooLong": "FieldValueTooLong",
        }[self.kind]

    def body(self):
        """The text after 'field: ' (what Status causes carry as `message`)."""
        if self.kind == "Required":
            text = "Required value"
        elif self.kind == "Forbidden":
            text = "Forbidden"
        elif self.kind == "NotSupported":
            text = "Unsupported value: %s" % go_value(self.value)
            if self.supported:
                text += ": supported values: %s" % ", ".join('"%s"' % s for s in self.supported)
            return text
        elif self.kind == "Duplicate":
            text = "Duplicate value: %s" % go_value(self.value)
        else:
            text = "Invalid value: %s" % go_value(self.value)
        if self.detail:
            text += ": " + self.detail
        return text

    def __str__(self):
        return "%s: %s" % (self.field, self.body()) if self.field else self.body()


class Invalid(Exception):
    """422: a list of FieldErrors."""

    def __init__(self, errors):
        Exception.__init__(self, "; ".join(str(e) for e in errors))
        self.errors = errors


class BadRequest(Exception):
    """400 with a message (decoding errors, strict unknown fields)."""


def go_value(value):
    """A bad value as field.Error prints it (%q for strings, %#v for []string)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "[]string{%s}" % ", ".join(json.dumps(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, sort_keys=True)


def field_path(parts):
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += "[%d]" % part
        else:
            out += ("." if out else "") + str(part)
    return out


# ---------------------------------------------------------------------------------------------
# schemas from kubernetes-validate

_SCHEMA_LOCK = threading.Lock()
_VALIDATORS = {}
_REGISTRY = []
_SCHEMA_DIR = []


def _version_key(name):
    nums = re.match(r"^v(\d+)\.(\d+)\.(\d+)", name)
    return tuple(int(x) for x in nums.groups()) if nums else (0, 0, 0)


def schema_dir():
    """The newest `vX.Y.Z-local-strict` directory bundled by kubernetes-validate."""
    if not _SCHEMA_DIR:
        import kubernetes_validate
        base = os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema")
        dirs = [d for d in os.listdir(base) if d.endswith("-local-strict")]
        _SCHEMA_DIR.append(os.path.join(base, max(dirs, key=_version_key)))
    return _SCHEMA_DIR[0]


def schema_version():
    return os.path.basename(schema_dir()).split("-")[0]


def _registry():
    if not _REGISTRY:
        with open(os.path.join(schema_dir(), "_definitions.json")) as handle:
            defs = json.load(handle)
        _REGISTRY.append(Resource.from_contents(defs) @ Registry())
    return _REGISTRY[0]


# Transcribed from kubernetes-csi/external-snapshotter client/config/crd/
# snapshot.storage.k8s.io_volumesnapshotclasses.yaml (v1). Unknown fields of a custom resource
# are pruned (or rejected with fieldValidation=Strict), hence additionalProperties false here.
VOLUMESNAPSHOTCLASS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["deletionPolicy", "driver"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "driver": {"type": "string"},
        "deletionPolicy": {"type": "string", "enum": ["Delete", "Retain"]},
        "parameters": {"type": "object", "additionalProperties": {"type": "string"}},
        "allowedTopologies": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "matchLabelExpressions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["key", "values"],
                            "properties": {"key": {"type": "string"},
                                           "values": {"type": "array", "items": {"type": "string"}}},
                        },
                    },
                },
            },
        },
    },
}


def validator_for(resource):
    """Cached Draft 2020-12 validator for a Resource (None when no schema is known)."""
    key = (resource.group, resource.kind)
    with _SCHEMA_LOCK:
        if key in _VALIDATORS:
            return _VALIDATORS[key]
        if resource.kind == "VolumeSnapshotClass":
            validator = jsonschema.validators.Draft202012Validator(VOLUMESNAPSHOTCLASS_SCHEMA)
        else:
            group = resource.group.split(".")[0]
            name = "%s-%s%s.json" % (resource.kind.lower(), group + "-" if group else "", resource.version)
            path = os.path.join(schema_dir(), name)
            if not os.path.exists(path):
                validator = None
            else:
                with open(path) as handle:
                    schema = json.load(handle)
                validator = jsonschema.validators.Draft202012Validator(schema, registry=_registry())
        _VALIDATORS[key] = validator
        return validator


_GO_TYPES = {"string": "string", "integer": "int64", "number": "float64", "boolean": "bool",
             "object": "map[string]interface {}", "array": "[]interface {}"}


def _json_type(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _wanted_type(schema):
    types = schema.get("type") if isinstance(schema, dict) else None
    if isinstance(types, list):
        types = [t for t in types if t != "null"]
        types = types[0] if types else None
    return _GO_TYPES.get(types, "value")


def check_schema(resource, obj):
    """Schema pass. Returns the unknown field paths (dotted); raises BadRequest for wrong types
    of built-in kinds and Invalid for custom resources and for missing required fields."""
    validator = validator_for(resource)
    if validator is None:
        return []
    unknown, invalid, decode = [], [], []
    for error in validator.iter_errors(obj):
        _collect(error, unknown, invalid, decode, resource)
    if decode:
        raise BadRequest('%s in version "%s" cannot be handled as a %s: %s'
                         % (resource.kind, resource.version, resource.kind, decode[0]))
    if invalid:
        raise Invalid(invalid)
    return unknown


def _collect(error, unknown, invalid, decode, resource):
    path = list(error.absolute_path)
    where = field_path(path)
    if error.validator == "additionalProperties":
        known = set((error.schema or {}).get("properties") or {})
        for key in error.instance:
            if key not in known:
                unknown.append(field_path(path + [key]))
    elif error.validator == "required":
        missing = re.match(r"'([^']+)' is a required property", error.message)
        name = missing.group(1) if missing else ""
        invalid.append(FieldError("Required", field_path(path + [name])))
    elif error.validator == "enum":
        if path in (["apiVersion"], ["kind"]):
            return  # checked against the URL separately
        invalid.append(FieldError("NotSupported", where, value=error.instance, supported=error.validator_value))
    elif resource.crd:
        # CRD structural schema errors are 422 with the openapi wording
        wanted = error.validator_value if error.validator == "type" else error.validator
        invalid.append(FieldError("Invalid", where, value=_json_type(error.instance),
                                  detail="%s in body must be of type %s: %s"
                                  % (where, wanted, json.dumps(_json_type(error.instance)))))
    else:
        struct = resource.kind + ("." + where if where else "")
        decode.append("json: cannot unmarshal %s into Go struct field %s of type %s"
                      % (_json_type(error.instance), struct, _wanted_type(error.schema)))


def drop_fields(obj, dotted_paths):
    """Remove unknown fields (Warn/Ignore field validation) in place."""
    for dotted in dotted_paths:
        parts = re.findall(r"[^.\[\]]+|\[\d+\]", dotted)
        node = obj
        for part in parts[:-1]:
            if part.startswith("["):
                node = node[int(part[1:-1])]
            else:
                node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                break
        else:
            if isinstance(node, dict):
                node.pop(parts[-1], None)


# ---------------------------------------------------------------------------------------------
# quantities

QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_SUFFIX = {"": 1, "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60,
           "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": 10 ** 3, "M": 10 ** 6,
           "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18}


def parse_quantity(text):
    """Decimal value of a resource.Quantity string (or number); ValueError when malformed."""
    if isinstance(text, bool):
        raise ValueError(text)
    if isinstance(text, (int, float)):
        return Decimal(str(text))
    match = QUANTITY_RE.match(str(text))
    if not match:
        raise ValueError(text)
    number, suffix = match.groups()
    try:
        if suffix in _SUFFIX:
            return Decimal(number) * _SUFFIX[suffix]
        if re.match(r"^[eE][-+]?[0-9]+$", suffix):
            return Decimal(number + suffix)
        raise ValueError(text)
    except InvalidOperation:
        raise ValueError(text)


QUANTITY_MSG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


def check_quantities(resource, obj):
    """Decoding of Quantity fields (400 like the real decoder)."""
    spec = obj.get("spec") or {}
    maps = []
    if resource.kind == "PersistentVolumeClaim":
        res = spec.get("resources") or {}
        maps = [res.get("requests"), res.get("limits")]
    elif resource.kind == "PersistentVolume":
        maps = [spec.get("capacity")]
    elif resource.kind == "ResourceQuota":
        maps = [spec.get("hard")]
    elif resource.kind == "LimitRange":
        for item in spec.get("limits") or []:
            if isinstance(item, dict):
                maps.extend(item.get(k) for k in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"))
    for values in maps:
        for value in (values or {}).values() if isinstance(values, dict) else ():
            try:
                parse_quantity(value)
            except ValueError:
                raise BadRequest('%s in version "%s" cannot be handled as a %s: %s'
                                 % (resource.kind, resource.version, resource.kind, QUANTITY_MSG))


# ---------------------------------------------------------------------------------------------
# defaults


def apply_defaults(resource, obj):
    kind = resource.kind
    meta = obj.setdefault("metadata", {})
    if kind == "StorageClass":
        obj.setdefault("reclaimPolicy", "Delete")
        obj.setdefault("volumeBindingMode", "Immediate")
    elif kind == "PersistentVolumeClaim":
        spec = obj.setdefault("spec", {})
        spec.setdefault("volumeMode", "Filesystem")
    elif kind == "PersistentVolume":
        spec = obj.setdefault("spec", {})
        spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
        spec.setdefault("volumeMode", "Filesystem")
    elif kind == "Namespace":
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        if meta.get("name"):
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
    elif kind == "RoleBinding":
        for subject in obj.get("subjects") or []:
            if isinstance(subject, dict) and subject.get("kind") in ("User", "Group") and not subject.get("apiGroup"):
                subject["apiGroup"] = "rbac.authorization.k8s.io"
    elif kind == "NetworkPolicy":
        spec = obj.setdefault("spec", {})
        if not spec.get("policyTypes"):
            spec["policyTypes"] = ["Ingress"] + (["Egress"] if spec.get("egress") else [])
        for rule in (spec.get("ingress") or []) + (spec.get("egress") or []):
            for port in (rule or {}).get("ports") or []:
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")
    elif kind == "Pod":
        spec = obj.setdefault("spec", {})
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("dnsPolicy", "ClusterFirst")
    return obj


# ---------------------------------------------------------------------------------------------
# omitempty

_DEFS = []


def _defs():
    if not _DEFS:
        with open(os.path.join(schema_dir(), "_definitions.json")) as handle:
            _DEFS.append(json.load(handle)["$defs"])
    return _DEFS[0]


def _resolve(schema):
    while isinstance(schema, dict) and "$ref" in schema:
        schema = _defs().get(schema["$ref"].rsplit("/", 1)[-1])
    return schema if isinstance(schema, dict) else None


def _types(schema):
    types = schema.get("type")
    return set(types) if isinstance(types, list) else {types}


def _is_map(schema):
    return "object" in _types(schema) and "additionalProperties" in schema and not schema.get("properties")


def _prune(value, schema):
    schema = _resolve(schema)
    if schema is None:
        return
    if isinstance(value, dict):
        props = schema.get("properties")
        if props:
            required = set(schema.get("required") or [])
            for key in list(value):
                sub = _resolve(props.get(key))
                if sub is None:
                    continue
                item = value[key]
                if item == {} and _is_map(sub):
                    del value[key]
                elif item == [] and "array" in _types(sub) and key not in required:
                    del value[key]
                else:
                    _prune(item, sub)
        elif isinstance(schema.get("additionalProperties"), dict):
            for item in value.values():
                _prune(item, schema["additionalProperties"])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            _prune(item, schema["items"])


def omit_empty(resource, obj):
    """What the typed object looks like after the server's decode/encode: Go's encoding/json
    drops empty maps and slices of `omitempty` fields (every optional map and slice of the
    built-in API types, e.g. StorageClass `parameters,omitempty` and `mountOptions,omitempty`
    in staging/src/k8s.io/api/storage/v1/types.go), while empty structs stay (`podSelector: {}`).
    Maps are recognised in the schema by additionalProperties without properties; required
    slices are kept. Custom resources (VolumeSnapshotClass) are stored as unstructured JSON,
    so `parameters: {}` stays there, as in a real cluster. Changes obj in place."""
    if resource.crd:
        return obj
    validator = validator_for(resource)
    if validator is not None:
        _prune(obj, validator.schema)
    return obj


# ---------------------------------------------------------------------------------------------
# Go-style validation

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")

LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                   "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                   "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
QUALIFIED_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
                 "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                 "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")

PV_SOURCES = ("awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "csi", "fc", "flexVolume",
              "flocker", "gcePersistentDisk", "glusterfs", "hostPath", "iscsi", "local", "nfs",
              "photonPersistentDisk", "portworxVolume", "quobyte", "rbd", "scaleIO", "storageos",
              "vsphereVolume")
ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
VOLUME_MODES = ("Block", "Filesystem")


def _name_errors(resource, meta):
    errs = []
    name = meta.get("name")
    if not name:
        if not meta.get("generateName"):
            errs.append(FieldError("Required", "metadata.name", "name or generateName is required"))
        return errs
    if resource.kind in ("Role", "RoleBinding"):
        if name in (".", "..") or "/" in name or "%" in name:
            errs.append(FieldError("Invalid", "metadata.name", "may not contain '/' or '%'", name))
    elif resource.kind == "Namespace":
        if len(name) > 63:
            errs.append(FieldError("Invalid", "metadata.name", "must be no more than 63 characters", name))
        elif not DNS1123_LABEL.match(name):
            errs.append(FieldError("Invalid", "metadata.name", LABEL_MSG, name))
    elif len(name) > 253:
        errs.append(FieldError("Invalid", "metadata.name", "must be no more than 253 characters", name))
    elif not DNS1123_SUBDOMAIN.match(name):
        errs.append(FieldError("Invalid", "metadata.name", SUBDOMAIN_MSG, name))
    return errs


def _label_errors(meta):
    errs = []
    for key, value in (meta.get("labels") or {}).items():
        prefix, dummy, base = key.rpartition("/")
        if not base or len(base) > 63 or not QUALIFIED_NAME.match(base) or (prefix and not DNS1123_SUBDOMAIN.match(prefix)):
            errs.append(FieldError("Invalid", "metadata.labels", QUALIFIED_MSG, key))
        if value is None:
            continue
        if len(value) > 63:
            errs.append(FieldError("Invalid", "metadata.labels", "must be no more than 63 characters", value))
        elif not LABEL_VALUE.match(value):
            errs.append(FieldError("Invalid", "metadata.labels", LABEL_VALUE_MSG, value))
    return errs


def _enum(errs, value, path, allowed):
    if value is not None and value not in allowed:
        errs.append(FieldError("NotSupported", path, value=value, supported=sorted(allowed)))


def _access_modes(errs, modes, path):
    if not modes:
        errs.append(FieldError("Required", path, "at least 1 access mode is required"))
    for i, mode in enumerate(modes or []):
        _enum(errs, mode, "%s[%d]" % (path, i), ACCESS_MODES)


def validate_create(resource, obj):
    """Go-style validation of a new object; raises Invalid."""
    meta = obj.get("metadata") or {}
    errs = _name_errors(resource, meta) + _label_errors(meta)
    kind = resource.kind
    spec = obj.get("spec") or {}
    if kind == "StorageClass":
        if not obj.get("provisioner"):
            errs.append(FieldError("Required", "provisioner"))
        elif len(obj["provisioner"]) > 63 or not QUALIFIED_NAME.match(obj["provisioner"].rpartition("/")[2]):
            errs.append(FieldError("Invalid", "provisioner", QUALIFIED_MSG, obj["provisioner"]))
        _enum(errs, obj.get("reclaimPolicy"), "reclaimPolicy", ("Delete", "Retain"))
        _enum(errs, obj.get("volumeBindingMode"), "volumeBindingMode", ("Immediate", "WaitForFirstConsumer"))
    elif kind == "PersistentVolumeClaim":
        _access_modes(errs, spec.get("accessModes"), "spec.accessModes")
        requests = (spec.get("resources") or {}).get("requests") or {}
        if "storage" not in requests:
            errs.append(FieldError("Required", "spec.resources[storage]"))
        elif parse_quantity(requests["storage"]) <= 0:
            errs.append(FieldError("Invalid", "spec.resources[storage]", "must be greater than zero",
                                   str(requests["storage"])))
        _enum(errs, spec.get("volumeMode"), "spec.volumeMode", VOLUME_MODES)
    elif kind == "PersistentVolume":
        _access_modes(errs, spec.get("accessModes"), "spec.accessModes")
        capacity = spec.get("capacity") or {}
        if not capacity:
            errs.append(FieldError("Required", "spec.capacity"))
        elif "storage" not in capacity:
            errs.append(FieldError("NotSupported", "spec.capacity", value=sorted(capacity)[0], supported=["storage"]))
        sources = [s for s in PV_SOURCES if spec.get(s) is not None]
        if not sources:
            errs.append(FieldError("Required", "spec", "must specify a volume type"))
        elif len(sources) > 1:
            errs.append(FieldError("Forbidden", "spec.%s" % sources[1], "may not specify more than 1 volume type"))
        _enum(errs, spec.get("persistentVolumeReclaimPolicy"), "spec.persistentVolumeReclaimPolicy",
              ("Delete", "Recycle", "Retain"))
        _enum(errs, spec.get("volumeMode"), "spec.volumeMode", VOLUME_MODES)
    elif kind == "Pod":
        if not spec.get("containers"):
            errs.append(FieldError("Required", "spec.containers"))
        for i, container in enumerate(spec.get("containers") or []):
            if not (container or {}).get("name"):
                errs.append(FieldError("Required", "spec.containers[%d].name" % i))
            if not (container or {}).get("image"):
                errs.append(FieldError("Required", "spec.containers[%d].image" % i))
    elif kind == "Event":
        if not (obj.get("involvedObject") or {}).get("kind") and not (obj.get("involvedObject") or {}).get("name"):
            errs.append(FieldError("Required", "involvedObject"))
        ns = (obj.get("involvedObject") or {}).get("namespace")
        if ns and ns != meta.get("namespace"):
            errs.append(FieldError("Invalid", "involvedObject.namespace", "does not match event.namespace", ns))
    elif kind == "Role":
        errs.extend(policy_rule_errors(obj.get("rules") or [], namespaced=True))
    elif kind == "ResourceQuota":
        errs.extend(quota_errors(spec.get("hard") or {}))
    elif kind == "LimitRange":
        errs.extend(limit_range_errors(spec.get("limits") or []))
    elif kind == "RoleBinding":
        ref = obj.get("roleRef") or {}
        if not ref.get("kind"):
            errs.append(FieldError("Required", "roleRef.kind"))
        else:
            _enum(errs, ref.get("kind"), "roleRef.kind", ("ClusterRole", "Role"))
        if not ref.get("name"):
            errs.append(FieldError("Required", "roleRef.name"))
        if ref.get("apiGroup") not in (None, "rbac.authorization.k8s.io"):
            errs.append(FieldError("NotSupported", "roleRef.apiGroup", value=ref.get("apiGroup"),
                                   supported=["rbac.authorization.k8s.io"]))
    if errs:
        raise Invalid(errs)


def policy_rule_errors(rules, namespaced):
    """pkg/apis/rbac/validation/validation.go validatePolicyRule (kubernetes/kubernetes)."""
    errs = []
    for i, rule in enumerate(rules):
        rule = rule or {}
        path = "rules[%d]" % i
        if not rule.get("verbs"):
            errs.append(FieldError("Required", path + ".verbs", "verbs must contain at least one value"))
        if rule.get("nonResourceURLs"):
            if namespaced:
                errs.append(FieldError("Invalid", path + ".nonResourceURLs",
                                       "namespaced rules cannot apply to non-resource URLs", rule["nonResourceURLs"]))
            if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
                errs.append(FieldError("Invalid", path + ".nonResourceURLs",
                                       "rules cannot apply to both regular resources and non-resource URLs",
                                       rule["nonResourceURLs"]))
            continue
        if not rule.get("apiGroups"):
            errs.append(FieldError("Required", path + ".apiGroups", "resource rules must supply at least one api group"))
        if not rule.get("resources"):
            errs.append(FieldError("Required", path + ".resources", "resource rules must supply at least one resource"))
    return errs


# pkg/apis/core/helper/helpers.go (kubernetes/kubernetes): standardResources and
# standardQuotaResources; IsQuotaHugePageResourceName accepts the hugepages- prefixes.
STANDARD_RESOURCES = frozenset((
    "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
    "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods", "resourcequotas", "services",
    "replicationcontrollers", "secrets", "persistentvolumeclaims", "storage", "requests.storage",
    "configmaps", "services.nodeports", "services.loadbalancers"))
STANDARD_QUOTA_RESOURCES = frozenset((
    "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.storage",
    "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods",
    "resourcequotas", "services", "replicationcontrollers", "secrets", "persistentvolumeclaims", "configmaps",
    "services.nodeports", "services.loadbalancers"))
INTEGER_QUOTA_RESOURCES = frozenset((
    "pods", "resourcequotas", "services", "replicationcontrollers", "secrets", "configmaps",
    "persistentvolumeclaims", "services.nodeports", "services.loadbalancers"))


def _qualified_name_errors(name):
    prefix, dummy, base = name.rpartition("/")
    if not base or len(base) > 63 or not QUALIFIED_NAME.match(base):
        return [QUALIFIED_MSG]
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        return ["prefix part " + SUBDOMAIN_MSG]
    return []


CONTAINER_RESOURCES = frozenset(("cpu", "memory", "ephemeral-storage"))


def _extended(key):
    """helpers.go IsExtendedResourceName."""
    if "/" not in key or "kubernetes.io/" in key or key.startswith("requests."):
        return False
    return not _qualified_name_errors("requests." + key)


def _integer_resource(key):
    """pkg/apis/core/helper/helpers.go IsIntegerResourceName: integerResources, or an extended
    resource (IsExtendedResourceName: not native, i.e. has a "/" and no "kubernetes.io/"; not
    "requests."-prefixed; still a qualified name with "requests." prepended). count/<resource>
    and the per-StorageClass keys (<class>.storageclass.storage.k8s.io/requests.storage) are
    extended resources, so they must be whole numbers."""
    return key in INTEGER_QUOTA_RESOURCES or _extended(key)


def quota_errors(hard):
    """pkg/apis/core/validation/validation.go (kubernetes/kubernetes): ValidateResourceQuotaSpec ->
    ValidateResourceQuotaResourceName (validateResourceName: a qualified name, and without a "/"
    a standard resource type; then a standard quota resource) and ValidateResourceQuantityValue
    (non-negative; whole numbers for the object counts)."""
    errs = []
    for key in sorted(hard):
        path = "spec.hard[%s]" % key
        msgs = _qualified_name_errors(key)
        if not msgs and "/" not in key:
            hugepages = key.startswith("hugepages-") or key.startswith("requests.hugepages-")
            if key not in STANDARD_RESOURCES and not hugepages:
                msgs.append("must be a standard resource type or fully qualified")
            if key not in STANDARD_QUOTA_RESOURCES and not hugepages:
                msgs.append("must be a standard resource for quota")
        errs.extend(FieldError("Invalid", path, msg, key) for msg in msgs)
        try:
            value = parse_quantity(hard[key])
        except ValueError:
            continue  # a decoding error, reported before validation
        if value < 0:
            errs.append(FieldError("Invalid", path, "must be greater than or equal to 0", str(hard[key])))
        elif _integer_resource(key) and value != value.to_integral_value():
            errs.append(FieldError("Invalid", path, "must be an integer", str(hard[key])))
    return errs


def limit_range_errors(limits):
    """pkg/apis/core/validation/validation.go (kubernetes/kubernetes) ValidateLimitRange: per
    resource, min <= defaultRequest <= default <= max, and a PersistentVolumeClaim item needs a
    min or max storage."""
    errs = []
    for i, item in enumerate(limits):
        item = item or {}
        path = "spec.limits[%d]" % i
        maps = dict((k, item.get(k) or {}) for k in ("min", "max", "default", "defaultRequest"))
        if item.get("type") == "PersistentVolumeClaim" and "storage" not in maps["min"] and "storage" not in maps["max"]:
            errs.append(FieldError("Required", path + ".limits",
                                   "either minimum or maximum storage value is required, but neither was provided"))

        def value(which, key):
            try:
                return parse_quantity(maps[which][key])
            except (KeyError, ValueError):
                return None

        keys = set()
        for which, values in sorted(maps.items()):
            keys.update(values)
            for key in sorted(values):
                # validateLimitRangeResourceName: Container/Pod items name container resources
                # (validateContainerResourceName), others any resource (validateResourceName)
                msgs = _qualified_name_errors(key)
                if not msgs and item.get("type") in ("Container", "Pod"):
                    if "/" not in key:
                        if key not in CONTAINER_RESOURCES and not key.startswith("hugepages-"):
                            msgs.append("must be a standard resource for containers")
                    elif "kubernetes.io/" not in key and not _extended(key):
                        msgs.append("doesn't follow extended resource name standard")
                elif not msgs and "/" not in key and key not in STANDARD_RESOURCES and not key.startswith(
                        ("hugepages-", "requests.hugepages-")):
                    msgs.append("must be a standard resource type or fully qualified")
                errs.extend(FieldError("Invalid", "%s.%s[%s]" % (path, which, key), msg, key) for msg in msgs)
        for key in sorted(keys):
            mn, mx, df, dr = (value(w, key) for w in ("min", "max", "default", "defaultRequest"))
            text = dict((w, str(maps[w].get(key))) for w in maps)
            checks = (
                (mn, mx, "min", "min value %s is greater than max value %s" % (text["min"], text["max"]), text["min"]),
                (mn, dr, "defaultRequest", "min value %s is greater than default request value %s"
                 % (text["min"], text["defaultRequest"]), text["defaultRequest"]),
                (dr, mx, "defaultRequest", "default request value %s is greater than max value %s"
                 % (text["defaultRequest"], text["max"]), text["defaultRequest"]),
                (dr, df, "defaultRequest", "default request value %s is greater than default limit value %s"
                 % (text["defaultRequest"], text["default"]), text["defaultRequest"]),
                (mn, df, "default", "min value %s is greater than default value %s" % (text["min"], text["default"]),
                 text["min"]),
                (df, mx, "default", "default value %s is greater than max value %s" % (text["default"], text["max"]),
                 text["max"]),
            )
            for low, high, where, message, shown in checks:
                if low is not None and high is not None and low > high:
                    errs.append(FieldError("Invalid", "%s.%s[%s]" % (path, where, key), message, shown))
            overcommit = ("/" not in key or "kubernetes.io/" in key) and not key.startswith("hugepages-")
            if not overcommit and df is not None and dr is not None and df != dr:
                errs.append(FieldError("Invalid", "%s.defaultRequest[%s]" % (path, key), "default value %s must equal "
                                       "to defaultRequest value %s in %s" % (text["default"], text["defaultRequest"],
                                                                             key), text["defaultRequest"]))
    return errs


# kubernetes/pod-security-admission api/helpers.go: ParseLevel, ParseVersion, PolicyToEvaluate.
PSA_LEVELS = ("privileged", "baseline", "restricted")
PSA_VERSION = re.compile(r"^v1\.([0-9]|[1-9][0-9]*)$")


def pod_security_errors(labels):
    """The PodSecurity admission plugin's label checks (422 on create, and on update when the
    labels changed: admission/admission.go ValidateNamespace)."""
    errs = []
    for mode in ("enforce", "audit", "warn"):
        key = "pod-security.kubernetes.io/%s" % mode
        if key in labels and labels[key] not in PSA_LEVELS:
            errs.append(FieldError("Invalid", "metadata.labels[%s]" % key, "must be one of %s" % ", ".join(PSA_LEVELS),
                                   labels[key]))
        key += "-version"
        if key in labels and labels[key] != "latest" and not PSA_VERSION.match(labels[key]):
            errs.append(FieldError("Invalid", "metadata.labels[%s]" % key, 'must be "latest" or "v1.x"', labels[key]))
    return errs


def _without(obj, *paths):
    copy = json.loads(json.dumps(obj))
    for path in paths:
        node = copy
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                break
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return copy


def _pod_fixed(spec):
    """The part of a pod spec an update may not change."""
    fixed = _without(spec, ("activeDeadlineSeconds",), ("tolerations",), ("terminationGracePeriodSeconds",))
    for key in ("containers", "initContainers"):
        for container in fixed.get(key) or []:
            if isinstance(container, dict):
                container.pop("image", None)
    return fixed


def validate_update(resource, old, new):
    """Create-time rules plus the immutability rules of the kind; raises Invalid."""
    errs = []
    try:
        validate_create(resource, new)
    except Invalid as exc:
        errs.extend(exc.errors)
    kind = resource.kind
    if kind == "StorageClass":
        if new.get("parameters") != old.get("parameters"):
            errs.append(FieldError("Forbidden", "parameters", "updates to parameters are forbidden."))
        if new.get("provisioner") != old.get("provisioner"):
            errs.append(FieldError("Forbidden", "provisioner", "updates to provisioner are forbidden."))
        if new.get("reclaimPolicy") != old.get("reclaimPolicy"):
            errs.append(FieldError("Forbidden", "reclaimPolicy", "updates to reclaimPolicy are forbidden."))
        if new.get("volumeBindingMode") != old.get("volumeBindingMode"):
            errs.append(FieldError("Invalid", "volumeBindingMode", "field is immutable", new.get("volumeBindingMode")))
    elif kind == "PersistentVolumeClaim":
        old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
        bound = (old.get("status") or {}).get("phase") == "Bound"
        if bound:
            cmp_old = _without(old_spec, ("resources", "requests"), ("volumeAttributesClassName",))
            cmp_new = _without(new_spec, ("resources", "requests"), ("volumeAttributesClassName",))
        else:
            cmp_old, cmp_new = old_spec, new_spec
        if cmp_old != cmp_new:
            errs.append(FieldError("Forbidden", "spec", "spec is immutable after creation except resources.requests "
                                   "and volumeAttributesClassName for bound claims"))
        elif bound:
            old_size = ((old_spec.get("resources") or {}).get("requests") or {}).get("storage")
            new_size = ((new_spec.get("resources") or {}).get("requests") or {}).get("storage")
            if old_size is not None and new_size is not None and parse_quantity(new_size) < parse_quantity(old_size):
                # RecoverVolumeExpansionFailure (GA): shrinking is allowed only above status.capacity
                capacity = ((old.get("status") or {}).get("capacity") or {}).get("storage")
                if capacity is None or parse_quantity(new_size) <= parse_quantity(capacity):
                    errs.append(FieldError("Forbidden", "spec.resources.requests.storage",
                                           "field can not be less than status.capacity"))
    elif kind == "PersistentVolume":
        old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
        if [old_spec.get(s) for s in PV_SOURCES] != [new_spec.get(s) for s in PV_SOURCES]:
            errs.append(FieldError("Forbidden", "spec.persistentvolumesource",
                                   "spec.persistentvolumesource is immutable after creation"))
        if old_spec.get("volumeMode") != new_spec.get("volumeMode"):
            errs.append(FieldError("Invalid", "spec.volumeMode", "field is immutable", new_spec.get("volumeMode")))
    elif kind == "RoleBinding":
        if old.get("roleRef") != new.get("roleRef"):
            errs.append(FieldError("Invalid", "roleRef", "cannot change roleRef", new.get("roleRef")))
    elif kind == "Pod":
        if _pod_fixed(old.get("spec") or {}) != _pod_fixed(new.get("spec") or {}):
            errs.append(FieldError("Forbidden", "spec", "pod updates may not change fields other than "
                                   "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                                   "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
                                   "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if "
                                   "it was previously negative)"))
    if errs:
        raise Invalid(errs)
