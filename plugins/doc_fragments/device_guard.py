# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  force:
    description:
      - Devices that may be overwritten although they are not blank.
      - Before a device is initialised, it is probed with C(blkid -p) and checked for partitions,
        holders (device-mapper, md), mounts and active swap. A device that shows any of these is
        refused, and nothing is changed, unless it is named here.
      - Naming a device here allows its signatures (filesystem, partition table, LVM, md or ZFS
        labels) to be wiped with C(wipefs --all). Its data is lost.
      - A device that is mounted, active swap, held by another device, or a PV of another volume
        group is refused even when named here.
      - Devices are compared by their device number, so any name of the device works
        (for example C(/dev/disk/by-id/...) or C(/dev/sdb)).
    type: list
    elements: path
    default: []
"""
