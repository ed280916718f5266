# -*- coding: utf-8 -*-
"""nfs_export's main() against NFS states captured from the VM: the files and the live table are
served from the capture, file writes and commands are recorded."""
from __future__ import annotations

import json
import os

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.strata.storage.plugins.module_utils.nfs import exports
from ansible_collections.strata.storage.plugins.modules import nfs_export
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.nfs.nfs_fixtures import snapshots
from ansible_collections.strata.storage.tests.unit.plugins.modules.harness import Exit

HERE = os.path.dirname(__file__)


def load_cases():
    with open(os.path.join(HERE, "nfs_export_cases.yml")) as handle:
        return [pytest.param(case, id=case["id"]) for case in yaml.safe_load(handle)]


def run(case, monkeypatch):
    before = snapshots()[case.get("snapshot", "applied")]
    after = snapshots()[case.get("after_snapshot", case.get("snapshot", "applied"))]
    extra = dict(case.get("files") or {})
    rec = {"ran": [], "reads": [], "written": {}, "removed": [], "state_reads": 0}

    def fake_files(snap):
        files = dict(snap["files"], **extra)
        return dict((k, v) for k, v in files.items() if v is not None)

    def read(path):
        snap = before if rec["state_reads"] <= 1 else after
        files = fake_files(snap)
        if path in files:
            return files[path]
        if path == exports.ETAB:
            return snap["etab"]
        if path == exports.KERNEL_EXPORTS:
            return snap["kernel"]
        return None

    def globber(pattern):
        snap = before if rec["state_reads"] <= 1 else after
        return sorted(p for p in fake_files(snap) if p.startswith(exports.EXPORTS_D + "/") and p.endswith(".exports"))

    real_read_state = exports.read_state

    def read_state(runner, *a, **k):
        rec["state_reads"] += 1
        return real_read_state(runner, *a, **k)

    def run_command(self, cmd, check_rc=False, environ_update=None, data=None, binary_data=False, **kw):
        rec["ran"].append(cmd)
        failure = (case.get("fail") or {}).get(cmd[0])
        if failure and failure.get("times", 1) > len([c for c in rec["ran"] if c[0] == cmd[0]]) - 1:
            return failure.get("rc", 1), "", failure.get("stderr", "failed (test)")
        return 0, "", ""

    def exit_json(self, **result):
        raise Exit(result, False)

    def fail_json(self, **result):
        raise Exit(result, True)

    rec["warnings"] = []
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.warn", lambda self, text: rec["warnings"].append(text))
    monkeypatch.setattr(exports, "_read", read)
    monkeypatch.setattr(exports.glob, "glob", globber)
    monkeypatch.setattr(exports, "read_state", read_state)
    monkeypatch.setattr(exports, "set_aside", rec["removed"].append)
    monkeypatch.setattr(exports.os.path, "isdir", lambda p: p not in (case.get("missing") or []))
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.run_command", run_command)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.get_bin_path",
                        lambda self, name, required=False, opt_dirs=None: "/usr/sbin/" + name)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.exit_json", exit_json)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json)
    monkeypatch.setattr("ansible_collections.strata.storage.plugins.module_utils.core.module_support.write_atomic",
                        lambda path, content, mode=0o644, keep_backups=0: rec["written"].update({path: content}))
    args = dict(case["params"])
    if case.get("check_mode"):
        args["_ansible_check_mode"] = True
    args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(Exit) as exc:
            nfs_export.main()
    rec["result"], rec["failed"] = exc.value.result, exc.value.failed
    return rec


@pytest.mark.parametrize("case", load_cases())
def test_nfs_export_case(case, monkeypatch):
    rec = run(case, monkeypatch)
    result, expect = rec["result"], case["expect"]
    dump = json.dumps(result, indent=1, default=str)
    assert rec["failed"] == expect.get("failed", False), dump
    for fragment in ([expect["msg"]] if isinstance(expect.get("msg"), str) else expect.get("msg", [])):
        assert fragment in result["msg"], dump
    actions = [a.get("cmd") or (["remove", a["path"]] if a.get("remove") else ["write", a["path"]])
               for a in result.get("actions", [])]
    assert actions == expect.get("actions", []), json.dumps(actions)
    if "rolled_back" in expect:
        assert [e["cmd"] for e in result.get("rolled_back", [])] == expect["rolled_back"], dump
        return
    if rec["failed"] or case.get("check_mode"):
        assert rec["ran"] == [] and rec["written"] == {} and rec["removed"] == []
    else:
        assert result["changed"] == expect["changed"]
        assert rec["ran"] == [a for a in expect.get("actions", []) if a[0] not in ("write", "remove")]
    for path, text in (expect.get("written") or {}).items():
        assert rec["written"][path] == text
    if not rec["failed"]:
        # no process reads anything: the files and the live table are read from Python, once, and once
        # more after a change
        assert [r[:2] for r in result["reads"]] == [["file", "read"]] * (2 if rec["ran"] else 1)
    for fragment in expect.get("warning_fragments", []):
        assert any(fragment in w for w in rec["warnings"]), rec["warnings"]
    if "warning_fragments" not in expect and not rec["failed"]:
        assert rec["warnings"] == [], rec["warnings"]
