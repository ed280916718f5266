# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""md RAID state: sysfs and /proc/mdstat read from Python, plus ONE `mdadm --detail --scan`.

The kernel tells everything about a running array in sysfs (`/sys/block/mdX/md/...`: level,
raid_disks, chunk, layout, sync_action, mismatch_cnt, progress, and one `dev-*` folder per
member with its `state` and `slot`), and /proc/mdstat adds the progress line. Reading
those files costs no process. What sysfs lacks is the array's NAME (it lives in the
superblock), so one `mdadm --detail --scan` gives name and UUID of every running array in
one process, and only when at least one array exists. Arrays are matched to its lines by
UUID (sysfs `md/uuid`) or by the /dev/md/ link mdadm made.

`snapshot()` collects the raw text into a plain dict; `parse_state()` is a pure function
over that dict and the two texts, so tests feed it output captured in the test VM
(tests/fixtures/capture_md.sh writes the same dict with the same function).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

# Files read under /sys/block/mdX/md/ (missing ones are skipped: not every level has all).
MD_ATTRS = (
    "level", "raid_disks", "chunk_size", "layout", "metadata_version", "array_state",
    "degraded", "sync_action", "last_sync_action", "mismatch_cnt", "sync_completed",
    "sync_speed", "sync_speed_min", "sync_speed_max", "component_size", "consistency_policy",
    "reshape_position", "resync_start", "uuid", "bitmap/location", "bitmap/chunksize",
)
# Files read under /sys/block/mdX/md/dev-NAME/ for each member.
MEMBER_ATTRS = ("state", "slot", "size", "offset", "errors", "recovery_start")
SCAN_CMD = ["mdadm", "--detail", "--scan"]
EXAMINE_SCAN_CMD = ["mdadm", "--examine", "--scan"]

RAID5_LAYOUTS = {0: "left-asymmetric", 1: "right-asymmetric", 2: "left-symmetric",
                 3: "right-symmetric", 4: "parity-first", 5: "parity-last"}
RAID6_LAYOUTS = dict(RAID5_LAYOUTS)
RAID6_LAYOUTS.update({8: "ddf-zero-restart", 9: "ddf-N-restart", 10: "ddf-N-continue",
                      16: "left-asymmetric-6", 17: "right-asymmetric-6", 18: "left-symmetric-6",
                      19: "right-symmetric-6", 20: "parity-first-6"})


# --------------------------------------------------------------------------- raw reading

