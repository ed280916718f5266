# -*- coding: utf-8 -*-
"""mdadm's refusals mirrored at plan time (see md/rules.py for where mdadm enforces each)."""
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.md import rules
from ansible_collections.strata.storage.plugins.module_utils.md.planner import ArrayRequest, plan_array
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.md.md_fixtures import md_state


def req(**kw):
    kw.setdefault("name", "data")
    return ArrayRequest(**kw)


@pytest.mark.parametrize("level, count, ok", [
    ("raid0", 1, False), ("raid0", 2, True), ("raid1", 1, False), ("raid1", 2, True), ("raid4", 2, True),
    ("raid5", 1, False), ("raid5", 2, True), ("raid5", 3, True), ("raid6", 3, False), ("raid6", 4, True),
    ("raid10", 1, False), ("raid10", 2, True), ("raid6", 257, False),
])
def test_member_counts(level, count, ok):
    if ok:
        rules.check_create(req(level=level), count, 0)
    else:
        with pytest.raises(StrataError):
            rules.check_create(req(level=level), count, 0)


@pytest.mark.parametrize("layout, count, ok", [
    ("n2", 2, True), ("f2", 2, True), ("o2", 2, True), ("n3", 2, False), ("n3", 3, True), ("x2", 4, False),
    ("n", 4, False), ("left-symmetric", 4, False),
])
def test_raid10_layouts(layout, count, ok):
    if ok:
        rules.check_create(req(level="raid10", layout=layout), count, 0)
    else:
        with pytest.raises(StrataError):
            rules.check_create(req(level="raid10", layout=layout), count, 0)


@pytest.mark.parametrize("chunk, ok", [(4096, True), (65536, True), (512 * 1024, True), (2048, False),
                                       (12 * 1024, False), (100 * 1024, False), (3 * 65536, False)])
def test_chunk_power_of_two_at_least_4k(chunk, ok):
    if ok:
        rules.check_chunk("raid5", chunk, "data")
    else:
        with pytest.raises(StrataError, match="power of two"):
            rules.check_chunk("raid5", chunk, "data")


@pytest.mark.parametrize("name, ok", [
    ("data", True), ("a.b_c-d", True), ("x" * 31, True), ("x" * 32, False), ("-data", False), ("da ta", False),
    ("da/ta", False), ("dåta", False), ("..", False), ("", False), ("0", False), ("127", False), ("md0x", True),
])
def test_names(name, ok):
    if ok:
        rules.check_name(name)
    else:
        with pytest.raises(StrataError):
            rules.check_name(name)


def test_levels_and_metadata_spellings():
    assert rules.normalize_level("5") == "raid5" and rules.normalize_level("mirror") == "raid1"
    assert rules.normalize_metadata(0.9) == "0.90" and rules.normalize_metadata("1") == "1.2"
    with pytest.raises(StrataError):
        rules.normalize_metadata("1.3")
    with pytest.raises(StrataError):
        rules.normalize_level("raid7")


@pytest.mark.parametrize("kw, fragment", [
    (dict(level="raid0", bitmap="internal"), "meaningless for raid0"),
    (dict(level="raid1", journal="/dev/nvme0n1"), "only supported for raid4/5/6"),
    (dict(level="raid5", consistency_policy="journal"), "needs a journal device"),
    (dict(level="raid5", journal="/dev/x", consistency_policy="ppl"), "implies consistency_policy journal"),
    (dict(level="raid6", consistency_policy="ppl"), "only supported for raid5"),
    (dict(level="raid5", consistency_policy="ppl", metadata="0.90"), "0.90 does not support PPL"),
    (dict(level="raid5", consistency_policy="bitmap"), "needs bitmap: internal"),
    (dict(level="raid5", consistency_policy="resync", bitmap="internal"), "not compatible"),
    (dict(level="raid0", consistency_policy="resync"), "meaningless for raid0"),
    (dict(level="raid5", journal="/dev/x", bitmap="internal"), "cannot have a bitmap"),
    (dict(level="raid6", journal="/dev/x", consistency_policy="journal", bitmap="internal"), "cannot have a bitmap"),
])
def test_policy_rules(kw, fragment):
    with pytest.raises(StrataError, match=fragment):
        rules.check_create(req(**kw), 4, 0)


def test_metadata_090_device_limit():
    with pytest.raises(StrataError, match="at most 27"):
        rules.check_create(req(level="raid1", metadata="0.90"), 20, 8)
    rules.check_create(req(level="raid1", metadata="0.90"), 20, 7)


def test_max_failures():
    assert rules.max_failures("raid1", 3) == 2
    assert rules.max_failures("raid5", 4) == 1
    assert rules.max_failures("raid6", 4) == 2
    assert rules.max_failures("raid10", 4, "n2") == 1
    assert rules.max_failures("raid10", 6, "f3") == 2
    assert rules.max_failures("raid0", 2) == 0


def test_raid1_to_raid5_needs_a_component_size_in_4k_steps():
    """Grow.c: "Cannot convert RAID1 of this size - reduce size to multiple of 4K first"."""
    state = md_state("clean_r1_r5_r10")
    array = state.find(name="cap_r1")
    assert array.component_size % 4096 == 0
    array.component_size += 1024
    request = req(name="cap_r1", level="raid5", reshape=True)
    with pytest.raises(StrataError, match="multiple of 4 KiB"):
        plan_array(request, state, lambda path: None, lambda: [])


@pytest.mark.parametrize("policy", ["ppl", "journal"])
def test_no_reshape_or_resize_with_ppl_or_journal(policy):
    """The kernel's raid5 check_reshape / raid5_resize: -EINVAL with a log or PPL."""
    array = md_state("levels").find(name="cap_ppl")
    array.consistency_policy = policy
    with pytest.raises(StrataError, match="consistency policy %s" % policy):
        rules.check_reshape_policy(array, "cap_ppl", "a size change")
    array.consistency_policy = "resync"
    rules.check_reshape_policy(array, "cap_ppl", "a size change")


def test_no_add_to_a_failed_array():
    """Manage.c: "has failed so using --add cannot work and might destroy data"."""
    from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInfo

    def blank(path):
        info = DeviceInfo(path=path, realpath=path)
        info.exists, info.is_block, info.size, info.probe = True, True, 1 << 30, {}
        return info
    state = md_state("clean_r1_r5_r10")
    array = state.find(name="cap_r5")
    request = req(name="cap_r5", spares=["/dev/vdb"])
    array.degraded = 1          # one missing: a new device rebuilds it
    plan = plan_array(request, state, blank, lambda: [])
    assert [a.cmd for a in plan.actions] == [["mdadm", "/dev/md/cap_r5", "--add", "/dev/vdb"]]
    array.degraded = 2          # two missing from a raid5: the data is gone
    with pytest.raises(StrataError, match="has failed"):
        plan_array(request, state, blank, lambda: [])
