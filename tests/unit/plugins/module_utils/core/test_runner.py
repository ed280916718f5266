# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.runner import TOOL_ENV, Action, Runner


class FakeModule:
    def __init__(self, check_mode=False, results=None):
        self.check_mode = check_mode
        self.calls = []
        self.results = results or {}

    def run_command(self, cmd, check_rc=False, environ_update=None, data=None, binary_data=False):
        self.calls.append((cmd, environ_update))
        return self.results.get(cmd[0], (0, "out", ""))


def test_read_runs_in_check_mode_with_c_locale_and_is_recorded():
    module = FakeModule(check_mode=True)
    runner = Runner(module)
    result = runner.read(["lvm", "version"])
    assert result.stdout == "out"
    assert module.calls == [(["lvm", "version"], TOOL_ENV)]
    assert TOOL_ENV["LC_ALL"] == "C"
    assert runner.reads == [["lvm", "version"]]
    assert runner.actions == []


def test_change_is_only_recorded_in_check_mode():
    module = FakeModule(check_mode=True)
    runner = Runner(module)
    runner.execute(Action("make a PV", ["pvcreate", "/dev/vdb"]))
    assert module.calls == []
    assert runner.actions == [{"description": "make a PV", "cmd": ["pvcreate", "/dev/vdb"]}]


def test_change_runs_for_real_and_failure_names_command_and_stderr():
    module = FakeModule(results={"vgcreate": (5, "", "  Device /dev/vdb excluded by a filter.\n")})
    runner = Runner(module)
    runner.execute(Action("make a PV", ["pvcreate", "/dev/vdb"]))
    with pytest.raises(StrataError) as err:
        runner.execute(Action("create volume group data", ["vgcreate", "data", "/dev/vdb"]))
    kwargs = err.value.fail_kwargs()
    assert kwargs["cmd"] == ["vgcreate", "data", "/dev/vdb"]
    assert kwargs["rc"] == 5
    assert "create volume group data failed" in kwargs["msg"]
    assert "excluded by a filter" in kwargs["msg"]
    assert err.value.details["actions_done"][0]["cmd"] == ["pvcreate", "/dev/vdb"]


def test_unexpected_rc_of_a_read_raises():
    runner = Runner(FakeModule(results={"blkid": (4, "", "bad")}))
    with pytest.raises(StrataError, match="probing"):
        runner.read(["blkid", "-p", "/dev/x"], ok_rcs=(0, 2), what="probing /dev/x")
    assert Runner(FakeModule(results={"blkid": (2, "", "")})).read(["blkid"], ok_rcs=(0, 2)).rc == 2


def test_shell_strings_are_refused():
    with pytest.raises(TypeError):
        Runner(FakeModule()).read("lvs | grep x")


def test_file_actions_use_the_writer_and_are_skipped_in_check_mode():
    written = []
    action = Action("write profile", path="/etc/lvm/profile/p.profile", content="x", mode=0o644)
    Runner(FakeModule(check_mode=True)).execute(action, writer=lambda *a: written.append(a))
    assert written == []
    runner = Runner(FakeModule())
    runner.execute(action, writer=lambda *a: written.append(a))
    assert written == [("/etc/lvm/profile/p.profile", "x", 0o644)]
    assert runner.actions == [{"description": "write profile", "path": "/etc/lvm/profile/p.profile"}]
