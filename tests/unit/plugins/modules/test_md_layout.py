# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.modules import md_array, md_layout
from ansible_collections.strata.storage.tests.unit.plugins.modules.harness import load_cases
from ansible_collections.strata.storage.tests.unit.plugins.modules.md_harness import CONF, check_case, run_case


@pytest.mark.parametrize("case", load_cases("md_layout_cases.yml"))
def test_md_layout_case(case, monkeypatch):
    check_case(md_layout.main, case, monkeypatch)


CLEAN_CONF = """HOMEHOST <system>
MAILADDR root
ARRAY /dev/md/cap_r1 metadata=1.2 spares=1 name=strata-lab:cap_r1 UUID=ae862663:d93e0472:a0dfd928:93ff5af1
ARRAY /dev/md/cap_r5 metadata=1.2 spares=1 name=strata-lab:cap_r5 UUID=88d486ef:1bddc1ee:75eff5f2:d5579315
ARRAY /dev/md/cap_r10 metadata=1.2 name=strata-lab:cap_r10 UUID=1e8e9147:bc05f81e:35e3347e:ad3a3270
"""


def test_removed_array_line_goes_and_the_others_stay_verbatim(monkeypatch):
    case = {"fixture": "clean_r1_r5_r10", "conf": CLEAN_CONF,
            "params": {"update_initramfs": False, "arrays": [
                {"name": "cap_r10", "state": "absent", "allow_remove": True, "members": ["/dev/loop7"]}]}}
    result, failed, ran, reads, written = run_case(md_layout.main, case, monkeypatch)
    assert not failed
    assert written[CONF] == "\n".join(CLEAN_CONF.splitlines()[:4]) + "\n"


def test_new_array_line_written_with_the_real_uuid(monkeypatch):
    case = {"fixture": "empty", "fixture_after": "clean_r1_r5_r10", "conf": "HOMEHOST <system>\nMAILADDR root\n",
            "params": {"name": "cap_r5", "level": "raid5", "members": ["/dev/loop3", "/dev/loop4", "/dev/loop5"]}}
    result, failed, ran, reads, written = run_case(md_array.main, case, monkeypatch)
    assert not failed
    assert written[CONF].splitlines()[-1] == (
        "ARRAY /dev/md/cap_r5 metadata=1.2 name=strata-lab:cap_r5 UUID=88d486ef:1bddc1ee:75eff5f2:d5579315")
    assert result["array"]["uuid"] == "88d486ef:1bddc1ee:75eff5f2:d5579315"
    assert result["config"] == {"path": CONF, "changed": True}


def test_check_mode_reports_the_prediction_and_the_diff(monkeypatch):
    case = {"fixture": "empty", "check_mode": True,
            "params": {"name": "data", "level": "raid1", "members": ["/dev/vdb", "/dev/vdc"]}}
    result, failed, ran, reads, written = run_case(md_array.main, case, monkeypatch)
    assert result["array"]["predicted"] is True and result["array"]["level"] == "raid1"
    assert result["diff"]["before"]["arrays"]["data"] == {"state": "absent"}
    assert result["diff"]["after"]["arrays"]["data"]["devices"] == ["/dev/vdb (active)", "/dev/vdc (active)"]
    assert ran == [] and written == {}


def test_result_reports_progress_of_a_running_resync(monkeypatch):
    case = {"fixture": "raid1_resync", "params": {"name": "cap_r1", "persist": False}}
    result, failed, ran, reads, written = run_case(md_array.main, case, monkeypatch)
    progress = result["array"]["progress"]
    assert progress["action"] == "resync" and 0 < progress["percent"] < 100
    assert progress["speed_kib_s"] > 0 and progress["eta_seconds"] >= 0
    assert result["reads"] == [["mdadm", "--detail", "--scan"]]
