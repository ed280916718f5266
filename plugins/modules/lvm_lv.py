#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lvm_lv
short_description: Manage LVM logical volumes of every layout, and the filesystem on them
version_added: 0.1.0
description:
  - Creates linear, striped, mirrored and LVM RAID (raid1, raid5, raid6, raid10) logical volumes,
    placed on named PVs if asked; grows them with the filesystem on them in the same step
    (C(lvextend --resizefs)); shrinks them only when asked and only after checking the
    filesystem fits; activates, deactivates, renames and removes them.
  - Creates an ext4 or xfs filesystem on the volume (the device guard refuses a volume that
    holds another signature unless O(filesystem.force) is set) and reports its type, label and UUID.
    Mounting is left to M(ansible.posix.mount).
  - Reads the whole LVM state in one C(lvm fullreport) call and the filesystem facts in one
    C(blkid) call, plans every step, then runs them in order. Bad input fails before anything
    is changed. Re-runs are idempotent for every size form (see O(size)).
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - lvm2 (C(lvm fullreport) with JSON reports; C(fsadm) for O(resizefs))
  - util-linux (C(blkid), C(wipefs))
  - e2fsprogs for ext4, xfsprogs for xfs
options:
  vg:
    description: Volume group of the volume. It must exist.
    type: str
    required: true
  name:
    description: Name of the logical volume.
    type: str
    required: true
    aliases: [lv]
  state:
    description:
      - V(present) creates the volume or brings it in line.
      - V(absent) removes it; that needs O(allow_remove=true).
    type: str
    choices: [present, absent]
    default: present
  size:
    description:
      - Absolute (V(10G), V(512M)); rounded up as LVM rounds it, to the extent size and, for
        striped and RAID volumes, to a multiple of (extent size x data stripes). A rounded size
        equal to the current one, or at most one such unit below it, changes nothing.
      - Relative to the volume group (V(80%VG), V(100%FREE), V(50%PVS)) or grow-by (V(+10G))
        are used as given when the volume is created; on an existing volume applied only with
        O(grow=true), and every form is idempotent. V(N%VG) grows to that share of the VG (never
        shrinks). V(100%FREE) grows into all the free space the layout can use (each image needs
        its own PV) and changes nothing once none is left.
      - V(+10G) and V(N%FREE) below 100 grow once, from a base, which is the size (and the free space)
        the volume had when such a size was first applied. The base and the size reached are
        kept in the LV tag C(strata.grow.<base>.<free>.<reached>), so a re-run changes nothing,
        V(+10G) -> V(+15G) grows to base + 15G, and a volume resized by other means since starts
        a new base at its current size.
      - A smaller absolute size shrinks the volume only with O(shrink=true).
      - Required to create the volume.
    type: str
  type:
    description:
      - Layout. Left out, a new volume is V(striped) when O(stripes) is above 1, V(raid1) when
        O(mirrors) is given, else V(linear); an existing volume keeps its layout.
      - An existing volume of another layout is refused (converting is not done here).
    type: str
    choices: [linear, striped, mirror, raid1, raid5, raid6, raid10]
  stripes:
    description:
      - Number of DATA stripes, as C(lvcreate --stripes) counts them (parity comes on top).
      - V(striped) needs at least 2, V(raid5) 2 (default 2), V(raid6) 3 (default 3), V(raid10) 2 (default 2).
    type: int
  stripe_size:
    description: Stripe size (power of two, for example V(64K)); creation only.
    type: str
  mirrors:
    description: Extra copies for V(raid1), V(mirror) and V(raid10) (default 1, that is two copies).
    type: int
  region_size:
    description: Region size of mirror and RAID volumes (power of two, for example V(2M)); creation only.
    type: str
  pvs:
    description:
      - Physical volumes to place the volume on (at creation and when growing). Any name of the
        device works; they are compared by device number and must be PVs of O(vg).
    type: list
    elements: path
    default: []
  grow:
    description:
      - Apply a relative (V(%VG), V(%FREE)) or V(+size) O(size) to an existing volume (see O(size)
        for how each form stays idempotent).
    type: bool
    default: false
  shrink:
    description:
      - Allow a smaller absolute O(size) to shrink the volume.
      - An ext2/3/4 filesystem must be unmounted and fit (checked with C(resize2fs -P) before
        anything runs); C(lvreduce --resizefs) then checks and shrinks it before the volume.
        xfs cannot shrink and is refused, as is any other signature. A volume without any
        signature is shrunk as asked, and data beyond the new end is lost.
    type: bool
    default: false
  resizefs:
    description:
      - Grow (and shrink) the ext2/3/4 or xfs filesystem on the volume with it, online when mounted
        (C(lvextend --resizefs)).
    type: bool
    default: true
  active:
    description:
      - V(true) activates the volume, V(false) deactivates it (refused while it is open). Left out,
        it stays as it is; a new volume is active.
    type: bool
  rename_from:
    description:
      - Rename this volume to O(name) when it exists and O(name) does not. When both exist the
        module fails; when neither does, O(name) is created.
    type: str
  allow_remove:
    description: Needed with O(state=absent) to remove an existing volume and its data.
    type: bool
    default: false
  remove_snapshots:
    description:
      - With O(state=absent), also remove the volume's classic snapshots (C(lvremove) takes them
        with their origin). Without it a volume that has any is kept and they are listed.
        Thin snapshots are independent volumes and are never removed with their origin.
    type: bool
    default: false
  filesystem:
    description:
      - The filesystem the volume should hold.
      - Created when the volume holds no signature. A filesystem of the same type is kept
        (its label set if O(filesystem.label) differs); any other signature is refused unless
        O(filesystem.force=true).
    type: dict
    suboptions:
      type:
        description: Filesystem type.
        type: str
        choices: [ext4, xfs]
        required: true
      label:
        description: Label (ext4 at most 16 bytes, xfs 12). Set with C(e2label), C(xfs_io) (mounted xfs) or C(xfs_admin).
        type: str
      options:
        description: Extra arguments for C(mkfs.ext4) or C(mkfs.xfs) at creation, for example V([-m, "1"]).
        type: list
        elements: str
        default: []
      force:
        description:
          - Overwrite another signature found on the volume (it is wiped with C(wipefs --all), then
            C(mkfs) runs with C(-F)/C(-f)). Its data is lost. A mounted volume is refused even then.
        type: bool
        default: false
