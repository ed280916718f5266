# -*- coding: utf-8 -*-
"""Every planner decision, on LVM state captured from the VM's real lvm2."""
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core import devices, sizes
from ansible_collections.strata.storage.plugins.module_utils.lvm import planner as lvm_planner
from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInfo
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.lvm.planner import (
    ThinPoolRequest, ThinVolumeRequest, VgRequest, plan_thinpool, plan_vg, profile_path, render_profile,
)
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.fixtures import lvm_state

MIB = 1024 ** 2


@pytest.fixture(autouse=True)
def path_keys(monkeypatch):
    monkeypatch.setattr(devices, "device_key", lambda p: ("path", p))
    monkeypatch.setattr(lvm_planner, "device_key", lambda p: ("path", p))


def inspector(**kinds):
    """inspect(path) for fake devices: blank unless named (ext4, lvm2, missing)."""
    def inspect(path):
        info = DeviceInfo(path=path, realpath=path, exists=True, is_block=True, size=1 << 30)
        kind = kinds.get(path.rsplit("/", 1)[-1], "blank")
        if kind == "missing":
            return DeviceInfo(path=path, realpath=path)
        if kind == "ext4":
            info.signatures = ["holds an ext4 signature (filesystem)"]
        if kind == "lvm2":
            info.signatures = ["holds an LVM2_member signature (raid)"]
        return info
    return inspect


def cmds(plan):
    return [a.cmd for a in plan.actions]


def vg_pvs(state, vg="capvg"):
    return sorted(pv.name for pv in state.pvs_of(vg))


def orphan(state):
    return [pv.name for pv in state.pvs if not pv.vg_name][0]


# ------------------------------------------------------------------ volume groups

def test_vg_created_on_blank_disks_with_extent_size():
    plan = plan_vg(VgRequest(name="data", devices=["/dev/vdb", "/dev/vdc"], pe_size=8 * MIB),
                   lvm_state("empty"), inspector())
    assert cmds(plan) == [["pvcreate", "/dev/vdb"], ["pvcreate", "/dev/vdc"],
                          ["vgcreate", "--physicalextentsize", "8192k", "data", "/dev/vdb", "/dev/vdc"]]
    assert plan.before == {"state": "absent"}
    assert plan.after["pvs"] == ["/dev/vdb", "/dev/vdc"] and plan.after["extent_size"] == 8 * MIB


def test_vg_matching_its_pvs_plans_nothing_and_inspects_nothing():
    state = lvm_state("vg_two_pvs_one_orphan")

    def no_inspect(path):
        raise AssertionError("members must not be probed again: %s" % path)
    plan = plan_vg(VgRequest(name="capvg", devices=vg_pvs(state), pe_size=4 * MIB), state, no_inspect)
    assert plan.actions == [] and plan.before == plan.after


def test_vg_extended_with_a_new_disk():
    state = lvm_state("vg_two_pvs_one_orphan")
    plan = plan_vg(VgRequest(name="capvg", devices=vg_pvs(state) + ["/dev/vdz"]), state, inspector())
    assert cmds(plan) == [["pvcreate", "/dev/vdz"], ["vgextend", "capvg", "/dev/vdz"]]


def test_unlisted_pvs_are_kept_without_reduce():
    state = lvm_state("vg_two_pvs_one_orphan")
    plan = plan_vg(VgRequest(name="capvg", devices=vg_pvs(state)[:1]), state, inspector())
    assert plan.actions == []
    assert "not listed; kept" in plan.notes[0]


def test_orphan_pv_needs_force_and_is_then_wiped():
    state = lvm_state("vg_two_pvs_one_orphan")
    lone = orphan(state)
    name = lone.rsplit("/", 1)[-1]
    with pytest.raises(StrataError, match="LVM2_member"):
        plan_vg(VgRequest(name="capvg", devices=vg_pvs(state) + [lone]), state, inspector(**{name: "lvm2"}))
    plan = plan_vg(VgRequest(name="capvg", devices=vg_pvs(state) + [lone], force=[lone]), state,
                   inspector(**{name: "lvm2"}))
    assert cmds(plan) == [["wipefs", "--all", lone], ["pvcreate", lone], ["vgextend", "capvg", lone]]


