#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lvm_pv
short_description: Move extents off an LVM physical volume, or resize it after its device changed
version_added: 0.1.0
description:
  - O(operation=move) moves every allocated extent off O(device) with C(pvmove), to the PVs in
    O(destinations) or anywhere else in its volume group. The periodic C(Moved NN.NN%) lines are
    returned in RV(progress). With O(background=true) the move runs on in the background and later
    calls report its progress (RV(move_percent)) instead of starting it again. A PV without
    allocated extents needs no move. The move is refused before it starts when the
    destinations lack the free extents.
  - O(operation=resize) runs C(pvresize) when the device grew by at least one extent (the PV can
    hold more extents than it has). Shrinking (a smaller O(size)) needs O(allow_shrink=true) and is
    refused while any LV holds an extent in the freed tail.
  - Replacing a failed PV is M(strata.storage.lvm_repair); adding and removing PVs of a VG is
    M(strata.storage.lvm_vg).
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - lvm2 (C(lvm fullreport) with JSON reports)
options:
  device:
    description: The PV, by any name of its device (compared by device number).
    type: path
    required: true
    aliases: [pv]
  operation:
    description: V(move) its extents elsewhere, or V(resize) it.
    type: str
    choices: [move, resize]
    required: true
  destinations:
    description: With V(move), the PVs of the same volume group to move to (default any other PV).
    type: list
    elements: path
    default: []
  background:
    description: With V(move), start C(pvmove --background) and return at once.
    type: bool
    default: false
  interval:
    description: With V(move) in the foreground, seconds between progress lines.
    type: int
    default: 5
  size:
    description:
      - With V(resize), the PV size to set (for example V(10G)). Leave it out to use the whole device.
    type: str
  allow_shrink:
    description: With V(resize), allow a O(size) smaller than the PV (only over unallocated extents).
    type: bool
    default: false
extends_documentation_fragment:
  - strata.storage.attributes
  - strata.storage.action_groups.lvm
notes:
  - A foreground move returns when C(pvmove) ends; RV(progress) is the list of lines it printed.
    Ansible's C(async) keeps a long move from hitting connection timeouts.
seealso:
  - module: strata.storage.lvm_vg
  - module: strata.storage.lvm_repair
"""

EXAMPLES = r"""
- name: Empty /dev/vdb before the disk is pulled
  strata.storage.lvm_pv:
    device: /dev/vdb
    operation: move
    destinations: [/dev/vdd]

- name: Start a long move in the background
  strata.storage.lvm_pv:
    device: /dev/vdb
    operation: move
    background: true

- name: Later calls report how far it got
  strata.storage.lvm_pv:
    device: /dev/vdb
    operation: move
    background: true
  register: move
  until: move.move_percent is none
  retries: 60
  delay: 30

- name: Use the space of a grown virtual disk
  strata.storage.lvm_pv:
    device: /dev/vdc
    operation: resize
"""

RETURN = r"""
pv:
  description: The PV after the run (predicted in check mode).
  returned: always
  type: dict
  contains:
    name: {description: Device name., type: str, returned: always}
    vg: {description: Volume group., type: str, returned: always}
    size: {description: PV size in bytes., type: int, returned: always}
    dev_size: {description: Device size in bytes., type: int, returned: always}
    free: {description: Free bytes., type: int, returned: always}
    pe_count: {description: Extents., type: int, returned: always}
    pe_alloc_count: {description: Allocated extents., type: int, returned: always}
progress:
  description: Progress lines of a foreground move, as C({device, percent}).
  returned: always
  type: list
  elements: dict
  sample: [{device: /dev/vdb, percent: 48.5}, {device: /dev/vdb, percent: 100.0}]
move_percent:
  description: Progress of a move running in the background; null when none runs.
  returned: always
  type: float
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
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import finish, run_module


def body(module, runner):
    params = module.params
    state = lvm.read_state(runner)
    if params["operation"] == "move":
        plan = pvp.plan_pv_move(pvp.move_request_from_params(params), state)
    else:
        plan = pvp.plan_pv_resize(pvp.resize_request_from_params(params), state)
    progress = []
    for action in plan.actions:
        result = runner.execute(action)
        if result is not None and action.cmd and action.cmd[0] == "pvmove":
            progress = pvp.parse_pvmove_progress((result.stdout or "") + "\n" + (result.stderr or ""))
    if module.check_mode and plan.changed:
        view = plan.after
    else:
        if plan.changed:
            state = lvm.read_state(runner)
        view = pvp.pv_view(pvp.find_pv(state, params["device"]), state)
    running = None
    pv = pvp.find_pv(state, params["device"])
    if pv is not None and pv.vg_name:
        lv = pvp.move_in_progress(state, pv)
        running = lv.copy_percent if lv is not None else None
    finish(module, runner, plan, pv=view, progress=progress, move_percent=running)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            device=dict(type="path", required=True, aliases=["pv"]),
            operation=dict(type="str", required=True, choices=["move", "resize"]),
            destinations=dict(type="list", elements="path", default=[]),
            background=dict(type="bool", default=False),
            interval=dict(type="int", default=5),
            size=dict(type="str"),
            allow_shrink=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    run_module(module, body)


if __name__ == "__main__":
    main()
