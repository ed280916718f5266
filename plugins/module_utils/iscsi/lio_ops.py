# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One change to the LIO tree (an `LioOp`) and what it does to the plain-dict tree.

The planner emits LioOps; the executor (lio_executor.py) carries them out through rtslib;
`project()` applies them to a copy of the dict tree, the same shape rtslib's dump() has,
so check mode reports the predicted tree and the unit tests check that planning again on
the projected tree plans nothing.

An op's `args` are plain values and are reported in `actions`; CHAP secrets travel in
`secrets`, which is never reported.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.iscsi import lio
from ansible_collections.strata.storage.plugins.module_utils.iscsi.lio_defaults import (
    ACL_ATTRIBUTES, BACKSTORE_ATTRIBUTES, TPG_ATTRIBUTES, TPG_PARAMETERS,
)

AUTH_FIELDS = {"userid": "chap_userid", "password": "chap_password",
               "mutual_userid": "chap_mutual_userid", "mutual_password": "chap_mutual_password"}
DISCOVERY_FIELDS = {"userid": "discovery_userid", "password": "discovery_password",
                    "mutual_userid": "discovery_mutual_userid", "mutual_password": "discovery_mutual_password"}


@dataclass
class LioOp:
    op: str
    description: str
    args: dict = field(default_factory=dict)
    secrets: dict = field(default_factory=dict)     # never reported
    undo: object = None                             # LioOp that removes what this one creates

    def report(self):
        return {"description": self.description, "lio": self.op, "args": copy.deepcopy(self.args)}


def _tpg(tree, wwn, tag):
    for target in tree["targets"]:
        if target["wwn"] == wwn and target.get("fabric") == "iscsi":
            for tpg in target["tpgs"]:
                if tpg["tag"] == tag:
                    return tpg
    raise KeyError("TPG %s/%s" % (wwn, tag))


def _acl(tree, wwn, tag, node):
    for acl in _tpg(tree, wwn, tag)["node_acls"]:
        if acl["node_wwn"] == node:
            return acl
    raise KeyError("ACL %s" % node)


def _so(tree, plugin, name):
    for so in tree["storage_objects"]:
        if so["plugin"] == plugin and so["name"] == name:
            return so
    raise KeyError("backstore %s/%s" % (plugin, name))


def _set_auth(obj, names, op):
    for key, attr in names.items():
        if key in op.args.get("set", []):
            value = op.secrets.get(key) if key in ("password", "mutual_password") else op.args["values"].get(key)
            if value:
                obj[attr] = value
            else:
                obj.pop(attr, None)


