# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Durable config writes.

A temp file in the same folder (created 0600, so a secret is never world-readable even for
a moment), fsync, chmod to the final mode, rename over the target, fsync the folder. Only
when the content changed; the previous version is kept as `<name>.strata-bak.N` (N backups).
A full disk fails the write before the rename, so the old file stays whole.

A backup holds what the file held, secrets included: it is created with no more access than
both the old file and the new mode allow (a 0600 file's copies are 0600, never the umask's
0644), and older copies that allow more are closed on every call.
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


def _backup_names(path, keep):
    return ["%s.strata-bak.%d" % (path, index) for index in range(1, keep + 2)]


def _close_backups(path, keep, mode):
    """Take away from existing copies any access the file's mode does not give."""
    for older in _backup_names(path, keep):
        if os.path.exists(older):
            current = os.stat(older).st_mode & 0o777
            if current & ~mode:
                os.chmod(older, current & mode)


def _copy_backup(src, dst, mode):
    with open(src, "rb") as handle:
        data = handle.read()
    if os.path.lexists(dst):
        os.unlink(dst)
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)        # the umask never widens or narrows it
        view = memoryview(data)
        while view:                # write() may write less (a disk filling up): the rest, or its error
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.unlink(dst)             # no cut copy is left to be taken for a whole one
        raise
    finally:
        os.close(fd)


def _rotate_backups(path, keep, mode):
    if keep <= 0 or not os.path.exists(path):
        return
    for index in range(keep - 1, 0, -1):
        older = "%s.strata-bak.%d" % (path, index)
        if os.path.exists(older):
            os.replace(older, "%s.strata-bak.%d" % (path, index + 1))
    # no more access than the old file had and the new mode gives
    _copy_backup(path, "%s.strata-bak.1" % path, os.stat(path).st_mode & mode & 0o777)


def write_atomic(path, content, mode=0o644, keep_backups=0, folder_mode=0o755):
    """Write content to path durably; return True when the file changed. A missing folder is
    created with folder_mode."""
    if keep_backups > 0:
        _close_backups(path, keep_backups, mode)
    if read_text(path) == content:
        if (os.stat(path).st_mode & 0o7777) != mode:
            os.chmod(path, mode)
            return True
        return False
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, mode=folder_mode)
    except FileExistsError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=folder)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        _rotate_backups(path, keep_backups, mode)
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
