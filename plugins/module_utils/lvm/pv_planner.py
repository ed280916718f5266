# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Operations on physical volumes: move extents off a PV, resize a PV, repair a VG that lost one.

Pure planners over LvmState (plus plain facts gathered by the readers here):
- plan_pv_move: `pvmove` of every allocated extent off one PV, foreground with its progress
  lines captured, or in the background with later calls reporting the pvmove LV's progress;
- plan_pv_resize: `pvresize` after the device grew; shrinking only when asked and only when the
  freed tail holds no allocated extent (PV.segments, from the same LVM report);
- plan_repair: `lvconvert --repair` of each RAID/mirror LV that lost a leg onto spare PVs the
  user named, then `vgreduce --removemissing` only when asked and only when no LV still uses
  the missing PV (never `--force`, which would drop those LVs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core import devices, sizes
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.lvm.names import check_name
from ansible_collections.strata.storage.plugins.module_utils.lvm.planner import _pv_for_device
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action

DEFAULT_PE_START = 1024 ** 2     # LVM's default data alignment, when the report lacks pe_start
UNKNOWN_DEVICE = "[unknown]"     # how LVM names a missing PV in `devices`
_PROGRESS_RE = re.compile(r"(\S+):\s+Moved:\s+([0-9.]+)%")


def find_pv(state, path):
    """The PV for a device path (compared by device number), or None: the one lookup
    lvm_vg and lvm_lv use too."""
    return _pv_for_device(state, path)


def _pe_start(pv):
    return getattr(pv, "pe_start", 0) or DEFAULT_PE_START


def pv_view(pv, state):
    if pv is None:
        return {"state": "absent"}
    out = pv.summary()
    vg = state.vg(pv.vg_name) if pv.vg_name else None
    out["dev_size"] = pv.dev_size
    out["extent_size"] = vg.extent_size if vg else None
    return out


# --------------------------------------------------------------------------- pvmove

@dataclass
class PvMoveRequest:
    device: str
    destinations: list = field(default_factory=list)
    background: bool = False
    interval: int = 5


def move_request_from_params(params):
    interval = params.get("interval")
    if interval is None:
        interval = 5
    if interval < 1:
        raise StrataError("pvmove interval must be at least 1 second, not %s" % interval)
    return PvMoveRequest(device=params["device"], destinations=list(params.get("destinations") or []),
                         background=bool(params.get("background")), interval=interval)


def parse_pvmove_progress(text):
    """[{'device': '/dev/vdb', 'percent': 12.5}, ...] from pvmove's periodic 'Moved: NN.NN%' lines."""
    return [{"device": m.group(1), "percent": float(m.group(2))} for m in _PROGRESS_RE.finditer(text or "")]


def pvmove_lvs(state, vg_name=None):
    """The temporary pvmove LVs (an interrupted or background move)."""
    def is_move(lv):
        return lv.segtype == "mirror" or "pvmove" in lv.role or lv.attr.startswith("p")

    return [lv for lv in state.lvs if lv.name.startswith("pvmove") and (vg_name is None or lv.vg_name == vg_name) and is_move(lv)]


def move_in_progress(state, pv):
    """The pvmove LV moving extents off `pv`, or None."""
    for lv in pvmove_lvs(state, pv.vg_name):
        if lv.devices and lv.devices[0] == pv.name:
            return lv
        if pv.name in lv.devices and len(lv.devices) > 1 and lv.devices.index(pv.name) % 2 == 0:
            return lv
    return None


def plan_pv_move(req, state):
    pv = find_pv(state, req.device)
    if pv is None or not pv.vg_name:
        raise StrataError("%s is not a PV of any volume group; there is nothing to move" % req.device)
    plan = Plan(before=pv_view(pv, state))
    vg = state.vg(pv.vg_name)
    running = move_in_progress(state, pv)
    if running is not None:
        plan.after = dict(plan.before, move_percent=running.copy_percent)
        plan.notes.append("a pvmove off %s is in progress (%s%% done); not started again" % (
            pv.name, running.copy_percent if running.copy_percent is not None else "?"))
        return plan
    if pv.missing:
        raise StrataError("PV %s of volume group %s is missing; its extents cannot be moved" % (pv.uuid, pv.vg_name),
                          hint="repair the LVs that used it with strata.storage.lvm_repair")
    if pv.pe_alloc_count == 0:
        plan.after = dict(plan.before)
        return plan
    targets = []
    for path in req.destinations:
        dst = find_pv(state, path)
        if dst is None or dst.vg_name != pv.vg_name:
            raise StrataError("destination %s is not a PV of volume group %s" % (path, pv.vg_name),
                              hint="add it to the VG first with strata.storage.lvm_vg")
        if dst.name == pv.name:
            raise StrataError("destination %s is the PV being emptied" % path)
        if dst.missing or not dst.allocatable:
            raise StrataError("destination %s of volume group %s is %s" % (
                path, pv.vg_name, "missing" if dst.missing else "not allocatable (pvchange -x y allows it)"))
        targets.append(dst)
    if not req.destinations:
        targets = [p for p in state.pvs_of(pv.vg_name) if p.name != pv.name and not p.missing and p.allocatable]
    room = sum(p.pe_count - p.pe_alloc_count for p in targets)
    if pv.pe_alloc_count > room:
        raise StrataError(
            "cannot move %d extents (%s) off %s: %s of volume group %s %s only %d free extents (%s)" % (
                pv.pe_alloc_count, sizes.human(pv.pe_alloc_count * vg.extent_size), pv.name,
                "the destinations" if req.destinations else "the other PVs", pv.vg_name,
                "have", room, sizes.human(room * vg.extent_size)),
            hint="add a PV to the volume group (strata.storage.lvm_vg) or free space first")
    cmd = ["pvmove", "--autobackup", "y"]
    cmd += ["--background"] if req.background else ["--interval", str(req.interval)]
    cmd += [pv.name] + [t.name for t in targets if req.destinations]
    plan.add(Action("move %d allocated extents off %s%s%s" % (
        pv.pe_alloc_count, pv.name, " to %s" % ", ".join(t.name for t in targets) if req.destinations else "",
        " in the background" if req.background else ""), cmd))
    after = dict(plan.before, pe_alloc_count=0 if not req.background else pv.pe_alloc_count,
                 free=pv.pe_count * vg.extent_size if not req.background else pv.free)
    plan.after = after
    return plan


# --------------------------------------------------------------------------- pvresize

@dataclass
class PvResizeRequest:
    device: str
    size: object = None        # sizes.SizeSpec absolute; None = the whole device
    allow_shrink: bool = False


def resize_request_from_params(params):
    return PvResizeRequest(device=params["device"],
                           size=sizes.parse_size(params.get("size"), what="PV size"),
                           allow_shrink=bool(params.get("allow_shrink")))


def plan_pv_resize(req, state):
    """Grow a PV into its device, or shrink it (with allow_shrink) when its tail is free:
    the PV's segment map (PV.segments, from the same LVM report) says which extents are used."""
    pv = find_pv(state, req.device)
    if pv is None:
        raise StrataError("%s is not an LVM physical volume" % req.device)
    if pv.missing:
        raise StrataError("PV %s is missing; it cannot be resized" % pv.uuid)
    plan = Plan(before=pv_view(pv, state))
    vg = state.vg(pv.vg_name) if pv.vg_name else None
    extent = vg.extent_size if vg else 4 * 1024 ** 2
    pe_start = _pe_start(pv)
    usable_now = pv.pe_count if vg else max(0, (pv.size - pe_start) // extent)
    device_fits = max(0, (pv.dev_size - pe_start) // extent)
    if vg and device_fits < pv.pe_count:
        raise StrataError("device %s (%s) is smaller than PV %s needs (%d extents of %s); the device shrank under "
                          "LVM" % (pv.name, sizes.human(pv.dev_size), pv.name, pv.pe_count, sizes.human(extent)),
                          hint="grow the device back to at least its former size before anything writes to the VG")
    if req.size is None:
        target_bytes, target = None, device_fits
    else:
        if req.size.bytes > pv.dev_size:
            raise StrataError("PV %s cannot be %s: the device is only %s" % (
                pv.name, sizes.human(req.size.bytes), sizes.human(pv.dev_size)))
        target_bytes = req.size.bytes
        target = max(0, (target_bytes - pe_start) // extent)
    after = dict(plan.before)
    if target > usable_now:
        cmd = ["pvresize"] + (["--setphysicalvolumesize", sizes.to_kib_arg(target_bytes)] if target_bytes else [])
        plan.add(Action("grow PV %s from %d to %d extents (%s more)" % (
            pv.name, usable_now, target, sizes.human((target - usable_now) * extent)), cmd + [pv.name]))
    elif target < usable_now:
        if not req.allow_shrink:
            raise StrataError("PV %s has %d extents; %s would leave %d: refusing to shrink" % (
                pv.name, usable_now, sizes.human(target_bytes), target), hint="set allow_shrink: true to shrink it")
        if pv.segments is None:
            raise StrataError("shrinking PV %s needs its segment map, which this LVM state lacks" % pv.name)
        used_tail = sorted({lv for start, size, lv in pv.segments if start + size > target})
        if used_tail:
            raise StrataError("cannot shrink PV %s to %d extents: LVs %s hold extents beyond that" % (
                pv.name, target, ", ".join(used_tail)),
                hint="move them first (pvmove --alloc anywhere %s:%d- %s)" % (pv.name, target, pv.name))
        plan.add(Action("shrink PV %s from %d to %d extents (the freed tail is unallocated)" % (
            pv.name, usable_now, target),
            ["pvresize", "--yes", "--setphysicalvolumesize", sizes.to_kib_arg(target_bytes), pv.name]))
    if plan.actions:
        after.update(pe_count=target, size=target * extent,
                     free=pv.free + (target - usable_now) * extent)
    plan.after = after
    return plan


# --------------------------------------------------------------------------- repair

@dataclass
class RepairRequest:
    vg: str
    spares: list = field(default_factory=list)
    force: list = field(default_factory=list)
    lvs: list = field(default_factory=list)      # limit to these LVs (default: every degraded one)
    remove_missing: bool = False


def repair_request_from_params(params):
    return RepairRequest(vg=params["vg"], spares=list(params.get("spares") or []),
                         force=list(params.get("force") or []), lvs=list(params.get("lvs") or []),
                         remove_missing=bool(params.get("remove_missing")))


def _is_redundant(lv):
    return (lv.segtype.startswith("raid") and lv.segtype not in ("raid0", "raid0_meta")) or lv.segtype == "mirror"


def lv_uses_missing(state, lv):
    missing = {pv.name for pv in state.pvs_of(lv.vg_name) if pv.missing} | {UNKNOWN_DEVICE}
    return any(dev in missing for dev in state.pvs_under(lv))


def degraded_lvs(state, vg_name):
    """Visible LVs of a VG hit by a missing or failed PV: {name: reason}."""
    out = {}
    for lv in state.lvs_of(vg_name):
        if lv_uses_missing(state, lv):
            out[lv.name] = "uses a missing PV"
        elif lv.health in ("partial", "refresh needed"):
            out[lv.name] = "health %s" % lv.health
    return out


def repair_view(state, vg_name):
    vg = state.vg(vg_name)
    if vg is None:
        return {"state": "absent"}
    lvs = {}
    for lv in state.lvs_of(vg_name):
        if _is_redundant(lv) or lv_uses_missing(state, lv):
            lvs[lv.name] = {"segtype": lv.segtype, "health": lv.health or "ok", "sync_percent": lv.copy_percent,
                            "sync_action": lv.sync_action or None, "uses_missing_pv": lv_uses_missing(state, lv),
                            "pvs": state.pvs_under(lv)}
    return {"state": "present", "vg": vg_name, "missing_pv_count": vg.missing_pv_count,
            "missing_pvs": sorted(pv.uuid for pv in state.pvs_of(vg_name) if pv.missing), "lvs": lvs}


def _image_extents(state, lv, extent):
    """Extents of an LV's images/metadata that sit on missing PVs (what a repair allocates anew)."""
    total = 0
    for dev in lv.devices:
        sub = state.lv_any(lv.vg_name, dev)
        if sub is None:
            continue
        if lv_uses_missing(state, sub):
            total += -(-sub.size // extent)
    meta_names = [x for x in state.lvs_of(lv.vg_name, hidden=True)
                  if x.hidden and x.name.startswith(lv.name + "_rmeta_") and lv_uses_missing(state, x)]
    total += sum(-(-m.size // extent) for m in meta_names)
    return total


def plan_repair(req, state, inspect):
    """inspect(path) -> DeviceInfo for spares that are not PVs yet."""
    check_name("volume group", req.vg)
    vg = state.vg(req.vg)
    if vg is None:
        raise StrataError("volume group %s does not exist" % req.vg)
    plan = Plan(before=repair_view(state, req.vg))
    hit = degraded_lvs(state, req.vg)
    for name in req.lvs:
        if state.lv(req.vg, name) is None:
            raise StrataError("logical volume %s/%s does not exist" % (req.vg, name))
    chosen = [name for name in sorted(hit) if not req.lvs or name in req.lvs]
    repairable = [n for n in chosen if _is_redundant(state.lv(req.vg, n))]
    lost = [n for n in sorted(hit) if not _is_redundant(state.lv(req.vg, n))]

    # spares: PVs of this VG (allocatable, present) or blank devices that become PVs
    spare_pvs, new_paths, refused = [], [], {}
    for path in req.spares:
        pv = find_pv(state, path)
        if pv is not None and pv.vg_name == req.vg:
            if pv.missing or not pv.allocatable:
                refused[path] = "is %s PV of volume group %s" % ("a missing" if pv.missing else "a non-allocatable", req.vg)
            else:
                spare_pvs.append(pv)
        elif pv is not None and pv.vg_name:
            refused[path] = "is a PV of volume group %s" % pv.vg_name
        else:
            new_paths.append(path)
    if refused:
        raise StrataError("refusing spares for volume group %s: %s" % (
            req.vg, "; ".join("%s %s" % kv for kv in sorted(refused.items()))), details={"refused": refused})
    infos = [inspect(path) for path in new_paths] if repairable else []
    forced = devices.guard_blank(infos, req.force, "a spare PV of volume group %s" % req.vg)

    room = sum(pv.pe_count - pv.pe_alloc_count for pv in spare_pvs)
    room += sum(max(0, ((info.size or 0) - DEFAULT_PE_START) // vg.extent_size) for info in infos)
    need = sum(_image_extents(state, state.lv(req.vg, n), vg.extent_size) for n in repairable)
    if repairable and not req.spares:
        raise StrataError("logical volumes %s of volume group %s lost a leg; name spare PVs to rebuild onto" % (
            ", ".join(repairable), req.vg), hint="set spares: [a blank device or a PV of the VG with free extents]")
    if repairable and need > room:
        raise StrataError("repairing %s needs %d extents (%s) but the spares have %d free" % (
            ", ".join(repairable), need, sizes.human(need * vg.extent_size), room),
            hint="name more or larger spares")

    new_names = []
    for info in infos:
        if info.path in forced:
            plan.add(Action("wipe the signatures the user named in force from %s" % info.path,
                            ["wipefs", "--all", info.realpath]))
        plan.add(Action("initialise spare %s as an LVM physical volume" % info.path, ["pvcreate", info.realpath]))
        new_names.append(info.realpath)
    if new_names:
        plan.add(Action("add spares %s to volume group %s" % (", ".join(new_names), req.vg),
                        ["vgextend", req.vg] + new_names))
    spare_names = [pv.name for pv in spare_pvs] + new_names
    for name in repairable:
        lv = state.lv(req.vg, name)
        full = lv.full_name
        if not lv.active:
            plan.add(Action("activate %s in degraded mode so it can be repaired" % full,
                            ["lvchange", "--activate", "y", "--activationmode", "degraded", full]))
        plan.add(Action("rebuild the failed legs of %s (%s, %s) onto %s" % (full, lv.segtype, hit[name],
                                                                            ", ".join(spare_names)),
                        ["lvconvert", "--repair", "--yes", full] + spare_names))
    if lost:
        plan.warnings.append("logical volumes %s of volume group %s have no redundancy and lost extents on the missing "
                             "PV; they cannot be repaired, only restored from a backup" % (", ".join(lost), req.vg))
    after_hit = [n for n in sorted(hit) if n not in repairable]
    if req.remove_missing and vg.missing_pv_count:
        still = sorted(set(after_hit))
        if still:
            raise StrataError("refusing to remove the missing PVs of volume group %s: logical volumes %s still use "
                              "them" % (req.vg, ", ".join(still)),
                              hint="repair them (spares) or remove them yourself; vgreduce --removemissing --force "
                                   "would drop them and is never run here")
        plan.add(Action("remove the missing PVs from volume group %s" % req.vg,
                        ["vgreduce", "--removemissing", req.vg]))
    elif vg.missing_pv_count:
        plan.notes.append("volume group %s still lists %d missing PV(s); set remove_missing: true to drop them once "
                          "no LV uses them" % (req.vg, vg.missing_pv_count))
    after = dict(plan.before)
    if plan.before.get("lvs"):
        after["lvs"] = {name: dict(info, uses_missing_pv=info["uses_missing_pv"] and name not in repairable,
                                   health=("ok" if name in repairable else info["health"]))
                        for name, info in plan.before["lvs"].items()}
    if req.remove_missing and vg.missing_pv_count:
        after.update(missing_pv_count=0, missing_pvs=[])
    plan.after = after
    return plan