def test_pv_of_another_vg_is_refused_even_forced():
    state = lvm_state("vg_two_pvs_one_orphan")
    member = vg_pvs(state)[0]
    with pytest.raises(StrataError, match="is a PV of volume group capvg"):
        plan_vg(VgRequest(name="other", devices=[member], force=[member]), state, inspector())


def test_ext4_disk_refused_and_nothing_planned():
    with pytest.raises(StrataError) as err:
        plan_vg(VgRequest(name="data", devices=["/dev/vdb", "/dev/vdc"]), lvm_state("empty"),
                inspector(vdc="ext4"))
    assert "/dev/vdc holds an ext4 signature" in err.value.msg
    assert "/dev/vdb" not in err.value.details["refused"]


def test_missing_device_and_no_devices():
    with pytest.raises(StrataError, match="/dev/vdq does not exist"):
        plan_vg(VgRequest(name="data", devices=["/dev/vdq"]), lvm_state("empty"), inspector(vdq="missing"))
    with pytest.raises(StrataError, match="no devices were given"):
        plan_vg(VgRequest(name="data"), lvm_state("empty"), inspector())


def test_same_device_twice_and_bad_names():
    with pytest.raises(StrataError, match="same device twice"):
        plan_vg(VgRequest(name="data", devices=["/dev/vdb", "/dev/vdb"]), lvm_state("empty"), inspector())
    for bad in ("-data", "da ta", "..", "x" * 128):
        with pytest.raises(StrataError, match="not valid for LVM"):
            plan_vg(VgRequest(name=bad, devices=["/dev/vdb"]), lvm_state("empty"), inspector())


def test_extent_size_cannot_change():
    state = lvm_state("vg_two_pvs_one_orphan")
    with pytest.raises(StrataError, match="extent size 4M, not the requested 8M"):
        plan_vg(VgRequest(name="capvg", devices=vg_pvs(state), pe_size=8 * MIB), state, inspector())


def test_reduce_free_pv_removes_and_unlabels_it():
    state = lvm_state("vg_two_pvs_one_orphan")
    keep, leave = vg_pvs(state)
    plan = plan_vg(VgRequest(name="capvg", devices=[keep], reduce=True), state, inspector())
    assert cmds(plan) == [["vgreduce", "capvg", leave], ["pvremove", leave]]
    assert plan.after["pvs"] == [keep]


def _allocated(state):
    used = [pv for pv in state.pvs_of("capvg") if pv.pe_alloc_count]
    free = [pv for pv in state.pvs_of("capvg") if not pv.pe_alloc_count]
    return used, free


def test_reduce_pv_with_extents_needs_pvmove():
    state = lvm_state("lv_types")
    used = _allocated(state)[0]
    keep = [pv.name for pv in state.pvs_of("capvg") if pv is not used[0]]
    with pytest.raises(StrataError, match="holds 103 allocated extents") as err:
        plan_vg(VgRequest(name="capvg", devices=keep, reduce=True), state, inspector())
    assert "pvmove: true" in err.value.hint
    plan = plan_vg(VgRequest(name="capvg", devices=keep, reduce=True, pvmove=True), state, inspector())
    assert cmds(plan) == [["pvmove", "--autobackup", "y", used[0].name],
                          ["vgreduce", "capvg", used[0].name], ["pvremove", used[0].name]]


def test_reduce_with_pvmove_refused_when_remaining_pvs_lack_room():
    state = lvm_state("lv_types")
    used = _allocated(state)[0]
    with pytest.raises(StrataError, match="have only"):
        plan_vg(VgRequest(name="capvg", devices=[used[0].name], reduce=True, pvmove=True), state, inspector())


def test_replace_a_disk_adds_first_then_moves():
    state = lvm_state("lv_types")
    used = _allocated(state)[0]
    keep = [pv.name for pv in state.pvs_of("capvg") if pv is not used[0]] + ["/dev/vdz"]
    plan = plan_vg(VgRequest(name="capvg", devices=keep, reduce=True, pvmove=True), state, inspector())
    assert [c[0] for c in cmds(plan)] == ["pvcreate", "vgextend", "pvmove", "vgreduce", "pvremove"]


