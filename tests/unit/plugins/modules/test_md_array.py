# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.modules import md_array
from ansible_collections.strata.storage.tests.unit.plugins.modules.harness import load_cases
from ansible_collections.strata.storage.tests.unit.plugins.modules.md_harness import check_case


@pytest.mark.parametrize("case", load_cases("md_array_cases.yml"))
def test_md_array_case(case, monkeypatch):
    check_case(md_array.main, case, monkeypatch)
