# -*- coding: utf-8 -*-
"""core/localhost: optional file reads and the local-address test every exporting module uses."""
from __future__ import annotations

from ansible_collections.strata.storage.plugins.module_utils.core.localhost import is_local_address, read_optional


def test_read_optional_returns_the_text_or_the_default(tmp_path):
    path = tmp_path / "attr"
    path.write_text("1\n")
    assert read_optional(str(path)) == "1\n"
    assert read_optional(str(tmp_path / "missing")) is None
    assert read_optional(str(tmp_path / "missing"), default="") == ""
    assert read_optional(str(tmp_path)) is None            # a folder: IsADirectoryError


def test_local_addresses_and_foreign_ones():
    assert is_local_address("127.0.0.1")
    assert not is_local_address("192.0.2.99")              # TEST-NET-1: never on a host
    if "0" * 31 + "1" in (read_optional("/proc/net/if_inet6") or ""):     # ::1 is configured
        assert is_local_address("[::1]") and is_local_address("::1")
