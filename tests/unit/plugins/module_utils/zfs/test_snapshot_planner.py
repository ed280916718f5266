# -*- coding: utf-8 -*-
"""Snapshot planning rules that need no captured state."""
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.zfs import snapshot_planner
from ansible_collections.strata.storage.plugins.module_utils.zfs.reader import Dataset, ZfsState


def _state(*names):
    state = ZfsState()
    for name in names:
        state.datasets[name] = Dataset(name, "filesystem", {"type": ("filesystem", "-")})
    return state


def test_a_recursive_snapshot_a_descendant_cannot_carry_is_refused():
    # libzfs zfs_snapshot_cb: name@snap of any descendant >= 256 characters fails the whole -r
    state = _state("tank", "tank/a", "tank/a/" + "d" * 240)
    req = snapshot_planner.request_from_params({"name": "tank/a@nightly-2026-01-01", "recursive": True})
    with pytest.raises(StrataError, match="is too long"):
        snapshot_planner.plan_snapshot(req, state)
    req = snapshot_planner.request_from_params({"name": "tank/a@nightly-2026-01-01", "recursive": False})
    assert [a.cmd for a in snapshot_planner.plan_snapshot(req, state).actions] == [
        ["zfs", "snapshot", "tank/a@nightly-2026-01-01"]]
