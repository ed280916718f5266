# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""LVM snapshots: create (classic or thin), grow, remove, merge back, mount read-only.

plan_snapshot(request, state, facts) -> Plan is pure: everything it needs beyond the
LvmState (filesystem types, current mounts) comes in `facts`, gathered by
read_snapshot_facts() with one `blkid` call for every device (filesystem.read_fs_facts) and one read of
/proc/self/mountinfo. The layout module calls the same functions for each snapshot entry.

Choices worth knowing:
- A snapshot with a size (`1G`, `20%ORIGIN`) is a classic (COW) snapshot; without one, the
  origin must be a thin volume and the snapshot is a thin snapshot.
- Removing a snapshot needs no extra flag (a snapshot is a disposable copy by nature), but an
  open snapshot is refused unless it is mounted exactly where `mount.path` says (we unmount
  what we mounted). An LV that is not a snapshot is never removed here.
- Thin snapshots keep LVM's default activation skip flag (not activated at boot); when a
  mount is asked for, the snapshot is activated with `--ignoreactivationskip`. Our read-only
  mount is not written to fstab either: both last until the next boot.
- A merge whose origin (or snapshot) is open is deferred by LVM to the origin's next
  activation; we report `merge: deferred` with the steps that start it. A pending merge shows
  the snapshot as a hidden LV: state=merged is then idempotent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ansible_collections.strata.storage.plugins.module_utils.core import sizes
from ansible_collections.strata.storage.plugins.module_utils.core.text import with_article
from ansible_collections.strata.storage.plugins.module_utils.core.devices import parse_mountinfo
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.filesystem import read_fs_facts
from ansible_collections.strata.storage.plugins.module_utils.lvm.names import check_lv_name, check_name, dm_name, DM_NAME_MAX
from ansible_collections.strata.storage.plugins.module_utils.lvm.planner import _undo_lv
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action

STATES = ("present", "absent", "merged")
FULL_PERCENT = 100.0
WARN_PERCENT = 80.0

# merge status values reported in the result
MERGE_NONE = "none"            # no merge asked for / nothing to merge
MERGE_COMPLETE = "complete"    # the snapshot is gone into its origin
MERGE_DEFERRED = "deferred"    # LVM waits for the origin's next activation
MERGE_IN_PROGRESS = "in_progress"
MERGE_NOT_FOUND = "not_found"  # no such snapshot (a finished merge also leaves none)


@dataclass
class SnapshotRequest:
    vg: str
    name: str
    origin: str = None
    size: object = None            # sizes.SizeSpec: absolute or N%ORIGIN / %FREE / %VG
    state: str = "present"
    mount_path: str = None
    mount_options: str = None      # extra options; `ro` is always added (and `nouuid` for xfs)
    allow_remove: bool = False     # state=absent removes only with this (design: removal needs a flag)


def request_from_params(params):
    """SnapshotRequest from a plain dict (module params or one entry of a layout's list)."""
    mount = params.get("mount") or {}
    state = params.get("state") or "present"
    if state not in STATES:
        raise StrataError("snapshot %s: state '%s' is not one of %s" % (params.get("name"), state, ", ".join(STATES)))
    return SnapshotRequest(
        vg=params.get("vg"), name=params.get("name"), origin=params.get("origin"),
        size=sizes.parse_size(params.get("size"), allow_relative=True, what="snapshot size"),
        state=state, mount_path=mount.get("path"), mount_options=mount.get("options"),
        allow_remove=bool(params.get("allow_remove")),
    )


# --------------------------------------------------------------------------- facts

def lv_device_path(vg, name):
    return "/dev/%s/%s" % (vg, name)


def read_snapshot_facts(runner, paths, probe=True, mountinfo_path="/proc/self/mountinfo"):
    """{"fstype": {path: type or None}, "mounts": {path: [mountpoints]}} for LV device paths.

    Filesystem types come from filesystem.read_fs_facts (one blkid call for all devices, and a
    low-level `blkid -p` for any it reports blank) when `probe` is true (only mounting needs
    them); mounts come from mountinfo, matched by device number."""
    facts = {"fstype": {}, "mounts": {}}
    existing = []
    devnos = {}
    for path in paths:
        facts["fstype"][path] = None
        facts["mounts"][path] = []
        try:
            st = os.stat(path)
        except OSError:
            continue
        existing.append(path)
        devnos[path] = "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
    if existing and probe:
        for path, info in read_fs_facts(runner, existing).items():
            facts["fstype"][path] = info.type
    if existing:
        try:
            with open(mountinfo_path) as handle:
                mounts = parse_mountinfo(handle.read())
        except (IOError, OSError):
            mounts = {}
        for path, devno in devnos.items():
            facts["mounts"][path] = mounts.get(devno, [])
    return facts


