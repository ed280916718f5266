# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Durable writes of files that hold secrets (saveconfig.json, open-iscsi node records): 0600,
a missing folder 0700, older copies 0600 (core/atomic.write_atomic keeps a copy no more open
than the file)."""

from __future__ import annotations

from ansible_collections.strata.storage.plugins.module_utils.core import atomic

PRIVATE = 0o600


def write_private(path, content, keep_backups=3, mode=PRIVATE, folder_mode=0o700):
    """Write content durably with the given (private) mode; True when the file changed."""
    return atomic.write_atomic(path, content, mode=mode, keep_backups=keep_backups, folder_mode=folder_mode)


def writer(keep_backups):
    """A Runner file writer (path, content, mode) that keeps the backups private."""
    def write(path, content, mode):
        write_private(path, content, keep_backups=keep_backups, mode=mode)
    return write
