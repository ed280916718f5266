# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Runner
from ansible_collections.strata.storage.plugins.module_utils.nfs import exports
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.nfs.nfs_fixtures import snapshot_state, snapshots

A = "/etc/exports.d/capture-a.exports"
B = "/etc/exports.d/capture-b.exports"


def test_exports_files_parsed_like_nfs_utils_applied_them():
    state, snap = snapshot_state("applied")
    by_client = dict(((e["path"], e["client"]), e["options"]) for e in state.entries)
    assert by_client[("/srv/capture c", "10.1.0.0/16")] == ["ro", "no_subtree_check", "rw"]    # "-defaults" first
    assert by_client[("/srv/capture c", "@trusted")] == ["ro", "no_subtree_check"]
    assert by_client[("/srv/capture-b", "*")][:2] == ["ro", "all_squash"]
    # every entry of the files is in the live table with the same effective flags, and nothing else is
    live = dict(((e["path"], e["client"]), e["options"]) for e in state.live)
    assert set(live) == set(by_client)
    for key, options in by_client.items():
        assert exports.effective(options) == exports.effective(live[key]), key
    assert exports.differences(state) == []


def test_etab_and_exportfs_s_agree():
    for name in ("applied", "added_by_hand", "unknown_option"):
        snap = snapshots()[name]
        etab = exports.parse_table(snap["etab"], "etab")
        shown = exports.parse_table(snap["exportfs_s"], "exportfs -s")
        assert sorted((e["path"], e["client"]) for e in etab) == sorted((e["path"], e["client"]) for e in shown)
        for a in etab:
            b = [e for e in shown if (e["path"], e["client"]) == (a["path"], a["client"])][0]
            assert exports.effective(a["options"]) == exports.effective(b["options"])


def test_kernel_cache_parsed_while_mounted():
    state, _snap = snapshot_state("mounted_v4")
    assert state.kernel is not None
    assert {"/srv/capture-a", "/", "/srv"} <= set(e["path"] for e in state.kernel)


def test_changed_but_not_applied_is_warned():
    state, _snap = snapshot_state("changed_not_applied")
    warnings = exports.differences(state)
    assert len(warnings) == 1
    assert "/srv/capture-a to 127.0.0.1 is exported with access rw (files say ro), squash root_squash (files say " \
           "no_root_squash)" in warnings[0] and "run exportfs -ra" in warnings[0]


def test_added_by_hand_is_warned():
    warnings = exports.differences(snapshot_state("added_by_hand")[0])
    assert warnings == ["/srv/capture-a to 127.0.0.2 is exported (ro,sync,wdelay,hide,nocrossmnt,secure,root_squash,"
                        "no_all_squash,no_subtree_check,secure_locks,acl,no_pnfs,anonuid=65534,anongid=65534,sec=sys,ro,"
                        "secure,root_squash,no_all_squash) but in no exports file: it was added by hand (exportfs -o) "
                        "and goes away at the next exportfs -ra"]


def test_an_entry_exportfs_refused_is_warned():
    state, snap = snapshot_state("unknown_option")
    assert 'unknown keyword "bogus"' in snap["exportfs_ra_stderr"] and snap["exportfs_ra_rc"] == 1
    warnings = exports.differences(state)
    assert len(warnings) == 1 and warnings[0].startswith("/srv/capture-a to 127.0.0.1 (%s line 1) is not in the live" % A)


def req(**item):
    return exports.request_from_params(dict({"name": "lab", "path": "/srv/lab", "clients": [{"host": "127.0.0.1"}]}, **item))


