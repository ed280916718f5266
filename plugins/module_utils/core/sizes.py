# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sizes as users write them, and the rounding rules tools apply to them.

Accepted forms (case-insensitive unit letters):
- absolute: "512M", "10G", "1.5T", "10GiB", "4096B"; K/M/G/T/P/E and KiB..EiB are powers
  of 1024 (what LVM, mdadm and ZFS mean); KB/MB/GB/TB/PB/EB are powers of 1000.
  A bare number is refused: LVM reads it as MiB, other tools as bytes, so it is ambiguous.
- relative (LVM style): "80%VG", "100%FREE", "50%PVS", "20%ORIGIN"; resolved only when an
  object is created, never re-applied to an existing one.
- growth: "+10G" (grow by), meaningful only where a module says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError

_BINARY = {"": None, "b": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4,
           "p": 1024 ** 5, "e": 1024 ** 6}
_DECIMAL = {"kb": 1000, "mb": 1000 ** 2, "gb": 1000 ** 3, "tb": 1000 ** 4, "pb": 1000 ** 5,
            "eb": 1000 ** 6}
_PERCENT_BASES = ("VG", "FREE", "PVS", "ORIGIN")

_ABS_RE = re.compile(r"^\s*(\+)?\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_PCT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*([a-zA-Z]+)\s*$")


@dataclass(frozen=True)
class SizeSpec:
    """A parsed size. kind is 'absolute' (bytes set) or 'percent' (percent + base set)."""

    text: str
    kind: str
    bytes: int = None
    percent: float = None
    base: str = None
    grow: bool = False

    @property
    def is_relative(self):
        return self.kind == "percent"


def _unit_factor(unit, text, number):
    u = unit.lower()
    if u.endswith("ib") and len(u) == 3:
        u = u[0]
    if u in _DECIMAL:
        return _DECIMAL[u]
    if u in _BINARY and _BINARY[u] is not None:
        return _BINARY[u]
    if u == "":
        raise StrataError(
            "size '%s' has no unit" % text,
            hint="write it with a unit, e.g. '%sM' or '%sG' or '%sB' for bytes" % (number, number, number),
        )
    raise StrataError("size '%s' has an unknown unit '%s'" % (text, unit),
                      hint="use B, K, M, G, T, P (powers of 1024) or KB, MB, GB, TB (powers of 1000)")


def parse_size(text, allow_relative=False, allow_grow=False, what="size"):
    """Parse a size string into a SizeSpec; raise StrataError with the reason if malformed."""
    if text is None:
        return None
    raw = str(text)
    m = _PCT_RE.match(raw)
    if m:
        if not allow_relative:
            raise StrataError("%s '%s' is relative, but only absolute sizes are accepted here" % (what, raw))
        pct = float(m.group(1))
        base = m.group(2).upper()
        if base not in _PERCENT_BASES:
            raise StrataError("%s '%s': unknown base '%s'" % (what, raw, m.group(2)),
                              hint="use one of %s" % ", ".join("%" + b for b in _PERCENT_BASES))
        if pct <= 0 or (pct > 100 and base != "ORIGIN"):
            raise StrataError("%s '%s': percentage must be above 0 and at most 100" % (what, raw))
        return SizeSpec(text=raw, kind="percent", percent=pct, base=base)
    m = _ABS_RE.match(raw)
    if not m:
        raise StrataError("%s '%s' is not a size" % (what, raw),
                          hint="examples: 512M, 10G, 1.5T, 80%VG, 100%FREE")
    grow = bool(m.group(1))
    if grow and not allow_grow:
        raise StrataError("%s '%s': '+' (grow by) is not accepted here" % (what, raw))
    number = float(m.group(2))
    factor = _unit_factor(m.group(3), raw.strip(), m.group(2))
    value = int(number * factor)
    if value <= 0:
        raise StrataError("%s '%s' must be larger than zero" % (what, raw))
    return SizeSpec(text=raw, kind="absolute", bytes=value, grow=grow)


def round_up(value, unit):
    """Round bytes up to a multiple of unit (an extent, a chunk)."""
    if unit <= 0:
        return value
    return -(-value // unit) * unit


def round_down(value, unit):
    if unit <= 0:
        return value
    return (value // unit) * unit


GROW, SAME, SHRINK = "grow", "same", "shrink"


def compare(current, desired, unit):
    """The size rule every planner uses: desired is rounded up to the unit, as the tools do.
    Tools only round up, so a rounded request above current is a real growth request, while
    one below it by at most one unit is the same size, not a shrink.
    Returns (GROW | SAME | SHRINK, rounded desired)."""
    want = round_up(int(desired), unit)
    if want > current:
        return GROW, want
    if want < current - unit:
        return SHRINK, want
    return SAME, want


def human(value):
    """Bytes as a short binary string for messages: 1.5G, 512M, 4096B."""
    value = int(value)
    for suffix, factor in (("E", 1024 ** 6), ("P", 1024 ** 5), ("T", 1024 ** 4), ("G", 1024 ** 3),
                           ("M", 1024 ** 2), ("K", 1024)):
        if abs(value) >= factor:
            text = "%.2f" % (value / float(factor))
            text = text.rstrip("0").rstrip(".")
            return text + suffix
    return "%dB" % value


def to_kib_arg(value):
    """A byte count as an LVM size argument in KiB ('k' is binary for LVM), rounded up."""
    return "%dk" % (-(-int(value) // 1024))
