# -*- coding: utf-8 -*-
"""The ZFS file writer: key files private (0600 in a 0700 folder, no old key kept), other
files with backups."""

from __future__ import annotations

import os

from ansible_collections.strata.storage.plugins.module_utils.zfs.actions import write_file


def test_a_key_file_gets_a_private_folder_and_no_backup_of_the_old_key(tmp_path):
    path = tmp_path / "keys" / "tank-secret.key"
    assert write_file(str(path), "first key material", 0o600) is True
    assert os.stat(path.parent).st_mode & 0o777 == 0o700
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert write_file(str(path), "second key material", 0o600) is True
    assert path.read_text() == "second key material"
    assert sorted(os.listdir(path.parent)) == ["tank-secret.key"]
    assert write_file(str(path), "second key material", 0o600) is False


def test_other_files_keep_backups_in_an_ordinary_folder(tmp_path):
    path = tmp_path / "conf" / "zfs.conf"
    write_file(str(path), "options zfs zfs_arc_max=1\n", 0o644)
    write_file(str(path), "options zfs zfs_arc_max=2\n", 0o644)
    assert os.stat(path.parent).st_mode & 0o777 == 0o755 & ~_umask()
    assert (tmp_path / "conf" / "zfs.conf.strata-bak.1").read_text() == "options zfs zfs_arc_max=1\n"


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
