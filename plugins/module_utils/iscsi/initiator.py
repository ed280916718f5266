# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The open-iscsi initiator: its state read without starting a process, and the plan.

State, read once:
- the initiator name (/etc/iscsi/initiatorname.iscsi);
- the node records (iscsiadm's database: /etc/iscsi/nodes on Debian/Ubuntu,
  /var/lib/iscsi/nodes on the RHEL family; `nodes/<target>/<ip>,<port>,<tpgt>/<iface>`)
  and the discovery records (`send_targets/<ip>,<port>/st_config`);
- the sessions from sysfs (/sys/class/iscsi_session, iscsi_connection, and the SCSI disks
  under each session), with each disk's by-path link and WWID.

CHAP secrets never go on a command line. `iscsiadm -o update -n ...password -v SECRET`
would put them in every process listing and in audit logs, so this module writes the
`node.session.auth.*` (and `discovery.sendtargets.auth.*`) lines into the record files
itself: the records are plain `key = value` files that iscsiadm reads on every login and
discovery; they are rewritten whole, atomically (temp file 0600, fsync, rename), keeping
every other line as iscsiadm wrote it. iscsiadm creates the records (discovery does), we
only change the auth and startup keys of records that exist.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.iscsi import names
from ansible_collections.strata.storage.plugins.module_utils.core.localhost import read_optional as _read

INITIATOR_FILE = "/etc/iscsi/initiatorname.iscsi"
DB_ROOTS = ("/etc/iscsi", "/var/lib/iscsi")
SYSFS = "/sys"
STARTUPS = ("automatic", "manual", "onboot")
NODE_AUTH_KEYS = {"userid": "node.session.auth.username", "password": "node.session.auth.password",
                  "mutual_userid": "node.session.auth.username_in",
                  "mutual_password": "node.session.auth.password_in"}
NODE_AUTHMETHOD = "node.session.auth.authmethod"
DISC_AUTH_KEYS = {"userid": "discovery.sendtargets.auth.username",
                  "password": "discovery.sendtargets.auth.password",
                  "mutual_userid": "discovery.sendtargets.auth.username_in",
                  "mutual_password": "discovery.sendtargets.auth.password_in"}
DISC_AUTHMETHOD = "discovery.sendtargets.auth.authmethod"
SECRET_KEYS = ("node.session.auth.password", "node.session.auth.password_in",
               "discovery.sendtargets.auth.password", "discovery.sendtargets.auth.password_in")


# ------------------------------------------------------------------ records
def parse_record(text):
    """iscsiadm record text -> {key: value} (comments and BEGIN/END markers skipped)."""
    values = {}
    for line in (text or "").splitlines():
        if not line.strip() or line.lstrip().startswith("#") or " = " not in line:
            continue
        key, value = line.split(" = ", 1)
        values[key.strip()] = value.strip()
    return values


def render_record(text, updates):
    """The record with keys set to new values (in place; new keys before '# END RECORD')."""
    lines = (text or "").splitlines()
    done = set()
    out = []
    for line in lines:
        if " = " in line and not line.lstrip().startswith("#"):
            key = line.split(" = ", 1)[0].strip()
            if key in updates:
                out.append("%s = %s" % (key, updates[key]))
                done.add(key)
                continue
        if line.startswith("# END RECORD"):
            out.extend("%s = %s" % (key, updates[key]) for key in updates if key not in done)
            done.update(updates)
        out.append(line)
    out.extend("%s = %s" % (key, updates[key]) for key in updates if key not in done)
    return "\n".join(out) + "\n"


def redact_record(values):
    return {k: ("(secret)" if k in SECRET_KEYS and v not in ("", "<empty>") else v) for k, v in values.items()}


@dataclass
class NodeRecord:
    target: str
    ip: str
    port: int
    tpgt: int
    iface: str
    path: str
    text: str

    @property
    def values(self):
        return parse_record(self.text)


@dataclass
class Session:
    sid: int
    target: str
    tpgt: int
    state: str
    ip: str
    port: int
    connection_state: str
    iface: str = None
    initiator: str = None
    recovery_tmo: int = None
    devices: list = field(default_factory=list)

    def summary(self):
        return {"sid": self.sid, "target": self.target, "portal": "%s:%d" % (self.ip, self.port),
                "tpgt": self.tpgt, "state": self.state, "connection_state": self.connection_state,
                "iface": self.iface, "initiator": self.initiator, "recovery_tmo": self.recovery_tmo,
                "devices": self.devices}


