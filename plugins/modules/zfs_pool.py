#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: zfs_pool
short_description: Create, grow, repair, scrub, import, export and destroy ZFS pools, safely
version_added: 0.1.0
description:
  - Creates a pool from a vdev layout (stripe, mirror, raidz1-3, with log, special, dedup,
    cache and spare vdevs), with ashift, pool properties and root-dataset properties; adds
    vdevs to it, attaches mirror legs, replaces disks (resilver progress reported, optionally
    waited for), scrubs (start, wait, report errors), imports, exports and destroys it (only
    with O(allow_destroy)).
  - Reads the pool with C(zpool get -Hp all), C(zpool status -P -p -v) and, when
    O(filesystem_properties) are given, one C(zfs get -Hp) of the root dataset; a run that
    changes nothing starts at most these three processes.
  - Every name, property and value is checked against the rules of OpenZFS before anything
    runs; vdev layouts follow C(zpool)'s own rules (raidz1 needs 2 devices, raidz2 3, raidz3
    4; one replication level for all data vdevs). In check mode C(zpool create -n) and
    C(zpool add -n) run as dry runs, so check mode approves only what the real run can do.
  - New devices pass the device guard before C(zpool create) or C(zpool add); the tool's C(-f)
    is passed only after the guard passed for a device named in O(force), or when
    O(allow_mismatched_redundancy) is set.
  - Vdevs of the pool that are not listed are kept; a pool is never shrunk.
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - zfsutils-linux (OpenZFS 2.0 or newer; C(zpool wait))
  - util-linux (C(blkid))
options:
  name:
    description: Name of the pool.
    type: str
    required: true
  state:
    description:
      - V(present) creates the pool (or imports it when its devices carry its label and
        C(zpool import) finds it) and converges vdevs and properties.
      - V(imported) imports an exported pool and never creates one.
      - V(exported) exports the pool. V(absent) destroys it (needs O(allow_destroy)).
    type: str
    choices: [present, absent, exported, imported]
    default: present
  vdevs:
    description:
      - The pool's vdevs. Needed to create it; vdevs not in the pool yet are added
        (C(zpool add)), a mirror that lists more devices than it has gets them attached
        (C(zpool attach)). Vdevs of the pool that are not listed are kept.
      - Devices are block devices (any name; compared by device) or files of at least 64M
        (created beforehand, for tests).
    type: list
    elements: dict
    default: []
    suboptions:
      type:
        description:
          - V(stripe) makes each device its own top-level vdev; V(mirror) one mirror of all
            devices; V(raidz1) (or V(raidz)), V(raidz2), V(raidz3) one raidz group.
          - Log, special and dedup vdevs are V(stripe) or V(mirror); cache and spare V(stripe).
        type: str
        choices: [stripe, mirror, raidz, raidz1, raidz2, raidz3]
        default: stripe
      devices:
        description: The devices of this vdev.
        type: list
        elements: path
        required: true
      role:
        description: What the vdev is for.
        type: str
        choices: [data, log, special, dedup, cache, spare]
        default: data
  ashift:
    description:
      - Sector size exponent (V(9) to V(16), V(12) for 4K sectors) used when the pool is created
        and for vdevs added later. Existing vdevs keep theirs.
    type: int
  properties:
    description:
      - Pool properties (C(autotrim), C(autoexpand), C(autoreplace), C(failmode), C(comment),
        C(cachefile), C(feature@...)=enabled, ...). Checked against OpenZFS's table - an
        unknown property or value fails before anything runs. C(altroot) applies at creation.
    type: dict
    default: {}
  filesystem_properties:
    description:
      - Properties of the pool's root dataset (C(zpool create -O); later C(zfs set)), for
        example C(compression), C(atime), C(mountpoint), C(xattr). Its children inherit them.
    type: dict
    default: {}
  force:
    description:
      - Devices that may be overwritten although they are not blank.
      - New devices are probed with C(blkid -p) and checked for partitions, holders, mounts
        and swap; one that shows any of these is refused, and nothing is changed, unless it
        is named here. Only then is C(zpool create -f) / C(zpool add -f) used.
      - A device that is mounted, active swap, held by another device or a vdev of another
        pool is refused even when named here.
    type: list
    elements: path
    default: []
  allow_mismatched_redundancy:
    description:
      - Allow vdevs whose replication level differs from the pool's (a single disk added to
        a pool of mirrors, a raidz2 beside raidz1 vdevs, mirror devices of different sizes),
        which C(zpool) itself refuses without C(-f). Such a layout can lower the pool's
        redundancy - the pool is only as safe as its weakest vdev.
    type: bool
    default: false
  allow_destroy:
    description: Allow O(state=absent) to destroy the pool and everything in it.
    type: bool
    default: false
  replace:
    description:
      - Disks to replace (C(zpool replace)). O(replace[].old) is the device as C(zpool status -P)
        shows it (a path, or the number of a missing device); O(replace[].new) passes the
        device guard. Done when the old device is gone from the pool.
    type: list
    elements: dict
    default: []
    suboptions:
      old:
        description: The device to replace.
        type: str
        required: true
      new:
        description: The new device.
        type: path
        required: true
  scrub:
    description:
      - Start a scrub (unless one is running), and report what it found. With O(wait), wait
        for it and fail on nothing - errors are returned and warned about.
    type: bool
    default: false
  wait:
    description:
      - Wait (C(zpool wait)) for resilvers started by O(replace) or an attach, and for the
        scrub of O(scrub), before returning.
    type: bool
    default: true
  import_dirs:
    description:
      - Folders C(zpool import -d) searches (needed for file vdevs). Default for file vdevs
        is their folders.
    type: list
    elements: path
    default: []
  import_properties:
    description: Pool properties given at import (C(zpool import -o), e.g. C(readonly=on), C(altroot)).
    type: dict
    default: {}
