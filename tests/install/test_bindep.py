# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""bindep.txt: one profile per technology, so `bindep -b lvm` lists only LVM's packages (on the
Debian and the RHEL family alike), and no line without a profile, so that ansible-builder
(which asks bindep for the default profile) never puts a target-side tool into an image."""
from __future__ import annotations

import os
import re

import pytest

from install.support import REPO, run, tool

bindep_depends = pytest.importorskip("bindep.depends")

BINDEP = os.path.join(REPO, "bindep.txt")
TECHNOLOGIES = ("lvm", "md", "zfs", "iscsi", "multipath", "nvmeof", "nfs", "filesystems")
# the platform profiles bindep derives on each family (bindep.depends.Depends.platform_profiles)
PLATFORMS = {
    "debian": ["platform:dpkg", "platform:debian", "platform:debian-12", "platform:debian-bookworm"],
    "ubuntu": ["platform:dpkg", "platform:ubuntu", "platform:ubuntu-noble"],
    "rhel": ["platform:rpm", "platform:redhat", "platform:rhel", "platform:rhel-9"],
    "centos": ["platform:rpm", "platform:redhat", "platform:centos", "platform:centos-9"],
}
LVM = {"dpkg": {"lvm2", "thin-provisioning-tools"}, "rpm": {"lvm2", "device-mapper-persistent-data"}}


_PARSED = []


def _depends():
    """bindep.txt parsed once (bindep's parser takes about a second per parse)."""
    if not _PARSED:
        with open(BINDEP) as handle:
            _PARSED.append(bindep_depends.Depends(handle.read()))
    return _PARSED[0]


def _packages(profiles):
    return {rule[0] for rule in _depends().active_rules(profiles)}


def _lines():
    with open(BINDEP) as handle:
        return [line.split("#")[0].strip() for line in handle if line.split("#")[0].strip()]


def test_every_line_has_a_technology_profile():
    lines = _lines()
    assert len(lines) >= 15
    for line in lines:
        match = re.match(r"^(\S+)\s+\[([^\]]+)\]$", line)
        assert match, "no [profiles] on: %s" % line
        labels = match.group(2).split()
        profiles = [p for p in labels if not p.startswith(("platform:", "!"))]
        assert "target" in profiles, "every line carries the `target` profile: %s" % line
        techs = [p for p in profiles if p != "target"]
        assert len(techs) == 1 and techs[0] in TECHNOLOGIES, (
            "one technology profile of %s per line: %s" % (", ".join(TECHNOLOGIES), line))


@pytest.mark.parametrize("family", sorted(PLATFORMS))
@pytest.mark.parametrize("profile", ["default", "compile", "epel"])
def test_nothing_for_an_execution_environment(family, profile):
    """ansible-builder's assemble script runs `bindep -l newline` (the default profile),
    `bindep -b epel` and `bindep -b compile`: none of them may select a line of ours."""
    assert _packages([profile] + PLATFORMS[family]) == set()


@pytest.mark.parametrize("family", sorted(PLATFORMS))
def test_lvm_profile_lists_only_lvm(family):
    kind = PLATFORMS[family][0].split(":")[1]
    assert _packages(["lvm"] + PLATFORMS[family]) == LVM[kind]
    assert _packages(["filesystems"] + PLATFORMS[family]) == {"e2fsprogs", "xfsprogs"}


@pytest.mark.parametrize("family", sorted(PLATFORMS))
def test_each_technology_has_packages_and_target_has_them_all(family):
    union = set()
    for tech in TECHNOLOGIES:
        packages = _packages([tech] + PLATFORMS[family])
        assert packages, "%s: no package for %s" % (family, tech)
        union |= packages
    assert _packages(["target"] + PLATFORMS[family]) == union


def test_bindep_command_on_this_host():
    """The documented command, as a user runs it on this host (a dpkg or rpm system)."""
    bindep = tool("bindep")
    out = run([bindep, "--file", BINDEP, "--list_all", "newline", "lvm"], cwd=REPO).stdout.split()
    kind = "dpkg" if "platform:dpkg" in _depends().platform_profiles() else "rpm"
    assert set(out) == LVM[kind]
    assert run([bindep, "--file", BINDEP, "--list_all", "newline"], cwd=REPO).stdout.split() == []
