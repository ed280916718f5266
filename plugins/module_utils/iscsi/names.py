# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The iSCSI and LIO rules for names, numbers and secrets, checked at plan time so that
nothing half-runs on input the kernel or the initiator would refuse later.

Read from:
- RFC 3720 3.2.6.3 / RFC 3721 / RFC 3722: `iqn.YYYY-MM.reversed.domain[:unique]`,
  `eui.` + 16 hex digits, `naa.` + 16 or 32 hex digits; at most 223 bytes; names are
  normalised to lower case (stringprep), so we ask for lower case rather than compare
  names that the two ends might normalise differently.
- rtslib-fb 2.1.75 `utils.normalize_wwn`, which LIO target and ACL names go through (the iscsi
  fabric's wwn_types: iqn, naa, eui): an IQN needs a second '.' after the date
  (`iqn.YYYY-MM.x.y`; `iqn.2026-01.com:disk` is refused) and no `_` or space; a NAA name is
  exactly 16 hex digits starting with 1, 2 or 5 (the 32-digit NAA 6 names RFC 3980 allows are
  refused): `check_lio_name`. `LUN.MAX_TARGET_LUN` (65535), `MappedLUN.MAX_LUN` (255; rtslib
  2.2 dropped that limit), `StorageObject.__init__` (no `/` or whitespace in a backstore
  name), `_set_auth_attr` (an auth value of at most 255 characters, never the word `NULL`,
  which configfs reads as "unset").
- the kernel's backstore parameters (target_core_file.c / target_core_iblock.c
  `*_set_configfs_dev_params`): the path is one `fd_dev_name=` / `udev_path=` option of a
  list split at ',' and newlines, copied into FD_MAX_DEV_NAME (256) / SE_UDEV_PATH_LEN (512)
  bytes, cut silently when longer (and fileio opens the cut path with O_CREAT):
  `check_backstore_path`.
- RFC 3720 8.2.1 / RFC 1994: the same CHAP secret must not be used in both directions
  (mutual CHAP); open-iscsi refuses it too (auth.c: AUTH_DBG_STATUS_PASSWD_IDENTICAL).
- RFC 3720 8.2.1: a CHAP secret shorter than 96 bits (12 bytes) is allowed only under IPsec.
  Neither LIO nor open-iscsi enforces it (open-iscsi's check in auth.c
  `acl_chap_compute_rsp` is dead: login.c always sets ip_sec=1); the Microsoft initiator
  does (12 to 16 characters). We refuse shorter secrets as a policy, on both ends.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError

ISCSI_NAME_MAX = 223
LUN_MAX = 65535          # rtslib LUN.MAX_TARGET_LUN
MAPPED_LUN_MAX = 255     # rtslib MappedLUN.MAX_LUN
TPG_TAG_MAX = 65535
CHAP_SECRET_MIN = 12     # RFC 3720 8.2.1 (96 bits without IPsec); the Microsoft initiator enforces it
CHAP_VALUE_MAX = 255     # rtslib _set_auth_attr
DEFAULT_PORT = 3260

_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_IQN_RE = re.compile(r"^iqn\.[0-9]{4}-(0[1-9]|1[0-2])\.%s(?:\.%s)*(?::[a-z0-9.:-]+)?$" % (_LABEL, _LABEL))
_EUI_RE = re.compile(r"^eui\.[0-9a-f]{16}$")
_NAA_RE = re.compile(r"^naa\.(?:[0-9a-f]{16}|[0-9a-f]{32})$")
# rtslib-fb 2.1.75 utils.normalize_wwn: 'iqn': r"iqn\.[0-9]{4}-[0-1][0-9]\..*\..*", 'naa':
# r"naa\.[125][0-9a-fA-F]{15}$" (names are lower-cased first)
_LIO_IQN_RE = re.compile(r"^iqn\.[0-9]{4}-[0-1][0-9]\..*\.")
_LIO_NAA_RE = re.compile(r"^naa\.[125][0-9a-f]{15}$")
FD_DEV_NAME_MAX = 255        # target_core_file.h FD_MAX_DEV_NAME (256, with the NUL)
UDEV_PATH_MAX = 511          # target_core_base.h SE_UDEV_PATH_LEN (512, with the NUL)
_BACKSTORE_RE = re.compile(r"^[A-Za-z0-9_.:+-]{1,128}$")
_USERID_RE = re.compile(r"^\S{1,255}$")


def check_iscsi_name(name, what="iSCSI name"):
    """An IQN, EUI or NAA name as RFC 3720/3721 and rtslib accept it."""
    text = "" if name is None else str(name)
    hint = ("an IQN looks like iqn.2026-01.com.example:storage.disk1 (lower case letters, digits, "
            "'.', '-' and ':' after the date and the reversed domain name); EUI and NAA names are "
            "eui. + 16 hex digits or naa. + 16/32 hex digits")
    if not text:
        raise StrataError("%s is empty" % what, hint=hint)
    if text != text.lower():
        raise StrataError("%s '%s' is not valid: iSCSI names are lower case (RFC 3722 normalises them)"
                          % (what, text), hint="write it in lower case")
    if len(text.encode("utf-8")) > ISCSI_NAME_MAX:
        raise StrataError("%s '%s' is not valid: longer than %d bytes" % (what, text, ISCSI_NAME_MAX), hint=hint)
    if text.startswith("iqn."):
        if not _IQN_RE.match(text):
            raise StrataError("%s '%s' is not a valid IQN" % (what, text), hint=hint)
        return text
    if _EUI_RE.match(text) or _NAA_RE.match(text):
        return text
    raise StrataError("%s '%s' is not a valid iSCSI name (iqn., eui. or naa.)" % (what, text), hint=hint)


