# -*- coding: utf-8 -*-
"""The classes of message bugs, checked over every plugin's source: a `%%` that is never
%-formatted leaks into the message as two percent signs, and "a %s" before a word like ext4
reads "a ext4" (core/text.with_article picks the article)."""
from __future__ import annotations

import ast
import glob
import os
import re

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.text import article, with_article

PLUGINS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "plugins")
SOURCES = sorted(glob.glob(os.path.join(PLUGINS, "**", "*.py"), recursive=True))


def _strings(tree):
    """(string constant, formatted with %) for every str literal in the tree."""
    formatted = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
            formatted.add(id(node.left))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node, id(node) in formatted


def test_there_are_sources():
    assert len(SOURCES) > 20


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: os.path.relpath(p, PLUGINS))
def test_no_unformatted_double_percent(path):
    with open(path) as handle:
        tree = ast.parse(handle.read())
    leaks = [node.value for node, formatted in _strings(tree) if "%%" in node.value and not formatted]
    assert not leaks, "%% in a string that is never %-formatted: " + repr(leaks)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: os.path.relpath(p, PLUGINS))
def test_no_hard_coded_article_before_a_placeholder(path):
    with open(path) as handle:
        tree = ast.parse(handle.read())
    bad = [node.value for node, _formatted in _strings(tree)
           if re.search(r"(^|\s)[Aa]n? %s", node.value)
           or re.search(r"(^|[^A-Za-z])a (ext[234]|xfs|LVM|lvm2|md|NVMe|NFS|iSCSI|NQN|IQN)\b", node.value)]
    assert not bad, "use core.text.with_article(): " + repr(bad)


@pytest.mark.parametrize("word,expected", [
    ("ext4", "an"), ("xfs", "an"), ("LVM2_member", "an"), ("md", "an"), ("NFS", "an"), ("iSCSI", "an"),
    ("swap", "a"), ("linux_raid_member", "a"), ("zfs_member", "a"), ("raid5", "a"), ("mirror", "a"),
    ("linear", "a"), ("vfat", "a"), ("gpt", "a"), ("8M", "an"), ("80G", "an"), ("11M", "an"), ("12M", "a"),
    ("110M", "a"), ("user", "a"), ("undo", "an"), ("", "a")])
def test_article(word, expected):
    assert article(word) == expected
    assert with_article("ext4") == "an ext4"
