#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_storageclass
short_description: Manage Kubernetes StorageClasses, their immutable fields and the cluster default
version_added: 0.1.0
description:
  - Creates, updates and deletes a StorageClass (C(storage.k8s.io/v1)).
  - Knows what makes StorageClasses hard. O(provisioner), O(parameters), O(reclaim_policy) and
    O(volume_binding_mode) cannot change after creation (the API answers 422). A run that would
    change one shows the change in diff mode and fails, naming the class, the fields and the
    old and new values, and changes nothing, unless O(recreate=true).
  - O(default=true) makes the class the cluster default and takes the default mark off every
    other class in the same run (reported in RV(actions) and RV(default_removed_from)).
  - Updates are sent as a replace carrying the resourceVersion that was read, so a change made
    by someone else in between is never overwritten - the API answers 409 and the module reads
    the class again and plans again (at most 3 times), keeping the other change.
  - Every write names its field manager (C(strata.storage)) and asks for strict field
    validation, so a field the server does not know is an error, not silently dropped.
  - Empty O(parameters) or O(mount_options) equal leaving them empty - the API server does
    not store empty maps and lists.
  - Check mode sends the same requests as server-side dry runs, each where the API server reads
    it - C(dryRun=All) in the query of a create or update, C(dryRun) in the DeleteOptions body of
    a delete - so validation and admission run and nothing is stored.
author:
  - strata.storage maintainers (@strata-storage)
