# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core import module_support
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.core.runner import TOOL_ENV, Action, Runner


class FakeModule:
    def __init__(self, check_mode=False, results=None, missing=()):
        self.check_mode = check_mode
        self.missing = set(missing)
        self.calls = []
        self.results = results or {}

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return None if name in self.missing else "/usr/sbin/" + name

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


# --------------------------------------------------------------------------- missing tools

def test_a_missing_tool_is_one_sentence_naming_its_package():
    runner = Runner(FakeModule(missing=["lvm", "mkfs.xfs"]))
    with pytest.raises(StrataError) as err:
        runner.read(["lvm", "fullreport"])
    assert err.value.msg == "lvm is not installed on this host: it comes with the lvm2 package"
    assert "install lvm2 on the target" in err.value.hint
    assert runner.reads == [] and runner.module.calls == []
    with pytest.raises(StrataError, match="mkfs.xfs is not installed on this host: it comes with the xfsprogs"):
        runner.execute(Action("mkfs", ["mkfs.xfs", "/dev/x"]))
    with pytest.raises(StrataError, match="^frobnicate is not installed on this host$"):
        Runner(FakeModule(missing=["frobnicate"])).read(["frobnicate"])


def test_execute_all_looks_up_every_tool_before_the_first_runs_and_in_check_mode():
    """A tool missing for the third action (or for an undo) fails the plan before the first
    action runs, and check mode says so too instead of approving the plan."""
    plan = [_undoable("a"), Action("mkfs", ["mkfs.xfs", "/dev/vg/a"])]
    for check_mode in (False, True):
        runner = Runner(FakeModule(missing=["mkfs.xfs"], check_mode=check_mode))
        with pytest.raises(StrataError, match="mkfs.xfs is not installed on this host"):
            runner.execute_all(plan)
        assert runner.actions == [] and runner.module.calls == [] and runner.undo_stack == []
    runner = Runner(FakeModule(missing=["lvremove"]))
    with pytest.raises(StrataError, match="lvremove is not installed"):
        runner.execute_all([_undoable("b")])
    assert runner.module.calls == []


def test_each_tool_is_looked_up_once():
    module = FakeModule()
    looked = []
    module.get_bin_path = lambda name, required=False, opt_dirs=None: looked.append(name) or "/sbin/" + name
    runner = Runner(module)
    for _attempt in range(3):
        runner.read(["lvm", "version"])
    assert looked == ["lvm"]


# --------------------------------------------------------------------------- rollback

def _undoable(name):
    return Action("create " + name, ["lvcreate", name], undo=Action("remove " + name, ["lvremove", name]))


def test_rollback_undoes_what_this_call_created_newest_first():
    module = FakeModule()
    runner = Runner(module)
    runner.execute(_undoable("a"))
    runner.execute(Action("grow b", ["lvextend", "b"]))          # no undo: existed before
    runner.execute(_undoable("c"))
    assert runner.rollback() == (True, None)
    assert [call[0] for call in module.calls][-2:] == [["lvremove", "c"], ["lvremove", "a"]]
    assert [e["cmd"] for e in runner.rolled_back] == [["lvremove", "c"], ["lvremove", "a"]]
    assert runner.undo_stack == []


def test_rollback_stops_at_the_first_undo_that_fails():
    module = FakeModule()
    runner = Runner(module)
    runner.execute(_undoable("a"))
    runner.execute(_undoable("c"))
    module.results["lvremove"] = (5, "", "  Logical volume vg/c in use.")
    complete, error = runner.rollback()
    assert not complete and "Logical volume vg/c in use." in error
    assert runner.rolled_back == [{"description": "remove c", "cmd": ["lvremove", "c"],
                                   "failed": "Logical volume vg/c in use."}]
    assert [u.cmd for u in runner.undo_stack] == [["lvremove", "a"]]     # left alone, reported


