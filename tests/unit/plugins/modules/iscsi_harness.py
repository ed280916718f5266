# -*- coding: utf-8 -*-
"""Run the iSCSI modules' main() against captured state; pin what they do.

iscsi_target: the LIO tree comes from a capture (tests/fixtures/iscsi/), rtslib is replaced by a
recorder that applies each op to that tree (lio_ops.project), so the re-read after a change sees
it; a case pins the ops in order ([op, args]), the reads, the saved file, the undo.

iscsi_initiator: a small host in a temp folder: iscsiadm's records and the sysfs session tree,
read by the real reader; a fake iscsiadm creates records (discovery), sessions (login) and
removes them, the way the real one does; the module's record writes go to the temp folder
through the real writer. A case pins the commands and the files written.
"""
from __future__ import annotations

import copy
import json
import os
import shutil

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.strata.storage.plugins.module_utils.core import devices
from ansible_collections.strata.storage.plugins.module_utils.iscsi import initiator as ini
from ansible_collections.strata.storage.plugins.module_utils.core import atomic
from ansible_collections.strata.storage.plugins.module_utils.iscsi import lio, lio_executor, target
from ansible_collections.strata.storage.plugins.module_utils.iscsi.lio_ops import project
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.iscsi.helpers import text
from ansible_collections.strata.storage.tests.unit.plugins.modules.harness import Exit, fake_device

HERE = os.path.dirname(__file__)


def load_cases(name):
    with open(os.path.join(HERE, name)) as handle:
        return [pytest.param(case, id=case["id"]) for case in yaml.safe_load(handle)]


WARNINGS = []


def _common(monkeypatch, missing=()):
    del WARNINGS[:]

    def exit_json(self, **result):
        raise Exit(result, False)

    def fail_json(self, **result):
        raise Exit(result, True)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.exit_json", exit_json)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.warn", lambda self, text: WARNINGS.append(text))
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.get_bin_path",
                        lambda self, name, required=False, opt_dirs=None: None if name in missing else "/usr/sbin/" + name)


def _run(module_main, params, check_mode=False):
    args = dict(params, _ansible_check_mode=check_mode, _ansible_diff=True)
    with patch_module_args(args):
        with pytest.raises(Exit) as exc:
            module_main()
    result = dict(exc.value.result)
    if WARNINGS:
        result["warnings"] = list(WARNINGS)
    return result, exc.value.failed


def _assert_msg(result, expect):
    for fragment in ([expect["msg"]] if isinstance(expect["msg"], str) else expect["msg"]):
        assert fragment in result["msg"], result["msg"]


SECRET_PARAMS = ("password", "mutual_password")


def param_secrets(value):
    """Every CHAP secret a case passes (any `password` / `mutual_password` at any depth), so
    every case checks that none shows, not only the cases that list them."""
    if isinstance(value, dict):
        out = [v for k, v in value.items() if k in SECRET_PARAMS and isinstance(v, str) and v]
        for key, item in value.items():
            if key not in SECRET_PARAMS:
                out += param_secrets(item)
        return out
    if isinstance(value, list):
        return [secret for item in value for secret in param_secrets(item)]
    return []


def _assert_no_secret(result, secrets):
    shown = json.dumps(result, default=str)
    assert "diff" in result or "msg" in result, "the harness asks for diff mode: a result without diff"
    for secret in secrets:
        assert secret not in shown, "a secret is in the module result"


# ------------------------------------------------------------------ iscsi_target
class RecordingBackend:
    """rtslib replaced: each op is recorded and applied to the captured tree."""

    def __init__(self, world, fail_op=None):
        self.world = world
        self.fail_op = fail_op
        self.calls = []

    def apply(self, op):
        self.calls.append([op.op, copy.deepcopy(op.args)])
        if self.fail_op and op.op == self.fail_op:
            raise RuntimeError("Cannot set attribute login_timeout: [Errno 22] Invalid argument")
        self.world["tree"], self.world["discovery"] = project(self.world["tree"], [op], self.world["state"])
        self.world["state"].discovery = self.world["discovery"]


