#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: md_array
short_description: The whole life of one Linux software RAID (md) array, safely
version_added: 0.1.0
description:
  - Creates RAID 0, 1, 4, 5, 6 and 10 arrays (level, members, spares, chunk, metadata, name,
    bitmap, raid10 layout, the raid5/6 write-hole policy), assembles a stopped array, adds
    spares, fails, removes and re-adds members, rebuilds a member onto a new device while the
    array stays redundant (C(--replace)), grows an array by members, by size or to another
    level (only with O(reshape=true)), starts and waits for scrubs (C(check), C(repair)) and
    reports C(mismatch_cnt), stops it, and removes it (O(allow_remove=true)).
  - Identifies the array by O(name) (C(/dev/md/NAME)) or O(uuid), never by C(/dev/mdN) alone.
  - Reads md state from sysfs and C(/proc/mdstat) (files, no process per file) plus one
    C(mdadm --detail --scan) for names and UUIDs; a run that changes nothing starts no other
    process for md state (and one C(blkid -p) per new device). Every step is planned, and
    every refusal raised, before the first command runs - a level with too few members, a chunk
    that is not a power of two, the same disk twice under two names, a member that is too small
    or holds data.
  - Keeps the array's C(ARRAY) line in mdadm.conf (Debian and RHEL paths) and refreshes the
    initramfs only when that file changed, so the array assembles under its name at boot.
  - For several arrays in one call (one read, one mdadm.conf write, one initramfs refresh) use
    M(strata.storage.md_layout), which takes a list of these options.
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - mdadm (4.x), util-linux (C(blkid), C(wipefs)), a kernel with md and sysfs
extends_documentation_fragment:
  - strata.storage.action_groups.md
  - strata.storage.md_array
  - strata.storage.md_array.CONFIG
  - strata.storage.attributes
notes:
  - Progress (resync, recovery, reshape, check) is returned in RV(array.progress) with percent,
    speed and an ETA; O(wait=true) blocks until the array is settled.
  - Sizes accept K, M, G, T (powers of 1024); a number without a unit is refused.
  - An array this module created is a blank block device for M(strata.storage.lvm_vg) or
    M(strata.storage.lvm_layout) on top.
  - A real run that fails after it created an array stops that array and zeroes the superblocks it
    wrote again (it holds no data yet), and says so in the message and RV(rolled_back).
seealso:
  - module: strata.storage.md_layout
  - module: strata.storage.lvm_vg
"""

EXAMPLES = r"""
- name: A raid1 of two disks with a hot spare and a write-intent bitmap
  strata.storage.md_array:
    name: data
    level: raid1
    members: [/dev/disk/by-id/virtio-strata-d7, /dev/disk/by-id/virtio-strata-d8]
    spares: [/dev/disk/by-id/virtio-strata-d6]
    bitmap: internal

- name: raid5 with the PPL write-hole policy, waiting for the initial build
  strata.storage.md_array:
    name: bulk
    level: raid5
    chunk: 256K
    consistency_policy: ppl
    members: [/dev/sdb, /dev/sdc, /dev/sdd]
    wait: true

- name: Rebuild a member that reports errors onto a new disk, staying redundant
  strata.storage.md_array:
    name: bulk
    replace:
      - {old: /dev/sdc, new: /dev/sde}
    wait: true

- name: Grow a raid5 from 3 to 4 disks (a reshape)
  strata.storage.md_array:
    name: bulk
    members: [/dev/sdb, /dev/sdd, /dev/sde, /dev/sdf]
    reshape: true
    wait: true
    wait_timeout: 86400

- name: Monthly scrub, report the mismatch count
  strata.storage.md_array:
    name: bulk
    sync_action: check
    wait: true
  register: scrub

- name: Stop and remove an array, zeroing its members' superblocks
  strata.storage.md_array:
    name: scratch
    state: absent
    members: [/dev/sdg, /dev/sdh]
    allow_remove: true