def test_remove_vg_with_lvs_needs_remove_lvs():
    state = lvm_state("thinpool")
    with pytest.raises(StrataError, match="holds logical volumes pool, thin1, thin2"):
        plan_vg(VgRequest(name="capvg", state="absent"), state, inspector())
    plan = plan_vg(VgRequest(name="capvg", state="absent", remove_lvs=True), state, inspector())
    assert cmds(plan) == [["vgremove", "--yes", "capvg"], ["pvremove"] + vg_pvs(state)]
    assert plan.after == {"state": "absent"}


def test_remove_absent_vg_is_a_no_op():
    assert plan_vg(VgRequest(name="nothere", state="absent"), lvm_state("empty"), inspector()).actions == []


def test_remove_vg_with_open_lv_is_refused():
    state = lvm_state("thinpool")
    state.lv("capvg", "thin1").open = True
    with pytest.raises(StrataError, match="open logical volumes thin1"):
        plan_vg(VgRequest(name="capvg", state="absent", remove_lvs=True), state, inspector())


def test_reduce_skips_missing_pvs_with_a_warning():
    state = lvm_state("missing_pv")
    present = [pv.name for pv in state.pvs_of("capvg2") if not pv.missing]
    plan = plan_vg(VgRequest(name="capvg2", devices=present, reduce=True), state, inspector())
    assert plan.actions == []
    assert "missing PVs" in plan.warnings[0]


# ------------------------------------------------------------------ thin pools

def pool_req(**kw):
    kw.setdefault("vg", "capvg")
    kw.setdefault("name", "pool")
    return ThinPoolRequest(**kw)


def size(text):
    return sizes.parse_size(text, allow_relative=True)


def no_files(path):
    return None


def test_pool_created_with_every_option_and_a_profile():
    state = lvm_state("vg_two_pvs_one_orphan")
    req = pool_req(name="tp", size=size("200M"), metadata_size=size("8M"), chunk_size=128 * 1024, zero=False,
                   discards="passdown", stripes=2, stripe_size=64 * 1024, pvs=vg_pvs(state),
                   autoextend_threshold=80, volumes=[ThinVolumeRequest("v1", size("100M"))])
    plan = plan_thinpool(req, state, no_files)
    assert plan.actions[0].path == profile_path("capvg", "tp")
    assert plan.actions[0].content == render_profile("capvg", "tp", 80, 20)
    assert cmds(plan)[1:] == [
        ["lvcreate", "--yes", "--type", "thin-pool", "--size", "204800k", "--name", "tp",
         "--poolmetadatasize", "8192k", "--chunksize", "128k", "--zero", "n", "--discards", "passdown",
         "--stripes", "2", "--stripesize", "64k", "--metadataprofile", "strata-thinpool-capvg-tp", "capvg"]
        + vg_pvs(state),
        ["lvcreate", "--yes", "--type", "thin", "--virtualsize", "102400k", "--thinpool", "tp", "--name", "v1",
         "capvg"],
    ]


def test_pool_percent_size_is_passed_to_lvm_at_creation():
    plan = plan_thinpool(pool_req(name="tp", size=size("100%FREE")), lvm_state("vg_two_pvs_one_orphan"), no_files)
    assert cmds(plan) == [["lvcreate", "--yes", "--type", "thin-pool", "--extents", "100%FREE", "--name", "tp",
                           "capvg"]]
    assert "resolved by LVM at creation" in plan.notes[0]


def test_captured_pool_is_idempotent():
    req = pool_req(size=size("200M"), chunk_size=128 * 1024, zero=False, discards="passdown",
                   volumes=[ThinVolumeRequest("thin1", size("100M")), ThinVolumeRequest("thin2", size("300M"))])
    plan = plan_thinpool(req, lvm_state("thinpool"), no_files)
    assert plan.actions == []
    assert plan.before["volumes"] == plan.after["volumes"]


def test_sizes_round_up_to_extents_and_one_extent_below_is_the_same():
    # 197M rounds up to the pool's 200M; 196M is one 4M extent below: neither is a change
    for text in ("197M", "200M", "196M"):
        assert plan_thinpool(pool_req(size=size(text)), lvm_state("thinpool"), no_files).actions == []
    # 201M rounds up to 204M: a real growth request, even though it is within one extent
    assert cmds(plan_thinpool(pool_req(size=size("201M")), lvm_state("thinpool"), no_files)) == [
        ["lvextend", "--size", "208896k", "capvg/pool"]]


