# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A snapshot retention policy, like sanoid: keep N frequent, hourly, daily, weekly, monthly
and yearly snapshots per dataset; take the ones that are due, prune the ones past N.

Only snapshots this policy took are ever pruned. They are marked by user properties set
when they are taken (never recognised by their name alone):

    strata.storage:policy = <policy name>     (source local: a received copy is not ours)
    strata.storage:period = hourly            (frequent, hourly, daily, weekly, monthly, yearly)
    strata.storage:taken  = <epoch seconds>   (the policy's clock, see below)

Time is an input: plan_policy(policy, state, now) decides with `now` (epoch seconds, UTC)
and the `taken` marks, never with the system clock or the snapshot's creation time, so a
test can move time forward without waiting.

A period is due when no snapshot of it was taken since the period began (the hour, the
day at 00:00 UTC, Monday 00:00 UTC, the 1st of the month, January 1st; frequent periods
are `frequent_minutes` long). Each period has its own snapshots
(<dataset>@strata_<YYYY-MM-DD_HH:MM:SS>_<period>). Held snapshots and snapshots with clones
are kept and reported.
"""

from __future__ import annotations

import calendar
import datetime
import json
import sys
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Runner
from ansible_collections.strata.storage.plugins.module_utils.zfs import props as zprops
from ansible_collections.strata.storage.plugins.module_utils.zfs import reader
from ansible_collections.strata.storage.plugins.module_utils.zfs.actions import ZfsAction, execute
from ansible_collections.strata.storage.plugins.module_utils.core.local import LocalModule

PERIODS = ("frequent", "hourly", "daily", "weekly", "monthly", "yearly")
MARK_POLICY = "strata.storage:policy"
MARK_PERIOD = "strata.storage:period"
MARK_TAKEN = "strata.storage:taken"
PREFIX = "strata"

POLICY_SPEC = dict(
    name=dict(type="str", required=True),
    datasets=dict(type="list", elements="str", required=True),
    recursive=dict(type="bool", default=False),
    frequent=dict(type="int", default=0),
    frequent_minutes=dict(type="int", default=15),
    hourly=dict(type="int", default=0),
    daily=dict(type="int", default=0),
    weekly=dict(type="int", default=0),
    monthly=dict(type="int", default=0),
    yearly=dict(type="int", default=0),
    take=dict(type="bool", default=True),
    prune=dict(type="bool", default=True),
)


@dataclass
class Policy:
    name: str
    datasets: list
    recursive: bool = False
    keep: dict = field(default_factory=dict)
    frequent_minutes: int = 15
    take: bool = True
    prune: bool = True


def parse_now(value):
    """`now` as epoch seconds: an int/float, a digit string, or ISO 8601 (UTC unless an offset
    is given). None -> the system clock."""
    if value is None or value == "":
        return int(datetime.datetime.now(datetime.timezone.utc).timestamp())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        stamp = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise StrataError("now '%s' is neither epoch seconds nor an ISO 8601 time" % value)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    return int(stamp.timestamp())


def policy_from_params(params):
    name = params.get("name") or ""
    if not name or not all(c.isalnum() or c in "-_." for c in name):
        raise StrataError("policy name '%s' must be letters, digits, '-', '_' or '.'" % name)
    keep = {}
    for period in PERIODS:
        value = int(params.get(period) or 0)
        if value < 0:
            raise StrataError("policy %s: %s must be 0 or more" % (name, period))
        keep[period] = value
    minutes = int(params.get("frequent_minutes") or 15)
    if minutes <= 0 or 60 % minutes:
        raise StrataError("policy %s: frequent_minutes must divide an hour (1, 5, 10, 15, 20, 30, 60)" % name)
    datasets = list(params.get("datasets") or [])
    if not datasets:
        raise StrataError("policy %s names no datasets" % name)
    for ds in datasets:
        zprops.check_dataset_name(ds, "filesystem")
    if not any(keep.values()) and params.get("take", True):
        raise StrataError("policy %s keeps nothing (every period is 0)" % name,
                          hint="set e.g. hourly: 24, daily: 7; to remove a policy's snapshots, run it with take: false")
    return Policy(name=name, datasets=datasets, recursive=bool(params.get("recursive")), keep=keep,
                  frequent_minutes=minutes, take=params.get("take", True) is not False,
                  prune=params.get("prune", True) is not False)


def period_start(period, now, frequent_minutes=15):
    t = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
    if period == "frequent":
        t = t.replace(minute=t.minute - t.minute % frequent_minutes, second=0, microsecond=0)
    elif period == "hourly":
        t = t.replace(minute=0, second=0, microsecond=0)
    elif period == "daily":
        t = t.replace(hour=0, minute=0, second=0, microsecond=0)
    elif period == "weekly":
        t = (t - datetime.timedelta(days=t.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    elif period == "monthly":
        t = t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elif period == "yearly":
        t = t.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return calendar.timegm(t.utctimetuple())


def snapshot_short_name(period, now):
    stamp = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%d_%H:%M:%S")
    return "%s_%s_%s" % (PREFIX, stamp, period)


def ours(snap, policy_name):
    """A snapshot this policy took: marked with its name, set locally (not received)."""
    return all((snap.value(MARK_POLICY) == policy_name, snap.source(MARK_POLICY) == "local",
                snap.value(MARK_PERIOD) in PERIODS))


def taken_at(snap):
    value = snap.value(MARK_TAKEN)
    try:
        return int(value)
    except (TypeError, ValueError):
        return snap.int("creation")


def plan_policy(policy, state, now):
    """Plan one policy at time `now`. Returns (Plan, report) where report lists per dataset
    what is taken, pruned and kept."""
    plan = Plan()
    report = {}
    roots = []
    for name in policy.datasets:
        ds = state.get(name)
        if ds is None or ds.type not in ("filesystem", "volume"):
            raise StrataError("policy %s: dataset %s does not exist" % (policy.name, name))
        roots.append(name)
    targets = []
    for root in roots:
        for name in [root] + ([d.name for d in state.descendants(root)] if policy.recursive else []):
            if name not in targets:
                targets.append(name)
    taking = {}                      # dataset -> [periods taken now]
    if policy.take:
        for root in roots:
            due = []
            for period in PERIODS:
                if policy.keep.get(period, 0) <= 0:
                    continue
                mine = [s for s in state.snapshots(root) if ours(s, policy.name) and s.value(MARK_PERIOD) == period]
                latest = max([taken_at(s) for s in mine] or [None], key=lambda v: -1 if v is None else v)
                if latest is None or latest < period_start(period, now, policy.frequent_minutes):
                    short = snapshot_short_name(period, now)
                    if state.get("%s@%s" % (root, short)) is not None:
                        continue
                    zprops.check_snapshot_fits(
                        [root] + ([d.name for d in state.descendants(root)] if policy.recursive else []), short,
                        "policy %s" % policy.name)
                    due.append(period)
                    cmd = ["zfs", "snapshot"] + (["-r"] if policy.recursive else []) + [
                        "-o", "%s=%s" % (MARK_POLICY, policy.name), "-o", "%s=%s" % (MARK_PERIOD, period),
                        "-o", "%s=%d" % (MARK_TAKEN, now), "%s@%s" % (root, short)]
                    plan.add(ZfsAction("take %s snapshot %s@%s%s" % (period, root, short,
                                                                     " (recursive)" if policy.recursive else ""),
                                       cmd=cmd, kind="snapshot"))
            for name in [root] + ([d.name for d in state.descendants(root)] if policy.recursive else []):
                taking.setdefault(name, []).extend(due)
    for name in targets:
        entry = report.setdefault(name, {"taken": [], "pruned": [], "kept": {}, "skipped": []})
        entry["taken"] = ["%s@%s" % (name, snapshot_short_name(p, now)) for p in taking.get(name, [])]
        doomed = []
        for period in PERIODS:
            mine = sorted([s for s in state.snapshots(name) if ours(s, policy.name) and s.value(MARK_PERIOD) == period],
                          key=lambda s: (taken_at(s), s.int("createtxg")), reverse=True)
            keep = policy.keep.get(period, 0)
            room = keep - (1 if period in taking.get(name, []) else 0)
            keep_these, extra = mine[:max(room, 0)], mine[max(room, 0):]
            entry["kept"][period] = len(keep_these) + (1 if period in taking.get(name, []) else 0)
            if not policy.prune:
                entry["kept"][period] += len(extra)
                continue
            for snap in extra:
                if snap.int("userrefs") > 0 or state.clones_of(snap.name):
                    entry["skipped"].append(snap.name)
                    entry["kept"][period] += 1
                    plan.notes.append("policy %s keeps %s past its count: it is %s" % (
                        policy.name, snap.name, "held" if snap.int("userrefs") > 0 else "cloned"))
                    continue
                doomed.append(snap)
        if doomed:
            doomed.sort(key=lambda s: s.int("createtxg"))
            entry["pruned"] = [s.name for s in doomed]
            shorts = ",".join(s.short for s in doomed)
            plan.add(ZfsAction("prune %d snapshot(s) of %s past policy %s" % (len(doomed), name, policy.name),
                               cmd=["zfs", "destroy", "%s@%s" % (name, shorts)],
                               dry_run=["zfs", "destroy", "-n", "-v", "%s@%s" % (name, shorts)], kind="prune"))
    return plan, report


# --------------------------------------------------------------------------- the timer's runner
def policy_defaults(params):
    """A policy dict from a file, with POLICY_SPEC's defaults; unknown keys are refused."""
    unknown = sorted(set(params) - set(POLICY_SPEC))
    if unknown:
        raise StrataError("policy %s: unknown option(s) %s" % (params.get("name"), ", ".join(unknown)))
    out = {k: v.get("default") for k, v in POLICY_SPEC.items()}
    out.update({k: v for k, v in params.items() if v is not None})
    return out


def run_policies(runner, policies, now):
    """Read once, plan every policy, run the plan. Returns (Plan, {policy: report})."""
    state = reader.read_state(runner, dataset_roots=[d for p in policies for d in p.datasets], listing=False)
    merged = Plan()
    report = {}
    for policy in policies:
        plan, report[policy.name] = plan_policy(policy, state, now)
        merged.actions.extend(plan.actions)
        merged.notes.extend(plan.notes)
    execute(runner, merged.actions)
    return merged, report


def cli_main(argv):
    """strata-zfs-autosnap CONFIG.json [--now T] [--check]: run the policies of a file."""
    args = list(argv)
    check = "--check" in args
    if check:
        args.remove("--check")
    now = None
    if "--now" in args:
        index = args.index("--now")
        now = args[index + 1]
        del args[index:index + 2]
    if len(args) != 1:
        sys.stderr.write("usage: strata-zfs-autosnap CONFIG.json [--now EPOCH|ISO] [--check]\n")
        return 2
    runner = Runner(LocalModule(check_mode=check))
    try:
        with open(args[0]) as handle:
            config = json.load(handle)
        policies = [policy_from_params(policy_defaults(p)) for p in config.get("policies") or []]
        plan, report = run_policies(runner, policies, parse_now(now))
    except (StrataError, OSError, ValueError) as exc:
        out = exc.fail_kwargs() if isinstance(exc, StrataError) else {"msg": str(exc)}
        out["actions"] = runner.actions
        sys.stderr.write(json.dumps(out, indent=1) + "\n")
        return 1
    sys.stdout.write(json.dumps({"changed": plan.changed, "check": check, "retention": report,
                                 "actions": runner.actions, "notes": plan.notes}, indent=1) + "\n")
    return 0
