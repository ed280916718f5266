# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The resources the stand-in serves, with the facts the real API server publishes about them."""

from __future__ import annotations

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update"]

# Field selectors the real registries accept (metadata.name, and metadata.namespace for
# namespaced kinds, are added for all).
_POD_FIELDS = ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
               "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName")
_EVENT_FIELDS = ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                 "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                 "reason", "reportingComponent", "source", "type")


class Resource(object):
    def __init__(self, group, version, plural, kind, namespaced, singular, short=(), status=False,
                 delete_returns_object=False, crd=False, fields=()):
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
        self.singular = singular
        self.short = list(short)
        self.status = status  # has a status subresource (PUT/PATCH of the object keep status)
        self.delete_returns_object = delete_returns_object
        self.crd = crd
        fixed = ["metadata.name"] + (["metadata.namespace"] if namespaced else [])
        self.fields = set(fixed) | set(fields)

    @property
    def api_version(self):
        return "%s/%s" % (self.group, self.version) if self.group else self.version

    @property
    def qualified(self):
        """`storageclasses.storage.k8s.io` / `pods` (how messages name the resource)."""
        return "%s.%s" % (self.plural, self.group) if self.group else self.plural

    @property
    def qualified_kind(self):
        """`StorageClass.storage.k8s.io` / `PersistentVolumeClaim` (how 422 messages name it)."""
        return "%s.%s" % (self.kind, self.group) if self.group else self.kind

    def discovery(self):
        entry = {"name": self.plural, "singularName": self.singular, "namespaced": self.namespaced,
                 "kind": self.kind, "verbs": list(VERBS)}
        if self.short:
            entry["shortNames"] = list(self.short)
        return entry

    def __repr__(self):
        return "Resource(%s)" % self.qualified


RESOURCES = [
    Resource("", "v1", "namespaces", "Namespace", False, "namespace", ["ns"], status=True,
             delete_returns_object=True, fields=["status.phase"]),
    Resource("", "v1", "persistentvolumes", "PersistentVolume", False, "persistentvolume", ["pv"], status=True,
             delete_returns_object=True),
    Resource("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, "persistentvolumeclaim", ["pvc"],
             status=True, delete_returns_object=True),
    Resource("", "v1", "pods", "Pod", True, "pod", ["po"], status=True, delete_returns_object=True,
             fields=_POD_FIELDS),
    Resource("", "v1", "events", "Event", True, "event", ["ev"], fields=_EVENT_FIELDS),
    Resource("", "v1", "resourcequotas", "ResourceQuota", True, "resourcequota", ["quota"], status=True,
             delete_returns_object=True),
    Resource("", "v1", "limitranges", "LimitRange", True, "limitrange", ["limits"]),
    Resource("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, "storageclass", ["sc"],
             delete_returns_object=True),
    Resource("snapshot.storage.k8s.io", "v1", "volumesnapshotclasses", "VolumeSnapshotClass", False,
             "volumesnapshotclass", ["vsclass", "vsclasses"], delete_returns_object=True, crd=True),
    Resource("rbac.authorization.k8s.io", "v1", "roles", "Role", True, "role"),
    Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True, "rolebinding"),
    Resource("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, "networkpolicy", ["netpol"]),
]

BY_PATH = dict(((r.group, r.version, r.plural), r) for r in RESOURCES)
BY_KIND = dict(((r.api_version, r.kind), r) for r in RESOURCES)


def lookup_kind(api_version, kind):
    try:
        return BY_KIND[(api_version, kind)]
    except KeyError:
        raise KeyError("the stand-in does not serve %s %s" % (api_version, kind))


def group_versions():
    """{group: [version, ...]} of the named groups (not the core group)."""
    out = {}
    for res in RESOURCES:
        if res.group:
            versions = out.setdefault(res.group, [])
            if res.version not in versions:
                versions.append(res.version)
    return out
