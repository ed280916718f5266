# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One iscsi_initiator module call, in steps (each planned against what the previous one
left, since discovery creates the records the later steps change):

1. initiator name (file, then `systemctl try-restart iscsid.service` so new sessions use it);
2. SendTargets discovery for targets whose portals have no node record yet (the discovery
   record's CHAP lines written first when discovery_chap is given);
3. CHAP and startup lines of the node records (file writes, never a command line);
4. logins, logouts, record removal;
5. waiting for the disks of new sessions, `udevadm settle`; an optional rescan.

Check mode runs steps 2-5 against the records it would create: a non-persistent discovery
(`-o nonpersistent`, which writes nothing) tells it which portals and TPG tags discovery
would record.
"""

from __future__ import annotations

import os
import time

from ansible_collections.strata.storage.plugins.module_utils.core import atomic
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import file_writer
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action
from ansible_collections.strata.storage.plugins.module_utils.iscsi import initiator as ini

RECORD_MODE = 0o600


def record_writer(path, content, mode):
    """A Runner writer for iscsiadm's records: no older copies, since iscsiadm reads every file of
    a node record's portal folder as an iface record (a `default.strata-bak.1` would be one)."""
    atomic.write_atomic(path, content, mode=mode, keep_backups=0)


def _portal_arg(ip, port):
    return "%s:%d" % ("[%s]" % ip if ":" in ip else ip, port)


def _node_cmd(target, ip, port, *tail):
    return ["iscsiadm", "-m", "node", "-T", target, "-p", _portal_arg(ip, port)] + list(tail)


def _discover_cmd(ip, port, op):
    return ["iscsiadm", "-m", "discoverydb", "-t", "sendtargets", "-p", _portal_arg(ip, port), "--discover", "-o", op]


def parse_discovery(text):
    """`iscsiadm` discovery output -> [(target, ip, port, tpgt)]."""
    out = []
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) != 2 or "," not in parts[0]:
            continue
        address, tpgt = parts[0].rsplit(",", 1)
        ip, _sep, port = address.rpartition(":")
        try:
            out.append((parts[1], ip.strip("[]"), int(port), int(tpgt)))
        except ValueError:
            continue
    return out


def _record_view(state, req):
    view = {"initiator_name": state.name, "targets": {}}
    for target in req.targets:
        portals = {}
        for ip, port in target.portals:
            record = state.nodes.get((target.name, ip, port))
            session = state.session(target.name, ip, port)
            values = record.values if record else {}
            portals[_portal_arg(ip, port)] = {
                "record": bool(record),
                "authmethod": values.get(ini.NODE_AUTHMETHOD),
                "userid": values.get(ini.NODE_AUTH_KEYS["userid"]),
                "password": "(secret)" if values.get(ini.NODE_AUTH_KEYS["password"]) else None,
                "mutual_userid": values.get(ini.NODE_AUTH_KEYS["mutual_userid"]),
                "mutual_password": "(secret)" if values.get(ini.NODE_AUTH_KEYS["mutual_password"]) else None,
                "startup": values.get("node.startup"),
                "session": session.state if session else None,
            }
        view["targets"][target.name] = portals
    return view