# --------------------------------------------------------------------------- views

def is_snapshot(lv):
    return bool(lv.origin) or "snapshot" in lv.role


def is_thin_snapshot(lv):
    return lv.is_thin_volume and is_snapshot(lv)


def fill_percent(lv):
    """How full a snapshot is: the COW store for classic ones, the pool data it maps for thin."""
    if lv.is_thin_volume:
        return lv.data_percent
    return lv.snap_percent


def merge_status(state, vg, name, origin_name=None):
    """The merge state of a snapshot as LVM shows it now."""
    lv = state.lv_any(vg, name)
    if lv is None:
        return MERGE_NOT_FOUND
    if not lv.merging:
        return MERGE_NONE
    origin = state.lv_any(vg, lv.origin or origin_name or "")
    if (origin is not None and (origin.in_use or not origin.active)) or lv.in_use:
        return MERGE_DEFERRED
    return MERGE_IN_PROGRESS


def deferred_hint(vg, origin_name, mounts=None):
    where = " (mounted on %s)" % ", ".join(mounts) if mounts else ""
    return ("the merge starts at the next activation of %s/%s: unmount it%s, then run "
            "`lvchange -an %s/%s && lvchange -ay %s/%s` (or reboot)" % (
                vg, origin_name, where, vg, origin_name, vg, origin_name))


def snapshot_view(state, vg, name, facts=None):
    """The snapshot as reported in results and diffs."""
    lv = state.lv_any(vg, name)
    if lv is None:
        return {"state": "absent"}
    path = lv_device_path(vg, name)
    facts = facts or {}
    fill = fill_percent(lv)
    return {
        "state": "present", "vg": vg, "name": name, "origin": lv.origin or None,
        "type": "thin" if lv.is_thin_volume else "classic", "size": lv.size,
        "fill_percent": fill, "snap_percent": lv.snap_percent, "data_percent": lv.data_percent,
        "invalid": bool(lv.snapshot_invalid or (not lv.is_thin_volume and fill is not None and fill >= FULL_PERCENT)),
        "merging": lv.merging, "merge": merge_status(state, vg, name),
        "active": lv.active, "open": lv.open, "path": path,
        "mounts": list((facts.get("mounts") or {}).get(path, [])),
    }


# --------------------------------------------------------------------------- planning

def mount_options(fstype, extra):
    opts = ["ro"]
    if fstype == "xfs":
        opts.append("nouuid")   # the snapshot carries the origin's UUID; xfs refuses duplicates
    for opt in (extra or "").split(","):
        opt = opt.strip()
        if opt and opt not in opts and opt != "rw":
            opts.append(opt)
    return ",".join(opts)


def plan_snapshot(req, state, facts=None):
    """Plan one snapshot. facts: read_snapshot_facts() output (may be None without mounts)."""
    facts = facts or {"fstype": {}, "mounts": {}}
    check_name("volume group", req.vg)
    check_name("snapshot", req.name)
    if req.origin:
        check_name("origin", req.origin)
    vg = state.vg(req.vg)
    if vg is None:
        raise StrataError("volume group %s does not exist" % req.vg, hint="create it first with strata.storage.lvm_vg")
    full = "%s/%s" % (req.vg, req.name)
    path = lv_device_path(req.vg, req.name)
    mounts = list((facts.get("mounts") or {}).get(path, []))
    plan = Plan(before=snapshot_view(state, req.vg, req.name, facts))
    lv_any = state.lv_any(req.vg, req.name)
    if lv_any is not None and not is_snapshot(lv_any):
        raise StrataError("logical volume %s exists and is not a snapshot" % full,
                          hint="choose another name; this module never touches other LVs")
    if lv_any is not None and req.origin and lv_any.origin and lv_any.origin != req.origin:
        raise StrataError("snapshot %s exists with origin %s, not %s" % (full, lv_any.origin, req.origin),
                          hint="choose another name, or remove the existing snapshot first")
    if req.state == "absent":
        return _plan_absent(req, state, lv_any, mounts, plan)
    if req.state == "merged":
        return _plan_merged(req, state, lv_any, mounts, facts, plan)
    return _plan_present(req, state, vg, lv_any, mounts, facts, plan)


