# -*- coding: utf-8 -*-
"""Waiting for an array to settle, polled from sysfs (no process), on captured states."""
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.md import layout
from ansible_collections.strata.storage.plugins.module_utils.md import reader
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.md.md_fixtures import md_snapshot


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def waiter_over(monkeypatch, names):
    snaps = [md_snapshot(name) for name in names]
    monkeypatch.setattr(reader, "snapshot", lambda *a, **kw: snaps.pop(0) if len(snaps) > 1 else snaps[0])
    clock = Clock()
    return layout.Waiter(sleep=clock.sleep, clock=clock, interval=2.0), clock


def test_waits_through_recovery_until_settled(monkeypatch):
    waiter, clock = waiter_over(monkeypatch, ["raid5_spare_rebuilding", "raid5_replacing", "raid5_faulty_member"])
    assert waiter.wait("cap_r5", 60) == 4.0


def test_settled_array_returns_at_once(monkeypatch):
    waiter, clock = waiter_over(monkeypatch, ["clean_r1_r5_r10"])
    assert waiter.wait("cap_r10", 60) == 0


def test_timeout_reports_progress(monkeypatch):
    waiter, clock = waiter_over(monkeypatch, ["raid5_reshape"])
    with pytest.raises(StrataError, match=r"still busy with reshape after 10s \(\d+\.\d% done") as exc:
        waiter.wait("cap_r5", 10)
    assert exc.value.details["progress"]["action"] == "reshape"


def test_a_resync_that_has_not_begun_counts_as_pending(monkeypatch):
    """Right after --create the kernel may show sync_action idle before the resync starts:
    resync_start tells that work is pending."""
    snap = md_snapshot("raid1_resync")
    snap["arrays"]["md127"]["md"]["sync_action"] = "idle"
    array = reader.parse_state(snap, snap["detail_scan"]).find("cap_r1")
    assert not array.settled


def test_a_spare_about_to_rebuild_counts_as_pending(monkeypatch):
    snap = md_snapshot("raid5_spare_rebuilding")
    snap["arrays"]["md126"]["md"]["sync_action"] = "idle"
    assert not reader.parse_state(snap, snap["detail_scan"]).find("cap_r5").settled


def _renamed_state():
    snap = md_snapshot("clean_r1_r5_r10")
    snap = dict(snap, hostname="strata-lab")
    scan = snap["detail_scan"].replace("/dev/md/cap_r10 ", "/dev/md/strata-lab:cap_r10 ")
    snap["dev_md"] = dict(snap["dev_md"])
    snap["dev_md"]["strata-lab:cap_r10"] = snap["dev_md"].pop("cap_r10")
    return reader.parse_state(snap, scan)


def test_an_array_named_host_colon_name_is_found_by_its_short_name_on_this_host_only():
    state = _renamed_state()
    array = state.find("cap_r10")
    assert array is not None and array.device == "/dev/md/strata-lab:cap_r10"
    state.hostname = "otherhost"
    assert state.find("cap_r10") is None


def test_renaming_an_array_in_use_only_warns():
    from ansible_collections.strata.storage.plugins.module_utils.md.planner import ArrayRequest, plan_array
    state = _renamed_state()
    state.find("cap_r10").holders = ["dm-3"]
    plan = plan_array(ArrayRequest(name="cap_r10"), state, None, None)
    assert plan.actions == [] and "runs as /dev/md/strata-lab:cap_r10" in plan.warnings[0]
    assert "held by dm-3" in plan.warnings[0]
