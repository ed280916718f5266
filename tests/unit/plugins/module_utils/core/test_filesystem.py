# -*- coding: utf-8 -*-
"""Filesystem facts and commands. The blkid/resize2fs texts were captured in the test VM
(util-linux 2.38.1, e2fsprogs 1.47.0, Debian 12)."""
from __future__ import annotations

import os

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core import filesystem
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.filesystem import (
    FsInfo, mkfs_action, parse_blkid_multi, parse_resize2fs_min, read_fs_facts, relabel_action, shrink_refusal,
)
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action, Result

# `blkid -c /dev/null -o export /dev/loop2 /dev/loop0 /dev/loop1 /dev/loop9` (loop9 absent)
BLKID_MULTI = """DEVNAME=/dev/loop2
PTUUID=cc73de86-cabc-4be3-8106-188ecf4474f5
PTTYPE=gpt

DEVNAME=/dev/loop0
LABEL=lab1
UUID=73f59c6d-3ca0-4a63-9891-d1a5808f9175
BLOCK_SIZE=1024
TYPE=ext4

DEVNAME=/dev/loop1
UUID=6be05969-2601-4ed4-8ab2-5fb096c3b1fd
TYPE=swap
"""
RESIZE2FS_P = "Estimated minimum size of the filesystem: 4928\n"
MIB = 1024 ** 2


def test_parse_blkid_multi():
    found = parse_blkid_multi(BLKID_MULTI)
    assert sorted(found) == ["/dev/loop0", "/dev/loop1", "/dev/loop2"]
    assert found["/dev/loop0"]["TYPE"] == "ext4" and found["/dev/loop0"]["LABEL"] == "lab1"
    assert found["/dev/loop2"] == {"PTUUID": "cc73de86-cabc-4be3-8106-188ecf4474f5", "PTTYPE": "gpt"}
    assert parse_blkid_multi("") == {}


def test_parse_resize2fs_min():
    assert parse_resize2fs_min(RESIZE2FS_P) == 4928
    assert parse_resize2fs_min("resize2fs: Bad magic number in super-block") is None


class FakeRunner:
    def __init__(self, outputs):
        self.outputs = outputs
        self.reads = []

    def read(self, cmd, ok_rcs=(0,), what=None):
        self.reads.append(cmd)
        for prefix, out in self.outputs:
            if cmd[:len(prefix)] == prefix:
                return Result(cmd=cmd, rc=0, stdout=out, stderr="")
        return Result(cmd=cmd, rc=2, stdout="", stderr="")


@pytest.fixture
def fake_system(monkeypatch, tmp_path):
    devnos = {"/dev/loop0": (7, 0), "/dev/loop1": (7, 1), "/dev/loop2": (7, 2), "/dev/loop5": (7, 5),
              "/dev/loop6": (7, 6)}
    monkeypatch.setattr(filesystem, "_devno", devnos.get)
    proc = tmp_path / "proc" / "self"
    proc.mkdir(parents=True)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    (proc / "mountinfo").write_text("36 25 7:6 / %s rw,relatime shared:1 - ext4 /dev/loop6 rw\n" % mnt)
    holders = tmp_path / "sys" / "dev" / "block" / "7:1" / "holders"
    holders.mkdir(parents=True)
    (holders / "dm-3").write_text("")
    return str(tmp_path / "proc"), str(tmp_path / "sys"), str(mnt)


