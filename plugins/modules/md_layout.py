#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: md_layout
short_description: Every md RAID array of a host in one call
version_added: 0.1.0
description:
  - Converges a list of md arrays - each entry takes the options of M(strata.storage.md_array) -
    in ONE module call, the way the strata.storage.raid role uses it - md state read once, every
    array planned (and every refusal raised) before the first command runs, mdadm.conf written
    once and the initramfs refreshed at most once, whatever the number of arrays.
  - A device listed for two arrays is refused.
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - mdadm (4.x), util-linux (C(blkid), C(wipefs)), a kernel with md and sysfs
extends_documentation_fragment:
  - strata.storage.action_groups.md
  - strata.storage.md_array.LAYOUT
  - strata.storage.md_array.CONFIG
  - strata.storage.attributes
seealso:
  - module: strata.storage.md_array
"""

EXAMPLES = r"""
- name: Two arrays, one mdadm.conf write
  strata.storage.md_layout:
    mailaddr: storage-alerts@example.com
    arrays:
      - name: sys
        level: raid1
        members: [/dev/sda2, /dev/sdb2]
        bitmap: internal
      - name: bulk
        level: raid6
        chunk: 256K
        members: [/dev/sdc, /dev/sdd, /dev/sde, /dev/sdf]
        spares: [/dev/sdg]
"""

RETURN = r"""
arrays:
  description: Each array after the run, in the order given (as the C(array) that M(strata.storage.md_array) returns).
  returned: always
  type: list
  elements: dict
config:
  description: The mdadm.conf path and whether this run changed it.
  returned: always
  type: dict
waited:
  description: Seconds waited per array.
  returned: when an array waited
  type: dict
actions:
  description: Each change made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: dict
reads:
  description: The read-only commands run to learn the current state.
  returned: always
  type: list
  elements: list
rolled_back:
  description:
    - When a real run failed after it had created an array, the undo steps run - stop that array,
      then zero the superblocks this run wrote on its devices (it holds no data yet). A create that failed
      itself is undone the same way (mdadm can leave superblocks and an inactive array); a step
      that finds nothing to undo carries C(nothing_to_undo) and the rollback goes on. An entry with
      C(failed) stopped the rollback.
  returned: on failure, when something was undone
  type: list
  elements: dict
  sample:
    - {description: "stop md array data, which this run created", cmd: [mdadm, --stop, /dev/md/data]}
    - {description: "zero the md superblock this run wrote on /dev/vdb", cmd: [mdadm, --zero-superblock, /dev/vdb]}
notes:
  description: Decisions worth knowing.
  returned: when there are any
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.core.module_support import finish, run_module
from ansible_collections.strata.storage.plugins.module_utils.md import layout
from ansible_collections.strata.storage.plugins.module_utils.md.config import CONFIG_SPEC
from ansible_collections.strata.storage.plugins.module_utils.md.planner import ARRAY_SPEC


def body(module, runner):
    plan, arrays, extra = layout.run(module, runner, module.params["arrays"])
    finish(module, runner, plan, arrays=arrays, **extra)


def main():
    module = AnsibleModule(
        argument_spec=dict(CONFIG_SPEC, arrays=dict(type="list", elements="dict", required=True, options=ARRAY_SPEC)),
        supports_check_mode=True,
    )
    run_module(module, body)


if __name__ == "__main__":
    main()
