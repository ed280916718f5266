#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: zfs_replicate
short_description: Replicate a ZFS dataset with send/receive - full, incremental, resumable, over ssh
version_added: 0.1.0
description:
  - Sends the source dataset's snapshots to a target dataset in another pool, on this host
    or on O(target_host) over ssh. The first run sends the chosen snapshot in full; later
    runs send incrementally from the newest snapshot (or bookmark) both sides share, with
    the snapshots in between (C(zfs send -I)).
  - Resumable - receives use C(zfs receive -s); when a receive stopped (a cut link, a reboot),
    the target keeps C(receive_resume_token) and the next run resumes from it
    (C(zfs send -t)) before sending what is still missing.
  - Bookmarks - after a send the sent snapshot is bookmarked on the source, so an
    incremental send stays possible after the source's retention prunes that snapshot.
  - Reports the bytes that went through the pipe (RV(bytes_sent)); in check mode the
    estimated size (C(zfs send -nvP)) instead.
  - C(zfs send) and C(zfs receive) run as two argv lists joined by the module (no shell);
    over ssh the receive side is one quoted command line.
  - Reads the source tree and the target's parent with one C(zfs get -Hp) when both are
    local (one more over ssh for a remote target); a run with nothing to send starts at
    most these processes.
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - zfsutils-linux (OpenZFS 2.0 or newer) on both sides
  - ssh with key authentication to O(target_host) (BatchMode)
options:
  source:
    description: The dataset to replicate (it needs at least one snapshot).
    type: str
    required: true
  target:
    description: The dataset to receive into (created by the first send; its parent must exist).
    type: str
    required: true
  snapshot:
    description: Send up to this snapshot (short name or C(source@name)). Default is the newest.
    type: str
  target_host:
    description: Receive on this host over ssh instead of locally.
    type: str
  ssh_user:
    description: ssh login user on O(target_host).
    type: str
  ssh_port:
    description: ssh port on O(target_host).
    type: int
  ssh_key:
    description: ssh private key file.
    type: path
  ssh_options:
    description: Extra C(ssh -o) options (C(StrictHostKeyChecking=yes), C(Compression=yes), ...).
    type: list
    elements: str
    default: []
  intermediates:
    description: Send the snapshots between the base and the chosen one too (C(-I)); otherwise C(-i).
    type: bool
    default: true
  send_properties:
    description: Send the dataset's properties with the stream (C(zfs send -p)); they arrive as received properties.
    type: bool
    default: false
  raw:
    description: Send encrypted datasets raw (C(zfs send -w)); the target stays encrypted with the source's key.
    type: bool
    default: false
  bookmark:
    description: Bookmark each sent snapshot on the source.
    type: bool
    default: true
  resume:
    description: Resume a receive that stopped. Without it, a partial receive on the target is an error.
    type: bool
    default: true
  force_rollback:
    description:
      - Let the receive roll the target back (C(zfs receive -F)) when it was modified or got
        snapshots of its own since the common base; they are lost.
    type: bool
    default: false
  mount:
    description: Mount the received filesystem (default is C(zfs receive -u), not mounted).
    type: bool
    default: false
  receive_properties:
    description: Properties set on the target at receive (C(zfs receive -o)), e.g. C(readonly=on).
    type: dict
    default: {}
extends_documentation_fragment:
  - strata.storage.action_groups.zfs
  - strata.storage.attributes
seealso:
  - module: strata.storage.zfs_snapshot
"""

EXAMPLES = r"""
- name: Replicate tank/db to the backup pool on this host
  strata.storage.zfs_replicate:
    source: tank/db
    target: backup/db
    receive_properties: {readonly: "on"}

- name: Replicate to another host over ssh
  strata.storage.zfs_replicate:
    source: tank/db
    target: backup/db
    target_host: backup01.example.com
    ssh_user: zfsrecv
    ssh_key: /root/.ssh/zfs_replication
  register: sent

- name: Show what went over the wire
  ansible.builtin.debug:
    msg: "{{ sent.bytes_sent }} bytes, target now at {{ sent.target.snapshots | last }}"
"""

RETURN = r"""
bytes_sent:
  description: Bytes that went through the send/receive pipe in this run.
  returned: always
  type: int
  sample: 10548208
bytes_estimated:
  description: The size C(zfs send -nvP) estimates for the sends planned (check mode).
  returned: in check mode, when something would be sent
  type: int
target:
  description: The target's snapshots after the run (before, in check mode).
  returned: always
  type: dict
  sample: {name: backup/db, snapshots: [a, b, c], resume_token: false}
actions:
  description: Every command run (or that would run in check mode); a send has its receive in C(pipe_to) and the bytes it moved.
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
from ansible_collections.strata.storage.plugins.module_utils.zfs.replicate import (
    REPLICATE_SPEC, parse_send_size, parse_token_info, plan_replication, request_from_params, target_roots,
)


def read_states(runner, req):
    if not req.remote:
        state = reader.read_state(runner, dataset_roots=[req.source] + target_roots(req), listing=False)
        return state, state
    source = reader.read_state(runner, dataset_roots=[req.source], listing=False)
    result = runner.read(req.remote_cmd(reader.dataset_get_cmd(target_roots(req))), ok_rcs=(0, 1),
                         what="reading the target on %s" % req.target_host)
    missing, other = reader.missing_from_stderr(result.stderr)
    if result.rc != 0 and (other or not missing):
        raise StrataError("reading the target on %s failed" % req.target_host, cmd=result.cmd, rc=result.rc,
                          stderr=result.stderr, hint="check ssh access (key, BatchMode) and that zfs runs there")
    target = reader.ZfsState(datasets=reader.parse_dataset_get(result.stdout))
    return source, target


def token_info(runner, target_state, req):
    tgt = target_state.get(req.target)
    token = tgt.value("receive_resume_token") if tgt is not None else None
    if token in (None, "", "-") or not req.resume:
        return None
    result = runner.read(["zfs", "send", "-n", "-v", "-P", "-t", token], ok_rcs=(0, 1),
                         what="reading the resume token of %s" % req.target)
    return parse_token_info(result.stdout + result.stderr)


def body(module, runner):
    req = request_from_params(module.params)
    source, target = read_states(runner, req)
    plan = plan_replication(req, source, target, token_info(runner, target, req))
    estimated = None
    for action in plan.actions:
        if getattr(action, "dry_run", None) and module.check_mode:
            result = runner.read(action.dry_run, ok_rcs=(0, 1), what="estimating %s" % action.description)
            if result.rc != 0:
                raise StrataError("the dry run of '%s' fails" % action.description, cmd=result.cmd, rc=result.rc,
                                  stderr=result.stderr)
            estimated = (estimated or 0) + (parse_send_size(result.stdout) or 0)
        action.dry_run = None
    execute(runner, plan.actions)
    sent = sum(a.get("bytes") or 0 for a in runner.actions)
    if plan.actions and not module.check_mode:
        source, target = read_states(runner, req)
    tgt = target.get(req.target)
    info = {"name": req.target, "host": req.target_host,
            "snapshots": [s.short for s in target.snapshots(req.target)],
            "resume_token": bool(tgt is not None and tgt.value("receive_resume_token") not in (None, "", "-"))}
    result = {"bytes_sent": sent, "target": info}
    if estimated is not None:
        result["bytes_estimated"] = estimated
    finish(module, runner, plan, **result)


def main():
    module = AnsibleModule(argument_spec=REPLICATE_SPEC, supports_check_mode=True)
    run_module(module, body)


if __name__ == "__main__":
    main()
