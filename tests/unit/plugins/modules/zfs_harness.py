# -*- coding: utf-8 -*-
"""Run a ZFS module's main() against real zpool/zfs output captured in the VM; pin the argv.

A case (YAML) names the captured outputs the reads get (`fixtures`: pool_list, pool_get,
status, zfs_get, holds, import), the module params, what new devices hold, files the module
reads (key files, sysfs, arcstats), and the changing commands expected in order. The fake
tools answer like the real ones: `zfs get -r ROOTS` returns only the datasets under ROOTS
and "dataset does not exist" for a missing root; `zpool get all POOL` "no such pool".

Every case also asserts: a failed case ran nothing; check mode ran nothing; a case with no
change started at most three processes (the ZFS modules' promise).
"""
from __future__ import annotations

import json
import os

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.strata.storage.plugins.module_utils.core import devices as core_devices
from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInfo
from ansible_collections.strata.storage.plugins.module_utils.zfs import devices as zfs_devices
from ansible_collections.strata.storage.plugins.module_utils.zfs import pipeline, reader
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.zfs.zfs_fixtures import zfs_fixture
# the exit stand-in every module harness shares
from ansible_collections.strata.storage.tests.unit.plugins.modules.harness import Exit

HERE = os.path.dirname(__file__)
MAX_NO_CHANGE_READS = 3


def fake_device(path, kind):
    """blank | blank_file | small_file | ext4 | lvm2_member | md_member | zfs_member:POOL | mounted | missing"""
    info = DeviceInfo(path=path, realpath=path)
    if kind == "missing":
        return info
    info.exists = True
    info.is_block = not kind.endswith("_file") and not path.startswith("/var/")
    info.size = 64 * 1024 ** 2 - 4096 if kind == "small_file" else 2 * 1024 ** 3
    probe = {}
    if kind == "ext4":
        probe = {"TYPE": "ext4", "USAGE": "filesystem", "LABEL": "old", "UUID": "5e1f"}
    elif kind == "lvm2_member":
        probe = {"TYPE": "LVM2_member", "USAGE": "raid", "UUID": "pv-uuid"}
    elif kind == "md_member":
        probe = {"TYPE": "linux_raid_member", "USAGE": "raid", "LABEL": "vm:0", "UUID": "md-uuid"}
    elif kind.startswith("zfs_member"):
        probe = {"TYPE": "zfs_member", "USAGE": "filesystem", "LABEL": kind.split(":", 1)[1], "UUID": "123"}
        info.zfs_label = probe["LABEL"]
    elif kind == "mounted":
        info.mountpoints = ["/srv"]
    elif kind not in ("blank", "blank_file", "small_file"):
        raise ValueError(kind)
    info.signatures = core_devices.describe_probe(probe)
    return info


def _under(name, roots):
    base = name.split("@")[0].split("#")[0]
    return any(base == r or base.startswith(r + "/") for r in roots)


class FakeTools:
    """Answers the read commands from fixtures; records every other command."""

    def __init__(self, case):
        self.case = case
        self.fx = case.get("fixtures", {})
        self.ran = []
        self.reads = []

    def text(self, key):
        name = self.fx.get(key)
        return zfs_fixture(name) if name else ""

    def answer(self, cmd):
        head = cmd[:2]
        if head == ["zpool", "list"]:
            return 0, self.text("pool_list"), ""
        if head == ["zpool", "get"]:
            pools = cmd[cmd.index("all") + 1:]
            lines = [ln for ln in self.text("pool_get").splitlines(True) if not pools or ln.split("\t")[0] in pools]
            have = {ln.split("\t")[0] for ln in lines}
            missing = [p for p in pools if p not in have]
            return (1 if missing else 0), "".join(lines), "".join("cannot open '%s': no such pool\n" % p for p in missing)
        if head == ["zpool", "status"]:
            text = self.text("status")
            return 0, text or "no pools available\n", ""
        if head == ["zfs", "get"]:
            roots = cmd[cmd.index("all") + 1:]
            lines = [ln for ln in self.text("zfs_get").splitlines(True) if _under(ln.split("\t")[0], roots)]
            have = {ln.split("\t")[0] for ln in lines}
            missing = [r for r in roots if r not in have]
            return (1 if missing else 0), "".join(lines), "".join(
                "cannot open '%s': dataset does not exist\n" % r for r in missing)
        if head == ["zfs", "holds"]:
            return 0, self.text("holds"), ""
        if head == ["zpool", "import"] and all(w == "-d" or cmd[i - 1] == "-d" for i, w in enumerate(cmd[2:], 2)):
            return 0, self.text("import"), ""
        if head == ["zpool", "wait"]:
            return 0, "", ""
        if head == ["zfs", "send"] and "-n" in cmd and "-t" in cmd:
            return 0, self.text("token"), ""
        if (head in (["zpool", "create"], ["zpool", "add"]) and "-n" in cmd) or (
                head in (["zfs", "destroy"], ["zfs", "send"]) and "-n" in cmd):
            return 0, "size\t4096\n" if head == ["zfs", "send"] else "", ""
        if head == ["blkid", "-p"]:
            return 2, "", ""        # what the probed devices hold comes from fake_device
        if cmd == ["modprobe", "zfs"]:
            return 0, "", ""
        if cmd[0] == "ssh":
            return 0, self.text("remote_zfs_get"), ""
        return None

    def run_command(self, cmd, **kwargs):
        if self.case.get("read_fails_after_actions") and self.ran and cmd[:2] == ["zfs", "get"]:
            self.reads.append(cmd)      # the state read after every action ran fails
            return 1, "", "cannot open: I/O error"
        out = self.answer(cmd)
        if out is not None:
            self.reads.append(cmd)
            return out
        self.ran.append(cmd)
        fails = self.case.get("tool_fails")
        if fails and cmd == fails["cmd"]:
            return fails.get("rc", 1), "", fails.get("stderr", "")
        return 0, "", ""


