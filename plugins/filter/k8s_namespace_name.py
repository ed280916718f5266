# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""k8s_namespace_name: a Kubernetes namespace name for a Git branch name."""

from __future__ import annotations

DOCUMENTATION = r"""
name: k8s_namespace_name
short_description: A valid Kubernetes namespace name for a Git branch
version_added: 0.1.0
author:
  - strata.storage maintainers (@strata-storage)
description:
  - Turns a branch name into C(<prefix>-<slug>), a DNS-1123 label of at most O(max_length) characters
    (lowercase letters, digits and C(-), starting and ending with a letter or digit).
  - The slug lowercases the branch and turns every run of other characters into one C(-);
    C(refs/heads/) is dropped.
  - When the slug differs from the branch name, or the name had to be cut, C(-) and the first six hex
    digits of the branch name's SHA-256 are appended, so C(feature/A) and C(feature-a) get different
    namespaces and the same branch always gets the same one.
options:
  _input:
    description: The branch name, for example from E(CI_COMMIT_REF_NAME) or E(GITHUB_REF_NAME).
    type: str
    required: true
  prefix:
    description: Prefix of every branch namespace (itself a DNS-1123 label).
    type: str
    default: br
  max_length:
    description: Longest name allowed (Kubernetes allows 63 for a namespace).
    type: int
    default: 63
"""

EXAMPLES = r"""
# "br-main"
ns: "{{ 'main' | strata.storage.k8s_namespace_name }}"
# "ci-feature-login-form-<6 hex digits>"
ns2: "{{ 'feature/Login_Form' | strata.storage.k8s_namespace_name(prefix='ci') }}"
"""

RETURN = r"""
_value:
  description: The namespace name.
  type: str
"""

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
