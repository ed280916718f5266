# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.filesystem import FsInfo
from ansible_collections.strata.storage.plugins.modules import lvm_lv
from ansible_collections.strata.storage.tests.unit.plugins.modules.harness import check_case, load_cases, run_case


def fake_facts(case, calls):
    """read_fs_facts stand-in: the case's `filesystems` {path: {type, label, mounted, min_size}}."""
    described = case.get("filesystems", {})

    def read(runner, paths, fit_check=()):
        calls.append((list(paths), list(fit_check)))
        out = {}
        for path in paths:
            spec = described.get(path, {})
            values = {"TYPE": spec["type"]} if spec.get("type") else {}
            out[path] = FsInfo(device=path, type=spec.get("type"), label=spec.get("label"),
                               uuid="uuid-1" if spec.get("type") else None,
                               mountpoints=[spec["mounted"]] if spec.get("mounted") else [],
                               min_size=spec.get("min_size"), probe=values)
        return out
    return read


@pytest.mark.parametrize("case", load_cases("lvm_lv_cases.yml"))
def test_lvm_lv_case(case, monkeypatch):
    calls = []
    monkeypatch.setattr(lvm_lv, "read_fs_facts", fake_facts(case, calls))
    result = check_case(lvm_lv.main, case, monkeypatch)
    expect = case["expect"]
    if "fs_reads" in expect:
        assert calls[0] == (expect["fs_reads"][0], expect["fs_reads"][1])
    for key, value in expect.get("lv", {}).items():
        assert result["lv"][key] == value, key
    if expect.get("diff"):
        assert result["diff"]["before"] != result["diff"]["after"]


def test_unchanged_run_reports_the_volume_and_its_filesystem(monkeypatch):
    case = {"fixture": "lv_types", "params": {"vg": "capvg", "name": "raid6", "size": "24M"},
            "filesystems": {"/dev/capvg/raid6": {"type": "ext4", "label": "r6"}}}
    monkeypatch.setattr(lvm_lv, "read_fs_facts", fake_facts(case, []))
    result, failed, ran, reads, written = run_case(lvm_lv.main, case, monkeypatch)
    assert not failed and not result["changed"] and ran == []
    lv = result["lv"]
    assert lv["type"] == "raid6" and lv["stripes"] == 5 and lv["data_stripes"] == 3 and lv["mirrors"] == 0
    assert lv["devices"] == ["/dev/loop0", "/dev/loop1", "/dev/loop2", "/dev/loop3", "/dev/loop10"]
    assert lv["filesystem"] == {"type": "ext4", "label": "r6", "uuid": "uuid-1"}
    assert "state" not in lv and result["diff"]["before"] == result["diff"]["after"]


def test_check_mode_reports_the_prediction(monkeypatch):
    case = {"fixture": "lv_types", "check_mode": True,
            "params": {"vg": "capvg", "name": "new", "size": "10M", "type": "raid5", "filesystem": {"type": "ext4"}}}
    monkeypatch.setattr(lvm_lv, "read_fs_facts", fake_facts(case, []))
    result, failed, ran, reads, written = run_case(lvm_lv.main, case, monkeypatch)
    assert result["changed"] and ran == []
    assert result["lv"]["size"] == 16 * 1024 ** 2 and result["lv"]["filesystem"]["type"] == "ext4"
    assert result["diff"]["before"] == {"state": "absent"}
