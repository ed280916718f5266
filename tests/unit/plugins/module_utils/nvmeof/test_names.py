# -*- coding: utf-8 -*-
from __future__ import annotations

import base64
import struct
import zlib

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.nvmeof import names


def make_key(size=32, hh="01", crc_ok=True):
    key = bytes(range(size))
    crc = zlib.crc32(key) & 0xFFFFFFFF
    if not crc_ok:
        crc ^= 1
    return "DHHC-1:%s:%s:" % (hh, base64.b64encode(key + struct.pack("<I", crc)).decode())


@pytest.mark.parametrize("nqn", [
    "nqn.2014-08.org.example:capture.s1", "nqn.2014-08.com.example", "nqn.2023-12.io.strata:a:b:c",
    "nqn.2014-08.org.nvmexpress:uuid:af9d376e-421d-4271-bc71-1c561edbbae6", "nqn.2014-08.org.example:" + "x" * 190])
def test_valid_nqns(nqn):
    assert names.check_nqn(nqn) == nqn


@pytest.mark.parametrize("nqn,why", [
    ("", "is empty"),
    ("iqn.2003-01.org.linux-iscsi:x", "does not have the form"),
    ("nqn.14-08.org.example:x", "does not have the form"),
    ("nqn.2014-13.org.example:x", "has month 13"),
    ("nqn.2014-08.-bad.example:x", "does not have the form"),
    ("nqn.2014-08.org.example:has space", "white space"),
    ("nqn.2014-08.org.example:a/b", "'/'"),
    ("nqn.2014-08.org.nvmexpress.discovery", "discovery subsystem"),
    ("nqn.2014-08.org.nvmexpress:uuid:not-a-uuid", "is not a UUID"),
    ("nqn.2014-08.org.example:" + "x" * 200, "bytes long (at most 223)"),
])
def test_invalid_nqns_are_refused_with_the_reason(nqn, why):
    with pytest.raises(StrataError) as exc:
        names.check_nqn(nqn, "subsystem NQN")
    assert why in exc.value.msg and "nothing was changed" in exc.value.hint


@pytest.mark.parametrize("size", [32, 48, 64])
def test_dhchap_keys_with_a_good_crc_pass(size):
    key = make_key(size)
    assert names.check_dhchap_key(key, "key") == key


@pytest.mark.parametrize("key,why", [
    ("secret", "is not of the form"),
    ("DHHC-1:04:AAAA:", "is not of the form"),
    (make_key(16), "holds 20 bytes"),
    (make_key(32, crc_ok=False), "CRC that does not match"),
])
def test_bad_dhchap_keys_never_show_the_key(key, why):
    with pytest.raises(StrataError) as exc:
        names.check_dhchap_key(key, "DH-HMAC-CHAP key of host h")
    assert why in exc.value.msg
    assert key not in exc.value.msg and key not in (exc.value.hint or "")


def test_nsid_serial_model_uuid():
    assert names.check_nsid(1, "s") == 1
    for bad in (0, 0xFFFFFFFF, True, "1"):
        with pytest.raises(StrataError):
            names.check_nsid(bad, "s")
    assert names.check_ascii_attr("SN-1", "serial", 20) == "SN-1"
    for bad in ("", "x" * 21, "caf\u00e9"):
        with pytest.raises(StrataError):
            names.check_ascii_attr(bad, "serial", 20)
    assert names.check_uuid("11111111-2222-3333-4444-555555555555", "u") == "11111111-2222-3333-4444-555555555555"
    with pytest.raises(StrataError):
        names.check_uuid("zzz", "u")
