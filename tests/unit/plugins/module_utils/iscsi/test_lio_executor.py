# -*- coding: utf-8 -*-
"""The rtslib backend against a stand-in of rtslib-fb 2.1.75's constructors.

rtslib creates a configfs object when it is instantiated: Target, TPG, NodeACL and NetworkPortal
take mode='any' by default (look up, else create); LUN, MappedLUN and the storage objects create
when given what to create with (storage_object, tpg_lun, dev) and look up otherwise
(rtslib/target.py, rtslib/tcm.py). The stand-in raises when an object that does not exist is
looked up and when one that exists is created, and records every creation, so a read or a
change of an existing object that would create one on the way fails here. Every op the planner
emits is run against a tree where its own object is (or, for a create, is not) present.
"""
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.runner import Runner
from ansible_collections.strata.storage.plugins.module_utils.iscsi import lio_executor
from ansible_collections.strata.storage.plugins.module_utils.iscsi.lio_executor import LioExecutor, RtslibBackend
from ansible_collections.strata.storage.plugins.module_utils.iscsi.lio_ops import LioOp

T = "iqn.2026-01.com.example:t"
N = "iqn.2026-01.com.example:n"


class World:
    def __init__(self, existing):
        self.existing = set(existing)
        self.created = []
        self.modes = []      # (object, mode) of every instantiation
        self.set = []


class _Node:
    """mode: 'any' (rtslib's default), 'lookup', 'create'."""
    world = None

    def __init__(self, key, mode):
        self.world.modes.append((key, mode))
        if mode == "lookup" and key not in self.world.existing:
            raise RuntimeError("lookup of %s, which does not exist" % (key,))
        if mode == "create" and key in self.world.existing:
            raise RuntimeError("create of %s, which exists" % (key,))
        if key not in self.world.existing:
            self.world.existing.add(key)
            self.world.created.append(key)
        self.key = key

    def delete(self):
        self.world.existing.discard(self.key)

    def set_attribute(self, name, value):
        self.world.set.append((self.key, name, value))

    def set_parameter(self, name, value):
        self.world.set.append((self.key, name, value))

    def __setattr__(self, name, value):
        if name != "key" and self.world is not None and hasattr(self, "key"):
            self.world.set.append((self.key, name, value))
        object.__setattr__(self, name, value)


def fake_rtslib(world):
    class Node(_Node):
        pass
    Node.world = world

    class Fake:
        class RTSRoot:
            pass

        class FabricModule(Node):
            def __init__(self, name):
                object.__setattr__(self, "key", ("fabric", name))

        class Target(Node):
            def __init__(self, fabric, wwn, mode="any"):
                super().__init__(("target", wwn), mode)

        class TPG(Node):
            def __init__(self, target, tag, mode="any"):
                super().__init__(target.key + ("tpg", tag), mode)

        class NodeACL(Node):
            def __init__(self, tpg, node, mode="any"):
                super().__init__(tpg.key + ("acl", node), mode)

        class NetworkPortal(Node):
            def __init__(self, tpg, ip, port=3260, mode="any"):
                super().__init__(tpg.key + ("portal", ip, port), mode)

        class LUN(Node):
            def __init__(self, tpg, lun, storage_object=None):
                super().__init__(tpg.key + ("lun", lun), "create" if storage_object is not None else "lookup")

        class MappedLUN(Node):
            def __init__(self, acl, index, tpg_lun=None, write_protect=None):
                super().__init__(acl.key + ("mlun", index), "create" if tpg_lun is not None else "lookup")

        class BlockStorageObject(Node):
            def __init__(self, name, dev=None, wwn=None, readonly=False):
                super().__init__(("block", name), "create" if dev is not None else "lookup")

        class FileIOStorageObject(Node):
            def __init__(self, name, dev=None, size=None, wwn=None, write_back=False):
                super().__init__(("fileio", name), "create" if dev is not None else "lookup")
    return Fake


TPG = ("target", T, "tpg", 1)
ACL = TPG + ("acl", N)
EVERYTHING = {("fabric", "iscsi"), ("block", "b"), ("fileio", "f"), ("target", T), TPG, ACL,
              TPG + ("lun", 0), TPG + ("portal", "192.0.2.1", 3260), ACL + ("mlun", 0)}

