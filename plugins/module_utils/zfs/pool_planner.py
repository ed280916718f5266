# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan a pool: create (vdev layout, ashift, pool and root-dataset properties), import,
export, destroy (only with a flag), add vdevs (replication rules of zpool_vdev.c, refused
when mismatched unless allowed), attach mirror legs, replace disks, scrub.

plan_pool(request, state, inspect) -> Plan. Pure: every refusal is raised here, before
anything runs; devices are looked at through `inspect` (the guard's probe).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.zfs import props as zprops
from ansible_collections.strata.storage.plugins.module_utils.zfs.actions import ZfsAction
from ansible_collections.strata.storage.plugins.module_utils.zfs.devices import guard_vdevs
from ansible_collections.strata.storage.plugins.module_utils.zfs.vdevs import (
    DevicePaths, VdevSpec, replication_problems, spec_words, specs_from_params,
)

STATES = ("present", "absent", "exported", "imported")

# The option spec shared by zfs_pool (and the zfs role's argument spec mirrors it).
VDEV_SPEC = dict(
    type=dict(type="str", default="stripe", choices=["stripe", "mirror", "raidz", "raidz1", "raidz2", "raidz3"]),
    devices=dict(type="list", elements="path", required=True),
    role=dict(type="str", default="data", choices=["data", "log", "special", "dedup", "cache", "spare"]),
)
POOL_OPTIONS_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=list(STATES)),
    vdevs=dict(type="list", elements="dict", default=[], options=VDEV_SPEC),
    ashift=dict(type="int"),
    properties=dict(type="dict", default={}),
    filesystem_properties=dict(type="dict", default={}),
    force=dict(type="list", elements="path", default=[]),
    allow_mismatched_redundancy=dict(type="bool", default=False),
    allow_destroy=dict(type="bool", default=False),
    replace=dict(type="list", elements="dict", default=[], options=dict(
        old=dict(type="str", required=True),
        new=dict(type="path", required=True),
    )),
    scrub=dict(type="bool", default=False),
    wait=dict(type="bool", default=True),
    import_dirs=dict(type="list", elements="path", default=[]),
    import_properties=dict(type="dict", default={}),
)


@dataclass
class PoolRequest:
    name: str
    state: str = "present"
    vdevs: list = field(default_factory=list)            # VdevSpec
    ashift: int = None
    properties: dict = field(default_factory=dict)       # prop -> (text, comparable)
    fs_properties: dict = field(default_factory=dict)
    force: list = field(default_factory=list)
    allow_mismatch: bool = False
    allow_destroy: bool = False
    replace: list = field(default_factory=list)          # (old, new)
    scrub: bool = False
    wait: bool = True
    import_dirs: list = field(default_factory=list)
    import_properties: dict = field(default_factory=dict)   # prop -> (text, comparable)


def pool_request_from_params(params):
    name = zprops.check_pool_name(params["name"])
    state = params.get("state") or "present"
    props = dict(params.get("properties") or {})
    ashift = params.get("ashift")
    if "ashift" in props:
        if ashift is not None and int(props["ashift"]) != int(ashift):
            raise StrataError("ashift is given twice with different values (%s and %s)" % (ashift, props["ashift"]))
        ashift = int(props.pop("ashift"))
    if ashift is not None:
        zprops.check_pool_property("ashift", ashift, creating=True)
    creating_props = dict(props)
    req = PoolRequest(
        name=name, state=state,
        vdevs=specs_from_params(params.get("vdevs")),
        ashift=ashift,
        properties=zprops.check_pool_properties(creating_props, creating=True),
        fs_properties=zprops.check_dataset_properties(params.get("filesystem_properties"), "filesystem",
                                                      creating=True, what="filesystem_properties"),
        force=list(params.get("force") or []),
        allow_mismatch=bool(params.get("allow_mismatched_redundancy")),
        allow_destroy=bool(params.get("allow_destroy")),
        replace=[(r["old"], r["new"]) for r in params.get("replace") or []],
        scrub=bool(params.get("scrub")),
        wait=params.get("wait", True) is not False,
        import_dirs=list(params.get("import_dirs") or []),
        import_properties=zprops.check_pool_properties(params.get("import_properties"), importing=True),
    )
    for prop, _value in req.fs_properties.items():
        if zprops.DATASET_PROPS.get(prop) and zprops.DATASET_PROPS[prop][1] in ("onetime", "onetime_default") \
                and prop in ("encryption", "keyformat", "keylocation", "pbkdf2iters"):
            raise StrataError("encryption of the pool's root dataset is not managed here",
                              hint="create encrypted datasets with strata.storage.zfs_dataset")
    if state in ("absent", "exported") and (req.vdevs or req.replace or req.scrub):
        raise StrataError("pool %s: vdevs, replace and scrub do not go with state=%s" % (name, state))
    seen = set()
    for old, new in req.replace:
        if old in seen or new in seen:
            raise StrataError("pool %s: a device is named twice in replace" % name)
        seen.update((old, new))
    return req


