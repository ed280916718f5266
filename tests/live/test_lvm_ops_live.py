# -*- coding: utf-8 -*-
"""Snapshots (classic and thin, merge, deferred merge, mounts) and PV operations (pvmove with
progress, pvresize) against the VM's real lvm2 and kernel. (RAID repair and metadata restore
are in the lvm_layout scenario.)

Every scenario checks the real state with the tools (lvs, checksums of the data), not only
our own reports, and re-plans after each change to prove idempotence."""
from __future__ import annotations

import hashlib
import os
import subprocess
import time

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core import sizes
from ansible_collections.strata.storage.plugins.module_utils.lvm import reader as lvm
from ansible_collections.strata.storage.plugins.module_utils.lvm import pv_planner as pvp
from ansible_collections.strata.storage.plugins.module_utils.lvm import snapshot_planner as snap
from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInspector
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.lvm.planner import VgRequest, plan_vg

from conftest import WORK, sh

MIB = 1024 ** 2


def run(*cmd):
    return subprocess.run(list(cmd), check=False, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def make_vg(runner, name, devs):
    plan = plan_vg(VgRequest(name=name, devices=devs), lvm.read_state(runner), DeviceInspector(runner).inspect)
    runner.execute_all(plan.actions)


def checksum(path, length=None):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        digest.update(handle.read(length) if length else handle.read())
    return digest.hexdigest()


def wait_for(what, check, limit=180):
    deadline = time.time() + limit
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(1)
    raise AssertionError("timed out waiting for %s" % what)


def snapshot_apply(runner, params):
    req = snap.request_from_params(params)
    state = lvm.read_state(runner)
    plan = snap.plan_snapshot(req, state, snap.read_snapshot_facts(runner, snap.facts_paths(req, state),
                                                                   probe=bool(req.mount_path)))
    runner.execute_all(plan.actions)
    return plan


@pytest.fixture
def mnt():
    made = []

    def make():
        path = os.path.join(WORK, "mnt-%d-%d" % (os.getpid(), len(made)))
        os.makedirs(path, exist_ok=True)
        made.append(path)
        return path
    yield make
    for path in reversed(made):
        run("umount", path)


def test_snapshots_classic_thin_fill_mount_merge_and_deferred_merge(runner, loops, vg_name, mnt):
    """One VG for every snapshot case: classic (fill level, read-only mount, merge of an
    unmounted origin, then a merge deferred by a mounted origin) and thin (mount, remove)."""
    make_vg(runner, vg_name, loops(2))
    sh("lvcreate", "-q", "-y", "-L", "40M", "-n", "data", vg_name)
    dev = "/dev/%s/data" % vg_name
    sh("mkfs.ext4", "-q", dev)
    origin_mnt, snap_mnt = mnt(), mnt()
    sh("mount", dev, origin_mnt)
    with open(os.path.join(origin_mnt, "f"), "wb") as handle:
        handle.write(os.urandom(4 * MIB))
    sh("sync")
    before = checksum(os.path.join(origin_mnt, "f"))
    params = {"vg": vg_name, "name": "s1", "origin": "data", "size": "25%ORIGIN", "mount": {"path": snap_mnt}}
    plan = snapshot_apply(runner, params)
    assert [a.cmd[0] for a in plan.actions] == ["lvcreate", "mkdir", "mount"]
    assert snapshot_apply(runner, params).actions == []                      # idempotent, mount included
    assert checksum(os.path.join(snap_mnt, "f")) == before                   # the snapshot shows the old data
    assert "ro" in sh("findmnt", "-n", "-o", "OPTIONS", snap_mnt).split(",")
    # change the origin: the COW store fills, reported as fill_percent
    with open(os.path.join(origin_mnt, "f"), "wb") as handle:
        handle.write(os.urandom(4 * MIB))
    sh("sync")
    assert checksum(os.path.join(origin_mnt, "f")) != before
    # the store may still fill a little while we read (ext4's lazy inode-table init writes to the
    # fresh origin in the background), so our reading must lie between two readings of lvs
    real = float(sh("lvs", "--noheadings", "-o", "snap_percent", "%s/s1" % vg_name).strip())
    view = snap.snapshot_view(lvm.read_state(runner), vg_name, "s1")
    real_after = float(sh("lvs", "--noheadings", "-o", "snap_percent", "%s/s1" % vg_name).strip())
    assert view["type"] == "classic" and real > 10
    assert real - 0.5 <= view["fill_percent"] <= real_after + 0.5, (real, view["fill_percent"], real_after)
    assert view["size"] >= plan.after["size"] >= 10 * MIB      # 25% of 40M; LVM may round %ORIGIN up further
    # another origin under the same name is an error
    with pytest.raises(StrataError, match="origin data, not other"):
        snap.plan_snapshot(snap.request_from_params(dict(params, origin="other")), lvm.read_state(runner))
    # merge with the origin unmounted: the snapshot (mounted by us) is unmounted, origin reverts
    sh("umount", origin_mnt)
    plan = snapshot_apply(runner, dict(params, state="merged"))
    assert [a.cmd[0] for a in plan.actions] == ["umount", "lvconvert"] and plan.after["merge"] == "complete"
    state = lvm.read_state(runner)
    assert state.lv_any(vg_name, "s1") is None
    assert snap.merge_status(state, vg_name, "s1") == snap.MERGE_NOT_FOUND
    sh("mount", dev, origin_mnt)
    assert checksum(os.path.join(origin_mnt, "f")) == before                 # data reverted
    assert snapshot_apply(runner, dict(params, state="merged")).actions == []

    # a merge while the origin is mounted is deferred to its next activation, and reported so
    sh("sh", "-c", "echo old > %s/g && sync" % origin_mnt)
    deferred = {"vg": vg_name, "name": "s2", "origin": "data", "size": "16M"}
    snapshot_apply(runner, deferred)
    sh("sh", "-c", "echo new > %s/g && sync" % origin_mnt)
    plan = snapshot_apply(runner, dict(deferred, state="merged"))
    assert plan.after["merge"] == snap.MERGE_DEFERRED and "lvchange -an %s/data" % vg_name in plan.notes[0]
    state = lvm.read_state(runner)
    assert snap.merge_status(state, vg_name, "s2") == snap.MERGE_DEFERRED
    assert state.lv(vg_name, "s2") is None and state.lv_any(vg_name, "s2").merging   # hidden while pending
    again = snapshot_apply(runner, dict(deferred, state="merged"))
    assert again.actions == [] and again.after["merge"] == snap.MERGE_DEFERRED       # idempotent
    with pytest.raises(StrataError, match="being merged"):
        snap.plan_snapshot(snap.request_from_params(deferred), state)
    # do what the hint says: the merge runs at the next activation
    sh("umount", origin_mnt)
    sh("lvchange", "-an", "%s/data" % vg_name)
    sh("lvchange", "-ay", "%s/data" % vg_name)
    wait_for("the merge to finish", lambda: lvm.read_state(runner).lv_any(vg_name, "s2") is None)
    sh("mount", "-o", "ro", dev, origin_mnt)
    assert open(os.path.join(origin_mnt, "g")).read() == "old\n"
    sh("umount", origin_mnt)

    # thin snapshots: no size, activated (they skip activation) and mounted read-only (xfs: nouuid)
    sh("lvcreate", "-q", "-y", "--type", "thin-pool", "-L", "200M", "-n", "pool", vg_name)
    sh("lvcreate", "-q", "-y", "--type", "thin", "-V", "320M", "--thinpool", "pool", "-n", "thin", vg_name)
    sh("mkfs.xfs", "-q", "/dev/%s/thin" % vg_name)
    thin_mnt, tsnap_mnt = mnt(), mnt()
    sh("mount", "/dev/%s/thin" % vg_name, thin_mnt)
    sh("sh", "-c", "head -c 2097152 /dev/urandom > %s/f && sync" % thin_mnt)
    expected = checksum(os.path.join(thin_mnt, "f"))
    with pytest.raises(StrataError, match="is a thin pool"):
        snap.plan_snapshot(snap.request_from_params({"vg": vg_name, "name": "x", "origin": "pool"}),
                           lvm.read_state(runner))
    params = {"vg": vg_name, "name": "ts", "origin": "thin", "mount": {"path": tsnap_mnt}}
    plan = snapshot_apply(runner, params)
    assert [a.cmd[:2] for a in plan.actions] == [["lvcreate", "--yes"], ["lvchange", "--activate"],
                                                 ["mkdir", "-p"], ["mount", "-t"]]
    assert "nouuid" in plan.actions[-1].cmd[plan.actions[-1].cmd.index("-o") + 1]   # xfs shares the UUID
    assert checksum(os.path.join(tsnap_mnt, "f")) == expected
    assert snapshot_apply(runner, params).actions == []
    view = snap.snapshot_view(lvm.read_state(runner), vg_name, "ts")
    assert view["type"] == "thin" and view["fill_percent"] > 0 and view["origin"] == "thin"
    # removal unmounts what we mounted, then removes only the snapshot
    plan = snapshot_apply(runner, dict(params, state="absent", allow_remove=True))
    assert [a.cmd[0] for a in plan.actions] == ["umount", "lvremove"]
    state = lvm.read_state(runner)
    assert state.lv(vg_name, "ts") is None and state.lv(vg_name, "thin") is not None
    with pytest.raises(StrataError, match="not a snapshot"):
        snap.plan_snapshot(snap.request_from_params({"vg": vg_name, "name": "thin", "state": "absent"}), state)


def test_pvmove_with_progress_and_pvresize_after_grow(runner, loops, vg_name):
    a, b = loops(2, "128M")
    make_vg(runner, vg_name, [a, b])
    # 64M: the move must last past pvmove's first 1 s interval for a progress line to exist
    sh("lvcreate", "-q", "-y", "-L", "64M", "-n", "data", vg_name, a)
    sh("dd", "if=/dev/urandom", "of=/dev/%s/data" % vg_name, "bs=1M", "count=64", "oflag=direct", "status=none")
    before = checksum("/dev/%s/data" % vg_name)
    # not enough room: refused before anything runs
    sh("lvcreate", "-q", "-y", "-L", "100M", "-n", "filler", vg_name, b)
    with pytest.raises(StrataError, match="only .* free extents"):
        pvp.plan_pv_move(pvp.PvMoveRequest(a), lvm.read_state(runner))
    sh("lvremove", "-q", "-y", "%s/filler" % vg_name)
    plan = pvp.plan_pv_move(pvp.PvMoveRequest(a, destinations=[b], interval=1), lvm.read_state(runner))
    result = runner.execute(plan.actions[0])
    # the `Moved: NN%` lines pvmove printed (under TCG the last one is not always 100%: pvmove
    # prints at its interval, so a short move can end between two lines); completion is what
    # the state shows below
    progress = pvp.parse_pvmove_progress(result.stdout + result.stderr)
    assert progress and {p["device"] for p in progress} == {a}
    assert [p["percent"] for p in progress] == sorted(p["percent"] for p in progress)
    state = lvm.read_state(runner)
    assert pvp.find_pv(state, a).pe_alloc_count == 0
    assert pvp.plan_pv_move(pvp.PvMoveRequest(a), state).actions == []        # nothing left to move
    assert checksum("/dev/%s/data" % vg_name) == before
    # grow the backing file of b and tell the loop driver: one pvresize, then nothing
    assert pvp.plan_pv_resize(pvp.PvResizeRequest(b), state).actions == []
    backing = sh("losetup", "-n", "-O", "BACK-FILE", b).strip()
    sh("truncate", "-s", "256M", backing)
    sh("losetup", "-c", b)
    state = lvm.read_state(runner)
    plan = pvp.plan_pv_resize(pvp.PvResizeRequest(b), state)
    assert [a.cmd for a in plan.actions] == [["pvresize", b]]
    runner.execute_all(plan.actions)
    state = lvm.read_state(runner)
    assert pvp.find_pv(state, b).pe_count == plan.after["pe_count"]
    assert pvp.plan_pv_resize(pvp.PvResizeRequest(b), state).actions == []
    # the separate-report fallback (`pvs --segments`, run for real here) gives the same PVs
    # and segment maps as fullreport
    fallback = lvm.parse_separate_reports(*(sh(*cmd) for cmd in lvm.separate_report_cmds()))
    assert pvp.find_pv(fallback, b).segments == pvp.find_pv(state, b).segments != []
    assert sorted(pv.name for pv in fallback.pvs) == sorted(pv.name for pv in state.pvs)
    assert fallback.lv(vg_name, "data") == state.lv(vg_name, "data")
    # shrinking over allocated extents is refused, over free ones allowed with the flag
    req = pvp.PvResizeRequest(b, size=sizes.parse_size("40M"), allow_shrink=True)
    with pytest.raises(StrataError, match="data"):
        pvp.plan_pv_resize(req, state)
    req = pvp.PvResizeRequest(b, size=sizes.parse_size("200M"), allow_shrink=True)
    plan = pvp.plan_pv_resize(req, state)
    runner.execute_all(plan.actions)
    assert pvp.find_pv(lvm.read_state(runner), b).pe_count == plan.after["pe_count"] < pvp.find_pv(state, b).pe_count
