# -*- coding: utf-8 -*-
"""Every lvm_lv planner decision, on LVM state captured from the VM's real lvm2 2.03.16
(lv_types: VG capvg, 4 MiB extents, linear/striped/raid1/raid5/raid6/raid10/mirror/snapshots)."""
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core import devices, sizes
from ansible_collections.strata.storage.plugins.module_utils.lvm import planner as lvm_planner
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.filesystem import FsInfo
from ansible_collections.strata.storage.plugins.module_utils.lvm.lv_planner import (
    GrowMemo, fs_reads_for, grow_memo, layout_of, lv_view, plan_lv, request_from_params,
)
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.fixtures import lvm_state

MIB = 1024 ** 2
EXT = 4 * MIB


@pytest.fixture(autouse=True)
def path_keys(monkeypatch):
    monkeypatch.setattr(devices, "device_key", lambda p: ("path", p))
    monkeypatch.setattr(lvm_planner, "device_key", lambda p: ("path", p))


@pytest.fixture(scope="module")
def state():
    return lvm_state("lv_types")


# lv_types after `lvremove capvg/linear_snap`: linear is then no snapshot origin, which LVM
# resizes while active (with an active classic snapshot it refuses, see
# test_resizing_an_active_snapshot_origin_is_refused)
PLAIN = ("linear_snap",)


@pytest.fixture(scope="module")
def plain():
    return lvm_state("lv_types", drop_lvs=PLAIN)


def req(**params):
    params.setdefault("vg", "capvg")
    return request_from_params(params)


def cmds(plan):
    return [a.cmd for a in plan.actions]


def fs(device, fstype=None, label=None, mounted=None, min_size=None, pttype=None):
    values = {}
    if fstype:
        values["TYPE"] = fstype
    if pttype:
        values["PTTYPE"] = pttype
    return FsInfo(device=device, type=fstype, label=label, uuid="u-1" if fstype else None, pttype=pttype,
                  mountpoints=[mounted] if mounted else [], min_size=min_size, probe=values)


def facts(*infos):
    return {i.device: i for i in infos}


# ------------------------------------------------------------------ reading the layout

@pytest.mark.parametrize("name, kind, data, images, mirrors", [
    ("linear", "linear", 1, 1, 0),
    ("striped", "striped", 2, 2, 0),
    ("mirror", "raid1", 1, 2, 1),
    ("oldmirror", "mirror", 1, 2, 1),
    ("raid5", "raid5", 2, 3, 0),
    ("raid6", "raid6", 3, 5, 0),
    ("raid10", "raid10", 2, 4, 1),
])
def test_layout_of_captured_volumes(state, name, kind, data, images, mirrors):
    layout = layout_of(state.lv("capvg", name))
    assert (layout.type, layout.data_stripes, layout.images, layout.mirrors) == (kind, data, images, mirrors)


def test_view_lists_pvs_through_raid_images(state):
    view = lv_view(state.lv("capvg", "raid5"), state, {})
    assert view["devices"] == ["/dev/loop0", "/dev/loop1", "/dev/loop2"]
    assert view["data_stripes"] == 2 and view["stripe_size"] == 65536 and view["sync_percent"] == 100.0
    assert view["filesystem"] is None
    assert lv_view(None, state) == {"state": "absent"}


# ------------------------------------------------------------------ creation and rounding

