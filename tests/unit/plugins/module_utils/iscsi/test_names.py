# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.iscsi import names


@pytest.mark.parametrize("name", [
    "iqn.2026-01.com.example:storage.disk1", "iqn.1993-08.org.debian:01:8d286a45e3d7", "iqn.2003-01.org.linux-iscsi.host.x8664:sn.ab",
    "iqn.2026-12.example", "eui.02004567a425678d", "naa.52004567ba64678d", "naa.52004567ba64678d52004567ba64678d",
])
def test_valid_iscsi_names(name):
    assert names.check_iscsi_name(name) == name


@pytest.mark.parametrize("name, message", [
    ("", "is empty"), ("iqn.2026-13.com.example:x", "not a valid IQN"), ("iqn.26-01.com.example", "not a valid IQN"),
    ("iqn.2026-01.-bad.example", "not a valid IQN"), ("iqn.2026-01.com.example:has space", "not a valid IQN"),
    ("iqn.2026-01.com.example:under_score", "not a valid IQN"), ("IQN.2026-01.com.example", "lower case"),
    ("eui.02004567", "not a valid iSCSI name"), ("wwn.123", "not a valid iSCSI name"),
    ("iqn.2026-01.com.example:" + "x" * 220, "longer than 223 bytes"),
])
def test_invalid_iscsi_names(name, message):
    with pytest.raises(StrataError, match=message):
        names.check_iscsi_name(name)


def test_chap_rules_never_echo_the_secret():
    with pytest.raises(StrataError) as exc:
        names.check_chap({"userid": "u", "password": "elevenchars"}, "ACL x")
    assert "elevenchars" not in exc.value.msg and "shorter than 12" in exc.value.msg
    for bad, message in [({"userid": "u", "password": "has a space 123"}, "spaces"),
                         ({"userid": "u"}, "needs both"), ({"password": "twelve-chars"}, "needs both"),
                         ({"userid": "NULL", "password": "twelve-chars"}, "CHAP user name"),
                         ({"userid": "u", "password": "x" * 256}, "longer than 255"),
                         ({"userid": "u", "password": "twelve-chars", "mutual_userid": "t", "mutual_password": "twelve-chars"},
                          "must differ")]:
        with pytest.raises(StrataError, match=message):
            names.check_chap(bad, "ACL x")
    assert names.check_chap(None, "x") is None
    assert names.check_chap({"userid": "u", "password": "twelve-chars"}, "x")["mutual_userid"] is None


@pytest.mark.parametrize("text, want", [
    ("10.0.0.1", ("10.0.0.1", 3260)), ("10.0.0.1:3261", ("10.0.0.1", 3261)), ("[fe80::1]:3260", ("[fe80::1]", 3260)),
    ("::1", ("[::1]", 3260)), ("[2001:db8::0001]", ("[2001:db8::1]", 3260)),
])
def test_portals(text, want):
    assert names.parse_portal(text, "p") == want


@pytest.mark.parametrize("text, message", [
    ("0.0.0.0", "every address"), ("[::]:3260", "every address"), ("host.example", "not an IP address"),
    ("10.0.0.1:0", "out of range"), ("10.0.0.1:x", "not a number"), ("[::1]x", "ADDRESS"),
])
def test_bad_portals(text, message):
    with pytest.raises(StrataError, match=message):
        names.parse_portal(text, "p")
    assert names.parse_portal("0.0.0.0", "p", allow_any=True) == ("0.0.0.0", 3260)


@pytest.mark.parametrize("name, value, ok", [
    ("HeaderDigest", "CRC32C,None", True), ("HeaderDigest", "None,None", False), ("DataDigest", "crc32c", False),
    ("MaxConnections", "1", True), ("MaxConnections", "70000", False), ("ErrorRecoveryLevel", "3", False),
    ("InitialR2T", "Yes", True), ("InitialR2T", "yes", False), ("IFMarkInt", "Reject", True), ("IFMarkInt", "2048~8192", True),
    ("FirstBurstLength", "511", False), ("TargetAlias", "a" * 256, False), ("TargetAlias", "storage", True),
    ("AuthMethod", "CHAP,None", True), ("AuthMethod", "KRB5", False),
])
def test_parameter_values(name, value, ok):
    if ok:
        assert names.check_parameter(name, value, "TPG 1") == value
    else:
        with pytest.raises(StrataError, match="parameter %s" % name):
            names.check_parameter(name, value, "TPG 1")


def test_lio_wwid():
    assert names.lio_wwid("671aaf60-e776-4fd7-a553-945e791023a8") == "36001405671aaf60e7764fd7a553945e7"
    assert names.lio_wwid("ABCDEF") == "36001405abcdef" and names.lio_wwid("") is None and names.lio_wwid("xyz") is None


def test_numbers():
    assert names.check_lun(65535) == 65535
    for bad in (-1, 65536, True, "1"):
        with pytest.raises(StrataError):
            names.check_lun(bad)
    with pytest.raises(StrataError, match="mapped LUN number 256 is out of range") as exc:
        names.check_mapped_lun(256, "ACL x")
    assert "0 to 255" in exc.value.hint
    with pytest.raises(StrataError, match="out of range") as exc:
        names.check_tpg_tag(0)
    assert "1 to 65535" in exc.value.hint


@pytest.mark.parametrize("name, message", [
    # rtslib-fb 2.1.75 utils.normalize_wwn refuses these for LIO targets and ACLs
    ("iqn.2026-01.com:disk1", "second '.' after the date"), ("iqn.2026-12.example", "second '.' after the date"),
    ("naa.60014051c5c51a0000040008000000e1", "16 hex digits"), ("naa.6001405abcdef012", "starting with 1, 2 or 5"),
])
def test_names_lio_refuses(name, message):
    assert names.check_iscsi_name(name) == name     # valid iSCSI names (RFC 3720/3980) ...
    with pytest.raises(StrataError, match=message):  # ... that rtslib does not take
        names.check_lio_name(name)


@pytest.mark.parametrize("name", [
    "iqn.2026-01.com.example:storage.disk1", "iqn.2026-01.com:disk.1", "iqn.1993-08.org.debian:01:8d286a45e3d7",
    "naa.52004567ba64678d", "naa.1000000000000001", "eui.02004567a425678d",
])
def test_names_lio_takes(name):
    assert names.check_lio_name(name) == name


@pytest.mark.parametrize("path, plugin, message", [
    ("/srv/a,b.img", "fileio", "','"), ("/dev/x\nfd_dev_size=1", "block", "newline"),
    ("/srv/" + "x" * 251, "fileio", "longer than the 255 bytes"), ("/dev/" + "x" * 507, "block", "longer than the 511"),
])
def test_backstore_paths_the_kernel_would_cut(path, plugin, message):
    with pytest.raises(StrataError, match=message):
        names.check_backstore_path(path, plugin, "backstore x")


def test_backstore_paths_at_the_limit():
    assert names.check_backstore_path("/srv/" + "x" * 250, "fileio", "b")
    assert names.check_backstore_path("/dev/" + "x" * 506, "block", "b")
