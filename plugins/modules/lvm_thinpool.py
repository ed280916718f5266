#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lvm_thinpool
short_description: Manage LVM thin pools, their autoextend policy and their thin volumes
version_added: 0.1.0
description:
  - Creates and grows an LVM thin pool (data and metadata size, chunk size, zeroing, discards,
    stripes), sets its autoextend threshold and percent so dmeventd grows it before it fills,
    and creates, grows and removes thin volumes in it.
  - Reads the whole LVM state in one C(lvm fullreport) call, plans every step, checks sizes
    against free space and the overcommit limit, then runs the steps in order. Bad input fails
    before anything is changed.
  - Reports the pool's data and metadata usage.
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - lvm2 with dm-thin support and thin-provisioning-tools
options:
  vg:
    description: Volume group that holds (or will hold) the pool. It must exist.
    type: str
    required: true
  name:
    description: Name of the thin pool.
    type: str
    required: true
    aliases: [pool]
  state:
    description:
      - V(present) creates the pool or brings it in line.
      - V(absent) removes it; see O(remove_volumes).
    type: str
    choices: [present, absent]
    default: present
  size:
    description:
      - Data size of the pool. Absolute (V(10G)) or relative to the volume group
        (V(80%VG), V(100%FREE), V(50%PVS)).
      - A relative size is resolved by LVM when the pool is created and is not re-applied to an
        existing pool, so re-runs stay idempotent.
      - An absolute size larger than the pool grows it (C(lvextend)); thin pools cannot shrink, so
        a smaller size fails. A size is rounded up to the extent size, as LVM does; a rounded
        size above the current one grows, one at most one extent below it counts as equal.
      - Required to create the pool.
    type: str
  metadata_size:
    description:
      - Size of the pool's metadata volume. Chosen by LVM when left out at creation.
      - A larger value than the current one grows the metadata.
    type: str
  chunk_size:
    description: Chunk size (for example V(64K) or V(512K)). Creation only; a different value on an existing pool fails.
    type: str
  zero:
    description: Zero newly provisioned chunks (C(--zero)). Left out, the pool keeps what it has.
    type: bool
  discards:
    description: How the pool handles discards. Left out, the pool keeps what it has.
    type: str
    choices: [ignore, nopassdown, passdown]
  stripes:
    description: Number of stripes of the pool's data volume. Creation only.
    type: int
  stripe_size:
    description: Stripe size, with O(stripes). Creation only.
    type: str
  pvs:
    description: PVs to allocate the new pool from (placement at creation).
    type: list
    elements: path
    default: []
  autoextend_threshold:
    description:
      - Usage percentage (50-100) of data or metadata above which dmeventd grows the pool.
        V(100) turns autoextend off.
      - Written to an LVM profile C(/etc/lvm/profile/strata-thinpool-<vg>-<pool>.profile)
        attached to the pool, so it applies to this pool only.
    type: int
  autoextend_percent:
    description:
      - How much (in percent of its current size) dmeventd grows the pool each time.
        Defaults to LVM's 20 when only O(autoextend_threshold) is given.
    type: int
  volumes:
    description:
      - Thin volumes of the pool. Volumes of the pool not listed here are kept.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the thin volume.
        type: str
        required: true
      size:
        description:
          - Virtual size (absolute). Required to create; larger than now grows the volume;
            smaller fails (shrinking needs an explicit shrink with a filesystem check).
        type: str
      state:
        description: V(absent) removes the volume (refused while it is open).
        type: str
        choices: [present, absent]
        default: present
  max_overcommit:
    description:
      - Refuse a run after which the thin volumes' virtual sizes would add up to more than this
        many times the pool's data size (for example V(1.0) forbids overcommit, V(3) allows
        three times). Left out, there is no limit, but overcommit is warned about.
    type: float
  error_when_full:
    description:
      - V(true) makes writes to a full pool fail at once (C(--errorwhenfull y)); V(false) makes
        them queue for up to 60 seconds (dm-thin's C(no_space_timeout)) before failing, which
        gives autoextend time to act. Left out, keep the pool's setting (LVM's default is to queue).
      - A full pool (data or metadata at 100%) is reported as a warning on every run.
    type: bool
  remove_volumes:
    description: With O(state=absent), also remove the pool's thin volumes; without it a pool that holds any is kept.
    type: bool
    default: false
extends_documentation_fragment:
  - strata.storage.attributes
  - strata.storage.action_groups.lvm
notes:
  - Sizes accept K, M, G, T (powers of 1024) and KB, MB, GB, TB (powers of 1000); a number
    without a unit is refused.
  - Autoextend acts only while dmeventd monitors the pool; the module turns monitoring on when it
    sets a profile on an active, unmonitored pool.
seealso:
  - module: strata.storage.lvm_vg
"""

EXAMPLES = r"""
- name: A thin pool on 80% of the VG, growing by 20% when 80% full, with two thin volumes
  strata.storage.lvm_thinpool:
    vg: data
    name: pool0
    size: 80%VG
    chunk_size: 256K
    discards: passdown
    autoextend_threshold: 80
    autoextend_percent: 20
    max_overcommit: 2.0
    volumes:
      - name: app
        size: 2G
      - name: logs
        size: 1G

