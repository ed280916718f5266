# -*- coding: utf-8 -*-
from __future__ import annotations

import json

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core import devices
from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInfo
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.nvmeof import configfs
from ansible_collections.strata.storage.plugins.module_utils.nvmeof import target_planner as tp
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.nvmeof.nvmet_fixtures import snapshot_state
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.nvmeof.test_names import make_key

S1 = "nqn.2014-08.org.example:capture.s1"
S2 = "nqn.2014-08.org.example:capture.s2"
H1 = "nqn.2014-08.org.example:capture.host1"
H2 = "nqn.2014-08.org.example:capture.host2"
NEW = "nqn.2014-08.org.example:new"
C = "/sys/kernel/config/nvmet"
LVM_MEMBER = "TYPE=LVM2_member\nUSAGE=raid\nUUID=Yc3HEL-0000\nVERSION=LVM2 001\n"


def inspect_with(kinds):
    def inspect(path):
        info = DeviceInfo(path=path, realpath=path, exists=kinds.get(path) != "missing", is_block=True)
        if kinds.get(path) == "lvm2_member":
            info.signatures = devices.describe_probe(devices.parse_blkid_export(LVM_MEMBER))
        elif kinds.get(path) == "mounted":
            info.mountpoints = ["/srv"]
        return info
    return inspect


def plan(params, snapshot="one_subsystem", kinds=None, local=("127.0.0.1", "::1", "192.0.2.10"), saved=None, **facts):
    state, _snap = snapshot_state(snapshot, **facts)
    req = tp.request_from_params(dict({"state": "present", "purge": False, "force": [], "force_in_use": False,
                                       "save": True, "save_path": "/etc/nvmet/config.json"}, **params))
    text = configfs.config_text(state)
    return tp.plan_subsystem(req, state, inspect_with(kinds or {}), lambda p: p, is_local=lambda a: a in local,
                             saved_text=text if saved is None else saved, config_text=text)


def ops(p):
    out = []
    for a in p.actions:
        if isinstance(a, configfs.ConfigfsOp):
            out.append([a.op, a.path.replace(C + "/", "")] + ([a.value] if a.value is not None else []))
        elif a.cmd:
            out.append(a.cmd)
        else:
            out.append(["save", a.path])
    return out


def test_new_subsystem_in_order_with_secure_default():
    p = plan({"nqn": NEW, "serial": "SN1", "namespaces": [{"nsid": 1, "device": "/dev/loop5"}],
              "ports": [{"trtype": "tcp", "traddr": "127.0.0.1"}], "hosts": [{"nqn": H2}]})
    assert ops(p) == [
        ["mkdir", "hosts/" + H2],
        ["mkdir", "subsystems/" + NEW],
        ["write", "subsystems/%s/attr_serial" % NEW, "SN1"],
        ["write", "subsystems/%s/attr_allow_any_host" % NEW, "0"],
        ["symlink", "subsystems/%s/allowed_hosts/%s" % (NEW, H2), "%s/hosts/%s" % (C, H2)],
        ["mkdir", "subsystems/%s/namespaces/1" % NEW],
        ["write", "subsystems/%s/namespaces/1/device_path" % NEW, "/dev/loop5"],
        ["write", "subsystems/%s/namespaces/1/enable" % NEW, "1"],
        # 127.0.0.1:4420 is port 1 already (S1's): shared, not made twice
        ["symlink", "ports/1/subsystems/" + NEW, "%s/subsystems/%s" % (C, NEW)],
        ["save", "/etc/nvmet/config.json"],
    ]
    assert p.after["allow_any_host"] is False and p.before == {"state": "absent"}
    undo = [a.undo.cmd for a in p.actions if getattr(a, "undo", None)]
    assert undo[0] == ["rmdir", "%s/hosts/%s" % (C, H2)]
    assert ["rm", "--", "%s/ports/1/subsystems/%s" % (C, NEW)] in undo