def test_read_fs_facts_one_call_for_many(fake_system):
    proc, sysfs, mnt = fake_system
    text = BLKID_MULTI + "\nDEVNAME=/dev/loop6\nUUID=1-2\nBLOCK_SIZE=4096\nTYPE=ext4\n"
    # real `wipefs --no-act --json` output shape (util-linux 2.38): two signatures on loop5,
    # which is why the batch blkid call could not decide and reported it blank
    wipefs = ('{"signatures": [{"device": "loop5", "offset": "0x0", "type": "xfs", "uuid": "u-1", "label": null},'
              ' {"device": "loop5", "offset": "0x438", "type": "ext4", "uuid": "u-2", "label": "old"}]}')
    runner = FakeRunner([(["blkid", "-c"], text), (["wipefs", "--no-act"], wipefs),
                         (["resize2fs", "-P"], RESIZE2FS_P)])
    paths = ["/dev/loop0", "/dev/loop1", "/dev/loop2", "/dev/loop5", "/dev/loop6", "/dev/gone"]
    facts = read_fs_facts(runner, paths, fit_check=["/dev/loop0", "/dev/loop6"], proc=proc, sysfs=sysfs)
    assert runner.reads[0] == ["blkid", "-c", "/dev/null", "-o", "export"] + paths[:-1]
    # loop5 was blank for the batch probe: checked again by ONE wipefs call for all such devices;
    # only the unmounted ext4 named in fit_check gets resize2fs -P (loop6 is mounted)
    assert runner.reads[1:] == [["wipefs", "--no-act", "--json", "/dev/loop5"], ["resize2fs", "-P", "/dev/loop0"]]
    assert "/dev/gone" not in facts
    assert facts["/dev/loop0"].min_size == 4928 * 1024 and facts["/dev/loop0"].label == "lab1"
    assert facts["/dev/loop1"].type == "swap" and facts["/dev/loop1"].holders == ["dm-3"]
    assert facts["/dev/loop2"].pttype == "gpt" and not facts["/dev/loop2"].blank
    # both signatures count: never equal to one filesystem type, so the guard refuses it
    assert facts["/dev/loop5"].type == "xfs,ext4" and not facts["/dev/loop5"].blank
    mounted = facts["/dev/loop6"]
    assert mounted.mountpoints == [mnt] and mounted.size > 0 and mounted.used is not None
    assert mounted.min_size is None


def test_read_fs_facts_nothing_to_read():
    runner = FakeRunner([])
    assert read_fs_facts(runner, ["/nonexistent/dev"]) == {} and runner.reads == []


def test_guard_view_of_facts():
    info = FsInfo(device="/dev/vg/lv", type="ext4", label="x", uuid="u", probe={"TYPE": "ext4", "LABEL": "x", "UUID": "u"},
                  mountpoints=["/srv"])
    dev = info.device_info()
    assert dev.signatures == ["holds an ext4 signature (filesystem, label x, UUID u)"]
    assert dev.use_reasons() == ["is mounted on /srv"]
    assert FsInfo(device="/dev/x").blank


def test_mkfs_argv():
    assert mkfs_action("ext4", "/dev/vg/lv").cmd == ["mkfs.ext4", "/dev/vg/lv"]
    assert mkfs_action("ext4", "/dev/vg/lv", "l", ["-m", "1"], forced=True).cmd == [
        "mkfs.ext4", "-F", "-L", "l", "-m", "1", "/dev/vg/lv"]
    assert mkfs_action("xfs", "/dev/vg/lv", forced=True).cmd == ["mkfs.xfs", "-f", "/dev/vg/lv"]
    with pytest.raises(StrataError, match="supported are ext4, xfs"):
        mkfs_action("btrfs", "/dev/vg/lv")


def test_relabel_argv():
    assert relabel_action(FsInfo("/d", type="ext3"), "a", "x").cmd == ["e2label", "/d", "a"]
    assert relabel_action(FsInfo("/d", type="xfs"), "a", "x").cmd == ["xfs_admin", "-L", "a", "/d"]
    assert relabel_action(FsInfo("/d", type="xfs", mountpoints=["/m"]), "a", "x").cmd == ["xfs_io", "-c", "label -s a", "/m"]
    with pytest.raises(StrataError):
        relabel_action(FsInfo("/d", type="swap"), "a", "x")


@pytest.mark.parametrize("info, fits", [
    (FsInfo("/d"), True),
    (FsInfo("/d", type="ext4", min_size=10 * MIB), True),
    (FsInfo("/d", type="ext4", min_size=30 * MIB), False),
    (FsInfo("/d", type="ext4", min_size=MIB, mountpoints=["/m"]), False),
    (FsInfo("/d", type="ext4"), False),
    (FsInfo("/d", type="xfs"), False),
    (FsInfo("/d", type="crypto_LUKS"), False),
    (FsInfo("/d", pttype="dos"), False),
    (None, False),
])
def test_shrink_refusal(info, fits):
    assert (shrink_refusal(info, 20 * MIB, "lv") is None) == fits


