# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ZFS actions: a core Action with the tool's own dry run attached (`zpool create -n`,
`zpool add -n`, `zfs destroy -nv`), which check mode runs as a read so that what check
mode approves, the real run does not fail on."""

from __future__ import annotations

from ansible_collections.strata.storage.plugins.module_utils.core.atomic import write_atomic
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action
from ansible_collections.strata.storage.plugins.module_utils.zfs import pipeline


class ZfsAction(Action):
    """An Action with an optional dry-run command and a kind (create, add, set, ...)."""

    def __init__(self, description, cmd=None, dry_run=None, path=None, content=None, mode=0o644, kind=None,
                 undo=None):
        super().__init__(description=description, cmd=cmd, path=path, content=content, mode=mode, undo=undo)
        self.dry_run = dry_run
        self.kind = kind


class PipeAction(ZfsAction):
    """`cmd | pipe_to` (zfs send | zfs receive), run by zfs.pipeline without a shell; both
    argv lists are reported."""

    def __init__(self, description, cmd, pipe_to, dry_run=None, kind="send"):
        super().__init__(description=description, cmd=cmd, dry_run=dry_run, kind=kind)
        self.pipe_to = pipe_to
        self.bytes = None

    def report(self):
        out = super().report()
        out["pipe_to"] = list(self.pipe_to)
        if self.bytes is not None:
            out["bytes"] = self.bytes
        return out


def run_dry_runs(runner, actions):
    """Run each action's dry run (a read). A refusal by the tool is a StrataError naming it."""
    for action in actions:
        dry = getattr(action, "dry_run", None)
        if not dry:
            continue
        result = runner.read(dry, ok_rcs=(0, 1, 2, 255), what="dry run of: %s" % action.description)
        if result.rc != 0:
            raise StrataError("the tool's dry run refuses to %s" % action.description,
                              cmd=result.cmd, rc=result.rc, stdout=result.stdout, stderr=result.stderr,
                              hint="nothing was changed")


def execute(runner, actions, writer=None):
    """Check mode: dry runs as reads, then record the actions; else run them in order.
    Pipelines (PipeAction) run through zfs.pipeline.run_pipeline; the bytes they moved are
    kept on the action and in its report."""
    if runner.check_mode:
        run_dry_runs(runner, actions)
    for action in actions:
        if not isinstance(action, PipeAction):
            runner.execute(action, writer=writer)
            continue
        runner.actions.append(action.report())
        if runner.check_mode:
            continue
        result = pipeline.run_pipeline([str(w) for w in action.cmd], [str(w) for w in action.pipe_to])
        action.bytes = result.bytes
        runner.actions[-1] = action.report()
        if result.send_rc != 0 or result.recv_rc != 0:
            failed = action.cmd if result.send_rc != 0 else action.pipe_to
            raise StrataError(
                "%s failed after %d bytes" % (action.description, result.bytes),
                cmd=failed, rc=result.send_rc or result.recv_rc,
                stderr=(result.send_stderr + result.recv_stderr).strip(),
                hint="an interrupted receive keeps a resume token on the target: run again to resume",
                details={"actions_done": runner.actions[:-1], "bytes": result.bytes})
    # every action ran (each ZFS module executes once): a failure reading the result afterwards
    # must not destroy what this call just created
    runner.keep_created()


def write_file(path, content, mode):
    """The writer for ZFS actions: sysfs module parameters are written in place (no temp
    file can be renamed there); key files (mode 0600) durably, in a 0700 folder, with no
    backups of old keys left behind; other files durably with 3 backups."""
    if path.startswith("/sys/"):
        with open(path, "w") as handle:
            handle.write(content)
        return True
    private = mode & 0o077 == 0
    return write_atomic(path, content, mode=mode, keep_backups=0 if private else 3,
                        folder_mode=0o700 if private else 0o755)