def test_an_undo_list_runs_in_its_order_and_best_effort_steps_do_not_stop_it():
    """A create that can leave something behind when it fails itself (mdadm --create) stacks
    its undo first; an undo step that finds nothing to undo is reported and the rollback goes on."""
    module = FakeModule()
    runner = Runner(module)
    runner.execute(_undoable("a"))
    create = Action("create md0", ["mdadm", "--create", "md0"], undo_if_failed=True,
                    undo=[Action("stop md0", ["mdadm", "--stop", "md0"], best_effort=True),
                          Action("zero d1", ["wipefs", "d1"], best_effort=True)])
    module.results["mdadm"] = (1, "", "mdadm: RUN_ARRAY failed")
    with pytest.raises(StrataError):
        runner.execute(create)
    assert [u.cmd for u in runner.undo_stack] == [["lvremove", "a"], ["wipefs", "d1"], ["mdadm", "--stop", "md0"]]
    complete, error = runner.rollback()            # --stop fails too: nothing was started
    assert (complete, error) == (True, None)
    assert [(e["cmd"][0], "nothing_to_undo" in e) for e in runner.rolled_back] == [
        ("mdadm", True), ("wipefs", False), ("lvremove", False)]
    assert not [e for e in runner.rolled_back if "failed" in e]


def test_an_undo_stacked_after_success_is_not_stacked_when_the_action_fails():
    module = FakeModule(results={"lvcreate": (5, "", "  Insufficient free space")})
    runner = Runner(module)
    with pytest.raises(StrataError):
        runner.execute(_undoable("a"))
    assert runner.undo_stack == []


def test_check_mode_and_failed_actions_stack_nothing():
    runner = Runner(FakeModule(check_mode=True))
    runner.execute(_undoable("a"))
    assert runner.undo_stack == []
    runner = Runner(FakeModule(results={"lvcreate": (5, "", "no space")}))
    with pytest.raises(StrataError):
        runner.execute(_undoable("a"))
    assert runner.undo_stack == []


class AnsibleLikeModule(FakeModule):
    """exit_json/fail_json end the module with SystemExit, as AnsibleModule's do."""
    check_mode = False
    _diff = False

    def __init__(self, **kw):
        FakeModule.__init__(self, **kw)
        self.result = None

    def warn(self, text):
        pass

    def exit_json(self, **result):
        self.result = dict(result, failed=False)
        raise SystemExit(0)

    def fail_json(self, **result):
        self.result = dict(result, failed=True)
        raise SystemExit(1)


def test_run_module_rolls_back_and_reports_on_failure():
    module = AnsibleLikeModule(results={"mkfs.ext4": (1, "", "mkfs.ext4: I/O error")})

    def body(mod, runner):
        runner.execute(Action("create a PV on /dev/vdb", ["pvcreate", "/dev/vdb"],
                              undo=Action("remove the label", ["pvremove", "/dev/vdb"])))
        runner.execute(_undoable("vg/a"))
        runner.execute(Action("make a filesystem", ["mkfs.ext4", "/dev/vg/a"]))

    with pytest.raises(SystemExit):
        module_support.run_module(module, body)
    result = module.result
    assert result["failed"] and "make a filesystem failed" in result["msg"]
    assert "what this run had created was removed again: remove vg/a; remove the label" in result["msg"]
    assert [e["cmd"] for e in result["rolled_back"]] == [["lvremove", "vg/a"], ["pvremove", "/dev/vdb"]]


def test_run_module_after_success_undoes_nothing():
    module = AnsibleLikeModule()

    def body(mod, runner):
        runner.execute(_undoable("vg/a"))
        module_support.finish(mod, runner, Plan(actions=[1]))

    with pytest.raises(SystemExit):
        module_support.run_module(module, body)
    assert not module.result["failed"] and "rolled_back" not in module.result
    assert [call[0] for call in module.calls] == [["lvcreate", "vg/a"]]


def test_run_module_rolls_back_after_an_unexpected_exception():
    module = AnsibleLikeModule()

    def body(mod, runner):
        runner.execute(_undoable("vg/a"))
        raise KeyError("a bug")

    with pytest.raises(SystemExit):
        module_support.run_module(module, body)
    assert module.result["failed"] and module.result["msg"].startswith("internal error: KeyError")
    assert [e["cmd"] for e in module.result["rolled_back"]] == [["lvremove", "vg/a"]]
