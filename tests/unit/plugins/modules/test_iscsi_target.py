# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.iscsi import lio
from ansible_collections.strata.storage.plugins.modules import iscsi_target
from ansible_collections.strata.storage.tests.unit.plugins.modules.harness import Exit
from ansible_collections.strata.storage.tests.unit.plugins.modules.iscsi_harness import (
    _common, _run, check_target_case, load_cases,
)


@pytest.mark.parametrize("case", load_cases("iscsi_target_cases.yml"))
def test_iscsi_target_case(case, monkeypatch):
    check_target_case(iscsi_target.main, case, monkeypatch)


def test_without_rtslib_the_module_says_which_package(monkeypatch):
    _common(monkeypatch)
    monkeypatch.setattr(lio, "HAS_RTSLIB", False)
    result, failed = _run(iscsi_target.main, {"wwn": "iqn.2026-01.com.example:x"})
    assert failed and "rtslib_fb" in result["msg"] and "python3-rtslib-fb" in result["msg"]
    assert Exit
