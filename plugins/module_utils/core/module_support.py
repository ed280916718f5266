# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The few lines every module shares: StrataError -> fail_json in one place, and the
common result keys (changed, actions, reads, diff, warnings)."""

from __future__ import annotations

import traceback

from ansible_collections.strata.storage.plugins.module_utils.core.atomic import write_atomic
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Runner


def file_writer(path, content, mode):
    write_atomic(path, content, mode=mode, keep_backups=3)


def finish(module, runner, plan, **result):
    """exit_json with the keys every module returns. The run succeeded: nothing to undo."""
    runner.keep_created()
    for warning in plan.warnings:
        module.warn(warning)
    result.setdefault("changed", plan.changed)
    result["actions"] = runner.actions
    result["reads"] = runner.reads
    if plan.notes:
        result["notes"] = plan.notes
    if module._diff:
        result["diff"] = {"before": plan.before, "after": plan.after}
    module.exit_json(**result)


def _rollback(runner):
    """Undo what this call created (see Runner.rollback); a sentence for the message."""
    if not runner.undo_stack:
        return None
    complete, error = runner.rollback()
    undone = [entry["description"] for entry in runner.rolled_back if "failed" not in entry]
    if complete:
        return "what this run had created was removed again: %s" % "; ".join(undone)
    return ("rolling back what this run had created stopped at the first undo that failed (%s); "
            "undone: %s; left as it is: %s" % (
                error, "; ".join(undone) or "nothing",
                "; ".join(undo.description for undo in reversed(runner.undo_stack)) or "nothing else"))


def run_module(module, body):
    """Call body(module, runner); a StrataError becomes fail_json with its structure.

    When a real run fails after it created something (a PV, a VG, an LV), that is undone
    first, newest first, and reported as `rolled_back`; what existed before is never touched."""
    runner = Runner(module)
    try:
        body(module, runner)
    except StrataError as exc:
        rolled = _rollback(runner)
        kwargs = exc.fail_kwargs()
        kwargs["actions"] = runner.actions
        kwargs.setdefault("reads", runner.reads)    # what was read before it failed
        if rolled:
            kwargs["msg"] = "%s; %s" % (kwargs["msg"], rolled)
            kwargs["rolled_back"] = runner.rolled_back
        module.fail_json(**kwargs)
    except Exception as exc:  # a bug of ours: still undo what this run created, then report it
        rolled = _rollback(runner)
        if not rolled:
            raise
        module.fail_json(msg="internal error: %s: %s; %s" % (type(exc).__name__, exc, rolled),
                         exception=traceback.format_exc(), actions=runner.actions,
                         rolled_back=runner.rolled_back)
