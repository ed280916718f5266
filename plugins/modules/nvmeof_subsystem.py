#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: nvmeof_subsystem
short_description: Export block devices over NVMe over Fabrics (Linux nvmet), one subsystem per call
version_added: 0.1.0
description:
  - Creates, changes and removes one NVMe-oF subsystem of the Linux kernel target (nvmet) by its NQN
    - its serial and model numbers, its namespaces (the exported block devices), the ports it is offered
    on (TCP or loop) and the hosts allowed to connect, with DH-HMAC-CHAP keys where the kernel supports them.
  - Drives C(/sys/kernel/config/nvmet) directly (no nvmetcli needed). The whole tree is read in one walk of
    configfs from Python, so a run that changes nothing starts no process at all.
  - Loads the kernel modules it needs (C(nvmet), C(nvmet-tcp), C(nvme-loop)) when they are not loaded.
  - Saves the whole nvmet tree as JSON (nvmetcli's layout, mode 0600, written atomically, 3 older copies kept)
    so the C(strata.storage.nvmeof_target) role's boot unit restores it.
  - Objects of the subsystem that are not listed (namespaces, ports, hosts) are left alone unless O(purge=true).
  - Bad input fails before anything is changed; a real run that still fails removes again what it had created.
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - Linux with the nvmet and nvmet-tcp modules (nvme-loop for loop ports), configfs mounted on /sys/kernel/config
  - util-linux (C(blkid), to probe new namespace devices)
options:
  nqn:
    description:
      - The subsystem's NVMe Qualified Name, for example C(nqn.2014-08.com.example:storage.db).
      - Checked against the NVMe rules (form, at most 223 bytes, not the discovery NQN) before anything runs.
    type: str
    required: true
    aliases: [name]
  state:
    description:
      - V(present) creates or updates the subsystem; V(absent) removes it with its namespaces, port links and
        allowed-host links (the exported devices and their data are untouched).
    type: str
    choices: [present, absent]
    default: present
  serial:
    description:
      - Serial number (1-20 printable ASCII characters). Left out, the kernel's random one is kept.
      - The kernel refuses to change it once a host has identified the subsystem.
    type: str
  model:
    description:
      - Model number (1-40 printable ASCII characters; the kernel's default is C(Linux)).
      - The kernel refuses to change it once a host has identified the subsystem.
    type: str
  allow_any_host:
    description:
      - Let any host connect, whatever its NQN. A new subsystem gets V(false); left out, an existing
        subsystem keeps its setting (with a warning when it is on).
      - Exclusive with O(hosts) (nvmet refuses both).
    type: bool
  namespaces:
    description:
      - The namespaces (exported block devices). Left out, the namespaces are kept as they are.
      - A new namespace's device is probed first; a device holding any signature (a filesystem, an LVM PV,
        a partition table) is refused unless named in O(force), a device in use (mounted, held) or already
        backing another namespace always.
      - Changing the device, UUID or NGUID of a namespace disables it for the change.
    type: list
    elements: dict
    suboptions:
      nsid:
        description: Namespace ID, 1 to 4294967294.
        type: int
        required: true
      device:
        description: Block device path. Required to create the namespace. Compared by device number.
        type: path
      uuid:
        description: Namespace UUID. Left out, the kernel's (made at creation) is kept and saved.
        type: str
      nguid:
        description: Namespace NGUID, 32 hexadecimal digits (dashes allowed).
        type: str
      enabled:
        description: Whether the namespace is enabled (visible to hosts).
        type: bool
        default: true
  ports:
    description:
      - The ports the subsystem is offered on. A port that exists with the same transport and address is
        reused (ports are shared by subsystems); otherwise one is created with O(ports[].id) or the lowest
        free id.
      - Left out, the subsystem's port links are kept as they are.
    type: list
    elements: dict
    suboptions:
      id:
        description: Port id (0-65535). Left out, an existing port with this address, or the lowest free id.
        type: int
      trtype:
        description:
          - Transport. V(loop) needs the C(nvme-loop) module (the kernel option CONFIG_NVME_TARGET_LOOP, which
            Debian 12's kernel does not have).
        type: str
        choices: [tcp, loop]
        default: tcp
      traddr:
        description:
          - IP address to listen on (tcp only, required). It must be an address of this host; V(0.0.0.0) and
            V(::) are refused (explicit addresses only).
        type: str
      trsvcid:
        description: TCP port (tcp only). Left out, V(4420), the NVMe/TCP port.
        type: str
      adrfam:
        description: Address family; follows from O(ports[].traddr) and need not be given.
        type: str
        choices: [ipv4, ipv6]
  hosts:
    description:
      - Host NQNs allowed to connect, each with optional DH-HMAC-CHAP keys. Left out, the allowed hosts are
        kept as they are.
      - Keys need a kernel whose nvmet has DH-HMAC-CHAP (C(/sys/kernel/config/nvmet/hosts/<nqn>/dhchap_key)
        exists, CONFIG_NVME_TARGET_AUTH); otherwise the module fails with the kernel's reason and changes
        nothing. Debian 12's kernel 6.1 has none.
      - Host entries are shared by all subsystems, so a key set here applies to the host on every subsystem.
    type: list
    elements: dict
    aliases: [allowed_hosts]
    suboptions:
      nqn:
        description: The host's NQN.
        type: str
        required: true
      dhchap_key:
        description: The host's DH-HMAC-CHAP secret (C(DHHC-1:xx:...:), as C(nvme gen-dhchap-key) makes it).
        type: str
      dhchap_ctrl_key:
        description: The controller's secret, for bidirectional authentication (needs O(hosts[].dhchap_key)).
        type: str
      dhchap_hash:
        description: Hash for DH-HMAC-CHAP.
        type: str
        choices: [hmac(sha256), hmac(sha384), hmac(sha512)]
      dhchap_dhgroup:
        description: Diffie-Hellman group for DH-HMAC-CHAP.
        type: str
        choices: ["null", ffdhe2048, ffdhe3072, ffdhe4096, ffdhe6144, ffdhe8192]
  purge:
    description:
      - Remove namespaces, port links and allowed hosts of the subsystem that are not listed (only for the
        options given). Ports and host entries no subsystem uses any more are removed with them.
    type: bool
    default: false
  force:
    description:
      - Devices that may be exported although they hold signatures (a filesystem, an LVM PV of another volume
        group, a partition table). Hosts then read and write that content. Nothing is wiped.
      - A device that is mounted, held (device-mapper, md) or already exported is refused even when named here.
    type: list
    elements: path
    default: []
  force_in_use:
    description:
      - Remove or change what connected hosts use (a namespace, a port link, the whole subsystem) although
        hosts may be connected. Without it such a change is refused.
      - Linux 6.1's nvmet does not list its controllers, so a subsystem counts as connected when this host has
        a controller for it or when a TCP port it is offered on has established connections.
    type: bool
    default: false
  save:
    description:
      - Save the whole nvmet tree to O(save_path) after a change, and whenever the file differs from the tree.
    type: bool
    default: true
  save_path:
    description: Where the tree is saved (nvmetcli's default path and JSON layout).
    type: path
    default: /etc/nvmet/config.json
extends_documentation_fragment:
  - strata.storage.action_groups.nvmeof
  - strata.storage.attributes
notes:
  - DH-HMAC-CHAP keys are never shown in RV(actions), RV(subsystem) or the diff (C((secret)) instead). They are
    written to configfs from Python and saved in the 0600 file only.
  - A run that changes nothing reads configfs, /proc/net/tcp and /sys/class/nvme from Python and starts no process.
  - The C(strata.storage.nvmeof_target) role runs this module for each subsystem and installs the boot unit that
    restores the saved tree.
seealso:
  - module: strata.storage.nvmeof_host
"""

EXAMPLES = r"""
- name: Export an LV over NVMe/TCP to one host
  strata.storage.nvmeof_subsystem:
    nqn: nqn.2014-08.com.example:storage.db
    serial: db0001
    namespaces:
      - nsid: 1
        device: /dev/data/db
    ports:
      - trtype: tcp
        traddr: 192.0.2.10
        trsvcid: "4420"
    hosts:
      - nqn: nqn.2014-08.com.example:host.app1

- name: With DH-HMAC-CHAP (kernels with nvmet auth)
  strata.storage.nvmeof_subsystem:
    nqn: nqn.2014-08.com.example:storage.db
    hosts:
      - nqn: nqn.2014-08.com.example:host.app1
        dhchap_key: "{{ vault_app1_dhchap_key }}"
        dhchap_hash: hmac(sha256)

- name: Keep only namespace 1 (a connected host keeps the others unless forced)
  strata.storage.nvmeof_subsystem:
    nqn: nqn.2014-08.com.example:storage.db
    namespaces:
      - nsid: 1
        device: /dev/data/db
    purge: true

- name: Remove the subsystem
  strata.storage.nvmeof_subsystem:
    nqn: nqn.2014-08.com.example:storage.db
    state: absent
"""

RETURN = r"""
subsystem:
  description: The subsystem after the run (predicted in check mode); C({state&colon; absent}) when it is gone.
  returned: always
  type: dict
  contains:
    nqn: {description: The NQN., type: str, returned: when present}
    state: {description: V(present) or V(absent)., type: str, returned: always}
    allow_any_host: {description: Whether any host may connect., type: bool, returned: when present}
    serial: {description: Serial number., type: str, returned: when present}
    model: {description: Model number., type: str, returned: when present}
    version: {description: NVMe version the subsystem reports., type: str, returned: when present}
    namespaces:
      description: Namespaces with C(nsid), C(device), C(uuid), C(nguid), C(enabled).
      type: list
      elements: dict
      returned: when present
    ports:
      description: Ports the subsystem is offered on, with C(id), C(trtype), C(adrfam), C(traddr), C(trsvcid).
      type: list
      elements: dict
      returned: when present
    hosts:
      description: Allowed hosts with C(nqn); C(dhchap_key) and C(dhchap_ctrl_key) appear as C((secret)) when set.
      type: list
      elements: dict
      returned: when present
  sample:
    nqn: nqn.2014-08.com.example:storage.db
    state: present
    allow_any_host: false
    serial: db0001
    model: Linux
    version: "1.3"
    namespaces: [{nsid: 1, device: /dev/data/db, uuid: da37f666-ea00-49bb-88ea-f6e5dbc3a5b5,
                  nguid: 00000000-0000-0000-0000-000000000000, enabled: true}]
    ports: [{id: 1, trtype: tcp, adrfam: ipv4, traddr: 192.0.2.10, trsvcid: "4420"}]
    hosts: [{nqn: "nqn.2014-08.com.example:host.app1"}]
in_use:
  description: Why hosts may be connected to the subsystem (empty when none were seen).
  returned: always
  type: list
  elements: str
auth:
  description: Whether this kernel's nvmet has DH-HMAC-CHAP (C(supported) true, false or null when unknown) and why.
  returned: always
  type: dict
actions:
  description:
    - Every change made (or, in check mode, that would be made), in order. A configfs change has C(configfs)
      (mkdir, write, symlink, unlink, rmdir), C(path) and C(value) or C(target) (a key shows as C((secret))); a
      module load has C(cmd); the save has C(path).
  returned: always
  type: list
  elements: dict
  sample:
    - {description: "create subsystem nqn.2014-08.com.example:storage.db", configfs: mkdir,
       path: "/sys/kernel/config/nvmet/subsystems/nqn.2014-08.com.example:storage.db"}
    - {description: "save the nvmet configuration to /etc/nvmet/config.json (mode 0600, 3 copies kept)",
       path: /etc/nvmet/config.json}
reads:
  description:
    - What was read to learn the state. C([configfs, read, /sys/kernel/config/nvmet, /proc/net/tcp, ...]) is one
      walk from Python (no process), once per run and once more after a change; C(blkid) probes a new
      namespace's device.
  returned: always
  type: list
  elements: list
rolled_back:
  description: On a failed real run, the undo of what this run had created (C(rmdir), C(rm) of its configfs entries), newest first.
  returned: on failure, when something was undone
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.core import atomic
from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInspector, device_key
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import file_writer, finish, run_module
from ansible_collections.strata.storage.plugins.module_utils.nvmeof import configfs
from ansible_collections.strata.storage.plugins.module_utils.nvmeof import target_planner as planner


def body(module, runner):
    req = planner.request_from_params(module.params)
    state = configfs.read_state(runner)
    plan = planner.plan_subsystem(req, state, DeviceInspector(runner).inspect, device_key,
                                  saved_text=atomic.read_text(req.save_path), config_text=configfs.config_text(state))
    save = plan.save_action     # its content is the tree as the kernel has it after the changes
    configfs.execute(runner, [a for a in plan.actions if a is not save])
    if not module.check_mode and [a for a in plan.actions if a is not save]:
        state = configfs.read_state(runner, facts=state.facts)     # report what the kernel now says
    if save is not None:
        save.content = configfs.config_text(state)
        runner.execute(save, writer=file_writer)   # keys inside: 0600, and core keeps its copies 0600 too
    after = plan.after if module.check_mode else planner.summary(state, req.nqn)
    plan.after = after
    supported, reason = state.facts.target_auth(state)
    finish(module, runner, plan, subsystem=after, in_use=state.in_use(req.nqn),
           auth={"supported": supported, "reason": reason})


def main():
    module = AnsibleModule(
        argument_spec=dict(
            nqn=dict(type="str", required=True, aliases=["name"]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            serial=dict(type="str"),
            model=dict(type="str"),
            allow_any_host=dict(type="bool"),
            namespaces=dict(type="list", elements="dict", options=dict(
                nsid=dict(type="int", required=True),
                device=dict(type="path"),
                uuid=dict(type="str"),
                nguid=dict(type="str"),
                enabled=dict(type="bool", default=True),
            )),
            ports=dict(type="list", elements="dict", options=dict(
                id=dict(type="int"),
                trtype=dict(type="str", default="tcp", choices=["tcp", "loop"]),
                traddr=dict(type="str"),
                trsvcid=dict(type="str"),
                adrfam=dict(type="str", choices=["ipv4", "ipv6"]),
            )),
            hosts=dict(type="list", elements="dict", aliases=["allowed_hosts"], options=dict(
                nqn=dict(type="str", required=True),
                dhchap_key=dict(type="str", no_log=True),
                dhchap_ctrl_key=dict(type="str", no_log=True),
                dhchap_hash=dict(type="str", choices=["hmac(sha256)", "hmac(sha384)", "hmac(sha512)"]),
                dhchap_dhgroup=dict(type="str", choices=["null", "ffdhe2048", "ffdhe3072", "ffdhe4096",
                                                         "ffdhe6144", "ffdhe8192"]),
            )),
            purge=dict(type="bool", default=False),
            force=dict(type="list", elements="path", default=[]),
            force_in_use=dict(type="bool", default=False),
            save=dict(type="bool", default=True),
            save_path=dict(type="path", default="/etc/nvmet/config.json"),
        ),
        supports_check_mode=True,
    )
    run_module(module, body)


if __name__ == "__main__":
    main()
