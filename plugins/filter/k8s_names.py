# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes names from free text (Git branch names): see k8s_namespace_name.yml."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.k8s.apply import branch_namespace


def k8s_namespace_name(branch, prefix="br", max_length=63):
    try:
        return branch_namespace(branch, prefix=prefix, max_length=int(max_length))
    except StrataError as exc:
        raise AnsibleFilterError("k8s_namespace_name: %s" % exc.msg)


class FilterModule(object):
    def filters(self):
        return {"k8s_namespace_name": k8s_namespace_name}
