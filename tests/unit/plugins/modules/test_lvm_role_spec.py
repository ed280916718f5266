# -*- coding: utf-8 -*-
"""The lvm role's meta/argument_specs.yml mirrors lvm_layout's options: a key the module
takes but the role's spec lacks would be refused by the role's validation (and vice versa)."""
from __future__ import annotations

import os

import yaml

from ansible_collections.strata.storage.plugins.modules import lvm_layout

ROLE_SPEC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "lvm", "meta", "argument_specs.yml")


def _keys(spec):
    out = {}
    for name, opt in spec.items():
        sub = opt.get("options") or opt.get("suboptions")
        out[name] = _keys(sub) if sub else (opt.get("type"), opt.get("default"), tuple(opt.get("choices") or ()))
    return out


def test_role_spec_mirrors_the_module():
    with open(ROLE_SPEC) as handle:
        role = yaml.safe_load(handle)["argument_specs"]["main"]["options"]["lvm_volume_groups"]["options"]
    module = dict(yaml.safe_load(lvm_layout.DOCUMENTATION)["options"])
    module.pop("safe_mode")            # the role's lvm_safe_mode
    module["force"] = {"type": "list", "default": []}   # from the device_guard doc fragment
    role_keys, module_keys = _keys(role), _keys(module)
    module_keys["force"] = role_keys["force"]
    for volume_list in (module_keys["volumes"], module_keys["thin_pools"]["volumes"]):
        assert "mount" in volume_list
    assert role_keys == module_keys