@pytest.mark.parametrize("params, argv_tail, size", [
    ({"size": "10M"}, ["--size", "12288k", "--name", "new", "capvg"], 12 * MIB),
    ({"size": "8M"}, ["--size", "8192k", "--name", "new", "capvg"], 8 * MIB),
    # striped: rounded to extent x stripes (3 x 4M = 12M): 13M -> 24M
    ({"size": "13M", "type": "striped", "stripes": 3, "stripe_size": "64K"},
     ["--type", "striped", "--stripes", "3", "--stripesize", "64k", "--size", "24576k", "--name", "new", "capvg"],
     24 * MIB),
    ({"size": "13M", "stripes": 2}, ["--type", "striped", "--stripes", "2", "--size", "16384k", "--name", "new", "capvg"],
     16 * MIB),
    ({"size": "13M", "type": "raid1"}, ["--type", "raid1", "--mirrors", "1", "--size", "16384k", "--name", "new", "capvg"],
     16 * MIB),
    ({"size": "10M", "mirrors": 2, "region_size": "2M"},
     ["--type", "raid1", "--mirrors", "2", "--regionsize", "2048k", "--size", "12288k", "--name", "new", "capvg"], 12 * MIB),
    ({"size": "10M", "type": "raid5"}, ["--type", "raid5", "--stripes", "2", "--size", "16384k", "--name", "new", "capvg"],
     16 * MIB),
    ({"size": "10M", "type": "raid6"}, ["--type", "raid6", "--stripes", "3", "--size", "12288k", "--name", "new", "capvg"],
     12 * MIB),
    ({"size": "10M", "type": "raid10"},
     ["--type", "raid10", "--stripes", "2", "--mirrors", "1", "--size", "16384k", "--name", "new", "capvg"], 16 * MIB),
    ({"size": "10M", "type": "mirror"}, ["--type", "mirror", "--mirrors", "1", "--size", "12288k", "--name", "new", "capvg"],
     12 * MIB),
])
def test_create_every_layout_rounded_like_lvm(state, params, argv_tail, size):
    plan = plan_lv(req(name="new", **params), state)
    assert cmds(plan) == [["lvcreate", "--yes", "--wipesignatures", "y"] + argv_tail]
    assert plan.after["size"] == size and plan.before == {"state": "absent"}


@pytest.mark.parametrize("name, params", [
    ("linear", {"size": "40M"}), ("linear", {"size": "39M"}), ("linear", {"size": "37M"}),
    ("striped", {"size": "48M", "stripes": 2}), ("striped", {"size": "41M"}),
    ("mirror", {"size": "32M", "type": "raid1", "mirrors": 1}),
    ("raid5", {"size": "17M", "type": "raid5", "stripes": 2, "stripe_size": "64K"}),
    ("raid6", {"size": "24M", "type": "raid6", "stripes": 3}),
    ("raid10", {"size": "30M", "type": "raid10", "stripes": 2, "mirrors": 1}),
    ("oldmirror", {"size": "16M", "type": "mirror"}),
])
def test_existing_volumes_plan_nothing(state, name, params):
    plan = plan_lv(req(name=name, **params), state)
    assert plan.actions == []
    assert plan.after["size"] == state.lv("capvg", name).size


def test_create_on_named_pvs_and_placement_check(state):
    plan = plan_lv(req(name="new", size="80M", pvs=["/dev/loop1", "/dev/loop2"], type="raid1"), state)
    assert cmds(plan)[0][-2:] == ["/dev/loop1", "/dev/loop2"]
    with pytest.raises(StrataError, match="needs 3 physical volumes"):
        plan_lv(req(name="new", size="8M", type="raid5", pvs=["/dev/loop1", "/dev/loop2"]), state)
    with pytest.raises(StrataError, match="not a physical volume of volume group capvg"):
        plan_lv(req(name="new", size="8M", pvs=["/dev/sdz"]), state)


def test_create_needs_room_for_every_image(state):
    # loop0 has 96M free: 100M linear does not fit there
    with pytest.raises(StrataError, match="needs 100M but physical volumes /dev/loop0 have only 96M free"):
        plan_lv(req(name="new", size="100M", pvs=["/dev/loop0"]), state)
    # raid1 of 1G takes 2G + 2 rmeta extents; the VG has 1.86G free
    with pytest.raises(StrataError, match=r"needs 2\.01G but volume group capvg has only 1\.86G free") as exc:
        plan_lv(req(name="new", size="1G", type="raid1"), state)
    assert exc.value.details["needed"] == 2 * 1024 ** 3 + 2 * EXT


