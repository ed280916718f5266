# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the install tests: the tools users run (from the tools venv that runs pytest, or a
venv with ansible-core only), and a clean environment."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TOOLS_BIN = os.path.dirname(sys.executable)
# a venv with ansible-core only (no ansible package, no .pth to other collections)
PLAIN_CORE_BIN = os.path.join(REPO, ".cache", "venv", "corelatest", "bin")
DEP_COLLECTIONS = os.path.join(REPO, ".cache", "deps", "ansible_collections")


def galaxy_meta():
    with open(os.path.join(REPO, "galaxy.yml")) as handle:
        return yaml.safe_load(handle)


def run(argv, **kw):
    """Run argv; the CompletedProcess (text), with stdout/stderr in the assertion on failure."""
    check = kw.pop("check", True)
    proc = subprocess.run([str(a) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False, **kw)
    if check:
        assert proc.returncode == 0, "%s: rc=%d\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            " ".join(str(a) for a in argv), proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:])
    return proc


def clean_env(**extra):
    """The environment of a user's shell: none of the test runner's ANSIBLE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update({"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"})
    env.update(extra)
    return env


def tool(name, bindir=TOOLS_BIN):
    path = os.path.join(bindir, name)
    if not os.path.exists(path):
        pytest.skip("%s not found in %s (run scripts/setup.sh)" % (name, bindir))
    return path


def add_posix(collections_dir):
    """Put ansible.posix (from the PyPI `ansible` package, extracted by scripts/setup.sh) into
    a collections path, as a user's earlier install of the dependency would have."""
    src = os.path.join(DEP_COLLECTIONS, "ansible", "posix")
    if not os.path.isdir(src):
        pytest.skip("ansible.posix not in %s (run scripts/setup.sh)" % DEP_COLLECTIONS)
    shutil.copytree(src, os.path.join(str(collections_dir), "ansible_collections", "ansible", "posix"))
