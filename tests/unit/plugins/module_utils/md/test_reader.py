# -*- coding: utf-8 -*-
"""The md reader on state captured in the test VM, checked against mdadm's own view."""
from __future__ import annotations

import os

import pytest

from ansible_collections.strata.storage.plugins.module_utils.md import reader
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.md.md_fixtures import (
    STATES, md_snapshot, md_state, md_text, parse_export,
)


@pytest.mark.parametrize("name", STATES)
def test_every_array_matches_mdadm_detail_export(name):
    snap = md_snapshot(name)
    state = md_state(name)
    assert sorted(a.kernel_name for a in state.arrays) == sorted(
        k for k, raw in snap["arrays"].items() if raw["members"])
    for array in state.arrays:
        values, roles = parse_export(snap["detail_export"][array.kernel_name])
        assert array.uuid == values["MD_UUID"]
        assert array.full_name == values["MD_NAME"]
        assert array.name == values["MD_DEVNAME"]
        assert array.metadata == values["MD_METADATA"]
        if array.active:
            assert array.level == values["MD_LEVEL"]
            assert array.raid_disks == int(values["MD_DEVICES"])
        assert sorted(m.name for m in array.members) == sorted(roles)
        for member in array.members:
            if member.role in ("active", "rebuilding"):
                assert roles[member.name] == str(member.slot)
            elif member.role == "spare":
                assert roles[member.name] == "spare"


def test_empty_state_has_no_arrays():
    assert md_state("empty").arrays == []


def test_clean_arrays_shape_and_settled():
    state = md_state("clean_r1_r5_r10")
    r1, r5, r10 = state.find("cap_r1"), state.find("cap_r5"), state.find("cap_r10")
    assert (r1.level, r1.raid_disks, r1.bitmap, r1.consistency_policy) == ("raid1", 2, "internal", "bitmap")
    assert [m.role for m in sorted(r1.members, key=lambda m: m.name)] == ["active", "active", "spare"]
    assert (r5.level, r5.chunk, r5.layout_name, r5.raid_disks) == ("raid5", 65536, "left-symmetric", 3)
    assert (r10.level, r10.layout_name, r10.chunk) == ("raid10", "n2", 512 * 1024)
    assert r1.settled and r5.settled and r10.settled
    assert r1.progress is None
    assert r5.component_size == 48128 * 1024 and r5.size == 2 * r5.component_size
    member = r5.members[0]
    assert member.devno[0] == 7 and member.offset > 0 and member.device_size == 48 * 1024 ** 2


def test_find_by_uuid_in_any_spelling_and_by_full_name():
    state = md_state("clean_r1_r5_r10")
    r5 = state.find("cap_r5")
    dashed = reader.normalize_uuid(r5.uuid)
    dashed = "%s-%s-%s-%s-%s" % (dashed[:8], dashed[8:12], dashed[12:16], dashed[16:20], dashed[20:])
    assert state.find(uuid=dashed) is r5
    assert state.find(name="strata-lab:cap_r5") is r5
    assert state.find(name="nosuch") is None


def test_resync_progress_percent_speed_eta():
    array = md_state("raid1_resync").find("cap_r1")
    assert array.sync_action == "resync" and not array.settled
    progress = array.progress
    assert progress.action == "resync"
    assert progress.total == 96256 and 0 < progress.done < progress.total
    assert progress.percent == round(100.0 * progress.done / progress.total, 1)
    assert progress.speed_kib > 0
    assert progress.eta_seconds == int((progress.total - progress.done) / 2 / progress.speed_kib)
    assert array.resync_start != "none"


@pytest.mark.parametrize("name, action", [
    ("raid5_check", "check"), ("raid5_spare_rebuilding", "recover"), ("raid5_replacing", "recover"),
    ("raid5_reshape", "reshape"),
])
def test_progress_of_each_sync_action(name, action):
    array = md_state(name).find("cap_r5")
    assert array.progress.action == action
    assert 0 < array.progress.percent < 100
    assert not array.settled


def test_roles_while_a_spare_rebuilds_a_failed_member():
    array = md_state("raid5_spare_rebuilding").find("cap_r5")
    roles = {m.name: m.role for m in array.members}
    assert sorted(roles.values()) == ["active", "active", "faulty", "rebuilding"]
    assert array.degraded == 1


def test_faulty_member_stays_until_removed():
    array = md_state("raid5_faulty_member").find("cap_r5")
    assert [m.role for m in array.members].count("faulty") == 1
    assert array.degraded == 0 and array.settled


def test_replacement_flags():
    array = md_state("raid5_replacing").find("cap_r5")
    flags = {m.name: m.flags for m in array.members}
    assert any("want_replacement" in f for f in flags.values())
    rebuilding = [m for m in array.members if "replacement" in m.flags]
    assert len(rebuilding) == 1 and rebuilding[0].role == "rebuilding" and rebuilding[0].slot == 0
    done = md_state("raid5_replaced").find("cap_r5")
    assert [m.role for m in done.members].count("faulty") == 1 and done.settled


def test_grown_array_has_four_members_and_more_room():
    before = md_state("raid5_faulty_member").find("cap_r5")
    after = md_state("raid5_grown").find("cap_r5")
    assert after.raid_disks == 4 and after.size > before.size and after.settled


