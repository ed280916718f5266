# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules ZFS applies to names, sizes and property values, checked before anything runs.

Every rule here mirrors OpenZFS 2.1 (zfs_namecheck.c, libzfs_dataset.c zfs_validate_name and
zfs_valid_proplist, libzfs_util.c zfs_nicestrtonum, libzfs_pool.c zpool_name_valid and
zpool_valid_proplist), so a request we approve is one the tools accept, and a request they
would refuse fails here with the reason, before the first command.

Values are compared in the form `zfs get -p` / `zpool get -p` prints them: sizes as bytes,
index values by their canonical string (`xattr=dir` is `on`), booleans from YAML as on/off.
"""

from __future__ import annotations

import difflib
import re

from ansible_collections.strata.storage.plugins.module_utils.core.text import with_article
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.zfs.props_table import (
    DATASET_PROPS, DATASET_PROPS_HIDDEN, DATASET_PROPS_VALUE_ALIASES, POOL_PROPS, POOL_PROPS_HIDDEN,
)

TYPE_LETTER = {"filesystem": "f", "volume": "v", "snapshot": "s", "bookmark": "b"}
UINT64_MAX = 2 ** 64 - 1
MAX_NAME_LEN = 256            # ZFS_MAX_DATASET_NAME_LEN
MAX_NESTING = 50              # zfs_max_dataset_nesting
MAX_USERPROP_NAME = 256       # ZAP_MAXNAMELEN
MAX_USERPROP_VALUE = 8192     # ZAP_MAXVALUELEN
MAX_POOL_COMMENT = 32         # ZPROP_MAX_COMMENT
SPA_MINBLOCKSIZE = 512
MAX_RECORDSIZE = 1024 ** 2    # zfs_max_recordsize
SPA_MAXBLOCKSIZE = 16 * 1024 ** 2
MIN_PBKDF2_ITERATIONS = 100000
SPA_MINDEVSIZE = 64 * 1024 ** 2

# Number properties that take a size (with K/M/G... suffixes) and those that also take `none`.
SIZE_PROPS = {"quota", "refquota", "reservation", "refreservation", "volsize", "recordsize",
              "volblocksize", "special_small_blocks"}
NONE_IS_ZERO = {"quota", "refquota", "reservation", "refreservation"}
COUNT_LIMITS = {"filesystem_limit", "snapshot_limit"}     # `none` is UINT64_MAX

# Pool properties (libzfs_pool.c zpool_valid_proplist): altroot only at creation or import,
# readonly only at import, bootfs neither at creation nor at import; the rest are settable.
POOL_CREATE_ONLY = {"altroot"}
POOL_IMPORT_ONLY = {"readonly"}
POOL_NOT_AT_CREATE = {"bootfs"}


def _col_aliases(table):
    return {col: name for name, (_k, _a, _t, col, _v) in table.items() if col}


_DATASET_COLS = _col_aliases(DATASET_PROPS)
_POOL_COLS = _col_aliases(POOL_PROPS)


# --------------------------------------------------------------------------- sizes
_NUM_RE = re.compile(r"^(\d*\.?\d*)(.*)$")
_SHIFT = "BKMGTPEZ"


def parse_size(text, what="size"):
    """A size as ZFS reads it (zfs_nicestrtonum): a number with an optional suffix B K M G T P E Z,
    each optionally followed by B or iB, all powers of 1024 ('10G' = '10GB' = '10GiB');
    decimals allowed ('1.5G'); a bare number is bytes. Returns an int."""
    if isinstance(text, bool):
        raise StrataError("%s '%s' is not a size" % (what, text))
    if isinstance(text, int):
        return text
    raw = str(text).strip()
    m = _NUM_RE.match(raw)
    number, suffix = m.group(1), m.group(2)
    if not number or number == ".":
        raise StrataError("%s '%s' is not a size" % (what, raw), hint="examples: 512K, 10G, 1.5T, 4096")
    shift = 0
    if suffix:
        up = suffix.upper()
        if up[0] not in _SHIFT or not (len(up) == 1 or (up[0] != "B" and up[1:] in ("B", "IB"))):
            raise StrataError("%s '%s' has an invalid suffix '%s'" % (what, raw, suffix),
                              hint="use B, K, M, G, T, P or E (all powers of 1024; 'G', 'GB' and 'GiB' are the same)")
        shift = 10 * _SHIFT.index(up[0])
    if "." in number:
        value = float(number) * (2 ** shift)
        if value >= float(UINT64_MAX):
            raise StrataError("%s '%s' is too large" % (what, raw))
        return int(value)
    value = int(number) << shift
    if value > UINT64_MAX:
        raise StrataError("%s '%s' is too large" % (what, raw))
    return value


def is_power_of_two(value):
    return value > 0 and (value & (value - 1)) == 0


# --------------------------------------------------------------------------- names
def _bad_chars(text, extra=""):
    return sorted({c for c in text if not (c.isascii() and (c.isalnum() or c in "-_.: " + extra))})


def check_pool_name(name, creating=False):
    """pool_namecheck (zfs_namecheck.c): letters first, [A-Za-z0-9_.: -] only, not exactly
    mirror, raidz or draid. creating: also zpool_name_valid's later rules (libzfs_pool.c,
    checked by `zpool create` only): no name starting with mirror, raidz, draid or spare, and
    not 'log'. Existing pools keep names those rules came too late for (e.g. 'raidzilla')."""
    if not name:
        raise StrataError("the pool name is empty")
    if len(name) >= MAX_NAME_LEN - 2 - len("$ORIGIN") * 2:
        raise StrataError("pool name '%s' is too long" % name)
    bad = _bad_chars(name)
    if bad:
        raise StrataError("pool name '%s' has invalid characters %s" % (name, " ".join(repr(c) for c in bad)),
                          hint="a pool name takes letters, digits, '_', '-', '.', ':' and spaces")
    if not name[0].isascii() or not name[0].isalpha():
        raise StrataError("pool name '%s' must begin with a letter" % name)
    if name in ("mirror", "raidz", "draid"):
        raise StrataError("pool name '%s' is reserved" % name, hint="mirror, raidz and draid are vdev keywords")
    if creating and (name.startswith(("mirror", "raidz", "draid", "spare")) or name == "log"):
        raise StrataError("pool name '%s' is reserved for new pools" % name,
                          hint="zpool create refuses names starting with mirror, raidz, draid or spare, and 'log'")
    return name


def check_dataset_name(name, kind="filesystem"):
    """entity_namecheck + zfs_validate_name for a new or existing object of `kind`
    (filesystem, volume, snapshot, bookmark)."""
    what = "%s name '%s'" % (kind, name)
    if not name:
        raise StrataError("the %s name is empty" % kind)
    if len(name) >= MAX_NAME_LEN:
        raise StrataError("%s is too long (at most %d characters)" % (what, MAX_NAME_LEN - 1))
    if name.startswith("/"):
        raise StrataError("%s has a leading slash" % what, hint="write pool/dataset, not a path")
    if name.endswith("/"):
        raise StrataError("%s has a trailing slash" % what)
    if "%" in name:
        raise StrataError("%s has the invalid character '%%'" % what, hint="'%' is reserved for ZFS internals")
    delims = [c for c in name if c in "@#"]
    if kind == "snapshot" and delims != ["@"]:
        raise StrataError("%s needs exactly one '@' (dataset@snapshot)" % what)
    if kind == "bookmark" and delims != ["#"]:
        raise StrataError("%s needs exactly one '#' (dataset#bookmark)" % what)
    if kind in ("filesystem", "volume") and delims:
        raise StrataError("%s must not contain '%s'" % (what, delims[0]),
                          hint="'@' separates snapshots and '#' bookmarks")
    base, tail = name, ""
    if delims:
        base, tail = re.split(r"[@#]", name, maxsplit=1)
        if not tail:
            raise StrataError("%s has an empty %s name" % (what, "snapshot" if kind == "snapshot" else "bookmark"))
        if "/" in tail:
            raise StrataError("%s has a '/' after the '%s'" % (what, delims[0]))
    for component in base.split("/") + ([tail] if delims else []):
        if component == "":
            raise StrataError("%s has an empty component" % what)
        if component in (".", ".."):
            raise StrataError("%s has a '%s' component" % (what, component))
        bad = _bad_chars(component)
        if bad:
            raise StrataError("%s has invalid characters %s" % (what, " ".join(repr(c) for c in bad)),
                              hint="names take letters, digits, '_', '-', '.', ':' and spaces")
    check_pool_name(base.split("/")[0])
    if base.count("/") >= MAX_NESTING:
        raise StrataError("%s is nested deeper than %d levels" % (what, MAX_NESTING))
    return name


def check_snapshot_fits(datasets, short, what):
    """`zfs snapshot -r` names every descendant `<dataset>@<short>` and fails as a whole
    (EINVAL, libzfs zfs_snapshot_cb) when one of those names is too long: refuse it first."""
    long_names = ["%s@%s" % (ds, short) for ds in datasets if len("%s@%s" % (ds, short)) >= MAX_NAME_LEN]
    if long_names:
        raise StrataError("%s: snapshot name %s is too long (at most %d characters)" % (
            what, long_names[0], MAX_NAME_LEN - 1), hint="nothing was changed; use a shorter snapshot name")


def check_short_name(name, kind):
    """A snapshot or bookmark name without its dataset part."""
    if not name:
        raise StrataError("the %s name is empty" % kind)
    bad = _bad_chars(name)
    if bad or "/" in name:
        raise StrataError("%s name '%s' has invalid characters %s" % (kind, name, " ".join(repr(c) for c in bad or ["/"])))
    return name


def pool_of(name):
    return name.split("/")[0].split("@")[0].split("#")[0]


def parent_of(name):
    base = name.split("@")[0].split("#")[0]
    return base.rsplit("/", 1)[0] if "/" in base else None


# --------------------------------------------------------------------------- properties
def is_user_property(name):
    """zfs_prop_user: lowercase letters, digits, '-_.:' and at least one ':'."""
    return ":" in name and all(c.isascii() and (c.islower() or c.isdigit() or c in "-_.:") for c in name)


def normalize_input(value):
    """A value as written in YAML, as the string the tools take: booleans become on/off."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def dataset_prop_name(name):
    """The canonical name of a dataset property (column aliases like 'compress' accepted), or
    the name itself for a valid user property; StrataError for anything else."""
    key = str(name).strip()
    if key in DATASET_PROPS:
        return key
    if key in _DATASET_COLS:
        return _DATASET_COLS[key]
    if is_user_property(key):
        if len(key) >= MAX_USERPROP_NAME:
            raise StrataError("user property name '%s' is too long" % key)
        return key
    if key in DATASET_PROPS_HIDDEN:
        raise StrataError("'%s' is an internal ZFS property and cannot be set" % key)
    if key.startswith(("userquota@", "groupquota@", "projectquota@", "userobjquota@", "groupobjquota@",
                       "projectobjquota@")):
        raise StrataError("'%s': user/group/project quotas are not managed by this collection" % key,
                          hint="set them with zfs set after the dataset exists")
    if ":" in key:
        raise StrataError("invalid user property name '%s'" % key,
                          hint="user properties take lowercase letters, digits, '-', '_', '.' and ':' (module:property)")
    close = difflib.get_close_matches(key, list(DATASET_PROPS) + list(_DATASET_COLS), n=1)
    raise StrataError("unknown ZFS property '%s'%s" % (key, " (did you mean %s?)" % close[0] if close else ""),
                      hint="see zfsprops(7); user properties need a ':' (e.g. com.example:owner)")


