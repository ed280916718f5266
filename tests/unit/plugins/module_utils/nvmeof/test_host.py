# -*- coding: utf-8 -*-
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Runner
from ansible_collections.strata.storage.plugins.module_utils.nvmeof import host
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.nvmeof.nvmet_fixtures import SnapshotFacts, snapshots
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.nvmeof.test_names import make_key

S1 = "nqn.2014-08.org.example:capture.s1"
H1 = "nqn.2014-08.org.example:capture.host1"


def fake_sysfs(tmp_path, snap, hostnqn=H1, config=None, mounted=None):
    """A /sys, /proc and /etc/nvme tree holding what the capture saw."""
    sysfs, proc, etc = tmp_path / "sys", tmp_path / "proc", tmp_path / "etc"
    (sysfs / "class" / "nvme").mkdir(parents=True)
    (sysfs / "block").mkdir()
    (proc / "self").mkdir(parents=True)
    etc.mkdir()
    for ctrl in snap["controllers"]:
        base = sysfs / "class" / "nvme" / ctrl["name"]
        base.mkdir()
        for entry in ctrl["entries"]:
            if entry not in ctrl:
                (base / entry).mkdir()
        for key, value in ctrl.items():
            if key not in ("name", "entries", "auth"):
                (base / key).write_text(value + "\n")
    for name, attrs in snap["blocks"].items():
        (sysfs / "block" / name / "holders").mkdir(parents=True)
        for key, value in attrs.items():
            if value is not None:
                (sysfs / "block" / name / key).write_text(value)
    (etc / "hostnqn").write_text(hostnqn + "\n")
    (etc / "hostid").write_text("1194e91c-ec41-4c1c-8881-615eff1f759f\n")
    if config is not None:
        (etc / "config.json").write_text(config)
    mountinfo = "22 1 254:1 / / rw - ext4 /dev/vda rw\n"
    if mounted:
        mountinfo += "99 22 %s / /mnt/nvme rw - ext4 /dev/nvme0n1 rw\n" % mounted
    (proc / "self" / "mountinfo").write_text(mountinfo)
    return str(sysfs), str(proc), str(etc)


class Module:
    check_mode = False


def read(tmp_path, name="one_subsystem_connected", **kw):
    sysfs, proc, etc = fake_sysfs(tmp_path, snapshots()[name], **kw)
    runner = Runner(Module())
    return host.read_state(runner, sysfs=sysfs, proc=proc, nvme_dir=etc), runner


def facts(name="one_subsystem_connected", **kw):
    f = SnapshotFacts(snapshots()[name], **kw)
    f.refresh()
    return f


def req(**params):
    return host.request_from_params(params)


def test_reader_finds_the_controller_and_its_namespace(tmp_path):
    state, runner = read(tmp_path)
    assert state.hostnqn == H1 and state.hostid == "1194e91c-ec41-4c1c-8881-615eff1f759f"
    report = host.controllers_report(state)
    assert report == [{
        "name": "nvme0", "subsysnqn": S1, "transport": "tcp", "traddr": "127.0.0.1", "trsvcid": "4420",
        "src_addr": "127.0.0.1", "hostnqn": H1, "state": "live", "cntlid": "1", "type": "io",
        "namespaces": [{"name": "nvme0n1", "device": "/dev/nvme0n1", "nsid": 1, "size": 67108864,
                        "uuid": "11111111-2222-3333-4444-555555555555",
                        "wwid": "uuid.11111111-2222-3333-4444-555555555555"}]}]
    assert runner.reads[0][:2] == ["sysfs", "read"] and len(runner.reads) == 1


def test_connected_is_no_change(tmp_path):
    state, _r = read(tmp_path, config=json.dumps([{"hostnqn": H1, "hostid": "1194e91c-ec41-4c1c-8881-615eff1f759f",
                                                  "subsystems": [{"nqn": S1, "ports": [
                                                      {"transport": "tcp", "traddr": "127.0.0.1", "trsvcid": "4420"}]}]}]))
    plan = host.plan_host(req(subsystems=[{"nqn": S1, "traddr": "127.0.0.1"}]), state, facts())
    assert plan.actions == []


