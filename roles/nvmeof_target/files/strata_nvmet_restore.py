# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore the kernel NVMe target (nvmet) from the JSON that strata.storage.nvmeof_subsystem saves.

Run at boot by strata-nvmet-restore.service (installed by the strata.storage.nvmeof_target
role):   python3 strata_nvmet_restore.py [--config /etc/nvmet/config.json] [--timeout 90]

The file has nvmetcli's layout (hosts, ports, subsystems). Restoring is additive and
idempotent: it loads the kernel modules, creates what is missing, writes attributes that
differ, links what is not linked; it never removes anything. It waits (up to --timeout
seconds) for each namespace's device to appear and for each TCP address to be assigned to
this host, so LVs activated late at boot and addresses configured late still come back. What
cannot be restored is reported on stderr (the journal) and the exit code is 1; everything else
is restored all the same.

It runs on the target without Ansible, with the collection's own module_utils (configfs paths,
the transport modules, the attribute write, the local-address test) that the role copies beside
it (nvmeof_target_lib_prefix/ansible_collections/...), as the zfs role does for its timer.
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.environ.get("STRATA_LIB") or os.path.dirname(os.path.abspath(__file__)))

from ansible_collections.strata.storage.plugins.module_utils.core.localhost import is_local_address  # noqa: E402
from ansible_collections.strata.storage.plugins.module_utils.nvmeof.configfs import (  # noqa: E402
    CONFIGFS as ROOT, TRANSPORT_MODULES, ConfigfsOp, apply_op)

# written before the namespace is enabled, and only while it is disabled
NS_DEVICE_ATTRS = (("path", "device_path"), ("uuid", "device_uuid"), ("nguid", "device_nguid"))


class Configfs(object):
    """The few file operations restoring needs (tests swap in a fake tree)."""

    def __init__(self, root=ROOT):
        self.root = root

    def path(self, *parts):
        return os.path.join(self.root, *[str(p) for p in parts])

    def exists(self, *parts):
        return os.path.lexists(self.path(*parts))

    def mkdir(self, *parts):
        if not os.path.isdir(self.path(*parts)):
            os.mkdir(self.path(*parts))

    def read(self, *parts):
        try:
            with open(self.path(*parts)) as handle:
                return handle.read().rstrip("\n")
        except (IOError, OSError):
            return None

    def write(self, value, *parts):
        apply_op(ConfigfsOp("restore", "write", self.path(*parts), value=str(value)))

    def symlink(self, target_parts, *parts):
        if not os.path.lexists(self.path(*parts)):
            os.symlink(self.path(*target_parts), self.path(*parts))