options:
  name:
    description: Name of the StorageClass.
    type: str
    required: true
  state:
    description:
      - V(present) creates the class or brings it in line; V(absent) deletes it.
      - Deleting a class does not touch the PersistentVolumes provisioned from it.
    type: str
    choices: [present, absent]
    default: present
  provisioner:
    description:
      - The provisioner (CSI driver) name, for example V(topolvm.io), V(nfs.csi.k8s.io).
      - Required to create the class. Immutable.
    type: str
  parameters:
    description:
      - Parameters passed to the provisioner. Immutable.
      - Given, it is the complete set (a key missing here but present in the class is a change).
        Values are sent as strings (V(true) becomes C("true")).
    type: dict
  reclaim_policy:
    description:
      - What happens to a dynamically provisioned PV when its claim is deleted. Immutable.
      - Left out when the class is created, V(Delete) is sent explicitly (the API's default), so
        the class shows it. Left out on an existing class, its value is kept.
    type: str
    choices: [Delete, Retain]
  volume_binding_mode:
    description:
      - When volumes are provisioned and bound. Immutable.
      - Left out when the class is created, V(WaitForFirstConsumer) is sent (the API's own
        default is V(Immediate)), because local and zonal storage (LVM-backed CSI drivers, zonal
        iSCSI or NVMe-oF) must be provisioned where the pod is scheduled, and every provisioner
        works with it. A PVC of such a class stays C(Pending) until a pod uses it. Left out on an existing
        class, its value is kept.
    type: str
    choices: [Immediate, WaitForFirstConsumer]
  allow_volume_expansion:
    description: Whether PVCs of this class may be grown. Left out, the class keeps what it has.
    type: bool
  mount_options:
    description: Mount options of PVs provisioned from this class (the complete list). Left out, kept.
    type: list
    elements: str
  allowed_topologies:
    description:
      - "Topology terms restricting where volumes may be provisioned, as in the API, for example
        C([{matchLabelExpressions: [{key: topology.kubernetes.io/zone, values: [a, b]}]}])."
      - Left out, kept.
    type: list
    elements: dict
  labels:
    description:
      - Labels to set. Labels not listed are kept; a null value removes that label.
    type: dict
  annotations:
    description:
      - Annotations to set. Annotations not listed are kept; a null value removes one.
    type: dict
  default:
    description:
      - V(true) marks this class as the cluster default
        (C(storageclass.kubernetes.io/is-default-class="true")) and sets that annotation to
        C("false") on every other class that has it V(true), in the same run. C("false") rather
        than removing it, as the Kubernetes documentation does; an explicit C("false") also
        survives tools that add the annotation when it is missing.
      - This class is marked first and the others unmarked after, so there is never a moment
        with no default (Kubernetes uses the newest default when there are two).
      - V(false) sets the annotation to C("false") when the class is marked; left out, the mark is kept.
    type: bool
  recreate:
    description:
      - When an immutable field differs, delete the class and create it again with the new
        values (other fields and labels the user did not give are carried over).
      - PersistentVolumes provisioned from the old class keep working, as a PV holds everything
        it needs (the class is only read when a volume is provisioned or expanded); new PVCs get
        the new settings. PVCs created in the moment between delete and create fail to find
        the class and are retried by Kubernetes.
      - In check mode the delete is sent as a dry run; the create cannot be (the class still
        exists), so its action has C(sent=false) and a note says so.
      - When the class has finalizers, the module waits (up to 60 seconds) until it is gone
        before creating it again.
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
  - Needs RBAC permission to get, list, create, update and delete C(storageclasses).
  - Use M(strata.storage.k8s_volumesnapshotclass) for VolumeSnapshotClasses and
    M(strata.storage.k8s_storage_info) to see which PVs and PVCs use a class.
seealso:
  - module: strata.storage.k8s_volumesnapshotclass
  - module: strata.storage.k8s_tenant_namespace
"""

EXAMPLES = r"""
- name: Default class for LVM thin volumes through TopoLVM
  strata.storage.k8s_storageclass:
    name: lvm-thin
    provisioner: topolvm.io
    parameters:
      topolvm.io/device-class: thin
      csi.storage.k8s.io/fstype: xfs
    allow_volume_expansion: true
    default: true
    kubeconfig: ~/.kube/config

- name: NFS class that keeps volumes, immediate binding, with mount options
  strata.storage.k8s_storageclass:
    name: nfs-retain
    provisioner: nfs.csi.k8s.io
    parameters:
      server: nfs1.example.com
      share: /export/k8s
    reclaim_policy: Retain
    volume_binding_mode: Immediate
    mount_options: [nfsvers=4.2, hard]
    host: https://10.0.0.1:6443
    api_key: "{{ vault_k8s_token }}"
    ca_cert: /etc/strata/k8s-ca.pem

- name: Change a parameter (immutable) by re-creating the class; existing PVs keep working
  strata.storage.k8s_storageclass:
    name: lvm-thin
    provisioner: topolvm.io
    parameters:
      topolvm.io/device-class: thin
      csi.storage.k8s.io/fstype: ext4
    recreate: true

- name: Remove a class
  strata.storage.k8s_storageclass:
    name: old-class
    state: absent
"""

RETURN = r"""
storageclass:
  description:
    - The class after the run (in check mode, as the API server's dry run answered, or as
      predicted when a request could not be dry-run); empty when absent.
    - Shows apiVersion, kind, metadata (name, labels, annotations) and the class's fields.
  returned: always
  type: dict
  sample:
    apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata:
      name: lvm-thin
      annotations: {storageclass.kubernetes.io/is-default-class: "true"}
    provisioner: topolvm.io
    parameters: {topolvm.io/device-class: thin}
    reclaimPolicy: Delete
    volumeBindingMode: WaitForFirstConsumer
    allowVolumeExpansion: true
default_removed_from:
  description: Other classes whose default mark was set to C("false") in this run.
  returned: always
  type: list
  elements: str
  sample: [standard]
actions:
  description:
    - Each write request sent (in check mode, sent as a server-side dry run), in order. Never
      holds a request body.
    - C(sent=false) marks a request check mode could not dry-run (see O(recreate)).
  returned: always
  type: list
  elements: dict
  sample:
    - {description: "create StorageClass lvm-thin", method: POST, path: /apis/storage.k8s.io/v1/storageclasses, dry_run: false}
reads:
  description: The read requests made, as [method, path].
  returned: always
  type: list
  elements: list
notes:
  description: Decisions worth knowing (re-created class, requests check mode could not dry-run).
  returned: when there are any
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.k8s.client import AUTH_ARG_SPEC, require_client
from ansible_collections.strata.storage.plugins.module_utils.k8s.apply import apply_class, storageclass_desired
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import run_module


def body(module, runner):
    apply_class(module, runner, "StorageClass", storageclass_desired, "storageclass")


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        provisioner=dict(type="str"),
        parameters=dict(type="dict"),
        reclaim_policy=dict(type="str", choices=["Delete", "Retain"]),
        volume_binding_mode=dict(type="str", choices=["Immediate", "WaitForFirstConsumer"]),
        allow_volume_expansion=dict(type="bool"),
        mount_options=dict(type="list", elements="str"),
        allowed_topologies=dict(type="list", elements="dict"),
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