def check_lio_name(name, what="iSCSI name"):
    """A name LIO takes for a target or an ACL: check_iscsi_name, then what rtslib-fb's
    normalize_wwn refuses besides (the module would otherwise fail half-way, in rtslib)."""
    text = check_iscsi_name(name, what)
    if text.startswith("iqn.") and not _LIO_IQN_RE.match(text):
        raise StrataError("%s '%s' is not taken by LIO: rtslib wants a second '.' after the date "
                          "(iqn.YYYY-MM.reversed.domain...)" % (what, text),
                          hint="e.g. iqn.2026-01.com.example:disk1 rather than iqn.2026-01.com:disk1")
    if text.startswith("naa.") and not _LIO_NAA_RE.match(text):
        raise StrataError("%s '%s' is not taken by LIO: rtslib takes NAA names of 16 hex digits starting "
                          "with 1, 2 or 5" % (what, text), hint="use an IQN, or a NAA name like naa.5001405...")
    return text


def check_backstore_path(path, plugin, what):
    """A backstore's device or file as the kernel's option parser takes it: no ',' or newline
    (they split the option list) and short enough not to be cut."""
    text = str(path)
    limit = FD_DEV_NAME_MAX if plugin == "fileio" else UDEV_PATH_MAX
    if "," in text or "\n" in text:
        raise StrataError("%s: the path %r holds a ',' or a newline, which the kernel reads as the end of "
                          "the option" % (what, text), hint="rename the file or use a link without them")
    if len(text.encode("utf-8")) > limit:
        raise StrataError("%s: the path is longer than the %d bytes the kernel keeps for it" % (what, limit),
                          hint="use a shorter path (a link works)")
    return text


def check_backstore_name(name):
    if not name or not _BACKSTORE_RE.match(str(name)):
        raise StrataError("backstore name '%s' is not valid" % name,
                          hint="use letters, digits and _ . : + - (no '/' or spaces), at most 128 characters")
    return name


def check_lun(index, what="LUN"):
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= LUN_MAX:
        raise StrataError("%s number %r is out of range" % (what, index), hint="LIO takes 0 to %d" % LUN_MAX)
    return index


def check_mapped_lun(index, what):
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= MAPPED_LUN_MAX:
        raise StrataError("%s: mapped LUN number %r is out of range" % (what, index),
                          hint="an initiator sees LUNs 0 to %d" % MAPPED_LUN_MAX)
    return index


def check_tpg_tag(tag):
    if not isinstance(tag, int) or isinstance(tag, bool) or not 1 <= tag <= TPG_TAG_MAX:
        raise StrataError("TPG tag %r is out of range" % (tag,), hint="use 1 to %d" % TPG_TAG_MAX)
    return tag


def check_chap_userid(value, what):
    if value is None:
        return None
    text = str(value)
    if not _USERID_RE.match(text) or text == "NULL":
        raise StrataError("%s: the CHAP user name must be 1 to 255 characters without spaces (and not NULL)" % what)
    return text


def check_chap_secret(value, what):
    """A CHAP secret: never echoed in a message."""
    if value is None:
        return None
    text = str(value)
    if len(text) < CHAP_SECRET_MIN:
        raise StrataError("%s: the CHAP secret is shorter than %d characters (96 bits, the least RFC 3720 "
                          "8.2.1 allows without IPsec; the Microsoft initiator refuses shorter ones)"
                          % (what, CHAP_SECRET_MIN),
                          hint="use a secret of %d to %d characters" % (CHAP_SECRET_MIN, CHAP_VALUE_MAX))
    if len(text) > CHAP_VALUE_MAX:
        raise StrataError("%s: the CHAP secret is longer than %d characters" % (what, CHAP_VALUE_MAX))
    if text != text.strip() or any(ch.isspace() for ch in text) or text == "NULL":
        raise StrataError("%s: the CHAP secret must not contain spaces" % what)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise StrataError("%s: the CHAP secret must not contain control characters" % what)
    return text


