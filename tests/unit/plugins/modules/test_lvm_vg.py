# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.modules import lvm_vg
from ansible_collections.strata.storage.tests.unit.plugins.modules.harness import check_case, load_cases, run_case


@pytest.mark.parametrize("case", load_cases("lvm_vg_cases.yml"))
def test_lvm_vg_case(case, monkeypatch):
    check_case(lvm_vg.main, case, monkeypatch)


def test_result_reports_vg_and_diff(monkeypatch):
    case = {"fixture": "vg_two_pvs_one_orphan", "params": {"name": "capvg", "devices": ["/dev/loop0", "/dev/loop1"]}}
    result, failed, ran, reads, written = run_case(lvm_vg.main, case, monkeypatch)
    assert not failed and not result["changed"]
    assert result["vg"]["pvs"] == ["/dev/loop0", "/dev/loop1"]
    assert result["vg"]["extent_size"] == 4 * 1024 ** 2
    assert result["diff"]["before"] == result["diff"]["after"]
    assert result["reads"] == reads and len(reads) == 1


def test_check_mode_diff_shows_the_new_vg(monkeypatch):
    case = {"fixture": "empty", "check_mode": True, "params": {"name": "data", "devices": ["/dev/vdb"]}}
    result, failed, ran, reads, written = run_case(lvm_vg.main, case, monkeypatch)
    assert result["diff"]["before"] == {"state": "absent"}
    assert result["diff"]["after"]["pvs"] == ["/dev/vdb"]
    assert result["vg"]["name"] == "data"
