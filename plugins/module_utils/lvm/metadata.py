# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""LVM metadata backups: naming, listing, retention, and restore planning.

Our backups are `vgcfgbackup -f <folder>/<vg>-<UTC %Y%m%dT%H%M%SZ>-seq<seqno>.vg <vg>` files.
Listing reads every `*.vg` file of the folder and parses the LVM text format (header: the
`description`, `creation_time`, `creation_host`; the VG block: `seqno`, PVs, LVs), so files
made by hand with vgcfgbackup are listed too; retention only ever deletes files whose name
follows our pattern. Restore runs `vgcfgrestore --test` first (a read: it writes nothing), and
the real restore only with the user's explicit flag.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.lvm.names import check_name
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action

DEFAULT_FOLDER = "/var/backups/strata-lvm"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_OURS_RE = re.compile(r"^(?P<vg>.+)-(?P<stamp>\d{8}T\d{6}Z)-seq(?P<seqno>\d+)\.vg$")
MAX_READ = 4 * 1024 * 1024    # a VG's text metadata is at most a few hundred KiB


def backup_file_name(vg, when, seqno):
    """when: an aware or naive-UTC datetime."""
    return "%s-%s-seq%d.vg" % (vg, when.strftime(STAMP_FORMAT), seqno)


# --------------------------------------------------------------------------- the LVM text format

_TOKEN_RE = re.compile(r'\s*(?:(#[^\n]*)|("(?:[^"\\]|\\.)*")|([\[\]{}=,])|([^\s\[\]{}=,"#]+))')


def _tokens(text):
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                return
            raise StrataError("cannot parse LVM metadata near '%s'" % text[pos:pos + 40])
        pos = m.end()
        if m.group(1) is not None:
            continue
        if m.group(2) is not None:
            yield ("str", m.group(2)[1:-1].replace('\\"', '"').replace("\\\\", "\\"))
        elif m.group(3) is not None:
            yield ("op", m.group(3))
        elif m.group(4) is not None:
            word = m.group(4)
            try:
                yield ("num", int(word))
            except ValueError:
                yield ("word", word)


def parse_lvm_text(text):
    """The LVM config/metadata text format -> nested dicts, lists, str and int values."""
    tokens = list(_tokens(text or ""))
    pos = [0]

    def peek():
        return tokens[pos[0]] if pos[0] < len(tokens) else (None, None)

    def take():
        tok = peek()
        pos[0] += 1
        return tok

    def value():
        kind, val = take()
        if (kind, val) == ("op", "["):
            items = []
            while peek() != ("op", "]"):
                if peek() == (None, None):
                    raise StrataError("unterminated list in LVM metadata")
                if peek() == ("op", ","):
                    take()
                    continue
                items.append(take()[1])
            take()
            return items
        return val

    def section(until):
        out = {}
        while True:
            kind, key = take()
            if kind is None:
                if until is None:
                    return out
                raise StrataError("unterminated section in LVM metadata")
            if (kind, key) == ("op", "}"):
                return out
            nxt = take()
            if nxt == ("op", "{"):
                out[str(key)] = section("}")
            elif nxt == ("op", "="):
                out[str(key)] = value()
            else:
                raise StrataError("unexpected token %r after '%s' in LVM metadata" % (nxt[1], key))

    return section(None)


