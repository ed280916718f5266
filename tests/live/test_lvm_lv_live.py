# -*- coding: utf-8 -*-
"""lvm_lv planner + filesystem reader against the VM's real lvm2, e2fsprogs and xfsprogs:
every layout is created and then re-planned to nothing, every size form is idempotent,
filesystems grow online with their volume, shrinking is refused unless safe and keeps the
data, and check mode plans exactly what the real run then runs. States are verified with
the tools themselves (lvs, df, xfs_info, blkid), not with our reader."""
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


def test_every_layout_created_and_stable(loops, vg_name):
    make_vg(vg_name, loops(5, "128M"))
    layouts = {
        "lin": {"size": "10M"},                                              # 3 extents: 12M
        "str": {"size": "13M", "stripes": 2, "stripe_size": "64K"},          # 16M
        "r1": {"size": "10M", "type": "raid1", "region_size": "1M"},         # 12M
        "r5": {"size": "10M", "type": "raid5"},                              # 2 data stripes: 16M
        "r6": {"size": "10M", "type": "raid6", "stripes": 3},                # 3 data stripes: 12M
        "r10": {"size": "10M", "type": "raid10"},                            # 16M
        "mir": {"size": "6M", "type": "mirror", "pvs": []},                  # legacy mirror: 8M
    }
    expect = {"lin": ("linear", 12), "str": ("striped", 16), "r1": ("raid1", 12), "r5": ("raid5", 16),
              "r6": ("raid6", 12), "r10": ("raid10", 16), "mir": ("mirror", 8)}
    requests = [dict(params, vg=vg_name, name=name) for name, params in layouts.items()]
    # every creation is planned on one state read (they do not depend on each other), in
    # check mode too: it must plan the same commands and run none of them
    check_runner = Runner(LocalModule(check_mode=True))
    runner = Runner(LocalModule())
    state = lvm.read_state(runner)
    for params in requests:
        plan = plan_lv(request_from_params(params), state, {})
        check_runner.execute_all(plan_lv(request_from_params(params), state, {}).actions)
        assert plan.after["size"] == expect[params["name"]][1] * MIB
        runner.execute_all(plan.actions)
    assert check_runner.actions == runner.actions and len(runner.actions) == len(requests)
    # ... and once created, none of them (nor one with every option left out) plans anything
    state = replans_nothing(*(requests + [{"vg": vg_name, "name": "r6"}]))
    real = lvs(vg_name)
    for name, (segtype, size) in expect.items():
        assert real[name]["segtype"].startswith(segtype), (name, real[name])
        assert int(real[name]["lv_size"]) == size * MIB, name
    assert real["r6"]["data_stripes"] == "3" and real["str"]["stripes"] == "2"
    with pytest.raises(StrataError, match="converting a layout is not done"):
        plan_lv(request_from_params({"vg": vg_name, "name": "r5", "stripes": 3}), state, {})


def test_grow_into_free_space_striped_and_raid1(loops, vg_name):
    make_vg(vg_name, loops(3, "96M"))
    runner = Runner(LocalModule())
    state = lvm.read_state(runner)
    for params in ({"vg": vg_name, "name": "s", "size": "8M", "stripes": 2},
                   {"vg": vg_name, "name": "m", "size": "8M", "type": "raid1"}):
        runner.execute_all(plan_lv(request_from_params(params), state, {}).actions)
    grow_m = {"vg": vg_name, "name": "m", "size": "100%FREE", "grow": True}
    apply(grow_m, check_first=True)
    replans_nothing(grow_m)
    grow_s = {"vg": vg_name, "name": "s", "size": "100%FREE", "grow": True}
    apply(grow_s)
    replans_nothing(grow_s, grow_m)


def lv_sizes_and_tags(vg):
    out = sh("lvs", "--reportformat", "json", "--units", "b", "--nosuffix", "-o", "lv_name,lv_size,lv_tags", vg)
    return {row["lv_name"]: (int(row["lv_size"]), row["lv_tags"]) for row in json.loads(out)["report"][0]["lv"]}


