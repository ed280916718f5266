# -*- coding: utf-8 -*-
"""The retention policy over simulated time: the clock is an input, so days pass in a loop."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.zfs import retention
from ansible_collections.strata.storage.plugins.module_utils.zfs.reader import Dataset, ZfsState

T0 = retention.parse_now("2026-01-01T00:00:00Z")
HOUR = 3600


def fs(state, name):
    state.datasets[name] = Dataset(name, "filesystem", {"type": ("filesystem", "-")})


def snap(state, name, txg, marks=None, source="local", userrefs=0):
    props = {"type": ("snapshot", "-"), "createtxg": (str(txg), "-"), "userrefs": (str(userrefs), "-"),
             "clones": ("", "-")}
    for key, value in (marks or {}).items():
        props[key] = (str(value), source)
    state.datasets[name] = Dataset(name, "snapshot", props)


class Sim:
    """Applies a plan's commands to a ZfsState, as the tools would."""

    def __init__(self, state):
        self.state = state
        self.txg = 100

    def apply(self, plan):
        for action in plan.actions:
            cmd = action.cmd
            if cmd[:2] == ["zfs", "snapshot"]:
                name = cmd[-1]
                marks = dict(w.split("=", 1) for w in cmd if "=" in w and w.startswith("strata.storage:"))
                roots = [name.split("@")[0]]
                if "-r" in cmd:
                    roots += [d.name for d in self.state.descendants(roots[0])]
                for root in roots:
                    self.txg += 1
                    snap(self.state, "%s@%s" % (root, name.split("@")[1]), self.txg, marks)
            elif cmd[:2] == ["zfs", "destroy"]:
                dataset, shorts = cmd[-1].split("@", 1)
                for short in shorts.split(","):
                    del self.state.datasets["%s@%s" % (dataset, short)]
            else:
                raise AssertionError(cmd)


def policy(**kw):
    params = dict(name="std", datasets=["tank/home"], recursive=False)
    params.update(kw)
    return retention.policy_from_params(retention.policy_defaults(params))


def names(state, dataset, period):
    return [s.short for s in state.snapshots(dataset) if s.value(retention.MARK_PERIOD) == period]


def test_ten_days_hourly_keeps_exactly_the_expected_set():
    state = ZfsState()
    fs(state, "tank/home")
    fs(state, "tank/home/a")
    sim = Sim(state)
    pol = policy(recursive=True, hourly=24, daily=7, weekly=2)
    for step in range(10 * 24):
        plan, _unused = retention.plan_policy(pol, state, T0 + step * HOUR + 120)
        sim.apply(plan)
    end = T0 + (10 * 24 - 1) * HOUR
    for ds in ("tank/home", "tank/home/a"):
        hourly = names(state, ds, "hourly")
        assert len(hourly) == 24
        expected = [retention.snapshot_short_name("hourly", end - i * HOUR + 120) for i in range(23, -1, -1)]
        assert hourly == expected
        daily = names(state, ds, "daily")
        assert daily == [retention.snapshot_short_name("daily", T0 + d * 24 * HOUR + 120) for d in range(3, 10)]
        # weeks start on Monday: 2026-01-05 is a Monday
        weekly = names(state, ds, "weekly")
        assert weekly == [retention.snapshot_short_name("weekly", T0 + 120),
                          retention.snapshot_short_name("weekly", T0 + 4 * 24 * HOUR + 120)]


def test_a_second_run_in_the_same_period_does_nothing():
    state = ZfsState()
    fs(state, "tank/home")
    pol = policy(hourly=2, daily=1)
    plan, _unused = retention.plan_policy(pol, state, T0)
    Sim(state).apply(plan)
    again, _unused = retention.plan_policy(pol, state, T0 + 59 * 60)
    assert again.actions == []


