# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""iscsi_info: the iSCSI state of a host on both sides, and what a monitor should alert on."""

from __future__ import annotations

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.iscsi import initiator as ini
from ansible_collections.strata.storage.plugins.module_utils.iscsi import lio
from ansible_collections.strata.storage.plugins.module_utils.iscsi.multipath import read_maps
from ansible_collections.strata.storage.plugins.module_utils.iscsi.target import backstore_summary, target_summary


def gather_target(runner, problems, read=None):
    if read is None and not lio.HAS_RTSLIB:
        return {"available": False, "reason": "the Python library %s is not installed" % lio.RTSLIB_PACKAGE}
    state = (read or lio.read_state)(runner)
    if not state.loaded:
        return {"available": False, "reason": "the LIO target modules are not loaded (no %s)" % lio.CONFIGFS}
    targets = [target_summary(state, state.tree, t["wwn"]) for t in state.tree["targets"] if t.get("fabric") == "iscsi"]
    for target in targets:
        for tpg in target["tpgs"]:
            for acl in tpg["acls"]:
                session = acl.get("session") or {}
                bad = [c for c in session.get("connections", []) if c.get("state") != "LOGGED_IN"]
                if session and bad:
                    problems.append("target %s TPG %d: session of %s has connections in state %s" % (
                        target["wwn"], tpg["tag"], acl["initiator"], ", ".join(c.get("state") or "?" for c in bad)))
    return {"available": True, "targets": targets,
            "backstores": [backstore_summary(so) for so in state.tree["storage_objects"]],
            "discovery_auth": {"enable": bool(state.discovery.get("enable")),
                               "userid": state.discovery.get("userid") or None}}


def gather_initiator(runner, problems, read=None):
    state = (read or ini.read_state)(runner)
    for session in state.sessions:
        where = "%s at %s:%d" % (session.target, session.ip, session.port)
        if session.state != "LOGGED_IN":
            problems.append("initiator session %d to %s is %s" % (session.sid, where, session.state))
        if session.connection_state not in (None, "up"):
            problems.append("initiator connection of session %d to %s is %s" % (session.sid, where, session.connection_state))
        for disk in session.devices:
            if disk.get("state") not in (None, "running"):
                problems.append("disk %s (LUN %d of %s) is %s" % (disk.get("name"), disk["lun"], where, disk["state"]))
    return {"initiator_name": state.name, "sessions": [s.summary() for s in state.sessions]}


def gather_multipath(runner, problems):
    try:
        running, maps = read_maps(runner)
    except StrataError as exc:      # multipath-tools not installed
        return {"running": False, "maps": [], "reason": exc.msg}
    for item in maps:
        if item["failed_paths"]:
            bad = ["%s %s/%s" % (p["dev"], p["dm_state"], p["checker_state"]) for p in item["paths"]
                   if not (p["dm_state"] == "active" and p["checker_state"] in ("ready", "ghost"))]
            problems.append("multipath map %s (%s): %d of %d paths failed (%s)" % (
                item["name"], item["wwid"], item["failed_paths"], len(item["paths"]), ", ".join(bad)))
        if not item["active_paths"]:
            problems.append("multipath map %s (%s) has no active path" % (item["name"], item["wwid"]))
    return {"running": running, "maps": maps}


def gather(runner, sides, read_target=None, read_initiator=None):
    """{target, initiator, multipath (as asked), problems}."""
    problems = []
    result = {}
    if "target" in sides:
        result["target"] = gather_target(runner, problems, read_target)
    if "initiator" in sides:
        result["initiator"] = gather_initiator(runner, problems, read_initiator)
    if "multipath" in sides:
        result["multipath"] = gather_multipath(runner, problems)
    result["problems"] = problems
    return result
