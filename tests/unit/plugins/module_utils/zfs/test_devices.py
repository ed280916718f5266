# -*- coding: utf-8 -*-
"""File vdevs through VdevInspector: one blkid -p per file, its signatures and ZFS label."""

from __future__ import annotations

from ansible_collections.strata.storage.plugins.module_utils.core.runner import Runner
from ansible_collections.strata.storage.plugins.module_utils.zfs.devices import VdevInspector, zfs_label_of
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.zfs.zfs_fixtures import zfs_fixture


class BlkidModule:
    check_mode = False

    def __init__(self, out, rc=0):
        self.out, self.rc, self.calls = out, rc, []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return "/usr/sbin/" + name

    def run_command(self, cmd, **kwargs):
        self.calls.append(cmd)
        return self.rc, self.out, ""


def test_a_file_vdev_with_a_zfs_label_is_probed_once(tmp_path):
    vdev = tmp_path / "v14"
    vdev.write_bytes(b"\0" * 4096)
    module = BlkidModule(zfs_fixture("blkid_zfs_member.txt"))
    inspector = VdevInspector(Runner(module))
    info = inspector.inspect(str(vdev))
    assert inspector.inspect(str(vdev)) is info
    assert module.calls == [["blkid", "-p", "-o", "export", str(vdev)]]
    assert info.exists and not info.is_block and info.size == 4096
    assert info.zfs_label == "cap_stripe" and zfs_label_of(info) == "cap_stripe"
    assert info.signatures


def test_a_blank_file_holds_nothing(tmp_path):
    vdev = tmp_path / "blank"
    vdev.write_bytes(b"\0" * 512)
    info = VdevInspector(Runner(BlkidModule("", rc=2))).inspect(str(vdev))
    assert info.signatures == [] and info.zfs_label is None


def test_a_missing_path_runs_nothing(tmp_path):
    module = BlkidModule("")
    info = VdevInspector(Runner(module)).inspect(str(tmp_path / "nope"))
    assert not info.exists and module.calls == []
