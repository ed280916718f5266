# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NFS exports: one file per export in /etc/exports.d, validated options, the live table.

Reading is from Python only (no process): /etc/exports and /etc/exports.d/*.exports (what
exportfs reads), /var/lib/nfs/etab (the table exportfs applied and mountd serves) and
/proc/fs/nfsd/exports (the kernel's export cache, present while nfsd runs). The only command
is `exportfs -ra`, run once and only when a file changed.

Options are checked against nfs-utils 2.6's own keyword list (support/nfs/exports.c
parseopts: an unknown keyword makes exportfs skip the client), so a typo fails here, before a
file is written. Secure defaults: `ro` unless `rw` is given, `sync`, `root_squash`, `secure`,
`no_subtree_check` (nfs-utils' default, written out so exportfs does not warn); `no_root_squash`,
`insecure` (and `insecure_locks`/`no_auth_nlm`) and world clients (`*`, `0.0.0.0/0`, `::/0`)
need their own allow flag. `sec=` takes sys, krb5, krb5i, krb5p and is written last, so every
other option applies to every flavor (nfs-utils applies flags after a sec= to those flavors only).
"""

from __future__ import annotations

import glob
import ipaddress
import os
import re
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action
from ansible_collections.strata.storage.plugins.module_utils.core.localhost import read_optional as _read

EXPORTS = "/etc/exports"
EXPORTS_D = "/etc/exports.d"
ETAB = "/var/lib/nfs/etab"
KERNEL_EXPORTS = "/proc/fs/nfsd/exports"
HEADER = "# Managed by strata.storage.nfs_export: changes made here are replaced on its next run.\n"

# nfs-utils 2.6 parseopts(): plain keywords, in pairs that exclude each other
PAIRS = (("ro", "rw"), ("sync", "async"), ("secure", "insecure"), ("hide", "nohide"), ("crossmnt", "nocrossmnt"),
         ("wdelay", "no_wdelay"), ("subtree_check", "no_subtree_check"), ("acl", "no_acl"), ("pnfs", "no_pnfs"),
         ("secure_locks", "insecure_locks"), ("auth_nlm", "no_auth_nlm"), ("all_squash", "no_all_squash"),
         ("root_squash", "no_root_squash"))
KEYWORDS = set(k for pair in PAIRS for k in pair) | {"nordirplus", "security_label", "mountpoint", "mp"}
VALUED = ("anonuid", "anongid", "fsid", "sec", "mountpoint", "mp", "refer", "replicas")
SEC_FLAVORS = ("sys", "krb5", "krb5i", "krb5p")
WORLD = ("*", "0.0.0.0/0", "::/0", "<world>")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}$|^[0-9a-fA-F]{8}(:[0-9a-fA-F]{8}){3}$")
_CLIENT_RE = re.compile(r"^[A-Za-z0-9_.:*?\[\]@/<>-]+$")


def is_world(host):
    """Does this client name let every host in? `*` (or only `*`s), and any network with a
    prefix of 0 however it is written: 0.0.0.0/0, 0/0, 0.0.0.0/0.0.0.0 (address/netmask, which
    exports(5) takes), ::/0, 0::0/0."""
    if host in WORLD or (host and set(host) <= {"*"}):
        return True
    if "/" in host:
        try:
            return ipaddress.ip_network(host, strict=False).prefixlen == 0
        except ValueError:
            mask = host.partition("/")[2]
            if mask.isdigit() and int(mask) == 0:
                return True
    return False


# ------------------------------------------------------------------ parsing exports files
def _unescape(text):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), text)


def _tokens(line):
    """Split one logical exports line: quoted paths, client(opts) kept whole."""
    out, cur, quote, depth = [], "", False, 0
    for ch in line:
        if ch == '"':
            quote = not quote
            continue
        if ch == "(" and not quote:
            depth += 1
        elif ch == ")" and not quote:
            depth -= 1
        if ch in " \t" and not quote and depth == 0:
            if cur:
                out.append(cur)
            cur = ""
            continue
        cur += ch
    if cur:
        out.append(cur)
    return out


def parse_exports(text, source=""):
    """[{path, client, options: [..], source, line}] from exports(5) text."""
    out = []
    logical, number, start = "", 0, 0
    for raw in (text or "").splitlines():
        number += 1
        line = raw.split("#", 1)[0].rstrip() if '"' not in raw else raw.rstrip()
        if not logical:
            start = number
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        tokens = _tokens(logical.strip())
        logical = ""
        if not tokens:
            continue
        path = _unescape(tokens[0])
        defaults = []
        clients = []
        for tok in tokens[1:]:
            if tok.startswith("-"):
                defaults = [o for o in tok[1:].split(",") if o]
                continue
            match = re.match(r"^([^(]*)(?:\((.*)\))?$", tok)
            host, opts = (match.group(1), match.group(2)) if match else (tok, None)
            clients.append((host or "*", defaults + ([o for o in opts.split(",") if o] if opts is not None else [])))
        if not clients:
            clients = [("*", defaults)]
        for host, opts in clients:
            out.append({"path": path, "client": host, "options": opts, "source": source, "line": start})
    return out


def parse_table(text, source):
    """etab or /proc/fs/nfsd/exports: 'path<TAB>client(opts)' per line -> entries."""
    out = []
    for raw in (text or "").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = raw.split()
        if len(parts) < 2:
            continue
        path = _unescape(parts[0])
        match = re.match(r"^([^(]*)\((.*)\)$", parts[1])
        if not match:
            continue
        client = match.group(1)
        out.append({"path": path, "client": "*" if client in ("<world>", "*") else client,
                    "options": [o for o in match.group(2).split(",") if o], "source": source})
    return out


def effective(options):
    """The flags that matter for access, as nfs-utils would set them from these options."""
    flags = {"access": "ro", "squash": "root_squash", "port": "secure", "sync": "sync"}
    sec = None
    for opt in options:
        if opt in ("ro", "rw"):
            flags["access"] = opt
        elif opt in ("root_squash", "no_root_squash"):
            flags["squash"] = "all_squash" if flags["squash"] == "all_squash" else opt
        elif opt == "all_squash":
            flags["squash"] = "all_squash"
        elif opt in ("secure", "insecure"):
            flags["port"] = opt
        elif opt in ("sync", "async"):
            flags["sync"] = opt
        elif opt.startswith("sec="):
            sec = opt[4:]
    flags["sec"] = sec or "sys"
    return flags


# ------------------------------------------------------------------ state
@dataclass
class ExportsState:
    files: dict = field(default_factory=dict)    # path of a file -> its text (exports and exports.d/*.exports)
    entries: list = field(default_factory=list)  # parse_exports() of every file
    live: list = field(default_factory=list)     # etab
    kernel: list = None                          # /proc/fs/nfsd/exports (None: nfsd not running)

    def exported_elsewhere(self, path, own_file):
        return sorted(set("%s:%s" % (e["source"], e["line"]) for e in self.entries
                          if e["path"] == path and e["source"] != own_file))


def read_state(runner, exports=EXPORTS, exports_d=EXPORTS_D, etab=ETAB, kernel=KERNEL_EXPORTS):
    state = ExportsState()
    for path in [exports] + sorted(glob.glob(os.path.join(exports_d, "*.exports"))):
        text = _read(path)
        if text is not None:
            state.files[path] = text
            state.entries.extend(parse_exports(text, path))
    state.live = parse_table(_read(etab), etab)
    text = _read(kernel)
    state.kernel = parse_table(text, kernel) if text is not None else None
    runner.reads.append(["file", "read", exports, exports_d + "/*.exports", etab, kernel])
    return state


def differences(state):
    """Warnings where the live table (etab) differs from the files."""
    out = []
    live = dict(((e["path"], e["client"]), e) for e in state.live)
    files = {}
    for entry in state.entries:
        files[(entry["path"], "*" if entry["client"] in WORLD else entry["client"])] = entry
    for key, entry in sorted(files.items()):
        if key not in live:
            out.append("%s to %s (%s line %d) is not in the live export table: the files were not applied "
                       "(run exportfs -ra), or exportfs refused the entry" % (key[0], key[1], entry["source"], entry["line"]))
            continue
        want, have = effective(entry["options"]), effective(live[key]["options"])
        diff = ["%s %s (files say %s)" % (k, have[k], want[k]) for k in sorted(want) if want[k] != have[k]]
        if diff:
            out.append("%s to %s is exported with %s: the files were changed but not applied (run exportfs -ra)" % (
                key[0], key[1], ", ".join(diff)))
    for key in sorted(set(live) - set(files)):
        out.append("%s to %s is exported (%s) but in no exports file: it was added by hand (exportfs -o) and goes "
                   "away at the next exportfs -ra" % (key[0], key[1], ",".join(live[key]["options"])))
    return out


# ------------------------------------------------------------------ requests
@dataclass
class ClientRequest:
    host: str
    options: list


@dataclass
class ExportRequest:
    name: str
    path: str
    state: str = "present"
    clients: list = field(default_factory=list)
    fsid: str = None
    allow_no_root_squash: bool = False
    allow_insecure: bool = False
    allow_world: bool = False

    @property
    def file(self):
        return os.path.join(EXPORTS_D, self.name + ".exports")


def _check_options(options, where, req):
    seen = {}
    for opt in options:
        key = opt.split("=", 1)[0]
        if "=" in opt:
            if key not in VALUED:
                raise StrataError("%s: option '%s' is not an NFS export option (nfs-utils would skip the client)" % (where, opt),
                                  hint="nothing was changed; see exports(5)")
            value = opt.split("=", 1)[1]
            if not value:
                raise StrataError("%s: option '%s' has no value" % (where, opt), hint="nothing was changed")
            if key in ("anonuid", "anongid") and not re.match(r"^-?\d+$", value):
                raise StrataError("%s: %s must be a number, not '%s'" % (where, key, value), hint="nothing was changed")
            if key == "fsid" and fsid_key(value) is None:
                raise StrataError("%s: fsid '%s' is not a number, root or a UUID" % (where, value),
                                  hint="nothing was changed; a number is 0 to 4294967295 (0 and root are the same)")
            if key == "sec":
                bad = [f for f in value.split(":") if f not in SEC_FLAVORS]
                if bad:
                    raise StrataError("%s: security flavor %s is not one of %s" % (where, ", ".join(bad), ", ".join(SEC_FLAVORS)),
                                      hint="nothing was changed; write several as sec=krb5p:krb5i")
        elif opt not in KEYWORDS:
            raise StrataError("%s: option '%s' is not an NFS export option (nfs-utils would skip the client)" % (where, opt),
                              hint="nothing was changed; see exports(5) for the options, e.g. rw, ro, sync, root_squash")
        if key in seen:
            raise StrataError("%s: option %s is given twice" % (where, key), hint="nothing was changed")
        seen[key] = opt
    for a, b in PAIRS:
        if a in seen and b in seen:
            raise StrataError("%s: options %s and %s exclude each other" % (where, a, b), hint="nothing was changed")
    if "no_root_squash" in seen and not req.allow_no_root_squash:
        raise StrataError("%s: no_root_squash gives root on the client root on %s" % (where, req.path),
                          hint="nothing was changed; set allow_no_root_squash: true if that is meant")
    for risky in ("insecure", "insecure_locks", "no_auth_nlm"):
        if risky in seen and not req.allow_insecure:
            raise StrataError("%s: %s accepts requests from unprivileged ports (any local user on the client)" % (where, risky),
                              hint="nothing was changed; set allow_insecure: true if that is meant")


def fsid_key(value):
    """What fsid=value identifies, as nfs-utils parses it (parseopts): `root` is 0, a number is read
    like strtoul(value, 0) (0x.. hexadecimal, a leading 0 octal) into 32 bits, a UUID by its hex digits.
    So fsid=010 and fsid=8 are one fsid. None: not an fsid (we refuse numbers past 32 bits, which
    nfs-utils would truncate)."""
    text = str(value)
    if text == "root":
        return "0"
    number = None
    if re.match(r"^0[xX][0-9a-fA-F]+$", text):
        number = int(text[2:], 16)
    elif re.match(r"^0[0-7]+$", text):
        number = int(text, 8)
    elif re.match(r"^[0-9]+$", text) and not text.startswith("0") or text == "0":
        number = int(text)
    if number is not None:
        return str(number) if number <= 0xFFFFFFFF else None
    if _UUID_RE.match(text):
        return "uuid:" + re.sub(r"[^0-9a-f]", "", text.lower())
    return None


def _render_options(options, fsid):
    given = list(options)
    keys = set(o.split("=", 1)[0] for o in given)
    out = ["rw" if "rw" in keys else "ro"]
    out.append("async" if "async" in keys else "sync")
    squash = [o for o in ("all_squash", "no_root_squash", "root_squash") if o in keys]
    out.append(squash[0] if squash else "root_squash")
    out.append("insecure" if "insecure" in keys else "secure")
    out.append("subtree_check" if "subtree_check" in keys else "no_subtree_check")
    placed = set(out) | {"ro", "rw", "sync", "async", "root_squash", "no_root_squash", "all_squash", "secure",
                         "insecure", "subtree_check", "no_subtree_check"}
    out += [o for o in given if o not in placed and not o.startswith(("sec=", "fsid="))]
    if fsid is not None and "fsid" not in keys:
        out.append("fsid=%s" % fsid)
    out += [o for o in given if o.startswith("fsid=")]
    out += [o for o in given if o.startswith("sec=")]        # last: every flag applies to every flavor
    return out


def request_from_params(item, defaults=None):
    item = dict(defaults or {}, **dict((k, v) for k, v in item.items() if v is not None))
    path = item.get("path")
    name = item.get("name") or (re.sub(r"[^A-Za-z0-9_.-]+", "_", path.strip("/")) if path else None)
    if not name or not _NAME_RE.match(name):
        raise StrataError("export name '%s' cannot be a file name in %s" % (name, EXPORTS_D),
                          hint="nothing was changed; use letters, digits, _ . - (not first)")
    req = ExportRequest(name=name, path=path, state=item.get("state") or "present", fsid=item.get("fsid"),
                        allow_no_root_squash=bool(item.get("allow_no_root_squash")),
                        allow_insecure=bool(item.get("allow_insecure")), allow_world=bool(item.get("allow_world")))
    if req.state == "absent":
        return req
    if not path or not os.path.isabs(path) or re.search(r'["\n\\]', path) or path != os.path.normpath(path):
        raise StrataError("export %s: path '%s' is not a plain absolute path" % (name, path), hint="nothing was changed")
    if req.fsid is not None:
        req.fsid = str(req.fsid)
        _check_options(["fsid=%s" % req.fsid], "export %s" % name, req)
    if not item.get("clients"):
        raise StrataError("export %s of %s has no clients" % (name, path),
                          hint="nothing was changed; list the hosts or networks that may mount it")
    hosts = set()
    for client in item["clients"]:
        host = str(client.get("host") or "").strip()
        where = "export %s, client %s" % (name, host or "(none)")
        if not host or not _CLIENT_RE.match(host):
            raise StrataError("%s: '%s' is not a host name, address, network, wildcard or @netgroup" % (where, host),
                              hint="nothing was changed")
        if is_world(host) and not req.allow_world:
            raise StrataError("%s: '%s' lets every host on the network mount %s" % (where, host, path),
                              hint="nothing was changed; name the hosts or networks, or set allow_world: true if that is meant")
        if host in hosts:
            raise StrataError("%s is listed twice" % where, hint="nothing was changed")
        hosts.add(host)
        options = client.get("options") or []
        if isinstance(options, str):
            options = [o for o in options.split(",") if o]
        options = [str(o).strip() for o in options]
        _check_options(options, where, req)
        req.clients.append(ClientRequest(host=host, options=_render_options(options, req.fsid)))
    return req


def render(req):
    """The export's file: a header and one line."""
    path = req.path if " " not in req.path and "\t" not in req.path else '"%s"' % req.path
    clients = " ".join("%s(%s)" % (c.host, ",".join(c.options)) for c in req.clients)
    return HEADER + "%s %s\n" % (path, clients)


class FileRemoval(object):
    """Remove an exports file (Python); reported with its path, never run in check mode."""

    def __init__(self, description, path):
        self.description = description
        self.path = path
        self.undo = None

    def report(self):
        return {"description": self.description, "path": self.path, "remove": True}


def set_aside(path):
    """Remove an exports file, keeping it as <file>.strata-removed (exportfs reads *.exports only)."""
    os.replace(path, path + ".strata-removed")


def plan_exports(reqs, state, isdir=None):
    isdir = isdir or os.path.isdir
    plan = Plan()
    names = set()
    fsids = {}
    for entry in state.entries:
        for opt in entry["options"]:
            if opt.startswith("fsid="):
                fsids.setdefault(fsid_key(opt[5:]), set()).add((entry["path"], entry["source"]))
    changed_files = []
    for req in reqs:
        if req.name in names:
            raise StrataError("export name %s is used twice" % req.name, hint="nothing was changed")
        names.add(req.name)
        current = state.files.get(req.file)
        if req.state == "absent":
            if current is not None:
                plan.add(FileRemoval("remove export %s (%s)" % (req.name, req.file), req.file))
                changed_files.append(req.file)
            continue
        if not isdir(req.path):
            raise StrataError("export %s: %s does not exist or is not a directory" % (req.name, req.path),
                              hint="nothing was changed; create and mount the filesystem first")
        elsewhere = state.exported_elsewhere(req.path, req.file)
        if elsewhere:
            raise StrataError("export %s: %s is exported in %s already" % (req.name, req.path, ", ".join(elsewhere)),
                              hint="nothing was changed; one path is exported from one file (remove the other entry, or "
                                   "give this export that file's name)")
        for client in req.clients:
            for opt in client.options:
                if opt.startswith("fsid="):
                    # fsid=0 (root) too: the NFSv4 pseudo-root is one export
                    others = sorted(p for p, src in fsids.get(fsid_key(opt[5:]), ()) if p != req.path and src != req.file)
                    if others:
                        raise StrataError("export %s: %s is used by %s already" % (req.name, opt, others[0]),
                                          hint="nothing was changed; each exported filesystem needs its own fsid "
                                               "(nfs-utils reads 010 as 8, 0x10 as 16, root as 0)")
                    fsids.setdefault(fsid_key(opt[5:]), set()).add((req.path, req.file))   # the next exports see it
        text = render(req)
        if current != text:
            action = plan.add(Action("%s export %s (%s)" % ("write" if current is None else "update", req.name, req.file),
                                     path=req.file, content=text, mode=0o644))
            action.previous = current
            changed_files.append(req.file)
    if changed_files:
        plan.add(Action("apply the exports files (exportfs -ra)", cmd=["exportfs", "-ra"]))
    plan.before = dict((r.name, summary_of(state.files.get(r.file), r)) for r in reqs)
    plan.after = dict((r.name, summary_of(render(r) if r.state == "present" else None, r)) for r in reqs)
    return plan


def summary_of(text, req):
    if text is None:
        return {"state": "absent", "file": req.file}
    entries = parse_exports(text, req.file)
    return {"state": "present", "file": req.file, "path": entries[0]["path"] if entries else req.path,
            "clients": [{"host": e["client"], "options": e["options"]} for e in entries]}


def live_for(state, path):
    return [{"client": e["client"], "options": e["options"]} for e in state.live if e["path"] == path]
