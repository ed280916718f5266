# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan snapshot operations: create (optionally recursive, with user properties), destroy
(only with a flag; clones and holds listed and refused), holds and releases, rollback
(guarded: refused while newer snapshots would be destroyed unless asked), clone, promote.

Rollback is idempotent: a dataset whose latest snapshot is the target and which has
written nothing since (`written` is 0) is already rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.zfs import props as zprops
from ansible_collections.strata.storage.plugins.module_utils.zfs.actions import ZfsAction

SNAPSHOT_OPTIONS_SPEC = dict(
    name=dict(type="str"),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    recursive=dict(type="bool", default=False),
    properties=dict(type="dict", default={}),
    holds=dict(type="list", elements="str", default=[]),
    release=dict(type="list", elements="str", default=[]),
    rollback=dict(type="bool", default=False),
    destroy_newer=dict(type="bool", default=False),
    clone=dict(type="str"),
    clone_properties=dict(type="dict", default={}),
    promote=dict(type="str"),
    allow_destroy=dict(type="bool", default=False),
    destroy_clones=dict(type="bool", default=False),
)


@dataclass
class SnapshotRequest:
    name: str = None
    dataset: str = None
    short: str = None
    state: str = "present"
    recursive: bool = False
    properties: dict = field(default_factory=dict)
    holds: list = field(default_factory=list)
    release: list = field(default_factory=list)
    rollback: bool = False
    destroy_newer: bool = False
    clone: str = None
    clone_properties: dict = field(default_factory=dict)
    promote: str = None
    allow_destroy: bool = False
    destroy_clones: bool = False


def request_from_params(params):
    req = SnapshotRequest(
        state=params.get("state") or "present", recursive=bool(params.get("recursive")),
        holds=list(params.get("holds") or []), release=list(params.get("release") or []),
        rollback=bool(params.get("rollback")), destroy_newer=bool(params.get("destroy_newer")),
        clone=params.get("clone"), promote=params.get("promote"),
        allow_destroy=bool(params.get("allow_destroy")), destroy_clones=bool(params.get("destroy_clones")),
    )
    name = params.get("name")
    if name:
        zprops.check_dataset_name(name, "snapshot")
        req.name = name
        req.dataset, req.short = name.split("@", 1)
        what = "snapshot %s" % name
        req.properties = zprops.check_dataset_properties(params.get("properties"), "snapshot", creating=True, what=what) \
            if params.get("properties") else {}
        for tag in req.holds + req.release:
            if not tag or len(tag) >= zprops.MAX_NAME_LEN:
                raise StrataError("%s: hold tag '%s' is empty or too long" % (what, tag))
        both = set(req.holds) & set(req.release)
        if both:
            raise StrataError("%s: tag %s is both held and released" % (what, ", ".join(sorted(both))))
        if req.state == "absent" and (req.holds or req.rollback or req.clone):
            raise StrataError("%s: holds, rollback and clone do not go with state=absent" % what)
        if req.rollback and req.recursive:
            raise StrataError("%s: zfs rollback is not recursive; roll back each dataset on its own" % what)
        if req.clone:
            zprops.check_dataset_name(req.clone, "filesystem")
            if zprops.pool_of(req.clone) != zprops.pool_of(name):
                raise StrataError("%s: a clone lives in the snapshot's pool, not in %s" % (what, zprops.pool_of(req.clone)))
            req.clone_properties = zprops.check_dataset_properties(
                params.get("clone_properties"), "filesystem", creating=True, what="clone %s" % req.clone)
    elif params.get("clone") or params.get("rollback") or params.get("holds") or params.get("release"):
        raise StrataError("clone, rollback, holds and release need the snapshot's name")
    if req.promote:
        zprops.check_dataset_name(req.promote, "filesystem")
    if not name and not req.promote:
        raise StrataError("name the snapshot (name) or a clone to promote (promote)")
    return req


def roots_for(req):
    roots = []
    if req.dataset:
        roots.append(req.dataset)
    if req.clone:
        roots.append(zprops.parent_of(req.clone) or req.clone)
    if req.promote:
        roots.append(req.promote)
        roots.append(zprops.pool_of(req.promote))
    return roots


