# -*- coding: utf-8 -*-
"""Captured iSCSI fixtures (tests/fixtures/capture_iscsi.py) and module parameters with the
argument spec's defaults applied, as AnsibleModule would."""
from __future__ import annotations

import copy
import json
import os

from ansible_collections.strata.storage.plugins.module_utils.iscsi import lio

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "iscsi", "rtslib-fb-2.1.75-2.1")
CLIENT = "iqn.1993-08.org.debian:01:8d286a45e3d7"       # the VM's initiator in the capture
CAPTURE = "iqn.2026-01.lab.strata:capture"
DEMO = "iqn.2026-01.lab.strata:demo"
CHAP = {"userid": "capture", "password": "capture-secret-1234",
        "mutual_userid": "capture-target", "mutual_password": "capture-mutual-5678"}


def text(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


def lio_state(name):
    """A LioState from a capture (lio_empty, lio_lab, lio_sessions)."""
    return lio.state_from_capture(json.loads(text(name + ".json")))


def with_defaults(spec, values):
    """values with every option of spec defaulted (recursively into suboptions)."""
    out = {}
    for name, opt in spec.items():
        value = values.get(name, copy.deepcopy(opt.get("default")))
        if value is None:
            for alias in opt.get("aliases", []):
                if alias in values:
                    value = values[alias]
        sub = opt.get("options")
        if sub and value is not None:
            if opt.get("type") == "list":
                value = [with_defaults(sub, item) for item in value]
            else:
                value = with_defaults(sub, value)
        out[name] = value
    unknown = set(values) - set(out) - {a for o in spec.values() for a in o.get("aliases", [])}
    assert not unknown, "unknown options %s" % unknown
    return out


def so_by_name(state, name):
    return [so for so in state.tree["storage_objects"] if so["name"] == name][0]


def materialize(snapshot, root):
    """Write a captured {path: content | None (folder)} snapshot under root; returns root."""
    for path in sorted(snapshot, key=lambda p: p.count("/")):
        local = os.path.join(str(root), path.lstrip("/"))
        if snapshot[path] is None:
            os.makedirs(local, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(local), exist_ok=True)
            with open(local, "w") as handle:
                handle.write(snapshot[path])
    return str(root)
