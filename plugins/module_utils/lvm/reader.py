# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""LVM state: read everything from one `lvm fullreport` call into plain dataclasses.

Every field is read by name from LVM's JSON report (never by character position from
lv_attr), sizes in bytes (`--units b --nosuffix`), flags as 0/1 (`--binary`). Where
`fullreport` is missing, `pvs`, `vgs` and `lvs` give the same fields in three calls.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError

VG_FIELDS = ["vg_name", "vg_uuid", "vg_attr", "vg_size", "vg_free", "vg_extent_size",
             "vg_extent_count", "vg_free_count", "pv_count", "lv_count", "snap_count",
             "vg_missing_pv_count", "vg_partial", "vg_profile", "vg_tags", "vg_seqno"]
PV_FIELDS = ["pv_name", "pv_uuid", "vg_name", "pv_major", "pv_minor", "dev_size", "pv_size",
             "pv_free", "pv_pe_count", "pv_pe_alloc_count", "pv_missing", "pv_allocatable",
             "pe_start", "pv_tags"]
LV_FIELDS = ["lv_name", "vg_name", "lv_uuid", "lv_path", "lv_size", "lv_attr", "lv_layout",
             "lv_role", "lv_active", "lv_device_open", "pool_lv", "origin", "data_percent",
             "metadata_percent", "lv_metadata_size", "lv_profile", "lv_when_full",
             "lv_health_status", "lv_tags",
             # snapshots, RAID/mirror sync and pvmove progress (lvm_lv, lvm_snapshot, lvm_pv)
             "snap_percent", "copy_percent", "lv_merging", "lv_merge_failed",
             "lv_snapshot_invalid", "lv_converting", "lv_image_synced", "raid_sync_action",
             "lv_permissions", "lv_time", "origin_size"]
SEG_FIELDS = ["lv_uuid", "segtype", "stripes", "stripe_size", "chunk_size", "discards", "zero",
              "seg_monitor", "devices", "seg_size", "data_stripes", "region_size"]
PVSEG_FIELDS = ["pv_uuid", "lv_uuid", "pvseg_start", "pvseg_size"]

# Options common to every report call.
REPORT_OPTS = ["--reportformat", "json", "--units", "b", "--nosuffix", "--binary"]


def fullreport_cmd():
    # --all: hidden LVs too (pool data/metadata, spare, RAID images), as `lvs -a` shows them.
    return (["lvm", "fullreport", "--all"] + REPORT_OPTS + [
        "--configreport", "vg", "-o", ",".join(VG_FIELDS),
        "--configreport", "pv", "-o", ",".join(PV_FIELDS),
        "--configreport", "lv", "-o", ",".join(LV_FIELDS),
        "--configreport", "seg", "-o", ",".join(SEG_FIELDS),
        "--configreport", "pvseg", "-o", ",".join(PVSEG_FIELDS),
    ])


def _int(value, default=0):
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        return int(float(value))


def _float(value):
    if value in (None, ""):
        return None
    return float(value)


def _flag(value):
    """--binary prints 0/1, and -1 where the value is unknown (an inactive LV's open flag);
    older LVMs print words. Anything else non-empty is true."""
    return value not in (None, "", "0", "-1")


def _tags(value):
    return [t for t in (value or "").split(",") if t]


@dataclass
class PV:
    name: str
    uuid: str
    vg_name: str
    devno: tuple
    dev_size: int
    size: int
    free: int
    pe_count: int
    pe_alloc_count: int
    missing: bool
    allocatable: bool
    tags: list = field(default_factory=list)
    pe_start: int = 0
    # Allocated extents as [(start, size, lv_name)], from the pvseg rows of the same report
    # (fullreport's, or the fallback's `pvs --segments`); None only for a PV made by hand.
    segments: list = None

    def summary(self):
        return {"name": self.name, "uuid": self.uuid, "vg": self.vg_name or None,
                "size": self.size, "free": self.free, "pe_count": self.pe_count,
                "pe_alloc_count": self.pe_alloc_count, "missing": self.missing}


