# -*- coding: utf-8 -*-
"""The boot-time restore script of the nvmeof_target role (roles/nvmeof_target/files), against
the save format of module_utils/nvmeof/configfs.py: what the module saves, the script brings back."""
from __future__ import annotations

import importlib.util
import json
import os

import pytest

from ansible_collections.strata.storage.plugins.module_utils.nvmeof import configfs
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.nvmeof.nvmet_fixtures import snapshot_state

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..", "roles", "nvmeof_target", "files",
                      "strata_nvmet_restore.py")


def load_script():
    spec = importlib.util.spec_from_file_location("strata_nvmet_restore", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


restore = load_script()


class FakeKernel(restore.Configfs):
    """A directory tree that behaves like nvmet's configfs on mkdir (default files and groups)."""

    DEFAULTS = {
        "subsystems": ({"attr_allow_any_host": "0", "attr_serial": "f00dcafe0000", "attr_model": "Linux",
                        "attr_version": "1.3", "attr_cntlid_min": "1", "attr_cntlid_max": "65519",
                        "attr_pi_enable": "0", "attr_qid_max": "128"}, ["allowed_hosts", "namespaces"]),
        "namespaces": ({"device_path": "", "device_uuid": "99999999-0000-0000-0000-000000000000",
                        "device_nguid": configfs.UNSET_NGUID, "enable": "0", "ana_grpid": "1", "buffered_io": "0"}, []),
        "ports": ({"addr_adrfam": "", "addr_trtype": "", "addr_traddr": "", "addr_trsvcid": "",
                   "addr_treq": "not specified", "param_inline_data_size": "-1", "param_pi_enable": "0"},
                  ["referrals", "subsystems", "ana_groups", "ana_groups/1"]),
        "hosts": ({}, []),
    }

    def mkdir(self, *parts):
        if os.path.isdir(self.path(*parts)):
            return
        os.mkdir(self.path(*parts))
        kind = str(parts[-2]) if len(parts) >= 2 else ""
        files, dirs = self.DEFAULTS.get(kind, ({}, []))
        for sub in dirs:
            os.mkdir(self.path(*parts + (sub,)))
        if kind == "ports":
            with open(self.path(*parts + ("ana_groups", "1", "ana_state")), "w") as handle:
                handle.write("optimized\n")
        for name, value in files.items():
            with open(self.path(*parts + (name,)), "w") as handle:
                handle.write(value + "\n")

    def write(self, value, *parts):
        if parts[-1] == "device_path" and self.read(*parts[:-1] + ("enable",)) == "1":
            raise OSError(16, "Device or resource busy")
        with open(self.path(*parts), "w") as handle:     # configfs replaces the value
            handle.write(str(value))


def fresh_kernel(tmp_path):
    root = tmp_path / "nvmet"
    for part in ("hosts", "ports", "subsystems"):
        (root / part).mkdir(parents=True)
    return FakeKernel(str(root))


@pytest.mark.parametrize("snapshot", ["one_subsystem", "two_subsystems_shared_port"])
def test_what_the_module_saves_comes_back(tmp_path, snapshot):
    state, _snap = snapshot_state(snapshot)
    saved = json.loads(configfs.config_text(state))
    kernel = fresh_kernel(tmp_path)
    loaded = []
    restorer = restore.Restorer(kernel, timeout=1, modprobe=lambda m: loaded.append(m) or True,
                                device_ready=lambda p: True, address_ready=lambda a: True, log=lambda m: None)
    assert restorer.restore(saved), restorer.errors
    assert loaded == ["nvmet", "nvmet-tcp"]
    restored = configfs.parse_tree(configfs.walk(kernel.root))
    assert configfs.to_config(restored) == saved
    # a second run (the unit restarted) changes nothing and reports nothing
    again = restore.Restorer(kernel, timeout=1, modprobe=lambda m: True, device_ready=lambda p: True,
                             address_ready=lambda a: True, log=lambda m: None)
    assert again.restore(saved) and configfs.to_config(configfs.parse_tree(configfs.walk(kernel.root))) == saved


def test_missing_device_leaves_the_namespace_disabled_and_fails_loudly(tmp_path):
    state, _snap = snapshot_state("one_subsystem")
    saved = json.loads(configfs.config_text(state))
    kernel = fresh_kernel(tmp_path)
    logged = []
    restorer = restore.Restorer(kernel, timeout=0.2, modprobe=lambda m: True, device_ready=lambda p: p != "/dev/loop0",
                                address_ready=lambda a: True, log=logged.append)
    assert not restorer.restore(saved)
    assert any("/dev/loop0 did not appear" in line for line in logged)
    sub = configfs.parse_tree(configfs.walk(kernel.root)).subsystem("nqn.2014-08.org.example:capture.s1")
    assert sub["namespaces"][1]["enable"] == "0" and sub["namespaces"][1]["device_path"] == "/dev/loop0"
    assert sub["allowed_hosts"] == ["nqn.2014-08.org.example:capture.host1"]    # the rest is restored


def test_port_waits_for_its_address(tmp_path):
    state, _snap = snapshot_state("one_subsystem")
    saved = json.loads(configfs.config_text(state))
    kernel = fresh_kernel(tmp_path)
    calls = []

    def address_ready(address):
        calls.append(address)
        return len(calls) > 2          # assigned a moment later (networkd)
    restorer = restore.Restorer(kernel, timeout=5, modprobe=lambda m: True, device_ready=lambda p: True,
                                address_ready=address_ready, log=lambda m: None)
    assert restorer.restore(saved)
    assert calls == ["127.0.0.1"] * 3
    assert os.path.islink(kernel.path("ports", 1, "subsystems", "nqn.2014-08.org.example:capture.s1"))


def test_main_reads_the_file_and_reports(tmp_path, capsys):
    assert restore.main(["--config", str(tmp_path / "absent.json")]) == 1
    assert "cannot read" in capsys.readouterr().err
