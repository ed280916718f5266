# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ZFS state: one call per kind, machine-readable output only, parsed into plain dataclasses.

    zpool list -Hp -o ...            pools, sizes and health (tab-separated, exact numbers)
    zpool get -Hp -o ... all POOL    every pool property with its source
    zpool status -P -p -v            the vdev tree with full paths, scan progress, errors
                                     (ZFS 2.1 has no JSON output: the text is parsed)
    zfs get -Hp -o name,property,value,source -t filesystem,volume,snapshot,bookmark -r all ROOTS
                                     every property of every dataset, zvol, snapshot and
                                     bookmark under ROOTS, in ONE process

Property sources are kept: a value that is inherited, received or a default is not one the
user set, and the planners never treat it as a local change.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError

POOL_LIST_FIELDS = ["name", "size", "allocated", "free", "fragmentation", "capacity", "dedupratio",
                    "health", "altroot"]
DATASET_TYPES = "filesystem,volume,snapshot,bookmark"
ROLE_HEADERS = {"logs": "log", "cache": "cache", "spares": "spare", "special": "special", "dedup": "dedup"}


def pool_list_cmd():
    return ["zpool", "list", "-Hp", "-o", ",".join(POOL_LIST_FIELDS)]


def pool_get_cmd(pools=()):
    return ["zpool", "get", "-Hp", "-o", "name,property,value,source", "all"] + list(pools)


def pool_status_cmd(pools=()):
    return ["zpool", "status", "-P", "-p", "-v"] + list(pools)


def dataset_get_cmd(roots, depth=None, types=DATASET_TYPES):
    cmd = ["zfs", "get", "-Hp", "-o", "name,property,value,source", "-t", types]
    cmd += ["-d", str(depth)] if depth is not None else ["-r"]
    return cmd + ["all"] + list(roots)


# --------------------------------------------------------------------------- dataclasses
@dataclass
class Dataset:
    name: str
    type: str                                    # filesystem, volume, snapshot, bookmark
    props: dict = field(default_factory=dict)    # property -> (value, source)

    def value(self, prop, default=None):
        entry = self.props.get(prop)
        return default if entry is None else entry[0]

    def source(self, prop):
        """local, default, received, temporary, inherited, or '-' (read-only / none)."""
        entry = self.props.get(prop)
        if entry is None:
            return None
        src = entry[1]
        return "inherited" if src.startswith("inherited") else src

    def inherited_from(self, prop):
        entry = self.props.get(prop)
        if entry and entry[1].startswith("inherited from "):
            return entry[1][len("inherited from "):]
        return None

    def int(self, prop, default=0):
        value = self.value(prop)
        try:
            return int(value)
        except (TypeError, ValueError):
            return default

    @property
    def base(self):
        return self.name.split("@")[0].split("#")[0]

    @property
    def short(self):
        """The part after '@' or '#' for snapshots and bookmarks, else the last component."""
        if self.type in ("snapshot", "bookmark"):
            return re.split(r"[@#]", self.name, maxsplit=1)[1]
        return self.name.rsplit("/", 1)[-1]

    def local_props(self):
        """Properties the user set on this dataset (source local), without read-only ones."""
        return {k: v for k, (v, s) in self.props.items() if s == "local"}

    def summary(self):
        out = {"name": self.name, "type": self.type}
        for prop in ("used", "available", "referenced", "compressratio", "mountpoint", "volsize", "creation",
                     "origin", "encryption", "keystatus", "mounted", "guid", "createtxg"):
            if prop in self.props and self.props[prop][0] not in ("-", ""):
                value = self.props[prop][0]
                out[prop] = int(value) if value.isdigit() else value
        out["properties"] = self.local_props()
        return out


