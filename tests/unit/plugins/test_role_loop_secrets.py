# -*- coding: utf-8 -*-
"""No role puts a secret in a loop item.

Ansible prints a loop item with -v and on any failure of that item (even without -v), and keeps
it in the registered results; a module's no_log masks its own parameters, not the item. So every
`loop` of every role whose modules take secrets (CHAP passwords, DH-HMAC-CHAP keys, ZFS key
material) is evaluated here with the role's defaults and variables holding secrets, and no item
may hold one. A role that loops over objects carrying secrets loops over their indexes.
"""
from __future__ import annotations

import glob
import json
import os

import pytest
import yaml
from jinja2.nativetypes import NativeEnvironment

ROLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles")
SECRETS = ["acl-secret-0001", "acl-mutual-0002", "disc-secret-0003", "init-secret-0004",
           "DHHC-1:00:host-key-0005:", "DHHC-1:00:ctrl-key-0006:", "DHHC-1:00:conn-key-0007:", "zfs-passphrase-0008"]
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
    "nvmeof_target_subsystems": [
        {"nqn": "nqn.2014-08.com.example:a", "hosts": [{"nqn": "nqn.2014-08.com.example:h",
                                                        "dhchap_key": SECRETS[4], "dhchap_ctrl_key": SECRETS[5]}]},
        {"nqn": "nqn.2014-08.com.example:b"},
    ],
    "nvmeof_host_subsystems": [{"nqn": "nqn.2014-08.com.example:a", "traddr": "192.0.2.1",
                                "dhchap_secret": SECRETS[6]}],
    "zfs_pools": [
        {"name": "tank", "vdevs": [{"type": "mirror", "devices": ["/dev/x", "/dev/y"]}],
         "datasets": [{"name": "secret", "encryption": {"keyformat": "passphrase", "key": SECRETS[7]}}]},
        {"name": "scratch", "vdevs": [{"devices": ["/dev/z"]}]},
    ],
}
# the list each converging loop walks, by index: one module call per object
BY_INDEX = {"iscsi_target": "iscsi_target_targets", "nvmeof_target": "nvmeof_target_subsystems", "zfs": "zfs_pools"}
ROLES_WITH_SECRETS = ["iscsi_target", "iscsi_initiator", "multipath", "nvmeof_target", "nvmeof_host", "zfs"]


def _tasks(role):
    tasks = []
    for path in sorted(glob.glob(os.path.join(ROLES, role, "tasks", "*.yml"))):
        with open(path) as handle:
            tasks.extend(yaml.safe_load(handle) or [])
    return tasks


def _vars(role):
    with open(os.path.join(ROLES, role, "defaults", "main.yml")) as handle:
        return dict(yaml.safe_load(handle) or {}, **VARS)


@pytest.mark.parametrize("role", ROLES_WITH_SECRETS)
def test_no_loop_item_holds_a_secret(role):
    env = NativeEnvironment()
    by_index = 0
    for task in _tasks(role):
        if "loop" not in task:
            continue
        loop = task["loop"]
        items = env.from_string(loop).render(**_vars(role)) if isinstance(loop, str) else loop
        shown = json.dumps(items, default=str)
        assert not any(secret in shown for secret in SECRETS), "%s: %s loops over secrets" % (role, task["name"])
        if role in BY_INDEX and BY_INDEX[role] in str(loop):
            assert items == list(range(len(VARS[BY_INDEX[role]]))), (role, task["name"], items)
            by_index += 1
    assert by_index == {"zfs": 2}.get(role, 1 if role in BY_INDEX else 0), role


def test_the_secrets_here_reach_the_modules():
    """The variables above are the roles' real inputs: each secret sits where a module reads it."""
    target = VARS["iscsi_target_targets"][0]["tpgs"][0]["acls"][0]["chap"]
    assert target["password"] == SECRETS[0] and VARS["nvmeof_target_subsystems"][0]["hosts"][0]["dhchap_key"] == SECRETS[4]
    assert VARS["zfs_pools"][0]["datasets"][0]["encryption"]["key"] == SECRETS[7]