def pool_prop_name(name):
    key = str(name).strip()
    if key in POOL_PROPS:
        return key
    if key in _POOL_COLS:
        return _POOL_COLS[key]
    if key.startswith("feature@") and re.match(r"^feature@[a-z0-9_]+$", key):
        return key
    if key in POOL_PROPS_HIDDEN:
        raise StrataError("'%s' is an internal pool property and cannot be set" % key)
    close = difflib.get_close_matches(key, list(POOL_PROPS) + list(_POOL_COLS), n=1)
    raise StrataError("unknown pool property '%s'%s" % (key, " (did you mean %s?)" % close[0] if close else ""),
                      hint="see zpoolprops(7)")


def canonical_index(name, value):
    return (DATASET_PROPS_VALUE_ALIASES.get(name) or {}).get(value, value)


def _check_number(name, value, dstype):
    what = "property %s=%s" % (name, value)
    if name in NONE_IS_ZERO and value == "none":
        return 0
    if name == "refreservation" and value == "auto":
        if dstype != "volume":
            raise StrataError("%s: 'auto' applies to volumes only" % what)
        return "auto"
    if name in COUNT_LIMITS:
        if value == "none":
            return UINT64_MAX
        if not value.isdigit():
            raise StrataError("%s must be a count or 'none'" % what)
        return int(value)
    if name == "pbkdf2iters":
        if not value.isdigit() or int(value) < MIN_PBKDF2_ITERATIONS:
            raise StrataError("%s must be a number of at least %d" % (what, MIN_PBKDF2_ITERATIONS))
        return int(value)
    if name not in SIZE_PROPS:
        raise StrataError("property %s is read-only" % name)
    size = parse_size(value, what="property %s" % name)
    if name == "recordsize" and not (SPA_MINBLOCKSIZE <= size <= MAX_RECORDSIZE and is_power_of_two(size)):
        raise StrataError("%s must be a power of 2 from 512B to 1M" % what)
    if name == "volblocksize" and not (SPA_MINBLOCKSIZE <= size <= SPA_MAXBLOCKSIZE and is_power_of_two(size)):
        raise StrataError("%s must be a power of 2 from 512B to 16M" % what)
    if name == "special_small_blocks" and size != 0 and not (
            SPA_MINBLOCKSIZE <= size <= MAX_RECORDSIZE and is_power_of_two(size)):
        raise StrataError("%s must be zero or a power of 2 from 512B to 1M" % what)
    if name == "volsize" and size == 0:
        raise StrataError("%s must be larger than zero" % what)
    return size