def _moved_by_promote(state, req):
    """After `zfs promote` of a clone, its origin snapshot belongs to the clone: the dataset
    the snapshot was taken of is then a clone of `<clone>@<short>`."""
    ds = state.get(req.dataset)
    origin = ds.value("origin") if ds else None
    if origin and origin not in ("-", "") and origin.split("@", 1)[1] == req.short:
        return origin
    return None


def plan_snapshot(req, state, holds=None):
    """holds: {snapshot name: [tags]} from `zfs holds` (read when holds/release are asked)."""
    plan = Plan()
    if req.name:
        _plan_named(req, state, holds or {}, plan)
    if req.promote:
        _plan_promote(req, state, plan)
    return plan


def _plan_named(req, state, holds, plan):
    what = "snapshot %s" % req.name
    ds = state.get(req.dataset)
    snap = state.get(req.name)
    if ds is None:
        if req.state == "absent":
            return
        raise StrataError("%s: dataset %s does not exist" % (what, req.dataset))
    moved = _moved_by_promote(state, req) if snap is None else None
    if req.state == "absent":
        plan.before, plan.after = {"state": "present" if snap else "absent"}, {"state": "absent"}
        if snap is None:
            return
        if not req.allow_destroy:
            raise StrataError("%s exists; destroying it needs allow_destroy: true" % what, hint="nothing was changed")
        targets = [req.name] + ([s.name for d in state.descendants(req.dataset)
                                 for s in state.snapshots(d.name) if s.short == req.short] if req.recursive else [])
        clones = [c for t in targets for c in state.clones_of(t)]
        held = [t for t in targets if state.get(t) and state.get(t).int("userrefs") > 0]
        if clones and not req.destroy_clones:
            raise StrataError("%s has clones: %s" % (what, ", ".join(clones)),
                              hint="nothing was changed; promote them (promote: <clone>) to keep them, or set "
                                   "destroy_clones: true to destroy them too")
        if held:
            raise StrataError("%s: held snapshots cannot be destroyed: %s" % (what, ", ".join(held)),
                              hint="release the holds first (release: [tag])")
        flags = (["-R"] if clones else []) + (["-r"] if req.recursive else [])
        what_else = (" and its namesakes below" if req.recursive else "") + (
            " with clones %s" % ", ".join(clones) if clones else "")
        plan.add(ZfsAction("destroy snapshot %s%s" % (req.name, what_else),
                           cmd=["zfs", "destroy"] + flags + [req.name],
                           dry_run=["zfs", "destroy", "-n", "-v"] + flags + [req.name], kind="destroy"))
        return
    plan.before = {"state": "present" if (snap or moved) else "absent"}
    plan.after = {"state": "present"}
    if snap is None and moved:
        plan.notes.append("%s now belongs to %s (promoted clone): not taken again" % (what, moved))
    elif snap is None:
        if req.recursive:
            zprops.check_snapshot_fits([d.name for d in state.descendants(req.dataset)], req.short, what)
        cmd = ["zfs", "snapshot"] + (["-r"] if req.recursive else [])
        for prop, (text, _c) in req.properties.items():
            cmd += ["-o", "%s=%s" % (prop, text)]
        plan.add(ZfsAction("take snapshot %s%s" % (req.name, " of the whole tree" if req.recursive else ""),
                           cmd=cmd + [req.name], kind="snapshot"))
    else:
        changes = ["%s=%s" % (p, t) for p, (t, c) in req.properties.items() if snap.value(p) != c]
        if changes:
            plan.add(ZfsAction("set %s on %s" % (", ".join(changes), req.name), cmd=["zfs", "set"] + changes + [req.name],
                               kind="set"))
    target = req.name if snap is not None or not moved else moved
    # holds and releases
    have = holds.get(target, [])
    flag = ["-r"] if req.recursive else []
    for tag in req.holds:
        if tag not in have:
            plan.add(ZfsAction("hold %s with tag %s" % (target, tag), cmd=["zfs", "hold"] + flag + [tag, target], kind="hold"))
    for tag in req.release:
        if tag in have:
            plan.add(ZfsAction("release hold %s on %s" % (tag, target), cmd=["zfs", "release"] + flag + [tag, target],
                               kind="release"))
    plan.after["holds"] = sorted((set(have) | set(req.holds)) - set(req.release))
    plan.before["holds"] = sorted(have)
    if req.rollback:
        _plan_rollback(req, state, ds, snap, plan)
    if req.clone:
        _plan_clone(req, state, snap, moved, plan)