@dataclass
class LV:
    vg_name: str
    name: str
    uuid: str
    path: str
    size: int
    attr: str
    layout: list
    role: list
    active: bool
    open: bool
    pool_lv: str
    origin: str
    data_percent: float
    metadata_percent: float
    metadata_size: int
    profile: str
    when_full: str
    health: str
    hidden: bool
    tags: list = field(default_factory=list)
    segtype: str = ""
    stripes: int = 0
    stripe_size: int = 0
    chunk_size: int = 0
    discards: str = ""
    zero: bool = False
    monitored: str = ""
    devices: list = field(default_factory=list)
    data_stripes: int = 0          # data stripes, or the number of raid1/mirror legs
    region_size: int = 0
    snap_percent: float = None     # classic snapshots: how full the COW store is
    copy_percent: float = None     # RAID/mirror sync, pvmove progress
    merging: bool = False
    merge_failed: bool = False
    snapshot_invalid: bool = False
    converting: bool = False
    image_synced: bool = False
    sync_action: str = ""
    permissions: str = ""
    created: str = ""
    origin_size: int = 0

    @property
    def is_thin_pool(self):
        return self.segtype == "thin-pool" or ("thin" in self.layout and "pool" in self.layout)

    @property
    def is_thin_volume(self):
        return self.segtype == "thin" or ("thin" in self.layout and "sparse" in self.layout)

    @property
    def in_use(self):
        """Open by something outside LVM (a mount, a process). A pool is open while its thin
        volumes are active, and hidden sub-LVs while their parent is: neither counts."""
        return self.open and not self.hidden and not self.is_thin_pool

    @property
    def full_name(self):
        return "%s/%s" % (self.vg_name, self.name)


@dataclass
class VG:
    name: str
    uuid: str
    size: int
    free: int
    extent_size: int
    extent_count: int
    free_count: int
    pv_count: int
    lv_count: int
    missing_pv_count: int
    partial: bool
    profile: str
    tags: list = field(default_factory=list)
    seqno: int = 0     # metadata sequence number: bumps on every metadata change

    def summary(self, state):
        return {
            "name": self.name, "uuid": self.uuid, "size": self.size, "free": self.free,
            "extent_size": self.extent_size, "extent_count": self.extent_count,
            "free_count": self.free_count, "pv_count": self.pv_count, "lv_count": self.lv_count,
            "missing_pv_count": self.missing_pv_count,
            "pvs": sorted(pv.name for pv in state.pvs_of(self.name)),
            "lvs": sorted(lv.name for lv in state.lvs_of(self.name)),
        }


@dataclass
class LvmState:
    vgs: dict = field(default_factory=dict)   # name -> VG
    pvs: list = field(default_factory=list)   # PV list (orphans have vg_name "")
    lvs: list = field(default_factory=list)   # LV list, hidden ones included

    def vg(self, name):
        return self.vgs.get(name)

    def pvs_of(self, vg_name):
        return [pv for pv in self.pvs if pv.vg_name == vg_name]

    def lvs_of(self, vg_name, hidden=False):
        return [lv for lv in self.lvs if lv.vg_name == vg_name and (hidden or not lv.hidden)]

    def lv(self, vg_name, name):
        for lv in self.lvs:
            if lv.vg_name == vg_name and lv.name == name and not lv.hidden:
                return lv
        return None

    def thin_volumes_of(self, vg_name, pool_name):
        return [lv for lv in self.lvs_of(vg_name) if lv.is_thin_volume and lv.pool_lv == pool_name]

    def lv_any(self, vg_name, name):
        """Like lv(), hidden LVs included (a snapshot being merged is shown hidden)."""
        for lv in self.lvs:
            if lv.vg_name == vg_name and lv.name == name:
                return lv
        return None

    def pvs_under(self, lv):
        """PV paths that hold an LV's extents, through its hidden sub-LVs (RAID images, pool
        data): the `devices` of a raid1 LV name its rimage LVs, not disks."""
        found, todo, seen = [], [lv], set()
        while todo:
            current = todo.pop(0)
            if current.uuid in seen:
                continue
            seen.add(current.uuid)
            for dev in current.devices:
                sub = self.lv_any(current.vg_name, dev)
                if sub is not None:
                    todo.append(sub)
                elif dev not in found:
                    found.append(dev)
        return found

    def pv_by_devno(self, devno):
        for pv in self.pvs:
            if pv.devno == devno:
                return pv
        return None


