# -*- coding: utf-8 -*-
"""ZFS module_utils against the real kernel module and tools, inside the test VM.

Started by the `zfs` Molecule scenario's verify (one SSH call, tests/live/run.py
test_zfs_live.py) or by hand: python3 tests/live/run.py test_zfs_live.py

Small kernel checks that would cost an Ansible task each: parser round trips, plan ->
execute -> re-read -> nothing left to do, check mode = real run, retention over simulated
time, a send cut mid-stream and resumed, incremental sends from a bookmark, the guard on
real signatures. Pools live on sparse files under /var/tmp/strata-live-zfs.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import uuid

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.zfs import pipeline, reader, retention
from ansible_collections.strata.storage.plugins.module_utils.zfs.actions import execute
from ansible_collections.strata.storage.plugins.module_utils.zfs.dataset_planner import (
    plan_dataset, request_from_params as dataset_request,
)
from ansible_collections.strata.storage.plugins.module_utils.zfs.devices import VdevInspector
from ansible_collections.strata.storage.plugins.module_utils.zfs.layout import layout_request_from_params, plan_layout
from ansible_collections.strata.storage.plugins.module_utils.zfs.pool_planner import plan_pool, pool_request_from_params
from ansible_collections.strata.storage.plugins.module_utils.zfs.replicate import (
    parse_token_info, plan_replication, request_from_params as replicate_request,
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


@pytest.fixture
def files():
    """make(count, size) -> paths of sparse files for file vdevs; pools made on them are
    destroyed afterwards."""
    made, pools = [], []
    os.makedirs(WORK, exist_ok=True)

    def make(count=2, size="256M"):
        out = []
        for _ in range(count):
            path = os.path.join(WORK, uuid.uuid4().hex[:8])
            sh("truncate", "-s", size, path)
            made.append(path)
            out.append(path)
        return out
    make.pools = pools
    yield make
    for pool in pools:
        subprocess.run(["zpool", "destroy", "-f", pool], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
    for path in made:
        if os.path.exists(path):
            os.unlink(path)


def new_pool(files, runner, vdevs, **extra):
    name = "lz%s" % uuid.uuid4().hex[:6]
    files.pools.append(name)
    req = pool_request_from_params(dict(dict(name=name, vdevs=vdevs, state="present", properties={},
                                             filesystem_properties={}, force=[], replace=[]), **extra))
    state = reader.read_state(runner, pools=[name], pool_props=True, status=True, listing=False)
    plan = plan_pool(req, state, VdevInspector(runner).inspect)
    execute(runner, plan.actions)
    new_pool.last_plan = plan
    return name, req


def pool_state(runner, name):
    return reader.read_state(runner, pools=[name], pool_props=True, status=True, listing=False,
                             dataset_roots=[name], depth=0)


def test_pool_layout_round_trip_and_no_second_plan(files, runner, check_runner):
    f = files(7)
    vdevs = [{"type": "mirror", "devices": f[0:2]}, {"role": "special", "type": "mirror", "devices": f[2:4]},
             {"role": "log", "type": "stripe", "devices": [f[4]]}, {"role": "cache", "type": "stripe", "devices": [f[5]]},
             {"role": "spare", "type": "stripe", "devices": [f[6]]}]
    params = dict(ashift=12, properties={"autotrim": "on"},
                  filesystem_properties={"compression": "lz4", "atime": False})
    # check mode first: the dry run (zpool create -n) runs, nothing is created
    probe = pool_request_from_params(dict(params, vdevs=vdevs, name="lzcheck", state="present", force=[], replace=[]))
    check_plan = plan_pool(probe, reader.read_state(check_runner, pools=["lzcheck"], pool_props=True, status=True,
                                                    listing=False), VdevInspector(check_runner).inspect)
    execute(check_runner, check_plan.actions)
    assert ["zpool", "create", "-n"] == [c for c in check_runner.reads if c[:2] == ["zpool", "create"]][0][:3]
    assert subprocess.run(["zpool", "list", "lzcheck"], capture_output=True).returncode != 0
    name, req = new_pool(files, runner, vdevs, **params)
    state = pool_state(runner, name)
    st = state.pool(name).status
    assert [(v.type, [lf.name for lf in v.leaves()]) for v in st.vdevs["data"]] == [("mirror", f[0:2])]
    assert [lf.name for lf in st.vdevs["special"][0].leaves()] == f[2:4]
    assert [v.name for v in st.vdevs["log"]] == [f[4]] and [v.name for v in st.vdevs["cache"]] == [f[5]]
    assert [v.name for v in st.vdevs["spare"]] == [f[6]]
    assert state.pool(name).value("ashift") == "12" and state.pool(name).value("autotrim") == "on"
    assert state.get(name).value("compression") == "lz4" and state.get(name).value("atime") == "off"
    # the same request against the real state plans nothing, and reads stay at three
    req2 = pool_request_from_params(dict(params, vdevs=vdevs, name=name, state="present", force=[], replace=[]))
    before = len(runner.reads)
    again = plan_pool(req2, pool_state(runner, name), VdevInspector(runner).inspect)
    assert again.actions == [] and len(runner.reads) - before == 3
    # the real run did what check mode said (with the pool's name)
    assert [[name if w == "lzcheck" else w for w in a.cmd] for a in check_plan.actions] == \
        [a.cmd for a in new_pool.last_plan.actions]


def test_replication_level_refusals_match_zpool(files, runner):
    f = files(5)
    name, _ = new_pool(files, runner, [{"type": "mirror", "devices": f[0:2]}])
    req = pool_request_from_params(dict(name=name, vdevs=[{"type": "stripe", "devices": [f[2]]}], state="present",
                                        properties={}, filesystem_properties={}, force=[], replace=[]))
    with pytest.raises(StrataError, match="mismatched replication level"):
        plan_pool(req, pool_state(runner, name), VdevInspector(runner).inspect)
    # zpool add itself refuses the same thing without -f
    proc = subprocess.run(["zpool", "add", "-n", name, f[2]], capture_output=True, text=True)
    assert proc.returncode != 0 and "mismatched replication level" in proc.stderr
    # and takes what we take
    ok = pool_request_from_params(dict(name=name, vdevs=[{"type": "mirror", "devices": f[3:5]}], state="present",
                                       properties={}, filesystem_properties={}, force=[], replace=[]))
    plan = plan_pool(ok, pool_state(runner, name), VdevInspector(runner).inspect)
    execute(runner, plan.actions)
    assert len(pool_state(runner, name).pool(name).status.vdevs["data"]) == 2


def test_guard_refuses_real_signatures(files, runner):
    f = files(3, size="128M")
    sh("mkfs.ext4", "-q", "-F", f[0])
    name = "lzguard"
    req = pool_request_from_params(dict(name=name, vdevs=[{"type": "raidz1", "devices": f}], state="present",
                                        properties={}, filesystem_properties={}, force=[], replace=[]))
    with pytest.raises(StrataError, match="holds a ext4 signature"):
        plan_pool(req, pool_state(runner, name), VdevInspector(runner).inspect)


def test_layout_of_forty_datasets_converges_then_plans_nothing(files, runner):
    f = files(2)
    name, _ = new_pool(files, runner, [{"type": "mirror", "devices": f}])
    tree = [{"name": "g%d" % g, "properties": {"compression": "zstd" if g % 2 else "lz4", "quota": "%dM" % (64 + g)},
             "datasets": [{"name": "d%d" % d, "properties": {"recordsize": "16K"} if d % 3 == 0 else {}}
                          for d in range(7)]} for g in range(5)]
    tree.append({"name": "vols", "datasets": [{"name": "v%d" % v, "type": "volume", "size": "32M", "sparse": True,
                                              "properties": {"volblocksize": "16K"}} for v in range(3)]})
    params = {"pool": name, "properties": {"atime": False}, "datasets": tree, "allow_destroy": False}
    req = layout_request_from_params(params)
    state = reader.read_state(runner, dataset_roots=[name])
    plan, _steps, _ = plan_layout(req, state)
    execute(runner, plan.actions)
    assert len([a for a in plan.actions if a.cmd[1] == "create"]) == 5 * 8 + 4
    start = len(runner.reads)
    again, _steps, _ = plan_layout(layout_request_from_params(params), reader.read_state(runner, dataset_roots=[name]))
    assert again.actions == [] and len(runner.reads) - start == 2
    ds = reader.read_state(runner, dataset_roots=[name]).get("%s/g1/d4" % name)
    assert ds.value("compression") == "zstd" and ds.inherited_from("compression") == "%s/g1" % name


def test_dataset_immutable_and_encryption(files, runner, tmp_path):
    f = files(1)
    name, _ = new_pool(files, runner, [{"devices": f}])
    key_file = str(tmp_path / "k.key")
    params = dict(name="%s/vault" % name, state="present", type="filesystem", properties={"compression": "lz4"},
                  encryption={"keyformat": "passphrase", "key": "correct horse battery", "key_file": key_file})
    state = reader.read_state(runner, dataset_roots=[name])
    plan = plan_dataset(dataset_request(params), state, read_file=lambda p: open(p).read() if os.path.exists(p) else None)
    from ansible_collections.strata.storage.plugins.module_utils.zfs.actions import write_file
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
    # create-only property: refused with what to do, nothing run
    vol = dict(name="%s/vol" % name, state="present", type="volume", size="64M", properties={"volblocksize": "16K"})
    execute(runner, plan_dataset(dataset_request(vol), reader.read_state(runner, dataset_roots=[name])).actions)
    changed = dict(vol, properties={"volblocksize": "32K"})
    with pytest.raises(StrataError, match="fixed when a dataset is created"):
        plan_dataset(dataset_request(changed), reader.read_state(runner, dataset_roots=[name]))


def test_retention_over_three_simulated_days(files, runner):
    f = files(1)
    name, _ = new_pool(files, runner, [{"devices": f}])
    sh("zfs", "create", "%s/data" % name)
    sh("zfs", "create", "%s/data/sub" % name)
    sh("zfs", "snapshot", "%s/data@strata_2026-01-01_00:00:00_hourly" % name)   # named like ours, not ours
    pol = retention.policy_from_params(retention.policy_defaults(
        {"name": "live", "datasets": ["%s/data" % name], "recursive": True, "hourly": 3, "daily": 2}))
    t0 = retention.parse_now("2026-01-01T00:00:00Z")
    for step in range(0, 72, 4):
        state = reader.read_state(runner, dataset_roots=["%s/data" % name], listing=False)
        plan, _ = retention.plan_policy(pol, state, t0 + step * HOUR)
        execute(runner, plan.actions)
    state = reader.read_state(runner, dataset_roots=["%s/data" % name], listing=False)
    for ds in ("%s/data" % name, "%s/data/sub" % name):
        mine = [s for s in state.snapshots(ds) if retention.ours(s, "live")]
        hourly = [s.short for s in mine if s.value(retention.MARK_PERIOD) == "hourly"]
        daily = [s.short for s in mine if s.value(retention.MARK_PERIOD) == "daily"]
        assert hourly == ["strata_2026-01-03_%02d:00:00_hourly" % h for h in (12, 16, 20)]
        assert daily == ["strata_2026-01-02_00:00:00_daily", "strata_2026-01-03_00:00:00_daily"]
    assert state.get("%s/data@strata_2026-01-01_00:00:00_hourly" % name) is not None


def test_send_cut_mid_stream_resumes_then_increments_from_a_bookmark(files, runner):
    f = files(2)
    src_pool, _ = new_pool(files, runner, [{"devices": [f[0]]}])
    dst_pool, _ = new_pool(files, runner, [{"devices": [f[1]]}])
    src = "%s/data" % src_pool
    sh("zfs", "create", src)
    write_random("/%s/a.bin" % src, 12)
    sh("zfs", "snapshot", "%s@s1" % src)
    # cut the full send after 3 MiB: the target keeps a resume token
    cut = pipeline.run_pipeline(["zfs", "send", "%s@s1" % src], ["zfs", "receive", "-s", "-u", "%s/copy" % dst_pool],
                                limit=3 << 20)
    assert cut.cut and cut.bytes == 3 << 20 and cut.recv_rc != 0
    req = replicate_request({"source": src, "target": "%s/copy" % dst_pool, "intermediates": True, "bookmark": True,
                             "resume": True, "receive_properties": {}})
    state = reader.read_state(runner, dataset_roots=[src, dst_pool], listing=False)
    token = state.get("%s/copy" % dst_pool).value("receive_resume_token")
    assert token.startswith("1-")
    info = runner.read(["zfs", "send", "-n", "-v", "-P", "-t", token])
    assert parse_token_info(info.stdout + info.stderr)[0] == "%s@s1" % src
    plan = plan_replication(req, state, state, parse_token_info(info.stdout + info.stderr))
    assert [a.kind for a in plan.actions] == ["resume", "bookmark"]
    execute(runner, plan.actions)
    resumed = [a for a in runner.actions if a.get("pipe_to")][-1]
    assert 0 < resumed["bytes"] < 13 << 20
    # the source moves on and prunes s1; the bookmark keeps the increment possible
    write_random("/%s/b.bin" % src, 2)
    sh("zfs", "snapshot", "%s@s2" % src)
    sh("zfs", "destroy", "%s@s1" % src)
    state = reader.read_state(runner, dataset_roots=[src, dst_pool], listing=False)
    plan = plan_replication(req, state, state)
    assert plan.actions[0].cmd == ["zfs", "send", "-i", "%s#s1" % src, "%s@s2" % src]
    execute(runner, plan.actions)
    # nothing left to send
    state = reader.read_state(runner, dataset_roots=[src, dst_pool], listing=False)
    assert plan_replication(req, state, state).actions == []
    # the data arrived intact
    sh("zfs", "set", "mountpoint=%s/mnt-%s" % (WORK, dst_pool), "%s/copy" % dst_pool)
    sh("zfs", "mount", "%s/copy" % dst_pool)
    try:
        for fname in ("a.bin", "b.bin"):
            assert digest("%s/mnt-%s/%s" % (WORK, dst_pool, fname)) == digest("/%s/%s" % (src, fname))
    finally:
        subprocess.run(["zfs", "unmount", "%s/copy" % dst_pool], check=False)
        shutil.rmtree("%s/mnt-%s" % (WORK, dst_pool), ignore_errors=True)
