# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one exception type of the collection.

Everything in module_utils raises StrataError; modules turn it into fail_json in one
place (module_support.run_module), so every failure carries the object, the command,
what the tool said and a hint in the same structured form.
"""

from __future__ import annotations


class StrataError(Exception):
    """A failure the user can act on.

    msg: one sentence naming the object/device and the reason.
    cmd/rc/stdout/stderr: the tool call that failed, when there is one.
    hint: what to do about it.
    details: any structured extra data worth returning (e.g. per-device reasons).
    """

    def __init__(self, msg, cmd=None, rc=None, stdout=None, stderr=None, hint=None, details=None):
        super().__init__(msg)
        self.msg = msg
        self.cmd = list(cmd) if cmd is not None else None
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.hint = hint
        self.details = details

    def fail_kwargs(self):
        """Keyword arguments for AnsibleModule.fail_json."""
        msg = self.msg
        if self.stderr:
            msg = "%s: %s" % (msg, self.stderr.strip())
        if self.hint:
            msg = "%s (%s)" % (msg, self.hint)
        out = {"msg": msg}
        if self.cmd is not None:
            out["cmd"] = self.cmd
        if self.rc is not None:
            out["rc"] = self.rc
        if self.stdout is not None:
            out["stdout"] = self.stdout
        if self.stderr is not None:
            out["stderr"] = self.stderr
        if self.details is not None:
            out["details"] = self.details
        return out
