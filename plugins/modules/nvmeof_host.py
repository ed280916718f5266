#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: nvmeof_host
short_description: Connect this host to NVMe over Fabrics subsystems, persistently, and report what they gave
version_added: 0.1.0
description:
  - Sets this host's NVMe host NQN and host ID (C(/etc/nvme/hostnqn), C(/etc/nvme/hostid)).
  - Connects to and disconnects from NVMe-oF subsystems over TCP or loop with C(nvme connect) and
    C(nvme disconnect), with DH-HMAC-CHAP secrets that never appear on a command line.
  - Keeps persistent connections in C(/etc/nvme/config.json) (mode 0600, written atomically, 3 older copies
    kept, 0600 too), which C(nvmf-autoconnect.service) (C(nvme connect-all)) reads at boot; the
    C(strata.storage.nvmeof_host) role enables that service.
  - Reports every NVMe-oF controller of the host and the block devices (namespaces) each gave, read from
    sysfs. A run that changes nothing starts no process (unless O(discover) asks for discovery).
  - Optionally runs a discovery (C(nvme discover)) and returns the discovery log records.
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - nvme-cli 2.x (C(nvme connect --config)), the nvme-tcp kernel module (nvme-loop for loop)
options:
  hostnqn:
    description:
      - This host's NQN, written to C(/etc/nvme/hostnqn). Left out, the file is kept as it is.
      - Persistent connections are made as this NQN (C(nvme connect-all) at boot uses no other).
    type: str
  hostid:
    description: This host's ID (a UUID), written to C(/etc/nvme/hostid). Left out, the file is kept.
    type: str
  subsystems:
    description:
      - Connections to bring to their O(subsystems[].state). Connections not listed are left alone.
    type: list
    elements: dict
    default: []
    suboptions:
      nqn:
        description: The subsystem's NQN.
        type: str
        required: true
      transport:
        description: Transport. V(loop) needs the nvme-loop module, which Debian 12's kernel lacks.
        type: str
        choices: [tcp, loop]
        default: tcp
      traddr:
        description: The target's IP address (tcp).
        type: str
      trsvcid:
        description: The target's TCP port (tcp). Left out, V(4420).
        type: str
      host_iface:
        description:
          - Network interface to connect through (tcp). It must be one of this host's interfaces
            (C(/sys/class/net/<name>)); another name is refused before anything runs.
        type: str
      hostnqn:
        description:
          - Connect as this host NQN instead of the host's own (not for persistent connections, since
            C(nvme connect-all) at boot uses the host's own NQN only).
        type: str
      state:
        description:
          - V(connected) connects when no live controller for this subsystem and address exists.
          - V(disconnected) disconnects its controllers and removes its persistent entry. A controller whose
            block device is mounted or held is refused unless O(force_in_use).
        type: str
        choices: [connected, disconnected]
        default: connected
      persistent:
        description: Keep the connection in the persistent configuration, so it comes back at boot.
        type: bool
        default: true
      dhchap_secret:
        description:
          - The host's DH-HMAC-CHAP secret for this subsystem (C(DHHC-1:xx:...:)). Handed to nvme-cli through a
            0600 JSON file (C(--config)), never on the command line; kept in C(/etc/nvme/config.json) when persistent.
          - Refused with the kernel's reason when the host's kernel has no DH-HMAC-CHAP (CONFIG_NVME_AUTH,
            not in Debian 12's kernel 6.1).
        type: str
      dhchap_ctrl_secret:
        description: The controller's secret, for bidirectional authentication (needs O(subsystems[].dhchap_secret)).
        type: str
      ctrl_loss_tmo:
        description: Seconds to keep trying to reconnect a lost controller (nvme-cli's default 600; -1 forever).
        type: int
      reconnect_delay:
        description: Seconds between reconnect attempts.
        type: int
      keep_alive_tmo:
        description: Keep-alive timeout in seconds.
        type: int
      nr_io_queues:
        description: Number of I/O queues.
        type: int
  discover:
    description:
      - Discovery controllers to query (C(nvme discover), a read); their records are returned in RV(discovered).
    type: list
    elements: dict
    default: []
    suboptions:
      transport:
        description: Transport.
        type: str
        choices: [tcp, loop]
        default: tcp
      traddr:
        description: The discovery controller's address (tcp).
        type: str
      trsvcid:
        description: Its TCP port. Left out, V(8009) (the NVMe/TCP discovery port; Linux nvmet answers discovery on every port).
        type: str
      hostnqn:
        description: Discover as this host NQN instead of the host's own.
        type: str
  force_in_use:
    description: Disconnect although a namespace of the controller is mounted or held by another device.
    type: bool
    default: false
  config_path:
    description: The nvme-cli JSON configuration that holds the persistent connections.
    type: path
    default: /etc/nvme/config.json
extends_documentation_fragment:
  - strata.storage.action_groups.nvmeof
  - strata.storage.attributes
notes:
  - Secrets are never shown in RV(actions), RV(connections) or the diff.
  - The C(strata.storage.nvmeof_host) role runs this module and enables C(nvmf-autoconnect.service).
seealso:
  - module: strata.storage.nvmeof_subsystem
"""

EXAMPLES = r"""
- name: Connect to a subsystem over TCP, persistently
  strata.storage.nvmeof_host:
    hostnqn: nqn.2014-08.com.example:host.app1
    subsystems:
      - nqn: nqn.2014-08.com.example:storage.db
        traddr: 192.0.2.10
        trsvcid: "4420"

- name: Discover what a target offers this host
  strata.storage.nvmeof_host:
    discover:
      - traddr: 192.0.2.10
        trsvcid: "4420"
  register: found

- name: Disconnect
  strata.storage.nvmeof_host:
    subsystems:
      - nqn: nqn.2014-08.com.example:storage.db
        traddr: 192.0.2.10
        state: disconnected
"""

RETURN = r"""
hostnqn:
  description: This host's NQN after the run.
  returned: always
  type: str
hostid:
  description: This host's ID after the run.
  returned: always
  type: str
connections:
  description: For each listed subsystem (by C(nqn (address))), whether it is connected and through which controllers.
  returned: always
  type: dict
  sample: {"nqn.2014-08.com.example:storage.db (tcp 192.0.2.10:4420)": {connected: true, controllers: [nvme0]}}
controllers:
  description: Every NVMe-oF controller of this host after the run, with the namespaces (block devices) each gave.
  returned: always
  type: list
  elements: dict
  sample:
    - name: nvme0
      subsysnqn: nqn.2014-08.com.example:storage.db
      transport: tcp
      traddr: 192.0.2.10
      trsvcid: "4420"
      hostnqn: nqn.2014-08.com.example:host.app1
      state: live
      namespaces: [{name: nvme0n1, device: /dev/nvme0n1, nsid: 1, size: 1073741824,
                    uuid: da37f666-ea00-49bb-88ea-f6e5dbc3a5b5, wwid: uuid.da37f666-ea00-49bb-88ea-f6e5dbc3a5b5}]
persistent:
  description: The connections C(nvme connect-all) makes at boot for this host's NQN (from O(config_path)).
  returned: always
  type: list
  elements: str
  sample: ["nqn.2014-08.com.example:storage.db (tcp 192.0.2.10:4420)"]
discovered:
  description: The discovery log of each O(discover) entry (C(records) as nvme-cli reports them).
  returned: when O(discover) is given
  type: list
  elements: dict
auth:
  description: Whether this host's kernel can do DH-HMAC-CHAP (C(supported) true, false or null) and why.
  returned: always
  type: dict
actions:
  description: Every change made (or that would be made in check mode), in order; never a secret.
  returned: always
  type: list
  elements: dict
  sample:
    - description: "connect to nqn.2014-08.com.example:storage.db (tcp 192.0.2.10:4420) as nqn.2014-08.com.example:host.app1"
      cmd: [nvme, connect, --transport, tcp, --traddr, 192.0.2.10, --trsvcid, "4420", --nqn,
            "nqn.2014-08.com.example:storage.db", --hostnqn, "nqn.2014-08.com.example:host.app1", --config, none,
            --output-format, json]
reads:
  description:
    - What was read. C([sysfs, read, ...]) is the sysfs and /etc/nvme reading from Python (no process), once per
      run and once more after a change; C(nvme discover) appears when O(discover) asks for it.
  returned: always
  type: list
  elements: list
rolled_back:
  description: On a failed real run, the disconnects of the connections this run had made, newest first.
  returned: on failure, when something was undone
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.core.module_support import finish, run_module
from ansible_collections.strata.storage.plugins.module_utils.nvmeof import configfs
from ansible_collections.strata.storage.plugins.module_utils.nvmeof import host as nvme_host


def body(module, runner):
    req = nvme_host.request_from_params(module.params)
    state = nvme_host.read_state(runner)
    facts = configfs.KernelFacts()
    facts.controllers = state.controllers     # read_state walked /sys/class/nvme already; sockets are not needed here
    plan = nvme_host.plan_host(req, state, facts)
    nvme_host.execute(runner, plan.actions, writer=nvme_host.write_file)
    if not module.check_mode and plan.changed:
        state = nvme_host.read_state(runner)      # report what sysfs now says
        plan.after.update(nvme_host.report_connections(req, state, req.hostnqn or state.hostnqn))
    hostnqn = req.hostnqn or state.hostnqn
    if module.check_mode:
        connections = dict((k, v) for k, v in plan.after.items() if k != "config")
    else:
        connections = nvme_host.report_connections(req, state, hostnqn)
    result = dict(hostnqn=hostnqn, hostid=req.hostid or state.hostid, connections=connections,
                  controllers=nvme_host.controllers_report(state))
    result["persistent"] = nvme_host.persistent_labels(plan.after.get("config"), hostnqn)
    supported, reason = facts.host_auth()
    result["auth"] = {"supported": supported, "reason": reason}
    if req.discover:
        result["discovered"] = nvme_host.discover(runner, req, hostnqn, req.hostid or state.hostid)
    finish(module, runner, plan, **result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            hostnqn=dict(type="str"),
            hostid=dict(type="str"),
            subsystems=dict(type="list", elements="dict", default=[], options=dict(
                nqn=dict(type="str", required=True),
                transport=dict(type="str", default="tcp", choices=["tcp", "loop"]),
                traddr=dict(type="str"),
                trsvcid=dict(type="str"),
                host_iface=dict(type="str"),
                hostnqn=dict(type="str"),
                state=dict(type="str", default="connected", choices=["connected", "disconnected"]),
                persistent=dict(type="bool", default=True),
                dhchap_secret=dict(type="str", no_log=True),
                dhchap_ctrl_secret=dict(type="str", no_log=True),
                ctrl_loss_tmo=dict(type="int"),
                reconnect_delay=dict(type="int"),
                keep_alive_tmo=dict(type="int"),
                nr_io_queues=dict(type="int"),
            )),
            discover=dict(type="list", elements="dict", default=[], options=dict(
                transport=dict(type="str", default="tcp", choices=["tcp", "loop"]),
                traddr=dict(type="str"),
                trsvcid=dict(type="str"),
                hostnqn=dict(type="str"),
            )),
            force_in_use=dict(type="bool", default=False),
            config_path=dict(type="path", default="/etc/nvme/config.json"),
        ),
        supports_check_mode=True,
    )
    run_module(module, body)


if __name__ == "__main__":
    main()