# --------------------------------------------------------------------------- current layout
def current_layout(status):
    """The pool's vdevs in the request's own form: [{role, type, devices}]."""
    out = []
    for role, tops in (status.vdevs if status else {}).items():
        for vdev in tops:
            if vdev.type in ("mirror", "raidz"):
                vtype = "mirror" if vdev.type == "mirror" else "raidz%d" % vdev.parity
            else:
                vtype = "stripe"
            devices = [leaf.path for leaf in vdev.current_leaves()]
            out.append({"role": role, "type": vtype, "devices": devices, "state": vdev.state})
    return out


def _members_elsewhere(state, pool_name, devices, paths):
    out = {}
    for other in state.pools.values():
        if other.name == pool_name or other.status is None:
            continue
        leaves = other.status.leaf_paths()
        for dev in devices:
            hit = paths.find(dev, leaves)
            if hit:
                out[dev] = "is a vdev of pool %s (%s)" % (other.name, hit)
    return out


def _leaf_index(status, paths):
    """[(role, top-level vdev, leaf)] of the pool."""
    out = []
    for role, tops in status.vdevs.items():
        for top in tops:
            for leaf in top.leaves():
                out.append((role, top, leaf))
    return out


def _match_groups(req, status, paths):
    """Split the requested vdevs into: matched (already there), attach (a mirror that gains
    legs: (existing leaf, new device)), new (groups to add). Refuses a group that would
    reshape an existing vdev."""
    matched, attach, new = [], [], []
    index = _leaf_index(status, paths)
    for spec in req.vdevs:
        for group in spec.groups():
            tops = status.vdevs.get(group.role, [])
            found = None
            for top in tops:
                leaves = [leaf.path for leaf in top.current_leaves()]
                if len(leaves) == len(group.devices) and all(paths.find(d, leaves) for d in group.devices):
                    found = top
                    break
            if found is not None:
                matched.append(group)
                continue
            present = [(dev, [(r, t, lf) for r, t, lf in index if paths.same(dev, lf.path)]) for dev in group.devices]
            in_pool = [(dev, hits[0]) for dev, hits in present if hits]
            if not in_pool:
                new.append(group)
                continue
            tops_hit = {id(t): t for _d, (_r, t, _l) in in_pool}
            if group.type == "mirror" and len(tops_hit) == 1:
                top = list(tops_hit.values())[0]
                role = in_pool[0][1][0]
                leaves = [lf.path for lf in top.current_leaves()]
                if role == group.role and top.type in ("mirror", "disk", "file") and \
                        all(any(paths.same(d, lf) for d in group.devices) for lf in leaves):
                    anchor = leaves[0]
                    for dev, hits in present:
                        if not hits:
                            attach.append((anchor, dev))
                    continue
            where = ", ".join("%s is in %s%s" % (dev, "" if r == "data" else r + " ", t.name if not t.is_leaf else "the pool")
                              for dev, (r, t, _l) in in_pool)
            raise StrataError(
                "pool %s: the requested vdev %s does not match the pool's layout (%s)" % (
                    req.name, group.describe(), where),
                hint="a vdev's layout cannot be reshaped in place (only mirrors can gain legs); "
                     "list the pool's vdevs as they are plus the new ones")
    return matched, attach, new


# --------------------------------------------------------------------------- planning
def _prop_args(flag, props):
    out = []
    for prop, (text, _cmp) in props.items():
        out += [flag, "%s=%s" % (prop, text)]
    return out


def _guard(req, state, inspect, devices, paths, purpose):
    infos = [inspect(dev) for dev in devices]
    members = _members_elsewhere(state, req.name, devices, paths)
    forced = guard_vdevs(infos, req.force, purpose, members_elsewhere=members)
    sizes = {info.path: info.size for info in infos if info.size}
    return forced, sizes, infos


