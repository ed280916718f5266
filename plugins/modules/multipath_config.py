#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: multipath_config
short_description: multipath.conf (defaults, blacklist, devices, per-WWID aliases) and the multipath maps with their path states
version_added: 0.2.0
description:
  - Writes C(/etc/multipath.conf) from plain options, durably (temp file, fsync, rename, older copies
    kept as C(multipath.conf.strata-bak.N)) and only when its content changes, then asks a running
    multipathd to reload it (C(multipathd reconfigure)).
  - Reports every multipath map with its paths and their states (C(multipathd show maps json)), and
    can wait until given WWIDs have a number of active paths (a LUN seen through two portals becomes
    one device with two paths).
  - Files in C(/etc/multipath/conf.d/) are read by multipath as well, so blacklists kept there stay in
    force; C(config_dir) cannot be set in O(defaults).
  - Enabling multipathd is left to the P(strata.storage.multipath#role) role.
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - multipath-tools 0.8 or later (RHEL family, device-mapper-multipath), for C(show maps json)
options:
  path:
    description: The configuration file.
    type: path
    default: /etc/multipath.conf
  defaults:
    description: The C(defaults) section, keyword to value (V(true)/V(false) become yes/no).
    type: dict
    default: {}
  blacklist:
    description:
      - Devices multipath ignores. Each entry has one or more of C(devnode), C(wwid), C(property),
        C(protocol) (regular expressions) or C(device) (a dict with C(vendor) and C(product)).
    type: list
    elements: dict
    default: []
  blacklist_exceptions:
    description: Exceptions to the blacklist, in the same form.
    type: list
    elements: dict
    default: []
  devices:
    description: C(device) sections (each a dict with at least C(vendor)), overriding the built-in hardware table.
    type: list
    elements: dict
    default: []
  multipaths:
    description: Per-WWID settings, typically C(wwid) and C(alias) (the map's name under C(/dev/mapper/)).
    type: list
    elements: dict
    default: []
  reconfigure:
    description: Run C(multipathd reconfigure) after the file changed, when multipathd runs.
    type: bool
    default: true
  wait_for:
    description:
      - Wait until each WWID has a map with at least C(paths) active paths (real runs only); the
        run fails after O(wait_timeout) seconds with the maps multipathd reports.
    type: list
    elements: dict
    default: []
    suboptions:
      wwid:
        description: The WWID (C(3600140...) for a LIO LUN).
        type: str
        required: true
      paths:
        description: Active paths to wait for.
        type: int
        default: 1
  wait_timeout:
    description: Seconds to wait for O(wait_for).
    type: int
    default: 60
extends_documentation_fragment:
  - strata.storage.action_groups.multipath
  - strata.storage.attributes
seealso:
  - module: strata.storage.iscsi_initiator
  - module: strata.storage.iscsi_info
"""

EXAMPLES = r"""
- name: Multipath for iSCSI LUNs, never the local virtio disks, one alias
  strata.storage.multipath_config:
    defaults:
      user_friendly_names: true
      find_multipaths: "yes"
    blacklist:
      - devnode: "^vd[a-z]+"
    multipaths:
      - {wwid: "36001405a1b2c3d4e5f60718293a4b5c6", alias: lab_db}
    wait_for:
      - {wwid: "36001405a1b2c3d4e5f60718293a4b5c6", paths: 2}
"""

RETURN = r"""
maps:
  description: Multipath maps after the run, with their paths.
  returned: always (empty when multipathd does not run)
  type: list
  elements: dict
  sample:
    - name: lab_db
      wwid: "36001405a1b2c3d4e5f60718293a4b5c6"
      sysfs: dm-3
      device: /dev/mapper/lab_db
      vendor: LIO-ORG
      product: IBLOCK
      features: "1 queue_if_no_path"
      queueing: "12 chk"
      dm_state: active
      path_faults: 0
      active_paths: 2
      failed_paths: 0
      paths:
        - {dev: sda, dev_t: "8:0", group: 1, group_state: active, dm_state: active, dev_state: running,
           checker_state: ready, priority: 50, target: "iqn.2026-01.com.example:storage.lab", host_adapter: 192.0.2.20}
multipathd_running:
  description: Whether multipathd answered.
  returned: always
  type: bool
path:
  description: The configuration file.
  returned: always
  type: str
actions:
  description: The file written and the reload, in order.
  returned: always
  type: list
  elements: dict
reads:
  description: The C(multipathd show maps json) calls.
  returned: always
  type: list
  elements: list
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.core.atomic import read_text
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import file_writer, finish, run_module
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action
from ansible_collections.strata.storage.plugins.module_utils.iscsi.multipath import CONFIG_SPEC, read_maps, render


def _missing(maps, wanted, exists=os.path.exists):
    """WWIDs without a map that has its paths and its /dev/mapper node yet."""
    by_wwid = {m["wwid"]: m for m in maps}
    out = []
    for want in wanted:
        found = by_wwid.get(want["wwid"]) or {}
        if found.get("active_paths", 0) < want["paths"] or not exists(found.get("device") or "/nonexistent"):
            out.append(want)
    return out


def body(module, runner, sleep=time.sleep, clock=time.monotonic):
    params = module.params
    text = render(params)
    current = read_text(params["path"])
    running, maps = read_maps(runner)
    plan = Plan(before={"path": params["path"], "content": current}, after={"path": params["path"], "content": text})
    if current != text:
        write = Action(description="write %s" % params["path"], path=params["path"], content=text, mode=0o644)
        runner.execute(write, writer=file_writer)
        plan.add(write)
        if running and params["reconfigure"]:
            runner.execute(Action(description="reload multipathd's configuration",
                                  cmd=["multipathd", "reconfigure"]))
    if params["wait_for"] and not module.check_mode:
        deadline = clock() + params["wait_timeout"]
        while True:
            if plan.changed or _missing(maps, params["wait_for"]):
                running, maps = read_maps(runner)
            missing = _missing(maps, params["wait_for"])
            if not missing or clock() >= deadline:
                break
            sleep(1)
        if not missing:
            # the maps are there: let udev finish their links before anyone opens them
            runner.read(["udevadm", "settle", "--timeout=60"], what="waiting for udev")
        if missing:
            raise StrataError(
                "multipath maps did not reach their paths within %ds: %s" % (params["wait_timeout"], ", ".join(
                    "%s (%d wanted)" % (w["wwid"], w["paths"]) for w in missing)),
                hint="multipathd %s; maps seen: %s" % ("runs" if running else "does not answer", ", ".join(
                    "%s %s %d/%d active" % (m["name"], m["wwid"], m["active_paths"], len(m["paths"])) for m in maps) or "none"),
                details={"maps": maps})
    elif plan.changed and not module.check_mode and running:
        running, maps = read_maps(runner)
    finish(module, runner, plan, maps=maps, multipathd_running=running, path=params["path"])


def main():
    module = AnsibleModule(argument_spec=CONFIG_SPEC, supports_check_mode=True)
    run_module(module, body)


if __name__ == "__main__":
    main()
