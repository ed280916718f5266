# -*- coding: utf-8 -*-
"""The LIO tree as captured from the VM: our reader agrees with rtslib's dump and with
`targetctl save`, sessions parse as rtslib parses them, secrets are redacted, the saved-file
comparison ignores the list order a restore changes."""
from __future__ import annotations

import json

from ansible_collections.strata.storage.plugins.module_utils.iscsi import lio, names
from ansible_collections.strata.storage.plugins.module_utils.iscsi.lio_ops import project
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.iscsi.helpers import (
    CAPTURE, CHAP, CLIENT, DEMO, lio_state, text,
)


def test_reader_tree_is_rtslibs_dump_and_what_targetctl_saves():
    state = lio_state("lio_lab")
    dump = json.loads(text("rtslib_dump_lab.json"))
    saved = json.loads(text("targetctl_save_lab.json"))
    assert lio.canonical(state.tree) == lio.canonical(dump) == lio.canonical(saved)
    assert lio.saved_matches(text("targetctl_save_lab.json"), state.tree)
    assert json.loads(lio.save_text(state.tree)) == lio.canonical(saved)
    assert lio.save_text(state.tree).endswith("}\n")


def test_a_restore_reorders_lists_but_the_saved_file_still_matches():
    state = lio_state("lio_lab")
    shuffled = json.loads(json.dumps(state.tree))
    shuffled["storage_objects"].reverse()
    shuffled["targets"].reverse()
    for target in shuffled["targets"]:
        for tpg in target["tpgs"]:
            tpg["portals"].reverse()
            tpg["node_acls"].reverse()
    assert json.dumps(shuffled) != json.dumps(state.tree)
    assert lio.saved_matches(lio.save_text(state.tree), shuffled)
    assert not lio.saved_matches(None, state.tree) and not lio.saved_matches("{not json", state.tree)
    changed = json.loads(json.dumps(state.tree))
    changed["targets"][0]["tpgs"][0]["enable"] = not changed["targets"][0]["tpgs"][0]["enable"]
    assert not lio.saved_matches(lio.save_text(state.tree), changed)


def test_sessions_of_the_capture():
    state = lio_state("lio_sessions")
    session = state.session(CAPTURE, 1, CLIENT)
    assert session["state"] == "LOGGED_IN" and session["type"] == "Normal"
    assert session["connections"] == [{"cid": 0, "state": "LOGGED_IN", "address": "10.213.0.1", "transport": "TCP"}]
    assert state.logged_in(CAPTURE, 1, CLIENT) and not state.logged_in(CAPTURE, 1, "iqn.2026-01.lab.strata:other")
    assert state.dynamic_sessions == {(DEMO, 1): [CLIENT]}
    assert state.luns_using("fileio", "cap_file") == [(CAPTURE, 1, 1)]


def test_session_info_files_parse_as_rtslib_reads_them():
    session = lio.parse_session_info(text("acl_info_logged_in.txt"))
    assert session["initiator"] == CLIENT and session["alias"] == "strata-lab" and session["id"] == 2
    assert lio.parse_session_info(text("acl_info_idle.txt")) is None
    assert lio.parse_session_info("") is None
    assert lio.parse_dynamic_sessions(text("dynamic_sessions.txt")) == [CLIENT]     # the kernel's NUL dropped


def test_redacted_hides_every_secret_and_keeps_user_names():
    state = lio_state("lio_lab")
    shown = json.dumps(lio.redacted(state.tree))
    assert CHAP["password"] not in shown and CHAP["mutual_password"] not in shown
    assert CHAP["userid"] in shown and lio.SECRET_SHOWN in shown
    tree = json.dumps(state.tree)
    assert CHAP["password"] in tree        # the raw tree holds them (saveconfig.json does too: 0600)


def test_empty_and_unloaded():
    empty = lio_state("lio_empty")
    assert empty.loaded and empty.tree["targets"] == [] and empty.tree["storage_objects"] == []
    assert lio.LioState().loaded is False


def test_projection_of_a_removal_drops_the_mappings_of_the_lun():
    state = lio_state("lio_lab")
    from ansible_collections.strata.storage.plugins.module_utils.iscsi.lio_ops import LioOp
    tree, _disc = project(state.tree, [LioOp("backstore_delete", "x", {"plugin": "fileio", "name": "cap_file"})], state)
    capture = [t for t in tree["targets"] if t["wwn"] == CAPTURE][0]["tpgs"][0]
    assert [lun["index"] for lun in capture["luns"]] == [0]
    assert all(m["tpg_lun"] != 1 for acl in capture["node_acls"] for m in acl["mapped_luns"])
    assert len(state.tree["storage_objects"]) == 3          # the input is not changed


def test_the_wwid_an_initiator_sees_is_derived_from_the_unit_serial():
    """Both ends of the same capture: the target's unit serial, the initiator's sysfs wwid."""
    state = lio_state("lio_lab")
    snapshot = json.loads(text("initiator_sessions.json"))
    seen = {value.strip() for path, value in snapshot.items() if path.endswith("/wwid") and value}
    for so in state.tree["storage_objects"]:
        assert "naa." + names.lio_wwid(so["wwn"])[1:] in seen