class InitiatorRun:
    def __init__(self, module, runner, read=None, sleep=time.sleep, clock=time.monotonic):
        self.module = module
        self.runner = runner
        self.read = read or ini.read_state
        self.sleep = sleep
        self.clock = clock
        self.notes = []
        self.warnings = []
        self.req = ini.initiator_request_from_params(module.params)
        self.predicted = {}     # check mode: (target, ip, port) -> (path, text) of records discovery would make
        self.relogin = []       # sessions to log in again with the credentials this run wrote
        self.waited = []
        self.new_sessions = []

    def _execute(self, action, writer=None):
        self.runner.execute(action, writer=writer)

    def _reread(self):
        if not self.runner.check_mode:
            self.state = self.read(self.runner, db_root=self.req.db_root)

    # ---------------------------------------------------------------- steps
    def step_name(self):
        want = self.req.initiator_name
        if not want or self.state.name == want:
            return
        content = ("## Written by strata.storage.iscsi_initiator. Changing it makes existing ACLs\n"
                   "## on targets reject this host.\nInitiatorName=%s\n" % want)
        self._execute(Action(description="set the initiator name to %s" % want, path=ini.INITIATOR_FILE,
                             content=content, mode=0o644), writer=file_writer)
        self._execute(Action(description="restart iscsid (if it runs) so that new sessions use the new name",
                             cmd=["systemctl", "try-restart", "iscsid.service"]))
        if self.state.sessions:
            self.notes.append("sessions logged in before the rename keep the old initiator name until they log in again")
        if self.runner.check_mode:
            self.state.name = want

    def _wanted(self):
        return [t for t in self.req.targets if t.state != "absent"]

    def step_discovery(self):
        groups = {}
        for target in self._wanted():
            if any((target.name, ip, port) not in self.state.nodes for ip, port in target.portals):
                groups.setdefault(target.discovery_portal, []).append(target)
        for (ip, port), targets in sorted(groups.items()):
            chap = next((t.discovery_chap for t in targets if t.discovery_chap), None)
            where = _portal_arg(ip, port)
            if chap:
                self._discovery_chap(ip, port, chap)
            self._execute(Action(description="discover targets at %s (SendTargets; new node records only)" % where,
                                 cmd=_discover_cmd(ip, port, "new")))
            if self.runner.check_mode:
                self._predict_records(ip, port, targets)
        if groups:
            self._reread()
        for target in self._wanted():
            for ip, port in target.portals:
                key = (target.name, ip, port)
                if key not in self.state.nodes and key not in self.predicted:
                    raise StrataError(
                        "discovery at %s did not return target %s on portal %s" % (
                            _portal_arg(*target.discovery_portal), target.name, _portal_arg(ip, port)),
                        hint="the target lists only what this initiator may see: check that it has an ACL for "
                             "initiator %s, that the portal is one of the target's, and the discovery CHAP" % (
                                 self.state.name or "(this host)"))

    def _discovery_chap(self, ip, port, chap):
        key = (ip, port)
        if key not in self.state.discovery:
            self._execute(Action(description="create the discovery record of %s" % _portal_arg(ip, port),
                                 cmd=["iscsiadm", "-m", "discoverydb", "-t", "sendtargets", "-p",
                                      _portal_arg(ip, port), "-o", "new"]))
            if self.runner.check_mode:
                path = os.path.join(self.state.db_root, "send_targets", "%s,%d" % (ip, port), "st_config")
                self.state.discovery[key] = (path, "")
            else:
                self.state.discovery = ini.read_discovery(self.state.db_root)
                if key not in self.state.discovery:
                    raise StrataError("iscsiadm made no discovery record for %s" % _portal_arg(ip, port))
        path, text = self.state.discovery[key]
        updates = ini.auth_updates(ini.parse_record(text), chap, ini.DISC_AUTH_KEYS, ini.DISC_AUTHMETHOD)
        if updates:
            self._execute(Action(description="set the discovery CHAP credentials of %s (%s)" % (
                _portal_arg(ip, port), ", ".join(sorted(updates))), path=path,
                content=ini.render_record(text, updates), mode=RECORD_MODE), writer=record_writer)

    def _predict_records(self, ip, port, targets):
        """Check mode: what `--discover -o new` would record (a discovery that writes nothing)."""
        result = self.runner.read(_discover_cmd(ip, port, "nonpersistent"), check=False,
                                  what="discovering targets at %s" % _portal_arg(ip, port))
        if result.rc != 0:
            self.notes.append("check mode could not discover at %s (%s): the record paths of its targets are "
                              "guessed with TPG 1" % (_portal_arg(ip, port), (result.stderr or "").strip()))
            found = [(t.name, pip, pport, 1) for t in targets for pip, pport in t.portals]
        else:
            found = parse_discovery(result.stdout)
        for name, pip, pport, tpgt in found:
            key = (name, pip, pport)
            if key not in self.state.nodes:
                path = os.path.join(self.state.db_root, "nodes", name, "%s,%d,%d" % (pip, pport, tpgt), "default")
                self.predicted[key] = (path, "# BEGIN RECORD (created by discovery)\n# END RECORD\n")

    def step_records(self):
        for target in self._wanted():
            for ip, port in target.portals:
                key = (target.name, ip, port)
                record = self.state.nodes.get(key)
                path, text = (record.path, record.text) if record else self.predicted[key]
                values = ini.parse_record(text)
                updates = ini.auth_updates(values, target.chap, ini.NODE_AUTH_KEYS, ini.NODE_AUTHMETHOD)
                updates.update(ini.settings_updates(values, target.settings))
                session_keys = list(updates)           # what a session takes at its login
                updates.update(ini.startup_updates(values, target.startup))
                if not updates:
                    continue
                shown = sorted(set(k if k in target.settings else k.split(".")[-1] for k in updates))
                self._execute(Action(description="set %s in the node record of %s at %s" % (
                    ", ".join(shown), target.name, _portal_arg(ip, port)), path=path,
                    content=ini.render_record(text, updates), mode=RECORD_MODE), writer=record_writer)
                session = self.state.session(target.name, ip, port)
                if session and session_keys:
                    if self.req.relogin and target.state == "logged_in":
                        self.relogin.append((target.name, ip, port))
                    elif any(k.startswith("node.session.auth") for k in session_keys):
                        self.warnings.append(
                            "%s at %s: the session keeps the CHAP credentials of its login; once the target has "
                            "the new ones, its next reconnect (a network blip, a target restart) fails until it "
                            "logs in again (relogin: true does that, one portal at a time)" % (
                                target.name, _portal_arg(ip, port)))
                    else:
                        self.notes.append("%s at %s: the changed settings apply at the next login (relogin: true "
                                          "logs in again now)" % (target.name, _portal_arg(ip, port)))

    def step_sessions(self):
        self.new_sessions = []
        for target in self.req.targets:
            for ip, port in target.portals:
                session = self.state.session(target.name, ip, port)
                where = _portal_arg(ip, port)
                if (target.name, ip, port) in self.relogin:
                    # one portal at a time: the other paths carry the I/O meanwhile
                    self._execute(Action(description="log out of %s at %s to log in with the new record settings" % (
                        target.name, where), cmd=_node_cmd(target.name, ip, port, "--logout")))
                    self._login(Action(description="log in to %s at %s with the new record settings" % (
                        target.name, where), cmd=_node_cmd(target.name, ip, port, "--login")), target, where)
                    self.new_sessions.append((target.name, ip, port))
                    self.wait_for_devices(only=[(target.name, ip, port)])
                    continue
                if target.state == "logged_in" and session is None:
                    undo = Action(description="log out of %s at %s, which this run logged into" % (target.name, where),
                                  cmd=_node_cmd(target.name, ip, port, "--logout"))
                    self._login(Action(description="log in to %s at %s" % (target.name, where),
                                       cmd=_node_cmd(target.name, ip, port, "--login"), undo=undo), target, where)
                    self.new_sessions.append((target.name, ip, port))
                elif target.state in ("logged_out", "absent") and session is not None:
                    users = [d["name"] for d in session.devices if d.get("holders")]
                    if users:
                        self.warnings.append("%s at %s: logging out although %s %s held (multipath map or other "
                                             "device)" % (target.name, where, ", ".join(users),
                                                          "is" if len(users) == 1 else "are"))
                    self._execute(Action(description="log out of %s at %s" % (target.name, where),
                                         cmd=_node_cmd(target.name, ip, port, "--logout")))
                if target.state == "absent" and (target.name, ip, port) in self.state.nodes:
                    self._execute(Action(description="delete the node record of %s at %s" % (target.name, where),
                                         cmd=_node_cmd(target.name, ip, port, "-o", "delete")))

    def _login(self, action, target, where):
        try:
            self._execute(action)
        except StrataError as exc:
            text = "%s %s" % (exc.stderr or "", exc.stdout or "")
            if "authorization failure" in text or "(24 -" in text:
                exc.hint = ("the target refused the credentials: check the CHAP user and secret of %s (and "
                            "mutual CHAP) against the target's ACL for %s" % (target.name, self.state.name))
            elif "(19 -" in text or "not found" in text or "(8 -" in text:
                exc.hint = "is the target listening at %s and is this portal in its TPG?" % where
            raise

    def wait_for_devices(self, only=None):
        wanted = only if only is not None else [k for k in self.new_sessions if k not in self.waited]
        if self.runner.check_mode or not wanted:
            return
        self.waited.extend(wanted)
        deadline = self.clock() + self.req.device_timeout
        while True:
            self.state = self.read(self.runner, db_root=self.req.db_root)
            waiting = []
            for key in wanted:
                session = self.state.session(*key)
                if session is None or not any(d.get("name") for d in session.devices):
                    waiting.append(key)
            if not waiting or self.clock() >= deadline:
                break
            self.sleep(1)
        for name, ip, port in waiting:
            self.warnings.append("no disk appeared for %s at %s within %ds: is a LUN mapped to initiator %s on "
                                 "the target?" % (name, _portal_arg(ip, port), self.req.device_timeout, self.state.name))
        self.runner.read(["udevadm", "settle", "--timeout=60"], what="waiting for udev")
        self.state = self.read(self.runner, db_root=self.req.db_root)

    def step_rescan(self):
        if not self.req.rescan:
            return False
        before = self._device_set()
        for target in self._wanted():
            for ip, port in target.portals:
                session = self.state.session(target.name, ip, port)
                if session is not None:
                    self._execute(Action(description="rescan the LUNs of %s at %s" % (target.name, _portal_arg(ip, port)),
                                         cmd=["iscsiadm", "-m", "session", "-r", str(session.sid), "--rescan"]))
        if self.runner.check_mode:
            return False
        self.runner.read(["udevadm", "settle", "--timeout=60"], what="waiting for udev")
        self.state = self.read(self.runner, db_root=self.req.db_root)
        return self._device_set() != before

    def _device_set(self):
        return sorted((s.target, s.ip, s.port, d["lun"], d.get("name")) for s in self.state.sessions for d in s.devices)

    # ---------------------------------------------------------------- run
    def run(self):
        self.state = self.read(self.runner, db_root=self.req.db_root)
        before = _record_view(self.state, self.req)
        self.step_name()
        self.step_discovery()
        self.step_records()
        self.step_sessions()
        changed = bool(self.runner.actions)
        if changed and not any(k not in self.waited for k in self.new_sessions):
            self._reread()      # (wait_for_devices reads the state itself when it has sessions to wait for)
        self.wait_for_devices()
        rescan_count = len(self.runner.actions)
        grew = self.step_rescan()
        plan = Plan(warnings=self.warnings, notes=self.notes, before=before)
        plan.after = self._predicted_view(before) if self.runner.check_mode else _record_view(self.state, self.req)
        listed = {t.name for t in self.req.targets}
        sessions = [s.summary() for s in self.state.sessions if not listed or s.target in listed]
        result = {
            "initiator_name": self.state.name,
            "sessions": sessions,
            "devices": [dict(d, target=s["target"], portal=s["portal"]) for s in sessions for d in s["devices"]],
            "changed": changed or grew,
        }
        if rescan_count != len(self.runner.actions) and not grew:
            self.notes.append("rescan found no new LUNs")
        return plan, result

    def _predicted_view(self, before):
        after = {"initiator_name": self.req.initiator_name or before["initiator_name"], "targets": {}}
        for target in self.req.targets:
            portals = {}
            for ip, port in target.portals:
                entry = dict(before["targets"][target.name][_portal_arg(ip, port)])
                if target.state == "absent":
                    entry = {"record": False, "session": None}
                else:
                    entry["record"] = True
                    if target.chap:
                        entry.update(authmethod="CHAP", userid=target.chap["userid"], password="(secret)")
                        if target.chap.get("mutual_userid"):
                            entry.update(mutual_userid=target.chap["mutual_userid"], mutual_password="(secret)")
                    if target.startup:
                        entry["startup"] = target.startup
                    entry["session"] = "LOGGED_IN" if target.state == "logged_in" else None
                portals[_portal_arg(ip, port)] = entry
            after["targets"][target.name] = portals
        return after
