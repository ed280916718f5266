# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Predict the LVM state a plan leaves behind, without running it.

lvm_layout plans a whole volume group in steps (VG, thin pools, volumes, filesystems,
snapshots) and each step's planner needs the state the earlier steps leave: in check mode on
blank disks the VG does not exist yet. These functions apply a step's predicted effect to a
copy of LvmState. They only need to be right about what later planners check (names,
extent size, free extents); a real run re-reads LVM's true state after every step that
changed something, so a prediction never decides what a real run does.
"""

from __future__ import annotations

import copy

from ansible_collections.strata.storage.plugins.module_utils.lvm.reader import LV, PV, VG

# vgcreate's default first PE offset (pe_start): the metadata area in front of the data.
PE_START = 1024 * 1024


def clone(state):
    return copy.deepcopy(state)


def _extents(size, extent):
    return -(-int(size) // extent)


def add_pvs(state, vg_name, infos, extent_size):
    """New PVs from DeviceInfos joining (or creating) vg_name."""
    vg = state.vg(vg_name)
    if vg is None:
        vg = VG(name=vg_name, uuid="", size=0, free=0, extent_size=extent_size, extent_count=0,
                free_count=0, pv_count=0, lv_count=0, missing_pv_count=0, partial=False, profile="")
        state.vgs[vg_name] = vg
    for info in infos:
        pe_count = max(0, ((info.size or 0) - PE_START) // vg.extent_size)
        state.pvs = [pv for pv in state.pvs if pv.name != info.realpath]
        state.pvs.append(PV(name=info.realpath, uuid="", vg_name=vg_name, devno=info.devno or (-1, -1),
                            dev_size=info.size or 0, size=pe_count * vg.extent_size,
                            free=pe_count * vg.extent_size, pe_count=pe_count, pe_alloc_count=0,
                            missing=False, allocatable=True))
        vg.extent_count += pe_count
        vg.free_count += pe_count
        vg.pv_count += 1
    vg.size = vg.extent_count * vg.extent_size
    vg.free = vg.free_count * vg.extent_size
    return vg


def allocate(state, vg_name, extents, images=1):
    """Take (or give back, when negative) extents from the VG's free space and its PVs'.

    Planners check room per PV (each RAID image or stripe needs its own PV), so the PVs'
    free space is projected too: `images` equal parts, each from a different PV, the PVs with
    the most free space first (a close enough model of LVM's default allocation)."""
    vg = state.vg(vg_name)
    if vg is None:
        return
    vg.free_count = max(0, vg.free_count - extents)
    vg.free = vg.free_count * vg.extent_size
    pvs = [pv for pv in state.pvs_of(vg_name) if not pv.missing]
    if not pvs:
        return
    if extents < 0:   # given back: spread over the PVs
        share = -(-(-extents) // len(pvs))
        for pv in pvs:
            pv.free = min(pv.size, pv.free + share * vg.extent_size)
        return
    images = max(1, min(images, len(pvs)))
    per_image = -(-extents // images)
    for pv in sorted(pvs, key=lambda p: -p.free)[:images]:
        take = min(per_image * vg.extent_size, pv.free)
        pv.free -= take
        pv.pe_alloc_count += take // vg.extent_size
        rest = per_image * vg.extent_size - take
        if rest > 0:   # the image spills over to the next PVs, as LVM does for linear parts
            for other in sorted(pvs, key=lambda p: -p.free):
                if other is pv or rest <= 0:
                    continue
                more = min(rest, other.free)
                other.free -= more
                rest -= more


def allocation_factor(segtype, stripes=1, data_stripes=1, mirrors=0):
    """How many extents of PV space one extent of LV size takes (parity, mirror legs)."""
    if segtype in ("raid1", "mirror"):
        return float(mirrors + 1)
    if segtype == "raid10":
        return float(mirrors + 1)
    if segtype in ("raid4", "raid5", "raid6"):
        parity = 2 if segtype == "raid6" else 1
        data = max(1, data_stripes)
        return (data + parity) / float(data)
    return 1.0


def raid_meta_extents(segtype, stripes=1, data_stripes=1, mirrors=0):
    """One rmeta sub-LV (one extent) per image for LVM RAID."""
    if segtype in ("raid1", "raid10"):
        return (mirrors + 1) * (data_stripes if segtype == "raid10" else 1)
    if segtype in ("raid4", "raid5", "raid6"):
        return data_stripes + (2 if segtype == "raid6" else 1)
    return 0


def images_of(segtype, stripes=1, data_stripes=1, mirrors=0):
    """On how many PVs an LV's extents lie side by side."""
    if segtype in ("raid1", "mirror"):
        return mirrors + 1
    if segtype == "raid10":
        return (mirrors + 1) * max(1, data_stripes)
    if segtype in ("raid4", "raid5", "raid6"):
        return max(1, data_stripes) + (2 if segtype == "raid6" else 1)
    if segtype == "striped":
        return max(1, stripes)
    return 1


def add_lv(state, vg_name, name, size, segtype="linear", stripes=1, data_stripes=1, mirrors=0,
           pool_lv="", origin="", role=None, allocates=True):
    """A new LV; allocates its extents unless it is thin (pool space is not VG space)."""
    vg = state.vg(vg_name)
    extent = vg.extent_size if vg else 4 * 1024 * 1024
    lv = LV(vg_name=vg_name, name=name, uuid="predicted-%s-%s" % (vg_name, name),
            path="/dev/%s/%s" % (vg_name, name), size=int(size), attr="", layout=[], role=list(role or ["public"]),
            active=True, open=False, pool_lv=pool_lv, origin=origin, data_percent=None,
            metadata_percent=None, metadata_size=0, profile="", when_full="", health="", hidden=False,
            segtype=segtype, stripes=stripes, data_stripes=data_stripes)
    state.lvs.append(lv)
    if vg is not None:
        vg.lv_count += 1
        if allocates and segtype != "thin":
            factor = allocation_factor(segtype, stripes, data_stripes, mirrors)
            meta = raid_meta_extents(segtype, stripes, data_stripes, mirrors)
            allocate(state, vg_name, int(_extents(size, extent) * factor) + meta,
                     images=images_of(segtype, stripes, data_stripes, mirrors))
    return lv


def resize_lv(state, vg_name, name, new_size):
    lv = state.lv(vg_name, name)
    vg = state.vg(vg_name)
    if lv is None or vg is None:
        return
    if lv.segtype != "thin":
        factor = allocation_factor(lv.segtype, lv.stripes, lv.data_stripes, max(0, lv.data_stripes - 1))
        delta = _extents(new_size, vg.extent_size) - _extents(lv.size, vg.extent_size)
        allocate(state, vg_name, int(delta * factor))
    lv.size = int(new_size)


def remove_lv(state, vg_name, name):
    lv = state.lv_any(vg_name, name)
    vg = state.vg(vg_name)
    if lv is None:
        return
    if vg is not None and lv.segtype != "thin":
        factor = allocation_factor(lv.segtype, lv.stripes, lv.data_stripes, max(0, lv.data_stripes - 1))
        allocate(state, vg_name, -int(_extents(lv.size, vg.extent_size) * factor))
        vg.lv_count = max(0, vg.lv_count - 1)
    state.lvs = [x for x in state.lvs if x is not lv]


def rename_lv(state, vg_name, old, new):
    lv = state.lv(vg_name, old)
    if lv is not None:
        lv.name = new
        lv.path = "/dev/%s/%s" % (vg_name, new)
