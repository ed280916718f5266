# -*- coding: utf-8 -*-
"""First contact on a host that cannot do LVM: the CI host has no device-mapper, and maybe no
lvm2. A user who runs an LVM module there gets one sentence naming the cause and the fix,
never a traceback: through ansible-playbook, the real AnsibleModule, the real tool lookup and
the real kernel interfaces of this host."""
from __future__ import annotations

import json
import os
import shutil

import pytest

from host.playbook import run_play  # pytest puts tests/ on sys.path (tests/host is a package)

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: A VG on a host that cannot do LVM
      strata.storage.lvm_vg: {name: firstcontact, devices: [/dev/loop7]}
      register: vg
      ignore_errors: true
    - name: A thin pool, same host
      strata.storage.lvm_thinpool: {vg: firstcontact, name: pool, size: 1G}
      ignore_errors: true
"""


def _run(tmp_path):
    return [t["hosts"]["localhost"] for t in run_play(tmp_path, PLAY)]


def _has_device_mapper():
    return os.path.exists("/dev/mapper/control")


@pytest.mark.skipif(_has_device_mapper() and shutil.which("lvm", path="/usr/sbin:/sbin:" + os.environ["PATH"]),
                    reason="this host can do LVM (lvm2 installed and device-mapper present): nothing to test here")
def test_lvm_modules_on_a_host_that_cannot_do_lvm(tmp_path):
    results = _run(tmp_path)
    lvm = shutil.which("lvm", path="/usr/sbin:/sbin:" + os.environ["PATH"])
    for result in results:
        # ansible-core 2.19+ puts "(traceback unavailable)" in `exception` of every failure
        assert result["failed"] and "Traceback" not in result.get("exception", ""), result
        assert "MODULE FAILURE" not in result["msg"], result
        assert result["actions"] == []
        if not lvm:
            assert result["msg"].startswith("lvm is not installed on this host: it comes with the lvm2 package"), result
        else:
            assert "device-mapper" in result["msg"] and "modprobe dm_mod" in result["msg"], result
        assert "%%" not in result["msg"] and "Traceback" not in json.dumps(result)
