# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""LVM's own rules for names and sizes, checked at plan time so that a plan check mode
approves does not fail half-way (a PV label left on a blank disk, a VG with some of its LVs).

Read from lvm2 2.03.16 (Debian 12; the rules are unchanged in 2.03.2x):
- lib/misc/lvm-string.c `_validate_name`: letters, digits and `+ _ . -`; not `-` first; not
  `.` or `..`; at most NAME_LEN - 1 = 127 characters.
- lib/metadata/metadata.c `vg_validate`: for every LV, sub-LVs included, len(vg) + len(lv) +
  3 must stay below NAME_LEN (else "Internal error: LV name ... length N is not supported").
- `_lvname_has_reserved_prefix` / `_lvname_has_reserved_string`: LV names starting with
  `pvmove` or `snapshot`, or containing the component suffixes below, are refused.
- lib/metadata/metadata.c `validate_new_vg_name`: a new VG may not be named like an entry
  that exists under /dev ("/dev/disk: already exists in filesystem").
- device-mapper names are `<vg>-<lv>[-<layer>]` with every `-` inside vg and lv doubled, at
  most DM_NAME_LEN - 1 = 127 characters (libdm), for the LV and for every sub-LV and layer
  LVM makes for it (`_rimage_N`, `_tdata`, `-tpool`, `-cow`, ...); lv_manip.c clears a new
  LV through `/dev/<vg>/<lv>`, which must fit NAME_LEN too.
- lib/metadata/thin_manip.c `validate_thin_pool_chunk_size`: 64 KiB to 1 GiB, a multiple of
  64 KiB. tools/toollib.c `_validate_stripe_params`: 1 to 128 stripes; a stripe size a power
  of two of at least the page size (4 KiB) and at most STRIPE_SIZE_LIMIT * 2 sectors (1 TiB).
  lib/metadata/vg.c `vg_check_new_extent_size`: an extent size that is a power of two, or a
  multiple of MIN_NON_POWER2_EXTENT_SIZE (128 KiB); tools/toollib.c `vgcreate_params_set_from_args`:
  below MAX_EXTENT_SIZE (2^32 - 1 sectors).
- C's isalnum() in the C locale: ASCII letters and digits only, and nothing after the name (a
  trailing newline is a character LVM refuses, so the whole string is matched).

