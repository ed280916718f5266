# -*- coding: utf-8 -*-
"""nvmet against the VM's real kernel, without Ansible (the nvmeof scenario runs this in one SSH
call): the configfs reader, plan -> execute -> re-read with nothing left to do, check mode =
real run, a failure the kernel raises half-way rolled back by core's undo, connected hosts seen
through /proc/net/tcp and /sys/class/nvme, the boot restore script against real configfs, the
kernel refusing a serial change once a host identified the subsystem, and the auth facts.

Scratch subsystems use their own NQNs and ports 4421-4423 on 127.0.0.1, so the scenario's own
subsystem (port 4420, a connected host) is never touched."""
from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import uuid

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInspector, device_key
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.module_support import _rollback
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Runner
from ansible_collections.strata.storage.plugins.module_utils.nvmeof import configfs
from ansible_collections.strata.storage.plugins.module_utils.nvmeof import target_planner as tp

from conftest import LocalModule

HERE = os.path.dirname(os.path.abspath(__file__))
RESTORE = os.path.join(HERE, "..", "..", "roles", "nvmeof_target", "files", "strata_nvmet_restore.py")
HOST = "nqn.2014-08.org.example:live.host"


@pytest.fixture(scope="module", autouse=True)
def nvmet_loaded():
    subprocess.run(["modprobe", "-a", "nvmet", "nvmet-tcp", "nvme-tcp"], check=True)


