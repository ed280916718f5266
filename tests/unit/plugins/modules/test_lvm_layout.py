# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.lvm import layout as layout_utils
from ansible_collections.strata.storage.plugins.modules import lvm_layout
from ansible_collections.strata.storage.tests.unit.plugins.modules.harness import check_case, load_cases


def no_facts(runner, req, state):
    """Filesystem and snapshot facts: nothing on any existing volume (the cases avoid mkfs on
    existing volumes; that rule is tested in test_lvm_layout.py of module_utils)."""
    return {}, None


@pytest.mark.parametrize("case", load_cases("lvm_layout_cases.yml"))
def test_lvm_layout_case(case, monkeypatch):
    monkeypatch.setattr(lvm_layout, "read_facts", no_facts)
    monkeypatch.setattr(layout_utils, "read_fs_facts", lambda *a, **k: {})
    check_case(lvm_layout.main, case, monkeypatch)