class Restorer(object):
    def __init__(self, fs, timeout=90, log=None, modprobe=None, device_ready=None, address_ready=None):
        self.fs = fs
        self.timeout = timeout
        self.errors = []
        self.log = log or (lambda msg: sys.stderr.write(msg + "\n"))
        self.modprobe = modprobe or _modprobe
        self.device_ready = device_ready or _device_ready
        self.address_ready = address_ready or is_local_address
        self.deadline = None

    def fail(self, what, exc):
        text = "%s: %s" % (what, exc)
        self.errors.append(text)
        self.log("strata-nvmet-restore: " + text)

    def set_attr(self, value, *parts):
        """Write value unless the attribute already holds it (serial/model are padded by the kernel)."""
        current = self.fs.read(*parts)
        if current is not None and current.rstrip(" ") == str(value).rstrip(" "):
            return
        try:
            self.fs.write(value, *parts)
        except (IOError, OSError) as exc:
            self.fail("write %s to %s" % (value if "dhchap" not in parts[-1] else "(secret)", "/".join(map(str, parts))), exc)

    def wait(self, check):
        """Poll check() until it is true or the shared deadline passes (no fixed sleeps)."""
        while True:
            if check():
                return True
            if time.time() >= self.deadline:
                return False
            time.sleep(0.5)

    def restore(self, config):
        self.deadline = time.time() + self.timeout
        modules = ["nvmet"] + sorted(set(TRANSPORT_MODULES.get(p.get("addr", {}).get("trtype"), "")
                                         for p in config.get("ports", [])) - {""})
        for module in modules:
            if not self.modprobe(module):
                self.fail("load kernel module %s" % module, "modprobe failed")
        if not self.wait(lambda: self.fs.exists("subsystems")):
            self.fail("nvmet configfs", "%s did not appear" % self.fs.root)
            return False
        for host in config.get("hosts", []):
            self.host(host)
        for sub in config.get("subsystems", []):
            self.subsystem(sub)
        for port in config.get("ports", []):
            self.port(port)
        return not self.errors

    def host(self, host):
        try:
            self.fs.mkdir("hosts", host["nqn"])
        except (IOError, OSError) as exc:
            self.fail("create host %s" % host["nqn"], exc)
            return
        for name, value in sorted(host.get("attr", {}).items()):
            if value not in (None, "") and self.fs.exists("hosts", host["nqn"], name):
                self.set_attr(value, "hosts", host["nqn"], name)

    def subsystem(self, sub):
        nqn = sub["nqn"]
        try:
            self.fs.mkdir("subsystems", nqn)
        except (IOError, OSError) as exc:
            self.fail("create subsystem %s" % nqn, exc)
            return
        attrs = dict(sub.get("attr", {}))
        allow_any = attrs.pop("allow_any_host", None)
        for name, value in sorted(attrs.items()):
            if self.fs.exists("subsystems", nqn, "attr_" + name):
                self.set_attr(value, "subsystems", nqn, "attr_" + name)
        if allow_any is not None and str(allow_any) == "0":
            self.set_attr("0", "subsystems", nqn, "attr_allow_any_host")
        for host in sub.get("allowed_hosts", []):
            try:
                self.fs.symlink(("hosts", host), "subsystems", nqn, "allowed_hosts", host)
            except (IOError, OSError) as exc:
                self.fail("allow host %s on %s" % (host, nqn), exc)
        if allow_any is not None and str(allow_any) == "1":
            self.set_attr("1", "subsystems", nqn, "attr_allow_any_host")
        for ns in sub.get("namespaces", []):
            self.namespace(nqn, ns)

    def namespace(self, nqn, ns):
        base = ("subsystems", nqn, "namespaces", ns["nsid"])
        try:
            self.fs.mkdir(*base)
        except (IOError, OSError) as exc:
            self.fail("create namespace %s of %s" % (ns["nsid"], nqn), exc)
            return
        device = ns.get("device", {})
        enabled = self.fs.read(*base + ("enable",)) == "1"
        if not enabled:
            for key, attr in NS_DEVICE_ATTRS:
                if device.get(key):
                    self.set_attr(device[key], *base + (attr,))
            for attr in ("ana_grpid", "buffered_io"):
                if attr in ns and self.fs.exists(*base + (attr,)):
                    self.set_attr(ns[attr], *base + (attr,))
        if str(ns.get("enable", 0)) != "1" or enabled:
            return
        path = device.get("path")
        if path and not self.wait(lambda: self.device_ready(path)):
            self.fail("enable namespace %s of %s" % (ns["nsid"], nqn),
                      "%s did not appear within %ss (left disabled)" % (path, self.timeout))
            return
        self.set_attr("1", *base + ("enable",))

    def port(self, port):
        pid = port["portid"]
        addr = port.get("addr", {})
        try:
            self.fs.mkdir("ports", pid)
        except (IOError, OSError) as exc:
            self.fail("create port %s" % pid, exc)
            return
        linked = [s for s in port.get("subsystems", []) if self.fs.exists("ports", pid, "subsystems", s)]
        if not linked:      # a port's address can only change while no subsystem is linked
            for name in ("adrfam", "trtype", "traddr", "trsvcid", "treq"):
                if addr.get(name) not in (None, ""):
                    self.set_attr(addr[name], "ports", pid, "addr_" + name)
            for name, value in sorted(port.get("param", {}).items()):
                if self.fs.exists("ports", pid, "param_" + name):
                    self.set_attr(value, "ports", pid, "param_" + name)
        for group in port.get("ana_groups", []):
            grp = str(group.get("grpid"))
            try:
                if grp != "1":
                    self.fs.mkdir("ports", pid, "ana_groups", grp)
                state = group.get("ana", {}).get("state")
                if state:
                    self.set_attr(state, "ports", pid, "ana_groups", grp, "ana_state")
            except (IOError, OSError) as exc:
                self.fail("ANA group %s of port %s" % (grp, pid), exc)
        if addr.get("trtype") == "tcp" and addr.get("traddr") and \
                not self.wait(lambda: self.address_ready(addr["traddr"])):
            self.fail("port %s" % pid, "address %s is not assigned to this host after %ss" % (addr["traddr"], self.timeout))
            return
        for sub in port.get("subsystems", []):
            try:
                self.fs.symlink(("subsystems", sub), "ports", pid, "subsystems", sub)
            except (IOError, OSError) as exc:
                self.fail("offer %s on port %s" % (sub, pid), exc)


def _modprobe(module):
    try:
        return subprocess.call(["modprobe", module]) == 0
    except OSError:             # no modprobe: reported like a failed load, the rest is restored all the same
        return False


def _device_ready(path):
    return os.path.exists(path)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Restore the nvmet configuration saved by strata.storage.")
    parser.add_argument("--config", default="/etc/nvmet/config.json")
    parser.add_argument("--timeout", type=float, default=90, help="seconds to wait for devices and addresses")
    parser.add_argument("--root", default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        with open(args.config) as handle:
            config = json.load(handle)
    except (IOError, OSError, ValueError) as exc:
        sys.stderr.write("strata-nvmet-restore: cannot read %s: %s\n" % (args.config, exc))
        return 1
    restorer = Restorer(Configfs(args.root), timeout=args.timeout)
    ok = restorer.restore(config)
    counts = (len(config.get("subsystems", [])), len(config.get("ports", [])), len(config.get("hosts", [])))
    sys.stdout.write("strata-nvmet-restore: %d subsystems, %d ports, %d hosts from %s%s\n" % (
        counts + (args.config, "" if ok else "; %d problems (see above)" % len(restorer.errors))))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
