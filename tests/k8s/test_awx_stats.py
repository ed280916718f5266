# -*- coding: utf-8 -*-
"""playbooks/k8s_storage.yml hands its result to AWX workflows with set_stats (the play's
custom stats, which AWX keeps as the job's artifacts), against the API stand-in."""
from __future__ import annotations

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
STORAGE_PLAYBOOK = os.path.join(REPO, "playbooks", "k8s_storage.yml")
# the JSON stdout callback prints the custom stats (AWX reads them from the same place)
STATS_ENV = {"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_SHOW_CUSTOM_STATS": "1"}


def _stats(result):
    assert result.rc == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout)["global_custom_stats"]["k8s_storage"]


def test_storage_playbook_sets_stats(standin, ansible_run):
    extra = {
        "k8s_auth_kubeconfig": standin.kubeconfig,
        "k8s_storage_classes": [{"name": "fast", "provisioner": "topolvm.io"},
                                {"name": "archive", "provisioner": "nfs.csi.k8s.io", "reclaim_policy": "Retain"}],
        "k8s_snapshot_classes": [{"name": "snap", "driver": "topolvm.io"}],
        "k8s_tenant_tenants": [{"name": "team-c", "group": "c"}],
    }
    stats = _stats(ansible_run(STORAGE_PLAYBOOK, extra, env=STATS_ENV))
    assert stats["changed"] is True
    assert stats["storage_classes"] == stats["storage_classes_changed"] == ["fast", "archive"]
    assert stats["snapshot_classes"] == stats["snapshot_classes_changed"] == ["snap"]
    assert stats["tenants"] == stats["tenants_changed"] == ["team-c"]
    assert stats["kept_volumes"] == []
    assert any("fast" in a for a in stats["actions"]) and any("team-c" in a for a in stats["actions"]), stats["actions"]
    assert standin.get("storage.k8s.io/v1", "StorageClass", "archive") is not None

    again = _stats(ansible_run(STORAGE_PLAYBOOK, extra, env=STATS_ENV))
    assert again["changed"] is False and again["actions"] == []
    assert again["storage_classes"] == ["fast", "archive"] and again["storage_classes_changed"] == []
    assert again["tenants_changed"] == [] and again["snapshot_classes_changed"] == []
