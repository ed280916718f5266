# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NVMe names and values, checked before anything runs.

Rules from the NVMe Base Specification 2.0 (section 4.5, "NVMe Qualified Names") and the
Linux 6.1 nvmet/nvme-fabrics code (Debian 12):
- an NQN is at most 223 bytes (NVMF_NQN_SIZE), UTF-8, in one of two forms:
  `nqn.yyyy-mm.<reverse domain>[:<anything>]` or `nqn.2014-08.org.nvmexpress:uuid:<UUID>`;
- `nqn.2014-08.org.nvmexpress.discovery` is the discovery subsystem: never a subsystem or host
  of ours (nvmet_subsys_make refuses it);
- a configfs directory name cannot hold `/`; we also refuse white space and control characters,
  which nvme-cli's option parsing and /etc/nvme/*.conf cannot carry;
- namespace IDs are 1 .. 0xFFFFFFFE (0 and 0xFFFFFFFF are refused by nvmet_ns_make);
- attr_serial: 1-20 printable ASCII characters (NVMET_SN_MAX_SIZE), attr_model: 1-40;
- DH-HMAC-CHAP secrets are `DHHC-1:<hh>:<base64>:`: hh 00-03 (none, SHA-256, -384, -512), the
  base64 holding a 32, 48 or 64 byte key followed by its CRC-32 (little endian), as
  nvme_auth_extract_key() checks them (`nvme gen-dhchap-key` makes them).
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import uuid
import zlib

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError

NQN_MAX_BYTES = 223
DISCOVERY_NQN = "nqn.2014-08.org.nvmexpress.discovery"
UUID_NQN_PREFIX = "nqn.2014-08.org.nvmexpress:uuid:"
NSID_MAX = 0xFFFFFFFE
SERIAL_MAX = 20
MODEL_MAX = 40
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
_NQN_RE = re.compile(r"^nqn\.(\d{4})-(\d{2})\.(%s(\.%s)*)(:(.+))?$" % (_LABEL, _LABEL))
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_KEY_RE = re.compile(r"^DHHC-1:(0[0-3]):([A-Za-z0-9+/]+={0,2}):$")
KEY_SIZES = (32, 48, 64)
NQN_HINT = ("an NQN looks like nqn.2014-08.com.example:storage.disk1 (nqn.<year>-<month>.<reverse domain>"
            "[:<name>]) or nqn.2014-08.org.nvmexpress:uuid:<UUID>, at most 223 bytes")


def check_nqn(nqn, what="NQN"):
    """Refuse anything that is not a valid NQN (see the module docstring)."""
    text = nqn if isinstance(nqn, str) else ""
    problem = None
    if not text:
        problem = "is empty"
    elif len(text.encode("utf-8")) > NQN_MAX_BYTES:
        problem = "is %d bytes long (at most %d)" % (len(text.encode("utf-8")), NQN_MAX_BYTES)
    elif re.search(r"[\s/\x00-\x1f\x7f]", text):
        problem = "holds white space, '/' or a control character"
    elif text == DISCOVERY_NQN:
        problem = "is the discovery subsystem's NQN, reserved by the NVMe specification"
    elif text.startswith(UUID_NQN_PREFIX):
        if not _UUID_RE.match(text[len(UUID_NQN_PREFIX):]):
            problem = "has the UUID form but '%s' is not a UUID" % text[len(UUID_NQN_PREFIX):]
    else:
        match = _NQN_RE.match(text)
        if not match:
            problem = "does not have the form nqn.yyyy-mm.<reverse domain>[:<name>]"
        elif not 1 <= int(match.group(2)) <= 12:
            problem = "has month %s (01-12)" % match.group(2)
    if problem:
        raise StrataError("%s '%s' %s" % (what, nqn, problem), hint="nothing was changed; " + NQN_HINT)
    return text


def check_uuid(value, what):
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise StrataError("%s '%s' is not a UUID" % (what, value),
                          hint="nothing was changed; write it as 8-4-4-4-12 hexadecimal digits")


def check_nsid(nsid, subsystem):
    if not isinstance(nsid, int) or isinstance(nsid, bool) or not 1 <= nsid <= NSID_MAX:
        raise StrataError("namespace ID %r of subsystem %s is out of range" % (nsid, subsystem),
                          hint="nothing was changed; namespace IDs are 1 to %d" % NSID_MAX)
    return nsid


def check_ascii_attr(value, what, limit):
    if value is None:
        return None
    text = str(value)
    if not text or len(text) > limit or any(not 0x20 <= ord(c) <= 0x7e for c in text):
        raise StrataError("%s '%s' is not valid" % (what, text),
                          hint="nothing was changed; the kernel takes 1 to %d printable ASCII characters" % limit)
    return text


def check_dhchap_key(key, what):
    """A DH-HMAC-CHAP secret as the kernel parses it. The key itself never appears in a message."""
    if key is None:
        return None
    match = _KEY_RE.match(str(key))
    problem = None
    if not match:
        problem = "is not of the form DHHC-1:<00-03>:<base64>:"
    else:
        try:
            raw = base64.b64decode(match.group(2), validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) - 4 not in KEY_SIZES:
            problem = "holds %d bytes after base64 decoding; the kernel takes 36, 52 or 68 (a 32, 48 or 64 byte key and its CRC)" % len(raw)
        elif struct.unpack("<I", raw[-4:])[0] != zlib.crc32(raw[:-4]) & 0xFFFFFFFF:
            problem = "has a CRC that does not match its key (a typing error?)"
    if problem:
        raise StrataError("the %s %s" % (what, problem),
                          hint="nothing was changed; make a key with `nvme gen-dhchap-key`")
    return str(key)
