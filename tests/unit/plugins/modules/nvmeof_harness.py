# -*- coding: utf-8 -*-
"""Run the NVMe-oF modules' main() against nvmet states and host sysfs captured from the VM.

A case (YAML) names a captured snapshot (tests/fixtures/nvmeof/<kernel>/states.json), the module
params, what new devices hold, and pins what the run does: the configfs ops in order
([op, path below /sys/kernel/config/nvmet, value]), the commands (argv), the files written,
and how many processes it started to read. Nothing touches the host: configfs ops, commands and
file writes are recorded.
"""
from __future__ import annotations

import json
import os

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.strata.storage.plugins.module_utils.core import devices
from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInfo
from ansible_collections.strata.storage.plugins.module_utils.nvmeof import configfs
from ansible_collections.strata.storage.plugins.module_utils.nvmeof import target_planner
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.nvmeof.nvmet_fixtures import (
    SnapshotFacts, snapshots)
from ansible_collections.strata.storage.tests.unit.plugins.modules.harness import Exit

HERE = os.path.dirname(__file__)
ROOT = configfs.CONFIGFS + "/"
LVM_MEMBER = "TYPE=LVM2_member\nUSAGE=raid\nUUID=Yc3HEL-0000\nVERSION=LVM2 001\n"
READ_TOOLS = ("blkid", "nvme")         # nvme discover is a read; connect/disconnect are not
READ_SUBCOMMANDS = ("discover", "list", "list-subsys", "version")


def load_cases(name):
    with open(os.path.join(HERE, name)) as handle:
        return [pytest.param(case, id=case["id"]) for case in yaml.safe_load(handle)]


def _op(op):
    out = [op.op, op.path.replace(ROOT, "")]
    if op.op == "write":
        out.append("(secret)" if op.secret else op.value)
    elif op.op == "symlink":
        out.append(op.value.replace(ROOT, ""))
    return out


def run_case(module_main, case, monkeypatch, extra_patches=None):
    """Returns a dict: result, failed, ops (applied), ran (changing commands), reads (reading
    commands), written {path: (content, mode)}."""
    snaps = snapshots()
    before = snaps[case.get("snapshot", "empty")]
    after = snaps[case.get("after_snapshot", case.get("snapshot", "empty"))]
    rec = {"ops": [], "ran": [], "reads": [], "written": {}, "walks": 0}

    def walk(root=configfs.CONFIGFS):
        rec["walks"] += 1
        return (before if rec["walks"] == 1 else after)["tree"]

    class Facts(SnapshotFacts):
        def __init__(self, *a, **k):
            snap = before if rec["walks"] == 0 else after
            SnapshotFacts.__init__(self, snap, loaded_modules=case.get("loaded_modules"),
                                   kernel_config=case.get("kernel_config"), available=case.get("available_modules"))

    def run_command(self, cmd, check_rc=False, environ_update=None, data=None, binary_data=False, **kw):
        if cmd[0] == "blkid":
            rec["reads"].append(cmd)
            kind = (case.get("devices") or {}).get(cmd[-1], "blank")
            return (0, LVM_MEMBER, "") if kind == "lvm2_member" else (2, "", "")
        if cmd[0] == "nvme" and cmd[1] in READ_SUBCOMMANDS:
            rec["reads"].append(cmd)
            reply = (case.get("replies") or {}).get(" ".join(cmd[:2]), {})
            return reply.get("rc", 0), reply.get("stdout", ""), reply.get("stderr", "")
        rec["ran"].append(cmd)
        failure = (case.get("fail") or {}).get(" ".join(cmd[:2])) or (case.get("fail") or {}).get(cmd[0])
        if failure is not None and failure.get("arg") in (None,) + tuple(cmd):
            return failure.get("rc", 1), failure.get("stdout", ""), failure.get("stderr", "failed (test)")
        reply = (case.get("replies") or {}).get(" ".join(cmd[:2]), {})
        return reply.get("rc", 0), reply.get("stdout", ""), reply.get("stderr", "")

    def apply(op):
        rec["ops"].append(_op(op))
        failing = case.get("fail_op")
        if failing and _op(op)[:2] == failing[:2]:
            raise OSError(22, "Invalid argument")

    def exit_json(self, **result):
        raise Exit(result, False)

    def fail_json(self, **result):
        raise Exit(result, True)

    def fake_inspect(self, path):
        kind = (case.get("devices") or {}).get(path, "blank")
        info = DeviceInfo(path=path, realpath=path)
        if kind == "missing":
            return info
        info.exists, info.is_block = True, True
        if kind == "mounted":
            info.mountpoints = ["/srv"]
        result = self.runner.read(["blkid", "-p", "-o", "export", path], ok_rcs=(0, 2))
        info.signatures = devices.describe_probe(devices.parse_blkid_export(result.stdout))
        return info

    files = dict(case.get("files") or {})
    monkeypatch.setattr(configfs, "walk", walk)
    monkeypatch.setattr(configfs, "KernelFacts", Facts)
    monkeypatch.setattr(configfs, "apply_op", apply)
    monkeypatch.setattr(target_planner, "is_local_address", lambda a: a in case.get("local", ["127.0.0.1", "::1"]))
    monkeypatch.setattr(devices.DeviceInspector, "inspect", fake_inspect)
    monkeypatch.setattr("ansible_collections.strata.storage.plugins.modules.nvmeof_subsystem.device_key", lambda p: p)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.run_command", run_command)
    missing = set(case.get("missing_tools") or [])
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.get_bin_path",
                        lambda self, name, required=False, opt_dirs=None: None if name in missing else "/usr/sbin/" + name)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.exit_json", exit_json)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json)
    monkeypatch.setattr("ansible_collections.strata.storage.plugins.module_utils.core.atomic.read_text", files.get)
    monkeypatch.setattr("ansible_collections.strata.storage.plugins.module_utils.core.module_support.write_atomic",
                        lambda path, content, mode=0o644, keep_backups=0: rec["written"].update({path: (content, mode)}))
    monkeypatch.setattr("ansible_collections.strata.storage.plugins.module_utils.core.atomic.write_atomic",
                        lambda path, content, mode=0o644, keep_backups=0: rec["written"].update({path: (content, mode)}))
    for target, value in (extra_patches or {}).items():
        monkeypatch.setattr(target, value)
    args = dict(case["params"])
    if case.get("check_mode"):
        args["_ansible_check_mode"] = True
    args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(Exit) as exc:
            module_main()
    rec["result"], rec["failed"] = exc.value.result, exc.value.failed
    return rec


