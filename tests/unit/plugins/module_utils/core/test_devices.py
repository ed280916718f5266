# -*- coding: utf-8 -*-
from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core import devices
from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInfo, guard_blank
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Runner

from ansible_collections.strata.storage.tests.unit.plugins.module_utils.fixtures import lvm_fixture_text


def blank(path):
    return DeviceInfo(path=path, realpath=path, exists=True, is_block=True, devno=(8, 16), size=1 << 30)


@pytest.fixture(autouse=True)
def path_keys(monkeypatch):
    """Compare devices by path: the test paths are not real devices on this machine."""
    monkeypatch.setattr(devices, "device_key", lambda p: ("path", p))


def test_blank_devices_pass():
    assert guard_blank([blank("/dev/vdb"), blank("/dev/vdc")], [], "a PV of data") == []


def test_signature_is_refused_with_every_reason_and_device_named():
    ext4 = blank("/dev/vdb")
    ext4.signatures = devices.describe_probe(devices.parse_blkid_export(lvm_fixture_text("blkid_ext4.txt")))
    gpt = blank("/dev/vdc")
    gpt.signatures = devices.describe_probe(devices.parse_blkid_export(lvm_fixture_text("blkid_gpt.txt")))
    gpt.partitions = ["vdc1"]
    with pytest.raises(StrataError) as err:
        guard_blank([ext4, gpt, blank("/dev/vdd")], [], "a PV of volume group data")
    msg = err.value.msg
    assert "/dev/vdb holds an ext4 signature (filesystem, label capfs" in msg
    assert "/dev/vdc holds a gpt partition table" in msg
    assert "has partitions vdc1" in msg
    assert "/dev/vdd" not in msg
    assert set(err.value.details["refused"]) == {"/dev/vdb", "/dev/vdc"}
    assert "nothing was changed" in err.value.fail_kwargs()["msg"]


def test_force_allows_signatures_only():
    ext4 = blank("/dev/vdb")
    ext4.signatures = ["holds an ext4 signature (filesystem)"]
    assert guard_blank([ext4, blank("/dev/vdc")], ["/dev/vdb"], "a PV") == ["/dev/vdb"]


@pytest.mark.parametrize("attr, value, words", [
    ("mountpoints", ["/srv"], "is mounted on /srv"),
    ("holders", ["dm-0"], "is held by dm-0"),
    ("swap", True, "is active swap"),
    ("busy_partitions", ["vdb1 is mounted on /boot"], "has partition vdb1 is mounted on /boot"),
])
def test_devices_in_use_are_refused_even_when_forced(attr, value, words):
    info = blank("/dev/vdb")
    setattr(info, attr, value)
    with pytest.raises(StrataError) as err:
        guard_blank([info], ["/dev/vdb"], "a PV")
    assert words in err.value.msg
    assert "not even `force`" in err.value.msg


def test_member_of_another_vg_is_refused_even_when_forced():
    with pytest.raises(StrataError, match="is a PV of volume group other"):
        guard_blank([blank("/dev/vdb")], ["/dev/vdb"], "a PV", {"/dev/vdb": "is a PV of volume group other"})


def test_missing_and_non_block_devices():
    with pytest.raises(StrataError) as err:
        guard_blank([DeviceInfo(path="/dev/nope"), DeviceInfo(path="/etc/passwd", exists=True)], [], "a PV")
    expected = {"/dev/nope": ["does not exist"], "/etc/passwd": ["is not a block device"]}
    assert err.value.details["refused"] == expected


def test_blkid_parsers_on_captured_output():
    assert devices.parse_blkid_export(lvm_fixture_text("blkid_blank.txt")) == {}
    lvm_label = devices.parse_blkid_export(lvm_fixture_text("blkid_lvm2_member.txt"))
    assert lvm_label["TYPE"] == "LVM2_member"
    assert devices.describe_probe(lvm_label)[0].startswith("holds an LVM2_member signature (raid")


def test_mountinfo_and_swaps():
    mounts = devices.parse_mountinfo(
        "22 1 254:1 / /srv/my\\040data rw,relatime - ext4 /dev/mapper/vg-lv rw\n"
        "23 1 254:1 / /mnt rw - ext4 /dev/mapper/vg-lv rw\n")
    assert mounts == {"254:1": ["/srv/my data", "/mnt"]}
    assert devices.parse_swaps("Filename Type Size Used Priority\n/dev/vdc partition 1 0 -2\n") == ["/dev/vdc"]


REAL_BLOCK = next((p for p in ("/dev/loop0", "/dev/loop1") if os.path.exists(p)
                   and stat.S_ISBLK(os.stat(p).st_mode)), None)


@pytest.mark.skipif(REAL_BLOCK is None, reason="needs a block device node (/dev/loop0) for its device number")
def test_inspector_reads_sysfs_proc_and_blkid(tmp_path):
    st = os.stat(REAL_BLOCK)
    devno = "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
    name = os.path.basename(REAL_BLOCK)
    real = tmp_path / "devices" / name
    (real / (name + "p1")).mkdir(parents=True)
    (real / (name + "p1") / "partition").write_text("1\n")
    (real / (name + "p1") / "dev").write_text("259:7\n")
    (real / "holders" / "dm-3").mkdir(parents=True)
    (real / "size").write_text("2048\n")
    (tmp_path / "dev" / "block").mkdir(parents=True)
    os.symlink(str(real), str(tmp_path / "dev" / "block" / devno))
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "mountinfo").write_text("30 1 %s / /data rw - ext4 %s rw\n"
                                             "31 1 259:7 / /boot rw - ext4 /dev/x rw\n" % (devno, REAL_BLOCK))
    (proc / "swaps").write_text("Filename Type Size Used Priority\n")

    class Module:
        check_mode = True

        def get_bin_path(self, name, required=False, opt_dirs=None):
            return "/usr/sbin/" + name

        def run_command(self, cmd, **kwargs):
            assert cmd == ["blkid", "-p", "-o", "export", os.path.realpath(REAL_BLOCK)]
            return 0, lvm_fixture_text("blkid_ext4.txt"), ""

    info = devices.DeviceInspector(Runner(Module()), sysfs=str(tmp_path), proc=str(proc)).inspect(REAL_BLOCK)
    assert info.exists and info.is_block and info.size == 2048 * 512
    assert info.partitions == [name + "p1"]
    assert info.holders == ["dm-3"]
    assert info.mountpoints == ["/data"]
    assert info.busy_partitions == [name + "p1 is mounted on /boot"]
    assert info.in_use
    assert any("ext4" in s for s in info.signatures)
