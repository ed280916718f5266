# -*- coding: utf-8 -*-
"""Durable writes: the content, the modes of the file, of its copies and of a new folder."""
from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core import atomic


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_writes_only_on_change_and_keeps_n_copies(tmp_path, umask_022):
    path = str(tmp_path / "a.conf")
    assert atomic.write_atomic(path, "v1\n", keep_backups=2)
    assert atomic.write_atomic(path, "v2\n", keep_backups=2)
    assert atomic.write_atomic(path, "v3\n", keep_backups=2)
    assert atomic.write_atomic(path, "v4\n", keep_backups=2)
    assert not atomic.write_atomic(path, "v4\n", keep_backups=2)
    assert [open(p).read() for p in (path, path + ".strata-bak.1", path + ".strata-bak.2")] == ["v4\n", "v3\n", "v2\n"]
    assert mode(path) == 0o644 and mode(path + ".strata-bak.1") == 0o644
    assert not [n for n in os.listdir(str(tmp_path)) if n.startswith(".")]    # no temp file left


def test_copies_of_a_secret_file_are_as_private_as_the_file(tmp_path, umask_022):
    """The umask (022) would make a plain copy 0644: anyone could read the old key."""
    path = str(tmp_path / "saveconfig.json")
    atomic.write_atomic(path, "key one\n", mode=0o600, keep_backups=3)
    atomic.write_atomic(path, "key two\n", mode=0o600, keep_backups=3)
    atomic.write_atomic(path, "key three\n", mode=0o600, keep_backups=3)
    assert mode(path) == 0o600
    assert mode(path + ".strata-bak.1") == 0o600 and mode(path + ".strata-bak.2") == 0o600
    assert open(path + ".strata-bak.2").read() == "key one\n"


def test_a_copy_keeps_the_old_files_narrower_mode(tmp_path, umask_022):
    path = str(tmp_path / "was-secret")
    atomic.write_atomic(path, "secret\n", mode=0o600)
    atomic.write_atomic(path, "public\n", mode=0o644, keep_backups=1)
    assert mode(path) == 0o644 and mode(path + ".strata-bak.1") == 0o600


def test_copies_left_more_open_are_closed_even_without_a_change(tmp_path, umask_022):
    path = str(tmp_path / "config.json")
    atomic.write_atomic(path, "a\n", mode=0o600, keep_backups=3)
    with open(path + ".strata-bak.2", "w") as handle:
        handle.write("old key\n")
    os.chmod(path + ".strata-bak.2", 0o644)
    assert not atomic.write_atomic(path, "a\n", mode=0o600, keep_backups=3)
    assert mode(path + ".strata-bak.2") == 0o600


def test_a_missing_folder_gets_the_folder_mode(tmp_path, umask_022):
    path = str(tmp_path / "private" / "record")
    atomic.write_atomic(path, "x\n", mode=0o600, folder_mode=0o700)
    assert mode(str(tmp_path / "private")) == 0o700 and open(path).read() == "x\n"
    atomic.write_atomic(str(tmp_path / "private" / "other"), "y\n")   # an existing folder is left as it is
    assert mode(str(tmp_path / "private")) == 0o700


def test_a_short_write_never_leaves_a_cut_copy(tmp_path, monkeypatch, umask_022):
    """write() may write less than asked (a disk filling up); the copy of the old content must
    be whole, or the write must fail with the old file untouched."""
    target = tmp_path / "conf"
    old = "x" * 5000 + "\n"
    atomic.write_atomic(str(target), old, mode=0o600)
    real_write = os.write

    def short_write(fd, data):
        return real_write(fd, bytes(data[:1000]))
    monkeypatch.setattr(atomic.os, "write", short_write)
    assert atomic.write_atomic(str(target), "new\n", mode=0o600, keep_backups=2)
    assert (tmp_path / "conf.strata-bak.1").read_text() == old

    def full_disk(fd, data):
        if len(data) <= 4000:
            raise OSError(28, "No space left on device")
        return real_write(fd, bytes(data[:1000]))
    monkeypatch.setattr(atomic.os, "write", full_disk)
    with pytest.raises(OSError):
        atomic.write_atomic(str(target), "newer\n", mode=0o600, keep_backups=2)
    assert target.read_text() == "new\n"
    assert not (tmp_path / "conf.strata-bak.1").exists()            # no cut copy left behind
    assert (tmp_path / "conf.strata-bak.2").read_text() == old