def test_new_port_gets_the_lowest_free_id_and_modules_load_when_missing():
    p = plan({"nqn": NEW, "ports": [{"traddr": "::1", "trsvcid": "4421"}]}, snapshot="one_subsystem",
             loaded_modules=["nvme_core"])
    assert ops(p)[:2] == [["modprobe", "nvmet-tcp"], ["mkdir", "subsystems/" + NEW]]
    assert ["mkdir", "ports/2"] in ops(p)
    assert ["write", "ports/2/addr_adrfam", "ipv6"] in ops(p)
    assert ["write", "ports/2/addr_traddr", "::1"] in ops(p)


def test_no_change_plans_nothing_not_even_a_save():
    p = plan({"nqn": S1, "serial": "capture0001", "allow_any_host": False,
              "namespaces": [{"nsid": 1, "device": "/dev/loop0", "uuid": "11111111-2222-3333-4444-555555555555"},
                             {"nsid": 2, "device": "/dev/loop1", "enabled": False}],
              "ports": [{"traddr": "127.0.0.1", "trsvcid": "4420"}], "hosts": [{"nqn": H1}]})
    assert ops(p) == [] and not p.changed
    assert p.before == p.after


def test_save_alone_when_the_file_differs_from_the_tree():
    p = plan({"nqn": S1}, saved="{}")
    assert ops(p) == [["save", "/etc/nvmet/config.json"]]
    assert plan({"nqn": S1, "save": False}, saved="{}").actions == []


def test_unlisted_objects_kept_without_purge_removed_with_it():
    kept = plan({"nqn": S1, "namespaces": [{"nsid": 1}], "ports": [], "hosts": []})
    assert ops(kept) == []
    assert any("namespaces of %s not listed were kept" % S1 in n for n in kept.notes)
    purged = plan({"nqn": S1, "namespaces": [{"nsid": 1}], "ports": [], "hosts": [], "purge": True})
    assert ops(purged) == [
        ["unlink", "ports/1/subsystems/" + S1],
        ["unlink", "subsystems/%s/allowed_hosts/%s" % (S1, H1)],
        ["rmdir", "subsystems/%s/namespaces/2" % S1],
        ["rmdir", "ports/1"],                 # no subsystem left on it
        ["rmdir", "hosts/" + H1],             # no subsystem allows it any more
        ["save", "/etc/nvmet/config.json"],
    ]


def test_connected_subsystem_keeps_its_namespace_unless_forced():
    params = {"nqn": S1, "namespaces": [{"nsid": 1}], "purge": True}
    with pytest.raises(StrataError) as exc:
        plan(params, snapshot="one_subsystem_connected")
    assert "refusing to remove namespace 2 of subsystem %s: hosts may be connected" % S1 in exc.value.msg
    assert "controller nvme0 of this host" in exc.value.msg and "force_in_use" in exc.value.hint
    forced = plan(dict(params, force_in_use=True), snapshot="one_subsystem_connected")
    assert ["rmdir", "subsystems/%s/namespaces/2" % S1] in ops(forced)


def test_connected_subsystem_refuses_removal_disable_and_device_change():
    for params, words in (
            ({"nqn": S1, "state": "absent"}, "remove subsystem"),
            ({"nqn": S1, "namespaces": [{"nsid": 1, "enabled": False}]}, "disable namespace 1"),
            ({"nqn": S1, "namespaces": [{"nsid": 1, "device": "/dev/loop2"}]}, "change the device or identifiers"),
            ({"nqn": S1, "ports": [], "purge": True}, "take subsystem")):
        with pytest.raises(StrataError) as exc:
            plan(params, snapshot="one_subsystem_connected")
        assert words in exc.value.msg


def test_device_change_disables_writes_and_enables_again():
    p = plan({"nqn": S1, "namespaces": [{"nsid": 1, "device": "/dev/loop2", "nguid": "00112233445566778899aabbccddeeff"}]})
    assert ops(p)[:4] == [
        ["write", "subsystems/%s/namespaces/1/enable" % S1, "0"],
        ["write", "subsystems/%s/namespaces/1/device_path" % S1, "/dev/loop2"],
        ["write", "subsystems/%s/namespaces/1/device_nguid" % S1, "00112233-4455-6677-8899-aabbccddeeff"],
        ["write", "subsystems/%s/namespaces/1/enable" % S1, "1"],
    ]


