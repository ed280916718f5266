# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The storage report of a Kubernetes cluster, as pure functions over plain dicts.

Input: the items of one list call per kind (PersistentVolumes, PersistentVolumeClaims,
StorageClasses, Pods, Events about PVCs), exactly as the API returns them in JSON. Output:
plain dicts and lists, sorted, ready for exit_json. Nothing here talks to the API, so every
rule is unit-tested with realistic objects.

Rules worth knowing (docs/k8s_reports.md explains them to users):
- Quantities are Kubernetes quantities ("10Gi", "500M", "1.5Ti", "1e9", "100m"), turned into
  whole bytes rounded up, as the API server's Value() does.
- A PVC is bound when its phase is Bound and the PV it names has a claimRef with its uid;
  the bound size is that PV's capacity (or the PVC's status.capacity when the PV is not there).
- A PV's claim is gone when its claimRef has a uid and no PVC with that namespace/name exists,
  or one exists with a different uid (a re-created PVC of the same name is another claim).
  A claimRef without a uid is a pre-binding reservation, not a lost claim.
- A pod uses a PVC when it names it in spec.volumes[].persistentVolumeClaim.claimName, or owns
  it as a generic ephemeral volume (PVC name "<pod>-<volume>"), and either has not finished
  (phase other than Succeeded/Failed) or is scheduled to a node: Kubernetes keeps a claim that
  a scheduled pod names, finished or not, until that pod is deleted (the kubernetes.io/
  pvc-protection finalizer, pkg/controller/volume/pvcprotection podUsesPVC). A finished Job's
  pod that still exists therefore keeps its claim in use.
- Staleness (stale_days = N):
  * a Released PV is stale when it has been Released for N days or more, measured from
    status.lastPhaseTransitionTime (Kubernetes 1.31+); older servers do not set it, and then
    the PV's creationTimestamp is used (an upper bound of the time in phase), which the entry
    says in `since_source`;
  * a PVC is stale when no unfinished pod uses it, it was created N days ago or more, and no
    pod that references it (finished pods included) started within N days. The API keeps no
    "last used" time: a PVC whose last pod is gone is judged by its age alone.
  Objects already being deleted (metadata.deletionTimestamp) are never stale.