"""

RETURN = r"""
array:
  description:
    - The array after the run, as the kernel reports it (in check mode, when something would
      change, the prediction with C(predicted=true)).
  returned: always
  type: dict
  contains:
    name: {description: Name (/dev/md/NAME)., type: str, returned: when present}
    uuid: {description: UUID as mdadm prints it., type: str, returned: when present}
    device: {description: The stable device path., type: str, returned: when present}
    kernel_name: {description: The kernel's name (md127); it can change at boot., type: str, returned: when present}
    level: {description: RAID level., type: str, returned: when present}
    raid_disks: {description: Number of raid devices., type: int, returned: when present}
    chunk: {description: Chunk size in bytes (0 for raid1)., type: int, returned: when present}
    layout: {description: raid10/raid5/raid6 layout name., type: str, returned: when present}
    metadata: {description: Superblock version., type: str, returned: when present}
    state: {description: "Kernel array_state (clean, active, read-auto, ...).", type: str, returned: when present}
    degraded: {description: Missing members., type: int, returned: when present}
    sync_action: {description: "idle, resync, recover, reshape, check or repair.", type: str, returned: when present}
    last_sync_action: {description: The last sync action that ran., type: str, returned: when present}
    mismatch_cnt:
      description: Sectors found inconsistent by the last check or repair (or resync).
      type: int
      returned: when present
    size: {description: Array size in bytes., type: int, returned: when present}
    component_size: {description: Bytes of each member the array uses., type: int, returned: when present}
    consistency_policy: {description: "resync, bitmap, ppl or journal.", type: str, returned: when present}
    bitmap: {description: internal or none., type: str, returned: when present}
    members:
      description: Each member with its role (active, rebuilding, spare, faulty, journal) and slot.
      type: list
      elements: dict
      returned: when present
    progress:
      description:
        - The running resync/recovery/reshape/check - action, percent, done and total sectors,
          speed in KiB/s, eta_seconds; null when idle.
      type: dict
      returned: when present
  sample:
    name: data
    uuid: f0cb5267:3a23fea1:bcc1384b:1e5292af
    device: /dev/md/data
    kernel_name: md127
    level: raid1
    raid_disks: 2
    state: clean
    degraded: 0
    sync_action: idle
    mismatch_cnt: 0
    progress: null
config:
  description: The mdadm.conf path and whether this run changed it.
  returned: always
  type: dict
  sample: {path: /etc/mdadm/mdadm.conf, changed: true}
waited:
  description: Seconds waited for the array to settle.
  returned: when O(wait=true) or a step waited
  type: dict
actions:
  description: Each change made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: dict
  sample:
    - description: create raid1 md array data on /dev/vdb, /dev/vdc
      cmd: [mdadm, --create, /dev/md/data, --run, --level=1, --raid-devices=2, --metadata=1.2, --name=data,
            /dev/vdb, /dev/vdc]
    - description: write /etc/mdadm/mdadm.conf (ARRAY lines of data)
      path: /etc/mdadm/mdadm.conf
    - description: refresh the initramfs so it assembles the arrays under their names at boot
      cmd: [/usr/sbin/update-initramfs, -u]
reads:
  description: The read-only commands run to learn the current state (files in sysfs are not listed).
  returned: always
  type: list
  elements: list
  sample: [[mdadm, --detail, --scan]]
rolled_back:
  description:
    - When a real run failed after it had created an array, the undo steps run - stop that array,
      then zero the superblocks this run wrote on its devices (it holds no data yet). A create that failed
      itself is undone the same way (mdadm can leave superblocks and an inactive array); a step
      that finds nothing to undo carries C(nothing_to_undo) and the rollback goes on. An entry with
      C(failed) stopped the rollback.
  returned: on failure, when something was undone
  type: list
  elements: dict
  sample:
    - {description: "stop md array data, which this run created", cmd: [mdadm, --stop, /dev/md/data]}
    - {description: "zero the md superblock this run wrote on /dev/vdb", cmd: [mdadm, --zero-superblock, /dev/vdb]}
notes:
  description: Decisions worth knowing (members kept, steps left for the next run).
  returned: when there are any
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.core.module_support import finish, run_module
from ansible_collections.strata.storage.plugins.module_utils.md import layout
from ansible_collections.strata.storage.plugins.module_utils.md.config import CONFIG_SPEC
from ansible_collections.strata.storage.plugins.module_utils.md.planner import ARRAY_SPEC


def body(module, runner):
    params = {key: module.params[key] for key in ARRAY_SPEC}
    plan, arrays, extra = layout.run(module, runner, [params])
    finish(module, runner, plan, array=arrays[0], **extra)


def main():
    module = AnsibleModule(argument_spec=dict(ARRAY_SPEC, **CONFIG_SPEC), supports_check_mode=True)
    run_module(module, body)


if __name__ == "__main__":
    main()
