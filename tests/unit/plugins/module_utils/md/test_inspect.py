# -*- coding: utf-8 -*-
"""MdInspector: the core inspector plus blkid's own values (.probe), one probe per path.

The module cases stub MdInspector.inspect, so this is where it is checked itself: a broken
.probe makes every device look foreign (no re-add, no assembly from listed devices)."""
from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.runner import Runner
from ansible_collections.strata.storage.plugins.module_utils.md.inspect import MdInspector
from ansible_collections.strata.storage.plugins.module_utils.md.planner import ArrayRequest, carries_array
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.md.md_fixtures import md_text

REAL_BLOCK = next((p for p in ("/dev/loop0", "/dev/loop1") if os.path.exists(p)
                   and stat.S_ISBLK(os.stat(p).st_mode)), None)


@pytest.mark.skipif(REAL_BLOCK is None, reason="needs a block device node (/dev/loop0) for its device number")
def test_probe_values_kept_and_each_path_probed_once(tmp_path):
    st = os.stat(REAL_BLOCK)
    real = tmp_path / "devices" / os.path.basename(REAL_BLOCK)
    real.mkdir(parents=True)
    (real / "size").write_text("98304\n")
    (tmp_path / "dev" / "block").mkdir(parents=True)
    os.symlink(str(real), str(tmp_path / "dev" / "block" / ("%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev)))))
    (tmp_path / "proc" / "self").mkdir(parents=True)
    (tmp_path / "proc" / "self" / "mountinfo").write_text("")
    (tmp_path / "proc" / "swaps").write_text("Filename Type Size Used Priority\n")
    calls = []

    class Module:
        check_mode = True

        def get_bin_path(self, name, required=False, opt_dirs=None):
            return "/sbin/" + name

        def run_command(self, cmd, **kwargs):
            calls.append(cmd)
            return 0, md_text("blkid_md_member.txt"), ""   # captured from a member of cap_r5

    runner = Runner(Module())
    inspector = MdInspector(runner, sysfs=str(tmp_path), proc=str(tmp_path / "proc"))
    info = inspector.inspect(REAL_BLOCK)
    assert info.probe["TYPE"] == "linux_raid_member" and info.probe["LABEL"] == "strata-lab:cap_r5"
    assert info.signatures and info.size == 98304 * 512
    assert carries_array(info, ArrayRequest(name="cap_r5"))
    assert carries_array(info, ArrayRequest(name="x", uuid="88d486ef:1bddc1ee:75eff5f2:d5579315"))
    assert not carries_array(info, ArrayRequest(name="cap_r1"))
    assert inspector.inspect(REAL_BLOCK) is info
    assert calls == [["blkid", "-p", "-o", "export", os.path.realpath(REAL_BLOCK)]]
    assert runner.reads == calls