def test_levels_raid0_raid6_ppl_raid10_far():
    state = md_state("levels")
    r0 = state.find("cap_r0")
    assert (r0.level, r0.chunk, r0.sync_action, r0.layout_name) == ("raid0", 128 * 1024, "idle", None)
    assert r0.settled and r0.progress is None
    assert state.find("cap_r6").level == "raid6"
    assert state.find("cap_ppl").consistency_policy == "ppl"
    assert state.find("cap_f2").layout_name == "f2"


def test_inactive_array_is_named_from_the_scan_line():
    array = md_state("inactive").find("cap_ppl")
    assert array is not None and not array.active and array.array_state == "inactive"
    assert array.uuid and array.level == ""


def test_degraded_raid1_with_bitmap():
    array = md_state("raid1_degraded").find("cap_r1")
    assert array.degraded == 1 and len(array.members) == 1 and array.bitmap == "internal"
    assert array.settled        # nothing left to rebuild from


def test_scan_joins_continuation_lines():
    lines = reader.parse_scan("ARRAY /dev/md/a  metadata=1.2 UUID=1:2:3:4 name=h:a\n   spares=1\n"
                              "INACTIVE-ARRAY /dev/md127 metadata=1.2 name=h:b UUID=5:6:7:8\n")
    assert lines[0]["spares"] == "1" and lines[0]["name"] == "h:a"
    assert lines[1]["inactive"] and lines[1]["devname"] == "/dev/md127"
    examine = reader.parse_scan(md_text("examine_scan.txt"))
    assert {e["name"].split(":")[1] for e in examine} >= {"cap_r0", "cap_r6", "cap_f2"}


def test_mdstat_parser_flags_and_progress():
    parsed = reader.parse_mdstat(md_snapshot("raid5_spare_rebuilding")["mdstat"])
    entry = next(v for v in parsed.values() if v["personality"] == "raid5")
    assert "F" in [f for d in entry["devices"].values() for f in d["flags"]]
    assert entry["progress"]["action"] == "recovery" and entry["progress"]["speed_kib"] > 0
    delayed = reader.parse_mdstat("md1 : active raid1 sdb1[1] sda1[0]\n      100 blocks [2/2] [UU]\n"
                                  "        resync=DELAYED\n")
    assert delayed["md1"]["progress"] == {"action": "resync", "delayed": True}


def test_layout_names():
    assert reader.layout_name("raid10", 0x102) == "n2"
    assert reader.layout_name("raid10", 0x201) == "f2"
    assert reader.layout_name("raid10", 0x10201) == "o2"
    assert reader.layout_name("raid6", 18) == "left-symmetric-6"
    assert reader.layout_name("raid1", 0) is None


def test_snapshot_reads_a_sysfs_tree(tmp_path):
    """snapshot() walks sysfs/dev/proc as files: build a tiny tree and read it back."""
    md = tmp_path / "sys" / "block" / "md5" / "md"
    (md / "dev-vdb" / "block").mkdir(parents=True)
    (md / "bitmap").mkdir()
    for rel, text in {"level": "raid1\n", "raid_disks": "2\n", "array_state": "clean\n", "sync_action": "idle\n",
                      "bitmap/location": "+8\n", "dev-vdb/state": "in_sync\n", "dev-vdb/slot": "0\n",
                      "dev-vdb/block/dev": "252:16\n", "dev-vdb/block/size": "2048\n"}.items():
        (md / rel).write_text(text)
    (md.parent / "dev").write_text("9:5\n")
    (md.parent / "size").write_text("1024\n")
    (md.parent / "holders").mkdir()
    (md.parent / "holders" / "dm-0").write_text("")
    (tmp_path / "dev" / "md").mkdir(parents=True)
    os.symlink("../md5", str(tmp_path / "dev" / "md" / "data"))
    (tmp_path / "proc" / "self").mkdir(parents=True)
    (tmp_path / "proc" / "mdstat").write_text("Personalities : [raid1]\nmd5 : active raid1 vdb[0]\n")
    (tmp_path / "proc" / "self" / "mountinfo").write_text("30 1 9:5 / /srv rw - ext4 /dev/md5 rw\n")
    (tmp_path / "proc" / "swaps").write_text("Filename Type Size Used Priority\n")
    snap = reader.snapshot(str(tmp_path / "sys"), str(tmp_path / "dev"), str(tmp_path / "proc"))
    assert snap["dev_md"] == {"data": "md5"}
    state = reader.parse_state(snap, "ARRAY /dev/md/data metadata=1.2 name=h:data UUID=1a2b3c4d:1a2b3c4d:1a2b3c4d:1a2b3c4d\n")
    array = state.find("data")
    assert array.holders == ["dm-0"] and array.mountpoints == ["/srv"] and array.bitmap == "internal"
    assert array.members[0].devno == (252, 16) and array.members[0].device_size == 2048 * 512


class _Runner:
    def __init__(self):
        self.reads = []

    def read(self, cmd, **kwargs):
        self.reads.append(cmd)

        class R:
            stdout = ""
        return R()


def test_read_state_starts_no_process_without_arrays(tmp_path):
    (tmp_path / "sys" / "block").mkdir(parents=True)
    runner = _Runner()
    state = reader.read_state(runner, str(tmp_path / "sys"), str(tmp_path / "dev"), str(tmp_path / "proc"))
    assert state.arrays == [] and runner.reads == []
