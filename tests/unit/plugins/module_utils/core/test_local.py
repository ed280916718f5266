# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The timer's stand-in for AnsibleModule.run_command: output, exit code, stdin and env."""

from __future__ import annotations

from ansible_collections.strata.storage.plugins.module_utils.core.local import LocalModule


def test_runs_the_command_and_returns_rc_stdout_stderr():
    rc, out, err = LocalModule().run_command(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (rc, out, err) == (3, "out\n", "err\n")


def test_passes_text_and_bytes_on_stdin():
    module = LocalModule()
    assert module.run_command(["cat"], data="key material")[1] == "key material"
    assert module.run_command(["cat"], data=b"\x00raw")[1] == "\x00raw"


def test_environment_update_reaches_the_command():
    rc, out, _err = LocalModule().run_command(["sh", "-c", "echo $STRATA_X"], environ_update={"STRATA_X": "y"})
    assert (rc, out) == (0, "y\n")


def test_check_mode_is_kept():
    assert LocalModule(check_mode=True).check_mode is True