def run_target_case(module_main, case, monkeypatch):
    """-> (result, failed, backend calls, rtslib reads, files written)"""
    capture = json.loads(text(case["fixture"] + ".json"))
    world = {"state": lio.state_from_capture(copy.deepcopy(capture))}
    world["tree"], world["discovery"] = world["state"].tree, world["state"].discovery
    backend = RecordingBackend(world, case.get("fail_op"))
    written = {}

    def read_state(runner, configfs=lio.CONFIGFS):
        runner.reads.append(list(lio.READ_MARK))
        state = lio.state_from_capture(copy.deepcopy(capture))
        state.tree, state.discovery = copy.deepcopy(world["tree"]), copy.deepcopy(world["discovery"])
        return state

    def run_command(self, cmd, **kwargs):
        raise AssertionError("iscsi_target ran a command: %s" % cmd)     # blkid is in DeviceInspector

    saved = case.get("saved", "same")
    saved_text = {"same": lio.save_text(world["tree"]), "missing": None,
                  "shuffled": json.dumps(dict(world["tree"], storage_objects=world["tree"]["storage_objects"][::-1]))}[saved]
    _common(monkeypatch)
    monkeypatch.setattr(lio, "HAS_RTSLIB", True)
    monkeypatch.setattr(lio, "read_state", read_state)
    monkeypatch.setattr(lio_executor, "RtslibBackend", lambda: backend)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.run_command", run_command)
    monkeypatch.setattr(devices.DeviceInspector, "inspect",
                        lambda self, path: fake_device(path, case.get("devices", {}).get(path, "blank")))
    monkeypatch.setattr(target, "pv_owner_reader", lambda runner: lambda path: case.get("pv_owners", {}).get(path))
    files = case.get("files", {})
    monkeypatch.setattr(target, "stat_path", lambda path: dict(
        {"exists": False, "is_file": False, "is_block": False, "size": None, "parent_dir": True},
        **({"exists": True, "is_file": True, "size": files[path]} if path in files else {})))
    monkeypatch.setattr(target, "is_local_address", lambda ip: ip not in case.get("foreign", []))
    monkeypatch.setattr(atomic, "read_text", lambda path: saved_text)
    monkeypatch.setattr(target, "_mode", lambda path: case.get("saved_mode", 0o600))
    monkeypatch.setattr(atomic, "write_atomic", lambda path, content, mode=0o644, keep_backups=0, folder_mode=0o755:
                        written.update({path: (content, mode, keep_backups)}))
    result, failed = _run(module_main, case["params"], case.get("check_mode", False))
    return result, failed, backend.calls, [r for r in result.get("reads", []) if r == lio.READ_MARK], written


def check_target_case(module_main, case, monkeypatch):
    result, failed, calls, lio_reads, written = run_target_case(module_main, case, monkeypatch)
    expect = case["expect"]
    assert failed == expect.get("failed", False), json.dumps(result, indent=1, default=str)
    if "msg" in expect:
        _assert_msg(result, expect)
    reported = [[a["lio"], a["args"]] for a in result.get("actions", []) if "lio" in a]
    if "ops" in expect:
        assert reported == expect["ops"], json.dumps(reported, indent=1)
    if "op_names" in expect:
        assert [r[0] for r in reported] == expect["op_names"], json.dumps([r[0] for r in reported])
    if "rolled_back" in expect:
        assert [entry["lio"] for entry in result["rolled_back"]] == expect["rolled_back"]
        assert calls[:len(reported)] == reported          # what ran, then the undo
        assert [c[0] for c in calls[len(reported):]] == expect["rolled_back"]
        _assert_no_secret(result, case.get("secrets", []) + param_secrets(case["params"]))
        return result
    if failed or case.get("check_mode"):
        assert calls == [] and written == {}, "a failed or check-mode case must change nothing"
    else:
        assert calls == reported
    assert len(lio_reads) == expect.get("reads", 1 if failed or case.get("check_mode") or not calls else 2)
    if not failed:
        assert result["changed"] == expect["changed"]
        saves = [a for a in result["actions"] if "path" in a]
        assert bool(saves) == expect.get("saved", bool(reported))
        if saves and not case.get("check_mode"):
            assert len(written) == 1, written.keys()
            content, mode, _keep = list(written.values())[0]
            assert mode == 0o600 and json.loads(content)
        for fragment in expect.get("warnings", []):
            assert any(fragment in w for w in result.get("warnings", [])), result.get("warnings")
    _assert_no_secret(result, case.get("secrets", []) + param_secrets(case["params"]))
    return result


# ------------------------------------------------------------------ iscsi_initiator
SESSION_TEMPLATE = {"state": "LOGGED_IN\n", "tpgt": "1\n", "ifacename": "default\n", "recovery_tmo": "120\n"}


