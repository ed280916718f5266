# -*- coding: utf-8 -*-
"""Real md state captured from the test VM (tests/fixtures/capture_md.py)."""
from __future__ import annotations

import json
import os

from ansible_collections.strata.storage.plugins.module_utils.core import devices
from ansible_collections.strata.storage.plugins.module_utils.md import reader

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "md")
MDADM_VERSION = "4.2"
STATES = ("empty", "raid1_resync", "clean_r1_r5_r10", "raid5_check", "raid5_spare_rebuilding",
          "raid5_faulty_member", "raid5_replacing", "raid5_replaced", "raid5_reshape", "raid5_grown",
          "raid1_degraded", "levels", "inactive")


def md_text(name, version=MDADM_VERSION):
    with open(os.path.join(FIXTURES, version, name)) as handle:
        return handle.read()


def md_snapshot(name, version=MDADM_VERSION):
    return json.loads(md_text(name + ".json", version))


def md_state(name, version=MDADM_VERSION):
    snap = md_snapshot(name, version)
    return reader.parse_state(snap, snap["detail_scan"])


def blkid_values(kind):
    """blkid -p values of a captured device: blank, md_member, md_member_removed, xfs, lvm2_member, zfs_member."""
    if kind == "blank":
        return {}
    return devices.parse_blkid_export(md_text("blkid_%s.txt" % kind))


def parse_export(text):
    """`mdadm --detail --export` -> {key: value} and {device: role}."""
    values, roles = {}, {}
    for line in text.splitlines():
        key, _sep, value = line.partition("=")
        if key.startswith("MD_DEVICE_") and key.endswith("_ROLE"):
            roles[key[len("MD_DEVICE_"):-len("_ROLE")].replace("dev_", "", 1)] = value
        else:
            values[key] = value
    return values, roles
