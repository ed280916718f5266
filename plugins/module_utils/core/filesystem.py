# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filesystems on block devices: read their facts for many devices at once, build mkfs and
label commands, and the checks that decide whether a filesystem may be grown or shrunk.

Reading (util-linux 2.38, Debian 12, measured in the test VM):
- `blkid -p DEV1 DEV2 ...` (low-level probe) stops at the first device that holds nothing
  (rc 2), so it cannot answer for a list;
- `lsblk -o FSTYPE,...` reads the udev database, not the device, and shows FSSIZE/FSUSED
  only for mounted filesystems;
- `blkid -c /dev/null -o export DEV1 DEV2 ...` probes every listed device (no cache file, so
  no stale answers) and prints one DEVNAME= block per device that holds something.
So one `blkid -c /dev/null` call answers for every device. That high-level probe reports a
device with two conflicting signatures ("ambivalent") as if it were blank, so each device it
reports blank is confirmed with the low-level `blkid -p` the device guard uses; in a steady
state those are only the volumes that are meant to stay raw. Mounts come from
/proc/self/mountinfo, size and usage of mounted filesystems from statvfs (no process), and
the minimum size of an unmounted ext2/3/4 filesystem from `resize2fs -P`, only for devices
the caller may shrink.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import tempfile
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core import sizes
from ansible_collections.strata.storage.plugins.module_utils.core.devices import (
    DeviceInfo, describe_probe, guard_blank, parse_blkid_export, parse_mountinfo,
)
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action
from ansible_collections.strata.storage.plugins.module_utils.core.text import with_article

FS_TYPES = ("ext4", "xfs")
EXT_TYPES = ("ext2", "ext3", "ext4")
# filesystems fsadm (lvextend/lvreduce --resizefs) knows how to resize
RESIZABLE = EXT_TYPES + ("xfs",)
LABEL_MAX = {"ext4": 16, "ext3": 16, "ext2": 16, "xfs": 12}
MKFS = {"ext4": ("mkfs.ext4", "-F"), "xfs": ("mkfs.xfs", "-f")}


@dataclass
class FsInfo:
    """What a device holds, as plain data (the planners' input; `as_dict` for results)."""

    device: str
    type: str = None            # blkid TYPE: ext4, xfs, swap, LVM2_member, crypto_LUKS ...
    label: str = None
    uuid: str = None
    pttype: str = None          # a partition table on the device
    block_size: int = None
    mountpoints: list = field(default_factory=list)
    holders: list = field(default_factory=list)
    size: int = None            # total bytes of a mounted filesystem (statvfs)
    used: int = None            # used bytes of a mounted filesystem (statvfs)
    min_size: int = None        # smallest size an unmounted ext2/3/4 can shrink to (resize2fs -P)
    probe: dict = field(default_factory=dict)   # the raw blkid values

    @property
    def blank(self):
        return not self.type and not self.pttype

    @property
    def mounted(self):
        return bool(self.mountpoints)

    def signatures(self):
        values = dict(self.probe)
        if self.type and "USAGE" not in values:
            values["USAGE"] = "filesystem" if self.type in RESIZABLE else "other"
        return describe_probe(values)

    def device_info(self):
        """A devices.DeviceInfo for the one signature guard (devices.guard_blank)."""
        return DeviceInfo(path=self.device, realpath=self.device, exists=True, is_block=True,
                          signatures=self.signatures(), holders=list(self.holders),
                          mountpoints=list(self.mountpoints))

    def as_dict(self):
        return {"type": self.type, "label": self.label, "uuid": self.uuid,
                "mountpoints": list(self.mountpoints), "size": self.size, "used": self.used}


def parse_blkid_multi(text):
    """`blkid -o export DEV...` output -> {DEVNAME: {KEY: value}} (blocks split by blank lines)."""
    out = {}
    for block in re.split(r"\n\s*\n", text or ""):
        values = parse_blkid_export(block)
        name = values.pop("DEVNAME", None)
        if name:
            out[name] = values
    return out


PARTITION_TABLES = ("gpt", "dos", "PMBR", "atari", "bsd", "sun", "sgi", "mac")


def parse_wipefs_json(text):
    """`wipefs --no-act --json DEV...` -> {kernel name: blkid-like values}. Several signatures
    on one device give TYPE "a,b" (never equal to a filesystem type, so the guard refuses)."""
    try:
        rows = json.loads(text or "{}").get("signatures") or []
    except ValueError:
        raise StrataError("could not parse wipefs --json output", stdout=text)
    out = {}
    for row in rows:
        values = out.setdefault(row.get("device"), {})
        kind = row.get("type")
        if kind in PARTITION_TABLES:
            values.setdefault("PTTYPE", kind)
            continue
        values["TYPE"] = ",".join([t for t in (values.get("TYPE"), kind) if t])
        for key, field_name in (("UUID", "uuid"), ("LABEL", "label")):
            if row.get(field_name) and key not in values:
                values[key] = row[field_name]
    return out


