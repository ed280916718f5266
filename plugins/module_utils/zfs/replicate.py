# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan a replication: `zfs send | zfs receive` from a source dataset to a target dataset
in another pool, on this host or another one over ssh.

- The target is up to date when it holds the source's chosen snapshot (same guid).
- A receive that stopped left `receive_resume_token` on the target: the next run resumes
  it (`zfs send -t TOKEN`), then sends what is still missing.
- Otherwise the newest source snapshot or bookmark whose guid the target holds is the base
  of an incremental send (-I with intermediate snapshots, -i from a bookmark); a target
  that does not exist gets a full send; a target that shares nothing is refused.
- After a send the sent snapshot gets a bookmark on the source, so an increment stays
  possible after the source prunes the snapshot.
- Receives use -s (resumable) and -u (not mounted) unless asked otherwise; -F (roll the
  target back) only with force_rollback, and the planner refuses to send onto a target
  modified since the base without it.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.zfs import props as zprops
from ansible_collections.strata.storage.plugins.module_utils.zfs.actions import PipeAction, ZfsAction

REPLICATE_SPEC = dict(
    source=dict(type="str", required=True),
    target=dict(type="str", required=True),
    snapshot=dict(type="str"),
    target_host=dict(type="str"),
    ssh_user=dict(type="str"),
    ssh_port=dict(type="int"),
    ssh_key=dict(type="path", no_log=False),
    ssh_options=dict(type="list", elements="str", default=[]),
    intermediates=dict(type="bool", default=True),
    send_properties=dict(type="bool", default=False),
    raw=dict(type="bool", default=False),
    bookmark=dict(type="bool", default=True),
    resume=dict(type="bool", default=True),
    force_rollback=dict(type="bool", default=False),
    mount=dict(type="bool", default=False),
    receive_properties=dict(type="dict", default={}),
)


@dataclass
class ReplicateRequest:
    source: str
    target: str
    snapshot: str = None
    target_host: str = None
    ssh: list = field(default_factory=list)
    intermediates: bool = True
    send_properties: bool = False
    raw: bool = False
    bookmark: bool = True
    resume: bool = True
    force_rollback: bool = False
    mount: bool = False
    receive_properties: dict = field(default_factory=dict)

    @property
    def remote(self):
        return bool(self.target_host)

    def remote_cmd(self, argv):
        """argv as run on the target: locally as is, remotely through ssh (one quoted string)."""
        if not self.remote:
            return list(argv)
        return list(self.ssh) + [" ".join(shlex.quote(str(a)) for a in argv)]


def request_from_params(params):
    source, target = params["source"], params["target"]
    zprops.check_dataset_name(source, "filesystem")
    zprops.check_dataset_name(target, "filesystem")
    snapshot = params.get("snapshot")
    if snapshot:
        if "@" in snapshot:
            if snapshot.split("@", 1)[0] != source:
                raise StrataError("snapshot %s is not a snapshot of %s" % (snapshot, source))
            snapshot = snapshot.split("@", 1)[1]
        zprops.check_short_name(snapshot, "snapshot")
    host = params.get("target_host")
    if not host and (target == source or target.startswith(source + "/") or source.startswith(target + "/")):
        raise StrataError("target %s and source %s overlap" % (target, source))
    ssh = []
    if host:
        ssh = ["ssh", "-o", "BatchMode=yes"]
        if params.get("ssh_port"):
            ssh += ["-p", str(params["ssh_port"])]
        if params.get("ssh_key"):
            ssh += ["-i", params["ssh_key"]]
        if params.get("ssh_user"):
            ssh += ["-l", params["ssh_user"]]
        for opt in params.get("ssh_options") or []:
            ssh += ["-o", opt]
        ssh.append(host)
    recv_props = zprops.check_dataset_properties(params.get("receive_properties"), "filesystem", creating=True,
                                                 what="receive_properties")
    return ReplicateRequest(
        source=source, target=target, snapshot=snapshot, target_host=host, ssh=ssh,
        intermediates=params.get("intermediates", True) is not False,
        send_properties=bool(params.get("send_properties")), raw=bool(params.get("raw")),
        bookmark=params.get("bookmark", True) is not False, resume=params.get("resume", True) is not False,
        force_rollback=bool(params.get("force_rollback")), mount=bool(params.get("mount")),
        receive_properties=recv_props,
    )


def target_roots(req):
    parent = zprops.parent_of(req.target)
    return [parent or req.target]


def parse_token_info(text):
    """`zfs send -nvP -t TOKEN`: the snapshot the stream ends at and its estimated size."""
    name = re.search(r"toname = (\S+)", text)
    size = re.search(r"^size\s+(\d+)", text, re.M)
    return (name.group(1) if name else None), (int(size.group(1)) if size else None)


def parse_send_size(text):
    size = re.search(r"^size\s+(\d+)", text, re.M)
    return int(size.group(1)) if size else None


def _send_flags(req):
    flags = []
    if req.raw:
        flags.append("-w")
    if req.send_properties:
        flags.append("-p")
    return flags


def _recv_cmd(req, rollback=False):
    cmd = ["zfs", "receive", "-s"]
    if not req.mount:
        cmd.append("-u")
    if rollback:
        cmd.append("-F")
    for prop, (text, _c) in req.receive_properties.items():
        cmd += ["-o", "%s=%s" % (prop, text)]
    return req.remote_cmd(cmd + [req.target])