extends_documentation_fragment:
  - strata.storage.attributes
  - strata.storage.action_groups.lvm
notes:
  - Sizes accept K, M, G, T (powers of 1024) and KB, MB, GB, TB (powers of 1000); a number
    without a unit is refused.
  - The filesystem is an option of the volume (not a separate module) because growing it happens
    in the same C(lvextend --resizefs) step, a shrink must check it first, and
    M(strata.storage.lvm_layout) plans each volume with its filesystem in one call.
seealso:
  - module: strata.storage.lvm_vg
  - module: strata.storage.lvm_thinpool
  - module: ansible.posix.mount
"""

EXAMPLES = r"""
- name: A 20G raid10 volume with 64K stripes and an xfs filesystem
  strata.storage.lvm_lv:
    vg: data
    name: db
    type: raid10
    stripes: 2
    mirrors: 1
    stripe_size: 64K
    size: 20G
    filesystem:
      type: xfs
      label: db

- name: Mount it (persisted in fstab)
  ansible.posix.mount:
    path: /srv/db
    src: LABEL=db
    fstype: xfs
    state: mounted

- name: A striped volume on two named disks
  strata.storage.lvm_lv:
    vg: data
    name: scratch
    stripes: 2
    size: 10G
    pvs: [/dev/disk/by-id/virtio-strata-d1, /dev/disk/by-id/virtio-strata-d2]

- name: Grow a volume and its mounted ext4 into all free space (idempotent)
  strata.storage.lvm_lv:
    vg: data
    name: home
    size: 100%FREE
    grow: true

- name: Shrink an unmounted ext4 volume after checking the filesystem fits
  strata.storage.lvm_lv:
    vg: data
    name: archive
    size: 5G
    shrink: true

