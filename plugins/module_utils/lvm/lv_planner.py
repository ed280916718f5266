# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planner for one LVM logical volume and the filesystem on it.

plan_lv(request, LvmState, {device: filesystem.FsInfo}) -> Plan. Pure: it reads nothing from
the system and never changes `state`; every check runs before the first action is added, so a
refused request changes nothing. Plan.after holds the predicted LV (size in bytes), so a
caller can project the state for the next planner in check mode.

Layouts: linear, striped, mirror (legacy), raid1, raid5, raid6, raid10. Sizes are rounded as
LVM rounds them: up to the extent size, and for striped and RAID volumes up to a multiple of
(extent size x data stripes), so the next run compares equal.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, replace

from ansible_collections.strata.storage.plugins.module_utils.core import sizes
from ansible_collections.strata.storage.plugins.module_utils.core.text import with_article
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.filesystem import (
    EXT_TYPES, FS_TYPES, RESIZABLE, check_label, fs_view, mkfs_action, plan_filesystem, shrink_refusal,
)
from ansible_collections.strata.storage.plugins.module_utils.lvm.names import check_lv_name, check_name, check_stripes, sub_names
from ansible_collections.strata.storage.plugins.module_utils.lvm.planner import _pv_for_device, _undo_lv
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action

LV_TYPES = ("linear", "striped", "mirror", "raid1", "raid5", "raid6", "raid10")

# Options of one volume, shared by lvm_lv (plus `vg`) and each entry of lvm_layout's `volumes`.
FILESYSTEM_SPEC = dict(type="dict", options=dict(
    type=dict(type="str", required=True, choices=["ext4", "xfs"]),
    label=dict(type="str"),
    options=dict(type="list", elements="str", default=[]),
    force=dict(type="bool", default=False),
))
LV_OPTIONS_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    size=dict(type="str"),
    type=dict(type="str", choices=list(LV_TYPES)),
    stripes=dict(type="int"),
    stripe_size=dict(type="str"),
    mirrors=dict(type="int"),
    region_size=dict(type="str"),
    pvs=dict(type="list", elements="path", default=[]),
    grow=dict(type="bool", default=False),
    shrink=dict(type="bool", default=False),
    resizefs=dict(type="bool", default=True),
    active=dict(type="bool"),
    rename_from=dict(type="str"),
    allow_remove=dict(type="bool", default=False),
    remove_snapshots=dict(type="bool", default=False),
    filesystem=FILESYSTEM_SPEC,
)
PARITY = {"raid5": 1, "raid6": 2}
MIN_STRIPES = {"striped": 2, "raid5": 2, "raid6": 3, "raid10": 2}
DEFAULT_STRIPES = {"raid5": 2, "raid6": 3, "raid10": 2}
WITH_STRIPES = ("striped", "raid5", "raid6", "raid10")
WITH_MIRRORS = ("mirror", "raid1", "raid10")
WITH_REGION = ("mirror", "raid1", "raid5", "raid6", "raid10")


@dataclass
class FilesystemRequest:
    type: str
    label: str = None
    options: list = field(default_factory=list)   # extra mkfs arguments (creation only)
    force: bool = False                           # overwrite another signature on the LV


@dataclass
class LvRequest:
    vg: str
    name: str
    state: str = "present"
    size: object = None            # sizes.SizeSpec: absolute, percent, or +grow
    type: str = None
    stripes: int = None            # DATA stripes (lvcreate --stripes)
    stripe_size: int = None
    mirrors: int = None
    region_size: int = None
    pvs: list = field(default_factory=list)
    grow: bool = False
    shrink: bool = False
    resizefs: bool = True
    active: bool = None
    rename_from: str = None
    allow_remove: bool = False
    remove_snapshots: bool = False
    filesystem: object = None      # FilesystemRequest

    @property
    def full_name(self):
        return "%s/%s" % (self.vg, self.name)


def _int_or_none(value):
    return None if value is None else int(value)


def _bytes(value, what):
    spec = sizes.parse_size(value, what=what) if value not in (None, "") else None
    return spec.bytes if spec else None