def _parse_devices(value):
    """'/dev/vdb(0),/dev/vdc(12)' -> ['/dev/vdb', '/dev/vdc'] (LV names for stacked LVs)."""
    out = []
    for part in (value or "").split(","):
        part = part.strip()
        if not part:
            continue
        name = part.split("(", 1)[0]
        if name not in out:
            out.append(name)
    return out


def _make_pv(row):
    return PV(
        name=row.get("pv_name", ""), uuid=row.get("pv_uuid", ""), vg_name=row.get("vg_name", ""),
        devno=(_int(row.get("pv_major"), -1), _int(row.get("pv_minor"), -1)),
        dev_size=_int(row.get("dev_size")), size=_int(row.get("pv_size")),
        free=_int(row.get("pv_free")), pe_count=_int(row.get("pv_pe_count")),
        pe_alloc_count=_int(row.get("pv_pe_alloc_count")), missing=_flag(row.get("pv_missing")),
        allocatable=_flag(row.get("pv_allocatable")), tags=_tags(row.get("pv_tags")),
        pe_start=_int(row.get("pe_start")),
    )


def _make_vg(row):
    return VG(
        name=row["vg_name"], uuid=row.get("vg_uuid", ""), size=_int(row.get("vg_size")),
        free=_int(row.get("vg_free")), extent_size=_int(row.get("vg_extent_size")),
        extent_count=_int(row.get("vg_extent_count")), free_count=_int(row.get("vg_free_count")),
        pv_count=_int(row.get("pv_count")), lv_count=_int(row.get("lv_count")),
        missing_pv_count=_int(row.get("vg_missing_pv_count")), partial=_flag(row.get("vg_partial")),
        profile=row.get("vg_profile", ""), tags=_tags(row.get("vg_tags")),
        seqno=_int(row.get("vg_seqno")),
    )


def _make_lv(row):
    raw_name = row.get("lv_name", "")
    hidden = raw_name.startswith("[") and raw_name.endswith("]")
    return LV(
        vg_name=row.get("vg_name", ""), name=raw_name.strip("[]"), uuid=row.get("lv_uuid", ""),
        path=row.get("lv_path", ""), size=_int(row.get("lv_size")), attr=row.get("lv_attr", ""),
        layout=[x for x in row.get("lv_layout", "").split(",") if x],
        role=[x for x in row.get("lv_role", "").split(",") if x],
        active=row.get("lv_active", "") not in ("", "0", "inactive"),
        open=_flag(row.get("lv_device_open")),
        pool_lv=row.get("pool_lv", "").strip("[]"), origin=row.get("origin", "").strip("[]"),
        data_percent=_float(row.get("data_percent")), metadata_percent=_float(row.get("metadata_percent")),
        metadata_size=_int(row.get("lv_metadata_size")), profile=row.get("lv_profile", ""),
        when_full=row.get("lv_when_full", ""), health=row.get("lv_health_status", ""),
        hidden=hidden, tags=_tags(row.get("lv_tags")),
        snap_percent=_float(row.get("snap_percent")), copy_percent=_float(row.get("copy_percent")),
        merging=_flag(row.get("lv_merging")), merge_failed=_flag(row.get("lv_merge_failed")),
        snapshot_invalid=_flag(row.get("lv_snapshot_invalid")),
        converting=_flag(row.get("lv_converting")), image_synced=_flag(row.get("lv_image_synced")),
        sync_action=row.get("raid_sync_action", ""), permissions=row.get("lv_permissions", ""),
        created=row.get("lv_time", ""), origin_size=_int(row.get("origin_size")),
    )


