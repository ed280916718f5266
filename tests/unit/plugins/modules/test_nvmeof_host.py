# -*- coding: utf-8 -*-
from __future__ import annotations

import json

import pytest

from ansible_collections.strata.storage.plugins.module_utils.nvmeof import host
from ansible_collections.strata.storage.plugins.modules import nvmeof_host
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.nvmeof.nvmet_fixtures import SnapshotFacts, snapshots
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.nvmeof.test_host import fake_sysfs
from ansible_collections.strata.storage.tests.unit.plugins.modules.nvmeof_harness import check_case, load_cases, run_case

REAL_READ_STATE = host.read_state


def patches(case, tmp_path):
    """read_state on a fake /sys, /proc, /etc/nvme made from the captured host state(s)."""
    calls = []

    def read_state(runner, sysfs=None, proc=None, nvme_dir=None):
        calls.append(1)
        name = case.get("host_snapshot", "one_subsystem") if len(calls) == 1 else \
            case.get("host_after", case.get("host_snapshot", "one_subsystem"))
        root = tmp_path / ("read%d" % len(calls))
        root.mkdir()
        config = case.get("config")
        sysfs, proc, etc = fake_sysfs(root, snapshots()[name], hostnqn=case.get("hostnqn_file", "nqn.2014-08.org.example:capture.host1"),
                                      config=json.dumps(config) if config is not None else None,
                                      mounted=case.get("mounted"))
        return REAL_READ_STATE(runner, sysfs=sysfs, proc=proc, nvme_dir=etc)
    return {"ansible_collections.strata.storage.plugins.module_utils.nvmeof.host.read_state": read_state}


@pytest.mark.parametrize("case", load_cases("nvmeof_host_cases.yml"))
def test_nvmeof_host_case(case, monkeypatch, tmp_path):
    case = dict(case, walks=None)
    check_case(nvmeof_host.main, case, monkeypatch, patches(case, tmp_path))


def test_report_after_connect_is_read_back(monkeypatch, tmp_path):
    case = {"host_snapshot": "one_subsystem", "host_after": "one_subsystem_connected", "snapshot": "one_subsystem",
            "replies": {"nvme connect": {"stdout": '{"device": "nvme0"}'}},
            "params": {"subsystems": [{"nqn": "nqn.2014-08.org.example:capture.s1", "traddr": "127.0.0.1"}]}}
    rec = run_case(nvmeof_host.main, case, monkeypatch, patches(case, tmp_path))
    result = rec["result"]
    assert result["connections"] == {"nqn.2014-08.org.example:capture.s1 (tcp 127.0.0.1:4420)":
                                     {"connected": True, "controllers": ["nvme0"]}}
    assert result["controllers"][0]["namespaces"][0]["device"] == "/dev/nvme0n1"
    assert result["auth"]["supported"] is False
    assert len(result["reads"]) == 2        # sysfs before and after, no process


def test_sysfs_is_walked_once_per_read(monkeypatch, tmp_path):
    """The kernel facts take the controllers read_state found: /sys/class/nvme is not walked a second
    time by KernelFacts.refresh() (nor /proc/net/tcp read, which the host side does not use)."""
    refreshed = []
    real = SnapshotFacts.refresh
    monkeypatch.setattr(SnapshotFacts, "refresh", lambda self: refreshed.append(1) or real(self))
    case = {"host_snapshot": "one_subsystem_connected", "snapshot": "one_subsystem",
            "params": {"subsystems": [{"nqn": "nqn.2014-08.org.example:capture.s1", "traddr": "127.0.0.1",
                                       "persistent": False}]}}
    rec = run_case(nvmeof_host.main, case, monkeypatch, patches(case, tmp_path))
    assert not rec["failed"], rec["result"]
    assert refreshed == [] and rec["result"]["auth"]["supported"] is False
