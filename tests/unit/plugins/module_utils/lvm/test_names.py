# -*- coding: utf-8 -*-
"""LVM's own rules for names and sizes (lvm2 2.03.16 lvm-string.c, metadata.c, thin_manip.c,
toollib.c, vg.c), checked before anything runs."""
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.lvm import names


@pytest.mark.parametrize("name", ["data", "a.b", "x+y", "_x", "a-b", "a" * 127, "9", ".x", "..x"])
def test_valid_names(name):
    names.check_name("volume group", name)


@pytest.mark.parametrize("name", ["", ".", "..", "-data", "a b", "a/b", "ä", "a" * 128, "a:b", "a@b",
                                  "data\n", "data\t", "\ndata"])
def test_invalid_names(name):
    with pytest.raises(StrataError, match="is not valid for LVM"):
        names.check_name("volume group", name)


@pytest.mark.parametrize("name,part", [("snapshot", "snapshot"), ("snapshot1", "snapshot"), ("pvmove0", "pvmove"),
                                       ("db_tdata", "_tdata"), ("x_rimage_0", "_rimage"), ("a_pmspare", "_pmspare"),
                                       ("a_vorigin", "_vorigin"), ("a_cvol", "_cvol"), ("a_wcorig", "_wcorig"),
                                       ("a_imeta", "_imeta"), ("a_iorig", "_iorig"), ("a_mlog", "_mlog"),
                                       ("a_cpool", "_cpool"), ("a_vdata", "_vdata")])
def test_reserved_lv_names(name, part):
    with pytest.raises(StrataError) as err:
        names.check_lv_name("vg", name)
    assert "'%s'" % part in err.value.msg and "reserved by LVM" in err.value.msg


@pytest.mark.parametrize("name", ["mysnapshot", "data_backup", "tdata", "pool_t", "rimage", "my-pvmove"])
def test_names_that_only_look_reserved(name):
    names.check_lv_name("vg", name)


def test_device_mapper_name_doubles_hyphens_and_adds_layers():
    assert names.dm_name("my-vg", "lv-1") == "my--vg-lv--1"
    assert names.dm_name("vg", "pool", "tpool") == "vg-pool-tpool"


def test_derived_names_must_fit_the_kernel_limit():
    vg = "v"
    # the longest name LVM derives from a 3-image raid5: v-<lv>_rimage_2-missing_2_0
    fits = "a" * (127 - len("v-") - len("_rimage_2-missing_2_0"))
    names.check_lv_name(vg, fits, derived=names.sub_names("raid5", images=3))
    with pytest.raises(StrataError, match="_rimage_2-missing_2_0 \\(128 characters\\)"):
        names.check_lv_name(vg, fits + "a", derived=names.sub_names("raid5", images=3))
    # the same name is fine for a linear volume, and a thin pool adds -tpool / _tdata
    names.check_lv_name(vg, fits + "a")
    with pytest.raises(StrataError, match="-tpool"):
        names.check_lv_name(vg, "p" * 120, derived=names.sub_names("thin-pool"))


def test_vg_and_lv_name_together_below_name_len():
    """metadata.c vg_validate: len(vg) + len(lv) + 3 < 128, for sub-LVs too."""
    names.check_lv_name("v" * 10, "l" * 100, derived=["_tdata"])       # 10 + 106 + 3 = 119
    with pytest.raises(StrataError, match="characters with its volume group"):
        names.check_lv_name("v" * 15, "l" * 105, derived=["_tdata"])   # 15 + 111 + 3 = 129


def test_dev_path_must_fit_name_len():
    with pytest.raises(StrataError, match="/dev/"):
        names.check_lv_name("v" * 60, "l" * 62)      # /dev/<60>/<62> is 128 characters


def test_sub_names_per_kind():
    assert names.sub_names("raid1", images=3, mirrors=2) == ["_rimage_2", "_rmeta_2", "_rimage_2-missing_2_0"]
    assert names.sub_names("mirror", images=2, mirrors=1) == ["_mimage_1", "_mlog"]
    assert names.sub_names("linear") == [] and names.sub_names("striped") == []
    assert names.sub_names("snapshot") == ["-cow"] and names.sub_names("origin") == ["-real"]


def test_new_vg_name_may_not_clash_with_dev():
    names.check_new_vg_name("data", lambda name: False)
    with pytest.raises(StrataError, match="/dev/disk already exists"):
        names.check_new_vg_name("disk", lambda name: name == "disk")
    names.check_new_vg_name("disk", None)     # no checker given: the name rules only


@pytest.mark.parametrize("chunk,ok", [(64 * 1024, True), (128 * 1024, True), (192 * 1024, True), (1024 ** 3, True),
                                      (32 * 1024, False), (96 * 1024, False), (2 * 1024 ** 3, False),
                                      (64 * 1024 + 512, False)])
def test_thin_chunk_size_range(chunk, ok):
    if ok:
        names.check_thin_chunk_size("pool", chunk)
    else:
        with pytest.raises(StrataError, match="64K to 1G, in multiples of 64K"):
            names.check_thin_chunk_size("pool", chunk)
    names.check_thin_chunk_size("pool", None)


def test_stripes_and_stripe_size():
    names.check_stripes("lv", 128, 4096)
    for stripes in (0, 129):
        with pytest.raises(StrataError, match="out of LVM's range 1 to 128"):
            names.check_stripes("lv", stripes, None)
    names.check_stripes("lv", 2, 1 << 40)
    for size in (2048, 96 * 1024, 1 << 41):     # lvm2 refuses above STRIPE_SIZE_LIMIT * 2 sectors (1T)
        with pytest.raises(StrataError, match="power of two from 4K to 1T"):
            names.check_stripes("lv", None, size)


@pytest.mark.parametrize("extent,ok", [(4 * 1024 ** 2, True), (1024, True), (384 * 1024, True), (3 * 1024 ** 2, True),
                                       (512, False), (100 * 1024, False), (1536, False), (192 * 1024, False),
                                       (1 << 40, True), (2 ** 32 * 512, False), (4 * 1024 ** 4, False)])
def test_extent_size(extent, ok):
    if ok:
        names.check_extent_size("vg", extent)
    else:
        with pytest.raises(StrataError, match="pe_size"):
            names.check_extent_size("vg", extent)
