# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan the LIO tree of one iSCSI target: (request, LioState) -> ordered LioOps.

Pure: it reads nothing but the state it is given and the injected probes (device guard,
file facts, LVM ownership of a device). Every refusal is raised here, before the first
change: invalid names, a LUN number used twice, a mapped LUN pointing nowhere, a CHAP
secret open-iscsi would refuse, a backstore on a device that holds data or another VG's PV,
removing what a logged-in initiator uses.

Order of the ops (so that a target never listens before it is locked down):
  discovery authentication; removals (mapped LUNs, ACLs, LUNs, portals, TPGs, the target,
  then backstores); backstores; the target; TPGs (created disabled) with their attributes
  and parameters; LUNs; ACLs with attributes, CHAP and mapped LUNs; portals; enabling TPGs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core import sizes
from ansible_collections.strata.storage.plugins.module_utils.core.devices import guard_blank
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.core.text import with_article
from ansible_collections.strata.storage.plugins.module_utils.iscsi import lio, names
from ansible_collections.strata.storage.plugins.module_utils.iscsi.lio_defaults import (
    ACL_ATTRIBUTE_RANGES, ACL_ATTRIBUTES, BACKSTORE_ATTRIBUTES, SECURE_TPG_ATTRIBUTES, TPG_ATTRIBUTE_RANGES,
    TPG_ATTRIBUTES, TPG_PARAMETERS,
)
from ansible_collections.strata.storage.plugins.module_utils.iscsi.lio_ops import AUTH_FIELDS, LioOp, project

PLUGINS = ("block", "fileio")

CHAP_SPEC = dict(
    userid=dict(type="str"),
    password=dict(type="str", no_log=True),
    mutual_userid=dict(type="str"),
    mutual_password=dict(type="str", no_log=True),
)
BACKSTORE_SPEC = dict(
    name=dict(type="str", required=True),
    type=dict(type="str", default="block", choices=list(PLUGINS)),
    device=dict(type="path"),
    file=dict(type="path"),
    size=dict(type="str"),
    write_back=dict(type="bool"),
    readonly=dict(type="bool"),
    wwn=dict(type="str"),
    attributes=dict(type="dict", default={}),
    state=dict(type="str", default="present", choices=["present", "absent"]),
)
PORTAL_SPEC = dict(
    ip=dict(type="str", required=True),
    port=dict(type="int", default=names.DEFAULT_PORT),
    state=dict(type="str", default="present", choices=["present", "absent"]),
)
LUN_SPEC = dict(
    index=dict(type="int", required=True),
    backstore=dict(type="str"),
    state=dict(type="str", default="present", choices=["present", "absent"]),
)
MAPPED_LUN_SPEC = dict(
    index=dict(type="int", required=True),
    lun=dict(type="int"),
    write_protect=dict(type="bool", default=False),
)
ACL_SPEC = dict(
    initiator=dict(type="str", required=True),
    mapped_luns=dict(type="list", elements="dict", options=MAPPED_LUN_SPEC),
    chap=dict(type="dict", options=CHAP_SPEC),
    attributes=dict(type="dict", default={}),
    state=dict(type="str", default="present", choices=["present", "absent"]),
)
TPG_SPEC = dict(
    tag=dict(type="int", default=1),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    enable=dict(type="bool", default=True),
    authentication=dict(type="bool"),
    attributes=dict(type="dict", default={}),
    parameters=dict(type="dict", default={}),
    portals=dict(type="list", elements="dict", default=[], options=PORTAL_SPEC),
    luns=dict(type="list", elements="dict", default=[], options=LUN_SPEC),
    acls=dict(type="list", elements="dict", default=[], options=ACL_SPEC),
)
DISCOVERY_SPEC = dict(
    enable=dict(type="bool"),
    userid=dict(type="str"),
    password=dict(type="str", no_log=True),
    mutual_userid=dict(type="str"),
    mutual_password=dict(type="str", no_log=True),
)
TARGET_SPEC = dict(
    wwn=dict(type="str", required=True, aliases=["iqn", "name"]),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    backstores=dict(type="list", elements="dict", default=[], options=BACKSTORE_SPEC),
    tpgs=dict(type="list", elements="dict", default=[], options=TPG_SPEC),
    discovery_auth=dict(type="dict", options=DISCOVERY_SPEC),
    purge=dict(type="bool", default=False),
    remove_in_use=dict(type="bool", default=False),
    force=dict(type="list", elements="path", default=[]),
    allow_any_address=dict(type="bool", default=False),
    save=dict(type="bool", default=True),
    save_file=dict(type="path", default=lio.SAVE_FILE),
    keep_backups=dict(type="int", default=3),
)


# ------------------------------------------------------------------ request
@dataclass
class BackstoreReq:
    name: str
    plugin: str
    path: str = None
    size: int = None
    write_back: bool = None
    readonly: bool = None
    wwn: str = None
    attributes: dict = field(default_factory=dict)
    state: str = "present"


@dataclass
class AclReq:
    node: str
    mapped_luns: list = None        # [(index, tpg lun, write_protect)] or None: every LUN of the TPG
    chap: dict = None
    attributes: dict = field(default_factory=dict)
    state: str = "present"


