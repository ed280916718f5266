# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the install tests: the collection tarball built from this checkout."""
from __future__ import annotations

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
if TESTS not in sys.path:  # tests/ is no package (ansible-test); pytest imports this dir as `install`
    sys.path.insert(0, TESTS)

from install.support import REPO, clean_env, galaxy_meta, run, tool  # noqa: E402


@pytest.fixture(scope="session")
def tarball(tmp_path_factory):
    """strata-storage-<version>.tar.gz built from this checkout with `ansible-galaxy collection build`."""
    out = tmp_path_factory.mktemp("build")
    run([tool("ansible-galaxy"), "collection", "build", "--output-path", out, REPO], env=clean_env())
    path = out / ("strata-storage-%s.tar.gz" % galaxy_meta()["version"])
    assert path.exists(), sorted(os.listdir(str(out)))
    return path