def check_case(module_main, case, monkeypatch, extra_patches=None):
    rec = run_case(module_main, case, monkeypatch, extra_patches)
    result, expect = rec["result"], case["expect"]
    dump = json.dumps(result, indent=1, default=str)
    assert rec["failed"] == expect.get("failed", False), dump
    for fragment in ([expect["msg"]] if isinstance(expect.get("msg"), str) else expect.get("msg", [])):
        assert fragment in result["msg"], dump
    planned_ops = [[a["configfs"], a["path"].replace(ROOT, "")]
                   + ([a["value"]] if "value" in a else [a["target"].replace(ROOT, "")] if "target" in a else [])
                   for a in result.get("actions", []) if "configfs" in a]
    planned_cmds = [a["cmd"] for a in result.get("actions", []) if "cmd" in a]
    assert planned_ops == expect.get("ops", []), json.dumps(planned_ops)
    assert planned_cmds == expect.get("commands", []), json.dumps(planned_cmds)
    if "rolled_back" in expect:
        assert rec["failed"]
        assert [e["cmd"] for e in result.get("rolled_back", [])] == expect["rolled_back"], dump
        assert [p for p in rec["written"] if not p.startswith("/run/")] == [], "a failed run saves no configuration"
        return rec
    assert "rolled_back" not in result
    if rec["failed"] or case.get("check_mode"):
        assert rec["ops"] == [] and rec["ran"] == [] and rec["written"] == {}, "a failed or check-mode case changes nothing"
    else:
        assert rec["ops"] == expect.get("ops", [])
        assert rec["ran"] == expect.get("commands", [])
        assert result["changed"] == expect["changed"], dump
    if "files" in expect:
        assert sorted(rec["written"]) == sorted(expect["files"]), sorted(rec["written"])
        for path, mode in expect["files"].items():
            assert "%04o" % rec["written"][path][1] == mode
    if "process_reads" in expect:       # processes started to read (configfs/sysfs/proc are read from Python)
        assert [cmd[:2] for cmd in rec["reads"]] == expect["process_reads"], json.dumps(rec["reads"])
    if not rec["failed"] and case.get("walks", True) is not None:
        # the tree is walked once per run and once more after a real change
        changed = bool(rec["ops"] or rec["ran"] or rec["written"])
        assert rec["walks"] == expect.get("walks", 2 if changed else 1)
    if "state_reads" in expect:          # Python reads of the state (no process), listed in `reads`
        assert len([r for r in result.get("reads", []) if r[1:2] == ["read"]]) == expect["state_reads"]
    secrets = [v for v in json.dumps(case["params"]).split('"') if v.startswith("DHHC-1:")]
    for secret in secrets:
        assert secret not in dump, "a DH-HMAC-CHAP key leaked into the result"
    return rec