@dataclass
class TpgReq:
    tag: int
    state: str = "present"
    enable: bool = True
    authentication: bool = None
    attributes: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    portals: list = field(default_factory=list)   # [(ip, port, state)]
    luns: list = field(default_factory=list)      # [(index, backstore ref, state)]
    acls: list = field(default_factory=list)


@dataclass
class TargetReq:
    wwn: str
    state: str = "present"
    backstores: list = field(default_factory=list)
    tpgs: list = field(default_factory=list)
    discovery: dict = None
    purge: bool = False
    remove_in_use: bool = False
    force: list = field(default_factory=list)
    allow_any_address: bool = False
    save: bool = True
    save_file: str = lio.SAVE_FILE
    keep_backups: int = 3


def norm_attr(value):
    """Attribute values as configfs holds them: integers where they are numbers."""
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        return text


def norm_param(value):
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value).strip()


def _check_names(kind, given, known, what):
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise StrataError("%s: unknown %s %s" % (what, kind, ", ".join(unknown)),
                          hint="known %ss: %s" % (kind, ", ".join(sorted(known))))


def _check_values(given, ranges, what):
    """Attribute values the kernel would refuse (lio_defaults.*_ATTRIBUTE_RANGES)."""
    for name, value in sorted(given.items()):
        rule = ranges.get(name)
        if rule is None:
            continue
        if isinstance(rule, tuple):
            ok = isinstance(value, int) and rule[0] <= value <= rule[1]
            allowed = "%d to %d" % rule
        else:
            ok = value in rule
            allowed = " or ".join(str(v) for v in sorted(rule))
        if not ok:
            raise StrataError("%s: attribute %s=%s is out of range" % (what, name, value),
                              hint="the kernel takes %s; nothing was changed" % allowed)


def _backstore_req(item):
    plugin = item["type"]
    what = "backstore %s" % item.get("name")
    names.check_backstore_name(item["name"])
    req = BackstoreReq(name=item["name"], plugin=plugin, state=item["state"], wwn=item.get("wwn"),
                       write_back=item.get("write_back"), readonly=item.get("readonly"),
                       attributes={k: norm_attr(v) for k, v in (item.get("attributes") or {}).items()})
    if plugin == "block":
        if item.get("file") or item.get("size"):
            raise StrataError("%s: file and size are fileio options; a block backstore takes device" % what)
        req.path = item.get("device")
        if req.state == "present" and not req.path:
            raise StrataError("%s: a block backstore needs device" % what)
        if req.write_back:
            raise StrataError("%s: write_back is not available for block backstores" % what,
                              hint="LIO's iblock follows the write cache of the device itself (the kernel "
                                   "refuses emulate_write_cache=1 there); use a fileio backstore for a "
                                   "target-side write-back cache")
    else:
        if item.get("device") or item.get("readonly") is not None:
            raise StrataError("%s: device and readonly are block options; a fileio backstore takes file "
                              "(and size)" % what)
        req.path = item.get("file")
        if req.state == "present" and not req.path:
            raise StrataError("%s: a fileio backstore needs file" % what)
        if item.get("size") is not None:
            req.size = sizes.parse_size(item["size"], what="%s size" % what).bytes
            if req.size % 512:
                raise StrataError("%s: size %s is not a multiple of 512 bytes" % (what, item["size"]))
    if req.path:
        names.check_backstore_path(req.path, plugin, what)
    if "emulate_write_cache" in req.attributes:
        raise StrataError("%s: set the write cache with write_back, not attributes.emulate_write_cache" % what)
    _check_names("attribute", req.attributes, BACKSTORE_ATTRIBUTES[plugin], what)
    return req


def _acl_req(item, tag):
    node = names.check_lio_name(item["initiator"], "ACL initiator name in TPG %d" % tag)
    what = "ACL %s in TPG %d" % (node, tag)
    req = AclReq(node=node, state=item["state"],
                 attributes={k: norm_attr(v) for k, v in (item.get("attributes") or {}).items()})
    req.chap = names.check_chap(item.get("chap"), what)
    if item.get("mapped_luns") is not None:
        req.mapped_luns = []
        seen = set()
        for mlun in item["mapped_luns"]:
            index = names.check_mapped_lun(mlun["index"], what)
            if index in seen:
                raise StrataError("%s: mapped LUN number %d is used twice" % (what, index))
            seen.add(index)
            tpg_lun = mlun["lun"] if mlun.get("lun") is not None else index
            names.check_lun(tpg_lun, "%s: mapped LUN %d points at TPG LUN" % (what, index))
            req.mapped_luns.append((index, tpg_lun, bool(mlun.get("write_protect"))))
    _check_names("attribute", req.attributes, ACL_ATTRIBUTES, what)
    _check_values(req.attributes, ACL_ATTRIBUTE_RANGES, what)
    return req


