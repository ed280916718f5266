# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mdadm.conf: ARRAY lines for our arrays, MAILADDR / PROGRAM for mdmonitor.

Debian/Ubuntu read /etc/mdadm/mdadm.conf, the RHEL family /etc/mdadm.conf. Only the lines
of the arrays this run manages (matched by UUID, or by /dev/md/NAME or name=) and the
MAILADDR/PROGRAM lines the user sets are touched; every other line stays as it is. An
existing ARRAY line that already names /dev/md/NAME with the right UUID is kept verbatim
(extra words such as spares=1 included), so a no-change run writes nothing. The file is
written through core.atomic (temp file, fsync, rename, backups) and the initramfs is
refreshed only when the file changed, so the array assembles under its name at boot.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action
from ansible_collections.strata.storage.plugins.module_utils.md.reader import normalize_uuid

DEBIAN_PATH = "/etc/mdadm/mdadm.conf"
RHEL_PATH = "/etc/mdadm.conf"
HEADER = "# mdadm.conf (ARRAY lines managed by strata.storage md_array/md_layout)\n"
NEW_UUID = "00000000:00000000:00000000:00000000"   # placeholder until mdadm picks one (check mode)

CONFIG_SPEC = dict(
    config_file=dict(type="path"),
    persist=dict(type="bool", default=True),
    update_initramfs=dict(type="bool", default=True),
    mailaddr=dict(type="str"),
    program=dict(type="path"),
)


@dataclass
class ConfigRequest:
    path: str
    persist: bool = True
    update_initramfs: bool = True
    mailaddr: str = None
    program: str = None
    initramfs_cmd: list = None        # found on the host: update-initramfs or dracut
    monitor_restart_cmd: list = None  # systemctl try-restart mdmonitor, when systemd runs


def default_path(isdir=os.path.isdir):
    """Debian keeps mdadm's config in /etc/mdadm/, the RHEL family in /etc."""
    return DEBIAN_PATH if isdir("/etc/mdadm") else RHEL_PATH


def config_request_from_params(params, get_bin_path):
    mailaddr = params.get("mailaddr")
    if mailaddr is not None and (not mailaddr.strip() or re.search(r"\s", mailaddr.strip())):
        raise StrataError("mailaddr '%s' must be one address without spaces" % mailaddr)
    program = params.get("program")
    if program is not None and re.search(r"\s", program):
        raise StrataError("program '%s' must be a path without spaces (mdadm.conf splits on spaces)" % program)
    initramfs = None
    if get_bin_path("update-initramfs"):
        initramfs = [get_bin_path("update-initramfs"), "-u"]
    elif get_bin_path("dracut"):
        initramfs = [get_bin_path("dracut"), "--force"]
    systemctl = get_bin_path("systemctl")
    return ConfigRequest(
        path=params.get("config_file") or default_path(), persist=params.get("persist", True),
        update_initramfs=params.get("update_initramfs", True), mailaddr=mailaddr, program=program,
        initramfs_cmd=initramfs,
        monitor_restart_cmd=[systemctl, "try-restart", "mdmonitor.service"] if systemctl else None)


@dataclass
class Entry:
    """An array's line as we want it: present (name, uuid, metadata, full name) or absent."""
    name: str
    uuid: str = None
    metadata: str = None
    full_name: str = None
    present: bool = True


def array_line(entry):
    words = ["ARRAY", "/dev/md/%s" % entry.name]
    if entry.metadata:
        words.append("metadata=%s" % entry.metadata)
    if entry.full_name:
        words.append("name=%s" % entry.full_name)
    words.append("UUID=%s" % (entry.uuid or NEW_UUID))
    return " ".join(words)


def _logical_lines(text):
    """Physical lines grouped into mdadm's logical lines (a line starting with white space
    continues the one before): [[physical, ...], ...]."""
    groups = []
    for line in (text or "").splitlines(True):
        head = groups[-1][0].strip() if groups else ""
        if line[:1] in (" ", "\t") and line.strip() and head and not head.startswith("#"):
            groups[-1].append(line)
        else:
            groups.append([line])
    return groups


def _words(group):
    return " ".join(part.strip() for part in group).split()


def _array_fields(words):
    fields = {"devname": words[1] if len(words) > 1 and "=" not in words[1] else None}
    for word in words[1:]:
        if "=" in word:
            key, value = word.split("=", 1)
            fields[key.lower()] = value
    return fields


