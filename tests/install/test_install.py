# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ways the README says to install strata.storage, run as a user runs them, offline:
ansible-core only plus a local copy of the dependency (ansible.posix), and an AWX project sync
of this repository through collections/requirements.yml. Then the installed collection is used
as users use it: ansible-doc, and the playbooks by name."""
from __future__ import annotations

import glob
import json
import os
import re

import pytest

from install.support import PLAIN_CORE_BIN, REPO, add_posix, clean_env, galaxy_meta, run, tool

PLAYBOOKS = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(REPO, "playbooks", "*.yml")))


def _core_env(cols):
    # only this collections path; nothing found through sys.path either (a user's plain ansible-core)
    return clean_env(ANSIBLE_COLLECTIONS_PATH=str(cols), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
                     ANSIBLE_LOCAL_TEMP=str(cols) + "-tmp")


def test_ansible_core_with_local_dependencies_and_no_galaxy(tmp_path, tarball):
    galaxy = tool("ansible-galaxy", PLAIN_CORE_BIN)
    cols = tmp_path / "collections"
    # without ansible.posix, an offline install says what is missing
    missing = run([galaxy, "collection", "install", "--offline", "-p", cols, tarball], env=_core_env(cols), check=False)
    assert missing.returncode != 0 and "ansible.posix" in missing.stdout + missing.stderr
    # with it installed first (from a tarball the user fetched, here the copy scripts/setup.sh made)
    add_posix(cols)
    run([galaxy, "collection", "install", "--offline", "-p", cols, tarball], env=_core_env(cols))
    listed = run([galaxy, "collection", "list", "--format", "json"], env=_core_env(cols)).stdout
    assert json.loads(listed)[str(cols / "ansible_collections")]["strata.storage"]["version"] == galaxy_meta()["version"]
    doc = run([tool("ansible-doc", PLAIN_CORE_BIN), "-t", "module", "--json", "strata.storage.lvm_vg",
               "strata.storage.k8s_storageclass"], env=_core_env(cols)).stdout
    assert set(json.loads(doc)) == {"strata.storage.lvm_vg", "strata.storage.k8s_storageclass"}
    # the playbooks shipped in the collection, by name, as `ansible-playbook strata.storage.site`
    for name in PLAYBOOKS:
        run([tool("ansible-playbook", PLAIN_CORE_BIN), "--syntax-check", "-i", "localhost,", "strata.storage." + name],
            env=_core_env(cols), cwd=str(tmp_path))


def test_awx_project_sync(tmp_path):
    """What an AWX project sync of this repository does (awx/playbooks/project_update.yml):
    from the project root, install collections/requirements.yml into the project's collection
    cache, with only that cache as collections path; then a job runs a playbook with it."""
    galaxy = tool("ansible-galaxy", PLAIN_CORE_BIN)
    cache = tmp_path / "requirements_collections"
    add_posix(cache)  # stands in for Galaxy, which the sync would ask for ansible.posix
    run([galaxy, "collection", "install", "-r", "collections/requirements.yml", "--collections-path", cache],
        cwd=REPO, env=_core_env(cache))
    installed = cache / "ansible_collections" / "strata" / "storage"
    with open(str(installed / "MANIFEST.json")) as handle:
        assert json.load(handle)["collection_info"]["version"] == galaxy_meta()["version"]
    for ignored in (".cache", ".ansible", ".git", "tests/output"):
        assert not (installed / ignored).exists(), "%s was installed (galaxy.yml build_ignore)" % ignored
    for name in PLAYBOOKS:
        run([tool("ansible-playbook", PLAIN_CORE_BIN), "--syntax-check", "-i", "localhost,",
             os.path.join("playbooks", name + ".yml")], cwd=REPO, env=_core_env(cache))


def _pins(path):
    with open(path) as handle:
        return dict(re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line).groups() for line in handle
                    if re.match(r"^[A-Za-z0-9_.-]+==", line))


def test_requirements_range_holds_the_tested_client():
    specifiers = pytest.importorskip("packaging.specifiers")
    with open(os.path.join(REPO, "requirements.txt")) as handle:
        lines = [line.split("#")[0].strip() for line in handle if line.split("#")[0].strip()]
    assert [line.split(">")[0].split("<")[0].split("=")[0] for line in lines] == ["kubernetes"], lines
    spec = specifiers.SpecifierSet(lines[0][len("kubernetes"):])
    assert spec.contains("24.2.0"), "the oldest client the module tests passed with"
    for venv in ("core219", "corelatest"):
        pin = _pins(os.path.join(REPO, "tests", "requirements", venv + ".txt"))["kubernetes"]
        assert spec.contains(pin), "requirements.txt (%s) does not admit kubernetes %s, the client CI tests" % (spec, pin)
