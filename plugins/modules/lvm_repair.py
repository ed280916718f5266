#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lvm_repair
short_description: Rebuild RAID and mirror LVs that lost a PV onto spares, then drop the missing PV
version_added: 0.1.0
description:
  - Finds the LVs of a volume group that use a missing PV (C([unknown]) in their devices) or
    whose health is C(partial) or C(refresh needed) (a failed leg), and runs
    C(lvconvert --repair) on each RAID or mirror LV, allocating the new legs on O(spares) only.
  - Spares must be blank devices (they become PVs and join the VG; the signature guard and
    O(force) apply) or allocatable PVs of the same volume group.
  - With O(remove_missing=true), runs C(vgreduce --removemissing) afterwards, and only when no LV
    still uses the missing PV. C(--force), which would drop such LVs, is never used.
  - LVs without redundancy (linear, striped, raid0) on the missing PV cannot be repaired; they are
    reported in a warning and block O(remove_missing).
  - Resync of the new legs runs on in the kernel; RV(vg.lvs) reports each LV's sync percentage.
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - lvm2 (C(lvm fullreport) with JSON reports)
options:
  vg:
    description: The volume group to repair.
    type: str
    required: true
  spares:
    description: Devices to rebuild onto (blank devices or PVs of O(vg)). Required when an LV needs repair.
    type: list
    elements: path
    default: []
  lvs:
    description: Repair only these LVs (default every degraded RAID/mirror LV).
    type: list
    elements: str
    default: []
  remove_missing:
    description: Remove the missing PVs from the VG after the repairs (refused while an LV uses them).
    type: bool
    default: false
extends_documentation_fragment:
  - strata.storage.device_guard
  - strata.storage.attributes
  - strata.storage.action_groups.lvm
seealso:
  - module: strata.storage.lvm_pv
  - module: strata.storage.lvm_vg
"""

EXAMPLES = r"""
- name: Rebuild every degraded RAID LV of data onto a new disk and forget the dead one
  strata.storage.lvm_repair:
    vg: data
    spares: [/dev/disk/by-id/virtio-strata-d5]
    remove_missing: true
"""

RETURN = r"""
vg:
  description: Redundancy state of the VG after the run (predicted in check mode).
  returned: always
  type: dict
  contains:
    missing_pv_count: {description: PVs LVM cannot find., type: int, returned: always}
    missing_pvs: {description: UUIDs of missing PVs., type: list, elements: str, returned: always}
    lvs:
      description: Per RAID/mirror LV (or LV on a missing PV) its segtype, health, sync_percent, sync_action, uses_missing_pv, pvs.
      type: dict
      returned: always
  sample:
    missing_pv_count: 0
    missing_pvs: []
    lvs: {r1: {segtype: raid1, health: ok, sync_percent: 37.5, sync_action: recover, uses_missing_pv: false}}
repaired:
  description: LVs on which C(lvconvert --repair) ran (or would run).
  returned: always
  type: list
  elements: str
actions:
  description: Each change made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: dict
reads:
  description: The read-only commands run to learn the current state.
  returned: always
  type: list
  elements: list
notes:
  description: Decisions worth knowing.
  returned: when there are any
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.lvm import reader as lvm
from ansible_collections.strata.storage.plugins.module_utils.lvm import pv_planner as pvp
from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInspector
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import finish, run_module


def body(module, runner):
    req = pvp.repair_request_from_params(module.params)
    state = lvm.read_state(runner)
    plan = pvp.plan_repair(req, state, DeviceInspector(runner).inspect)
    runner.execute_all(plan.actions)
    repaired = [a.cmd[3].split("/", 1)[1] for a in plan.actions if a.cmd[:2] == ["lvconvert", "--repair"]]
    if module.check_mode and plan.changed:
        view = plan.after
    else:
        if plan.changed:
            state = lvm.read_state(runner)
        view = pvp.repair_view(state, req.vg)
    finish(module, runner, plan, vg=view, repaired=repaired)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vg=dict(type="str", required=True),
            spares=dict(type="list", elements="path", default=[]),
            force=dict(type="list", elements="path", default=[]),
            lvs=dict(type="list", elements="str", default=[]),
            remove_missing=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    run_module(module, body)


if __name__ == "__main__":
    main()
