# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lvm_mounts: the mounts a declarative LVM layout asks for, as ansible.posix.mount arguments.

The strata.storage.lvm role mounts with ansible.posix.mount (a well-kept module that owns
fstab) in one looped task, so it needs the list of mounts from the layout without a round
trip to the host: this filter computes it on the controller.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: lvm_mounts
short_description: The mounts an LVM layout asks for, as ansible.posix.mount arguments
version_added: 0.1.0
author: strata.storage maintainers (@strata-storage)
description:
  - Walks a list of volume groups in the format of the P(strata.storage.lvm#role) role
    (C(lvm_volume_groups)) and returns one entry per volume or thin volume that has
    a C(mount) (and a C(filesystem)), ready for M(ansible.posix.mount).
  - Snapshots are not in the list. M(strata.storage.lvm_layout) mounts them itself, read-only
    and outside fstab (a snapshot is a point-in-time view, not a boot-time filesystem).
  - Entries of volumes, thin pools or volume groups with C(state=absent) come out with
    C(state=absent), so that they can be unmounted before the volume is removed.
options:
  _input:
    description: The list of volume groups (C(lvm_volume_groups)).
    type: list
    elements: dict
    required: true
  which:
    description:
      - C(present) returns the mounts to make, C(absent) the mounts to remove.
    type: str
    default: present
    choices: [present, absent]
"""

EXAMPLES = r"""
- name: Mount what the layout asks for
  ansible.posix.mount:
    src: "{{ item.src }}"
    path: "{{ item.path }}"
    fstype: "{{ item.fstype }}"
    opts: "{{ item.opts }}"
    state: "{{ item.state }}"
  loop: "{{ lvm_volume_groups | strata.storage.lvm_mounts }}"
"""

RETURN = r"""
_value:
  description:
    - One dict per mount with C(src) (C(/dev/<vg>/<lv>)), C(path), C(fstype), C(opts),
      C(state) (C(mounted) or C(absent)), C(dump), C(passno) and C(volume)
      (C(<vg>/<lv>)).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError


def _entry(vg, volume, fstype, gone):
    mount = volume["mount"]
    if isinstance(mount, str):
        mount = {"path": mount}
    if not mount.get("path"):
        raise AnsibleFilterError("lvm_mounts: volume %s/%s has a mount without a path" % (vg["name"], volume.get("name")))
    return {
        "src": "/dev/%s/%s" % (vg["name"], volume["name"]),
        "path": mount["path"],
        "fstype": fstype,
        "opts": mount.get("options") or "defaults",
        "state": "absent" if gone or mount.get("state") == "absent" else "mounted",
        "dump": str(mount.get("dump", 0)),
        "passno": str(mount.get("passno", 2)),
        "volume": "%s/%s" % (vg["name"], volume["name"]),
    }


def lvm_mounts(volume_groups, which="present"):
    if which not in ("present", "absent"):
        raise AnsibleFilterError("lvm_mounts: which must be present or absent, not %r" % (which,))
    out = []
    for vg in volume_groups or []:
        vg_gone = vg.get("state", "present") == "absent"
        volumes = list(vg.get("volumes") or [])
        for pool in vg.get("thin_pools") or []:
            pool_gone = pool.get("state", "present") == "absent"
            for volume in pool.get("volumes") or []:
                volumes.append(dict(volume, state="absent" if pool_gone else volume.get("state", "present")))
        for volume in volumes:
            if not volume.get("mount"):
                continue
            fs = volume.get("filesystem") or {}
            fstype = fs.get("type") if isinstance(fs, dict) else fs
            if not fstype:
                raise AnsibleFilterError("lvm_mounts: volume %s/%s has a mount but no filesystem type" % (
                    vg["name"], volume["name"]))
            out.append(_entry(vg, volume, fstype, vg_gone or volume.get("state", "present") == "absent"))
    return [m for m in out if (m["state"] == "absent") == (which == "absent")]


class FilterModule(object):
    def filters(self):
        return {"lvm_mounts": lvm_mounts}
