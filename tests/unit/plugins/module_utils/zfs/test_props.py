# -*- coding: utf-8 -*-
"""ZFS names, sizes and property values, checked as OpenZFS 2.1 checks them."""
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.zfs import props


@pytest.mark.parametrize("text, value", [
    ("4096", 4096), ("512K", 524288), ("10G", 10 * 1024 ** 3), ("10GB", 10 * 1024 ** 3), ("10gib", 10 * 1024 ** 3),
    ("1.5T", int(1.5 * 1024 ** 4)), ("0", 0), ("1B", 1),
])
def test_sizes_as_zfs_reads_them(text, value):
    assert props.parse_size(text) == value


@pytest.mark.parametrize("text", ["10 G", "G", "1BB", "1BiB", "10X", "-1G", "ten"])
def test_bad_sizes(text):
    with pytest.raises(StrataError):
        props.parse_size(text)


@pytest.mark.parametrize("name", ["tank", "Tank2", "a_b-c.d:e f", "log2", "logs"])
def test_good_pool_names(name):
    assert props.check_pool_name(name) == name
    assert props.check_pool_name(name, creating=True) == name


@pytest.mark.parametrize("name, why", [
    ("2tank", "begin with a letter"), ("mirror", "reserved"), ("raidz3x", "reserved"), ("spares", "reserved"),
    ("log", "reserved"), ("draid1", "reserved"), ("ta/nk", "invalid characters"), ("", "empty"),
])
def test_bad_pool_names(name, why):
    with pytest.raises(StrataError, match=why):
        props.check_pool_name(name, creating=True)


@pytest.mark.parametrize("name", ["raidzilla", "mirrors", "spare1", "draidpool", "log"])
def test_existing_pools_keep_names_the_create_rules_came_too_late_for(name):
    # zpool_name_valid checks the prefixes only when isopen is false (create); pool_namecheck,
    # which every existing pool and dataset name passes, refuses just mirror, raidz and draid
    assert props.check_pool_name(name) == name
    assert props.check_dataset_name(name + "/data") == name + "/data"
    with pytest.raises(StrataError, match="reserved for new pools"):
        props.check_pool_name(name, creating=True)


@pytest.mark.parametrize("name", ["mirror", "raidz", "draid"])
def test_vdev_keywords_are_never_pool_names(name):
    with pytest.raises(StrataError, match="reserved"):
        props.check_pool_name(name)


@pytest.mark.parametrize("name, kind, why", [
    ("tank/a@b", "filesystem", "must not contain '@'"),
    ("tank/a", "snapshot", "exactly one '@'"),
    ("tank/a@b@c", "snapshot", "exactly one '@'"),
    ("tank/a@", "snapshot", "empty snapshot name"),
    ("tank//a", "filesystem", "empty component"),
    ("tank/./a", "filesystem", "'.' component"),
    ("tank/a/", "filesystem", "trailing slash"),
    ("/tank/a", "filesystem", "leading slash"),
    ("tank/a%b", "filesystem", "'%'"),
    ("tank/a*", "filesystem", "invalid characters"),
    ("tank/a@b/c", "snapshot", "'/' after"),
    ("tank/" + "a" * 260, "filesystem", "too long"),
    ("tank" + "/a" * 50, "filesystem", "nested deeper"),
])
def test_bad_dataset_names(name, kind, why):
    with pytest.raises(StrataError, match=why):
        props.check_dataset_name(name, kind)


def test_good_dataset_names():
    for name, kind in [("tank/a b/c-d.e:f", "filesystem"), ("tank/a@snap_1", "snapshot"), ("tank/a#bm", "bookmark")]:
        assert props.check_dataset_name(name, kind) == name


def test_aliases_and_canonical_values():
    assert props.dataset_prop_name("compress") == "compression"
    assert props.dataset_prop_name("recsize") == "recordsize"
    assert props.check_dataset_property("xattr", "dir", "filesystem")[2] == "on"
    assert props.check_dataset_property("compression", "gzip-6", "filesystem")[2] == "gzip"
    assert props.check_dataset_property("atime", False, "filesystem")[1] == "off"
    assert props.same_value("xattr", "on", "on")
    assert props.same_value("quota", 0, "0")
    assert props.same_value("filesystem_limit", props.UINT64_MAX, "18446744073709551615")


