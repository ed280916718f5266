# -*- coding: utf-8 -*-
"""NFS states captured from the test VM (tests/fixtures/capture_nfs.py)."""
from __future__ import annotations

import copy
import json
import os

from ansible_collections.strata.storage.plugins.module_utils.nfs import exports

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "nfs")
VERSION = "2.6.2-4+deb12u1"
_CACHE = {}


def snapshots(version=VERSION):
    if version not in _CACHE:
        with open(os.path.join(FIXTURES, version, "states.json")) as handle:
            _CACHE[version] = json.load(handle)
    return copy.deepcopy(_CACHE[version])


def snapshot_state(name):
    """ExportsState as read_state() builds it from the captured files."""
    snap = snapshots()[name]
    state = exports.ExportsState()
    for path, text in sorted(snap["files"].items()):
        state.files[path] = text
        state.entries.extend(exports.parse_exports(text, path))
    state.live = exports.parse_table(snap["etab"], exports.ETAB)
    state.kernel = exports.parse_table(snap["kernel"], exports.KERNEL_EXPORTS) if snap["kernel"] is not None else None
    return state, snap