def check_chap(chap, what):
    """Validate a chap dict (userid, password, mutual_userid, mutual_password); None stays None."""
    if not chap:
        return None
    userid = check_chap_userid(chap.get("userid"), what)
    password = check_chap_secret(chap.get("password"), what)
    if (userid is None) != (password is None):
        raise StrataError("%s: CHAP needs both userid and password" % what)
    mutual_userid = check_chap_userid(chap.get("mutual_userid"), what + " (mutual)")
    mutual_password = check_chap_secret(chap.get("mutual_password"), what + " (mutual)")
    if (mutual_userid is None) != (mutual_password is None):
        raise StrataError("%s: mutual CHAP needs both mutual_userid and mutual_password" % what)
    if mutual_userid is not None and userid is None:
        raise StrataError("%s: mutual CHAP needs one-way CHAP (userid, password) too" % what)
    if mutual_password is not None and mutual_password == password:
        raise StrataError("%s: the mutual CHAP secret must differ from the initiator's secret "
                          "(RFC 3720 8.2.1)" % what)
    return {"userid": userid, "password": password,
            "mutual_userid": mutual_userid, "mutual_password": mutual_password}


def normalize_ip(address, allow_any, what):
    """An IP address as LIO names portals: IPv4 dotted, IPv6 in brackets."""
    text = str(address or "").strip()
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        raise StrataError("%s: '%s' is not an IP address" % (what, address),
                          hint="portals take explicit addresses (IPv4, or IPv6 in brackets or bare)")
    if ip.is_unspecified and not allow_any:
        raise StrataError("%s: %s listens on every address of the host" % (what, text),
                          hint="name the addresses to listen on, or set allow_any_address: true")
    return ("[%s]" % ip.compressed) if ip.version == 6 else ip.compressed


def parse_portal(text, what, default_port=DEFAULT_PORT, allow_any=False):
    """'10.0.0.1', '10.0.0.1:3261', '[fe80::1]:3260', '::1' -> (ip, port)."""
    raw = str(text or "").strip()
    port = default_port
    if raw.startswith("["):
        host, _sep, rest = raw[1:].partition("]")
        if rest.startswith(":"):
            port = rest[1:]
        elif rest:
            raise StrataError("%s: '%s' is not ADDRESS[:PORT]" % (what, text))
    elif raw.count(":") == 1:
        host, port = raw.split(":")
    else:
        host = raw
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise StrataError("%s: port '%s' is not a number" % (what, port))
    if not 1 <= port <= 65535:
        raise StrataError("%s: port %d is out of range" % (what, port))
    return normalize_ip(host, allow_any, what), port


_YES_NO = ("Yes", "No")
# RFC 3720 section 12 (and LIO's iscsi_target_parameters.c, which enforces the same ranges)
PARAMETER_RULES = {
    "AuthMethod": ("list", ("CHAP", "None")),
    "HeaderDigest": ("list", ("CRC32C", "None")),
    "DataDigest": ("list", ("CRC32C", "None")),
    "MaxConnections": ("range", (1, 65535)),
    "ErrorRecoveryLevel": ("range", (0, 2)),
    "DefaultTime2Wait": ("range", (0, 3600)),
    "DefaultTime2Retain": ("range", (0, 3600)),
    "MaxOutstandingR2T": ("range", (1, 65535)),
    "FirstBurstLength": ("range", (512, 16777215)),
    "MaxBurstLength": ("range", (512, 16777215)),
    "MaxRecvDataSegmentLength": ("range", (512, 16777215)),
    "MaxXmitDataSegmentLength": ("range", (512, 16777215)),
    "InitialR2T": ("one", _YES_NO),
    "ImmediateData": ("one", _YES_NO),
    "DataPDUInOrder": ("one", _YES_NO),
    "DataSequenceInOrder": ("one", _YES_NO),
    "IFMarker": ("one", _YES_NO),
    "OFMarker": ("one", _YES_NO),
    "IFMarkInt": ("markint", None),
    "OFMarkInt": ("markint", None),
    "TargetAlias": ("text", 255),
}


def check_parameter(name, value, what):
    """An iSCSI login parameter value as RFC 3720 allows it (LIO refuses the others)."""
    kind, rule = PARAMETER_RULES.get(name, ("text", 255))
    text = str(value)
    bad = None
    if kind == "list":
        items = text.split(",")
        if not all(item in rule for item in items) or len(set(items)) != len(items):
            bad = "a comma-separated list of %s" % ", ".join(rule)
    elif kind == "range":
        if not text.isdigit() or not rule[0] <= int(text) <= rule[1]:
            bad = "a number from %d to %d" % rule
    elif kind == "one":
        if text not in rule:
            bad = " or ".join(rule)
    elif kind == "markint":
        if text != "Reject" and not re.match(r"^\d+(~\d+)?$", text):
            bad = "Reject, a number or a range like 2048~8192"
    elif len(text) > rule or "\n" in text:
        bad = "one line of at most %d characters" % rule
    if bad:
        raise StrataError("%s: parameter %s=%s is not valid" % (what, name, text), hint="RFC 3720 allows %s" % bad)
    return text


def lio_wwid(unit_serial):
    """The SCSI WWID an initiator sees for a LIO LUN: NAA 6, LIO's OUI (001405), then the first
    25 hex digits of the backstore's T10 unit serial (target_core_spc.c
    spc_gen_naa_6h_vendor_specific). `/dev/disk/by-id/wwn-0x6001405...` and multipath's wwid
    `36001405...` are built from it."""
    digits = "".join(ch for ch in str(unit_serial or "").lower() if ch in "0123456789abcdef")[:25]
    if not digits:
        return None
    return "36001405" + digits
