# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The few lines every module shares: StrataError -> fail_json in one place, and the
common result keys (changed, actions, reads, diff, warnings)."""

from __future__ import annotations

from ansible_collections.strata.storage.plugins.module_utils.core.atomic import write_atomic
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Runner


def file_writer(path, content, mode):
    write_atomic(path, content, mode=mode, keep_backups=3)


def finish(module, runner, plan, **result):
    """exit_json with the keys every module returns."""
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


def run_module(module, body):
    """Call body(module, runner); a StrataError becomes fail_json with its structure."""
    runner = Runner(module)
    try:
        body(module, runner)
    except StrataError as exc:
        kwargs = exc.fail_kwargs()
        kwargs["actions"] = runner.actions
        module.fail_json(**kwargs)
