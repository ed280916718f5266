# -*- coding: utf-8 -*-
"""`module_defaults: group/strata.storage.k8s` (meta/runtime.yml action_groups) through
ansible-playbook against the API stand-in: the play loads, and the connection given once in the
group's defaults reaches every k8s module of the play (no kubeconfig anywhere else: the fixture
drops KUBECONFIG and K8S_AUTH_*, HOME is empty, so without the defaults nothing connects)."""
from __future__ import annotations

SC_V = "storage.k8s.io/v1"

PLAY = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/strata.storage.k8s:
      kubeconfig: "{{ kc }}"
      context: standin
  tasks:
    - name: class
      strata.storage.k8s_storageclass:
        name: fast
        provisioner: topolvm.io
    - name: snapshot class
      strata.storage.k8s_volumesnapshotclass:
        name: snap
        driver: topolvm.io
    - name: tenant
      strata.storage.k8s_tenant_namespace:
        name: team-a
    - name: report
      strata.storage.k8s_storage_info:
        include: [summary]
    - name: cleanup check
      strata.storage.k8s_storage_cleanup:
        pvcs: [{namespace: team-a, name: nothing-here}]
"""


def _env(tmp_path):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home)}


def test_group_defaults_reach_every_k8s_module(standin, ansible_run, tmp_path):
    result = ansible_run(PLAY, {"kc": standin.kubeconfig}, env=_env(tmp_path))
    assert result.rc == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for task in ("class", "snapshot class", "tenant", "report", "cleanup check"):
        assert result.result(task).get("failed") is not True, result.result(task)
    assert standin.get(SC_V, "StorageClass", "fast")["provisioner"] == "topolvm.io"
    assert standin.get("snapshot.storage.k8s.io/v1", "VolumeSnapshotClass", "snap")["driver"] == "topolvm.io"
    assert standin.get("v1", "Namespace", "team-a") is not None
    assert "summary" in result.result("report")
    gone = result.result("cleanup check")["gone"]
    assert [(g.get("namespace"), g["name"]) for g in gone] == [("team-a", "nothing-here")], gone


def test_a_task_option_wins_over_the_group_default(standin, ansible_run, tmp_path):
    play = PLAY.replace('kubeconfig: "{{ kc }}"', "kubeconfig: /nonexistent/kubeconfig").replace(
        "        provisioner: topolvm.io", '        provisioner: topolvm.io\n        kubeconfig: "{{ kc }}"')
    result = ansible_run(play, {"kc": standin.kubeconfig}, env=_env(tmp_path))
    assert result.result("class").get("failed") is not True, result.result("class")
    assert standin.get(SC_V, "StorageClass", "fast") is not None
    # the next task has only the group default, which names a missing file
    failed = result.result("snapshot class")
    assert failed["failed"] is True, failed
    assert failed["invocation"]["module_args"]["kubeconfig"] == "/nonexistent/kubeconfig", failed


def test_without_the_defaults_nothing_connects(standin, ansible_run, tmp_path):
    """The control: the same play without module_defaults finds no cluster, so the passing runs
    above got their connection from the group defaults."""
    play = PLAY.split("  module_defaults:", maxsplit=1)[0] + "  tasks:" + PLAY.split("  tasks:", maxsplit=1)[1]
    result = ansible_run(play, {"kc": standin.kubeconfig}, env=_env(tmp_path))
    assert result.result("class")["failed"] is True
    assert standin.get(SC_V, "StorageClass", "fast") is None
    assert standin.requests() == []
