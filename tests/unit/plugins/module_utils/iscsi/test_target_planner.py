# -*- coding: utf-8 -*-
"""The LIO planner over plain dicts of the real tree captured from the VM (targetcli built it:
tests/fixtures/capture_iscsi.sh), and over the trees its own ops project."""
from __future__ import annotations

import json

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInfo
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.iscsi import lio
from ansible_collections.strata.storage.plugins.module_utils.iscsi.target_planner import (
    TARGET_SPEC, PlanEnv, plan_target, secrets_in, target_request_from_params,
)
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.iscsi.helpers import (
    CAPTURE, CHAP, CLIENT, DEMO, lio_state, so_by_name, with_defaults,
)

NEW = "iqn.2026-01.com.example:new"
SECRET = "a-long-chap-secret-1"
MUTUAL = "a-long-mutual-secret-2"


def fake_env(kinds=None, files=None, owners=None, local=("127.0.0.1", "10.213.0.1", "192.0.2.10")):
    """Probes: devices blank unless named in kinds (ext4, lvm2, missing), files from a dict."""
    kinds = kinds or {}

    def inspect(path):
        if kinds.get(path) == "missing":
            return DeviceInfo(path=path, realpath=path)
        info = DeviceInfo(path=path, realpath=path, exists=True, is_block=True, size=1 << 30)
        if kinds.get(path) == "ext4":
            info.signatures = ["holds an ext4 signature (filesystem)"]
        if kinds.get(path) == "lvm2":
            info.signatures = ["holds an LVM2_member signature (raid)"]
        return info

    def stat_path(path):
        facts = (files or {}).get(path)
        if facts is None:
            return {"exists": False, "is_file": False, "is_block": False, "size": None, "parent_dir": True}
        return dict({"exists": True, "is_file": True, "is_block": False, "parent_dir": True}, **facts)

    return PlanEnv(inspect=inspect, device_key=lambda p: p, stat_path=stat_path,
                   pv_owner=(owners or {}).get, is_local=lambda ip: ip in local)


def request(**params):
    return target_request_from_params(with_defaults(TARGET_SPEC, params))


def ops(plan):
    return [op.op for op in plan.actions]


def plan(current, env=None, **params):
    return plan_target(request(**params), current, env or fake_env())


def capture_params(state):
    """The captured target exactly as targetcli built it, as module options."""
    block = so_by_name(state, "cap_block")
    fileio = so_by_name(state, "cap_file")
    return dict(
        wwn=CAPTURE,
        backstores=[{"name": "cap_block", "device": block["dev"]},
                    {"name": "cap_file", "type": "fileio", "file": fileio["dev"], "size": "32M"}],
        tpgs=[{"tag": 1,
               "portals": [{"ip": "127.0.0.1"}, {"ip": "10.213.0.1"}],
               "luns": [{"index": 0, "backstore": "cap_block"}, {"index": 1, "backstore": "cap_file"}],
               "acls": [{"initiator": CLIENT, "chap": dict(CHAP)},
                        {"initiator": "iqn.2026-01.lab.strata:other",
                         "mapped_luns": [{"index": 0, "lun": 1}]}]}])


def new_target(**extra):
    params = dict(
        wwn=NEW,
        backstores=[{"name": "db", "device": "/dev/vg/db"},
                    {"name": "scratch", "type": "fileio", "file": "/srv/iscsi/scratch.img", "size": "1G"}],
        tpgs=[{"tag": 1, "portals": [{"ip": "192.0.2.10"}],
               "luns": [{"index": 0, "backstore": "db"}, {"index": 1, "backstore": "scratch"}],
               "acls": [{"initiator": "iqn.2026-01.com.example:client1",
                         "chap": {"userid": "client1", "password": SECRET,
                                  "mutual_userid": "storage", "mutual_password": MUTUAL}}]}])
    params.update(extra)
    return params


# ---------------------------------------------------------------- idempotence on real trees
def test_the_captured_target_plans_nothing():
    state = lio_state("lio_lab")
    result, _tree, _disc = plan(state, **capture_params(state))
    assert ops(result) == [], [op.description for op in result.actions]


