# -*- coding: utf-8 -*-
"""Real zpool/zfs output captured from the test VM (tests/fixtures/capture_zfs.py)."""
from __future__ import annotations

import os

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "zfs")
ZFS_VERSION = "2.1.11"
CAP = "/var/tmp/strata-zcap"     # the capture's scratch folder: file vdevs are CAP/v1 ... CAP/v16


def zfs_fixture(name, version=ZFS_VERSION):
    with open(os.path.join(FIXTURES, version, name)) as handle:
        return handle.read()
