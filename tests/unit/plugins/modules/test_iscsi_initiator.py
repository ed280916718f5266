# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.modules import iscsi_initiator
from ansible_collections.strata.storage.tests.unit.plugins.modules.iscsi_harness import check_initiator_case, load_cases


@pytest.mark.parametrize("case", load_cases("iscsi_initiator_cases.yml"))
def test_iscsi_initiator_case(case, monkeypatch, tmp_path):
    check_initiator_case(iscsi_initiator.main, case, monkeypatch, tmp_path)