def test_create_percent_sizes_use_extents(state):
    plan = plan_lv(req(name="new", size="100%FREE"), state)
    assert cmds(plan) == [["lvcreate", "--yes", "--wipesignatures", "y", "--extents", "100%FREE", "--name", "new", "capvg"]]
    assert plan.after["size"] == state.vg("capvg").free
    plan = plan_lv(req(name="new", size="50%VG", type="raid1"), state)
    assert cmds(plan)[0][-5:] == ["--extents", "50%VG", "--name", "new", "capvg"]
    # raid1: half of (317 extents - 2 rmeta) -> 157 extents
    assert plan.after["size"] == 157 * EXT
    assert any("resolved by LVM at creation" in n for n in plan.notes)
    with pytest.raises(StrataError, match="ORIGIN applies to snapshots"):
        plan_lv(req(name="new", size="10%ORIGIN"), state)


def test_create_with_filesystem_and_inactive(state):
    plan = plan_lv(req(name="new", size="64M", filesystem={"type": "xfs", "label": "data", "options": "-m reflink=1"}),
                   state)
    assert cmds(plan)[1] == ["mkfs.xfs", "-L", "data", "-m", "reflink=1", "/dev/capvg/new"]
    assert plan.after["filesystem"] == {"type": "xfs", "label": "data", "uuid": None}
    plan = plan_lv(req(name="new", size="64M", active=False), state)
    assert cmds(plan)[1] == ["lvchange", "--activate", "n", "capvg/new"]
    with pytest.raises(StrataError, match="only be created on an active volume"):
        plan_lv(req(name="new", size="64M", active=False, filesystem={"type": "ext4"}), state)


@pytest.mark.parametrize("params, message", [
    ({"size": "8M", "type": "striped", "stripes": 1}, "needs at least 2 stripes"),
    ({"size": "8M", "type": "raid6", "stripes": 2}, "needs at least 3 stripes"),
    ({"size": "8M", "type": "raid1", "stripes": 2}, "stripes applies to striped"),
    ({"size": "8M", "type": "raid5", "mirrors": 2}, "mirrors applies to mirror"),
    ({"size": "8M", "type": "linear", "stripe_size": "64K"}, "stripe_size applies"),
    ({"size": "8M", "type": "striped", "stripes": 2, "region_size": "1M"}, "region_size applies"),
    ({"size": "8M", "type": "raid1", "mirrors": 0}, "mirrors of at least 1"),
    ({"size": "8M", "stripes": 2, "stripe_size": "48K"}, "must be a power of two"),
    ({"type": "raid1"}, "no size was given"),
    ({"size": "8M", "filesystem": {"type": "btrfs"}}, "type btrfs is not supported"),
    ({"size": "8M", "filesystem": {"type": "xfs", "label": "thirteen-char"}}, "longer than the 12 bytes"),
])
def test_bad_requests_refused(state, params, message):
    with pytest.raises(StrataError, match=message):
        plan_lv(req(name="new", **params), state)


def test_bad_names_and_missing_vg(state):
    with pytest.raises(StrataError, match="not valid for LVM"):
        plan_lv(req(name="-bad", size="8M"), state)
    with pytest.raises(StrataError, match="volume group nope does not exist"):
        plan_lv(req(vg="nope", name="x", size="8M"), state)


# ------------------------------------------------------------------ existing volumes: layout

@pytest.mark.parametrize("name, params, message", [
    ("linear", {"type": "raid1"}, "type linear, not raid1"),
    ("striped", {"stripes": 3}, "2 data stripes, not 3"),
    ("raid5", {"stripe_size": "128K"}, "stripe size 64K, not 128K"),
    ("mirror", {"mirrors": 2}, "1 mirrors, not 2"),
    ("raid10", {"region_size": "4M"}, "region size 2M, not 4M"),
    ("mirror", {"stripes": 2}, "stripes applies to striped"),
    ("pool", {"size": "1G"}, "is a thin pool"),
    ("linear_snap", {"size": "1G"}, "is a snapshot of linear"),
])
def test_layout_conversion_refused(state, name, params, message):
    with pytest.raises(StrataError, match=message):
        plan_lv(req(name=name, **params), state)


