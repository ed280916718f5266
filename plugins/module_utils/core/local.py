# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Runner needs of AnsibleModule (run_command, check_mode), for code that runs these
module_utils on a host without Ansible: the ZFS snapshot retention timer
(roles/zfs/files/strata-zfs-autosnap) and the live checks in the test VM (tests/live)."""

from __future__ import annotations

import os
import subprocess


class LocalModule:
    def __init__(self, check_mode=False):
        self.check_mode = check_mode

    def run_command(self, cmd, check_rc=False, environ_update=None, data=None, binary_data=False):
        env = dict(os.environ, **(environ_update or {}))
        # the stand-in for AnsibleModule.run_command itself: there is no AnsibleModule here
        stdin = data.encode() if isinstance(data, str) else data
        proc = subprocess.run(cmd, env=env, input=stdin,  # pylint: disable=ansible-bad-function
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
