# -*- coding: utf-8 -*-
"""ZFS module_utils against the real kernel module and tools, inside the test VM.

Started by the `zfs` Molecule scenario's verify (one SSH call, tests/live/run.py
test_zfs_live.py) or by hand: python3 tests/live/run.py test_zfs_live.py

Small kernel checks that would cost an Ansible task each: parser round trips, plan ->
execute -> re-read -> nothing left to do, check mode = real run, zpool's own replication
refusals, encryption keys unloaded and loaded, retention over simulated time, incremental
sends from a bookmark after the source pruned, the guard on real signatures. (Dataset trees
and their no-change runs, and a send cut mid-stream and resumed through the module, are
the Molecule scenario's.) All tests share ONE pool on sparse files under
/var/tmp/strata-live-zfs: creating pools is what costs under TCG.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import uuid

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Runner
from ansible_collections.strata.storage.plugins.module_utils.zfs import reader, retention
from ansible_collections.strata.storage.plugins.module_utils.zfs.actions import execute, write_file
from ansible_collections.strata.storage.plugins.module_utils.zfs.dataset_planner import (
    plan_dataset, request_from_params as dataset_request,
)
from ansible_collections.strata.storage.plugins.module_utils.zfs.devices import VdevInspector
from ansible_collections.strata.storage.plugins.module_utils.core.local import LocalModule
from ansible_collections.strata.storage.plugins.module_utils.zfs.pool_planner import plan_pool, pool_request_from_params
from ansible_collections.strata.storage.plugins.module_utils.zfs.replicate import (
    plan_replication, request_from_params as replicate_request,
)

WORK = "/var/tmp/strata-live-zfs"
HOUR = 3600

pytestmark = pytest.mark.skipif(not os.path.exists("/sbin/zpool") and not os.path.exists("/usr/sbin/zpool"),
                                reason="zfsutils-linux is not installed here")


def sh(*cmd):
    return subprocess.run(list(cmd), check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout.decode()


def digest(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def write_random(path, mib):
    with open(path, "wb") as handle:
        handle.write(os.urandom(mib << 20))


def make_files(count, size="256M"):
    os.makedirs(WORK, exist_ok=True)
    out = []
    for _index in range(count):
        path = os.path.join(WORK, uuid.uuid4().hex[:8])
        sh("truncate", "-s", size, path)
        out.append(path)
    return out


def pool_request(name, vdevs, **extra):
    return pool_request_from_params(dict(dict(name=name, vdevs=vdevs, state="present", properties={},
                                              filesystem_properties={}, force=[], replace=[]), **extra))


def pool_state(runner, name):
    return reader.read_state(runner, pools=[name], pool_props=True, status=True, listing=False,
                             dataset_roots=[name], depth=0)


@pytest.fixture(scope="module")
def pool():
    """ONE pool for the whole file (creating pools is what costs under TCG), made by the pool
    planner itself: a mirror of two files with a log and a spare; destroyed at the end.
    Yields (name, files: 2 mirror + log + spare + 2 spare files for later)."""
    runner = Runner(LocalModule())
    f = make_files(6)
    name = "lz%s" % uuid.uuid4().hex[:6]
    req = pool_request(name, [{"type": "mirror", "devices": f[0:2]},
                              {"role": "log", "type": "stripe", "devices": [f[2]]},
                              {"role": "spare", "type": "stripe", "devices": [f[3]]}],
                       ashift=12, properties={"autotrim": "on"}, filesystem_properties={"compression": "lz4"})
    plan = plan_pool(req, pool_state(runner, name), VdevInspector(runner).inspect)
    execute(runner, plan.actions)
    yield name, f
    subprocess.run(["zpool", "destroy", "-f", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    for path in f:
        os.unlink(path)


def test_pool_parse_round_trip_and_zpools_own_replication_refusals(pool, runner):
    name, f = pool
    state = pool_state(runner, name)
    st = state.pool(name).status
    assert [(v.type, [lf.name for lf in v.leaves()]) for v in st.vdevs["data"]] == [("mirror", f[0:2])]
    assert [v.name for v in st.vdevs["log"]] == [f[2]] and [v.name for v in st.vdevs["spare"]] == [f[3]]
    assert state.pool(name).value("ashift") == "12" and state.pool(name).value("autotrim") == "on"
    assert state.get(name).value("compression") == "lz4"
    # a single file beside the mirror: we refuse it, and so does zpool add itself without -f
    with pytest.raises(StrataError, match="mismatched replication level"):
        plan_pool(pool_request(name, [{"type": "stripe", "devices": [f[4]]}]), state, VdevInspector(runner).inspect)
    proc = subprocess.run(["zpool", "add", "-n", name, f[4]], capture_output=True, text=True, check=False)
    assert proc.returncode != 0 and "mismatched replication level" in proc.stderr
    # a mirror like the first is taken by both; after it, the same request plans nothing, in 3 reads
    ok = pool_request(name, [{"type": "mirror", "devices": f[0:2]}, {"type": "mirror", "devices": f[4:6]}])
    execute(runner, plan_pool(ok, state, VdevInspector(runner).inspect).actions)
    before = len(runner.reads)
    assert plan_pool(ok, pool_state(runner, name), VdevInspector(runner).inspect).actions == []
    assert len(runner.reads) - before == 3
    assert len(pool_state(runner, name).pool(name).status.vdevs["data"]) == 2


def test_guard_refuses_real_signatures(runner):
    f = make_files(3, size="128M")
    sh("mkfs.ext4", "-q", "-F", f[0])
    name = "lzguard"
    req = pool_request_from_params(dict(name=name, vdevs=[{"type": "raidz1", "devices": f}], state="present",
                                        properties={}, filesystem_properties={}, force=[], replace=[]))
    try:
        with pytest.raises(StrataError, match="holds an ext4 signature"):
            plan_pool(req, pool_state(runner, name), VdevInspector(runner).inspect)
    finally:
        for path in f:
            os.unlink(path)


def test_encryption_key_file_and_load_key(pool, runner, tmp_path):
    name, _f = pool
    key_file = str(tmp_path / "k.key")
    params = dict(name="%s/vault" % name, state="present", type="filesystem", properties={"compression": "lz4"},
                  encryption={"keyformat": "passphrase", "key": "correct horse battery", "key_file": key_file,
                              "pbkdf2iters": 100000})
    state = reader.read_state(runner, dataset_roots=[name])
    plan = plan_dataset(dataset_request(params), state, read_file=lambda p: open(p).read() if os.path.exists(p) else None)
    execute(runner, plan.actions, writer=write_file)
    assert oct(os.stat(key_file).st_mode & 0o777) == "0o600"
    assert all("correct horse" not in " ".join(a.get("cmd") or []) for a in runner.actions)
    ds = reader.read_state(runner, dataset_roots=[name]).get("%s/vault" % name)
    assert ds.value("encryption") == "aes-256-gcm" and ds.value("keystatus") == "available"
    # an unloaded key is loaded from the key file on the next run
    sh("zfs", "unmount", "%s/vault" % name)
    sh("zfs", "unload-key", "%s/vault" % name)
    plan = plan_dataset(dataset_request(params), reader.read_state(runner, dataset_roots=[name]),
                        read_file=lambda p: open(p).read())
    assert [a.cmd[:2] for a in plan.actions] == [["zfs", "load-key"], ["zfs", "mount"]]
    execute(runner, plan.actions)
    assert reader.read_state(runner, dataset_roots=[name]).get("%s/vault" % name).value("mounted") == "yes"


def test_retention_over_simulated_days(pool, runner):
    name, _f = pool
    sh("zfs", "create", "%s/data" % name)
    sh("zfs", "create", "%s/data/sub" % name)
    sh("zfs", "snapshot", "%s/data@strata_2026-01-01_00:00:00_hourly" % name)   # named like ours, not ours
    pol = retention.policy_from_params(retention.policy_defaults(
        {"name": "live", "datasets": ["%s/data" % name], "recursive": True, "hourly": 2, "daily": 1}))
    t0 = retention.parse_now("2026-01-01T00:00:00Z")
    for step in (0, 12, 24, 30, 36):
        state = reader.read_state(runner, dataset_roots=["%s/data" % name], listing=False)
        plan, _unused = retention.plan_policy(pol, state, t0 + step * HOUR)
        execute(runner, plan.actions)
    state = reader.read_state(runner, dataset_roots=["%s/data" % name], listing=False)
    for ds in ("%s/data" % name, "%s/data/sub" % name):
        mine = [s for s in state.snapshots(ds) if retention.ours(s, "live")]
        hourly = [s.short for s in mine if s.value(retention.MARK_PERIOD) == "hourly"]
        daily = [s.short for s in mine if s.value(retention.MARK_PERIOD) == "daily"]
        assert hourly == ["strata_2026-01-02_06:00:00_hourly", "strata_2026-01-02_12:00:00_hourly"]
        assert daily == ["strata_2026-01-02_00:00:00_daily"]
    assert state.get("%s/data@strata_2026-01-01_00:00:00_hourly" % name) is not None


def test_increments_from_a_bookmark_after_the_source_pruned(pool, runner):
    """(A receive cut mid-stream and resumed is the Molecule scenario's, through the module.)"""
    name, _f = pool
    src, dst = "%s/src" % name, "%s/copy" % name
    sh("zfs", "create", src)
    write_random("/%s/a.bin" % src, 2)
    sh("zfs", "snapshot", "%s@s1" % src)
    req = replicate_request({"source": src, "target": dst, "intermediates": True, "bookmark": True,
                             "resume": True, "receive_properties": {}})
    state = reader.read_state(runner, dataset_roots=[src, name], listing=False)
    plan = plan_replication(req, state, state)
    assert [a.kind for a in plan.actions] == ["send", "bookmark"]
    execute(runner, plan.actions)
    assert [a for a in runner.actions if a.get("pipe_to")][-1]["bytes"] > 2 << 20
    # the source moves on and prunes s1; the bookmark keeps the increment possible
    write_random("/%s/b.bin" % src, 1)
    sh("zfs", "snapshot", "%s@s2" % src)
    sh("zfs", "destroy", "%s@s1" % src)
    state = reader.read_state(runner, dataset_roots=[src, name], listing=False)
    plan = plan_replication(req, state, state)
    assert plan.actions[0].cmd == ["zfs", "send", "-i", "%s#s1" % src, "%s@s2" % src]
    execute(runner, plan.actions)
    state = reader.read_state(runner, dataset_roots=[src, name], listing=False)
    assert plan_replication(req, state, state).actions == []
    # the data arrived intact
    sh("zfs", "set", "mountpoint=%s/mnt-copy" % WORK, dst)
    sh("zfs", "mount", dst)
    try:
        for fname in ("a.bin", "b.bin"):
            assert digest("%s/mnt-copy/%s" % (WORK, fname)) == digest("/%s/%s" % (src, fname))
    finally:
        subprocess.run(["zfs", "unmount", dst], check=False)
        shutil.rmtree("%s/mnt-copy" % WORK, ignore_errors=True)