def test_relative_size_on_existing_pool_is_not_reapplied():
    plan = plan_thinpool(pool_req(size=size("100%FREE")), lvm_state("thinpool"), no_files)
    assert plan.actions == [] and "applies at creation only" in plan.notes[0]


def test_pool_grows_and_refuses_to_shrink():
    state = lvm_state("thinpool")
    plan = plan_thinpool(pool_req(size=size("300M")), state, no_files)
    assert cmds(plan) == [["lvextend", "--size", "307200k", "capvg/pool"]]
    with pytest.raises(StrataError, match="cannot shrink"):
        plan_thinpool(pool_req(size=size("100M")), state, no_files)


def test_pool_larger_than_free_space_is_refused():
    with pytest.raises(StrataError, match="needs .* but volume group capvg has"):
        plan_thinpool(pool_req(name="big", size=size("10G")), lvm_state("vg_two_pvs_one_orphan"), no_files)
    with pytest.raises(StrataError, match="growing thin pool capvg/pool to 10G"):
        plan_thinpool(pool_req(size=size("10G")), lvm_state("thinpool"), no_files)


def test_immutable_pool_options_are_refused():
    state = lvm_state("thinpool")
    with pytest.raises(StrataError, match="chunk size 128K, not the requested 64K"):
        plan_thinpool(pool_req(chunk_size=64 * 1024), state, no_files)


def test_changeable_pool_options_use_lvchange():
    plan = plan_thinpool(pool_req(zero=True, discards="nopassdown"), lvm_state("thinpool"), no_files)
    assert cmds(plan) == [["lvchange", "--zero", "y", "capvg/pool"],
                          ["lvchange", "--discards", "nopassdown", "capvg/pool"]]


def test_metadata_grows():
    state = lvm_state("thinpool")
    meta = state.lv("capvg", "pool").metadata_size
    plan = plan_thinpool(pool_req(metadata_size=sizes.parse_size("%dB" % (meta + 8 * MIB))), state, no_files)
    assert cmds(plan) == [["lvextend", "--poolmetadatasize", sizes.to_kib_arg(meta + 8 * MIB), "capvg/pool"]]


def test_autoextend_profile_written_and_attached_then_idempotent():
    state = lvm_state("thinpool")
    req = pool_req(autoextend_threshold=70, autoextend_percent=25)
    plan = plan_thinpool(req, state, no_files)
    assert plan.actions[0].path == "/etc/lvm/profile/strata-thinpool-capvg-pool.profile"
    assert "thin_pool_autoextend_threshold = 70" in plan.actions[0].content
    assert cmds(plan)[1:] == [["lvchange", "--metadataprofile", "strata-thinpool-capvg-pool", "capvg/pool"]]
    # once written and attached, nothing more to do
    state.lv("capvg", "pool").profile = "strata-thinpool-capvg-pool"
    text = render_profile("capvg", "pool", 70, 25)
    assert plan_thinpool(req, state, lambda p: text).actions == []
    # only the percent given: the threshold already written is kept
    plan = plan_thinpool(pool_req(autoextend_percent=30), state, lambda p: text)
    assert "thin_pool_autoextend_threshold = 70" in plan.actions[0].content
    assert "thin_pool_autoextend_percent = 30" in plan.actions[0].content


@pytest.mark.parametrize("kw, fragment", [
    ({"autoextend_threshold": 40}, "between 50 and 100"),
    ({"autoextend_percent": 0}, "between 1 and 1000"),
])
def test_autoextend_bounds(kw, fragment):
    with pytest.raises(StrataError, match=fragment):
        plan_thinpool(pool_req(**kw), lvm_state("thinpool"), no_files)


def test_thin_volumes_grow_create_remove_and_refuse_shrink():
    state = lvm_state("thinpool")
    plan = plan_thinpool(pool_req(volumes=[
        ThinVolumeRequest("thin1", size("152M")), ThinVolumeRequest("thin2", state="absent"),
        ThinVolumeRequest("thin3", size("64M")), ThinVolumeRequest("gone", state="absent")]), state, no_files)
    assert cmds(plan) == [
        ["lvextend", "--size", "155648k", "capvg/thin1"],
        ["lvremove", "--yes", "capvg/thin2"],
        ["lvcreate", "--yes", "--type", "thin", "--virtualsize", "65536k", "--thinpool", "pool", "--name", "thin3",
         "capvg"],
    ]
    assert plan.after["volumes"] == {"thin1": 152 * MIB, "thin3": 64 * MIB}
    with pytest.raises(StrataError, match="refusing to shrink"):
        plan_thinpool(pool_req(volumes=[ThinVolumeRequest("thin2", size("100M"))]), state, no_files)