Measured on the test VM (lvm2 2.03.16): `lvcreate --type raid1` with a 112-character name
succeeds, but removing it then fails ("Name vg-<lv>_rimage_0-missing_0_0 too long"): LVM
names a layer `-missing_N_0` on the images when it takes them apart, so that name is
checked too; a name with 50 hyphens is created in the metadata and then fails to activate
("Failed to set device name").
"""

from __future__ import annotations

import re

from ansible_collections.strata.storage.plugins.module_utils.core import sizes
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError

NAME_MAX = 127           # NAME_LEN 128 with its terminating NUL
DM_NAME_MAX = 127        # DM_NAME_LEN 128 with its terminating NUL
DEV_DIR = "/dev/"
_NAME_RE = re.compile(r"[A-Za-z0-9+_.][A-Za-z0-9+_.-]*")

RESERVED_PREFIXES = ("pvmove", "snapshot")
RESERVED_STRINGS = ("_cdata", "_cmeta", "_corig", "_cpool", "_cvol", "_wcorig", "_mimage", "_mlog", "_rimage",
                    "_rmeta", "_tdata", "_tmeta", "_vdata", "_imeta", "_iorig", "_pmspare", "_vorigin")

THIN_CHUNK_MIN = 64 * 1024
THIN_CHUNK_MAX = 1024 ** 3
STRIPES_MAX = 128
STRIPE_SIZE_MIN = 4096    # the page size on x86_64 and most arm64 kernels
STRIPE_SIZE_MAX = 1 << 40  # STRIPE_SIZE_LIMIT * 2 = 2^31 sectors
EXTENT_NON_POWER2_UNIT = 128 * 1024
EXTENT_SIZE_MAX = ((1 << 32) - 1) * 512   # MAX_EXTENT_SIZE, in sectors


def check_name(kind, name):
    """Any LVM name (VG, LV, pool, snapshot): lvm-string.c _validate_name."""
    if not name or len(name) > NAME_MAX or name in (".", "..") or not _NAME_RE.fullmatch(name):
        raise StrataError("%s name '%s' is not valid for LVM" % (kind, name),
                          hint="use letters, digits and + _ . - (not first), at most 127 characters")


def check_new_vg_name(name, dev_entry_exists):
    """A VG about to be created: the name rules, and no entry /dev/<name> (vgcreate refuses
    a name like `disk`, `mapper`, `loop0` or `null`, after our PVs would have been made)."""
    check_name("volume group", name)
    if dev_entry_exists is not None and dev_entry_exists(name):
        raise StrataError("volume group name '%s' is taken: %s%s already exists, and LVM puts a volume "
                          "group's volumes under /dev/<vg name>" % (name, DEV_DIR, name),
                          hint="nothing was changed; choose a name that is not an entry under /dev")


def dm_name(vg, lv, layer=None):
    """The device-mapper name LVM gives vg/lv (libdm dm_build_dm_name)."""
    out = "%s-%s" % (vg.replace("-", "--"), lv.replace("-", "--"))
    return "%s-%s" % (out, layer) if layer else out


def sub_names(kind, images=1, mirrors=0):
    """Names LVM derives from an LV of this kind: sub-LV suffixes (`_x`) and dm layers (`-x`)."""
    if kind in ("raid1", "raid4", "raid5", "raid6", "raid10") or (kind or "").startswith("raid"):
        last = max(images - 1, 0)
        return ["_rimage_%d" % last, "_rmeta_%d" % last, "_rimage_%d-missing_%d_0" % (last, last)]
    if kind == "mirror":
        return ["_mimage_%d" % max(mirrors, 1), "_mlog"]
    if kind == "thin-pool":
        return ["_tdata", "_tmeta", "-tpool"]
    if kind == "snapshot":
        return ["-cow"]
    if kind == "origin":
        return ["-real"]
    return []


def check_lv_name(vg, name, kind="logical volume", derived=()):
    """An LV LVM will create: the name rules, the reserved prefixes and strings, and room for
    the device-mapper names of the LV and of every sub-LV or layer in `derived`."""
    check_name(kind, name)
    for prefix in RESERVED_PREFIXES:
        if name.startswith(prefix):
            raise StrataError("%s name '%s' is reserved by LVM: names starting with '%s' are" % (kind, name, prefix),
                              hint="nothing was changed; choose another name")
    for part in RESERVED_STRINGS:
        if part in name:
            raise StrataError("%s name '%s' is reserved by LVM: names containing '%s' are (LVM names its "
                              "internal volumes so)" % (kind, name, part),
                              hint="nothing was changed; choose another name")
    too_long = []
    path = "%s%s/%s" % (DEV_DIR, vg, name)
    if len(path) > NAME_MAX:
        too_long.append("%s (%d characters)" % (path, len(path)))
    for extra in [""] + list(derived):
        sub, _dash, layer = extra.partition("-")     # "_rimage_1-missing_1_0": sub-LV and dm layer
        lv_name = name + sub
        if len(vg) + len(lv_name) + 3 > NAME_MAX:
            too_long.append("%s/%s (%d characters with its volume group)" % (vg, lv_name, len(vg) + len(lv_name) + 3))
            continue
        full = dm_name(vg, lv_name, layer or None)
        if len(full) > DM_NAME_MAX:
            too_long.append("%s (%d characters)" % (full, len(full)))
    if too_long:
        raise StrataError("%s %s/%s: the names LVM derives from it are longer than the kernel allows "
                          "(%d characters): %s" % (kind, vg, name, DM_NAME_MAX, "; ".join(too_long)),
                          hint="nothing was changed; use a shorter name (each '-' counts twice in "
                               "device-mapper names)")


def check_thin_chunk_size(what, chunk):
    if chunk is None:
        return
    if not THIN_CHUNK_MIN <= chunk <= THIN_CHUNK_MAX or chunk % THIN_CHUNK_MIN:
        raise StrataError("%s: chunk_size %s is not one LVM accepts: thin pool chunks are 64K to 1G, "
                          "in multiples of 64K" % (what, sizes.human(chunk)),
                          hint="nothing was changed; for example 64K, 256K, 512K or 1M")


def _power_of_two(value):
    return value > 0 and value & (value - 1) == 0


def check_stripes(what, stripes, stripe_size):
    if stripes is not None and not 1 <= stripes <= STRIPES_MAX:
        raise StrataError("%s: stripes %d is out of LVM's range 1 to %d" % (what, stripes, STRIPES_MAX))
    if stripe_size is not None and (not _power_of_two(stripe_size) or not STRIPE_SIZE_MIN <= stripe_size <= STRIPE_SIZE_MAX):
        raise StrataError("%s: stripe_size %s must be a power of two from 4K to 1T" % (what, sizes.human(stripe_size)))


def check_extent_size(what, extent):
    if extent is None:
        return
    if extent < 1024 or extent >= EXTENT_SIZE_MAX or (not _power_of_two(extent) and extent % EXTENT_NON_POWER2_UNIT):
        raise StrataError("%s: pe_size %s is not one LVM accepts: a power of two (at least 1K), or a "
                          "multiple of 128K, below 2T" % (what, sizes.human(extent)),
                          hint="nothing was changed; the usual sizes are 4M (the default) to 64M")
