# -*- coding: utf-8 -*-
"""Access to the real tool output captured from the test VM (tests/fixtures/capture.py)."""
from __future__ import annotations

import os

from ansible_collections.strata.storage.plugins.module_utils.lvm import reader as lvm

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures")
LVM_VERSION = "2.03.16"


def lvm_fixture_text(name, version=LVM_VERSION):
    with open(os.path.join(FIXTURES, "lvm", version, name)) as handle:
        return handle.read()


def lvm_state(name, version=LVM_VERSION):
    return lvm.parse_fullreport(lvm_fixture_text(name + ".json", version))
