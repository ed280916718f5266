# -*- coding: utf-8 -*-
"""Snapshot planning on LVM state captured from the VM (classic, thin, a pending merge)."""
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.lvm import snapshot_planner as snap
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.fixtures import lvm_state

MIB = 1024 ** 2


def plan(params, fixture="lv_types", facts=None):
    return snap.plan_snapshot(snap.request_from_params(dict({"vg": "capvg"}, **params)), lvm_state(fixture), facts)


def cmds(p):
    return [a.cmd for a in p.actions]


def test_create_classic_absolute_and_percent():
    p = plan({"name": "s", "origin": "linear", "size": "10M"})
    assert cmds(p) == [["lvcreate", "--yes", "--snapshot", "--size", "12288k", "--name", "s", "capvg/linear"]]
    assert p.after["size"] == 12 * MIB and p.after["type"] == "classic" and p.after["active"] is True
    p = plan({"name": "s", "origin": "linear", "size": "20%ORIGIN"})
    assert cmds(p) == [["lvcreate", "--yes", "--snapshot", "--extents", "20%ORIGIN", "--name", "s", "capvg/linear"]]
    assert p.after["size"] == 8 * MIB      # an estimate: 20% of 40M, rounded up to the 4M extent
    assert p.before == {"state": "absent"}


def test_create_thin_snapshot_needs_no_size_and_classic_does():
    p = plan({"name": "ts", "origin": "thin1"})
    assert cmds(p) == [["lvcreate", "--yes", "--snapshot", "--name", "ts", "capvg/thin1"]]
    assert p.after["type"] == "thin" and p.after["active"] is False
    with pytest.raises(StrataError, match="needs a size"):
        plan({"name": "s", "origin": "linear"})


@pytest.mark.parametrize("params, message", [
    ({"name": "s", "origin": "nope", "size": "8M"}, "does not exist"),
    ({"name": "s", "origin": "pool"}, "is a thin pool"),
    ({"name": "s", "origin": "linear_snap", "size": "8M"}, "itself a classic snapshot"),
    ({"name": "s", "origin": "origin", "size": "8M"}, "merge pending"),
    ({"name": "s", "origin": "linear", "size": "10G"}, "has 1.86G free"),
    ({"name": "linear_snap", "origin": "striped", "size": "8M"}, "exists with origin linear, not striped"),
    ({"name": "striped", "origin": "linear", "size": "8M"}, "is not a snapshot"),
    ({"name": "s", "size": "8M"}, "no origin was given"),
    ({"name": "s", "origin": "linear", "size": "5%PVS"}, "not supported"),
    ({"name": "bad/name", "origin": "linear", "size": "8M"}, "not valid"),
    ({"name": "origin_snap", "origin": "origin", "size": "8M"}, "being merged"),
])
def test_refusals_change_nothing(params, message):
    with pytest.raises(StrataError, match=message):
        plan(params)


def test_existing_snapshot_is_idempotent_and_grows_only_on_request():
    assert cmds(plan({"name": "linear_snap", "origin": "linear", "size": "12M"})) == []
    assert cmds(plan({"name": "linear_snap", "origin": "linear", "size": "10M"})) == []   # within one extent
    p = plan({"name": "linear_snap", "origin": "linear", "size": "4M"})
    assert cmds(p) == [] and "never shrunk" in p.notes[0]
    p = plan({"name": "linear_snap", "origin": "linear", "size": "20%ORIGIN"})
    assert cmds(p) == [] and "creation only" in p.notes[0]
    p = plan({"name": "linear_snap", "origin": "linear", "size": "20M"})
    assert cmds(p) == [["lvextend", "--size", "20480k", "capvg/linear_snap"]] and p.after["size"] == 20 * MIB
    assert cmds(plan({"name": "thin1_snap", "origin": "thin1"})) == []
    assert cmds(plan({"name": "linear_snap"})) == []        # origin may be left out once it exists


def test_view_reports_fill_level_and_merge_state():
    state = lvm_state("lv_types")
    view = snap.snapshot_view(state, "capvg", "linear_snap")
    assert view["type"] == "classic" and view["fill_percent"] == 0.0 and view["merge"] == "none"
    view = snap.snapshot_view(state, "capvg", "origin_snap")        # hidden: merge pending
    assert view["merging"] and view["merge"] == snap.MERGE_DEFERRED and view["fill_percent"] == 0.15
    view = snap.snapshot_view(state, "capvg", "thin1_snap")
    assert view["type"] == "thin" and view["active"] is False and view["origin"] == "thin1"
    assert snap.snapshot_view(state, "capvg", "nope") == {"state": "absent"}