def test_a_new_target_in_order_and_planning_again_on_the_projection_plans_nothing():
    state = lio_state("lio_empty")
    result, projected, discovery = plan(state, **new_target())
    assert ops(result) == [
        "backstore_create", "backstore_create", "target_create", "tpg_create", "tpg_attributes",
        "lun_create", "lun_create", "acl_create", "acl_auth", "mapped_lun_create", "mapped_lun_create",
        "portal_create", "tpg_enable"]
    again, _tree, _disc = plan_target(request(**new_target()),
                                      lio.LioState(tree=projected, discovery=discovery, loaded=True), fake_env())
    assert ops(again) == []


def test_check_mode_prediction_keeps_the_other_target_untouched():
    state = lio_state("lio_lab")
    _result, projected, _disc = plan(state, **new_target())
    assert lio.canonical([t for t in projected["targets"] if t["wwn"] == CAPTURE]) == \
        lio.canonical([t for t in state.tree["targets"] if t["wwn"] == CAPTURE])


# ---------------------------------------------------------------- secure defaults
def test_a_new_tpg_is_locked_down_before_it_listens():
    result, _tree, _disc = plan(lio_state("lio_empty"), **new_target())
    attrs = [op for op in result.actions if op.op == "tpg_attributes"][0].args["attributes"]
    assert attrs == {"authentication": 1, "cache_dynamic_acls": 0, "demo_mode_discovery": 0,
                     "demo_mode_write_protect": 1, "generate_node_acls": 0}
    order = ops(result)
    assert order.index("tpg_attributes") < order.index("portal_create") < order.index("tpg_enable")


def test_demo_mode_of_an_existing_tpg_is_turned_off_unless_asked_for():
    state = lio_state("lio_lab")
    result, _tree, _disc = plan(state, wwn=DEMO, tpgs=[{"tag": 1, "authentication": False}])
    change = [op for op in result.actions if op.op == "tpg_attributes"][0].args["attributes"]
    assert change == {"cache_dynamic_acls": 0, "demo_mode_discovery": 0, "demo_mode_write_protect": 1,
                      "generate_node_acls": 0}
    kept, _tree, _disc = plan(state, wwn=DEMO, tpgs=[{"tag": 1, "authentication": False, "attributes": {
        "generate_node_acls": 1, "demo_mode_write_protect": 0, "cache_dynamic_acls": 1, "demo_mode_discovery": 1}}])
    assert ops(kept) == [] and any("demo mode" in w for w in kept.warnings)


def test_chap_turns_authentication_on_and_authentication_false_with_chap_is_refused():
    params = new_target()
    params["tpgs"][0]["authentication"] = False
    with pytest.raises(StrataError, match="authentication: false while ACLs have CHAP"):
        request(**params)


