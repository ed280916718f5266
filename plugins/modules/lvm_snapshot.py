#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lvm_snapshot
short_description: Create, remove, merge back and mount LVM snapshots (classic and thin)
version_added: 0.1.0
description:
  - Creates a classic (copy-on-write) snapshot when O(size) is given, or a thin snapshot of a
    thin volume when it is not.
  - Merges a snapshot back into its origin (O(state=merged)), which reverts the origin to the
    snapshot's content. When the origin is open (mounted) or not active, LVM defers the merge to
    the origin's next activation; the result says so (RV(merge)=V(deferred)) and what to do.
  - Removes a snapshot (O(state=absent)). An LV that is not a snapshot is never touched.
  - Mounts a snapshot read-only (O(mount)), outside fstab.
  - Returns the snapshot's fill level in RV(snapshot.fill_percent), that is the copy-on-write store
    of a classic snapshot (it becomes invalid at 100%), or the pool data a thin snapshot maps.
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - lvm2 (C(lvm fullreport) with JSON reports)
  - util-linux (C(blkid), C(mount), C(umount))
options:
  vg:
    description: Volume group of the origin and the snapshot.
    type: str
    required: true
  name:
    description: Name of the snapshot LV.
    type: str
    required: true
    aliases: [snapshot]
  origin:
    description:
      - The LV to snapshot. Required to create the snapshot.
      - An existing snapshot of the same name must have this origin, else the module fails.
    type: str
  size:
    description:
      - Size of a classic snapshot's copy-on-write store, absolute (V(1G)) or relative
        (V(20%ORIGIN), V(10%FREE), V(5%VG)).
      - Leave it out for a thin snapshot of a thin volume.
      - An absolute size larger than the existing store grows it (C(lvextend)); a store is never
        shrunk, and a relative size applies at creation only.
    type: str
  state:
    description:
      - V(present) creates the snapshot (and mounts it if O(mount) is given).
      - V(absent) removes it, only with O(allow_remove=true) (unmounting it first if it is
        mounted on O(mount.path); any other opener makes the module fail).
      - V(merged) merges it into its origin. A full (invalid) classic snapshot is refused, since
        merging it would write a broken image over the origin. A pending merge or a snapshot
        that is already gone is no change.
    type: str
    choices: [present, absent, merged]
    default: present
  allow_remove:
    description:
      - Allow O(state=absent) to remove an existing snapshot (its point-in-time data is lost).
        Without it the module fails and changes nothing.
    type: bool
    default: false
  mount:
    description:
      - Mount the snapshot read-only here (C(ro), plus C(nouuid) for XFS, whose snapshot shares
        the origin's UUID). Not written to fstab. An inactive snapshot (thin snapshots skip
        activation by default) is activated first.
    type: dict
    suboptions:
      path:
        description: Absolute mount point; created if missing.
        type: path
        required: true
      options:
        description: Extra mount options, comma-separated (C(ro) is always set).
        type: str
extends_documentation_fragment:
  - strata.storage.attributes
  - strata.storage.action_groups.lvm
notes:
  - Snapshots are not backups. A classic snapshot becomes invalid when its store fills up; watch
    RV(snapshot.fill_percent).
  - Removing a snapshot needs no extra flag. A snapshot that has snapshots of its own, or whose
    merge is pending, is not removed.
seealso:
  - module: strata.storage.lvm_thinpool
  - module: strata.storage.lvm_metadata
"""

EXAMPLES = r"""
- name: Snapshot the database volume before an upgrade (20% of its size for changes)
  strata.storage.lvm_snapshot:
    vg: data
    name: db_pre_upgrade
    origin: db
    size: 20%ORIGIN

- name: Thin snapshot of a thin volume, mounted read-only for a backup run
  strata.storage.lvm_snapshot:
    vg: data
    name: home_backup
    origin: home
    mount:
      path: /mnt/home_backup

- name: Revert the database volume to the snapshot (stop the service and unmount first)
  strata.storage.lvm_snapshot:
    vg: data
    name: db_pre_upgrade
    state: merged
  register: revert

- name: Tell what to do when the merge waits for the origin's next activation
  ansible.builtin.debug:
    msg: "{{ revert.hint }}"
  when: revert.merge == 'deferred'