def test_merge_unmounted_origin_completes_and_pending_merge_is_idempotent():
    p = plan({"name": "linear_snap", "state": "merged"})
    assert cmds(p) == [["lvconvert", "--merge", "--yes", "capvg/linear_snap"]]
    assert p.after == {"state": "absent", "merge": "complete"}
    p = plan({"name": "origin_snap", "state": "merged"})
    assert cmds(p) == [] and p.after["merge"] == snap.MERGE_DEFERRED
    assert "lvchange -an capvg/origin && lvchange -ay capvg/origin" in p.notes[0]
    p = plan({"name": "gone", "state": "merged"})
    assert cmds(p) == [] and p.after["merge"] == snap.MERGE_NOT_FOUND


def test_merge_of_open_origin_is_deferred(monkeypatch):
    state = lvm_state("lv_types")
    state.lv("capvg", "linear").open = True
    facts = {"fstype": {}, "mounts": {"/dev/capvg/linear": ["/srv"]}}
    p = snap.plan_snapshot(snap.request_from_params({"vg": "capvg", "name": "linear_snap", "state": "merged"}),
                           state, facts)
    assert cmds(p) == [["lvconvert", "--merge", "--yes", "capvg/linear_snap"]]
    assert p.after["merge"] == snap.MERGE_DEFERRED and "(mounted on /srv)" in p.notes[0]


def test_merge_with_inactive_origin_is_deferred_as_merge_status_says():
    # check mode must predict what the real run then reports (merge_status: inactive origin = deferred)
    state = lvm_state("lv_types")
    state.lv("capvg", "linear").active = False
    state.lv("capvg", "linear_snap").active = False
    p = snap.plan_snapshot(snap.request_from_params({"vg": "capvg", "name": "linear_snap", "state": "merged"}), state)
    assert cmds(p) == [["lvconvert", "--merge", "--yes", "capvg/linear_snap"]]
    assert p.after["merge"] == snap.MERGE_DEFERRED and "origin capvg/linear is not active" in p.notes[0]
    state.lv_any("capvg", "linear_snap").merging = True          # what LVM shows after the lvconvert
    assert snap.merge_status(state, "capvg", "linear_snap") == p.after["merge"]


def test_full_classic_snapshot_merge_refused():
    state = lvm_state("lv_types")
    state.lv("capvg", "linear_snap").snap_percent = 100.0
    with pytest.raises(StrataError, match="invalid"):
        snap.plan_snapshot(snap.request_from_params({"vg": "capvg", "name": "linear_snap", "state": "merged"}), state)
    p = snap.plan_snapshot(snap.request_from_params({"vg": "capvg", "name": "linear_snap", "origin": "linear"}), state)
    assert cmds(p) == [] and "invalid" in p.warnings[0] and p.after["invalid"]


def test_nearly_full_snapshot_warns():
    state = lvm_state("lv_types")
    state.lv("capvg", "linear_snap").snap_percent = 91.0
    p = snap.plan_snapshot(snap.request_from_params({"vg": "capvg", "name": "linear_snap"}), state)
    assert "91.0% full" in p.warnings[0]


def test_remove_and_unmount_only_ours():
    with pytest.raises(StrataError, match="needs allow_remove"):
        plan({"name": "linear_snap", "state": "absent"})
    p = plan({"name": "linear_snap", "state": "absent", "allow_remove": True})
    assert cmds(p) == [["lvremove", "--yes", "capvg/linear_snap"]] and p.after == {"state": "absent"}
    assert cmds(plan({"name": "gone", "state": "absent"})) == []
    state = lvm_state("lv_types")
    state.lv("capvg", "linear_snap").open = True
    facts = {"fstype": {}, "mounts": {"/dev/capvg/linear_snap": ["/mnt/s"]}}
    req = snap.request_from_params({"vg": "capvg", "name": "linear_snap", "state": "absent", "allow_remove": True,
                                    "mount": {"path": "/mnt/s"}})
    assert cmds(snap.plan_snapshot(req, state, facts)) == [["umount", "/mnt/s"], ["lvremove", "--yes", "capvg/linear_snap"]]
    req = snap.request_from_params({"vg": "capvg", "name": "linear_snap", "state": "absent", "allow_remove": True,
                                    "mount": {"path": "/mnt/o"}})
    with pytest.raises(StrataError, match="mounted on /mnt/s"):
        snap.plan_snapshot(req, state, facts)
    with pytest.raises(StrataError, match="not a snapshot"):
        plan({"name": "linear", "state": "absent"})
    with pytest.raises(StrataError, match="being merged"):
        plan({"name": "origin_snap", "state": "absent", "allow_remove": True})


