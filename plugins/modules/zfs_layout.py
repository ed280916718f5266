#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: zfs_layout
short_description: Converge a ZFS pool's whole dataset tree (filesystems, zvols, properties) in one call
version_added: 0.1.0
description:
  - Takes the desired dataset tree of one pool (filesystems and volumes with their
    properties, nested as written) and converges it in one module call, planned against
    the state read before anything runs, like M(strata.storage.lvm_layout) for a volume group.
  - Reads C(zpool list -Hp) and ONE C(zfs get -Hp) of the pool (every dataset, zvol,
    snapshot and bookmark, with property sources). A run that changes nothing starts these
    two processes only, however many datasets the tree has.
  - Properties are inherited down the tree as written - a property on a parent is set there,
    and children that do not name it inherit it; a child that names the value it already has
    (by inheritance or default) is not changed.
  - Each entry takes the options of M(strata.storage.zfs_dataset) (type, size, properties,
    inherit, encryption, rename_from, state, ...) plus nested O(datasets). Every entry is
    checked and planned before the first command - bad input anywhere changes nothing.
  - Datasets of the pool that are not in the layout are kept (listed in RV(notes)).
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - zfsutils-linux (OpenZFS 2.0 or newer)
options:
  pool:
    description: The pool (it must exist; in check mode a pool not created yet is planned as empty).
    type: str
    required: true
    aliases: [name]
  properties:
    description: Properties of the pool's root dataset, inherited by the whole tree unless set lower.
    type: dict
    default: {}
  allow_destroy:
    description: Allow entries with O(datasets[].state=absent) to be destroyed (their own C(recursive) and C(destroy_clones) still apply).
    type: bool
    default: false
  datasets:
    description:
      - The tree. Names are relative to the pool (or to the parent entry when nested); a
        full name (C(pool/a/b)) is accepted at the top level.
      - Each entry takes the options of M(strata.storage.zfs_dataset) except that O(datasets[].name)
        is relative, plus O(datasets[].datasets) for its children (checked at every depth).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name, relative to the pool or the parent entry.
        type: str
        required: true
      state:
        description: V(present), or V(absent) to destroy it (needs O(allow_destroy) or O(datasets[].allow_destroy)).
        type: str
        choices: [present, absent]
        default: present
      type:
        description: V(filesystem) or V(volume).
        type: str
        choices: [filesystem, volume]
        default: filesystem
      size:
        description: Size of a volume.
        type: str
      sparse:
        description: A volume without reservation.
        type: bool
        default: false
      properties:
        description: Properties, as in M(strata.storage.zfs_dataset).
        type: dict
        default: {}
      inherit:
        description: Properties to hand back to the parent.
        type: list
        elements: str
        default: []
      encryption:
        description: Encryption, as in M(strata.storage.zfs_dataset) (C(cipher), C(keyformat), C(key), C(key_file), C(pbkdf2iters)).
        type: dict
        suboptions:
          cipher:
            description: The C(encryption) property.
            type: str
            choices: ["on", aes-128-ccm, aes-192-ccm, aes-256-ccm, aes-128-gcm, aes-192-gcm, aes-256-gcm]
            default: "on"
          keyformat:
            description: Key format.
            type: str
            required: true
            choices: [passphrase, hex, raw]
          key:
            description: Key material (written to the key file, never on a command line).
            type: str
          key_file:
            description: Key file path.
            type: path
          pbkdf2iters:
            description: PBKDF2 iterations for a passphrase.
            type: int
      rename_from:
        description: Rename this dataset (name relative to the same parent, or full) to the entry's name.
        type: str
      create_parents:
        description: Create missing parents that are not in the layout.
        type: bool
        default: false
      allow_shrink:
        description: Allow a smaller volume size.
        type: bool
        default: false
      allow_destroy:
        description: Allow destroying this entry when its state is V(absent).
        type: bool
        default: false
      recursive:
        description: Destroy its children and snapshots too.
        type: bool
        default: false
      destroy_clones:
        description: Destroy clones of its snapshots elsewhere too.
        type: bool
        default: false
      datasets:
        description: Child entries (same options).
        type: list
        elements: dict
        default: []
extends_documentation_fragment:
  - strata.storage.action_groups.zfs
  - strata.storage.attributes
notes:
  - The role P(strata.storage.zfs#role) calls this module once per pool.
seealso:
  - module: strata.storage.zfs_dataset
  - module: strata.storage.zfs_pool
"""

EXAMPLES = r"""
- name: A pool's tree in one call
  strata.storage.zfs_layout:
    pool: tank
    properties: {compression: lz4, atime: false, xattr: sa}
    datasets:
      - name: home
        properties: {quota: 500G}
        datasets:
          - {name: alice, properties: {quota: 50G}}
          - {name: bob}
      - name: db
        properties: {recordsize: 16K, logbias: throughput}
      - name: vm
        properties: {compression: zstd}
        datasets:
          - {name: disk0, type: volume, size: 20G, properties: {volblocksize: 16K}}
      - name: old_scratch
        state: absent
        recursive: true
    allow_destroy: true
"""

RETURN = r"""
datasets:
  description: The pool's root and every present entry as C(zfs get) reports them after the run (before, in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{name: tank/home, type: filesystem, used: 98304, available: 53764096, properties: {quota: "536870912000"}}]
steps:
  description: Each step of the plan with the number of actions it took (or would take).
  type: list
  elements: dict
  returned: always
  sample: [{step: root, actions: 0}, {step: remove, actions: 0}, {step: datasets, actions: 3}]
actions:
  description: Every command run (or that would run in check mode), in order, with a one-line description.
  type: list
  elements: dict
  returned: always
reads:
  description: The read-only commands run (C(zpool list), one C(zfs get); again after a change).
  type: list
  elements: list
  returned: always
notes:
  description: Decisions worth knowing (datasets kept outside the layout, what a destroy takes).
  type: list
  elements: str
  returned: when there are any
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.core.atomic import read_text
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import finish, run_module
from ansible_collections.strata.storage.plugins.module_utils.zfs import reader
from ansible_collections.strata.storage.plugins.module_utils.zfs.actions import execute, write_file
from ansible_collections.strata.storage.plugins.module_utils.zfs.layout import (
    LAYOUT_OPTIONS_SPEC, layout_request_from_params, plan_layout, summary,
)


def body(module, runner):
    req = layout_request_from_params(module.params)
    state = reader.read_state(runner, dataset_roots=[req.pool])
    plan, steps, _projected = plan_layout(req, state, read_file=read_text, predicted_pool=module.check_mode)
    execute(runner, plan.actions, writer=write_file)
    if plan.actions and not module.check_mode:
        state = reader.read_state(runner, dataset_roots=[req.pool])
    finish(module, runner, plan, datasets=summary(req, state), steps=steps)


def main():
    module = AnsibleModule(argument_spec=LAYOUT_OPTIONS_SPEC, supports_check_mode=True)
    run_module(module, body)


if __name__ == "__main__":
    main()