def test_remove_subsystem_in_order():
    p = plan({"nqn": S1, "state": "absent"})
    assert ops(p) == [
        ["unlink", "ports/1/subsystems/" + S1],
        ["rmdir", "subsystems/%s/namespaces/1" % S1],
        ["rmdir", "subsystems/%s/namespaces/2" % S1],
        ["unlink", "subsystems/%s/allowed_hosts/%s" % (S1, H1)],
        ["rmdir", "subsystems/" + S1],
        ["rmdir", "ports/1"],
        ["rmdir", "hosts/" + H1],
        ["save", "/etc/nvmet/config.json"],
    ]
    assert p.after == {"state": "absent"}
    shared = plan({"nqn": S1, "state": "absent"}, snapshot="two_subsystems_shared_port")
    assert ["rmdir", "ports/1"] not in ops(shared)        # S2 still uses it
    assert plan({"nqn": NEW, "state": "absent"}).actions == []


def test_device_guard_refuses_another_vgs_pv_and_a_mounted_device():
    with pytest.raises(StrataError) as exc:
        plan({"nqn": NEW, "namespaces": [{"nsid": 1, "device": "/dev/loop7"}]}, kinds={"/dev/loop7": "lvm2_member"})
    assert "refusing to use /dev/loop7 as an NVMe namespace of %s" % NEW in exc.value.msg
    assert "LVM2_member" in exc.value.msg
    forced = plan({"nqn": NEW, "namespaces": [{"nsid": 1, "device": "/dev/loop7"}], "force": ["/dev/loop7"]},
                  kinds={"/dev/loop7": "lvm2_member"})
    assert ["write", "subsystems/%s/namespaces/1/device_path" % NEW, "/dev/loop7"] in ops(forced)
    with pytest.raises(StrataError) as exc:
        plan({"nqn": NEW, "namespaces": [{"nsid": 1, "device": "/dev/sdz"}], "force": ["/dev/sdz"]},
             kinds={"/dev/sdz": "mounted"})
    assert "is mounted on /srv" in exc.value.msg
    with pytest.raises(StrataError) as exc:
        plan({"nqn": NEW, "namespaces": [{"nsid": 1, "device": "/dev/loop0"}]})
    assert "it is already namespace 1 of %s" % S1 in exc.value.msg


@pytest.mark.parametrize("port,why", [
    ({"traddr": "203.0.113.9"}, "is not an address of this host"),
    ({"traddr": "0.0.0.0"}, "listens on every address"),
    ({"traddr": "storage.example.com"}, "is not an IP address"),
    ({}, "needs an explicit address"),
    ({"traddr": "127.0.0.1", "trsvcid": "70000"}, "out of range"),
    ({"traddr": "127.0.0.1", "adrfam": "ipv6"}, "is ipv4, not ipv6"),
    ({"trtype": "loop"}, "has no nvme-loop module (CONFIG_NVME_TARGET_LOOP is not set"),
    ({"trtype": "loop", "traddr": "127.0.0.1"}, "a loop port has no address"),
    ({"traddr": "127.0.0.1", "id": 5}, "tcp 127.0.0.1:4420 is already port 1, not port 5"),
])
def test_bad_ports_are_refused(port, why):
    with pytest.raises(StrataError) as exc:
        plan({"nqn": NEW, "ports": [port]})
    assert why in exc.value.msg


def test_loop_port_where_the_kernel_has_nvme_loop():
    p = plan({"nqn": NEW, "ports": [{"trtype": "loop"}]}, available=["nvme_loop"])
    assert ops(p)[0] == ["modprobe", "nvme-loop"]
    assert ["write", "ports/2/addr_trtype", "loop"] in ops(p)


def test_changing_a_shared_port_is_refused():
    with pytest.raises(StrataError) as exc:
        plan({"nqn": S1, "ports": [{"id": 1, "traddr": "192.0.2.10"}]}, snapshot="two_subsystems_shared_port")
    assert "port 1 is tcp 127.0.0.1:4420 and serves %s too" % S2 in exc.value.msg


