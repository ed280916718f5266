# -*- coding: utf-8 -*-
"""pvmove / pvresize / repair planning on LVM state captured from the VM."""
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core import devices, sizes
from ansible_collections.strata.storage.plugins.module_utils.lvm import pv_planner as pvp
from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInfo
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.fixtures import lvm_state

MIB = 1024 ** 2


@pytest.fixture(autouse=True)
def path_keys(monkeypatch):
    monkeypatch.setattr(devices, "device_key", lambda p: ("path", p))


def cmds(plan):
    return [a.cmd for a in plan.actions]


def inspector(**kinds):
    def inspect(path):
        info = DeviceInfo(path=path, realpath=path, exists=True, is_block=True, size=512 * MIB)
        if kinds.get(path) == "ext4":
            info.signatures = ["holds an ext4 signature (filesystem)"]
        return info
    return inspect


# --------------------------------------------------------------------------- move

def test_move_all_extents_anywhere_or_to_named_pvs():
    state = lvm_state("lv_types")
    p = pvp.plan_pv_move(pvp.PvMoveRequest("/dev/loop1"), state)
    assert cmds(p) == [["pvmove", "--autobackup", "y", "--interval", "5", "/dev/loop1"]]
    assert p.after["pe_alloc_count"] == 0 and p.before["pe_alloc_count"] == 32
    p = pvp.plan_pv_move(pvp.PvMoveRequest("/dev/loop1", destinations=["/dev/loop2"], background=True), state)
    assert cmds(p) == [["pvmove", "--autobackup", "y", "--background", "/dev/loop1", "/dev/loop2"]]


def test_move_refusals():
    state = lvm_state("lv_types")
    pvp.find_pv(state, "/dev/loop10").pe_alloc_count = 100
    with pytest.raises(StrataError, match="only 27 free extents"):
        pvp.plan_pv_move(pvp.PvMoveRequest("/dev/loop0", destinations=["/dev/loop10"]), state)
    with pytest.raises(StrataError, match="not a PV of volume group capvg"):
        pvp.plan_pv_move(pvp.PvMoveRequest("/dev/loop1", destinations=["/dev/vdz"]), state)
    with pytest.raises(StrataError, match="is the PV being emptied"):
        pvp.plan_pv_move(pvp.PvMoveRequest("/dev/loop1", destinations=["/dev/loop1"]), state)
    with pytest.raises(StrataError, match="not a PV of any volume group"):
        pvp.plan_pv_move(pvp.PvMoveRequest("/dev/vdz"), state)
    with pytest.raises(StrataError, match="at least 1 second"):
        pvp.move_request_from_params({"device": "/dev/loop1", "interval": -1})


def test_move_of_empty_pv_is_no_change_and_missing_pv_refused():
    state = lvm_state("raid1_missing_leg")
    assert cmds(pvp.plan_pv_move(pvp.PvMoveRequest("/dev/loop11"), state)) == []


def test_move_in_progress_reports_instead_of_starting(monkeypatch):
    state = lvm_state("lv_types")
    pvmove = state.lv_any("capvg", "linear")
    monkeypatch.setattr(pvmove, "name", "pvmove0")
    monkeypatch.setattr(pvmove, "segtype", "mirror")
    monkeypatch.setattr(pvmove, "devices", ["/dev/loop1", "/dev/loop2"])
    monkeypatch.setattr(pvmove, "copy_percent", 42.5)
    p = pvp.plan_pv_move(pvp.PvMoveRequest("/dev/loop1"), state)
    assert cmds(p) == [] and p.after["move_percent"] == 42.5 and "42.5% done" in p.notes[0]
    assert pvp.move_in_progress(state, pvp.find_pv(state, "/dev/loop2")) is None


def test_move_interval_is_checked_not_replaced():
    assert pvp.move_request_from_params({"device": "/dev/loop0"}).interval == 5
    assert pvp.move_request_from_params({"device": "/dev/loop0", "interval": 2}).interval == 2
    for bad in (0, -1):
        with pytest.raises(StrataError, match="at least 1 second"):
            pvp.move_request_from_params({"device": "/dev/loop0", "interval": bad})


