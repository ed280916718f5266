# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Durable writes of files that hold secrets (saveconfig.json, open-iscsi node records).

The same steps as core/atomic.write_atomic (a temp file in the same folder created 0600,
fsync, rename, fsync the folder, only when the content changed, N older copies kept), with
one difference that matters for secrets: the older copies are written 0600 too, created
with O_EXCL, never through the process umask. (core/atomic.py's backups are created with
the default mode, 0644 under the usual umask: fine for multipath.conf, not for a file
holding CHAP secrets.)
"""

from __future__ import annotations

import os
import tempfile

PRIVATE = 0o600


def _read_bytes(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _copy_private(src, dst):
    data = _read_bytes(src)
    if data is None:
        return
    if os.path.lexists(dst):
        os.unlink(dst)
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _rotate(path, keep):
    if keep <= 0 or not os.path.exists(path):
        return
    for index in range(keep - 1, 0, -1):
        older = "%s.strata-bak.%d" % (path, index)
        if os.path.exists(older):
            os.replace(older, "%s.strata-bak.%d" % (path, index + 1))
    _copy_private(path, "%s.strata-bak.1" % path)


def write_private(path, content, keep_backups=3, mode=PRIVATE, folder_mode=0o700):
    """Write content durably with the given (private) mode; True when the file changed."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if _read_bytes(path) == data:
        if (os.stat(path).st_mode & 0o7777) != mode:
            os.chmod(path, mode)
            return True
        return False
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        os.makedirs(folder, mode=folder_mode)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=folder)   # 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        _rotate(path, keep_backups)
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


def writer(keep_backups):
    """A Runner file writer (path, content, mode) that keeps the backups private."""
    def write(path, content, mode):
        write_private(path, content, keep_backups=keep_backups, mode=mode)
    return write
