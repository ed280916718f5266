# -*- coding: utf-8 -*-
"""Run md_array / md_layout main() against md state captured in the VM; pin the argv.

A case (YAML) names a captured state (tests/fixtures/md/<version>/<fixture>.json: the
reader's sysfs/mdstat snapshot plus `mdadm --detail --scan`), the module params, what new
devices hold (blank, md_member, xfs, lvm2_member, zfs_member, mounted, missing, small; a
captured `blkid -p` each), the mdadm.conf content, and the exact changing commands expected
in order. A failed case must run nothing, unless it names a command that fails (`fail_cmd`;
`also_fail`: more commands that fail, e.g. undos that find nothing to undo):
then `expect.ran` pins what ran, the undo included; every case counts the processes read.
"""
from __future__ import annotations

import json
import os

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.strata.storage.plugins.module_utils.core import devices
from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInfo
from ansible_collections.strata.storage.plugins.module_utils.md import config as md_config
from ansible_collections.strata.storage.plugins.module_utils.md import layout as md_layout
from ansible_collections.strata.storage.plugins.module_utils.md import planner as md_planner
from ansible_collections.strata.storage.plugins.module_utils.md import reader as md_reader
from ansible_collections.strata.storage.plugins.module_utils.md.inspect import MdInspector
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.md.md_fixtures import (
    blkid_values, md_snapshot, md_text,
)
# the exit stand-in every module harness shares
from ansible_collections.strata.storage.tests.unit.plugins.modules.harness import Exit

HERE = os.path.dirname(__file__)
SCAN = ["mdadm", "--detail", "--scan"]
EXAMINE = ["mdadm", "--examine", "--scan"]
# what the host has: the initramfs tool and systemctl the module looks up itself (dracut is
# absent, a Debian host), and the tools the runner checks before it runs them
BINS = {"update-initramfs": "/usr/sbin/update-initramfs", "systemctl": "/usr/bin/systemctl",
        "mdadm": "/sbin/mdadm", "blkid": "/sbin/blkid", "wipefs": "/sbin/wipefs", "modprobe": "/sbin/modprobe",
        "udevadm": "/bin/udevadm", "zpool": "/sbin/zpool", "sgdisk": "/sbin/sgdisk"}
CONF = "/etc/mdadm/mdadm.conf"


def fake_key(path):
    """/dev/loopN is 7:N (as in the captured state); /dev/alias-loopN is another name of it."""
    base = os.path.basename(path).replace("alias-", "")
    if base.startswith("loop") and base[4:].isdigit():
        return ("devno", 7, int(base[4:]))
    return ("path", path)


def fake_device(path, kind, size=None):
    info = DeviceInfo(path=path, realpath=path.replace("alias-", ""))
    info.probe = {}
    if kind == "missing":
        return info
    info.exists, info.is_block, info.size = True, True, size or (1 << 30)
    if kind == "small":
        info.size = 1 << 20
    elif kind == "mounted":
        info.mountpoints = ["/srv"]
    elif kind == "held":
        info.holders = ["md126"]
    elif kind != "blank":
        info.probe = blkid_values(kind)
        info.signatures = devices.describe_probe(info.probe)
    return info


