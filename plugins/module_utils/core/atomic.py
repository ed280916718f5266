# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Durable config writes.

A temp file in the same folder (created 0600, so a secret is never world-readable even for
a moment), fsync, chmod to the final mode, rename over the target, fsync the folder. Only
when the content changed; the previous version is kept as `<name>.strata-bak.N` (N backups).
A full disk fails the write before the rename, so the old file stays whole.
"""

from __future__ import annotations

import os
import tempfile


def read_text(path):
    """The file's content, or None when it does not exist."""
    try:
        with open(path) as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _rotate_backups(path, keep):
    if keep <= 0 or not os.path.exists(path):
        return
    for index in range(keep - 1, 0, -1):
        older = "%s.strata-bak.%d" % (path, index)
        if os.path.exists(older):
            os.replace(older, "%s.strata-bak.%d" % (path, index + 1))
    with open(path, "rb") as src, open("%s.strata-bak.1" % path, "wb") as dst:
        dst.write(src.read())


def write_atomic(path, content, mode=0o644, keep_backups=0):
    """Write content to path durably; return True when the file changed."""
    if read_text(path) == content:
        if (os.stat(path).st_mode & 0o7777) != mode:
            os.chmod(path, mode)
            return True
        return False
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=folder)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        _rotate_backups(path, keep_backups)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return True