def _tpg_req(item, allow_any):
    tag = names.check_tpg_tag(item["tag"])
    what = "TPG %d" % tag
    req = TpgReq(tag=tag, state=item["state"], enable=item["enable"], authentication=item.get("authentication"),
                 attributes={k: norm_attr(v) for k, v in (item.get("attributes") or {}).items()},
                 parameters={k: norm_param(v) for k, v in (item.get("parameters") or {}).items()})
    if "authentication" in req.attributes:
        raise StrataError("%s: use the authentication option, not attributes.authentication" % what)
    _check_names("attribute", req.attributes, TPG_ATTRIBUTES, what)
    _check_values(req.attributes, TPG_ATTRIBUTE_RANGES, what)
    _check_names("parameter", req.parameters, TPG_PARAMETERS, what)
    for name, value in req.parameters.items():
        names.check_parameter(name, value, what)
    seen = set()
    for portal in item.get("portals") or []:
        ip = names.normalize_ip(portal["ip"], allow_any, "%s portal" % what)
        port = portal["port"]
        if not 1 <= port <= 65535:
            raise StrataError("%s portal %s: port %d is out of range" % (what, ip, port))
        if (ip, port) in seen:
            raise StrataError("%s: portal %s:%d is listed twice" % (what, ip, port))
        seen.add((ip, port))
        req.portals.append((ip, port, portal["state"]))
    seen = set()
    for lun in item.get("luns") or []:
        index = names.check_lun(lun["index"], "%s LUN" % what)
        if index in seen:
            raise StrataError("%s: LUN number %d is used twice" % (what, index),
                              hint="give every LUN of a TPG its own index")
        seen.add(index)
        if lun["state"] == "present" and not lun.get("backstore"):
            raise StrataError("%s LUN %d: backstore is required" % (what, index))
        req.luns.append((index, lun.get("backstore"), lun["state"]))
    seen = set()
    for acl in item.get("acls") or []:
        acl_req = _acl_req(acl, tag)
        if acl_req.node in seen:
            raise StrataError("%s: ACL for %s is listed twice" % (what, acl_req.node))
        seen.add(acl_req.node)
        req.acls.append(acl_req)
    chap_acls = [a.node for a in req.acls if a.state == "present" and a.chap]
    if chap_acls and req.authentication is False:
        raise StrataError("%s: authentication: false while ACLs have CHAP credentials (%s)" % (what, ", ".join(chap_acls)),
                          hint="CHAP given means CHAP required; drop authentication: false")
    return req


def target_request_from_params(params):
    """Validate everything that needs no state; raise StrataError on the first problem."""
    wwn = names.check_lio_name(params["wwn"], "target name")
    req = TargetReq(wwn=wwn, state=params["state"], purge=params["purge"],
                    remove_in_use=params["remove_in_use"], force=list(params.get("force") or []),
                    allow_any_address=params["allow_any_address"], save=params["save"],
                    save_file=params["save_file"], keep_backups=params["keep_backups"])
    if req.keep_backups < 0:
        raise StrataError("keep_backups must be 0 or more")
    seen = set()
    for item in params.get("backstores") or []:
        backstore = _backstore_req(item)
        if backstore.name in seen:
            raise StrataError("backstore %s is listed twice" % backstore.name)
        seen.add(backstore.name)
        req.backstores.append(backstore)
    seen = set()
    for item in params.get("tpgs") or []:
        tpg = _tpg_req(item, req.allow_any_address)
        if tpg.tag in seen:
            raise StrataError("TPG %d is listed twice" % tpg.tag)
        seen.add(tpg.tag)
        req.tpgs.append(tpg)
    if params.get("discovery_auth"):
        disc = dict(params["discovery_auth"])
        chap = names.check_chap({k: disc.get(k) for k in lio.AUTH_KEYS}, "discovery authentication")
        req.discovery = {"enable": disc.get("enable")}
        req.discovery.update(chap or {})
        if disc.get("enable") and not chap:
            raise StrataError("discovery authentication: enable: true needs userid and password")
    if req.state == "absent" and req.tpgs:
        raise StrataError("state: absent removes the whole target; tpgs cannot be listed with it")
    return req


# ------------------------------------------------------------------ planning
@dataclass
class PlanEnv:
    """Probes of the host the planner needs besides the LIO tree (injected for tests)."""
    inspect: object = None        # path -> core.devices.DeviceInfo (blkid probe)
    device_key: object = None     # path -> key equal for every name of one device
    stat_path: object = None      # path -> {"exists", "is_file", "is_block", "size", "parent_dir"}
    pv_owner: object = None       # path -> VG name when the device is a PV of a VG, else None
    is_local: object = None       # ip -> whether the host has that address (a warning otherwise)