def test_connect_argv_and_persistence_written_last(tmp_path):
    state, _r = read(tmp_path, name="one_subsystem")
    plan = host.plan_host(req(hostnqn="nqn.2014-08.org.example:new", subsystems=[
        {"nqn": S1, "traddr": "127.0.0.1", "ctrl_loss_tmo": -1}]), state, facts("one_subsystem"))
    assert [a.description.split(" ")[0] for a in plan.actions] == ["set", "connect", "write"]
    assert plan.actions[1].cmd == [
        "nvme", "connect", "--transport", "tcp", "--traddr", "127.0.0.1", "--trsvcid", "4420", "--nqn", S1,
        "--hostnqn", "nqn.2014-08.org.example:new", "--hostid", "1194e91c-ec41-4c1c-8881-615eff1f759f",
        "--ctrl-loss-tmo", "-1", "--config", "none", "--output-format", "json"]
    saved = json.loads(plan.actions[2].content)
    assert saved == [{"hostnqn": "nqn.2014-08.org.example:new", "hostid": "1194e91c-ec41-4c1c-8881-615eff1f759f",
                      "subsystems": [{"nqn": S1, "ports": [{"transport": "tcp", "traddr": "127.0.0.1",
                                                            "trsvcid": "4420", "ctrl_loss_tmo": -1}]}]}]
    assert plan.actions[2].mode == 0o600


def test_secret_goes_through_a_private_file_never_argv(tmp_path):
    state, _r = read(tmp_path, name="one_subsystem")
    key = make_key()
    plan = host.plan_host(req(subsystems=[{"nqn": S1, "traddr": "127.0.0.1", "dhchap_secret": key, "persistent": False}]),
                          state, facts("one_subsystem", kernel_config={"CONFIG_NVME_AUTH": "CONFIG_NVME_AUTH=m"}))
    write, connect, remove = plan.actions
    assert write.path == host.CONNECT_JSON and write.mode == 0o600 and key in write.content
    assert connect.cmd[-4:] == ["--config", host.CONNECT_JSON, "--output-format", "json"]
    assert key not in json.dumps(connect.cmd) and isinstance(remove, host.FileRemoval)
    reported = json.dumps([a.report() for a in plan.actions]) + json.dumps(plan.before) + json.dumps(plan.after)
    assert key not in reported


def test_secret_refused_with_the_kernels_reason(tmp_path):
    state, _r = read(tmp_path, name="one_subsystem")
    with pytest.raises(StrataError) as exc:
        host.plan_host(req(subsystems=[{"nqn": S1, "traddr": "127.0.0.1", "dhchap_secret": make_key()}]), state,
                       facts("one_subsystem"))
    assert "CONFIG_NVME_AUTH is not set" in exc.value.msg and make_key() not in exc.value.msg


def test_disconnect_refused_while_mounted_unless_forced(tmp_path):
    state, _r = read(tmp_path, mounted="259:1")
    params = dict(subsystems=[{"nqn": S1, "traddr": "127.0.0.1", "state": "disconnected"}])
    with pytest.raises(StrataError) as exc:
        host.plan_host(req(**params), state, facts())
    assert "refusing to disconnect %s (tcp 127.0.0.1:4420) (nvme0): /dev/nvme0n1 is mounted on /mnt/nvme" % S1 in exc.value.msg
    plan = host.plan_host(req(force_in_use=True, **params), state, facts())
    assert [a.cmd for a in plan.actions] == [["nvme", "disconnect", "--device", "nvme0"]]


def test_disconnect_removes_only_its_persistent_entry(tmp_path):
    other = {"transport": "tcp", "traddr": "192.0.2.1", "trsvcid": "4420"}
    config = [{"hostnqn": H1, "subsystems": [
        {"nqn": S1, "ports": [{"transport": "tcp", "traddr": "127.0.0.1", "trsvcid": "4420"}, other]},
        {"nqn": "nqn.2014-08.org.example:other", "ports": [other]}]}]
    state, _r = read(tmp_path, config=json.dumps(config))
    plan = host.plan_host(req(subsystems=[{"nqn": S1, "traddr": "127.0.0.1", "state": "disconnected"}]), state, facts())
    assert plan.actions[0].cmd == ["nvme", "disconnect", "--device", "nvme0"]
    saved = json.loads(plan.actions[1].content)
    assert saved == [{"hostnqn": H1, "hostid": "1194e91c-ec41-4c1c-8881-615eff1f759f", "subsystems": [
        {"nqn": S1, "ports": [other]}, {"nqn": "nqn.2014-08.org.example:other", "ports": [other]}]}]


def test_second_host_nqn_to_the_same_address_refused(tmp_path):
    state, _r = read(tmp_path)
    with pytest.raises(StrataError) as exc:
        host.plan_host(req(subsystems=[{"nqn": S1, "traddr": "127.0.0.1", "hostnqn": "nqn.2014-08.org.example:x",
                                        "persistent": False}]), state, facts())
    assert "already connected" in exc.value.msg


