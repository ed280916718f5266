# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.lvm import pv_planner as lvm_pv_planner
from ansible_collections.strata.storage.plugins.modules import lvm_pv, lvm_repair
from ansible_collections.strata.storage.tests.unit.plugins.modules.harness import check_case, load_cases, run_case


@pytest.fixture(autouse=True)
def path_keys(monkeypatch):
    monkeypatch.setattr(lvm_pv_planner.devices, "device_key", lambda p: ("path", p))


@pytest.mark.parametrize("case", load_cases("lvm_pv_cases.yml"))
def test_lvm_pv_case(case, monkeypatch):
    check_case(lvm_pv.main, case, monkeypatch)


@pytest.mark.parametrize("case", load_cases("lvm_repair_cases.yml"))
def test_lvm_repair_case(case, monkeypatch):
    check_case(lvm_repair.main, case, monkeypatch)


def test_move_returns_progress_lines(monkeypatch):
    case = {"fixture": "lv_types", "params": {"device": "/dev/loop1", "operation": "move"}}
    result, failed, ran, reads, written = run_case(lvm_pv.main, case, _ProgressPatch(monkeypatch))
    assert not failed and ran == [["pvmove", "--autobackup", "y", "--interval", "5", "/dev/loop1"]]
    assert result["progress"] == [{"device": "/dev/loop1", "percent": 50.0}, {"device": "/dev/loop1", "percent": 100.0}]
    assert result["move_percent"] is None


class _ProgressPatch:
    """A monkeypatch stand-in that makes the harness's fake run_command print pvmove progress."""

    def __init__(self, monkeypatch):
        self.mp = monkeypatch

    def setattr(self, target, name, value=None):
        if target == "ansible.module_utils.basic.AnsibleModule.run_command":
            fake = name

            def run_command(module, cmd, *args, **kwargs):
                rc, out, err = fake(module, cmd, *args, **kwargs)
                if cmd[0] == "pvmove":
                    out = "  /dev/loop1: Moved: 50.00%\n  /dev/loop1: Moved: 100.00%\n"
                return rc, out, err
            return self.mp.setattr(target, run_command)
        if value is None:
            return self.mp.setattr(target, name)
        return self.mp.setattr(target, name, value)


def test_repair_reports_repaired_lvs(monkeypatch):
    case = {"fixture": "raid1_missing_leg", "check_mode": True,
            "params": {"vg": "capvg3", "spares": ["/dev/loop11"]}}
    result, failed, ran, reads, written = run_case(lvm_repair.main, case, monkeypatch)
    assert not failed and result["repaired"] == ["r1"] and ran == []
    assert result["vg"]["missing_pv_count"] == 1 and "remove_missing" in result["notes"][0]
