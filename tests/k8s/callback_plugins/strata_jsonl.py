# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: every task result as one JSON line in $STRATA_RESULTS_FILE."""

from __future__ import annotations

DOCUMENTATION = """
name: strata_jsonl
type: aggregate
short_description: write every task result as a JSON line (tests only)
description:
  - Appends C({task, host, status, result}) per task result to the file named by the
    E(STRATA_RESULTS_FILE) environment variable. Used by tests/k8s/conftest.py.
requirements:
  - enabled via ANSIBLE_CALLBACKS_ENABLED=strata_jsonl
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "strata_jsonl"
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, result, status):
        path = os.environ.get("STRATA_RESULTS_FILE")
        if not path:
            return
        data = dict(result._result)
        data.pop("_ansible_no_log", None)
        if status == "failed":
            data.setdefault("failed", True)
        elif status == "skipped":
            data.setdefault("skipped", True)
        elif status == "unreachable":
            data.setdefault("unreachable", True)
        record = {"task": result._task.get_name(), "host": result._host.get_name(), "status": status,
                  "result": data}
        with open(path, "a") as handle:
            handle.write(json.dumps(record, default=str) + "\n")

    def v2_runner_on_ok(self, result):
        self._write(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._write(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._write(result, "unreachable")