# ------------------------------------------------------------------ grow

def test_grow_absolute_with_mounted_filesystem(plain):
    state = plain
    info = fs("/dev/capvg/linear", "ext4", mounted="/srv")
    plan = plan_lv(req(name="linear", size="100M"), state, facts(info))
    assert cmds(plan) == [["lvextend", "--resizefs", "--size", "102400k", "capvg/linear"]]
    assert plan.after["size"] == 100 * MIB and plan.after["filesystem"]["type"] == "ext4"
    plan = plan_lv(req(name="linear", size="100M", resizefs=False), state, facts(info))
    assert cmds(plan) == [["lvextend", "--size", "102400k", "capvg/linear"]]
    assert plan.warnings and "keeps its size" in plan.warnings[0]


def test_grow_raid_rounds_to_data_stripes_and_checks_room(state):
    plan = plan_lv(req(name="raid5", size="30M"), state, {})
    assert cmds(plan) == [["lvextend", "--size", "32768k", "capvg/raid5"]]
    plan = plan_lv(req(name="striped", size="50M", pvs=["/dev/loop2", "/dev/loop3"]), state, {})
    assert cmds(plan) == [["lvextend", "--size", "57344k", "capvg/striped", "/dev/loop2", "/dev/loop3"]]
    with pytest.raises(StrataError, match="growing capvg/mirror needs 1.94G but volume group capvg has only 1.86G"):
        plan_lv(req(name="mirror", size="1G"), state, {})


def test_grow_forms_need_grow_true(plain):
    state = plain
    for size in ("+8M", "100%FREE", "50%VG"):
        plan = plan_lv(req(name="linear", size=size), state, {})
        assert plan.actions == [] and plan.notes, size
    plan = plan_lv(req(name="linear", size="+10M", grow=True), state, {})
    assert cmds(plan)[1:] == [["lvextend", "--size", "53248k", "capvg/linear"]]   # 40M + 10M -> 52M
    plan = plan_lv(req(name="linear", size="50%VG", grow=True), state, {})
    assert cmds(plan) == [["lvextend", "--size", "1298432k", "capvg/linear"]]   # 317 extents
    assert plan.after["size"] == 317 * EXT
    plan = plan_lv(req(name="linear", size="1%VG", grow=True), state, {})
    assert plan.actions == [] and "never shrinks" in plan.notes[-1]
    with pytest.raises(StrataError, match="PVS applies at creation only"):
        plan_lv(req(name="linear", size="10%PVS", grow=True), state, {})


# ------------------------------------------------------------------ +size / N%FREE once

def _applied(plan, state):
    """The state after a relative grow plan ran: the LV has the new size and its tag."""
    after = lvm_state("lv_types", drop_lvs=PLAIN)
    lv = after.lv("capvg", plan.after["name"])
    grown, lv.size = plan.after["size"] - lv.size, plan.after["size"]
    after.vgs["capvg"].free -= grown
    after.vgs["capvg"].free_count -= grown // EXT
    for pv in sorted((pv for pv in after.pvs if pv.vg_name == "capvg"), key=lambda pv: -pv.free):
        taken = min(pv.free, grown)
        pv.free, grown = pv.free - taken, grown - taken
    tag_cmd = plan.actions[0].cmd
    lv.tags = [tag_cmd[tag_cmd.index("--addtag") + 1]]
    return after