class FakeHost:
    """iscsiadm's database and the sysfs session tree under one folder, and a fake iscsiadm."""

    def __init__(self, root, case):
        self.root = str(root)
        self.case = case
        self.db = os.path.join(self.root, "etc", "iscsi")
        self.sysfs = os.path.join(self.root, "sys")
        self.commands = []
        self.next_sid = 1
        os.makedirs(os.path.join(self.db, "nodes"))
        os.makedirs(os.path.join(self.db, "send_targets"))
        os.makedirs(os.path.join(self.sysfs, "class", "iscsi_session"))
        os.makedirs(os.path.join(self.sysfs, "class", "iscsi_connection"))
        with open(os.path.join(self.db, "initiatorname.iscsi"), "w") as handle:
            handle.write("InitiatorName=%s\n" % case.get("initiator", "iqn.1993-08.org.debian:01:8d286a45e3d7"))
        self.discovered = [line.split() for line in text("iscsiadm_discovery.txt").splitlines() if line.strip()]
        for record in case.get("records", []):
            self.add_record(*record)
        for portal in case.get("sessions", []):
            self.login(portal[0], portal[1], int(portal[2]))

    # --------------------------------------------------------- the database
    def record_path(self, name, ip, port, tpgt=1):
        return os.path.join(self.db, "nodes", name, "%s,%d,%d" % (ip, port, tpgt), "default")

    def add_record(self, name, ip, port, chap=None):
        template = [line for line in text("node_record.txt").splitlines() if "node.session.auth." not in line
                    or "chap_algs" in line]
        body = []
        for line in template:
            key = line.split(" = ")[0]
            if key == "node.name":
                line = "node.name = %s" % name
            elif key == "node.conn[0].address":
                line = "node.conn[0].address = %s" % ip
            elif key == "node.conn[0].port":
                line = "node.conn[0].port = %d" % port
            elif key == "node.session.auth.chap_algs":
                body.append("node.session.auth.authmethod = %s" % ("CHAP" if chap else "None"))
                if chap:
                    body += ["node.session.auth.username = %s" % chap[0], "node.session.auth.password = %s" % chap[1]]
            body.append(line)
        path = self.record_path(name, ip, int(port))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write("\n".join(body) + "\n")

    # --------------------------------------------------------- sysfs
    def login(self, name, ip, port):
        sid = self.next_sid
        self.next_sid += 1
        sdir = os.path.join(self.sysfs, "class", "iscsi_session", "session%d" % sid)
        os.makedirs(sdir)
        for attr, value in dict(SESSION_TEMPLATE, targetname=name + "\n").items():
            with open(os.path.join(sdir, attr), "w") as handle:
                handle.write(value)
        cdir = os.path.join(self.sysfs, "class", "iscsi_connection", "connection%d:0" % sid)
        os.makedirs(cdir)
        for attr, value in (("persistent_address", ip), ("persistent_port", str(port)), ("state", "up")):
            with open(os.path.join(cdir, attr), "w") as handle:
                handle.write(value + "\n")
        for lun in range(self.case.get("luns", 1)):
            ldir = os.path.join(sdir, "device", "target%d:0:0" % sid, "%d:0:0:%d" % (sid, lun))
            disk = "sd%s" % chr(ord("a") + (sid - 1) * 2 + lun)
            os.makedirs(os.path.join(ldir, "block", disk))
            for attr, value in (("wwid", "naa.60014051c5c51a00000400080000000%d" % lun), ("state", "running"),
                                ("vendor", "LIO-ORG"), ("model", "IBLOCK")):
                with open(os.path.join(ldir, attr), "w") as handle:
                    handle.write(value + "\n")

    def logout(self, name, ip, port):
        base = os.path.join(self.sysfs, "class", "iscsi_session")
        for sname in os.listdir(base):
            sdir = os.path.join(base, sname)
            conn = os.path.join(self.sysfs, "class", "iscsi_connection", "connection%s:0" % sname[7:])
            with open(os.path.join(sdir, "targetname")) as handle:
                same = handle.read().strip() == name
            with open(os.path.join(conn, "persistent_address")) as handle:
                same = same and handle.read().strip() == ip
            if same:
                shutil.rmtree(sdir)
                shutil.rmtree(conn)
                return True
        return False

    # --------------------------------------------------------- iscsiadm
    def run(self, cmd):
        self.commands.append(list(cmd))
        if cmd[0] in ("udevadm", "systemctl"):
            return 0, "", ""
        assert cmd[0] == "iscsiadm", cmd
        args = dict(zip(cmd[1::2], cmd[2::2]))
        portal = args.get("-p", "")
        ip, _sep, port = portal.rpartition(":")
        if args.get("-m") == "discoverydb":
            if "--discover" not in cmd:
                path = os.path.join(self.db, "send_targets", "%s,%s" % (ip, port), "st_config")
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as handle:
                    handle.write(text("st_config.txt"))
                return 0, "", ""
            if self.case.get("discovery_fails"):
                return 24, "", "iscsiadm: Login failed to authenticate with target\n"
            lines = [d for d in self.discovered if d[1] in self.case.get("discoverable", [d[1]])]
            if cmd[-1] == "new":
                for address, name in lines:
                    dip, _s, rest = address.rpartition(":")
                    dport = int(rest.split(",")[0])
                    if not os.path.exists(self.record_path(name, dip, dport)):
                        self.add_record(name, dip, dport)
            return 0, "".join("%s %s\n" % (a, n) for a, n in lines), ""
        if args.get("-m") == "node":
            name, port = args["-T"], int(port)
            if "--login" in cmd:
                if portal in self.case.get("login_fails", []):
                    return 24, "Logging in to ...\n", ("iscsiadm: Could not login to [iface: default, target: %s, portal: %s].\n"
                                                       "iscsiadm: initiator reported error (24 - iSCSI login failed due to "
                                                       "authorization failure)\n" % (name, portal))
                self.login(name, ip, port)
                return 0, "Login successful.\n", ""
            if "--logout" in cmd:
                return (0, "", "") if self.logout(name, ip, port) else (21, "", "iscsiadm: No matching sessions found\n")
            if args.get("-o") == "delete":
                shutil.rmtree(os.path.dirname(self.record_path(name, ip, port)))
                return 0, "", ""
        if args.get("-m") == "session" and "--rescan" in cmd:
            return 0, "", ""
        raise AssertionError("unexpected iscsiadm call %s" % cmd)

    def files(self):
        out = {}
        for base, _dirs, names in os.walk(self.db):
            for name in names:
                with open(os.path.join(base, name)) as handle:
                    out[os.path.relpath(os.path.join(base, name), self.db)] = handle.read()
        return out