def test_secure_defaults_are_written_out():
    r = req(clients=[{"host": "127.0.0.1", "options": ["rw"]}, {"host": "192.0.2.0/24", "options": "sec=krb5p:krb5i,ro"}])
    assert exports.render(r) == exports.HEADER + (
        "/srv/lab 127.0.0.1(rw,sync,root_squash,secure,no_subtree_check) "
        "192.0.2.0/24(ro,sync,root_squash,secure,no_subtree_check,sec=krb5p:krb5i)\n")
    r = req(fsid="7", path="/srv/with space")
    assert exports.render(r).endswith('"/srv/with space" 127.0.0.1(ro,sync,root_squash,secure,no_subtree_check,fsid=7)\n')
    # what we write, nfs-utils' own parser reads back the same way
    entries = exports.parse_exports(exports.render(r), "x")
    assert entries[0]["path"] == "/srv/with space" and entries[0]["options"][-1] == "fsid=7"


@pytest.mark.parametrize("item,why", [
    ({"clients": [{"host": "127.0.0.1", "options": ["rw", "bogus"]}]}, "option 'bogus' is not an NFS export option"),
    ({"clients": [{"host": "127.0.0.1", "options": ["rw", "ro"]}]}, "options ro and rw exclude each other"),
    ({"clients": [{"host": "*", "options": ["ro"]}]}, "'*' lets every host on the network mount /srv/lab"),
    ({"clients": [{"host": "0.0.0.0/0"}]}, "lets every host"),
    ({"clients": [{"host": "127.0.0.1", "options": ["no_root_squash"]}]}, "no_root_squash gives root on the client root"),
    ({"clients": [{"host": "127.0.0.1", "options": ["insecure"]}]}, "insecure accepts requests from unprivileged ports"),
    ({"clients": [{"host": "127.0.0.1", "options": ["sec=krb5:ntlm"]}]}, "security flavor ntlm is not one of"),
    ({"clients": [{"host": "127.0.0.1", "options": ["anonuid=nobody"]}]}, "anonuid must be a number"),
    ({"clients": [{"host": "127.0.0.1", "options": ["fsid=abc"]}]}, "fsid 'abc' is not a number, root or a UUID"),
    ({"clients": [{"host": "127.0.0.1", "options": ["rw", "rw"]}]}, "option rw is given twice"),
    ({"clients": [{"host": "bad host"}]}, "is not a host name"),
    ({"clients": []}, "has no clients"),
    ({"path": "srv/lab"}, "is not a plain absolute path"),
    ({"name": "../etc"}, "cannot be a file name"),
])
def test_bad_input_refused(item, why):
    with pytest.raises(StrataError) as exc:
        req(**item)
    assert why in exc.value.msg


def test_allow_flags_let_the_risky_options_through():
    r = req(allow_world=True, allow_no_root_squash=True, allow_insecure=True,
            clients=[{"host": "*", "options": ["rw", "no_root_squash", "insecure"]}])
    assert r.clients[0].options == ["rw", "sync", "no_root_squash", "insecure", "no_subtree_check"]


def test_plan_writes_then_applies_once_and_nothing_when_in_place():
    state, _snap = snapshot_state("applied")
    p = exports.plan_exports([req(), req(name="two", path="/srv/two")], state, isdir=lambda p: True)
    assert [a.path or a.cmd for a in p.actions] == [
        "/etc/exports.d/lab.exports", "/etc/exports.d/two.exports", ["exportfs", "-ra"]]
    state.files["/etc/exports.d/lab.exports"] = exports.render(req())
    state.files["/etc/exports.d/two.exports"] = exports.render(req(name="two", path="/srv/two"))
    assert exports.plan_exports([req(), req(name="two", path="/srv/two")], state, isdir=lambda p: True).actions == []


def test_plan_refusals():
    state, _snap = snapshot_state("applied")
    with pytest.raises(StrataError) as exc:
        exports.plan_exports([req()], state, isdir=lambda p: False)
    assert "/srv/lab does not exist or is not a directory" in exc.value.msg
    with pytest.raises(StrataError) as exc:
        exports.plan_exports([req(path="/srv/capture-a")], state, isdir=lambda p: True)
    assert "/srv/capture-a is exported in %s:2 already" % A in exc.value.msg
    with pytest.raises(StrataError) as exc:
        exports.plan_exports([req(fsid="7")], state, isdir=lambda p: True)
    assert "fsid=7 is used by /srv/capture-b already" in exc.value.msg


