#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_volumesnapshotclass
short_description: Manage Kubernetes VolumeSnapshotClasses and the default class per CSI driver
version_added: 0.1.0
description:
  - Creates, updates and deletes a VolumeSnapshotClass (C(snapshot.storage.k8s.io/v1), a CRD
    installed with the CSI external-snapshotter).
  - O(driver) and O(parameters) cannot change after creation; a run that would change them shows
    the change in diff mode and fails naming the class, fields and values, unless O(recreate=true).
    O(deletion_policy) can change.
  - O(default=true) marks the class as the default for its driver and takes the mark off the
    other classes B(of the same driver) (the snapshot controller picks the default per driver;
    classes of other drivers keep theirs). The others are unmarked first - the external-snapshotter's
    validation webhook refuses a second default per driver. In check mode the mark itself cannot
    be dry-run while the others are still marked (the webhook checks dry runs too); its action
    has C(sent=false) and a note says so.
  - Without the snapshot CRDs (C(snapshot.storage.k8s.io) not served) O(state=present) fails
    saying so; O(state=absent) changes nothing and warns.
  - Same update, conflict and check mode behaviour as M(strata.storage.k8s_storageclass).
author:
  - strata.storage maintainers (@strata-storage)
options:
  name:
    description: Name of the VolumeSnapshotClass.
    type: str
    required: true
  state:
    description: V(present) creates the class or brings it in line; V(absent) deletes it (snapshots are not touched).
    type: str
    choices: [present, absent]
    default: present
  driver:
    description: CSI driver that takes the snapshots, for example V(topolvm.io). Required to create. Immutable.
    type: str
  parameters:
    description: Driver parameters (the complete set; values sent as strings). Immutable.
    type: dict
  deletion_policy:
    description:
      - Whether deleting a VolumeSnapshot deletes the snapshot on the storage (V(Delete)) or keeps it (V(Retain)).
      - Required by the API; left out when the class is created, V(Delete) is sent. Left out on an existing class, kept.
    type: str
    choices: [Delete, Retain]
  labels:
    description: Labels to set; others are kept; a null value removes one.
    type: dict
  annotations:
    description: Annotations to set; others are kept; a null value removes one.
    type: dict
  default:
    description:
      - V(true) sets C(snapshot.storage.kubernetes.io/is-default-class="true") on this class and
        C("false") on the other classes of the same driver that have it V(true).
      - V(false) sets it to C("false") when the class is marked; left out, kept.
    type: bool
  recreate:
    description:
      - When an immutable field differs, delete the class and create it again. Existing
        VolumeSnapshots and their contents keep working (a VolumeSnapshotContent records what it
        needs); new snapshots use the new settings.
    type: bool
    default: false
extends_documentation_fragment:
  - strata.storage.k8s_auth
  - strata.storage.attributes
  - strata.storage.action_groups.k8s
attributes:
  platform:
    platforms: posix
    description:
      - Any host with the C(kubernetes) Python client that can reach the API server, usually the controller.
notes:
  - Needs the VolumeSnapshotClass CRD (external-snapshotter) in the cluster; without it the API
    answers 404 and the module says so.
seealso:
  - module: strata.storage.k8s_storageclass
"""

EXAMPLES = r"""
- name: Default snapshot class for TopoLVM
  strata.storage.k8s_volumesnapshotclass:
    name: lvm-snap
    driver: topolvm.io
    deletion_policy: Delete
    default: true

- name: Keep snapshot contents when VolumeSnapshots are deleted
  strata.storage.k8s_volumesnapshotclass:
    name: lvm-snap
    deletion_policy: Retain
"""

RETURN = r"""
volumesnapshotclass:
  description: The class after the run (in check mode, as the dry run answered); empty when absent.
  returned: always
  type: dict
  sample:
    apiVersion: snapshot.storage.k8s.io/v1
    kind: VolumeSnapshotClass
    metadata: {name: lvm-snap, annotations: {snapshot.storage.kubernetes.io/is-default-class: "true"}}
    driver: topolvm.io
    deletionPolicy: Delete
default_removed_from:
  description: Other classes of the same driver whose default mark was set to C("false").
  returned: always
  type: list
  elements: str
actions:
  description: Each write request sent (as a server-side dry run in check mode), in order; never a body.
  returned: always
  type: list
  elements: dict
reads:
  description: The read requests made, as [method, path].
  returned: always
  type: list
  elements: list
notes:
  description: Decisions worth knowing.
  returned: when there are any
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.k8s.client import AUTH_ARG_SPEC, require_client
from ansible_collections.strata.storage.plugins.module_utils.k8s.apply import apply_class, snapshotclass_desired
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import run_module


def body(module, runner):
    try:
        apply_class(module, runner, "VolumeSnapshotClass", snapshotclass_desired, "volumesnapshotclass")
    except StrataError as exc:
        if exc.rc == 404 and not exc.hint:
            exc.hint = "is the VolumeSnapshotClass CRD (CSI external-snapshotter) installed in the cluster?"
        raise


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        driver=dict(type="str"),
        parameters=dict(type="dict"),
        deletion_policy=dict(type="str", choices=["Delete", "Retain"]),
        labels=dict(type="dict"),
        annotations=dict(type="dict"),
        default=dict(type="bool"),
        recreate=dict(type="bool", default=False),
    )
    argument_spec.update(AUTH_ARG_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    require_client(module)
    run_module(module, body)


if __name__ == "__main__":
    main()