- name: Drop the snapshot after a good upgrade
  strata.storage.lvm_snapshot:
    vg: data
    name: db_pre_upgrade
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
snapshot:
  description: The snapshot after the run (predicted in check mode); C(state=absent) when gone.
  returned: always
  type: dict
  contains:
    state: {description: V(present) or V(absent)., type: str, returned: always}
    name: {description: Snapshot LV name., type: str, returned: when present}
    vg: {description: Volume group., type: str, returned: when present}
    origin: {description: Origin LV., type: str, returned: when present}
    type: {description: V(classic) or V(thin)., type: str, returned: when present}
    size: {description: Size in bytes (the copy-on-write store of a classic snapshot)., type: int, returned: when present}
    fill_percent:
      description: C(snap_percent) of a classic snapshot, C(data_percent) of a thin one; null when inactive.
      type: float
      returned: when present
    invalid: {description: A classic snapshot that overflowed (its content is lost)., type: bool, returned: when present}
    merging: {description: A merge into the origin is pending or running., type: bool, returned: when present}
    active: {description: The snapshot is active., type: bool, returned: when present}
    path: {description: Device path., type: str, returned: when present}
    mounts: {description: Where it is mounted., type: list, elements: str, returned: when present}
  sample:
    state: present
    name: db_pre_upgrade
    vg: data
    origin: db
    type: classic
    size: 2147483648
    fill_percent: 3.2
    invalid: false
    merging: false
merge:
  description:
    - V(none) (no merge), V(complete) (the origin holds the snapshot's content, the snapshot is
      gone), V(deferred) (LVM merges at the origin's next activation; see RV(hint)),
      V(in_progress), or V(not_found) (no such snapshot, for example an earlier merge finished).
  returned: always
  type: str
  sample: deferred
hint:
  description: What to do to start a deferred merge.
  returned: when merge is deferred
  type: str
actions:
  description: Each change made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: dict
  sample:
    - description: create snapshot data/db_pre_upgrade of data/db with a 2G copy-on-write store
      cmd: [lvcreate, --yes, --snapshot, --extents, 20%ORIGIN, --name, db_pre_upgrade, data/db]
reads:
  description: The read-only commands run to learn the current state.
  returned: always
  type: list
  elements: list
notes:
  description: Decisions worth knowing (a size not re-applied, a pending merge).
  returned: when there are any
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.lvm import reader as lvm
from ansible_collections.strata.storage.plugins.module_utils.lvm import snapshot_planner as snap
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import finish, run_module


def body(module, runner):
    params = dict(module.params)
    req = snap.request_from_params(params)
    state = lvm.read_state(runner)
    facts = snap.read_snapshot_facts(runner, snap.facts_paths(req, state), probe=bool(req.mount_path))
    plan = snap.plan_snapshot(req, state, facts)
    runner.execute_all(plan.actions)
    runner.keep_created()   # all ran: a failure reading the result undoes nothing
    if module.check_mode and plan.changed:
        view = dict(plan.after)
        merge = view.pop("merge", snap.MERGE_NONE)
    else:
        if plan.changed:
            state = lvm.read_state(runner)
            facts = snap.read_snapshot_facts(runner, snap.facts_paths(req, state), probe=False)
        view = snap.snapshot_view(state, req.vg, req.name, facts)
        merge = view.pop("merge", None) or snap.MERGE_NOT_FOUND
        if req.state == "merged" and plan.changed and merge == snap.MERGE_NOT_FOUND:
            merge = snap.MERGE_COMPLETE
        if req.state != "merged" and merge == snap.MERGE_NOT_FOUND:
            merge = snap.MERGE_NONE
    extra = {}
    if merge == snap.MERGE_DEFERRED:
        lv = state.lv_any(req.vg, req.name)
        origin = (lv.origin if lv is not None else None) or req.origin or view.get("origin")
        mounts = facts.get("mounts", {}).get(snap.lv_device_path(req.vg, origin), []) if origin else []
        extra["hint"] = snap.deferred_hint(req.vg, origin, mounts)
    finish(module, runner, plan, snapshot=view, merge=merge, **extra)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vg=dict(type="str", required=True),
            name=dict(type="str", required=True, aliases=["snapshot"]),
            origin=dict(type="str"),
            size=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent", "merged"]),
            allow_remove=dict(type="bool", default=False),
            mount=dict(type="dict", options=dict(
                path=dict(type="path", required=True),
                options=dict(type="str"),
            )),
        ),
        supports_check_mode=True,
    )
    run_module(module, body)


if __name__ == "__main__":
    main()