@dataclass
class Vdev:
    name: str                          # path for leaves, e.g. mirror-0 for groups
    type: str                          # disk, file, mirror, raidz, replacing, spare, draid, missing
    state: str = ""
    read: int = 0
    write: int = 0
    cksum: int = 0
    note: str = ""                     # e.g. "(resilvering)", "was /dev/...", "currently in use"
    parity: int = 0
    children: list = field(default_factory=list)

    @property
    def is_leaf(self):
        return not self.children

    def leaves(self):
        if self.is_leaf:
            return [self]
        out = []
        for child in self.children:
            out.extend(child.leaves())
        return out

    def current_leaves(self):
        """The leaves this vdev is made of once running operations finish: the new device of a
        `replacing` group, the original device of an in-use `spare` group, and a missing
        device by the path it was at."""
        if self.is_leaf:
            return [self]
        if self.type == "replacing":
            return self.children[-1].current_leaves()
        if self.type == "spare":
            return self.children[0].current_leaves()
        out = []
        for child in self.children:
            out.extend(child.current_leaves())
        return out

    @property
    def path(self):
        """The device path of a leaf (for a missing device: where it was)."""
        return (self.was or self.name) if self.type == "missing" else self.name

    @property
    def was(self):
        m = re.search(r"was (\S+)", self.note or "")
        return m.group(1) if m else None

    def summary(self):
        out = {"name": self.name, "type": self.type, "state": self.state,
               "read_errors": self.read, "write_errors": self.write, "checksum_errors": self.cksum}
        if self.parity:
            out["parity"] = self.parity
        if self.note:
            out["note"] = self.note
        if self.children:
            out["children"] = [c.summary() for c in self.children]
        return out


@dataclass
class ScanInfo:
    function: str = "none"             # scrub, resilver, none
    state: str = "none"                # finished, scanning, paused, canceled, none
    errors: int = 0
    percent: float = None
    processed: str = ""                # "12.5M" repaired or resilvered
    text: str = ""

    def summary(self):
        return {"function": self.function, "state": self.state, "errors": self.errors,
                "percent_done": self.percent, "processed": self.processed, "text": self.text}


@dataclass
class PoolStatus:
    name: str
    state: str = ""
    status: str = ""
    action: str = ""
    scan: ScanInfo = field(default_factory=ScanInfo)
    vdevs: dict = field(default_factory=dict)       # role -> [top-level Vdev]; roles: data log cache spare special dedup
    root: Vdev = None
    errors: str = ""
    error_files: list = field(default_factory=list)

    def top_level(self, role="data"):
        return self.vdevs.get(role, [])

    def all_leaves(self):
        out = []
        for vdevs in self.vdevs.values():
            for vdev in vdevs:
                out.extend(vdev.leaves())
        return out

    def leaf_paths(self):
        return [leaf.path for leaf in self.all_leaves()]

    @property
    def data_errors(self):
        """Permanent data errors (0 when 'No known data errors')."""
        if not self.errors or self.errors.startswith("No known"):
            return 0
        m = re.match(r"(\d+) data errors", self.errors)
        if m:
            return int(m.group(1))
        return max(len(self.error_files), 1)

    def summary(self):
        return {"state": self.state, "status": self.status or None, "action": self.action or None,
                "scan": self.scan.summary(), "errors": self.errors, "data_errors": self.data_errors,
                "error_files": self.error_files,
                "vdevs": {role: [v.summary() for v in vdevs] for role, vdevs in self.vdevs.items()}}


@dataclass
class Pool:
    name: str
    props: dict = field(default_factory=dict)      # property -> (value, source), from zpool get
    listing: dict = field(default_factory=dict)    # from zpool list
    status: PoolStatus = None

    def value(self, prop, default=None):
        if prop in self.props:
            return self.props[prop][0]
        return self.listing.get(prop, default)

    def int(self, prop, default=0):
        try:
            return int(self.value(prop))
        except (TypeError, ValueError):
            return default

    @property
    def health(self):
        return self.value("health") or (self.status.state if self.status else "")

    def summary(self):
        out = {"name": self.name, "health": self.health}
        for prop in ("size", "allocated", "free", "fragmentation", "capacity", "dedupratio", "ashift", "guid"):
            value = self.value(prop)
            if value not in (None, "-", ""):
                out[prop] = int(value) if str(value).isdigit() else value
        out["properties"] = {k: v for k, (v, s) in self.props.items() if s == "local" and not k.startswith("feature@")}
        if self.status is not None:
            out.update({"status": self.status.summary()})
        return out


