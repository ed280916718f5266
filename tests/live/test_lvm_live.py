# -*- coding: utf-8 -*-
"""LVM planners and the reader against the VM's real lvm2: every plan, once executed,
must leave a state on which the same request plans nothing (idempotence for every size
form), check mode must plan exactly what a real run then runs, and the guard must refuse
real signatures."""
from __future__ import annotations

import json

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core import sizes
from ansible_collections.strata.storage.plugins.module_utils.lvm import reader as lvm
from ansible_collections.strata.storage.plugins.module_utils.core.atomic import read_text
from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInspector
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.lvm.planner import (
    ThinPoolRequest, ThinVolumeRequest, VgRequest, plan_thinpool, plan_vg,
)
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import file_writer

from conftest import sh

MIB = 1024 ** 2


def apply_vg(runner, req):
    plan = plan_vg(req, lvm.read_state(runner), DeviceInspector(runner).inspect)
    runner.execute_all(plan.actions)
    return plan


def apply_pool(runner, req):
    plan = plan_thinpool(req, lvm.read_state(runner), read_text)
    runner.execute_all(plan.actions, writer=file_writer)
    return plan


def test_reader_matches_lvs(runner, loops, vg_name):
    devs = loops(2)
    apply_vg(runner, VgRequest(name=vg_name, devices=devs, pe_size=8 * MIB))
    apply_pool(runner, ThinPoolRequest(vg=vg_name, name="p", size=sizes.parse_size("200M"),
                                       volumes=[ThinVolumeRequest("t", sizes.parse_size("64M"))]))
    state = lvm.read_state(runner)
    lvs = json.loads(sh("lvs", "-a", "--reportformat", "json", "--units", "b", "--nosuffix",
                        "-o", "lv_name,lv_size", vg_name))["report"][0]["lv"]
    real = {row["lv_name"].strip("[]"): int(row["lv_size"]) for row in lvs}
    mine = {lv.name: lv.size for lv in state.lvs_of(vg_name, hidden=True)}
    assert mine == real
    assert state.vg(vg_name).extent_size == 8 * MIB
    assert sorted(pv.name for pv in state.pvs_of(vg_name)) == sorted(devs)


@pytest.mark.parametrize("pool_size, vol_size", [
    ("200M", "64M"),          # extent multiples
    ("201M", "33M"),          # not multiples of the 4M extent: rounded up, then stable
    ("100%FREE", "1G"),       # relative: resolved once
    ("50%VG", "10M"),
])
def test_every_size_form_is_idempotent(runner, loops, vg_name, pool_size, vol_size):
    devs = loops(2)
    vg_req = VgRequest(name=vg_name, devices=devs)
    pool_req = ThinPoolRequest(vg=vg_name, name="pool", size=sizes.parse_size(pool_size, allow_relative=True),
                               autoextend_threshold=80, autoextend_percent=20,
                               volumes=[ThinVolumeRequest("a", sizes.parse_size(vol_size)),
                                        ThinVolumeRequest("b", sizes.parse_size(vol_size))])
    assert apply_vg(runner, vg_req).actions
    assert apply_pool(runner, pool_req).actions
    assert apply_vg(runner, vg_req).actions == []
    assert apply_pool(runner, pool_req).actions == []


def test_check_mode_plans_what_the_real_run_does(runner, check_runner, loops, vg_name):
    devs = loops(2)
    req = VgRequest(name=vg_name, devices=devs, pe_size=4 * MIB)
    apply_vg(check_runner, req)
    assert lvm.read_state(runner).vg(vg_name) is None       # check mode changed nothing
    apply_vg(runner, req)
    assert check_runner.actions == runner.actions and len(runner.actions) == 3


def test_grow_then_stable(runner, loops, vg_name):
    apply_vg(runner, VgRequest(name=vg_name, devices=loops(2)))
    base = ThinPoolRequest(vg=vg_name, name="p", size=sizes.parse_size("100M"),
                           volumes=[ThinVolumeRequest("t", sizes.parse_size("50M"))])
    apply_pool(runner, base)
    grown = ThinPoolRequest(vg=vg_name, name="p", size=sizes.parse_size("150M"), metadata_size=sizes.parse_size("8M"),
                            volumes=[ThinVolumeRequest("t", sizes.parse_size("90M"))])
    plan = apply_pool(runner, grown)
    assert [a.cmd[0] for a in plan.actions] == ["lvextend", "lvextend", "lvextend"]
    state = lvm.read_state(runner)
    assert state.lv(vg_name, "p").size == 152 * MIB
    assert state.lv(vg_name, "p").metadata_size == 8 * MIB
    assert state.lv(vg_name, "t").size == 92 * MIB
    assert apply_pool(runner, grown).actions == []


