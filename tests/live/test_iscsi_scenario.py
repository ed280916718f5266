# -*- coding: utf-8 -*-
"""The iSCSI scenario's checks INSIDE the test VM (extensions/molecule/iscsi/verify.yml runs
this file through tests/live/run.py, one SSH call). Skipped when the scenario's target is not
there (the `live` scenario collects this folder too).

The converged state is read with the kernel's and the tools' own interfaces (configfs,
iscsiadm, multipath, sysfs), never with our modules' output; then the drills:
a wrong CHAP secret and an initiator without an ACL are refused by the target; a portal's
address is taken away while data is written through multipath, the path fails, the write
completes, the data reads back, the path returns; the target service is stopped (its
configuration cleared) and started (restored from saveconfig.json) with the same LUNs and the
data intact. Last, module_utils round trips on a scratch target: check mode plans what a real
run does, planning again plans nothing, and a failing op rolls back what the run created.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.runner import Runner
from ansible_collections.strata.storage.plugins.module_utils.iscsi import info, lio
from ansible_collections.strata.storage.plugins.module_utils.iscsi.lio_executor import LioExecutor, RtslibBackend
from ansible_collections.strata.storage.plugins.module_utils.iscsi.target import run_target
from ansible_collections.strata.storage.plugins.module_utils.iscsi.target_planner import TARGET_SPEC

WWN = "iqn.2026-01.lab.strata:scenario"
CLIENT = "iqn.2026-01.lab.strata:client"
WORK = "/var/tmp/strata-iscsi"
CFS = "/sys/kernel/config/target"
TPG = "%s/iscsi/%s/tpgt_1" % (CFS, WWN)
ADDR2 = "10.213.0.1"
LINK = "strata-isc0"
MAPS = ("strata_lv", "strata_file")
SAVE = "/etc/rtslib-fb-target/saveconfig.json"

pytestmark = pytest.mark.skipif(not os.path.isdir(TPG), reason="the iscsi Molecule scenario has not converged here")


def run(*cmd, check=False):
    proc = subprocess.run(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    out = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
    if check and proc.returncode != 0:
        raise AssertionError("%s: rc %d: %s" % (" ".join(cmd), proc.returncode, out[1]))
    return proc.returncode, out[0], out[1]


def sh(script):
    return run("bash", "-c", script, check=True)[1]


def read(path):
    with open(path) as handle:
        return handle.read().strip()


def wait_until(what, predicate, timeout=120, interval=1.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ds waiting for %s" % (timeout, what))
        time.sleep(interval)


def path_states():
    """{map name: [(dev, dm state, checker state)]} from `multipathd show paths` (the tool)."""
    out = sh("multipathd show paths raw format '%m %d %t %T'")
    states = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            states.setdefault(parts[0], []).append((parts[1], parts[2], parts[3]))
    return states


def all_paths_active():
    states = path_states()
    return all(len(states.get(m, [])) == 2 and all(s[1] == "active" and s[2] == "ready" for s in states[m]) for m in MAPS)


def sha256_of(path, offset_mb, size_mb):
    sh("sync; echo 3 > /proc/sys/vm/drop_caches")
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY)
    try:
        os.lseek(fd, offset_mb << 20, os.SEEK_SET)
        left = size_mb << 20
        while left:
            chunk = os.read(fd, min(left, 1 << 20))
            assert chunk, "short read on %s" % path
            digest.update(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    return digest.hexdigest()


def ordered(value):
    """Lists sorted, so that two dumps of one configuration compare equal (rtslib lists objects
    in configfs directory order, which `targetctl restore` changes)."""
    if isinstance(value, dict):
        return {k: ordered(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((ordered(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def running_config():
    """The running LIO configuration as `targetctl save` would write it (rtslib's own dump)."""
    import rtslib_fb            # the guest's python3-rtslib-fb, as targetctl uses it
    return ordered(json.loads(json.dumps(rtslib_fb.RTSRoot().dump())))


# ---------------------------------------------------------------- the converged state
def test_target_as_configfs_shows_it():
    assert read(TPG + "/enable") == "1"
    attrib = {name: read("%s/attrib/%s" % (TPG, name)) for name in
              ("generate_node_acls", "demo_mode_discovery", "authentication", "cache_dynamic_acls")}
    assert attrib == {"generate_node_acls": "0", "demo_mode_discovery": "0", "authentication": "1",
                      "cache_dynamic_acls": "0"}
    assert sorted(os.listdir(TPG + "/np")) == sorted(["127.0.0.1:3260", "%s:3260" % ADDR2])
    assert sorted(os.listdir(TPG + "/lun")) == ["lun_0", "lun_1"]
    acl = "%s/acls/%s" % (TPG, CLIENT)
    assert sorted(os.listdir(TPG + "/acls")) == [CLIENT]
    assert read(acl + "/auth/userid") == "client" and read(acl + "/auth/userid_mutual") == "scenario"
    assert read(acl + "/auth/password") not in ("", "NULL") and read(acl + "/auth/authenticate_target") == "1"
    assert sorted(e for e in os.listdir(acl) if e.startswith("lun_")) == ["lun_0", "lun_1"]
    assert read("%s/iscsi/discovery_auth/enforce_discovery_auth" % CFS) == "1"
    so = {}
    for entry in os.listdir(CFS + "/core"):
        for name in os.listdir("%s/core/%s" % (CFS, entry)):
            if name.startswith("strata_"):
                so[name] = "%s/core/%s/%s" % (CFS, entry, name)
    assert read(so["strata_lv"] + "/udev_path") == "/dev/iscsi_vg/export0"
    assert read(so["strata_file"] + "/attrib/emulate_write_cache") == "0"      # write-back off
    assert "O_DSYNC" in read(so["strata_file"] + "/info")
    assert read(so["strata_lv"] + "/wwn/vpd_unit_serial").endswith("1c5c51a0-0000-4000-8000-0000000000e1")
    assert not any(name == "strata_bad" for name in so)                       # bad input made nothing


def test_saved_configuration_is_the_running_one_and_private():
    st = os.stat(SAVE)
    assert st.st_mode & 0o777 == 0o600
    with open(SAVE) as handle:
        saved = ordered(json.load(handle))
    assert saved == running_config()
    assert WWN in [t["wwn"] for t in saved["targets"]]
    backups = [f for f in os.listdir(os.path.dirname(SAVE)) if ".strata-bak." in f]
    assert backups, "the CHAP rotation kept the older copy"
    assert all(os.stat(os.path.join(os.path.dirname(SAVE), f)).st_mode & 0o777 == 0o600 for f in backups)


def test_initiator_records_and_sessions():
    record = sh("iscsiadm -m node -T %s -p %s" % (WWN, ADDR2))
    assert "node.conn[0].timeo.noop_out_interval = 2" in record       # the module's settings option
    out = sh("iscsiadm -m session")
    assert out.count(WWN) == 2 and "127.0.0.1:3260,1" in out and "%s:3260,1" % ADDR2 in out
    record = sh("iscsiadm -m node -T %s -p 127.0.0.1" % WWN)
    assert "node.session.auth.authmethod = CHAP" in record
    assert "node.session.auth.password = ********" in record and "node.startup = automatic" in record
    for root, _dirs, files in os.walk("/etc/iscsi/nodes/%s" % WWN):
        for name in files:
            assert os.stat(os.path.join(root, name)).st_mode & 0o777 == 0o600
    assert read("/etc/iscsi/initiatorname.iscsi").endswith("InitiatorName=%s" % CLIENT)


def test_one_multipath_device_per_lun_and_no_local_disk_in_multipath():
    states = path_states()
    for name in MAPS:
        assert [s[1:] for s in states[name]] == [("active", "ready")] * 2, states
    assert 'devnode "^vd[a-z]+"' in sh("multipath -t")            # the conf.d blacklist still applies
    for dm in os.listdir("/sys/block"):
        if dm.startswith("dm-") and read("/sys/block/%s/dm/uuid" % dm).startswith("mpath-"):
            assert not any(s.startswith("vd") for s in os.listdir("/sys/block/%s/slaves" % dm))


def test_data_reads_back_through_multipath_and_each_path():
    for name in MAPS:
        want = read("%s/%s.sha256" % (WORK, name))
        assert sha256_of("/dev/mapper/" + name, 0, 8) == want
        first = sha256_of("/dev/mapper/" + name, 0, 2)
        for dev, _dm, _chk in path_states()[name]:
            assert sha256_of("/dev/" + dev, 0, 2) == first


# ---------------------------------------------------------------- refusals by the target
def _iface_login(iface, initiator=None, password=None):
    """Log in to the target through a throwaway iface record; returns (rc, stderr, kernel log)."""
    run("iscsiadm", "-m", "iface", "-I", iface, "-o", "new", check=True)
    try:
        if initiator:
            run("iscsiadm", "-m", "iface", "-I", iface, "-o", "update", "-n", "iface.initiatorname", "-v", initiator, check=True)
        run("iscsiadm", "-m", "node", "-T", WWN, "-p", "127.0.0.1", "-I", iface, "-o", "new", check=True)
        # test-only credentials; the real ones are never on a command line
        for key, value in (("node.session.auth.authmethod", "CHAP"), ("node.session.auth.username", "client"),
                           ("node.session.auth.password", password or "not-the-secret-0000")):
            run("iscsiadm", "-m", "node", "-T", WWN, "-p", "127.0.0.1", "-I", iface, "-o", "update",
                "-n", key, "-v", value, check=True)
        mark = len(sh("dmesg"))
        rc, _out, err = run("iscsiadm", "-m", "node", "-T", WWN, "-p", "127.0.0.1", "-I", iface, "--login")
        return rc, err, sh("dmesg")[mark:]
    finally:
        run("iscsiadm", "-m", "node", "-T", WWN, "-p", "127.0.0.1", "-I", iface, "--logout")
        run("iscsiadm", "-m", "node", "-T", WWN, "-p", "127.0.0.1", "-I", iface, "-o", "delete")
        run("iscsiadm", "-m", "iface", "-I", iface, "-o", "delete")


def _client_sessions_on_target():
    return read("%s/acls/%s/info" % (TPG, CLIENT)).count("TARG_CONN_STATE_LOGGED_IN")


def test_wrong_chap_secret_is_refused_by_the_target():
    before = _client_sessions_on_target()
    rc, err, kernel = _iface_login("strata-wrong")
    assert rc == 24 and "authorization failure" in err, err
    assert "login" in kernel.lower() or "chap" in kernel.lower(), kernel
    assert _client_sessions_on_target() == before


def test_initiator_without_acl_is_refused_and_sees_nothing():
    rc, err, kernel = _iface_login("strata-intruder", initiator="iqn.2026-01.lab.strata:intruder")
    assert rc == 24 and "authorization failure" in err, err
    assert "iqn.2026-01.lab.strata:intruder is not authorized" in kernel, kernel
    run("iscsiadm", "-m", "iface", "-I", "strata-intruder", "-o", "new", check=True)
    try:
        run("iscsiadm", "-m", "iface", "-I", "strata-intruder", "-o", "update", "-n", "iface.initiatorname",
            "-v", "iqn.2026-01.lab.strata:intruder", check=True)
        rc, out, err = run("iscsiadm", "-m", "discoverydb", "-t", "st", "-p", "127.0.0.1", "-I", "strata-intruder",
                           "--discover", "-o", "nonpersistent")
        assert WWN not in out and rc != 0, (rc, out, err)       # no discovery CHAP, and no ACL either
    finally:
        run("iscsiadm", "-m", "iface", "-I", "strata-intruder", "-o", "delete")


# ---------------------------------------------------------------- a portal down, I/O running
def test_portal_down_io_continues_path_returns():
    data = os.urandom(8 << 20)
    want = hashlib.sha256(data).hexdigest()
    with open(WORK + "/failover.data", "wb") as handle:
        handle.write(data)
    started = time.monotonic()
    writer = subprocess.Popen(["dd", "if=%s/failover.data" % WORK, "of=/dev/mapper/strata_lv", "bs=64k", "conv=nocreat,notrunc",
                               "seek=512", "oflag=direct", "status=none"], stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)
        run("ip", "addr", "del", "%s/32" % ADDR2, "dev", LINK, check=True)
        failed = wait_until("a failed path", lambda: [p for m in MAPS for p in path_states().get(m, []) if p[1] == "failed"],
                            timeout=90)
        report = info.gather(Runner(_Local()), ["multipath"])
        assert any("paths failed" in problem for problem in report["problems"]), report["problems"]
        assert writer.wait(timeout=120) == 0, writer.stderr.read()
        print("failover: path failed after %.0fs, write done after %.0fs (%s)" % (
            time.monotonic() - started, time.monotonic() - started, failed[0][0]))
        assert sha256_of("/dev/mapper/strata_lv", 32, 8) == want
    finally:
        if writer.poll() is None:
            writer.wait(timeout=180)
        run("ip", "addr", "add", "%s/32" % ADDR2, "dev", LINK)
    wait_until("both paths active again", all_paths_active, timeout=120)
    assert info.gather(Runner(_Local()), ["multipath"])["problems"] == []
    assert sha256_of("/dev/mapper/strata_lv", 0, 8) == read(WORK + "/strata_lv.sha256")
    os.unlink(WORK + "/failover.data")


# ---------------------------------------------------------------- target service restart
def test_target_service_stop_clears_and_start_restores_the_same_luns():
    before = running_config()
    sh("systemctl start rtslib-fb-targetctl.service")     # enabled by the role, not started: restore once
    assert running_config() == before
    sh("systemctl stop rtslib-fb-targetctl.service")      # ExecStop: targetctl clear
    assert not os.path.isdir(TPG) and running_config()["targets"] == []
    sh("systemctl start rtslib-fb-targetctl.service")     # ExecStart: targetctl restore (saveconfig.json)
    assert running_config() == before
    wait_until("the initiator's sessions and paths back", all_paths_active, timeout=150)
    for name in MAPS:
        assert sha256_of("/dev/mapper/" + name, 0, 8) == read("%s/%s.sha256" % (WORK, name))


# ---------------------------------------------------------------- module_utils round trips
class _Local:
    """What Runner needs of AnsibleModule (as tests/live/conftest.py's LocalModule)."""

    def __init__(self, params=None, check_mode=False):
        self.params = params or {}
        self.check_mode = check_mode

    def run_command(self, cmd, check_rc=False, environ_update=None, data=None, binary_data=False):
        env = dict(os.environ, **(environ_update or {}))
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def _params(**kwargs):
    params = {name: spec.get("default") for name, spec in TARGET_SPEC.items()}
    params.update(save=False)
    params.update(kwargs)
    for item in params.get("backstores") or []:
        for key, spec in {"type": "block", "attributes": {}, "state": "present"}.items():
            item.setdefault(key, spec)
    for tpg in params.get("tpgs") or []:
        for key, value in {"tag": 1, "state": "present", "enable": True, "attributes": {}, "parameters": {},
                           "portals": [], "luns": [], "acls": []}.items():
            tpg.setdefault(key, value)
        for portal in tpg["portals"]:
            portal.setdefault("port", 3260)
            portal.setdefault("state", "present")
        for lun in tpg["luns"]:
            lun.setdefault("state", "present")
        for acl in tpg["acls"]:
            acl.setdefault("attributes", {})
            acl.setdefault("state", "present")
    return params


def _scratch(portal="127.0.0.1"):
    return _params(wwn="iqn.2026-01.lab.strata:live", backstores=[
        {"name": "strata_live", "type": "fileio", "file": WORK + "/live.img", "size": "8M"}],
        tpgs=[{"portals": [{"ip": portal, "port": 3262}], "luns": [{"index": 0, "backstore": "strata_live"}],
               "acls": [{"initiator": "iqn.2026-01.lab.strata:live-client",
                         "chap": {"userid": "live", "password": "live-secret-0123"}}]}])


def _ops(runner):
    return [(a.get("lio"), a.get("args")) for a in runner.actions if "lio" in a]


def test_check_mode_plans_what_the_real_run_does_and_a_rerun_plans_nothing():
    before = running_config()
    check = Runner(_Local(_scratch(), check_mode=True))
    _plan, predicted = run_target(check.module, check)
    assert running_config() == before                      # check mode changed nothing
    real = Runner(_Local(_scratch()))
    try:
        _plan, result = run_target(real.module, real)
        assert _ops(real) == _ops(check) and len(_ops(real)) >= 8
        again = Runner(_Local(_scratch()))
        _plan, result2 = run_target(again.module, again)
        assert again.actions == [] and again.reads == [lio.READ_MARK] and not result2["changed"]
        assert predicted["target"]["tpgs"][0]["portals"] == result["target"]["tpgs"][0]["portals"]
    finally:
        cleanup = Runner(_Local(_params(wwn="iqn.2026-01.lab.strata:live", state="absent", backstores=[
            {"name": "strata_live", "type": "fileio", "state": "absent"}])))
        run_target(cleanup.module, cleanup)
        if os.path.exists(WORK + "/live.img"):
            os.unlink(WORK + "/live.img")
    assert running_config() == before


class _RefusingTpgAttributes(RtslibBackend):
    """The real backend, with the kernel refusing the TPG's attributes: a refusal the planner cannot
    foresee (the ranges it knows it refuses at plan time), after a backstore, the target and the TPG
    were created; the undo runs through the real rtslib."""

    def _tpg_attributes(self, a, _secrets):
        raise OSError(22, "Invalid argument (refused by the test)")


def test_a_failing_op_rolls_back_what_the_run_created():
    before = running_config()
    runner = Runner(_Local(_scratch()))
    with pytest.raises(Exception) as exc:
        run_target(runner.module, runner, executor=LioExecutor(runner, backend=_RefusingTpgAttributes()))
    assert "set attributes of TPG 1" in exc.value.msg and "removed again" in exc.value.msg, exc.value.msg
    undone = [entry["lio"] for entry in exc.value.rolled_back]
    assert undone == ["tpg_delete", "target_delete", "backstore_delete"], undone
    assert running_config() == before and not os.path.exists(WORK + "/live.img")


def test_a_portal_on_a_foreign_address_is_a_warning():
    runner = Runner(_Local(_scratch(portal="192.0.2.77"), check_mode=True))
    plan, _result = run_target(runner.module, runner)
    assert any("192.0.2.77 is not an address of this host" in w for w in plan.warnings)