def request_from_params(params):
    """An LvRequest from a plain dict with the module's option names (missing keys = defaults)."""
    p = dict(params)
    fs = p.get("filesystem")
    fs_req = None
    if fs:
        options = fs.get("options") or []
        if isinstance(options, str):
            options = shlex.split(options)
        fs_req = FilesystemRequest(type=fs.get("type"), label=fs.get("label"), options=[str(o) for o in options],
                                   force=bool(fs.get("force", False)))
    return LvRequest(
        vg=p["vg"], name=p["name"], state=p.get("state") or "present",
        size=sizes.parse_size(p.get("size"), allow_relative=True, allow_grow=True, what="size of %s/%s" % (
            p["vg"], p["name"])) if p.get("size") not in (None, "") else None,
        type=p.get("type"), stripes=_int_or_none(p.get("stripes")),
        stripe_size=_bytes(p.get("stripe_size"), "stripe_size"), mirrors=_int_or_none(p.get("mirrors")),
        region_size=_bytes(p.get("region_size"), "region_size"), pvs=list(p.get("pvs") or []),
        grow=bool(p.get("grow", False)), shrink=bool(p.get("shrink", False)),
        resizefs=bool(p.get("resizefs", True)), active=p.get("active"), rename_from=p.get("rename_from"),
        allow_remove=bool(p.get("allow_remove", False)), remove_snapshots=bool(p.get("remove_snapshots", False)),
        filesystem=fs_req,
    )


lv_request_from_params = request_from_params   # the name lvm_layout imports


# --------------------------------------------------------------------------- layout helpers

@dataclass
class Layout:
    type: str
    data_stripes: int = 1     # stripes that carry data (LV size = image size x data_stripes)
    images: int = 1           # parallel areas: stripes, RAID images or mirror legs
    mirrors: int = 0
    stripe_size: int = 0
    region_size: int = 0

    @property
    def meta_extents(self):
        """Extents beside the data: one rmeta per RAID image, one log extent for a legacy mirror."""
        if self.type.startswith("raid"):
            return self.images
        if self.type == "mirror":
            return 1
        return 0


def lv_type(lv):
    seg = lv.segtype or ""
    for name in ("raid10", "raid1", "raid5", "raid6"):
        if seg == name or seg.startswith(name + "_"):
            return name
    if seg == "striped" and lv.stripes <= 1:
        return "linear"
    return seg