def test_mount_read_only_with_xfs_nouuid_and_thin_activation():
    facts = {"fstype": {"/dev/capvg/thin1": "xfs"}, "mounts": {}}
    p = plan({"name": "thin1_snap", "origin": "thin1", "mount": {"path": "/mnt/t", "options": "noexec,rw"}}, facts=facts)
    assert cmds(p) == [
        ["lvchange", "--activate", "y", "--ignoreactivationskip", "capvg/thin1_snap"],
        ["mkdir", "-p", "/mnt/t"],
        ["mount", "-t", "xfs", "-o", "ro,nouuid,noexec", "/dev/capvg/thin1_snap", "/mnt/t"],
    ]
    assert p.after["mounts"] == ["/mnt/t"] and p.after["active"]
    facts = {"fstype": {"/dev/capvg/linear_snap": "ext4"}, "mounts": {"/dev/capvg/linear_snap": ["/mnt/t"]}}
    assert cmds(plan({"name": "linear_snap", "origin": "linear", "mount": {"path": "/mnt/t"}}, facts=facts)) == []
    p = plan({"name": "new", "origin": "linear", "size": "8M", "mount": {"path": "/mnt/n"}},
             facts={"fstype": {"/dev/capvg/linear": "ext4"}, "mounts": {}})
    assert cmds(p)[-1] == ["mount", "-t", "ext4", "-o", "ro", "/dev/capvg/new", "/mnt/n"]
    with pytest.raises(StrataError, match="no filesystem"):
        plan({"name": "linear_snap", "origin": "linear", "mount": {"path": "/mnt/t"}}, facts={"fstype": {}, "mounts": {}})
    with pytest.raises(StrataError, match="absolute"):
        plan({"name": "linear_snap", "mount": {"path": "rel"}}, facts={"fstype": {"/dev/capvg/linear_snap": "ext4"}})


def test_planner_never_mutates_state():
    state = lvm_state("lv_types")
    before = repr(state)
    snap.plan_snapshot(snap.request_from_params({"vg": "capvg", "name": "s", "origin": "linear", "size": "8M"}), state)
    snap.plan_snapshot(snap.request_from_params({"vg": "capvg", "name": "linear_snap", "state": "merged"}), state)
    assert repr(state) == before


def test_request_errors_and_helpers():
    with pytest.raises(StrataError, match="state 'gone'"):
        snap.request_from_params({"vg": "capvg", "name": "s", "state": "gone"})
    assert snap.mount_options("ext4", "ro,noatime") == "ro,noatime"
    assert snap.facts_paths(snap.request_from_params({"vg": "capvg", "name": "linear_snap"}), lvm_state("lv_types")) == [
        "/dev/capvg/linear_snap", "/dev/capvg/linear"]


def test_read_facts_uses_one_blkid_call(tmp_path, monkeypatch):
    calls = []

    class FakeRunner:
        def read(self, cmd, ok_rcs=(0,), what=None):
            calls.append(cmd)

            class R:
                # the multi-device call finds /dev/a; the low-level probe of /dev/b finds nothing
                stdout = '{"signatures": []}' if cmd[0] == "wipefs" else "DEVNAME=/dev/a\nTYPE=ext4\n"
            return R()

    class St:
        st_rdev = 0
        st_mode = 0o60660   # a block device

    real_stat = snap.os.stat

    def fake_stat(path, *args, **kwargs):
        if path in ("/dev/a", "/dev/b"):
            return St()
        if str(path).startswith("/dev/"):
            raise OSError(path)
        return real_stat(path, *args, **kwargs)
    monkeypatch.setattr(snap.os, "stat", fake_stat)
    monkeypatch.setattr(snap.os, "major", lambda d: 253)
    monkeypatch.setattr(snap.os, "minor", lambda d: 4)
    info = tmp_path / "mountinfo"
    info.write_text("36 1 253:4 / /mnt/a rw - ext4 /dev/a rw\n")
    facts = snap.read_snapshot_facts(FakeRunner(), ["/dev/a", "/dev/b", "/dev/missing"], mountinfo_path=str(info))
    # one blkid for every device (blkid -p stops at the first blank one), one wipefs for the blank
    assert calls == [["blkid", "-c", "/dev/null", "-o", "export", "/dev/a", "/dev/b"],
                     ["wipefs", "--no-act", "--json", "/dev/b"]]
    assert facts["fstype"]["/dev/a"] == "ext4" and facts["fstype"]["/dev/missing"] is None
    assert facts["mounts"]["/dev/a"] == ["/mnt/a"] and facts["mounts"]["/dev/missing"] == []
    calls.clear()
    snap.read_snapshot_facts(FakeRunner(), ["/dev/a"], probe=False, mountinfo_path=str(info))
    assert calls == []
