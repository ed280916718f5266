# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planners for LVM: (desired, current LvmState) -> Plan of ordered actions.

Pure functions: they read nothing from the system themselves (devices are inspected
through the `inspect` callable the caller hands in), so every decision is unit-tested
with captured LVM state. All validation happens here, before any action runs, so bad
input fails with nothing changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core import sizes
from ansible_collections.strata.storage.plugins.module_utils.core.devices import device_key, guard_blank
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action
from ansible_collections.strata.storage.plugins.module_utils.core.text import with_article
from ansible_collections.strata.storage.plugins.module_utils.lvm.names import (
    check_extent_size, check_lv_name, check_name, check_new_vg_name, check_stripes, check_thin_chunk_size, sub_names,
)

PROFILE_DIR = "/etc/lvm/profile"
DEFAULT_AUTOEXTEND_PERCENT = 20   # LVM's own default for thin_pool_autoextend_percent


# --------------------------------------------------------------------------- volume groups

@dataclass
class VgRequest:
    name: str
    state: str = "present"
    devices: list = field(default_factory=list)
    force: list = field(default_factory=list)
    pe_size: int = None
    reduce: bool = False
    pvmove: bool = False
    remove_lvs: bool = False


def _undo_lv(vg, name, kind="logical volume"):
    """The undo of creating vg/name: remove it again (it holds nothing yet)."""
    return Action("remove %s %s/%s, which this run created" % (kind, vg, name), ["lvremove", "--yes", "%s/%s" % (vg, name)])


def vg_view(vg, state):
    """The part of a VG shown in diffs."""
    if vg is None:
        return {"state": "absent"}
    return {"state": "present", "name": vg.name, "extent_size": vg.extent_size,
            "pvs": sorted(pv.name for pv in state.pvs_of(vg.name))}


def _pv_for_device(state, path):
    key = device_key(path)
    if key[0] == "devno":
        return state.pv_by_devno(key[1:])
    for pv in state.pvs:
        if pv.name == key[1]:
            return pv
    return None


