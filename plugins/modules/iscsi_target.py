#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: iscsi_target
short_description: The whole LIO iSCSI tree of one target (backstores, TPGs, portals, LUNs, ACLs, CHAP) through rtslib-fb
version_added: 0.2.0
description:
  - Converges one iSCSI target of the Linux kernel target (LIO) in one call. Its backstores
    (block devices, files), target portal groups with their attributes and parameters, network
    portals, LUNs, initiator ACLs with their mapped LUNs, CHAP and mutual CHAP per ACL, and the
    host's discovery authentication.
  - Talks to LIO through the C(rtslib_fb) Python library on the target host, never by scraping
    C(targetcli). The LIO tree is read once (a walk of configfs, listed in RV(reads)); every change
    is planned and checked before the first one is made, so bad input changes nothing.
  - A no-change run reads the tree once and writes nothing.
  - Secure defaults for every TPG it manages, unless O(tpgs[].attributes) says otherwise;
    C(generate_node_acls=0) and C(demo_mode_discovery=0) (no demo mode; an initiator without an ACL
    can neither log in nor discover the target), C(cache_dynamic_acls=0),
    C(demo_mode_write_protect=1), and C(authentication=1) wherever an ACL has CHAP credentials.
    A new TPG is configured while disabled and enabled last, after its portals exist.
  - Existing objects are reconciled (attributes, parameters, CHAP, mapped LUNs, write protection),
    not only created. Objects of the target that are not listed are left alone unless
    O(purge=true). Removing a LUN, ACL, TPG, the target or a backstore that a logged-in initiator
    uses is refused unless O(remove_in_use=true).
  - After a change the configuration of the whole host is saved, as C(targetctl save) would, to
    O(save_file) (mode 0600, fsync, rename, older copies kept), where C(rtslib-fb-targetctl.service)
    (Debian; C(target.service) on RHEL) restores it at boot.
  - CHAP secrets are C(no_log), never on a command line, and never in RV(actions) or the diff.
  - When a real run fails part way, what this run created (backstores, the target, TPGs, portals,
    LUNs, ACLs, mapped LUNs) is removed again, newest first, and reported in RV(rolled_back).
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - python3-rtslib-fb on the target host (RHEL family, python3-rtslib), importable by the Python
    that runs the module (the system Python; set C(ansible_python_interpreter) accordingly)
  - the kernel's target modules (C(target_core_mod), C(iscsi_target_mod)); rtslib loads them
