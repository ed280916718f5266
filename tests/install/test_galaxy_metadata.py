# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""galaxy.yml says what exists: its description names every technology that has modules (and
none that has not), its tags include each of them, and its links are the ones the README gives."""
from __future__ import annotations

import glob
import os

import pytest

from install.support import REPO, galaxy_meta

# module prefix -> (the name the description uses, the Galaxy tag). A new technology adds its
# entry here, its line to galaxy.yml's description and its tag to galaxy.yml's tags.
TECHNOLOGIES = {
    "lvm": ("LVM", "lvm"),
    "k8s": ("Kubernetes", "kubernetes"),
    "md": ("md RAID", "raid"),
    "zfs": ("ZFS", "zfs"),
    "iscsi": ("iSCSI", "iscsi"),
    "multipath": ("multipath", "multipath"),
    "nvmeof": ("NVMe-oF", "nvme"),
    "nfs": ("NFS", "nfs"),
}
# modules that span technologies (not a technology of their own)
CROSS = {"storage"}


def _present():
    prefixes = {os.path.basename(p).split("_")[0] for p in glob.glob(os.path.join(REPO, "plugins", "modules", "*_*.py"))}
    return prefixes - CROSS


def test_known_technologies():
    unknown = _present() - set(TECHNOLOGIES)
    assert not unknown, "add %s to TECHNOLOGIES in %s" % (sorted(unknown), os.path.basename(__file__))


@pytest.mark.parametrize("prefix", sorted(TECHNOLOGIES))
def test_description_and_tags_list_what_exists(prefix):
    meta = galaxy_meta()
    name, tag = TECHNOLOGIES[prefix]
    lines = meta["description"]  # folded: one technology per source line
    named = (" %s " % name) in (" %s " % lines.replace("(", " ").replace(";", " ").replace(":", " "))
    if prefix in _present():
        assert named, "galaxy.yml's description does not name %s (it has %s_* modules)" % (name, prefix)
        assert tag in meta["tags"], "galaxy.yml's tags lack %s" % tag
    else:
        assert not named, "galaxy.yml's description names %s, which has no modules yet" % name


def test_tags_are_valid_for_galaxy():
    tags = galaxy_meta()["tags"]
    assert len(tags) <= 20 and len(set(tags)) == len(tags)
    assert all(t.isalnum() and t.islower() for t in tags), tags
    # ansible-lint's galaxy[tags]: at least one of the standard categories
    assert set(tags) & {"application", "cloud", "database", "infrastructure", "linux", "monitoring", "networking",
                        "security", "storage", "tools", "windows"}


def test_links_are_the_readmes():
    meta = galaxy_meta()
    with open(os.path.join(REPO, "README.md")) as handle:
        readme = handle.read()
    for key in ("repository", "documentation", "homepage", "issues"):
        assert meta.get(key), "galaxy.yml: %s is missing (Galaxy requires repository)" % key
        assert meta[key] in readme, "galaxy.yml's %s (%s) is not the README's" % (key, meta[key])
