#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lvm_metadata
short_description: Back up, list and restore LVM volume group metadata
version_added: 0.1.0
description:
  - O(operation=backup) writes C(<folder>/<vg>-<UTC time>-seq<seqno>.vg) with C(vgcfgbackup), unless
    the newest such file already holds the VG's current metadata sequence number and UUID (no change).
    Only the newest O(retention) files that follow this naming are kept; other files in the
    folder are never deleted.
  - O(operation=list) returns every backup of the VG in the folder (newest first) with its
    seqno, time, host, description and LVs, read from the files themselves.
  - O(operation=restore) runs C(vgcfgrestore --test) on the chosen backup first (it writes
    nothing, so it runs in check mode too), then, only with O(allow_restore=true), deactivates
    the VG, restores the metadata and activates the VG again (O(activate)). A VG that already
    has the backup's LVs and PVs (by UUID) needs no restore. Open (mounted) LVs make it fail.
  - C(--force) is passed only when the VG has thin pools (vgcfgrestore insists on it, because the
    pools' own metadata is not part of the backup); the result says so.
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - lvm2 (C(vgcfgbackup), C(vgcfgrestore), C(lvm fullreport) with JSON reports)
options:
  vg:
    description: The volume group.
    type: str
    required: true
  operation:
    description: V(backup), V(list) or V(restore).
    type: str
    choices: [backup, list, restore]
    default: backup
  folder:
    description: Where backups are kept.
    type: path
    default: /var/backups/strata-lvm
  retention:
    description: With V(backup), how many of our backups of this VG to keep (at least 1).
    type: int
    default: 10
  backup:
    description:
      - With V(restore), the backup to restore, a path or a file name in O(folder), or V(latest)
        (the newest backup of the VG in O(folder)).
    type: str
    default: latest
  allow_restore:
    description: With V(restore), really replace the VG's metadata (without it, only the test runs and the module fails).
    type: bool
    default: false
  activate:
    description: With V(restore), activate the VG's LVs after the restore.
    type: bool
    default: true
extends_documentation_fragment:
  - strata.storage.attributes
  - strata.storage.action_groups.lvm
notes:
  - Restoring metadata does not restore data; it brings back LVs whose extents were not reused since.
  - A VG whose PVs were wiped needs C(pvcreate --uuid ... --restorefile) first; see the runbook in docs.
seealso:
  - module: strata.storage.lvm_vg
"""

EXAMPLES = r"""
- name: Back up the metadata of data, keeping 30 versions
  strata.storage.lvm_metadata:
    vg: data
    retention: 30

- name: List the backups
  strata.storage.lvm_metadata:
    vg: data
    operation: list
  register: backups

- name: Restore the newest backup (after checking what it holds)
  strata.storage.lvm_metadata:
    vg: data
    operation: restore
    backup: latest
    allow_restore: true
"""

RETURN = r"""
backups:
  description: Backups of the VG in the folder after the run, newest first.
  returned: always
  type: list
  elements: dict
  contains:
    path: {description: File path., type: str, returned: always}
    file: {description: File name., type: str, returned: always}
    vg: {description: Volume group., type: str, returned: always}
    seqno: {description: Metadata sequence number., type: int, returned: always}
    time: {description: 'Creation time (UTC, ISO 8601).', type: str, returned: always}
    creation_time: {description: Creation time (epoch seconds)., type: int, returned: always}
    creation_host: {description: Host that wrote it., type: str, returned: always}
    description: {description: What LVM wrote as the description (the command)., type: str, returned: always}
    ours: {description: The file follows this module's naming (retention applies)., type: bool, returned: always}
    lvs: {description: Visible LVs in the backup., type: list, elements: str, returned: always}
  sample:
    - path: /var/backups/strata-lvm/data-20261126T094100Z-seq12.vg
      file: data-20261126T094100Z-seq12.vg
      vg: data
      seqno: 12
      time: "2026-11-26T09:41:00Z"
      ours: true
      lvs: [db, home]
backup:
  description: The backup written (V(backup)) or restored (V(restore)); null when none.
  returned: always
  type: str
removed:
  description: Backups removed by retention.
  returned: always
  type: list
  elements: str
test:
  description: Output of C(vgcfgrestore --test) (V(restore)).
  returned: when operation is restore
  type: str
actions:
  description: Each change made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: dict
reads:
  description: The read-only commands run (the restore test among them).
  returned: always
  type: list
  elements: list
notes:
  description: Decisions worth knowing.
  returned: when there are any
  type: list
  elements: str
"""

import datetime

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.lvm import reader as lvm
from ansible_collections.strata.storage.plugins.module_utils.lvm import metadata as meta
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import finish, run_module
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan


def _listing(folder, vg):
    return [meta.backup_summary(b) for b in meta.read_backups(folder, vg) or []]


def body(module, runner):
    params = module.params
    operation = params["operation"]
    folder = params["folder"]
    # metadata is read and written without device-mapper; no LV can be active without it
    state = lvm.read_state(runner, need_device_mapper=False)
    result = {"backup": None, "removed": []}
    if operation == "list":
        plan = Plan()
    elif operation == "backup":
        req = meta.backup_request_from_params(params)
        now = datetime.datetime.now(datetime.timezone.utc)
        plan = meta.plan_backup(req, state, meta.read_backups(folder, req.vg), now)
        runner.execute_all(plan.actions)
        result.update(backup=plan.after["new_backup"], removed=plan.after["removed"])
    else:
        req = meta.restore_request_from_params(params)
        chosen = meta.choose_backup(req, meta.read_backups(folder, req.vg))
        test = ""
        if not meta.current_matches(chosen, state, req.vg):
            force = meta.needs_force(chosen, state, req.vg)
            test = runner.read(meta.restore_cmd(chosen, req.vg, force, test=True),
                               what="vgcfgrestore --test of %s from %s" % (req.vg, chosen["path"])).stdout
        plan = meta.plan_restore(req, state, chosen)
        runner.execute_all(plan.actions)
        result.update(backup=chosen["path"], test=test)
    result["backups"] = _listing(folder, params["vg"])
    if module.check_mode and operation == "backup" and result["backup"]:
        result["backups"].insert(0, {"path": result["backup"], "vg": params["vg"], "ours": True,
                                     "seqno": state.vg(params["vg"]).seqno})
        result["backups"] = [b for b in result["backups"] if b["path"] not in result["removed"]]
    finish(module, runner, plan, **result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vg=dict(type="str", required=True),
            operation=dict(type="str", default="backup", choices=["backup", "list", "restore"]),
            folder=dict(type="path", default=meta.DEFAULT_FOLDER),
            retention=dict(type="int", default=10),
            backup=dict(type="str", default="latest"),
            allow_restore=dict(type="bool", default=False),
            activate=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    run_module(module, body)


if __name__ == "__main__":
    main()
