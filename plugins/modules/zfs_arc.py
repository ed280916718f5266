#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: zfs_arc
short_description: Set the ZFS ARC size limits live and persistently, and report the ARC hit ratio
version_added: 0.1.0
description:
  - Sets C(zfs_arc_max) and C(zfs_arc_min) live (the module parameters in
    C(/sys/module/zfs/parameters)) and persistently (a C(modprobe.d) file read when the zfs
    module loads), and reports the ARC's size, target, limits, hits, misses and hit ratio.
  - Reads only files (sysfs, C(/proc/spl/kstat/zfs/arcstats), C(/proc/meminfo), the
    modprobe.d file) - no process is started.
  - The kernel's rules are checked first, because it silently ignores values it does not
    take - max at least 64M and below the machine's memory, min at least 32M and below max.
    After a live change the module checks that the kernel applied it.
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - the zfs kernel module (live changes); zfsutils-linux
options:
  max:
    description: C(zfs_arc_max) (V(4G), V(512M)); V(0) returns to ZFS's default. Left out, kept.
    type: str
  min:
    description: C(zfs_arc_min); V(0) returns to ZFS's default. Left out, kept.
    type: str
  live:
    description: Apply to the running kernel.
    type: bool
    default: true
  persistent:
    description: Write the limits to O(modprobe_file), so they apply at the next module load.
    type: bool
    default: true
  modprobe_file:
    description: The modprobe.d file this module owns.
    type: path
    default: /etc/modprobe.d/strata-zfs-arc.conf
extends_documentation_fragment:
  - strata.storage.action_groups.zfs
  - strata.storage.attributes
notes:
  - With root on ZFS, the module loads from the initramfs; run C(update-initramfs -u) after a
    persistent change.
"""

EXAMPLES = r"""
- name: Cap the ARC at 4G and keep at least 1G, now and after reboots
  strata.storage.zfs_arc:
    max: 4G
    min: 1G
  register: arc

- name: Report the hit ratio
  ansible.builtin.debug:
    msg: "ARC {{ arc.arc.size }} bytes, hit ratio {{ arc.arc.hit_ratio }}%"
"""

RETURN = r"""
arc:
  description: The ARC after the run (before, in check mode).
  returned: always
  type: dict
  sample:
    size: 182845440
    c: 536870912
    c_min: 97381120
    c_max: 536870912
    hits: 970805
    misses: 1384
    hit_ratio: 99.86
    params: {zfs_arc_max: 536870912, zfs_arc_min: 0}
    persistent: {zfs_arc_max: 536870912}
actions:
  description: The files written (sysfs parameters, the modprobe.d file), in order.
  type: list
  elements: dict
  returned: always
reads:
  description: Always empty (only files are read).
  type: list
  elements: list
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.core.atomic import read_text
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import finish, run_module
from ansible_collections.strata.storage.plugins.module_utils.zfs.actions import execute, write_file
from ansible_collections.strata.storage.plugins.module_utils.zfs.arc import (
    ARC_SPEC, plan_arc, read_arc, request_from_params,
)


def report(arc):
    return {k: v for k, v in arc.items() if k not in ("modprobe_text", "loaded", "memory")}


def body(module, runner):
    req = request_from_params(module.params)
    arc = read_arc(read_text, req.modprobe_file)
    plan = plan_arc(req, arc)
    execute(runner, plan.actions, writer=write_file)
    if plan.actions and not module.check_mode:
        arc = read_arc(read_text, req.modprobe_file)
        for name, value in (("zfs_arc_max", req.max), ("zfs_arc_min", req.min)):
            stat = arc.get("c_max" if name == "zfs_arc_max" else "c_min")
            if req.live and arc["loaded"] and value and stat is not None and stat != value:
                module.warn("the kernel did not apply %s=%d (it reports %d); see dmesg" % (name, value, stat))
    finish(module, runner, plan, arc=report(arc))


def main():
    module = AnsibleModule(argument_spec=ARC_SPEC, supports_check_mode=True)
    run_module(module, body)


if __name__ == "__main__":
    main()
