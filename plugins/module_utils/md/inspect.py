# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The core device inspector, keeping the raw `blkid -p` values too.

md needs to know WHICH superblock a device carries (an old member of this very array can
be re-added or assembled; anything else is a signature the guard refuses), so the values
of the one `blkid -p` call the inspector makes are kept on the DeviceInfo as `.probe`
(TYPE, UUID, LABEL, ...). No second process.
"""

from __future__ import annotations

from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInspector, parse_blkid_export


class _Tap:
    """A Runner stand-in that remembers the output of the last read."""

    def __init__(self, runner):
        self.runner = runner
        self.last = None

    def read(self, cmd, **kwargs):
        result = self.runner.read(cmd, **kwargs)
        self.last = result.stdout
        return result


class MdInspector(DeviceInspector):
    def __init__(self, runner, **kwargs):
        self._tap = _Tap(runner)
        super().__init__(self._tap, **kwargs)
        self._seen = {}

    def inspect(self, path):
        """DeviceInfo plus .probe (blkid's values); each path is probed once per run."""
        if path not in self._seen:
            self._tap.last = None
            info = super().inspect(path)
            info.probe = parse_blkid_export(self._tap.last) if self._tap.last else {}
            self._seen[path] = info
        return self._seen[path]

    def forget(self):
        self._seen.clear()