extends_documentation_fragment:
  - strata.storage.action_groups.zfs
  - strata.storage.attributes
notes:
  - Sizes and numbers use ZFS's own units (K, M, G... all powers of 1024).
  - A running resilver or scrub is reported in RV(pool) (C(status.scan)) with its progress.
seealso:
  - module: strata.storage.zfs_dataset
  - module: strata.storage.zfs_layout
"""

EXAMPLES = r"""
- name: A pool of two mirrors with a log mirror, a cache device and a spare
  strata.storage.zfs_pool:
    name: tank
    ashift: 12
    vdevs:
      - {type: mirror, devices: [/dev/disk/by-id/wwn-0x5000c500a1, /dev/disk/by-id/wwn-0x5000c500a2]}
      - {type: mirror, devices: [/dev/disk/by-id/wwn-0x5000c500a3, /dev/disk/by-id/wwn-0x5000c500a4]}
      - {role: log, type: mirror, devices: [/dev/disk/by-id/nvme-a, /dev/disk/by-id/nvme-b]}
      - {role: cache, devices: [/dev/disk/by-id/nvme-c]}
      - {role: spare, devices: [/dev/disk/by-id/wwn-0x5000c500a5]}
    properties: {autotrim: "on"}
    filesystem_properties: {compression: lz4, atime: "off", xattr: sa}

- name: Replace a failed disk and wait for the resilver
  strata.storage.zfs_pool:
    name: tank
    replace:
      - {old: /dev/disk/by-id/wwn-0x5000c500a2-part1, new: /dev/disk/by-id/wwn-0x5000c500b9}

- name: Scrub and wait; errors are returned in pool.status
  strata.storage.zfs_pool:
    name: tank
    scrub: true
  register: scrubbed

- name: Destroy a pool on purpose
  strata.storage.zfs_pool:
    name: scratch
    state: absent
    allow_destroy: true
"""

RETURN = r"""
pool:
  description: The pool as the tools report it after the run (before, in check mode).
  returned: when the pool exists
  type: dict
  sample:
    name: tank
    health: ONLINE
    size: 1476395008
    allocated: 410112
    free: 1475984896
    properties: {ashift: "12", autotrim: "on"}
    vdevs: [{role: data, type: mirror, devices: [/dev/vdb1, /dev/vdc1], state: ONLINE}]
    status:
      state: ONLINE
      scan: {function: scrub, state: finished, errors: 0, percent_done: 100.0, processed: 0B}
      data_errors: 0
      error_files: []
