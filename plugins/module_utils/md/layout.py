# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every md array of a host in one call: plan all, then run, then persist once.

Shared by md_array (one array) and md_layout (a list): the md state is read once, every
array is planned (and every refusal raised) before the first command runs, the arrays'
commands run in order (waiting for the array to be idle where a step needs it), the state
is read again once, and mdadm.conf is written once for all arrays, so the initramfs is
refreshed at most once per run.
"""

from __future__ import annotations

import time

from ansible_collections.strata.storage.plugins.module_utils.core.atomic import read_text
from ansible_collections.strata.storage.plugins.module_utils.core.devices import device_key
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import file_writer
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.md import reader as md
from ansible_collections.strata.storage.plugins.module_utils.md.config import (
    Entry, config_request_from_params, plan_config,
)
from ansible_collections.strata.storage.plugins.module_utils.md.inspect import MdInspector
from ansible_collections.strata.storage.plugins.module_utils.md.planner import (
    find_array, plan_array, request_from_params,
)


def check_across(reqs):
    """Arrays of one call: names unique, no device in two arrays."""
    names, owners = set(), {}
    for req in reqs:
        if req.name in names:
            raise StrataError("md array %s is listed twice" % req.name)
        names.add(req.name)
        for path in req.listed():
            key = device_key(path)
            if key in owners and owners[key][0] != req.name:
                raise StrataError("%s is listed for md arrays %s and %s (as %s)" % (
                    path, owners[key][0], req.name, owners[key][1]))
            owners[key] = (req.name, path)


class Waiter:
    """Waits (polling sysfs, no process) until an array is settled; see Array.settled."""

    def __init__(self, sysfs="/sys", dev="/dev", proc="/proc", sleep=time.sleep, clock=time.monotonic,
                 interval=1.0):
        self.sysfs, self.dev, self.proc = sysfs, dev, proc
        self.sleep, self.clock, self.interval = sleep, clock, interval

    def current(self, name, kernel=None):
        snap = md.snapshot(self.sysfs, self.dev, self.proc)
        kernel = kernel or snap["dev_md"].get(name)
        state = md.parse_state(snap)
        return next((a for a in state.arrays if a.kernel_name == kernel), None)

    def wait(self, name, timeout, kernel=None):
        """Seconds waited (0 when it was settled at once); StrataError with the progress
        when timeout passes first. kernel: the array's kernel name when known (udev may not
        have made /dev/md/NAME yet right after a create)."""
        start = self.clock()
        polls = 0
        while True:
            array = self.current(name, kernel)
            if array is None or array.settled:
                return round(self.clock() - start, 1) if polls else 0
            polls += 1
            if self.clock() - start >= timeout:
                progress = array.progress.summary() if array.progress else {}
                raise StrataError(
                    "md array %s is still busy with %s after %ds (%s%% done, about %s s left)" % (
                        name, array.sync_action if array.sync_action != "idle" else "pending work", timeout,
                        progress.get("percent", "?"), progress.get("eta_seconds", "?")),
                    hint="raise wait_timeout, or run again later (nothing is undone: the work goes on in the kernel)",
                    details={"progress": progress})
            self.sleep(self.interval)


def _entry_for(req, array, uuid_hint=None):
    if array is not None:
        return Entry(name=req.name, uuid=array.uuid, metadata=array.metadata or None, full_name=array.full_name)
    return Entry(name=req.name, uuid=req.uuid or uuid_hint, metadata=req.metadata or "1.2")


def predicted_entries(reqs, before, plans):
    """mdadm.conf entries as the plans leave them (check mode: a new array's UUID is not known).
    before: {name: the array found for each request, or None}."""
    out = []
    for req, plan in zip(reqs, plans):
        array = before[req.name]
        if req.state == "absent":
            if array is not None or req.uuid or plan.actions:
                out.append(Entry(name=req.name, uuid=array.uuid if array else req.uuid, present=False))
        elif req.state in ("present", "assembled"):
            hint = None
            for action in plan.actions:
                hint = hint or next((w.split("=", 1)[1] for w in action.cmd or [] if w.startswith("--uuid=")), None)
            out.append(_entry_for(req, array, md.mdadm_uuid(hint) if hint else None))
    return out


def entries_after(reqs, before, state):
    out = []
    for req in reqs:
        if req.state == "absent":
            old = before.get(req.name)
            if old is not None or req.uuid:
                out.append(Entry(name=req.name, uuid=old.uuid if old else req.uuid, present=False))
        elif req.state in ("present", "assembled"):
            array = state.find(name=req.name, uuid=req.uuid)
            if array is not None:
                out.append(_entry_for(req, array))
    return out


def _once(func):
    box = []

    def call():
        if not box:
            box.append(func())
        return box[0]
    return call


def merged(reqs, plans, cfg_plan):
    """One Plan for finish(): every action in order; the diff keyed by array name."""
    out = Plan()
    for plan in list(plans) + [cfg_plan]:
        out.actions.extend(plan.actions)
        out.warnings.extend(plan.warnings)
        out.notes.extend(plan.notes)
    out.before = {"arrays": {req.name: plan.before for req, plan in zip(reqs, plans)}}
    out.after = {"arrays": {req.name: plan.after or plan.before for req, plan in zip(reqs, plans)}}
    if cfg_plan.before or cfg_plan.after:
        out.before["config"] = cfg_plan.before.get("config")
        out.after["config"] = cfg_plan.after.get("config")
    return out


def run(module, runner, array_params, waiter=None):
    """Plan and converge the arrays; returns (merged plan, [array summaries], extra result)."""
    reqs = [request_from_params(params) for params in array_params]
    check_across(reqs)
    cfg = config_request_from_params(module.params, module.get_bin_path)
    inspector = MdInspector(runner)
    examine = _once(lambda: md.read_examine_scan(runner))
    state = md.read_state(runner)
    plans = [plan_array(req, state, inspector.inspect, examine) for req in reqs]
    before = {req.name: find_array(req, state) for req in reqs}
    conf_text = read_text(cfg.path)     # our mdadm commands never write it: read once
    cfg_plan = plan_config(cfg, predicted_entries(reqs, before, plans), conf_text)
    waiter = waiter or Waiter()
    waited = {}
    if module.check_mode:
        for plan in plans + [cfg_plan]:
            runner.execute_all(plan.actions)
    else:
        # A step that fails undoes what this run created (core's rollback in run_module: an
        # array created here is stopped and the superblocks written here are zeroed).
        for req, plan in zip(reqs, plans):
            for action in plan.actions:
                if getattr(action, "wait_idle", None):
                    kernel = before[req.name].kernel_name if before[req.name] else None
                    waited[req.name] = waited.get(req.name, 0) + waiter.wait(
                        action.wait_idle, req.wait_timeout, kernel)
                runner.execute(action)
        changed = any(plan.actions for plan in plans)
        if changed:
            state = md.read_state(runner)
        cfg_plan = plan_config(cfg, entries_after(reqs, before, state), conf_text)
        runner.execute_all(cfg_plan.actions, writer=file_writer)
        runner.keep_created()    # every step done: a wait that times out below undoes nothing
        for req in reqs:
            array = state.find(name=req.name, uuid=req.uuid)
            if req.wait and req.state in ("present", "assembled") and array is not None:
                waited[req.name] = waited.get(req.name, 0) + waiter.wait(
                    req.name, req.wait_timeout, array.kernel_name)
        if any(waited.values()) or (changed and waited):
            state = md.read_state(runner)     # report the state after the wait
    plan = merged(reqs, plans, cfg_plan)
    summaries = []
    for req, array_plan in zip(reqs, plans):
        array = state.find(name=req.name, uuid=req.uuid) if req.state in ("present", "assembled") else None
        if module.check_mode and array_plan.actions:
            summaries.append(dict(array_plan.after, predicted=True))
        elif array is not None:
            summaries.append(array.summary())
        else:
            summaries.append({"name": req.name, "state": req.state})
    extra = {"config": {"path": cfg.path, "changed": any(a.path for a in cfg_plan.actions) if cfg.persist else False}}
    if waited:
        extra["waited"] = waited
    return plan, summaries, extra
