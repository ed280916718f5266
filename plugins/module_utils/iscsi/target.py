# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One iscsi_target module call: read the LIO tree once, plan, execute through rtslib,
save the configuration where the target service restores it at boot, report.

The glue the module's `body` calls, kept here so the module stays thin and the live suite
(tests/live) can run the same call path without Ansible.
"""

from __future__ import annotations

import os
import stat

from ansible_collections.strata.storage.plugins.module_utils.core import atomic, devices
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action
from ansible_collections.strata.storage.plugins.module_utils.iscsi import lio, names
from ansible_collections.strata.storage.plugins.module_utils.core.localhost import is_local_address
from ansible_collections.strata.storage.plugins.module_utils.iscsi.lio_executor import LioExecutor
from ansible_collections.strata.storage.plugins.module_utils.iscsi.target_planner import (
    PlanEnv, plan_target, target_request_from_params,
)


def stat_path(path):
    """Facts about a fileio backstore's path."""
    out = {"exists": False, "is_file": False, "is_block": False, "size": None,
           "parent_dir": os.path.isdir(os.path.dirname(os.path.abspath(path)))}
    try:
        st = os.stat(path)
    except OSError:
        return out
    out.update(exists=True, is_file=stat.S_ISREG(st.st_mode), is_block=stat.S_ISBLK(st.st_mode), size=st.st_size)
    return out


def pv_owner_reader(runner):
    """path -> VG name, when the device is a PV of a volume group (LVM's reader, once)."""
    cache = {}

    def owner(path):
        from ansible_collections.strata.storage.plugins.module_utils.lvm import reader as lvm_reader
        if "state" not in cache:
            cache["state"] = lvm_reader.read_state(runner, need_device_mapper=False)
        try:
            st = os.stat(path)
            devno = (os.major(st.st_rdev), os.minor(st.st_rdev))
        except OSError:
            return None
        pv = cache["state"].pv_by_devno(devno)
        return pv.vg_name if pv is not None and pv.vg_name else None
    return owner


def backstore_summary(so):
    out = {"name": so["name"], "type": so["plugin"], "dev": so.get("dev"), "wwn": so.get("wwn"),
           "wwid": names.lio_wwid(so.get("wwn")), "write_back": so.get("write_back")}
    if so["plugin"] == "fileio":
        out["size"] = so.get("size")
    else:
        out["readonly"] = so.get("readonly")
    return out


def acl_summary(state, wwn, tag, acl):
    session = state.session(wwn, tag, acl["node_wwn"])
    return {
        "initiator": acl["node_wwn"],
        "mapped_luns": [{"index": m["index"], "lun": m["tpg_lun"], "write_protect": m["write_protect"]}
                        for m in sorted(acl.get("mapped_luns", []), key=lambda m: m["index"])],
        "chap_userid": acl.get("chap_userid") or None,
        "chap_mutual_userid": acl.get("chap_mutual_userid") or None,
        "chap_password_set": bool(acl.get("chap_password")),
        "logged_in": state.logged_in(wwn, tag, acl["node_wwn"]),
        "session": session,
    }


def target_summary(state, tree, wwn):
    target = None
    for item in tree.get("targets", []):
        if item.get("wwn") == wwn and item.get("fabric") == "iscsi":
            target = item
    if target is None:
        return {}
    by_path = {lio.so_path(so["plugin"], so["name"]): so for so in tree.get("storage_objects", [])}
    tpgs = []
    for tpg in sorted(target.get("tpgs", []), key=lambda t: t["tag"]):
        attrs = tpg.get("attributes", {})
        tpgs.append({
            "tag": tpg["tag"],
            "enable": tpg.get("enable"),
            "authentication": attrs.get("authentication"),
            "generate_node_acls": attrs.get("generate_node_acls"),
            "demo_mode_discovery": attrs.get("demo_mode_discovery"),
            "portals": ["%s:%d" % (p["ip_address"], p["port"]) for p in tpg.get("portals", [])],
            "luns": [{"index": lun["index"], "backstore": lun["storage_object"],
                      "wwid": names.lio_wwid((by_path.get(lun["storage_object"]) or {}).get("wwn"))}
                     for lun in sorted(tpg.get("luns", []), key=lambda lun: lun["index"])],
            "acls": [acl_summary(state, wwn, tpg["tag"], acl) for acl in tpg.get("node_acls", [])],
            "dynamic_sessions": state.dynamic_sessions.get((wwn, tpg["tag"]), []),
        })
    return {"wwn": wwn, "tpgs": tpgs}


def run_target(module, runner, executor=None, env=None, read=None):
    """The whole module call; returns (plan, result dict). Raises StrataError."""
    read = read or lio.read_state
    req = target_request_from_params(module.params)
    state = read(runner)
    if env is None:
        env = PlanEnv(inspect=devices.DeviceInspector(runner).inspect, device_key=devices.device_key,
                      stat_path=stat_path, pv_owner=pv_owner_reader(runner), is_local=is_local_address)
    plan, projected, discovery = plan_target(req, state, env)
    executor = executor or LioExecutor(runner)
    ops = plan.actions
    try:
        executor.execute_all(ops)
    except StrataError as exc:
        _roll_back(executor, exc)
        raise
    if ops and not runner.check_mode:
        state = read(runner)        # report what LIO now holds, not what we expected
        tree = state.tree
    else:
        tree = projected if ops else state.tree
    saved = {"path": req.save_file, "changed": False}
    if req.save:
        text = lio.save_text(tree)
        if not lio.saved_matches(atomic.read_text(req.save_file), tree) or _mode(req.save_file) != 0o600:
            runner.execute(Action(description="save the LIO configuration to %s (0600; rtslib-fb-targetctl / "
                                              "target.service restores it at boot)" % req.save_file,
                                  path=req.save_file, content=text, mode=0o600),
                           writer=lambda path, content, mode: atomic.write_atomic(
                               path, content, mode=mode, keep_backups=req.keep_backups, folder_mode=0o700))
            saved["changed"] = True
    wanted = {b.name for b in req.backstores}
    summary = target_summary(state, tree, req.wwn)
    for tpg in summary.get("tpgs", []):
        wanted.update(lun["backstore"].split("/")[-1] for lun in tpg["luns"])
    result = {
        "target": summary,
        "backstores": [backstore_summary(so) for so in tree.get("storage_objects", []) if so["name"] in wanted],
        "saved": saved,
    }
    if req.discovery:
        result["discovery_auth"] = lio.redacted(dict(state.discovery if ops and not runner.check_mode
                                                     else discovery or {}))
    result["changed"] = bool(ops) or saved["changed"]
    return plan, result


def _mode(path):
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return None


def _roll_back(executor, exc):
    if not executor.undo_stack:
        return
    complete, error = executor.rollback()
    undone = [entry["description"] for entry in executor.rolled_back if "failed" not in entry]
    if complete:
        exc.msg = "%s; what this run had created was removed again: %s" % (exc.msg, "; ".join(undone))
    else:
        exc.msg = "%s; rolling back stopped at the first undo that failed (%s); undone: %s" % (
            exc.msg, error, "; ".join(undone) or "nothing")
    exc.rolled_back = executor.rolled_back


def fail(module, runner, exc):
    """fail_json for a StrataError of this call, with the undo it ran (`rolled_back`)."""
    kwargs = exc.fail_kwargs()
    kwargs["actions"] = runner.actions
    kwargs["reads"] = runner.reads
    if getattr(exc, "rolled_back", None):
        kwargs["rolled_back"] = exc.rolled_back
    module.fail_json(**kwargs)