def plan_vg(req, state, inspect, dev_entry_exists=None):
    """Plan a volume group. inspect(path) -> DeviceInfo for devices not yet in the VG;
    dev_entry_exists(name) -> whether /dev/<name> exists (a new VG may not clash with it)."""
    check_name("volume group", req.name)
    check_extent_size("volume group %s" % req.name, req.pe_size)
    vg = state.vg(req.name)
    if vg is None and req.state == "present":
        check_new_vg_name(req.name, dev_entry_exists)
    plan = Plan(before=vg_view(vg, state))
    if req.state == "absent":
        return _plan_vg_absent(req, state, vg, plan)

    if vg is None and not req.devices:
        raise StrataError("volume group %s does not exist and no devices were given to create it" % req.name)
    if vg is not None and req.pe_size and vg.extent_size != req.pe_size:
        raise StrataError(
            "volume group %s has extent size %s, not the requested %s" % (
                req.name, sizes.human(vg.extent_size), sizes.human(req.pe_size)),
            hint="the extent size is set at creation; leave pe_size out to keep it")

    members, new_paths, elsewhere = [], [], {}
    for path in req.devices:
        pv = _pv_for_device(state, path)
        if pv is not None and pv.vg_name == req.name:
            members.append(pv)
        else:
            new_paths.append(path)
            if pv is not None and pv.vg_name:
                elsewhere[path] = "is a PV of volume group %s" % pv.vg_name
    if len({device_key(p) for p in req.devices}) != len(req.devices):
        raise StrataError("devices for volume group %s name the same device twice: %s" % (
            req.name, ", ".join(req.devices)))

    infos = [inspect(path) for path in new_paths]
    orphan_ok = {}
    for info in infos:
        pv = _pv_for_device(state, info.path)
        if pv is not None and not pv.vg_name:
            orphan_ok[info.path] = pv
    forced = guard_blank(infos, req.force, "a PV of volume group %s" % req.name, elsewhere)

    new_names = []
    for info in infos:
        if info.path in forced:
            plan.add(Action("wipe the signatures the user named in force from %s" % info.path,
                            ["wipefs", "--all", info.realpath]))
        undo = None if info.path in orphan_ok else Action(
            "remove the LVM label this run put on %s" % info.path, ["pvremove", info.realpath])
        plan.add(Action("initialise %s as an LVM physical volume" % info.path, ["pvcreate", info.realpath],
                        undo=undo))
        new_names.append(info.realpath)

    if vg is None:
        cmd = ["vgcreate"]
        if req.pe_size:
            cmd += ["--physicalextentsize", sizes.to_kib_arg(req.pe_size)]
        plan.add(Action("create volume group %s on %s" % (req.name, ", ".join(new_names)),
                        cmd + [req.name] + new_names,
                        undo=Action("remove volume group %s, which this run created" % req.name,
                                    ["vgremove", req.name])))
    elif new_names:
        plan.add(Action("extend volume group %s with %s" % (req.name, ", ".join(new_names)),
                        ["vgextend", req.name] + new_names,
                        undo=Action("take %s, which this run added, out of volume group %s again" % (
                            ", ".join(new_names), req.name), ["vgreduce", req.name] + new_names)))

    if vg is not None and req.reduce:
        _plan_vg_reduce(req, state, vg, members, infos, plan)
    elif vg is not None:
        extra = [pv.name for pv in state.pvs_of(req.name) if pv not in members]
        if extra:
            plan.notes.append("PVs %s are in volume group %s but not listed; kept (set reduce: true "
                              "to remove them)" % (", ".join(extra), req.name))

    kept = [pv.name for pv in state.pvs_of(req.name)] if vg else []
    if req.reduce and vg is not None:
        kept = [pv.name for pv in members]
    plan.after = {"state": "present", "name": req.name,
                  "extent_size": vg.extent_size if vg else (req.pe_size or 4 * 1024 ** 2),
                  "pvs": sorted(set(kept + new_names))}
    return plan