def test_extend_and_reduce_with_pvmove(runner, loops, vg_name):
    first, second, spare = loops(3)
    apply_vg(runner, VgRequest(name=vg_name, devices=[first, second]))
    apply_pool(runner, ThinPoolRequest(vg=vg_name, name="p", size=sizes.parse_size("64M"), pvs=[first]))
    sh("udevadm", "settle")
    # replace `first` (which holds the pool) by `spare`: add, move, reduce, unlabel
    plan = apply_vg(runner, VgRequest(name=vg_name, devices=[second, spare], reduce=True, pvmove=True))
    assert [a.cmd[0] for a in plan.actions] == ["pvcreate", "vgextend", "pvmove", "vgreduce", "pvremove"]
    state = lvm.read_state(runner)
    assert sorted(pv.name for pv in state.pvs_of(vg_name)) == sorted([second, spare])
    assert state.lv(vg_name, "p") is not None
    assert sh("sh", "-c", "blkid -p %s; echo rc=$?" % first).strip().endswith("rc=2")   # label gone


def test_guard_refuses_a_real_filesystem_and_leaves_it(runner, loops, vg_name):
    dev, blank = loops(2)
    sh("mkfs.ext4", "-q", "-L", "keepme", dev)
    before = sh("blkid", "-p", "-o", "export", dev)
    with pytest.raises(StrataError) as err:
        apply_vg(runner, VgRequest(name=vg_name, devices=[blank, dev]))
    assert "%s holds an ext4 signature (filesystem, label keepme" % dev in err.value.msg
    assert runner.actions == []
    assert sh("blkid", "-p", "-o", "export", dev) == before
    assert "TYPE" not in sh("sh", "-c", "blkid -p -o export %s || true" % blank)


def test_guard_refuses_an_active_holder_even_forced(runner, loops, vg_name):
    dev, other = loops(2)
    apply_vg(runner, VgRequest(name=vg_name, devices=[dev]))
    apply_pool(runner, ThinPoolRequest(vg=vg_name, name="p", size=sizes.parse_size("64M")))
    with pytest.raises(StrataError) as err:
        apply_vg(runner, VgRequest(name=vg_name + "x", devices=[dev, other], force=[dev]))
    assert "is a PV of volume group %s" % vg_name in err.value.msg


def test_autoextend_profile_is_attached(runner, loops, vg_name):
    apply_vg(runner, VgRequest(name=vg_name, devices=loops(1)))
    apply_pool(runner, ThinPoolRequest(vg=vg_name, name="p", size=sizes.parse_size("64M"),
                                       autoextend_threshold=75, autoextend_percent=30))
    row = json.loads(sh("lvs", "--reportformat", "json", "-o", "lv_profile,seg_monitor", vg_name + "/p"))
    lv = row["report"][0]["lv"][0]
    assert lv["lv_profile"] == "strata-thinpool-%s-p" % vg_name
    assert lv["seg_monitor"] == "monitored"
    # lvm itself reads the profile back
    config = sh("lvmconfig", "--type", "full", "--metadataprofile", lv["lv_profile"],
                "activation/thin_pool_autoextend_threshold")
    assert "thin_pool_autoextend_threshold=75" in config


def test_guard_refuses_a_disk_whose_partition_is_mounted_even_forced(runner, loops, vg_name, tmp_path):
    (dev,) = loops(1)
    sh("sgdisk", "-n", "1:0:+32M", dev)
    sh("partx", "-a", dev)          # loop devices without -P: add the partition node by hand
    sh("udevadm", "settle")
    part = dev + "p1"
    sh("mkfs.ext4", "-q", part)
    sh("mount", part, str(tmp_path))
    try:
        with pytest.raises(StrataError) as err:
            apply_vg(runner, VgRequest(name=vg_name, devices=[dev], force=[dev]))
        assert "has partition %s is mounted on %s" % (part.rsplit("/", 1)[1], tmp_path) in err.value.msg
        assert runner.actions == []
        assert "PTTYPE=gpt" in sh("blkid", "-p", "-o", "export", dev)
    finally:
        sh("umount", str(tmp_path))
        sh("partx", "-d", dev)
