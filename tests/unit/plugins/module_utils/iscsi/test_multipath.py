# -*- coding: utf-8 -*-
"""multipath.conf rendering, and the maps multipathd reported in the VM with both paths up and
with one portal's address taken away."""
from __future__ import annotations

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.iscsi import multipath
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.iscsi.helpers import CAPTURE, text


def test_render():
    conf = multipath.render({
        "defaults": {"user_friendly_names": True, "find_multipaths": "yes", "polling_interval": 2},
        "blacklist": [{"devnode": "^vd[a-z]+"}, {"device": {"vendor": "QEMU", "product": ".*"}}],
        "blacklist_exceptions": [{"property": "(SCSI_IDENT_|ID_WWN)"}],
        "devices": [{"vendor": "LIO-ORG", "product": ".*", "no_path_retry": 12}],
        "multipaths": [{"wwid": "36001405abc", "alias": "lab_db"}]})
    assert conf == multipath.HEADER + "\n".join([
        "defaults {", "\tfind_multipaths yes", "\tpolling_interval 2", "\tuser_friendly_names yes", "}",
        "blacklist {", '\tdevnode "^vd[a-z]+"', '\tdevice {', '\t\tvendor "QEMU"', '\t\tproduct ".*"', "\t}", "}",
        "blacklist_exceptions {", '\tproperty "(SCSI_IDENT_|ID_WWN)"', "}",
        "devices {", "\tdevice {", '\t\tvendor "LIO-ORG"', '\t\tproduct ".*"', "\t\tno_path_retry 12", "\t}", "}",
        "multipaths {", "\tmultipath {", '\t\twwid "36001405abc"', "\t\talias lab_db", "\t}", "}", ""])


@pytest.mark.parametrize("params, message", [
    ({"defaults": {"config_dir": "/tmp"}}, "config_dir is not set here"),
    ({"defaults": {"alias_prefix": 'x"y'}}, "one line without quotes"),
    ({"defaults": {"Bad-Key": 1}}, "not a multipath.conf keyword"),
    ({"blacklist": [{"devnode": "^vd[a-z"}]}, "not a regular expression"),
    ({"blacklist": [{"colour": "red"}]}, "unknown key colour"),
    ({"blacklist": [{}]}, "is empty"),
    ({"blacklist": [{"device": {"product": "x"}}]}, "device needs vendor"),
    ({"devices": [{"product": "x"}]}, "vendor is required"),
    ({"multipaths": [{"alias": "x"}]}, "wwid is required"),
    ({"multipaths": [{"wwid": "1", "alias": "a"}, {"wwid": "1", "alias": "b"}]}, "listed twice"),
    ({"multipaths": [{"wwid": "1", "alias": "a"}, {"wwid": "2", "alias": "a"}]}, "used twice"),
    ({"multipaths": [{"wwid": "1", "alias": "a/b"}]}, "not a valid device-mapper name"),
])
def test_render_refusals(params, message):
    with pytest.raises(StrataError, match=message):
        multipath.render(params)


def test_maps_both_paths_and_one_failed():
    maps = multipath.parse_maps(text("multipathd_maps.json"))
    assert [(m["active_paths"], m["failed_paths"], len(m["paths"])) for m in maps] == [(2, 0, 2), (2, 0, 2)]
    assert all(m["wwid"].startswith("36001405") and m["device"] == "/dev/mapper/" + m["name"] for m in maps)
    assert {p["target"] for m in maps for p in m["paths"]} == {CAPTURE}
    failed = multipath.parse_maps(text("multipathd_maps_one_failed.json"))
    assert [(m["active_paths"], m["failed_paths"]) for m in failed] == [(1, 1), (1, 1)]
    bad = [p for m in failed for p in m["paths"] if p["dm_state"] == "failed"]
    assert [p["checker_state"] for p in bad] == ["faulty", "faulty"]
    with pytest.raises(StrataError, match="no JSON"):
        multipath.parse_maps("ux_socket_connect: Connection refused")