@dataclass
class InitiatorState:
    name: str = None
    db_root: str = None
    nodes: dict = field(default_factory=dict)        # (target, ip, port) -> NodeRecord
    discovery: dict = field(default_factory=dict)    # (ip, port) -> (path, text)
    sessions: list = field(default_factory=list)

    def session(self, target, ip, port):
        for session in self.sessions:
            if session.target == target and (session.ip, session.port) == (ip, port):
                return session
        return None


def parse_initiator_name(text):
    for line in (text or "").splitlines():
        line = line.strip()
        if line.startswith("InitiatorName="):
            return line.split("=", 1)[1].strip()
    return None


def _portal_dir(name):
    """'10.0.0.1,3260,1' -> (ip, port, tpgt); IPv6 addresses as iscsiadm writes them."""
    parts = name.rsplit(",", 2)
    if len(parts) != 3:
        return None
    ip, port, tpgt = parts
    try:
        return ip.strip("[]"), int(port), int(tpgt)
    except ValueError:
        return None


def find_db_root(roots=DB_ROOTS):
    for root in roots:
        if os.path.isdir(os.path.join(root, "nodes")):
            return root
    for root in roots:
        if os.path.isdir(root):
            return root
    return roots[0]


def read_nodes(db_root):
    nodes = {}
    base = os.path.join(db_root, "nodes")
    if not os.path.isdir(base):
        return nodes
    for target in sorted(os.listdir(base)):
        tdir = os.path.join(base, target)
        if not os.path.isdir(tdir):
            continue
        for entry in sorted(os.listdir(tdir)):
            portal = _portal_dir(entry)
            if portal is None:
                continue
            path = os.path.join(tdir, entry)
            files = ([(os.path.join(path, iface), iface) for iface in sorted(os.listdir(path))]
                     if os.path.isdir(path) else [(path, "default")])
            for file_path, iface in files:
                if iface != "default" and not os.path.isfile(file_path):
                    continue
                nodes.setdefault((target, portal[0], portal[1]), NodeRecord(
                    target=target, ip=portal[0], port=portal[1], tpgt=portal[2], iface=iface,
                    path=file_path, text=_read(file_path) or ""))
    return nodes


def read_discovery(db_root):
    out = {}
    base = os.path.join(db_root, "send_targets")
    if not os.path.isdir(base):
        return out
    for entry in sorted(os.listdir(base)):
        parts = entry.rsplit(",", 1)
        if len(parts) != 2 or not parts[1].isdigit():
            continue
        path = os.path.join(base, entry, "st_config")
        if os.path.isfile(path):
            out[(parts[0].strip("[]"), int(parts[1]))] = (path, _read(path) or "")
    return out


def _sysfs_value(path, default=None):
    text = _read(path)
    return text.strip() if text is not None else default


def wwid_from_sysfs(text):
    """/sys/block/sdX/device/wwid ('naa.6001405...') -> multipath's WWID ('36001405...')."""
    text = (text or "").strip()
    if text.startswith("naa."):
        return "3" + text[4:].lower()
    if text.startswith("eui."):
        return "2" + text[4:].lower()
    if text.startswith("t10."):
        return "1" + text[4:]
    return text or None


