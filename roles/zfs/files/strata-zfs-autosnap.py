# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the ZFS snapshot retention policies of a JSON file on this host, with the same code
strata.storage.zfs_snapshot runs (installed by the strata.storage.zfs role, started by
strata-zfs-autosnap.timer).

    strata-zfs-autosnap /etc/strata/zfs-snapshot-policies.json [--now EPOCH|ISO] [--check]

Prints a JSON report (taken, pruned, kept per dataset); exits 1 with the reason on error.
"""
import os
import sys

sys.path.insert(0, os.environ.get("STRATA_LIB", "/usr/local/lib/strata-storage"))

from ansible_collections.strata.storage.plugins.module_utils.zfs.retention import cli_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(cli_main(sys.argv[1:]))
