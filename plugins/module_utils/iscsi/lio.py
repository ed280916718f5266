# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The LIO target tree, read once through rtslib-fb into plain dicts.

The tree has exactly the shape of rtslib's `RTSRoot.dump()` (and so of
/etc/rtslib-fb-target/saveconfig.json, which `targetctl restore` loads at boot):
`storage_objects`, `targets` (with `tpgs`, `luns`, `portals`, `node_acls`, `mapped_luns`,
attributes, parameters and CHAP values) and `fabric_modules`. Planners work on that dict
alone, so unit tests feed them trees captured from the VM (tests/fixtures/iscsi/).

Reading walks configfs (/sys/kernel/config/target) and never writes: no RTSRoot() (which
mounts configfs, loads target_core_mod and may write `dbroot`), no FabricModule access that
loads a fabric's kernel module; a host without the target modules loaded reads as an empty
tree. Sessions come from each ACL's `info` file and each TPG's `dynamic_sessions` file,
parsed as rtslib's NodeACL.session does.

CHAP secrets are in the tree (they are in saveconfig.json too, which is why that file is
0600); `redacted()` replaces them before anything is reported.
"""

from __future__ import annotations

import json
import os
import traceback
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core.localhost import read_optional as _read

try:
    # the package itself is used as lio.rtslib_fb by lio_executor (RtslibBackend)
    import rtslib_fb  # pylint: disable=unused-import
    from rtslib_fb.fabric import FabricModule
    from rtslib_fb.tcm import StorageObject
    HAS_RTSLIB = True
    RTSLIB_IMPORT_ERROR = None
except ImportError:     # the controller, or a target without python3-rtslib-fb
    rtslib_fb = None
    FabricModule = StorageObject = None
    HAS_RTSLIB = False
    RTSLIB_IMPORT_ERROR = traceback.format_exc()

CONFIGFS = "/sys/kernel/config/target"
SAVE_FILE = "/etc/rtslib-fb-target/saveconfig.json"
RTSLIB_PACKAGE = "rtslib_fb (Debian/Ubuntu: python3-rtslib-fb; RHEL family: python3-rtslib)"
READ_MARK = ["rtslib_fb", "read", CONFIGFS]     # how a tree read is listed in `reads`

AUTH_KEYS = ("userid", "password", "mutual_userid", "mutual_password")
SECRET_KEYS = ("chap_password", "chap_mutual_password", "discovery_password", "discovery_mutual_password")
SECRET_SHOWN = "(secret)"


@dataclass
class LioState:
    tree: dict = field(default_factory=lambda: {"storage_objects": [], "targets": [], "fabric_modules": []})
    sessions: dict = field(default_factory=dict)          # (target wwn, tag, node wwn) -> session
    dynamic_sessions: dict = field(default_factory=dict)  # (target wwn, tag) -> [initiator names]
    discovery: dict = field(default_factory=dict)         # iscsi fabric discovery auth (empty: not loaded)
    loaded: bool = False                                   # target_core_mod's configfs tree exists

    def storage_object(self, plugin, name):
        for so in self.tree.get("storage_objects", []):
            if so.get("plugin") == plugin and so.get("name") == name:
                return so
        return None

    def target(self, wwn, fabric="iscsi"):
        for target in self.tree.get("targets", []):
            if target.get("wwn") == wwn and target.get("fabric") == fabric:
                return target
        return None

    def luns_using(self, plugin, name):
        """[(target wwn, tpg tag, lun index)] of every LUN (any target) exporting a backstore."""
        path = so_path(plugin, name)
        out = []
        for target in self.tree.get("targets", []):
            for tpg in target.get("tpgs", []):
                for lun in tpg.get("luns", []):
                    if lun.get("storage_object") == path:
                        out.append((target.get("wwn"), tpg.get("tag"), lun.get("index")))
        return out

    def session(self, wwn, tag, node_wwn):
        return self.sessions.get((wwn, tag, node_wwn))

    def logged_in(self, wwn, tag, node_wwn):
        session = self.session(wwn, tag, node_wwn)
        return bool(session) and session.get("state") not in (None, "FREE", "FAILED")


def so_path(plugin, name):
    return "/backstores/%s/%s" % (plugin, name)


def parse_session_info(text):
    """An ACL's configfs `info` file -> session dict, or None when no session is active
    (the same fields rtslib's NodeACL.session reads)."""
    lines = (text or "").splitlines()
    if not lines or lines[0].startswith("No active"):
        return None
    session = {"connections": []}
    for line in lines:
        if line.startswith("InitiatorName:"):
            session["initiator"] = line.split(":", 1)[1].strip()
        elif line.startswith("InitiatorAlias:"):
            session["alias"] = line.split(":", 1)[1].strip()
        elif line.startswith("LIO Session ID:"):
            session["id"] = int(line.split(":")[1].split()[0])
            if "SessionType:" in line:
                session["type"] = line.split("SessionType:")[1].split()[0].strip()
        elif "TARG_SESS_STATE_" in line:
            session["state"] = line.split("_STATE_")[1].split()[0]
        elif "TARG_CONN_STATE_" in line:
            cid = int(line.split(":")[1].split()[0])
            session["connections"].append({"cid": cid, "state": line.split("_STATE_")[1].split()[0]})
        elif line.strip().startswith("Address") and session["connections"]:
            parts = line.split()
            session["connections"][-1]["address"] = parts[1]
            session["connections"][-1]["transport"] = parts[2] if len(parts) > 2 else None
    return session


def parse_dynamic_sessions(text):
    """A TPG's `dynamic_sessions` file: one initiator name a line (the kernel ends it with a NUL)."""
    return [line.strip() for line in (text or "").replace("\x00", "\n").splitlines() if line.strip()]


def _discovery_auth(fabric):
    """Discovery authentication of the iscsi fabric, read from configfs directly (rtslib's
    properties would load iscsi_target_mod when it is not loaded)."""
    base = os.path.join(fabric.path, "discovery_auth")
    if not os.path.isdir(base):
        return {}
    out = {"enable": (_read(os.path.join(base, "enforce_discovery_auth")) or "0").strip() == "1"}
    for key, name in (("userid", "userid"), ("password", "password"),
                      ("mutual_userid", "userid_mutual"), ("mutual_password", "password_mutual")):
        value = (_read(os.path.join(base, name)) or "").strip()
        out[key] = "" if value == "NULL" else value
    return out


def read_state(runner, configfs=CONFIGFS):
    """Walk the LIO tree once. Recorded in runner.reads as READ_MARK."""
    runner.reads.append(list(READ_MARK))
    state = LioState()
    if not os.path.isdir(configfs):
        return state
    state.loaded = True
    tree = state.tree
    tree["storage_objects"] = [so.dump() for so in StorageObject.all()]
    for fabric in FabricModule.all():
        if not fabric.exists:
            continue
        for target in fabric.targets:
            tree["targets"].append(target.dump())
        if fabric.has_feature("discovery_auth"):
            state.discovery = _discovery_auth(fabric)
            if state.discovery.get("enable"):
                # as RTSRoot.dump() lists it (fabrics with discovery auth enforced)
                tree["fabric_modules"].append(fabric.dump())
    for target in tree["targets"]:
        if target.get("fabric") != "iscsi":
            continue
        base = os.path.join(configfs, "iscsi", target["wwn"])
        for tpg in target.get("tpgs", []):
            tpg_dir = os.path.join(base, "tpgt_%d" % tpg["tag"])
            dynamic = parse_dynamic_sessions(_read(os.path.join(tpg_dir, "dynamic_sessions")))
            if dynamic:
                state.dynamic_sessions[(target["wwn"], tpg["tag"])] = dynamic
            for acl in tpg.get("node_acls", []):
                session = parse_session_info(_read(os.path.join(tpg_dir, "acls", acl["node_wwn"], "info")))
                if session:
                    state.sessions[(target["wwn"], tpg["tag"], acl["node_wwn"])] = session
    return state


def state_from_capture(capture):
    """A LioState from a captured fixture ({"tree": ..., "sessions": [...], ...})."""
    state = LioState(tree=capture["tree"], loaded=capture.get("loaded", True),
                     discovery=capture.get("discovery", {}))
    for entry in capture.get("sessions", []):
        state.sessions[(entry["target"], entry["tag"], entry["node_wwn"])] = entry["session"]
    for entry in capture.get("dynamic_sessions", []):
        state.dynamic_sessions[(entry["target"], entry["tag"])] = entry["initiators"]
    return state


def state_to_capture(state):
    """The JSON-able form of a LioState (tests/fixtures/iscsi/capture)."""
    return {
        "loaded": state.loaded,
        "tree": state.tree,
        "discovery": state.discovery,
        "sessions": [{"target": k[0], "tag": k[1], "node_wwn": k[2], "session": v}
                     for k, v in sorted(state.sessions.items())],
        "dynamic_sessions": [{"target": k[0], "tag": k[1], "initiators": v}
                             for k, v in sorted(state.dynamic_sessions.items())],
    }


_ORDER = {
    "storage_objects": lambda so: (so.get("plugin", ""), so.get("name", "")),
    "targets": lambda t: (t.get("fabric", ""), t.get("wwn", "")),
    "tpgs": lambda t: t.get("tag", 0),
    "luns": lambda lun: lun.get("index", 0),
    "portals": lambda p: (p.get("ip_address", ""), p.get("port", 0)),
    "node_acls": lambda a: a.get("node_wwn", ""),
    "mapped_luns": lambda m: m.get("index", 0),
    "alua_tpgs": lambda a: a.get("name", ""),
    "fabric_modules": lambda f: f.get("name", ""),
}


def canonical(value):
    """The tree with every list in a fixed order. rtslib lists objects in configfs directory
    order, which changes when `targetctl restore` re-creates them (backstore indexes are given
    out anew), so two dumps of the same configuration compare equal only in this form."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = canonical(item)
            if key in _ORDER and isinstance(item, list):
                item = sorted(item, key=_ORDER[key])
            out[key] = item
        return out
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def save_text(tree):
    """The saveconfig.json content for this tree: what rtslib's RTSRoot.save_to_file() writes
    (sorted keys, indent 2, a final newline), with the lists in canonical order."""
    return json.dumps(canonical(tree), sort_keys=True, indent=2) + "\n"


def saved_matches(text, tree):
    """Whether a saved file holds this configuration (in any list order)."""
    if text is None:
        return False
    try:
        return canonical(json.loads(text)) == canonical(tree)
    except ValueError:
        return False


def redacted(value):
    """A deep copy with every CHAP secret replaced by a marker (for diff and results)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if (key in SECRET_KEYS or key in ("password", "mutual_password")) and item:
                out[key] = SECRET_SHOWN
            else:
                out[key] = redacted(item)
        return out
    if isinstance(value, list):
        return [redacted(item) for item in value]
    return value