def info_from_probe(device, values):
    info = FsInfo(device=device, probe=dict(values))
    info.type = values.get("TYPE") or None
    info.label = values.get("LABEL") or None
    info.uuid = values.get("UUID") or None
    info.pttype = values.get("PTTYPE") or None
    if (values.get("BLOCK_SIZE") or "").isdigit():
        info.block_size = int(values["BLOCK_SIZE"])
    return info


_MIN_RE = re.compile(r"Estimated minimum size of the filesystem:\s*(\d+)")


def parse_resize2fs_min(text):
    """Blocks from `resize2fs -P` output, or None."""
    m = _MIN_RE.search(text or "")
    return int(m.group(1)) if m else None


def _devno(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISBLK(st.st_mode):
        return None
    return os.major(st.st_rdev), os.minor(st.st_rdev)


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return ""


def read_fs_facts(runner, paths, fit_check=(), proc="/proc", sysfs="/sys"):
    """{path: FsInfo} for every existing block device in paths, in one blkid call (plus one
    `wipefs --no-act --json` for all the devices that call reports blank, and one
    `resize2fs -P` per unmounted ext2/3/4 device named in fit_check). Devices that do not
    exist are left out."""
    present = [p for p in paths if _devno(p) is not None]
    facts = {}
    if not present:
        return facts
    result = runner.read(["blkid", "-c", "/dev/null", "-o", "export"] + present, ok_rcs=(0, 2),
                         what="reading filesystem signatures")
    found = parse_blkid_multi(result.stdout)
    by_real = {os.path.realpath(name): values for name, values in found.items()}
    mounts = parse_mountinfo(_read(os.path.join(proc, "self", "mountinfo")))
    probed = {}
    for path in present:
        values = found.get(path)
        if values is None:
            values = by_real.get(os.path.realpath(path))
        probed[path] = values
    # The multi-device call reports blank what it cannot decide (two conflicting signatures),
    # so every device it calls blank is checked again, all in ONE low-level call: wipefs
    # lists every signature libblkid finds (blkid -p stops at the first blank device).
    unsure = [path for path in present if probed[path] is None]
    if unsure:
        # wipefs names each device by the basename of the path it was given: pass kernel names
        real = [os.path.realpath(path) for path in unsure]
        low = runner.read(["wipefs", "--no-act", "--json"] + real, ok_rcs=(0,),
                          what="probing %d devices for any signature" % len(unsure))
        signatures = parse_wipefs_json(low.stdout)
        for path, real_path in zip(unsure, real):
            probed[path] = signatures.get(os.path.basename(real_path), {})
    for path in present:
        values = probed[path]
        info = info_from_probe(path, values)
        major, minor = _devno(path)
        info.mountpoints = mounts.get("%d:%d" % (major, minor), [])
        try:
            info.holders = sorted(os.listdir(os.path.join(sysfs, "dev", "block", "%d:%d" % (major, minor), "holders")))
        except OSError:
            info.holders = []
        if info.mountpoints:
            try:
                vfs = os.statvfs(info.mountpoints[0])
                info.size = vfs.f_blocks * vfs.f_frsize
                info.used = (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize
            except OSError:
                pass
        elif path in fit_check and info.type in EXT_TYPES:
            info.min_size = read_ext_min_size(runner, path, info.block_size)
        facts[path] = info
    return facts


def read_ext_min_size(runner, path, block_size):
    """Bytes an unmounted ext2/3/4 filesystem needs at least (`resize2fs -P`, read-only)."""
    result = runner.read(["resize2fs", "-P", path], what="estimating the minimum size of the filesystem on %s" % path)
    blocks = parse_resize2fs_min(result.stdout + "\n" + result.stderr)
    if blocks is None or not block_size:
        return None
    return blocks * block_size


# --------------------------------------------------------------------------- commands

def check_label(fstype, label, what):
    if label is None:
        return
    limit = LABEL_MAX.get(fstype)
    if limit and len(label.encode("utf-8")) > limit:
        raise StrataError("%s: label '%s' is longer than the %d bytes %s allows" % (what, label, limit, fstype))


@dataclass
class MkfsCheck:
    """What the mkfs tool's own dry run needs to judge a planned mkfs before anything runs."""
    fstype: str
    device: str
    size: int                   # bytes the device will have (None: unknown, not checked)
    label: str = None
    options: list = field(default_factory=list)


def mkfs_action(fstype, device, label=None, options=None, forced=False, size=None):
    """mkfs for a device our guard passed; the tool's own override flag only when forced.
    `size` (bytes the device will have) lets check_mkfs() run the tool's dry run first."""
    if fstype not in MKFS:
        raise StrataError("cannot create %s filesystem on %s: supported are %s" % (
            with_article(fstype), device, ", ".join(FS_TYPES)))
    tool, override = MKFS[fstype]
    cmd = [tool]
    if forced:
        cmd.append(override)
    if label:
        cmd += ["-L", label]
    cmd += list(options or []) + [device]
    labelled = " labelled %s" % label if label else ""
    return Action("create %s filesystem%s on %s" % (with_article(fstype), labelled, device), cmd,
                  mkfs=MkfsCheck(fstype, device, size, label, list(options or [])))


# mke2fs's getopt string (e2fsprogs misc/mke2fs.c PRS): the letters that take an argument
_MKE2FS_WITH_ARG = "bdegilmorstCEGIJLMNORTUz"


def _split_options(options, with_arg):
    """getopt's view of `options`: [(letter, argument or None)], other words as (None, word)."""
    out, i = [], 0
    while i < len(options):
        word = options[i]
        i += 1
        if not word.startswith("-") or word in ("-", "--"):
            out.append((None, word))
            continue
        for pos in range(1, len(word)):
            letter = word[pos]
            if letter in with_arg:
                arg = word[pos + 1:]
                if not arg and i < len(options):
                    arg, i = options[i], i + 1
                out.append((letter, arg))
                break
            out.append((letter, None))
    return out


def _dry_run_options(fstype, options):
    """The user's mkfs options for the dry run, without the one that makes the dry run itself
    write a file: `mke2fs -n -z FILE` creates the undo FILE (undo_io.c opens it O_CREAT inside
    ext2fs_initialize, before the noaction exit; measured with e2fsprogs 1.47.0: an empty
    0600 file appears), so -z is left out of the dry run. mkfs.xfs -N opens the devices and
    files it is given but creates none (xfsprogs 6.1: `-l file,name=X` on a missing X fails
    with "cannot open X" in the dry run and in the real run alike)."""
    if fstype == "xfs":
        return list(options)
    out = []
    for letter, arg in _split_options(list(options), _MKE2FS_WITH_ARG):
        if letter is None:
            out.append(arg)
        elif letter != "z":
            out += ["-" + letter] + ([arg] if arg is not None else [])
    return out


def mkfs_dry_run_cmd(check, target):
    """The tool's own dry run for a planned mkfs, against `target` (a throw-away file for
    mkfs.xfs, which needs a file or block device; /dev/null for mke2fs, which takes the
    size as an argument). Neither writes a filesystem: `mkfs.xfs -N`, `mke2fs -n`; nor any
    other file (see _dry_run_options)."""
    label = ["-L", check.label] if check.label else []
    if check.fstype == "xfs":
        data = ["-d", "file,name=%s,size=%d" % (target, check.size)]
        return ["mkfs.xfs", "-N"] + label + _dry_run_options("xfs", check.options) + data
    size = ["/dev/null", "%dk" % (check.size // 1024)]
    return ["mkfs.%s" % check.fstype, "-n", "-F"] + label + _dry_run_options(check.fstype, check.options) + size


def _tool_complaint(text):
    """The lines of a mkfs error that say what is wrong (mkfs.xfs appends its usage text)."""
    lines = []
    for line in (text or "").splitlines():
        if line.startswith("Usage:"):
            break
        line = line.strip()
        if line and not line.startswith(("mke2fs ", "warning: Unable to get device geometry")):
            lines.append(line)
    return " ".join(lines)


def check_mkfs(runner, actions):
    """Run the mkfs tool's dry run for every planned mkfs whose device size is known, before
    anything runs (also in check mode): a size below the filesystem's minimum (mkfs.xfs of
    xfsprogs 5.19+ refuses below 300 MB) or options the tool rejects fail here, with the
    tool's own words, instead of after the volume was created. One process per new
    filesystem; nothing when no filesystem is made."""
    checks = [a.mkfs for a in actions if getattr(a, "mkfs", None) is not None and a.mkfs.size]
    if not checks:
        return
    workdir = None
    try:
        for check in checks:
            target = "/dev/null"
            if check.fstype == "xfs":
                if workdir is None:
                    workdir = tempfile.mkdtemp(prefix="strata-mkfs-dry-run-")
                target = os.path.join(workdir, "device")
            result = runner.read(mkfs_dry_run_cmd(check, target), check=False)
            if result.rc != 0:
                said = _tool_complaint(result.stderr) or _tool_complaint(result.stdout) or "rc %d" % result.rc
                raise StrataError(
                    "%s filesystem on %s (%s) would fail: %s refuses these settings: %s" % (
                        with_article(check.fstype).capitalize(), check.device, sizes.human(check.size),
                        result.cmd[0], said),
                    cmd=result.cmd, rc=result.rc,
                    hint="nothing was changed; give the volume a size and mkfs options the installed %s "
                         "accepts (its own dry run decided this)" % result.cmd[0])
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


def relabel_action(info, label, what):
    """Set a filesystem's label: e2label (ext, mounted or not), xfs_io online or xfs_admin offline."""
    if info.type in EXT_TYPES:
        cmd = ["e2label", info.device, label]
    elif info.type == "xfs" and info.mounted:
        cmd = ["xfs_io", "-c", "label -s %s" % label, info.mountpoints[0]]
    elif info.type == "xfs":
        cmd = ["xfs_admin", "-L", label, info.device]
    else:
        raise StrataError("%s: cannot set the label of %s filesystem" % (what, with_article(info.type)))
    return Action("set the label of the %s filesystem on %s to %s (was %s)" % (
        info.type, info.device, label, info.label or "none"), cmd)


def shrink_refusal(info, target, what):
    """Why the filesystem in info cannot shrink to target bytes, or None when it fits.
    info None means the device could not be read (an inactive LV)."""
    if info is None:
        return ("%s is not active, so its content cannot be checked" % what,
                "activate it first (active: true)")
    if info.blank:
        return None
    if info.type == "xfs":
        return ("%s holds an xfs filesystem and xfs cannot shrink" % what,
                "back up, recreate smaller and restore")
    if info.type not in EXT_TYPES:
        reason = "%s holds %s; only ext2/3/4 filesystems can be checked and shrunk" % (
            what, "; ".join(info.signatures()) or "an unknown signature")
        return reason, "shrink it by hand after handling its content"
    if info.mounted:
        return ("%s holds a mounted %s filesystem (on %s); ext filesystems shrink only unmounted" % (
            what, info.type, ", ".join(info.mountpoints)), "unmount it first")
    if info.min_size is None:
        return ("%s: the minimum size of its %s filesystem could not be estimated" % (what, info.type),
                "run e2fsck -f on it and retry")
    if info.min_size > target:
        reason = "%s: its %s filesystem needs at least %s (resize2fs -P), more than the requested %s" % (
            what, info.type, sizes.human(info.min_size), sizes.human(target))
        return reason, "free space in the filesystem or ask for a larger size"
    return None


# --------------------------------------------------------------------------- planning

def fs_view(info):
    """type/label/uuid of what a device holds, None when blank or unknown."""
    if info is None or info.blank:
        return None
    return {"type": info.type, "label": info.label, "uuid": info.uuid}


def _fs_fields(fs):
    """(type, label, options, force) from a FilesystemRequest or a plain dict."""
    if isinstance(fs, dict):
        options = fs.get("options") or []
        if isinstance(options, str):
            options = shlex.split(options)
        return fs.get("type"), fs.get("label"), [str(o) for o in options], bool(fs.get("force", False))
    return fs.type, fs.label, list(fs.options or []), bool(fs.force)


def plan_filesystem(device, fs, info, what=None, size=None):
    """Plan the filesystem `fs` (FilesystemRequest or dict: type, label, options, force) on
    `device`. info: its FsInfo, or None for a device this run creates (LVM wipes signatures on
    lvcreate, so it is blank). Same type: kept, label set if it differs. Blank: mkfs. Anything
    else: refused by the device guard unless force (then wipefs + mkfs -F/-f). `size`: the
    bytes the device will have, for check_mkfs(). Pure."""
    fstype, label, options, force = _fs_fields(fs)
    what = what or "filesystem on %s" % device
    if fstype not in FS_TYPES:
        raise StrataError("%s: type %s is not supported" % (what, fstype), hint="use one of %s" % ", ".join(FS_TYPES))
    check_label(fstype, label, what)
    plan = Plan(before=fs_view(info) or {})
    if info is not None and info.type == fstype:
        plan.after = fs_view(info)
        if label is not None and label != (info.label or ""):
            plan.add(relabel_action(info, label, what))
            plan.after = dict(plan.after, label=label)
        return plan
    forced = []
    if info is not None:
        dev = info.device_info()
        dev.path = dev.realpath = device
        forced = guard_blank([dev], [device] if force else [], "%s filesystem (%s)" % (with_article(fstype), what))
    if forced:
        plan.add(Action("wipe the signatures on %s (filesystem force is set)" % device, ["wipefs", "--all", device]))
    plan.add(mkfs_action(fstype, device, label, options, forced=bool(forced), size=size))
    plan.after = {"type": fstype, "label": label, "uuid": None}
    return plan