def run_case(module_main, case, monkeypatch):
    tools = FakeTools(case)
    written = {}
    piped = []

    def run_command(self, cmd, check_rc=False, environ_update=None, data=None, binary_data=False, **kw):
        return tools.run_command(list(cmd))

    def exit_json(self, **result):
        raise Exit(result, False)

    def fail_json(self, **result):
        raise Exit(result, True)

    def fake_pipeline(send, recv, limit=None):
        piped.append(send + ["|"] + recv)
        tools.ran.append(send + ["|"] + recv)
        return pipeline.PipeResult(send_rc=0, recv_rc=0, bytes=4096, send_stderr="", recv_stderr="", recv_stdout="")

    files = dict(case.get("files") or {})
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.run_command", run_command)
    # every tool is "installed" unless the case says otherwise (missing_tools)
    missing = set(case.get("missing_tools") or [])
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.get_bin_path",
                        lambda self, name, required=False, opt_dirs=None: None if name in missing else "/usr/sbin/" + name)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.exit_json", exit_json)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json)
    monkeypatch.setattr(core_devices, "device_key", lambda p: ("path", p))
    monkeypatch.setattr(zfs_devices, "device_key", lambda p: ("path", p))

    def fake_inspect(self, path):
        # the real probe starts one process per device (blkid -p): count it as a read, so a
        # no-change run that probed devices would show in its process count
        if path not in self.probed:
            self.runner.read(["blkid", "-p", "-o", "export", path], ok_rcs=(0, 2))
            self.probed[path] = fake_device(path, case.get("devices", {}).get(path, "blank"))
        return self.probed[path]

    monkeypatch.setattr(zfs_devices.VdevInspector, "inspect", fake_inspect)
    monkeypatch.setattr(pipeline, "run_pipeline", fake_pipeline)
    monkeypatch.setattr(reader, "zfs_loaded", lambda: not case.get("module_not_loaded"))
    monkeypatch.setattr("ansible_collections.strata.storage.plugins.module_utils.core.atomic.read_text", files.get)
    for mod in ("zfs_dataset", "zfs_layout", "zfs_arc"):
        monkeypatch.setattr("ansible_collections.strata.storage.plugins.modules.%s.read_text" % mod, files.get)

    def fake_writer(path, content, mode):
        written[path] = (content, mode)
        tools.ran.append(["write", path])

    for mod in ("zfs_dataset", "zfs_layout", "zfs_arc"):
        monkeypatch.setattr("ansible_collections.strata.storage.plugins.modules.%s.write_file" % mod, fake_writer)
    args = dict(case["params"])
    if case.get("check_mode"):
        args["_ansible_check_mode"] = True
    args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(Exit) as exc:
            module_main()
    return exc.value.result, exc.value.failed, tools, written


def planned_commands(result):
    out = []
    for action in result.get("actions", []):
        if "cmd" in action:
            out.append(action["cmd"] + (["|"] + action["pipe_to"] if "pipe_to" in action else []))
        elif "path" in action:
            out.append(["write", action["path"]])
    return out


def _resume_token(case):
    for line in zfs_fixture(case["fixtures"]["zfs_get"]).splitlines():
        parts = line.split("\t")
        if parts[1] == "receive_resume_token" and parts[2] != "-":
            return parts[2]
    return None


def check_case(module_main, case, monkeypatch):
    result, failed, tools, written = run_case(module_main, case, monkeypatch)
    expect = dict(case["expect"])
    if "@token@" in json.dumps(expect.get("commands", [])):
        token = _resume_token(case)
        expect["commands"] = [[token if w == "@token@" else w for w in cmd] for cmd in expect["commands"]]
    assert failed == expect.get("failed", False), json.dumps(result, indent=1, default=str)
    if "msg" in expect:
        for fragment in ([expect["msg"]] if isinstance(expect["msg"], str) else expect["msg"]):
            assert fragment in result["msg"], result["msg"]
    if failed and case.get("read_fails_after_actions"):
        # every action ran: the failed report read removes nothing this run made
        assert tools.ran == expect["ran"], json.dumps(tools.ran)
        assert result.get("rolled_back", []) == [], json.dumps(result.get("rolled_back"))
        return result
    if failed and case.get("tool_fails"):
        # a command failed in a real run: what ran before it, it, then the undo of what this
        # run created (newest first)
        assert tools.ran == expect["ran"], json.dumps(tools.ran)
        assert [e["cmd"] for e in result.get("rolled_back", [])] == expect.get("rolled_back", [])
        return result
    if failed:
        assert tools.ran == [] and written == {}, "a failed case must change nothing"
    else:
        assert result["changed"] == expect["changed"]
    planned = planned_commands(result)
    assert planned == expect.get("commands", []), json.dumps(planned)
    if case.get("check_mode") or failed:
        assert tools.ran == [] and written == {}
    else:
        assert tools.ran == expect.get("commands", []), json.dumps(tools.ran)
    if "reads" in expect:
        assert [" ".join(cmd[:2]) for cmd in tools.reads] == expect["reads"], json.dumps(tools.reads)
    if not failed and not result["changed"] and not any(cmd[:2] == ["zpool", "wait"] for cmd in tools.reads):
        # (waiting for a scrub or resilver the user asked to wait for is work, not a no-change run)
        assert len(tools.reads) <= MAX_NO_CHANGE_READS, json.dumps(tools.reads)
        assert result["reads"] == tools.reads
    if "written" in expect:
        for path, (content, mode) in expect["written"].items():
            assert written[path] == (content, mode)
    return result