def _check_string(name, value, dstype):
    what = "property %s=%s" % (name, value)
    if name == "mountpoint":
        if value in ("none", "legacy"):
            return value
        if not value.startswith("/"):
            raise StrataError("%s must be an absolute path, 'none' or 'legacy'" % what)
        if any(len(part) >= MAX_NAME_LEN for part in value.split("/")):
            raise StrataError("%s has a component that is too long" % what)
        return value.rstrip("/") or "/"
    if name == "keylocation":
        if value == "prompt" or value.startswith(("https://", "http://")):
            return value
        if value.startswith("file://") and value[len("file://"):].startswith("/"):
            return value
        raise StrataError("%s must be 'prompt', a file:///absolute/path URI, or an http(s) URL" % what)
    if name == "mlslabel" and value != "none":
        raise StrataError("%s: mlslabels are unsupported on Linux" % what)
    return value


def check_dataset_property(name, value, dstype, creating=False, existing=None):
    """Check one property for a dataset of `dstype` (filesystem, volume, snapshot).

    creating: the dataset does not exist yet (create-only properties are allowed).
    existing: the current Dataset (for the create-only and read-only messages).
    Returns (canonical name, value string for the command, comparable value)."""
    prop = dataset_prop_name(name)
    text = normalize_input(value)
    if is_user_property(prop) and prop not in DATASET_PROPS:
        if len(text) >= MAX_USERPROP_VALUE:
            raise StrataError("user property %s: the value is longer than %d bytes" % (prop, MAX_USERPROP_VALUE - 1))
        return prop, text, text
    kind, attr, types, _col, values = DATASET_PROPS[prop]
    letter = TYPE_LETTER[dstype]
    if letter not in types:
        applies = [t for t, ch in TYPE_LETTER.items() if ch in types]
        raise StrataError("property %s does not apply to %s" % (prop, with_article(dstype)),
                          hint="it applies to: %s" % ", ".join(applies))
    if dstype == "snapshot":
        raise StrataError("property %s cannot be set on a snapshot (only user properties can)" % prop)
    if attr == "readonly":
        raise StrataError("property %s is read-only" % prop)
    if kind == "index":
        canon = canonical_index(prop, text)
        if canon not in values:
            raise StrataError("property %s=%s is not a valid value" % (prop, text),
                              hint="valid: %s" % ", ".join(values + tuple((DATASET_PROPS_VALUE_ALIASES.get(prop) or {}).keys())))
        return prop, text, canon
    if kind == "number":
        return prop, text, _check_number(prop, text, dstype)
    return prop, text, _check_string(prop, text, dstype)