def test_plus_size_grows_once_and_is_idempotent_after():
    state = lvm_state("lv_types", drop_lvs=PLAIN)
    room = state.vg("capvg").free                     # linear: any PV's free extents
    plan = plan_lv(req(name="linear", size="+10M", grow=True), state, {})
    tag = "strata.grow.%d.%d.%d" % (40 * MIB, room, 52 * MIB)
    assert cmds(plan) == [["lvchange", "--addtag", tag, "capvg/linear"],           # remembered first
                          ["lvextend", "--size", "53248k", "capvg/linear"]]
    grown = _applied(plan, state)
    assert grow_memo(grown.lv("capvg", "linear")) == GrowMemo(40 * MIB, room, 52 * MIB)
    again = plan_lv(req(name="linear", size="+10M", grow=True), grown, {})
    assert again.actions == [] and "applied already" in again.notes[-1]
    # a larger +size grows to base + it, the tag moves along
    more = plan_lv(req(name="linear", size="+20M", grow=True), grown, {})
    assert cmds(more) == [
        ["lvchange", "--deltag", tag, "--addtag", "strata.grow.%d.%d.%d" % (40 * MIB, room, 60 * MIB), "capvg/linear"],
        ["lvextend", "--size", "61440k", "capvg/linear"]]
    # a smaller one never shrinks
    less = plan_lv(req(name="linear", size="+4M", grow=True), grown, {})
    assert less.actions == [] and "never shrinks" in less.notes[-1]


def test_plus_size_starts_a_new_base_after_a_resize_by_other_means():
    state = lvm_state("lv_types", drop_lvs=PLAIN)
    lv = state.lv("capvg", "linear")
    lv.tags = ["strata.grow.%d.0.%d" % (20 * MIB, 40 * MIB + 8 * MIB)]   # it was left at 48M, is 40M now
    plan = plan_lv(req(name="linear", size="+10M", grow=True), state, {})
    assert "not the 48M its last relative grow left" in plan.notes[0]
    assert cmds(plan)[1] == ["lvextend", "--size", "53248k", "capvg/linear"]      # 40M + 10M, not 20M + 10M
    assert cmds(plan)[0][:3] == ["lvchange", "--deltag", lv.tags[0]]


@pytest.mark.parametrize("tag", ["strata.grow.x.1.2", "strata.grow.1.2", "other.tag"])
def test_foreign_or_malformed_tags_are_not_a_memo(tag):
    state = lvm_state("lv_types", drop_lvs=PLAIN)
    state.lv("capvg", "linear").tags = [tag]
    assert grow_memo(state.lv("capvg", "linear")) is None
    plan = plan_lv(req(name="linear", size="+10M", grow=True), state, {})
    assert cmds(plan)[0][:2] == ["lvchange", "--addtag"]


