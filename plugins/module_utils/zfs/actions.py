# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ZFS actions: a core Action with the tool's own dry run attached (`zpool create -n`,
`zpool add -n`, `zfs destroy -nv`), which check mode runs as a read so that what check
mode approves, the real run does not fail on."""

from __future__ import annotations

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action


class ZfsAction(Action):
    """An Action with an optional dry-run command and a kind (create, add, set, ...)."""

    def __init__(self, description, cmd=None, dry_run=None, path=None, content=None, mode=0o644, kind=None):
        super().__init__(description=description, cmd=cmd, path=path, content=content, mode=mode)
        self.dry_run = dry_run
        self.kind = kind


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
    """Check mode: dry runs as reads, then record the actions; else run them in order."""
    if runner.check_mode:
        run_dry_runs(runner, actions)
    runner.execute_all(actions, writer=writer)
