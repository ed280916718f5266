# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    # attributes.action_group of each technology's modules, one variable per group of
    # meta/runtime.yml's action_groups (a module extends strata.storage.action_groups.<group>).

    K8S = r"""
attributes:
  action_group:
    description:
      - Use C(group/strata.storage.k8s) in C(module_defaults) to set defaults for this module,
        for example the connection options, once for every k8s module of a play.
    support: full
    membership:
      - strata.storage.k8s
"""

    LVM = r"""
attributes:
  action_group:
    description:
      - Use C(group/strata.storage.lvm) in C(module_defaults) to set defaults for this module,
        once for every LVM module of a play.
    support: full
    membership:
      - strata.storage.lvm
"""

    ZFS = r"""
attributes:
  action_group:
    description:
      - Use C(group/strata.storage.zfs) in C(module_defaults) to set defaults for this module,
        once for every ZFS module of a play.
    support: full
    membership:
      - strata.storage.zfs
"""

    MD = r"""
attributes:
  action_group:
    description:
      - Use C(group/strata.storage.md) in C(module_defaults) to set defaults for this module,
        once for every md module of a play.
    support: full
    membership:
      - strata.storage.md
"""

    NVMEOF = r"""
attributes:
  action_group:
    description:
      - Use C(group/strata.storage.nvmeof) in C(module_defaults) to set defaults for this module,
        once for every NVMe-oF module of a play.
    support: full
    membership:
      - strata.storage.nvmeof
"""

    NFS = r"""
attributes:
  action_group:
    description:
      - Use C(group/strata.storage.nfs) in C(module_defaults) to set defaults for this module,
        once for every NFS module of a play.
    support: full
    membership:
      - strata.storage.nfs
"""

    ISCSI = r"""
attributes:
  action_group:
    description:
      - Use C(group/strata.storage.iscsi) in C(module_defaults) to set defaults for this module,
        once for every iSCSI module of a play.
    support: full
    membership:
      - strata.storage.iscsi
"""

    MULTIPATH = r"""
attributes:
  action_group:
    description:
      - Use C(group/strata.storage.multipath) in C(module_defaults) to set defaults for this module,
        once for every multipath module of a play.
    support: full
    membership:
      - strata.storage.multipath
"""