def test_parse_pvmove_progress():
    text = "  /dev/loop0: Moved: 12.50%\n  /dev/loop0: Moved: 93.33%\n  /dev/loop0: Moved: 100.00%\n"
    assert pvp.parse_pvmove_progress(text) == [
        {"device": "/dev/loop0", "percent": 12.5}, {"device": "/dev/loop0", "percent": 93.33},
        {"device": "/dev/loop0", "percent": 100.0}]
    assert pvp.parse_pvmove_progress("") == []


# --------------------------------------------------------------------------- resize

def test_resize_is_no_change_when_the_device_did_not_grow():
    # dev_size 512M, 127 extents of 4M + 1M pe_start: 3M of slack is less than an extent
    state = lvm_state("lv_types")
    assert cmds(pvp.plan_pv_resize(pvp.PvResizeRequest("/dev/loop1"), state)) == []


def test_resize_after_growth_and_with_a_size():
    state = lvm_state("lv_types")
    pv = pvp.find_pv(state, "/dev/loop1")
    pv.dev_size = 1024 * MIB
    p = pvp.plan_pv_resize(pvp.PvResizeRequest("/dev/loop1"), state)
    assert cmds(p) == [["pvresize", "/dev/loop1"]] and p.after["pe_count"] == 255
    p = pvp.plan_pv_resize(pvp.PvResizeRequest("/dev/loop1", size=sizes.parse_size("769M")), state)
    assert cmds(p) == [["pvresize", "--setphysicalvolumesize", "787456k", "/dev/loop1"]] and p.after["pe_count"] == 192
    with pytest.raises(StrataError, match="the device is only 1G"):
        pvp.plan_pv_resize(pvp.PvResizeRequest("/dev/loop1", size=sizes.parse_size("2G")), state)


def test_shrink_needs_flag_and_a_free_tail():
    state = lvm_state("lv_types")
    req = pvp.PvResizeRequest("/dev/loop1", size=sizes.parse_size("257M"))
    with pytest.raises(StrataError, match="refusing to shrink") as exc:
        pvp.plan_pv_resize(req, state)
    assert "allow_shrink" in exc.value.hint
    req.allow_shrink = True
    pv = pvp.find_pv(state, "/dev/loop1")
    pv.segments = [(0, 8, "mirror_rimage_1"), (70, 2, "pool_tmeta")]
    with pytest.raises(StrataError, match="LVs pool_tmeta hold extents beyond that"):
        pvp.plan_pv_resize(req, state)
    pv.segments = [(0, 8, "mirror_rimage_1")]
    p = pvp.plan_pv_resize(req, state)
    assert cmds(p) == [["pvresize", "--yes", "--setphysicalvolumesize", "263168k", "/dev/loop1"]]
    assert p.after["pe_count"] == 64


def test_shrink_uses_the_segment_map_from_fullreport():
    """The PV's own map from the captured fullreport decides; an unknown map refuses."""
    state = lvm_state("lv_types")
    pv = pvp.find_pv(state, "/dev/loop1")
    last_used = max(start + size for start, size, _lv in pv.segments)
    holders = sorted({lv for start, size, lv in pv.segments if start + size == last_used})
    too_small = pvp.PvResizeRequest("/dev/loop1", size=sizes.parse_size("%dM" % (1 + 4 * (last_used - 1))),
                                    allow_shrink=True)
    with pytest.raises(StrataError, match="LVs %s hold extents beyond that" % ", ".join(holders)):
        pvp.plan_pv_resize(too_small, state)
    fits = pvp.PvResizeRequest("/dev/loop1", size=sizes.parse_size("%dM" % (1 + 4 * last_used)), allow_shrink=True)
    assert pvp.plan_pv_resize(fits, state).after["pe_count"] == last_used
    pv.segments = None
    with pytest.raises(StrataError, match="needs its segment map"):
        pvp.plan_pv_resize(fits, state)


def test_device_that_shrank_under_lvm_is_an_error():
    state = lvm_state("lv_types")
    pvp.find_pv(state, "/dev/loop1").dev_size = 256 * MIB
    with pytest.raises(StrataError, match="shrank under LVM"):
        pvp.plan_pv_resize(pvp.PvResizeRequest("/dev/loop1"), state)