def test_without_chap_a_new_tpg_keeps_lio_default_authentication():
    params = new_target()
    del params["tpgs"][0]["acls"][0]["chap"]
    result, projected, _disc = plan(lio_state("lio_empty"), **params)
    attrs = [op for op in result.actions if op.op == "tpg_attributes"][0].args["attributes"]
    assert "authentication" not in attrs
    assert projected["targets"][0]["tpgs"][0]["attributes"]["authentication"] == 1


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("mutate, message", [
    (lambda p: p.update(wwn="iqn.2026-1.com.example:x"), "is not a valid IQN"),
    (lambda p: p.update(wwn="iqn.2026-01.com.Example:x"), "lower case"),
    (lambda p: p.update(wwn="iqn.2026-01.com.example:bad_name"), "is not a valid IQN"),
    (lambda p: p["tpgs"][0]["luns"].append({"index": 0, "backstore": "scratch"}), "LUN number 0 is used twice"),
    (lambda p: p["tpgs"][0]["acls"][0]["chap"].update(password="short-12345"), "shorter than 12 characters"),
    (lambda p: p["tpgs"][0]["acls"][0]["chap"].update(mutual_password=SECRET), "must differ"),
    (lambda p: p["tpgs"][0]["acls"][0]["chap"].pop("mutual_userid"), "mutual CHAP needs both"),
    (lambda p: p["tpgs"][0]["acls"][0].update(initiator="client1"), "is not a valid iSCSI name"),
    (lambda p: p["tpgs"][0]["portals"].append({"ip": "0.0.0.0"}), "listens on every address"),
    (lambda p: p["tpgs"][0]["portals"].append({"ip": "192.0.2.10"}), "listed twice"),
    (lambda p: p["tpgs"][0].update(tag=0), "TPG tag 0 is out of range"),
    (lambda p: p["tpgs"][0].update(parameters={"HeaderDigest": "MD5"}), "HeaderDigest=MD5 is not valid"),
    (lambda p: p["tpgs"][0].update(parameters={"MaxConnections": "0"}), "MaxConnections=0"),
    (lambda p: p["tpgs"][0].update(attributes={"no_such_thing": 1}), "unknown attribute no_such_thing"),
    (lambda p: p["tpgs"][0].update(attributes={"authentication": 0}), "use the authentication option"),
    # the kernel's ranges (iscsi_target_tpg.c / iscsi_target_nodeattrib.c): EINVAL half-way otherwise
    (lambda p: p["tpgs"][0].update(attributes={"login_timeout": 3600}), "login_timeout=3600 is out of range"),
    (lambda p: p["tpgs"][0].update(attributes={"login_timeout": 2}), "login_timeout=2 is out of range"),
    (lambda p: p["tpgs"][0].update(attributes={"generate_node_acls": 2}), "generate_node_acls=2"),
    (lambda p: p["tpgs"][0].update(attributes={"fabric_prot_type": 2}), "fabric_prot_type=2"),
    (lambda p: p["tpgs"][0].update(attributes={"default_cmdsn_depth": "lots"}), "default_cmdsn_depth=lots"),
    (lambda p: p["tpgs"][0]["acls"][0].update(attributes={"nopin_timeout": 1}), "nopin_timeout=1 is out of range"),
    (lambda p: p["tpgs"][0]["acls"][0].update(attributes={"dataout_timeout_retries": 16}), "dataout_timeout_retries=16"),
    (lambda p: p["backstores"][0].update(name="a/b"), "backstore name 'a/b' is not valid"),
    (lambda p: p["backstores"][0].update(write_back=True), "not available for block backstores"),
    (lambda p: p["backstores"][1].update(size="1000"), "has no unit"),
    (lambda p: p["backstores"][1].update(size="1000B"), "not a multiple of 512"),
    (lambda p: p["tpgs"][0]["acls"][0].update(mapped_luns=[{"index": 0}, {"index": 0, "lun": 1}]), "used twice"),
    (lambda p: p["tpgs"][0]["acls"][0].update(mapped_luns=[{"index": 300}]), "out of range"),
])
def test_bad_input_is_refused_before_reading_anything(mutate, message):
    params = new_target()
    mutate(params)
    with pytest.raises(StrataError, match=message):
        request(**params)


@pytest.mark.parametrize("mutate, message", [
    (lambda p: p["tpgs"][0]["acls"][0].update(mapped_luns=[{"index": 0, "lun": 7}]), "points at LUN 7, which the TPG does not have"),
    (lambda p: p["tpgs"][0]["luns"].append({"index": 2, "backstore": "nowhere"}), "backstore nowhere does not exist"),
    (lambda p: p["tpgs"][0].update(parameters={"FirstBurstLength": "524288"}), "larger than MaxBurstLength"),
])
def test_references_are_checked_against_the_tree(mutate, message):
    params = new_target()
    mutate(params)
    with pytest.raises(StrataError, match=message):
        plan(lio_state("lio_empty"), **params)


def test_secrets_are_nowhere_in_what_is_reported():
    state = lio_state("lio_lab")
    params = capture_params(state)
    params["tpgs"][0]["acls"][0]["chap"] = {
        "userid": "capture", "password": SECRET, "mutual_userid": "capture-target", "mutual_password": MUTUAL}
    params["discovery_auth"] = {"enable": True, "userid": "disc", "password": "discovery-secret-9"}
    req = request(**params)
    result, _tree, _disc = plan_target(req, state, fake_env())
    assert ops(result) == ["discovery_auth", "acl_auth"]
    acl_auth = result.actions[1]
    assert acl_auth.args["set"] == ["password", "mutual_password"] and acl_auth.secrets == {
        "password": SECRET, "mutual_password": MUTUAL}
    shown = json.dumps([op.report() for op in result.actions]) + json.dumps(result.before) + json.dumps(result.after)
    for secret in secrets_in(req) + [CHAP["password"], CHAP["mutual_password"]]:
        assert secret not in shown
    assert "(secret)" in json.dumps(result.after)


# ---------------------------------------------------------------- reconciliation
def test_a_lun_number_that_exports_another_backstore_is_refused():
    state = lio_state("lio_lab")
    params = capture_params(state)
    params["tpgs"][0]["luns"] = [{"index": 0, "backstore": "cap_file"}]
    with pytest.raises(StrataError, match="LUN 0 exports /backstores/block/cap_block, not /backstores/fileio/cap_file"):
        plan(state, **params)


