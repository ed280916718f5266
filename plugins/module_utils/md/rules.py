# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mdadm's own refusals, checked before anything runs.

Each rule names where mdadm (4.2, Debian 12's; the rules are unchanged up to 4.4) or the
kernel enforces it, so a request this module accepts is one mdadm accepts too:

- level/member counts: Create.c ("at least 4 raid-devices needed for level 6", "at least 2
  raid-devices needed for level %d" for 4/5/6), mdadm.c ("'1' is an unusual number of
  drives ... specify --force" for raid0/raid1 with one device; we never pass --force);
- raid10 layouts: Create.c "that layout requires at least %d devices" (near x far copies);
- spares: Create.c "This level does not support spare devices" (raid0);
- chunk: mdadm.c "invalid chunk/rounding value" (< 4 KiB), the kernel's power-of-two rule
  (Create.c prints "chunk size is not a power of 2" after the kernel refused), Create.c
  "specifying chunk size is forbidden for this level" (raid1);
- names: mdadm.c/config.c MD_NAME_MAX (32) and the POSIX portable file name set
  (lib.c is_name_posix_compatible: letters, digits, '_', '.', '-', no leading '-'); the
  1.x superblock keeps at most 31 bytes of "homehost:name" (super1.c), so we stop at 31;
- bitmaps: Create.c "bitmaps not meaningful with level" (raid0);
- consistency policy: mdadm.c ("--consistency-policy not meaningful with level", "PPL
  consistency policy is only supported for RAID level 5", "--write-journal is only
  supported for RAID level 4/5/6", "--bitmap is not compatible with consistency policy"),
  Create.c "%s metadata does not support PPL" (0.90); the kernel's raid5_run "array cannot have
  both journal and bitmap" (mdadm --create then fails with "RUN_ARRAY failed" and leaves an
  inactive array behind, so mdadm.c does not catch it: we do);
- reshapes: the kernel's raid5 check_reshape and raid5_resize return -EINVAL for an array
  with a journal or PPL (no more members, no level change, no larger size); Grow.c
  "Component size change is not supported for RAID0" and "Cannot convert RAID1 of this
  size - reduce size to multiple of 4K first" (raid1 -> raid5);
- metadata 0.90: super0.c max_devs 27 and a 2 TiB member limit for raid levels > 0.
"""

from __future__ import annotations

import re

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.md.reader import RAID5_LAYOUTS, RAID6_LAYOUTS

LEVELS = ("raid0", "raid1", "raid4", "raid5", "raid6", "raid10")
_LEVEL_ALIASES = {"0": "raid0", "stripe": "raid0", "1": "raid1", "mirror": "raid1", "4": "raid4",
                  "5": "raid5", "6": "raid6", "10": "raid10"}
MIN_DEVICES = {"raid0": 2, "raid1": 2, "raid4": 2, "raid5": 2, "raid6": 4, "raid10": 2}
CHUNK_LEVELS = ("raid0", "raid4", "raid5", "raid6", "raid10")
REDUNDANT = ("raid1", "raid4", "raid5", "raid6", "raid10")
METADATA = ("0.90", "1.0", "1.1", "1.2")
MIN_CHUNK = 4096
NAME_MAX = 31
MAX_DEVS_090 = 27
MAX_RAID6_DEVICES = 256
MAX_MEMBER_090 = 2 * 1024 ** 4
# The smallest member we accept: mdadm 4.2 aborts `--create` on a 1 MiB device (superblock,
# bad block log and data offset fill it) and takes a 2 MiB one (measured in the test VM).
MIN_MEMBER = 2 * 1024 ** 2
POLICIES = ("resync", "bitmap", "ppl", "journal")
_NAME_RE = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*$")
_RAID10_LAYOUT = re.compile(r"^[nfo]([1-9][0-9]*)$")

# Level changes this module drives (mdadm Grow.c supports more; these keep the data
# redundant all the way): raid1 with two members -> raid5 (instant takeover), raid5 -> raid6
# (a reshape onto one more member).
LEVEL_CHANGES = {("raid1", "raid5"), ("raid5", "raid6")}


def normalize_level(value):
    if value is None:
        return None
    text = str(value).strip().lower()
    text = _LEVEL_ALIASES.get(text, text)
    if text not in LEVELS:
        raise StrataError("RAID level '%s' is not supported" % value,
                          hint="use one of %s" % ", ".join(LEVELS))
    return text


def normalize_metadata(value):
    if value is None:
        return None
    text = str(value).strip()
    text = {"0.9": "0.90", "1": "1.2", "default": "1.2"}.get(text, text)
    if text not in METADATA:
        raise StrataError("metadata version '%s' is not one mdadm writes for native arrays" % value,
                          hint="use one of %s (1.2 is mdadm's default)" % ", ".join(METADATA))
    return text


def check_name(name):
    if not name or len(name) > NAME_MAX or name in (".", "..") or not _NAME_RE.match(name):
        raise StrataError(
            "md array name '%s' is not valid" % name,
            hint="use letters, digits and _ . - (not '-' first), at most %d characters: mdadm keeps "
                 "'homehost:name' in 32 bytes of the superblock and refuses other characters" % NAME_MAX)
    if name.isdigit():
        raise StrataError("md array name '%s' is only digits: mdadm would read /dev/md/%s as /dev/md%s" % (
            name, name, name), hint="give it a name with letters; arrays are identified by name or UUID")


def check_chunk(level, chunk, name):
    if chunk is None:
        return
    if level not in CHUNK_LEVELS:
        raise StrataError("md array %s: a chunk size is meaningless for %s (mdadm: \"specifying chunk size is "
                          "forbidden for this level\")" % (name, level), hint="leave chunk out")
    if chunk < MIN_CHUNK or chunk & (chunk - 1):
        raise StrataError("md array %s: chunk %d bytes is not a power of two of at least 4 KiB" % (name, chunk),
                          hint="e.g. 64K, 128K, 512K (mdadm's default)")


def check_layout(level, layout, name, raid_disks):
    if layout is None:
        return
    if level == "raid10":
        m = _RAID10_LAYOUT.match(layout)
        if not m:
            raise StrataError("md array %s: raid10 layout '%s' is not n<copies>, f<copies> or o<copies>" % (
                name, layout), hint="e.g. n2 (mdadm's default), f2, o2")
        copies = int(m.group(1))
        if raid_disks is not None and copies > raid_disks:
            raise StrataError("md array %s: raid10 layout %s keeps %d copies and needs at least %d members, "
                              "not %d" % (name, layout, copies, copies, raid_disks))
        return
    names = {"raid5": RAID5_LAYOUTS, "raid6": RAID6_LAYOUTS}.get(level)
    if names is None:
        raise StrataError("md array %s: a layout is meaningless for %s" % (name, level), hint="leave layout out")
    if layout not in names.values():
        raise StrataError("md array %s: %s layout '%s' is unknown" % (name, level, layout),
                          hint="use one of %s" % ", ".join(sorted(set(names.values()))))


def max_failures(level, raid_disks, layout_text=None):
    """How many members an array of this shape can lose and keep its data."""
    if level == "raid1":
        return raid_disks - 1
    if level in ("raid4", "raid5"):
        return 1
    if level == "raid6":
        return 2
    if level == "raid10":
        m = _RAID10_LAYOUT.match(layout_text or "n2")
        return (int(m.group(1)) if m else 2) - 1
    return 0


def check_create(req, member_count, spare_count):
    """The shape rules of `mdadm --create`."""
    name, level = req.name, req.level
    if member_count < MIN_DEVICES[level]:
        extra = " (mdadm needs --force for one member; this module never passes it)" if member_count == 1 else ""
        raise StrataError("md array %s: %s needs at least %d members, %d given%s" % (
            name, level, MIN_DEVICES[level], member_count, extra))
    if level == "raid6" and member_count > MAX_RAID6_DEVICES:
        raise StrataError("md array %s: raid6 supports at most %d members" % (name, MAX_RAID6_DEVICES))
    if level == "raid0" and spare_count:
        raise StrataError("md array %s: raid0 has no redundancy, so it takes no spares" % name)
    check_chunk(level, req.chunk, name)
    check_layout(level, req.layout, name, member_count)
    if level == "raid10" and req.layout is None and member_count < 2:
        raise StrataError("md array %s: raid10's default layout n2 needs at least 2 members" % name)
    metadata = req.metadata or "1.2"
    if metadata == "0.90" and member_count + spare_count > MAX_DEVS_090:
        raise StrataError("md array %s: metadata 0.90 supports at most %d devices, %d given" % (
            name, MAX_DEVS_090, member_count + spare_count), hint="use metadata 1.2")
    check_policy(req, level, metadata)


def check_policy(req, level, metadata):
    name, policy = req.name, req.consistency_policy
    if req.bitmap == "internal" and level == "raid0":
        raise StrataError("md array %s: a write-intent bitmap is meaningless for raid0" % name)
    if req.journal and level not in ("raid4", "raid5", "raid6"):
        raise StrataError("md array %s: a write journal is only supported for raid4/5/6, not %s" % (name, level))
    if req.journal and req.bitmap == "internal":
        raise StrataError("md array %s: an array with a write journal cannot have a bitmap (the kernel refuses to "
                          "start it: \"array cannot have both journal and bitmap\")" % name,
                          hint="leave bitmap out (or set bitmap: none): the journal already closes the write hole")
    if policy is None:
        return
    if level == "raid0":
        raise StrataError("md array %s: consistency_policy is meaningless for raid0" % name)
    if policy == "journal" and not req.journal:
        raise StrataError("md array %s: consistency_policy journal needs a journal device" % name,
                          hint="name it in journal")
    if req.journal and policy != "journal":
        raise StrataError("md array %s: a journal device implies consistency_policy journal, not %s" % (
            name, policy))
    if policy == "ppl":
        if level != "raid5":
            raise StrataError("md array %s: the PPL write-hole policy is only supported for raid5, not %s" % (
                name, level), hint="for raid4/6 use a journal device")
        if metadata == "0.90":
            raise StrataError("md array %s: metadata 0.90 does not support PPL" % name, hint="use metadata 1.2")
    if policy == "bitmap" and req.bitmap != "internal":
        raise StrataError("md array %s: consistency_policy bitmap needs bitmap: internal" % name)
    if req.bitmap == "internal" and policy not in ("bitmap", "journal"):
        raise StrataError("md array %s: a bitmap is not compatible with consistency_policy %s" % (name, policy))


def check_reshape_policy(array, name, what):
    """The kernel's raid4/5/6 cannot reshape or resize an array with a write journal or PPL."""
    if array.consistency_policy in ("journal", "ppl"):
        hint = ("switch it to consistency_policy: resync first (one run), then grow it, then back to ppl"
                if array.consistency_policy == "ppl" else
                "an array with a write journal cannot be reshaped; create a new array instead")
        raise StrataError("md array %s has consistency policy %s: the kernel does not allow %s on it (raid5 "
                          "check_reshape/raid5_resize refuse arrays with a journal or PPL)" % (
                              name, array.consistency_policy, what), hint=hint)