class _Planner:
    def __init__(self, req, state, env):
        self.req = req
        self.state = state
        self.env = env
        self.tree = state.tree
        self.removals = []
        self.backstore_ops = []
        self.build = []
        self.late = []      # portals and enabling
        self.notes = []
        self.warnings = []

    # ---------------------------------------------------------- helpers
    def _op(self, bucket, op, description, undo=None, secrets=None, **args):
        item = LioOp(op=op, description=description, args=args, secrets=secrets or {}, undo=undo)
        bucket.append(item)
        return item

    def _sessions_of_tpg(self, tag):
        wwn = self.req.wwn
        out = ["%s (logged in)" % node for (t, g, node), session in sorted(self.state.sessions.items())
               if t == wwn and g == tag and self.state.logged_in(t, g, node)]
        out += ["%s (dynamic session)" % node for node in self.state.dynamic_sessions.get((wwn, tag), [])]
        return out

    def _refuse_in_use(self, what, users):
        if users and not self.req.remove_in_use:
            raise StrataError(
                "refusing to remove %s: in use by %s" % (what, ", ".join(users)),
                hint="log the initiators out first, or set remove_in_use: true to cut them off; nothing was changed")
        if users:
            self.warnings.append("removed %s while in use by %s" % (what, ", ".join(users)))

    # ---------------------------------------------------------- discovery auth
    def plan_discovery(self):
        want = self.req.discovery
        if not want:
            return
        have = self.state.discovery or {}
        changed = []
        values = {}
        secrets = {}
        if want.get("enable") is not None and bool(have.get("enable")) != bool(want["enable"]):
            changed.append("enable")
            values["enable"] = bool(want["enable"])
        for key in lio.AUTH_KEYS:
            if want.get(key) is None:
                continue
            if (have.get(key) or "") != want[key]:
                changed.append(key)
                if key in ("password", "mutual_password"):
                    secrets[key] = want[key]
                else:
                    values[key] = want[key]
        if changed:
            # the credentials first, enforcement last (kernel order does not matter inside
            # one op: the executor writes them in this order)
            order = [k for k in ("userid", "password", "mutual_userid", "mutual_password", "enable") if k in changed]
            self._op(self.build, "discovery_auth", "set iSCSI discovery authentication (%s)" % ", ".join(
                "enforce" if k == "enable" else k for k in order), set=order, values=values, secrets=secrets)

    # ---------------------------------------------------------- backstores
    def _existing_so_by_name(self, name):
        return [so for so in self.tree["storage_objects"] if so["name"] == name]

    def resolve_backstore(self, ref, what):
        """'name' or 'plugin/name' -> (plugin, name), from the request or the host."""
        if "/" in ref:
            plugin, name = ref.split("/", 1)
            if plugin not in PLUGINS:
                raise StrataError("%s: backstore type %s is not managed here (block, fileio)" % (what, plugin))
            for backstore in self.req.backstores:
                if backstore.name == name and backstore.plugin == plugin:
                    return plugin, name
            if self.state.storage_object(plugin, name):
                return plugin, name
            raise StrataError("%s: backstore %s does not exist and is not listed in backstores" % (what, ref))
        for backstore in self.req.backstores:
            if backstore.name == ref:
                return backstore.plugin, backstore.name
        found = self._existing_so_by_name(ref)
        if len(found) == 1:
            return found[0]["plugin"], found[0]["name"]
        if len(found) > 1:
            raise StrataError("%s: backstore name %s exists as %s; write it as plugin/name" % (
                what, ref, " and ".join(so["plugin"] for so in found)))
        raise StrataError("%s: backstore %s does not exist and is not listed in backstores" % (what, ref))

    def _same_device(self, a, b):
        key = self.env.device_key
        return key(a) == key(b) if key else a == b

    def _guard_device(self, backstore, path, purpose):
        info = self.env.inspect(path)
        elsewhere = {}
        if self.env.pv_owner and any("LVM2_member" in sig for sig in info.signatures):
            owner = self.env.pv_owner(path)
            if owner:
                elsewhere[path] = "is an LVM physical volume of volume group %s" % owner
        guard_blank([info], self.req.force, purpose, members_elsewhere=elsewhere)
        for so in self.tree["storage_objects"]:
            if so.get("dev") and self._same_device(so["dev"], path):
                raise StrataError("refusing to use %s for backstore %s: it is already exported as backstore %s/%s" % (
                    path, backstore.name, so["plugin"], so["name"]), hint="nothing was changed")

    def plan_backstores(self):
        for backstore in self.req.backstores:
            what = "backstore %s/%s" % (backstore.plugin, backstore.name)
            current = self.state.storage_object(backstore.plugin, backstore.name)
            other = [so for so in self._existing_so_by_name(backstore.name) if so["plugin"] != backstore.plugin]
            if backstore.state == "absent":
                if current:
                    self._plan_backstore_removal(backstore, current)
                continue
            if other and not current:
                raise StrataError("%s: %s backstore of that name exists already" % (what, with_article(other[0]["plugin"])),
                                  hint="use another name; nothing was changed")
            if current:
                self._reconcile_backstore(backstore, current, what)
            else:
                self._create_backstore(backstore, what)

    def _create_backstore(self, backstore, what):
        args = {"plugin": backstore.plugin, "name": backstore.name, "dev": backstore.path,
                "wwn": backstore.wwn}
        if backstore.plugin == "block":
            self._guard_device(backstore, backstore.path, "the device of %s" % what)
            args["readonly"] = bool(backstore.readonly)
        else:
            facts = self.env.stat_path(backstore.path)
            if facts.get("is_block"):
                self._guard_device(backstore, backstore.path, "the device of %s" % what)
            elif facts.get("exists"):
                if not facts.get("is_file"):
                    raise StrataError("%s: %s is neither a file nor a block device" % (what, backstore.path))
                if backstore.size is None:
                    backstore.size = facts["size"]
                elif facts["size"] != backstore.size:
                    raise StrataError("%s: %s exists with %s, not the %s asked for" % (
                        what, backstore.path, sizes.human(facts["size"]), sizes.human(backstore.size)),
                        hint="leave size out to export the file as it is; nothing was changed")
                if not backstore.size:
                    raise StrataError("%s: %s is empty; give a size" % (what, backstore.path))
                for so in self.tree["storage_objects"]:
                    if so.get("dev") == backstore.path:
                        raise StrataError("%s: %s is already exported as backstore %s/%s" % (
                            what, backstore.path, so["plugin"], so["name"]))
            else:
                if backstore.size is None:
                    raise StrataError("%s: %s does not exist; give a size to create it" % (what, backstore.path))
                if not facts.get("parent_dir"):
                    raise StrataError("%s: the folder of %s does not exist" % (what, backstore.path),
                                      hint="create it first (it is not made for you); nothing was changed")
                args["create_file"] = True
            args["size"] = backstore.size
            args["write_back"] = bool(backstore.write_back)
        if backstore.wwn:
            args["wwn"] = backstore.wwn
            if not names.lio_wwid(backstore.wwn):
                raise StrataError("%s: wwn %s holds no hex digits for a WWID" % (what, backstore.wwn))
        undo = LioOp(op="backstore_delete", description="remove %s, which this run created" % what,
                     args={"plugin": backstore.plugin, "name": backstore.name,
                           "remove_file": backstore.path if args.get("create_file") else None})
        self._op(self.backstore_ops, "backstore_create", "create %s on %s" % (what, backstore.path),
                 undo=undo, **args)
        if backstore.attributes:
            self._op(self.backstore_ops, "backstore_attributes", "set attributes of %s (%s)" % (
                what, ", ".join(sorted(backstore.attributes))), plugin=backstore.plugin, name=backstore.name,
                attributes=dict(backstore.attributes))

    def _reconcile_backstore(self, backstore, current, what):
        hint = "a backstore's device, size, write cache mode, read-only flag and wwn are fixed when it is " \
               "created: remove it (state: absent) and create it again; nothing was changed"
        if backstore.path and current.get("dev") and not self._same_device(current["dev"], backstore.path):
            raise StrataError("%s exports %s, not %s" % (what, current["dev"], backstore.path), hint=hint)
        if backstore.plugin == "fileio":
            if backstore.size is not None and current.get("size") not in (None, backstore.size):
                raise StrataError("%s has %s, not %s" % (what, sizes.human(current["size"]), sizes.human(backstore.size)),
                                  hint=hint)
            if backstore.write_back is not None and bool(current.get("write_back")) != backstore.write_back:
                raise StrataError("%s has write_back %s" % (what, bool(current.get("write_back"))), hint=hint)
        elif backstore.readonly is not None and bool(current.get("readonly")) != backstore.readonly:
            raise StrataError("%s has readonly %s" % (what, bool(current.get("readonly"))), hint=hint)
        if backstore.wwn and current.get("wwn") and backstore.wwn != current["wwn"]:
            raise StrataError("%s has wwn %s, not %s" % (what, current["wwn"], backstore.wwn), hint=hint)
        have = current.get("attributes", {})
        _check_names("attribute", backstore.attributes, have, what)
        change = {k: v for k, v in sorted(backstore.attributes.items()) if norm_attr(have.get(k)) != v}
        if change:
            self._op(self.backstore_ops, "backstore_attributes", "set attributes of %s (%s)" % (
                what, ", ".join(sorted(change))), plugin=backstore.plugin, name=backstore.name, attributes=change)

    def _plan_backstore_removal(self, backstore, current):
        what = "backstore %s/%s" % (backstore.plugin, backstore.name)
        removed = {(op.args["tag"], op.args["lun"]) for op in self.removals if op.op == "lun_delete"}
        removed_tpgs = {op.args["tag"] for op in self.removals if op.op == "tpg_delete"}
        target_gone = any(op.op == "target_delete" for op in self.removals)
        for wwn, tag, index in self.state.luns_using(backstore.plugin, backstore.name):
            if wwn == self.req.wwn and (target_gone or tag in removed_tpgs or (tag, index) in removed):
                continue
            raise StrataError("refusing to remove %s: it is exported as LUN %d of TPG %d of target %s" % (
                what, index, tag, wwn), hint="remove that LUN first (state: absent); nothing was changed")
        for tpg in self.req.tpgs:
            for index, ref, state in tpg.luns:
                if state == "present" and ref in (backstore.name, "%s/%s" % (backstore.plugin, backstore.name)):
                    raise StrataError("%s is both absent and exported as LUN %d of TPG %d" % (what, index, tpg.tag))
        self._op(self.removals, "backstore_delete", "remove %s (%s)" % (what, current.get("dev")),
                 plugin=backstore.plugin, name=backstore.name, remove_file=None)

    # ---------------------------------------------------------- target
    def plan_target(self):
        wwn = self.req.wwn
        current = self.state.target(wwn)
        if self.req.state == "absent":
            if current:
                users = []
                for tpg in current["tpgs"]:
                    users += self._sessions_of_tpg(tpg["tag"])
                self._refuse_in_use("target %s" % wwn, users)
                self._op(self.removals, "target_delete", "remove target %s with its TPGs, LUNs, ACLs and portals" % wwn,
                         target=wwn)
            return
        if not current:
            undo = LioOp(op="target_delete", description="remove target %s, which this run created" % wwn,
                         args={"target": wwn})
            self._op(self.build, "target_create", "create target %s" % wwn, undo=undo, target=wwn)
            current = {"tpgs": []}
        have = {tpg["tag"]: tpg for tpg in current["tpgs"]}
        for tpg in self.req.tpgs:
            if tpg.state == "absent":
                if tpg.tag in have:
                    self._refuse_in_use("TPG %d of %s" % (tpg.tag, wwn), self._sessions_of_tpg(tpg.tag))
                    self._op(self.removals, "tpg_delete", "remove TPG %d of %s" % (tpg.tag, wwn), target=wwn, tag=tpg.tag)
                continue
            self.plan_tpg(tpg, have.get(tpg.tag))
        if self.req.purge:
            listed = {tpg.tag for tpg in self.req.tpgs}
            for tag in sorted(set(have) - listed):
                self._refuse_in_use("TPG %d of %s" % (tag, wwn), self._sessions_of_tpg(tag))
                self._op(self.removals, "tpg_delete", "remove TPG %d of %s (not listed; purge)" % (tag, wwn),
                         target=wwn, tag=tag)

    def plan_tpg(self, req, current):
        wwn = self.req.wwn
        tag = req.tag
        what = "TPG %d of %s" % (tag, wwn)
        if current is None:
            undo = LioOp(op="tpg_delete", description="remove %s, which this run created" % what,
                         args={"target": wwn, "tag": tag})
            self._op(self.build, "tpg_create", "create %s (disabled until it is configured)" % what,
                     undo=undo, target=wwn, tag=tag)
            have_attrs, have_params = {}, {}
            base = {"luns": [], "portals": [], "node_acls": [], "enable": False}
        else:
            have_attrs = current.get("attributes", {})
            have_params = current.get("parameters", {})
            _check_names("attribute", req.attributes, have_attrs, what)
            _check_names("parameter", req.parameters, have_params, what)
            base = current
        # attributes: the secure defaults, the user's, and authentication where CHAP is given
        want = dict(SECURE_TPG_ATTRIBUTES)
        want.update(req.attributes)
        chap_given = any(a.state == "present" and a.chap for a in req.acls)
        if req.authentication is not None:
            want["authentication"] = 1 if req.authentication else 0
        elif chap_given:
            want["authentication"] = 1
        if want.get("generate_node_acls") == 1:
            self.warnings.append("%s: generate_node_acls=1 (demo mode) lets any initiator log in" % what)
        change = {k: v for k, v in sorted(want.items()) if current is None or norm_attr(have_attrs.get(k)) != v}
        if change:
            self._op(self.build, "tpg_attributes", "set attributes of %s (%s)" % (what, ", ".join(sorted(change))),
                     target=wwn, tag=tag, attributes=change)
        merged = dict(TPG_PARAMETERS if current is None else have_params, **req.parameters)
        if int(merged.get("FirstBurstLength", 0)) > int(merged.get("MaxBurstLength", 1 << 24)):
            raise StrataError("%s: FirstBurstLength %s is larger than MaxBurstLength %s" % (
                what, merged["FirstBurstLength"], merged["MaxBurstLength"]), hint="RFC 3720 12.14 forbids it")
        pchange = {k: v for k, v in sorted(req.parameters.items()) if current is None or norm_param(have_params.get(k)) != v}
        if pchange:
            self._op(self.build, "tpg_parameters", "set parameters of %s (%s)" % (what, ", ".join(sorted(pchange))),
                     target=wwn, tag=tag, parameters=pchange)
        luns_after = self.plan_luns(req, base, what)
        self.plan_acls(req, base, what, luns_after)
        self.plan_portals(req, base, what)
        if bool(base.get("enable")) != bool(req.enable):
            self._op(self.late, "tpg_enable", "%s %s" % ("enable" if req.enable else "disable", what),
                     target=wwn, tag=tag, enable=bool(req.enable))

    def plan_portals(self, req, current, what):
        have = {(p["ip_address"], p["port"]) for p in current.get("portals", [])}
        wwn, tag = self.req.wwn, req.tag
        listed = set()
        for ip, port, state in req.portals:
            listed.add((ip, port))
            if state == "present" and self.env.is_local is not None and not self.env.is_local(ip):
                self.warnings.append("%s: %s is not an address of this host; LIO listens on it anyway "
                                     "(IP_FREEBIND) and serves logins once the address is up" % (what, ip))
            if state == "present" and (ip, port) not in have:
                undo = LioOp(op="portal_delete", description="remove portal %s:%d of %s, which this run created" % (
                    ip, port, what), args={"target": wwn, "tag": tag, "ip": ip, "port": port})
                self._op(self.late, "portal_create", "listen on %s:%d for %s" % (ip, port, what),
                         undo=undo, target=wwn, tag=tag, ip=ip, port=port)
            elif state == "absent" and (ip, port) in have:
                self._op(self.removals, "portal_delete", "stop listening on %s:%d for %s" % (ip, port, what),
                         target=wwn, tag=tag, ip=ip, port=port)
        if self.req.purge:
            for ip, port in sorted(have - listed):
                self._op(self.removals, "portal_delete", "stop listening on %s:%d for %s (not listed; purge)" % (
                    ip, port, what), target=wwn, tag=tag, ip=ip, port=port)

    def _lun_users(self, current, tag, index):
        wwn = self.req.wwn
        users = []
        for acl in current.get("node_acls", []):
            if any(m["tpg_lun"] == index for m in acl.get("mapped_luns", [])) and \
                    self.state.logged_in(wwn, tag, acl["node_wwn"]):
                users.append("%s (logged in)" % acl["node_wwn"])
        users += ["%s (dynamic session)" % node for node in self.state.dynamic_sessions.get((wwn, tag), [])]
        return users

    def plan_luns(self, req, current, what):
        """Returns the LUN indexes the TPG has after the plan."""
        wwn, tag = self.req.wwn, req.tag
        have = {lun["index"]: lun for lun in current.get("luns", [])}
        after = set(have)
        listed = set()
        for index, ref, state in req.luns:
            listed.add(index)
            if state == "absent":
                if index in have:
                    self._refuse_in_use("LUN %d of %s" % (index, what), self._lun_users(current, tag, index))
                    self._op(self.removals, "lun_delete", "remove LUN %d (%s) of %s" % (
                        index, have[index]["storage_object"], what), target=wwn, tag=tag, lun=index)
                    after.discard(index)
                continue
            plugin, name = self.resolve_backstore(ref, "%s LUN %d" % (what, index))
            if any(b.name == name and b.plugin == plugin and b.state == "absent" for b in self.req.backstores):
                raise StrataError("%s LUN %d: backstore %s/%s is marked absent" % (what, index, plugin, name))
            path = lio.so_path(plugin, name)
            if index in have:
                if have[index]["storage_object"] != path:
                    raise StrataError(
                        "%s: LUN %d exports %s, not %s" % (what, index, have[index]["storage_object"], path),
                        hint="an initiator would see other data under the same LUN number: remove the LUN "
                             "first (state: absent) or use a free number; nothing was changed")
                continue
            undo = LioOp(op="lun_delete", description="remove LUN %d of %s, which this run created" % (index, what),
                         args={"target": wwn, "tag": tag, "lun": index})
            self._op(self.build, "lun_create", "export %s as LUN %d of %s" % (path, index, what),
                     undo=undo, target=wwn, tag=tag, lun=index, plugin=plugin, name=name)
            after.add(index)
        if self.req.purge:
            for index in sorted(set(have) - listed):
                self._refuse_in_use("LUN %d of %s" % (index, what), self._lun_users(current, tag, index))
                self._op(self.removals, "lun_delete", "remove LUN %d (%s) of %s (not listed; purge)" % (
                    index, have[index]["storage_object"], what), target=wwn, tag=tag, lun=index)
                after.discard(index)
        return after

    def plan_acls(self, req, current, what, luns_after):
        wwn, tag = self.req.wwn, req.tag
        have = {acl["node_wwn"]: acl for acl in current.get("node_acls", [])}
        listed = set()
        for acl in req.acls:
            listed.add(acl.node)
            acl_what = "ACL %s of %s" % (acl.node, what)
            in_use = ["%s (logged in)" % acl.node] if self.state.logged_in(wwn, tag, acl.node) else []
            if acl.state == "absent":
                if acl.node in have:
                    self._refuse_in_use(acl_what, in_use)
                    self._op(self.removals, "acl_delete", "remove %s" % acl_what, target=wwn, tag=tag, node=acl.node)
                continue
            existing = have.get(acl.node)
            if existing is None:
                undo = LioOp(op="acl_delete", description="remove %s, which this run created" % acl_what,
                             args={"target": wwn, "tag": tag, "node": acl.node})
                self._op(self.build, "acl_create", "allow %s into %s" % (acl.node, what), undo=undo,
                         target=wwn, tag=tag, node=acl.node)
                have_attrs = None
                existing = {"mapped_luns": []}
            else:
                have_attrs = existing.get("attributes", {})
                _check_names("attribute", acl.attributes, have_attrs, acl_what)
            change = {k: v for k, v in sorted(acl.attributes.items())
                      if have_attrs is None or norm_attr(have_attrs.get(k)) != v}
            if change:
                self._op(self.build, "acl_attributes", "set attributes of %s (%s)" % (acl_what, ", ".join(sorted(change))),
                         target=wwn, tag=tag, node=acl.node, attributes=change)
            if acl.chap:
                self._plan_chap(acl, existing, acl_what, tag)
            self._plan_mapped_luns(acl, existing, acl_what, tag, luns_after, in_use)
        if self.req.purge:
            for node in sorted(set(have) - listed):
                users = ["%s (logged in)" % node] if self.state.logged_in(wwn, tag, node) else []
                self._refuse_in_use("ACL %s of %s" % (node, what), users)
                self._op(self.removals, "acl_delete", "remove ACL %s of %s (not listed; purge)" % (node, what),
                         target=wwn, tag=tag, node=node)

    def _plan_chap(self, acl, existing, what, tag):
        changed, values, secrets = [], {}, {}
        for key in lio.AUTH_KEYS:
            want = acl.chap.get(key)
            if want is None:
                continue
            if (existing.get(AUTH_FIELDS[key]) or "") != want:
                changed.append(key)
                if key in ("password", "mutual_password"):
                    secrets[key] = want
                else:
                    values[key] = want
        if changed:
            self._op(self.build, "acl_auth", "set CHAP credentials of %s (%s)" % (what, ", ".join(changed)),
                     target=self.req.wwn, tag=tag, node=acl.node, set=changed, values=values,
                     secrets=secrets)

    def _plan_mapped_luns(self, acl, existing, what, tag, luns_after, in_use):
        wwn = self.req.wwn
        if acl.mapped_luns is None:
            want = [(index, index, False) for index in sorted(luns_after)]
        else:
            want = acl.mapped_luns
            for index, tpg_lun, _wp in want:
                if tpg_lun not in luns_after:
                    raise StrataError("%s: mapped LUN %d points at LUN %d, which the TPG does not have" % (
                        what, index, tpg_lun), hint="list the LUN under luns; nothing was changed")
        have = {m["index"]: m for m in existing.get("mapped_luns", [])}
        for index, tpg_lun, write_protect in want:
            current = have.get(index)
            if current is not None and current["tpg_lun"] != tpg_lun:
                self._refuse_in_use("mapped LUN %d of %s (it points at LUN %d)" % (index, what, current["tpg_lun"]), in_use)
                self._op(self.removals, "mapped_lun_delete", "unmap LUN %d of %s (to map LUN %d there)" % (
                    index, what, tpg_lun), target=wwn, tag=tag, node=acl.node, index=index)
                current = None
            if current is None:
                undo = LioOp(op="mapped_lun_delete", description="unmap LUN %d of %s, which this run mapped" % (index, what),
                             args={"target": wwn, "tag": tag, "node": acl.node, "index": index})
                self._op(self.build, "mapped_lun_create", "map LUN %d as LUN %d for %s%s" % (
                    tpg_lun, index, what, " (read-only)" if write_protect else ""), undo=undo,
                    target=wwn, tag=tag, node=acl.node, index=index, tpg_lun=tpg_lun, write_protect=write_protect)
            elif bool(current.get("write_protect")) != write_protect:
                self._op(self.build, "mapped_lun_write_protect", "make mapped LUN %d of %s %s" % (
                    index, what, "read-only" if write_protect else "writable"),
                    target=wwn, tag=tag, node=acl.node, index=index, write_protect=write_protect)
        if self.req.purge:
            wanted = {index for index, _l, _w in want}
            for index in sorted(set(have) - wanted):
                if have[index]["tpg_lun"] not in luns_after:
                    continue        # goes with its LUN
                self._refuse_in_use("mapped LUN %d of %s" % (index, what), in_use)
                self._op(self.removals, "mapped_lun_delete", "unmap LUN %d of %s (not listed; purge)" % (index, what),
                         target=wwn, tag=tag, node=acl.node, index=index)


