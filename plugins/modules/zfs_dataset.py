#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: zfs_dataset
short_description: ZFS filesystems and zvols with their properties, encryption, rename and guarded destroy
version_added: 0.1.0
description:
  - Creates a filesystem or a volume (zvol) with properties (compression, dedup, recordsize
    or volblocksize, quota, refquota, reservation, refreservation, mountpoint, atime, xattr,
    user properties, ...), sets the properties that differ, grows a zvol, inherits
    properties on request, renames, loads encryption keys, and destroys only with
    O(allow_destroy).
  - Reads the pool list (C(zpool list -Hp)) and the dataset's pool with ONE C(zfs get -Hp)
    (every dataset, zvol, snapshot and bookmark of it, with property sources); a run that
    changes nothing starts these two processes only.
  - A property is compared with the value ZFS reports whatever its source, so a value the
    dataset already has by inheritance or default is not a change; properties not named are
    never touched (use O(inherit) to hand one back to the parent).
  - Every property name and value is checked against OpenZFS's own table before anything
    runs - an unknown property, a read-only one, one that does not apply to the dataset type,
    or an invalid value fails with the reason. Create-only properties (volblocksize,
    encryption, keyformat, casesensitivity, normalization, utf8only) asked different on an
    existing dataset fail with what to do.
  - Destroy is never recursive unless asked - children, snapshots, and clones of its
    snapshots elsewhere in the pool are listed and the destroy is refused.
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - zfsutils-linux (OpenZFS 2.0 or newer)
options:
  name:
    description: Full name of the dataset, C(pool/path/name).
    type: str
    required: true
  state:
    description: V(present) or V(absent) (destroy; needs O(allow_destroy)).
    type: str
    choices: [present, absent]
    default: present
  type:
    description: V(filesystem) or V(volume) (a zvol). Cannot change.
    type: str
    choices: [filesystem, volume]
    default: filesystem
  size:
    description:
      - Size of a volume (V(10G)), rounded up to a multiple of its volblocksize. Required to
        create one; a larger size grows it; a smaller one needs O(allow_shrink).
    type: str
  sparse:
    description: Create the volume without a reservation (C(zfs create -s)).
    type: bool
    default: false
  properties:
    description:
      - ZFS properties to set, by name or column alias (C(compress), C(recsize)), and user
        properties (C(module:property)). YAML booleans are written as on/off. Sizes take
        ZFS's units (K, M, G, T - powers of 1024).
      - Encryption properties go through O(encryption).
    type: dict
    default: {}
  inherit:
    description:
      - Properties to hand back to the parent (C(zfs inherit)) when they are set locally or
        received.
    type: list
    elements: str
    default: []
  encryption:
    description:
      - Create the dataset encrypted. The key material goes to O(encryption.key_file)
        (mode 0600), the dataset gets C(keylocation=file://...); the key is never on a
        command line, in RV(actions) or in the diff.
      - On an existing dataset the settings are checked (a different cipher or format is
        an error; keys are not rotated here), a missing key file is written back from
        O(encryption.key), and an unavailable key is loaded (C(zfs load-key)) and the
        filesystem mounted.
    type: dict
    suboptions:
      cipher:
        description: The C(encryption) property; V(on) is aes-256-gcm.
        type: str
        choices: ["on", aes-128-ccm, aes-192-ccm, aes-256-ccm, aes-128-gcm, aes-192-gcm, aes-256-gcm]
        default: "on"
      keyformat:
        description: V(passphrase) (8 to 512 bytes), V(hex) (64 hex digits) or V(raw) (32 bytes).
        type: str
        required: true
        choices: [passphrase, hex, raw]
      key:
        description: The key material. Optional when O(encryption.key_file) already holds it.
        type: str
      key_file:
        description: Where the key lives. Default C(/etc/zfs/keys/<dataset name with / as _>.key).
        type: path
      pbkdf2iters:
        description: PBKDF2 iterations for a passphrase (at least 100000).
        type: int
  rename_from:
    description:
      - Rename this existing dataset (same pool) to O(name) when O(name) does not exist yet.
        When neither exists, O(name) is created.
    type: str
  create_parents:
    description: Create missing parent filesystems (C(zfs create -p)).
    type: bool
    default: false
  allow_shrink:
    description: Allow a smaller O(size) for a volume (data past the new end is lost).
    type: bool
    default: false
  allow_destroy:
    description: Allow O(state=absent) to destroy the dataset.
    type: bool
    default: false
  recursive:
    description: With O(state=absent), also destroy its children and snapshots (C(zfs destroy -r)).
    type: bool
    default: false
  destroy_clones:
    description:
      - With O(state=absent), also destroy clones of its snapshots that live elsewhere in the
        pool (C(zfs destroy -R)). Without it such clones make the destroy fail (promote them
        to keep them).
    type: bool
    default: false
extends_documentation_fragment:
  - strata.storage.action_groups.zfs
  - strata.storage.attributes
notes:
  - For many datasets of one pool use M(strata.storage.zfs_layout) - one call for the whole tree.
seealso:
  - module: strata.storage.zfs_layout
  - module: strata.storage.zfs_pool
  - module: strata.storage.zfs_snapshot
"""

EXAMPLES = r"""
- name: A filesystem for databases
  strata.storage.zfs_dataset:
    name: tank/db
    properties:
      recordsize: 16K
      compression: lz4
      atime: false
      xattr: sa
      quota: 200G
      com.example:owner: dba

- name: A 20G zvol with 16K blocks
  strata.storage.zfs_dataset:
    name: tank/vm/disk0
    type: volume
    size: 20G
    properties: {volblocksize: 16K, compression: zstd}

- name: An encrypted filesystem; the passphrase goes to a 0600 key file
  strata.storage.zfs_dataset:
    name: tank/secret
    encryption:
      keyformat: passphrase
      key: "{{ vault_tank_secret_passphrase }}"

- name: Destroy a filesystem with its children and snapshots
  strata.storage.zfs_dataset:
    name: tank/scratch
    state: absent
    allow_destroy: true
    recursive: true
"""

RETURN = r"""
dataset:
  description: The dataset as C(zfs get) reports it after the run (locally set properties in C(properties)).
  returned: when it exists (in check mode, before the run)
  type: dict
  sample:
    name: tank/db
    type: filesystem
    used: 98304
    available: 53764096
    compressratio: "1.00"
    mountpoint: /tank/db
    properties: {recordsize: "16384", quota: "214748364800", com.example:owner: dba}
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
  description: Decisions worth knowing (what a destroy takes, an inherited encryption root).
  type: list
  elements: str
  returned: when there are any
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.core.atomic import read_text
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import finish, run_module
from ansible_collections.strata.storage.plugins.module_utils.zfs import reader
from ansible_collections.strata.storage.plugins.module_utils.zfs.actions import execute, write_file
from ansible_collections.strata.storage.plugins.module_utils.zfs.dataset_planner import (
    DATASET_OPTIONS_SPEC, plan_dataset, request_from_params,
)
from ansible_collections.strata.storage.plugins.module_utils.zfs.props import pool_of


def read(runner, req):
    return reader.read_state(runner, dataset_roots=[pool_of(req.name)])


def body(module, runner):
    req = request_from_params(module.params)
    state = read(runner, req)
    plan = plan_dataset(req, state, read_file=read_text, pool_known=state.pool(pool_of(req.name)) is not None)
    execute(runner, plan.actions, writer=write_file)
    if plan.actions and not module.check_mode:
        state = read(runner, req)
    ds = state.get(req.name)
    result = {"dataset": ds.summary()} if ds is not None else {}
    finish(module, runner, plan, **result)


def main():
    module = AnsibleModule(argument_spec=DATASET_OPTIONS_SPEC, supports_check_mode=True)
    run_module(module, body)


if __name__ == "__main__":
    main()
