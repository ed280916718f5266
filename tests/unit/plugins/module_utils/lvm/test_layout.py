# -*- coding: utf-8 -*-
"""lvm_layout: one plan for a whole VG, built from the per-object planners, checked against
real captured LVM states."""
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.lvm import projection as lvm_projection
from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInfo
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.lvm.layout import (
    LayoutPlanner, layout_request_from_params, plan_layout,
)
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.fixtures import lvm_state

GIB = 1024 ** 3


def blank_disk(path):
    return DeviceInfo(path=path, realpath=path, exists=True, is_block=True, size=2 * GIB,
                      devno=(252, 16 + int(path[-1])))


def params(**kw):
    out = dict(name="newvg", state="present", devices=[], pe_size=None, force=[], reduce=False,
               allow_remove=False, safe_mode=True, volumes=[], thin_pools=[], snapshots=[])
    out.update(kw)
    return out


def plan(state_name, fs_facts=None, **kw):
    req = layout_request_from_params(params(**kw))
    planner = LayoutPlanner(req, blank_disk, lambda path: None)
    steps = plan_layout(planner, lvm_state(state_name), fs_facts or {})
    return [(step, a.cmd or [a.path]) for step, p in steps for a in p.actions], steps


def with_volumes(volumes):
    layout = dict(FULL_LAYOUT)
    layout["volumes"] = volumes
    return layout


FULL_LAYOUT = dict(
    devices=["/dev/vd1", "/dev/vd2", "/dev/vd3", "/dev/vd4", "/dev/vd5"],
    volumes=[
        {"name": "lin", "size": "200M", "filesystem": {"type": "ext4"}, "mount": {"path": "/srv/lin"}},
        {"name": "st", "type": "striped", "stripes": 2, "stripe_size": "64K", "size": "320M",
         "filesystem": {"type": "xfs"}},
        {"name": "r1", "type": "raid1", "mirrors": 1, "size": "128M"},
        {"name": "r6", "type": "raid6", "stripes": 3, "size": "96M"},
    ],
    thin_pools=[{"name": "pool", "size": "512M",
                 "volumes": [{"name": "thin", "size": "1G", "filesystem": {"type": "ext4"}}]}],
    snapshots=[{"name": "lin_snap", "origin": "lin", "size": "20%ORIGIN"},
               {"name": "thin_snap", "origin": "thin"}],
)


def test_blank_disks_get_the_whole_layout_in_step_order():
    actions, _steps = plan("empty", **FULL_LAYOUT)
    order = [step for step, _cmd in actions]
    assert order == sorted(order, key=["remove", "vg", "volumes", "pools", "filesystems", "snapshots"].index)
    cmds = [cmd for _step, cmd in actions]
    assert cmds[:5] == [["pvcreate", "/dev/vd%d" % i] for i in range(1, 6)]
    assert cmds[5][:1] == ["vgcreate"]
    assert ["mkfs.ext4", "/dev/newvg/thin"] in cmds          # thin volume's filesystem step
    assert ["mkfs.xfs", "/dev/newvg/st"] in cmds
    snap = [c for c in cmds if c[:3] == ["lvcreate", "--yes", "--snapshot"]]
    assert [c[-1] for c in snap] == ["newvg/lin", "newvg/thin"]
    # the thin snapshot of a thin volume has no size; the classic one is a share of its origin
    assert "--extents" in snap[0] and "20%ORIGIN" in snap[0] and "--size" not in snap[1]


def test_projection_tracks_free_space_so_an_overfull_layout_is_refused_before_anything_runs():
    # volumes come first; the 9G volume fits, then the pool planned after it does not
    with pytest.raises(StrataError, match="thin pool newvg/pool needs 512M but volume group newvg has 40M free"):
        plan("empty", **with_volumes(FULL_LAYOUT["volumes"] + [{"name": "huge", "size": "9G"}]))
    with pytest.raises(StrataError, match="huge"):
        plan("empty", **with_volumes(FULL_LAYOUT["volumes"] + [{"name": "huge", "size": "10G"}]))