def _apply_segments(lvs_by_uuid, seg_rows):
    """Fold segment rows into their LVs; the first segment gives the layout fields."""
    seen = set()
    for row in seg_rows:
        lv = lvs_by_uuid.get(row.get("lv_uuid"))
        if lv is None:
            continue
        for dev in _parse_devices(row.get("devices")):
            if dev not in lv.devices:
                lv.devices.append(dev)
        if lv.uuid in seen:
            continue
        seen.add(lv.uuid)
        lv.segtype = row.get("segtype", "")
        lv.stripes = _int(row.get("stripes"))
        lv.stripe_size = _int(row.get("stripe_size"))
        lv.chunk_size = _int(row.get("chunk_size"))
        lv.discards = row.get("discards", "")
        lv.zero = _flag(row.get("zero"))
        lv.monitored = row.get("seg_monitor", "")
        lv.data_stripes = _int(row.get("data_stripes"))
        lv.region_size = _int(row.get("region_size"))


def parse_fullreport(text):
    """Parse `lvm fullreport --reportformat json` output into an LvmState."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StrataError("could not parse the LVM report as JSON: %s" % exc)
    state = LvmState()
    lvs_by_uuid = {}
    seg_rows = []
    pvseg_rows = []
    for block in data.get("report", []):
        for row in block.get("vg", []):
            vg = _make_vg(row)
            state.vgs[vg.name] = vg
        for row in block.get("pv", []):
            state.pvs.append(_make_pv(row))
        for row in block.get("lv", []):
            lv = _make_lv(row)
            state.lvs.append(lv)
            lvs_by_uuid[lv.uuid] = lv
        seg_rows.extend(block.get("seg", []))
        pvseg_rows.extend(block.get("pvseg", []))
    _apply_segments(lvs_by_uuid, seg_rows)
    _apply_pv_segments(state.pvs, lvs_by_uuid, pvseg_rows)
    return state


def _apply_pv_segments(pvs, lvs_by_uuid, pvseg_rows):
    """Give every PV its allocated segments (free segments have no lv_uuid)."""
    by_uuid = {}
    for pv in pvs:
        pv.segments = []
        if pv.uuid:
            by_uuid[pv.uuid] = pv
    for row in pvseg_rows:
        pv = by_uuid.get(row.get("pv_uuid"))
        lv = lvs_by_uuid.get(row.get("lv_uuid") or "")
        if pv is not None and lv is not None:
            pv.segments.append((_int(row.get("pvseg_start")), _int(row.get("pvseg_size")), lv.name))


def _report_rows(text, key):
    data = json.loads(text)
    rows = []
    for block in data.get("report", []):
        rows.extend(block.get(key, []))
    return rows


def parse_separate_reports(vgs_text, pvs_text, lvs_text):
    """Parse the output of separate vgs/pvs/lvs JSON reports (the fallback path)."""
    state = LvmState()
    for row in _report_rows(vgs_text, "vg"):
        vg = _make_vg(row)
        state.vgs[vg.name] = vg
    # `pvs --segments`: one row per PV segment; the first row of a PV makes the PV
    pv_rows = _report_rows(pvs_text, "pv") + _report_rows(pvs_text, "pvseg")
    seen = set()
    for row in pv_rows:
        key = row.get("pv_uuid") or row.get("pv_name")
        if key not in seen:
            seen.add(key)
            state.pvs.append(_make_pv(row))
    lvs_by_uuid = {}
    # `lvs --segments` reports its rows under "seg" (one per LV segment), not "lv"
    lv_rows = _report_rows(lvs_text, "lv") + _report_rows(lvs_text, "seg")
    for row in lv_rows:
        if row.get("lv_uuid") in lvs_by_uuid:
            continue  # one row per segment: the first one makes the LV
        lv = _make_lv(row)
        state.lvs.append(lv)
        lvs_by_uuid[lv.uuid] = lv
    _apply_segments(lvs_by_uuid, lv_rows)
    _apply_pv_segments(state.pvs, lvs_by_uuid, pv_rows)
    return state


def separate_report_cmds():
    pv_fields = PV_FIELDS + [f for f in PVSEG_FIELDS if f not in PV_FIELDS]
    return [
        ["vgs"] + REPORT_OPTS + ["-o", ",".join(VG_FIELDS)],
        ["pvs", "--segments"] + REPORT_OPTS + ["-o", ",".join(pv_fields)],
        ["lvs", "-a"] + REPORT_OPTS + ["-o", ",".join(LV_FIELDS + [f for f in SEG_FIELDS if f != "lv_uuid"]),
                                       "--segments"],
    ]


def dev_entry_exists(name, dev_dir="/dev"):
    """Whether /dev/<name> exists (a new VG may not be named like it: vgcreate refuses)."""
    return os.path.lexists(os.path.join(dev_dir, name))


def device_mapper_problem(dev_dir="/dev", proc="/proc", sysfs="/sys"):
    """Why LVM cannot work on this host, or None. Without device-mapper `lvm fullreport`
    still exits 0 with an empty report (measured on a kernel without dm_mod), and a plan made
    from that would fail at the first lvcreate, so this is checked before reading."""
    if os.path.exists(os.path.join(dev_dir, "mapper", "control")):
        return None
    try:
        with open(os.path.join(proc, "misc")) as handle:
            in_kernel = any(line.split()[-1:] == ["device-mapper"] for line in handle)
    except (IOError, OSError):
        in_kernel = False
    in_kernel = in_kernel or os.path.isdir(os.path.join(sysfs, "module", "dm_mod"))
    if in_kernel:
        return ("the kernel has device-mapper but %s/mapper/control is missing (a container without access "
                "to it, or udev has not created it)" % dev_dir,
                "run `dmsetup mknodes`, or give the container /dev/mapper/control")
    return ("device-mapper is not available: the kernel has no dm_mod module loaded (%s/mapper/control is "
            "missing), so LVM can neither create nor activate volumes here" % dev_dir,
            "load it with `modprobe dm_mod`, or run on a host or VM whose kernel has device-mapper")


def read_state(runner, need_device_mapper=True, dev_dir="/dev", proc="/proc", sysfs="/sys"):
    """The whole LVM state in one `lvm fullreport` call (three calls where it is missing)."""
    runner.require_tool("lvm")
    problem = device_mapper_problem(dev_dir, proc, sysfs) if need_device_mapper else None
    if problem:
        raise StrataError(problem[0], hint="nothing was changed; %s" % problem[1])
    result = runner.read(fullreport_cmd(), ok_rcs=(0, 1, 2, 3, 5), what="reading LVM state")
    if result.rc == 0:
        return parse_fullreport(result.stdout)
    stderr = result.stderr or ""
    # Only an lvm without the fullreport command falls back; any other failure is reported.
    unknown = ("no such command", "unrecognised", "unrecognized", "invalid command")
    if "fullreport" not in stderr or not any(word in stderr.lower() for word in unknown):
        raise StrataError("reading LVM state failed", cmd=result.cmd, rc=result.rc,
                          stdout=result.stdout, stderr=stderr, hint="is lvm2 installed?")
    outputs = [runner.read(cmd, what="reading LVM state").stdout for cmd in separate_report_cmds()]
    return parse_separate_reports(*outputs)
