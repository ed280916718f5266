# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Kubernetes API server STAND-IN for tests (not a cluster): see README.md."""

from .server import StandinServer, make_tls_files  # noqa: F401
from .store import ApiError, Store  # noqa: F401