def test_devno_of_a_regular_file(tmp_path):
    path = tmp_path / "f"
    path.write_text("")
    assert filesystem._devno(str(path)) is None and filesystem._devno(os.path.join(str(tmp_path), "none")) is None


def test_plan_filesystem_for_layouts(monkeypatch):
    from ansible_collections.strata.storage.plugins.module_utils.core import devices
    monkeypatch.setattr(devices, "device_key", lambda p: ("path", p))
    dev = "/dev/vg/thin1"
    # a volume this run creates (no facts): mkfs, no guard
    plan = filesystem.plan_filesystem(dev, {"type": "xfs", "label": "t", "options": "-K"}, None)
    assert [a.cmd for a in plan.actions] == [["mkfs.xfs", "-L", "t", "-K", dev]]
    assert plan.before == {} and plan.after == {"type": "xfs", "label": "t", "uuid": None}
    same = FsInfo(dev, type="xfs", label="t", uuid="u", probe={"TYPE": "xfs"})
    assert filesystem.plan_filesystem(dev, {"type": "xfs"}, same).actions == []
    with pytest.raises(StrataError, match="refusing to use /dev/vg/thin1"):
        filesystem.plan_filesystem(dev, {"type": "ext4"}, same)
    plan = filesystem.plan_filesystem(dev, {"type": "ext4", "force": True}, same)
    assert [a.cmd for a in plan.actions] == [["wipefs", "--all", dev], ["mkfs.ext4", "-F", dev]]
    with pytest.raises(StrataError, match="type vfat is not supported"):
        filesystem.plan_filesystem(dev, {"type": "vfat"}, None)


# --------------------------------------------------------------------------- mkfs dry runs
# Output of the real dry runs (tests/fixtures/capture_mkfs.sh, Debian 12's tools).
MKFS_VERSION = "xfsprogs-6.1.0_e2fsprogs-1.47.0"


def mkfs_capture(name):
    base = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "mkfs", MKFS_VERSION, name)
    with open(base + ".rc") as rc, open(base + ".out") as out, open(base + ".err") as err:
        return int(rc.read()), out.read(), err.read()


class DryRunRunner:
    """Answers each dry run with the captured output of the tool for that case."""

    def __init__(self, answers):
        self.answers = answers
        self.reads = []

    def read(self, cmd, ok_rcs=(0,), what=None, check=True):
        self.reads.append(cmd)
        rc, out, err = self.answers[cmd[0]]
        return Result(cmd=cmd, rc=rc, stdout=out, stderr=err)


def test_mkfs_dry_run_commands_write_no_filesystem():
    xfs = filesystem.MkfsCheck("xfs", "/dev/vg/a", 400 * 1024 ** 2, "data", ["-m", "reflink=1"])
    assert filesystem.mkfs_dry_run_cmd(xfs, "/tmp/d/device") == [
        "mkfs.xfs", "-N", "-L", "data", "-m", "reflink=1", "-d", "file,name=/tmp/d/device,size=419430400"]
    ext = filesystem.MkfsCheck("ext4", "/dev/vg/b", 16 * 1024 ** 2, None, ["-O", "^has_journal"])
    assert filesystem.mkfs_dry_run_cmd(ext, "/dev/null") == [
        "mkfs.ext4", "-n", "-F", "-O", "^has_journal", "/dev/null", "16384k"]


@pytest.mark.parametrize("options,kept", [
    (["-z", "/srv/undo"], []),
    (["-z/srv/undo", "-O", "^has_journal"], ["-O", "^has_journal"]),
    (["-qz", "/srv/undo", "-E", "lazy_itable_init=0"], ["-q", "-E", "lazy_itable_init=0"]),
    (["-m", "0", "-Fz/srv/undo"], ["-m", "0", "-F"]),
    (["-L", "x-z"], ["-L", "x-z"]),            # -z inside another option's argument stays
])
def test_mke2fs_dry_run_leaves_out_the_undo_file(options, kept):
    """`mke2fs -n -z FILE` creates FILE before its noaction exit: check mode would write it."""
    ext = filesystem.MkfsCheck("ext4", "/dev/vg/b", 16 * 1024 ** 2, None, options)
    assert filesystem.mkfs_dry_run_cmd(ext, "/dev/null") == ["mkfs.ext4", "-n", "-F"] + kept + ["/dev/null", "16384k"]