options:
  wwn:
    description: The target's iSCSI name (an IQN such as V(iqn.2026-01.com.example:storage), or eui./naa.).
    type: str
    required: true
    aliases: [iqn, name]
  state:
    description:
      - V(present) converges the target; V(absent) removes it with all its TPGs (refused while
        initiators are logged in, unless O(remove_in_use=true)). Backstores are removed only when they
        are listed with C(state=absent).
    type: str
    choices: [present, absent]
    default: present
  backstores:
    description:
      - Backstores the target exports (they are host-wide LIO objects; other targets may export
        them too). Listed backstores are created or reconciled; unlisted ones are never touched.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: "Backstore name: letters, digits and C(_), C(.), C(:), C(+), C(-)."
        type: str
        required: true
      type:
        description: V(block) exports a block device; V(fileio) a file (or a block device through the page cache).
        type: str
        choices: [block, fileio]
        default: block
      device:
        description:
          - Block device of a V(block) backstore. It must be blank (no filesystem, partition table,
            RAID or LVM signature) unless named in O(force); a device in use (mounted, held, a PV of a
            volume group) is refused even then.
        type: path
      file:
        description:
          - File of a V(fileio) backstore. A missing file is created sparse (0600) with O(backstores[].size);
            its folder must exist.
        type: path
      size:
        description: Size of a V(fileio) backstore (V(512M), V(10G)); left out, the size of the existing file.
        type: str
      write_back:
        description:
          - V(fileio) only. V(true) caches writes in the target's page cache (write-back, lost on a
            host crash); V(false) (the default at creation) writes through (O_DSYNC). Fixed at creation.
          - A V(block) backstore always follows the write cache of its device (the kernel decides).
        type: bool
      readonly:
        description: V(block) only. Export read-only. Fixed at creation (default V(false)).
        type: bool
      wwn:
        description:
          - T10 unit serial at creation (a UUID). The WWID initiators see (C(wwid) in RV(backstores)) is
            derived from it, so a fixed serial gives a WWID known in advance (multipath aliases).
            Fixed at creation.
        type: str
      attributes:
        description: Backstore attributes to reconcile (for example C(emulate_tpu), C(is_nonrot)); unlisted ones are kept.
        type: dict
        default: {}
      state:
        description:
          - V(absent) removes the backstore; refused while any LUN of another target exports it, or a
            LUN this call removes is in use (see O(remove_in_use)).
        type: str
        choices: [present, absent]
        default: present
  tpgs:
    description: Target portal groups of the target.
    type: list
    elements: dict
    default: []
    suboptions:
      tag:
        description: The TPG tag (1 to 65535).
        type: int
        default: 1
      state:
        description: V(absent) removes the TPG with its LUNs, ACLs and portals.
        type: str
        choices: [present, absent]
        default: present
      enable:
        description: Enable the TPG (logins are refused while it is disabled).
        type: bool
        default: true
      authentication:
        description:
          - Require CHAP for logins (TPG attribute C(authentication)). Left out, it is turned on when any
            listed ACL has CHAP credentials and otherwise kept (a new TPG gets LIO's default, on).
            V(false) together with CHAP credentials is refused.
        type: bool
      attributes:
        description:
          - TPG attributes to reconcile. The secure defaults above apply unless set here; unlisted
            attributes are kept.
        type: dict
        default: {}
      parameters:
        description: iSCSI parameters of the TPG to reconcile (for example C(HeaderDigest), C(MaxConnections)).
        type: dict
        default: {}
      portals:
        description: Network portals (address and port the TPG listens on).
        type: list
        elements: dict
        default: []
        suboptions:
          ip:
            description:
              - An explicit address (IPv4, or IPv6 with or without brackets). V(0.0.0.0) and V(::) listen
                on every address and need O(allow_any_address=true).
            type: str
            required: true
          port:
            description: TCP port.
            type: int
            default: 3260
          state:
            description: V(absent) stops listening there.
            type: str
            choices: [present, absent]
            default: present
      luns:
        description: LUNs of the TPG, each exporting a backstore.
        type: list
        elements: dict
        default: []
        suboptions:
          index:
            description: LUN number (0 to 65535), unique within the TPG.
            type: int
            required: true
          backstore:
            description: Backstore name (or V(block/NAME), V(fileio/NAME)), listed in O(backstores) or existing.
            type: str
          state:
            description: V(absent) removes the LUN (refused while a logged-in initiator has it mapped, see O(remove_in_use)).
            type: str
            choices: [present, absent]
            default: present
      acls:
        description: Initiators allowed in, each with its mapped LUNs and CHAP credentials.
        type: list
        elements: dict
        default: []
        suboptions:
          initiator:
            description: The initiator's iSCSI name (its C(/etc/iscsi/initiatorname.iscsi)).
            type: str
            required: true
          mapped_luns:
            description:
              - LUNs this initiator sees. Left out, every LUN of the TPG under its own number, writable.
            type: list
            elements: dict
            suboptions:
              index:
                description: LUN number the initiator sees (0 to 255).
                type: int
                required: true
              lun:
                description: The TPG LUN it shows (default the same number).
                type: int
              write_protect:
                description: Read-only for this initiator.
                type: bool
                default: false
          chap:
            description:
              - CHAP credentials the initiator must present (C(userid), C(password)), and for mutual CHAP
                the ones the target presents back (C(mutual_userid), C(mutual_password)). Secrets are 12 to
                255 characters (RFC 3720 asks for 96 bits without IPsec; the Microsoft initiator refuses less); the
                mutual secret must differ. Left out, kept.
            type: dict
            suboptions:
              userid:
                description: CHAP user name of the initiator.
                type: str
              password:
                description: CHAP secret of the initiator.
                type: str
              mutual_userid:
                description: CHAP user name the target answers with (mutual CHAP).
                type: str
              mutual_password:
                description: CHAP secret the target answers with (mutual CHAP).
                type: str
          attributes:
            description: ACL attributes to reconcile (for example C(nopin_timeout)).
            type: dict
            default: {}
          state:
            description: V(absent) removes the ACL (refused while that initiator is logged in, see O(remove_in_use)).
            type: str
            choices: [present, absent]
            default: present
  discovery_auth:
    description:
      - CHAP for SendTargets discovery. Host-wide (all iSCSI targets of the host share it). Left out, kept.
    type: dict
    suboptions:
      enable:
        description: Require CHAP for discovery.
        type: bool
      userid:
        description: CHAP user name initiators present for discovery.
        type: str
      password:
        description: CHAP secret initiators present for discovery.
        type: str
      mutual_userid:
        description: CHAP user name the target answers with.
        type: str
      mutual_password:
        description: CHAP secret the target answers with.
        type: str
  purge:
    description:
      - Remove TPGs, portals, LUNs, ACLs and mapped LUNs of this target that are not listed (listed
        objects keep their unlisted children otherwise). Backstores are never purged.
    type: bool
    default: false
  remove_in_use:
    description:
      - Allow removing a LUN, mapped LUN, ACL, TPG, the target or a backstore while a logged-in
        initiator (or a demo-mode session) uses it. The initiator loses the device.
    type: bool
    default: false
  allow_any_address:
    description: Allow portals on V(0.0.0.0) or V(::) (every address of the host).
    type: bool
    default: false
  save:
    description:
      - Save the host's whole LIO configuration to O(save_file) when it differs from what is running
        (also on a run that changed nothing else, for example after a manual change or a lost file).
    type: bool
    default: true
  save_file:
    description: Where the target service restores the configuration from at boot.
    type: path
    default: /etc/rtslib-fb-target/saveconfig.json
  keep_backups:
    description: Older copies of O(save_file) to keep (C(<file>.strata-bak.N), mode 0600).
    type: int
    default: 3
extends_documentation_fragment:
  - strata.storage.action_groups.iscsi
  - strata.storage.device_guard
  - strata.storage.attributes
notes:
  - The role P(strata.storage.iscsi_target#role) calls this module once per target and enables the
    service that restores the configuration at boot.
  - Backstore identities (device, file, size, write cache mode, read-only flag, wwn) are fixed at
    creation; a different value is refused with the hint to remove and re-create the backstore.
  - A LUN number that exports another backstore is refused (the initiator would see other data
    under the same number); remove the LUN first.
seealso:
  - module: strata.storage.iscsi_initiator
  - module: strata.storage.iscsi_info
"""

EXAMPLES = r"""
- name: Export an LV and a file with CHAP to one initiator, on two addresses
  strata.storage.iscsi_target:
    wwn: iqn.2026-01.com.example:storage.lab
    backstores:
      - {name: lab_db, type: block, device: /dev/lab_data/iscsi0}
      - {name: scratch, type: fileio, file: /srv/iscsi/scratch.img, size: 1G}
    tpgs:
      - tag: 1
        portals:
          - {ip: 192.0.2.10}
          - {ip: 198.51.100.10}
        luns:
          - {index: 0, backstore: lab_db}
          - {index: 1, backstore: scratch}
        acls:
          - initiator: iqn.1993-08.org.debian:01:client1
            chap:
              userid: client1
              password: "{{ vault_iscsi_client1_secret }}"
              mutual_userid: storage
              mutual_password: "{{ vault_iscsi_target_secret }}"

- name: Drop everything of the target that is not listed (ACLs, LUNs, portals)
  strata.storage.iscsi_target:
    wwn: iqn.2026-01.com.example:storage.lab
    tpgs:
      - tag: 1
        portals: [{ip: 192.0.2.10}]
        luns: [{index: 0, backstore: lab_db}]
        acls: [{initiator: "iqn.1993-08.org.debian:01:client1"}]
    purge: true

- name: Remove the target, and the backstore it exported
  strata.storage.iscsi_target:
    wwn: iqn.2026-01.com.example:storage.lab
    state: absent
    backstores:
      - {name: lab_db, state: absent}
"""

RETURN = r"""
target:
  description: The target after the run (predicted in check mode), secrets left out.
  returned: always (empty when the target does not exist)
  type: dict
  sample:
    wwn: iqn.2026-01.com.example:storage.lab
    tpgs:
      - tag: 1
        enable: true
        authentication: 1
        generate_node_acls: 0
        demo_mode_discovery: 0
        portals: ["192.0.2.10:3260"]
        luns: [{index: 0, backstore: /backstores/block/lab_db, wwid: "36001405a1b2c3d4e5f60718293a4b5c6"}]
        acls:
          - initiator: iqn.1993-08.org.debian:01:client1
            mapped_luns: [{index: 0, lun: 0, write_protect: false}]
            chap_userid: client1
            chap_mutual_userid: storage
            chap_password_set: true
            logged_in: true
            session: {id: 3, state: LOGGED_IN, type: Normal, connections: [{cid: 0, state: LOGGED_IN, address: 192.0.2.20}]}
        dynamic_sessions: []
backstores:
  description: The listed and exported backstores after the run; C(wwid) is what initiators see (C(/dev/disk/by-id/wwn-0x...), multipath wwid).
  returned: always
  type: list
  elements: dict
  sample:
    - {name: lab_db, type: block, dev: /dev/lab_data/iscsi0, wwn: a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90,
       wwid: "36001405a1b2c3d4e5f60718293a4b5c6", write_back: false, readonly: false}
discovery_auth:
  description: Discovery authentication after the run, secrets shown as C((secret)).
  returned: when O(discovery_auth) is given
  type: dict
saved:
  description: The saved configuration file and whether this run wrote it.
  returned: always
  type: dict
  sample: {path: /etc/rtslib-fb-target/saveconfig.json, changed: true}
actions:
  description:
    - Every change made (or that would be made in check mode), in order, each with a description, the
      LIO operation (C(lio)) and its arguments (C(args), never a secret), or the file written (C(path)).
  returned: always
  type: list
  elements: dict
  sample:
    - {description: "create backstore block/lab_db on /dev/lab_data/iscsi0", lio: backstore_create,
       args: {plugin: block, name: lab_db, dev: /dev/lab_data/iscsi0, readonly: false, wwn: null}}
    - {description: "save the LIO configuration to /etc/rtslib-fb-target/saveconfig.json", path: /etc/rtslib-fb-target/saveconfig.json}
reads:
  description:
    - What was read to learn the state. C([rtslib_fb, read, /sys/kernel/config/target]) is one walk of
      the LIO tree (once per run, once more after a change); commands (C(blkid), C(lvm)) probe new
      backstore devices.
  returned: always
  type: list
  elements: list
rolled_back:
  description: On a failed real run, the undo of what this run had created, newest first.
  returned: on failure, when something was undone
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import finish, run_module
from ansible_collections.strata.storage.plugins.module_utils.iscsi import lio
from ansible_collections.strata.storage.plugins.module_utils.iscsi.target import fail, run_target
from ansible_collections.strata.storage.plugins.module_utils.iscsi.target_planner import TARGET_SPEC


def body(module, runner):
    if not lio.HAS_RTSLIB:
        module.fail_json(msg=missing_required_lib(lio.RTSLIB_PACKAGE), exception=lio.RTSLIB_IMPORT_ERROR)
    try:
        plan, result = run_target(module, runner)
    except StrataError as exc:
        fail(module, runner, exc)
    finish(module, runner, plan, **result)


def main():
    module = AnsibleModule(argument_spec=TARGET_SPEC, supports_check_mode=True)
    run_module(module, body)


if __name__ == "__main__":
    main()
