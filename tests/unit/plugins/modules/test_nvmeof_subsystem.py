# -*- coding: utf-8 -*-
from __future__ import annotations

import json

import pytest

from ansible_collections.strata.storage.plugins.module_utils.nvmeof import configfs
from ansible_collections.strata.storage.plugins.modules import nvmeof_subsystem
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.nvmeof.nvmet_fixtures import snapshot_state
from ansible_collections.strata.storage.tests.unit.plugins.modules.nvmeof_harness import check_case, load_cases, run_case


def _saved(case):
    """SAVED_TREE in a case's files: the captured tree's own save text (the file matches the kernel)."""
    files = case.get("files") or {}
    if "SAVED_TREE" in files.values():
        state, _snap = snapshot_state(case.get("snapshot", "empty"))
        case = dict(case, files=dict((p, configfs.config_text(state) if v == "SAVED_TREE" else v) for p, v in files.items()))
    return case


@pytest.mark.parametrize("case", load_cases("nvmeof_subsystem_cases.yml"))
def test_nvmeof_subsystem_case(case, monkeypatch):
    check_case(nvmeof_subsystem.main, _saved(case), monkeypatch)


def test_result_and_diff_never_hold_a_key(monkeypatch):
    key = "DHHC-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:"
    case = {"snapshot": "empty", "check_mode": True, "kernel_config": {"CONFIG_NVME_TARGET_AUTH": "CONFIG_NVME_TARGET_AUTH=y"},
            "params": {"nqn": "nqn.2014-08.org.example:lab", "hosts": [{"nqn": "nqn.2014-08.org.example:h", "dhchap_key": key}]}}
    rec = run_case(nvmeof_subsystem.main, case, monkeypatch)
    text = json.dumps(rec["result"])
    assert key not in text
    assert rec["result"]["diff"]["after"]["hosts"] == [{"nqn": "nqn.2014-08.org.example:h", "dhchap_key": "(secret)"}]
    assert rec["result"]["auth"]["supported"] is True


def test_saved_file_is_the_tree_after_the_run(monkeypatch):
    case = {"snapshot": "empty", "after_snapshot": "one_subsystem",
            "params": {"nqn": "nqn.2014-08.org.example:capture.s1", "serial": "capture0001"}}
    rec = run_case(nvmeof_subsystem.main, case, monkeypatch)
    content, mode = rec["written"]["/etc/nvmet/config.json"]
    state, _snap = snapshot_state("one_subsystem")
    assert content == configfs.config_text(state) and mode == 0o600
    assert rec["result"]["subsystem"]["serial"] == "capture0001"         # re-read, not predicted
    assert rec["result"]["subsystem"]["namespaces"][0]["device"] == "/dev/loop0"
    assert rec["result"]["auth"]["supported"] is False
    assert "CONFIG_NVME_TARGET_AUTH is not set" in rec["result"]["auth"]["reason"]