def test_share_of_free_grows_once_from_the_room_it_first_saw():
    state = lvm_state("lv_types", drop_lvs=PLAIN)
    room = state.vg("capvg").free
    plan = plan_lv(req(name="linear", size="50%FREE", grow=True), state, {})
    half = (room // EXT) // 2 * EXT
    assert plan.after["size"] == 40 * MIB + half
    grown = _applied(plan, state)
    # the VG now has less free space: 50%FREE still means half of what was free then
    assert plan_lv(req(name="linear", size="50%FREE", grow=True), grown, {}).actions == []
    more = plan_lv(req(name="linear", size="75%FREE", grow=True), grown, {})
    assert more.after["size"] == 40 * MIB + int(room // EXT * 0.75) * EXT


def test_grow_into_free_is_computed_and_stops_when_full(plain):
    state = plain
    plan = plan_lv(req(name="linear", size="100%FREE", grow=True), state, {})
    assert cmds(plan) == [["lvextend", "--size", "%dk" % ((40 * MIB + state.vg("capvg").free) // 1024), "capvg/linear"]]
    plan = plan_lv(req(name="linear", size="100%FREE", grow=True, pvs=["/dev/loop0"]), state, {})
    assert plan.after["size"] == 40 * MIB + 96 * MIB
    # raid1: both images grow on their own PV: the second largest free area (loop3: 476M) limits it
    plan = plan_lv(req(name="mirror", size="100%FREE", grow=True), state, {})
    assert plan.after["size"] == 32 * MIB + 476 * MIB
    full = lvm_state("lv_types", drop_lvs=PLAIN)
    full.vgs["capvg"].free_count = 0
    full.vgs["capvg"].free = 0
    for pv in full.pvs:
        pv.free = 0
    plan = plan_lv(req(name="linear", size="100%FREE", grow=True), full, {})
    assert plan.actions == [] and "no free space left" in plan.notes[0]


def test_inactive_volume_grows_with_a_warning(state):
    lv = lvm_state("lv_types")
    lv.lv("capvg", "linear").active = False
    plan = plan_lv(req(name="linear", size="48M"), lv, {})
    assert cmds(plan) == [["lvextend", "--size", "49152k", "capvg/linear"]]
    assert "inactive" in plan.warnings[0]


# ------------------------------------------------------------------ shrink

def test_shrink_refused_without_flag(state):
    with pytest.raises(StrataError, match="refusing to shrink it to 20M") as exc:
        plan_lv(req(name="linear", size="20M"), state, facts(fs("/dev/capvg/linear", "ext4")))
    assert "shrink: true" in exc.value.hint


@pytest.mark.parametrize("info, message", [
    (fs("/dev/capvg/linear", "xfs"), "xfs cannot shrink"),
    (fs("/dev/capvg/linear", "ext4", mounted="/srv", min_size=MIB), "ext filesystems shrink only unmounted"),
    (fs("/dev/capvg/linear", "ext4", min_size=30 * MIB), "needs at least 30M"),
    (fs("/dev/capvg/linear", "ext4"), "could not be estimated"),
    (fs("/dev/capvg/linear", "swap"), "only ext2/3/4 filesystems can be checked"),
    (None, "is not active"),
])
def test_shrink_refused_when_the_content_may_not_fit(plain, info, message):
    state = plain
    with pytest.raises(StrataError, match=message):
        plan_lv(req(name="linear", size="20M", shrink=True), state, facts(info) if info else {})


def test_shrink_ext4_and_blank(plain):
    state = plain
    plan = plan_lv(req(name="linear", size="21M", shrink=True), state,
                   facts(fs("/dev/capvg/linear", "ext4", min_size=10 * MIB)))
    assert cmds(plan) == [["lvreduce", "--yes", "--resizefs", "--size", "24576k", "capvg/linear"]]
    assert plan.after["size"] == 24 * MIB
    plan = plan_lv(req(name="linear", size="20M", shrink=True), state, facts(fs("/dev/capvg/linear")))
    assert cmds(plan) == [["lvreduce", "--yes", "--size", "20480k", "capvg/linear"]]
    with pytest.raises(StrataError, match="resizefs is false"):
        plan_lv(req(name="linear", size="20M", shrink=True, resizefs=False), state,
                facts(fs("/dev/capvg/linear", "ext4", min_size=MIB)))
    # within one extent below: the same size, not a shrink
    assert plan_lv(req(name="linear", size="37M"), state, facts(fs("/dev/capvg/linear", "ext4"))).actions == []


# ------------------------------------------------------------------ filesystems

def test_filesystem_on_existing_volume(state):
    path = "/dev/capvg/linear"
    plan = plan_lv(req(name="linear", filesystem={"type": "ext4", "label": "data"}), state, facts(fs(path)))
    assert cmds(plan) == [["mkfs.ext4", "-L", "data", path]]
    plan = plan_lv(req(name="linear", filesystem={"type": "ext4"}), state, facts(fs(path, "ext4", label="x")))
    assert plan.actions == [] and plan.after["filesystem"] == {"type": "ext4", "label": "x", "uuid": "u-1"}
    plan = plan_lv(req(name="linear", filesystem={"type": "ext4", "label": "y"}), state, facts(fs(path, "ext4", "x")))
    assert cmds(plan) == [["e2label", path, "y"]]
    plan = plan_lv(req(name="linear", filesystem={"type": "xfs", "label": "y"}), state,
                   facts(fs(path, "xfs", "x", mounted="/srv")))
    assert cmds(plan) == [["xfs_io", "-c", "label -s y", "/srv"]]
    plan = plan_lv(req(name="linear", filesystem={"type": "xfs", "label": "y"}), state, facts(fs(path, "xfs", "x")))
    assert cmds(plan) == [["xfs_admin", "-L", "y", path]]


def test_other_signature_needs_force(state):
    path = "/dev/capvg/linear"
    with pytest.raises(StrataError, match="refusing to use /dev/capvg/linear as an xfs filesystem") as exc:
        plan_lv(req(name="linear", filesystem={"type": "xfs"}), state, facts(fs(path, "ext4")))
    assert "ext4" in exc.value.msg
    plan = plan_lv(req(name="linear", filesystem={"type": "xfs", "force": True}), state, facts(fs(path, "ext4")))
    assert cmds(plan) == [["wipefs", "--all", path], ["mkfs.xfs", "-f", path]]
    with pytest.raises(StrataError, match="gpt partition table"):
        plan_lv(req(name="linear", filesystem={"type": "xfs"}), state, facts(fs(path, pttype="gpt")))
    with pytest.raises(StrataError, match="is mounted on /srv"):
        plan_lv(req(name="linear", filesystem={"type": "xfs", "force": True}), state,
                facts(fs(path, "ext4", mounted="/srv")))


def test_filesystem_on_inactive_volume_refused():
    state = lvm_state("lv_types")
    state.lv("capvg", "linear").active = False
    with pytest.raises(StrataError, match="not active, so its content cannot be checked"):
        plan_lv(req(name="linear", filesystem={"type": "ext4"}), state, {})


def test_grow_then_mkfs_order(plain):
    state = plain
    path = "/dev/capvg/linear"
    plan = plan_lv(req(name="linear", size="64M", filesystem={"type": "ext4"}), state, facts(fs(path)))
    assert cmds(plan) == [["lvextend", "--size", "65536k", "capvg/linear"], ["mkfs.ext4", path]]


# ------------------------------------------------------------------ activation, rename, remove

def test_activate_and_deactivate(state):
    inactive = lvm_state("lv_types")
    inactive.lv("capvg", "linear").active = False
    assert cmds(plan_lv(req(name="linear", active=True), inactive, {})) == [
        ["lvchange", "--activate", "y", "capvg/linear"]]
    assert plan_lv(req(name="linear", active=False), inactive, {}).actions == []
    assert cmds(plan_lv(req(name="linear", active=False), state, {})) == [
        ["lvchange", "--activate", "n", "capvg/linear"]]
    open_state = lvm_state("lv_types")
    open_state.lv("capvg", "linear").open = True
    with pytest.raises(StrataError, match="refusing to deactivate"):
        plan_lv(req(name="linear", active=False), open_state, {})


def test_rename(plain):
    state = plain
    plan = plan_lv(req(name="renamed", rename_from="linear", size="48M"), state,
                   facts(fs("/dev/capvg/linear", "ext4")))
    assert cmds(plan) == [["lvrename", "capvg", "linear", "renamed"],
                          ["lvextend", "--resizefs", "--size", "49152k", "capvg/renamed"]]
    assert plan.before["name"] == "linear" and plan.after["name"] == "renamed"
    assert plan.after["path"] == "/dev/capvg/renamed"
    # already renamed: nothing
    assert plan_lv(req(name="linear", rename_from="gone"), state, {}).actions == []
    with pytest.raises(StrataError, match="both logical volumes exist"):
        plan_lv(req(name="striped", rename_from="linear"), state, {})
    with pytest.raises(StrataError, match="no size was given"):
        plan_lv(req(name="new", rename_from="gone"), state, {})
    plan = plan_lv(req(name="new", rename_from="gone", size="8M"), state, {})
    assert cmds(plan)[0][0] == "lvcreate" and "creating capvg/new" in plan.notes[0]


def test_remove_needs_flag_and_lists_snapshots(state):
    with pytest.raises(StrataError, match="needs allow_remove: true"):
        plan_lv(req(name="striped", state="absent"), state)
    plan = plan_lv(req(name="striped", state="absent", allow_remove=True), state)
    assert cmds(plan) == [["lvremove", "--yes", "capvg/striped"]] and plan.after == {"state": "absent"}
    assert plan_lv(req(name="gone", state="absent"), state).actions == []
    with pytest.raises(StrataError, match="has snapshots linear_snap"):
        plan_lv(req(name="linear", state="absent", allow_remove=True), state)
    plan = plan_lv(req(name="linear", state="absent", allow_remove=True, remove_snapshots=True), state)
    assert cmds(plan) == [["lvremove", "--yes", "capvg/linear"]] and "linear_snap" in plan.actions[0].description
    # a snapshot being merged into its (open) origin shows hidden: never removed under it
    with pytest.raises(StrataError, match="merge pending"):
        plan_lv(req(name="origin", state="absent", allow_remove=True, remove_snapshots=True), state)
    with pytest.raises(StrataError, match="is a thin pool"):
        plan_lv(req(name="pool", state="absent", allow_remove=True), state)


def test_remove_open_volume_refused():
    state = lvm_state("lv_types")
    state.lv("capvg", "striped").open = True
    with pytest.raises(StrataError, match="is open"):
        plan_lv(req(name="striped", state="absent", allow_remove=True), state)


def test_thin_origin_keeps_thin_snapshots(state):
    plan = plan_lv(req(name="thin1", state="absent", allow_remove=True), state)
    assert cmds(plan) == [["lvremove", "--yes", "capvg/thin1"]]
    assert "thin1_snap" in plan.notes[0]


def test_degraded_raid_is_reported_and_kept():
    state = lvm_state("raid1_missing_leg")
    plan = plan_lv(req(vg="capvg3", name="r1", size="16M", type="raid1"), state, {})
    assert plan.actions == [] and plan.before["health"] == "partial"
    assert plan.before["devices"] == ["/dev/loop8", "[unknown]"]


def test_fs_reads_for(state):
    linear = ["/dev/capvg/linear"]
    assert fs_reads_for(req(name="linear", size="8M", shrink=True), state) == (linear, linear)
    assert fs_reads_for(req(name="new"), state) == ([], [])
    assert fs_reads_for(req(name="new", rename_from="striped"), state) == (["/dev/capvg/striped"], [])
    assert fs_reads_for(req(name="thin1_snap"), state) == ([], [])   # inactive


def test_request_from_params_defaults():
    r = request_from_params({"vg": "v", "name": "n", "size": "+1G", "filesystem": {"type": "ext4", "options": ["-m", "1"]}})
    assert r.size.grow and r.size.bytes == 1024 ** 3 and r.resizefs is True and r.state == "present"
    assert r.filesystem.options == ["-m", "1"] and r.filesystem.force is False
    assert r.stripe_size is None and r.pvs == []
    assert sizes.parse_size("8M").bytes == 8 * MIB


def test_resizing_an_active_snapshot_origin_is_refused(state):
    """lvm2 refuses to resize an active origin of a classic snapshot ("Snapshot origin volumes
    can be resized only while inactive", seen on the VM), after planning: refused first."""
    for params, word in (({"size": "60M"}, "grows"), ({"size": "20M", "shrink": True}, "shrinks")):
        with pytest.raises(StrataError) as err:
            plan_lv(req(name="linear", **params), state, {})
        assert "origin of classic snapshot linear_snap, and LVM %s a snapshot origin only while it is inactive" % word \
            in err.value.msg
        assert "nothing was changed" in err.value.hint
    # a thin snapshot is an independent volume: its origin grows while active
    plan = plan_lv(req(name="thin1", size="200M"), state, {})
    assert cmds(plan) == [["lvextend", "--size", "204800k", "capvg/thin1"]]