"""

from __future__ import annotations

import datetime
import re
from fractions import Fraction

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError

SECTIONS = ("summary", "namespaces", "classes", "pending_pvcs", "released_pvs", "failed_pvs",
            "orphaned_pvs", "pod_mounts", "unused_pvcs", "missing_class_pvcs", "stale")

DEFAULT_CLASS_ANNOTATIONS = ("storageclass.kubernetes.io/is-default-class",
                             "storageclass.beta.kubernetes.io/is-default-class")
BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
FINISHED_POD_PHASES = ("Succeeded", "Failed")

_BINARY_SUFFIX = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
_DECIMAL_SUFFIX = {"n": Fraction(1, 10 ** 9), "u": Fraction(1, 10 ** 6), "m": Fraction(1, 1000), "": 1,
                   "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18}
# apimachinery pkg/api/resource/quantity.go: a signed decimal, then a binary or decimal SI suffix
# or a decimal exponent
_QUANTITY_RE = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$")
_TIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:?\d{2})?$")


# --- quantities and times -------------------------------------------------------------------

def exact_quantity(text):
    """The exact value of a Kubernetes quantity as a Fraction ("1Gi", "1.5k", "1e3", "100m",
    "500u"), or None when it is not one. The one quantity parser of the k8s package."""
    if text is None or isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return Fraction(text)
    match = _QUANTITY_RE.match(str(text).strip())
    if not match:
        return None
    number, exponent, suffix = match.groups()
    value = Fraction(number)
    if exponent:
        return value * Fraction(10) ** int(exponent[1:])
    return value * (_BINARY_SUFFIX.get(suffix) or _DECIMAL_SUFFIX[suffix or ""])


def parse_quantity(text, what="quantity"):
    """A Kubernetes quantity as an int, rounded up ("1Gi" -> 1073741824, "1.5k" -> 1500,
    "1e3" -> 1000, "100m" -> 1). None stays None."""
    if text is None:
        return None
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    value = exact_quantity(text)
    if value is None:
        raise StrataError("%s: %r is not a Kubernetes quantity" % (what, text),
                          hint="use a number with an optional suffix: Ki Mi Gi Ti Pi Ei, k M G T P E, m, or an exponent like 1e9")
    return -(-value.numerator // value.denominator)


def parse_time(text):
    """An RFC 3339 time of the API (Time or MicroTime) as an aware UTC datetime; None for None."""
    if not text:
        return None
    match = _TIME_RE.match(str(text).strip())
    if not match:
        raise StrataError("%r is not an RFC 3339 time" % (text,))
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    value = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro,
                              tzinfo=datetime.timezone.utc)
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        value -= sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return value


def format_time(value):
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def _days(now, then):
    if then is None:
        return None
    return round((now - then).total_seconds() / 86400.0, 2)


# --- object accessors -----------------------------------------------------------------------

def _meta(obj):
    return obj.get("metadata") or {}


def _spec(obj):
    return obj.get("spec") or {}


def _status(obj):
    return obj.get("status") or {}


def pvc_class(pvc):
    """The class a PVC asks for: spec.storageClassName, else the old beta annotation; ""
    means no class (static binding only); None means not set at all."""
    spec = _spec(pvc)
    if "storageClassName" in spec and spec["storageClassName"] is not None:
        return spec["storageClassName"]
    return (_meta(pvc).get("annotations") or {}).get(BETA_CLASS_ANNOTATION)


def pv_class(pv):
    spec = _spec(pv)
    if spec.get("storageClassName") is not None:
        return spec["storageClassName"]
    return (_meta(pv).get("annotations") or {}).get(BETA_CLASS_ANNOTATION) or ""


def is_default_class(sc):
    annotations = _meta(sc).get("annotations") or {}
    return any(annotations.get(key) == "true" for key in DEFAULT_CLASS_ANNOTATIONS)


def pod_claims(pod):
    """Names of the PVCs a pod refers to: claimName volumes and generic ephemeral volumes."""
    names = []
    pod_name = _meta(pod).get("name")
    for volume in _spec(pod).get("volumes") or []:
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            names.append(claim)
        elif volume.get("ephemeral") is not None and pod_name and volume.get("name"):
            names.append("%s-%s" % (pod_name, volume["name"]))
    return names


def pod_is_active(pod):
    return _status(pod).get("phase") not in FINISHED_POD_PHASES


def _pod_shut_down(pod):
    """pvc_protection_controller.go podIsShutDown: deleted with grace period 0 (kubelet is done)."""
    meta = _meta(pod)
    return bool(meta.get("deletionTimestamp")) and meta.get("deletionGracePeriodSeconds") == 0


def pod_keeps_claims(pod):
    """The claims this pod keeps in use: all it names while it has not finished; and, once
    scheduled, those it names by claimName whatever its phase, and its generic ephemeral
    volumes until it is shut down (the PVC protection controller's podUsesPVC)."""
    active = pod_is_active(pod)
    scheduled = bool(_spec(pod).get("nodeName"))
    shut_down = _pod_shut_down(pod)
    names = []
    pod_name = _meta(pod).get("name")
    for volume in _spec(pod).get("volumes") or []:
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            if active or scheduled:
                names.append(claim)
        elif volume.get("ephemeral") is not None and pod_name and volume.get("name"):
            if (active or scheduled) and not shut_down:
                names.append("%s-%s" % (pod_name, volume["name"]))
    return names


def event_time(event):
    """When an event last happened: series.lastObservedTime, lastTimestamp, eventTime, then
    metadata.creationTimestamp (events.k8s.io and core/v1 events fill different fields)."""
    for value in ((event.get("series") or {}).get("lastObservedTime"), event.get("lastTimestamp"),
                  event.get("eventTime"), _meta(event).get("creationTimestamp")):
        if value:
            return parse_time(value)
    return None


def ref(obj, namespaced):
    """What the cleanup module needs to delete exactly this object and nothing newer."""
    meta = _meta(obj)
    out = {"name": meta.get("name"), "uid": meta.get("uid"), "resource_version": meta.get("resourceVersion")}
    if namespaced:
        out["namespace"] = meta.get("namespace")
    return out


# --- the report -----------------------------------------------------------------------------

class _Index(object):
    """The objects, indexed once, with the relations between them."""

    def __init__(self, pvs, pvcs, classes, pods, events, namespaces=None):
        wanted = set(namespaces) if namespaces else None

        def keep(namespace):
            return wanted is None or namespace in wanted

        self.pvcs = [p for p in pvcs if keep(_meta(p).get("namespace"))]
        self.pvs = [p for p in pvs if wanted is None or ((_spec(p).get("claimRef") or {}).get("namespace") in wanted)]
        self.classes = {_meta(c).get("name"): c for c in classes}
        self.pods = [p for p in pods if keep(_meta(p).get("namespace"))]
        self.pv_by_name = {_meta(p).get("name"): p for p in pvs}
        self.pvc_by_key = {(_meta(p).get("namespace"), _meta(p).get("name")): p for p in self.pvcs}
        all_pvc_keys = {(_meta(p).get("namespace"), _meta(p).get("name")): p for p in pvcs}
        self.all_pvc_by_key = all_pvc_keys
        # pods per PVC: the pods that keep it in use, and every referrer (for the last start time)
        self.users = {}
        self.referrers = {}
        for pod in self.pods:
            namespace = _meta(pod).get("namespace")
            for claim in pod_claims(pod):
                self.referrers.setdefault((namespace, claim), []).append(pod)
            for claim in pod_keeps_claims(pod):
                self.users.setdefault((namespace, claim), []).append(pod)
        # newest event per PVC (matching the PVC's uid when the event names one)
        self.newest_event = {}
        for event in events:
            involved = event.get("involvedObject") or {}
            if involved.get("kind") != "PersistentVolumeClaim":
                continue
            key = (involved.get("namespace") or _meta(event).get("namespace"), involved.get("name"))
            pvc = self.pvc_by_key.get(key)
            if pvc is None:
                continue
            if involved.get("uid") and _meta(pvc).get("uid") and involved["uid"] != _meta(pvc)["uid"]:
                continue  # about an earlier PVC of the same name
            when = event_time(event)
            current = self.newest_event.get(key)
            if current is None or (when or _EPOCH) >= (current[0] or _EPOCH):
                self.newest_event[key] = (when, event)

    def bound_pv(self, pvc):
        """The PV a PVC is bound to (its claimRef carries the PVC's uid), or None."""
        if _status(pvc).get("phase") != "Bound":
            return None
        pv = self.pv_by_name.get(_spec(pvc).get("volumeName"))
        if pv is None:
            return None
        claim_ref = _spec(pv).get("claimRef") or {}
        if claim_ref.get("uid") and claim_ref.get("uid") != _meta(pvc).get("uid"):
            return None
        return pv

    def bound_bytes(self, pvc):
        if _status(pvc).get("phase") != "Bound":
            return 0
        pv = self.bound_pv(pvc)
        if pv is not None:
            return parse_quantity((_spec(pv).get("capacity") or {}).get("storage"), "capacity of PV %s" % _meta(pv).get("name")) or 0
        return parse_quantity((_status(pvc).get("capacity") or {}).get("storage"), "capacity of PVC %s" % _meta(pvc).get("name")) or 0


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _requested(pvc):
    meta = _meta(pvc)
    requests = (_spec(pvc).get("resources") or {}).get("requests") or {}
    return parse_quantity(requests.get("storage"), "storage request of PVC %s/%s" % (meta.get("namespace"), meta.get("name"))) or 0


def _pv_entry(pv, now):
    meta, spec, status = _meta(pv), _spec(pv), _status(pv)
    claim_ref = spec.get("claimRef") or {}
    since = parse_time(status.get("lastPhaseTransitionTime"))
    source = "lastPhaseTransitionTime"
    if since is None:
        since, source = parse_time(meta.get("creationTimestamp")), "creationTimestamp"
    entry = {
        "name": meta.get("name"),
        "phase": status.get("phase"),
        "class": pv_class(pv),
        "capacity_bytes": parse_quantity((spec.get("capacity") or {}).get("storage"), "capacity of PV %s" % meta.get("name")) or 0,
        "reclaim_policy": spec.get("persistentVolumeReclaimPolicy") or "Retain",
        "claim": ({"namespace": claim_ref.get("namespace"), "name": claim_ref.get("name"), "uid": claim_ref.get("uid")}
                  if claim_ref else None),
        "since": format_time(since),
        "since_source": source,
        "days_in_phase": _days(now, since),
        "ref": ref(pv, namespaced=False),
    }
    if status.get("message"):
        entry["message"] = status["message"]
    return entry


def _pvc_entry(index, pvc, now):
    meta = _meta(pvc)
    key = (meta.get("namespace"), meta.get("name"))
    created = parse_time(meta.get("creationTimestamp"))
    starts = [parse_time(_status(p).get("startTime")) for p in index.referrers.get(key, [])]
    starts = [s for s in starts if s is not None]
    last_start = max(starts) if starts else None
    return {
        "namespace": key[0],
        "name": key[1],
        "phase": _status(pvc).get("phase"),
        "class": pvc_class(pvc),
        "volume": _spec(pvc).get("volumeName"),
        "requested_bytes": _requested(pvc),
        "created": format_time(created),
        "age_days": _days(now, created),
        "last_pod_start": format_time(last_start),
        "ref": ref(pvc, namespaced=True),
    }


def _sort_ns(entries):
    return sorted(entries, key=lambda e: (e.get("namespace") or "", e.get("name") or ""))


def build_report(pvs, pvcs, classes, pods, events, now, stale_days=None, namespaces=None, include=None):
    """The whole report (only the sections in `include`, all when None).

    now: aware datetime; stale_days: int or None (no `stale` section); namespaces: limit the
    namespaced parts (PVCs, pods, events, and PVs whose claimRef is in them) to these.
    """
    if stale_days is not None and stale_days < 0:
        raise StrataError("stale_days must be 0 or more, got %s" % stale_days)
    sections = set(include or SECTIONS)
    index = _Index(pvs, pvcs, classes, pods, events, namespaces)
    report = {}

    # per namespace and per class: requested and bound
    per_ns, per_class_pvc = {}, {}
    for pvc in index.pvcs:
        meta = _meta(pvc)
        requested, bound = _requested(pvc), index.bound_bytes(pvc)
        klass = pvc_class(pvc) or ""
        phase = _status(pvc).get("phase")
        ns = per_ns.setdefault(meta.get("namespace"), {"pvcs": 0, "requested_bytes": 0, "bound_bytes": 0,
                                                       "pending": 0, "classes": {}})
        ns["pvcs"] += 1
        ns["requested_bytes"] += requested
        ns["bound_bytes"] += bound
        ns["pending"] += 1 if phase == "Pending" else 0
        by_class = ns["classes"].setdefault(klass, {"pvcs": 0, "requested_bytes": 0, "bound_bytes": 0})
        by_class["pvcs"] += 1
        by_class["requested_bytes"] += requested
        by_class["bound_bytes"] += bound
        totals = per_class_pvc.setdefault(klass, {"pvcs": 0, "requested_bytes": 0, "bound_bytes": 0})
        totals["pvcs"] += 1
        totals["requested_bytes"] += requested
        totals["bound_bytes"] += bound

    pv_count = {}
    for pv in index.pvs:
        pv_count[pv_class(pv)] = pv_count.get(pv_class(pv), 0) + 1

    class_entries = []
    for name in sorted(index.classes):
        sc = index.classes[name]
        totals = per_class_pvc.get(name, {"pvcs": 0, "requested_bytes": 0, "bound_bytes": 0})
        class_entries.append({
            "name": name,
            "provisioner": sc.get("provisioner"),
            "reclaim_policy": sc.get("reclaimPolicy") or "Delete",
            "volume_binding_mode": sc.get("volumeBindingMode") or "Immediate",
            "allow_volume_expansion": bool(sc.get("allowVolumeExpansion")),
            "default": is_default_class(sc),
            "pvs": pv_count.get(name, 0),
            "pvcs": totals["pvcs"],
            "requested_bytes": totals["requested_bytes"],
            "bound_bytes": totals["bound_bytes"],
        })
    # PVCs and PVs of no class ("") or of a class that does not exist are counted apart
    others = {}
    for name in set(per_class_pvc) | set(pv_count):
        if name in index.classes:
            continue
        totals = per_class_pvc.get(name, {"pvcs": 0, "requested_bytes": 0, "bound_bytes": 0})
        others[name] = dict(totals, pvs=pv_count.get(name, 0), exists=False)

    # pending PVCs and why
    pending = []
    for pvc in index.pvcs:
        if _status(pvc).get("phase") != "Pending":
            continue
        meta = _meta(pvc)
        key = (meta.get("namespace"), meta.get("name"))
        entry = {"namespace": key[0], "name": key[1], "class": pvc_class(pvc), "requested_bytes": _requested(pvc),
                 "created": meta.get("creationTimestamp"), "age_days": _days(now, parse_time(meta.get("creationTimestamp"))),
                 "reason": "no events", "message": "", "event_type": None, "event_time": None, "event_count": 0}
        newest = index.newest_event.get(key)
        if newest is not None:
            when, event = newest
            entry.update(reason=event.get("reason") or "", message=event.get("message") or event.get("note") or "",
                         event_type=event.get("type"), event_time=format_time(when),
                         event_count=(event.get("series") or {}).get("count") or event.get("count") or 1)
        pending.append(entry)

    # PVs by phase, and PVs whose claim is gone
    released, failed, orphaned = [], [], []
    for pv in index.pvs:
        phase = _status(pv).get("phase")
        if phase == "Released":
            released.append(_pv_entry(pv, now))
        elif phase == "Failed":
            failed.append(_pv_entry(pv, now))
        claim_ref = _spec(pv).get("claimRef") or {}
        if not claim_ref.get("uid") or not claim_ref.get("name"):
            continue
        claim = index.all_pvc_by_key.get((claim_ref.get("namespace"), claim_ref.get("name")))
        if claim is None:
            why = "claim not found"
        elif _meta(claim).get("uid") != claim_ref["uid"]:
            why = "claim re-created: PVC uid %s differs from the PV's claimRef uid %s" % (_meta(claim).get("uid"), claim_ref["uid"])
        else:
            continue
        entry = _pv_entry(pv, now)
        entry["reason"] = why
        orphaned.append(entry)

    # pods -> PVCs, and PVCs no unfinished pod uses
    mounts = []
    for pod in index.pods:
        claims = pod_claims(pod)
        if not claims:
            continue
        meta = _meta(pod)
        mounts.append({"namespace": meta.get("namespace"), "name": meta.get("name"),
                       "phase": _status(pod).get("phase"), "node": _spec(pod).get("nodeName"),
                       "start_time": _status(pod).get("startTime"), "pvcs": sorted(set(claims)),
                       "missing_pvcs": sorted(set(c for c in claims if (meta.get("namespace"), c) not in index.pvc_by_key))})
    unused = [_pvc_entry(index, pvc, now) for pvc in index.pvcs
              if (_meta(pvc).get("namespace"), _meta(pvc).get("name")) not in index.users]

    missing_class = [{"namespace": _meta(p).get("namespace"), "name": _meta(p).get("name"), "class": pvc_class(p),
                      "phase": _status(p).get("phase")}
                     for p in index.pvcs if pvc_class(p) and pvc_class(p) not in index.classes]

    defaults = [c["name"] for c in class_entries if c["default"]]
    if "summary" in sections:
        report["summary"] = {
            "pvs": len(index.pvs), "pvcs": len(index.pvcs), "storageclasses": len(index.classes),
            "pods_with_pvcs": len(mounts), "namespaces": len(per_ns),
            "requested_bytes": sum(n["requested_bytes"] for n in per_ns.values()),
            "bound_bytes": sum(n["bound_bytes"] for n in per_ns.values()),
            "pending_pvcs": len(pending), "released_pvs": len(released), "failed_pvs": len(failed),
            "orphaned_pvs": len(orphaned), "unused_pvcs": len(unused), "missing_class_pvcs": len(missing_class),
            "default_classes": defaults,
        }
    if "namespaces" in sections:
        report["namespaces"] = {name: per_ns[name] for name in sorted(per_ns)}
    if "classes" in sections:
        report["classes"] = class_entries
        report["classes_not_defined"] = {name: others[name] for name in sorted(others)}
    if "pending_pvcs" in sections:
        report["pending_pvcs"] = _sort_ns(pending)
    if "released_pvs" in sections:
        report["released_pvs"] = _sort_ns(released)
    if "failed_pvs" in sections:
        report["failed_pvs"] = _sort_ns(failed)
    if "orphaned_pvs" in sections:
        report["orphaned_pvs"] = _sort_ns(orphaned)
    if "pod_mounts" in sections:
        report["pod_mounts"] = _sort_ns(mounts)
    if "unused_pvcs" in sections:
        report["unused_pvcs"] = _sort_ns(unused)
    if "missing_class_pvcs" in sections:
        report["missing_class_pvcs"] = _sort_ns(missing_class)
    if stale_days is not None and "stale" in sections:
        report["stale"] = stale_set(index, now, stale_days, released=released, unused=unused)
    return report


def stale_set(index, now, days, released=None, unused=None):
    """The Released PVs and unused PVCs that are stale after `days` (rules in the module doc)."""
    cutoff = now - datetime.timedelta(days=days)
    if released is None:
        released = [_pv_entry(pv, now) for pv in index.pvs if _status(pv).get("phase") == "Released"]
    if unused is None:
        unused = [_pvc_entry(index, pvc, now) for pvc in index.pvcs
                  if (_meta(pvc).get("namespace"), _meta(pvc).get("name")) not in index.users]
    deleting_pvs = set(_meta(pv).get("name") for pv in index.pvs if _meta(pv).get("deletionTimestamp"))
    deleting_pvcs = set((_meta(p).get("namespace"), _meta(p).get("name")) for p in index.pvcs if _meta(p).get("deletionTimestamp"))
    stale_pvs = [dict(e, class_reclaim_policy=_class_policy(index, e["class"])) for e in released
                 if e["name"] not in deleting_pvs and e["since"] is not None and parse_time(e["since"]) <= cutoff]
    stale_pvcs = []
    for entry in unused:
        if (entry["namespace"], entry["name"]) in deleting_pvcs or entry["created"] is None:
            continue
        if parse_time(entry["created"]) > cutoff:
            continue
        if entry["last_pod_start"] is not None and parse_time(entry["last_pod_start"]) > cutoff:
            continue
        stale_pvcs.append(entry)
    for entry in stale_pvs:
        entry["retain"] = entry["reclaim_policy"] == "Retain" or entry["class_reclaim_policy"] == "Retain"
    return {
        "days": days,
        "cutoff": format_time(cutoff),
        "released_pvs": _sort_ns(stale_pvs),
        "pvcs": _sort_ns(stale_pvcs),
        "pv_names": sorted(e["name"] for e in stale_pvs),
        "pvc_names": sorted("%s/%s" % (e["namespace"], e["name"]) for e in stale_pvcs),
        "since_fallbacks": sorted(e["name"] for e in stale_pvs if e["since_source"] != "lastPhaseTransitionTime"),
    }


def _class_policy(index, name):
    sc = index.classes.get(name) if name else None
    if sc is None:
        return None
    return sc.get("reclaimPolicy") or "Delete"


def count_calls(calls_by_kind):
    """{kind: calls} plus the total, as the modules return it."""
    out = dict(calls_by_kind)
    out["total"] = sum(calls_by_kind.values())
    return out


# --- cleanup guards (the cleanup module re-reads each object and asks these) ----------------

def active_users(pods):
    """{(namespace, pvc name): [(pod name, phase)]} of the pods that keep each claim in use (see
    pod_keeps_claims): deleting such a claim only marks it, Kubernetes removes it when they are gone."""
    users = {}
    for pod in pods:
        namespace = _meta(pod).get("namespace")
        for claim in pod_keeps_claims(pod):
            users.setdefault((namespace, claim), []).append((_meta(pod).get("name"), _status(pod).get("phase")))
    return users


def _changed_since(obj, expected):
    meta = _meta(obj)
    if expected.get("uid") and expected["uid"] != meta.get("uid"):
        return "re-created since the report: uid %s, expected %s" % (meta.get("uid"), expected["uid"])
    if expected.get("resource_version") and expected["resource_version"] != meta.get("resourceVersion"):
        return "changed since the report: resourceVersion %s, expected %s" % (meta.get("resourceVersion"), expected["resource_version"])
    return None


def pv_refusal(pv, classes, expected=None, retain_names=()):
    """Why this PV must not be deleted now (a sentence), or None.

    classes: {name: StorageClass dict}; expected: {uid, resource_version} from the report;
    retain_names: PVs the user named to delete although their reclaim policy is Retain.
    """
    meta, spec = _meta(pv), _spec(pv)
    reason = _changed_since(pv, expected or {})
    if reason:
        return reason
    if meta.get("deletionTimestamp"):
        return None  # already being deleted: the caller reports it as gone
    phase = _status(pv).get("phase")
    if phase in ("Bound", "Pending"):
        claim_ref = spec.get("claimRef") or {}
        return "phase is %s (claim %s/%s), not Released" % (phase, claim_ref.get("namespace"), claim_ref.get("name"))
    if meta.get("name") in retain_names:
        return None
    if (spec.get("persistentVolumeReclaimPolicy") or "Retain") == "Retain":
        return "persistentVolumeReclaimPolicy is Retain; name it in retain_pvs_to_delete to delete it"
    klass = classes.get(pv_class(pv)) if pv_class(pv) else None
    if klass is not None and (klass.get("reclaimPolicy") or "Delete") == "Retain":
        return "its StorageClass %s has reclaimPolicy Retain; name it in retain_pvs_to_delete to delete it" % pv_class(pv)
    return None


def pvc_refusal(pvc, users, expected=None):
    """Why this PVC must not be deleted now, or None. users: from active_users()."""
    meta = _meta(pvc)
    reason = _changed_since(pvc, expected or {})
    if reason:
        return reason
    pods = sorted(users.get((meta.get("namespace"), meta.get("name"))) or [])
    if not pods:
        return None
    running = [name for name, phase in pods if phase not in FINISHED_POD_PHASES]
    if running:
        return "mounted by pod(s) %s" % ", ".join(running)
    shown = ", ".join("%s (%s)" % (name, phase) for name, phase in pods)
    if len(pods) == 1:
        return "pod %s still names it; Kubernetes keeps the claim until that pod is deleted " \
               "(kubernetes.io/pvc-protection)" % shown
    return "pods %s still name it; Kubernetes keeps the claim until those pods are deleted " \
           "(kubernetes.io/pvc-protection)" % shown
