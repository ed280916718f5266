#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: iscsi_initiator
short_description: open-iscsi initiator name, SendTargets discovery, CHAP, logins and startup, with the disks each session gives
version_added: 0.2.0
description:
  - Converges the open-iscsi initiator of a host in one call. Its initiator name, SendTargets
    discovery (with discovery CHAP), CHAP and mutual CHAP per target, automatic startup, login and
    logout per portal, removal of node records, and an optional rescan.
  - Reports every session of the listed targets with its connection state and the disks it gave
    (C(/dev/sdX), the C(/dev/disk/by-path) link, the WWID used by C(/dev/disk/by-id/wwn-...) and
    multipath).
  - State is read from files and sysfs (no process); a no-change run starts no process at all.
  - CHAP secrets never appear on a command line. C(iscsiadm -o update -v SECRET) would show them in
    the process list and audit logs, so the module writes the C(node.session.auth.*) and
    C(discovery.sendtargets.auth.*) lines of iscsiadm's record files itself, atomically (temp file
    0600, fsync, rename), keeping every other line as iscsiadm wrote it. iscsiadm still creates the
    records (discovery), logs in and out.
  - Discovery runs only for targets whose listed portals have no node record yet, with C(-o new)
    (existing records and their settings are never overwritten). A portal that discovery does not
    return fails the run with the likely reasons (no ACL for this initiator, wrong portal, discovery
    CHAP).
  - When a later login of the run fails (for example a CHAP mismatch on the second portal), the
    sessions this run had logged into are logged out again and listed in RV(rolled_back).
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - open-iscsi (RHEL family, iscsi-initiator-utils) with iscsid running (or socket-activated)
options:
  initiator_name:
    description:
      - The initiator's iSCSI name, written to C(/etc/iscsi/initiatorname.iscsi); iscsid is restarted
        (only if it runs) so that new sessions use it. Left out, kept.
    type: str
  targets:
    description: Targets to log into, log out of, or forget.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The target's IQN.
        type: str
        required: true
        aliases: [iqn, target]
      portals:
        description:
          - Portals (V(ADDRESS) or V(ADDRESS:PORT), IPv6 in brackets) to log in through. Two portals of one
            LUN give two paths, which multipath (P(strata.storage.multipath#role)) joins into one device.
        type: list
        elements: str
        required: true
      discovery_portal:
        description: Where to run SendTargets discovery (default the first portal).
        type: str
      discovery_chap:
        description: CHAP for discovery (the target's discovery authentication). Left out, kept.
        type: dict
        suboptions:
          userid:
            description: CHAP user name for discovery.
            type: str
          password:
            description: CHAP secret for discovery (12 to 255 characters).
            type: str
          mutual_userid:
            description: User name the target must answer with.
            type: str
          mutual_password:
            description: Secret the target must answer with.
            type: str
      chap:
        description:
          - CHAP credentials for the sessions (the target's ACL credentials), and for mutual CHAP the ones
            the target must answer with. Secrets are 12 to 255 characters, the mutual one different.
            Left out, the records' auth settings are kept.
        type: dict
        suboptions:
          userid:
            description: CHAP user name of this initiator.
            type: str
          password:
            description: CHAP secret of this initiator.
            type: str
          mutual_userid:
            description: User name the target must answer with.
            type: str
          mutual_password:
            description: Secret the target must answer with.
            type: str
      startup:
        description:
          - V(automatic) logs in at boot (open-iscsi.service, or iscsi.service on RHEL, must be enabled;
            the P(strata.storage.iscsi_initiator#role) role does it), V(onboot) for a root disk,
            V(manual) never. Left out, kept.
        type: str
        choices: [automatic, manual, onboot]
      settings:
        description:
          - Other keys of the node records, for example C(node.session.timeo.replacement_timeout) or
            C(node.conn[0].timeo.noop_out_interval) (faster path failure detection under multipath).
            CHAP, startup and the record's identity have their own options and are refused here. A
            session takes them at its next login (see O(relogin)).
        type: dict
        default: {}
      state:
        description:
          - V(logged_in) (discover if needed, log in on every portal), V(logged_out) (log out, keep the
            records), V(absent) (log out and delete the records).
        type: str
        choices: [logged_in, logged_out, absent]
        default: logged_in
  rescan:
    description: Rescan the sessions of the listed targets for new or resized LUNs (changed only when disks changed).
    type: bool
    default: false
  relogin:
    description:
      - Log out and back in, one portal at a time, the sessions whose CHAP credentials (or O(targets[].settings))
        this run changed.
        A session keeps the credentials of its login, so once the target has new ones, its next
        reconnect (a network blip, a target restart) fails until it logs in again. With multipath the
        other paths carry the I/O meanwhile; without it the disk is gone for a moment.
    type: bool
    default: false
  device_timeout:
    description: Seconds to wait for the disks of new sessions (a warning names the ones that did not appear).
    type: int
    default: 30
  db_root:
    description:
      - iscsiadm's database folder (with C(nodes/) and C(send_targets/)). Left out, V(/etc/iscsi) where it
        has C(nodes/) (Debian, Ubuntu), else V(/var/lib/iscsi) (RHEL family).
    type: path
extends_documentation_fragment:
  - strata.storage.action_groups.iscsi
  - strata.storage.attributes
notes:
  - New CHAP credentials of a target that is logged in take effect at its next login (see O(relogin)).
seealso:
  - module: strata.storage.iscsi_target
  - module: strata.storage.iscsi_info
"""

EXAMPLES = r"""
- name: Log in to a target through two portals with mutual CHAP, at boot too
  strata.storage.iscsi_initiator:
    initiator_name: iqn.1993-08.org.debian:01:client1
    targets:
      - name: iqn.2026-01.com.example:storage.lab
        portals: [192.0.2.10, 198.51.100.10]
        chap:
          userid: client1
          password: "{{ vault_iscsi_client1_secret }}"
          mutual_userid: storage
          mutual_password: "{{ vault_iscsi_target_secret }}"
        startup: automatic
  register: iscsi

- name: The disks it gave
  ansible.builtin.debug:
    msg: "{{ iscsi.devices | map(attribute='by_path') | list }}"

- name: Log out and forget the target
  strata.storage.iscsi_initiator:
    targets:
      - {name: iqn.2026-01.com.example:storage.lab, portals: [192.0.2.10, 198.51.100.10], state: absent}
"""

RETURN = r"""
initiator_name:
  description: The initiator name after the run.
  returned: always
  type: str
sessions:
  description: Sessions of the listed targets (of all targets when none is listed) after the run.
  returned: always
  type: list
  elements: dict
  sample:
    - sid: 3
      target: iqn.2026-01.com.example:storage.lab
      portal: "192.0.2.10:3260"
      tpgt: 1
      state: LOGGED_IN
      connection_state: up
      iface: default
      initiator: iqn.1993-08.org.debian:01:client1
      recovery_tmo: 5
      devices:
        - {lun: 0, hctl: "2:0:0:0", name: sda, path: /dev/sda, state: running, vendor: LIO-ORG, model: IBLOCK,
           by_path: "/dev/disk/by-path/ip-192.0.2.10:3260-iscsi-iqn.2026-01.com.example:storage.lab-lun-0",
           wwid: "36001405a1b2c3d4e5f60718293a4b5c6", holders: [dm-3]}
devices:
  description: The disks of those sessions, each with its target and portal.
  returned: always
  type: list
  elements: dict
actions:
  description:
    - Every change made (or that would be made in check mode), in order. Commands as argv lists
      (never holding a secret); record files by path (their content is never returned).
  returned: always
  type: list
  elements: dict
reads:
  description:
    - What was read. C([open-iscsi, read, FILE, DB, SYSFS]) is one pass over the initiator name, the
      node records and sysfs; commands (C(udevadm settle), a check-mode discovery) are listed as argv.
  returned: always
  type: list
  elements: list
rolled_back:
  description: On a failed real run, the logouts of the sessions this run had logged into.
  returned: on failure, when something was undone
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.core.module_support import finish, run_module
from ansible_collections.strata.storage.plugins.module_utils.iscsi.initiator import INITIATOR_SPEC
from ansible_collections.strata.storage.plugins.module_utils.iscsi.initiator_run import InitiatorRun


def body(module, runner):
    plan, result = InitiatorRun(module, runner).run()
    finish(module, runner, plan, **result)


def main():
    module = AnsibleModule(argument_spec=INITIATOR_SPEC, supports_check_mode=True)
    run_module(module, body)


if __name__ == "__main__":
    main()
