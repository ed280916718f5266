# -*- coding: utf-8 -*-
"""meta/runtime.yml's action_groups (what `module_defaults: group/strata.storage.<tech>` uses)
and the modules agree: every module is in the group named after its technology (the part of
its name before the first `_`), every member exists, and each module's docs declare that
membership (attributes.action_group, from the strata.storage.action_groups doc fragment)."""
from __future__ import annotations

import ast
import glob
import os

import pytest
import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
MODULES = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py"))
                 if not p.endswith("__init__.py"))
FRAGMENT = os.path.join(ROOT, "plugins", "doc_fragments", "action_groups.py")


def _runtime():
    with open(os.path.join(ROOT, "meta", "runtime.yml")) as handle:
        return yaml.safe_load(handle)


def _groups():
    return _runtime().get("action_groups") or {}


def _string_assignments(path, scope=None):
    """{NAME: str} of the string constants assigned at module level (or in class `scope`)."""
    with open(path) as handle:
        tree = ast.parse(handle.read())
    body = tree.body
    if scope:
        body = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == scope).body
    out = {}
    for node in body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value.value
    return out


def test_there_are_modules_and_groups():
    assert len(MODULES) >= 10
    assert {"k8s", "lvm"} <= set(_groups())


@pytest.mark.parametrize("module", MODULES)
def test_every_module_is_in_the_group_of_its_technology(module):
    tech = module.split("_")[0]
    groups = _groups()
    assert tech in groups, (
        "meta/runtime.yml has no action group %r: add `%s: [%s, ...]` under action_groups" % (tech, tech, module))
    assert module in groups[tech], "add %s to action_groups.%s in meta/runtime.yml" % (module, tech)
    others = [g for g, members in groups.items() if g != tech and module in members]
    assert not others, "%s is also in action groups %s" % (module, others)


@pytest.mark.parametrize("group", sorted(_groups()))
def test_every_member_is_a_module_of_that_technology(group):
    members = _groups()[group]
    assert members and all(isinstance(m, str) for m in members), "%s: a plain list of module names" % group
    assert len(set(members)) == len(members), "%s lists a module twice" % group
    for member in members:
        assert member in MODULES, "action_groups.%s names %s, which is not in plugins/modules" % (group, member)
        assert member.split("_")[0] == group


@pytest.mark.parametrize("module", MODULES)
def test_module_docs_declare_the_membership(module):
    tech = module.split("_")[0]
    doc = yaml.safe_load(_string_assignments(os.path.join(ROOT, "plugins", "modules", module + ".py"))["DOCUMENTATION"])
    fragment = "strata.storage.action_groups.%s" % tech
    assert fragment in doc.get("extends_documentation_fragment", []), "%s: extend the docs with %s" % (module, fragment)
    fragments = _string_assignments(FRAGMENT, scope="ModuleDocFragment")
    assert tech.upper() in fragments, "plugins/doc_fragments/action_groups.py has no %s" % tech.upper()
    attribute = yaml.safe_load(fragments[tech.upper()])["attributes"]["action_group"]
    assert attribute["membership"] == ["strata.storage.%s" % tech]
    assert "group/strata.storage.%s" % tech in " ".join(attribute["description"])
