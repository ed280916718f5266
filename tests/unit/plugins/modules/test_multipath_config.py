# -*- coding: utf-8 -*-
"""multipath_config's main() on a temp multipath.conf and the `multipathd show maps json` output
captured in the VM (both paths up, one path failed): the file it writes, the commands it runs,
the reads it makes, check mode, the wait for paths and refused input."""
from __future__ import annotations

import os

import pytest

from ansible_collections.strata.storage.plugins.module_utils.iscsi import multipath
from ansible_collections.strata.storage.plugins.modules import multipath_config
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.iscsi.helpers import text
from ansible_collections.strata.storage.tests.unit.plugins.modules.iscsi_harness import _common, _run

WWID_A = "360014059f5a3dbffbfd4092b5baefe22"
PARAMS = {"defaults": {"user_friendly_names": True, "find_multipaths": "yes"},
          "multipaths": [{"wwid": WWID_A, "alias": "lab_db"}]}


class Host:
    def __init__(self, monkeypatch, maps="multipathd_maps.json", running=True):
        self.ran, self.reads = [], []
        self.maps = text(maps) if running else None
        self.now = [0.0]

        def run_command(module, cmd, **kwargs):
            if cmd == multipath.SHOW_MAPS:
                self.reads.append(cmd)
                return (0, self.maps, "") if self.maps is not None else (1, "", "ux_socket_connect: Connection refused")
            if cmd[:2] == ["udevadm", "settle"]:
                self.reads.append(cmd)
                return 0, "", ""
            self.ran.append(cmd)
            return 0, "", ""
        _common(monkeypatch)
        monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.run_command", run_command)
        # body(sleep=time.sleep, clock=time.monotonic) and _missing(exists=os.path.exists): defaults
        monkeypatch.setattr(multipath_config.body, "__defaults__",
                            (lambda seconds: self.now.__setitem__(0, self.now[0] + seconds), lambda: self.now[0]))
        monkeypatch.setattr(multipath_config._missing, "__defaults__", (lambda p: p == "/dev/mapper/mpatha",))


def run(monkeypatch, tmp_path, params=None, content=None, check_mode=False, **host):
    path = str(tmp_path / "multipath.conf")
    if content is not None:
        with open(path, "w") as handle:
            handle.write(content)
    h = Host(monkeypatch, **host)
    result, failed = _run(multipath_config.main, dict(params or PARAMS, path=path), check_mode)
    written = open(path).read() if os.path.exists(path) else None
    return result, failed, h, path, written


def test_no_change_reads_the_maps_once_and_runs_nothing(monkeypatch, tmp_path):
    result, failed, host, _path, _written = run(monkeypatch, tmp_path, content=multipath.render(PARAMS))
    assert not failed and result["changed"] is False
    assert result["actions"] == [] and host.ran == [] and host.reads == [multipath.SHOW_MAPS]
    assert [m["name"] for m in result["maps"]] == ["mpatha", "mpathb"]


def test_a_new_file_is_written_then_multipathd_reconfigured(monkeypatch, tmp_path):
    result, failed, host, path, written = run(monkeypatch, tmp_path)
    assert not failed and result["changed"] is True
    assert written == multipath.render(PARAMS) and os.stat(path).st_mode & 0o777 == 0o644
    assert 'wwid "%s"' % WWID_A in written and "alias lab_db" in written
    assert host.ran == [["multipathd", "reconfigure"]]
    assert [a.get("cmd") or a.get("path") for a in result["actions"]] == [path, ["multipathd", "reconfigure"]]
    assert host.reads == [multipath.SHOW_MAPS, multipath.SHOW_MAPS]      # before, and the maps after
    assert result["diff"]["before"]["content"] is None and result["diff"]["after"]["content"] == written


def test_check_mode_reports_the_same_actions_and_writes_nothing(monkeypatch, tmp_path):
    (tmp_path / "real").mkdir()
    real, _f, _h, _path, _w = run(monkeypatch, tmp_path / "real")
    result, failed, host, _cpath, written = run(monkeypatch, tmp_path, content="# old\n", check_mode=True)
    assert not failed and result["changed"] is True and written == "# old\n" and host.ran == []
    assert [a.get("cmd") or os.path.basename(a.get("path")) for a in result["actions"]] == \
        [a.get("cmd") or os.path.basename(a.get("path")) for a in real["actions"]]


def test_multipathd_down_writes_the_file_and_reloads_nothing(monkeypatch, tmp_path):
    result, failed, host, _path, written = run(monkeypatch, tmp_path, running=False)
    assert not failed and written and host.ran == [] and result["multipathd_running"] is False


def test_waiting_for_paths_that_are_there(monkeypatch, tmp_path):
    params = dict(PARAMS, wait_for=[{"wwid": WWID_A, "paths": 2}])
    result, failed, host, _path, _written = run(monkeypatch, tmp_path, params=params,
                                                content=multipath.render(params))
    assert not failed and result["changed"] is False and host.ran == []
    assert host.reads == [multipath.SHOW_MAPS, ["udevadm", "settle", "--timeout=60"]]


def test_a_path_that_stays_failed_ends_in_a_clear_error(monkeypatch, tmp_path):
    params = dict(PARAMS, wait_for=[{"wwid": WWID_A, "paths": 2}], wait_timeout=5)
    result, failed, host, _path, _written = run(monkeypatch, tmp_path, params=params, content=multipath.render(params),
                                                maps="multipathd_maps_one_failed.json")
    assert failed and "did not reach their paths within 5s" in result["msg"] and WWID_A in result["msg"]
    assert "mpatha %s 1/2 active" % WWID_A in result["msg"]
    assert host.ran == [] and 3 <= len(host.reads) <= 8          # polled about once a second, then gave up


@pytest.mark.parametrize("params, message", [
    ({"defaults": {"config_dir": "/tmp"}}, "config_dir is not set here"),
    ({"multipaths": [{"wwid": "1", "alias": "a/b"}]}, "not a valid device-mapper name"),
])
def test_bad_input_runs_nothing_and_writes_nothing(monkeypatch, tmp_path, params, message):
    result, failed, host, _path, written = run(monkeypatch, tmp_path, params=params)
    assert failed and message in result["msg"]
    assert host.ran == [] and host.reads == [] and written is None