def test_moving_an_own_port_unlinks_rewrites_relinks():
    p = plan({"nqn": S1, "ports": [{"id": 1, "traddr": "192.0.2.10"}]})
    assert ops(p)[:3] == [["unlink", "ports/1/subsystems/" + S1], ["write", "ports/1/addr_traddr", "192.0.2.10"],
                          ["symlink", "ports/1/subsystems/" + S1, "%s/subsystems/%s" % (C, S1)]]


def test_keys_refused_with_the_kernels_reason_on_6_1():
    with pytest.raises(StrataError) as exc:
        plan({"nqn": S1, "hosts": [{"nqn": H1, "dhchap_key": make_key()}]})
    assert "DH-HMAC-CHAP keys were given for host %s" % H1 in exc.value.msg
    assert "/sys/kernel/config/nvmet/hosts/%s/dhchap_key does not exist" % H1 in exc.value.msg
    assert make_key() not in exc.value.msg


def test_keys_written_secretly_where_the_kernel_has_auth():
    state, _snap = snapshot_state("one_subsystem")
    state.hosts[H1] = {"dhchap_key": "", "dhchap_ctrl_key": "", "dhchap_hash": "hmac(sha256)", "dhchap_dhgroup": "null"}
    key = make_key()
    req = tp.request_from_params({"nqn": S1, "hosts": [{"nqn": H1, "dhchap_key": key, "dhchap_hash": "hmac(sha512)"}]})
    p = tp.plan_subsystem(req, state, inspect_with({}), lambda x: x, is_local=lambda a: True, saved_text="",
                          config_text="")
    writes = [a for a in p.actions if isinstance(a, configfs.ConfigfsOp)]
    assert [(w.path.rsplit("/", 1)[1], w.secret) for w in writes] == [("dhchap_hash", False), ("dhchap_key", True)]
    reported = json.dumps([a.report() for a in p.actions]) + json.dumps(p.before) + json.dumps(p.after)
    assert key not in reported and "(secret)" in reported
    # the same key again: nothing to do
    state.hosts[H1].update(dhchap_key=key, dhchap_hash="hmac(sha512)")
    p = tp.plan_subsystem(req, state, inspect_with({}), lambda x: x, is_local=lambda a: True, saved_text="x",
                          config_text="x")
    assert p.actions == []


def test_allow_any_host_and_hosts_exclude_each_other():
    with pytest.raises(StrataError) as exc:
        plan({"nqn": NEW, "allow_any_host": True, "hosts": [{"nqn": H1}]})
    assert "exclude each other" in exc.value.msg
    with pytest.raises(StrataError) as exc:
        plan({"nqn": S1, "allow_any_host": True})
    assert "lists allowed hosts" in exc.value.msg
    p = plan({"nqn": S1, "allow_any_host": True, "hosts": [], "purge": True})
    assert ops(p)[:2] == [["unlink", "subsystems/%s/allowed_hosts/%s" % (S1, H1)],
                          ["write", "subsystems/%s/attr_allow_any_host" % S1, "1"]]


def test_allow_any_host_kept_with_a_warning_when_left_out():
    p = plan({"nqn": S2}, snapshot="two_subsystems_shared_port")
    assert p.actions == [] and any("allows any host" in w for w in p.warnings)


@pytest.mark.parametrize("params,why", [
    ({"nqn": "nqn.bad"}, "does not have the form"),
    ({"nqn": NEW, "namespaces": [{"nsid": 1}]}, "has no device to create it from"),
    ({"nqn": NEW, "namespaces": [{"nsid": 0, "device": "/dev/x"}]}, "out of range"),
    ({"nqn": NEW, "namespaces": [{"nsid": 1, "device": "dev/x"}]}, "not an absolute path"),
    ({"nqn": NEW, "namespaces": [{"nsid": 1, "device": "/dev/x"}, {"nsid": 1, "device": "/dev/y"}]}, "listed twice"),
    ({"nqn": NEW, "namespaces": [{"nsid": 1, "device": "/dev/x", "nguid": "12"}]}, "not 16 bytes"),
    ({"nqn": NEW, "serial": "x" * 21}, "serial number"),
    ({"nqn": NEW, "hosts": [{"nqn": "host1"}]}, "host NQN 'host1'"),
    ({"nqn": NEW, "hosts": [{"nqn": H1, "dhchap_ctrl_key": make_key()}]}, "without a host key"),
])
def test_bad_input(params, why):
    with pytest.raises(StrataError) as exc:
        plan(params)
    assert why in exc.value.msg


