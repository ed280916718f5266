# -*- coding: utf-8 -*-
"""The iSCSI roles never put a CHAP secret in a loop item.

Ansible prints a loop item with -v and on any failure of that item (even without -v), and keeps
it in the registered results; a module's no_log masks its own parameters, not the item. So every
`loop` of the iscsi_target, iscsi_initiator and multipath roles is evaluated here with the role's
defaults and variables holding secrets, and no item may hold one.
"""
from __future__ import annotations

import json
import os

import pytest
import yaml
from jinja2.nativetypes import NativeEnvironment

ROLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles")
SECRETS = ["acl-secret-0001", "acl-mutual-0002", "disc-secret-0003", "init-secret-0004"]
CHAP = {"userid": "u", "password": SECRETS[0], "mutual_userid": "t", "mutual_password": SECRETS[1]}
VARS = {
    "iscsi_target_targets": [
        {"wwn": "iqn.2026-01.com.example:a", "tpgs": [{"tag": 1, "acls": [{"initiator": "iqn.2026-01.com.example:c",
                                                                           "chap": CHAP}]}]},
        {"wwn": "iqn.2026-01.com.example:b", "backstores": [{"name": "b", "device": "/dev/x"}]},
    ],
    "iscsi_target_discovery_auth": {"enable": True, "userid": "d", "password": SECRETS[2]},
    "iscsi_initiator_targets": [{"name": "iqn.2026-01.com.example:a", "portals": ["192.0.2.1"],
                                 "chap": dict(CHAP, password=SECRETS[3]), "startup": "automatic"}],
}


def _tasks(role):
    with open(os.path.join(ROLES, role, "tasks", "main.yml")) as handle:
        return yaml.safe_load(handle) or []


def _vars(role):
    with open(os.path.join(ROLES, role, "defaults", "main.yml")) as handle:
        return dict(yaml.safe_load(handle) or {}, **VARS)


@pytest.mark.parametrize("role", ["iscsi_target", "iscsi_initiator", "multipath"])
def test_no_loop_item_holds_a_secret(role):
    env = NativeEnvironment()
    looped = 0
    for task in _tasks(role):
        if "loop" not in task:
            continue
        looped += 1
        items = env.from_string(task["loop"]).render(**_vars(role))
        shown = json.dumps(items, default=str)
        assert not any(secret in shown for secret in SECRETS), "%s: %s loops over secrets" % (role, task["name"])
        if role == "iscsi_target":
            assert items == [0, 1]       # one module call per target, by index
    assert looped == (1 if role == "iscsi_target" else 0)