def check_dataset_properties(props, dstype, creating=False, what="dataset"):
    """Check a property dict; returns {canonical name: (command value, comparable value)}.
    Two spellings of one property (compress and compression) are refused."""
    out = {}
    for name, value in (props or {}).items():
        if value is None:
            continue
        prop, text, comparable = check_dataset_property(name, value, dstype, creating)
        if prop in out:
            raise StrataError("%s names property %s twice (as an alias too)" % (what, prop))
        out[prop] = (text, comparable)
    return out


def comparable_current(prop, value):
    """A value as `zfs get -Hp` printed it, in the form check_dataset_property compares with."""
    if prop not in DATASET_PROPS:
        return value
    kind = DATASET_PROPS[prop][0]
    if kind == "number":
        if value in ("-", "none", ""):
            return 0 if prop in NONE_IS_ZERO else (UINT64_MAX if prop in COUNT_LIMITS else None)
        try:
            return int(value)
        except ValueError:
            return value
    if kind == "index":
        return canonical_index(prop, value)
    if prop == "mountpoint" and value not in ("none", "legacy", "-"):
        return value.rstrip("/") or "/"
    return value


def same_value(prop, desired, current):
    """desired: the comparable from check_dataset_property; current: as read."""
    cur = comparable_current(prop, current)
    if desired == "auto" and prop == "refreservation":
        return isinstance(cur, int) and cur > 0
    return desired == cur


