# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing files that hold DH-HMAC-CHAP secrets (/etc/nvmet/config.json, /etc/nvme/config.json):
0600, with 0600 copies (core/atomic.write_atomic keeps a copy no more open than the file)."""

from __future__ import annotations

from ansible_collections.strata.storage.plugins.module_utils.core import atomic

PRIVATE = 0o600


def write_private(path, content, mode=PRIVATE, keep_backups=3):
    """Write content to path durably (mode 0600 unless told); keep `keep_backups` older copies,
    none more open than the file. Returns True when the file changed."""
    return atomic.write_atomic(path, content, mode=mode, keep_backups=keep_backups)


def private_writer(path, content, mode):
    """A Runner writer (path, content, mode): 0600 files (secrets) with 0600 copies, none under /run;
    other files as core writes them."""
    if mode != PRIVATE:
        atomic.write_atomic(path, content, mode=mode, keep_backups=3)
        return
    write_private(path, content, mode=mode, keep_backups=3 if not path.startswith("/run/") else 0)
