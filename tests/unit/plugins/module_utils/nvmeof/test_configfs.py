# -*- coding: utf-8 -*-
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Runner
from ansible_collections.strata.storage.plugins.module_utils.nvmeof import configfs
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.nvmeof.nvmet_fixtures import (
    SnapshotFacts, snapshot_state, snapshots)

S1 = "nqn.2014-08.org.example:capture.s1"
S2 = "nqn.2014-08.org.example:capture.s2"
H1 = "nqn.2014-08.org.example:capture.host1"


def test_empty_tree_is_loaded_but_holds_nothing():
    state, _snap = snapshot_state("empty")
    assert state.loaded and not state.subsystems and not state.ports and not state.hosts


def test_one_subsystem_parsed_from_the_captured_tree():
    state, _snap = snapshot_state("one_subsystem")
    sub = state.subsystem(S1)
    assert sub["attr"]["serial"] == "capture0001"      # the kernel pads it to 20 with spaces
    assert sub["attr"]["allow_any_host"] == "0"
    assert sub["allowed_hosts"] == [H1]
    assert sorted(sub["namespaces"]) == [1, 2]
    assert sub["namespaces"][1]["device_uuid"] == "11111111-2222-3333-4444-555555555555"
    assert sub["namespaces"][1]["enable"] == "1" and sub["namespaces"][2]["enable"] == "0"
    assert "revalidate_size" not in sub["namespaces"][1]      # write-only: left out
    assert state.ports[1]["addr"] == {"adrfam": "ipv4", "traddr": "127.0.0.1", "treq": "not specified",
                                      "trsvcid": "4420", "trtype": "tcp"}
    assert state.ports[1]["subsystems"] == [S1]
    assert state.ports_of(S1) == [1]
    assert state.hosts == {H1: {}}      # no dhchap_* attributes: no nvmet auth in this kernel


def test_shared_port_and_nguid():
    state, _snap = snapshot_state("two_subsystems_shared_port")
    assert state.ports[1]["subsystems"] == [S1, S2]
    ns = state.subsystem(S2)["namespaces"][7]
    assert ns["device_nguid"] == "01234567-89ab-cdef-0123-456789abcdef"
    assert state.subsystem(S2)["attr"]["allow_any_host"] == "1"
    assert state.subsystem(S2)["attr"]["model"] == "CaptureModel"
    assert state.subsystems_allowing(H1) == [S1]


def test_connected_host_seen_through_tcp_and_local_controller():
    state, _snap = snapshot_state("one_subsystem_connected")
    reasons = state.in_use(S1)
    assert any("controller nvme0 of this host" in r for r in reasons)
    assert any("port 1 (tcp 127.0.0.1:4420) has 3 established TCP connections" in r for r in reasons), reasons
    idle, _snap = snapshot_state("one_subsystem")
    assert idle.in_use(S1) == []


def test_proc_net_tcp_parsing_ipv4_and_ipv6():
    text = ("  sl  local_address rem_address   st\n"
            "   0: 0100007F:1144 0100007F:AF0A 01 0\n"
            "   1: 00000000:0016 00000000:0000 0A 0\n")
    assert configfs.parse_proc_net_tcp(text) == [("127.0.0.1", 4420, "01"), ("0.0.0.0", 22, "0A")]
    text6 = ("  sl  local_address                         remote_address                        st\n"
             "   0: 00000000000000000000000001000000:1144 00000000000000000000000001000000:D431 01 0\n")
    assert configfs.parse_proc_net_tcp(text6, ipv6=True) == [("::1", 4420, "01")]


def test_config_is_nvmetcli_layout_and_stable():
    state, _snap = snapshot_state("two_subsystems_shared_port")
    config = configfs.to_config(state)
    assert sorted(config) == ["hosts", "ports", "subsystems"]
    port = config["ports"][0]
    assert port["portid"] == 1 and port["addr"]["trtype"] == "tcp" and port["subsystems"] == [S1, S2]
    assert port["ana_groups"] == [{"grpid": 1, "ana": {"state": "optimized"}}]
    sub = [s for s in config["subsystems"] if s["nqn"] == S1][0]
    assert sub["attr"]["serial"] == "capture0001"
    assert sub["namespaces"][0] == {"nsid": 1, "enable": 1, "ana_grpid": 1, "buffered_io": 0,
                                    "device": {"path": "/dev/loop0", "uuid": "11111111-2222-3333-4444-555555555555",
                                               "nguid": "00000000-0000-0000-0000-000000000000"}}
    assert configfs.config_text(state) == configfs.config_text(state)
    assert json.loads(configfs.config_text(state)) == config


def test_kernel_facts_say_why_there_is_no_auth():
    state, _snap = snapshot_state("one_subsystem")
    supported, reason = state.facts.target_auth(state)
    assert supported is False
    assert "/sys/kernel/config/nvmet/hosts/%s/dhchap_key does not exist" % H1 in reason
    assert "CONFIG_NVME_TARGET_AUTH is not set" in reason
    empty, _snap = snapshot_state("empty")
    supported, reason = empty.facts.target_auth(empty)
    assert supported is False and "CONFIG_NVME_TARGET_AUTH is not set" in reason
    host_ok, why = state.facts.host_auth()
    assert host_ok is False and "CONFIG_NVME_AUTH is not set" in why