def describe_backup(text, path=None):
    """The facts of one backup file: vg, seqno, description, creation time/host, LVs, PVs."""
    data = parse_lvm_text(text)
    vgs = [(k, v) for k, v in data.items() if isinstance(v, dict) and "seqno" in v]
    if not vgs:
        raise StrataError("%s is not an LVM metadata backup (no volume group section)" % (path or "text"))
    vg_name, body = vgs[0]
    lvs = {}
    for name, lv in (body.get("logical_volumes") or {}).items():
        segtypes = sorted({seg.get("type") for key, seg in lv.items() if isinstance(seg, dict) and key.startswith("segment")})
        lvs[name] = {"id": lv.get("id"), "visible": "VISIBLE" in (lv.get("status") or []), "segtypes": segtypes}
    pvs = {name: {"id": pv.get("id"), "device": pv.get("device")}
           for name, pv in (body.get("physical_volumes") or {}).items()}
    created = data.get("creation_time")
    out = {
        "vg": vg_name, "vg_id": body.get("id"), "seqno": body.get("seqno"),
        "description": data.get("description"), "creation_host": data.get("creation_host"),
        "creation_time": created,
        "time": (datetime.datetime.fromtimestamp(created, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                 if isinstance(created, int) else None),
        "lvs": lvs, "pvs": pvs,
        "thin_pools": sorted(name for name, lv in lvs.items() if "thin-pool" in lv["segtypes"]),
    }
    if path:
        name = os.path.basename(path)
        out.update(path=path, file=name, ours=bool(_OURS_RE.match(name)))
    return out


def read_backups(folder, vg=None):
    """Every LVM backup in folder (of one VG when given), newest first; None when the folder is
    missing. Files that do not parse are listed with an `error`."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return None
    out = []
    for name in names:
        path = os.path.join(folder, name)
        if not name.endswith(".vg") or not os.path.isfile(path):
            continue
        try:
            with open(path) as handle:
                info = describe_backup(handle.read(MAX_READ), path)
        except (IOError, OSError, StrataError, UnicodeDecodeError) as exc:
            info = {"path": path, "file": name, "ours": bool(_OURS_RE.match(name)), "vg": None,
                    "error": str(getattr(exc, "msg", exc))}
        if vg is None or info.get("vg") == vg:
            out.append(info)
    return sort_backups(out)


def sort_backups(backups):
    """Newest first: by creation time, then seqno, then name."""
    return sorted(backups, key=lambda b: (b.get("creation_time") or 0, b.get("seqno") or 0, b.get("file") or ""),
                  reverse=True)


def backup_summary(info):
    """What the module returns for one backup (no LV/PV maps)."""
    keys = ("path", "file", "vg", "seqno", "time", "creation_time", "creation_host", "description", "ours", "error")
    out = {k: info.get(k) for k in keys if k in info}
    if "lvs" in info:
        out["lvs"] = sorted(name for name, lv in info["lvs"].items() if lv["visible"])
    return out


# --------------------------------------------------------------------------- backup

@dataclass
class BackupRequest:
    vg: str
    folder: str = DEFAULT_FOLDER
    retention: int = 10


def backup_request_from_params(params):
    retention = params.get("retention")
    if retention is None:
        retention = 10
    if retention < 1:
        raise StrataError("retention must keep at least 1 backup, not %d" % retention)
    return BackupRequest(vg=params["vg"], folder=params.get("folder") or DEFAULT_FOLDER, retention=retention)


def plan_backup(req, state, backups, now):
    """backups: read_backups(folder, vg) (None = folder missing); now: a UTC datetime.
    plan.after names the new file (`new_backup`, None when skipped) and the files `removed`."""
    check_name("volume group", req.vg)
    vg = state.vg(req.vg)
    if vg is None:
        raise StrataError("volume group %s does not exist; there is nothing to back up" % req.vg)
    ours = [b for b in (backups or []) if b.get("ours") and b.get("vg") == req.vg and "error" not in b]
    plan = Plan(before={"vg": req.vg, "seqno": vg.seqno, "backups": [b["file"] for b in ours]})
    new_path = None
    # the same seqno of another VG of that name (re-created since) is not this VG's metadata
    if ours and ours[0].get("seqno") == vg.seqno and ours[0].get("vg_id") == vg.uuid:
        plan.notes.append("the newest backup %s already holds metadata seqno %d of volume group %s" % (
            ours[0]["file"], vg.seqno, req.vg))
    else:
        if backups is None:
            plan.add(Action("create backup folder %s" % req.folder, ["mkdir", "-p", "-m", "0700", req.folder]))
        new_path = os.path.join(req.folder, backup_file_name(req.vg, now, vg.seqno))
        plan.add(Action("back up the metadata of volume group %s (seqno %d) to %s" % (req.vg, vg.seqno, new_path),
                        ["vgcfgbackup", "--file", new_path, req.vg]))
    kept = ([{"file": os.path.basename(new_path), "path": new_path}] if new_path else []) + ours
    for old in kept[req.retention:]:
        plan.add(Action("remove old backup %s (retention %d)" % (old["path"], req.retention),
                        ["rm", "-f", "--", old["path"]]))
    plan.after = {"vg": req.vg, "seqno": vg.seqno, "backups": [b["file"] for b in kept[:req.retention]],
                  "new_backup": new_path, "removed": [b["path"] for b in kept[req.retention:]]}
    return plan


# --------------------------------------------------------------------------- restore

@dataclass
class RestoreRequest:
    vg: str
    folder: str = DEFAULT_FOLDER
    backup: str = "latest"       # a path, a file name in folder, or "latest"
    allow_restore: bool = False
    activate: bool = True


def restore_request_from_params(params):
    return RestoreRequest(vg=params["vg"], folder=params.get("folder") or DEFAULT_FOLDER,
                          backup=params.get("backup") or "latest", allow_restore=bool(params.get("allow_restore")),
                          activate=params.get("activate") is not False)


def choose_backup(req, backups):
    """The backup info a restore request names (from read_backups(folder, vg))."""
    usable = [b for b in (backups or []) if "error" not in b and b.get("vg") == req.vg]
    if req.backup == "latest":
        if not usable:
            raise StrataError("no backup of volume group %s in %s" % (req.vg, req.folder),
                              hint="name one with `backup`, or take one with operation=backup")
        return usable[0]
    wanted = req.backup if os.path.isabs(req.backup) else os.path.join(req.folder, req.backup)
    for info in backups or []:
        if info.get("path") == wanted:
            if "error" in info:
                raise StrataError("backup %s cannot be read: %s" % (wanted, info["error"]))
            if info.get("vg") != req.vg:
                raise StrataError("backup %s holds volume group %s, not %s" % (wanted, info.get("vg"), req.vg))
            return info
    raise StrataError("backup %s of volume group %s not found" % (wanted, req.vg),
                      hint="list the backups with operation=list")


def needs_force(backup, state, vg):
    """vgcfgrestore refuses VGs with thin pools without --force (the pool's own metadata on disk
    is not restored, so the kernel's view of thin volumes must match the file)."""
    if backup.get("thin_pools"):
        return True
    return any(lv.is_thin_pool for lv in state.lvs_of(vg, hidden=True))


def restore_cmd(backup, vg, force, test=False):
    """The restore command. The --test run answers yes to LVM's prompt about active LVs: in test
    mode nothing is written or (de)activated, and the real run deactivates the VG first."""
    cmd = ["vgcfgrestore"]
    if test:
        cmd += ["--test", "--yes"]
    if force:
        cmd.append("--force")
    return cmd + ["--file", backup["path"], vg]


def current_matches(backup, state, vg):
    """True when the VG already has exactly the backup's visible LVs (by UUID) and PVs."""
    if state.vg(vg) is None:
        return False
    want_lvs = {name: lv["id"] for name, lv in backup["lvs"].items() if lv["visible"]}
    have_lvs = {lv.name: lv.uuid for lv in state.lvs_of(vg)}
    want_pvs = {pv["id"] for pv in backup["pvs"].values()}
    have_pvs = {pv.uuid for pv in state.pvs_of(vg)}
    return want_lvs == have_lvs and want_pvs == have_pvs


def plan_restore(req, state, backup):
    """Plan a restore from `backup` (choose_backup()). The module runs restore_cmd(test=True)
    as a read BEFORE calling this, so a file LVM rejects fails before anything changes."""
    check_name("volume group", req.vg)
    vg = state.vg(req.vg)
    before = {"vg": req.vg, "seqno": vg.seqno if vg else None,
              "lvs": sorted(lv.name for lv in state.lvs_of(req.vg)) if vg else []}
    plan = Plan(before=before)
    want = sorted(name for name, lv in backup["lvs"].items() if lv["visible"])
    if current_matches(backup, state, req.vg):
        plan.notes.append("volume group %s already has the LVs and PVs of %s; nothing to restore" % (
            req.vg, backup["file"]))
        plan.after = dict(before)
        return plan
    open_lvs = sorted(lv.name for lv in state.lvs_of(req.vg) if lv.in_use) if vg else []
    if open_lvs:
        raise StrataError("volume group %s has open logical volumes %s (mounted or in use); refusing to restore its "
                          "metadata" % (req.vg, ", ".join(open_lvs)), hint="unmount them and stop their users first")
    if not req.allow_restore:
        raise StrataError("restoring volume group %s from %s passed `vgcfgrestore --test`; it replaces the VG's "
                          "metadata, so it needs allow_restore: true" % (req.vg, backup["path"]),
                          hint="LVs %s would become %s" % (", ".join(before["lvs"]) or "(none)", ", ".join(want) or "(none)"))
    force = needs_force(backup, state, req.vg)
    active = [lv.name for lv in state.lvs_of(req.vg) if lv.active] if vg else []
    if active:
        plan.add(Action("deactivate the logical volumes of %s (%s) before the restore" % (req.vg, ", ".join(active)),
                        ["vgchange", "--activate", "n", req.vg]))
    if force:
        plan.notes.append("--force: volume group %s has thin pools; vgcfgrestore restores LVM metadata only, never the "
                          "pools' own metadata, so thin volumes created or removed since the backup may not match "
                          "their pool (check with thin_check / lvs)" % req.vg)
    plan.add(Action("restore the metadata of volume group %s from %s (seqno %s, %s)" % (
        req.vg, backup["path"], backup.get("seqno"), backup.get("time")), restore_cmd(backup, req.vg, force)))
    if req.activate:
        plan.add(Action("activate the logical volumes of %s" % req.vg, ["vgchange", "--activate", "y", req.vg]))
    plan.after = {"vg": req.vg, "seqno": None, "lvs": want}
    return plan
