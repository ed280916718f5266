# -*- coding: utf-8 -*-
"""The LVM reader against `lvm fullreport` output captured from the VM's real lvm2."""
from __future__ import annotations

import json

import pytest

from ansible_collections.strata.storage.plugins.module_utils.lvm import reader as lvm
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.fixtures import lvm_fixture_text, lvm_state

MIB = 1024 ** 2


def test_empty_report():
    state = lvm_state("empty")
    assert state.vgs == {} and state.lvs == [] and state.pvs == []


def test_orphan_and_member_pvs():
    state = lvm_state("vg_two_pvs_one_orphan")
    vg = state.vg("capvg")
    assert vg.extent_size == 4 * MIB
    assert vg.pv_count == 2 and vg.lv_count == 0
    assert vg.free == vg.size == sum(pv.size for pv in state.pvs_of("capvg"))
    orphans = [pv for pv in state.pvs if not pv.vg_name]
    assert len(orphans) == 1 and not orphans[0].allocatable
    for pv in state.pvs:
        assert pv.name.startswith("/dev/loop") and pv.devno[0] == 7
        assert not pv.missing


def test_thin_pool_and_thin_volumes():
    state = lvm_state("thinpool")
    pool = state.lv("capvg", "pool")
    assert pool.is_thin_pool and not pool.is_thin_volume
    assert pool.size == 200 * MIB
    assert pool.chunk_size == 128 * 1024
    assert pool.zero is False
    assert pool.discards == "passdown"
    assert pool.profile == "strata-capture"
    assert pool.metadata_size > 0
    assert pool.data_percent is not None and pool.data_percent > 0
    assert pool.metadata_percent is not None
    thin = {lv.name: lv for lv in state.thin_volumes_of("capvg", "pool")}
    assert sorted(thin) == ["thin1", "thin2"]
    assert thin["thin1"].size == 100 * MIB and thin["thin2"].size == 300 * MIB
    assert thin["thin1"].data_percent >= 19.0   # 20 MiB written of 100 MiB
    assert thin["thin1"].active and thin["thin1"].is_thin_volume
    hidden = {lv.name for lv in state.lvs_of("capvg", hidden=True) if lv.hidden}
    assert {"pool_tdata", "pool_tmeta", "lvol0_pmspare"} <= hidden
    assert state.lv("capvg", "pool_tdata") is None   # hidden LVs are not found by name


def test_other_layouts():
    state = lvm_state("lv_types")
    striped = state.lv("capvg", "striped")
    assert striped.segtype == "striped" and striped.stripes == 2 and striped.stripe_size == 64 * 1024
    assert len(striped.devices) == 2
    mirror = state.lv("capvg", "mirror")
    assert mirror.segtype == "raid1"
    snap = state.lv("capvg", "linear_snap")
    assert snap.origin == "linear"
    assert state.lv("capvg", "linear").segtype == "linear"


def test_missing_pv():
    state = lvm_state("missing_pv")
    vg = state.vg("capvg2")
    assert vg.missing_pv_count == 1 and vg.partial
    missing = [pv for pv in state.pvs_of("capvg2") if pv.missing]
    assert len(missing) == 1 and missing[0].name == "[unknown]"


def test_separate_reports_give_the_same_state():
    """The fallback path (vgs/pvs/lvs) parses rows of the same shape into the same state."""
    full = json.loads(lvm_fixture_text("thinpool.json"))
    blocks = full["report"]

    def wrap(key):
        return json.dumps({"report": [{key: [row for b in blocks for row in b.get(key, [])]}]})

    lv_rows = [row for b in blocks for row in b.get("lv", [])]
    segs = {row["lv_uuid"]: row for b in blocks for row in b.get("seg", [])}
    merged = [dict(row, **segs.get(row["lv_uuid"], {})) for row in lv_rows]
    lvs_text = json.dumps({"report": [{"seg": merged}]})      # the key real `lvs --segments` uses
    # `pvs --segments` gives one row per PV segment, with the PV's fields on each
    pvs_by_uuid = {row["pv_uuid"]: row for b in blocks for row in b.get("pv", [])}
    pvseg_rows = [dict(pvs_by_uuid[row["pv_uuid"]], **row) for b in blocks for row in b.get("pvseg", [])]
    assert len(pvseg_rows) > len(pvs_by_uuid)
    pvs_text = json.dumps({"report": [{"pvseg": pvseg_rows}]})
    fallback = lvm.parse_separate_reports(wrap("vg"), pvs_text, lvs_text)
    direct = lvm.parse_fullreport(lvm_fixture_text("thinpool.json"))
    assert fallback.vgs == direct.vgs
    assert fallback.pvs == direct.pvs
    assert any(pv.segments for pv in fallback.pvs)
    assert fallback.lvs and sorted(lv.name for lv in fallback.lvs) == sorted(lv.name for lv in direct.lvs)
    assert fallback.lv("capvg", "pool") == direct.lv("capvg", "pool")


