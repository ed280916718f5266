# -*- coding: utf-8 -*-
"""Storage objects to seed into the API stand-in: a small cluster with known relations, and the
5,000 PV / 5,000 PVC cluster of the scale test and benchmark. Times are relative to now, as the
objects of a live cluster are."""
from __future__ import annotations

import datetime
import uuid

GI = 1024 ** 3


def ago(days, hours=0, now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return (now - datetime.timedelta(days=days, hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def namespace(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def storageclass(name, reclaim="Delete", default=False, binding="Immediate", provisioner="csi.strata.example"):
    meta = {"name": name}
    if default:
        meta["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta,
            "provisioner": provisioner, "reclaimPolicy": reclaim, "volumeBindingMode": binding}


def pvc(ns, name, size="1Gi", klass="fast", phase="Bound", volume=None, created=100, uid=None):
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}, "storageClassName": klass}
    if volume:
        spec["volumeName"] = volume
    status = {"phase": phase}
    if phase == "Bound":
        status.update(capacity={"storage": size}, accessModes=["ReadWriteOnce"])
    meta = {"name": name, "namespace": ns, "creationTimestamp": ago(created)}
    if uid:
        meta["uid"] = uid
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": spec, "status": status}


def pv(name, size="1Gi", klass="fast", phase="Bound", claim=None, reclaim="Delete", transition=None, created=100):
    spec = {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"], "persistentVolumeReclaimPolicy": reclaim,
            "storageClassName": klass, "csi": {"driver": "csi.strata.example", "volumeHandle": name}}
    if claim:
        ns, cname, uid = claim
        spec["claimRef"] = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": ns, "name": cname}
        if uid:
            spec["claimRef"]["uid"] = uid
    status = {"phase": phase}
    if transition is not None:
        status["lastPhaseTransitionTime"] = ago(transition)
    return {"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": name, "creationTimestamp": ago(created)}, "spec": spec, "status": status}


def pod(ns, name, claims=(), phase="Running", started=1, ephemeral=()):
    volumes = [{"name": "v%d" % i, "persistentVolumeClaim": {"claimName": c}} for i, c in enumerate(claims)]
    volumes += [{"name": v, "ephemeral": {"volumeClaimTemplate": {"spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}}} for v in ephemeral]
    status = {"phase": phase}
    if started is not None:
        status["startTime"] = ago(started)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
            "spec": {"containers": [{"name": "c", "image": "busybox"}], "volumes": volumes, "nodeName": "node1"},
            "status": status}


def event(ns, claim, reason, message, hours_ago, etype="Warning", count=1):
    when = ago(0, hours_ago)
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "%s.%s" % (claim, uuid.uuid4().hex[:12]), "namespace": ns},
            "involvedObject": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": ns, "name": claim},
            "reason": reason, "message": message, "type": etype, "count": count,
            "firstTimestamp": when, "lastTimestamp": when, "source": {"component": "persistentvolume-controller"}}


def bound_pair(ns, name, pv_name, size="1Gi", klass="fast", reclaim="Delete", created=100):
    """A PVC and its PV, bound both ways (the PV's claimRef carries the PVC's uid)."""
    uid = str(uuid.uuid4())
    return [pvc(ns, name, size=size, klass=klass, volume=pv_name, created=created, uid=uid),
            pv(pv_name, size=size, klass=klass, claim=(ns, name, uid), reclaim=reclaim, created=created)]


def scale_cluster(namespaces=200, pairs_per_namespace=25, pods_per_namespace=2, events_per_namespace=1):
    """namespaces * pairs_per_namespace PVs and as many PVCs (5,000 each by default), a few
    pods and events per namespace, three classes. Every 10th pair's PV is Released (its PVC
    gone) and every 10th+1 PVC is Pending without a PV."""
    objects = [storageclass("fast", default=True), storageclass("keep", reclaim="Retain"), storageclass("slow")]
    for n in range(namespaces):
        ns = "tenant-%03d" % n
        objects.append(namespace(ns))
        for i in range(pairs_per_namespace):
            name, pv_name = "data-%02d" % i, "pv-%03d-%02d" % (n, i)
            klass = ("fast", "keep", "slow")[i % 3]
            if i % 10 == 0:
                objects.append(pv(pv_name, klass=klass, phase="Released", claim=(ns, name + "-gone", str(uuid.uuid4())),
                                  transition=40, reclaim="Retain" if klass == "keep" else "Delete"))
                objects.append(pvc(ns, name, klass=klass, phase="Pending"))
            else:
                objects.extend(bound_pair(ns, name, pv_name, klass=klass, reclaim="Retain" if klass == "keep" else "Delete"))
        for p in range(pods_per_namespace):
            objects.append(pod(ns, "app-%d" % p, claims=["data-%02d" % (p + 1)]))
        for e in range(events_per_namespace):
            objects.append(event(ns, "data-00", "ProvisioningFailed", "backend full", 1))
    return objects