def _view(tree, discovery, req):
    """The part of a tree this call manages, secrets redacted (diff and results)."""
    target = None
    for item in tree.get("targets", []):
        if item.get("wwn") == req.wwn and item.get("fabric") == "iscsi":
            target = item
    names_wanted = {b.name for b in req.backstores}
    if target:
        for tpg in target.get("tpgs", []):
            for lun in tpg.get("luns", []):
                names_wanted.add(lun["storage_object"].split("/")[-1])
    backstores = [so for so in tree.get("storage_objects", []) if so["name"] in names_wanted]
    view = {"target": lio.redacted(target) if target else None,
            "backstores": [lio.redacted({k: v for k, v in so.items() if k != "alua_tpgs"}) for so in backstores]}
    if req.discovery:
        view["discovery_auth"] = lio.redacted(dict(discovery or {}))
    return view


def plan_target(req, state, env):
    """-> (Plan whose actions are LioOps, the projected tree, the projected discovery auth)."""
    planner = _Planner(req, state, env)
    planner.plan_discovery()
    planner.plan_target()
    planner.plan_backstores()
    order = {"mapped_lun_delete": 0, "acl_delete": 1, "lun_delete": 2, "portal_delete": 3, "tpg_delete": 4,
             "target_delete": 5, "backstore_delete": 6}
    removals = sorted(planner.removals, key=lambda op: order[op.op])
    ops = removals + planner.backstore_ops + planner.build + planner.late
    plan = Plan(actions=ops, warnings=planner.warnings, notes=planner.notes)
    projected, discovery = project(state.tree, ops, state)
    plan.before = _view(state.tree, state.discovery, req)
    plan.after = _view(projected, discovery, req)
    return plan, projected, discovery


def secrets_in(req):
    """Every CHAP secret of the request (for the tests that grep output for them)."""
    out = []
    for tpg in req.tpgs:
        for acl in tpg.acls:
            if acl.chap:
                out += [acl.chap[k] for k in ("password", "mutual_password") if acl.chap.get(k)]
    if req.discovery:
        out += [req.discovery[k] for k in ("password", "mutual_password") if req.discovery.get(k)]
    return out


def copy_state(state):
    return copy.deepcopy(state)