def test_auth_seen_from_a_host_entry_with_dhchap_key():
    state, _snap = snapshot_state("one_subsystem")
    state.hosts[H1]["dhchap_key"] = ""
    assert state.facts.target_auth(state)[0] is True


def test_kernel_facts_from_files(tmp_path):
    (tmp_path / "boot").mkdir()
    (tmp_path / "boot" / "config-9.9").write_text("CONFIG_NVME_TARGET_AUTH=y\n# CONFIG_NVME_TARGET_LOOP is not set\n")
    mods = tmp_path / "lib" / "9.9"
    mods.mkdir(parents=True)
    (mods / "modules.dep").write_text("kernel/drivers/nvme/target/nvmet-tcp.ko.xz: kernel/drivers/nvme/target/nvmet.ko.xz\n")
    (tmp_path / "sys" / "module" / "nvmet").mkdir(parents=True)
    facts = configfs.KernelFacts(sysfs=str(tmp_path / "sys"), proc=str(tmp_path / "proc"), boot=str(tmp_path / "boot"),
                                 lib_modules=str(tmp_path / "lib"), release="9.9", configfs_root=str(tmp_path / "cfs"))
    facts.refresh()
    assert facts.kernel_config("CONFIG_NVME_TARGET_AUTH") == "y"
    assert facts.kernel_config("CONFIG_NVME_TARGET_LOOP") == "n"
    assert facts.module_loaded("nvmet") and not facts.module_loaded("nvmet-tcp")
    assert facts.module_available("nvmet-tcp") is True
    assert facts.module_available("nvme-loop") is False
    assert facts.sockets == [] and facts.controllers == [] and not facts.configfs_present


def test_walk_reads_files_links_and_skips_write_only(tmp_path):
    root = tmp_path / "nvmet"
    (root / "subsystems" / "s" / "allowed_hosts").mkdir(parents=True)
    (root / "hosts" / "h").mkdir(parents=True)
    (root / "subsystems" / "s" / "attr_serial").write_text("abc   \n")
    os.symlink(str(root / "hosts" / "h"), str(root / "subsystems" / "s" / "allowed_hosts" / "h"))
    wo = root / "subsystems" / "s" / "revalidate_size"
    wo.write_text("")
    os.chmod(str(wo), 0o200)
    files = configfs.walk(str(root))
    assert files["subsystems/s/allowed_hosts/h"] == {"type": "link", "target": "h"}
    assert files["subsystems/s/attr_serial"] == {"type": "file", "value": "abc   "}
    if os.geteuid() != 0:        # root reads a 0200 file anyway
        assert "subsystems/s/revalidate_size" not in files
    assert configfs.walk(str(tmp_path / "absent")) == {}


def test_read_state_is_one_python_read_listed_in_reads(tmp_path):
    class Module:
        check_mode = False
    runner = Runner(Module())
    snap = snapshots()["one_subsystem"]
    state = configfs.read_state(runner, root=str(tmp_path / "nothing"), facts=SnapshotFacts(snap))
    assert runner.reads == [["configfs", "read", str(tmp_path / "nothing"), "/proc/net/tcp", "/proc/net/tcp6",
                             "/sys/class/nvme"]]
    assert not state.subsystems


def test_execute_applies_ops_records_them_and_stacks_undo(tmp_path):
    class Module:
        check_mode = False
    runner = Runner(Module())
    path = str(tmp_path / "sub")
    configfs.execute(runner, [configfs.mkdir_op("create sub", path, "sub")])
    open(path + "/dhchap_key", "w").close()      # configfs makes the attribute files itself
    configfs.execute(runner, [configfs.ConfigfsOp("set key", "write", path + "/dhchap_key", value="DHHC-1:00:secret:",
                                                  secret=True)])
    assert open(path + "/dhchap_key").read() == "DHHC-1:00:secret:"
    assert runner.actions[1] == {"description": "set key", "configfs": "write", "path": path + "/dhchap_key",
                                 "value": "(secret)"}
    assert "secret:" not in json.dumps(runner.actions)
    assert [u.cmd for u in runner.undo_stack] == [["rmdir", path]]
    with pytest.raises(StrataError) as exc:
        configfs.execute(runner, [configfs.ConfigfsOp("create again", "mkdir", path)])
    assert "create again failed: mkdir %s: File exists" % path in exc.value.msg


def test_check_mode_records_and_changes_nothing(tmp_path):
    class Module:
        check_mode = True
    runner = Runner(Module())
    configfs.execute(runner, [configfs.mkdir_op("create sub", str(tmp_path / "x"), "x")])
    assert not os.path.exists(str(tmp_path / "x")) and runner.undo_stack == []
    assert runner.actions == [{"description": "create sub", "configfs": "mkdir", "path": str(tmp_path / "x")}]
