# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.modules import lvm_thinpool
from ansible_collections.strata.storage.tests.unit.plugins.modules.harness import check_case, load_cases, run_case


@pytest.mark.parametrize("case", load_cases("lvm_thinpool_cases.yml"))
def test_lvm_thinpool_case(case, monkeypatch):
    check_case(lvm_thinpool.main, case, monkeypatch)


def test_result_reports_usage_and_volumes(monkeypatch):
    case = {"fixture": "thinpool", "params": {"vg": "capvg", "name": "pool"}}
    result, failed, ran, reads, written = run_case(lvm_thinpool.main, case, monkeypatch)
    assert not failed and not result["changed"]
    pool = result["pool"]
    assert pool["size"] == 200 * 1024 ** 2 and pool["data_percent"] > 0
    assert pool["metadata_percent"] is not None and pool["monitored"] == "monitored"
    assert pool["overcommit"] == 2.0
    assert [v["name"] for v in result["volumes"]] == ["thin1", "thin2"]
    assert result["volumes"][0]["data_percent"] >= 19.0


def test_overcommit_warns_without_a_limit(monkeypatch):
    warnings = []
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.warn", lambda self, w: warnings.append(w))
    case = {"fixture": "thinpool", "params": {"vg": "capvg", "name": "pool"}}
    run_case(lvm_thinpool.main, case, monkeypatch)
    assert warnings and "overcommitted 2.00 times" in warnings[0]


def test_profile_content_written(monkeypatch):
    case = {"fixture": "thinpool", "params": {"vg": "capvg", "name": "pool", "autoextend_threshold": 75}}
    result, failed, ran, reads, written = run_case(lvm_thinpool.main, case, monkeypatch)
    text = written["/etc/lvm/profile/strata-thinpool-capvg-pool.profile"]
    assert "thin_pool_autoextend_threshold = 75" in text and "thin_pool_autoextend_percent = 20" in text
    assert ran == [["lvchange", "--metadataprofile", "strata-thinpool-capvg-pool", "capvg/pool"]]
