# -*- coding: utf-8 -*-
"""Live checks INSIDE the test VM: module_utils against the real kernel and tools.

No Ansible here (module_utils do not need it): a tiny stand-in for AnsibleModule runs
commands with subprocess, so hundreds of plan -> execute -> re-read round trips cost
seconds, not an Ansible task each. Started by tests/live/run.py with one SSH call.
"""
from __future__ import annotations

import os
import subprocess
import uuid

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.local import LocalModule
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Runner

WORK = "/var/tmp/strata-live"


def sh(*cmd):
    return subprocess.run(list(cmd), check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout.decode()


@pytest.fixture
def runner():
    return Runner(LocalModule())


@pytest.fixture
def check_runner():
    return Runner(LocalModule(check_mode=True))


@pytest.fixture
def vg_name():
    """A unique VG name; whatever a test leaves under it is removed afterwards."""
    name = "live_%s" % uuid.uuid4().hex[:8]
    yield name
    subprocess.run(["vgremove", "-ff", "-y", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    subprocess.run(["sh", "-c", "rm -f /etc/lvm/profile/strata-thinpool-%s-*.profile" % name], check=False)


@pytest.fixture
def loops():
    """make(count, size) -> loop device paths backed by sparse files; detached afterwards."""
    made = []
    os.makedirs(WORK, exist_ok=True)

    def make(count=2, size="256M"):
        out = []
        for index in range(count):
            path = os.path.join(WORK, "%s-%d.img" % (uuid.uuid4().hex[:8], index))
            sh("truncate", "-s", size, path)
            dev = sh("losetup", "--find", "--show", path).strip()
            made.append((dev, path))
            out.append(dev)
        sh("udevadm", "settle")
        return out
    yield make
    for dev, path in made:
        subprocess.run(["pvremove", "-ff", "-y", dev], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        subprocess.run(["losetup", "-d", dev], check=False)
        os.unlink(path)
