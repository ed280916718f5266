# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan one nvmet subsystem: (request, NvmetState) -> Plan of ConfigfsOps.

Pure: it reads nothing but the state and the injected probes (device inspector, device key,
local-address test). Every refusal is raised here, before anything runs:
- names and values (names.py), a loop port on a kernel without nvme-loop, a TCP address that
  is not one of this host's, two ports on one address, DH-HMAC-CHAP keys on a kernel whose
  nvmet has no auth (the kernel's own reason quoted);
- a new namespace's device goes through the device guard (a device holding a filesystem, a PV
  or any other signature is refused unless named in `force`; one in use never), and a device
  already exported by another namespace is refused;
- removing or changing what connected hosts use (a namespace, a port link, the subsystem) is
  refused unless `force_in_use`.

Order of the ops: modules, host entries and keys, the subsystem and its attributes, allowed
hosts, namespaces, ports and port links, then removals of what is left over, then the save.
Objects not in the request are left alone unless `purge`.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core.devices import guard_blank
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action
from ansible_collections.strata.storage.plugins.module_utils.nvmeof import names
from ansible_collections.strata.storage.plugins.module_utils.core.localhost import is_local_address
from ansible_collections.strata.storage.plugins.module_utils.nvmeof.configfs import (
    CONFIGFS, SAVE_PATH, SECRET_SHOWN, TRANSPORT_MODULES, UNSET_NGUID, ConfigfsOp, mkdir_op, symlink_op)