def test_garbage_is_a_clear_error():
    with pytest.raises(StrataError, match="could not parse the LVM report"):
        lvm.parse_fullreport("WARNING: something\n{")


@pytest.fixture(autouse=True)
def _device_mapper_present(monkeypatch):
    """The CI host has no device-mapper; these tests are about parsing."""
    monkeypatch.setattr(lvm, "device_mapper_problem", lambda *a, **k: None)


class FakeRunner:
    def __init__(self, responses):
        self.responses = list(responses)
        self.calls = []

    def require_tool(self, name):
        pass

    def read(self, cmd, ok_rcs=(0,), what=None):
        self.calls.append(cmd)
        rc, out, err = self.responses.pop(0)
        if rc not in ok_rcs:
            raise StrataError("%s failed" % what, cmd=cmd, rc=rc, stderr=err)

        class R:
            pass
        r = R()
        r.cmd, r.rc, r.stdout, r.stderr = cmd, rc, out, err
        return r


def test_read_state_is_one_call():
    runner = FakeRunner([(0, lvm_fixture_text("thinpool.json"), "")])
    state = lvm.read_state(runner)
    assert len(runner.calls) == 1 and runner.calls[0][:2] == ["lvm", "fullreport"]
    assert "--binary" in runner.calls[0] and "json" in runner.calls[0]
    assert state.vg("capvg") is not None


def test_read_state_falls_back_when_fullreport_is_missing():
    text = lvm_fixture_text("vg_two_pvs_one_orphan.json")
    runner = FakeRunner([(3, "", "  No such command 'fullreport'.  Try 'help'."),
                         (0, text, ""), (0, text, ""), (0, json.dumps({"report": [{"lv": []}]}), "")])
    state = lvm.read_state(runner)
    assert [c[0] for c in runner.calls] == ["lvm", "vgs", "pvs", "lvs"]
    assert state.vg("capvg").pv_count == 2


@pytest.mark.parametrize("stderr", ["  Locking failed.", "  Command failed with status code 5.",
                                    "  fullreport: Global lock failed."])
def test_read_state_other_failures_raise_without_fallback(stderr):
    runner = FakeRunner([(5, "", stderr)])
    with pytest.raises(StrataError, match="reading LVM state failed"):
        lvm.read_state(runner)
    assert len(runner.calls) == 1


def test_layouts_and_raid_fields_from_real_capture():
    state = lvm_state("lv_types")
    raid5 = state.lv("capvg", "raid5")
    assert (raid5.segtype, raid5.stripes, raid5.data_stripes, raid5.stripe_size) == ("raid5", 3, 2, 65536)
    assert raid5.copy_percent == 100.0 and raid5.sync_action == "idle"
    raid6 = state.lv("capvg", "raid6")
    assert (raid6.segtype, raid6.stripes, raid6.data_stripes) == ("raid6", 5, 3)
    raid10 = state.lv("capvg", "raid10")
    assert (raid10.segtype, raid10.stripes, raid10.data_stripes) == ("raid10", 4, 2)
    mirror = state.lv("capvg", "mirror")
    assert (mirror.segtype, mirror.data_stripes, mirror.region_size) == ("raid1", 2, 2097152)
    assert state.pvs_under(mirror) == ["/dev/loop0", "/dev/loop1"]
    assert state.pvs_under(raid6) == ["/dev/loop0", "/dev/loop1", "/dev/loop2", "/dev/loop3", "/dev/loop10"]
    old = state.lv("capvg", "oldmirror")
    assert old.segtype == "mirror" and old.data_stripes == 2
    striped = state.lv("capvg", "striped")
    assert (striped.segtype, striped.stripes, striped.stripe_size) == ("striped", 2, 65536)