scrub_errors:
  description: Errors the last scrub reported (when O(scrub) is set and it finished).
  returned: when O(scrub=true)
  type: int
actions:
  description: Every command run (or that would run in check mode), in order, with a one-line description.
  type: list
  elements: dict
  returned: always
reads:
  description: The read-only commands run (the state reads, C(blkid) probes of new devices, dry runs, waits).
  type: list
  elements: list
  returned: always
notes:
  description: Decisions worth knowing (vdevs kept, a running scrub, ashift of existing vdevs).
  type: list
  elements: str
  returned: when there are any
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.core.module_support import finish, run_module
from ansible_collections.strata.storage.plugins.module_utils.zfs import reader
from ansible_collections.strata.storage.plugins.module_utils.zfs.actions import execute
from ansible_collections.strata.storage.plugins.module_utils.zfs.devices import VdevInspector, zfs_label_of
from ansible_collections.strata.storage.plugins.module_utils.zfs.pool_planner import (
    POOL_OPTIONS_SPEC, current_layout, needs_wait, plan_pool, pool_request_from_params,
)


def read(runner, req):
    state = reader.read_state(runner, pools=[req.name], pool_props=True, status=True, listing=False,
                              dataset_roots=[req.name] if req.fs_properties else [], depth=0)
    if state.pool(req.name) is not None and not state.pool(req.name).props:
        state.pools.pop(req.name)      # seen in zpool status only: not ours to read
    return state


def importable(runner, req, inspector):
    """`zpool import` listing, read only when the pool is missing and it may be importable."""
    if req.state == "present":
        labels = [zfs_label_of(inspector.inspect(d)) for s in req.vdevs for d in s.devices]
        if req.name not in labels:
            return {}
    dirs = list(req.import_dirs) or sorted({os.path.dirname(d) for s in req.vdevs for d in s.devices
                                            if not d.startswith("/dev/")})
    cmd = ["zpool", "import"] + [w for d in dirs for w in ("-d", d)]
    result = runner.read(cmd, ok_rcs=(0, 1), what="listing importable pools")
    if req.import_dirs == [] and dirs:
        req.import_dirs = dirs
    return reader.parse_pool_status(result.stdout)


def body(module, runner):
    req = pool_request_from_params(module.params)
    inspector = VdevInspector(runner)
    state = read(runner, req)
    found = {}
    if state.pool(req.name) is None and req.state in ("present", "imported"):
        found = importable(runner, req, inspector)
    plan = plan_pool(req, state, inspector.inspect, importable=found)
    execute(runner, plan.actions)
    result = {}
    if not module.check_mode:
        kinds = needs_wait(req, plan, state.pool(req.name).status if state.pool(req.name) else None)
        if kinds and req.state in ("present", "imported"):
            runner.read(["zpool", "wait", "-t", ",".join(kinds), req.name], what="waiting for pool %s" % req.name)
        if plan.actions:
            state = read(runner, req)
        elif kinds:
            # nothing changed, a scan was waited for: its outcome is in zpool status
            state.pool(req.name).status = reader.read_pool_status(runner).get(req.name)
    pool = state.pool(req.name)
    if pool is not None and req.state != "absent" or (pool is not None and module.check_mode):
        info = pool.summary()
        info["vdevs"] = current_layout(pool.status)
        result["pool"] = info
        status = pool.status
        if status is not None:
            if status.data_errors:
                module.warn("pool %s reports permanent data errors in: %s" % (
                    req.name, ", ".join(status.error_files) or status.errors))
            if req.scrub and status.scan.function == "scrub" and status.scan.state == "finished":
                result["scrub_errors"] = status.scan.errors
                if status.scan.errors:
                    module.warn("the scrub of pool %s ended with %d errors" % (req.name, status.scan.errors))
            if pool.health not in ("ONLINE", "") and req.state != "exported":
                module.warn("pool %s is %s: %s" % (req.name, pool.health, status.status or ""))
    finish(module, runner, plan, **result)


def main():
    module = AnsibleModule(argument_spec=POOL_OPTIONS_SPEC, supports_check_mode=True)
    run_module(module, body)


if __name__ == "__main__":
    main()