DEFAULT_TRSVCID = 4420
TRTYPES = ("tcp", "loop")
DHCHAP_HASHES = ("hmac(sha256)", "hmac(sha384)", "hmac(sha512)")
DHCHAP_DHGROUPS = ("null", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192")
NVMET_MAX_NAMESPACES = 1024    # drivers/nvme/target/nvmet.h: nvmet_ns_enable() fails with EMFILE beyond it


@dataclass
class NamespaceRequest:
    nsid: int
    device: str = None
    uuid: str = None
    nguid: str = None
    enabled: bool = True


@dataclass
class PortRequest:
    trtype: str
    id: int = None
    traddr: str = None
    trsvcid: str = None
    adrfam: str = None

    def address(self):
        if self.trtype == "loop":
            return "loop"
        return "tcp %s:%s" % (self.traddr, self.trsvcid)


@dataclass
class HostRequest:
    nqn: str
    dhchap_key: str = None
    dhchap_ctrl_key: str = None
    dhchap_hash: str = None
    dhchap_dhgroup: str = None

    def keyed(self):
        return any(v is not None for v in (self.dhchap_key, self.dhchap_ctrl_key, self.dhchap_hash, self.dhchap_dhgroup))


@dataclass
class SubsystemRequest:
    nqn: str
    state: str = "present"
    serial: str = None
    model: str = None
    allow_any_host: bool = None
    namespaces: list = None        # None: keep; [] with purge: remove all
    ports: list = None
    hosts: list = None
    purge: bool = False
    force: list = field(default_factory=list)
    force_in_use: bool = False
    save: bool = True
    save_path: str = SAVE_PATH


def _norm_nguid(value):
    if value is None:
        return None
    text = str(value).replace("-", "").replace(":", "").lower()     # nvmet takes '-' or ':' between bytes
    if len(text) != 32 or any(c not in "0123456789abcdef" for c in text):
        raise StrataError("namespace NGUID '%s' is not 16 bytes of hexadecimal" % value,
                          hint="nothing was changed; write 32 hexadecimal digits (dashes or colons allowed)")
    return "%s-%s-%s-%s-%s" % (text[:8], text[8:12], text[12:16], text[16:20], text[20:])


def _port_from_params(item, nqn):
    trtype = item.get("trtype") or "tcp"
    if trtype not in TRTYPES:
        raise StrataError("port transport '%s' of subsystem %s is not supported" % (trtype, nqn),
                          hint="nothing was changed; use tcp or loop")
    pid = item.get("id")
    if pid is not None and not 0 <= int(pid) <= 65535:
        raise StrataError("port id %s is out of range" % pid, hint="nothing was changed; port ids are 0 to 65535")
    if trtype == "loop":
        if item.get("traddr") or item.get("trsvcid"):
            raise StrataError("a loop port has no address, but traddr/trsvcid were given for subsystem %s" % nqn,
                              hint="nothing was changed; leave traddr and trsvcid out for trtype loop")
        return PortRequest(trtype="loop", id=pid, traddr="", trsvcid="", adrfam="")
    traddr = item.get("traddr")
    if not traddr:
        raise StrataError("a tcp port of subsystem %s needs an explicit address (traddr)" % nqn,
                          hint="nothing was changed; name the IP address the target listens on, e.g. 192.0.2.10")
    try:
        ip = ipaddress.ip_address(str(traddr))
    except ValueError:
        raise StrataError("port address '%s' of subsystem %s is not an IP address" % (traddr, nqn),
                          hint="nothing was changed; nvmet listens on an IP address, not a host name")
    if ip.is_unspecified:
        raise StrataError("port address %s of subsystem %s listens on every address" % (traddr, nqn),
                          hint="nothing was changed; name the one address hosts should use (explicit addresses only)")
    adrfam = "ipv4" if ip.version == 4 else "ipv6"
    if item.get("adrfam") and item["adrfam"] != adrfam:
        raise StrataError("port address %s is %s, not %s" % (traddr, adrfam, item["adrfam"]),
                          hint="nothing was changed; leave adrfam out, it follows from the address")
    trsvcid = item.get("trsvcid") if item.get("trsvcid") is not None else DEFAULT_TRSVCID
    if not str(trsvcid).isdigit() or not 1 <= int(trsvcid) <= 65535:
        raise StrataError("port service id (TCP port) '%s' of subsystem %s is out of range" % (trsvcid, nqn),
                          hint="nothing was changed; use 1 to 65535 (4420 is the NVMe/TCP default)")
    return PortRequest(trtype="tcp", id=pid, traddr=str(ip), trsvcid=str(int(trsvcid)), adrfam=adrfam)


def request_from_params(params):
    nqn = names.check_nqn(params["nqn"], "subsystem NQN")
    req = SubsystemRequest(nqn=nqn, state=params.get("state") or "present", purge=bool(params.get("purge")),
                           force=list(params.get("force") or []), force_in_use=bool(params.get("force_in_use")),
                           save=params.get("save", True) is not False,
                           save_path=params.get("save_path") or SAVE_PATH)
    req.serial = names.check_ascii_attr(params.get("serial"), "serial number", names.SERIAL_MAX)
    req.model = names.check_ascii_attr(params.get("model"), "model number", names.MODEL_MAX)
    req.allow_any_host = params.get("allow_any_host")
    if params.get("namespaces") is not None:
        req.namespaces = []
        seen = set()
        for item in params["namespaces"]:
            nsid = names.check_nsid(item.get("nsid"), nqn)
            if nsid in seen:
                raise StrataError("namespace %d of subsystem %s is listed twice" % (nsid, nqn),
                                  hint="nothing was changed; list each nsid once")
            seen.add(nsid)
            device = item.get("device")
            if device is not None and not os.path.isabs(device):
                raise StrataError("namespace %d device '%s' is not an absolute path" % (nsid, device),
                                  hint="nothing was changed; name the block device, e.g. /dev/data/lv1")
            req.namespaces.append(NamespaceRequest(
                nsid=nsid, device=device, uuid=names.check_uuid(item.get("uuid"), "namespace %d UUID" % nsid),
                nguid=_norm_nguid(item.get("nguid")),
                enabled=item.get("enabled", True) is not False))
    if params.get("ports") is not None:
        req.ports = [_port_from_params(item, nqn) for item in params["ports"]]
        addresses = [p.address() for p in req.ports]
        if len(set(addresses)) != len(addresses):
            raise StrataError("subsystem %s lists one port address twice" % nqn, hint="nothing was changed")
    if params.get("hosts") is not None:
        req.hosts = []
        for item in params["hosts"]:
            host = HostRequest(nqn=names.check_nqn(item.get("nqn"), "host NQN"))
            host.dhchap_key = names.check_dhchap_key(item.get("dhchap_key"), "DH-HMAC-CHAP key of host %s" % host.nqn)
            host.dhchap_ctrl_key = names.check_dhchap_key(item.get("dhchap_ctrl_key"),
                                                          "DH-HMAC-CHAP controller key of host %s" % host.nqn)
            if host.dhchap_ctrl_key and not host.dhchap_key:
                raise StrataError("host %s has a controller key (bidirectional authentication) without a host key" % host.nqn,
                                  hint="nothing was changed; give dhchap_key as well")
            host.dhchap_hash = item.get("dhchap_hash")
            host.dhchap_dhgroup = item.get("dhchap_dhgroup")
            if host.dhchap_hash is not None and host.dhchap_hash not in DHCHAP_HASHES:
                raise StrataError("dhchap_hash '%s' of host %s is not one of %s" % (
                    host.dhchap_hash, host.nqn, ", ".join(DHCHAP_HASHES)), hint="nothing was changed")
            if host.dhchap_dhgroup is not None and host.dhchap_dhgroup not in DHCHAP_DHGROUPS:
                raise StrataError("dhchap_dhgroup '%s' of host %s is not one of %s" % (
                    host.dhchap_dhgroup, host.nqn, ", ".join(DHCHAP_DHGROUPS)), hint="nothing was changed")
            if any(h.nqn == host.nqn for h in req.hosts):
                raise StrataError("host %s is listed twice" % host.nqn, hint="nothing was changed")
            req.hosts.append(host)
    if req.allow_any_host and req.hosts:
        raise StrataError("subsystem %s: allow_any_host and a list of allowed hosts exclude each other "
                          "(nvmet refuses both)" % nqn,
                          hint="nothing was changed; list the hosts and leave allow_any_host off")
    return req


def summary(state, nqn, redact=True):
    """The subsystem as reported (and diffed): keys only as `(secret)`."""
    sub = state.subsystem(nqn)
    if sub is None:
        return {"state": "absent"}
    hosts = []
    for host in sub["allowed_hosts"]:
        entry = {"nqn": host}
        for key in ("dhchap_key", "dhchap_ctrl_key"):
            if state.hosts.get(host, {}).get(key):
                entry[key] = SECRET_SHOWN if redact else state.hosts[host][key]
        for key in ("dhchap_hash", "dhchap_dhgroup"):
            if key in state.hosts.get(host, {}):
                entry[key] = state.hosts[host][key]
        hosts.append(entry)
    namespaces = []
    for nsid, ns in sorted(sub["namespaces"].items()):
        namespaces.append({"nsid": nsid, "device": ns.get("device_path", ""), "uuid": ns.get("device_uuid", ""),
                           "nguid": ns.get("device_nguid", ""), "enabled": ns.get("enable") == "1"})
    ports = []
    for pid in state.ports_of(nqn):
        addr = state.ports[pid]["addr"]
        ports.append({"id": pid, "trtype": addr.get("trtype", ""), "adrfam": addr.get("adrfam", ""),
                      "traddr": addr.get("traddr", ""), "trsvcid": addr.get("trsvcid", "")})
    attr = sub["attr"]
    return {"nqn": nqn, "state": "present", "allow_any_host": attr.get("allow_any_host") == "1",
            "serial": attr.get("serial", ""), "model": attr.get("model", ""), "version": attr.get("version", ""),
            "namespaces": namespaces, "ports": ports, "hosts": hosts}


class _Planner:
    def __init__(self, req, state, inspect, key_of, is_local, root):
        self.req = req
        self.state = state
        self.inspect = inspect
        self.key_of = key_of
        self.is_local = is_local
        self.root = root
        self.plan = Plan()
        self.ops = []            # config changes (not the save)
        self.removals = []       # done after the additions
        self.first = []          # writes the kernel may refuse for a reason configfs does not show: before all else
        self.in_use = state.in_use(req.nqn) if state.subsystem(req.nqn) else []
        self.unlinked_ports = set()
        self.unlinked_hosts = set()

    # paths
    def sub_path(self, *parts):
        return "/".join((self.root, "subsystems", self.req.nqn) + tuple(str(p) for p in parts))

    def port_path(self, pid, *parts):
        return "/".join((self.root, "ports", str(pid)) + tuple(str(p) for p in parts))

    def host_path(self, nqn, *parts):
        return "/".join((self.root, "hosts", nqn) + tuple(parts))

    def write(self, description, path, value, secret=False):
        self.ops.append(ConfigfsOp(description, "write", path, value=str(value), secret=secret))

    def refuse_in_use(self, what):
        if self.in_use and not self.req.force_in_use:
            raise StrataError(
                "refusing to %s of subsystem %s: hosts may be connected (%s)" % (what, self.req.nqn, "; ".join(self.in_use)),
                hint="nothing was changed; disconnect the hosts first, or set force_in_use: true to cut them off")

    # ---------------------------------------------------------------- modules
    def modules(self):
        facts = self.state.facts
        needed = []
        if not self.state.loaded:
            needed.append("nvmet")
        for port in self.req.ports or []:
            module = TRANSPORT_MODULES[port.trtype]
            if facts is not None and not facts.module_loaded(module) and module not in needed:
                if port.trtype == "loop" and facts.module_available("nvme-loop") is False:
                    raise StrataError(
                        "subsystem %s asks for a loop port, but this kernel (%s) has no nvme-loop module%s" % (
                            self.req.nqn, facts.release, facts._config_words("CONFIG_NVME_TARGET_LOOP")),
                        hint="nothing was changed; use a tcp port on 127.0.0.1 for local access, or a kernel "
                             "built with CONFIG_NVME_TARGET_LOOP")
                needed.append(module)
        for module in needed:
            self.ops.append(Action("load the kernel module %s" % module, cmd=["modprobe", module]))

    # ---------------------------------------------------------------- hosts
    def hosts(self):
        req = self.req
        current = self.state.subsystem(req.nqn)
        allowed = list(current["allowed_hosts"]) if current else []
        if req.hosts is None:
            return allowed
        keyed = [h for h in req.hosts if h.keyed()]
        if keyed and self.state.facts is not None:
            supported, reason = self.state.facts.target_auth(self.state)
            if supported is False:
                raise StrataError(
                    "DH-HMAC-CHAP keys were given for host %s, but %s" % (keyed[0].nqn, reason),
                    hint="nothing was changed; leave the keys out on this kernel (access is then controlled by the "
                         "allowed host NQNs alone), or use a kernel built with CONFIG_NVME_TARGET_AUTH")
        for host in req.hosts:
            attrs = self.state.hosts.get(host.nqn)
            if attrs is None:
                self.ops.append(mkdir_op("create host entry %s" % host.nqn, self.host_path(host.nqn),
                                         "host entry %s" % host.nqn))
                attrs = {}
            for key, value, secret in (("dhchap_hash", host.dhchap_hash, False),
                                       ("dhchap_dhgroup", host.dhchap_dhgroup, False),
                                       ("dhchap_key", host.dhchap_key, True),
                                       ("dhchap_ctrl_key", host.dhchap_ctrl_key, True)):
                if value is not None and attrs.get(key) != value:
                    self.write("set %s of host %s" % (key, host.nqn), self.host_path(host.nqn, key), value, secret)
        return allowed

    def host_links(self, allowed):
        req = self.req
        if req.hosts is None:
            return
        wanted = [h.nqn for h in req.hosts]
        extra = [h for h in allowed if h not in wanted]
        if extra and req.purge:
            for host in extra:
                self.ops.append(ConfigfsOp("stop allowing host %s on %s" % (host, req.nqn), "unlink",
                                           self.sub_path("allowed_hosts", host)))
                self.unlinked_hosts.add(host)
        for host in wanted:
            if host not in allowed:
                self.ops.append(symlink_op("allow host %s on %s" % (host, req.nqn), self.sub_path("allowed_hosts", host),
                                           self.host_path(host), "the allowed-host link of %s" % host))
        if extra and not req.purge:
            self.plan.notes.append("hosts allowed on %s but not listed were kept (purge is off): %s" % (
                req.nqn, ", ".join(extra)))

    # ---------------------------------------------------------------- subsystem
    def subsystem(self):
        req = self.req
        current = self.state.subsystem(req.nqn)
        attr = current["attr"] if current else {}
        if current is None:
            self.ops.append(mkdir_op("create subsystem %s" % req.nqn, self.sub_path(), "subsystem %s" % req.nqn))
        fixed = []
        for name, value in (("serial", req.serial), ("model", req.model)):
            # the reader strips the spaces the kernel pads serial/model with: so are trailing spaces given
            if value is None or attr.get(name) == value.rstrip(" "):
                continue
            description = "set the %s number of %s to %s" % (name, req.nqn, value)
            if current is None:
                self.write(description, self.sub_path("attr_" + name), value)
                continue
            # nvmet fixes serial and model once a host has identified the subsystem (subsys_discovered:
            # the write fails with EINVAL), and configfs does not show whether one has: refused when
            # hosts are connected now, and otherwise written first, so a refusal changes nothing else
            if self.in_use:
                raise StrataError(
                    "refusing to change the %s number of %s from '%s' to '%s': hosts are connected (%s), and nvmet "
                    "keeps the serial and model numbers a host has seen" % (
                        name, req.nqn, attr.get(name, ""), value, "; ".join(self.in_use)),
                    hint="nothing was changed; leave %s out to keep it, or remove the subsystem and create it again" % name)
            fixed.append(ConfigfsOp(description, "write", self.sub_path("attr_" + name), value=str(value),
                                    hint="nvmet refuses a new %s number once a host has identified the subsystem "
                                         "(dmesg: \"Can't set %s number\"); leave %s out to keep it, or remove the "
                                         "subsystem and create it again" % (name, name, name)))
        self.first = fixed
        want_any = req.allow_any_host
        if want_any is None and current is None:
            want_any = False         # secure default for a new subsystem
        if want_any is None and attr.get("allow_any_host") == "1":
            self.plan.warnings.append("subsystem %s allows any host to connect (allow_any_host is on); set "
                                      "allow_any_host: false and list the hosts to restrict it" % req.nqn)
        return want_any, attr

    def allow_any_host(self, want_any, attr, allowed):
        if want_any is None:
            return
        value = "1" if want_any else "0"
        if attr and attr.get("allow_any_host") == value:
            return
        if want_any and [h for h in allowed if h not in self.unlinked_hosts]:
            raise StrataError("subsystem %s lists allowed hosts (%s), and nvmet refuses allow_any_host while any are "
                              "listed" % (self.req.nqn, ", ".join(allowed)),
                              hint="nothing was changed; set hosts: [] with purge: true to drop them, or keep "
                                   "allow_any_host off")
        self.write("%s any host on %s" % ("allow" if want_any else "stop allowing", self.req.nqn),
                   self.sub_path("attr_allow_any_host"), value)

    # ---------------------------------------------------------------- namespaces
    def namespaces(self):
        req = self.req
        current = self.state.subsystem(req.nqn)
        have = current["namespaces"] if current else {}
        if req.namespaces is None:
            return
        new_devices = []
        for ns in req.namespaces:
            cur = have.get(ns.nsid)
            if cur is None:
                if not ns.device:
                    raise StrataError("namespace %d of %s does not exist and has no device to create it from" % (
                        ns.nsid, req.nqn), hint="nothing was changed; give the namespace a device")
                new_devices.append((ns, None))
                continue
            device_changes = ns.device is not None and self.key_of(ns.device) != self.key_of(cur.get("device_path", ""))
            if device_changes:
                new_devices.append((ns, cur))
        self.guard([pair[0] for pair in new_devices])
        enabled_after = dict((nsid, ns.get("enable") == "1") for nsid, ns in have.items())
        enabled_after.update((ns.nsid, ns.enabled) for ns in req.namespaces)
        if req.purge:
            listed = set(ns.nsid for ns in req.namespaces)
            enabled_after = dict((k, v) for k, v in enabled_after.items() if k in listed)
        if sum(enabled_after.values()) > NVMET_MAX_NAMESPACES:
            raise StrataError("subsystem %s would have %d enabled namespaces; nvmet enables at most %d (EMFILE)" % (
                req.nqn, sum(enabled_after.values()), NVMET_MAX_NAMESPACES),
                hint="nothing was changed; spread the namespaces over several subsystems")
        for ns in req.namespaces:
            cur = have.get(ns.nsid)
            base = ("namespaces", ns.nsid)
            what = "namespace %d of %s" % (ns.nsid, req.nqn)
            if cur is None:
                self.ops.append(mkdir_op("create %s" % what, self.sub_path(*base), what))
                self.write("back %s by %s" % (what, ns.device), self.sub_path(*base + ("device_path",)), ns.device)
                if ns.uuid:
                    self.write("set the UUID of %s" % what, self.sub_path(*base + ("device_uuid",)), ns.uuid)
                if ns.nguid:
                    self.write("set the NGUID of %s" % what, self.sub_path(*base + ("device_nguid",)), ns.nguid)
                if ns.enabled:
                    self.write("enable %s" % what, self.sub_path(*base + ("enable",)), "1")
                continue
            writes = []
            if ns.device is not None and self.key_of(ns.device) != self.key_of(cur.get("device_path", "")):
                writes.append(("back %s by %s (was %s)" % (what, ns.device, cur.get("device_path")), "device_path", ns.device))
            if ns.uuid and ns.uuid.lower() != (cur.get("device_uuid") or "").lower():
                writes.append(("set the UUID of %s" % what, "device_uuid", ns.uuid))
            if ns.nguid and ns.nguid.lower() != (cur.get("device_nguid") or UNSET_NGUID).lower():
                writes.append(("set the NGUID of %s" % what, "device_nguid", ns.nguid))
            enabled = cur.get("enable") == "1"
            if writes:
                self.refuse_in_use("change the device or identifiers of %s" % what.split(" of ")[0])
                if enabled:
                    self.write("disable %s to change it" % what, self.sub_path(*base + ("enable",)), "0")
                for description, attr, value in writes:
                    self.write(description, self.sub_path(*base + (attr,)), value)
                if ns.enabled:
                    self.write("enable %s" % what, self.sub_path(*base + ("enable",)), "1")
            elif enabled != ns.enabled:
                if not ns.enabled:
                    self.refuse_in_use("disable %s" % what.split(" of ")[0])
                self.write("%s %s" % ("enable" if ns.enabled else "disable", what),
                           self.sub_path(*base + ("enable",)), "1" if ns.enabled else "0")
        listed = set(ns.nsid for ns in req.namespaces)
        extra = sorted(nsid for nsid in have if nsid not in listed)
        if extra and req.purge:
            self.refuse_in_use("remove namespace%s %s" % ("s" if len(extra) > 1 else "", ", ".join(map(str, extra))))
            for nsid in extra:
                self.removals.append(ConfigfsOp("remove namespace %d of %s (%s)" % (
                    nsid, req.nqn, have[nsid].get("device_path")), "rmdir", self.sub_path("namespaces", nsid)))
        elif extra:
            self.plan.notes.append("namespaces of %s not listed were kept (purge is off): %s" % (
                req.nqn, ", ".join(map(str, extra))))

    def guard(self, namespaces):
        if not namespaces:
            return
        infos = []
        for ns in namespaces:
            users = [(nqn, nsid) for nqn, nsid in self.state.namespaces_using(self.key_of, ns.device)
                     if (nqn, nsid) != (self.req.nqn, ns.nsid)]
            if users:
                raise StrataError("refusing to export %s as namespace %d of %s: it is already namespace %d of %s" % (
                    ns.device, ns.nsid, self.req.nqn, users[0][1], users[0][0]),
                    hint="nothing was changed; one device backs one namespace (two writers would corrupt it)")
            infos.append(self.inspect(ns.device))
        guard_blank(infos, self.req.force, "an NVMe namespace of %s" % self.req.nqn)

    # ---------------------------------------------------------------- ports
    def find_port(self, port):
        for pid, cur in sorted(self.state.ports.items()):
            addr = cur["addr"]
            if addr.get("trtype") != port.trtype:
                continue
            if port.trtype == "loop" or (addr.get("traddr") == port.traddr and addr.get("trsvcid") == port.trsvcid):
                return pid
        return None

    def ports(self):
        req = self.req
        if req.ports is None:
            return
        taken = set(self.state.ports)
        mine = set(self.state.ports_of(req.nqn))
        wanted = set()
        for port in req.ports:
            if port.trtype == "tcp" and not self.is_local(port.traddr):
                raise StrataError("port address %s of subsystem %s is not an address of this host" % (
                    port.traddr, req.nqn),
                    hint="nothing was changed; nvmet can only listen on an address assigned to one of this "
                         "host's interfaces (ip -brief address)")
            at = self.find_port(port)
            pid = port.id if port.id is not None else at
            if at is not None and pid != at:
                raise StrataError("%s is already port %d, not port %d" % (port.address(), at, pid),
                                  hint="nothing was changed; leave the port id out, or use %d" % at)
            if pid is None:
                pid = next(i for i in range(1, 65536) if i not in taken)
            taken.add(pid)
            wanted.add(pid)
            path_ = self.port_path(pid)
            cur = self.state.ports.get(pid)
            link = self.port_path(pid, "subsystems", req.nqn)
            linked = pid in mine
            if cur is None:
                self.ops.append(mkdir_op("create port %d (%s)" % (pid, port.address()), path_, "port %d" % pid))
                for attr, value in (("adrfam", port.adrfam), ("trtype", port.trtype), ("traddr", port.traddr),
                                    ("trsvcid", port.trsvcid)):
                    if value:
                        self.write("set %s of port %d to %s" % (attr, pid, value), self.port_path(pid, "addr_" + attr), value)
            diff = []
            if cur is not None:
                addr = cur["addr"]
                diff = [(a, v) for a, v in (("adrfam", port.adrfam), ("trtype", port.trtype), ("traddr", port.traddr),
                                            ("trsvcid", port.trsvcid)) if (addr.get(a) or "") != (v or "")]
                if diff:
                    others = [s for s in cur["subsystems"] if s != req.nqn]
                    if others:
                        raise StrataError("port %d is %s and serves %s too; changing it to %s would move them" % (
                            pid, self.state.port_address(pid), ", ".join(others), port.address()),
                            hint="nothing was changed; use another port id for this address")
                    if linked:
                        self.refuse_in_use("move port %d" % pid)
                        self.ops.append(ConfigfsOp("disable port %d for %s to change its address" % (pid, req.nqn),
                                                   "unlink", link))
                        linked = False
                    for attr, value in diff:
                        self.write("set %s of port %d to %s" % (attr, pid, value), self.port_path(pid, "addr_" + attr), value)
            if port.trtype == "tcp" and self.state.facts is not None and (
                    cur is None or not cur["subsystems"] or [pair for pair in diff if pair[0] in ("trtype", "traddr", "trsvcid")]):
                # the first link enables the port: nvmet-tcp binds a listener there, and fails (EADDRINUSE)
                # where another socket listens already
                taken_by = self.state.facts.listening(port.traddr, port.trsvcid)
                if taken_by:
                    raise StrataError("port %d (%s) of subsystem %s cannot listen: another program listens on %s" % (
                        pid, port.address(), req.nqn, ", ".join(taken_by)),
                        hint="nothing was changed; choose another trsvcid (4420 is the NVMe/TCP default), or stop "
                             "that program (ss -ltnp shows which)")
            if not linked:
                self.ops.append(symlink_op("offer %s on port %d (%s)" % (req.nqn, pid, port.address()), link,
                                           self.sub_path(), "the link of %s to port %d" % (req.nqn, pid)))
        extra = sorted(mine - wanted)
        if extra and req.purge:
            self.refuse_in_use("take subsystem %s off port%s %s" % (
                req.nqn, "s" if len(extra) > 1 else "", ", ".join(map(str, extra))))
            for pid in extra:
                # first in the plan: hosts stop reaching the subsystem before anything else changes
                self.ops.insert(0, ConfigfsOp("stop offering %s on port %d (%s)" % (req.nqn, pid, self.state.port_address(pid)),
                                              "unlink", self.port_path(pid, "subsystems", req.nqn)))
                self.unlinked_ports.add(pid)
        elif extra:
            self.plan.notes.append("ports of %s not listed were kept (purge is off): %s" % (
                req.nqn, ", ".join(map(str, extra))))

    # ---------------------------------------------------------------- leftovers
    def orphans(self, removed_subsystem=False):
        """Ports and host entries this run left without any subsystem: removed too."""
        for pid in sorted(self.unlinked_ports):
            port = self.state.ports[pid]
            if not [s for s in port["subsystems"] if s != self.req.nqn] and not port["referrals"]:
                self.removals.append(ConfigfsOp("remove port %d (%s), which no subsystem uses any more" % (
                    pid, self.state.port_address(pid)), "rmdir", self.port_path(pid)))
        for host in sorted(self.unlinked_hosts):
            if not [s for s in self.state.subsystems_allowing(host) if s != self.req.nqn]:
                self.removals.append(ConfigfsOp("remove host entry %s, which no subsystem allows any more" % host,
                                                "rmdir", self.host_path(host)))

    def absent(self):
        req = self.req
        current = self.state.subsystem(req.nqn)
        if current is None:
            return
        self.refuse_in_use("remove subsystem %s" % req.nqn)
        for pid in self.state.ports_of(req.nqn):
            self.ops.append(ConfigfsOp("stop offering %s on port %d (%s)" % (req.nqn, pid, self.state.port_address(pid)),
                                       "unlink", self.port_path(pid, "subsystems", req.nqn)))
            self.unlinked_ports.add(pid)
        for nsid, ns in sorted(current["namespaces"].items()):
            self.ops.append(ConfigfsOp("remove namespace %d of %s (%s)" % (nsid, req.nqn, ns.get("device_path")),
                                       "rmdir", self.sub_path("namespaces", nsid)))
        for host in current["allowed_hosts"]:
            self.ops.append(ConfigfsOp("stop allowing host %s on %s" % (host, req.nqn), "unlink",
                                       self.sub_path("allowed_hosts", host)))
            self.unlinked_hosts.add(host)
        self.ops.append(ConfigfsOp("remove subsystem %s" % req.nqn, "rmdir", self.sub_path()))

    def run(self):
        req = self.req
        if req.state == "absent":
            self.absent()
        else:
            self.modules()
            allowed = self.hosts()
            want_any, attr = self.subsystem()
            if not want_any:
                self.allow_any_host(want_any, attr, allowed)
            self.host_links(allowed)
            if want_any:
                self.allow_any_host(want_any, attr, allowed)
            self.namespaces()
            self.ports()
        self.orphans()
        self.plan.actions = self.first + self.ops + self.removals
        return self.plan


def plan_subsystem(req, state, inspect, key_of, is_local=None, saved_text=None, config_text=None, root=CONFIGFS):
    """The Plan for one subsystem. `saved_text`: the save file's content now (None: absent);
    `config_text`: the current tree as it would be saved. A save action (content filled in
    after the real run re-reads the tree) ends the plan when the tree changes or the file
    differs from the tree."""
    planner = _Planner(req, state, inspect, key_of, is_local or is_local_address, root)
    plan = planner.run()
    plan.before = summary(state, req.nqn)
    plan.after = predict(plan.before, req)
    config_changes = [a for a in plan.actions if isinstance(a, ConfigfsOp)]
    plan.save_action = None
    if req.save and (config_changes or saved_text != config_text):
        plan.save_action = plan.add(Action("save the nvmet configuration to %s (mode 0600, 3 copies kept)" % req.save_path,
                                           path=req.save_path, mode=0o600))
    return plan


def predict(before, req):
    """The subsystem summary after the plan (for check mode and the diff)."""
    if req.state == "absent":
        return {"state": "absent"}
    after = dict(before) if before.get("state") == "present" else {
        "nqn": req.nqn, "state": "present", "allow_any_host": False, "serial": "", "model": "", "version": "",
        "namespaces": [], "ports": [], "hosts": []}
    for key in ("serial", "model", "allow_any_host"):
        if getattr(req, key) is not None:
            after[key] = getattr(req, key).rstrip(" ") if key != "allow_any_host" else getattr(req, key)
    if req.namespaces is not None:
        have = dict((ns["nsid"], dict(ns)) for ns in after["namespaces"])
        out = {} if req.purge else dict(have)
        for ns in req.namespaces:
            entry = dict(have.get(ns.nsid) or {"nsid": ns.nsid, "device": "", "uuid": "", "nguid": ""})
            entry["device"] = ns.device or entry["device"]
            entry["uuid"] = ns.uuid or entry["uuid"]
            entry["nguid"] = ns.nguid or entry["nguid"]
            entry["enabled"] = ns.enabled
            out[ns.nsid] = entry
        after["namespaces"] = [out[k] for k in sorted(out)]
    if req.ports is not None:
        have = dict(((p["trtype"], p["traddr"], p["trsvcid"]), p) for p in after["ports"])
        out = [] if req.purge else list(after["ports"])
        for port in req.ports:
            key = (port.trtype, port.traddr, port.trsvcid)
            if key in have and req.purge:
                out.append(have[key])
            elif key not in have:
                out.append({"id": port.id, "trtype": port.trtype, "adrfam": port.adrfam, "traddr": port.traddr,
                            "trsvcid": port.trsvcid})
        after["ports"] = out
    if req.hosts is not None:
        have = dict((h["nqn"], h) for h in after["hosts"])
        out = [] if req.purge else [h for h in after["hosts"] if h["nqn"] not in [r.nqn for r in req.hosts]]
        for host in req.hosts:
            entry = dict(have.get(host.nqn) or {"nqn": host.nqn})
            for key in ("dhchap_key", "dhchap_ctrl_key"):
                if getattr(host, key):
                    entry[key] = SECRET_SHOWN
            for key in ("dhchap_hash", "dhchap_dhgroup"):
                if getattr(host, key):
                    entry[key] = getattr(host, key)
            out.append(entry)
        after["hosts"] = out
    return after
