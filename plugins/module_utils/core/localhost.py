# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small facts of the host the module runs on, read from Python (no process): a file that may
be missing or unreadable (sysfs, configfs, /proc, config files), and whether an address is one
of this host's."""

from __future__ import annotations

import socket


def read_optional(path, default=None):
    """The file's text, or `default` when it cannot be read (missing, gone, refused by sysfs)."""
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return default


def is_local_address(address):
    """Whether this host has the address (IPv4, IPv6, or IPv6 in brackets): a bind to port 0
    without IP_FREEBIND, which listens on nothing and fails for an address the host lacks."""
    bare = address.strip("[]")
    sock = socket.socket(socket.AF_INET6 if ":" in bare else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((bare, 0))
        return True
    except OSError:
        return False
    finally:
        sock.close()
