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

from ansible_collections.strata.storage.plugins.module_utils import lvm
from ansible_collections.strata.storage.plugins.module_utils.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.filesystem import read_fs_facts
from ansible_collections.strata.storage.plugins.module_utils.lvm_lv_planner import (
    fs_reads_for, plan_lv, request_from_params,
)
from ansible_collections.strata.storage.plugins.module_utils.runner import Runner

from conftest import LocalModule, sh

MIB = 1024 ** 2


def plan_for(params, check=False):
    runner = Runner(LocalModule(check_mode=check))
    req = request_from_params(params)
    state = lvm.read_state(runner)
    paths, fit = fs_reads_for(req, state)
    return runner, plan_lv(req, state, read_fs_facts(runner, paths, fit_check=fit))


def apply(params, check_first=True):
    """Plan in check mode, then for real; both must plan the same commands. Returns the plan."""
    if check_first:
        check_runner, check_plan = plan_for(params, check=True)
        check_runner.execute_all(check_plan.actions)
    runner, plan = plan_for(params)
    runner.execute_all(plan.actions)
    if check_first:
        assert check_runner.actions == runner.actions
    return plan


def replans_nothing(params):
    plan = plan_for(params)[1]
    assert plan.actions == [], [a.cmd for a in plan.actions]


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
    for name, params in layouts.items():
        params = dict(params, vg=vg_name, name=name)
        # check mode vs real run on two layouts (each costs TCG seconds; the rest just create)
        plan = apply(params, check_first=name in ("lin", "r10"))
        assert plan.after["size"] == expect[name][1] * MIB
        replans_nothing(params)
    # left-out options keep what is there
    replans_nothing({"vg": vg_name, "name": "r6"})
    real = lvs(vg_name)
    for name, (segtype, size) in expect.items():
        assert real[name]["segtype"].startswith(segtype), (name, real[name])
        assert int(real[name]["lv_size"]) == size * MIB, name
    assert real["r6"]["data_stripes"] == "3" and real["str"]["stripes"] == "2"
    with pytest.raises(StrataError, match="converting a layout is not done"):
        plan_for({"vg": vg_name, "name": "r5", "stripes": 3})


def test_size_forms_are_idempotent(loops, vg_name):
    make_vg(vg_name, loops(2, "128M"))
    pct = {"vg": vg_name, "name": "pct", "size": "25%VG"}
    apply(pct)
    replans_nothing(pct)
    replans_nothing(dict(pct, grow=True))
    plus = {"vg": vg_name, "name": "plus", "size": "+10M"}
    apply(plus)                                          # created with 12M
    assert int(lvs(vg_name)["plus"]["lv_size"]) == 12 * MIB
    replans_nothing(plus)                                # +size without grow: kept
    apply(dict(plus, grow=True))                         # grows by 10M (-> 24M)
    assert int(lvs(vg_name)["plus"]["lv_size"]) == 24 * MIB
    grown = {"vg": vg_name, "name": "pct", "size": "50%VG", "grow": True}
    apply(grown)
    replans_nothing(grown)
    rest = {"vg": vg_name, "name": "rest", "size": "100%FREE"}
    apply(rest)
    replans_nothing(rest)
    replans_nothing(dict(rest, grow=True))               # no free space left
    assert lvm.read_state(Runner(LocalModule())).vg(vg_name).free_count == 0


def test_grow_into_free_space_striped_and_raid1(loops, vg_name):
    make_vg(vg_name, loops(3, "96M"))
    for name, extra in (("s", {"stripes": 2, "pvs": None}), ("m", {"type": "raid1"})):
        params = {"vg": vg_name, "name": name, "size": "8M"}
        params.update({k: v for k, v in extra.items() if v is not None})
        apply(params)
    grow = {"vg": vg_name, "name": "m", "size": "100%FREE", "grow": True}
    apply(grow)
    replans_nothing(grow)
    grow = {"vg": vg_name, "name": "s", "size": "100%FREE", "grow": True}
    apply(grow)
    replans_nothing(grow)


def test_grow_mounted_ext4_and_xfs_online(loops, vg_name, mounts):
    make_vg(vg_name, loops(2, "512M"))
    ext = {"vg": vg_name, "name": "e", "size": "64M", "filesystem": {"type": "ext4", "label": "elab"}}
    xfs = {"vg": vg_name, "name": "x", "size": "320M", "filesystem": {"type": "xfs", "label": "xlab"}}
    apply(ext)
    apply(xfs)
    replans_nothing(ext)
    replans_nothing(xfs)
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
    apply(dict(ext, size="128M"))
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
    apply(dict(xfs, size=None, filesystem={"type": "xfs", "label": "xnew"}))
    assert "LABEL=\"xnew\"" in sh("blkid", "-p", "/dev/%s/x" % vg_name)
    # xfs cannot shrink, a mounted ext4 is not shrunk, and the volume stays open
    with pytest.raises(StrataError, match="xfs cannot shrink"):
        plan_for(dict(xfs, size="320M", shrink=True))
    with pytest.raises(StrataError, match="shrink only unmounted"):
        plan_for(dict(ext, size="64M", shrink=True))
    with pytest.raises(StrataError, match="refusing to deactivate"):
        plan_for({"vg": vg_name, "name": "e", "active": False})


def test_shrink_needs_flag_and_fit_and_keeps_data(loops, vg_name, mounts):
    make_vg(vg_name, loops(1, "256M"))
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
    plan = apply(dict(params, size="125M", shrink=True))          # rounded up to 128M
    assert plan.actions[0].cmd[:3] == ["lvreduce", "--yes", "--resizefs"]
    assert int(lvs(vg_name)["s"]["lv_size"]) == 128 * MIB
    replans_nothing(dict(params, size="128M"))
    sh("mount", dev, point)
    assert sh("sha256sum", "%s/blob" % point).split()[0] == checksum
    assert int(sh("df", "-B1", "--output=size", point).split()[-1]) < 128 * MIB
    sh("umount", point)
    sh("e2fsck", "-fn", dev)


def test_guard_rename_activation_remove(loops, vg_name, mounts):
    make_vg(vg_name, loops(1, "256M"))
    dev = "/dev/%s/raw" % vg_name
    raw = {"vg": vg_name, "name": "raw", "size": "16M"}
    apply(raw)
    sh("mkswap", dev)
    with pytest.raises(StrataError, match="holds a swap signature"):
        plan_for(dict(raw, filesystem={"type": "ext4"}))
    apply(dict(raw, filesystem={"type": "ext4", "force": True, "label": "wasfree"}))
    assert "TYPE=\"ext4\"" in sh("blkid", "-p", dev) and "TYPE=\"swap\"" not in sh("blkid", "-p", dev)
    replans_nothing(dict(raw, filesystem={"type": "ext4"}))
    # rename, then the same request again plans nothing
    moved = {"vg": vg_name, "name": "moved", "rename_from": "raw", "size": "16M", "filesystem": {"type": "ext4"}}
    apply(moved)
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
    apply(dict(gone, remove_snapshots=True))
    assert lvs(vg_name) == {}
    replans_nothing(gone)
