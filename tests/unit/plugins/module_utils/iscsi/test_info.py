# -*- coding: utf-8 -*-
"""iscsi_info's reading of both sides and its problems list, on the captured state."""
from __future__ import annotations

import json

from ansible_collections.strata.storage.plugins.module_utils.iscsi import info
from ansible_collections.strata.storage.plugins.module_utils.iscsi import initiator as ini
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.iscsi.helpers import (
    CAPTURE, CHAP, CLIENT, lio_state, materialize, text,
)


class Runner:
    def __init__(self, maps):
        self.reads = []
        self.maps = maps

    def read(self, cmd, check=True, what=None):
        self.reads.append(cmd)

        class Result:
            rc = 0 if self.maps else 1
            stdout = self.maps or ""
        return Result()


def gather(tmp_path, maps_fixture):
    root = materialize(json.loads(text("initiator_sessions.json")), tmp_path)
    runner = Runner(text(maps_fixture) if maps_fixture else None)
    result = info.gather(runner, ["target", "initiator", "multipath"],
                         read_target=lambda r: lio_state("lio_sessions"),
                         read_initiator=lambda r: ini.read_state(r, db_root=root + "/etc/iscsi", sysfs=root + "/sys",
                                                                 initiator_file=root + "/etc/iscsi/initiatorname.iscsi"))
    return result, runner


def test_a_healthy_host(tmp_path):
    result, runner = gather(tmp_path, "multipathd_maps.json")
    assert result["problems"] == []
    target = [t for t in result["target"]["targets"] if t["wwn"] == CAPTURE][0]
    acls = {a["initiator"]: a for a in target["tpgs"][0]["acls"]}
    assert acls[CLIENT]["logged_in"] and not acls["iqn.2026-01.lab.strata:other"]["logged_in"]
    assert acls[CLIENT]["chap_password_set"] and CHAP["password"] not in json.dumps(result)
    assert len(result["initiator"]["sessions"]) == 3 and result["multipath"]["running"]
    assert [r[0] for r in runner.reads] == ["open-iscsi", "multipathd"]      # the LIO read is the stand-in


def test_a_failed_path_is_a_problem(tmp_path):
    result, _runner = gather(tmp_path, "multipathd_maps_one_failed.json")
    assert len(result["problems"]) == 2
    assert all("1 of 2 paths failed" in p and "failed/faulty" in p for p in result["problems"])


def test_multipathd_down_is_no_problem(tmp_path):
    result, _runner = gather(tmp_path, None)
    assert result["multipath"] == {"running": False, "maps": []} and result["problems"] == []
