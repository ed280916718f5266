# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The device guard for vdevs: block devices go through core.devices.guard_blank (the one
guard of the collection); file vdevs, which ZFS also takes, get the same rules here (they
must exist, be large enough, and show no signature unless named in `force`).

Nothing is passed to `zpool create -f` / `zpool add -f` before this guard has passed.
"""

from __future__ import annotations

import os
import stat

from ansible_collections.strata.storage.plugins.module_utils.core.devices import (
    DeviceInfo, DeviceInspector, describe_probe, device_key, guard_blank, parse_blkid_export,
)
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.zfs.props import SPA_MINDEVSIZE


class VdevInspector:
    """inspect(path) -> DeviceInfo for a block device or a file vdev."""

    def __init__(self, runner, block_inspector=None):
        self.runner = runner
        self.block = block_inspector or DeviceInspector(runner)
        self.probed = {}

    def inspect(self, path):
        if path in self.probed:
            return self.probed[path]
        try:
            st = os.stat(path)
        except OSError:
            info = DeviceInfo(path=path, realpath=os.path.realpath(path))
            self.probed[path] = info
            return info
        if stat.S_ISBLK(st.st_mode):
            info = self.block.inspect(path)
        else:
            info = DeviceInfo(path=path, realpath=os.path.realpath(path), exists=True, is_block=False,
                              size=st.st_size if stat.S_ISREG(st.st_mode) else None)
            if stat.S_ISREG(st.st_mode):
                result = self.runner.read(["blkid", "-p", "-o", "export", info.realpath], ok_rcs=(0, 2),
                                          what="probing %s for signatures" % path)
                probe = parse_blkid_export(result.stdout)
                info.signatures = describe_probe(probe)
                info.zfs_label = probe.get("LABEL") if probe.get("TYPE") == "zfs_member" else None
        self.probed[path] = info
        return info


def zfs_label_of(info):
    """The pool name a device's ZFS label carries (blkid: TYPE=zfs_member LABEL=pool)."""
    label = getattr(info, "zfs_label", None)
    if label:
        return label
    for sig in info.signatures:
        if sig.startswith("holds a zfs_member signature") and ", label " in sig:
            return sig.split(", label ", 1)[1].split(",")[0].rstrip(")")
    return None


def guard_vdevs(infos, force, purpose, members_elsewhere=None):
    """Refuse what the guard refuses, for block devices and files alike, in ONE error.
    Returns the devices that were forced (they hold signatures the user agreed to lose)."""
    members_elsewhere = members_elsewhere or {}
    force_keys = {device_key(p) for p in (force or [])}
    refused = {}
    forced = []
    blocks = [i for i in infos if i.exists and i.is_block]
    files = [i for i in infos if not (i.exists and i.is_block)]
    for info in files:
        if not info.exists:
            refused[info.path] = ["does not exist"]
            continue
        if info.size is None:
            refused[info.path] = ["is neither a block device nor a regular file"]
            continue
        if info.path in members_elsewhere:
            refused[info.path] = [members_elsewhere[info.path], "(in use: not even `force` overrides this)"]
            continue
        if info.size < SPA_MINDEVSIZE:
            refused[info.path] = ["is smaller than 64M, the smallest vdev ZFS takes"]
            continue
        if info.signatures:
            if device_key(info.path) in force_keys:
                forced.append(info.path)
            else:
                refused[info.path] = list(info.signatures)
    for info in blocks:
        if info.size is not None and info.size < SPA_MINDEVSIZE:
            refused[info.path] = ["is smaller than 64M, the smallest vdev ZFS takes"]
    try:
        forced += guard_blank([b for b in blocks if b.path not in refused], force, purpose,
                              members_elsewhere=members_elsewhere)
    except StrataError as exc:
        refused.update((exc.details or {}).get("refused") or {})
    if refused:
        lines = ["%s %s" % (dev, "; ".join(why)) for dev, why in sorted(refused.items())]
        raise StrataError(
            "refusing to use %s as %s: %s" % (", ".join(sorted(refused)), purpose, " | ".join(lines)),
            hint="nothing was changed; a device that only holds signatures you want destroyed can be "
                 "named in `force`",
            details={"refused": refused},
        )
    return forced