def plan_replication(req, source_state, target_state, token_info=None):
    """source_state / target_state: ZfsState of the source tree and the target's parent tree
    (the same object when both are local). token_info: (toname, size) for a resume token."""
    plan = Plan()
    src = source_state.get(req.source)
    if src is None:
        raise StrataError("source %s does not exist" % req.source)
    snaps = source_state.snapshots(req.source)
    if not snaps:
        raise StrataError("source %s has no snapshots to send" % req.source,
                          hint="take one first (strata.storage.zfs_snapshot)")
    if req.snapshot:
        chosen = source_state.get("%s@%s" % (req.source, req.snapshot))
        if chosen is None:
            raise StrataError("snapshot %s@%s does not exist" % (req.source, req.snapshot))
    else:
        chosen = snaps[-1]
    where = "%s%s" % (req.target_host + ":" if req.remote else "", req.target)
    tgt = target_state.get(req.target)
    parent = zprops.parent_of(req.target)
    if tgt is None and parent and target_state.get(parent) is None:
        raise StrataError("target %s: parent %s does not exist" % (where, parent),
                          hint="create it first (strata.storage.zfs_dataset)")
    plan.before = {"target": where, "snapshots": [s.short for s in target_state.snapshots(req.target)]}
    target_guids = {s.value("guid"): s for s in target_state.snapshots(req.target)}
    chosen_guid = chosen.value("guid")
    # 1. resume a receive that stopped
    token = tgt.value("receive_resume_token") if tgt is not None else None
    resumed_to = None
    if token not in (None, "", "-"):
        if not req.resume:
            raise StrataError("target %s holds a partial receive (resume token) and resume is off" % where,
                              hint="set resume: true, or abort it with 'zfs receive -A %s'" % req.target)
        toname, size = token_info or (None, None)
        plan.add(PipeAction("resume the interrupted send to %s%s" % (where, " (%s)" % toname if toname else ""),
                            cmd=["zfs", "send", "-t", token], pipe_to=_recv_cmd(req), kind="resume"))
        plan.notes.append("resuming a receive that stopped (estimated %s bytes left)" % size if size else
                          "resuming a receive that stopped")
        resumed = source_state.get(toname) if toname else None
        if resumed is None:
            plan.notes.append("the resumed stream ends at %s, which the source does not have any more: run "
                              "again to send what follows" % (toname or "a snapshot the token does not name"))
            plan.after = dict(plan.before, resuming=True)
            return plan
        target_guids[resumed.value("guid")] = resumed
        resumed_to = resumed
    if chosen_guid in target_guids:
        plan.after = dict(plan.before, up_to_date=chosen.short)
        _bookmark(req, source_state, chosen, plan)
        return plan
    existing_target = tgt is not None and (target_state.snapshots(req.target) or resumed_to is not None)
    if tgt is not None and not existing_target and resumed_to is None:
        raise StrataError("target %s exists and holds no snapshot of %s" % (where, req.source),
                          hint="replicate into a new dataset, or destroy the target first")
    if not existing_target:
        send = ["zfs", "send"] + _send_flags(req) + [chosen.name]
        plan.add(PipeAction("full send of %s to %s" % (chosen.name, where), cmd=send, pipe_to=_recv_cmd(req),
                            dry_run=["zfs", "send", "-n", "-v", "-P"] + _send_flags(req) + [chosen.name], kind="send"))
    else:
        base = _common_base(source_state, req.source, target_guids, chosen)
        if base is None:
            raise StrataError("target %s shares no snapshot with %s up to %s" % (where, req.source, chosen.short),
                              hint="nothing was changed; the target must be rebuilt with a full send into a new dataset")
        base_on_target = target_guids[base.value("guid")]
        newer_on_target = [s.short for s in target_state.snapshots(req.target)
                           if s.int("createtxg") > base_on_target.int("createtxg")]
        modified = tgt.int("written") if tgt is not None else 0
        if (newer_on_target or modified) and resumed_to is None and not req.force_rollback:
            raise StrataError("target %s changed since %s (%s)" % (
                where, base.short, "its own snapshots %s" % ", ".join(newer_on_target) if newer_on_target
                else "%d bytes written" % modified),
                hint="nothing was changed; set force_rollback: true to roll the target back (zfs receive -F)")
        if base.type == "bookmark" or not req.intermediates:
            inc = ["-i", base.name]
        else:
            inc = ["-I", base.name]
        send = ["zfs", "send"] + _send_flags(req) + inc + [chosen.name]
        plan.add(PipeAction("incremental send %s..%s to %s" % (base.short, chosen.short, where), cmd=send,
                            pipe_to=_recv_cmd(req, rollback=bool(req.force_rollback and (newer_on_target or modified))),
                            dry_run=["zfs", "send", "-n", "-v", "-P"] + _send_flags(req) + inc + [chosen.name],
                            kind="send"))
    plan.after = {"target": where, "snapshots": plan.before["snapshots"] + [chosen.short], "up_to_date": chosen.short}
    _bookmark(req, source_state, chosen, plan)
    return plan


def _common_base(state, source, target_guids, chosen):
    """The newest snapshot or bookmark of the source older than `chosen` whose guid the target has."""
    candidates = [s for s in state.snapshots(source) + state.bookmarks(source)
                  if s.value("guid") in target_guids and s.int("createtxg") < chosen.int("createtxg")]
    if not candidates:
        return None
    candidates.sort(key=lambda s: (s.int("createtxg"), s.type == "snapshot"))
    return candidates[-1]


def _bookmark(req, state, chosen, plan):
    if not req.bookmark:
        return
    mark = "%s#%s" % (req.source, chosen.short)
    if state.get(mark) is None:
        plan.add(ZfsAction("bookmark %s as %s (keeps increments possible after it is pruned)" % (chosen.name, mark),
                           cmd=["zfs", "bookmark", chosen.name, mark], kind="bookmark"))
