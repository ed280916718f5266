# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers for the sentences our messages are made of."""

from __future__ import annotations

import re

# Names read letter by letter (or starting with a vowel sound) that take "an":
# "an ext4", "an xfs", "an LVM2_member", "an md array", "an NVMe", "an NFS", "an MBR".
_AN_WORDS = re.compile(r"^(ext[0-9]?|xfs|lvm|lvm2|md|nvme|nfs|ntfs|hfs|hfsplus|mbr|f2fs|rbd|srp|sas|fc|lio|"
                       r"iso9660|udf|hpfs|hdd|ssd|mdraid|lun|nqn|iqn|acl)(\b|_|$)", re.I)


def article(word):
    """'a' or 'an' for the word as it is read aloud ("an ext4", "a swap", "an LVM2 PV")."""
    text = str(word or "").strip()
    if not text:
        return "a"
    if re.match(r"^(8|11(?!\d)|18(?!\d))", text):    # "an 8G", "an 11M", "an 80G"
        return "an"
    if _AN_WORDS.match(text):
        return "an"
    if text[0].lower() in "aeio":
        return "an"
    if text[0].lower() == "u" and not re.match(r"^u(s|ni|ti|ui|ser)", text, re.I):
        return "an"
    return "a"


def with_article(word):
    """'an ext4', 'a swap': the word with its article."""
    return "%s %s" % (article(word), word)
