# -*- coding: utf-8 -*-
"""Run a module's main() against captured LVM state and fake devices; pin the argv it runs.

A case (YAML) names a fixture (real `lvm fullreport` output captured in the VM), the module
params, what the devices hold, and the expected changing commands in order.
"""
from __future__ import annotations

import json
import os

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.strata.storage.plugins.module_utils.core import devices
from ansible_collections.strata.storage.plugins.module_utils.lvm import planner as lvm_planner
from ansible_collections.strata.storage.plugins.module_utils.lvm import reader as lvm_reader
from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInfo
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.fixtures import lvm_fixture_text

HERE = os.path.dirname(__file__)
READ_TOOLS = ("lvm", "blkid", "vgs", "pvs", "lvs")


class Exit(BaseException):   # as exit_json's SystemExit: never caught by `except Exception`
    def __init__(self, result, failed):
        super().__init__(result.get("msg", ""))
        self.result = result
        self.failed = failed


def load_cases(name):
    with open(os.path.join(HERE, name)) as handle:
        cases = yaml.safe_load(handle)
    return [pytest.param(case, id=case["id"]) for case in cases]


def fake_device(path, kind):
    info = DeviceInfo(path=path, realpath=path)
    if kind == "missing":
        return info
    info.exists, info.is_block, info.size = True, True, 1 << 30
    if kind == "ext4":
        info.signatures = devices.describe_probe(devices.parse_blkid_export(lvm_fixture_text("blkid_ext4.txt")))
    elif kind == "lvm2_member":
        info.signatures = devices.describe_probe(devices.parse_blkid_export(lvm_fixture_text("blkid_lvm2_member.txt")))
    elif kind == "mounted":
        info.mountpoints = ["/srv"]
    elif kind != "blank":
        raise ValueError(kind)
    return info


# mkfs.xfs of xfsprogs 5.19+ (Debian 12: 6.1.0) refuses a data section below 300 MiB, dry run
# (-N) included: measured, size=314572800 passes, 314568704 fails with this sentence.
XFS_MIN_BYTES = 300 * 1024 * 1024


def xfs_size_refusal(cmd):
    """What the real `mkfs.xfs -N ... -d file,name=X,size=N` says for N below its minimum."""
    if cmd[0] != "mkfs.xfs":
        return None
    for arg in cmd:
        for sub in arg.split(","):
            if sub.startswith("size=") and "name=" in arg and int(sub[5:]) < XFS_MIN_BYTES:
                return "Filesystem must be larger than 300MB.\nUsage: mkfs.xfs\n"
    return None


# Entries every Linux /dev has (devtmpfs + udev on the test VM; a container has most of
# them): vgcreate refuses a VG named like any of them. A case adds its own with dev_entries.
DEV_ENTRIES = ("block", "bsg", "char", "console", "core", "cpu", "disk", "fd", "full", "hugepages", "input",
               "kmsg", "loop-control", "loop0", "mapper", "mem", "mqueue", "net", "null", "port", "ptmx", "pts",
               "random", "rtc", "shm", "snd", "stderr", "stdin", "stdout", "tty", "urandom", "vda", "zero")