def _desired_summary(req):
    return [{"role": s.role, "type": s.type, "devices": list(s.devices)} for s in req.vdevs]


def plan_create(req, state, inspect, paths):
    zprops.check_pool_name(req.name, creating=True)
    for prop in req.properties:
        if prop in zprops.POOL_NOT_AT_CREATE:
            raise StrataError("pool %s: property %s cannot be set when the pool is created" % (req.name, prop),
                              hint="create the pool first, then set it in a second run")
    plan = Plan(before={"state": "absent"})
    if not any(s.role == "data" for s in req.vdevs):
        raise StrataError("pool %s does not exist and no data vdevs are given to create it" % req.name,
                          hint="list the pool's vdevs (at least one with role data)")
    devices = [d for s in req.vdevs for d in s.devices]
    forced, sizes, infos = _guard(req, state, inspect, devices, paths, "a vdev of new pool %s" % req.name)
    problems, _lowers = replication_problems([g for s in req.vdevs for g in s.groups()], None, sizes)
    if problems and not req.allow_mismatch:
        raise StrataError("pool %s: mismatched replication level: %s" % (req.name, "; ".join(problems)),
                          hint="nothing was changed; make the vdevs alike, or set allow_mismatched_redundancy "
                               "if this layout is intended")
    cmd = ["zpool", "create"]
    if forced or (problems and req.allow_mismatch):
        cmd.append("-f")
    if req.ashift is not None:
        cmd += ["-o", "ashift=%d" % req.ashift]
    cmd += _prop_args("-o", req.properties) + _prop_args("-O", req.fs_properties)
    words = spec_words(req.vdevs)
    plan.add(ZfsAction("create pool %s (%s)" % (req.name, "; ".join(s.describe() for s in req.vdevs)),
                       cmd=cmd + [req.name] + words,
                       dry_run=cmd[:2] + ["-n"] + cmd[2:] + [req.name] + words, kind="create"))
    if forced:
        plan.notes.append("forced: %s held signatures that zpool create -f overwrites" % ", ".join(forced))
    plan.after = {"state": "present", "vdevs": _desired_summary(req),
                  "properties": {k: v[0] for k, v in req.properties.items()},
                  "filesystem_properties": {k: v[0] for k, v in req.fs_properties.items()}}
    if req.ashift is not None:
        plan.after["ashift"] = req.ashift
    return plan


def _import_action(req, name):
    cmd = ["zpool", "import"]
    for folder in req.import_dirs:
        cmd += ["-d", folder]
    for prop, (text, _comparable) in req.import_properties.items():
        cmd += ["-o", "%s=%s" % (prop, text)]
    return ZfsAction("import pool %s" % name, cmd=cmd + [name], kind="import")


def plan_pool(req, state, inspect, paths=None, importable=None):
    """importable: {pool name: PoolStatus} from `zpool import` (read only when needed)."""
    paths = paths or DevicePaths()
    pool = state.pool(req.name)
    if req.state == "absent":
        plan = Plan(before={"state": "present" if pool else "absent"}, after={"state": "absent"})
        if pool is None:
            return plan
        if not req.allow_destroy:
            used = pool.int("allocated")
            raise StrataError(
                "pool %s exists (%d bytes allocated); destroying it needs allow_destroy: true" % (req.name, used),
                hint="nothing was changed; every dataset, zvol and snapshot of the pool is lost with it")
        plan.add(ZfsAction("destroy pool %s and everything in it" % req.name, cmd=["zpool", "destroy", req.name],
                           kind="destroy"))
        return plan
    if req.state == "exported":
        plan = Plan(before={"state": "present" if pool else "exported"}, after={"state": "exported"})
        if pool is not None:
            plan.add(ZfsAction("export pool %s" % req.name, cmd=["zpool", "export", req.name], kind="export"))
        return plan
    if pool is None:
        if req.state == "imported" or (importable and req.name in importable):
            if not importable or req.name not in importable:
                raise StrataError("pool %s is not imported and 'zpool import' does not find it" % req.name,
                                  hint="name the folders holding file vdevs in import_dirs")
            plan = Plan(before={"state": "exported"}, after={"state": "present"})
            plan.add(_import_action(req, req.name))
            plan.notes.append("pool %s is imported, not created: its devices carry its label" % req.name)
            return plan
        return plan_create(req, state, inspect, paths)
    return plan_existing(req, state, pool, inspect, paths)


