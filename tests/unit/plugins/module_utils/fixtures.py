# -*- coding: utf-8 -*-
"""Access to the real tool output captured from the test VM (tests/fixtures/capture.py)."""
from __future__ import annotations

import json
import os

from ansible_collections.strata.storage.plugins.module_utils.lvm import reader as lvm

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures")
LVM_VERSION = "2.03.16"


def lvm_fixture_text(name, version=LVM_VERSION, drop_lvs=()):
    with open(os.path.join(FIXTURES, "lvm", version, name)) as handle:
        text = handle.read()
    return without_lvs(text, drop_lvs) if drop_lvs else text


def without_lvs(text, names):
    """A captured `lvm fullreport` as it would read after `lvremove` of the named LVs: their
    lv, seg and pvseg rows are left out (used where a test needs a VG state the capture does
    not have, e.g. an origin without its classic snapshot, which LVM resizes while active).
    Only the rows go: the VG's and PVs' free space and counts, and the origin's lv_role and
    lv_attr, stay as captured (less free space than LVM would show: stricter, never more
    lenient; no planner reads the role or attr of an origin)."""
    report = json.loads(text)
    for vg in report.get("report", []):
        gone = set(row.get("lv_uuid") for row in vg.get("lv", []) if row.get("lv_name") in names)
        vg["lv"] = [row for row in vg.get("lv", []) if row.get("lv_uuid") not in gone]
        vg["seg"] = [row for row in vg.get("seg", []) if row.get("lv_uuid") not in gone]
        vg["pvseg"] = [row for row in vg.get("pvseg", []) if row.get("lv_uuid") not in gone]
    return json.dumps(report)


def lvm_state(name, version=LVM_VERSION, drop_lvs=()):
    return lvm.parse_fullreport(lvm_fixture_text(name + ".json", version, drop_lvs))