def project(tree, ops, state=None):
    """The tree after the ops (a deep copy; the input is not changed)."""
    tree = copy.deepcopy(tree)
    tree.setdefault("storage_objects", [])
    tree.setdefault("targets", [])
    tree.setdefault("fabric_modules", [])
    discovery = copy.deepcopy(state.discovery) if state is not None else {}
    for op in ops:
        args = op.args
        kind = op.op
        if kind == "discovery_auth":
            for key in args.get("set", []):
                if key == "enable":
                    discovery["enable"] = args["values"]["enable"]
                elif key in ("password", "mutual_password"):
                    discovery[key] = op.secrets.get(key, "")
                else:
                    discovery[key] = args["values"].get(key, "")
        elif kind == "backstore_create":
            so = {"name": args["name"], "plugin": args["plugin"], "dev": args["dev"],
                  "attributes": dict(BACKSTORE_ATTRIBUTES[args["plugin"]]),
                  "wwn": args.get("wwn") or "(generated)", "write_back": bool(args.get("write_back")),
                  "alua_tpgs": []}
            if args["plugin"] == "fileio":
                so.update(size=args.get("size"), aio=False)
                so["attributes"]["emulate_write_cache"] = 1 if args.get("write_back") else 0
            else:
                so["readonly"] = bool(args.get("readonly"))
            tree["storage_objects"].append(so)
        elif kind == "backstore_delete":
            so = _so(tree, args["plugin"], args["name"])
            tree["storage_objects"].remove(so)
            path = lio.so_path(args["plugin"], args["name"])
            for target in tree["targets"]:
                for tpg in target["tpgs"]:
                    gone = [lun["index"] for lun in tpg["luns"] if lun["storage_object"] == path]
                    tpg["luns"] = [lun for lun in tpg["luns"] if lun["index"] not in gone]
                    for acl in tpg["node_acls"]:
                        acl["mapped_luns"] = [m for m in acl["mapped_luns"] if m["tpg_lun"] not in gone]
        elif kind == "backstore_attributes":
            _so(tree, args["plugin"], args["name"])["attributes"].update(args["attributes"])
        elif kind == "target_create":
            tree["targets"].append({"wwn": args["target"], "fabric": "iscsi", "tpgs": [],
                                    "parameters": {"cmd_completion_affinity": "-1"}})
        elif kind == "target_delete":
            tree["targets"] = [t for t in tree["targets"]
                               if not (t["wwn"] == args["target"] and t.get("fabric") == "iscsi")]
        elif kind == "tpg_create":
            for target in tree["targets"]:
                if target["wwn"] == args["target"] and target.get("fabric") == "iscsi":
                    target["tpgs"].append({
                        "tag": args["tag"], "enable": False, "luns": [], "portals": [], "node_acls": [],
                        "attributes": dict(TPG_ATTRIBUTES), "parameters": dict(TPG_PARAMETERS)})
        elif kind == "tpg_delete":
            for target in tree["targets"]:
                if target["wwn"] == args["target"] and target.get("fabric") == "iscsi":
                    target["tpgs"] = [t for t in target["tpgs"] if t["tag"] != args["tag"]]
        elif kind == "tpg_attributes":
            _tpg(tree, args["target"], args["tag"])["attributes"].update(args["attributes"])
        elif kind == "tpg_parameters":
            _tpg(tree, args["target"], args["tag"])["parameters"].update(args["parameters"])
        elif kind == "tpg_enable":
            _tpg(tree, args["target"], args["tag"])["enable"] = args["enable"]
        elif kind == "portal_create":
            _tpg(tree, args["target"], args["tag"])["portals"].append(
                {"ip_address": args["ip"], "port": args["port"], "iser": False, "offload": False})
        elif kind == "portal_delete":
            tpg = _tpg(tree, args["target"], args["tag"])
            tpg["portals"] = [p for p in tpg["portals"]
                              if (p["ip_address"], p["port"]) != (args["ip"], args["port"])]
        elif kind == "lun_create":
            _tpg(tree, args["target"], args["tag"])["luns"].append(
                {"index": args["lun"], "storage_object": lio.so_path(args["plugin"], args["name"]),
                 "alias": "(generated)", "alua_tg_pt_gp_name": "default_tg_pt_gp"})
        elif kind == "lun_delete":
            tpg = _tpg(tree, args["target"], args["tag"])
            tpg["luns"] = [lun for lun in tpg["luns"] if lun["index"] != args["lun"]]
            for acl in tpg["node_acls"]:
                acl["mapped_luns"] = [m for m in acl["mapped_luns"] if m["tpg_lun"] != args["lun"]]
        elif kind == "acl_create":
            _tpg(tree, args["target"], args["tag"])["node_acls"].append(
                {"node_wwn": args["node"], "mapped_luns": [], "attributes": dict(ACL_ATTRIBUTES)})
        elif kind == "acl_delete":
            tpg = _tpg(tree, args["target"], args["tag"])
            tpg["node_acls"] = [a for a in tpg["node_acls"] if a["node_wwn"] != args["node"]]
        elif kind == "acl_attributes":
            _acl(tree, args["target"], args["tag"], args["node"])["attributes"].update(args["attributes"])
        elif kind == "acl_auth":
            _set_auth(_acl(tree, args["target"], args["tag"], args["node"]), AUTH_FIELDS, op)
        elif kind == "mapped_lun_create":
            _acl(tree, args["target"], args["tag"], args["node"])["mapped_luns"].append(
                {"index": args["index"], "tpg_lun": args["tpg_lun"],
                 "write_protect": bool(args["write_protect"]), "alias": "(generated)"})
        elif kind == "mapped_lun_delete":
            acl = _acl(tree, args["target"], args["tag"], args["node"])
            acl["mapped_luns"] = [m for m in acl["mapped_luns"] if m["index"] != args["index"]]
        elif kind == "mapped_lun_write_protect":
            for mlun in _acl(tree, args["target"], args["tag"], args["node"])["mapped_luns"]:
                if mlun["index"] == args["index"]:
                    mlun["write_protect"] = bool(args["write_protect"])
        else:
            raise ValueError("unknown LIO op %s" % kind)
    tree["fabric_modules"] = [f for f in tree["fabric_modules"] if f.get("name") != "iscsi"]
    if discovery.get("enable"):
        entry = {"name": "iscsi", "discovery_enable_auth": True}
        for key, attr in DISCOVERY_FIELDS.items():
            if discovery.get(key):
                entry[attr] = discovery[key]
        tree["fabric_modules"].append(entry)
    return tree, discovery
