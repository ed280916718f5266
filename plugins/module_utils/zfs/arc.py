# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ARC: zfs_arc_max / zfs_arc_min live (module parameters in sysfs) and persistent
(a modprobe.d file read when the module loads), and the hit ratio from arcstats.

Everything is read from files (/sys/module/zfs/parameters, /proc/spl/kstat/zfs/arcstats,
/proc/meminfo, the modprobe.d file): no process is started to read the state.

The kernel's own rules (module/zfs/arc.c arc_tuning_update, OpenZFS 2.1) are checked before
anything is written, because the kernel silently ignores a value it does not like:
zfs_arc_max at least 64 MiB, below the machine's memory and above zfs_arc_min;
zfs_arc_min at least 32 MiB and at most zfs_arc_max. 0 means ZFS's default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.core.sizes import human
from ansible_collections.strata.storage.plugins.module_utils.zfs import props as zprops
from ansible_collections.strata.storage.plugins.module_utils.zfs.actions import ZfsAction

PARAMS_DIR = "/sys/module/zfs/parameters"
ARCSTATS = "/proc/spl/kstat/zfs/arcstats"
MEMINFO = "/proc/meminfo"
MODPROBE_FILE = "/etc/modprobe.d/strata-zfs-arc.conf"
MIN_ARC_MAX = 64 * 1024 ** 2
MIN_ARC_MIN = 32 * 1024 ** 2
PARAMS = ("zfs_arc_max", "zfs_arc_min")

ARC_SPEC = dict(
    max=dict(type="str"),
    min=dict(type="str"),
    live=dict(type="bool", default=True),
    persistent=dict(type="bool", default=True),
    modprobe_file=dict(type="path", default=MODPROBE_FILE),
)


@dataclass
class ArcRequest:
    max: int = None
    min: int = None
    live: bool = True
    persistent: bool = True
    modprobe_file: str = MODPROBE_FILE


def _size(value, what):
    if value is None:
        return None
    text = str(value).strip()
    if text in ("0", "default"):
        return 0
    return zprops.parse_size(text, what=what)


def request_from_params(params):
    req = ArcRequest(max=_size(params.get("max"), "ARC max"), min=_size(params.get("min"), "ARC min"),
                     live=params.get("live", True) is not False, persistent=params.get("persistent", True) is not False,
                     modprobe_file=params.get("modprobe_file") or MODPROBE_FILE)
    if req.max is None and req.min is None:
        raise StrataError("give max and/or min (sizes like 2G; 0 for ZFS's default)")
    if req.max and req.max < MIN_ARC_MAX:
        raise StrataError("ARC max %s is below 64M, which the kernel ignores" % human(req.max))
    if req.min and req.min < MIN_ARC_MIN:
        raise StrataError("ARC min %s is below 32M, which the kernel ignores" % human(req.min))
    if req.max and req.min and req.min >= req.max:
        raise StrataError("ARC min %s must be below ARC max %s" % (human(req.min), human(req.max)))
    return req


def parse_arcstats(text):
    """/proc/spl/kstat/zfs/arcstats -> {name: int}."""
    out = {}
    for line in text.splitlines()[2:]:
        parts = line.split()
        if len(parts) == 3 and parts[2].lstrip("-").isdigit():
            out[parts[0]] = int(parts[2])
    return out


def parse_meminfo_total(text):
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return None


def parse_modprobe(text):
    """`options zfs k=v ...` lines -> {k: int or str}."""
    out = {}
    for line in (text or "").splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) >= 2 and parts[0] == "options" and parts[1] == "zfs":
            for word in parts[2:]:
                if "=" in word:
                    key, value = word.split("=", 1)
                    out[key] = int(value) if value.isdigit() else value
    return out


def render_modprobe(values):
    words = " ".join("%s=%s" % (k, values[k]) for k in PARAMS if k in values)
    return ("# Managed by strata.storage (zfs_arc): ARC limits applied when the zfs module loads.\n"
            "options zfs %s\n" % words)