@dataclass
class ZfsState:
    pools: dict = field(default_factory=dict)        # name -> Pool
    datasets: dict = field(default_factory=dict)     # name -> Dataset (incl. snapshots, bookmarks)
    roots_read: list = field(default_factory=list)   # dataset roots whose whole tree was read
    missing_roots: list = field(default_factory=list)

    def pool(self, name):
        return self.pools.get(name)

    def get(self, name):
        return self.datasets.get(name)

    def exists(self, name):
        return name in self.datasets

    def children(self, name):
        prefix = name + "/"
        return [d for n, d in self.datasets.items()
                if all((n.startswith(prefix), "/" not in n[len(prefix):].split("@")[0].split("#")[0],
                        d.type in ("filesystem", "volume")))]

    def descendants(self, name):
        prefix = name + "/"
        return [d for n, d in self.datasets.items() if n.startswith(prefix) and d.type in ("filesystem", "volume")]

    def snapshots(self, name):
        """Snapshots of one dataset, oldest first (by createtxg)."""
        prefix = name + "@"
        snaps = [d for n, d in self.datasets.items() if n.startswith(prefix) and d.type == "snapshot"]
        return sorted(snaps, key=lambda d: (d.int("createtxg"), d.name))

    def bookmarks(self, name):
        prefix = name + "#"
        marks = [d for n, d in self.datasets.items() if n.startswith(prefix) and d.type == "bookmark"]
        return sorted(marks, key=lambda d: (d.int("createtxg"), d.name))

    def clones_of(self, snapshot):
        value = (self.datasets.get(snapshot) or Dataset(snapshot, "snapshot")).value("clones", "")
        return [c for c in (value or "").split(",") if c and c != "-"]

    def dependents(self, name):
        """What destroying `name` would take with it: descendants, snapshots (its own and its
        descendants'), and clones (anywhere) of any of those snapshots."""
        tree = [name] + [d.name for d in self.descendants(name)]
        snaps = []
        for ds in tree:
            snaps.extend(s.name for s in self.snapshots(ds))
        clones = []
        for snap in snaps:
            clones.extend(c for c in self.clones_of(snap) if c not in tree and not c.startswith(name + "/"))
        held = [s for s in snaps if (self.datasets.get(s) and self.datasets[s].int("userrefs") > 0)]
        return {"children": tree[1:], "snapshots": snaps, "clones": sorted(set(clones)), "held": held}


# --------------------------------------------------------------------------- parsers
def parse_pool_list(text):
    """zpool list -Hp -o POOL_LIST_FIELDS -> {name: {field: value}}."""
    pools = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < len(POOL_LIST_FIELDS):
            raise StrataError("unexpected 'zpool list' line: %r" % line)
        row = dict(zip(POOL_LIST_FIELDS, parts))
        pools[row["name"]] = row
    return pools


def _split_get(line, what):
    parts = line.split("\t")
    if len(parts) < 4:
        raise StrataError("unexpected '%s' line: %r" % (what, line))
    return parts[0], parts[1], "\t".join(parts[2:-1]), parts[-1]


def parse_pool_get(text):
    """zpool get -Hp -o name,property,value,source all -> {pool: {prop: (value, source)}}."""
    out = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, prop, value, source = _split_get(line, "zpool get")
        out.setdefault(name, {})[prop] = (value, source)
    return out


def parse_dataset_get(text):
    """zfs get -Hp -o name,property,value,source all -> {name: Dataset}, in output order."""
    out = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, prop, value, source = _split_get(line, "zfs get")
        ds = out.get(name)
        if ds is None:
            ds = out[name] = Dataset(name=name, type="")
        ds.props[prop] = (value, source)
        if prop == "type":
            ds.type = value
    for ds in out.values():
        if not ds.type:
            ds.type = "snapshot" if "@" in ds.name else ("bookmark" if "#" in ds.name else "filesystem")
    return out


_MISSING_RE = re.compile(r"cannot open '([^']+)': (dataset does not exist|no such pool)")


def missing_from_stderr(stderr):
    """Names the tool said do not exist; any other complaint is returned as unexplained lines."""
    missing, other = [], []
    for line in (stderr or "").splitlines():
        if not line.strip():
            continue
        m = _MISSING_RE.search(line)
        if m:
            missing.append(m.group(1))
        else:
            other.append(line)
    return missing, other


# zpool status ------------------------------------------------------------------
_STATUS_KEYS = ("pool", "id", "state", "status", "action", "see", "scan", "remove", "checkpoint", "config",
                "errors")
_KEY_RE = re.compile(r"^\s{0,8}(%s):\s?(.*)$" % "|".join(_STATUS_KEYS))


def _group_type(name):
    m = re.match(r"^(mirror|raidz(\d)?|replacing|spare|draid\d?[^-]*|root)-\d+$", name)
    if not m:
        return None, 0
    kind = m.group(1)
    if kind.startswith("raidz"):
        return "raidz", int(m.group(2) or 1)
    if kind.startswith("draid"):
        return "draid", int(re.match(r"draid(\d)", kind).group(1)) if re.match(r"draid(\d)", kind) else 1
    return kind, 0


