#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lvm_vg
short_description: Create, extend, reduce and remove LVM volume groups, safely
version_added: 0.1.0
description:
  - Creates a volume group on the named devices, adds devices to it, removes devices from it
    when asked, and removes it when asked.
  - Reads the whole LVM state in one C(lvm fullreport) call, plans every step, then runs them
    in order. Bad input fails before anything is changed.
  - A device that holds any signature, partitions, holders or mounts is refused unless it is
    named in O(force) (see there).
  - Devices of the volume group that are not listed in O(devices) are kept unless O(reduce=true).
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - lvm2 (C(lvm fullreport) with JSON reports, LVM 2.02.158 or newer)
  - util-linux (C(blkid), C(wipefs))
options:
  name:
    description:
      - Name of the volume group.
    type: str
    required: true
    aliases: [vg]
  state:
    description:
      - V(present) creates the volume group or brings its devices in line.
      - V(absent) removes it; see O(remove_lvs).
    type: str
    choices: [present, absent]
    default: present
  devices:
    description:
      - Block devices that make up the volume group. Any name of a device works
        (C(/dev/disk/by-id/...), C(/dev/vdb)); they are compared by device number.
      - Devices not yet in the group are initialised as PVs and added.
      - Required to create the group. Leaving it out keeps the group's devices as they are.
    type: list
    elements: path
    default: []
    aliases: [pvs]
  pe_size:
    description:
      - Physical extent size, for example V(4M) or V(32M). Used at creation only.
      - If the group exists with another extent size the module fails, since it cannot change it
        safely.
    type: str
  reduce:
    description:
      - Remove PVs that are in the group but not listed in O(devices).
      - A PV with allocated extents is refused unless O(pvmove=true).
      - Removed PVs get their LVM label removed (C(pvremove)), so the disk is blank afterwards.
    type: bool
    default: false
  pvmove:
    description:
      - With O(reduce=true), move the allocated extents of leaving PVs to the remaining PVs
        (C(pvmove)) before removing them. New devices are added first, so replacing a disk is
        one call. Fails before moving anything when the remaining PVs lack the room.
    type: bool
    default: false
  remove_lvs:
    description:
      - With O(state=absent), also remove the logical volumes in the group.
      - Without it, a group that holds logical volumes is not removed. Open (mounted) volumes
        are never removed.
    type: bool
    default: false
extends_documentation_fragment:
  - strata.storage.device_guard
  - strata.storage.attributes
  - strata.storage.action_groups.lvm
notes:
  - Sizes accept K, M, G, T (powers of 1024) and KB, MB, GB, TB (powers of 1000); a number
    without a unit is refused.
  - Removing a volume group also removes the LVM labels from its PVs.
seealso:
  - module: strata.storage.lvm_thinpool
"""

EXAMPLES = r"""
- name: Create a volume group on two disks
  strata.storage.lvm_vg:
    name: data
    devices:
      - /dev/disk/by-id/virtio-strata-d1
      - /dev/disk/by-id/virtio-strata-d2
    pe_size: 4M

- name: Add a disk that held an old filesystem (its content is destroyed)
  strata.storage.lvm_vg:
    name: data
    devices: [/dev/vdb, /dev/vdc, /dev/vdd]
    force: [/dev/vdd]

- name: Replace /dev/vdb by /dev/vde, moving its extents first
  strata.storage.lvm_vg:
    name: data
    devices: [/dev/vdc, /dev/vdd, /dev/vde]
    reduce: true
    pvmove: true

- name: Remove an empty volume group
  strata.storage.lvm_vg:
    name: scratch
    state: absent
"""

RETURN = r"""
rolled_back:
  description:
    - When a real run failed after it had created something, the undo of each thing this run
      created (its new LVs, the VG it created or extended, the PV labels it made), newest first.
      An entry with C(failed) stopped the rollback. See the LVM docs, "When a real run fails anyway".
  returned: on failure, when something was undone
  type: list
  elements: dict
  sample:
    - {description: "remove logical volume data/db, which this run created", cmd: [lvremove, --yes, data/db]}
    - {description: "remove volume group data, which this run created", cmd: [vgremove, data]}
    - {description: "remove the LVM label this run put on /dev/vdb", cmd: [pvremove, /dev/vdb]}
vg:
  description: The volume group after the run (predicted in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    name: {description: Name., type: str, returned: when present}
    uuid: {description: UUID (empty in check mode before creation)., type: str, returned: when present}
    size: {description: Size in bytes., type: int, returned: when present}
    free: {description: Free bytes., type: int, returned: when present}
    extent_size: {description: Extent size in bytes., type: int, returned: when present}
    extent_count: {description: Number of extents., type: int, returned: when present}
    free_count: {description: Number of free extents., type: int, returned: when present}
    pv_count: {description: Number of PVs., type: int, returned: when present}
    lv_count: {description: Number of LVs., type: int, returned: when present}
    missing_pv_count: {description: PVs LVM cannot find., type: int, returned: when present}
    pvs: {description: PV device names., type: list, elements: str, returned: when present}
    lvs: {description: LV names., type: list, elements: str, returned: when present}
  sample:
    name: data
    size: 4286578688
    free: 4286578688
    extent_size: 4194304
    pvs: [/dev/vdb, /dev/vdc]
actions:
  description: Each change made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: dict
  sample:
    - description: initialise /dev/vdb as an LVM physical volume
      cmd: [pvcreate, /dev/vdb]
    - description: create volume group data on /dev/vdb
      cmd: [vgcreate, data, /dev/vdb]
reads:
  description: The read-only commands run to learn the current state.
  returned: always
  type: list
  elements: list
notes:
  description: Decisions worth knowing, for example PVs kept because O(reduce) was off.
  returned: when there are any
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.lvm import reader as lvm
from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInspector
from ansible_collections.strata.storage.plugins.module_utils.lvm.planner import plan_vg, vg_request_from_params
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import finish, run_module


def body(module, runner):
    req = vg_request_from_params(module.params)
    state = lvm.read_state(runner)
    plan = plan_vg(req, state, DeviceInspector(runner).inspect, lvm.dev_entry_exists)
    runner.execute_all(plan.actions)
    runner.keep_created()   # all ran: a failure reading the result undoes nothing
    if module.check_mode and plan.changed:
        # nothing ran: report the prediction
        vg_info = {k: v for k, v in plan.after.items() if k != "state"} if req.state == "present" else {}
    else:
        if plan.changed:
            state = lvm.read_state(runner)   # report what LVM now says, not what we expected
        vg = state.vg(req.name)
        vg_info = vg.summary(state) if vg else {}
    finish(module, runner, plan, vg=vg_info)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True, aliases=["vg"]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            devices=dict(type="list", elements="path", default=[], aliases=["pvs"]),
            force=dict(type="list", elements="path", default=[]),
            pe_size=dict(type="str"),
            reduce=dict(type="bool", default=False),
            pvmove=dict(type="bool", default=False),
            remove_lvs=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    run_module(module, body)


if __name__ == "__main__":
    main()
