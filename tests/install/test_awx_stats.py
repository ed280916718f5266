# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/site.yml hands its result to AWX workflows with set_stats: one entry per host under
`strata_layout`. Run on this host (no LVM here): once with nothing to build, and once with the
lvm role's registered results replaced through extra vars (which outrank `register`) by results
shaped as lvm_layout returns them, a present and a removed volume group, so that the summary
is computed from realistic data."""
from __future__ import annotations

import json
import os
import sys

from install.support import REPO, clean_env, run, tool

SITE = os.path.join(REPO, "playbooks", "site.yml")
RESULTS = {"results": [
    {"changed": True, "item": {"name": "data"},
     "vg": {"name": "data", "size": 32208060416, "free": 1073741824, "extent_size": 4194304, "pvs": ["/dev/vdb"]},
     "volumes": [{"name": "db", "path": "/dev/data/db", "size": 21474836480, "segtype": "raid1", "stripes": 2},
                 {"name": "pool0", "size": 8589934592, "segtype": "thin-pool", "data_percent": 1.5},
                 {"name": "app", "size": 1073741824, "segtype": "thin", "pool": "pool0", "data_percent": 0.0}],
     "actions": [{"description": "create volume group data", "cmd": ["vgcreate", "data", "/dev/vdb"]},
                 {"description": "create logical volume data/db", "cmd": ["lvcreate", "..."]}]},
    {"changed": False, "item": {"name": "old", "state": "absent"}, "volumes": [], "actions": []},
]}


def _play(tmp_path, extra):
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("[storage_hosts]\nstorage1 ansible_connection=local ansible_python_interpreter=%s\n"
                         % sys.executable)
    extra_file = tmp_path / "extra.json"
    extra_file.write_text(json.dumps(extra))
    collections = "%s:%s" % (os.path.join(REPO, ".cache", "live"), os.path.join(REPO, ".cache", "deps"))
    env = clean_env(ANSIBLE_COLLECTIONS_PATH=collections,
                    ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_SHOW_CUSTOM_STATS="1",
                    ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    out = run([tool("ansible-playbook"), "-i", inventory, "-e", "@%s" % extra_file, SITE], env=env, cwd=str(tmp_path))
    return json.loads(out.stdout)["global_custom_stats"]["strata_layout"]


def test_nothing_to_build(tmp_path):
    stats = _play(tmp_path, {"strata_volume_groups": []})
    assert stats == {"storage1": {"changed": False, "volume_groups": [], "volumes": [], "actions": []}}


def test_summary_of_a_layout(tmp_path):
    stats = _play(tmp_path, {"strata_volume_groups": [], "lvm_layout_results": RESULTS})
    assert stats == {"storage1": {
        "changed": True,
        "volume_groups": [{"name": "data", "size": 32208060416, "free": 1073741824, "pvs": ["/dev/vdb"]}],
        "volumes": [{"name": "db", "size": 21474836480, "segtype": "raid1"},
                    {"name": "pool0", "size": 8589934592, "segtype": "thin-pool", "data_percent": 1.5},
                    {"name": "app", "size": 1073741824, "segtype": "thin", "pool": "pool0", "data_percent": 0.0}],
        "actions": ["create volume group data", "create logical volume data/db"],
    }}
