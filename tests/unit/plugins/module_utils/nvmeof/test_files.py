# -*- coding: utf-8 -*-
from __future__ import annotations

import os
import stat

from ansible_collections.strata.storage.plugins.module_utils.nvmeof import files


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_backups_of_a_secret_file_stay_private(tmp_path):
    old = os.umask(0o022)
    try:
        path = str(tmp_path / "config.json")
        assert files.write_private(path, "v1 key-one\n")
        assert files.write_private(path, "v2 key-two\n")
        assert files.write_private(path, "v3\n")
        assert not files.write_private(path, "v3\n")
    finally:
        os.umask(old)
    assert open(path).read() == "v3\n" and mode(path) == 0o600
    assert open(path + ".strata-bak.1").read() == "v2 key-two\n"
    assert open(path + ".strata-bak.2").read() == "v1 key-one\n"
    assert mode(path + ".strata-bak.1") == 0o600 and mode(path + ".strata-bak.2") == 0o600


def test_readable_backups_left_by_an_older_writer_are_closed(tmp_path):
    path = str(tmp_path / "config.json")
    files.write_private(path, "a\n")
    with open(path + ".strata-bak.1", "w") as handle:
        handle.write("old key\n")
    os.chmod(path + ".strata-bak.1", 0o644)
    files.write_private(path, "a\n")
    assert mode(path + ".strata-bak.1") == 0o600


def test_run_files_keep_no_copies(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(files, "write_private", lambda path, content, mode, keep_backups: calls.append(keep_backups))
    files.private_writer("/run/strata-nvme/connect.json", "x", 0o600)
    files.private_writer("/etc/nvme/config.json", "x", 0o600)
    assert calls == [0, 3]
    plain = []
    monkeypatch.setattr(files.atomic, "write_atomic", lambda path, content, mode, keep_backups: plain.append(mode))
    files.private_writer("/etc/nvme/hostnqn", "x", 0o644)
    assert plain == [0o644] and calls == [0, 3]
