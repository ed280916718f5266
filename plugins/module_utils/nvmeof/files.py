# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing files that hold DH-HMAC-CHAP secrets (/etc/nvmet/config.json, /etc/nvme/config.json).

core/atomic.write_atomic writes the file itself through a 0600 temp file, but copies the
previous version to `<name>.strata-bak.1` with a plain open(), so a backup of a 0600 file gets
the process umask (0644 under the usual 022) and anyone on the host could read old keys. Here
the backups are made (and kept) 0600 first, then write_atomic writes the file without
backups of its own.
"""

from __future__ import annotations

import os

from ansible_collections.strata.storage.plugins.module_utils.core import atomic

PRIVATE = 0o600


def _copy_private(src, dst):
    with open(src, "rb") as handle:
        data = handle.read()
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    try:
        os.fchmod(fd, PRIVATE)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private(path, content, mode=PRIVATE, keep_backups=3):
    """Write content to path durably (mode 0600 unless told); keep `keep_backups` older copies,
    each 0600. Returns True when the file changed."""
    current = atomic.read_text(path)
    for index in range(1, keep_backups + 2):
        older = "%s.strata-bak.%d" % (path, index)
        if os.path.exists(older) and (os.stat(older).st_mode & 0o777) != PRIVATE:
            os.chmod(older, PRIVATE)          # copies an older writer left readable
    if current is not None and current != content and keep_backups > 0:
        for index in range(keep_backups - 1, 0, -1):
            older = "%s.strata-bak.%d" % (path, index)
            if os.path.exists(older):
                os.replace(older, "%s.strata-bak.%d" % (path, index + 1))
        _copy_private(path, "%s.strata-bak.1" % path)
    return atomic.write_atomic(path, content, mode=mode, keep_backups=0)


def private_writer(path, content, mode):
    """A Runner writer (path, content, mode): 0600 files (secrets) with 0600 copies, none under /run;
    other files as core writes them."""
    if mode != PRIVATE:
        atomic.write_atomic(path, content, mode=mode, keep_backups=3)
        return
    write_private(path, content, mode=mode, keep_backups=3 if not path.startswith("/run/") else 0)