def plan_existing(req, state, pool, inspect, paths):
    status = pool.status
    plan = Plan()
    layout = current_layout(status)
    plan.before = {"state": "present", "vdevs": layout,
                   "properties": {k: pool.value(k) for k in req.properties},
                   "filesystem_properties": {}}
    after_vdevs = [dict(v) for v in layout]
    # -- vdevs: add, attach
    if req.vdevs and status is not None:
        _matched, attach, new = _match_groups(req, status, paths)
        new_devices = [d for g in new for d in g.devices] + [dev for _a, dev in attach]
        if new_devices:
            forced, sizes, _infos = _guard(req, state, inspect, new_devices, paths, "a new vdev of pool %s" % req.name)
            data_tops = [v for role in ("data", "special", "dedup") for v in status.vdevs.get(role, [])]
            problems, lowers = replication_problems(new, data_tops, sizes)
            if problems and not req.allow_mismatch:
                raise StrataError(
                    "pool %s: mismatched replication level: %s%s" % (
                        req.name, "; ".join(problems),
                        " (this would lower the pool's redundancy)" if lowers else ""),
                    hint="nothing was changed; add vdevs like the existing ones, or set "
                         "allow_mismatched_redundancy if this layout is intended")
            if new:
                cmd = ["zpool", "add"]
                if forced or problems:
                    cmd.append("-f")
                if req.ashift is not None:
                    cmd += ["-o", "ashift=%d" % req.ashift]
                words = spec_words(new)
                plan.add(ZfsAction("add to pool %s: %s" % (req.name, "; ".join(g.describe() for g in new)),
                                   cmd=cmd + [req.name] + words, dry_run=cmd[:2] + ["-n"] + cmd[2:] + [req.name] + words,
                                   kind="add"))
                after_vdevs += [{"role": g.role, "type": g.type, "devices": list(g.devices)} for g in new]
                if lowers:
                    plan.warnings.append("pool %s: the new vdevs lower the pool's redundancy (allowed)" % req.name)
            for anchor, dev in attach:
                cmd = ["zpool", "attach"] + (["-f"] if dev in forced else []) + [req.name, anchor, dev]
                plan.add(ZfsAction("attach %s to the mirror of %s in pool %s" % (dev, anchor, req.name), cmd=cmd,
                                   kind="attach"))
        listed = [d for s in req.vdevs for d in s.devices]
        unlisted = [p for p in status.leaf_paths() if not any(paths.same(d, p) for d in listed)]
        replaced_new = [new for _old, new in req.replace]
        unlisted = [p for p in unlisted if not any(paths.same(d, p) for d in replaced_new)]
        if unlisted:
            plan.notes.append("pool %s has vdevs not in the request (kept, never removed): %s" % (
                req.name, ", ".join(unlisted)))
    # -- replace
    for old, new in req.replace:
        plan.actions.extend(_plan_replace(req, state, status, old, new, inspect, paths, plan))
    # -- pool properties
    changed_props = {}
    for prop, (text, comparable) in req.properties.items():
        if prop in zprops.POOL_CREATE_ONLY:
            if pool.value(prop) not in (text,):
                plan.notes.append("pool property %s applies at creation/import only; kept as %s" % (
                    prop, pool.value(prop)))
            continue
        if prop.startswith("feature@") and text == "disabled" and pool.value(prop) != "disabled":
            raise StrataError("pool %s: feature %s is %s and cannot be disabled again" % (
                req.name, prop, pool.value(prop)), hint="features can only be disabled when the pool is created")
        if not zprops.same_pool_value(prop, comparable, pool.value(prop)):
            changed_props[prop] = text
            plan.add(ZfsAction("set %s=%s on pool %s" % (prop, text, req.name),
                               cmd=["zpool", "set", "%s=%s" % (prop, text), req.name], kind="set"))
    if req.ashift is not None and pool.value("ashift") not in (None, str(req.ashift)):
        plan.notes.append("ashift %s applies to vdevs added from now on; existing vdevs keep theirs (pool "
                          "property is %s)" % (req.ashift, pool.value("ashift")))
    # -- root dataset properties
    root = state.get(req.name)
    fs_changed = {}
    if req.fs_properties:
        if root is None:
            raise StrataError("pool %s: its root dataset could not be read" % req.name)
        plan.before["filesystem_properties"] = {p: root.value(p) for p in req.fs_properties}
        for prop, (text, comparable) in req.fs_properties.items():
            if zprops.is_create_only(prop):
                if not zprops.same_value(prop, comparable, root.value(prop)):
                    raise StrataError(
                        "pool %s: property %s can only be set when a dataset is created (it is %s, %s asked)" % (
                            req.name, prop, root.value(prop), text),
                        hint="recreate the pool, or set it on new datasets instead")
                continue
            if not zprops.same_value(prop, comparable, root.value(prop)):
                fs_changed[prop] = text
                plan.add(ZfsAction("set %s=%s on dataset %s" % (prop, text, req.name),
                                   cmd=["zfs", "set", "%s=%s" % (prop, text), req.name], kind="set"))
    # -- scrub
    if req.scrub:
        scan = status.scan if status else None
        if scan and scan.function == "scrub" and scan.state in ("scanning", "paused"):
            plan.notes.append("a scrub of pool %s is already running (%s%% done)" % (req.name, scan.percent))
            if scan.state == "paused":
                plan.add(ZfsAction("resume the scrub of pool %s" % req.name, cmd=["zpool", "scrub", req.name],
                                   kind="scrub"))
        elif scan and scan.function == "resilver" and scan.state == "scanning":
            plan.notes.append("pool %s is resilvering: the scrub waits for the next run" % req.name)
        else:
            plan.add(ZfsAction("start a scrub of pool %s" % req.name, cmd=["zpool", "scrub", req.name], kind="scrub"))
    plan.after = {"state": "present", "vdevs": after_vdevs,
                  "properties": dict(plan.before["properties"], **changed_props),
                  "filesystem_properties": dict(plan.before["filesystem_properties"], **fs_changed)}
    return plan