def run_case(module_main, case, monkeypatch, files=None):
    """Run the module for a case; return (result, failed, changing commands run, reads)."""
    # drop_lvs: the captured state after `lvremove` of those LVs (see fixtures.without_lvs)
    report = lvm_fixture_text(case["fixture"] + ".json", drop_lvs=case.get("drop_lvs") or ())
    ran, reads = [], []

    def run_command(self, cmd, check_rc=False, environ_update=None, data=None, binary_data=False, **kw):
        if cmd[0] in READ_TOOLS:
            reads.append(cmd)
            if ran and cmd[:2] == ["lvm", "fullreport"] and case.get("fail_report_after") == len(ran):
                return 5, "", "  Reading VG failed (test)"    # the read after the Nth change fails
            return 0, report, ""
        if cmd[:2] == ["wipefs", "--no-act"]:   # a probe, not a wipe
            reads.append(cmd)
            return 0, '{"signatures": []}', ""
        if cmd[0].startswith("mkfs.") and cmd[1] in ("-N", "-n"):   # the tool's dry run
            reads.append(cmd)
            refusal = (case.get("mkfs_dry_run") or {}).get(cmd[0]) or xfs_size_refusal(cmd)
            return (1, "", refusal) if refusal else (0, "", "")
        ran.append(cmd)
        failure = (case.get("fail") or {}).get(cmd[0])
        if failure is not None and failure.get("arg") in (None,) + tuple(cmd[1:]):
            return failure.get("rc", 5), "", failure.get("stderr", "  failed (test)")
        return 0, "", ""

    def exit_json(self, **result):
        raise Exit(result, False)

    def fail_json(self, **result):
        raise Exit(result, True)

    written = {}
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.run_command", run_command)
    # device-mapper is there (the CI host has none) unless the case says otherwise
    monkeypatch.setattr(lvm_reader, "device_mapper_problem",
                        lambda *a, **k: ("device-mapper is not available (test)", "modprobe dm_mod")
                        if case.get("no_device_mapper") else None)
    dev_entries = set(DEV_ENTRIES) | set(case.get("dev_entries") or [])
    monkeypatch.setattr(lvm_reader, "dev_entry_exists", lambda name, dev_dir="/dev": name in dev_entries)
    # every tool is "installed" unless the case says otherwise (missing_tools)
    missing = set(case.get("missing_tools") or [])
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.get_bin_path",
                        lambda self, name, required=False, opt_dirs=None: None if name in missing else "/usr/sbin/" + name)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.exit_json", exit_json)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json)
    monkeypatch.setattr(devices, "device_key", lambda p: ("path", p))
    monkeypatch.setattr(lvm_planner, "device_key", lambda p: ("path", p))
    monkeypatch.setattr(devices.DeviceInspector, "inspect",
                        lambda self, path: fake_device(path, case.get("devices", {}).get(path, "blank")))
    profiles = dict(files or {}, **case.get("files", {}))
    monkeypatch.setattr("ansible_collections.strata.storage.plugins.module_utils.core.atomic.read_text",
                        profiles.get)
    monkeypatch.setattr("ansible_collections.strata.storage.plugins.module_utils.core.module_support.write_atomic",
                        lambda path, content, mode=0o644, keep_backups=0: written.update({path: content}))
    args = dict(case["params"])
    if case.get("check_mode"):
        args["_ansible_check_mode"] = True
    args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(Exit) as exc:
            module_main()
    return exc.value.result, exc.value.failed, ran, reads, written


def check_case(module_main, case, monkeypatch):
    result, failed, ran, reads, written = run_case(module_main, case, monkeypatch)
    expect = case["expect"]
    assert failed == expect.get("failed", False), json.dumps(result, indent=1, default=str)
    if "msg" in expect:
        for fragment in ([expect["msg"]] if isinstance(expect["msg"], str) else expect["msg"]):
            assert fragment in result["msg"]
    planned = [a["cmd"] for a in result.get("actions", []) if "cmd" in a]
    assert planned == expect.get("commands", []), json.dumps(planned)
    if "rolled_back" in expect:
        # a real run that failed half-way (case `fail`): what it ran, then the undo of what it
        # had created, newest first, and nothing else
        assert failed
        undone = [entry["cmd"] for entry in result.get("rolled_back", [])]
        assert undone == expect["rolled_back"], json.dumps(undone)
        assert ran == expect.get("commands", []) + expect["rolled_back"], json.dumps(ran)
        return result
    assert "rolled_back" not in result
    if failed:
        assert ran == [], "a failed case must change nothing"
    else:
        assert result["changed"] == expect["changed"]
    if case.get("check_mode") or failed:
        assert ran == []
        assert written == {}
    else:
        assert ran == expect.get("commands", [])
    if "files" in expect:
        assert sorted(written) == sorted(expect["files"])
    if "reads" in expect:       # the tools read, in order (e.g. [lvm] = only fullreport)
        assert [cmd[0] for cmd in reads] == expect["reads"], json.dumps(reads)
    # the state is read once per run, and once more only after a real change
    report_reads = [cmd for cmd in reads if cmd[:2] == ["lvm", "fullreport"]]
    if failed:
        assert len(report_reads) <= 1
    else:
        assert len(report_reads) == (2 if ran or written else 1)
    return result
