# -*- coding: utf-8 -*-
"""md RAID against the VM's real kernel and mdadm, many round trips in one SSH call.

Run by the md scenario's verify (extensions/molecule/md) as
    python3 tests/live/run.py test_md_live.py
and skipped when the live suite runs everything (it would run twice in CI otherwise).

Each test plans with the md planner, runs through the same md layout code the modules use
(a stand-in module object, no Ansible), and checks the result with mdadm and sysfs
themselves: the shapes the scenario does not build (raid6 + spare, raid10 far) with check mode
against the real run, the reader against `mdadm --detail --export` and idempotence with one
read; a level change raid1 -> raid5 -> 3 members with a data checksum; a scrub and a wait
that times out with its progress; assemble by name; stop refused under LVM; removal zeroing
the listed members only. (Replace, spare takeover, grow, re-add, the refusals of real
signatures and the same disk under two names run through Ansible in the scenario's verify;
the PPL and every other argv are pinned by the unit cases.)
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import uuid

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.devices import DeviceInspector, guard_blank
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Runner
from ansible_collections.strata.storage.plugins.module_utils.md import layout
from ansible_collections.strata.storage.plugins.module_utils.md import reader as md

from conftest import LocalModule, sh

WORK = "/var/tmp/strata-live-md"
MIB = 1024 ** 2


@pytest.fixture(autouse=True)
def _only_when_named(request):
    if not any("test_md_live" in str(arg) for arg in request.config.args):
        pytest.skip("run by the md scenario (tests/live/run.py test_md_live.py), not by the whole live suite")


class Module(LocalModule):
    """What md.layout.run needs of AnsibleModule: params, check_mode, get_bin_path."""

    def __init__(self, params, check_mode=False):
        super().__init__(check_mode=check_mode)
        self.params = dict(config_file=params.pop("config_file"), persist=True, update_initramfs=False,
                           mailaddr=None, program=None)
        self.array = params

    def get_bin_path(self, name, *args, **kwargs):
        for folder in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
            if os.path.exists(os.path.join(folder, name)):
                return os.path.join(folder, name)
        return None


def array_params(**kw):
    base = dict(uuid=None, state="present", level=None, members=[], spares=[], chunk=None, metadata=None,
                bitmap=None, layout=None, consistency_policy=None, journal=None, force=[], fail=[], remove=[],
                replace=[], reshape=False, size=None, backup_file=None, sync_action=None, wait=False,
                wait_timeout=300, allow_remove=False)
    base.update(kw)
    return base


@pytest.fixture
def env(tmp_path):
    """Loop devices, a private mdadm.conf, and cleanup of every array the test made."""
    made, names = [], []
    os.makedirs(WORK, exist_ok=True)
    conf = str(tmp_path / "mdadm.conf")

    class Env:
        config = conf

        def loops(self, count, size="16M"):
            out = []
            for index in range(count):
                path = os.path.join(WORK, "%s-%d.img" % (uuid.uuid4().hex[:8], index))
                sh("truncate", "-s", size, path)
                dev = sh("losetup", "--find", "--show", path).strip()
                made.append((dev, path))
                out.append(dev)
            sh("udevadm", "settle")
            return out

        def name(self):
            names.append("lm%s" % uuid.uuid4().hex[:6])
            return names[-1]

        def run(self, check_mode=False, **params):
            """One md_array call: (runner, plan, summary)."""
            module = Module(dict(array_params(**params), config_file=conf), check_mode=check_mode)
            runner = Runner(module)
            plan, arrays, _extra = layout.run(module, runner, [module.array])
            return runner, plan, arrays[0]

    yield Env()
    for name in names:
        subprocess.run(["mdadm", "--stop", "/dev/md/%s" % name], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
    if made:      # few processes: each one is slow under TCG
        devs = [dev for dev, _path in made]
        subprocess.run(["wipefs", "-q", "-a"] + devs, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        subprocess.run(["losetup", "-d"] + devs, check=False)
    for _dev, path in made:
        os.unlink(path)


def detail(name):
    out = {}
    for line in sh("mdadm", "--detail", "--export", "/dev/md/%s" % name).splitlines():
        key, _sep, value = line.partition("=")
        out[key] = value
    return out


def sysfs(name, attr):
    kernel = os.path.basename(os.path.realpath("/dev/md/%s" % name))
    with open("/sys/block/%s/md/%s" % (kernel, attr)) as handle:
        return handle.read().strip()


def write_data(name, mib=4):
    """Random data at the start of the array; returns its sha256."""
    data = os.urandom(mib * MIB)
    with open("/dev/md/%s" % name, "r+b", buffering=0) as handle:
        handle.write(data)
        os.fsync(handle.fileno())
    return hashlib.sha256(data).hexdigest()


def read_sum(name, mib=4):
    sh("sh", "-c", "echo 3 > /proc/sys/vm/drop_caches")
    with open("/dev/md/%s" % name, "rb") as handle:
        return hashlib.sha256(handle.read(mib * MIB)).hexdigest()


def cmds(runner):
    return [a.get("cmd") or a.get("path") for a in runner.actions]


@pytest.mark.parametrize("shape", [
    dict(level="raid6", count=4, spares=1),
    dict(level="raid10", layout="f2", count=2),
])
def test_check_mode_equals_real_run_then_idempotent_with_one_read(env, shape):
    """Shapes the scenario does not build: check mode == real run, the reader agrees with
    mdadm --detail --export and sysfs, a second run reads once and does nothing."""
    shape = dict(shape)
    count, spares = shape.pop("count"), shape.pop("spares", 0)
    devs = env.loops(count + spares)
    name = env.name()
    params = dict(shape, name=name, members=devs[:count], spares=devs[count:], wait=True)
    check, _plan, predicted = env.run(check_mode=True, **params)
    assert predicted["predicted"] and not os.path.exists("/dev/md/%s" % name)
    assert all(subprocess.run(["blkid", "-p", d], stdout=subprocess.DEVNULL, check=False).returncode == 2 for d in devs)
    real, _plan, array = env.run(**params)
    assert cmds(real) == cmds(check)
    info = detail(name)
    assert info["MD_LEVEL"] == shape["level"] and int(info["MD_DEVICES"]) == count
    assert array["uuid"] == info["MD_UUID"] and array["name"] == name
    assert array["level"] == sysfs(name, "level") and array["sync_action"] == "idle"
    roles = {key[len("MD_DEVICE_dev_"):-len("_ROLE")]: v for key, v in info.items() if key.endswith("_ROLE")}
    assert {m["device"][5:]: (str(m["slot"]) if m["slot"] is not None else "spare") for m in array["members"]} == roles
    if array["chunk"]:
        assert array["chunk"] == int(sysfs(name, "chunk_size"))
    assert array["component_size"] == int(sysfs(name, "component_size")) * 1024
    with open(env.config) as handle:
        assert "ARRAY /dev/md/%s metadata=1.2 name=" % name in handle.read()
    again, plan, _array = env.run(**params)
    assert again.actions == [] and again.reads == [md.SCAN_CMD]


def test_level_change_grow_scrub_and_a_wait_that_times_out(env):
    """raid1 -> raid5 -> 3 members keeps the data; then a throttled scrub: the wait times out
    with its progress, a second request does not restart it, and mismatch_cnt is reported."""
    devs = env.loops(3)
    name = env.name()
    env.run(name=name, level="raid1", members=devs[:2], wait=True)
    digest = write_data(name)
    with pytest.raises(StrataError, match="reshape: true"):
        env.run(name=name, level="raid5", members=devs)
    runner, _plan, array = env.run(name=name, level="raid5", members=devs, reshape=True, wait=True)
    assert cmds(runner) == [["mdadm", "/dev/md/%s" % name, "--add", devs[2]],
                            ["mdadm", "--grow", "/dev/md/%s" % name, "--level=5"],
                            ["mdadm", "--grow", "/dev/md/%s" % name, "--raid-devices=3"]]
    assert (array["level"], array["raid_disks"]) == ("raid5", 3)
    assert detail(name)["MD_LEVEL"] == "raid5" and read_sum(name) == digest
    kernel = os.path.basename(os.path.realpath("/dev/md/%s" % name))

    def limit(low, high):      # this array's own limits (the scenario raises the system minimum)
        for attr, value in (("sync_speed_min", low), ("sync_speed_max", high)):
            with open("/sys/block/%s/md/%s" % (kernel, attr), "w") as handle:
                handle.write(value)
    limit("100", "1000")
    try:
        env.run(name=name, sync_action="check")
        with pytest.raises(StrataError, match="still busy with check") as exc:
            layout.Waiter().wait(name, 2)
        assert exc.value.details["progress"]["action"] == "check"
        running, _plan, _array = env.run(name=name, sync_action="check")
        assert running.actions == []          # already running: not started again
    finally:
        limit("system", "system")
    _runner, _plan, array = env.run(name=name, wait=True)
    assert array["last_sync_action"] == "check" and array["mismatch_cnt"] == int(sysfs(name, "mismatch_cnt")) == 0
    assert read_sum(name) == digest


def test_new_array_is_blank_for_lvm_and_cannot_be_stopped_under_it(env):
    devs = env.loops(2)
    name = env.name()
    env.run(name=name, level="raid1", members=devs, wait=True)
    runner = Runner(LocalModule())
    info = DeviceInspector(runner).inspect("/dev/md/%s" % name)
    assert guard_blank([info], [], "a PV") == []
    vg = "lmvg%s" % uuid.uuid4().hex[:6]
    sh("vgcreate", "-q", vg, "/dev/md/%s" % name)
    try:
        sh("lvcreate", "-q", "-y", "-L", "8M", "-n", "lv", vg)
        with pytest.raises(StrataError, match="held by dm-"):
            env.run(name=name, state="stopped")
    finally:
        sh("vgremove", "-q", "-ff", "-y", vg)
        sh("pvremove", "-q", "-ff", "-y", "/dev/md/%s" % name)


def test_assemble_by_name_then_absent_zeroes_only_the_listed_members(env):
    devs = env.loops(3)
    name = env.name()
    _runner, _plan, made = env.run(name=name, level="raid1", members=devs[:2], spares=devs[2:], wait=True)
    sh("mdadm", "--stop", "/dev/md/%s" % name)
    with pytest.raises(StrataError, match="no device carries its superblock"):
        env.run(name="lmnosuch", state="assembled")
    runner, _plan, array = env.run(name=name, state="assembled")
    assert cmds(runner)[0][:3] == ["mdadm", "--assemble", "/dev/md/%s" % name]
    assert array["uuid"] == made["uuid"] and os.path.exists("/dev/md/%s" % name)
    with pytest.raises(StrataError, match="allow_remove"):
        env.run(name=name, state="absent", members=devs[:2])
    runner, plan, _array = env.run(name=name, state="absent", members=devs[:2], allow_remove=True)
    assert not os.path.exists("/dev/md/%s" % name)
    types = [subprocess.run(["blkid", "-p", "-o", "value", "-s", "TYPE", d], stdout=subprocess.PIPE,
                            universal_newlines=True, check=False).stdout.strip() for d in devs]
    assert types == ["", "", "linux_raid_member"]
    with open(env.config) as handle:
        assert name not in handle.read()