@pytest.mark.skipif(not any(os.path.exists(os.path.join(d, "mkfs.ext4")) for d in ("/sbin", "/usr/sbin", "/bin", "/usr/bin")),
                    reason="mkfs.ext4 (e2fsprogs) is not installed on this host")
def test_mke2fs_dry_run_writes_no_file_with_the_real_tool(tmp_path):
    """The real mke2fs: the dry run with the user's -z creates nothing (without the fix it
    created an empty 0600 undo file at the user's path, also in check mode)."""
    import subprocess
    undo = tmp_path / "undo"
    ext = filesystem.MkfsCheck("ext4", "/dev/vg/b", 64 * 1024 ** 2, "data", ["-z", str(undo)])
    cmd = filesystem.mkfs_dry_run_cmd(ext, "/dev/null")
    env = dict(os.environ, PATH=os.pathsep.join([os.environ.get("PATH", ""), "/sbin", "/usr/sbin"]))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_check_mkfs_refuses_with_the_tools_own_words():
    action = filesystem.mkfs_action("xfs", "/dev/vg/small", size=64 * 1024 ** 2)
    runner = DryRunRunner({"mkfs.xfs": mkfs_capture("xfs_too_small")})
    with pytest.raises(StrataError) as err:
        filesystem.check_mkfs(runner, [action])
    assert err.value.msg == ("An xfs filesystem on /dev/vg/small (64M) would fail: mkfs.xfs refuses these settings: "
                             "Filesystem must be larger than 300MB.")     # the usage text is left out
    assert "nothing was changed" in err.value.hint
    runner = DryRunRunner({"mkfs.xfs": mkfs_capture("xfs_bad_option")})
    bad = filesystem.mkfs_action("xfs", "/dev/vg/a", options=["-b", "size=3000"], size=400 * 1024 ** 2)
    with pytest.raises(StrataError, match="Invalid value 3000 for -b size option. Value must be a power of 2."):
        filesystem.check_mkfs(runner, [bad])
    runner = DryRunRunner({"mkfs.ext4": mkfs_capture("ext4_bad_option")})
    with pytest.raises(StrataError, match="refuses these settings: Invalid filesystem option set: bogus$"):
        filesystem.check_mkfs(runner, [filesystem.mkfs_action("ext4", "/dev/vg/b", options=["-O", "bogus"],
                                                              size=16 * 1024 ** 2)])


def test_check_mkfs_accepts_what_the_tools_accept_and_skips_unknown_sizes():
    runner = DryRunRunner({"mkfs.xfs": mkfs_capture("xfs_ok"), "mkfs.ext4": mkfs_capture("ext4_ok")})
    actions = [filesystem.mkfs_action("xfs", "/dev/vg/a", size=400 * 1024 ** 2),
               filesystem.mkfs_action("ext4", "/dev/vg/b", size=16 * 1024 ** 2),
               filesystem.mkfs_action("ext4", "/dev/vg/c"),          # size unknown: not checked
               Action("something else", ["lvcreate", "x"])]
    filesystem.check_mkfs(runner, actions)
    assert [cmd[0] for cmd in runner.reads] == ["mkfs.xfs", "mkfs.ext4"]
    # mke2fs rounds a block size that is not a power of two down instead of refusing it:
    # the real run would too, so the dry run must not refuse it either
    runner = DryRunRunner({"mkfs.ext4": mkfs_capture("ext4_bad_block")})
    filesystem.check_mkfs(runner, [filesystem.mkfs_action("ext4", "/dev/vg/b", options=["-b", "3000"],
                                                          size=16 * 1024 ** 2)])


def test_check_mkfs_leaves_no_scratch_file(monkeypatch, tmp_path):
    monkeypatch.setattr(filesystem.tempfile, "tempdir", str(tmp_path))
    runner = DryRunRunner({"mkfs.xfs": mkfs_capture("xfs_ok")})
    filesystem.check_mkfs(runner, [filesystem.mkfs_action("xfs", "/dev/vg/a", size=400 * 1024 ** 2)])
    assert list(tmp_path.iterdir()) == []
