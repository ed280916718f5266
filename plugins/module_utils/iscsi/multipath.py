# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dm-multipath: multipath.conf rendered from plain options, and the maps with their path
states as `multipathd show maps json` reports them (multipath-tools 0.9.x).

The file is written whole through core/atomic (0644, fsync, rename, older copies kept).
Files in the configuration folder (/etc/multipath/conf.d, multipath's default
`config_dir`) are read by multipath in addition to it, so a blacklist kept there (the test
VM's `devnode "^vd[a-z]+"`) stays in force; `config_dir` is refused in `defaults` for that
reason.
"""

from __future__ import annotations

import json
import re

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError

CONF = "/etc/multipath.conf"
SHOW_MAPS = ["multipathd", "show", "maps", "json"]
_KEY_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
_BAD_VALUE = re.compile(r'["{}\n\r#]')
MATCHERS = ("devnode", "wwid", "property", "protocol")

SECTION_SPEC = dict(type="list", elements="dict", default=[])
CONFIG_SPEC = dict(
    path=dict(type="path", default=CONF),
    defaults=dict(type="dict", default={}),
    blacklist=dict(type="list", elements="dict", default=[]),
    blacklist_exceptions=dict(type="list", elements="dict", default=[]),
    devices=dict(type="list", elements="dict", default=[]),
    multipaths=dict(type="list", elements="dict", default=[]),
    reconfigure=dict(type="bool", default=True),
    wait_for=dict(type="list", elements="dict", default=[], options=dict(
        wwid=dict(type="str", required=True),
        paths=dict(type="int", default=1),
    )),
    wait_timeout=dict(type="int", default=60),
)

HEADER = ("# Written by strata.storage (multipath_config / the multipath role): changes made here are\n"
          "# overwritten. Files in /etc/multipath/conf.d/ are read as well.\n")


def _value(key, value, what):
    if isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = str(value)
    if not _KEY_RE.match(str(key)):
        raise StrataError("%s: '%s' is not a multipath.conf keyword" % (what, key))
    if _BAD_VALUE.search(text) or not text.strip():
        raise StrataError("%s: the value of %s must be one line without quotes, braces or #" % (what, key))
    if re.search(r"\s", text) or key in MATCHERS or key in ("vendor", "product", "revision", "alias_prefix"):
        return '"%s"' % text
    return text


def _block(name, entries, depth, what):
    pad = "\t" * depth
    lines = ["%s%s {" % (pad, name)]
    for key, value in entries:
        if isinstance(value, dict):
            lines += _block(key, list(value.items()), depth + 1, what)    # as given: wwid before alias
        else:
            lines.append("%s\t%s %s" % (pad, key, _value(key, value, what)))
    lines.append("%s}" % pad)
    return lines


def _matcher_entries(items, what):
    out = []
    for index, item in enumerate(items):
        label = "%s[%d]" % (what, index)
        if not item:
            raise StrataError("%s is empty" % label)
        for key, value in sorted(item.items()):
            if key == "device":
                if not isinstance(value, dict) or not value.get("vendor"):
                    raise StrataError("%s: device needs vendor (and product)" % label)
                out.append(("device", dict(value)))
            elif key in MATCHERS:
                try:
                    re.compile(str(value))
                except re.error as exc:
                    raise StrataError("%s: %s '%s' is not a regular expression: %s" % (label, key, value, exc))
                out.append((key, value))
            else:
                raise StrataError("%s: unknown key %s (devnode, wwid, property, protocol, device)" % (label, key))
    return out


def render(params):
    """multipath.conf text for the module's options; StrataError on anything multipath would misread."""
    defaults = dict(params.get("defaults") or {})
    if "config_dir" in defaults:
        raise StrataError("defaults: config_dir is not set here (it would stop multipath from reading "
                          "/etc/multipath/conf.d, where other blacklists may live)")
    lines = [HEADER.rstrip("\n")]
    lines += _block("defaults", sorted(defaults.items()), 0, "defaults")
    for section in ("blacklist", "blacklist_exceptions"):
        entries = _matcher_entries(params.get(section) or [], section)
        if entries:
            lines += _block(section, entries, 0, section)
    devices = params.get("devices") or []
    if devices:
        for index, device in enumerate(devices):
            if not device.get("vendor"):
                raise StrataError("devices[%d]: vendor is required" % index)
        lines += _block("devices", [("device", dict(d)) for d in devices], 0, "devices")
    multipaths = params.get("multipaths") or []
    seen_wwids, seen_aliases = set(), set()
    for index, entry in enumerate(multipaths):
        label = "multipaths[%d]" % index
        if not entry.get("wwid"):
            raise StrataError("%s: wwid is required" % label)
        if entry["wwid"] in seen_wwids:
            raise StrataError("%s: wwid %s is listed twice" % (label, entry["wwid"]))
        seen_wwids.add(entry["wwid"])
        alias = entry.get("alias")
        if alias is not None:
            if not re.match(r"^[A-Za-z0-9_.+-]{1,127}$", str(alias)):
                raise StrataError("%s: alias '%s' is not a valid device-mapper name" % (label, alias))
            if alias in seen_aliases:
                raise StrataError("%s: alias %s is used twice" % (label, alias))
            seen_aliases.add(alias)
    if multipaths:
        lines += _block("multipaths", [("multipath", _ordered(m)) for m in multipaths], 0, "multipaths")
    return "\n".join(lines) + "\n"


def _ordered(entry):
    out = {"wwid": entry["wwid"]}
    out.update({k: v for k, v in entry.items() if k != "wwid" and v is not None})
    return out


def parse_maps(text):
    """`multipathd show maps json` -> [map summary]."""
    try:
        data = json.loads(text)
    except ValueError:
        raise StrataError("multipathd printed no JSON for 'show maps json'", stdout=text)
    out = []
    for item in data.get("maps", []):
        paths = []
        for group in item.get("path_groups", []):
            for path in group.get("paths", []):
                paths.append({"dev": path.get("dev"), "dev_t": path.get("dev_t"), "group": group.get("group"),
                              "group_state": group.get("dm_st"), "dm_state": path.get("dm_st"),
                              "dev_state": path.get("dev_st"), "checker_state": path.get("chk_st"),
                              "priority": path.get("pri"), "target": path.get("target_wwnn"),
                              "host_adapter": path.get("host_adapter")})
        active = [p for p in paths if p["dm_state"] == "active" and p["checker_state"] in ("ready", "ghost")]
        out.append({"name": item.get("name"), "wwid": item.get("uuid"), "sysfs": item.get("sysfs"),
                    "device": "/dev/mapper/%s" % item.get("name"), "vendor": item.get("vend"),
                    "product": item.get("prod"), "features": item.get("features"),
                    "queueing": item.get("queueing"), "dm_state": item.get("dm_st"),
                    "path_faults": item.get("path_faults"), "paths": paths,
                    "active_paths": len(active), "failed_paths": len(paths) - len(active)})
    return out


def read_maps(runner):
    """(multipathd answers, maps). multipathd down is not an error here: no maps to report."""
    result = runner.read(SHOW_MAPS, check=False, what="asking multipathd for its maps")
    if result.rc != 0:
        return False, []
    return True, parse_maps(result.stdout)
