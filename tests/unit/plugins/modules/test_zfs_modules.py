# -*- coding: utf-8 -*-
"""ZFS module cases (zfs_*_cases.yml) run through zfs_harness against captured output."""
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.modules import (
    zfs_arc, zfs_dataset, zfs_layout, zfs_pool, zfs_replicate, zfs_snapshot,
)
from ansible_collections.strata.storage.tests.unit.plugins.modules.harness import load_cases
from ansible_collections.strata.storage.tests.unit.plugins.modules.zfs_harness import check_case


@pytest.mark.parametrize("case", load_cases("zfs_pool_cases.yml"))
def test_zfs_pool_case(case, monkeypatch):
    check_case(zfs_pool.main, case, monkeypatch)


@pytest.mark.parametrize("case", load_cases("zfs_dataset_cases.yml"))
def test_zfs_dataset_case(case, monkeypatch):
    result = check_case(zfs_dataset.main, case, monkeypatch)
    key = ((case["params"].get("encryption") or {}).get("key"))
    if key:
        # the key material is never on a command line, in the actions or in the diff
        assert key not in repr(result.get("actions")) and key not in repr(result.get("diff"))
        assert key not in repr(result.get("msg", ""))


@pytest.mark.parametrize("case", load_cases("zfs_layout_cases.yml"))
def test_zfs_layout_case(case, monkeypatch):
    check_case(zfs_layout.main, case, monkeypatch)


@pytest.mark.parametrize("case", load_cases("zfs_snapshot_cases.yml"))
def test_zfs_snapshot_case(case, monkeypatch):
    check_case(zfs_snapshot.main, case, monkeypatch)


@pytest.mark.parametrize("case", load_cases("zfs_replicate_cases.yml"))
def test_zfs_replicate_case(case, monkeypatch):
    check_case(zfs_replicate.main, case, monkeypatch)


@pytest.mark.parametrize("case", load_cases("zfs_arc_cases.yml"))
def test_zfs_arc_case(case, monkeypatch):
    check_case(zfs_arc.main, case, monkeypatch)
