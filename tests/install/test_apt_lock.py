# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/setup.sh (strata_wait_apt_lock in scripts/env.sh) and tests/vm/vm.py wait for the
apt/dpkg locks, bounded, and say who holds them, instead of failing at once. Locks are held
here on files of the test's own (STRATA_APT_LOCK_FILES), never on the machine's real ones:
once with an fcntl lock, as apt and dpkg take it, once with flock(1)."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time

import pytest

from install.support import REPO

HOLD_FCNTL = "import fcntl, sys, time; f = open(sys.argv[1], 'w'); fcntl.lockf(f, fcntl.LOCK_EX); " \
             "print('held', flush=True); time.sleep(float(sys.argv[2]))"


def _hold(path, seconds, kind):
    if kind == "flock":
        if not shutil.which("flock"):
            pytest.skip("no flock(1) here")
        proc = subprocess.Popen(["flock", str(path), "sleep", str(seconds)])
    else:
        proc = subprocess.Popen([sys.executable, "-c", HOLD_FCNTL, str(path), str(seconds)], stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"held"
    deadline = time.monotonic() + 10
    while not _holders_bash(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc


def _bash(script, path, timeout_s):
    env = dict(os.environ, STRATA_APT_LOCK_FILES="%s %s" % (path, "/nonexistent/lock"))
    return subprocess.run(["bash", "-c", ". scripts/env.sh; " + script, "_", str(timeout_s)], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)


def _holders_bash(path):
    return _bash("strata_apt_lock_holders", path, 0).stdout.split()


def _vm():
    spec = importlib.util.spec_from_file_location("strata_vm", os.path.join(REPO, "tests", "vm", "vm.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kind", ["fcntl", "flock"])
def test_setup_waits_then_gives_up_naming_the_holder(tmp_path, kind):
    lock = tmp_path / "lock-frontend"
    lock.write_text("")
    holder = _hold(lock, 30, kind)
    try:
        assert _holders_bash(lock) == [str(holder.pid)]
        t0 = time.monotonic()
        proc = _bash('strata_wait_apt_lock "$1"', lock, 2)
        took = time.monotonic() - t0
        assert proc.returncode == 1, proc
        assert 1 <= took < 10, took  # bash counts whole seconds
        assert "waiting for the apt/dpkg lock, held by pid %d" % holder.pid in proc.stderr
        assert "still held after 2 s by pid %d" % holder.pid in proc.stderr, proc.stderr
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("kind", ["fcntl", "flock"])
def test_setup_waits_until_the_lock_is_free(tmp_path, kind):
    lock = tmp_path / "lock"
    lock.write_text("")
    holder = _hold(lock, 3, kind)
    try:
        proc = _bash('strata_wait_apt_lock "$1"', lock, 60)
        assert proc.returncode == 0, proc
        assert "waiting for the apt/dpkg lock" in proc.stderr and "apt/dpkg lock free after" in proc.stderr
    finally:
        holder.kill()
        holder.wait()
    # no lock, no message, no wait
    quiet = _bash('strata_wait_apt_lock "$1"', lock, 60)
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_vm_py_waits_the_same_way(tmp_path, capsys):
    vm = _vm()
    lock = tmp_path / "lock"
    lock.write_text("")
    holder = _hold(lock, 30, "fcntl")
    try:
        assert vm.apt_lock_holders([str(lock)]) == [str(holder.pid)]
        with pytest.raises(vm.VMError) as err:
            vm.wait_apt_lock(timeout=1, files=[str(lock)], poll=0.2)
        assert "still held after 1 s by pid %d" % holder.pid in str(err.value)
    finally:
        holder.kill()
        holder.wait()
    holder = _hold(lock, 2, "fcntl")
    try:
        vm.wait_apt_lock(timeout=60, files=[str(lock)], poll=0.2)
    finally:
        holder.kill()
        holder.wait()
    out = capsys.readouterr().out
    assert "waiting for the apt/dpkg lock, held by pid %d" % holder.pid in out and "apt/dpkg lock free after" in out
    assert vm.apt_lock_holders([str(lock)]) == []
