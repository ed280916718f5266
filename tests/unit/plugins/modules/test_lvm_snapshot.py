# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.lvm import snapshot_planner as snap
from ansible_collections.strata.storage.plugins.modules import lvm_snapshot
from ansible_collections.strata.storage.tests.unit.plugins.modules.harness import check_case, load_cases, run_case


@pytest.mark.parametrize("case", load_cases("lvm_snapshot_cases.yml"))
def test_lvm_snapshot_case(case, monkeypatch):
    check_case(lvm_snapshot.main, case, monkeypatch)


def fake_facts(monkeypatch, fstype=None, mounts=None):
    def read(runner, paths, probe=True, mountinfo_path=None):
        return {"fstype": {p: (fstype or {}).get(p) for p in paths}, "mounts": {p: (mounts or {}).get(p, []) for p in paths}}
    monkeypatch.setattr(snap, "read_snapshot_facts", read)


def test_result_reports_fill_level(monkeypatch):
    case = {"fixture": "lv_types", "params": {"vg": "capvg", "name": "linear_snap", "origin": "linear"}}
    result, failed, ran, reads, written = run_case(lvm_snapshot.main, case, monkeypatch)
    assert not failed and not result["changed"] and result["merge"] == "none"
    assert result["snapshot"]["fill_percent"] == 0.0 and result["snapshot"]["type"] == "classic"
    assert result["snapshot"]["origin"] == "linear" and result["snapshot"]["invalid"] is False


def test_pending_merge_reports_deferred_with_hint(monkeypatch):
    fake_facts(monkeypatch, mounts={"/dev/capvg/origin": ["/srv/db"]})
    case = {"fixture": "lv_types", "params": {"vg": "capvg", "name": "origin_snap", "state": "merged"}}
    result, failed, ran, reads, written = run_case(lvm_snapshot.main, case, monkeypatch)
    assert not failed and not result["changed"] and result["merge"] == "deferred"
    assert "unmount it (mounted on /srv/db)" in result["hint"] and "lvchange -an capvg/origin" in result["hint"]


def test_check_mode_merge_predicts_complete_and_diff(monkeypatch):
    case = {"fixture": "lv_types", "check_mode": True, "params": {"vg": "capvg", "name": "linear_snap", "state": "merged"}}
    result, failed, ran, reads, written = run_case(lvm_snapshot.main, case, monkeypatch)
    assert result["changed"] and ran == [] and result["merge"] == "complete"
    assert result["diff"]["before"]["state"] == "present" and result["diff"]["after"]["state"] == "absent"


def test_mount_with_facts(monkeypatch):
    fake_facts(monkeypatch, fstype={"/dev/capvg/thin1": "xfs"})
    case = {"fixture": "lv_types", "params": {"vg": "capvg", "name": "thin1_snap", "origin": "thin1",
                                              "mount": {"path": "/mnt/snap"}}}
    result, failed, ran, reads, written = run_case(lvm_snapshot.main, case, monkeypatch)
    assert not failed and ran == [
        ["lvchange", "--activate", "y", "--ignoreactivationskip", "capvg/thin1_snap"],
        ["mkdir", "-p", "/mnt/snap"],
        ["mount", "-t", "xfs", "-o", "ro,nouuid", "/dev/capvg/thin1_snap", "/mnt/snap"]]