def read_sessions(sysfs=SYSFS, dev_dir="/dev"):
    sessions = []
    base = os.path.join(sysfs, "class", "iscsi_session")
    if not os.path.isdir(base):
        return sessions
    for name in sorted(os.listdir(base), key=lambda n: int(re.sub(r"\D", "", n) or 0)):
        sdir = os.path.join(base, name)
        sid = int(re.sub(r"\D", "", name) or 0)
        conn = {"address": None, "port": None, "state": None, "paddress": None, "pport": None}
        cbase = os.path.join(sysfs, "class", "iscsi_connection")
        for cname in sorted(os.listdir(cbase)) if os.path.isdir(cbase) else []:
            if cname.startswith("connection%d:" % sid):
                cdir = os.path.join(cbase, cname)
                conn = {"address": _sysfs_value(os.path.join(cdir, "address")),
                        "port": _sysfs_value(os.path.join(cdir, "port")),
                        "paddress": _sysfs_value(os.path.join(cdir, "persistent_address")),
                        "pport": _sysfs_value(os.path.join(cdir, "persistent_port")),
                        "state": _sysfs_value(os.path.join(cdir, "state"))}
                break
        tpgt = _sysfs_value(os.path.join(sdir, "tpgt"), "0")
        recovery = _sysfs_value(os.path.join(sdir, "recovery_tmo"))
        port = conn["pport"] or conn["port"] or "0"
        session = Session(
            sid=sid, target=_sysfs_value(os.path.join(sdir, "targetname")),
            tpgt=int(tpgt) if tpgt.lstrip("-").isdigit() else None,
            state=_sysfs_value(os.path.join(sdir, "state")),
            ip=(conn["paddress"] or conn["address"] or "").strip("[]"),
            port=int(port) if port.isdigit() else 0, connection_state=conn["state"],
            iface=_sysfs_value(os.path.join(sdir, "ifacename")),
            initiator=_sysfs_value(os.path.join(sdir, "initiatorname")),
            recovery_tmo=int(recovery) if recovery and recovery.lstrip("-").isdigit() else None)
        session.devices = _session_devices(sdir, session, sysfs, dev_dir)
        sessions.append(session)
    return sessions


def _session_devices(sdir, session, sysfs, dev_dir):
    out = []
    device = os.path.join(sdir, "device")
    if not os.path.isdir(device):
        return out
    for target in sorted(os.listdir(device)):
        if not target.startswith("target"):
            continue
        tdir = os.path.join(device, target)
        for hctl in sorted(os.listdir(tdir)):
            if hctl.count(":") != 3:
                continue
            ldir = os.path.join(tdir, hctl)
            blocks = os.path.join(ldir, "block")
            disk = sorted(os.listdir(blocks))[0] if os.path.isdir(blocks) and os.listdir(blocks) else None
            lun = int(hctl.split(":")[3])
            by_path = "%s/disk/by-path/ip-%s:%d-iscsi-%s-lun-%d" % (
                dev_dir, session.ip if ":" not in session.ip else "[%s]" % session.ip, session.port, session.target, lun)
            out.append({
                "lun": lun, "hctl": hctl, "name": disk,
                "path": "%s/%s" % (dev_dir, disk) if disk else None,
                "by_path": by_path if os.path.exists(by_path) else None,
                "wwid": wwid_from_sysfs(_read(os.path.join(ldir, "wwid"))),
                "state": _sysfs_value(os.path.join(ldir, "state")),
                "vendor": _sysfs_value(os.path.join(ldir, "vendor")),
                "model": _sysfs_value(os.path.join(ldir, "model")),
                "holders": sorted(os.listdir(os.path.join(sysfs, "block", disk, "holders")))
                if disk and os.path.isdir(os.path.join(sysfs, "block", disk, "holders")) else [],
            })
    return out


READ_MARK = ["open-iscsi", "read"]


def read_state(runner, db_root=None, sysfs=SYSFS, dev_dir="/dev", initiator_file=INITIATOR_FILE):
    """Everything in one pass of file and sysfs reads (no process)."""
    db_root = db_root or find_db_root()
    runner.reads.append(READ_MARK + [initiator_file, db_root, os.path.join(sysfs, "class", "iscsi_session")])
    return InitiatorState(name=parse_initiator_name(_read(initiator_file)), db_root=db_root,
                          nodes=read_nodes(db_root), discovery=read_discovery(db_root),
                          sessions=read_sessions(sysfs, dev_dir))


# ------------------------------------------------------------------ request
CHAP_SPEC = dict(
    userid=dict(type="str"),
    password=dict(type="str", no_log=True),
    mutual_userid=dict(type="str"),
    mutual_password=dict(type="str", no_log=True),
)
TARGET_SPEC = dict(
    name=dict(type="str", required=True, aliases=["iqn", "target"]),
    portals=dict(type="list", elements="str", required=True),
    discovery_portal=dict(type="str"),
    discovery_chap=dict(type="dict", options=CHAP_SPEC),
    chap=dict(type="dict", options=CHAP_SPEC),
    startup=dict(type="str", choices=list(STARTUPS)),
    settings=dict(type="dict", default={}),
    state=dict(type="str", default="logged_in", choices=["logged_in", "logged_out", "absent"]),
)
INITIATOR_SPEC = dict(
    initiator_name=dict(type="str"),
    targets=dict(type="list", elements="dict", default=[], options=TARGET_SPEC),
    rescan=dict(type="bool", default=False),
    relogin=dict(type="bool", default=False),
    device_timeout=dict(type="int", default=30),
    db_root=dict(type="path"),
)


