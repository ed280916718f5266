# -*- coding: utf-8 -*-
"""`module_defaults: group/strata.storage.lvm` (meta/runtime.yml action_groups) through
ansible-playbook on the CI host itself, no VM: the play loads and the group's defaults reach
the LVM modules. On a host without device-mapper (or lvm2) every LVM module then fails with one
sentence; on a host with LVM, it fails on the missing VG. Either way, its invocation shows the
options it got."""
from __future__ import annotations

from host.playbook import run_play  # pytest puts tests/ on sys.path (tests/host is a package)

PLAY = """
- hosts: localhost
  gather_facts: false
  {defaults}
  tasks:
    - name: pool
      strata.storage.lvm_thinpool: {{name: pool, size: 1G}}
      ignore_errors: true
    - name: volume
      strata.storage.lvm_lv: {{name: data, size: 1G}}
      ignore_errors: true
    - name: snapshot
      strata.storage.lvm_snapshot: {{name: snap, origin: data, size: 100M}}
      ignore_errors: true
"""
DEFAULTS = "module_defaults: {group/strata.storage.lvm: {vg: groupvg}}"


def _run(tmp_path, defaults):
    tasks = run_play(tmp_path, PLAY.format(defaults=defaults), args=["--check"])
    return {t["task"]["name"]: t["hosts"]["localhost"] for t in tasks}


def test_group_defaults_reach_the_lvm_modules(tmp_path):
    results = _run(tmp_path, DEFAULTS)
    assert sorted(results) == ["pool", "snapshot", "volume"]
    for name, result in results.items():
        # the argument spec accepted the call (vg is required): the module itself ran and failed
        # on this host's LVM, with the vg from the group's defaults
        assert result["invocation"]["module_args"]["vg"] == "groupvg", (name, result)
        assert "missing required arguments" not in result.get("msg", ""), (name, result)
        assert result["actions"] == [], (name, result)


def test_without_the_defaults_vg_is_missing(tmp_path):
    """The control: the same play without module_defaults fails on the missing vg."""
    results = _run(tmp_path, "")
    for name, result in results.items():
        assert result["failed"] and "missing required arguments: vg" in result["msg"], (name, result)
