# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    # Shared by every module that changes a host.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    description:
      - Runs nothing that writes; returns the same RV(actions) a real run would take.
  diff_mode:
    support: full
    description:
      - Returns the object's state before and after (predicted in check mode).
  platform:
    support: full
    platforms: posix
    description:
      - Linux hosts with the tools named in the requirements.
"""