@dataclass
class TargetReq:
    name: str
    portals: list
    discovery_portal: tuple
    discovery_chap: dict = None
    chap: dict = None
    startup: str = None
    settings: dict = field(default_factory=dict)
    state: str = "logged_in"


@dataclass
class InitiatorReq:
    initiator_name: str = None
    targets: list = field(default_factory=list)
    rescan: bool = False
    relogin: bool = False
    device_timeout: int = 30
    db_root: str = None


def initiator_request_from_params(params):
    req = InitiatorReq(rescan=params["rescan"], relogin=params["relogin"], device_timeout=params["device_timeout"], db_root=params.get("db_root"))
    if params.get("initiator_name"):
        req.initiator_name = names.check_iscsi_name(params["initiator_name"], "initiator name")
    if req.device_timeout < 0:
        raise StrataError("device_timeout must be 0 or more seconds")
    seen = set()
    for item in params.get("targets") or []:
        name = names.check_iscsi_name(item["name"], "target name")
        what = "target %s" % name
        if name in seen:
            raise StrataError("%s is listed twice" % what)
        seen.add(name)
        if not item["portals"]:
            raise StrataError("%s: portals is empty" % what)
        portals = []
        for text in item["portals"]:
            portal = names.parse_portal(text, "%s portal" % what)
            if portal in portals:
                raise StrataError("%s: portal %s:%d is listed twice" % (what, portal[0], portal[1]))
            portals.append(portal)
        disc = names.parse_portal(item["discovery_portal"], "%s discovery portal" % what) \
            if item.get("discovery_portal") else portals[0]
        req.targets.append(TargetReq(
            name=name, portals=portals, discovery_portal=disc, state=item["state"], startup=item.get("startup"),
            settings=check_settings(item.get("settings") or {}, what),
            chap=names.check_chap(item.get("chap"), what),
            discovery_chap=names.check_chap(item.get("discovery_chap"), "%s discovery" % what)))
    discovery_auth = {}
    for target in req.targets:
        if target.discovery_chap:
            other = discovery_auth.setdefault(target.discovery_portal, target.discovery_chap)
            if other != target.discovery_chap:
                raise StrataError("discovery portal %s:%d is given two different discovery_chap settings" % target.discovery_portal)
    return req


_SETTING_RE = re.compile(r"^node\.[A-Za-z0-9_.\[\]]+$")
_OWNED = ("node.session.auth.", "node.startup", "node.conn[0].startup", "node.name", "node.tpgt",
          "node.conn[0].address", "node.conn[0].port", "node.discovery_", "iface.")


def check_settings(settings, what):
    """Other node record keys (timeouts, queue depth...): plain `node.*` keys, values on one line;
    CHAP, startup and the record's identity have their own options."""
    out = {}
    for key, value in settings.items():
        if not _SETTING_RE.match(str(key)):
            raise StrataError("%s: settings key %s is not a node record key (node.*)" % (what, key))
        if any(str(key).startswith(prefix) for prefix in _OWNED):
            raise StrataError("%s: settings cannot set %s" % (what, key),
                              hint="CHAP goes in chap, startup in startup; the target, portal and iface "
                                   "of a record are what discovery wrote")
        text = ("Yes" if value else "No") if isinstance(value, bool) else str(value)
        if not text or "\n" in text or " = " in text:
            raise StrataError("%s: the value of %s must be one non-empty line" % (what, key))
        out[str(key)] = text
    return out


def settings_updates(values, settings):
    return {k: v for k, v in settings.items() if values.get(k) != v}


def auth_updates(values, chap, keys, method_key):
    """The record lines to change for a chap dict (None: keep the record's auth as it is)."""
    if not chap:
        return {}
    want = {method_key: "CHAP"}
    for key, record_key in keys.items():
        if chap.get(key) is not None:
            want[record_key] = chap[key]
    return {k: v for k, v in want.items() if values.get(k) != v}


def startup_updates(values, startup):
    if not startup:
        return {}
    want = {"node.startup": startup, "node.conn[0].startup": startup}
    return {k: v for k, v in want.items() if values.get(k) != v}
