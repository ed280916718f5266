# -*- coding: utf-8 -*-
"""The initiator's state read from a snapshot of the VM's own records and sysfs (captured while
it was logged into two targets through three portals), and the record edits that keep CHAP
secrets off command lines."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.iscsi import initiator as ini
from ansible_collections.strata.storage.plugins.module_utils.iscsi.initiator_run import parse_discovery
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.iscsi.helpers import (
    CAPTURE, CHAP, CLIENT, DEMO, materialize, text, with_defaults,
)


class Reads:
    def __init__(self):
        self.reads = []


@pytest.fixture
def host(tmp_path):
    root = materialize(json.loads(text("initiator_sessions.json")), tmp_path)
    link = os.path.join(root, "dev", "disk", "by-path", "ip-127.0.0.1:3260-iscsi-%s-lun-0" % CAPTURE)
    os.makedirs(os.path.dirname(link))
    open(link, "w").close()
    return root


def read(root):
    runner = Reads()
    state = ini.read_state(runner, db_root=root + "/etc/iscsi", sysfs=root + "/sys", dev_dir=root + "/dev",
                           initiator_file=root + "/etc/iscsi/initiatorname.iscsi")
    return state, runner


def test_state_of_the_captured_host(host):
    state, runner = read(host)
    assert len(runner.reads) == 1 and runner.reads[0][:2] == ["open-iscsi", "read"]
    assert state.name == CLIENT
    assert sorted((s.target, s.ip, s.port) for s in state.sessions) == [
        (CAPTURE, "10.213.0.1", 3260), (CAPTURE, "127.0.0.1", 3260), (DEMO, "127.0.0.1", 3261)]
    session = state.session(CAPTURE, "127.0.0.1", 3260)
    assert session.state == "LOGGED_IN" and session.connection_state == "up" and session.tpgt == 1
    assert session.recovery_tmo == 5            # multipathd's fast_io_fail_tmo
    disks = {d["lun"]: d for d in session.devices}
    assert sorted(disks) == [0, 1]
    assert disks[0]["wwid"].startswith("36001405") and disks[0]["vendor"] == "LIO-ORG" and disks[0]["state"] == "running"
    assert disks[0]["model"] == "cap_block" and disks[1]["model"] == "cap_file"     # targetcli names the model
    assert disks[0]["holders"] and disks[0]["holders"][0].startswith("dm-")      # the multipath map
    assert disks[0]["by_path"].endswith("ip-127.0.0.1:3260-iscsi-%s-lun-0" % CAPTURE) and disks[1]["by_path"] is None
    other = state.session(CAPTURE, "10.213.0.1", 3260)
    assert {d["wwid"] for d in other.devices} == {d["wwid"] for d in session.devices}    # two paths, same LUNs


def test_records_of_the_captured_host(host):
    state, _runner = read(host)
    assert sorted(state.nodes) == [(CAPTURE, "10.213.0.1", 3260), (CAPTURE, "127.0.0.1", 3260), (DEMO, "127.0.0.1", 3261)]
    values = state.nodes[(CAPTURE, "127.0.0.1", 3260)].values
    assert values[ini.NODE_AUTHMETHOD] == "CHAP" and values[ini.NODE_AUTH_KEYS["userid"]] == CHAP["userid"]
    assert state.nodes[(DEMO, "127.0.0.1", 3261)].values[ini.NODE_AUTHMETHOD] == "None"
    assert sorted(state.discovery) == [("127.0.0.1", 3260), ("127.0.0.1", 3261)]
    assert ini.redact_record(values)[ini.NODE_AUTH_KEYS["password"]] == "(secret)"


def test_record_edits_change_only_their_lines():
    record = text("node_record.txt")
    values = ini.parse_record(record)
    chap = dict(CHAP, password="a-new-secret-4321")
    updates = ini.auth_updates(values, chap, ini.NODE_AUTH_KEYS, ini.NODE_AUTHMETHOD)
    assert updates == {ini.NODE_AUTH_KEYS["password"]: "a-new-secret-4321"}
    updates.update(ini.startup_updates(values, "automatic"))
    updates.update(ini.settings_updates(values, {"node.session.timeo.replacement_timeout": "15",
                                                 "node.conn[0].timeo.noop_out_interval": "2"}))
    new = ini.render_record(record, updates)
    old_lines, new_lines = record.splitlines(), new.splitlines()
    assert len(new_lines) == len(old_lines)
    changed = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
    assert sorted(b.split(" = ")[0] for _a, b in changed) == sorted(updates)
    assert new_lines[0].startswith("# BEGIN RECORD") and new_lines[-1] == "# END RECORD"
    added = ini.render_record(text("st_config.txt"), {"discovery.sendtargets.auth.username": "disc"})
    assert added.splitlines()[-2] == "discovery.sendtargets.auth.username = disc"
    assert ini.auth_updates(values, None, ini.NODE_AUTH_KEYS, ini.NODE_AUTHMETHOD) == {}
    assert ini.auth_updates(values, CHAP, ini.NODE_AUTH_KEYS, ini.NODE_AUTHMETHOD) == {}


def test_discovery_output():
    assert parse_discovery(text("iscsiadm_discovery.txt")) == [
        (CAPTURE, "127.0.0.1", 3260, 1), (CAPTURE, "10.213.0.1", 3260, 1), (DEMO, "127.0.0.1", 3261, 1)]


def test_wwids():
    assert ini.wwid_from_sysfs("naa.6001405ABCDEF\n") == "36001405abcdef"
    assert ini.wwid_from_sysfs("eui.0123") == "20123" and ini.wwid_from_sysfs("") is None


def req(**params):
    return ini.initiator_request_from_params(with_defaults(ini.INITIATOR_SPEC, params))


def test_request():
    got = req(initiator_name="iqn.2026-01.com.example:host", targets=[
        {"name": CAPTURE, "portals": ["127.0.0.1", "10.213.0.1:3261"], "chap": CHAP, "startup": "automatic",
         "settings": {"node.session.timeo.replacement_timeout": 15, "node.session.iscsi.FastAbort": True}}])
    target = got.targets[0]
    assert target.portals == [("127.0.0.1", 3260), ("10.213.0.1", 3261)] and target.discovery_portal == ("127.0.0.1", 3260)
    assert target.settings == {"node.session.timeo.replacement_timeout": "15", "node.session.iscsi.FastAbort": "Yes"}


@pytest.mark.parametrize("target, message", [
    ({"name": "not-an-iqn", "portals": ["127.0.0.1"]}, "not a valid iSCSI name"),
    ({"name": CAPTURE, "portals": []}, "portals is empty"),
    ({"name": CAPTURE, "portals": ["127.0.0.1", "127.0.0.1:3260"]}, "listed twice"),
    ({"name": CAPTURE, "portals": ["127.0.0.1"], "chap": {"userid": "u", "password": "short"}}, "shorter than 12"),
    ({"name": CAPTURE, "portals": ["127.0.0.1"], "settings": {"node.session.auth.password": "x"}}, "cannot set"),
    ({"name": CAPTURE, "portals": ["127.0.0.1"], "settings": {"node.startup": "automatic"}}, "cannot set"),
    ({"name": CAPTURE, "portals": ["127.0.0.1"], "settings": {"iface.initiatorname": "x"}}, "not a node record key"),
    ({"name": CAPTURE, "portals": ["127.0.0.1"], "settings": {"node.session.queue_depth": "1\n2"}}, "one non-empty line"),
    ({"name": CAPTURE, "portals": ["0.0.0.0"]}, "every address"),
])
def test_bad_requests(target, message):
    with pytest.raises(StrataError, match=message):
        req(targets=[target])


def test_two_discovery_chaps_for_one_portal_are_refused():
    with pytest.raises(StrataError, match="two different discovery_chap"):
        req(targets=[{"name": CAPTURE, "portals": ["127.0.0.1"], "discovery_chap": {"userid": "a", "password": "twelve-chars"}},
                     {"name": DEMO, "portals": ["127.0.0.1"], "discovery_chap": {"userid": "b", "password": "twelve-chars"}}])
