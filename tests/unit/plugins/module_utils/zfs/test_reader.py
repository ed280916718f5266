# -*- coding: utf-8 -*-
"""The ZFS reader on real output captured in the VM (tests/fixtures/zfs/2.1.11)."""
from __future__ import annotations

from ansible_collections.strata.storage.plugins.module_utils.zfs import reader
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.zfs.zfs_fixtures import CAP, zfs_fixture


def status(name):
    return reader.parse_pool_status(zfs_fixture(name))


def test_pool_list_is_exact_numbers():
    pools = reader.parse_pool_list(zfs_fixture("pool_list.txt"))
    assert sorted(pools) == ["cap_mirror", "cap_raidz", "cap_stripe"]
    assert pools["cap_mirror"]["health"] == "ONLINE"
    assert int(pools["cap_raidz"]["size"]) > int(pools["cap_mirror"]["size"])


def test_pool_get_keeps_sources():
    props = reader.parse_pool_get(zfs_fixture("pool_get_all.txt"))
    assert props["cap_mirror"]["ashift"] == ("12", "local")
    assert props["cap_mirror"]["autotrim"] == ("on", "local")
    assert props["cap_raidz"]["autotrim"] == ("off", "default")
    assert props["cap_mirror"]["feature@encryption"][0] in ("enabled", "active")


def test_status_roles_and_layouts():
    st = status("status_healthy.txt")
    mirror = st["cap_mirror"]
    assert [v.type for v in mirror.vdevs["data"]] == ["mirror"]
    assert [lf.name for lf in mirror.vdevs["data"][0].leaves()] == [CAP + "/v1", CAP + "/v2"]
    assert mirror.vdevs["special"][0].type == "mirror"
    assert [v.name for v in mirror.vdevs["log"]] == [CAP + "/v5"]
    assert [v.name for v in mirror.vdevs["cache"]] == [CAP + "/v6"]
    assert mirror.vdevs["spare"][0].state == "AVAIL"
    raidz = st["cap_raidz"]
    assert [(v.type, v.parity, len(v.children)) for v in raidz.vdevs["data"]] == [("raidz", 2, 3), ("raidz", 2, 3)]
    assert st["cap_stripe"].vdevs["data"][0].type == "file"
    assert mirror.scan.function == "none" and mirror.data_errors == 0


def test_resilver_in_progress_and_replacing_group():
    st = status("status_replacing.txt")["cap_mirror"]
    assert st.state == "DEGRADED"
    assert st.scan.function == "resilver" and st.scan.state == "scanning"
    assert 0 < st.scan.percent < 100
    top = st.vdevs["data"][0]
    replacing = [c for c in top.children if c.type == "replacing"][0]
    assert [c.name for c in replacing.children] == [CAP + "/v2", CAP + "/v15"]
    assert "(resilvering)" in replacing.children[1].note
    # once the resilver ends the mirror is v1 + the new device
    assert [lf.path for lf in top.current_leaves()] == [CAP + "/v1", CAP + "/v15"]


def test_offline_then_resilvered():
    off = status("status_offline.txt")["cap_mirror"]
    assert [lf.state for lf in off.vdevs["data"][0].leaves()] == ["ONLINE", "OFFLINE"]
    done = status("status_resilvered.txt")["cap_mirror"]
    assert done.state == "ONLINE"
    assert done.scan.function == "resilver" and done.scan.state == "finished" and done.scan.errors == 0


def test_missing_device_shown_by_guid_with_its_old_path():
    st = status("status_missing.txt")["cap_raidz"]
    leaf = st.vdevs["data"][0].children[1]
    assert leaf.type == "missing" and leaf.state == "UNAVAIL" and leaf.name.isdigit()
    assert leaf.was == CAP + "/v9" and leaf.path == CAP + "/v9"


def test_scrub_repaired_checksum_errors():
    st = status("status_scrub_repaired.txt")["cap_mirror"]
    assert st.scan.function == "scrub" and st.scan.state == "finished" and st.scan.errors == 0
    assert st.vdevs["data"][0].children[0].cksum > 0
    assert st.data_errors == 0


def test_permanent_errors_list_the_files():
    st = status("status_data_errors.txt")["cap_stripe"]
    assert st.scan.errors > 0
    assert st.data_errors >= 1
    assert st.error_files == ["/cap_stripe/data.bin"]
    assert "corruption" in st.status


def test_scrub_running_progress():
    st = status("status_scrub_running.txt")["cap_raidz"]
    assert st.scan.function == "scrub" and st.scan.state == "scanning" and 0 < st.scan.percent < 100


def test_import_listing_parses_like_status():
    found = status("import_list.txt")
    assert list(found) == ["cap_raidz"]
    assert found["cap_raidz"].vdevs["data"][0].type == "raidz"


def test_dataset_get_types_sources_and_relations():
    state = reader.ZfsState(datasets=reader.parse_dataset_get(zfs_fixture("dataset_get_tree.txt")))
    home = state.get("cap_mirror/home")
    assert home.type == "filesystem"
    assert home.value("quota") == "1073741824" and home.source("quota") == "local"
    assert home.source("compression") == "inherited" and home.inherited_from("compression") == "cap_mirror"
    assert home.source("dedup") == "default"
    assert state.get("cap_mirror/dst/alice").source("xattr") == "received"
    assert state.get("cap_mirror/vol").type == "volume"
    assert state.get("cap_mirror/home#s1").type == "bookmark"
    assert [s.short for s in state.snapshots("cap_mirror/home")][0] == "s1"
    assert state.clones_of("cap_mirror/home/alice@s1") == ["cap_mirror/alice_clone"]
    deps = state.dependents("cap_mirror/home")
    assert deps["children"] == ["cap_mirror/home/alice", "cap_mirror/home/bob"]
    assert deps["clones"] == ["cap_mirror/alice_clone"]
    assert deps["held"] == ["cap_mirror/home/bob@s1"]
    assert state.get("cap_mirror/secret").value("keystatus") == "available"
    assert state.get("cap_mirror/tagged").local_props()["com.example:owner"] == "ops"


def test_missing_names_from_stderr():
    missing, other = reader.missing_from_stderr(zfs_fixture("dataset_get_missing.stderr"))
    assert missing == ["cap_mirror/nope"] and other == []
    missing, other = reader.missing_from_stderr(zfs_fixture("pool_get_missing.stderr"))
    assert missing == ["nopool"]
    assert reader.missing_from_stderr("cannot open 'x': permission denied")[1]


def test_resume_token_is_a_property():
    state = reader.ZfsState(datasets=reader.parse_dataset_get(zfs_fixture("dataset_get_resume.txt")))
    assert state.get("cap_mirror/dst/big").value("receive_resume_token").startswith("1-")


def test_reader_commands_are_machine_readable():
    assert reader.pool_list_cmd()[:3] == ["zpool", "list", "-Hp"]
    assert reader.pool_get_cmd(["p"]) == ["zpool", "get", "-Hp", "-o", "name,property,value,source", "all", "p"]
    assert reader.pool_status_cmd() == ["zpool", "status", "-P", "-p", "-v"]
    assert reader.dataset_get_cmd(["p/a", "q"]) == [
        "zfs", "get", "-Hp", "-o", "name,property,value,source", "-t", "filesystem,volume,snapshot,bookmark",
        "-r", "all", "p/a", "q"]