def test_only_its_own_marked_snapshots_are_pruned():
    state = ZfsState()
    fs(state, "tank/home")
    old = T0 - 10 * HOUR
    # named like ours but not marked: never pruned
    snap(state, "tank/home@strata_2025-12-31_10:00:00_hourly", 1)
    # marked by another policy: never pruned
    snap(state, "tank/home@o1", 2, {retention.MARK_POLICY: "other", retention.MARK_PERIOD: "hourly",
                                    retention.MARK_TAKEN: old})
    # marked by us but received from elsewhere (source received): not ours
    snap(state, "tank/home@r1", 3, {retention.MARK_POLICY: "std", retention.MARK_PERIOD: "hourly",
                                    retention.MARK_TAKEN: old}, source="received")
    # ours, held: kept past the count and reported
    snap(state, "tank/home@h1", 4, {retention.MARK_POLICY: "std", retention.MARK_PERIOD: "hourly",
                                    retention.MARK_TAKEN: old}, userrefs=1)
    # ours: pruned
    snap(state, "tank/home@p1", 5, {retention.MARK_POLICY: "std", retention.MARK_PERIOD: "hourly",
                                    retention.MARK_TAKEN: old + HOUR})
    plan, report = retention.plan_policy(policy(hourly=1), state, T0)
    destroys = [a.cmd for a in plan.actions if a.cmd[1] == "destroy"]
    assert destroys == [["zfs", "destroy", "tank/home@p1"]]
    assert report["tank/home"]["skipped"] == ["tank/home@h1"]
    assert report["tank/home"]["pruned"] == ["tank/home@p1"]


def test_prune_false_only_takes():
    state = ZfsState()
    fs(state, "tank/home")
    sim = Sim(state)
    pol = policy(hourly=1, prune=False)
    for step in range(3):
        plan, _unused = retention.plan_policy(pol, state, T0 + step * HOUR)
        sim.apply(plan)
    assert len(names(state, "tank/home", "hourly")) == 3


def test_frequent_periods():
    assert retention.period_start("frequent", T0 + 14 * 60, 15) == T0
    assert retention.period_start("frequent", T0 + 16 * 60, 15) == T0 + 15 * 60
    assert retention.period_start("monthly", retention.parse_now("2026-03-17T05:00:00Z")) == \
        retention.parse_now("2026-03-01T00:00:00Z")
    assert retention.period_start("yearly", T0 + 100 * 24 * HOUR) == T0


@pytest.mark.parametrize("value, expect", [
    ("2026-01-01T00:00:00Z", T0), ("2026-01-01T01:00:00+01:00", T0), (str(T0), T0), (T0, T0),
])
def test_now_forms(value, expect):
    assert retention.parse_now(value) == expect


def test_bad_policies():
    with pytest.raises(StrataError, match="keeps nothing"):
        policy()
    with pytest.raises(StrataError, match="divide an hour"):
        policy(frequent=4, frequent_minutes=7)
    with pytest.raises(StrataError, match="unknown option"):
        retention.policy_defaults({"name": "x", "datasets": ["a/b"], "hourli": 3})
    with pytest.raises(StrataError, match="neither epoch"):
        retention.parse_now("yesterday")


def test_names_sort_in_time_order():
    a = retention.snapshot_short_name("hourly", T0)
    b = retention.snapshot_short_name("hourly", T0 + HOUR)
    assert a < b and a == "strata_2026-01-01_00:00:00_hourly"
    assert datetime.datetime.fromtimestamp(T0, datetime.timezone.utc).year == 2026


def test_a_descendant_whose_snapshot_name_would_be_too_long_is_refused_before_anything_runs():
    # zfs snapshot -r fails as a whole (EINVAL) when one descendant's name@snap is >= 256
    # characters; a second policy's (or period's) snapshot would already have been taken
    state = ZfsState()
    fs(state, "tank")
    fs(state, "tank/home")
    deep = "tank/home/" + "d" * 225
    fs(state, deep)
    assert len(deep) < 256
    with pytest.raises(StrataError, match="is too long"):
        retention.plan_policy(policy(recursive=True, hourly=2, daily=1), state, T0)
    plan, _report = retention.plan_policy(policy(recursive=False, hourly=2, daily=1), state, T0)
    assert len(plan.actions) == 2
