#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: zfs_snapshot
short_description: ZFS snapshots - create, hold, release, guarded rollback, clone, promote, and retention policies
version_added: 0.1.0
description:
  - With O(name), manages one snapshot (C(pool/fs@snap)); O(recursive) takes or destroys it
    for the whole tree. Holds (O(holds)) and releases (O(release)) by tag; rollback only
    when no newer snapshot would be destroyed (unless O(destroy_newer)); a clone of it
    (O(clone)); destroy only with O(allow_destroy), refused while clones or holds exist.
  - With O(promote), promotes a clone (its origin snapshot moves to it); a dataset that is
    not a clone any more is left as it is.
  - With O(policies), runs retention policies like sanoid - for each dataset it takes the
    frequent, hourly, daily, weekly, monthly and yearly snapshots that are due and prunes
    the ones past the policy's count. It prunes only snapshots it took itself, which it
    marks with user properties (C(strata.storage:policy), C(strata.storage:period),
    C(strata.storage:taken)), never by name pattern alone. O(now) sets the policy's clock.
  - Reads the datasets concerned with ONE C(zfs get -Hp) (plus C(zfs holds) when O(holds) or
    O(release) are given). A run that changes nothing starts at most these two processes.
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - zfsutils-linux (OpenZFS 2.0 or newer)
options:
  name:
    description: The snapshot, C(pool/dataset@snapshot).
    type: str
  state:
    description: V(present) takes it when missing; V(absent) destroys it (needs O(allow_destroy)).
    type: str
    choices: [present, absent]
    default: present
  recursive:
    description: Take, destroy, hold or release the snapshot of the same name on every descendant too.
    type: bool
    default: false
  properties:
    description: User properties of the snapshot (C(module:property)); only user properties can be set on snapshots.
    type: dict
    default: {}
  holds:
    description: Hold tags the snapshot must have (C(zfs hold)); a held snapshot cannot be destroyed.
    type: list
    elements: str
    default: []
  release:
    description: Hold tags to release (C(zfs release)).
    type: list
    elements: str
    default: []
  rollback:
    description:
      - Roll the dataset back to this snapshot, discarding what was written since. Done when
        the snapshot is the latest and nothing was written since.
      - Refused while newer snapshots exist, unless O(destroy_newer) (and O(destroy_clones)
        when they have clones).
    type: bool
    default: false
  destroy_newer:
    description: Let O(rollback) destroy the newer snapshots (C(zfs rollback -r)).
    type: bool
    default: false
  clone:
    description: Make a writable clone of the snapshot with this name (same pool).
    type: str
  clone_properties:
    description: Properties of the clone.
    type: dict
    default: {}
  promote:
    description: A clone to promote (C(zfs promote)).
    type: str
  allow_destroy:
    description: Allow O(state=absent).
    type: bool
    default: false
  destroy_clones:
    description: Let a destroy or a rollback take clones with it (C(-R)); without it they are listed and refused.
    type: bool
    default: false
  policies:
    description: Retention policies to run (instead of O(name)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The policy's name (marks its snapshots).
        type: str
        required: true
      datasets:
        description: Datasets the policy snapshots.
        type: list
        elements: str
        required: true
      recursive:
        description: Snapshot the datasets' descendants too (C(zfs snapshot -r)), each pruned on its own.
        type: bool
        default: false
      frequent:
        description: How many frequent snapshots to keep.
        type: int
        default: 0
      frequent_minutes:
        description: Length of a frequent period in minutes (a divisor of 60).
        type: int
        default: 15
      hourly:
        description: How many hourly snapshots to keep.
        type: int
        default: 0
      daily:
        description: How many daily snapshots to keep.
        type: int
        default: 0
      weekly:
        description: How many weekly snapshots (Monday) to keep.
        type: int
        default: 0
      monthly:
        description: How many monthly snapshots to keep.
        type: int
        default: 0
      yearly:
        description: How many yearly snapshots to keep.
        type: int
        default: 0
      take:
        description: Take the snapshots that are due.
        type: bool
        default: true
      prune:
        description: Destroy this policy's snapshots past their count (held and cloned ones are kept).
        type: bool
        default: true
  now:
    description:
      - The policy's clock, as epoch seconds or ISO 8601 (UTC unless an offset is given).
        Default is the system clock. Tests move time with it.
    type: str
extends_documentation_fragment:
  - strata.storage.action_groups.zfs
  - strata.storage.attributes
notes:
  - P(strata.storage.zfs#role) installs a systemd timer that runs the same policies on the
    host; C(playbooks/zfs_snapshots.yml) runs them from the controller.
seealso:
  - module: strata.storage.zfs_replicate
"""

EXAMPLES = r"""
- name: Snapshot a tree before an upgrade and hold it
  strata.storage.zfs_snapshot:
    name: tank/db@before-upgrade
    recursive: true
    holds: [upgrade]

- name: Roll back (refused while newer snapshots exist)
  strata.storage.zfs_snapshot:
    name: tank/db@before-upgrade
    rollback: true

- name: A writable clone for tests, then make it the original
  strata.storage.zfs_snapshot:
    name: tank/db@before-upgrade
    clone: tank/db_test

- name: Promote the clone
  strata.storage.zfs_snapshot:
    promote: tank/db_test

- name: Retention - 4 frequent, 24 hourly, 7 daily, 4 weekly, 6 monthly
  strata.storage.zfs_snapshot:
    policies:
      - name: standard
        datasets: [tank/home, tank/db]
        recursive: true
        frequent: 4
        hourly: 24
        daily: 7
        weekly: 4
        monthly: 6
"""

RETURN = r"""
snapshot:
  description: The snapshot after the run (with O(name)).
  returned: when it exists
  type: dict
retention:
  description: Per policy and dataset, the snapshots taken and pruned and how many are kept per period.
  returned: with O(policies)
  type: dict
  sample:
    standard:
      tank/home:
        taken: [tank/home@strata_2026-01-01_00:00:00_hourly]
        pruned: [tank/home@strata_2025-12-31_00:00:00_hourly]
        kept: {hourly: 24, daily: 7}
        skipped: []
actions:
  description: Every command run (or that would run in check mode), in order, with a one-line description.
  type: list
  elements: dict
  returned: always
reads:
  description: The read-only commands run.
  type: list
  elements: list
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import finish, run_module
from ansible_collections.strata.storage.plugins.module_utils.zfs import reader
from ansible_collections.strata.storage.plugins.module_utils.zfs.actions import execute
from ansible_collections.strata.storage.plugins.module_utils.zfs.retention import (
    POLICY_SPEC, parse_now, policy_from_params, run_policies,
)
from ansible_collections.strata.storage.plugins.module_utils.zfs.snapshot_planner import (
    SNAPSHOT_OPTIONS_SPEC, parse_holds, plan_snapshot, request_from_params, roots_for,
)


def policies_run(module, runner):
    policies = [policy_from_params(p) for p in module.params["policies"]]
    now = parse_now(module.params.get("now"))
    plan, report = run_policies(runner, policies, now)
    finish(module, runner, plan, retention=report, now=now)


def read_holds(runner, req):
    if not (req.holds or req.release) or not req.name:
        return {}
    result = runner.read(["zfs", "holds", "-H"] + (["-r"] if req.recursive else []) + [req.name], ok_rcs=(0, 1),
                         what="reading holds of %s" % req.name)
    if result.rc != 0 and "does not exist" not in result.stderr:
        raise StrataError("reading holds of %s failed" % req.name, cmd=result.cmd, rc=result.rc, stderr=result.stderr)
    return parse_holds(result.stdout)


def body(module, runner):
    if module.params["policies"]:
        if module.params.get("name") or module.params.get("promote"):
            raise StrataError("policies run on their own: leave name and promote out")
        return policies_run(module, runner)
    req = request_from_params(module.params)
    state = reader.read_state(runner, dataset_roots=roots_for(req), listing=False)
    plan = plan_snapshot(req, state, read_holds(runner, req) if req.name and state.get(req.name) else {})
    execute(runner, plan.actions)
    if plan.actions and not module.check_mode:
        state = reader.read_state(runner, dataset_roots=roots_for(req), listing=False)
    snap = state.get(req.name) if req.name else None
    result = {"snapshot": snap.summary()} if snap is not None else {}
    finish(module, runner, plan, **result)


def main():
    module = AnsibleModule(
        argument_spec=dict(SNAPSHOT_OPTIONS_SPEC,
                           policies=dict(type="list", elements="dict", default=[], options=POLICY_SPEC),
                           now=dict(type="str")),
        supports_check_mode=True,
    )
    run_module(module, body)


if __name__ == "__main__":
    main()
