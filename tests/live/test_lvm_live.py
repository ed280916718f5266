# -*- coding: utf-8 -*-
"""The device guard against real holders and mounts on the VM's kernel (what the Molecule
scenarios do not cover: a PV of another VG and a disk whose partition is mounted, both
refused even when forced). Idempotence of every size form, check mode = real run, the guard
against a real filesystem and autoextend are covered by the lvm and lvm_layout scenarios."""
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core import sizes
from ansible_collections.strata.storage.plugins.module_utils.lvm import reader as lvm
from ansible_collections.strata.storage.plugins.module_utils.core.atomic import read_text
from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInspector
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.lvm.planner import (
    ThinPoolRequest, VgRequest, plan_thinpool, plan_vg,
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


def test_guard_refuses_an_active_holder_even_forced(runner, loops, vg_name):
    dev, other = loops(2)
    apply_vg(runner, VgRequest(name=vg_name, devices=[dev]))
    apply_pool(runner, ThinPoolRequest(vg=vg_name, name="p", size=sizes.parse_size("64M")))
    with pytest.raises(StrataError) as err:
        apply_vg(runner, VgRequest(name=vg_name + "x", devices=[dev, other], force=[dev]))
    assert "is a PV of volume group %s" % vg_name in err.value.msg


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