def run_case(module_main, case, monkeypatch):
    """Run the module for a case; return (result, failed, changing commands run, reads, written)."""
    snap = md_snapshot(case.get("fixture", "empty"))
    for name in case.get("named_by_early_boot", []):
        # as an initramfs without the ARRAY line names a local array: /dev/md/HOST:NAME
        snap = dict(snap, hostname="strata-lab", dev_md=dict(snap["dev_md"]))
        snap["detail_scan"] = snap["detail_scan"].replace("/dev/md/%s " % name, "/dev/md/strata-lab:%s " % name)
        snap["dev_md"]["strata-lab:%s" % name] = snap["dev_md"].pop(name)
    after = snap
    ran, reads, written, waits = [], [], {}, []

    def run_command(self, cmd, check_rc=False, environ_update=None, data=None, binary_data=False, **kw):
        if cmd == SCAN:
            reads.append(cmd)
            return 0, (after if ran else snap)["detail_scan"], ""
        if cmd == EXAMINE:
            reads.append(cmd)
            return 0, md_text("examine_scan.txt"), ""
        if cmd[0] == "blkid":
            reads.append(cmd)
            return 2, "", ""
        ran.append(cmd)
        if cmd == case.get("fail_cmd") or cmd in (case.get("also_fail") or []):
            return 1, "", "mdadm: the failure this case asks for"
        return 0, "", ""

    def exit_json(self, **result):
        raise Exit(result, False)

    def fail_json(self, **result):
        raise Exit(result, True)

    kinds = case.get("devices", {})
    sizes = case.get("sizes", {})
    files = dict(case.get("files", {}))
    if "conf" in case:
        files[CONF] = case["conf"]
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.run_command", run_command)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.exit_json", exit_json)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.get_bin_path",
                        lambda self, name, *a, **kw: BINS.get(name))
    for mod in (devices, md_planner, md_layout):
        monkeypatch.setattr(mod, "device_key", fake_key)
    if "fixture_after" in case:
        after = md_snapshot(case["fixture_after"])
    # the state as the kernel shows it: the fixture, or `fixture_after` once a command ran
    monkeypatch.setattr(md_reader, "snapshot", lambda *a, **kw: after if ran else snap)
    monkeypatch.setattr(MdInspector, "inspect",
                        lambda self, path: fake_device(path, kinds.get(path, "blank"), sizes.get(path)))
    monkeypatch.setattr(md_config, "default_path", lambda: CONF)
    conf_reads = []
    monkeypatch.setattr(md_layout, "read_text", lambda path: conf_reads.append(path) or files.get(path))
    monkeypatch.setattr("ansible_collections.strata.storage.plugins.module_utils.core.module_support.write_atomic",
                        lambda path, content, mode=0o644, keep_backups=0: written.update({path: content}))
    monkeypatch.setattr(md_layout.Waiter, "wait", lambda self, name, timeout, kernel=None: waits.append(name) or 0)
    args = dict(case["params"])
    if case.get("check_mode"):
        args["_ansible_check_mode"] = True
    args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(Exit) as exc:
            module_main()
    exc.value.result["_waits"] = waits
    exc.value.result["_conf_reads"] = conf_reads
    return exc.value.result, exc.value.failed, ran, reads, written


def check_case(module_main, case, monkeypatch):
    result, failed, ran, reads, written = run_case(module_main, case, monkeypatch)
    expect = case["expect"]
    assert failed == expect.get("failed", False), json.dumps(result, indent=1, default=str)
    if "msg" in expect:
        for fragment in ([expect["msg"]] if isinstance(expect["msg"], str) else expect["msg"]):
            assert fragment in result["msg"], result["msg"]
    planned = [a["cmd"] for a in result.get("actions", []) if "cmd" in a]
    assert planned == expect.get("commands", []), json.dumps(planned)
    if failed and "ran" in expect:     # a step failed half way: what ran, then what was undone
        assert ran == expect["ran"], json.dumps(ran)
        assert [e["cmd"] for e in result.get("rolled_back", [])] == expect.get("rolled_back", [])
    elif failed:
        assert ran == [] and written == {}, "a failed case must change nothing"
    else:
        assert result["changed"] == expect["changed"]
    if case.get("check_mode") or failed and "ran" not in expect:
        assert ran == [] and written == {}
    elif failed:
        assert written == {}
    else:
        assert ran == expect.get("commands", [])
        assert sorted(written) == sorted(expect.get("files", []))
    if case.get("check_mode") and "files" in expect:
        assert sorted(a["path"] for a in result["actions"] if "path" in a) == sorted(expect["files"])
    if "reads" in expect:           # the processes read, in order (e.g. [mdadm] = the one scan)
        assert [cmd[0] for cmd in reads] == expect["reads"], json.dumps(reads)
    has_arrays = bool(snap_arrays(case))
    scans = [cmd for cmd in reads if cmd == SCAN]
    if failed or not has_arrays and not ran:
        assert len(scans) <= 1
    elif not case.get("check_mode") and ran:
        assert len(scans) <= 3          # before, after the changes, after a wait
    elif case.get("check_mode"):
        assert len(scans) == (1 if has_arrays else 0)
    else:
        assert len(scans) == (1 if has_arrays else 0)
    assert len(result["_conf_reads"]) <= 1, "mdadm.conf is read once per run: %s" % result["_conf_reads"]
    if "notes" in expect:
        for fragment in expect["notes"]:
            assert any(fragment in note for note in result.get("notes", [])), result.get("notes")
    if "waits" in expect:
        assert result["_waits"] == expect["waits"]
    return result


def snap_arrays(case):
    return [a for a in md_snapshot(case.get("fixture", "empty"))["arrays"].values() if a["members"]]