def test_snapshot_fields_from_real_capture():
    state = lvm_state("lv_types")
    snap = state.lv("capvg", "linear_snap")
    assert snap.origin == "linear" and snap.snap_percent == 0.0 and "snapshot" in snap.role
    # A merge that waits for the open origin: LVM shows the snapshot hidden, merging.
    assert state.lv("capvg", "origin_snap") is None
    merging = state.lv_any("capvg", "origin_snap")
    assert merging.merging and merging.origin == "origin"
    assert state.lv("capvg", "origin").open
    thin_snap = state.lv("capvg", "thin1_snap")
    assert thin_snap.origin == "thin1" and thin_snap.is_thin_volume
    # inactive (thin snapshots skip activation): open reads -1, which is not "open"
    assert not thin_snap.active and not thin_snap.open


def test_raid1_with_a_missing_leg():
    state = lvm_state("raid1_missing_leg")
    r1 = state.lv("capvg3", "r1")
    assert r1.health == "partial"
    assert "[unknown]" in state.pvs_under(r1)
    assert state.vg("capvg3").missing_pv_count == 1


def test_pv_segment_maps_from_fullreport():
    """fullreport's pvseg rows give each PV its allocated extents, named by LV (no extra read)."""
    state = lvm_state("lv_types")
    for pv in state.pvs:
        assert pv.segments is not None
        assert sum(size for _start, size, _lv in pv.segments) == pv.pe_alloc_count, pv.name
        starts = [start for start, _size, _lv in pv.segments]
        assert starts == sorted(starts)
    loop10 = next(pv for pv in state.pvs if pv.name == "/dev/loop10")
    names = {lv for _start, _size, lv in loop10.segments}
    assert names and all(not n.startswith("[") for n in names)
    assert names <= {lv.name for lv in state.lvs}


def _tree(tmp_path, control=False, misc="", dm_module=False):
    dev, proc, sysfs = tmp_path / "dev", tmp_path / "proc", tmp_path / "sys"
    (dev / "mapper").mkdir(parents=True)
    proc.mkdir()
    (proc / "misc").write_text(misc)
    if control:
        (dev / "mapper" / "control").write_text("")
    if dm_module:
        (sysfs / "module" / "dm_mod").mkdir(parents=True)
    return str(dev), str(proc), str(sysfs)


def test_device_mapper_problem_tells_missing_module_from_missing_node(tmp_path, monkeypatch):
    monkeypatch.undo()   # the real check, on fake /dev, /proc and /sys trees
    ok = _tree(tmp_path / "ok", control=True)
    assert lvm.device_mapper_problem(*ok) is None
    no_kernel = _tree(tmp_path / "none", misc=" 58 loop-control\n183 hw_random\n")
    reason, fix = lvm.device_mapper_problem(*no_kernel)
    assert "no dm_mod module loaded" in reason and "modprobe dm_mod" in fix
    container = _tree(tmp_path / "ctr", misc="236 device-mapper\n")
    reason, fix = lvm.device_mapper_problem(*container)
    assert "mapper/control is missing" in reason and "container" in reason
    assert lvm.device_mapper_problem(*_tree(tmp_path / "mod", dm_module=True))[0].startswith("the kernel has")


def test_read_state_without_device_mapper_fails_before_reading(tmp_path, monkeypatch):
    """On a kernel without dm, `lvm fullreport` exits 0 with an empty report (measured on the
    CI host); the modules used to plan a new VG from it. Now: one clear sentence, no read."""
    monkeypatch.undo()
    runner = FakeRunner([(0, '{"report": []}', "")])
    with pytest.raises(StrataError) as err:
        lvm.read_state(runner, dev_dir=_tree(tmp_path)[0], proc=str(tmp_path / "proc"), sysfs=str(tmp_path / "sys"))
    assert "device-mapper is not available" in err.value.msg and runner.calls == []
    assert "modprobe dm_mod" in err.value.hint


def test_dev_entry_exists(tmp_path):
    (tmp_path / "disk").mkdir()
    (tmp_path / "null").symlink_to("/nonexistent")   # a dangling link is an entry too
    assert lvm.dev_entry_exists("disk", str(tmp_path)) and lvm.dev_entry_exists("null", str(tmp_path))
    assert not lvm.dev_entry_exists("data", str(tmp_path))