def _plan_vg_reduce(req, state, vg, members, new_infos, plan):
    leaving = [pv for pv in state.pvs_of(req.name) if pv not in members]
    if not leaving:
        return
    missing = [pv for pv in leaving if pv.missing]
    if missing:
        plan.warnings.append("volume group %s has missing PVs (%s); reduce leaves them alone, repairing a "
                             "VG with missing PVs is a separate, explicit step" % (
                                 req.name, ", ".join(pv.uuid for pv in missing)))
    leaving = [pv for pv in leaving if not pv.missing]
    if not leaving:
        return
    used = [pv for pv in leaving if pv.pe_alloc_count]
    if used and not req.pvmove:
        raise StrataError(
            "cannot remove %s from volume group %s: %s" % (
                ", ".join(pv.name for pv in used), req.name,
                "; ".join("%s holds %d allocated extents" % (pv.name, pv.pe_alloc_count) for pv in used)),
            hint="set pvmove: true to move the extents to the remaining PVs first")
    if used:
        room = sum(pv.pe_count - pv.pe_alloc_count for pv in members)
        room += sum(int((info.size or 0) // vg.extent_size) for info in new_infos)
        need = sum(pv.pe_alloc_count for pv in used)
        if need > room:
            raise StrataError(
                "cannot move %d extents off %s: the remaining PVs of volume group %s have only %d free" % (
                    need, ", ".join(pv.name for pv in used), req.name, room))
        for pv in used:
            plan.add(Action("move allocated extents off %s (pvmove)" % pv.name,
                            ["pvmove", "--autobackup", "y", pv.name]))
    names = [pv.name for pv in leaving]
    plan.add(Action("remove %s from volume group %s" % (", ".join(names), req.name),
                    ["vgreduce", req.name] + names))
    plan.add(Action("remove the LVM label from %s" % ", ".join(names), ["pvremove"] + names))


def _plan_vg_absent(req, state, vg, plan):
    plan.after = {"state": "absent"}
    if vg is None:
        return plan
    lvs = state.lvs_of(req.name)
    if lvs and not req.remove_lvs:
        raise StrataError("volume group %s holds logical volumes %s; refusing to remove it" % (
            req.name, ", ".join(sorted(lv.name for lv in lvs))),
            hint="remove them first, or set remove_lvs: true to remove them with the VG")
    open_lvs = [lv.name for lv in state.lvs_of(req.name) if lv.in_use]
    if open_lvs:
        raise StrataError("volume group %s has open logical volumes %s (mounted or in use)" % (
            req.name, ", ".join(sorted(open_lvs))), hint="unmount or stop what uses them first")
    pvs = sorted(pv.name for pv in state.pvs_of(req.name) if not pv.missing)
    plan.add(Action("remove volume group %s%s" % (
        req.name, " and its logical volumes %s" % ", ".join(sorted(lv.name for lv in lvs)) if lvs else ""),
        ["vgremove", "--yes", req.name]))
    if pvs:
        plan.add(Action("remove the LVM label from %s" % ", ".join(pvs), ["pvremove"] + pvs))
    return plan


# --------------------------------------------------------------------------- thin pools

@dataclass
class ThinVolumeRequest:
    name: str
    size: object = None          # sizes.SizeSpec (absolute)
    state: str = "present"


@dataclass
class ThinPoolRequest:
    vg: str
    name: str
    state: str = "present"
    size: object = None           # sizes.SizeSpec, absolute or percent
    metadata_size: object = None  # sizes.SizeSpec absolute
    chunk_size: int = None
    zero: bool = None
    discards: str = None
    stripes: int = None
    stripe_size: int = None
    pvs: list = field(default_factory=list)
    autoextend_threshold: int = None
    autoextend_percent: int = None
    volumes: list = field(default_factory=list)
    max_overcommit: float = None
    remove_volumes: bool = False
    error_when_full: bool = None   # True: writes fail at once when full; False: they queue


# Options of one thin pool, shared by lvm_thinpool (plus `vg`, `remove_volumes`) and each
# entry of lvm_layout's `thin_pools` (whose thin volumes also take filesystem and mount).
THIN_VOLUME_SPEC = dict(
    name=dict(type="str", required=True),
    size=dict(type="str"),
    state=dict(type="str", default="present", choices=["present", "absent"]),
)
THINPOOL_OPTIONS_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    size=dict(type="str"),
    metadata_size=dict(type="str"),
    chunk_size=dict(type="str"),
    zero=dict(type="bool"),
    discards=dict(type="str", choices=["ignore", "nopassdown", "passdown"]),
    stripes=dict(type="int"),
    stripe_size=dict(type="str"),
    pvs=dict(type="list", elements="path", default=[]),
    autoextend_threshold=dict(type="int"),
    autoextend_percent=dict(type="int"),
    max_overcommit=dict(type="float"),
    error_when_full=dict(type="bool"),
    volumes=dict(type="list", elements="dict", default=[], options=THIN_VOLUME_SPEC),
)


def _size_bytes(params, key, what):
    spec = sizes.parse_size(params.get(key), what=what)
    return spec.bytes if spec else None


def thinpool_request_from_params(params):
    """ThinPoolRequest from lvm_thinpool's parameters (also one entry of lvm_layout's
    thin_pools, where `vg` comes from the layout). Missing keys mean "keep what is there"."""
    label = "thin pool %s" % params.get("name")
    volumes = [
        ThinVolumeRequest(name=v["name"], state=v.get("state") or "present",
                          size=sizes.parse_size(v.get("size"), allow_relative=True,
                                                what="size of thin volume %s" % v["name"]))
        for v in params.get("volumes") or []
    ]
    return ThinPoolRequest(
        vg=params["vg"], name=params["name"], state=params.get("state") or "present",
        size=sizes.parse_size(params.get("size"), allow_relative=True, what="size of %s" % label),
        metadata_size=sizes.parse_size(params.get("metadata_size"), what="metadata_size of %s" % label),
        chunk_size=_size_bytes(params, "chunk_size", "chunk_size of %s" % label),
        zero=params.get("zero"), discards=params.get("discards"), stripes=params.get("stripes"),
        stripe_size=_size_bytes(params, "stripe_size", "stripe_size of %s" % label),
        pvs=params.get("pvs") or [], autoextend_threshold=params.get("autoextend_threshold"),
        autoextend_percent=params.get("autoextend_percent"), volumes=volumes,
        max_overcommit=params.get("max_overcommit"), remove_volumes=bool(params.get("remove_volumes")),
        error_when_full=params.get("error_when_full"),
    )


def vg_request_from_params(params):
    """VgRequest from lvm_vg's parameters (also lvm_layout's VG-level options)."""
    pe_size = sizes.parse_size(params.get("pe_size"), what="pe_size")
    return VgRequest(
        name=params["name"], state=params.get("state") or "present", devices=params.get("devices") or [],
        force=params.get("force") or [], pe_size=pe_size.bytes if pe_size else None,
        reduce=bool(params.get("reduce")), pvmove=bool(params.get("pvmove")),
        remove_lvs=bool(params.get("remove_lvs")),
    )


def profile_name(vg, pool):
    return "strata-thinpool-%s-%s" % (vg, pool)


def profile_path(vg, pool):
    return "%s/%s.profile" % (PROFILE_DIR, profile_name(vg, pool))


def render_profile(vg, pool, threshold, percent):
    return (
        "# Managed by strata.storage.lvm_thinpool: autoextend settings for thin pool %s/%s.\n"
        "# dmeventd grows the pool by percent once data or metadata usage passes threshold.\n"
        "activation {\n"
        "\tthin_pool_autoextend_threshold = %d\n"
        "\tthin_pool_autoextend_percent = %d\n"
        "}\n" % (vg, pool, threshold, percent))


_PROFILE_RE = re.compile(r"thin_pool_autoextend_(threshold|percent)\s*=\s*(\d+)")


def parse_profile(text):
    """{'threshold': int, 'percent': int} found in an LVM profile's text (missing keys left out)."""
    return {m.group(1): int(m.group(2)) for m in _PROFILE_RE.finditer(text or "")}


def pool_view(pool, volumes, autoextend):
    if pool is None:
        return {"state": "absent"}
    return {
        "state": "present", "name": pool.name, "size": pool.size, "metadata_size": pool.metadata_size,
        "chunk_size": pool.chunk_size, "zero": pool.zero, "discards": pool.discards,
        "stripes": pool.stripes, "autoextend": autoextend, "error_when_full": pool.when_full == "error",
        "volumes": {lv.name: lv.size for lv in volumes},
    }


def _pool_size_args(req, vg, plan):
    """-L/-l arguments for a new pool, after checking it fits."""
    spec = req.size
    if spec.is_relative:
        if spec.base == "ORIGIN":
            raise StrataError("thin pool %s/%s: %%ORIGIN only applies to snapshots" % (req.vg, req.name))
        plan.notes.append("size %s is resolved by LVM at creation and not re-applied later" % spec.text)
        base = vg.free if spec.base == "FREE" else vg.size
        estimate = sizes.round_down(int(base * spec.percent / 100.0), vg.extent_size)
        if estimate < vg.extent_size:
            raise StrataError("thin pool %s/%s: %s of volume group %s is less than one extent (%s free)" % (
                req.vg, req.name, spec.text, req.vg, sizes.human(vg.free)))
        return ["--extents", "%s%%%s" % (("%g" % spec.percent), spec.base)], estimate
    want = sizes.round_up(spec.bytes, vg.extent_size)
    meta = sizes.round_up(req.metadata_size.bytes, vg.extent_size) if req.metadata_size else 0
    need = want + 2 * meta   # data + metadata + the pool metadata spare of the same size
    if want > vg.free or need > vg.free:
        raise StrataError(
            "thin pool %s/%s needs %s but volume group %s has %s free" % (
                req.vg, req.name, sizes.human(need or want), req.vg, sizes.human(vg.free)),
            hint="give a smaller size, a %FREE size, or add PVs to the VG")
    return ["--size", sizes.to_kib_arg(want)], want


def plan_thinpool(req, state, read_file):
    """Plan a thin pool and its thin volumes. read_file(path) -> text or None (profiles)."""
    check_name("volume group", req.vg)
    check_name("thin pool", req.name)
    vg = state.vg(req.vg)
    if vg is None:
        raise StrataError("volume group %s does not exist" % req.vg,
                          hint="create it first with strata.storage.lvm_vg")
    pool = state.lv(req.vg, req.name)
    if pool is not None and not pool.is_thin_pool:
        raise StrataError("logical volume %s/%s exists and is not a thin pool (segment type %s)" % (
            req.vg, req.name, pool.segtype or "unknown"))
    volumes_now = state.thin_volumes_of(req.vg, req.name) if pool else []
    profile_text_now = read_file(profile_path(req.vg, req.name))
    current_profile = parse_profile(profile_text_now) if pool else {}
    autoextend_now = current_profile if (pool and pool.profile == profile_name(req.vg, req.name)) else {}
    plan = Plan(before=pool_view(pool, volumes_now, autoextend_now))

    if req.state == "absent":
        return _plan_pool_absent(req, pool, volumes_now, plan)

    for volume in req.volumes:
        check_name("thin volume", volume.name)
        if volume.state != "absent" and state.lv(req.vg, volume.name) is None:
            check_lv_name(req.vg, volume.name, "thin volume")
    if pool is None:
        check_lv_name(req.vg, req.name, "thin pool", sub_names("thin-pool"))
    check_thin_chunk_size("thin pool %s/%s" % (req.vg, req.name), req.chunk_size)
    check_stripes("thin pool %s/%s" % (req.vg, req.name), req.stripes, req.stripe_size)
    _check_autoextend(req)
    desired_profile = _desired_profile(req, current_profile)
    profile_text = render_profile(req.vg, req.name, *desired_profile) if desired_profile else None
    if profile_text is not None and profile_text_now != profile_text:
        plan.add(Action("write LVM profile %s (autoextend threshold %d%%, percent %d%%)" % (
            profile_name(req.vg, req.name), desired_profile[0], desired_profile[1]),
            path=profile_path(req.vg, req.name), content=profile_text, mode=0o644))

    if pool is None:
        pool_size = _plan_pool_create(req, vg, plan, profile_text is not None)
        pool_meta = req.metadata_size.bytes if req.metadata_size else None
    else:
        pool_size, pool_meta = _plan_pool_update(req, vg, pool, plan, profile_text is not None)

    sizes_after = _plan_thin_volumes(req, state, vg, volumes_now, plan)
    _check_overcommit(req, sizes_after, pool_size, plan)

    plan.after = {
        "state": "present", "name": req.name, "size": pool_size, "metadata_size": pool_meta,
        "chunk_size": pool.chunk_size if pool else req.chunk_size, "zero": req.zero if req.zero is not None else (pool.zero if pool else None),
        "discards": req.discards or (pool.discards if pool else None),
        "stripes": pool.stripes if pool else req.stripes,
        "error_when_full": req.error_when_full if req.error_when_full is not None else (
            pool.when_full == "error" if pool else False),
        "autoextend": ({"threshold": desired_profile[0], "percent": desired_profile[1]}
                       if desired_profile else autoextend_now),
        "volumes": sizes_after,
    }
    return plan


def _check_autoextend(req):
    if req.autoextend_threshold is not None and not 50 <= req.autoextend_threshold <= 100:
        raise StrataError("autoextend_threshold %d for thin pool %s/%s must be between 50 and 100 "
                          "(100 turns autoextend off)" % (req.autoextend_threshold, req.vg, req.name))
    if req.autoextend_percent is not None and not 1 <= req.autoextend_percent <= 1000:
        raise StrataError("autoextend_percent %d for thin pool %s/%s must be between 1 and 1000" % (
            req.autoextend_percent, req.vg, req.name))


def _desired_profile(req, current):
    """(threshold, percent) to write, or None when the user asked for nothing."""
    if req.autoextend_threshold is None and req.autoextend_percent is None:
        return None
    threshold = req.autoextend_threshold
    if threshold is None:
        threshold = current.get("threshold", 100)
    percent = req.autoextend_percent
    if percent is None:
        percent = current.get("percent", DEFAULT_AUTOEXTEND_PERCENT)
    return threshold, percent


def _plan_pool_create(req, vg, plan, with_profile):
    if req.size is None:
        raise StrataError("thin pool %s/%s does not exist and no size was given to create it" % (req.vg, req.name))
    size_args, size = _pool_size_args(req, vg, plan)
    if req.chunk_size and size < req.chunk_size:
        # lv_manip.c _lv_create_an_lv: "Unable to create thin-pool smaller than 1 chunk."
        raise StrataError("thin pool %s/%s of %s is smaller than its chunk_size %s, and LVM makes no pool smaller "
                          "than one chunk" % (req.vg, req.name, sizes.human(size), sizes.human(req.chunk_size)),
                          hint="nothing was changed; give a larger size or a smaller chunk_size")
    cmd = ["lvcreate", "--yes", "--type", "thin-pool"] + size_args + ["--name", req.name]
    if req.metadata_size:
        cmd += ["--poolmetadatasize", sizes.to_kib_arg(req.metadata_size.bytes)]
    if req.chunk_size:
        cmd += ["--chunksize", sizes.to_kib_arg(req.chunk_size)]
    if req.zero is not None:
        cmd += ["--zero", "y" if req.zero else "n"]
    if req.discards:
        cmd += ["--discards", req.discards]
    if req.stripes:
        # lv_manip.c _lv_create_an_lv: "Number of stripes (N) must not exceed number of physical
        # volumes (M)", M being the PVs listed, or every PV of the VG
        members = len(req.pvs) if req.pvs else vg.pv_count
        if req.stripes > members:
            raise StrataError("thin pool %s/%s: %d stripes need as many physical volumes, and %s %d" % (
                req.vg, req.name, req.stripes,
                "the pvs listed are" if req.pvs else "volume group %s has" % req.vg, members),
                hint="nothing was changed; use at most %d stripes, or add physical volumes" % members)
        cmd += ["--stripes", str(req.stripes)]
        if req.stripe_size:
            cmd += ["--stripesize", sizes.to_kib_arg(req.stripe_size)]
    if with_profile:
        cmd += ["--metadataprofile", profile_name(req.vg, req.name)]
    cmd += [req.vg] + list(req.pvs)
    plan.add(Action("create thin pool %s/%s" % (req.vg, req.name), cmd, undo=_undo_lv(req.vg, req.name, "thin pool")))
    if req.error_when_full:
        # lvcreate refuses --errorwhenfull for thin pools; lvchange sets it right after
        plan.add(Action("make writes to a full thin pool %s/%s fail at once" % (req.vg, req.name),
                        ["lvchange", "--errorwhenfull", "y", "%s/%s" % (req.vg, req.name)]))
    return size


def _plan_pool_update(req, vg, pool, plan, with_profile):
    full = "%s/%s" % (req.vg, req.name)
    for label, wanted, current in (("chunk size", req.chunk_size, pool.chunk_size),
                                   ("stripe size", req.stripe_size if req.stripes else None, pool.stripe_size)):
        if wanted and current and wanted != current:
            raise StrataError("thin pool %s has %s %s, not the requested %s" % (
                full, label, sizes.human(current), sizes.human(wanted)),
                hint="it is fixed at creation; leave it out to keep it")
    if req.stripes and pool.stripes and req.stripes != pool.stripes:
        raise StrataError("thin pool %s has %d stripes, not the requested %d" % (full, pool.stripes, req.stripes),
                          hint="the stripe count is fixed at creation; leave stripes out to keep it")
    size = pool.size
    if req.size is not None and not req.size.is_relative:
        verdict, want = sizes.compare(pool.size, req.size.bytes, vg.extent_size)
        if verdict == sizes.SHRINK:
            raise StrataError("thin pool %s is %s; it cannot shrink to %s (LVM cannot reduce thin pools)" % (
                full, sizes.human(pool.size), sizes.human(want)))
        if verdict == sizes.GROW:
            if want - pool.size > vg.free:
                raise StrataError("growing thin pool %s to %s needs %s more but volume group %s has %s free" % (
                    full, sizes.human(want), sizes.human(want - pool.size), req.vg, sizes.human(vg.free)))
            plan.add(Action("grow thin pool %s from %s to %s" % (full, sizes.human(pool.size), sizes.human(want)),
                            ["lvextend", "--size", sizes.to_kib_arg(want), full]))
            size = want
    elif req.size is not None:
        plan.notes.append("thin pool %s exists; relative size %s applies at creation only and was not "
                          "re-applied" % (full, req.size.text))
    meta = pool.metadata_size
    if req.metadata_size is not None:
        verdict, want = sizes.compare(meta, req.metadata_size.bytes, vg.extent_size)
        if verdict == sizes.SHRINK:
            raise StrataError("thin pool %s metadata is %s; it cannot shrink to %s" % (
                full, sizes.human(meta), sizes.human(want)))
        if verdict == sizes.GROW:
            plan.add(Action("grow the metadata of thin pool %s from %s to %s" % (
                full, sizes.human(meta), sizes.human(want)),
                ["lvextend", "--poolmetadatasize", sizes.to_kib_arg(want), full]))
            meta = want
    if req.zero is not None and req.zero != pool.zero:
        plan.add(Action("turn zeroing %s for thin pool %s" % ("on" if req.zero else "off", full),
                        ["lvchange", "--zero", "y" if req.zero else "n", full]))
    if req.discards and req.discards != pool.discards:
        plan.add(Action("set discards of thin pool %s to %s (was %s)" % (full, req.discards, pool.discards),
                        ["lvchange", "--discards", req.discards, full]))
    if req.error_when_full is not None and (pool.when_full == "error") != req.error_when_full:
        plan.add(Action("make writes to a full thin pool %s %s" % (
            full, "fail at once" if req.error_when_full else "queue (up to 60 s) instead of failing"),
            ["lvchange", "--errorwhenfull", "y" if req.error_when_full else "n", full]))
    _warn_if_full(pool, full, plan)
    if with_profile and pool.profile != profile_name(req.vg, req.name):
        plan.add(Action("attach LVM profile %s to thin pool %s" % (profile_name(req.vg, req.name), full),
                        ["lvchange", "--metadataprofile", profile_name(req.vg, req.name), full]))
    if with_profile and pool.active and pool.monitored and pool.monitored not in ("monitored", "1"):
        plan.add(Action("monitor thin pool %s with dmeventd so autoextend can act" % full,
                        ["lvchange", "--monitor", "y", full]))
    return size, meta


def _warn_if_full(pool, full, plan):
    for label, used in (("data", pool.data_percent), ("metadata", pool.metadata_percent)):
        if used is not None and used >= 100.0:
            plan.warnings.append(
                "thin pool %s is full (%s %.2f%%): writes to its thin volumes %s until it grows; "
                "give it a larger size (or autoextend) and check its volumes' filesystems" % (
                    full, label, used, "fail" if pool.when_full == "error" else "queue, then fail"))


def _plan_thin_volumes(req, state, vg, volumes_now, plan):
    """Create/grow/remove the listed thin volumes. Returns {name: virtual size} after the plan."""
    after = {lv.name: lv.size for lv in volumes_now}
    for volume in req.volumes:
        full = "%s/%s" % (req.vg, volume.name)
        lv = state.lv(req.vg, volume.name)
        if lv is not None and not (lv.is_thin_volume and lv.pool_lv == req.name):
            raise StrataError("logical volume %s exists and is not a thin volume of pool %s" % (full, req.name),
                              hint="choose another name")
        if volume.state == "absent":
            if lv is None:
                continue
            if lv.in_use:
                raise StrataError("thin volume %s is open (mounted or in use); refusing to remove it" % full)
            plan.add(Action("remove thin volume %s" % full, ["lvremove", "--yes", full]))
            after.pop(volume.name, None)
            continue
        if volume.size is None:
            if lv is None:
                raise StrataError("thin volume %s does not exist and no size was given to create it" % full)
            continue
        if volume.size.is_relative:
            raise StrataError("thin volume %s: size %s must be absolute (a virtual size)" % (full, volume.size.text))
        verdict, want = sizes.compare(lv.size if lv else 0, volume.size.bytes, vg.extent_size)
        if lv is None:
            plan.add(Action("create thin volume %s of %s in pool %s" % (full, sizes.human(want), req.name),
                            ["lvcreate", "--yes", "--type", "thin", "--virtualsize", sizes.to_kib_arg(want),
                             "--thinpool", req.name, "--name", volume.name, req.vg],
                            undo=_undo_lv(req.vg, volume.name, "thin volume")))
            after[volume.name] = want
        elif verdict == sizes.GROW:
            plan.add(Action("grow thin volume %s from %s to %s" % (full, sizes.human(lv.size), sizes.human(want)),
                            ["lvextend", "--size", sizes.to_kib_arg(want), full]))
            after[volume.name] = want
        elif verdict == sizes.SHRINK:
            raise StrataError("thin volume %s is %s; refusing to shrink it to %s" % (
                full, sizes.human(lv.size), sizes.human(want)),
                hint="shrinking loses data beyond the new end; it needs an explicit shrink with a filesystem check")
    return after


def _check_overcommit(req, volume_sizes, pool_size, plan):
    if not pool_size:
        return
    ratio = sum(volume_sizes.values()) / float(pool_size)
    if req.max_overcommit is not None and ratio > req.max_overcommit:
        raise StrataError(
            "thin volumes of pool %s/%s would total %s, %.2f times the pool's %s; max_overcommit is %.2f" % (
                req.vg, req.name, sizes.human(sum(volume_sizes.values())), ratio, sizes.human(pool_size),
                req.max_overcommit),
            hint="grow the pool, shrink the request, or raise max_overcommit")
    if ratio > 1 and req.max_overcommit is None:
        total = sizes.human(sum(volume_sizes.values()))
        plan.warnings.append("thin pool %s/%s is overcommitted %.2f times (%s of thin volumes in %s pool); "
                             "set max_overcommit to cap it" % (req.vg, req.name, ratio, total,
                                                               with_article(sizes.human(pool_size))))


def _plan_pool_absent(req, pool, volumes_now, plan):
    plan.after = {"state": "absent"}
    if pool is None:
        return plan
    full = "%s/%s" % (req.vg, req.name)
    if volumes_now and not req.remove_volumes:
        raise StrataError("thin pool %s holds thin volumes %s; refusing to remove it" % (
            full, ", ".join(sorted(lv.name for lv in volumes_now))),
            hint="set remove_volumes: true to remove them with the pool")
    busy = [lv.name for lv in volumes_now if lv.in_use]
    if busy:
        raise StrataError("thin volumes %s of pool %s are open (mounted or in use)" % (", ".join(busy), full))
    plan.add(Action("remove thin pool %s%s" % (full, " and its thin volumes %s" % ", ".join(
        sorted(lv.name for lv in volumes_now)) if volumes_now else ""), ["lvremove", "--yes", full]))
    return plan