def test_thin_volume_errors():
    state = lvm_state("thinpool")
    with pytest.raises(StrataError, match="no size was given"):
        plan_thinpool(pool_req(volumes=[ThinVolumeRequest("new")]), state, no_files)
    with pytest.raises(StrataError, match="must be absolute"):
        plan_thinpool(pool_req(volumes=[ThinVolumeRequest("new", size("10%VG"))]), state, no_files)
    state.lv("capvg", "thin2").open = True
    with pytest.raises(StrataError, match="thin volume capvg/thin2 is open"):
        plan_thinpool(pool_req(volumes=[ThinVolumeRequest("thin2", state="absent")]), state, no_files)


def test_overcommit_limit_and_warning():
    state = lvm_state("thinpool")   # 400M of thin volumes in a 200M pool
    with pytest.raises(StrataError, match="2.00 times the pool's 200M; max_overcommit is 1.50"):
        plan_thinpool(pool_req(max_overcommit=1.5), state, no_files)
    plan = plan_thinpool(pool_req(), state, no_files)
    assert "overcommitted 2.00 times" in plan.warnings[0]
    assert plan_thinpool(pool_req(max_overcommit=2.0), state, no_files).warnings == []


def test_pool_errors():
    with pytest.raises(StrataError, match="volume group nope does not exist"):
        plan_thinpool(pool_req(vg="nope", size=size("1G")), lvm_state("empty"), no_files)
    with pytest.raises(StrataError, match="no size was given"):
        plan_thinpool(pool_req(name="fresh"), lvm_state("thinpool"), no_files)
    with pytest.raises(StrataError, match="is not a thin pool"):
        plan_thinpool(pool_req(name="linear", size=size("40M")), lvm_state("lv_types"), no_files)


def test_pool_removal_guards():
    state = lvm_state("thinpool")
    with pytest.raises(StrataError, match="holds thin volumes thin1, thin2"):
        plan_thinpool(pool_req(state="absent"), state, no_files)
    plan = plan_thinpool(pool_req(state="absent", remove_volumes=True), state, no_files)
    assert cmds(plan) == [["lvremove", "--yes", "capvg/pool"]]
    assert plan_thinpool(pool_req(name="none", state="absent"), state, no_files).actions == []


def test_error_when_full_at_creation_and_later():
    state = lvm_state("vg_two_pvs_one_orphan")
    req = ThinPoolRequest(vg="capvg", name="tiny", size=sizes.parse_size("64M"), error_when_full=True)
    plan = plan_thinpool(req, state, lambda path: None)
    # lvcreate refuses --errorwhenfull for thin pools (lvm2 2.03.16): set right after creation
    assert "--errorwhenfull" not in plan.actions[0].cmd
    assert plan.actions[1].cmd == ["lvchange", "--errorwhenfull", "y", "capvg/tiny"]
    assert plan.after["error_when_full"] is True
    pool_state = lvm_state("thinpool")   # captured pool queues when full (LVM's default)
    req = ThinPoolRequest(vg="capvg", name="pool", error_when_full=True)
    plan = plan_thinpool(req, pool_state, lambda path: None)
    assert [a.cmd for a in plan.actions] == [["lvchange", "--errorwhenfull", "y", "capvg/pool"]]
    req = ThinPoolRequest(vg="capvg", name="pool", error_when_full=False)
    assert plan_thinpool(req, pool_state, lambda path: None).actions == []


def test_full_pool_is_warned_about():
    state = lvm_state("thinpool")
    pool = state.lv("capvg", "pool")
    pool.data_percent = 100.0
    plan = plan_thinpool(ThinPoolRequest(vg="capvg", name="pool"), state, lambda path: None)
    assert plan.actions == []
    assert any("is full (data 100.00%)" in w for w in plan.warnings)
