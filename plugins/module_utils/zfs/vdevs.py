# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vdev layouts: what a pool is made of, the vdev specification the tools take, and the
replication rules `zpool create` and `zpool add` apply (cmd/zpool/zpool_vdev.c,
construct_spec / get_replication / check_replication in OpenZFS 2.1):

- raidz1 needs 2 devices, raidz2 3, raidz3 4 (parity + 1), a mirror 2;
- log, special and dedup vdevs are single devices or mirrors, never raidz; cache and spare
  take single devices;
- all top-level data, special and dedup vdevs share one replication level: a pool of
  2-way mirrors takes another 2-way mirror, not a single disk or a 3-way mirror, and
  a mirror and a raidz only mix when they survive the same number of failures
  (raidz1 with 2-way mirrors); devices and files never mix in a group, and the devices
  of a mirror or raidz differ by at most 16 MiB in size. `zpool add` refuses anything else
  without -f; so do we, unless the user allows it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError

TYPES = ("stripe", "mirror", "raidz1", "raidz2", "raidz3")
TYPE_ALIASES = {"raidz": "raidz1", "disk": "stripe", "single": "stripe"}
ROLES = ("data", "log", "special", "dedup", "cache", "spare")
SIZE_FUZZ = 16 * 1024 ** 2          # ZPOOL_FUZZ


@dataclass
class VdevSpec:
    type: str
    devices: list
    role: str = "data"

    @property
    def parity(self):
        return int(self.type[-1]) if self.type.startswith("raidz") else 0

    @property
    def min_devices(self):
        if self.type == "mirror":
            return 2
        if self.type.startswith("raidz"):
            return self.parity + 1
        return 1

    def groups(self):
        """Top-level vdevs this spec makes: a stripe makes one per device."""
        if self.type == "stripe":
            return [VdevSpec("stripe", [dev], self.role) for dev in self.devices]
        return [self]

    def words(self):
        """The spec as zpool arguments, without the role keyword."""
        if self.type == "stripe":
            return list(self.devices)
        return [self.type] + list(self.devices)

    def fault_tolerance(self):
        if self.type == "mirror":
            return len(self.devices) - 1
        return self.parity

    def describe(self):
        if self.type == "stripe":
            return "%s%s" % ("" if self.role == "data" else self.role + " ", ", ".join(self.devices))
        return "%s%s %s" % ("" if self.role == "data" else self.role + " ", self.type, ", ".join(self.devices))


def specs_from_params(entries):
    """vdevs option -> [VdevSpec], checked against construct_spec's rules."""
    specs = []
    seen = {}
    for index, entry in enumerate(entries or []):
        vtype = TYPE_ALIASES.get(entry.get("type") or "stripe", entry.get("type") or "stripe")
        role = entry.get("role") or "data"
        devices = list(entry.get("devices") or [])
        what = "vdev %d (%s%s)" % (index + 1, "" if role == "data" else role + " ", vtype)
        if vtype not in TYPES:
            raise StrataError("%s: unknown vdev type '%s'" % (what, entry.get("type")),
                              hint="use stripe, mirror, raidz1, raidz2 or raidz3")
        if role not in ROLES:
            raise StrataError("%s: unknown role '%s'" % (what, role), hint="use %s" % ", ".join(ROLES))
        spec = VdevSpec(vtype, devices, role)
        if not devices:
            raise StrataError("%s has no devices" % what)
        if role in ("cache", "spare") and vtype != "stripe":
            raise StrataError("%s: %s devices are single devices, not %s" % (what, role, vtype),
                              hint="list them with type: stripe")
        if role in ("log", "special", "dedup") and vtype.startswith("raidz"):
            raise StrataError("%s: unsupported '%s' device: %s" % (what, role, vtype),
                              hint="%s vdevs are single devices or mirrors" % role)
        if len(devices) < spec.min_devices:
            raise StrataError("%s: %s requires at least %d devices, %d given" % (
                what, vtype, spec.min_devices, len(devices)),
                hint="raidz1 takes 2 or more devices, raidz2 3, raidz3 4, a mirror 2")
        if len(devices) > 255 and vtype.startswith("raidz"):
            raise StrataError("%s: %s supports no more than 255 devices" % (what, vtype))
        for dev in devices:
            if dev in seen:
                raise StrataError("device %s is listed twice (in %s and %s)" % (dev, seen[dev], what))
            seen[dev] = what
        specs.append(spec)
    return specs


def spec_words(specs):
    """The whole vdev specification for zpool create/add: data vdevs, then each role's
    keyword once followed by its vdevs."""
    words = []
    for spec in specs:
        if spec.role == "data":
            words.extend(spec.words())
    for role, keyword in (("log", "log"), ("special", "special"), ("dedup", "dedup"), ("cache", "cache"),
                          ("spare", "spare")):
        role_specs = [s for s in specs if s.role == role]
        if role_specs:
            words.append(keyword)
            for spec in role_specs:
                words.extend(spec.words())
    return words


# --------------------------------------------------------------------------- replication
@dataclass
class Replication:
    type: str          # disk, file, mirror, raidz, draid
    children: int
    parity: int

    def describe(self):
        if self.type == "mirror":
            return "%d-way mirror" % self.children
        if self.type in ("raidz", "draid"):
            return "%s%d" % (self.type, self.parity)
        return "single %s" % ("file" if self.type == "file" else "device")

    @property
    def tolerance(self):
        if self.type == "mirror":
            return self.children - 1
        return self.parity


def _leaf_kind(path):
    return "disk" if str(path).startswith("/dev/") else "file"