def test_unlisted_objects_stay_unless_purge():
    state = lio_state("lio_lab")
    params = capture_params(state)
    params["tpgs"][0]["portals"] = [{"ip": "127.0.0.1"}]
    params["tpgs"][0]["acls"] = [params["tpgs"][0]["acls"][0]]
    params["tpgs"][0]["luns"] = [params["tpgs"][0]["luns"][0]]
    params["tpgs"][0]["acls"][0]["mapped_luns"] = [{"index": 0}]
    kept, _tree, _disc = plan(state, **params)
    assert ops(kept) == []
    purged, projected, _disc = plan(state, purge=True, **params)
    # the client's mapping of LUN 1 goes with LUN 1 (rtslib's LUN.delete removes its mappings)
    assert ops(purged) == ["acl_delete", "lun_delete", "portal_delete"]
    assert [op.args.get("node") or op.args.get("lun") or op.args.get("ip") for op in purged.actions] == [
        "iqn.2026-01.lab.strata:other", 1, "10.213.0.1"]
    tpg = [t for t in projected["targets"] if t["wwn"] == CAPTURE][0]["tpgs"][0]
    assert [a["node_wwn"] for a in tpg["node_acls"]] == [CLIENT]
    assert [m["index"] for m in tpg["node_acls"][0]["mapped_luns"]] == [0]


def test_attributes_parameters_write_protect_and_chap_are_reconciled():
    state = lio_state("lio_lab")
    params = capture_params(state)
    tpg = params["tpgs"][0]
    tpg["parameters"] = {"HeaderDigest": "CRC32C", "MaxConnections": 1}
    tpg["acls"][1]["mapped_luns"][0]["write_protect"] = True
    tpg["acls"][1]["attributes"] = {"nopin_timeout": 10}
    tpg["acls"][0]["chap"] = dict(CHAP, userid="renamed")
    params["backstores"][0]["attributes"] = {"emulate_tpu": 1}
    result, _tree, _disc = plan(state, **params)
    assert [(op.op, {k: v for k, v in op.args.items() if k in ("attributes", "parameters", "set", "write_protect")})
            for op in result.actions] == [
        ("backstore_attributes", {"attributes": {"emulate_tpu": 1}}),
        ("tpg_parameters", {"parameters": {"HeaderDigest": "CRC32C"}}),
        ("acl_auth", {"set": ["userid"]}),
        ("acl_attributes", {"attributes": {"nopin_timeout": 10}}),
        ("mapped_lun_write_protect", {"write_protect": True}),
    ]


@pytest.mark.parametrize("change, message", [
    (lambda b: b[0].update(device="/dev/other"), "exports /dev/loop"),
    (lambda b: b[0].update(readonly=True), "has readonly False"),
    (lambda b: b[0].update(wwn="00000000-0000-4000-8000-000000000000"), "has wwn"),
    (lambda b: b[1].update(size="64M"), "has 32M, not 64M"),
    (lambda b: b[1].update(write_back=True), "has write_back False"),
    (lambda b: b[0].update(attributes={"not_an_attribute": 1}), "unknown attribute not_an_attribute"),
])
def test_a_backstore_identity_cannot_change(change, message):
    state = lio_state("lio_lab")
    params = capture_params(state)
    change(params["backstores"])
    with pytest.raises(StrataError, match=message):
        plan(state, **params)


def test_discovery_authentication_only_what_changed():
    state = lio_state("lio_lab")
    result, _tree, discovery = plan(state, wwn=CAPTURE, discovery_auth={
        "enable": True, "userid": "disc", "password": "discovery-secret-9"})
    assert [op.args for op in result.actions] == [
        {"set": ["userid", "password", "enable"], "values": {"enable": True, "userid": "disc"}}]
    assert discovery["enable"] and discovery["password"] == "discovery-secret-9"