def run_initiator_case(module_main, case, monkeypatch, tmp_path):
    host = FakeHost(tmp_path, case)
    real_read = ini.read_state

    def read_state(runner, db_root=None, **kwargs):
        return real_read(runner, db_root=db_root or host.db, sysfs=host.sysfs, dev_dir=os.path.join(host.root, "dev"),
                         initiator_file=os.path.join(host.db, "initiatorname.iscsi"))

    _common(monkeypatch)
    monkeypatch.setattr(ini, "read_state", read_state)
    monkeypatch.setattr(ini, "INITIATOR_FILE", os.path.join(host.db, "initiatorname.iscsi"))
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.run_command",
                        lambda self, cmd, **kw: host.run(cmd))
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    before = host.files()
    params = dict(case["params"], db_root=host.db)
    result, failed = _run(module_main, params, case.get("check_mode", False))
    after = host.files()
    changed_files = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return result, failed, host, changed_files, after


def check_initiator_case(module_main, case, monkeypatch, tmp_path):
    result, failed, host, changed_files, files = run_initiator_case(module_main, case, monkeypatch, tmp_path)
    expect = case["expect"]
    assert failed == expect.get("failed", False), json.dumps(result, indent=1, default=str)
    if "msg" in expect:
        _assert_msg(result, expect)
    changing = [c for c in host.commands if not (c[0] == "udevadm" or c[-1] == "nonpersistent")]
    reported = [a["cmd"] for a in result.get("actions", []) if "cmd" in a]
    assert changing == (expect.get("commands", []) if not case.get("check_mode") else []) + \
        [entry["cmd"] for entry in result.get("rolled_back", [])], json.dumps(changing, indent=1)
    assert reported == expect.get("commands", []), json.dumps(reported, indent=1)
    assert [a["path"].replace(host.db + "/", "") for a in result.get("actions", []) if "path" in a] == \
        expect.get("files", []), json.dumps(result.get("actions"), indent=1)
    if case.get("check_mode") or failed and not expect.get("files"):
        assert changed_files == [] or set(changed_files) <= set(expect.get("discovery_made", []))
    else:
        assert changed_files == sorted(set(expect.get("files", []) + expect.get("discovery_made", []))), changed_files
        for name in expect.get("files", []):
            if name.startswith("nodes/") or name.startswith("send_targets/"):
                assert os.stat(os.path.join(host.db, name)).st_mode & 0o777 == 0o600
    for fragment, where in expect.get("file_lines", []):
        assert fragment in files[where], files[where]
    if "rolled_back" in expect:
        assert [entry["cmd"] for entry in result["rolled_back"]] == expect["rolled_back"]
    if not failed:
        assert result["changed"] == expect["changed"]
        assert [r[0] for r in result["reads"]] == expect.get("reads", ["open-iscsi"]), result["reads"]
        for fragment in expect.get("warnings", []):
            assert any(fragment in w for w in result.get("warnings", [])), result.get("warnings")
        if "devices" in expect:
            assert [(d["portal"], d["lun"], d["name"]) for d in result["devices"]] == [tuple(d) for d in expect["devices"]]
    secrets = case.get("secrets", []) + param_secrets(case["params"])
    _assert_no_secret(result, secrets)
    for cmd in host.commands:
        assert not any(secret in part for secret in secrets for part in cmd), "a secret on a command line: %s" % cmd
    return result