def _plan_replace(req, state, status, old, new, inspect, paths, plan):
    if status is None:
        raise StrataError("pool %s: its status could not be read" % req.name)
    leaves = []
    for _role, tops in status.vdevs.items():
        for top in tops:
            for leaf in top.leaves():
                leaves.append((top, leaf))
    old_hit = [(t, lf) for t, lf in leaves
               if any((lf.name == old, paths.same(old, lf.name), bool(lf.was) and paths.same(old, lf.was)))]
    new_hit = [(t, lf) for t, lf in leaves if paths.same(new, lf.name)]
    if new_hit and not old_hit:
        return []          # done before
    if new_hit and old_hit:
        top = new_hit[0][0]
        plan.notes.append("pool %s: %s is replacing %s (%s)" % (
            req.name, new, old, "resilver %s%% done" % status.scan.percent if status.scan.state == "scanning"
            else status.scan.state))
        return []
    if not old_hit:
        raise StrataError("pool %s: device %s to replace is not in the pool" % (req.name, old),
                          hint="name it as zpool status -P shows it (a path, or the number of a missing device)")
    forced, _sizes, _infos = _guard(req, state, inspect, [new], paths, "the replacement of %s in pool %s" % (old, req.name))
    leaf = old_hit[0][1]
    target = leaf.name
    cmd = ["zpool", "replace"] + (["-f"] if forced else []) + [req.name, target, new]
    return [ZfsAction("replace %s with %s in pool %s (resilver)" % (old, new, req.name), cmd=cmd, kind="replace")]


def needs_wait(req, plan, status):
    """What `zpool wait -t` should wait for after the plan ran (empty: nothing)."""
    if not req.wait:
        return []
    kinds = {getattr(a, "kind", None) for a in plan.actions}
    out = []
    resilvering = status is not None and status.scan.function == "resilver" and status.scan.state == "scanning"
    if kinds & {"replace", "attach"} or (resilvering and req.replace):
        out += ["replace", "resilver"]
    scrubbing = bool(status) and status.scan.function == "scrub" and status.scan.state == "scanning"
    if "scrub" in kinds or (req.scrub and scrubbing):
        out.append("scrub")
    return out


def dry_runs(plan):
    return [a.dry_run for a in plan.actions if getattr(a, "dry_run", None)]


__all__ = ["PoolRequest", "VdevSpec", "plan_pool", "pool_request_from_params", "POOL_OPTIONS_SPEC", "ZfsAction",
           "current_layout", "needs_wait", "dry_runs"]