def test_serial_and_model_of_an_existing_subsystem_are_written_before_anything_else():
    """nvmet refuses them once a host has identified the subsystem (subsys_discovered), which configfs
    does not show: written first, a refusal leaves nothing half-done, with a hint saying why."""
    p = plan({"nqn": S1, "serial": "other0001", "model": "Strata",
              "namespaces": [{"nsid": 3, "device": "/dev/loop5"}], "hosts": [{"nqn": H2}]})
    assert ops(p)[:2] == [["write", "subsystems/%s/attr_serial" % S1, "other0001"],
                          ["write", "subsystems/%s/attr_model" % S1, "Strata"]]
    assert all("Can't set serial number" in a.hint or "Can't set model number" in a.hint for a in p.actions[:2])
    assert ["mkdir", "hosts/%s" % H2] in ops(p)[2:]


def test_serial_of_a_subsystem_hosts_are_connected_to_is_refused_even_with_force_in_use():
    with pytest.raises(StrataError) as exc:
        plan({"nqn": S1, "serial": "other0001", "force_in_use": True}, snapshot="one_subsystem_connected")
    assert "serial number of %s" % S1 in exc.value.msg and "hosts are connected" in exc.value.msg


def test_serial_of_a_new_subsystem_follows_its_mkdir():
    p = plan({"nqn": NEW, "serial": "SN1"})
    assert ops(p)[:2] == [["mkdir", "subsystems/%s" % NEW], ["write", "subsystems/%s/attr_serial" % NEW, "SN1"]]


@pytest.mark.parametrize("trsvcid,listener", [("22", "0.0.0.0:22"), ("2049", "0.0.0.0:2049"), ("111", "0.0.0.0:111")])
def test_a_port_another_program_listens_on_is_refused(trsvcid, listener):
    """Captured /proc/net/tcp: sshd (22), nfsd (2049) and rpcbind (111) listen on 0.0.0.0; nvmet-tcp's
    bind would fail with EADDRINUSE when the link enables the port."""
    with pytest.raises(StrataError) as exc:
        plan({"nqn": NEW, "ports": [{"traddr": "127.0.0.1", "trsvcid": trsvcid}]}, snapshot="empty")
    assert "another program listens on %s" % listener in exc.value.msg


def test_the_listener_of_an_enabled_nvmet_port_is_its_own():
    # one_subsystem: nvmet listens on 127.0.0.1:4420 (port 1, linked); a second subsystem joins it
    p = plan({"nqn": NEW, "ports": [{"traddr": "127.0.0.1", "trsvcid": "4420"}]})
    assert ["symlink", "ports/1/subsystems/%s" % NEW, C + "/subsystems/%s" % NEW] in ops(p)


def test_nguid_with_colons_as_nvmet_takes_it():
    p = plan({"nqn": NEW, "namespaces": [{"nsid": 1, "device": "/dev/loop5",
                                          "nguid": "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff"}]})
    assert ["write", "subsystems/%s/namespaces/1/device_nguid" % NEW, "00112233-4455-6677-8899-aabbccddeeff"] in ops(p)


def test_more_enabled_namespaces_than_nvmet_takes_are_refused():
    many = [{"nsid": i, "device": "/dev/d%d" % i} for i in range(1, tp.NVMET_MAX_NAMESPACES + 2)]
    with pytest.raises(StrataError) as exc:
        plan({"nqn": NEW, "namespaces": many})
    assert "enables at most 1024" in exc.value.msg


def test_a_serial_with_trailing_spaces_is_the_padded_one_the_kernel_shows():
    """nvmet pads the serial with spaces to 20 bytes (memcpy_and_pad) and the reader strips them:
    'capture0001 ' is what capture0001 already is, not a change (which nvmet refuses once discovered)."""
    p = plan({"nqn": S1, "serial": "capture0001  "})
    assert [o for o in ops(p) if o[0] == "write"] == [] and p.after["serial"] == p.before["serial"] == "capture0001"
