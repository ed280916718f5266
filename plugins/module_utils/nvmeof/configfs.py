# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel NVMe target (nvmet) tree in configfs, read in one walk and changed op by op.

Debian 12 has no nvmetcli, so this drives /sys/kernel/config/nvmet directly:
- reading is ONE walk of small files from Python (no process per file, no process at all):
  `walk()` returns a flat {relative path: entry} map, `parse_tree()` turns it into
  `NvmetState`. Unit tests feed parse_tree() trees captured from the VM
  (tests/fixtures/nvmeof/), so the parser never needs a kernel;
- changes are `ConfigfsOp`s (mkdir, write an attribute, symlink, unlink, rmdir), each reported
  in `actions` with its path and value (a DH-HMAC-CHAP key never: `(secret)`); a creating op
  carries its undo as a command (`rmdir`, `rm`) so core's rollback removes what a failed run made;
- the saved configuration is nvmetcli's JSON layout (hosts, ports, subsystems, `attr`, `addr`,
  `param`, `device`), so `nvmetcli restore` on other distributions reads it too; host entries
  carry their DH-HMAC-CHAP attributes under `attr`, which is why the file is 0600.

Facts the tree does not hold come from other files, still without a process: which kernel
modules are loaded (/sys/module), what the kernel was built with (/boot/config-<release>),
which modules exist (/lib/modules/<release>/modules.dep, modules.builtin), established TCP
connections per port (/proc/net/tcp, /proc/net/tcp6: nvmet on Linux 6.1 does not list its
controllers anywhere), and the controllers of this host (/sys/class/nvme).
"""

from __future__ import annotations

import json
import os
import socket
import struct
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.localhost import read_optional as _read
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action

CONFIGFS = "/sys/kernel/config/nvmet"
SAVE_PATH = "/etc/nvmet/config.json"
SECRET_SHOWN = "(secret)"
SECRET_ATTRS = ("dhchap_key", "dhchap_ctrl_key")
UNSET_NGUID = "00000000-0000-0000-0000-000000000000"
TCP_ESTABLISHED = "01"
TCP_LISTEN = "0A"
# the kernel module behind each nvmet transport (addr_trtype): the planner offers tcp and loop, a
# saved tree (restored at boot) may hold any
TRANSPORT_MODULES = {"tcp": "nvmet-tcp", "loop": "nvme-loop", "rdma": "nvmet-rdma", "fc": "nvmet-fc"}
# what a fresh port, subsystem or namespace holds before we write anything; the save leaves
# these out only where nvmetcli does too (nothing: it saves every attribute it can read)


# ------------------------------------------------------------------ the walk
def walk(root=CONFIGFS):
    """{relative path: {"type": "dir"} | {"type": "file", "value": text} | {"type": "link", "target": name}}.

    One pass over the tree; write-only attributes (revalidate_size) are left out; symlinks
    (port links, allowed hosts) are not followed, their target is kept by name. An absent
    root (nvmet not loaded) reads as an empty tree."""
    out = {}
    if not os.path.isdir(root):
        return out
    for current, dirs, files in os.walk(root, followlinks=False):
        rel_dir = os.path.relpath(current, root)
        for name in sorted(dirs + files):
            path = os.path.join(current, name)
            rel = name if rel_dir == "." else "%s/%s" % (rel_dir, name)
            if os.path.islink(path):
                out[rel] = {"type": "link", "target": os.path.basename(os.readlink(path).rstrip("/"))}
            elif os.path.isdir(path):
                out[rel] = {"type": "dir"}
            else:
                try:
                    with open(path) as handle:
                        out[rel] = {"type": "file", "value": handle.read().rstrip("\n")}
                except (IOError, OSError):   # write-only (revalidate_size) or racing removal
                    continue
    return out


# ------------------------------------------------------------------ the state
@dataclass
class NvmetState:
    loaded: bool = False                                # /sys/kernel/config/nvmet exists
    hosts: dict = field(default_factory=dict)           # nqn -> {attr name: value}
    subsystems: dict = field(default_factory=dict)      # nqn -> {"attr", "namespaces", "allowed_hosts"}
    ports: dict = field(default_factory=dict)           # int id -> {"addr", "param", "subsystems", ...}
    facts: object = None                                # KernelFacts (connections, modules, auth)

    def subsystem(self, nqn):
        return self.subsystems.get(nqn)

    def ports_of(self, nqn):
        return sorted(pid for pid, port in self.ports.items() if nqn in port["subsystems"])

    def subsystems_allowing(self, host):
        return sorted(nqn for nqn, sub in self.subsystems.items() if host in sub["allowed_hosts"])

    def namespaces_using(self, key_of, device):
        """[(subsystem nqn, nsid)] whose namespace is backed by `device` (compared by key_of)."""
        want = key_of(device)
        out = []
        for nqn, sub in sorted(self.subsystems.items()):
            for nsid, ns in sorted(sub["namespaces"].items()):
                if ns.get("device_path") and key_of(ns["device_path"]) == want:
                    out.append((nqn, nsid))
        return out

    def port_address(self, pid):
        addr = self.ports[pid]["addr"]
        if addr.get("trtype") == "loop":
            return "loop"
        return "%s %s:%s" % (addr.get("trtype"), addr.get("traddr"), addr.get("trsvcid"))

    def in_use(self, nqn):
        """Why hosts may be connected to subsystem nqn right now (empty: none seen)."""
        facts = self.facts
        if facts is None:
            return []
        out = []
        for ctrl in facts.controllers:
            if ctrl.get("subsysnqn") == nqn and ctrl.get("cntrltype", "io") != "discovery":
                out.append("controller %s of this host is connected to it (%s, state %s)" % (
                    ctrl["name"], ctrl.get("transport"), ctrl.get("state")))
        for pid in self.ports_of(nqn):
            addr = self.ports[pid]["addr"]
            if addr.get("trtype") != "tcp":
                continue
            count = facts.established(addr.get("traddr"), addr.get("trsvcid"))
            if count:
                out.append("port %d (%s) has %d established TCP connection%s (nvmet does not say which subsystem "
                           "they are for, so every subsystem on the port counts as connected)" % (
                               pid, self.port_address(pid), count, "" if count == 1 else "s"))
        return out


def _children(files, prefix, kind=None):
    """Names directly under prefix (dirs/files/links as asked)."""
    out = []
    depth = prefix.count("/") + 1
    for rel, entry in files.items():
        if rel.startswith(prefix + "/") and rel.count("/") == depth and (kind is None or entry["type"] == kind):
            out.append(rel[len(prefix) + 1:])
    return sorted(out)


def _attrs(files, prefix, strip=""):
    out = {}
    for name in _children(files, prefix, "file"):
        if name.startswith(strip):
            value = files["%s/%s" % (prefix, name)]["value"]
            if name in ("attr_serial", "attr_model"):
                value = value.rstrip(" ")     # the kernel pads them with spaces (20 and 40 bytes)
            out[name[len(strip):]] = value
    return out


def parse_tree(files, facts=None):
    """NvmetState from walk() output (or a captured fixture of it)."""
    state = NvmetState(loaded=bool(files) or (facts is not None and facts.configfs_present), facts=facts)
    for nqn in _children(files, "hosts", "dir"):
        state.hosts[nqn] = _attrs(files, "hosts/%s" % nqn)
    for nqn in _children(files, "subsystems", "dir"):
        base = "subsystems/%s" % nqn
        namespaces = {}
        for nsid in _children(files, base + "/namespaces", "dir"):
            if nsid.isdigit():
                namespaces[int(nsid)] = _attrs(files, "%s/namespaces/%s" % (base, nsid))
        state.subsystems[nqn] = {
            "attr": _attrs(files, base, strip="attr_"),
            "namespaces": namespaces,
            "allowed_hosts": _children(files, base + "/allowed_hosts", "link"),
        }
    for pid in _children(files, "ports", "dir"):
        if not pid.isdigit():
            continue
        base = "ports/%s" % pid
        attrs = _attrs(files, base)
        referrals = {}
        for ref in _children(files, base + "/referrals", "dir"):
            referrals[ref] = _attrs(files, "%s/referrals/%s" % (base, ref))
        ana = {}
        for grp in _children(files, base + "/ana_groups", "dir"):
            ana[grp] = _attrs(files, "%s/ana_groups/%s" % (base, grp))
        state.ports[int(pid)] = {
            "addr": dict((k[5:], v) for k, v in attrs.items() if k.startswith("addr_")),
            "param": dict((k[6:], v) for k, v in attrs.items() if k.startswith("param_")),
            "subsystems": _children(files, base + "/subsystems", "link"),
            "referrals": referrals,
            "ana_groups": ana,
        }
    return state


def read_state(runner, root=CONFIGFS, facts=None):
    """The whole nvmet tree and the facts around it: one walk, no process. Listed in `reads`."""
    facts = facts if facts is not None else KernelFacts()
    facts.refresh()
    state = parse_tree(walk(root), facts)
    runner.reads.append(["configfs", "read", root] + facts.sources())
    return state


# ------------------------------------------------------------------ saving (nvmetcli's layout)
def _num(value):
    return int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else value


def to_config(state):
    """The whole tree as nvmetcli saves it (with DH-HMAC-CHAP keys: keep the file 0600)."""
    hosts = []
    for nqn, attrs in sorted(state.hosts.items()):
        entry = {"nqn": nqn}
        if attrs:
            entry["attr"] = dict(sorted(attrs.items()))
        hosts.append(entry)
    ports = []
    for pid, port in sorted(state.ports.items()):
        ports.append({
            "portid": pid,
            "addr": dict(sorted(port["addr"].items())),
            "param": dict(sorted(port["param"].items())),
            "subsystems": list(port["subsystems"]),
            "referrals": [dict(name=name, addr=dict((k[5:], v) for k, v in sorted(ref.items()) if k.startswith("addr_")),
                               portid=_num(ref.get("portid")), enable=_num(ref.get("enable")))
                          for name, ref in sorted(port["referrals"].items())],
            "ana_groups": [{"grpid": _num(grp), "ana": {"state": attrs.get("ana_state")}}
                           for grp, attrs in sorted(port["ana_groups"].items(), key=lambda kv: _num(kv[0]))],
        })
    subsystems = []
    for nqn, sub in sorted(state.subsystems.items()):
        namespaces = []
        for nsid, ns in sorted(sub["namespaces"].items()):
            entry = {"nsid": nsid, "enable": _num(ns.get("enable", "0")),
                     "device": {"path": ns.get("device_path", ""), "uuid": ns.get("device_uuid", ""),
                                "nguid": ns.get("device_nguid", "")}}
            for extra in ("ana_grpid", "buffered_io"):
                if extra in ns:
                    entry[extra] = _num(ns[extra])
            namespaces.append(entry)
        subsystems.append({"nqn": nqn, "attr": dict(sorted(sub["attr"].items())),
                           "allowed_hosts": list(sub["allowed_hosts"]), "namespaces": namespaces})
    return {"hosts": hosts, "ports": ports, "subsystems": subsystems}


def config_text(state):
    return json.dumps(to_config(state), indent=2, sort_keys=True) + "\n"


# ------------------------------------------------------------------ facts around the tree
def parse_proc_net_tcp(text, ipv6=False):
    """[(local address, local port, state hex)] from /proc/net/tcp or tcp6."""
    out = []
    for line in (text or "").splitlines()[1:]:
        parts = line.split()
        if len(parts) < 4 or ":" not in parts[1]:
            continue
        addr_hex, port_hex = parts[1].rsplit(":", 1)
        try:
            if ipv6:
                words = struct.unpack("<4I", bytes.fromhex(addr_hex))
                addr = socket.inet_ntop(socket.AF_INET6, struct.pack(">4I", *words))
            else:
                addr = socket.inet_ntop(socket.AF_INET, struct.pack("<I", int(addr_hex, 16)))
        except (ValueError, struct.error):
            continue
        out.append((addr, int(port_hex, 16), parts[3]))
    return out


def read_controllers(sysfs="/sys"):
    """The NVMe controllers of THIS host (as a host), from /sys/class/nvme: one dict each."""
    base = os.path.join(sysfs, "class", "nvme")
    out = []
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return out
    for name in names:
        ctrl = {"name": name}
        for attr in ("subsysnqn", "transport", "address", "state", "hostnqn", "hostid", "cntlid", "cntrltype",
                     "model", "serial"):
            value = _read(os.path.join(base, name, attr))
            if value is not None:
                ctrl[attr] = value.strip()
        ctrl["auth"] = os.path.exists(os.path.join(base, name, "dhchap_secret"))
        try:
            ctrl["entries"] = sorted(os.listdir(os.path.join(base, name)))
        except OSError:
            ctrl["entries"] = []
        out.append(ctrl)
    return out


class KernelFacts:
    """Facts read from sysfs, procfs, /boot and /lib/modules (no process). Roots injectable."""

    def __init__(self, sysfs="/sys", proc="/proc", boot="/boot", lib_modules="/lib/modules", release=None,
                 configfs_root=CONFIGFS):
        self.sysfs = sysfs
        self.proc = proc
        self.boot = boot
        self.lib_modules = lib_modules
        self.release = release or os.uname()[2]
        self.configfs_root = configfs_root
        self.sockets = []
        self.controllers = []
        self.configfs_present = False
        self._config = None
        self._modules = None

    def sources(self):
        return [os.path.join(self.proc, "net", "tcp"), os.path.join(self.proc, "net", "tcp6"),
                os.path.join(self.sysfs, "class", "nvme")]

    def refresh(self):
        tcp4 = parse_proc_net_tcp(_read(os.path.join(self.proc, "net", "tcp"), ""))
        tcp6 = parse_proc_net_tcp(_read(os.path.join(self.proc, "net", "tcp6"), ""), ipv6=True)
        self.sockets = tcp4 + tcp6
        self.controllers = read_controllers(self.sysfs)
        self.configfs_present = os.path.isdir(self.configfs_root)

    def established(self, traddr, trsvcid):
        try:
            port = int(trsvcid)
        except (TypeError, ValueError):
            return 0
        wild = ("0.0.0.0", "::")
        matches = (traddr, "::ffff:%s" % traddr)
        return sum(1 for addr, lport, st in self.sockets
                   if st == TCP_ESTABLISHED and lport == port and (traddr in wild or addr in matches))

    def listening(self, traddr, trsvcid):
        """The local addresses listening on TCP port trsvcid that a listener on traddr would clash with
        (traddr itself, or the wildcard address of its family): binding there fails with EADDRINUSE."""
        try:
            port = int(trsvcid)
        except (TypeError, ValueError):
            return []
        clash = (traddr, "::ffff:%s" % traddr, "::") + (("0.0.0.0",) if ":" not in traddr else ())
        return sorted(set("%s:%d" % (addr, lport) for addr, lport, st in self.sockets
                          if st == TCP_LISTEN and lport == port and addr in clash))

    def module_loaded(self, name):
        return os.path.isdir(os.path.join(self.sysfs, "module", name.replace("-", "_")))

    def kernel_config(self, option):
        """'y', 'm', 'n' (not set) or None (no /boot/config-<release> to ask)."""
        if self._config is None:
            text = _read(os.path.join(self.boot, "config-%s" % self.release))
            self._config = {}
            if text is None:
                self._config = None
                return None
            for line in text.splitlines():
                if line.startswith("CONFIG_") and "=" in line:
                    key, value = line.split("=", 1)
                    self._config[key] = value.strip()
                elif line.startswith("# CONFIG_") and line.endswith(" is not set"):
                    self._config[line[2:-len(" is not set")]] = "n"
        if self._config is None:
            return None
        return self._config.get(option, "n")

    def module_available(self, name):
        """True/False when /lib/modules says, None when it cannot tell."""
        if self.module_loaded(name):
            return True
        if self._modules is None:
            found = set()
            seen = False
            for listing in ("modules.dep", "modules.builtin"):
                text = _read(os.path.join(self.lib_modules, self.release, listing))
                if text is None:
                    continue
                seen = True
                for line in text.splitlines():
                    path = line.split(":", 1)[0]
                    base = os.path.basename(path)
                    for suffix in (".ko", ".ko.xz", ".ko.zst", ".ko.gz"):
                        if base.endswith(suffix):
                            found.add(base[:-len(suffix)].replace("-", "_"))
            self._modules = found if seen else None
        if self._modules is None:
            return None
        return name.replace("-", "_") in self._modules

    def target_auth(self, state):
        """(True/False/None, reason): does this kernel's nvmet have DH-HMAC-CHAP?"""
        for nqn, attrs in sorted(state.hosts.items()):
            probe = "%s/hosts/%s/dhchap_key" % (self.configfs_root, nqn)
            if "dhchap_key" in attrs:
                return True, "%s exists" % probe
            return False, "%s does not exist: this kernel's NVMe target (%s) has no DH-HMAC-CHAP support%s" % (
                probe, self.release, self._config_words("CONFIG_NVME_TARGET_AUTH"))
        built = self.kernel_config("CONFIG_NVME_TARGET_AUTH")
        if built in ("y", "m"):
            return True, "CONFIG_NVME_TARGET_AUTH=%s in %s/config-%s" % (built, self.boot, self.release)
        if built == "n":
            return False, ("this kernel's NVMe target (%s) has no DH-HMAC-CHAP support: CONFIG_NVME_TARGET_AUTH is not "
                           "set in %s/config-%s, so %s/hosts/<nqn>/dhchap_key does not exist" % (
                               self.release, self.boot, self.release, self.configfs_root))
        return None, "unknown until a host entry exists"

    def host_auth(self):
        """(True/False/None, reason): can this host's NVMe driver do DH-HMAC-CHAP?"""
        for ctrl in self.controllers:
            if ctrl.get("auth"):
                return True, "%s/class/nvme/%s/dhchap_secret exists" % (self.sysfs, ctrl["name"])
        built = self.kernel_config("CONFIG_NVME_AUTH")
        if built in ("y", "m"):
            return True, "CONFIG_NVME_AUTH=%s" % built
        if built == "n":
            return False, ("this kernel's NVMe host driver (%s) has no DH-HMAC-CHAP support: CONFIG_NVME_AUTH is not set "
                           "in %s/config-%s; a secret would be ignored and the connection made without "
                           "authentication" % (self.release, self.boot, self.release))
        if self.module_loaded("nvme_auth"):
            return True, "the nvme_auth module is loaded"
        return None, "unknown (no %s/config-%s)" % (self.boot, self.release)

    def _config_words(self, option):
        built = self.kernel_config(option)
        if built == "n":
            return " (%s is not set in %s/config-%s)" % (option, self.boot, self.release)
        return ""


