#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lvm_layout
short_description: A whole LVM volume group with all its volumes, pools, filesystems and snapshots in one call
version_added: 0.1.0
description:
  - Converges one volume group and everything in it. Its devices, logical volumes of every
    layout (linear, striped, mirror, raid1, raid5, raid6, raid10), thin pools with their thin
    volumes, ext4/xfs filesystems, and classic or thin snapshots.
  - Built on the same planners as M(strata.storage.lvm_vg), M(strata.storage.lvm_lv),
    M(strata.storage.lvm_thinpool) and M(strata.storage.lvm_snapshot), so every option means
    what it means there; this module exists so that a role (P(strata.storage.lvm#role)) needs
    one task per volume group instead of one per volume.
  - Reads the LVM state once (one C(lvm fullreport)) and the filesystem facts once (one
    C(blkid)), plans every step against the predicted state, and only then changes anything, so
    bad input anywhere in the layout fails before the first command. A real run then executes
    the steps in order (removals, volume group, volumes, thin pools, thin volume filesystems,
    snapshots), re-reading LVM's state after each step that changed something.
  - A no-change run reads LVM state once and runs no command that writes.
  - Safe mode (O(safe_mode), on by default) refuses any plan that removes, shrinks, wipes or
    moves data, whatever the per-object flags say (O(force) included).
  - Mounting is left to M(ansible.posix.mount); the C(mount) key of a volume is accepted and
    ignored here so that one layout serves both (the role mounts with it). Snapshots with a
    C(mount) are mounted read-only by this module, outside fstab.
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - lvm2 (C(lvm fullreport) with JSON reports, C(fsadm)), thin-provisioning-tools for thin pools
  - util-linux (C(blkid), C(wipefs)); e2fsprogs / xfsprogs for the filesystems
options:
  name:
    description: Name of the volume group.
    type: str
    required: true
    aliases: [vg]
  state:
    description:
      - V(present) converges the layout; V(absent) removes the volume group, which needs
        O(allow_remove=true) when it holds volumes and O(safe_mode=false).
    type: str
    choices: [present, absent]
    default: present
  devices:
    description:
      - Block devices of the volume group (as in M(strata.storage.lvm_vg)). Needed to create
        it; new devices extend it; devices of the VG not listed are kept unless O(reduce=true).
    type: list
    elements: path
    default: []
  pe_size:
    description: Extent size at creation (V(4M) is LVM's default). Cannot change later.
    type: str
  reduce:
    description: Remove PVs that are in the volume group but not in O(devices) (only free ones).
    type: bool
    default: false
  allow_remove:
    description:
      - Allow removing what the layout marks V(absent) (volumes, thin pools with their thin
        volumes) and a volume group with volumes when O(state=absent). Also needs
        O(safe_mode=false).
    type: bool
    default: false
  safe_mode:
    description:
      - Refuse, with nothing changed, any plan that would run C(lvremove), C(vgremove),
        C(vgreduce), C(pvremove), C(lvreduce), C(wipefs), C(pvmove), a snapshot merge or
        repair, or a forced mkfs. Turn it off for the run that is meant to do that.
    type: bool
    default: true
  volumes:
    description:
      - Logical volumes. Each entry takes the options of M(strata.storage.lvm_lv) except C(vg).
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: "Name of the volume.", type: str, required: true}
      state:
        description: "V(present) or V(absent); removal needs O(allow_remove) or O(volumes[].allow_remove)."
        type: str
        choices: [present, absent]
        default: present
      size:
        description:
          - "Size, as in M(strata.storage.lvm_lv): V(10G), V(80%VG), V(100%FREE), V(+1G)."
          - Relative forms apply only at creation or with O(volumes[].grow).
        type: str
      type: {description: "Layout.", type: str, choices: [linear, striped, mirror, raid1, raid5, raid6, raid10]}
      stripes: {description: "Data stripes (striped, raid5, raid6, raid10).", type: int}
      stripe_size: {description: "Stripe size (V(64K)).", type: str}
      mirrors: {description: "Extra copies (mirror, raid1, raid10).", type: int}
      region_size: {description: "Region size for mirror and RAID sync.", type: str}
      pvs: {description: "Place the volume on these PVs.", type: list, elements: path, default: []}
      grow: {description: "Apply a relative size to an existing volume.", type: bool, default: false}
      shrink: {description: "Allow a smaller size (after the filesystem fit check).", type: bool, default: false}
      resizefs: {description: "Resize the filesystem with the volume.", type: bool, default: true}
      active: {description: "Activate (V(true)) or deactivate (V(false)); left out, keep.", type: bool}
      rename_from: {description: "Rename this existing volume to O(volumes[].name).", type: str}
      allow_remove: {description: "Allow removing this volume when its state is V(absent).", type: bool, default: false}
      remove_snapshots: {description: "Also remove the volume's classic snapshots when removing it.", type: bool, default: false}
      filesystem:
        description: Filesystem on the volume (created when the volume is blank).
        type: dict
        suboptions:
          type: {description: "Filesystem type.", type: str, required: true, choices: [ext4, xfs]}
          label: {description: "Label.", type: str}
          options: {description: "Extra mkfs arguments.", type: list, elements: str, default: []}
          force: {description: "Overwrite another signature on the volume (refused in safe mode).", type: bool, default: false}
      mount:
        description: Ignored by this module; used by the P(strata.storage.lvm#role) role (M(ansible.posix.mount)).
        type: raw
  thin_pools:
    description:
      - Thin pools. Each entry takes the options of M(strata.storage.lvm_thinpool) except C(vg).
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: "Name of the pool.", type: str, required: true}
      state: {description: "V(present) or V(absent).", type: str, choices: [present, absent], default: present}
      size: {description: "Data size (V(10G), V(80%VG), V(100%FREE)).", type: str}
      metadata_size: {description: "Metadata size.", type: str}
      chunk_size: {description: "Chunk size at creation.", type: str}
      zero: {description: "Zero newly provisioned blocks.", type: bool}
      discards: {description: "Discard handling.", type: str, choices: [ignore, nopassdown, passdown]}
      stripes: {description: "Stripes of the pool's data at creation.", type: int}
      stripe_size: {description: "Stripe size at creation.", type: str}
      pvs: {description: "Place the pool on these PVs.", type: list, elements: path, default: []}
      autoextend_threshold: {description: "Grow the pool when data use passes this percent (100 turns it off).", type: int}
      autoextend_percent: {description: "Grow by this percent each time.", type: int}
      max_overcommit: {description: "Refuse thin volumes adding up to more than this many times the pool.", type: float}
      error_when_full: {description: "Writes to a full pool fail at once (V(true)) or queue (V(false)).", type: bool}
      volumes:
        description: Thin volumes of the pool.
        type: list
        elements: dict
        default: []
        suboptions:
          name: {description: "Name of the thin volume.", type: str, required: true}
          size: {description: "Virtual size (absolute).", type: str}
          state: {description: "V(present) or V(absent).", type: str, choices: [present, absent], default: present}
          filesystem:
            description: Filesystem on the thin volume (created when it is blank).
            type: dict
            suboptions:
              type: {description: "Filesystem type.", type: str, required: true, choices: [ext4, xfs]}
              label: {description: "Label.", type: str}
              options: {description: "Extra mkfs arguments.", type: list, elements: str, default: []}
              force: {description: "Overwrite another signature (refused in safe mode).", type: bool, default: false}
          mount:
            description: Ignored by this module; used by the P(strata.storage.lvm#role) role.
            type: raw
  snapshots:
    description:
      - Snapshots (taken after the volumes exist). Each entry takes the options of
        M(strata.storage.lvm_snapshot) except C(vg); merging is left to that module.
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: "Name of the snapshot.", type: str, required: true}
      origin: {description: "The volume it is a snapshot of.", type: str}
      size: {description: "Size of a classic snapshot (V(1G), V(20%ORIGIN)); left out for a thin snapshot of a thin volume.", type: str}
      state:
        description: "V(present) or V(absent) (removal needs O(allow_remove) or O(snapshots[].allow_remove))."
        type: str
        choices: [present, absent]
        default: present
      allow_remove: {description: "Allow removing this snapshot when its state is V(absent).", type: bool, default: false}
      mount:
        description: Mount the snapshot read-only here (not in fstab).
        type: dict
        suboptions:
          path: {description: "Mount point.", type: path, required: true}
          options: {description: "Extra mount options (C(ro) is always added).", type: str}
extends_documentation_fragment:
  - strata.storage.device_guard
  - strata.storage.attributes
  - strata.storage.action_groups.lvm
notes:
  - Check mode plans every step against a predicted state (on blank disks the volume group
    does not exist yet); the prediction only decides refusals, never what a real run does.
  - The role P(strata.storage.lvm#role) calls this module once per volume group.
seealso:
  - module: strata.storage.lvm_lv
  - module: strata.storage.lvm_thinpool
  - module: strata.storage.lvm_snapshot
  - module: strata.storage.lvm_vg
"""

EXAMPLES = r"""
- name: A volume group with a RAID1 volume, a striped xfs volume, a thin pool and a snapshot
  strata.storage.lvm_layout:
    name: data
    devices: [/dev/disk/by-id/virtio-d1, /dev/disk/by-id/virtio-d2, /dev/disk/by-id/virtio-d3]
    volumes:
      - name: db
        type: raid1
        mirrors: 1
        size: 20G
        filesystem: {type: ext4, label: db}
      - name: scratch
        type: striped
        stripes: 3
        stripe_size: 64K
        size: 30%VG
        filesystem: {type: xfs}
    thin_pools:
      - name: pool0
        size: 40%VG
        autoextend_threshold: 80
        autoextend_percent: 20
        volumes:
          - {name: vm1, size: 50G, filesystem: {type: ext4}}
    snapshots:
      - {name: db_before_upgrade, origin: db, size: 20%ORIGIN}

- name: Remove a volume on purpose (safe mode off for this run)
  strata.storage.lvm_layout:
    name: data
    volumes:
      - {name: scratch, state: absent}
    allow_remove: true
    safe_mode: false
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
  description: The volume group as LVM reports it after the run (predicted in check mode).
  type: dict
  returned: when present
  sample: {name: data, size: 32208060416, free: 1073741824, extent_size: 4194304, pvs: [/dev/vdb, /dev/vdc]}
volumes:
  description: Every visible LV of the volume group after the run (not in check mode).
  type: list
  elements: dict
  returned: always
  sample: [{name: db, path: /dev/data/db, size: 21474836480, segtype: raid1, stripes: 2, sync_percent: 100.0,
            devices: [/dev/vdb, /dev/vdc], active: true, open: true, health: null}]
steps:
  description: Each step of the plan with the number of actions it took (or would take).
  type: list
  elements: dict
  returned: always
  sample: [{step: vg, actions: 3}, {step: volumes, actions: 2}]
actions:
  description: Every command run (or that would run in check mode), in order, with a one-line description.
  type: list
  elements: dict
  returned: always
reads:
  description: The read-only commands run (one C(lvm fullreport), one C(blkid) for the filesystems, plus one of each after a step that changed something).
  type: list
  elements: dict
  returned: always
notes:
  description: Decisions worth knowing (for example a relative size kept on an existing volume).
  type: list
  elements: str
  returned: when there are any
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.lvm import reader as lvm
from ansible_collections.strata.storage.plugins.module_utils.core.atomic import read_text
from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInspector
from ansible_collections.strata.storage.plugins.module_utils.core.filesystem import check_mkfs
from ansible_collections.strata.storage.plugins.module_utils.lvm.layout import (
    STEPS, LayoutPlanner, layout_request_from_params, plan_layout, read_facts, summary,
)
from ansible_collections.strata.storage.plugins.module_utils.lvm.lv_planner import FILESYSTEM_SPEC, LV_OPTIONS_SPEC
from ansible_collections.strata.storage.plugins.module_utils.lvm.planner import THIN_VOLUME_SPEC, THINPOOL_OPTIONS_SPEC
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import file_writer, finish, run_module
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan

# The per-object modules' options, plus `mount` (used by the role, ignored here).
VOLUME = dict(LV_OPTIONS_SPEC, mount=dict(type="raw"))
THIN_POOL = dict(THINPOOL_OPTIONS_SPEC, volumes=dict(
    type="list", elements="dict", default=[],
    options=dict(THIN_VOLUME_SPEC, filesystem=FILESYSTEM_SPEC, mount=dict(type="raw"))))

SNAPSHOT = dict(
    name=dict(type="str", required=True),
    origin=dict(type="str"),
    size=dict(type="str"),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    allow_remove=dict(type="bool", default=False),
    mount=dict(type="dict", options=dict(
        path=dict(type="path", required=True),
        options=dict(type="str"),
    )),
)


def _merged(steps):
    out = Plan()
    for _step, plan in steps:
        out.actions.extend(plan.actions)
        out.warnings.extend(plan.warnings)
        out.notes.extend(plan.notes)
        out.before.update(plan.before)
        out.after.update(plan.after)
    return out


def _memo(inspect):
    """inspect() once per device until something changes (plan, projection and the real VG
    step all ask about the same new devices)."""
    seen = {}

    def cached(path):
        if path not in seen:
            seen[path] = inspect(path)
        return seen[path]
    cached.forget = seen.clear
    return cached


def body(module, runner):
    req = layout_request_from_params(module.params)
    inspect = _memo(DeviceInspector(runner).inspect)
    state = lvm.read_state(runner)
    fs_facts, snapshot_facts = read_facts(runner, req, state)
    planner = LayoutPlanner(req, inspect, read_text, snapshot_facts, lvm.dev_entry_exists)
    # Everything is planned (and refused, if need be) before anything runs, the new
    # filesystems by their mkfs tool's own dry run too.
    predicted = plan_layout(planner, state, fs_facts)
    check_mkfs(runner, _merged(predicted).actions)
    if module.check_mode:
        runner.execute_all(_merged(predicted).actions)   # recorded, not run
        done = predicted
    else:
        runner.require_tools(_merged(predicted).actions)   # a missing tool fails before the first step
        done = []
        # the last step that changes anything: once it ran, a failure reading the result undoes nothing
        last = ([step for step, p in predicted if p.actions] or [None])[-1]
        for step in STEPS:
            if req.vg.state == "absent" and step != "vg":
                continue
            plan, _predicted = planner.plan_step(step, state, fs_facts)
            runner.execute_all(plan.actions, writer=file_writer)
            if step == last:
                runner.keep_created()
            done.append((step, plan))
            if plan.actions:
                inspect.forget()
                state = lvm.read_state(runner)
                fs_facts, planner.snapshot_facts = read_facts(runner, req, state)
    plan = _merged(done)
    steps = [{"step": step, "actions": len(p.actions)} for step, p in done]
    if module.check_mode and plan.changed:
        # nothing ran: report the predicted VG; volumes are listed after a real run only
        vg_info = plan.after.get("volume group " + req.vg.name) or summary(req, state)[0]
        vg_info = {k: v for k, v in vg_info.items() if k != "state"} if req.vg.state == "present" else {}
        volumes = []
    else:
        vg_info, volumes = summary(req, state)
    finish(module, runner, plan, vg=vg_info, volumes=volumes, steps=steps)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True, aliases=["vg"]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            devices=dict(type="list", elements="path", default=[]),
            pe_size=dict(type="str"),
            force=dict(type="list", elements="path", default=[]),
            reduce=dict(type="bool", default=False),
            allow_remove=dict(type="bool", default=False),
            safe_mode=dict(type="bool", default=True),
            volumes=dict(type="list", elements="dict", default=[], options=VOLUME),
            thin_pools=dict(type="list", elements="dict", default=[], options=THIN_POOL),
            snapshots=dict(type="list", elements="dict", default=[], options=SNAPSHOT),
        ),
        supports_check_mode=True,
    )
    run_module(module, body)


if __name__ == "__main__":
    main()
