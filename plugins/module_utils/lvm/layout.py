# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A whole volume group in one call: the VG, its thin pools (with thin volumes), logical
volumes, filesystems and snapshots, planned by the same planners as the per-object modules.

The plan runs in steps, because each step needs what the earlier ones made (a pool needs
its VG, a filesystem its LV):

    remove      snapshots, volumes and pools with state=absent (frees space first)
    vg          create / extend / reduce the volume group
    volumes     logical volumes (linear, striped, mirror, raid*); before the pools, because
                RAID and striped volumes need free space on several PVs, and a pool sized as a
                share of the VG would otherwise fill the first PVs (LVM allocates in PV order)
    pools       thin pools and their thin volumes
    filesystems mkfs where asked and the volume is blank
    snapshots   classic and thin snapshots

plan_layout() plans every step against a predicted state (lvm_projection) before anything
runs, so bad input anywhere in the layout fails before the first command. A real run then
executes step by step, re-reading LVM's state after a step that changed something and
re-planning the next step from the truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.lvm import projection
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.filesystem import plan_filesystem, read_fs_facts
from ansible_collections.strata.storage.plugins.module_utils.lvm.lv_planner import (
    fs_reads_for, plan_lv, request_from_params as lv_request_from_params,
)
from ansible_collections.strata.storage.plugins.module_utils.lvm.planner import (
    plan_thinpool, plan_vg, thinpool_request_from_params, vg_request_from_params,
)
from ansible_collections.strata.storage.plugins.module_utils.lvm.snapshot_planner import (
    facts_paths as snapshot_facts_paths, plan_snapshot, read_snapshot_facts,
    request_from_params as snapshot_request_from_params,
)
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan

STEPS = ("remove", "vg", "volumes", "pools", "filesystems", "snapshots")

# Commands that lose data or take something away. Safe mode refuses any plan that holds one.
DESTRUCTIVE = {"lvremove", "vgremove", "vgreduce", "pvremove", "lvreduce", "wipefs", "pvmove"}


@dataclass
class LayoutRequest:
    vg: object                                         # lvm_planner.VgRequest
    pools: list = field(default_factory=list)          # ThinPoolRequest
    volumes: list = field(default_factory=list)        # lvm_lv_planner.LvRequest
    snapshots: list = field(default_factory=list)      # lvm_snapshot_planner.SnapshotRequest
    filesystems: list = field(default_factory=list)    # (volume name, filesystem params)
    safe_mode: bool = True


def _entry_names(kind, entries):
    seen = set()
    for entry in entries:
        name = entry.get("name")
        if name in seen:
            raise StrataError("the layout names %s %s twice" % (kind, name))
        seen.add(name)


def layout_request_from_params(params):
    """Build every request up front: a malformed size or a conflicting option anywhere in the
    layout fails here, before LVM state is even read."""
    vg_name = params["name"]
    removing_vg = params.get("state") == "absent"
    vg_req = vg_request_from_params(dict(params, remove_lvs=params.get("allow_remove")))
    volumes = params.get("volumes") or []
    pools = params.get("thin_pools") or []
    snapshots = params.get("snapshots") or []
    thin_volumes = [v for p in pools for v in p.get("volumes") or []]
    _entry_names("volume", volumes + pools + thin_volumes + snapshots)

    req = LayoutRequest(vg=vg_req, safe_mode=params.get("safe_mode", True))
    if removing_vg:
        return req
    allow_remove = bool(params.get("allow_remove"))
    for entry in pools:
        pool = dict(entry, vg=vg_name, remove_volumes=allow_remove,
                    volumes=[{k: v.get(k) for k in ("name", "size", "state")} for v in entry.get("volumes") or []])
        req.pools.append(thinpool_request_from_params(pool))
        for vol in entry.get("volumes") or []:
            if vol.get("filesystem") and (vol.get("state") or "present") == "present" \
                    and (entry.get("state") or "present") == "present":
                req.filesystems.append((vol["name"], vol["filesystem"]))
    for entry in volumes:
        # `mount` belongs to the role (ansible.posix.mount); the module does not mount volumes
        lv_params = {k: v for k, v in entry.items() if k != "mount" and v is not None}
        lv_params.update(vg=vg_name, allow_remove=bool(entry.get("allow_remove")) or allow_remove)
        req.volumes.append(lv_request_from_params(lv_params))
    for entry in snapshots:
        snap_params = {k: v for k, v in entry.items() if v is not None}
        snap_params.update(vg=vg_name, allow_remove=bool(entry.get("allow_remove")) or allow_remove)
        req.snapshots.append(snapshot_request_from_params(snap_params))
    return req


