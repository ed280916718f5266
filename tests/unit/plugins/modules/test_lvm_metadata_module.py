# -*- coding: utf-8 -*-
"""lvm_metadata module: backup / list / restore against captured LVM state and a real folder."""
from __future__ import annotations

import datetime

from ansible_collections.strata.storage.plugins.modules import lvm_metadata
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.lvm.test_metadata import T0, write_backup
from ansible_collections.strata.storage.tests.unit.plugins.modules.harness import run_case


def case(folder, check_mode=False, **params):
    out = {"fixture": "thinpool", "params": dict({"vg": "capvg", "folder": str(folder)}, **params)}
    if check_mode:
        out["check_mode"] = True
    return out


def test_backup_writes_a_named_file_and_skips_same_seqno(tmp_path, monkeypatch):
    result, failed, ran, reads, written = run_case(lvm_metadata.main, case(tmp_path), monkeypatch)
    assert not failed and result["changed"]
    assert len(ran) == 1 and ran[0][:2] == ["vgcfgbackup", "--file"] and ran[0][3] == "capvg"
    assert ran[0][2].startswith(str(tmp_path / "capvg-")) and ran[0][2].endswith("-seq8.vg")
    assert result["backup"] == ran[0][2]
    write_backup(tmp_path, "capvg-20261126T094100Z-seq8.vg", 8, T0)
    result, failed, ran, reads, written = run_case(lvm_metadata.main, case(tmp_path), monkeypatch)
    assert not failed and not result["changed"] and ran == [] and result["backup"] is None
    assert "already holds metadata seqno 8" in result["notes"][0]


def test_backup_check_mode_reports_retention(tmp_path, monkeypatch):
    for index in range(3):
        write_backup(tmp_path, "capvg-2026112%dT000000Z-seq%d.vg" % (index, index + 1), index + 1,
                     T0 + datetime.timedelta(days=index - 10))
    result, failed, ran, reads, written = run_case(lvm_metadata.main, case(tmp_path, True, retention=2), monkeypatch)
    assert not failed and result["changed"] and ran == []
    assert [a["cmd"][0] for a in result["actions"]] == ["vgcfgbackup", "rm", "rm"]
    assert [b["seqno"] for b in result["backups"]] == [8, 3]


def test_list(tmp_path, monkeypatch):
    write_backup(tmp_path, "capvg-20261126T094100Z-seq8.vg", 8, T0)
    result, failed, ran, reads, written = run_case(lvm_metadata.main, case(tmp_path, operation="list"), monkeypatch)
    assert not failed and not result["changed"] and result["actions"] == []
    assert result["backups"][0]["seqno"] == 8 and result["backups"][0]["lvs"] == ["pool", "thin1"]
    assert result["backups"][0]["time"] == "2026-11-26T09:41:00Z"


def test_restore_tests_first_and_needs_the_flag(tmp_path, monkeypatch):
    path = write_backup(tmp_path, "capvg-20261126T094100Z-seq8.vg", 8, T0)
    test_cmd = ["vgcfgrestore", "--test", "--yes", "--force", "--file", path, "capvg"]
    result, failed, ran, reads, written = run_case(lvm_metadata.main, case(tmp_path, operation="restore"), monkeypatch)
    assert failed and "allow_restore" in result["msg"] and ran == [test_cmd]
    result, failed, ran, reads, written = run_case(
        lvm_metadata.main, case(tmp_path, True, operation="restore", allow_restore=True), monkeypatch)
    assert not failed and result["changed"] and ran == [test_cmd]          # check mode: the test only
    assert test_cmd in result["reads"]
    assert [a["cmd"] for a in result["actions"]] == [
        ["vgchange", "--activate", "n", "capvg"], ["vgcfgrestore", "--force", "--file", path, "capvg"],
        ["vgchange", "--activate", "y", "capvg"]]
    result, failed, ran, reads, written = run_case(
        lvm_metadata.main, case(tmp_path, operation="restore", allow_restore=True, activate=False), monkeypatch)
    assert not failed and ran == [test_cmd, ["vgchange", "--activate", "n", "capvg"],
                                  ["vgcfgrestore", "--force", "--file", path, "capvg"]]
    assert result["backup"] == path


def test_restore_without_backups_fails(tmp_path, monkeypatch):
    result, failed, ran, reads, written = run_case(lvm_metadata.main, case(tmp_path, operation="restore"), monkeypatch)
    assert failed and "no backup of volume group capvg" in result["msg"] and ran == []