def is_create_only(prop):
    entry = DATASET_PROPS.get(prop)
    return bool(entry) and entry[1] in ("onetime", "onetime_default")


def is_inheritable(prop):
    entry = DATASET_PROPS.get(prop)
    return is_user_property(prop) if entry is None else entry[1] == "inherit"


def applies_to(prop, dstype):
    entry = DATASET_PROPS.get(prop)
    return entry is None or TYPE_LETTER[dstype] in entry[2]


# --------------------------------------------------------------------------- pool properties
def check_pool_property(name, value, creating=False, importing=False):
    """Check one pool property. Returns (canonical name, command value, comparable value).
    creating: for `zpool create -o` (or a pool that may exist already: the planner refuses
    POOL_NOT_AT_CREATE when it really creates); importing: for `zpool import -o`."""
    prop = pool_prop_name(name)
    text = normalize_input(value)
    what = "pool property %s=%s" % (prop, text)
    if prop.startswith("feature@"):
        if text not in ("enabled", "disabled"):
            raise StrataError("%s: a feature can only be set to 'enabled' (or 'disabled' at creation)" % what)
        if text == "disabled" and (importing or not creating):
            raise StrataError("%s: a feature can only be set to 'disabled' when the pool is created" % what,
                              hint="features cannot be disabled once enabled")
        return prop, text, text
    kind, attr, _types, _col, values = POOL_PROPS[prop]
    if attr == "readonly":
        raise StrataError("pool property %s is read-only" % prop)
    if prop in POOL_IMPORT_ONLY and not importing:
        raise StrataError("pool property %s can only be set when the pool is imported" % prop,
                          hint="use import_properties")
    if prop in POOL_CREATE_ONLY and not (creating or importing):
        raise StrataError("pool property %s can only be set when the pool is created or imported" % prop)
    if prop in POOL_NOT_AT_CREATE and importing:
        raise StrataError("pool property %s cannot be set at import time" % prop,
                          hint="set it in `properties` once the pool is imported")
    if kind == "index":
        if text not in values:
            raise StrataError("%s is not a valid value" % what, hint="valid: %s" % ", ".join(values))
        return prop, text, text
    if prop == "ashift":
        if not text.isdigit() or not (int(text) == 0 or 9 <= int(text) <= 16):
            raise StrataError("%s must be 0 (auto) or 9 to 16" % what)
        return prop, text, int(text)
    if prop == "version":
        if not creating:
            raise StrataError("pool property version: upgrade pools with 'zpool upgrade', not through a property")
        if not text.isdigit() or not 1 <= int(text) <= 5000:
            raise StrataError("%s is not a valid pool version" % what)
        return prop, text, int(text)
    if prop == "comment":
        if len(text) > MAX_POOL_COMMENT or any(not c.isprintable() for c in text):
            raise StrataError("%s: a comment is at most %d printable characters" % (what, MAX_POOL_COMMENT))
    if prop in ("altroot",) and not text.startswith("/"):
        raise StrataError("%s must be an absolute path" % what)
    if prop == "cachefile" and text not in ("none", ""):
        if not text.startswith("/"):
            raise StrataError("%s must be an absolute path or 'none'" % what)
        if text.endswith("/") or text.rsplit("/", 1)[1] in (".", ".."):
            raise StrataError("%s is not a valid file" % what)
    return prop, text, text


def check_pool_properties(props, creating=False, importing=False):
    out = {}
    for name, value in (props or {}).items():
        if value is None:
            continue
        prop, text, comparable = check_pool_property(name, value, creating, importing)
        if prop in out:
            raise StrataError("pool property %s is named twice (as an alias too)" % prop)
        out[prop] = (text, comparable)
    return out


def same_pool_value(prop, desired, current):
    if prop == "ashift":
        try:
            return int(current) == desired
        except (TypeError, ValueError):
            return False
    if prop.startswith("feature@"):
        return current in ("enabled", "active") if desired == "enabled" else current == desired
    if prop == "cachefile" and desired in ("", "-"):
        return current in ("", "-")
    return desired == current