def layout_of(lv):
    """The Layout of an existing LV, from the fields LVM reports for its first segment."""
    kind = lv_type(lv)
    images = max(lv.stripes, 1)
    if kind in ("raid1", "mirror"):
        return Layout(kind, 1, images, images - 1, 0, lv.region_size)
    if kind == "raid10":
        data = lv.data_stripes or max(images // 2, 1)
        return Layout(kind, data, images, images // data - 1, lv.stripe_size, lv.region_size)
    if kind in PARITY:
        data = lv.data_stripes or images - PARITY[kind]
        return Layout(kind, data, images, 0, lv.stripe_size, lv.region_size)
    if kind == "striped":
        return Layout(kind, images, images, 0, lv.stripe_size, 0)
    return Layout(kind or "linear", 1, 1, 0, 0, 0)


def _power_of_two(value):
    return value > 0 and value & (value - 1) == 0


def requested_layout(req):
    """The Layout a request asks for at creation (defaults filled), after checking the options."""
    kind = req.type or ("raid1" if req.mirrors else "striped" if (req.stripes or 1) > 1 else "linear")
    what = "logical volume %s" % req.full_name
    if req.stripes is not None and kind not in WITH_STRIPES:
        raise StrataError("%s: stripes applies to striped, raid5, raid6 and raid10 volumes, not %s" % (what, kind))
    if req.mirrors is not None and kind not in WITH_MIRRORS:
        raise StrataError("%s: mirrors applies to mirror, raid1 and raid10 volumes, not %s" % (what, kind))
    if req.stripe_size is not None and kind not in WITH_STRIPES:
        raise StrataError("%s: stripe_size applies to striped, raid5, raid6 and raid10 volumes, not %s" % (what, kind))
    if req.region_size is not None and kind not in WITH_REGION:
        raise StrataError("%s: region_size applies to mirror and RAID volumes, not %s" % (what, kind))
    stripes = req.stripes if req.stripes is not None else DEFAULT_STRIPES.get(kind, 1)
    if kind in MIN_STRIPES and stripes < MIN_STRIPES[kind]:
        raise StrataError("%s: %s volume needs at least %d stripes, %d were asked for" % (
            what, with_article(kind), MIN_STRIPES[kind], stripes),
            hint="stripes counts the data stripes, as lvcreate --stripes does (parity comes on top)")
    mirrors = req.mirrors if req.mirrors is not None else (1 if kind in WITH_MIRRORS else 0)
    if kind in WITH_MIRRORS and mirrors < 1:
        raise StrataError("%s: %s volume needs mirrors of at least 1 (one extra copy)" % (what, with_article(kind)))
    check_stripes(what, req.stripes, req.stripe_size)
    if req.region_size is not None and (not _power_of_two(req.region_size) or req.region_size < 4096):
        raise StrataError("%s: region_size %s must be a power of two of at least 4K" % (what, sizes.human(req.region_size)))
    if kind in ("raid1", "mirror"):
        return Layout(kind, 1, mirrors + 1, mirrors, 0, req.region_size or 0)
    if kind == "raid10":
        return Layout(kind, stripes, stripes * (mirrors + 1), mirrors, req.stripe_size or 0, req.region_size or 0)
    if kind in PARITY:
        return Layout(kind, stripes, stripes + PARITY[kind], 0, req.stripe_size or 0, req.region_size or 0)
    if kind == "striped":
        return Layout(kind, stripes, stripes, 0, req.stripe_size or 0, 0)
    return Layout("linear")


def size_unit(vg, layout):
    """What LVM rounds a size of this layout up to: extent x data stripes."""
    return vg.extent_size * layout.data_stripes


def footprint(size, vg, layout):
    """Bytes a volume of `size` (already rounded) takes from the VG: every image plus metadata."""
    per_image = size // layout.data_stripes
    return per_image * layout.images + layout.meta_extents * vg.extent_size


def growth_footprint(delta, layout):
    return delta // layout.data_stripes * layout.images


# --------------------------------------------------------------------------- views

def mirrors_of(lv):
    return layout_of(lv).mirrors


def lv_view(lv, state, fs_facts=None):
    """The result/diff dict of an LV (None -> {'state': 'absent'})."""
    if lv is None:
        return {"state": "absent"}
    layout = layout_of(lv)
    view = {
        "state": "present", "vg": lv.vg_name, "name": lv.name, "path": lv.path, "size": lv.size,
        "type": layout.type, "segtype": lv.segtype, "stripes": lv.stripes, "data_stripes": layout.data_stripes,
        "stripe_size": lv.stripe_size, "mirrors": layout.mirrors, "region_size": lv.region_size,
        "devices": state.pvs_under(lv), "active": lv.active, "open": lv.open,
        "sync_percent": lv.copy_percent, "health": lv.health or None,
    }
    view["filesystem"] = fs_view((fs_facts or {}).get(lv.path))
    return view


# --------------------------------------------------------------------------- placement

def _resolve_pvs(req, state):
    """PV names for the request's pvs (matched by device number), all in the VG."""
    names = []
    for path in req.pvs:
        pv = _pv_for_device(state, path)
        if pv is None or pv.vg_name != req.vg:
            raise StrataError("logical volume %s: %s is not a physical volume of volume group %s" % (
                req.full_name, path, req.vg), hint="add it with strata.storage.lvm_vg first")
        if pv.missing:
            raise StrataError("logical volume %s: physical volume %s is missing" % (req.full_name, path))
        if pv.name not in names:
            names.append(pv.name)
    return names


def _candidate_pvs(req, state, pv_names):
    if pv_names:
        return [pv for pv in state.pvs_of(req.vg) if pv.name in pv_names]
    return [pv for pv in state.pvs_of(req.vg) if not pv.missing and pv.allocatable]


def _room(pvs):
    return sum(pv.free for pv in pvs)


def _check_room(req, vg, pvs, need, layout, doing):
    where = "physical volumes %s" % ", ".join(pv.name for pv in pvs) if req.pvs else "volume group %s" % req.vg
    free = _room(pvs)
    if need > free:
        raise StrataError("%s %s needs %s but %s %s only %s free" % (
            doing, req.full_name, sizes.human(need), where, "have" if req.pvs else "has", sizes.human(free)),
            hint="nothing was changed; ask for less, or add PVs with strata.storage.lvm_vg",
            details={"needed": need, "free": free})
    usable = [pv for pv in pvs if pv.free >= vg.extent_size]
    if layout.images > 1 and len(usable) < layout.images:
        raise StrataError("%s %s needs %d physical volumes with free space (one per %s) but %s %s %d" % (
            doing, req.full_name, layout.images, "stripe" if layout.type == "striped" else "image",
            where, "have" if req.pvs else "has", len(usable)),
            hint="nothing was changed; add PVs or use fewer stripes/mirrors")


def _percent_extents(spec, vg, pvs, layout):
    """Estimated LV bytes for a %VG/%FREE/%PVS size (LVM resolves the exact value)."""
    if spec.base == "VG":
        base = vg.extent_count
    elif spec.base == "FREE":
        base = vg.free_count
    else:
        base = sum(pv.free // vg.extent_size for pv in pvs)
    extents = int(base * spec.percent / 100.0)
    if layout.images > 1 and layout.type != "striped":
        extents = max(extents - layout.meta_extents, 0) * layout.data_stripes // layout.images
    extents -= extents % layout.data_stripes
    return extents * vg.extent_size


def _grow_room(vg, pvs, layout):
    """Bytes the LV could grow by into the free space the layout can use."""
    if layout.images == 1:
        free_ext = sum(pv.free // vg.extent_size for pv in pvs)
    else:
        # every image grows on its own PV: the images-th largest free area limits each of them
        frees = sorted((pv.free // vg.extent_size for pv in pvs), reverse=True)
        free_ext = frees[layout.images - 1] * layout.data_stripes if len(frees) >= layout.images else 0
    return free_ext * vg.extent_size


def _share_of_room(room, percent, vg, layout):
    grow_ext = int(room // vg.extent_size * percent / 100.0)
    grow_ext -= grow_ext % layout.data_stripes
    return grow_ext * vg.extent_size


# --------------------------------------------------------------------------- relative grows

# `+size` and `N%FREE` (N < 100) with grow: true are resolved once against a base: the LV's
# size (and the room it could grow into) when such a request was first applied.  The base
# and the size that grow produced are kept in one LV tag, so a re-run computes the same
# target (no change), `+5G` -> `+8G` grows to base + 8G, and any resize by other means
# (the LV is no longer the size we left) starts a new base at the current size.
GROW_TAG_PREFIX = "strata.grow."


@dataclass(frozen=True)
class GrowMemo:
    base: int       # LV bytes before the first relative grow
    room: int       # bytes it could then grow into (the base of N%FREE)
    target: int     # LV bytes the last relative grow left

    @property
    def tag(self):
        return "%s%d.%d.%d" % (GROW_TAG_PREFIX, self.base, self.room, self.target)


def grow_memo(lv):
    """The GrowMemo an earlier relative grow left on the LV (its tag), or None."""
    for tag in lv.tags:
        if tag.startswith(GROW_TAG_PREFIX):
            parts = tag[len(GROW_TAG_PREFIX):].split(".")
            if len(parts) == 3 and all(part.isdigit() for part in parts):
                return GrowMemo(*(int(part) for part in parts))
    return None


def _relative_grow_target(req, vg, lv, layout, pvs, plan):
    """(target bytes, tag Action or None) for `+size` / `N%FREE` with grow: true."""
    spec = req.size
    full = "%s/%s" % (lv.vg_name, lv.name)
    unit = size_unit(vg, layout)
    memo = grow_memo(lv)
    if memo is not None and sizes.compare(lv.size, memo.target, unit)[0] == sizes.SAME:
        base, room = memo.base, memo.room
    else:
        if memo is not None:
            plan.notes.append("%s is %s, not the %s its last relative grow left: %s applies to the current size" % (
                full, sizes.human(lv.size), sizes.human(memo.target), spec.text))
        base, room = lv.size, _grow_room(vg, pvs, layout)
    if spec.grow:
        target = sizes.round_up(base + spec.bytes, unit)
    else:
        target = base + _share_of_room(room, spec.percent, vg, layout)
    verdict = sizes.compare(lv.size, target, unit)[0]
    if verdict != sizes.GROW:
        if verdict == sizes.SAME and target > base:
            plan.notes.append("%s: %s is applied already (%s before it, %s now); a larger %s grows it again" % (
                full, spec.text, sizes.human(base), sizes.human(lv.size), "+size" if spec.grow else "%FREE"))
        elif verdict == sizes.SAME:
            plan.notes.append("%s: no free space left to grow into for %s" % (full, spec.text))
        return target, None
    new = GrowMemo(base, room, sizes.round_up(target, unit))
    cmd = ["lvchange"]
    if memo is not None:
        cmd += ["--deltag", memo.tag]
    cmd += ["--addtag", new.tag, full]
    # the tag goes on before lvextend: if the grow then fails, a re-run still aims at this target
    return target, Action("remember on %s that %s grows it from %s to %s (LV tag %s)" % (
        full, spec.text, sizes.human(base), sizes.human(new.target), new.tag), cmd)


# --------------------------------------------------------------------------- planning

def plan_lv(req, state, fs_facts=None):
    """Plan one logical volume (and its filesystem). fs_facts: {device path: FsInfo}."""
    fs_facts = fs_facts or {}
    check_name("volume group", req.vg)
    check_name("logical volume", req.name)
    if req.rename_from:
        check_name("logical volume", req.rename_from)
    vg = state.vg(req.vg)
    if vg is None:
        raise StrataError("volume group %s does not exist" % req.vg, hint="create it first with strata.storage.lvm_vg")
    lv = state.lv(req.vg, req.name)
    old = state.lv(req.vg, req.rename_from) if req.rename_from else None
    if req.rename_from and old is not None and lv is not None:
        raise StrataError("cannot rename %s/%s to %s: both logical volumes exist" % (req.vg, req.rename_from, req.name),
                          hint="remove one of them or leave rename_from out")
    current = lv if lv is not None else old
    plan = Plan(before=lv_view(current, state, fs_facts))
    if req.state == "absent":
        return _plan_absent(req, state, lv, plan)
    if current is not None:
        _check_manageable(req, current)
    if req.filesystem is not None:
        _check_fs_request(req)
    pv_names = _resolve_pvs(req, state)
    pvs = _candidate_pvs(req, state, pv_names)

    if current is None:
        return _plan_create(req, state, vg, pvs, pv_names, plan)

    if old is not None:
        if old.in_use:
            plan.warnings.append("%s/%s is open (mounted or in use); after the rename its device path is "
                                 "/dev/%s/%s: update fstab entries that use the old path" % (
                                     req.vg, req.rename_from, req.vg, req.name))
        have = layout_of(old)
        check_lv_name(req.vg, req.name, "logical volume", sub_names(have.type, have.images, have.mirrors))
        plan.add(Action("rename logical volume %s/%s to %s" % (req.vg, req.rename_from, req.name),
                        ["lvrename", req.vg, req.rename_from, req.name]))
    _plan_existing(req, state, vg, current, pvs, pv_names, fs_facts, plan)
    return plan


def _check_manageable(req, lv):
    full = "%s/%s" % (lv.vg_name, lv.name)
    if lv.is_thin_pool:
        raise StrataError("logical volume %s is a thin pool" % full, hint="manage it with strata.storage.lvm_thinpool")
    if "snapshot" in lv.role or lv.origin:
        raise StrataError("logical volume %s is a snapshot of %s" % (full, lv.origin),
                          hint="manage snapshots with their own module")
    if lv_type(lv) not in LV_TYPES and not lv.is_thin_volume:
        raise StrataError("logical volume %s has segment type %s, which lvm_lv does not manage" % (full, lv.segtype))


def _check_fs_request(req):
    fs = req.filesystem
    what = "filesystem of %s" % req.full_name
    if fs.type not in FS_TYPES:
        raise StrataError("%s: type %s is not supported" % (what, fs.type), hint="use one of %s" % ", ".join(FS_TYPES))
    check_label(fs.type, fs.label, what)


def _create_size(req, vg, pvs, layout, plan):
    """(lvcreate size arguments, predicted size in bytes)."""
    spec = req.size
    if spec is None:
        raise StrataError("logical volume %s does not exist and no size was given to create it" % req.full_name)
    if spec.is_relative:
        if spec.base == "ORIGIN":
            raise StrataError("logical volume %s: %%ORIGIN applies to snapshots only" % req.full_name)
        estimate = _percent_extents(spec, vg, pvs, layout)
        if estimate < size_unit(vg, layout):
            raise StrataError("logical volume %s: %s of volume group %s is less than %s (one unit of the layout)" % (
                req.full_name, spec.text, req.vg, sizes.human(size_unit(vg, layout))),
                hint="nothing was changed; free space in the VG or ask for an absolute size")
        plan.notes.append("size %s of %s is resolved by LVM at creation (about %s) and not re-applied later "
                          "unless grow is set" % (spec.text, req.full_name, sizes.human(estimate)))
        return ["--extents", "%s%%%s" % ("%g" % spec.percent, spec.base)], estimate
    want = sizes.round_up(spec.bytes, size_unit(vg, layout))
    if want != spec.bytes:
        plan.notes.append("size %s of %s rounded up to %s (%s%s), as LVM does" % (
            spec.text, req.full_name, sizes.human(want), "extent size %s" % sizes.human(vg.extent_size),
            " x %d data stripes" % layout.data_stripes if layout.data_stripes > 1 else ""))
    return ["--size", sizes.to_kib_arg(want)], want


def _plan_create(req, state, vg, pvs, pv_names, plan):
    if req.rename_from:
        plan.notes.append("neither %s/%s nor %s exists: creating %s" % (req.vg, req.rename_from, req.name, req.full_name))
    layout = requested_layout(req)
    check_lv_name(req.vg, req.name, "logical volume", sub_names(layout.type, layout.images, layout.mirrors))
    size_args, size = _create_size(req, vg, pvs, layout, plan)
    if not req.size.is_relative:
        _check_room(req, vg, pvs, footprint(size, vg, layout), layout, "creating")
    elif layout.images > 1:
        _check_room(req, vg, pvs, 0, layout, "creating")
    cmd = ["lvcreate", "--yes", "--wipesignatures", "y"]
    if layout.type != "linear":
        cmd += ["--type", layout.type]
    if layout.type in WITH_STRIPES:
        cmd += ["--stripes", str(layout.data_stripes)]
    if req.stripe_size:
        cmd += ["--stripesize", sizes.to_kib_arg(req.stripe_size)]
    if layout.type in WITH_MIRRORS:
        cmd += ["--mirrors", str(layout.mirrors)]
    if req.region_size:
        cmd += ["--regionsize", sizes.to_kib_arg(req.region_size)]
    cmd += size_args + ["--name", req.name, req.vg] + pv_names
    plan.add(Action("create %s logical volume %s of %s" % (layout.type, req.full_name, sizes.human(size)), cmd,
                    undo=_undo_lv(req.vg, req.name)))
    path = "/dev/%s/%s" % (req.vg, req.name)
    fs_after = None
    if req.filesystem is not None:
        if req.active is False:
            raise StrataError("logical volume %s: a filesystem can only be created on an active volume" % req.full_name,
                              hint="leave active out or set it to true")
        plan.add(mkfs_action(req.filesystem.type, path, req.filesystem.label, req.filesystem.options, size=size))
        fs_after = {"type": req.filesystem.type, "label": req.filesystem.label, "uuid": None}
    if req.active is False:
        plan.add(Action("deactivate logical volume %s" % req.full_name, ["lvchange", "--activate", "n", req.full_name]))
    plan.after = {
        "state": "present", "vg": req.vg, "name": req.name, "path": path, "size": size, "type": layout.type,
        "segtype": layout.type, "stripes": layout.images, "data_stripes": layout.data_stripes,
        "stripe_size": layout.stripe_size or None, "mirrors": layout.mirrors,
        "region_size": layout.region_size or None, "devices": pv_names or None,
        "active": req.active is not False, "open": False, "sync_percent": None, "health": None,
        "filesystem": fs_after,
    }
    return plan


def _check_same_layout(req, lv):
    full = "%s/%s" % (lv.vg_name, lv.name)
    have = layout_of(lv)
    if lv.is_thin_volume:
        if req.type or req.stripes or req.mirrors or req.stripe_size or req.region_size:
            raise StrataError("logical volume %s is a thin volume; its layout is its pool's" % full)
        return have
    mismatches = []
    if req.type and req.type != have.type:
        mismatches.append("type %s, not %s" % (have.type, req.type))
    if req.stripes is not None and have.type in WITH_STRIPES and req.stripes != have.data_stripes:
        mismatches.append("%d data stripes, not %d" % (have.data_stripes, req.stripes))
    if req.mirrors is not None and have.type in WITH_MIRRORS and req.mirrors != have.mirrors:
        mismatches.append("%d mirrors, not %d" % (have.mirrors, req.mirrors))
    if req.stripe_size and have.stripe_size and req.stripe_size != have.stripe_size:
        mismatches.append("stripe size %s, not %s" % (sizes.human(have.stripe_size), sizes.human(req.stripe_size)))
    if req.region_size and have.region_size and req.region_size != have.region_size:
        mismatches.append("region size %s, not %s" % (sizes.human(have.region_size), sizes.human(req.region_size)))
    if not mismatches:
        # options that do not fit the existing layout (e.g. stripes on a raid1) are refused too
        try:
            requested_layout(LvRequest(
                vg=lv.vg_name, name=lv.name, type=have.type,
                stripes=req.stripes if req.stripes is not None else (
                    have.data_stripes if have.type in WITH_STRIPES else None),
                mirrors=req.mirrors, stripe_size=req.stripe_size, region_size=req.region_size))
        except StrataError as exc:
            mismatches.append(exc.msg.split(": ", 1)[-1])
    if mismatches:
        raise StrataError("logical volume %s has %s; converting a layout is not done by lvm_lv" % (
            full, "; ".join(mismatches)),
            hint="nothing was changed; leave these options out to keep what is there, or convert with lvconvert by hand")
    return have


def _target_size(req, vg, lv, layout, pvs, plan):
    """(target bytes or None, tag Action or None) for an existing LV. A None target leaves the
    size alone; the Action (relative grows only) records their base and goes before lvextend."""
    spec = req.size
    full = "%s/%s" % (lv.vg_name, lv.name)
    if spec is None:
        return None, None
    unit = size_unit(vg, layout)
    if spec.is_relative:
        if not req.grow:
            plan.notes.append("%s exists; relative size %s applies at creation only (set grow: true to grow to it)" % (
                full, spec.text))
            return None, None
        if spec.base == "ORIGIN":
            raise StrataError("logical volume %s: %%ORIGIN applies to snapshots only" % full)
        if spec.base == "PVS":
            raise StrataError("logical volume %s: %%PVS applies at creation only" % full,
                              hint="use %FREE (with pvs to limit where it grows) or an absolute size")
        if spec.base == "FREE" and spec.percent >= 100:
            # all the free space: idempotent by itself (nothing is left after the first run)
            target = lv.size + _share_of_room(_grow_room(vg, pvs, layout), 100, vg, layout)
            if target - lv.size < unit:
                plan.notes.append("%s: no free space left to grow into for %s" % (full, spec.text))
                return None, None
            return target, None
        if spec.base == "FREE":
            return _relative_grow_target(req, vg, lv, layout, pvs, plan)
        return max(sizes.round_down(_percent_extents(spec, vg, pvs, layout), unit), unit), None
    if spec.grow:
        if not req.grow:
            plan.notes.append("%s exists; size %s grows it only with grow: true" % (full, spec.text))
            return None, None
        return _relative_grow_target(req, vg, lv, layout, pvs, plan)
    return spec.bytes, None


def _plan_existing(req, state, vg, lv, pvs, pv_names, fs_facts, plan):
    full = req.full_name
    layout = _check_same_layout(req, lv)
    info = fs_facts.get(lv.path) if lv.active else None
    will_be_active = lv.active if req.active is None else req.active
    if req.active is True and not lv.active:
        plan.add(Action("activate logical volume %s" % full, ["lvchange", "--activate", "y", full]))
    size_after = lv.size
    target, remember = _target_size(req, vg, lv, layout, pvs, plan)
    fs_after = fs_view(info)
    if target is not None:
        unit = size_unit(vg, layout)
        verdict, want = sizes.compare(lv.size, target, unit)
        relative = req.size.is_relative or req.size.grow
        if verdict == sizes.SHRINK and relative:
            plan.notes.append("%s is %s, already more than %s (about %s); a relative size never shrinks a volume" % (
                full, sizes.human(lv.size), req.size.text, sizes.human(want)))
        elif verdict == sizes.GROW:
            _check_resizable_origin(state, lv, full, verdict)
            if not lv.is_thin_volume:
                _check_room(req, vg, pvs, growth_footprint(want - lv.size, layout), layout, "growing")
            size_after = want
            if remember is not None:
                plan.add(remember)
            plan.add(_grow_action(req, lv, want, info, pv_names, plan))
        elif verdict == sizes.SHRINK:
            if req.shrink:
                _check_resizable_origin(state, lv, full, verdict)
            size_after = want
            plan.add(_shrink_action(req, lv, want, info))
    if req.filesystem is not None:
        fs_after = _plan_fs_existing(req, lv, info, will_be_active, req.active is True and not lv.active, plan,
                                     size_after)
    if req.active is False and lv.active:
        if lv.in_use:
            raise StrataError("logical volume %s is open (mounted or in use); refusing to deactivate it" % full,
                              hint="unmount or stop what uses it first")
        plan.add(Action("deactivate logical volume %s" % full, ["lvchange", "--activate", "n", full]))
    after = lv_view(lv, state, fs_facts)
    after.update(name=req.name, path="/dev/%s/%s" % (req.vg, req.name), size=size_after, active=will_be_active,
                 filesystem=fs_after)
    if not will_be_active:
        after["open"] = False
    plan.after = after


def _check_resizable_origin(state, lv, full, verdict):
    """lvresize refuses an active origin of classic snapshots ("Snapshot origin volumes can be
    resized only while inactive", lvm2 lv_manip.c), after planning said yes: refuse first.
    Thin snapshots are independent volumes and do not count."""
    if not lv.active:
        return
    classic = sorted(s.name for s in state.lvs_of(lv.vg_name, hidden=True) if s.origin == lv.name and not s.is_thin_volume)
    if classic:
        raise StrataError(
            "logical volume %s is the origin of classic snapshot%s %s, and LVM %ss a snapshot origin only while "
            "it is inactive" % (full, "s" if len(classic) > 1 else "", ", ".join(classic),
                                "grow" if verdict == sizes.GROW else "shrink"),
            hint="nothing was changed; remove %s first (or merge %s), or unmount and deactivate %s (active: false) "
                 "and resize it without its filesystem" % (
                     "the snapshots" if len(classic) > 1 else "the snapshot", "them" if len(classic) > 1 else "it", full))


def _grow_action(req, lv, want, info, pv_names, plan):
    full = req.full_name
    cmd = ["lvextend"]
    resized = ""
    if info is not None and info.type in RESIZABLE and req.resizefs:
        cmd.append("--resizefs")
        resized = " and its %s filesystem" % info.type
    elif info is not None and not info.blank and req.resizefs:
        plan.warnings.append("%s holds %s; only ext2/3/4 and xfs are grown with the volume" % (
            full, "; ".join(info.signatures())))
    elif info is not None and info.type in RESIZABLE:
        plan.warnings.append("%s: resizefs is false, so its %s filesystem keeps its size" % (full, info.type))
    elif info is None and not lv.active:
        plan.warnings.append("%s is inactive: its content (if any) was not grown with it" % full)
    cmd += ["--size", sizes.to_kib_arg(want), full] + pv_names
    return Action("grow %s%s from %s to %s" % (full, resized, sizes.human(lv.size), sizes.human(want)), cmd)


def _shrink_action(req, lv, want, info):
    full = req.full_name
    if not req.shrink:
        raise StrataError("logical volume %s is %s; refusing to shrink it to %s" % (
            full, sizes.human(lv.size), sizes.human(want)),
            hint="nothing was changed; shrinking loses data beyond the new end: set shrink: true to shrink "
                 "(a filesystem on it is checked and shrunk first)")
    if lv.in_use and (info is None or info.blank):
        raise StrataError("logical volume %s is open (in use) and holds no filesystem we can check; "
                          "refusing to shrink it" % full, hint="stop what uses it first")
    refusal = shrink_refusal(info, want, "logical volume %s" % full)
    if refusal:
        raise StrataError(refusal[0], hint="nothing was changed; %s" % refusal[1])
    if info.type in EXT_TYPES and not req.resizefs:
        raise StrataError("logical volume %s holds %s filesystem and resizefs is false: shrinking it would cut "
                          "the filesystem" % (full, with_article(info.type)), hint="set resizefs: true")
    cmd = ["lvreduce", "--yes"]
    what = ""
    if info.type in EXT_TYPES:
        cmd.append("--resizefs")
        what = " and its %s filesystem (checked and shrunk first by fsadm)" % info.type
    cmd += ["--size", sizes.to_kib_arg(want), full]
    return Action("shrink %s%s from %s to %s" % (full, what, sizes.human(lv.size), sizes.human(want)), cmd)


def _plan_fs_existing(req, lv, info, will_be_active, activating, plan, size=None):
    """Filesystem on an existing LV: create, relabel, or refuse. Returns the predicted fs view."""
    fs = req.filesystem
    full = req.full_name
    path = "/dev/%s/%s" % (req.vg, req.name)
    if info is None:
        if activating or not lv.active:
            raise StrataError("logical volume %s is not active, so its content cannot be checked before "
                              "creating a filesystem" % full,
                              hint="activate it in an earlier run (active: true) so its signatures can be read")
        raise StrataError("logical volume %s: no filesystem facts were read for %s" % (full, lv.path))
    if not will_be_active:
        raise StrataError("logical volume %s: a filesystem can only be managed on an active volume" % full)
    fs_plan = plan_filesystem(path, fs, _renamed(info, path), "filesystem of logical volume %s" % full, size=size)
    plan.actions.extend(fs_plan.actions)
    return fs_plan.after


def _renamed(info, path):
    """The FsInfo with the device path after a rename (commands run after lvrename)."""
    return info if info.device == path else replace(info, device=path)


def _plan_absent(req, state, lv, plan):
    plan.after = {"state": "absent"}
    if lv is None:
        return plan
    full = req.full_name
    if lv.is_thin_pool:
        raise StrataError("logical volume %s is a thin pool" % full, hint="remove it with strata.storage.lvm_thinpool")
    if not req.allow_remove:
        raise StrataError("refusing to remove logical volume %s (%s): state absent needs allow_remove: true" % (
            full, sizes.human(lv.size)), hint="nothing was changed; removing destroys its data")
    snaps = [s for s in state.lvs_of(req.vg, hidden=True) if s.origin == req.name and not s.is_thin_volume]
    merging = [s.name for s in snaps if s.merging or s.hidden]
    if merging:
        raise StrataError("logical volume %s has a snapshot merge pending (%s); refusing to remove it" % (
            full, ", ".join(merging)), hint="let the merge finish (activate the origin) first")
    if snaps and not req.remove_snapshots:
        raise StrataError("logical volume %s has snapshots %s; refusing to remove it" % (
            full, ", ".join(sorted(s.name for s in snaps))),
            hint="nothing was changed; set remove_snapshots: true to remove them with it")
    if lv.in_use:
        raise StrataError("logical volume %s is open (mounted or in use); refusing to remove it" % full,
                          hint="unmount or stop what uses it first")
    thin_snaps = [s.name for s in state.lvs_of(req.vg) if s.origin == req.name and s.is_thin_volume]
    if thin_snaps:
        plan.notes.append("thin snapshots %s of %s are independent volumes and are kept" % (", ".join(thin_snaps), full))
    plan.add(Action("remove logical volume %s%s" % (full, " and its snapshots %s" % ", ".join(
        sorted(s.name for s in snaps)) if snaps else ""), ["lvremove", "--yes", full]))
    return plan


def fs_reads_for(req, state):
    """(device paths to read filesystem facts for, paths that need the shrink fit check)."""
    lv = state.lv(req.vg, req.name)
    if lv is None and req.rename_from:
        lv = state.lv(req.vg, req.rename_from)
    if lv is None or not lv.active:
        return [], []
    return [lv.path], ([lv.path] if req.shrink and req.state == "present" else [])
