# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run storage tools: argv lists only, C locale, check-mode aware, every call recorded.

Two kinds of calls:
- read(): runs in every mode (it changes nothing) and is recorded in `reads`;
- change(): recorded in `actions`; in check mode it is not run, so check mode and a real
  run report the same `actions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError

# C locale so we parse English; LVM warns on fds Ansible leaves open, which would land in
# stderr and in our error messages for nothing.
TOOL_ENV = {
    "LC_ALL": "C",
    "LANG": "C",
    "LVM_SUPPRESS_FD_WARNINGS": "1",
}


@dataclass
class Result:
    cmd: list
    rc: int
    stdout: str
    stderr: str


@dataclass
class Action:
    """One planned change: a command, or a file write (path + content), with a description.
    Only the description and the command or path are ever reported, never file content."""

    description: str
    cmd: list = None
    path: str = None
    content: str = None
    mode: int = 0o644

    def report(self):
        out = {"description": self.description}
        if self.cmd is not None:
            out["cmd"] = list(self.cmd)
        if self.path is not None:
            out["path"] = self.path
        return out


@dataclass
class Runner:
    """Wraps AnsibleModule.run_command. `module` needs run_command and check_mode."""

    module: object
    reads: list = field(default_factory=list)
    actions: list = field(default_factory=list)

    @property
    def check_mode(self):
        return bool(getattr(self.module, "check_mode", False))

    def _run(self, cmd, data=None):
        if isinstance(cmd, str):
            raise TypeError("Runner takes argv lists, never shell strings")
        cmd = [str(part) for part in cmd]
        rc, out, err = self.module.run_command(
            cmd, check_rc=False, environ_update=TOOL_ENV, data=data, binary_data=data is not None
        )
        return Result(cmd=cmd, rc=rc, stdout=out, stderr=err)

    def read(self, cmd, ok_rcs=(0,), what=None):
        """Run a command that changes nothing; raise StrataError on an unexpected rc."""
        result = self._run(cmd)
        self.reads.append(result.cmd)
        if result.rc not in ok_rcs:
            raise StrataError(
                "%s failed" % (what or "'%s'" % " ".join(result.cmd)),
                cmd=result.cmd, rc=result.rc, stdout=result.stdout, stderr=result.stderr,
            )
        return result

    def execute(self, action, writer=None):
        """Carry out one Action (or only record it in check mode)."""
        self.actions.append(action.report())
        if self.check_mode:
            return None
        if action.cmd is not None:
            result = self._run(action.cmd)
            if result.rc != 0:
                raise StrataError(
                    "%s failed" % action.description,
                    cmd=result.cmd, rc=result.rc, stdout=result.stdout, stderr=result.stderr,
                    details={"actions_done": self.actions[:-1]},
                )
            return result
        if action.path is not None:
            if writer is None:
                raise StrataError("no writer given for %s" % action.path)
            writer(action.path, action.content, action.mode)
            return None
        raise StrataError("action '%s' has neither a command nor a file" % action.description)

    def execute_all(self, actions, writer=None):
        for action in actions:
            self.execute(action, writer=writer)