# ---------------------------------------------------------------- in use
def test_removing_what_a_logged_in_initiator_uses_is_refused_unless_asked():
    state = lio_state("lio_sessions")
    params = capture_params(state)
    params["tpgs"][0]["luns"][0]["state"] = "absent"
    with pytest.raises(StrataError, match="refusing to remove LUN 0 of TPG 1 of %s: in use by %s" % (CAPTURE, CLIENT)):
        plan(state, **params)
    forced, _tree, _disc = plan(state, remove_in_use=True, **params)
    assert ops(forced) == ["lun_delete"] and forced.warnings
    idle = lio_state("lio_lab")
    result, _tree, _disc = plan(idle, **capture_params(idle) | {"tpgs": params["tpgs"]})
    assert ops(result) == ["lun_delete"] and not result.warnings


def test_a_demo_mode_session_keeps_its_target():
    state = lio_state("lio_sessions")
    assert state.dynamic_sessions[(DEMO, 1)] == [CLIENT]
    with pytest.raises(StrataError, match="refusing to remove target %s: in use by %s \\(dynamic session\\)" % (DEMO, CLIENT)):
        plan(state, wwn=DEMO, state="absent")


def test_the_acl_of_a_logged_in_initiator_stays_but_an_idle_one_goes():
    state = lio_state("lio_sessions")
    params = capture_params(state)
    params["tpgs"][0]["acls"][1]["state"] = "absent"
    result, _tree, _disc = plan(state, **params)
    assert ops(result) == ["acl_delete"]
    params["tpgs"][0]["acls"][0]["state"] = "absent"
    with pytest.raises(StrataError, match="ACL %s of TPG 1.*in use" % CLIENT):
        plan(state, **params)


def test_a_backstore_another_target_exports_is_not_removed():
    state = lio_state("lio_lab")
    with pytest.raises(StrataError, match="cap_demo: it is exported as LUN 0 of TPG 1 of target %s" % DEMO):
        plan(state, wwn=NEW, backstores=[{"name": "cap_demo", "type": "fileio", "state": "absent"}])
    result, _tree, _disc = plan(state, wwn=DEMO, state="absent",
                                backstores=[{"name": "cap_demo", "type": "fileio", "state": "absent"}])
    assert ops(result) == ["target_delete", "backstore_delete"]


# ---------------------------------------------------------------- devices and files
def test_a_device_holding_another_vgs_pv_is_refused_even_with_force():
    env = fake_env(kinds={"/dev/vdz": "lvm2"}, owners={"/dev/vdz": "other_vg"})
    params = new_target(force=["/dev/vdz"])
    params["backstores"][0]["device"] = "/dev/vdz"
    with pytest.raises(StrataError, match="is an LVM physical volume of volume group other_vg.*not even `force`"):
        plan(lio_state("lio_empty"), env, **params)


def test_a_device_with_a_filesystem_needs_force():
    env = fake_env(kinds={"/dev/vg/db": "ext4"})
    with pytest.raises(StrataError, match="holds an ext4 signature"):
        plan(lio_state("lio_empty"), env, **new_target())
    result, _tree, _disc = plan(lio_state("lio_empty"), env, **new_target(force=["/dev/vg/db"]))
    assert ops(result)[0] == "backstore_create"


def test_a_device_already_exported_is_refused():
    state = lio_state("lio_lab")
    params = new_target()
    params["backstores"][0]["device"] = so_by_name(state, "cap_block")["dev"]
    with pytest.raises(StrataError, match="already exported as backstore block/cap_block"):
        plan(state, **params)


def test_fileio_files():
    empty = lio_state("lio_empty")
    result, _tree, _disc = plan(empty, **new_target())
    create = [op for op in result.actions if op.args.get("plugin") == "fileio"][0]
    assert create.args["create_file"] and create.args["size"] == 1 << 30 and not create.args["write_back"]
    assert create.undo.args["remove_file"] == "/srv/iscsi/scratch.img"
    env = fake_env(files={"/srv/iscsi/scratch.img": {"size": 512 << 20}})
    with pytest.raises(StrataError, match="exists with 512M, not the 1G asked for"):
        plan(empty, env, **new_target())
    params = new_target()
    del params["backstores"][1]["size"]
    taken, _tree, _disc = plan(empty, env, **params)
    assert [op.args for op in taken.actions if op.args.get("plugin") == "fileio"][0]["size"] == 512 << 20
    with pytest.raises(StrataError, match="does not exist; give a size"):
        plan(empty, **params)


def test_a_portal_address_the_host_lacks_is_a_warning():
    result, _tree, _disc = plan(lio_state("lio_empty"), fake_env(local=()), **new_target())
    assert any("192.0.2.10 is not an address of this host" in w for w in result.warnings)
