# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is on a block device, and the guard that refuses to overwrite it.

The guard is the one place that decides whether a device may be turned into a PV, an md
member, a pool vdev or a filesystem. A device is refused when it shows anything at all:
a signature found by a low-level probe (`blkid -p`: filesystems, partition tables, LVM,
md, ZFS labels), partitions, holders (device-mapper, md on top of it), a mount or active
swap. Signatures alone can be overridden by naming the device in `force`; a device in
use (mounted, swap, holders, or a member of another VG) is refused even then.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.text import with_article


@dataclass
class DeviceInfo:
    path: str
    realpath: str = None
    exists: bool = False
    is_block: bool = False
    devno: tuple = None
    size: int = None
    signatures: list = field(default_factory=list)   # e.g. ["ext4 filesystem (UUID ...)"]
    partitions: list = field(default_factory=list)   # kernel names, e.g. ["vdb1"]
    holders: list = field(default_factory=list)      # kernel names, e.g. ["dm-0", "md127"]
    mountpoints: list = field(default_factory=list)
    swap: bool = False
    busy_partitions: list = field(default_factory=list)   # e.g. ["vdb1 is mounted on /srv"]

    @property
    def in_use(self):
        return bool(self.use_reasons())

    def use_reasons(self):
        """Why something is using this device right now (never overridden by `force`)."""
        out = []
        if self.holders:
            out.append("is held by %s" % ", ".join(self.holders))
        if self.mountpoints:
            out.append("is mounted on %s" % ", ".join(self.mountpoints))
        if self.swap:
            out.append("is active swap")
        out.extend("has partition %s" % busy for busy in self.busy_partitions)
        return out

    def content_reasons(self):
        """What this device holds (signatures, partitions): `force` may override these."""
        out = list(self.signatures)
        if self.partitions:
            out.append("has partitions %s" % ", ".join(self.partitions))
        return out


def parse_blkid_export(text):
    """Parse `blkid -p -o export DEV` output into a dict."""
    values = {}
    for line in text.splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def describe_probe(values):
    """Turn blkid probe values into signature descriptions."""
    out = []
    if values.get("PTTYPE"):
        out.append("holds %s partition table" % with_article(values["PTTYPE"]))
    fstype = values.get("TYPE")
    if fstype:
        usage = values.get("USAGE", "")
        label = values.get("LABEL")
        ident = values.get("UUID") or values.get("UUID_SUB")
        text = "holds %s signature" % with_article(fstype)
        if usage:
            text += " (%s" % usage
            if label:
                text += ", label %s" % label
            if ident:
                text += ", UUID %s" % ident
            text += ")"
        out.append(text)
    return out


def parse_mountinfo(text):
    """Map 'major:minor' -> [mountpoints] from /proc/self/mountinfo."""
    mounts = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) > 4:
            # mountinfo escapes spaces as \040
            mounts.setdefault(parts[2], []).append(parts[4].replace("\\040", " "))
    return mounts


def parse_swaps(text):
    """Device paths of active swap from /proc/swaps."""
    return [line.split()[0] for line in text.splitlines()[1:] if line.strip()]


def _read(path, default=""):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return default


def _listdir(path):
    try:
        return sorted(os.listdir(path))
    except (IOError, OSError):
        return []


def device_key(path):
    """A key that is the same for every name of one block device (its devno), else realpath."""
    try:
        st = os.stat(path)
        if stat.S_ISBLK(st.st_mode):
            return ("devno", os.major(st.st_rdev), os.minor(st.st_rdev))
    except OSError:
        pass
    return ("path", os.path.realpath(path))


class DeviceInspector:
    """Gathers DeviceInfo from the running system. Paths are injectable for tests."""

    def __init__(self, runner, sysfs="/sys", proc="/proc"):
        self.runner = runner
        self.sysfs = sysfs
        self.proc = proc
        self._mounts = None
        self._swaps = None

    def inspect(self, path):
        info = DeviceInfo(path=path, realpath=os.path.realpath(path))
        try:
            st = os.stat(path)
        except OSError:
            return info
        info.exists = True
        info.is_block = stat.S_ISBLK(st.st_mode)
        if not info.is_block:
            return info
        major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
        info.devno = (major, minor)
        sysdir = os.path.join(self.sysfs, "dev", "block", "%d:%d" % (major, minor))
        name = os.path.basename(os.path.realpath(sysdir))
        sectors = _read(os.path.join(sysdir, "size")).strip()
        info.size = int(sectors) * 512 if sectors.isdigit() else None
        info.partitions = [entry for entry in _listdir(sysdir)
                           if entry.startswith(name) and os.path.exists(os.path.join(sysdir, entry, "partition"))]
        info.holders = _listdir(os.path.join(sysdir, "holders"))
        if self._mounts is None:
            self._mounts = parse_mountinfo(_read(os.path.join(self.proc, "self", "mountinfo")))
            self._swaps = [os.path.realpath(p) for p in parse_swaps(_read(os.path.join(self.proc, "swaps")))]
        info.mountpoints = self._mounts.get("%d:%d" % (major, minor), [])
        info.swap = info.realpath in self._swaps
        for part in info.partitions:
            # a partition in use makes the whole disk in use: wiping its table would pull it away
            partdir = os.path.join(sysdir, part)
            busy = ["is mounted on %s" % m for m in self._mounts.get(_read(os.path.join(partdir, "dev")).strip(), [])]
            busy += ["is held by %s" % h for h in _listdir(os.path.join(partdir, "holders"))]
            if "/dev/%s" % part in self._swaps:
                busy.append("is active swap")
            info.busy_partitions.extend("%s %s" % (part, b) for b in busy)
        # blkid -p probes the device itself (not the udev cache); rc 2 = nothing found.
        result = self.runner.read(["blkid", "-p", "-o", "export", info.realpath], ok_rcs=(0, 2),
                                  what="probing %s for signatures" % path)
        info.signatures = describe_probe(parse_blkid_export(result.stdout))
        return info


def guard_blank(infos, force, purpose, members_elsewhere=None):
    """Refuse devices that are missing, not block devices, in use, or not blank unless forced.

    infos: DeviceInfo list. force: device paths the user allows us to overwrite.
    purpose: words for the message, e.g. "a PV of VG data".
    members_elsewhere: {device path: "PV of VG other"} - refused even with force.
    Returns the list of forced devices that do hold signatures (callers wipe only those).
    Raises one StrataError naming every refused device and why.
    """
    force_keys = {device_key(p) for p in (force or [])}
    members_elsewhere = members_elsewhere or {}
    refused = {}
    forced = []
    for info in infos:
        if not info.exists:
            refused[info.path] = ["does not exist"]
            continue
        if not info.is_block:
            refused[info.path] = ["is not a block device"]
            continue
        hard = info.use_reasons()
        if info.path in members_elsewhere:
            hard.insert(0, members_elsewhere[info.path])
        if hard:
            refused[info.path] = hard + ["(in use: not even `force` overrides this)"]
            continue
        soft = info.content_reasons()
        if soft:
            if device_key(info.path) in force_keys:
                forced.append(info.path)
            else:
                refused[info.path] = soft
    if refused:
        lines = ["%s %s" % (dev, "; ".join(why)) for dev, why in sorted(refused.items())]
        raise StrataError(
            "refusing to use %s as %s: %s" % (", ".join(sorted(refused)), purpose, " | ".join(lines)),
            hint="nothing was changed; a device that only holds signatures you want destroyed can be "
                 "named in `force`",
            details={"refused": refused},
        )
    return forced
