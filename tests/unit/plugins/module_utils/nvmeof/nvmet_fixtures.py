# -*- coding: utf-8 -*-
"""nvmet states captured from the test VM (tests/fixtures/capture_nvmeof.py), as the reader sees them."""
from __future__ import annotations

import copy
import json
import os

from ansible_collections.strata.storage.plugins.module_utils.nvmeof import configfs

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "nvmeof")
RELEASE = "6.1.0-57-amd64"
_CACHE = {}


def snapshots(release=RELEASE):
    if release not in _CACHE:
        with open(os.path.join(FIXTURES, release, "states.json")) as handle:
            _CACHE[release] = json.load(handle)
    return copy.deepcopy(_CACHE[release])


class SnapshotFacts(configfs.KernelFacts):
    """KernelFacts answered from a captured snapshot instead of the running kernel."""

    def __init__(self, snap, loaded_modules=None, kernel_config=None, available=None):
        super().__init__(release=snap["release"])
        self.snap = snap
        self.loaded = set(loaded_modules if loaded_modules is not None else snap["modules"])
        self.config_lines = dict(snap["kernel_config"], **(kernel_config or {}))
        self.available = available

    def refresh(self):
        self.sockets = (configfs.parse_proc_net_tcp(self.snap["proc_net_tcp"])
                        + configfs.parse_proc_net_tcp(self.snap["proc_net_tcp6"], ipv6=True))
        self.controllers = self.snap["controllers"]
        self.configfs_present = bool(self.snap["tree"])

    def module_loaded(self, name):
        return name.replace("-", "_") in self.loaded

    def kernel_config(self, option):
        line = self.config_lines.get(option)
        if line is None:
            return None if not self.config_lines else "n"
        return "n" if line.endswith("is not set") else line.split("=", 1)[1]

    def module_available(self, name):
        if self.module_loaded(name):
            return True
        if self.available is not None:
            return name.replace("-", "_") in self.available
        return {"nvme_loop": False}.get(name.replace("-", "_"), True)


def snapshot_state(name, release=RELEASE, **facts_kw):
    snap = snapshots(release)[name]
    facts = SnapshotFacts(snap, **facts_kw)
    facts.refresh()
    return configfs.parse_tree(snap["tree"], facts), snap
