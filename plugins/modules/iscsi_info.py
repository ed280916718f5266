#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: iscsi_info
short_description: iSCSI sessions on both sides - LIO targets with sessions per ACL, initiator sessions with their disks, multipath paths
version_added: 0.2.0
description:
  - Read-only. Reports the iSCSI state of a host for monitoring and health checks.
  - Target side (LIO, through C(rtslib_fb)), every target with its TPGs, portals, LUNs, backstores, and
    per ACL whether that initiator is logged in (session state, connections, addresses); demo-mode
    (dynamic) sessions too.
  - Initiator side (open-iscsi, from sysfs), every session with its session and connection state, its
    portal, and the disks it gave (by-path link, WWID, SCSI device state).
  - Multipath (C(multipathd show maps json)), every map with its paths and their states.
  - C(problems) lists what a monitor should alert on - a session not logged in, a connection not up, a
    disk not running, a multipath map with failed paths, an ACL with CHAP whose initiator is not
    logged in is not a problem (it may be off).
  - Reading the LIO tree is a walk of configfs that writes nothing and loads no kernel module; the
    initiator side starts no process; multipath asks multipathd once.
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - python3-rtslib-fb for the target side (skipped with a reason when missing)
options:
  gather:
    description: Which sides to read.
    type: list
    elements: str
    choices: [target, initiator, multipath]
    default: [target, initiator, multipath]
extends_documentation_fragment:
  - strata.storage.action_groups.iscsi
attributes:
  check_mode:
    support: full
    description: The module only reads, so it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
  platform:
    support: full
    platforms: posix
    description: Linux hosts; each side is read where its tools are installed.
seealso:
  - module: strata.storage.iscsi_target
  - module: strata.storage.iscsi_initiator
  - module: strata.storage.multipath_config
"""

EXAMPLES = r"""
- name: iSCSI state of the storage hosts
  strata.storage.iscsi_info:
  register: iscsi

- name: Fail when a path or a session is down
  ansible.builtin.assert:
    that: iscsi.problems | length == 0
    fail_msg: "{{ iscsi.problems }}"
"""

RETURN = r"""
target:
  description:
    - The LIO side. C(available) is false (with C(reason)) when rtslib-fb is missing or the target
      modules are not loaded.
  returned: when gathered
  type: dict
  sample:
    available: true
    targets:
      - wwn: iqn.2026-01.com.example:storage.lab
        tpgs:
          - tag: 1
            enable: true
            portals: ["192.0.2.10:3260"]
            luns: [{index: 0, backstore: /backstores/block/lab_db, wwid: "36001405a1b2c3d4e5f60718293a4b5c6"}]
            acls:
              - initiator: iqn.1993-08.org.debian:01:client1
                logged_in: true
                session: {id: 3, state: LOGGED_IN, type: Normal, connections: [{cid: 0, state: LOGGED_IN, address: 192.0.2.20}]}
    backstores: [{name: lab_db, type: block, dev: /dev/lab_data/iscsi0, wwid: "36001405a1b2c3d4e5f60718293a4b5c6"}]
initiator:
  description: The open-iscsi side. C(sessions) as M(strata.storage.iscsi_initiator) returns them.
  returned: when gathered
  type: dict
multipath:
  description: C(running) (multipathd answered) and C(maps) as M(strata.storage.multipath_config) returns them.
  returned: when gathered
  type: dict
problems:
  description: One sentence per thing a monitor should alert on.
  returned: always
  type: list
  elements: str
  sample: ["multipath map lab_db (36001405a1b2c3d4e5f60718293a4b5c6): 1 of 2 paths failed (sdc failed/faulty)"]
reads:
  description: What was read (the LIO walk, the initiator files and sysfs, C(multipathd show maps json)).
  returned: always
  type: list
  elements: list
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.core.module_support import run_module
from ansible_collections.strata.storage.plugins.module_utils.iscsi.info import gather


def body(module, runner):
    result = gather(runner, module.params["gather"])
    module.exit_json(changed=False, reads=runner.reads, **result)


def main():
    module = AnsibleModule(
        argument_spec=dict(gather=dict(type="list", elements="str", default=["target", "initiator", "multipath"],
                                       choices=["target", "initiator", "multipath"])),
        supports_check_mode=True,
    )
    run_module(module, body)


if __name__ == "__main__":
    main()