def replication_of_spec(group, sizes=None):
    """Replication of one new top-level group; problems inside it (files mixed with
    devices, sizes that differ) as a list of reasons."""
    problems = []
    kinds = {_leaf_kind(d) for d in group.devices}
    if group.type != "stripe" and len(kinds) > 1:
        problems.append("%s contains both files and devices" % group.type)
    if group.type != "stripe" and sizes:
        known = [sizes[d] for d in group.devices if sizes.get(d)]
        if known and max(known) - min(known) > SIZE_FUZZ:
            problems.append("%s %s contains devices of different sizes" % (group.type, ", ".join(group.devices)))
    if group.type == "stripe":
        return Replication(_leaf_kind(group.devices[0]), 1, 0), problems
    if group.type == "mirror":
        return Replication("mirror", len(group.devices), 0), problems
    return Replication("raidz", len(group.devices), group.parity), problems


def replication_of_vdev(vdev):
    """Replication of a current top-level Vdev (reader.Vdev)."""
    if vdev.type in ("mirror", "raidz", "draid"):
        return Replication(vdev.type, len(vdev.children), vdev.parity)
    if vdev.type in ("replacing", "spare") and vdev.children:
        return replication_of_vdev(vdev.children[0])
    return Replication("file" if vdev.type == "file" else "disk", 1, 0)


def _mismatch(a, b, against_pool=False):
    """None when a and b are one replication level. The rules of OpenZFS 2.1's
    cmd/zpool/zpool_vdev.c: get_replication (the vdevs of one spec, and a pool's own vdevs)
    takes raidz and draid vdevs of one parity whatever their width; check_replication (the
    pool's last vdev against the new spec's last) also wants the same type and width."""
    parity_kinds = ("raidz", "draid")
    raidz, mirror = (a, b) if a.type in parity_kinds and b.type == "mirror" else (
        (b, a) if b.type in parity_kinds and a.type == "mirror" else (None, None))
    if raidz is not None:
        if raidz.parity != mirror.children - 1:
            return "%s and %s vdevs with different redundancy (%d vs. %d failures)" % (
                raidz.describe(), mirror.describe(), raidz.parity, mirror.children - 1)
        return None
    if not against_pool and a.type in parity_kinds and b.type in parity_kinds:
        if a.parity != b.parity:
            return "both %d and %d device parity %s vdevs" % (a.parity, b.parity, b.type)
        return None
    if a.type != b.type:
        return "both %s and %s vdevs" % (a.describe(), b.describe())
    if a.parity != b.parity:
        return "both %d and %d device parity raidz vdevs" % (a.parity, b.parity)
    if a.children != b.children:
        return "both %d-way and %d-way %s vdevs" % (a.children, b.children, a.type)
    return None


def replication_problems(new_groups, current_tops=None, sizes=None):
    """What `zpool create`/`zpool add` would call a mismatched replication level.
    new_groups: top-level VdevSpecs being added (logs, cache and spares are ignored, as the
    tool ignores them); current_tops: the pool's current top-level data/special/dedup Vdevs
    (None when creating). Returns (problems, lowers_redundancy)."""
    problems = []
    new = []
    for group in new_groups:
        if group.role in ("log", "cache", "spare"):
            continue
        rep, inner = replication_of_spec(group, sizes)
        problems.extend(inner)
        new.append((group, rep))
    last = None
    for group, rep in new:
        if last is not None:
            why = _mismatch(last, rep)
            if why:
                problems.append("the new vdevs mix %s" % why)
        last = rep
    lowers = False
    if current_tops and new:
        current = None
        consistent = True
        for vdev in current_tops:
            rep = replication_of_vdev(vdev)
            if current is not None and _mismatch(current, rep):
                consistent = False       # the pool is already mixed: the tool checks no further
            current = rep
        if consistent and current is not None:
            # the tool compares the pool's last vdev with the new spec's last one only
            group, rep = new[-1]
            why = _mismatch(current, rep, against_pool=True)
            if why:
                problems.append("the pool uses %s and the new vdev %s is %s (%s)" % (
                    current.describe(), group.describe(), rep.describe(), why))
            lowers = any(rep.tolerance < current.tolerance for _group, rep in new)
    return problems, lowers


# --------------------------------------------------------------------------- device identity
class DevicePaths:
    """Decides whether a path zpool status prints is a device the user names: the same
    file, the same block device (by realpath), or partition 1 that ZFS made on a whole disk
    it was given (/dev/disk/by-id/X -> /dev/disk/by-id/X-part1). Injectable for tests."""

    def __init__(self, realpath=os.path.realpath, sysfs="/sys"):
        self.realpath = realpath
        self.sysfs = sysfs

    def _parent_disk(self, real):
        name = os.path.basename(real)
        part = os.path.join(self.sysfs, "class", "block", name, "partition")
        if os.path.exists(part):
            parent = os.path.basename(os.path.dirname(os.path.realpath(os.path.join(self.sysfs, "class", "block", name))))
            return "/dev/" + parent
        return None

    def same(self, wanted, current):
        if wanted == current:
            return True
        for suffix in ("-part1", "1", "p1"):
            if current == wanted + suffix:
                return True
        real_w, real_c = self.realpath(wanted), self.realpath(current)
        if real_w == real_c:
            return True
        parent = self._parent_disk(real_c)
        return parent is not None and parent == real_w and real_c.endswith(("1", "p1"))

    def find(self, wanted, paths):
        for path in paths:
            if self.same(wanted, path):
                return path
        return None