- name: Remove a volume
  strata.storage.lvm_lv:
    vg: data
    name: scratch
    state: absent
    allow_remove: true
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
lv:
  description: The volume after the run (predicted in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    vg: {description: Volume group., type: str, returned: when present}
    name: {description: Name., type: str, returned: when present}
    path: {description: Device path., type: str, returned: when present}
    size: {description: Size in bytes (estimated in check mode for a relative size)., type: int, returned: when present}
    type: {description: "Layout: linear, striped, mirror, raid1, raid5, raid6, raid10 (or thin)", type: str, returned: when present}
    segtype: {description: LVM segment type., type: str, returned: when present}
    stripes: {description: "Stripes, RAID images or mirror legs (the stripes field of LVM).", type: int, returned: when present}
    data_stripes: {description: Stripes that carry data (1 for linear and mirrors)., type: int, returned: when present}
    stripe_size: {description: Stripe size in bytes., type: int, returned: when present}
    mirrors: {description: Extra copies., type: int, returned: when present}
    region_size: {description: Region size in bytes., type: int, returned: when present}
    devices: {description: PVs that hold the volume (through RAID images)., type: list, elements: str, returned: when present}
    active: {description: Whether the volume is active., type: bool, returned: when present}
    open: {description: Whether something has the volume open (a mount)., type: bool, returned: when present}
    sync_percent: {description: RAID/mirror sync progress in percent., type: float, returned: when present}
    health: {description: "LVM health status (for example partial, refresh needed), null when fine.", type: str, returned: when present}
    filesystem:
      description: Filesystem on the volume (type, label, uuid); null when it holds none or is inactive.
      type: dict
      returned: when present
  sample:
    vg: data
    name: db
    path: /dev/data/db
    size: 21474836480
    type: raid10
    segtype: raid10
    stripes: 4
    data_stripes: 2
    stripe_size: 65536
    mirrors: 1
    devices: [/dev/vdb, /dev/vdc, /dev/vdd, /dev/vde]
    active: true
    open: false
    sync_percent: 100.0
    health: null
    filesystem: {type: xfs, label: db, uuid: 0f4e5bb6-5ad5-4b55-a6a6-0a3f4b1b9c77}
actions:
  description: Each change made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: dict
  sample:
    - description: grow data/home and its ext4 filesystem from 10G to 12G
      cmd: [lvextend, --resizefs, --size, 12582912k, data/home]
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
from ansible_collections.strata.storage.plugins.module_utils.core.filesystem import check_mkfs, read_fs_facts
from ansible_collections.strata.storage.plugins.module_utils.lvm.lv_planner import (
    LV_OPTIONS_SPEC, fs_reads_for, lv_view, plan_lv, request_from_params,
)
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import finish, run_module


def body(module, runner):
    req = request_from_params(module.params)
    state = lvm.read_state(runner)
    paths, fit_check = fs_reads_for(req, state)
    facts = read_fs_facts(runner, paths, fit_check=fit_check)
    plan = plan_lv(req, state, facts)
    check_mkfs(runner, plan.actions)   # the mkfs tool's own dry run, before anything runs
    runner.execute_all(plan.actions)
    runner.keep_created()   # all ran: a failure reading the result undoes nothing
    if module.check_mode and plan.changed:
        view = plan.after   # nothing ran: report the prediction
    else:
        if plan.changed:
            state = lvm.read_state(runner)   # report what LVM now says, not what we expected
            lv = state.lv(req.vg, req.name)
            facts = read_fs_facts(runner, [lv.path]) if lv is not None and lv.active else {}
        view = lv_view(state.lv(req.vg, req.name), state, facts)
        plan.after = view
    present = view.get("state") == "present"
    finish(module, runner, plan, lv={k: v for k, v in view.items() if k != "state"} if present else {})


def main():
    module = AnsibleModule(
        argument_spec=dict(
            LV_OPTIONS_SPEC,
            vg=dict(type="str", required=True),
            name=dict(type="str", required=True, aliases=["lv"]),
        ),
        supports_check_mode=True,
    )
    run_module(module, body)


if __name__ == "__main__":
    main()