# ------------------------------------------------------------------ changing the tree
@dataclass
class ConfigfsOp:
    """One change of the configfs tree. `value` is the attribute text or the symlink target;
    with secret=True it is never reported."""

    description: str
    op: str                     # mkdir, rmdir, write, symlink, unlink
    path: str
    value: str = None
    secret: bool = False
    undo: object = None         # runner.Action with a command (rmdir / rm) removing what this made
    hint: str = None            # what to do when the kernel refuses it (default: read dmesg)

    def report(self):
        out = {"description": self.description, "configfs": self.op, "path": self.path}
        if self.op == "write":
            out["value"] = SECRET_SHOWN if self.secret else self.value
        elif self.op == "symlink":
            out["target"] = self.value
        return out


def apply_op(op):
    """Carry out one ConfigfsOp (raises OSError)."""
    if op.op == "mkdir":
        os.mkdir(op.path)
    elif op.op == "rmdir":
        os.rmdir(op.path)
    elif op.op == "write":
        fd = os.open(op.path, os.O_WRONLY)
        try:
            os.write(fd, op.value.encode("utf-8"))
        finally:
            os.close(fd)
    elif op.op == "symlink":
        os.symlink(op.value, op.path)
    elif op.op == "unlink":
        os.unlink(op.path)
    else:
        raise ValueError(op.op)


def execute(runner, actions, writer=None, apply=None):
    """Run a plan's actions in order: ConfigfsOps from Python, the rest through the runner.
    In check mode every action is only recorded."""
    for action in actions:
        if not isinstance(action, ConfigfsOp):
            runner.execute(action, writer=writer)
            continue
        runner.actions.append(action.report())
        if runner.check_mode:
            continue
        try:
            (apply or apply_op)(action)
        except OSError as exc:
            raise StrataError(
                "%s failed: %s %s: %s" % (action.description, action.op, action.path, os.strerror(exc.errno or 0)),
                hint=action.hint or "the kernel log (dmesg) says why nvmet refused it",
                details={"actions_done": runner.actions[:-1]})
        if action.undo is not None:
            runner.undo_stack.append(action.undo)


def mkdir_op(description, path, what):
    return ConfigfsOp(description, "mkdir", path,
                      undo=Action("remove %s, which this run created" % what, cmd=["rmdir", path]))


def symlink_op(description, path, target, what):
    return ConfigfsOp(description, "symlink", path, value=target,
                      undo=Action("remove %s, which this run made" % what, cmd=["rm", "--", path]))
