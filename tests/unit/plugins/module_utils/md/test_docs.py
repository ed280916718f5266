# -*- coding: utf-8 -*-
"""The option docs of md_array, md_layout's `arrays`, the raid role and the argument spec
never drift apart."""
from __future__ import annotations

import os

import yaml

from ansible_collections.strata.storage.plugins.doc_fragments.md_array import ModuleDocFragment as F
from ansible_collections.strata.storage.plugins.module_utils.md.config import CONFIG_SPEC
from ansible_collections.strata.storage.plugins.module_utils.md.planner import ARRAY_SPEC

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..")


def _spec_view(spec):
    out = {}
    for name, opt in spec.items():
        out[name] = {k: opt.get(k) for k in ("type", "elements", "default", "choices", "required") if opt.get(k) is not None}
        if opt.get("options"):
            out[name]["options"] = _spec_view(opt["options"])
    return out


def _doc_view(options, sub="suboptions"):
    out = {}
    for name, opt in options.items():
        out[name] = {k: opt.get(k) for k in ("type", "elements", "default", "choices", "required") if opt.get(k) is not None}
        if opt.get(sub):
            out[name]["options"] = _doc_view(opt[sub], sub)
    return out


def _words(options, sub="suboptions"):
    out = {}
    for name, opt in options.items():
        text = " ".join(opt.get("description", []))
        text = text.replace("O(arrays[].", "O(").replace("C(mismatch_cnt) in RV(arrays)", "RV(array.mismatch_cnt)")
        out[name] = text.replace("RV(arrays)", "RV(array)")
        if opt.get(sub):
            out.update({"%s.%s" % (name, k): v for k, v in _words(opt[sub], sub).items()})
    return out


def test_layout_suboptions_are_md_array_options():
    """The same options, the same words (only O(x) reads O(arrays[].x) there)."""
    layout = yaml.safe_load(F.LAYOUT)["options"]["arrays"]["suboptions"]
    single = yaml.safe_load(F.DOCUMENTATION)["options"]
    assert _doc_view(layout) == _doc_view(single)
    assert _words(layout) == _words(single)


def test_docs_match_the_argument_spec():
    assert _doc_view(yaml.safe_load(F.DOCUMENTATION)["options"]) == _spec_view(ARRAY_SPEC)
    assert _doc_view(yaml.safe_load(F.CONFIG)["options"]) == _spec_view(CONFIG_SPEC)


def test_role_spec_takes_the_same_array_options():
    with open(os.path.join(ROOT, "roles", "raid", "meta", "argument_specs.yml")) as handle:
        role = yaml.safe_load(handle)["argument_specs"]["main"]["options"]["raid_arrays"]["options"]
    assert _doc_view(role, "options") == _spec_view(ARRAY_SPEC)
