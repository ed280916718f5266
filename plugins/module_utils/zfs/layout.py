# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pool's whole dataset tree in one call.

The layout is a tree as the user writes it: entries with properties and nested `datasets`
(names relative to their parent, or full names). Properties are inherited down the tree as
written: a property set on a parent is set there only, and its children get it through
ZFS inheritance; a child that asks for the same value has it already, so nothing is set on
the child.

plan_layout() plans every entry with the per-dataset planner against a projected state
(dataset_planner.project) before anything runs, so bad input anywhere in the tree fails
before the first command:

    root        the pool's root dataset properties (so children inherit them)
    remove      entries with state absent, deepest first (each needs allow_destroy)
    datasets    the rest, parents before children: rename, create, set, inherit
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core.text import with_article
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.zfs import props as zprops
from ansible_collections.strata.storage.plugins.module_utils.zfs.actions import ZfsAction
from ansible_collections.strata.storage.plugins.module_utils.zfs.dataset_planner import (
    DATASET_OPTIONS_SPEC, ENCRYPTION_SPEC, plan_dataset, project, request_from_params,
)
from ansible_collections.strata.storage.plugins.module_utils.zfs.reader import Dataset

ENTRY_KEYS = set(DATASET_OPTIONS_SPEC) | {"datasets"}
# One layout entry: the options of zfs_dataset, plus nested `datasets` (checked by this
# module at any depth: Ansible's argument spec checks the first level only).
LAYOUT_ENTRY_SPEC = dict(DATASET_OPTIONS_SPEC, encryption=dict(type="dict", options=ENCRYPTION_SPEC),
                         datasets=dict(type="list", elements="dict", default=[]))
LAYOUT_OPTIONS_SPEC = dict(
    pool=dict(type="str", required=True, aliases=["name"]),
    properties=dict(type="dict", default={}),
    datasets=dict(type="list", elements="dict", default=[], options=LAYOUT_ENTRY_SPEC),
    allow_destroy=dict(type="bool", default=False),
)
_DEFAULTS = {k: v.get("default") for k, v in DATASET_OPTIONS_SPEC.items() if "default" in v}
_TYPES = {k: v.get("type") for k, v in DATASET_OPTIONS_SPEC.items()}


@dataclass
class LayoutRequest:
    pool: str
    root_properties: dict = field(default_factory=dict)    # prop -> (text, comparable)
    datasets: list = field(default_factory=list)            # DatasetRequest, tree order
    allow_destroy: bool = False


def _check_entry(entry, where):
    unknown = sorted(set(entry) - ENTRY_KEYS)
    if unknown:
        raise StrataError("%s: unknown option%s %s" % (where, "s" if len(unknown) > 1 else "", ", ".join(unknown)),
                          hint="a layout entry takes the options of strata.storage.zfs_dataset and `datasets`")
    for key, value in entry.items():
        want = _TYPES.get(key)
        if value is None or want is None:
            continue
        ok = {"str": lambda v: isinstance(v, (str, int, float)) and not isinstance(v, bool),
              "bool": lambda v: isinstance(v, bool), "dict": lambda v: isinstance(v, dict),
              "list": lambda v: isinstance(v, list), "path": lambda v: isinstance(v, str)}.get(want, lambda v: True)
        if not ok(value):
            raise StrataError("%s: option %s must be %s" % (where, key, with_article(want)))


def flatten(pool, entries, parent=None, where="datasets"):
    """Nested entries -> [(full name, params)] in tree order (parents first)."""
    out = []
    for index, raw in enumerate(entries or []):
        entry = {k: v for k, v in (raw or {}).items() if v is not None or k not in _DEFAULTS}
        here = "%s[%d]" % (where, index)
        if not entry.get("name"):
            raise StrataError("%s has no name" % here)
        _check_entry(entry, "%s (%s)" % (here, entry["name"]))
        name = str(entry["name"]).strip("/")
        if parent is None:
            full = name if name == pool or name.startswith(pool + "/") else "%s/%s" % (pool, name)
        else:
            if name.startswith(pool + "/"):
                raise StrataError("%s: %s is nested under %s; write its name relative to it" % (here, name, parent))
            full = "%s/%s" % (parent, name)
        params = dict(_DEFAULTS)
        params.update({k: v for k, v in entry.items() if k != "datasets"})
        params["name"] = full
        if params.get("rename_from") and "/" not in params["rename_from"]:
            params["rename_from"] = "%s/%s" % (zprops.parent_of(full), params["rename_from"])
        out.append((full, params))
        children = entry.get("datasets") or []
        if children and (params.get("type") or "filesystem") != "filesystem":
            raise StrataError("%s: %s is a volume; only filesystems hold datasets" % (here, full))
        out.extend(flatten(pool, children, full, where="%s.datasets" % here))
    return out