def _matches(fields, entry):
    if entry.uuid and fields.get("uuid") and normalize_uuid(fields["uuid"]) == normalize_uuid(entry.uuid):
        return True
    if fields.get("devname") in ("/dev/md/%s" % entry.name, "/dev/md_%s" % entry.name):
        return True
    name = fields.get("name") or ""
    return name == entry.name or name.endswith(":" + entry.name)


def _good(fields, entry):
    if entry.uuid is None or fields.get("devname") != "/dev/md/%s" % entry.name:
        return False
    return normalize_uuid(fields.get("uuid")) == normalize_uuid(entry.uuid)


def render(text, entries, mailaddr=None, program=None):
    """The new file content: ARRAY lines of `entries` in place, MAILADDR/PROGRAM set."""
    groups = _logical_lines(text if text is not None else HEADER)
    out = []
    placed = set()
    settings = {"MAILADDR": mailaddr, "PROGRAM": program}
    set_done = set()
    for group in groups:
        words = _words(group)
        keyword = words[0].upper() if words and not words[0].startswith("#") else None
        if keyword == "ARRAY":
            fields = _array_fields(words)
            match = next((e for e in entries if _matches(fields, e)), None)
            if match is None:
                out.extend(group)
                continue
            if not match.present or match.name in placed:
                continue            # the array is gone, or a duplicate line of it
            placed.add(match.name)
            out.extend(group if _good(fields, match) else [array_line(match) + "\n"])
            continue
        if keyword in settings and settings[keyword] is not None:
            if keyword in set_done:
                continue
            set_done.add(keyword)
            value = settings[keyword]
            out.extend(group if words[1:] == [value] else ["%s %s\n" % (keyword, value)])
            continue
        out.extend(group)
    if out and not out[-1].endswith("\n"):
        out[-1] += "\n"
    for keyword in ("MAILADDR", "PROGRAM"):
        if settings[keyword] is not None and keyword not in set_done:
            out.append("%s %s\n" % (keyword, settings[keyword]))
    for entry in entries:
        if entry.present and entry.name not in placed:
            out.append(array_line(entry) + "\n")
    return "".join(out)


def monitor_settings(text):
    """MAILADDR and PROGRAM as the file has them now."""
    found = {}
    for group in _logical_lines(text or ""):
        words = _words(group)
        if words and words[0].upper() in ("MAILADDR", "PROGRAM") and len(words) > 1:
            found.setdefault(words[0].upper(), " ".join(words[1:]))
    return found


def plan_config(cfg, entries, current):
    """Plan the mdadm.conf write (+ initramfs refresh, + mdmonitor restart) for these entries.
    current: the file's text, or None when it does not exist."""
    plan = Plan()
    if not cfg.persist:
        return plan
    if current is None and not any(e.present for e in entries) and cfg.mailaddr is None and cfg.program is None:
        return plan
    new = render(current, entries, cfg.mailaddr, cfg.program)
    plan.before = {"config": {"path": cfg.path, "lines": _managed(current, entries)}}
    plan.after = {"config": {"path": cfg.path, "lines": _managed(new, entries)}}
    if new == current:
        return plan
    names = ", ".join(sorted(e.name for e in entries)) or "none"
    plan.add(Action("write %s (ARRAY lines of %s%s)" % (
        cfg.path, names, ", MAILADDR/PROGRAM" if cfg.mailaddr is not None or cfg.program is not None else ""),
        path=cfg.path, content=new, mode=0o644))
    if cfg.update_initramfs and cfg.initramfs_cmd:
        plan.add(Action("refresh the initramfs so it assembles the arrays under their names at boot",
                        list(cfg.initramfs_cmd)))
    elif cfg.update_initramfs:
        plan.warnings.append("no update-initramfs or dracut found: the initramfs keeps its old copy of %s" % cfg.path)
    if monitor_settings(new) != monitor_settings(current) and cfg.monitor_restart_cmd:
        plan.add(Action("restart mdmonitor (if it runs) so it reads the new MAILADDR/PROGRAM",
                        list(cfg.monitor_restart_cmd)))
    return plan


def _managed(text, entries):
    out = []
    for group in _logical_lines(text or ""):
        words = _words(group)
        if not words or words[0].startswith("#"):
            continue
        keyword = words[0].upper()
        if keyword in ("MAILADDR", "PROGRAM") or (keyword == "ARRAY" and any(
                _matches(_array_fields(words), e) for e in entries)):
            out.append(" ".join(words))
    return out