def _unmount_ours(req, lv, mounts, plan, why):
    """Unmount the snapshot when it is mounted where mount.path says; refuse other openers."""
    full = lv.full_name
    ours = req.mount_path and req.mount_path in mounts
    others = [m for m in mounts if m != req.mount_path]
    if others or (lv.in_use and not ours):
        raise StrataError("snapshot %s is open (%s); refusing to %s it" % (
            full, "mounted on %s" % ", ".join(others or mounts) if (others or mounts) else "in use", why),
            hint="unmount it or stop what uses it first (only a mount at mount.path is unmounted for you)")
    if ours:
        plan.add(Action("unmount snapshot %s from %s" % (full, req.mount_path), ["umount", req.mount_path]))
        return True
    return False


def _plan_absent(req, state, lv, mounts, plan):
    plan.after = {"state": "absent"}
    if lv is None:
        return plan
    full = lv.full_name
    if lv.merging:
        raise StrataError("snapshot %s is being merged into %s; it cannot be removed" % (full, lv.origin),
                          hint=deferred_hint(req.vg, lv.origin))
    if not req.allow_remove:
        raise StrataError("snapshot %s exists; removing it needs allow_remove: true" % full,
                          hint="nothing was changed; its data (the point-in-time copy of %s) is lost on removal" % (
                              lv.origin or "its origin"))
    _unmount_ours(req, lv, mounts, plan, "remove")
    dependents = [x.name for x in state.lvs_of(req.vg) if x.origin == lv.name and is_snapshot(x)]
    if dependents:
        raise StrataError("snapshot %s has snapshots of its own (%s); refusing to remove it" % (
            full, ", ".join(sorted(dependents))), hint="remove them first")
    plan.add(Action("remove snapshot %s of %s" % (full, lv.origin or "a removed origin"),
                    ["lvremove", "--yes", full]))
    return plan


def _plan_merged(req, state, lv, mounts, facts, plan):
    full = "%s/%s" % (req.vg, req.name)
    if lv is None:
        plan.after = {"state": "absent", "merge": MERGE_NOT_FOUND}
        plan.notes.append("no snapshot %s: nothing to merge (a finished merge also removes the snapshot)" % full)
        return plan
    origin = state.lv_any(req.vg, lv.origin)
    origin_mounts = (facts.get("mounts") or {}).get(lv_device_path(req.vg, lv.origin), [])
    if lv.merging:
        status = merge_status(state, req.vg, req.name)
        plan.after = dict(plan.before, merge=status)
        if status == MERGE_DEFERRED:
            plan.notes.append("merge of %s into %s is already pending; %s" % (
                full, lv.origin, deferred_hint(req.vg, lv.origin, origin_mounts)))
        return plan
    fill = fill_percent(lv)
    if not lv.is_thin_volume and (lv.snapshot_invalid or (fill is not None and fill >= FULL_PERCENT)):
        raise StrataError("snapshot %s is invalid (its copy-on-write store filled up at %s%%); merging it would "
                          "write a broken image over %s" % (full, fill, lv.origin),
                          hint="remove the snapshot (state=absent); its content is lost")
    if origin is None:
        raise StrataError("snapshot %s has no origin to merge into" % full)
    unmounted = _unmount_ours(req, lv, mounts, plan, "merge")
    plan.add(Action("merge snapshot %s back into its origin %s (the origin reverts to the snapshot's content)" % (
        full, lv.origin), ["lvconvert", "--merge", "--yes", full]))
    snapshot_open = lv.in_use and not unmounted
    # the same rule as merge_status(): an open or inactive origin (or an open snapshot) defers the merge
    if origin.in_use or snapshot_open or not origin.active:
        status = MERGE_DEFERRED
        if origin.in_use:
            why = "origin %s/%s is open" % (req.vg, lv.origin)
        elif snapshot_open:
            why = "snapshot %s is open" % full
        else:
            why = "origin %s/%s is not active" % (req.vg, lv.origin)
        plan.notes.append("%s, so LVM defers the merge: %s" % (why, deferred_hint(req.vg, lv.origin, origin_mounts)))
        plan.after = dict(plan.before, merging=True, merge=status)
    else:
        plan.after = {"state": "absent", "merge": MERGE_COMPLETE}
    return plan