def _read(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return None


def _listdir(path):
    try:
        return sorted(os.listdir(path))
    except (IOError, OSError):
        return []


def snapshot(sysfs="/sys", dev="/dev", proc="/proc"):
    """Every md fact the kernel offers, as text: no process, a few dozen small reads."""
    arrays = {}
    block = os.path.join(sysfs, "block")
    for name in _listdir(block):
        mddir = os.path.join(block, name, "md")
        if not name.startswith("md") or not os.path.isdir(mddir):
            continue
        entry = {"size": _read(os.path.join(block, name, "size")),
                 "dev": _read(os.path.join(block, name, "dev")),
                 "holders": _listdir(os.path.join(block, name, "holders")),
                 "md": {}, "members": {}}
        for attr in MD_ATTRS:
            value = _read(os.path.join(mddir, attr))
            if value is not None:
                entry["md"][attr] = value
        for sub in _listdir(mddir):
            if not sub.startswith("dev-"):
                continue
            member = {}
            for attr in MEMBER_ATTRS:
                value = _read(os.path.join(mddir, sub, attr))
                if value is not None:
                    member[attr] = value
            member["block_dev"] = _read(os.path.join(mddir, sub, "block", "dev"))
            member["block_size"] = _read(os.path.join(mddir, sub, "block", "size"))
            entry["members"][sub[4:]] = member
        arrays[name] = entry
    links = {}
    for link in _listdir(os.path.join(dev, "md")):
        target = os.path.realpath(os.path.join(dev, "md", link))
        links[link] = os.path.basename(target)
    # mounts and swap of the arrays themselves (a mounted array is never stopped)
    devnos = {entry["dev"] for entry in arrays.values() if entry["dev"]}
    mounts = {}
    for line in (_read(os.path.join(proc, "self", "mountinfo")) or "").splitlines():
        parts = line.split()
        if len(parts) > 4 and parts[2] in devnos:
            mounts.setdefault(parts[2], []).append(parts[4].replace("\\040", " "))
    swaps = [line.split()[0] for line in (_read(os.path.join(proc, "swaps")) or "").splitlines()[1:] if line.strip()]
    return {"arrays": arrays, "dev_md": links, "mounts": mounts,
            "hostname": _read(os.path.join(proc, "sys", "kernel", "hostname")),
            "swaps": [os.path.basename(os.path.realpath(path)) for path in swaps],
            "mdstat": _read(os.path.join(proc, "mdstat")) or ""}


# --------------------------------------------------------------------------- data classes

@dataclass
class Member:
    name: str              # kernel name, e.g. "vdb" or "loop3"
    devno: tuple           # (major, minor)
    slot: int = None       # raid slot, None for spares/faulty/journal
    flags: list = field(default_factory=list)   # sysfs state words: in_sync, faulty, spare, ...
    size: int = 0          # bytes of the member used by the array (sysfs size, KiB)
    offset: int = 0        # data offset in bytes
    errors: int = 0
    device_size: int = 0   # bytes of the whole member device

    @property
    def faulty(self):
        return "faulty" in self.flags

    @property
    def role(self):
        """active | rebuilding | spare | faulty | journal (a replacement being built is
        'rebuilding'; once in sync it is 'active')."""
        if self.faulty:
            return "faulty"
        if "journal" in self.flags:
            return "journal"
        if "in_sync" in self.flags:
            return "active"
        if self.slot is not None:
            return "rebuilding"
        return "spare"

    def summary(self):
        return {"device": "/dev/%s" % self.name, "devno": "%d:%d" % self.devno if self.devno else None,
                "role": self.role, "slot": self.slot, "state": list(self.flags), "errors": self.errors,
                "replacement": "replacement" in self.flags,
                "want_replacement": "want_replacement" in self.flags}


@dataclass
class Progress:
    action: str            # resync | recover | reshape | check | repair
    percent: float = None
    done: int = None       # sectors
    total: int = None
    speed_kib: int = None  # KiB/s now
    eta_seconds: int = None
    delayed: bool = False

    def summary(self):
        return {"action": self.action, "percent": self.percent, "done_sectors": self.done,
                "total_sectors": self.total, "speed_kib_s": self.speed_kib,
                "eta_seconds": self.eta_seconds, "delayed": self.delayed}


@dataclass
class Array:
    kernel_name: str       # md127
    devno: tuple
    name: str = None       # short name ("data"), as in /dev/md/data
    full_name: str = None  # superblock name ("host:data")
    uuid: str = None       # mdadm style xxxxxxxx:xxxxxxxx:xxxxxxxx:xxxxxxxx
    devname: str = None    # /dev/md/data (or /dev/md127 when mdadm gave no name)
    level: str = ""        # raid1, raid5, ... ("" while inactive)
    raid_disks: int = 0
    chunk: int = 0         # bytes
    layout: int = None
    metadata: str = ""
    array_state: str = ""  # clean, active, inactive, readonly, ...
    degraded: int = 0
    sync_action: str = "idle"
    last_sync_action: str = ""
    mismatch_cnt: int = 0
    component_size: int = 0   # bytes per member used by the array
    size: int = 0             # bytes of the array device
    consistency_policy: str = ""
    bitmap: str = "none"      # internal | none | file
    holders: list = field(default_factory=list)
    members: list = field(default_factory=list)
    progress: Progress = None
    reshape_position: str = "none"
    resync_start: str = "none"
    mountpoints: list = field(default_factory=list)
    swap: bool = False

    @property
    def active(self):
        return self.array_state not in ("inactive", "clear", "")

    @property
    def device(self):
        """The path to run commands on: the /dev/md/ name the array has now, else /dev/mdN
        (only ever used after the array was found by name or UUID)."""
        if self.devname and self.devname.startswith("/dev/md/"):
            return self.devname
        return "/dev/%s" % self.kernel_name

    @property
    def layout_name(self):
        return layout_name(self.level, self.layout)

    @property
    def settled(self):
        """Nothing is running or about to run: no resync, recovery, reshape, scrub or
        replacement, and no spare waiting to rebuild a missing member. (Right after
        `mdadm --add` the kernel may still show sync_action idle for a moment, so the
        pending work is judged from the members too.)"""
        if not self.active or self.array_state == "read-auto":
            return True
        if self.sync_action not in ("idle", ""):
            return False
        if self.reshape_position not in ("none", ""):
            return False
        working = [m for m in self.members if not m.faulty]
        if self.degraded:
            return not any(m.role in ("spare", "rebuilding") for m in working)
        if any("want_replacement" in m.flags or "replacement" in m.flags for m in working):
            return False
        return self.resync_start in ("none", "")

    def member_by_devno(self, devno):
        for member in self.members:
            if member.devno == tuple(devno):
                return member
        return None

    def summary(self):
        return {
            "name": self.name, "uuid": self.uuid, "device": "/dev/md/%s" % self.name if self.name else self.devname,
            "kernel_name": self.kernel_name, "level": self.level, "raid_disks": self.raid_disks,
            "chunk": self.chunk, "layout": self.layout_name, "metadata": self.metadata,
            "state": self.array_state, "degraded": self.degraded, "sync_action": self.sync_action,
            "last_sync_action": self.last_sync_action, "mismatch_cnt": self.mismatch_cnt,
            "size": self.size, "component_size": self.component_size,
            "consistency_policy": self.consistency_policy, "bitmap": self.bitmap,
            "holders": list(self.holders),
            "members": [m.summary() for m in sorted(self.members, key=_member_order)],
            "progress": self.progress.summary() if self.progress else None,
        }


def _member_order(member):
    return (member.slot if member.slot is not None else 1 << 20, member.name)


@dataclass
class MdState:
    arrays: list = field(default_factory=list)
    mdstat: dict = field(default_factory=dict)
    hostname: str = None

    def find(self, name=None, uuid=None):
        """The array with this UUID, or this name: /dev/md/NAME, or the superblock name
        NAME or THISHOST:NAME (an early boot without the ARRAY line names a local array
        /dev/md/THISHOST:NAME); None when not running. Another host's array of the same
        short name is never matched."""
        want_uuid = normalize_uuid(uuid) if uuid else None
        for array in self.arrays:
            if want_uuid and normalize_uuid(array.uuid) == want_uuid:
                return array
        if name:
            for array in self.arrays:
                if name in (array.name, array.full_name):
                    return array
            if self.hostname:
                for array in self.arrays:
                    if array.full_name == "%s:%s" % (self.hostname, name):
                        return array
        return None

    def owner_of(self, devno):
        """(array, member) holding this device number, or (None, None)."""
        for array in self.arrays:
            member = array.member_by_devno(devno)
            if member is not None:
                return array, member
        return None, None


# --------------------------------------------------------------------------- helpers

def normalize_uuid(text):
    """32 lower-case hex digits from any UUID spelling (mdadm's colons, blkid's dashes)."""
    if not text:
        return None
    digits = re.sub(r"[^0-9a-fA-F]", "", text).lower()
    return digits if len(digits) == 32 else None


def mdadm_uuid(text):
    digits = normalize_uuid(text)
    if not digits:
        return None
    return ":".join(digits[i:i + 8] for i in range(0, 32, 8))


def layout_name(level, layout):
    """sysfs' layout number as mdadm names it (n2, f2, o2 for raid10; left-symmetric ...)."""
    if layout is None:
        return None
    if level == "raid10":
        near, far, offset = layout & 0xFF, (layout >> 8) & 0xFF, bool(layout & 0x10000)
        if offset and near == 1:
            return "o%d" % far
        if far == 1:
            return "n%d" % near
        if near == 1:
            return "f%d" % far
        return "n%df%d" % (near, far)
    if level == "raid5":
        return RAID5_LAYOUTS.get(layout, str(layout))
    if level == "raid6":
        return RAID6_LAYOUTS.get(layout, str(layout))
    return None


def raid10_copies(layout_text):
    """Copies a raid10 layout keeps (n2 -> 2, f3 -> 3, o2 -> 2); None when not a layout."""
    m = re.match(r"^[nfo]([1-9][0-9]*)$", layout_text or "")
    return int(m.group(1)) if m else None


def _int(value, default=0):
    try:
        return int(str(value).strip().split()[0])
    except (TypeError, ValueError, IndexError):
        return default


def _devno(text):
    if not text or ":" not in text:
        return None
    major, minor = text.split(":", 1)
    return (int(major), int(minor))


# --------------------------------------------------------------------------- parsers

_MDSTAT_HEAD = re.compile(r"^(md\w+)\s*:\s*(\S+)(.*)$")
_MDSTAT_DEV = re.compile(r"^(\S+)\[(\d+)\]((?:\([A-Z]\))*)$")
_MDSTAT_PROGRESS = re.compile(
    r"(resync|recovery|reshape|check|repair)\s*=\s*([\d.]+)%\s*\((\d+)/(\d+)\)"
    r"(?:\s*finish=([\d.]+)min)?(?:\s*speed=(\d+)K/sec)?")
_MDSTAT_WAIT = re.compile(r"(resync|recovery|reshape|check|repair)\s*=\s*(DELAYED|PENDING)")


def parse_mdstat(text):
    """/proc/mdstat -> {kernel name: {status, personality, devices: {name: {index, flags}},
    progress: {...} or None}}."""
    out = {}
    current = None
    for raw in (text or "").splitlines():
        line = raw.strip()
        head = _MDSTAT_HEAD.match(line)
        if head and not line.startswith("unused"):
            words = head.group(3).split()
            current = {"status": head.group(2), "readonly": False, "personality": None,
                       "devices": {}, "progress": None}
            for word in words:
                if word in ("(read-only)", "(auto-read-only)"):
                    current["readonly"] = True
                    continue
                dev = _MDSTAT_DEV.match(word)
                if dev:
                    current["devices"][dev.group(1)] = {
                        "index": int(dev.group(2)), "flags": re.findall(r"\(([A-Z])\)", dev.group(3))}
                elif current["personality"] is None and current["status"] == "active":
                    current["personality"] = word
            out[head.group(1)] = current
            continue
        if current is None or not line:
            continue
        prog = _MDSTAT_PROGRESS.search(line)
        if prog:
            current["progress"] = {
                "action": prog.group(1), "percent": float(prog.group(2)),
                "done": int(prog.group(3)), "total": int(prog.group(4)),
                "finish_min": float(prog.group(5)) if prog.group(5) else None,
                "speed_kib": int(prog.group(6)) if prog.group(6) else None}
            continue
        wait = _MDSTAT_WAIT.search(line)
        if wait:
            current["progress"] = {"action": wait.group(1), "delayed": True}
    return out


_SCAN_WORD = re.compile(r'(\w[\w-]*)=("(?:[^"\\]|\\.)*"|\S+)')


def parse_scan(text):
    """`mdadm --detail --scan` (or --examine --scan) -> [{devname, inactive, metadata, name,
    uuid, spares, ...}]."""
    out = []
    logical = []
    for line in (text or "").splitlines():
        if line[:1] in (" ", "\t") and line.strip() and logical:
            logical[-1] += " " + line.strip()      # mdadm continues long lines indented
        else:
            logical.append(line)
    for line in logical:
        parts = line.split(None, 2)
        if len(parts) < 2 or parts[0] not in ("ARRAY", "INACTIVE-ARRAY"):
            continue
        entry = {"devname": parts[1], "inactive": parts[0] == "INACTIVE-ARRAY"}
        for key, value in _SCAN_WORD.findall(parts[2] if len(parts) > 2 else ""):
            entry[key.lower()] = value.strip('"')
        out.append(entry)
    return out


def _short_name(full_name, devname):
    if devname and devname.startswith("/dev/md/"):
        return devname[len("/dev/md/"):]
    if full_name:
        return full_name.split(":", 1)[-1]
    return None


def _progress(md, mdstat_entry):
    action = md.get("sync_action", "idle")
    mdprog = (mdstat_entry or {}).get("progress")
    if action in ("idle", "frozen", None, "") and not mdprog:
        return None
    completed = md.get("sync_completed", "none")
    done = total = None
    delayed = completed == "delayed" or bool(mdprog and mdprog.get("delayed"))
    m = re.match(r"^(\d+)\s*/\s*(\d+)$", completed or "")
    if m:
        done, total = int(m.group(1)), int(m.group(2))
    elif mdprog and "done" in mdprog:
        # mdstat counts KiB blocks; sysfs sectors
        done, total = mdprog["done"] * 2, mdprog["total"] * 2
    speed = _int(md.get("sync_speed"), None)
    if speed is None and mdprog:
        speed = mdprog.get("speed_kib")
    percent = round(100.0 * done / total, 1) if done is not None and total else None
    eta = None
    if done is not None and total and speed:
        eta = int((total - done) / 2 / speed)
    if action in ("idle", "frozen", None, "") and mdprog:
        action = mdprog["action"]
    if action == "recovery":
        action = "recover"
    return Progress(action=action, percent=percent, done=done, total=total, speed_kib=speed,
                    eta_seconds=eta, delayed=delayed)


def _bitmap(md):
    location = md.get("bitmap/location")
    if location is None or location == "none":
        return "none"
    if location == "file":
        return "file"
    return "internal"


def parse_state(snap, scan_text=""):
    """The raw snapshot (see snapshot()) plus `mdadm --detail --scan` -> MdState."""
    mdstat = parse_mdstat(snap.get("mdstat", ""))
    links = snap.get("dev_md", {})
    scan = parse_scan(scan_text)
    by_uuid, by_kernel = {}, {}
    for entry in scan:
        if entry.get("uuid"):
            by_uuid[normalize_uuid(entry["uuid"])] = entry
        dev = entry["devname"]
        kernel = links.get(dev[len("/dev/md/"):]) if dev.startswith("/dev/md/") else os.path.basename(dev)
        if kernel:
            by_kernel[kernel] = entry
    arrays = []
    for kname, raw in sorted(snap.get("arrays", {}).items()):
        md = raw.get("md", {})
        if md.get("array_state") == "clear" and not raw.get("members"):
            continue       # an md device node nobody assembled (e.g. opened by a probe)
        entry = by_uuid.get(normalize_uuid(md.get("uuid"))) or by_kernel.get(kname) or {}
        uuid = entry.get("uuid") or md.get("uuid")
        array = Array(
            kernel_name=kname, devno=_devno(raw.get("dev")),
            full_name=entry.get("name"), uuid=mdadm_uuid(uuid) if uuid else None,
            devname=entry.get("devname"),
            level=md.get("level", ""), raid_disks=_int(md.get("raid_disks")),
            chunk=_int(md.get("chunk_size")),
            layout=_int(md.get("layout"), None) if md.get("layout") not in (None, "") else None,
            metadata=md.get("metadata_version", ""), array_state=md.get("array_state", ""),
            degraded=_int(md.get("degraded")), sync_action=md.get("sync_action", "idle"),
            last_sync_action=md.get("last_sync_action", ""), mismatch_cnt=_int(md.get("mismatch_cnt")),
            component_size=_int(md.get("component_size")) * 1024,
            size=_int(raw.get("size")) * 512,
            consistency_policy=md.get("consistency_policy", ""),
            bitmap=_bitmap(md), holders=list(raw.get("holders", [])),
            reshape_position=md.get("reshape_position", "none"),
            resync_start=md.get("resync_start", "none"),
            mountpoints=list(snap.get("mounts", {}).get(raw.get("dev"), [])),
            swap=kname in snap.get("swaps", []),
        )
        array.name = _short_name(array.full_name, array.devname)
        if array.name is None:
            # no scan line (e.g. the array is inactive): a /dev/md/NAME link still names it
            named = [link for link, target in links.items() if target == kname and not link.isdigit()]
            array.name = named[0] if named else None
            array.devname = "/dev/md/%s" % named[0] if named else None
        for mname, mraw in sorted(raw.get("members", {}).items()):
            slot = mraw.get("slot", "none")
            array.members.append(Member(
                name=mname, devno=_devno(mraw.get("block_dev")),
                slot=int(slot) if slot.isdigit() else None,
                flags=[f for f in (mraw.get("state") or "").split(",") if f],
                size=_int(mraw.get("size")) * 1024, offset=_int(mraw.get("offset")) * 512,
                errors=_int(mraw.get("errors")), device_size=_int(mraw.get("block_size")) * 512))
        array.progress = _progress(md, mdstat.get(kname))
        arrays.append(array)
    return MdState(arrays=arrays, mdstat=mdstat, hostname=snap.get("hostname"))


def read_state(runner, sysfs="/sys", dev="/dev", proc="/proc"):
    """Read the whole md state: files only, plus one `mdadm --detail --scan` when any array
    exists (recorded in runner.reads)."""
    snap = snapshot(sysfs, dev, proc)
    scan_text = ""
    if any(raw.get("members") for raw in snap["arrays"].values()):
        scan_text = runner.read(SCAN_CMD, what="reading md array names and UUIDs").stdout
    return parse_state(snap, scan_text)


def read_examine_scan(runner):
    """Arrays whose superblocks are on any device (running or not): one `mdadm --examine
    --scan`, only used to find a stopped array to assemble."""
    return parse_scan(runner.read(EXAMINE_SCAN_CMD, ok_rcs=(0, 1),
                                  what="looking for md superblocks on all devices").stdout)