def _plan_rollback(req, state, ds, snap, plan):
    what = "rollback of %s to %s" % (req.dataset, req.short)
    if snap is None:
        raise StrataError("%s: the snapshot does not exist%s" % (what, " yet (it is taken in this run; nothing to roll back)"
                                                                 if plan.actions else ""))
    snaps = state.snapshots(req.dataset)
    newer = [s for s in snaps if s.int("createtxg") > snap.int("createtxg")]
    written = ds.int("written")
    if not newer and written == 0:
        return
    if newer:
        clones = [c for s in newer for c in state.clones_of(s.name)]
        held = [s.name for s in newer if s.int("userrefs") > 0]
        names = ", ".join(s.short for s in newer)
        if not req.destroy_newer:
            raise StrataError("%s would destroy the newer snapshots %s" % (what, names),
                              hint="nothing was changed; set destroy_newer: true to roll back anyway",
                              details={"newer": [s.name for s in newer]})
        if clones and not req.destroy_clones:
            raise StrataError("%s would destroy clones of newer snapshots: %s" % (what, ", ".join(clones)),
                              hint="nothing was changed; promote them first or set destroy_clones: true")
        if held:
            raise StrataError("%s: newer snapshots are held: %s" % (what, ", ".join(held)),
                              hint="release the holds first")
        flag = ["-R"] if clones else ["-r"]
        plan.warnings.append("%s destroys newer snapshots %s" % (what, names))
    else:
        flag = []
    plan.add(ZfsAction("roll %s back to %s (discarding %d bytes written since)" % (req.dataset, req.short, written),
                       cmd=["zfs", "rollback"] + flag + [req.name], kind="rollback"))
    plan.after["rolled_back"] = True


def _plan_clone(req, state, snap, moved, plan):
    what = "clone %s of %s" % (req.clone, req.name)
    target = state.get(req.clone)
    if target is not None:
        origin = target.value("origin")
        if origin == req.name:
            changes = ["%s=%s" % (p, t) for p, (t, c) in req.clone_properties.items()
                       if not zprops.same_value(p, c, target.value(p))]
            if changes:
                plan.add(ZfsAction("set %s on %s" % (", ".join(changes), req.clone),
                                   cmd=["zfs", "set"] + changes + [req.clone], kind="set"))
            return
        if moved and moved == "%s@%s" % (req.clone, req.short):
            plan.notes.append("%s was promoted: %s is now a clone of it" % (req.clone, req.dataset))
            return
        raise StrataError("%s: %s exists and is not a clone of %s (origin %s)" % (what, req.clone, req.name, origin))
    parent = zprops.parent_of(req.clone)
    if parent and state.get(parent) is None:
        raise StrataError("%s: parent %s does not exist" % (what, parent))
    cmd = ["zfs", "clone"]
    for prop, (text, _c) in req.clone_properties.items():
        cmd += ["-o", "%s=%s" % (prop, text)]
    plan.add(ZfsAction("clone %s as %s" % (req.name, req.clone), cmd=cmd + [req.name, req.clone], kind="clone"))
    plan.after["clone"] = req.clone


def _plan_promote(req, state, plan):
    ds = state.get(req.promote)
    if ds is None:
        raise StrataError("promote: dataset %s does not exist" % req.promote)
    origin = ds.value("origin")
    if origin in (None, "-", ""):
        return          # not a clone (any more): promoted already
    plan.add(ZfsAction("promote clone %s (origin %s moves to it)" % (req.promote, origin),
                       cmd=["zfs", "promote", req.promote], kind="promote"))
    plan.after["promoted"] = req.promote


def parse_holds(text):
    """zfs holds -H: name<TAB>tag<TAB>timestamp -> {snapshot: [tags]}."""
    out = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            out.setdefault(parts[0], []).append(parts[1])
    return out