def read_arc(read_file, modprobe_file=MODPROBE_FILE):
    """The ARC's state from files. read_file(path) -> text or None."""
    loaded = read_file(os.path.join(PARAMS_DIR, "zfs_arc_max")) is not None
    params = {}
    for name in PARAMS:
        text = read_file(os.path.join(PARAMS_DIR, name))
        params[name] = int(text.strip()) if text and text.strip().isdigit() else None
    stats = parse_arcstats(read_file(ARCSTATS) or "")
    file_text = read_file(modprobe_file)
    hits, misses = stats.get("hits", 0), stats.get("misses", 0)
    return {
        "loaded": loaded,
        "params": params,
        "size": stats.get("size"), "c": stats.get("c"), "c_min": stats.get("c_min"), "c_max": stats.get("c_max"),
        "hits": hits, "misses": misses,
        "hit_ratio": round(100.0 * hits / (hits + misses), 2) if hits + misses else None,
        "memory": parse_meminfo_total(read_file(MEMINFO) or ""),
        "persistent": parse_modprobe(file_text), "modprobe_text": file_text,
    }


def plan_arc(req, arc):
    plan = Plan()
    memory = arc.get("memory")
    if req.max and memory and req.max >= memory:
        raise StrataError("ARC max %s is not below the machine's memory (%s)" % (human(req.max), human(memory)))
    desired = {}
    if req.max is not None:
        desired["zfs_arc_max"] = req.max
    if req.min is not None:
        desired["zfs_arc_min"] = req.min
    plan.before = {"live": dict(arc["params"]), "persistent": dict(arc["persistent"])}
    after_live = dict(arc["params"])
    if req.live:
        if not arc["loaded"]:
            plan.notes.append("the zfs module is not loaded: the live limits apply when it loads (persistent file)")
        else:
            if req.min and not req.max and arc.get("c_max") and req.min >= arc["c_max"]:
                raise StrataError("ARC min %s must be below the current ARC max %s" % (
                    human(req.min), human(arc["c_max"])))
            if req.max and req.min is None and arc.get("c_min") and req.max <= arc["c_min"]:
                # arc_tuning_update takes zfs_arc_max only above arc_c_min; the sysfs file would
                # still show the value written, so a re-run would call it applied
                raise StrataError("ARC max %s must be above the current ARC min %s, which the kernel keeps" % (
                    human(req.max), human(arc["c_min"])), hint="give a lower `min` in the same call")
            order = list(PARAMS)
            # lowering max below the current min: lower min first; raising min above max: raise max first
            if req.max and arc.get("c_min") and req.max <= arc["c_min"]:
                order = ["zfs_arc_min", "zfs_arc_max"]
            for name in order:
                if name in desired and arc["params"].get(name) != desired[name]:
                    value = desired[name]
                    plan.add(ZfsAction("set %s to %s live (was %s)" % (
                        name, human(value) if value else "the default", arc["params"].get(name)),
                        path=os.path.join(PARAMS_DIR, name), content="%d\n" % value, kind="live"))
                    after_live[name] = value
    after_file = dict(arc["persistent"])
    if req.persistent:
        merged = dict(arc["persistent"])
        merged.update(desired)
        content = render_modprobe(merged)
        if content != arc.get("modprobe_text"):
            plan.add(ZfsAction("write %s (%s)" % (req.modprobe_file, ", ".join(
                "%s=%s" % (k, merged[k]) for k in PARAMS if k in merged)), path=req.modprobe_file,
                content=content, mode=0o644, kind="persistent"))
            after_file = merged
            plan.notes.append("on hosts that load zfs from the initramfs (root on ZFS), run update-initramfs -u "
                              "for the persistent limits to apply at boot")
    plan.after = {"live": after_live, "persistent": after_file}
    return plan
