# -*- coding: utf-8 -*-
"""Vdev specs and the replication rules of zpool_vdev.c."""
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.zfs import reader, vdevs
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.zfs.zfs_fixtures import CAP, zfs_fixture


def specs(*entries):
    return vdevs.specs_from_params(list(entries))


@pytest.mark.parametrize("vtype, count, ok", [
    ("raidz1", 1, False), ("raidz1", 2, True), ("raidz2", 2, False), ("raidz2", 3, True),
    ("raidz3", 3, False), ("raidz3", 4, True), ("mirror", 1, False), ("mirror", 2, True), ("stripe", 1, True),
])
def test_minimum_devices(vtype, count, ok):
    entry = {"type": vtype, "devices": ["/dev/vd%s" % chr(98 + i) for i in range(count)]}
    if ok:
        assert specs(entry)[0].type == vtype
    else:
        with pytest.raises(StrataError, match="requires at least"):
            specs(entry)


def test_spec_words_put_each_role_keyword_once():
    words = vdevs.spec_words(specs(
        {"type": "mirror", "devices": ["a", "b"]},
        {"type": "mirror", "devices": ["c", "d"]},
        {"role": "log", "type": "mirror", "devices": ["e", "f"]},
        {"role": "cache", "devices": ["g", "h"]},
        {"role": "spare", "devices": ["i"]},
        {"role": "special", "type": "mirror", "devices": ["j", "k"]},
    ))
    assert words == ["mirror", "a", "b", "mirror", "c", "d", "log", "mirror", "e", "f", "special", "mirror", "j", "k",
                     "cache", "g", "h", "spare", "i"]


def test_role_and_duplicate_rules():
    with pytest.raises(StrataError, match="single devices, not mirror"):
        specs({"role": "cache", "type": "mirror", "devices": ["a", "b"]})
    with pytest.raises(StrataError, match="listed twice"):
        specs({"devices": ["a"]}, {"role": "spare", "devices": ["a"]})


def groups(*entries):
    return [g for s in specs(*entries) for g in s.groups()]


def test_replication_pairs():
    mirror2 = {"type": "mirror", "devices": ["/dev/a", "/dev/b"]}
    ok, _unused = vdevs.replication_problems(groups(mirror2, {"type": "raidz1", "devices": ["/dev/c", "/dev/d", "/dev/e"]}))
    assert ok == []
    bad, _unused = vdevs.replication_problems(groups(mirror2, {"type": "mirror", "devices": ["/dev/c", "/dev/d", "/dev/e"]}))
    assert "both 2-way and 3-way mirror vdevs" in bad[0]
    raidz1 = {"type": "raidz1", "devices": ["/dev/a", "/dev/b"]}
    bad, _unused = vdevs.replication_problems(groups(raidz1, {"type": "raidz2", "devices": ["/dev/c", "/dev/d", "/dev/e"]}))
    assert "both 1 and 2 device parity" in bad[0]
    bad, _unused = vdevs.replication_problems(groups({"devices": ["/dev/a", "/var/tmp/f"]}))
    assert "both single device and single file vdevs" in bad[0]
    sizes = {"/dev/a": 1 << 30, "/dev/b": (1 << 30) + (32 << 20)}
    bad, _unused = vdevs.replication_problems(groups({"type": "mirror", "devices": ["/dev/a", "/dev/b"]}), sizes=sizes)
    assert "different sizes" in bad[0]


def test_raidz_width_counts_against_the_pool_only():
    # zpool_vdev.c 2.1: get_replication (one spec) compares raidz/draid parity only;
    # check_replication (pool's last vdev vs the spec's last) compares type and width too
    ok, _unused = vdevs.replication_problems(groups(
        {"type": "raidz1", "devices": ["/dev/a", "/dev/b", "/dev/c"]},
        {"type": "raidz1", "devices": ["/dev/d", "/dev/e", "/dev/f", "/dev/g"]}))
    assert ok == []
    st = reader.parse_pool_status(zfs_fixture("status_healthy.txt"))
    raidz_tops = st["cap_raidz"].vdevs["data"]
    width = len(raidz_tops[-1].children)
    wider = groups({"type": "raidz2", "devices": ["/var/tmp/%d" % i for i in range(width + 1)]})
    problems, lowers = vdevs.replication_problems(wider, raidz_tops)
    assert "both %d-way and %d-way raidz vdevs" % (width, width + 1) in problems[0] and not lowers
    same = groups({"type": "raidz2", "devices": ["/var/tmp/%d" % i for i in range(width)]})
    assert vdevs.replication_problems(same, raidz_tops) == ([], False)


def test_draid_is_its_own_type_against_a_pool():
    draid2 = vdevs.Replication("draid", 8, 2)
    assert vdevs._mismatch(draid2, vdevs.Replication("raidz", 4, 2)) is None
    assert "both draid2 and raidz2" in vdevs._mismatch(draid2, vdevs.Replication("raidz", 4, 2), against_pool=True)
    assert vdevs._mismatch(draid2, vdevs.Replication("mirror", 3, 0)) is None
    assert "different redundancy" in vdevs._mismatch(draid2, vdevs.Replication("mirror", 2, 0), against_pool=True)


def test_adding_to_the_captured_pools():
    st = reader.parse_pool_status(zfs_fixture("status_healthy.txt"))
    mirror_tops = st["cap_mirror"].vdevs["data"] + st["cap_mirror"].vdevs["special"]
    problems, lowers = vdevs.replication_problems(groups({"devices": ["/var/tmp/x"]}), mirror_tops)
    assert lowers and "2-way mirror" in problems[0]
    problems, lowers = vdevs.replication_problems(groups({"type": "mirror", "devices": ["/var/tmp/x", "/var/tmp/y"]}),
                                                  mirror_tops)
    assert problems == [] and not lowers
    raidz_tops = st["cap_raidz"].vdevs["data"]
    problems, lowers = vdevs.replication_problems(
        groups({"type": "raidz3", "devices": ["/var/tmp/%d" % i for i in range(4)]}), raidz_tops)
    assert "raidz2" in problems[0] and not lowers
    problems, _unused = vdevs.replication_problems(groups({"role": "log", "devices": ["/var/tmp/l"]}), raidz_tops)
    assert problems == []


def test_device_paths_match_whole_disk_partitions():
    paths = vdevs.DevicePaths(realpath=lambda p: p, sysfs="/nonexistent")
    assert paths.same("/dev/disk/by-id/virtio-strata-d7", "/dev/disk/by-id/virtio-strata-d7-part1")
    assert paths.same("/dev/vdb", "/dev/vdb1")
    assert not paths.same("/dev/vdb", "/dev/vdc1")
    assert paths.find(CAP + "/v1", [CAP + "/v2", CAP + "/v1"]) == CAP + "/v1"
