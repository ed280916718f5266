# -*- coding: utf-8 -*-
"""k8s_storage_info and the cleanup playbook's dry run against a REAL cluster (kind, k3s...),
when KUBECONFIG points at one. Read-only: the cleanup runs without k8s_cleanup_delete, so it
makes no delete request."""
from __future__ import annotations

import json
import os

import pytest

from . import SKIP_REASON, reachable_cluster

KUBECONFIG = reachable_cluster()
pytestmark = pytest.mark.skipif(KUBECONFIG is None, reason=SKIP_REASON)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_storage_info_on_a_real_cluster(ansible_run):
    play = """
- name: Storage report of a real cluster
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Report
      strata.storage.k8s_storage_info:
        kubeconfig: {kubeconfig}
        stale_days: 30
""".format(kubeconfig=KUBECONFIG)
    result = ansible_run(play)
    assert result.rc == 0, result.stdout[-4000:] + result.stderr[-4000:]
    report = result.result("Report")
    assert report["changed"] is False
    calls = report["api_calls"]
    assert set(calls) == {"persistentvolumes", "persistentvolumeclaims", "storageclasses", "pods", "events", "total"}
    assert calls["total"] == sum(v for k, v in calls.items() if k != "total")
    # one call per kind unless a kind holds more than a page
    summary = report["summary"]
    assert calls["persistentvolumes"] == max(1, -(-summary["pvs"] // 500))
    assert calls["persistentvolumeclaims"] == max(1, -(-summary["pvcs"] // 500))
    assert isinstance(report["stale"]["pv_names"], list)


def test_cleanup_dry_run_on_a_real_cluster(ansible_run, tmp_path):
    report_file = str(tmp_path / "cleanup.json")
    result = ansible_run(os.path.join(REPO, "playbooks", "k8s_storage_cleanup.yml"),
                         extravars={"k8s_auth_kubeconfig": KUBECONFIG, "k8s_cleanup_report_file": report_file})
    assert result.rc == 0, result.stdout[-4000:] + result.stderr[-4000:]
    with open(report_file) as handle:
        out = json.load(handle)
    assert out["delete"] is False and out["deleted"] == []
    listed = set(e["name"] for e in out["would_delete"] + out["refused"] + out["gone"])
    assert listed == set(out["stale_pvs"]) | set(n.split("/", 1)[1] for n in out["stale_pvcs"])
