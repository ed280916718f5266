# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""execution-environment.yml (ansible-builder 3), checked without a container build:
`ansible-builder create` makes a build context that installs this checkout's tarball, and the
introspection the build then runs on the installed collections (ansible-builder introspect, the
same code) gives the image the kubernetes client and none of the target-side packages."""
from __future__ import annotations

import filecmp
import os
import shutil

import pytest
import yaml

from install.support import REPO, add_posix, clean_env, galaxy_meta, run, tool

bindep_depends = pytest.importorskip("bindep.depends")

EE_FILE = os.path.join(REPO, "execution-environment.yml")


def _ee():
    with open(EE_FILE) as handle:
        return yaml.safe_load(handle)


def _requirement(path):
    with open(path) as handle:
        return [line.split("#")[0].strip() for line in handle if line.split("#")[0].strip()]


def test_definition_names_this_version():
    ee = _ee()
    version = galaxy_meta()["version"]
    tarball = "strata-storage-%s.tar.gz" % version
    assert ee["version"] == 3
    assert ee["dependencies"]["galaxy"]["collections"] == [{"name": "collections/" + tarball, "type": "file"}], (
        "execution-environment.yml: install collections/%s (galaxy.yml's version)" % tarball)
    assert ee["additional_build_files"] == [{"src": "build/" + tarball, "dest": "collections"}]
    assert "ansible-core>=2.19" in ee["dependencies"]["ansible_core"]["package_pip"]


def test_create_makes_the_build_context(tmp_path, tarball):
    work = tmp_path / "ee"
    (work / "build").mkdir(parents=True)
    shutil.copy(EE_FILE, str(work / "execution-environment.yml"))
    shutil.copy(str(tarball), str(work / "build" / tarball.name))
    run([tool("ansible-builder"), "create", "--context", work / "context", "--file", work / "execution-environment.yml"],
        cwd=str(work), env=clean_env())
    context = work / "context"
    files = [context / name for name in ("Containerfile", "Dockerfile") if (context / name).exists()]
    assert files, os.listdir(str(context))
    containerfile = files[0].read_text()
    with open(str(context / "_build" / "requirements.yml")) as handle:
        assert yaml.safe_load(handle) == {"collections": [{"name": "collections/" + tarball.name, "type": "file"}]}
    assert filecmp.cmp(str(context / "_build" / "collections" / tarball.name), str(tarball), shallow=False)
    # the galaxy stage installs requirements.yml; the builder stage introspects what it installed
    assert 'ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml' in containerfile
    assert "introspect.py introspect" in containerfile and "/output/scripts/assemble" in containerfile
    assert 'ANSIBLE_INSTALL_REFS="ansible-core>=2.19.0,<2.22 ansible-runner"' in containerfile
    # no requirements of its own at the EE level: they all come from the collection
    assert not (context / "_build" / "bindep.txt").exists()
    assert not (context / "_build" / "requirements.txt").exists()


def test_introspection_gives_the_image_kubernetes_and_no_target_package(tmp_path, tarball):
    cols = tmp_path / "collections"
    add_posix(cols)
    run([tool("ansible-galaxy"), "collection", "install", "--offline", "-p", cols, tarball],
        env=clean_env(ANSIBLE_COLLECTIONS_PATH=str(cols)))
    pip_out, bindep_out = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    run([tool("ansible-builder"), "introspect", cols, "--write-pip", pip_out, "--write-bindep", bindep_out],
        env=clean_env())
    ours = [line for line in pip_out.read_text().splitlines() if "from collection strata.storage" in line]
    assert [line.split("#")[0].strip() for line in ours] == _requirement(os.path.join(REPO, "requirements.txt"))
    assert any(line.startswith("kubernetes>=") for line in _requirement(str(pip_out)))
    # what the build's assemble script installs: `bindep -l newline` (default profile), epel, compile
    system = bindep_out.read_text()
    assert "from collection strata.storage" in system  # our lines are there, with their profiles
    ours = "\n".join(line for line in system.splitlines() if "strata.storage" in line) + "\n"
    depends = bindep_depends.Depends(ours)
    for platforms in (["platform:rpm", "platform:redhat", "platform:centos", "platform:centos-9"],
                      ["platform:dpkg", "platform:debian", "platform:debian-12"]):
        for profile in ("default", "epel", "compile"):
            assert depends.active_rules([profile] + platforms) == [], (profile, platforms)
    # the same through the bindep command on this host, over everything the image would get
    listed = run([tool("bindep"), "--file", bindep_out, "--list_all", "newline"], cwd=str(tmp_path)).stdout.split()
    assert not set(listed) & {"lvm2", "mdadm", "xfsprogs", "e2fsprogs", "nvme-cli", "open-iscsi", "zfsutils-linux",
                              "nfs-kernel-server", "targetcli-fb", "multipath-tools", "thin-provisioning-tools"}


def test_collection_metadata_points_at_the_requirement_files():
    with open(os.path.join(REPO, "meta", "execution-environment.yml")) as handle:
        meta = yaml.safe_load(handle)
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    for name in meta["dependencies"].values():
        assert os.path.exists(os.path.join(REPO, name))