@pytest.mark.parametrize("name, value, dstype, why", [
    ("compresion", "lz4", "filesystem", "did you mean compression"),
    ("used", "1G", "filesystem", "read-only"),
    ("quota", "1G", "volume", "does not apply to a volume"),
    ("volblocksize", "8K", "filesystem", "does not apply to a filesystem"),
    ("compression", "fast", "filesystem", "not a valid value"),
    ("recordsize", "2M", "filesystem", "power of 2"),
    ("volblocksize", "3K", "volume", "power of 2"),
    ("special_small_blocks", "1000", "filesystem", "zero or a power of 2"),
    ("mountpoint", "relative/path", "filesystem", "absolute path"),
    ("keylocation", "file://relative", "filesystem", "file:///absolute"),
    ("copies", "4", "filesystem", "not a valid value"),
    ("Com.Example:x", "1", "filesystem", "invalid user property name"),
    ("pbkdf2iters", "1000", "filesystem", "at least 100000"),
    ("filesystem_limit", "many", "filesystem", "a count or 'none'"),
    ("iscsioptions", "x", "volume", "internal"),
    ("compression", "lz4", "snapshot", "does not apply to a snapshot"),
])
def test_bad_properties(name, value, dstype, why):
    with pytest.raises(StrataError, match=why):
        props.check_dataset_property(name, value, dstype)


def test_user_properties():
    assert props.check_dataset_property("com.example:owner", "ops", "snapshot") == ("com.example:owner", "ops", "ops")
    with pytest.raises(StrataError, match="longer than"):
        props.check_dataset_property("com.example:x", "v" * 9000, "filesystem")


def test_duplicate_through_an_alias():
    with pytest.raises(StrataError, match="twice"):
        props.check_dataset_properties({"compress": "lz4", "compression": "lz4"}, "filesystem")


@pytest.mark.parametrize("name, value, creating, why", [
    ("ashift", "17", True, "0 \\(auto\\) or 9 to 16"),
    ("readonly", "on", True, "imported"),
    ("altroot", "/mnt", False, "created or imported"),
    ("feature@async_destroy", "disabled", False, "'disabled' when the pool is created"),
    ("feature@async_destroy", "off", True, "only be set to 'enabled'"),
    ("cachefile", "/etc/zfs/", False, "not a valid file"),
    ("cachefile", "/etc/zfs/..", False, "not a valid file"),
    ("comment", "x" * 40, False, "at most 32"),
    ("version", "28", False, "zpool upgrade"),
    ("cachefile", "relative", False, "absolute path"),
])
def test_bad_pool_properties(name, value, creating, why):
    with pytest.raises(StrataError, match=why):
        props.check_pool_property(name, value, creating)


def test_pool_property_times_follow_zpool_valid_proplist():
    # a feature may be disabled at creation only; readonly only at import; altroot at either;
    # bootfs not at import (nor at creation: the pool planner refuses it there)
    assert props.check_pool_property("feature@async_destroy", "disabled", creating=True)[1] == "disabled"
    assert props.check_pool_property("readonly", "on", importing=True)[1] == "on"
    assert props.check_pool_property("altroot", "/mnt", importing=True)[1] == "/mnt"
    with pytest.raises(StrataError, match="import time"):
        props.check_pool_property("bootfs", "tank/root", importing=True)
    with pytest.raises(StrataError, match="'disabled' when the pool is created"):
        props.check_pool_property("feature@async_destroy", "disabled", importing=True)
    assert not props.same_pool_value("feature@lz4_compress", "disabled", "active")
    assert props.same_pool_value("feature@lz4_compress", "disabled", "disabled")


def test_pool_property_aliases():
    assert props.pool_prop_name("expand") == "autoexpand"
    assert props.check_pool_property("feature@zstd_compress", "enabled")[0] == "feature@zstd_compress"
    assert props.same_pool_value("feature@lz4_compress", "enabled", "active")