@pytest.fixture
def nqn():
    """A scratch subsystem NQN; whatever a test leaves under it is removed afterwards."""
    name = "nqn.2014-08.org.example:live.%s" % uuid.uuid4().hex[:8]
    yield name
    subprocess.run(["nvme", "disconnect", "-n", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    runner = Runner(LocalModule())
    state = configfs.read_state(runner)
    if state.subsystem(name):
        plan = tp.plan_subsystem(tp.request_from_params({"nqn": name, "state": "absent", "force_in_use": True,
                                                         "save": False}), state, None, device_key)
        configfs.execute(runner, plan.actions)


@pytest.fixture
def loops(tmp_path):
    """make(count, size) -> loop devices on sparse files (no LVM on them: teardown is a detach)."""
    made = []

    def make(count, size):
        out = []
        for index in range(count):
            path = str(tmp_path / ("ns%d.img" % index))
            subprocess.run(["truncate", "-s", size, path], check=True)
            dev = subprocess.run(["losetup", "--find", "--show", path], check=True,
                                 stdout=subprocess.PIPE).stdout.decode().strip()
            made.append(dev)
            out.append(dev)
        return out
    yield make
    for dev in made:
        subprocess.run(["losetup", "-d", dev], check=False)


def apply(params, check=False):
    runner = Runner(LocalModule(check_mode=check))
    state = configfs.read_state(runner)
    req = tp.request_from_params(dict({"save": False}, **params))
    plan = tp.plan_subsystem(req, state, DeviceInspector(runner).inspect, device_key)
    configfs.execute(runner, plan.actions)
    return runner, plan


def params_for(nqn, devices, port="4421"):
    return {"nqn": nqn, "serial": "live%s" % nqn[-4:],
            "namespaces": [{"nsid": i + 1, "device": dev} for i, dev in enumerate(devices)],
            "ports": [{"traddr": "127.0.0.1", "trsvcid": port}], "hosts": [{"nqn": HOST}]}


def test_plan_execute_reread_is_a_fixed_point_check_mode_is_honest_restore_brings_it_back(nqn, loops, tmp_path):
    devs = loops(2, "32M")
    check_runner, check_plan = apply(params_for(nqn, devs), check=True)
    assert configfs.read_state(Runner(LocalModule())).subsystem(nqn) is None      # check mode wrote nothing
    runner, plan = apply(params_for(nqn, devs))
    assert runner.actions == check_runner.actions        # the same ops, reported the same way
    state = configfs.read_state(Runner(LocalModule()))
    summary = tp.summary(state, nqn)
    assert summary["serial"] == "live%s" % nqn[-4:] and summary["allow_any_host"] is False
    assert [ns["device"] for ns in summary["namespaces"]] == devs and all(ns["enabled"] for ns in summary["namespaces"])
    assert summary["ports"][0]["traddr"] == "127.0.0.1" and summary["hosts"] == [{"nqn": HOST}]
    # what the kernel now holds is exactly what was asked: nothing left to do, no process started
    again, plan2 = apply(params_for(nqn, devs))
    assert plan2.actions == [] and again.reads == [again.reads[0]] and again.reads[0][:2] == ["configfs", "read"]
    # the kernel's own files agree with the reader
    base = "/sys/kernel/config/nvmet/subsystems/%s" % nqn
    assert open(base + "/attr_allow_any_host").read().strip() == "0"
    assert open(base + "/namespaces/2/device_path").read().strip() == devs[1]
    assert os.path.islink(base + "/allowed_hosts/" + HOST)
    # the boot restore script brings the removed subsystem back exactly (twice: the unit restarted)
    saved = configfs.config_text(configfs.read_state(Runner(LocalModule())))
    path = tmp_path / "config.json"
    path.write_text(saved)
    apply({"nqn": nqn, "state": "absent"})
    assert configfs.read_state(Runner(LocalModule())).subsystem(nqn) is None
    spec = importlib.util.spec_from_file_location("strata_nvmet_restore", RESTORE)
    restore = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(restore)
    for _attempt in range(2):
        assert restore.main(["--config", str(path), "--timeout", "10"]) == 0
        assert configfs.config_text(configfs.read_state(Runner(LocalModule()))) == saved


def test_kernel_failure_half_way_is_rolled_back(nqn, loops):
    (dev,) = loops(1, "32M")
    before = configfs.config_text(configfs.read_state(Runner(LocalModule())))
    request = tp.request_from_params(dict(params_for(nqn, [dev], port="4423"), save=False))
    runner = Runner(LocalModule())
    state = configfs.read_state(runner)             # planned while the port is free...
    plan = tp.plan_subsystem(request, state, DeviceInspector(runner).inspect, device_key)
    busy = socket.socket()
    busy.bind(("127.0.0.1", 4423))
    busy.listen(1)
    try:
        # ...a plan made now is refused: the reader sees the listener in the kernel's /proc/net/tcp
        with pytest.raises(StrataError) as exc:
            tp.plan_subsystem(request, configfs.read_state(Runner(LocalModule())), DeviceInspector(runner).inspect,
                              device_key)
        assert "another program listens on 127.0.0.1:4423" in exc.value.msg
        with pytest.raises(StrataError) as exc:      # the port was taken after planning: nvmet cannot listen
            configfs.execute(runner, plan.actions)
        assert "offer %s on port" % nqn in exc.value.msg
        message = _rollback(runner)
    finally:
        busy.close()
    assert message.startswith("what this run had created was removed again")
    assert runner.rolled_back and not [e for e in runner.rolled_back if "failed" in e]
    assert runner.rolled_back[0]["cmd"][0] == "rmdir" and "/ports/" in runner.rolled_back[0]["cmd"][1]   # newest first
    assert configfs.config_text(configfs.read_state(Runner(LocalModule()))) == before


def test_connected_host_is_seen_and_protects_its_namespaces(nqn, loops):
    devs = loops(2, "32M")
    apply(params_for(nqn, devs, port="4422"))
    subprocess.run(["nvme", "connect", "-t", "tcp", "-a", "127.0.0.1", "-s", "4422", "-n", nqn, "-q", HOST,
                    "--config", "none"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["udevadm", "settle"], check=False)
    state = configfs.read_state(Runner(LocalModule()))
    reasons = state.in_use(nqn)
    assert any("of this host is connected" in r for r in reasons) and any("established TCP" in r for r in reasons)
    with pytest.raises(StrataError) as exc:
        apply(dict(params_for(nqn, devs[:1], port="4422"), purge=True))
    assert "refusing to remove namespace 2" in exc.value.msg
    # the kernel keeps the serial once a host identified the subsystem: refused while it is connected...
    with pytest.raises(StrataError) as exc:
        apply(dict(params_for(nqn, devs, port="4422"), serial="changed1"))
    assert "refusing to change the serial number of %s" % nqn in exc.value.msg
    subprocess.run(["nvme", "disconnect", "-n", nqn], check=True, stdout=subprocess.DEVNULL)
    assert configfs.read_state(Runner(LocalModule())).in_use(nqn) == []
    # ...and after it left, the kernel still refuses; the write comes first, so nothing else changed
    before = configfs.config_text(configfs.read_state(Runner(LocalModule())))
    with pytest.raises(StrataError) as exc:
        apply(dict(params_for(nqn, devs, port="4422"), serial="changed1", hosts=[{"nqn": HOST + "2"}]))
    assert "set the serial number of %s to changed1 failed" % nqn in exc.value.msg
    assert "Can't set serial number" in exc.value.hint
    assert configfs.config_text(configfs.read_state(Runner(LocalModule()))) == before


def test_auth_and_loop_facts_are_the_kernels(nqn):
    apply({"nqn": nqn, "hosts": [{"nqn": HOST}]})
    state = configfs.read_state(Runner(LocalModule()))
    has_key_file = os.path.exists("/sys/kernel/config/nvmet/hosts/%s/dhchap_key" % HOST)
    supported, reason = state.facts.target_auth(state)
    assert supported is has_key_file
    if not has_key_file:
        assert "dhchap_key does not exist" in reason
    loop_ko = subprocess.run(["modinfo", "nvme-loop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             check=False).returncode == 0
    assert state.facts.module_available("nvme-loop") is loop_ko
    assert tp.is_local_address("127.0.0.1") and not tp.is_local_address("192.0.2.99")