def test_degraded_raid1_is_found_and_repaired_onto_a_pv_spare():
    state = lvm_state("raid1_missing_leg")
    assert pvp.degraded_lvs(state, "capvg3") == {"r1": "uses a missing PV"}
    p = pvp.plan_repair(pvp.RepairRequest(vg="capvg3", spares=["/dev/loop11"], remove_missing=True), state, inspector())
    assert cmds(p) == [["lvconvert", "--repair", "--yes", "capvg3/r1", "/dev/loop11"],
                       ["vgreduce", "--removemissing", "capvg3"]]
    assert p.before["lvs"]["r1"]["uses_missing_pv"] and not p.after["lvs"]["r1"]["uses_missing_pv"]
    assert p.after["missing_pv_count"] == 0


def test_blank_spare_becomes_a_pv_and_guarded():
    state = lvm_state("raid1_missing_leg")
    p = pvp.plan_repair(pvp.RepairRequest(vg="capvg3", spares=["/dev/vdz"]), state, inspector())
    assert cmds(p) == [["pvcreate", "/dev/vdz"], ["vgextend", "capvg3", "/dev/vdz"],
                       ["lvconvert", "--repair", "--yes", "capvg3/r1", "/dev/vdz"]]
    assert "remove_missing" in p.notes[0]
    with pytest.raises(StrataError, match="refusing to use /dev/vdz"):
        pvp.plan_repair(pvp.RepairRequest(vg="capvg3", spares=["/dev/vdz"]), state, inspector(**{"/dev/vdz": "ext4"}))
    p = pvp.plan_repair(pvp.RepairRequest(vg="capvg3", spares=["/dev/vdz"], force=["/dev/vdz"]), state,
                        inspector(**{"/dev/vdz": "ext4"}))
    assert cmds(p)[0] == ["wipefs", "--all", "/dev/vdz"]


@pytest.mark.parametrize("spares, message", [
    ([], "name spare PVs"),
    (["/dev/loop0"], "is a PV of volume group capvg"),
    (["/dev/loop8"], "need"),
])
def test_repair_refusals(spares, message):
    state = lvm_state("raid1_missing_leg")
    if spares == ["/dev/loop8"]:
        pvp.find_pv(state, "/dev/loop8").pe_alloc_count = 127
        message = "needs 5 extents"
    with pytest.raises(StrataError, match=message):
        pvp.plan_repair(pvp.RepairRequest(vg="capvg3", spares=spares), state, inspector())


def test_remove_missing_refused_while_a_linear_lv_uses_it():
    state = lvm_state("raid1_missing_leg")
    lv = state.lv("capvg2", "onfirst")
    lv.devices = ["[unknown]"]
    with pytest.raises(StrataError, match="onfirst still use them"):
        pvp.plan_repair(pvp.RepairRequest(vg="capvg2", remove_missing=True), state, inspector())
    p = pvp.plan_repair(pvp.RepairRequest(vg="capvg2"), state, inspector())
    assert cmds(p) == [] and "no redundancy" in p.warnings[0]


def test_remove_missing_when_no_lv_uses_it_and_healthy_vg_is_no_change():
    state = lvm_state("missing_pv")
    p = pvp.plan_repair(pvp.RepairRequest(vg="capvg2", remove_missing=True), state, inspector())
    assert cmds(p) == [["vgreduce", "--removemissing", "capvg2"]]
    assert cmds(pvp.plan_repair(pvp.RepairRequest(vg="capvg", remove_missing=True), state, inspector())) == []
    view = pvp.repair_view(state, "capvg")
    assert view["lvs"]["mirror"]["sync_percent"] == 100.0 and view["lvs"]["mirror"]["health"] == "ok"
    assert "linear" not in view["lvs"]


def test_inactive_lv_is_activated_degraded_first_and_failed_leg_by_health():
    state = lvm_state("raid1_missing_leg")
    state.lv("capvg3", "r1").active = False
    p = pvp.plan_repair(pvp.RepairRequest(vg="capvg3", spares=["/dev/loop11"]), state, inspector())
    assert cmds(p)[0] == ["lvchange", "--activate", "y", "--activationmode", "degraded", "capvg3/r1"]
    state = lvm_state("lv_types")
    state.lv("capvg", "raid5").health = "refresh needed"
    assert pvp.degraded_lvs(state, "capvg") == {"raid5": "health refresh needed"}
    with pytest.raises(StrataError, match="does not exist"):
        pvp.plan_repair(pvp.RepairRequest(vg="capvg", lvs=["nope"]), state, inspector())