def _plan_present(req, state, vg, lv, mounts, facts, plan):
    full = "%s/%s" % (req.vg, req.name)
    if lv is not None and lv.merging:
        raise StrataError("snapshot %s is being merged into %s and cannot be used or re-created until the merge "
                          "finishes" % (full, lv.origin), hint=deferred_hint(req.vg, lv.origin))
    if lv is None:
        after = _plan_create(req, state, vg, plan)
    else:
        after = _plan_existing(req, vg, lv, plan)
    if req.mount_path:
        _plan_mount(req, lv, after, mounts, facts, plan)
    after["mounts"] = sorted(set(mounts) | ({req.mount_path} if req.mount_path else set()))
    plan.after = after
    return plan


def _plan_create(req, state, vg, plan):
    full = "%s/%s" % (req.vg, req.name)
    if not req.origin:
        raise StrataError("snapshot %s does not exist and no origin was given to create it" % full)
    origin = state.lv(req.vg, req.origin)
    if origin is None:
        raise StrataError("origin %s/%s of snapshot %s does not exist" % (req.vg, req.origin, req.name))
    if origin.is_thin_pool or origin.hidden:
        raise StrataError("%s/%s is a thin pool; snapshot a thin volume of it instead" % (req.vg, req.origin))
    if is_snapshot(origin) and not origin.is_thin_volume:
        raise StrataError("%s/%s is itself a classic snapshot; LVM cannot snapshot it" % (req.vg, req.origin),
                          hint="snapshot its origin %s instead" % origin.origin)
    if origin.merging:
        raise StrataError("origin %s/%s has a merge pending; wait for it before taking a new snapshot" % (
            req.vg, req.origin))
    cmd = ["lvcreate", "--yes", "--snapshot"]
    if req.size is None:
        if not origin.is_thin_volume:
            raise StrataError("snapshot %s of %s/%s needs a size (e.g. 1G or 20%%ORIGIN): the origin is not a thin "
                              "volume, so the snapshot is a classic one with its own copy-on-write store" % (
                                  full, req.vg, req.origin))
        kind, size = "thin", origin.size
        check_lv_name(req.vg, req.name, "snapshot")
        plan.add(Action("create thin snapshot %s of %s/%s" % (full, req.vg, req.origin),
                        cmd + ["--name", req.name, "%s/%s" % (req.vg, req.origin)],
                        undo=_undo_lv(req.vg, req.name, "snapshot")))
    else:
        kind = "classic"
        check_lv_name(req.vg, req.name, "snapshot", ["-cow"])
        real = dm_name(req.vg, req.origin, "real")
        if len(real) > DM_NAME_MAX:
            raise StrataError("snapshot %s: its origin %s/%s would need the device-mapper name %s (%d characters, "
                              "more than the kernel's %d)" % (full, req.vg, req.origin, real, len(real), DM_NAME_MAX),
                              hint="nothing was changed; a classic snapshot needs a shorter origin name, or use a "
                                   "thin volume, whose snapshots need no extra layer")
        size_args, size = _classic_size(req, vg, origin)
        plan.add(Action("create snapshot %s of %s/%s with %s copy-on-write store" % (
            full, req.vg, req.origin, with_article(sizes.human(size))),
            cmd + size_args + ["--name", req.name, "%s/%s" % (req.vg, req.origin)],
            undo=_undo_lv(req.vg, req.name, "snapshot")))
    return {"state": "present", "vg": req.vg, "name": req.name, "origin": req.origin, "type": kind,
            "size": size, "fill_percent": 0.0, "invalid": False, "merging": False, "merge": MERGE_NONE,
            "active": kind == "classic" and origin.active, "path": lv_device_path(req.vg, req.name)}


def _classic_size(req, vg, origin):
    spec = req.size
    full = "%s/%s" % (req.vg, req.name)
    if spec.is_relative:
        base = {"ORIGIN": origin.size, "FREE": vg.free, "VG": vg.size}.get(spec.base)
        if base is None:
            raise StrataError("snapshot %s: size %s is not supported; use N%%ORIGIN, N%%FREE or N%%VG" % (full, spec.text))
        # an estimate for Plan.after and the free-space check: LVM may round a %ORIGIN store up
        # further (the live suite saw 25% of 40M give 16M, not 12M); the module reports LVM's size
        want = sizes.round_up(int(base * spec.percent / 100.0), vg.extent_size)
        args = ["--extents", "%s%%%s" % ("%g" % spec.percent, spec.base)]
    else:
        want = sizes.round_up(spec.bytes, vg.extent_size)
        args = ["--size", sizes.to_kib_arg(want)]
    if want > vg.free:
        raise StrataError("snapshot %s needs %s but volume group %s has %s free" % (
            full, sizes.human(want), req.vg, sizes.human(vg.free)),
            hint="give a smaller size or add PVs to the VG")
    return args, want


