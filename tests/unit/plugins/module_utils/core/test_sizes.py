# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core import sizes
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError

GIB = 1024 ** 3


@pytest.mark.parametrize("text, expected", [
    ("10G", 10 * GIB), ("10g", 10 * GIB), ("10GiB", 10 * GIB), ("1.5T", int(1.5 * 1024 ** 4)),
    ("512M", 512 * 1024 ** 2), ("4096B", 4096), ("64K", 65536), ("64k", 65536),
    ("1GB", 10 ** 9), ("2TB", 2 * 10 ** 12), (" 8 M ", 8 * 1024 ** 2),
])
def test_absolute_sizes(text, expected):
    spec = sizes.parse_size(text)
    assert spec.kind == "absolute"
    assert spec.bytes == expected
    assert not spec.grow


@pytest.mark.parametrize("text, percent, base", [
    ("80%VG", 80.0, "VG"), ("100%FREE", 100.0, "FREE"), ("50%pvs", 50.0, "PVS"), ("12.5%free", 12.5, "FREE"),
])
def test_relative_sizes(text, percent, base):
    spec = sizes.parse_size(text, allow_relative=True)
    assert (spec.kind, spec.percent, spec.base) == ("percent", percent, base)
    assert spec.is_relative


@pytest.mark.parametrize("text, fragment", [
    ("100", "has no unit"),
    ("10X", "unknown unit"),
    ("ten gigs", "is not a size"),
    ("-5G", "is not a size"),
    ("0G", "larger than zero"),
    ("150%VG", "at most 100"),
    ("50%DISK", "unknown base"),
    ("", "is not a size"),
])
def test_malformed_sizes_name_the_problem(text, fragment):
    with pytest.raises(StrataError) as err:
        sizes.parse_size(text, allow_relative=True)
    assert fragment in str(err.value)
    assert "'%s'" % text.strip() in err.value.msg


def test_relative_refused_where_not_allowed():
    with pytest.raises(StrataError, match="relative"):
        sizes.parse_size("80%VG")


def test_grow_only_where_allowed():
    with pytest.raises(StrataError, match="grow by"):
        sizes.parse_size("+1G")
    spec = sizes.parse_size("+1G", allow_grow=True)
    assert spec.grow and spec.bytes == GIB


def test_none_passes_through():
    assert sizes.parse_size(None) is None


def test_rounding_and_tolerance():
    extent = 4 * 1024 ** 2
    assert sizes.round_up(1, extent) == extent
    assert sizes.round_up(extent, extent) == extent
    assert sizes.round_up(extent + 1, extent) == 2 * extent
    assert sizes.round_down(extent + 1, extent) == extent
    current = 100 * extent
    assert sizes.compare(current, current, extent) == (sizes.SAME, current)
    assert sizes.compare(current, current - extent, extent) == (sizes.SAME, current - extent)
    assert sizes.compare(current, current - 1, extent) == (sizes.SAME, current)        # rounds up to current
    assert sizes.compare(current, current + 1, extent) == (sizes.GROW, current + extent)
    assert sizes.compare(current, current - 2 * extent, extent) == (sizes.SHRINK, current - 2 * extent)


def test_human_and_kib_args():
    assert sizes.human(GIB) == "1G"
    assert sizes.human(int(1.5 * GIB)) == "1.5G"
    assert sizes.human(512) == "512B"
    assert sizes.to_kib_arg(GIB) == "1048576k"
    assert sizes.to_kib_arg(1025) == "2k"