class LayoutPlanner:
    """Plans one step at a time against a given state; projects a step's effect for the next."""

    def __init__(self, req, inspect, read_file, snapshot_facts=None, dev_entry_exists=None):
        self.req = req
        self.inspect = inspect
        self.dev_entry_exists = dev_entry_exists
        self.read_file = read_file
        self.snapshot_facts = snapshot_facts or {"fstype": {}, "mounts": {}}
        self.planned_fstypes = {}   # LV path -> filesystem type a planned mkfs makes

    # -- one step --------------------------------------------------------------------
    def plan_step(self, step, state, fs_facts):
        """(merged Plan of the step, the state predicted after it). Each object is planned
        against the state the objects before it leave, so two volumes of one step cannot
        both count the same free space."""
        work = projection.clone(state)
        out = Plan()
        for name, planner, projector in getattr(self, "_items_" + step)(work, fs_facts):
            plan = planner(work)
            out.actions.extend(plan.actions)
            out.warnings.extend(plan.warnings)
            out.notes.extend(plan.notes)
            if plan.before != plan.after:
                out.before[name] = plan.before
                out.after[name] = plan.after
            for action in plan.actions:
                if action.cmd and action.cmd[0].startswith("mkfs."):
                    self.planned_fstypes[action.cmd[-1]] = action.cmd[0].split(".", 1)[1]
            if plan.actions:
                projector(work, plan)
        return out, work

    def _items_remove(self, state, fs_facts):
        vg_name = self.req.vg.name
        if self.req.vg.state == "absent" or state.vg(vg_name) is None:
            return []
        items = []
        for snap in self.req.snapshots:
            if snap.state == "absent":
                items.append(("snapshot " + snap.name,
                              lambda st, snap=snap: plan_snapshot(snap, st, self.snapshot_facts),
                              lambda st, plan, snap=snap: projection.remove_lv(st, vg_name, snap.name)))
        for vol in self.req.volumes:
            if vol.state == "absent":
                items.append(("volume " + vol.name,
                              lambda st, vol=vol: plan_lv(vol, st, fs_facts),
                              lambda st, plan, vol=vol: projection.remove_lv(st, vg_name, vol.name)))
        for pool in self.req.pools:
            if pool.state == "absent":
                items.append(("thin pool " + pool.name,
                              lambda st, pool=pool: plan_thinpool(pool, st, self.read_file),
                              lambda st, plan, pool=pool: self._project_pool_removed(st, pool)))
        return items

    def _items_vg(self, state, fs_facts):
        return [("volume group " + self.req.vg.name,
                 lambda st: plan_vg(self.req.vg, st, self.inspect, self.dev_entry_exists), self._project_vg)]

    def _items_pools(self, state, fs_facts):
        return [("thin pool " + pool.name,
                 lambda st, pool=pool: plan_thinpool(pool, st, self.read_file),
                 lambda st, plan, pool=pool: self._project_pool(st, pool, plan.after))
                for pool in self.req.pools if pool.state != "absent"]

    def _items_volumes(self, state, fs_facts):
        return [("volume " + vol.name,
                 lambda st, vol=vol: plan_lv(vol, st, fs_facts),
                 lambda st, plan, vol=vol: self._project_volume(st, vol, plan.after))
                for vol in self.req.volumes if vol.state != "absent"]

    def _items_filesystems(self, state, fs_facts):
        """Filesystems on thin volumes (plan_lv does those of the other volumes itself)."""
        return [("filesystem on " + name,
                 lambda st, name=name, fs=fs: self._plan_thin_filesystem(st, name, fs, fs_facts),
                 lambda st, plan: None)
                for name, fs in self.req.filesystems]

    def _items_snapshots(self, state, fs_facts):
        return [("snapshot " + snap.name,
                 lambda st, snap=snap: plan_snapshot(snap, st, self._snapshot_facts_with()),
                 lambda st, plan, snap=snap: self._project_snapshot(st, snap, plan.after))
                for snap in self.req.snapshots if snap.state != "absent"]

    def _plan_thin_filesystem(self, state, name, fs, fs_facts):
        full = "%s/%s" % (self.req.vg.name, name)
        lv = state.lv(self.req.vg.name, name)
        path = "/dev/%s" % full
        info = fs_facts.get(path)
        # No facts means blank only for a volume this run creates (it has a predicted uuid);
        # an existing volume we could not probe must never get a mkfs.
        if info is None and lv is not None and not lv.uuid.startswith("predicted-"):
            raise StrataError("thin volume %s exists but its filesystem could not be read%s" % (
                full, "" if lv.active else " (it is inactive)"),
                hint="activate it (lvchange -ay %s) and run again" % full)
        return plan_filesystem(path, fs, info, what="filesystem on %s" % full, size=lv.size if lv else None)

    def _snapshot_facts_with(self):
        """Snapshot facts, plus the filesystem type an origin gets in this run (a snapshot of a
        volume created and formatted in the same run takes its origin's filesystem)."""
        facts = {"fstype": dict(self.snapshot_facts.get("fstype") or {}),
                 "mounts": dict(self.snapshot_facts.get("mounts") or {})}
        for path, fstype in self.planned_fstypes.items():
            if not facts["fstype"].get(path):
                facts["fstype"][path] = fstype
        return facts

    # -- projection (see module docstring: predictions only decide refusals) -----------
    def _project_vg(self, state, plan):
        vg_name = self.req.vg.name
        vg = state.vg(vg_name)
        infos = []
        for path in self.req.vg.devices:
            info = self.inspect(path)
            if not any(pv.vg_name == vg_name and info.devno and pv.devno == info.devno for pv in state.pvs):
                infos.append(info)
        extent = (vg.extent_size if vg else None) or self.req.vg.pe_size or 4 * 1024 ** 2
        if infos:
            projection.add_pvs(state, vg_name, infos, extent)

    def _project_pool_removed(self, state, pool):
        vg_name = self.req.vg.name
        for thin in state.thin_volumes_of(vg_name, pool.name):
            projection.remove_lv(state, vg_name, thin.name)
        projection.remove_lv(state, vg_name, pool.name)

    def _project_pool(self, state, pool, after):
        vg_name = self.req.vg.name
        if not after:
            return
        if state.lv(vg_name, pool.name) is None:
            lv = projection.add_lv(state, vg_name, pool.name, after.get("size") or 0, segtype="thin-pool")
            meta = after.get("metadata_size") or state.vg(vg_name).extent_size
            projection.allocate(state, vg_name, 2 * -(-meta // state.vg(vg_name).extent_size))
            lv.layout = ["thin", "pool"]
        elif after.get("size"):
            projection.resize_lv(state, vg_name, pool.name, after["size"])
        for name, vsize in (after.get("volumes") or {}).items():
            if state.lv(vg_name, name) is None:
                projection.add_lv(state, vg_name, name, vsize, segtype="thin", pool_lv=pool.name)

    def _project_volume(self, state, vol, after):
        vg_name = self.req.vg.name
        if not after or after.get("state") == "absent":
            return
        old = getattr(vol, "rename_from", None)
        if old and state.lv(vg_name, vol.name) is None and state.lv(vg_name, old) is not None:
            projection.rename_lv(state, vg_name, old, vol.name)
        if state.lv(vg_name, vol.name) is None:
            projection.add_lv(state, vg_name, vol.name, after.get("size") or 0,
                              segtype=after.get("segtype") or "linear", stripes=after.get("stripes") or 1,
                              data_stripes=after.get("data_stripes") or 1, mirrors=after.get("mirrors") or 0)
        elif after.get("size"):
            projection.resize_lv(state, vg_name, vol.name, after["size"])

    def _project_snapshot(self, state, snap, after):
        vg_name = self.req.vg.name
        if after and after.get("state") == "absent":
            projection.remove_lv(state, vg_name, snap.name)
            return
        if not after or state.lv(vg_name, snap.name) is not None:
            return
        origin = state.lv(vg_name, snap.origin)
        thin = origin is not None and origin.is_thin_volume
        projection.add_lv(state, vg_name, snap.name, after.get("size") or (origin.size if origin else 0),
                          segtype="thin" if thin else "linear", origin=snap.origin,
                          pool_lv=origin.pool_lv if thin else "")


def check_safe_mode(req, actions):
    """Safe mode: refuse any plan that removes, shrinks, wipes or moves data."""
    if not req.safe_mode:
        return
    risky = [a for a in actions if a.cmd and (a.cmd[0] in DESTRUCTIVE or (
        a.cmd[0] == "lvconvert" and ("--merge" in a.cmd or "--repair" in a.cmd)))]
    mkfs_forced = [a for a in actions
                   if a.cmd and a.cmd[0].startswith("mkfs") and any(flag in a.cmd for flag in ("-f", "-F"))]
    risky += mkfs_forced
    if risky:
        raise StrataError(
            "safe mode: the layout of volume group %s would %s" % (
                req.vg.name, "; ".join(a.description for a in risky)),
            hint="nothing was changed; if this is intended, run with safe_mode: false "
                 "(role: lvm_safe_mode: false) and the object's own flag",
            details={"refused_actions": [{"description": a.description, "cmd": a.cmd} for a in risky]})


def plan_layout(planner, state, fs_facts):
    """Every step planned against predicted states. Returns [(step, Plan)]. Raises on any bad
    input or refusal, before anything runs."""
    steps = []
    for step in STEPS:
        if planner.req.vg.state == "absent" and step != "vg":
            continue
        plan, state = planner.plan_step(step, state, fs_facts)
        steps.append((step, plan))
    check_safe_mode(planner.req, [a for _step, plan in steps for a in plan.actions])
    return steps


def read_facts(runner, req, state):
    """Filesystem facts of every existing volume the layout names (one blkid call for all,
    see filesystem.read_fs_facts), and the snapshots' mount facts. Returns (fs, snapshot)."""
    paths, fit_check = [], []
    for vol in req.volumes:
        more, fit = fs_reads_for(vol, state)
        paths += more
        fit_check += fit
    for name, _fs in req.filesystems:
        lv = state.lv(req.vg.name, name)
        if lv is not None and lv.active:
            paths.append("/dev/%s/%s" % (req.vg.name, name))
    fs_facts = read_fs_facts(runner, sorted(set(paths)), fit_check=fit_check) if paths else {}
    snap_paths = sorted({p for snap in req.snapshots for p in snapshot_facts_paths(snap, state)})
    needs_probe = any(snap.mount_path for snap in req.snapshots)
    snapshot_facts = read_snapshot_facts(runner, snap_paths, probe=needs_probe) if snap_paths else None
    return fs_facts, snapshot_facts


def summary(req, state):
    """The VG and its volumes as LVM reports them (the module's result)."""
    vg = state.vg(req.vg.name)
    if vg is None:
        return {}, []
    volumes = []
    for lv in sorted(state.lvs_of(req.vg.name), key=lambda x: x.name):
        volumes.append({
            "name": lv.name, "path": lv.path, "size": lv.size, "segtype": lv.segtype,
            "stripes": lv.data_stripes or lv.stripes, "pool": lv.pool_lv or None, "origin": lv.origin or None,
            "active": lv.active, "open": lv.open, "health": lv.health or None,
            "sync_percent": lv.copy_percent, "data_percent": lv.data_percent,
            "snap_percent": lv.snap_percent if lv.origin and not lv.is_thin_volume else None,
            "devices": state.pvs_under(lv) if not lv.is_thin_volume else [],
        })
    return vg.summary(state), volumes