def layout_request_from_params(params):
    pool = zprops.check_pool_name(params["pool"])
    req = LayoutRequest(pool=pool, allow_destroy=bool(params.get("allow_destroy")))
    req.root_properties = zprops.check_dataset_properties(
        params.get("properties"), "filesystem", creating=False, what="pool %s root dataset" % pool)
    seen = {}
    for full, entry in flatten(pool, params.get("datasets")):
        if full == pool:
            raise StrataError("the layout names the pool's root dataset %s as an entry" % pool,
                              hint="set its properties in the layout's `properties`")
        if full in seen:
            raise StrataError("the layout names dataset %s twice" % full)
        seen[full] = True
        if entry.get("state") == "absent" and req.allow_destroy:
            entry["allow_destroy"] = True
        req.datasets.append(request_from_params(entry))
    renamed_from = {d.rename_from for d in req.datasets if d.rename_from}
    clash = renamed_from & set(seen)
    if clash:
        raise StrataError("the layout both keeps and renames %s" % ", ".join(sorted(clash)))
    return req


def _depth(name):
    return name.count("/")


def _merge(out, name, plan):
    out.actions.extend(plan.actions)
    out.warnings.extend(plan.warnings)
    out.notes.extend(plan.notes)
    if plan.actions or plan.before != plan.after:
        out.before[name] = plan.before
        out.after[name] = plan.after


def plan_root(req, state):
    root = state.get(req.pool)
    plan = Plan()
    if not req.root_properties:
        return plan
    changes = {}
    before, after = {}, {}
    for prop, (text, comparable) in req.root_properties.items():
        current = root.value(prop) if root is not None else None
        before[prop] = after[prop] = current
        if zprops.same_value(prop, comparable, current):
            continue
        if zprops.is_create_only(prop):
            raise StrataError("pool %s: property %s is fixed when a dataset is created (it is %s, %s asked)" % (
                req.pool, prop, current, text))
        changes[prop] = text
        after[prop] = text
    if changes:
        words = ["%s=%s" % (p, t) for p, t in changes.items()]
        plan.add(ZfsAction("set %s on %s" % (", ".join(words), req.pool), cmd=["zfs", "set"] + words + [req.pool],
                           kind="set"))
    plan.before, plan.after = {"properties": before}, {"properties": after}
    return plan


def plan_layout(req, state, read_file=None, predicted_pool=False):
    """Every step planned against a projected copy of `state`. Returns (Plan, steps, projected)."""
    work = copy.deepcopy(state)
    if state.pool(req.pool) is None and not predicted_pool:
        raise StrataError("pool %s does not exist (or is not imported)" % req.pool,
                          hint="create or import it first (strata.storage.zfs_pool, or the zfs role)")
    out = Plan()
    steps = []
    if work.get(req.pool) is None:
        work.datasets[req.pool] = Dataset(name=req.pool, type="filesystem", props={"type": ("filesystem", "-")})
        out.notes.append("pool %s does not exist yet: planned against an empty pool (check mode)" % req.pool)
    root = plan_root(req, work)
    _merge(out, req.pool, root)
    project(work, None, root)
    steps.append({"step": "root", "actions": len(root.actions)})
    removing = sorted([d for d in req.datasets if d.state == "absent"], key=lambda d: -_depth(d.name))
    count = 0
    for dreq in removing:
        plan = plan_dataset(dreq, work, read_file=read_file)
        _merge(out, dreq.name, plan)
        project(work, dreq, plan)
        count += len(plan.actions)
    steps.append({"step": "remove", "actions": count})
    count = 0
    for dreq in req.datasets:
        if dreq.state == "absent":
            continue
        plan = plan_dataset(dreq, work, read_file=read_file)
        _merge(out, dreq.name, plan)
        project(work, dreq, plan)
        count += len(plan.actions)
    steps.append({"step": "datasets", "actions": count})
    listed = {d.name for d in req.datasets} | {req.pool}
    renamed = {d.rename_from for d in req.datasets}
    others = [n for n, d in state.datasets.items()
              if all((d.type in ("filesystem", "volume"), n not in listed, zprops.pool_of(n) == req.pool,
                      n not in renamed))]
    if others:
        out.notes.append("%d dataset(s) of pool %s are not in the layout and are kept: %s" % (
            len(others), req.pool, ", ".join(sorted(others)[:10]) + (" ..." if len(others) > 10 else "")))
    return out, steps, work


def summary(req, state):
    names = [req.pool] + [d.name for d in req.datasets if d.state != "absent"]
    out = []
    for name in names:
        ds = state.get(name)
        if ds is None:
            continue
        info = {"name": name, "type": ds.type, "properties": ds.local_props()}
        for prop in ("used", "available", "referenced", "compressratio", "mountpoint", "volsize", "encryption",
                     "keystatus"):
            value = ds.value(prop)
            if value not in (None, "-", ""):
                info[prop] = int(value) if value.isdigit() else value
        out.append(info)
    return out