def _plan_existing(req, vg, lv, plan):
    full = lv.full_name
    after = {"state": "present", "vg": req.vg, "name": req.name, "origin": lv.origin or None,
             "type": "thin" if lv.is_thin_volume else "classic", "size": lv.size,
             "fill_percent": fill_percent(lv), "invalid": bool(lv.snapshot_invalid), "merging": lv.merging,
             "merge": MERGE_NONE, "active": lv.active, "path": lv_device_path(req.vg, req.name)}
    fill = fill_percent(lv)
    if lv.snapshot_invalid or (not lv.is_thin_volume and fill is not None and fill >= FULL_PERCENT):
        after["invalid"] = True
        plan.warnings.append("snapshot %s is invalid: its copy-on-write store filled up and its content is lost; "
                             "remove it (state=absent) and take a new one" % full)
        return after
    if not lv.is_thin_volume and fill is not None and fill >= WARN_PERCENT:
        plan.warnings.append("snapshot %s is %.1f%% full; it becomes invalid at 100%%: grow it (a larger size) or "
                             "remove it" % (full, fill))
    if req.size is None:
        return after
    if lv.is_thin_volume:
        plan.notes.append("snapshot %s is a thin snapshot; size %s ignored (thin snapshots share the pool)" % (
            full, req.size.text))
        return after
    if req.size.is_relative:
        plan.notes.append("snapshot %s exists; relative size %s applies at creation only and was not re-applied" % (
            full, req.size.text))
        return after
    verdict, want = sizes.compare(lv.size, req.size.bytes, vg.extent_size)
    if verdict == sizes.GROW:
        if want - lv.size > vg.free:
            raise StrataError("growing snapshot %s to %s needs %s more but volume group %s has %s free" % (
                full, sizes.human(want), sizes.human(want - lv.size), req.vg, sizes.human(vg.free)))
        plan.add(Action("grow the copy-on-write store of snapshot %s from %s to %s" % (
            full, sizes.human(lv.size), sizes.human(want)), ["lvextend", "--size", sizes.to_kib_arg(want), full]))
        after["size"] = want
    elif verdict == sizes.SHRINK:
        plan.notes.append("snapshot %s is %s, more than the requested %s; kept (a snapshot store is never shrunk)" % (
            full, sizes.human(lv.size), sizes.human(want)))
    return after


def _plan_mount(req, lv, after, mounts, facts, plan):
    full = "%s/%s" % (req.vg, req.name)
    path = lv_device_path(req.vg, req.name)
    if req.mount_path in mounts:
        return
    if not os.path.isabs(req.mount_path):
        raise StrataError("snapshot %s: mount path '%s' must be absolute" % (full, req.mount_path))
    fstypes = facts.get("fstype") or {}
    origin_name = (lv.origin if lv is not None else None) or req.origin
    # an inactive snapshot has no device to probe: it holds what its origin holds
    fstype = fstypes.get(path) or (fstypes.get(lv_device_path(req.vg, origin_name)) if origin_name else None)
    if fstype is None and (lv is None or lv.active):
        raise StrataError("snapshot %s holds no filesystem blkid recognises (nor does its origin); it cannot be "
                          "mounted" % full, hint="is the origin active and does it hold a filesystem?")
    if not after.get("active"):
        thin = after.get("type") == "thin"
        plan.add(Action("activate snapshot %s%s" % (full, " (thin snapshots skip activation by default)" if thin else ""),
                        ["lvchange", "--activate", "y"] + (["--ignoreactivationskip"] if thin else []) + [full]))
        after["active"] = True
    plan.add(Action("create mount point %s" % req.mount_path, ["mkdir", "-p", req.mount_path]))
    fstype_args = ["-t", fstype] if fstype else []
    plan.add(Action("mount snapshot %s read-only on %s (not in fstab)" % (full, req.mount_path),
                    ["mount"] + fstype_args + ["-o", mount_options(fstype, req.mount_options), path, req.mount_path]))


def facts_paths(req, state):
    """LV device paths whose facts plan_snapshot uses: the snapshot and its origin."""
    paths = [lv_device_path(req.vg, req.name)]
    lv = state.lv_any(req.vg, req.name)
    origin = (lv.origin if lv is not None else None) or req.origin
    if origin:
        paths.append(lv_device_path(req.vg, origin))
    return paths