def test_removal_sets_the_file_aside_and_applies():
    state, _snap = snapshot_state("applied")
    p = exports.plan_exports([exports.request_from_params({"name": "capture-a", "state": "absent"})], state)
    assert isinstance(p.actions[0], exports.FileRemoval) and p.actions[0].path == A
    assert p.actions[1].cmd == ["exportfs", "-ra"]
    assert p.before["capture-a"]["state"] == "present" and p.after["capture-a"] == {"state": "absent", "file": A}


def test_read_state_reads_files_from_python(tmp_path):
    class Module:
        check_mode = False
    snap = snapshots()["applied"]
    d = tmp_path / "exports.d"
    d.mkdir()
    for path, text in snap["files"].items():
        (d / path.rsplit("/", 1)[1]).write_text(text)
    (d / "capture-a.exports.strata-bak.1").write_text("/srv/old 127.0.0.1(rw)\n")     # not read by exportfs
    (tmp_path / "etab").write_text(snap["etab"])
    runner = Runner(Module())
    state = exports.read_state(runner, exports=str(tmp_path / "exports"), exports_d=str(d), etab=str(tmp_path / "etab"),
                               kernel=str(tmp_path / "nfsd"))
    assert len(state.entries) == 5 and state.kernel is None and len(state.live) == 5
    assert runner.reads == [["file", "read", str(tmp_path / "exports"), str(d) + "/*.exports", str(tmp_path / "etab"),
                             str(tmp_path / "nfsd")]]


@pytest.mark.parametrize("mine", ["7", "07", "0x7", "0X07"])
def test_an_fsid_is_compared_as_nfs_utils_reads_it(mine):
    """parseopts reads fsid= with strtoul(.., 0): 07 and 0x7 are fsid 7, which capture-b uses."""
    state, _snap = snapshot_state("applied")
    with pytest.raises(StrataError) as exc:
        exports.plan_exports([req(fsid=mine)], state, isdir=lambda p: True)
    assert "is used by /srv/capture-b already" in exc.value.msg


def test_two_new_exports_with_one_fsid_are_refused():
    state, _snap = snapshot_state("applied")
    with pytest.raises(StrataError) as exc:
        exports.plan_exports([req(fsid="0x63"), req(name="two", path="/srv/two", fsid="99")], state,
                             isdir=lambda p: True)
    assert "export two: fsid=99 is used by /srv/lab already" in exc.value.msg


@pytest.mark.parametrize("value,key", [("root", "0"), ("0", "0"), ("010", "8"), ("0x10", "16"), ("4294967295", "4294967295"),
                                       ("4294967296", None), ("08", None), ("-1", None), ("abc", None),
                                       ("0123456789ABCDEF0123456789abcdef", "uuid:0123456789abcdef0123456789abcdef"),
                                       ("01234567-89ab-cdef-0123-456789abcdef", "uuid:0123456789abcdef0123456789abcdef")])
def test_fsid_key(value, key):
    assert exports.fsid_key(value) == key


@pytest.mark.parametrize("host", ["*", "**", "0.0.0.0/0", "0/0", "0.0.0.0/0.0.0.0", "10.0.0.0/0", "::/0", "0::0/0",
                                  "2001:db8::/0"])
def test_every_spelling_of_the_world_needs_allow_world(host):
    """exports(5) takes address/netmask as well as a prefix length: 0.0.0.0/0.0.0.0 lets every host in."""
    with pytest.raises(StrataError) as exc:
        req(clients=[{"host": host}])
    assert "lets every host on the network mount" in exc.value.msg
    assert req(clients=[{"host": host}], allow_world=True).clients[0].host == host


@pytest.mark.parametrize("host", ["192.0.2.0/24", "192.0.2.0/255.255.255.0", "*.example.com", "@trusted", "2001:db8::/32",
                                  "client?.example.com"])
def test_narrower_clients_need_no_flag(host):
    assert req(clients=[{"host": host}]).clients[0].host == host
