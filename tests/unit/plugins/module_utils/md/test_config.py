# -*- coding: utf-8 -*-
"""mdadm.conf: only our ARRAY lines and MAILADDR/PROGRAM change; everything else stays."""
from __future__ import annotations

from ansible_collections.strata.storage.plugins.module_utils.md import config
from ansible_collections.strata.storage.plugins.module_utils.md.config import ConfigRequest, Entry, plan_config, render
from ansible_collections.strata.storage.tests.unit.plugins.module_utils.md.md_fixtures import md_text

DEBIAN = md_text("mdadm.conf")     # Debian 12's file as the package installs it
R1 = Entry("cap_r1", "ae862663:d93e0472:a0dfd928:93ff5af1", "1.2", "strata-lab:cap_r1")


def cfg(**kw):
    base = dict(path="/etc/mdadm/mdadm.conf", initramfs_cmd=["update-initramfs", "-u"],
                monitor_restart_cmd=["systemctl", "try-restart", "mdmonitor.service"])
    base.update(kw)
    return ConfigRequest(**base)


def test_debian_file_gains_one_line_and_keeps_every_comment():
    new = render(DEBIAN, [R1])
    assert new.startswith(DEBIAN)
    assert new[len(DEBIAN):] == ("ARRAY /dev/md/cap_r1 metadata=1.2 name=strata-lab:cap_r1 "
                                 "UUID=ae862663:d93e0472:a0dfd928:93ff5af1\n")
    assert render(new, [R1]) == new


def test_a_correct_line_is_kept_verbatim_even_with_other_words():
    text = "ARRAY  /dev/md/cap_r1 spares=1 UUID=AE862663-D93E-0472-A0DF-D92893FF5AF1\n"
    assert render(text, [R1]) == text


def test_a_wrong_line_is_replaced_and_duplicates_dropped():
    text = ("MAILADDR root\nARRAY /dev/md127 metadata=1.2 name=strata-lab:cap_r1 UUID=ae862663:d93e0472:a0dfd928:93ff5af1\n"
            "ARRAY /dev/md/cap_r1 UUID=11111111:11111111:11111111:11111111\n# end\n")
    new = render(text, [R1])
    assert new == ("MAILADDR root\nARRAY /dev/md/cap_r1 metadata=1.2 name=strata-lab:cap_r1 "
                   "UUID=ae862663:d93e0472:a0dfd928:93ff5af1\n# end\n")


def test_continuation_lines_belong_to_their_array():
    text = "ARRAY /dev/md/other UUID=22222222:22222222:22222222:22222222\n   spares=1\nARRAY /dev/md/cap_r1\n   UUID=1:2:3:4\n"
    new = render(text, [R1])
    assert new.startswith("ARRAY /dev/md/other UUID=22222222:22222222:22222222:22222222\n   spares=1\n")
    assert "UUID=1:2:3:4" not in new and new.count("cap_r1") == 2


def test_an_absent_array_loses_its_line_only():
    text = DEBIAN + "ARRAY /dev/md/cap_r1 UUID=ae862663:d93e0472:a0dfd928:93ff5af1\nARRAY /dev/md/keep UUID=3:3:3:3\n"
    new = render(text, [Entry("cap_r1", R1.uuid, present=False)])
    assert new == DEBIAN + "ARRAY /dev/md/keep UUID=3:3:3:3\n"


def test_mailaddr_and_program_set_in_place():
    new = render(DEBIAN, [], mailaddr="ops@example.com", program="/usr/local/bin/md-event")
    assert "MAILADDR ops@example.com\n" in new and "MAILADDR root" not in new
    assert new.endswith("PROGRAM /usr/local/bin/md-event\n")
    assert config.monitor_settings(new) == {"MAILADDR": "ops@example.com", "PROGRAM": "/usr/local/bin/md-event"}


def test_plan_writes_refreshes_initramfs_and_restarts_the_monitor_only_on_change():
    assert plan_config(cfg(), [R1], render(DEBIAN, [R1])).actions == []
    plan = plan_config(cfg(), [R1], DEBIAN)
    assert [a.path or a.cmd for a in plan.actions] == ["/etc/mdadm/mdadm.conf", ["update-initramfs", "-u"]]
    plan = plan_config(cfg(mailaddr="ops@example.com"), [R1], render(DEBIAN, [R1]))
    assert [a.path or a.cmd for a in plan.actions] == [
        "/etc/mdadm/mdadm.conf", ["update-initramfs", "-u"], ["systemctl", "try-restart", "mdmonitor.service"]]
    assert plan_config(cfg(persist=False), [R1], DEBIAN).actions == []
    plan = plan_config(cfg(initramfs_cmd=None), [R1], DEBIAN)
    assert [a.path for a in plan.actions] == ["/etc/mdadm/mdadm.conf"] and "dracut" in plan.warnings[0]


def test_no_file_and_nothing_to_write_stays_absent():
    assert plan_config(cfg(), [Entry("x", present=False)], None).actions == []
    new = render(None, [R1])
    assert new.startswith("# mdadm.conf") and new.endswith(R1.uuid + "\n")


def test_default_path_debian_or_rhel():
    assert config.default_path(lambda p: True) == "/etc/mdadm/mdadm.conf"
    assert config.default_path(lambda p: False) == "/etc/mdadm.conf"


def test_request_validation_and_tools():
    bins = {"dracut": "/usr/bin/dracut"}
    req = config.config_request_from_params({"mailaddr": "a@b"}, bins.get)
    assert req.initramfs_cmd == ["/usr/bin/dracut", "--force"] and req.monitor_restart_cmd is None
    for bad in ({"mailaddr": "a b"}, {"program": "/bin/x --y"}):
        try:
            config.config_request_from_params(bad, bins.get)
        except Exception as exc:   # StrataError
            assert "spaces" in str(exc)
        else:
            raise AssertionError(bad)