def test_bad_input_anywhere_fails_while_building_the_request():
    with pytest.raises(StrataError):
        plan("empty", **with_volumes([{"name": "x", "size": "10"}]))        # a bare number
    with pytest.raises(StrataError, match="twice"):
        plan("empty", **with_volumes([{"name": "x", "size": "8M"}, {"name": "x", "size": "8M"}]))


def test_captured_layout_replanned_is_a_no_op():
    # lv_types.json: capvg with linear 40M, striped 48M (2 x 64K), raid1 32M, raid5/6/10
    actions, _steps = plan("lv_types", name="capvg", volumes=[
        {"name": "linear", "size": "40M"},
        {"name": "striped", "type": "striped", "stripes": 2, "stripe_size": "64K", "size": "48M"},
        {"name": "mirror", "type": "raid1", "mirrors": 1, "size": "32M"},
        {"name": "raid5", "type": "raid5", "stripes": 2, "size": "24M"},
        {"name": "raid6", "type": "raid6", "stripes": 3, "size": "24M"},
        {"name": "raid10", "type": "raid10", "stripes": 2, "mirrors": 1, "size": "32M"},
    ], thin_pools=[{"name": "pool", "volumes": [{"name": "thin1", "size": "100M"}]}],
        snapshots=[{"name": "linear_snap", "origin": "linear"}])
    assert actions == []


def test_safe_mode_refuses_removal_even_with_allow_remove():
    layout = dict(name="capvg", allow_remove=True, volumes=[{"name": "striped", "state": "absent"}])
    with pytest.raises(StrataError, match="safe mode") as err:
        plan("lv_types", **layout)
    assert err.value.details["refused_actions"][0]["cmd"][0] == "lvremove"
    actions, _steps = plan("lv_types", safe_mode=False, **layout)
    assert [cmd[0] for _step, cmd in actions] == ["lvremove"]
    assert actions[0][0] == "remove"


def test_removal_needs_allow_remove_even_without_safe_mode():
    with pytest.raises(StrataError, match="allow_remove"):
        plan("lv_types", name="capvg", safe_mode=False, volumes=[{"name": "striped", "state": "absent"}])


def test_existing_thin_volume_without_filesystem_facts_is_never_formatted():
    # thin1 exists (captured) but no blkid facts were read for it: refuse, never mkfs
    with pytest.raises(StrataError, match="could not be read"):
        plan("lv_types", name="capvg", thin_pools=[
            {"name": "pool", "volumes": [{"name": "thin1", "size": "100M", "filesystem": {"type": "ext4"}}]}])


def test_unknown_vg_without_devices_is_refused():
    with pytest.raises(StrataError, match="does not exist"):
        plan("empty", name="ghost", volumes=[{"name": "x", "size": "8M"}])


def test_projection_allocation_factors():
    assert lvm_projection.allocation_factor("raid1", mirrors=1) == 2.0
    assert lvm_projection.allocation_factor("raid5", data_stripes=2) == 1.5
    assert lvm_projection.allocation_factor("raid6", data_stripes=3) == pytest.approx(5 / 3.0)
    assert lvm_projection.allocation_factor("striped", stripes=2, data_stripes=2) == 1.0
    assert lvm_projection.raid_meta_extents("raid10", data_stripes=2, mirrors=1) == 4


def test_raid_volume_is_placed_before_a_pool_that_takes_a_share_of_the_vg():
    # the lab layout: a pool of 60%VG on two PVs would fill the first PV (LVM allocates in PV
    # order) and leave a raid1 volume planned after it without two PVs with free space
    actions, _steps = plan("empty", devices=["/dev/vd1", "/dev/vd2"],
                           volumes=[{"name": "db", "type": "raid1", "mirrors": 1, "size": "256M"}],
                           thin_pools=[{"name": "pool0", "size": "60%VG"}])
    creates = [cmd[cmd.index("--name") + 1] for _step, cmd in actions if cmd[0] == "lvcreate"]
    assert creates == ["db", "pool0"]