def _leaf_type(name, note):
    if name.isdigit():
        return "missing"       # a device ZFS cannot open is shown by its guid
    return "disk" if name.startswith("/dev/") else "file"


def _int(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return 0


def parse_scan(text):
    """The 'scan:' paragraph of zpool status."""
    scan = ScanInfo(text=" ".join(text.split()))
    first = text.strip().splitlines()[0] if text.strip() else ""
    if not first or first.startswith("none requested"):
        return scan
    m = re.match(r"(scrub repaired|resilvered) (\S+) in .* with (\d+) errors on", first)
    if m:
        scan.function = "scrub" if m.group(1).startswith("scrub") else "resilver"
        scan.state, scan.processed, scan.errors, scan.percent = "finished", m.group(2), int(m.group(3)), 100.0
        return scan
    m = re.match(r"(scrub|resilver) canceled on", first)
    if m:
        scan.function, scan.state = m.group(1), "canceled"
        return scan
    m = re.match(r"(scrub|resilver) (in progress|paused) since", first)
    if m:
        scan.function = m.group(1)
        scan.state = "scanning" if m.group(2) == "in progress" else "paused"
        pm = re.search(r"(\S+) (?:repaired|resilvered), ([\d.]+)% done", text)
        if pm:
            scan.processed, scan.percent = pm.group(1), float(pm.group(2))
        return scan
    m = re.match(r"resilvered \((\S+)\) (\S+) in .* with (\d+) errors", first)   # sequential rebuild
    if m:
        scan.function, scan.state, scan.processed, scan.errors = "resilver", "finished", m.group(2), int(m.group(3))
        scan.percent = 100.0
        return scan
    if "resilver" in first:
        scan.function, scan.state = "resilver", "scanning"
    return scan


def _parse_config(lines, pool_name):
    """The config: table. Returns (root Vdev, {role: [top-level vdevs]}). Indentation is two
    spaces per level after the leading tab; the role headers (logs, cache, spares, special,
    dedup) sit at level 0 like the pool's own line."""
    roles = {}
    root = None
    role = "data"
    stack = []      # (indent, vdev) of the open groups above the current line
    for raw in lines:
        if not raw.strip():
            continue
        body = raw.lstrip("\t")
        fields = body.split()
        if fields[0] == "NAME" and "STATE" in fields:
            continue
        indent = (len(body) - len(body.lstrip(" "))) // 2
        if indent == 0:
            stack = []
            if fields[0] in ROLE_HEADERS and (len(fields) == 1 or fields[0] != pool_name):
                role = ROLE_HEADERS[fields[0]]
                roles.setdefault(role, [])
                continue
        name = fields[0]
        state = fields[1] if len(fields) > 1 else ""
        counts = fields[2:5] if len(fields) >= 5 and all(re.match(r"^[\d.]+[KMGTPE]?$", f) for f in fields[2:5]) else []
        note = " ".join(fields[2 + len(counts):])
        gtype, parity = _group_type(name)
        vdev = Vdev(name=name, type=gtype or _leaf_type(name, note), state=state,
                    read=_int(counts[0]) if counts else 0, write=_int(counts[1]) if counts else 0,
                    cksum=_int(counts[2]) if counts else 0, note=note, parity=parity)
        if indent == 0:
            vdev.type = "root"
            root = vdev
            role = "data"
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if stack:
            stack[-1][1].children.append(vdev)
        else:
            roles.setdefault(role, []).append(vdev)
            if role == "data" and root is not None:
                root.children.append(vdev)
        stack.append((indent, vdev))
    return root, roles


def parse_pool_status(text):
    """zpool status -P -p -v (any number of pools) -> {pool: PoolStatus}."""
    blocks, current = [], None
    for line in text.splitlines():
        m = re.match(r"^\s*pool: (.*)$", line)
        if m:
            current = [line]
            blocks.append(current)
        elif current is not None:
            current.append(line)
    out = {}
    for block in blocks:
        fields, order, key = {}, [], None
        for line in block:
            m = _KEY_RE.match(line)
            if m and (key != "config" or m.group(1) == "errors"):
                key = m.group(1)
                fields[key] = [m.group(2)]
                order.append(key)
            elif key is not None:
                fields[key].append(line)
        name = fields["pool"][0].strip()
        status = PoolStatus(name=name)
        status.state = (fields.get("state") or [""])[0].strip()
        status.status = " ".join(" ".join(fields.get("status") or []).split())
        status.action = " ".join(" ".join(fields.get("action") or []).split())
        status.scan = parse_scan("\n".join(fields.get("scan") or []))
        status.root, status.vdevs = _parse_config((fields.get("config") or [""])[1:], name)
        errors = fields.get("errors") or [""]
        status.errors = errors[0].strip()
        status.error_files = [ln.strip() for ln in errors[1:] if ln.strip()]
        out[name] = status
    return out


# --------------------------------------------------------------------------- readers
MODULE_DIR = "/sys/module/zfs"


def zfs_loaded():
    return os.path.isdir(MODULE_DIR)


def ensure_module(runner):
    """zpool and zfs do not load the kernel module themselves (ZFS 2.1 does only with
    ZFS_MODULE_LOADING=yes), and the module may not be loaded at boot. Loading it changes no
    storage, so it happens in check mode too (recorded in `reads`); when it is loaded this
    costs no process."""
    if zfs_loaded():
        return False
    result = runner.read(["modprobe", "zfs"], ok_rcs=(0, 1), what="loading the zfs kernel module")
    if result.rc != 0:
        raise StrataError("the zfs kernel module is not loaded and 'modprobe zfs' failed", cmd=result.cmd,
                          rc=result.rc, stderr=result.stderr,
                          hint="install the module for the running kernel (zfs-dkms on Debian, kmod-zfs on EL)")
    return True


def read_pool_list(runner):
    result = runner.read(pool_list_cmd(), what="listing ZFS pools")
    return parse_pool_list(result.stdout)


def read_pool_props(runner, pools=()):
    """zpool get for the named pools (all when none named); a pool that does not exist is
    simply absent from the result."""
    result = runner.read(pool_get_cmd(pools), ok_rcs=(0, 1), what="reading pool properties")
    missing, other = missing_from_stderr(result.stderr)
    if result.rc != 0 and other:
        raise StrataError("reading pool properties failed", cmd=result.cmd, rc=result.rc, stderr=result.stderr)
    return parse_pool_get(result.stdout)


def read_pool_status(runner, pools=()):
    result = runner.read(pool_status_cmd(pools), ok_rcs=(0, 1), what="reading pool status")
    missing, other = missing_from_stderr(result.stderr)
    if result.rc != 0 and other and "no pools available" not in result.stderr:
        raise StrataError("reading pool status failed", cmd=result.cmd, rc=result.rc, stderr=result.stderr)
    return parse_pool_status(result.stdout)


def read_datasets(runner, roots, depth=None, types=DATASET_TYPES):
    """ONE zfs get over every root; returns ({name: Dataset}, [roots that do not exist])."""
    roots = [r for r in dict.fromkeys(roots) if r]
    if not roots:
        return {}, []
    result = runner.read(dataset_get_cmd(roots, depth=depth, types=types), ok_rcs=(0, 1),
                         what="reading ZFS datasets")
    missing, other = missing_from_stderr(result.stderr)
    if result.rc != 0 and (other or not missing):
        raise StrataError("reading ZFS datasets failed", cmd=result.cmd, rc=result.rc, stderr=result.stderr)
    return parse_dataset_get(result.stdout), missing


def read_state(runner, pools=(), dataset_roots=(), depth=None, pool_props=False, status=False, listing=True):
    """Read what a module needs, each kind in one process:
    listing -> zpool list; pool_props -> zpool get all (the named pools); status -> zpool status
    (all pools: a device in another pool must be known); dataset_roots -> one zfs get.
    Dataset roots in pools that are not imported are skipped (nothing to read)."""
    ensure_module(runner)
    state = ZfsState()
    names = set()
    if listing:
        for name, row in read_pool_list(runner).items():
            state.pools[name] = Pool(name=name, listing=row)
            names.add(name)
    if pool_props:
        for name, props in read_pool_props(runner, pools).items():
            state.pools.setdefault(name, Pool(name=name)).props = props
            names.add(name)
    if status:
        for name, st in read_pool_status(runner).items():
            state.pools.setdefault(name, Pool(name=name)).status = st
            names.add(name)
    roots = [r for r in dataset_roots if r and (not (listing or pool_props) or r.split("/")[0] in names)]
    state.missing_roots = [r for r in dataset_roots if r and r not in roots]
    if roots:
        state.datasets, missing = read_datasets(runner, roots, depth=depth)
        state.missing_roots += missing
        state.roots_read = [r for r in roots if r not in missing]
    return state