@pytest.mark.parametrize("params,why", [
    ({"subsystems": [{"nqn": S1}]}, "needs the target's address"),
    ({"subsystems": [{"nqn": S1, "traddr": "127.0.0.1", "trsvcid": "x"}]}, "is not a TCP port"),
    ({"subsystems": [{"nqn": S1, "transport": "loop", "traddr": "127.0.0.1"}]}, "a loop connection has no address"),
    ({"subsystems": [{"nqn": "bad"}]}, "subsystem NQN 'bad'"),
    ({"hostnqn": "nqn.2014-08.org.nvmexpress.discovery"}, "discovery subsystem"),
    ({"hostid": "nope"}, "host ID 'nope' is not a UUID"),
    ({"subsystems": [{"nqn": S1, "traddr": "127.0.0.1", "dhchap_secret": "oops"}]}, "is not of the form"),
    ({"subsystems": [{"nqn": S1, "traddr": "127.0.0.1", "hostnqn": "nqn.2014-08.org.example:x"}]}, "cannot be persistent"),
])
def test_bad_input(tmp_path, params, why):
    with pytest.raises(StrataError) as exc:
        state, _r = read(tmp_path, name="one_subsystem")
        host.plan_host(req(**params), state, facts("one_subsystem"))
    assert why in exc.value.msg


def test_execute_removes_the_secret_file_and_stacks_a_disconnect(tmp_path, monkeypatch):
    secret_file = tmp_path / "run" / "connect.json"
    monkeypatch.setattr(host, "RUN_DIR", str(tmp_path / "run"))
    monkeypatch.setattr(host, "CONNECT_JSON", str(secret_file))

    class RunModule:
        check_mode = False

        def get_bin_path(self, name, required=False, opt_dirs=None):
            return "/usr/sbin/" + name

        def run_command(self, cmd, **kw):
            assert secret_file.exists() and oct(secret_file.stat().st_mode & 0o777) == "0o600"
            return 0, '{"device": "nvme3"}', ""
    runner = Runner(RunModule())
    conn = host.Connection(nqn=S1, traddr="127.0.0.1", trsvcid="4420", dhchap_secret=make_key())
    connect = host.Action("connect", cmd=["nvme", "connect"])
    connect.connection = conn

    def writer(path, content, mode):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, mode)
        os.write(fd, content.encode())
        os.close(fd)
    host.execute(runner, [host.Action("secret", path=str(secret_file), content="{}", mode=0o600), connect,
                          host.FileRemoval("remove", str(secret_file))], writer)
    assert not secret_file.exists()
    assert [u.cmd for u in runner.undo_stack] == [["nvme", "disconnect", "--device", "nvme3"]]


def test_the_connect_time_secret_file_keeps_no_copies(monkeypatch):
    """Its copies would outlive the file, which is removed right after the connect; the rest keep 3."""
    calls = []
    monkeypatch.setattr(host.atomic, "write_atomic",
                        lambda path, content, mode=0o644, keep_backups=0: calls.append((path, mode, keep_backups)))
    monkeypatch.setattr("ansible_collections.strata.storage.plugins.module_utils.core.module_support.write_atomic",
                        lambda path, content, mode=0o644, keep_backups=0: calls.append((path, mode, keep_backups)))
    host.write_file(host.CONNECT_JSON, "x", 0o600)
    host.write_file(host.CONFIG_JSON, "x", 0o600)
    host.write_file(host.HOSTNQN_FILE, "x", 0o644)
    assert calls == [(host.CONNECT_JSON, 0o600, 0), (host.CONFIG_JSON, 0o600, 3), (host.HOSTNQN_FILE, 0o644, 3)]


@pytest.mark.parametrize("iface,ok", [("eth0", True), ("eth9", False), ("../class", False), ("a" * 16, False)])
def test_host_iface_must_be_an_interface_of_this_host(tmp_path, iface, ok):
    state, _r = read(tmp_path, name="one_subsystem")
    (tmp_path / "sys" / "class" / "net" / "eth0").mkdir(parents=True)
    f = facts("one_subsystem")
    f.sysfs = str(tmp_path / "sys")
    request = req(subsystems=[{"nqn": S1, "traddr": "127.0.0.1", "host_iface": iface, "persistent": False}])
    if ok:
        assert host.plan_host(request, state, f).actions[-1].cmd[:2] == ["nvme", "connect"]
        return
    with pytest.raises(StrataError) as exc:
        host.plan_host(request, state, f)
    assert "is not a network interface of this host" in exc.value.msg


def test_a_discovery_host_nqn_is_checked():
    with pytest.raises(StrataError) as exc:
        req(discover=[{"traddr": "127.0.0.1", "hostnqn": "host1"}])
    assert "host NQN of a discovery 'host1'" in exc.value.msg
