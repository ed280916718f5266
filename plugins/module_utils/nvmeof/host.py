# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The NVMe-oF host side: identity, connections, persistence, and what each controller gave.

State comes from files and sysfs, read from Python (no process): /etc/nvme/hostnqn and hostid,
/etc/nvme/config.json, /sys/class/nvme (controllers: subsystem NQN, transport, address,
state), /sys/class/nvme-subsystem and /sys/block (the namespaces' block devices).

Changes go through nvme-cli: `nvme connect` and `nvme disconnect --device`. DH-HMAC-CHAP
secrets never go on a command line: nvme-cli 2.x reads them from its JSON configuration
(`--config FILE`, the libnvme layout: hosts -> subsystems -> ports, a port's `dhchap_key`
becoming the connection's dhchap_secret and `dhchap_ctrl_key` its dhchap_ctrl_secret; checked
on the VM with nvme-cli 2.3). So a connection with a secret is made with
`--config /run/strata-nvme/connect.json`: a file holding only that connection, 0600 in a 0700
folder on tmpfs, removed right after (also when the connect fails). A connection without
secrets gets `--config none`, so keys another tool left in /etc/nvme/config.json are never
picked up by surprise. /etc/nvme/config.json itself (0600, backups 0600 too) is written last,
after every connection succeeded, so a failed run leaves the boot-time configuration as it was.

Persistence is /etc/nvme/config.json: nvmf-autoconnect.service runs `nvme connect-all` at
boot, which connects what the file lists for the host NQN in /etc/nvme/hostnqn (the file's
entries for other host NQNs are not used by connect-all, measured with nvme-cli 2.3).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core import atomic
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import file_writer
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action
from ansible_collections.strata.storage.plugins.module_utils.nvmeof import names
from ansible_collections.strata.storage.plugins.module_utils.nvmeof.configfs import SECRET_SHOWN, read_controllers
from ansible_collections.strata.storage.plugins.module_utils.core.localhost import read_optional as _read

NVME_DIR = "/etc/nvme"
HOSTNQN_FILE = NVME_DIR + "/hostnqn"
HOSTID_FILE = NVME_DIR + "/hostid"
CONFIG_JSON = NVME_DIR + "/config.json"
RUN_DIR = "/run/strata-nvme"
CONNECT_JSON = RUN_DIR + "/connect.json"
LIVE_STATES = ("live", "connecting", "resetting", "new")
PORT_OPTIONS = ("ctrl_loss_tmo", "reconnect_delay", "keep_alive_tmo", "nr_io_queues")
TRANSPORT_MODULES = {"tcp": "nvme-tcp", "loop": "nvme-loop"}
IFNAMSIZ = 16          # a Linux interface name is at most 15 characters


def write_file(path, content, mode):
    """The Runner writer: the connect-time secret file without copies (it is removed right after the
    connect, a copy would outlive it); every other file as core writes it (3 copies, none more open
    than the file, so /etc/nvme/config.json's copies are 0600 too)."""
    if path == CONNECT_JSON:
        atomic.write_atomic(path, content, mode=mode, keep_backups=0)
    else:
        file_writer(path, content, mode)


def parse_address(text):
    """'traddr=127.0.0.1,trsvcid=4420,src_addr=127.0.0.1' -> dict."""
    out = {}
    for part in (text or "").split(","):
        if "=" in part:
            key, value = part.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def namespaces_of(ctrl, sysfs="/sys"):
    """The block devices a controller gave: [{name, device, nsid, size, uuid, wwid}] (sysfs only)."""
    heads = set()
    for entry in ctrl.get("entries", []):
        match = re.match(r"^nvme(\d+)c\d+n(\d+)$", entry)      # native multipath: a path of nvmeXnY
        if match:
            heads.add("nvme%sn%s" % match.groups())
        elif re.match(r"^nvme\d+n\d+$", entry):
            heads.add(entry)
    out = []
    for name in sorted(heads, key=lambda n: [int(x) for x in re.findall(r"\d+", n)]):
        block = os.path.join(sysfs, "block", name)
        sectors = (_read(os.path.join(block, "size")) or "").strip()
        nsid = (_read(os.path.join(block, "nsid")) or "").strip()
        out.append({"name": name, "device": "/dev/" + name, "nsid": int(nsid) if nsid.isdigit() else None,
                    "size": int(sectors) * 512 if sectors.isdigit() else None,
                    "uuid": (_read(os.path.join(block, "uuid")) or "").strip(),
                    "wwid": (_read(os.path.join(block, "wwid")) or "").strip(),
                    "holders": sorted(os.listdir(os.path.join(block, "holders")))
                    if os.path.isdir(os.path.join(block, "holders")) else [],
                    "dev": (_read(os.path.join(block, "dev")) or "").strip()})
    return out


@dataclass
class HostState:
    hostnqn: str = None
    hostid: str = None
    controllers: list = field(default_factory=list)   # read_controllers() + "namespaces", "address_parts"
    config: list = None                               # /etc/nvme/config.json parsed (None: absent)
    config_error: str = None
    mounts: dict = field(default_factory=dict)        # "major:minor" -> [mountpoints]

    def matching(self, conn, hostnqn):
        out = []
        for ctrl in self.controllers:
            parts = ctrl.get("address_parts", {})
            if ctrl.get("cntrltype") == "discovery" or ctrl.get("subsysnqn") != conn.nqn:
                continue
            if ctrl.get("transport") != conn.transport:
                continue
            if conn.transport == "tcp" and (parts.get("traddr") != conn.traddr or parts.get("trsvcid") != conn.trsvcid):
                continue
            if hostnqn and ctrl.get("hostnqn") and ctrl["hostnqn"] != hostnqn:
                continue
            out.append(ctrl)
        return out


def read_state(runner, sysfs="/sys", proc="/proc", nvme_dir=NVME_DIR):
    state = HostState()
    state.hostnqn = (_read(os.path.join(nvme_dir, "hostnqn")) or "").strip() or None
    state.hostid = (_read(os.path.join(nvme_dir, "hostid")) or "").strip() or None
    for ctrl in read_controllers(sysfs):
        ctrl["address_parts"] = parse_address(ctrl.get("address"))
        ctrl["namespaces"] = namespaces_of(ctrl, sysfs)
        state.controllers.append(ctrl)
    text = _read(os.path.join(nvme_dir, "config.json"))
    if text is not None:
        try:
            data = json.loads(text) if text.strip() else []
            if not isinstance(data, list):
                raise ValueError("the top level is not a list of hosts")
            state.config = data
        except ValueError as exc:
            state.config_error = str(exc)
    for line in (_read(os.path.join(proc, "self", "mountinfo")) or "").splitlines():
        parts = line.split()
        if len(parts) > 4:
            state.mounts.setdefault(parts[2], []).append(parts[4])
    runner.reads.append(["sysfs", "read", os.path.join(sysfs, "class", "nvme"), os.path.join(sysfs, "block"),
                         nvme_dir])
    return state


@dataclass
class Connection:
    nqn: str
    transport: str = "tcp"
    traddr: str = ""
    trsvcid: str = ""
    host_iface: str = None
    hostnqn: str = None
    state: str = "connected"
    persistent: bool = True
    dhchap_secret: str = None
    dhchap_ctrl_secret: str = None
    options: dict = field(default_factory=dict)

    def label(self):
        where = "loop" if self.transport == "loop" else "tcp %s:%s" % (self.traddr, self.trsvcid)
        return "%s (%s)" % (self.nqn, where)

    def port_entry(self):
        entry = {"transport": self.transport}
        if self.transport != "loop":
            entry.update(traddr=self.traddr, trsvcid=self.trsvcid)
        if self.host_iface:
            entry["host_iface"] = self.host_iface
        if self.dhchap_secret:
            entry["dhchap_key"] = self.dhchap_secret
        if self.dhchap_ctrl_secret:
            entry["dhchap_ctrl_key"] = self.dhchap_ctrl_secret
        for key in PORT_OPTIONS:
            if self.options.get(key) is not None:
                entry[key] = self.options[key]
        return entry

    def same_port(self, entry):
        mine = (self.transport, self.traddr or "", self.trsvcid or "")
        return (entry.get("transport"), entry.get("traddr") or "", str(entry.get("trsvcid") or "")) == mine


@dataclass
class HostRequest:
    hostnqn: str = None
    hostid: str = None
    subsystems: list = field(default_factory=list)
    discover: list = field(default_factory=list)
    force_in_use: bool = False
    config_path: str = CONFIG_JSON


def request_from_params(params):
    req = HostRequest(force_in_use=bool(params.get("force_in_use")), config_path=params.get("config_path") or CONFIG_JSON)
    if params.get("hostnqn"):
        req.hostnqn = names.check_nqn(params["hostnqn"], "host NQN")
    if params.get("hostid"):
        req.hostid = names.check_uuid(params["hostid"], "host ID")
    seen = set()
    for item in params.get("subsystems") or []:
        conn = Connection(nqn=names.check_nqn(item.get("nqn"), "subsystem NQN"),
                          transport=item.get("transport") or "tcp", state=item.get("state") or "connected",
                          persistent=item.get("persistent", True) is not False, host_iface=item.get("host_iface"))
        if conn.transport == "tcp":
            if not item.get("traddr"):
                raise StrataError("connection to %s needs the target's address (traddr)" % conn.nqn,
                                  hint="nothing was changed")
            conn.traddr = str(item["traddr"])
            conn.trsvcid = str(item.get("trsvcid") or 4420)
            if not conn.trsvcid.isdigit() or not 1 <= int(conn.trsvcid) <= 65535:
                raise StrataError("trsvcid '%s' of the connection to %s is not a TCP port" % (conn.trsvcid, conn.nqn),
                                  hint="nothing was changed")
        elif item.get("traddr") or item.get("trsvcid"):
            raise StrataError("a loop connection has no address, but traddr/trsvcid were given for %s" % conn.nqn,
                              hint="nothing was changed")
        if item.get("hostnqn"):
            conn.hostnqn = names.check_nqn(item["hostnqn"], "host NQN of the connection to %s" % conn.nqn)
        conn.dhchap_secret = names.check_dhchap_key(item.get("dhchap_secret"), "DH-HMAC-CHAP secret for %s" % conn.nqn)
        conn.dhchap_ctrl_secret = names.check_dhchap_key(item.get("dhchap_ctrl_secret"),
                                                         "DH-HMAC-CHAP controller secret for %s" % conn.nqn)
        if conn.dhchap_ctrl_secret and not conn.dhchap_secret:
            raise StrataError("the connection to %s has a controller secret without a host secret" % conn.nqn,
                              hint="nothing was changed; bidirectional authentication needs dhchap_secret too")
        conn.options = dict((k, item.get(k)) for k in PORT_OPTIONS if item.get(k) is not None)
        key = (conn.nqn, conn.transport, conn.traddr, conn.trsvcid)
        if key in seen:
            raise StrataError("connection %s is listed twice" % conn.label(), hint="nothing was changed")
        seen.add(key)
        req.subsystems.append(conn)
    for item in params.get("discover") or []:
        transport = item.get("transport") or "tcp"
        if transport == "tcp" and not item.get("traddr"):
            raise StrataError("a discovery needs the target's address (traddr)", hint="nothing was changed")
        req.discover.append({"transport": transport, "traddr": item.get("traddr") or "",
                             "trsvcid": str(item.get("trsvcid") or (8009 if transport == "tcp" else "")),
                             "hostnqn": names.check_nqn(item["hostnqn"], "host NQN of a discovery")
                             if item.get("hostnqn") else None})
    return req


class FileRemoval:
    """Remove a file from Python (the connect-time secret file); reported, never run in check mode."""

    def __init__(self, description, path):
        self.description = description
        self.path = path

    def report(self):
        return {"description": self.description, "path": self.path, "remove": True}


def connect_cmd(conn, hostnqn, hostid, config):
    cmd = ["nvme", "connect", "--transport", conn.transport]
    if conn.transport != "loop":
        cmd += ["--traddr", conn.traddr, "--trsvcid", conn.trsvcid]
    if conn.host_iface:
        cmd += ["--host-iface", conn.host_iface]
    cmd += ["--nqn", conn.nqn]
    if hostnqn:
        cmd += ["--hostnqn", hostnqn]
    if hostid:
        cmd += ["--hostid", hostid]
    for key in PORT_OPTIONS:
        if conn.options.get(key) is not None:
            cmd += ["--%s" % key.replace("_", "-"), str(conn.options[key])]
    return cmd + ["--config", config, "--output-format", "json"]


def _redacted_config(data):
    out = json.loads(json.dumps(data))
    for host in out:
        if host.get("dhchap_key"):
            host["dhchap_key"] = SECRET_SHOWN
        for sub in host.get("subsystems", []):
            for port in sub.get("ports", []):
                for key in ("dhchap_key", "dhchap_ctrl_key"):
                    if port.get(key):
                        port[key] = SECRET_SHOWN
    return out


def config_text(data):
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def desired_config(req, state, hostnqn, hostid):
    """/etc/nvme/config.json after this run: the entries of the listed connections set or removed,
    everything else kept."""
    data = json.loads(json.dumps(state.config or []))
    for conn in req.subsystems:
        owner = conn.hostnqn or hostnqn
        host = next((h for h in data if h.get("hostnqn") == owner), None)
        want = conn.state == "connected" and conn.persistent
        if host is None:
            if not want:
                continue
            host = {"hostnqn": owner, "subsystems": []}
            data.append(host)
        if hostid and owner == hostnqn:
            host["hostid"] = hostid
        subs = host.setdefault("subsystems", [])
        sub = next((s for s in subs if s.get("nqn") == conn.nqn), None)
        if sub is None:
            if not want:
                continue
            sub = {"nqn": conn.nqn, "ports": []}
            subs.append(sub)
        ports = [p for p in sub.get("ports", []) if not conn.same_port(p)]
        if want:
            ports.append(conn.port_entry())
        sub["ports"] = ports
        if not ports:
            subs.remove(sub)
        if not subs and not [k for k in host if k not in ("hostnqn", "hostid", "subsystems")] and not want:
            data.remove(host)
    return data


def plan_host(req, state, facts):
    """(Plan, connect undo hook info). Every refusal before anything runs."""
    plan = Plan()
    hostnqn = req.hostnqn or state.hostnqn
    hostid = req.hostid or state.hostid
    if state.config_error and req.subsystems:
        raise StrataError("%s is not valid JSON (%s)" % (req.config_path, state.config_error),
                          hint="nothing was changed; fix or move the file, then run again")
    if req.hostnqn and req.hostnqn != state.hostnqn:
        plan.add(Action("set this host's NVMe host NQN to %s" % req.hostnqn, path=HOSTNQN_FILE,
                        content=req.hostnqn + "\n", mode=0o644))
    if req.hostid and req.hostid != state.hostid:
        plan.add(Action("set this host's NVMe host ID to %s" % req.hostid, path=HOSTID_FILE,
                        content=req.hostid + "\n", mode=0o644))
    # nvme-cli writes connections to /dev/nvme-fabrics, which exists once nvme-fabrics is loaded
    # (nvme-cli 2.3 loads nothing: "Failed to scan topology"); the transport module brings it along
    connecting = set(c.transport for c in req.subsystems if c.state == "connected")
    needs = sorted(connecting.union(d["transport"] for d in req.discover))
    for transport in needs:
        module = TRANSPORT_MODULES[transport]
        if facts.module_loaded(module):
            continue
        if facts.module_available(module) is False:
            raise StrataError("this kernel (%s) has no %s module, so it cannot connect over %s" % (
                facts.release, module, transport),
                hint="nothing was changed; use tcp (for a target on this host too, on 127.0.0.1)")
        plan.add(Action("load the kernel module %s" % module, cmd=["modprobe", module]))
    secrets = [c for c in req.subsystems if c.state == "connected" and c.dhchap_secret]
    if secrets:
        supported, reason = facts.host_auth()
        if supported is False:
            raise StrataError("a DH-HMAC-CHAP secret was given for %s, but %s" % (secrets[0].label(), reason),
                              hint="nothing was changed; leave the secret out on this kernel, or use a kernel built "
                                   "with CONFIG_NVME_AUTH")
    for conn in req.subsystems:
        owner = conn.hostnqn or hostnqn
        iface = conn.host_iface
        bad_name = iface and (len(iface) > IFNAMSIZ - 1 or iface in (".", "..") or re.search(r"[\s/:]", iface))
        if iface and conn.state == "connected" and (
                bad_name or not os.path.isdir(os.path.join(facts.sysfs, "class", "net", iface))):
            # the kernel's nvme-tcp refuses the connect for an interface it does not have (half-way, after
            # the connections listed before it were made)
            raise StrataError("host_iface '%s' of the connection to %s is not a network interface of this host" % (
                iface, conn.label()), hint="nothing was changed; name an interface from `ip -brief link`")
        if conn.persistent and conn.state == "connected" and conn.hostnqn and conn.hostnqn != hostnqn:
            raise StrataError("the connection to %s uses host NQN %s, but `nvme connect-all` at boot connects only as "
                              "this host's NQN (%s), so it cannot be persistent" % (conn.nqn, conn.hostnqn, hostnqn),
                              hint="nothing was changed; set persistent: false for it, or make %s the host NQN" % conn.hostnqn)
        if conn.persistent and conn.state == "connected" and not owner:
            raise StrataError("no host NQN for the persistent connection to %s: %s does not exist" % (conn.nqn, HOSTNQN_FILE),
                              hint="nothing was changed; set hostnqn")
    for conn in req.subsystems:
        owner = conn.hostnqn or hostnqn
        current = [c for c in state.matching(conn, owner) if c.get("state") in LIVE_STATES or conn.state != "connected"]
        if conn.state == "connected":
            if current:
                continue
            others = [c for c in state.matching(conn, None) if c.get("hostnqn") not in (None, owner)]
            if others:
                raise StrataError("%s is connected as host NQN %s already (%s), and nvme-cli refuses a second connection "
                                  "to the same subsystem and address (\"already connected\")" % (
                                      conn.label(), others[0].get("hostnqn"), others[0]["name"]),
                                  hint="nothing was changed; disconnect it first (state: disconnected)")
            config = CONNECT_JSON if conn.dhchap_secret else "none"
            if conn.dhchap_secret:
                entry = {"hostnqn": owner, "subsystems": [{"nqn": conn.nqn, "ports": [conn.port_entry()]}]}
                if hostid and owner == hostnqn:
                    entry["hostid"] = hostid
                plan.add(Action("hand the secret for %s to nvme-cli in a 0600 file" % conn.label(), path=CONNECT_JSON,
                                content=config_text([entry]), mode=0o600))
            action = plan.add(Action("connect to %s as %s" % (conn.label(), owner or "the default host NQN"),
                                     cmd=connect_cmd(conn, owner, hostid if owner == hostnqn else None, config)))
            action.connection = conn
            if conn.dhchap_secret:
                plan.add(FileRemoval("remove the secret file for %s" % conn.label(), CONNECT_JSON))
        else:
            for ctrl in current:
                busy = []
                for ns in ctrl.get("namespaces", []):
                    busy += ["%s is mounted on %s" % (ns["device"], m) for m in state.mounts.get(ns.get("dev"), [])]
                    busy += ["%s is held by %s" % (ns["device"], h) for h in ns.get("holders", [])]
                if busy and not req.force_in_use:
                    raise StrataError("refusing to disconnect %s (%s): %s" % (conn.label(), ctrl["name"], "; ".join(busy)),
                                      hint="nothing was changed; unmount or stop using it first, or set force_in_use: true")
                plan.add(Action("disconnect %s (%s)" % (conn.label(), ctrl["name"]),
                                cmd=["nvme", "disconnect", "--device", ctrl["name"]]))
    # last: a connection that fails leaves the boot-time configuration as it was
    new_config = desired_config(req, state, hostnqn, hostid)
    if new_config != (state.config or []):
        plan.add(Action("write the persistent NVMe-oF connections to %s (mode 0600, 3 copies kept)" % req.config_path,
                        path=req.config_path, content=config_text(new_config), mode=0o600))
    plan.before = report_connections(req, state, hostnqn)
    plan.after = dict((conn.label(), {"connected": conn.state == "connected"}) for conn in req.subsystems)
    plan.before["config"] = _redacted_config(state.config or [])
    plan.after["config"] = _redacted_config(new_config)
    return plan


def report_connections(req, state, hostnqn):
    out = {}
    for conn in req.subsystems:
        ctrls = [c for c in state.matching(conn, conn.hostnqn or hostnqn) if c.get("state") in LIVE_STATES]
        out[conn.label()] = {"connected": bool(ctrls), "controllers": [c["name"] for c in ctrls]}
    return out


def persistent_labels(config, hostnqn):
    """The connections nvme connect-all makes at boot: those of this host's NQN in the config."""
    out = []
    for entry in config or []:
        if entry.get("hostnqn") != hostnqn:
            continue
        for sub in entry.get("subsystems", []):
            for port in sub.get("ports", []):
                conn = Connection(nqn=sub.get("nqn"), transport=port.get("transport", "tcp"),
                                  traddr=port.get("traddr", ""), trsvcid=str(port.get("trsvcid", "")))
                out.append(conn.label())
    return out


def controllers_report(state):
    """Every NVMe-oF controller of this host with the block devices it gave (no secrets)."""
    out = []
    for ctrl in state.controllers:
        parts = ctrl.get("address_parts", {})
        out.append({"name": ctrl["name"], "subsysnqn": ctrl.get("subsysnqn"), "transport": ctrl.get("transport"),
                    "traddr": parts.get("traddr", ""), "trsvcid": parts.get("trsvcid", ""),
                    "src_addr": parts.get("src_addr", ""), "hostnqn": ctrl.get("hostnqn"), "state": ctrl.get("state"),
                    "cntlid": ctrl.get("cntlid"), "type": ctrl.get("cntrltype"),
                    "namespaces": [dict((k, v) for k, v in ns.items() if k in ("name", "device", "nsid", "size", "uuid", "wwid"))
                                   for ns in ctrl.get("namespaces", [])]})
    return out


def execute(runner, actions, writer):
    """Run the plan: files through the atomic writer, commands through the runner; a connection
    this run made is undone (disconnected) when a later step fails."""
    for action in actions:
        if isinstance(action, FileRemoval):
            runner.actions.append(action.report())
            if not runner.check_mode and os.path.exists(action.path):
                os.unlink(action.path)
            continue
        if action.path == CONNECT_JSON and not runner.check_mode:
            os.makedirs(RUN_DIR, mode=0o700, exist_ok=True)
        try:
            result = runner.execute(action, writer=writer)
        except StrataError as exc:
            if getattr(action, "connection", None) is not None:
                exc.hint = ("the target refused or could not be reached: is this host's NQN allowed on the subsystem "
                            "(or allow_any_host on), is the subsystem offered on that address and port, is the "
                            "address reachable? The target's kernel log (dmesg) names the reason")
                if os.path.exists(CONNECT_JSON) and not runner.check_mode:
                    os.unlink(CONNECT_JSON)
            raise
        conn = getattr(action, "connection", None)
        if conn is not None and result is not None:
            try:
                device = json.loads(result.stdout or "{}").get("device")
            except ValueError:
                device = None
            if device:
                runner.undo_stack.append(Action("disconnect %s (%s), which this run connected" % (conn.label(), device),
                                                cmd=["nvme", "disconnect", "--device", device]))


def discover(runner, req, hostnqn, hostid):
    """`nvme discover` for each portal asked for (a read): the records, as nvme-cli reports them."""
    out = []
    for portal in req.discover:
        cmd = ["nvme", "discover", "--transport", portal["transport"]]
        if portal["transport"] != "loop":
            cmd += ["--traddr", portal["traddr"], "--trsvcid", portal["trsvcid"]]
        owner = portal.get("hostnqn") or hostnqn
        if owner:
            cmd += ["--hostnqn", owner]
        if hostid and owner == hostnqn:
            cmd += ["--hostid", hostid]
        cmd += ["--config", "none", "--output-format", "json"]
        result = runner.read(cmd, what="discovery at %s %s:%s" % (portal["transport"], portal["traddr"], portal["trsvcid"]))
        try:
            records = json.loads(result.stdout or "{}").get("records", [])
        except ValueError:
            records = []
        out.append({"transport": portal["transport"], "traddr": portal["traddr"], "trsvcid": portal["trsvcid"],
                    "hostnqn": owner, "records": records})
    return out