- name: Grow the pool's data and a thin volume
  strata.storage.lvm_thinpool:
    vg: data
    name: pool0
    size: 6G
    volumes:
      - name: app
        size: 4G

- name: Remove one thin volume
  strata.storage.lvm_thinpool:
    vg: data
    name: pool0
    volumes:
      - name: logs
        state: absent
"""

RETURN = r"""
rolled_back:
  description:
    - When a real run failed after it had created something, the undo of each thing this run
      created (its new LVs, the VG it created or extended, the PV labels it made), newest first.
      An entry with C(failed) stopped the rollback. See the LVM docs, "When a real run fails anyway".
  returned: on failure, when something was undone
  type: list
  elements: dict
  sample:
    - {description: "remove logical volume data/db, which this run created", cmd: [lvremove, --yes, data/db]}
    - {description: "remove volume group data, which this run created", cmd: [vgremove, data]}
    - {description: "remove the LVM label this run put on /dev/vdb", cmd: [pvremove, /dev/vdb]}
pool:
  description: The pool after the run (predicted in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    name: {description: Pool name., type: str, returned: when present}
    vg: {description: Volume group., type: str, returned: when present}
    size: {description: Data size in bytes., type: int, returned: when present}
    metadata_size: {description: Metadata size in bytes., type: int, returned: when present}
    data_percent: {description: Data usage in percent (null in check mode before creation)., type: float, returned: when present}
    metadata_percent: {description: Metadata usage in percent., type: float, returned: when present}
    chunk_size: {description: Chunk size in bytes., type: int, returned: when present}
    zero: {description: Whether new chunks are zeroed., type: bool, returned: when present}
    discards: {description: Discards mode., type: str, returned: when present}
    stripes: {description: Stripes of the data volume., type: int, returned: when present}
    monitored: {description: dmeventd monitoring status., type: str, returned: when present}
    profile: {description: Attached LVM metadata profile., type: str, returned: when present}
    autoextend: {description: "Autoextend settings from the attached profile (threshold, percent).", type: dict, returned: when present}
    error_when_full: {description: "Whether writes to the full pool fail at once (true) or queue (false).", type: bool, returned: when present}
    overcommit: {description: Sum of thin volumes' virtual sizes divided by the data size., type: float, returned: when present}
  sample:
    name: pool0
    vg: data
    size: 3426746368
    data_percent: 4.2
    metadata_percent: 10.6
volumes:
  description: Thin volumes of the pool with virtual size in bytes and usage.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: app, size: 2147483648, data_percent: 3.1, path: /dev/data/app}
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
notes:
  description: Decisions worth knowing, for example a relative size that was not re-applied.
  returned: when there are any
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.lvm import reader as lvm
from ansible_collections.strata.storage.plugins.module_utils.core.atomic import read_text
from ansible_collections.strata.storage.plugins.module_utils.lvm.planner import (
    THINPOOL_OPTIONS_SPEC, parse_profile, plan_thinpool, profile_name, profile_path, thinpool_request_from_params,
)
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import file_writer, finish, run_module


def pool_report(state, vg_name, name):
    """(pool dict, volumes list) from a real LVM state."""
    pool = state.lv(vg_name, name)
    if pool is None:
        return {}, []
    thin = state.thin_volumes_of(vg_name, name)
    autoextend = {}
    if pool.profile == profile_name(vg_name, name):
        autoextend = parse_profile(read_text(profile_path(vg_name, name)))
    total = sum(lv.size for lv in thin)
    info = {
        "name": pool.name, "vg": vg_name, "size": pool.size, "metadata_size": pool.metadata_size,
        "data_percent": pool.data_percent, "metadata_percent": pool.metadata_percent,
        "chunk_size": pool.chunk_size, "zero": pool.zero, "discards": pool.discards,
        "stripes": pool.stripes, "monitored": pool.monitored, "profile": pool.profile,
        "autoextend": autoextend, "error_when_full": pool.when_full == "error", "overcommit": round(total / float(pool.size), 3) if pool.size else None,
    }
    volumes = [{"name": lv.name, "size": lv.size, "data_percent": lv.data_percent, "path": lv.path}
               for lv in sorted(thin, key=lambda lv: lv.name)]
    return info, volumes


def body(module, runner):
    req = thinpool_request_from_params(module.params)
    state = lvm.read_state(runner)
    plan = plan_thinpool(req, state, read_text)
    runner.execute_all(plan.actions, writer=file_writer)
    runner.keep_created()   # all ran: a failure reading the result undoes nothing
    if plan.changed and not module.check_mode:
        state = lvm.read_state(runner)
    if module.check_mode and plan.changed:
        after = dict(plan.after)
        after.pop("state", None)
        volumes = [{"name": n, "size": s} for n, s in sorted((after.pop("volumes", None) or {}).items())]
        pool_info = dict(after, vg=req.vg) if req.state == "present" else {}
    else:
        pool_info, volumes = pool_report(state, req.vg, req.name)
    finish(module, runner, plan, pool=pool_info, volumes=volumes)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            THINPOOL_OPTIONS_SPEC,
            vg=dict(type="str", required=True),
            name=dict(type="str", required=True, aliases=["pool"]),
            remove_volumes=dict(type="bool", default=False),
        ),
        required_by={"stripe_size": "stripes"},
        supports_check_mode=True,
    )
    run_module(module, body)


if __name__ == "__main__":
    main()