# (op, args, the object it creates or None)
OPS = [
    ("backstore_create", {"plugin": "block", "name": "b", "dev": "/dev/x", "wwn": None, "readonly": False}, ("block", "b")),
    ("backstore_attributes", {"plugin": "fileio", "name": "f", "attributes": {"emulate_tpu": 1}}, None),
    ("backstore_delete", {"plugin": "block", "name": "b", "remove_file": None}, None),
    ("target_create", {"target": T}, ("target", T)),
    ("target_delete", {"target": T}, None),
    ("tpg_create", {"target": T, "tag": 1}, TPG),
    ("tpg_delete", {"target": T, "tag": 1}, None),
    ("tpg_attributes", {"target": T, "tag": 1, "attributes": {"generate_node_acls": 0}}, None),
    ("tpg_parameters", {"target": T, "tag": 1, "parameters": {"MaxConnections": "2"}}, None),
    ("tpg_enable", {"target": T, "tag": 1, "enable": True}, None),
    ("portal_create", {"target": T, "tag": 1, "ip": "192.0.2.1", "port": 3260}, TPG + ("portal", "192.0.2.1", 3260)),
    ("portal_delete", {"target": T, "tag": 1, "ip": "192.0.2.1", "port": 3260}, None),
    ("lun_create", {"target": T, "tag": 1, "lun": 0, "plugin": "block", "name": "b"}, TPG + ("lun", 0)),
    ("lun_delete", {"target": T, "tag": 1, "lun": 0}, None),
    ("acl_create", {"target": T, "tag": 1, "node": N}, ACL),
    ("acl_delete", {"target": T, "tag": 1, "node": N}, None),
    ("acl_attributes", {"target": T, "tag": 1, "node": N, "attributes": {"dataout_timeout": 5}}, None),
    ("acl_auth", {"target": T, "tag": 1, "node": N, "set": ["userid", "password"], "values": {"userid": "u"}}, None),
    ("mapped_lun_create", {"target": T, "tag": 1, "node": N, "index": 0, "tpg_lun": 0, "write_protect": False},
     ACL + ("mlun", 0)),
    ("mapped_lun_delete", {"target": T, "tag": 1, "node": N, "index": 0}, None),
    ("mapped_lun_write_protect", {"target": T, "tag": 1, "node": N, "index": 0, "write_protect": True}, None),
    ("discovery_auth", {"set": ["userid", "password", "enable"], "values": {"userid": "d", "enable": True}}, None),
]


def test_every_op_the_backend_knows_is_covered():
    kinds = {name[1:] for name in dir(RtslibBackend) if name.startswith("_") and not name.startswith("__")
             and name not in ("_ensure_root", "_fabric", "_target", "_tpg", "_acl", "_so")}
    assert kinds == {op for op, _args, _made in OPS}


@pytest.mark.parametrize("op, args, made", OPS, ids=[o[0] for o in OPS])
def test_only_create_ops_create_and_only_their_own_object(op, args, made):
    existing = set(EVERYTHING)
    if made is not None:
        existing.discard(made)
    world = World(existing)
    RtslibBackend(fake_rtslib(world)).apply(LioOp(op=op, description=op, args=args, secrets={"password": "s" * 12}))
    assert world.created == ([made] if made else [])
    # not even an existing object is instantiated in a mode that could create it
    assert [key for key, mode in world.modes if mode != "lookup"] == ([made] if made else [])


def test_a_change_to_a_missing_object_fails_instead_of_creating_it():
    world = World({("fabric", "iscsi"), ("target", T)})       # no TPG 1
    with pytest.raises(RuntimeError, match="lookup"):
        RtslibBackend(fake_rtslib(world)).apply(LioOp(op="tpg_attributes", description="x",
                                                      args={"target": T, "tag": 1, "attributes": {"t10_pi": 0}}))
    assert world.created == []


class _Module:
    def __init__(self, check_mode):
        self.check_mode = check_mode


def test_check_mode_never_reaches_rtslib(monkeypatch):
    def no_backend(*args, **kwargs):
        raise AssertionError("check mode built the rtslib backend")
    monkeypatch.setattr(lio_executor, "RtslibBackend", no_backend)
    runner = Runner(_Module(check_mode=True))
    executor = LioExecutor(runner)
    executor.execute_all([LioOp(op=op, description=op, args=args) for op, args, _made in OPS])
    assert executor.backend is None and executor.undo_stack == []
    assert [a["lio"] for a in runner.actions] == [op for op, _args, _made in OPS]