def test_plus_size_and_share_of_free_grow_once(loops, vg_name):
    """+size and N%FREE grow once from the base kept in the LV tag; re-runs grow nothing."""
    make_vg(vg_name, loops(2, "96M"))                    # 2 x 23 extents of 4M
    apply({"vg": vg_name, "name": "a", "size": "8M"})
    plus10 = {"vg": vg_name, "name": "a", "size": "+10M", "grow": True}
    apply(plus10, check_first=True)
    size, tags = lv_sizes_and_tags(vg_name)["a"]
    assert size == 20 * MIB and tags.startswith("strata.grow.%d." % (8 * MIB)), tags   # 8M + 10M -> 20M
    replans_nothing(plus10)
    plus16 = dict(plus10, size="+16M")
    apply(plus16)
    assert lv_sizes_and_tags(vg_name)["a"][0] == 24 * MIB           # base 8M + 16M, not 20M + 16M
    replans_nothing(plus16, plus10)
    sh("lvextend", "-q", "-L", "+8M", "%s/a" % vg_name)               # resized by hand: a new base
    apply(plus16)
    assert lv_sizes_and_tags(vg_name)["a"][0] == 48 * MIB
    replans_nothing(plus16)
    apply({"vg": vg_name, "name": "b", "size": "8M"})
    free_extents = int(sh("vgs", "--noheadings", "-o", "vg_free_count", vg_name).strip())
    half = {"vg": vg_name, "name": "b", "size": "50%FREE", "grow": True}
    apply(half)
    assert lv_sizes_and_tags(vg_name)["b"][0] == 8 * MIB + free_extents // 2 * 4 * MIB
    replans_nothing(half, plus16)


def test_grow_mounted_ext4_and_xfs_online(loops, vg_name, mounts):
    make_vg(vg_name, loops(2, "512M"))
    ext = {"vg": vg_name, "name": "e", "size": "64M", "filesystem": {"type": "ext4", "label": "elab"}}
    xfs = {"vg": vg_name, "name": "x", "size": "320M", "filesystem": {"type": "xfs", "label": "xlab"}}
    apply(ext, check_first=True)
    apply(xfs)
    replans_nothing(ext, xfs)
    assert "LABEL=\"elab\"" in sh("blkid", "/dev/%s/e" % vg_name) and "TYPE=\"xfs\"" in sh("blkid", "/dev/%s/x" % vg_name)
    e_point = mounts("/dev/%s/e" % vg_name)
    x_point = mounts("/dev/%s/x" % vg_name)

    def df_size(point):
        return int(sh("df", "-B1", "--output=size", point).split()[-1])

    def xfs_bytes(point):
        info = sh("xfs_info", point)
        data = [line for line in info.splitlines() if line.startswith("data")][0]
        fields = dict(part.split("=") for part in data.replace(",", " ").split() if "=" in part)
        return int(fields["bsize"]) * int(fields["blocks"])

    e_before, x_before = df_size(e_point), xfs_bytes(x_point)
    apply(dict(ext, size="128M"), check_first=True)
    apply(dict(xfs, size="+64M", grow=True))
    assert df_size(e_point) - e_before > 56 * MIB
    assert xfs_bytes(x_point) - x_before == 64 * MIB
    replans_nothing(dict(ext, size="128M"))
    # facts are reported for the mounted filesystems
    runner = Runner(LocalModule())
    facts = read_fs_facts(runner, ["/dev/%s/e" % vg_name, "/dev/%s/x" % vg_name])
    assert len(runner.reads) == 1
    assert facts["/dev/%s/e" % vg_name].mountpoints == [e_point] and facts["/dev/%s/x" % vg_name].label == "xlab"
    # an online relabel of the mounted xfs, then the same request plans nothing
    apply(dict(xfs, size=None, filesystem={"type": "xfs", "label": "xnew"}), check_first=True)
    assert "LABEL=\"xnew\"" in sh("blkid", "-p", "/dev/%s/x" % vg_name)
    # xfs cannot shrink, a mounted ext4 is not shrunk, and the volume stays open
    with pytest.raises(StrataError, match="xfs cannot shrink"):
        plan_for(dict(xfs, size="320M", shrink=True))
    with pytest.raises(StrataError, match="shrink only unmounted"):
        plan_for(dict(ext, size="64M", shrink=True))
    with pytest.raises(StrataError, match="refusing to deactivate"):
        plan_for({"vg": vg_name, "name": "e", "active": False})


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
