# -*- coding: utf-8 -*-
"""lvm_lv planner + filesystem reader against the VM's real lvm2, e2fsprogs and xfsprogs, for
what the Molecule scenarios do not cover: shrinking is refused unless safe and keeps the
data, the guard on an existing volume, rename, activation, removal and the size forms on one
PV. (Every layout created and re-planned to nothing, and online growth of mounted ext4 and
xfs, are in the lvm_layout scenario.) States are verified with the tools themselves."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile

import pytest

from ansible_collections.strata.storage.plugins.module_utils.lvm import reader as lvm
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.filesystem import read_fs_facts
from ansible_collections.strata.storage.plugins.module_utils.lvm.lv_planner import (
    fs_reads_for, plan_lv, request_from_params,
)
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Runner

from conftest import LocalModule, sh

MIB = 1024 ** 2


def plan_for(params, check=False):
    runner = Runner(LocalModule(check_mode=check))
    req = request_from_params(params)
    state = lvm.read_state(runner)
    paths, fit = fs_reads_for(req, state)
    return runner, plan_lv(req, state, read_fs_facts(runner, paths, fit_check=fit))


def apply(params, check_first=False):
    """Plan and run. check_first: plan in check mode first (it must run nothing) and prove
    both plan the same commands. Each plan is a TCG round trip, so only the steps where
    check mode could differ (filesystem, resize, shrink, rename, remove) use it."""
    if check_first:
        check_runner, check_plan = plan_for(params, check=True)
        check_runner.execute_all(check_plan.actions)
    runner, plan = plan_for(params)
    runner.execute_all(plan.actions)
    if check_first:
        assert check_runner.actions == runner.actions
    return plan


def replans_nothing(*many):
    """Every request plans nothing, all planned on ONE state read and ONE blkid call."""
    runner = Runner(LocalModule())
    state = lvm.read_state(runner)
    reqs = [request_from_params(params) for params in many]
    paths, fit = [], []
    for req in reqs:
        p, f = fs_reads_for(req, state)
        paths += p
        fit += f
    facts = read_fs_facts(runner, paths, fit_check=fit)
    for req in reqs:
        plan = plan_lv(req, state, facts)
        assert plan.actions == [], (req.name, [a.cmd for a in plan.actions])
    return state


def lvs(vg):
    out = sh("lvs", "--reportformat", "json", "--units", "b", "--nosuffix",
             "-o", "lv_name,lv_size,segtype,stripes,data_stripes,lv_active", vg)
    return {row["lv_name"]: row for row in json.loads(out)["report"][0]["lv"]}


def make_vg(vg, devs):
    sh("vgcreate", "-q", vg, *devs)


@pytest.fixture
def mounts():
    made = []

    def mount(dev):
        point = tempfile.mkdtemp(prefix="strata-lv-")
        sh("mount", dev, point)
        made.append(point)
        return point
    yield mount
    for point in reversed(made):
        subprocess.run(["umount", point], check=False)
        os.rmdir(point)


def test_shrink_guard_rename_activation_remove_and_size_forms(loops, vg_name, mounts):
    """One VG (one PV) for the shrink checks, then the guard, rename, activation and removal,
    then every size form (%VG, +size, 100%FREE) created and re-planned to nothing."""
    make_vg(vg_name, loops(1, "384M"))
    dev = "/dev/%s/s" % vg_name
    params = {"vg": vg_name, "name": "s", "size": "192M", "filesystem": {"type": "ext4"}}
    apply(params)
    point = mounts(dev)
    sh("dd", "if=/dev/urandom", "of=%s/blob" % point, "bs=1M", "count=24", "status=none")
    checksum = sh("sha256sum", "%s/blob" % point).split()[0]
    sh("umount", point)
    with pytest.raises(StrataError, match="refusing to shrink"):
        plan_for(dict(params, size="128M"))
    with pytest.raises(StrataError, match=r"needs at least .* more than the requested 24M"):
        plan_for(dict(params, size="24M", shrink=True))
    plan = apply(dict(params, size="125M", shrink=True), check_first=True)      # rounded up to 128M
    assert plan.actions[0].cmd[:3] == ["lvreduce", "--yes", "--resizefs"]
    assert int(lvs(vg_name)["s"]["lv_size"]) == 128 * MIB
    replans_nothing(dict(params, size="128M"))
    sh("mount", dev, point)
    assert sh("sha256sum", "%s/blob" % point).split()[0] == checksum
    assert int(sh("df", "-B1", "--output=size", point).split()[-1]) < 128 * MIB
    sh("umount", point)
    sh("e2fsck", "-fn", dev)

    dev = "/dev/%s/raw" % vg_name
    raw = {"vg": vg_name, "name": "raw", "size": "16M"}
    apply(raw)
    sh("mkswap", dev)
    with pytest.raises(StrataError, match="holds a swap signature"):
        plan_for(dict(raw, filesystem={"type": "ext4"}))
    apply(dict(raw, filesystem={"type": "ext4", "force": True, "label": "wasfree"}), check_first=True)
    assert "TYPE=\"ext4\"" in sh("blkid", "-p", dev) and "TYPE=\"swap\"" not in sh("blkid", "-p", dev)
    replans_nothing(dict(raw, filesystem={"type": "ext4"}))
    # rename, then the same request again plans nothing
    moved = {"vg": vg_name, "name": "moved", "rename_from": "raw", "size": "16M", "filesystem": {"type": "ext4"}}
    apply(moved, check_first=True)
    replans_nothing(moved)
    # deactivate / activate
    apply({"vg": vg_name, "name": "moved", "active": False})
    assert lvs(vg_name)["moved"]["lv_active"] == ""
    replans_nothing({"vg": vg_name, "name": "moved", "active": False})
    apply({"vg": vg_name, "name": "moved", "active": True})
    assert lvs(vg_name)["moved"]["lv_active"] == "active"
    # remove: flag needed, open volumes refused, classic snapshots listed
    sh("lvcreate", "-q", "-s", "-L", "8M", "-n", "snap", "%s/moved" % vg_name)
    gone = {"vg": vg_name, "name": "moved", "state": "absent", "allow_remove": True}
    with pytest.raises(StrataError, match="has snapshots snap"):
        plan_for(gone)
    point = mounts("/dev/%s/moved" % vg_name)
    with pytest.raises(StrataError, match="is open"):
        plan_for(dict(gone, remove_snapshots=True))
    sh("umount", point)
    apply(dict(gone, remove_snapshots=True), check_first=True)
    assert set(lvs(vg_name)) == {"s"}
    replans_nothing(gone)

    # size forms, in the same VG (only `s` is left: 32 of 95 extents)
    pct = {"vg": vg_name, "name": "pct", "size": "25%VG"}
    plus = {"vg": vg_name, "name": "plus", "size": "+10M"}
    apply(pct)
    apply(plus)                                          # created with 12M
    assert int(lvs(vg_name)["plus"]["lv_size"]) == 12 * MIB
    replans_nothing(pct, dict(pct, grow=True), plus)     # relative sizes and +size without grow: kept
    apply(dict(plus, grow=True), check_first=True)       # grows by 10M (-> 24M)
    grown = {"vg": vg_name, "name": "pct", "size": "50%VG", "grow": True}
    apply(grown)
    replans_nothing(grown)
    rest = {"vg": vg_name, "name": "rest", "size": "100%FREE"}
    apply(rest)
    replans_nothing(rest, dict(rest, grow=True))         # no free space left
    assert int(lvs(vg_name)["plus"]["lv_size"]) == 24 * MIB
    assert lvm.read_state(Runner(LocalModule())).vg(vg_name).free_count == 0
