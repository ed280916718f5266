# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan one md array: (request, MdState) -> Plan of mdadm commands, in order.

Pure: devices are inspected through the `inspect` callable, a stopped array is looked for
through the `examine` callable (one `mdadm --examine --scan`, only when needed). Every
refusal is raised here, before anything runs, so check mode and a real run take the same
actions and bad input changes nothing.

Arrays are always addressed as /dev/md/NAME (never /dev/mdN alone) and found by name or
UUID. New members, spares, journal and replacement devices pass the device guard first
(mdadm itself does not notice xfs, LVM or ZFS signatures).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core.text import with_article
from ansible_collections.strata.storage.plugins.module_utils.core import sizes
from ansible_collections.strata.storage.plugins.module_utils.core.devices import device_key, guard_blank
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action
from ansible_collections.strata.storage.plugins.module_utils.md import rules
from ansible_collections.strata.storage.plugins.module_utils.md.reader import mdadm_uuid, normalize_uuid

MDADM = "mdadm"

# The options of one array: md_array's argument spec and md_layout's `arrays` elements.
ARRAY_SPEC = dict(
    name=dict(type="str", required=True),
    uuid=dict(type="str"),
    state=dict(type="str", default="present", choices=["present", "assembled", "stopped", "absent"]),
    level=dict(type="str", choices=list(rules.LEVELS) + ["0", "1", "4", "5", "6", "10"]),
    members=dict(type="list", elements="path", default=[]),
    spares=dict(type="list", elements="path", default=[]),
    chunk=dict(type="str"),
    metadata=dict(type="str"),
    bitmap=dict(type="str", choices=["internal", "none"]),
    layout=dict(type="str"),
    consistency_policy=dict(type="str", choices=list(rules.POLICIES)),
    journal=dict(type="path"),
    force=dict(type="list", elements="path", default=[]),
    fail=dict(type="list", elements="path", default=[]),
    remove=dict(type="list", elements="path", default=[]),
    replace=dict(type="list", elements="dict", default=[], options=dict(
        old=dict(type="path", required=True),
        new=dict(type="path", required=True),
    )),
    reshape=dict(type="bool", default=False),
    size=dict(type="str"),
    backup_file=dict(type="path"),
    sync_action=dict(type="str", choices=["check", "repair", "idle"]),
    wait=dict(type="bool", default=False),
    wait_timeout=dict(type="int", default=600),
    allow_remove=dict(type="bool", default=False),
)


@dataclass
class MdAction(Action):
    """An Action that must wait for the array to be idle (no resync, recovery, reshape or
    scrub) before it runs; the executor waits, check mode does not."""

    wait_idle: str = None      # the array name to wait for, or None


@dataclass
class ArrayRequest:
    name: str
    uuid: str = None
    state: str = "present"
    level: str = None
    members: list = field(default_factory=list)
    spares: list = field(default_factory=list)
    chunk: int = None
    metadata: str = None
    bitmap: str = None
    layout: str = None
    consistency_policy: str = None
    journal: str = None
    force: list = field(default_factory=list)
    fail: list = field(default_factory=list)
    remove: list = field(default_factory=list)
    replace: list = field(default_factory=list)    # [(old, new)]
    reshape: bool = False
    size: object = None                            # None | "max" | bytes
    backup_file: str = None
    sync_action: str = None
    wait: bool = False
    wait_timeout: int = 600
    allow_remove: bool = False

    @property
    def device(self):
        return "/dev/md/%s" % self.name

    def listed(self):
        """Every device path the request names for the array."""
        out = list(self.members) + list(self.spares)
        if self.journal:
            out.append(self.journal)
        out.extend(new for _old, new in self.replace)
        return out


def request_from_params(params):
    """Options -> ArrayRequest; malformed values fail here, before anything is read."""
    rules.check_name(params["name"])
    uuid = params.get("uuid")
    if uuid and not normalize_uuid(uuid):
        raise StrataError("md array %s: uuid '%s' is not a UUID" % (params["name"], uuid),
                          hint="as mdadm prints it (xxxxxxxx:xxxxxxxx:xxxxxxxx:xxxxxxxx) or with dashes")
    chunk = None
    if params.get("chunk"):
        chunk = sizes.parse_size(params["chunk"], what="chunk").bytes
    size = params.get("size")
    if size is not None:
        size = "max" if str(size).strip().lower() == "max" else sizes.parse_size(size, what="size").bytes
    if params.get("wait_timeout", 600) is not None and params.get("wait_timeout", 600) <= 0:
        raise StrataError("md array %s: wait_timeout must be a positive number of seconds" % params["name"])
    req = ArrayRequest(
        name=params["name"], uuid=uuid, state=params.get("state") or "present",
        level=rules.normalize_level(params.get("level")),
        members=list(params.get("members") or []), spares=list(params.get("spares") or []),
        chunk=chunk, metadata=rules.normalize_metadata(params.get("metadata")),
        bitmap=params.get("bitmap"), layout=params.get("layout"),
        consistency_policy=params.get("consistency_policy"), journal=params.get("journal"),
        force=list(params.get("force") or []), fail=list(params.get("fail") or []),
        remove=list(params.get("remove") or []),
        replace=[(item["old"], item["new"]) for item in (params.get("replace") or [])],
        reshape=bool(params.get("reshape")), size=size, backup_file=params.get("backup_file"),
        sync_action=params.get("sync_action"), wait=bool(params.get("wait")),
        wait_timeout=params.get("wait_timeout") or 600, allow_remove=bool(params.get("allow_remove")),
    )
    _check_lists(req)
    return req


def _check_lists(req):
    keys = {}
    for path in req.listed():
        key = device_key(path)
        if key in keys and keys[key] != path:
            raise StrataError("md array %s names the same device twice: %s and %s" % (req.name, keys[key], path),
                              hint="each device can have one role; names are compared by device number")
        if key in keys:
            raise StrataError("md array %s lists %s twice" % (req.name, path))
        keys[key] = path
    listed = set(keys)
    for path in req.remove:
        if device_key(path) in listed:
            raise StrataError("md array %s: %s is both listed as a device and in remove" % (req.name, path))
    for old, _new in req.replace:
        if device_key(old) in listed:
            raise StrataError("md array %s: %s is being replaced, so it cannot also be listed in members or "
                              "spares" % (req.name, old))
    if req.backup_file and req.backup_file.startswith("/dev/md"):
        raise StrataError("md array %s: backup_file must not be on an md array" % req.name)


# --------------------------------------------------------------------------- helpers

def _mdadm_size(value):
    return "%dK" % (value // 1024)


def array_view(array):
    """The part of an array shown in diffs."""
    if array is None:
        return {"state": "absent"}
    return {"state": "running" if array.active else "inactive", "name": array.name, "uuid": array.uuid,
            "level": array.level, "raid_disks": array.raid_disks, "chunk": array.chunk,
            "layout": array.layout_name, "bitmap": array.bitmap,
            "consistency_policy": array.consistency_policy, "component_size": array.component_size,
            "devices": sorted("/dev/%s (%s)" % (m.name, m.role) for m in array.members)}


def _probe(info):
    return getattr(info, "probe", None) or {}


def carries_array(info, req):
    """True when blkid saw a superblock of the requested array on this device."""
    probe = _probe(info)
    if probe.get("TYPE") != "linux_raid_member":
        return False
    if req.uuid:
        return normalize_uuid(probe.get("UUID")) == normalize_uuid(req.uuid)
    label = probe.get("LABEL") or ""
    return label == req.name or label.endswith(":" + req.name)


def _check_sizes(req, infos, need=None):
    for info in infos:
        if info.size is None:
            continue
        if info.size < rules.MIN_MEMBER:
            raise StrataError("md array %s: %s is %s, too small for an md member (at least %s)" % (
                req.name, info.path, sizes.human(info.size), sizes.human(rules.MIN_MEMBER)))
        if need and info.size < need:
            raise StrataError("md array %s: %s is %s, smaller than the %s each member needs (data %s + offset)" % (
                req.name, info.path, sizes.human(info.size), sizes.human(need), sizes.human(need)),
                hint="use a device at least that large")
        if (req.metadata or "1.2") == "0.90" and req.level != "raid0" and info.size > rules.MAX_MEMBER_090:
            raise StrataError("md array %s: metadata 0.90 cannot use %s, larger than 2 TiB" % (req.name, info.path))


def _forced(req, path):
    return device_key(path) in {device_key(p) for p in req.force}


def _guard(req, infos, purpose):
    """The device guard; returns actions wiping what the user named in force."""
    forced = guard_blank(infos, req.force, purpose)
    out = []
    for info in infos:
        if info.path in forced:
            out.append(Action("wipe the signatures the user named in force from %s" % info.path,
                              ["wipefs", "--all", info.realpath]))
    return out


# --------------------------------------------------------------------------- entry point

def find_array(req, state):
    """The running (or inactive) array the request means: by UUID when given, else by name."""
    if req.uuid:
        array = state.find(uuid=req.uuid)
        if array is not None and req.name not in (array.name, array.full_name):
            raise StrataError("UUID %s belongs to md array %s, not %s" % (req.uuid, array.name, req.name),
                              hint="check the name and UUID; nothing was changed")
        if array is not None:
            return array
    array = state.find(name=req.name)
    if array is not None and req.uuid:
        raise StrataError("md array %s is running with UUID %s, not the requested %s" % (
            req.name, array.uuid, req.uuid), hint="check the name and UUID; nothing was changed")
    return array


def plan_array(req, state, inspect, examine):
    """Plan one array. inspect(path) -> DeviceInfo (with .probe, the blkid values);
    examine() -> parsed `mdadm --examine --scan` lines."""
    array = find_array(req, state)
    plan = Plan(before=array_view(array))
    if req.state == "absent":
        return _plan_absent(req, state, array, inspect, plan)
    if req.state == "stopped":
        return _plan_stopped(req, array, plan)
    if array is not None and not array.active:
        members = ", ".join(m.name for m in array.members) or "none"
        raise StrataError(
            "md array %s (%s) is assembled but inactive, with members %s" % (req.name, array.kernel_name, members),
            hint="see docs/md.md 'An array that will not assemble': find the missing members, or stop it "
                 "(state: stopped) and assemble it again with every member")
    if array is None:
        return _plan_not_running(req, state, inspect, examine, plan)
    if array.device != req.device:
        return _plan_rename(req, array, plan)
    return _plan_running(req, state, array, inspect, plan)


def _plan_rename(req, array, plan):
    """The array runs under another name (/dev/md/HOST:NAME when early boot assembled it
    without the ARRAY line, or /dev/mdN): stop it and assemble it again as /dev/md/NAME,
    only when nothing uses it (and the kernel refuses to stop an open array anyway)."""
    busy = _in_use(array)
    if busy:
        plan.warnings.append(
            "md array %s runs as %s, not %s, and %s; it keeps that name until it is stopped: refresh the "
            "initramfs (update_initramfs: true) so early boot knows its ARRAY line, then reboot" % (
                req.name, array.device, req.device, "; ".join(busy)))
        plan.after = plan.before
        return plan
    plan.add(Action("stop md array %s, which runs as %s" % (req.name, array.device), [MDADM, "--stop", array.device]))
    plan.add(Action("assemble it again under its name %s" % req.device,
                    [MDADM, "--assemble", req.device, "--uuid=%s" % array.uuid]))
    plan.notes.append("md array %s ran as %s (early boot assembled it without its ARRAY line: the initramfs "
                      "needs a refresh); other changes, if any, on the next run" % (req.name, array.device))
    plan.after = dict(plan.before, name=req.name)
    return plan


# --------------------------------------------------------------------------- stop / remove

def _in_use(array):
    reasons = []
    if array.holders:
        reasons.append("is held by %s" % ", ".join(array.holders))
    if array.mountpoints:
        reasons.append("is mounted on %s" % ", ".join(array.mountpoints))
    if array.swap:
        reasons.append("is active swap")
    return reasons


def _plan_stopped(req, array, plan):
    plan.after = {"state": "stopped", "name": req.name}
    if array is None:
        return plan
    busy = _in_use(array)
    if busy:
        raise StrataError("md array %s %s; refusing to stop it" % (req.name, "; ".join(busy)),
                          hint="unmount it and deactivate what is on top (e.g. vgchange -an) first")
    plan.add(Action("stop md array %s (%s); superblocks are kept" % (req.name, array.kernel_name),
                    [MDADM, "--stop", array.device]))
    return plan


def _plan_absent(req, state, array, inspect, plan):
    plan.after = {"state": "absent"}
    if not req.allow_remove:
        if array is None and not req.members and not req.spares:
            return plan
        raise StrataError("md array %s: state absent stops it and zeroes the superblocks of its listed members; "
                          "that needs allow_remove: true" % req.name, hint="nothing was changed")
    listed = req.members + req.spares + ([req.journal] if req.journal else [])
    zero = []
    if array is not None:
        busy = _in_use(array)
        if busy:
            raise StrataError("md array %s %s; refusing to remove it" % (req.name, "; ".join(busy)),
                              hint="unmount it and remove what is on top (e.g. the volume group) first")
        members = {("devno",) + tuple(m.devno): m for m in array.members if m.devno}
        for path in listed:       # in the order given
            member = members.pop(device_key(path), None)
            if member is not None:
                zero.append(path)
            else:
                plan.notes.append("md array %s: %s is not a member; left alone" % (req.name, path))
        for member in sorted(members.values(), key=lambda m: m.name):
            plan.notes.append("md array %s: member /dev/%s is not listed, so its superblock is kept" % (
                req.name, member.name))
        plan.add(Action("stop md array %s (%s)" % (req.name, array.kernel_name), [MDADM, "--stop", array.device]))
    else:
        for path in listed:
            info = inspect(path)
            if info.exists and carries_array(info, req):
                if info.in_use:
                    raise StrataError("md array %s: %s %s" % (req.name, path, "; ".join(info.use_reasons())))
                zero.append(path)
            elif info.exists:
                plan.notes.append("md array %s: %s holds no superblock of this array; left alone" % (req.name, path))
    for path in zero:
        plan.add(Action("zero the md superblock on %s (member of %s)" % (path, req.name),
                        [MDADM, "--zero-superblock", path]))
    return plan


# --------------------------------------------------------------------------- assemble / create

def _plan_not_running(req, state, inspect, examine, plan):
    listed = req.members + req.spares + ([req.journal] if req.journal else [])
    infos = [inspect(path) for path in listed]
    carrying = [info for info in infos if info.exists and carries_array(info, req)]
    uuid = req.uuid
    if carrying:
        uuid = uuid or mdadm_uuid(_probe(carrying[0]).get("UUID"))
        others = [info.path for info in infos if info not in carrying]
        if others:
            plan.notes.append("md array %s: %s hold no superblock of it; assemble first, then run again to add "
                              "them" % (req.name, ", ".join(others)))
        return _plan_assemble(req, plan, uuid, [info.realpath for info in carrying])
    if not listed or req.state == "assembled":
        found = [entry for entry in examine() if _scan_matches(entry, req)]
        if found:
            return _plan_assemble(req, plan, found[0].get("uuid"), [])
        if req.state == "assembled":
            raise StrataError("md array %s is not running and no device carries its superblock" % (
                req.uuid or req.name), hint="check the name or UUID with `mdadm --examine --scan`; nothing was changed")
        raise StrataError("md array %s does not exist and no members were given to create it" % req.name)
    return _plan_create(req, infos, plan)


def _scan_matches(entry, req):
    if req.uuid:
        return normalize_uuid(entry.get("uuid")) == normalize_uuid(req.uuid)
    name = entry.get("name") or ""
    return name == req.name or name.endswith(":" + req.name) or entry.get("devname") == req.device


def _plan_assemble(req, plan, uuid, devices):
    cmd = [MDADM, "--assemble", req.device]
    if uuid:
        cmd.append("--uuid=%s" % mdadm_uuid(uuid))
    plan.add(Action("assemble md array %s%s" % (req.name, " from %s" % ", ".join(devices) if devices else ""),
                    cmd + devices))
    plan.after = {"state": "running", "name": req.name, "uuid": mdadm_uuid(uuid)}
    return plan


def _plan_create(req, infos, plan):
    if req.level is None:
        raise StrataError("md array %s does not exist and no level was given to create it" % req.name)
    if not req.members:
        raise StrataError("md array %s does not exist and no members were given to create it" % req.name)
    if req.fail or req.remove or req.replace:
        raise StrataError("md array %s does not exist yet: fail, remove and replace apply to a running array" % (
            req.name))
    rules.check_create(req, len(req.members), len(req.spares))
    if req.size is not None or req.reshape:
        plan.notes.append("md array %s: size and reshape apply to a running array; ignored at creation" % req.name)
    _check_sizes(req, infos, need=(req.chunk or 0) * 2 or None)
    plan.actions.extend(_guard(req, infos, "a member of md array %s" % req.name))
    by_path = {info.path: info for info in infos}
    cmd = [MDADM, "--create", req.device, "--run", "--level=%s" % req.level[4:],
           "--raid-devices=%d" % len(req.members)]
    if req.spares:
        cmd.append("--spare-devices=%d" % len(req.spares))
    cmd.append("--metadata=%s" % (req.metadata or "1.2"))
    cmd.append("--name=%s" % req.name)
    if req.chunk:
        cmd.append("--chunk=%s" % _mdadm_size(req.chunk))
    if req.layout:
        cmd.append("--layout=%s" % req.layout)
    if req.bitmap:
        cmd.append("--bitmap=%s" % req.bitmap)
    if req.consistency_policy and not req.journal:
        cmd.append("--consistency-policy=%s" % req.consistency_policy)
    if req.journal:
        cmd.append("--write-journal=%s" % by_path[req.journal].realpath)
    devices = [by_path[p].realpath for p in req.members + req.spares]
    cmd += devices
    if req.journal:
        devices.append(by_path[req.journal].realpath)
    plan.add(MdAction(
        "create %s md array %s on %s%s" % (
            req.level, req.name, ", ".join(req.members), " with spares %s" % ", ".join(req.spares) if req.spares else ""),
        # a create that fails itself can leave superblocks and an inactive array (RUN_ARRAY
        # failed): the undo is stacked first, and each step may find nothing to undo
        cmd, undo_if_failed=True,
        undo=[Action("stop md array %s, which this run created" % req.name, [MDADM, "--stop", req.device],
                     best_effort=True)] + [
            Action("zero the md superblock this run wrote on %s" % path, [MDADM, "--zero-superblock", path],
                   best_effort=True) for path in devices]))
    plan.after = {"state": "running", "name": req.name, "uuid": None, "level": req.level,
                  "raid_disks": len(req.members), "chunk": req.chunk, "layout": req.layout,
                  "bitmap": req.bitmap, "consistency_policy": req.consistency_policy or req.journal and "journal",
                  "devices": sorted(["%s (active)" % p for p in req.members] + ["%s (spare)" % p for p in req.spares])}
    if req.sync_action:
        plan.notes.append("md array %s: sync_action applies to a running array; the new array resyncs by itself" % (
            req.name))
    return plan


# --------------------------------------------------------------------------- running array

class _Running:
    """Planning state for a running array: which members go, which come."""

    def __init__(self, req, state, array, inspect, plan):
        self.req, self.state, self.array, self.inspect, self.plan = req, state, array, inspect, plan
        self.by_key = {("devno",) + tuple(m.devno): m for m in array.members if m.devno}
        self.failing = set()      # member names we fail in this run
        self.leaving = set()      # member names we remove in this run
        self.added = []           # paths we add (as spares first)
        self.raid_disks = array.raid_disks
        self.level = array.level
        self.busy = array.sync_action not in ("idle", "frozen", "")
        self.dev = array.device

    def member(self, path):
        return self.by_key.get(device_key(path))

    def add(self, action):
        return self.plan.add(action)

    def need_idle(self, what):
        """A step that needs the array idle: wait first (wait: true) or refuse now."""
        if not self.busy:
            return None
        if self.req.wait:
            return self.req.name
        progress = self.array.progress
        pct = " (%s%%)" % progress.percent if progress and progress.percent is not None else ""
        raise StrataError("md array %s is busy with %s%s; %s has to wait for it" % (
            self.req.name, self.array.sync_action, pct, what),
            hint="set wait: true to wait for it (up to wait_timeout), or run again when it is idle")


def _plan_running(req, state, array, inspect, plan):
    run = _Running(req, state, array, inspect, plan)
    _check_fixed(run)
    _plan_fail_remove(run)
    _plan_replace(run)
    _plan_new_devices(run)
    _plan_level_and_grow(run)
    _plan_size(run)
    _plan_bitmap_policy(run)
    _plan_sync_action(run)
    after = array_view(array)
    after.update(level=run.level, raid_disks=run.raid_disks)
    gone = run.leaving
    kept = [d for d in after["devices"] if d.split(" ")[0][5:] not in gone]
    after["devices"] = sorted(kept + ["%s (new)" % p for p in run.added])
    plan.after = after
    return plan


def _check_fixed(run):
    req, array = run.req, run.array
    if req.metadata and array.metadata and req.metadata != array.metadata:
        raise StrataError("md array %s has metadata %s, not the requested %s" % (req.name, array.metadata, req.metadata),
                          hint="the metadata version is fixed at creation; leave metadata out to keep it")
    changing_level = req.level and req.level != array.level
    if req.chunk and not changing_level:
        if array.level not in rules.CHUNK_LEVELS:
            rules.check_chunk(array.level, req.chunk, req.name)
        elif array.chunk and req.chunk != array.chunk:
            raise StrataError("md array %s has chunk %s, not the requested %s" % (
                req.name, sizes.human(array.chunk), sizes.human(req.chunk)),
                hint="changing the chunk is a reshape this module does not drive; leave chunk out to keep it")
    if req.layout and not changing_level:
        rules.check_layout(array.level, req.layout, req.name, None)
        if array.layout_name and req.layout != array.layout_name:
            raise StrataError("md array %s has layout %s, not the requested %s" % (
                req.name, array.layout_name, req.layout), hint="leave layout out to keep it")


def _working(run):
    return [m for m in run.array.members if m.role == "active" and m.name not in run.failing]


def _plan_fail_remove(run):
    req, array = run.req, run.array
    for path in req.fail:
        member = run.member(path)
        if member is None:
            run.plan.notes.append("md array %s: %s is not a member; nothing to fail" % (req.name, path))
            continue
        if member.faulty:
            continue
        if member.role == "active":
            run.failing.add(member.name)
            left = len(_working(run))
            need = array.raid_disks - rules.max_failures(array.level, array.raid_disks, array.layout_name)
            if left < need:
                raise StrataError(
                    "failing %s would leave md array %s with %d working members of %d; %s needs %d" % (
                        path, req.name, left, array.raid_disks, array.level, need),
                    hint="nothing was changed; add or rebuild members first")
        run.add(Action("mark %s faulty in md array %s" % (path, req.name), [MDADM, run.dev, "--fail", path]))
    for path in req.remove:
        if path == "failed":
            gone = [m for m in array.members if m.faulty and m.name not in run.leaving]
            if gone:
                run.leaving.update(m.name for m in gone)
                run.add(Action("remove the faulty members %s from md array %s" % (
                    ", ".join("/dev/%s" % m.name for m in gone), req.name), [MDADM, run.dev, "--remove", "failed"]))
            continue
        member = run.member(path)
        if member is None:
            continue
        if member.role in ("active", "rebuilding", "journal") and member.name not in run.failing:
            raise StrataError("md array %s: %s is %s member; only faulty members and spares are removed" % (
                req.name, path, with_article(member.role)), hint="list it in fail too to fail it first")
        run.leaving.add(member.name)
        run.add(Action("remove %s from md array %s" % (path, req.name), [MDADM, run.dev, "--remove", path]))


def _plan_replace(run):
    req = run.req
    for old, new in req.replace:
        old_member, new_member = run.member(old), run.member(new)
        if new_member is not None and new_member.role == "active" and "replacement" not in new_member.flags:
            # done: the old device is faulty in the array (remove it) or gone
            if old_member is not None and old_member.faulty:
                run.leaving.add(old_member.name)
                run.add(Action("remove the replaced %s from md array %s" % (old, req.name),
                               [MDADM, run.dev, "--remove", old]))
            continue
        if new_member is not None and new_member.role == "rebuilding":
            if req.wait and old_member is not None:
                run.leaving.add(old_member.name)
                run.add(MdAction("remove the replaced %s from md array %s once %s is in sync" % (old, req.name, new),
                                 [MDADM, run.dev, "--remove", old], wait_idle=req.name))
            else:
                run.plan.notes.append("md array %s: %s is being rebuilt to replace %s" % (req.name, new, old))
            continue
        if old_member is None or old_member.role != "active":
            raise StrataError("md array %s: %s is not an active member, so it cannot be replaced%s" % (
                req.name, old, " (it is %s)" % old_member.role if old_member else ""),
                hint="a failed member is replaced by adding a new device (members/spares)")
        if run.array.level not in rules.REDUNDANT:
            raise StrataError("md array %s is %s: members of an array without redundancy cannot be replaced" % (
                req.name, run.array.level))
        if run.array.degraded:
            raise StrataError("md array %s is degraded: a new device rebuilds the missing member instead of "
                              "replacing %s" % (req.name, old), hint="add the device (members/spares) first")
        if new_member is None:
            info = run.inspect(new)
            _check_sizes(req, [info], need=_member_need(run.array))
            for action in _guard(req, [info], "the replacement of %s in md array %s" % (old, req.name)):
                run.add(action)
            run.add(Action("add %s to md array %s as the replacement of %s" % (new, req.name, old),
                           [MDADM, run.dev, "--add", info.realpath]))
            run.added.append(new)
            new_path = info.realpath
        else:
            new_path = new
        idle = run.need_idle("replacing %s" % old)
        run.add(MdAction("rebuild %s onto %s in md array %s (it stays redundant throughout)" % (old, new, req.name),
                         [MDADM, run.dev, "--replace", old, "--with", new_path], wait_idle=idle))
        if req.wait:
            run.leaving.add(old_member.name)
            run.add(MdAction("remove the replaced %s from md array %s once %s is in sync" % (old, req.name, new),
                             [MDADM, run.dev, "--remove", old], wait_idle=req.name))
        else:
            run.plan.notes.append("md array %s: %s is rebuilt onto %s in the background; run again (or with wait: "
                                  "true) to remove %s afterwards" % (req.name, old, new, old))


def _member_need(array):
    """Bytes a new member needs: the array's data per member plus the data offset."""
    offsets = [m.offset for m in array.members if m.offset]
    return array.component_size + (max(offsets) if offsets else 0)


def _plan_new_devices(run):
    req, array = run.req, run.array
    new_paths = []
    for path in req.members + req.spares + ([req.journal] if req.journal else []):
        member = run.member(path)
        if member is None:
            new_paths.append(path)
        elif member.faulty:
            run.plan.notes.append("md array %s: %s is faulty; replace it or remove it (remove: [%s])" % (
                req.name, path, path))
    if req.journal and new_paths and req.journal in new_paths:
        raise StrataError("md array %s: a write journal is set at creation; %s cannot be added later by this module" % (
            req.name, req.journal))
    if not new_paths:
        return
    infos = [run.inspect(path) for path in new_paths]
    free_slots = array.degraded - len([m for m in array.members if m.role == "rebuilding"])
    readd, fresh = [], []
    for info in infos:
        if info.exists and carries_array(info, req) and not info.in_use and free_slots > 0 \
                and array.bitmap == "internal" and not _forced(req, info.path):
            readd.append(info)
            free_slots -= 1
        else:
            fresh.append(info)
    stale = [info for info in fresh if info.exists and carries_array(info, req) and not _forced(req, info.path)]
    if stale:
        raise StrataError(
            "md array %s: %s %s an old superblock of this array and cannot be re-added (that needs a free slot "
            "and a write-intent bitmap; the array has %d free and bitmap %s)" % (
                req.name, ", ".join(i.path for i in stale), "carries" if len(stale) == 1 else "carry",
                max(free_slots, 0), array.bitmap),
            hint="name it in force to zero its superblock and add it as a new spare")
    if array.level == "raid0" and fresh:
        raise StrataError("md array %s is raid0: it takes no spares (growing raid0 is not supported here)" % req.name)
    if fresh and array.level in ("raid1", "raid4", "raid5", "raid6") and \
            array.degraded > rules.max_failures(array.level, array.raid_disks):
        raise StrataError(
            "md array %s has failed: %d of its %d members are missing, more than %s survives; a new device cannot "
            "rebuild it (mdadm refuses: \"using --add cannot work and might destroy data\")" % (
                req.name, array.degraded, array.raid_disks, array.level),
            hint="stop it and assemble it again with every member it still has (docs/md.md 'An array that will not "
                 "assemble'); nothing was changed")
    _check_sizes(req, fresh, need=_member_need(array))
    for action in _guard(req, fresh, "a member of md array %s" % req.name):
        run.add(action)
    for info in readd:
        run.add(Action("re-add %s to md array %s (it carries this array's superblock)" % (info.path, req.name),
                       [MDADM, run.dev, "--re-add", info.realpath]))
        run.added.append(info.path)
    for info in fresh:
        run.add(Action("add %s to md array %s" % (info.path, req.name), [MDADM, run.dev, "--add", info.realpath]))
        run.added.append(info.path)


def _plan_level_and_grow(run):
    req, array = run.req, run.array
    want_level = req.level or array.level
    want_disks = max(len(req.members), array.raid_disks) if req.members else array.raid_disks
    if want_level == array.level and want_disks == array.raid_disks:
        if req.members and len(req.members) < array.raid_disks:
            run.plan.notes.append("md array %s has %d raid devices and members lists %d; the array is never "
                                  "shrunk" % (req.name, array.raid_disks, len(req.members)))
        return
    what = []
    if want_level != array.level:
        what.append("a level change %s -> %s" % (array.level, want_level))
    if want_disks != array.raid_disks:
        what.append("growing from %d to %d members" % (array.raid_disks, want_disks))
    if not req.reshape:
        raise StrataError("md array %s: %s is a reshape; set reshape: true to allow it" % (req.name, " and ".join(what)),
                          hint="nothing was changed")
    rules.check_reshape_policy(array, req.name, " and ".join(what))
    idle = run.need_idle(" and ".join(what))
    backup = ["--backup-file=%s" % req.backup_file] if req.backup_file else []
    if want_level != array.level:
        if (array.level, want_level) not in rules.LEVEL_CHANGES:
            raise StrataError("md array %s: changing %s to %s is not supported by this module" % (
                req.name, array.level, want_level),
                hint="supported: %s" % ", ".join("%s -> %s" % c for c in sorted(rules.LEVEL_CHANGES)))
        if array.degraded:
            raise StrataError("md array %s is degraded; rebuild it before changing its level" % req.name)
        if array.level == "raid1":
            if array.raid_disks != 2:
                raise StrataError("md array %s: only a raid1 of 2 members becomes raid5 (it has %d)" % (
                    req.name, array.raid_disks), hint="first shrink it by hand or create a new array")
            if array.component_size % 4096:
                raise StrataError("md array %s uses %d bytes of each member, not a multiple of 4 KiB: mdadm cannot "
                                  "convert it to raid5 (Grow.c: \"reduce size to multiple of 4K first\")" % (
                                      req.name, array.component_size),
                                  hint="shrink it to a multiple of 4 KiB by hand first (mdadm --grow --size)")
            run.add(MdAction("change md array %s from raid1 to raid5 (2 members, no data moved)" % req.name,
                             [MDADM, "--grow", run.dev, "--level=5"], wait_idle=idle))
            run.level = "raid5"
            if want_disks > 2:
                run.add(MdAction("reshape md array %s onto %d members" % (req.name, want_disks),
                                 [MDADM, "--grow", run.dev, "--raid-devices=%d" % want_disks] + backup,
                                 wait_idle=req.name))
        else:   # raid5 -> raid6: one more member
            if want_disks != array.raid_disks + 1:
                raise StrataError("md array %s: raid5 -> raid6 takes exactly one more member (%d listed, %d now)" % (
                    req.name, want_disks, array.raid_disks))
            run.add(MdAction("reshape md array %s from raid5 to raid6 on %d members" % (req.name, want_disks),
                             [MDADM, "--grow", run.dev, "--level=6", "--raid-devices=%d" % want_disks] + backup,
                             wait_idle=idle))
            run.level = "raid6"
        run.raid_disks = want_disks
        return
    if array.level not in ("raid1", "raid4", "raid5", "raid6"):
        raise StrataError("md array %s: growing %s by members is not supported by this module" % (
            req.name, array.level))
    if array.degraded:
        raise StrataError("md array %s is degraded; rebuild it before growing it" % req.name)
    spare_now = len([m for m in array.members if m.role == "spare"]) + len(run.added)
    if spare_now < want_disks - array.raid_disks:
        raise StrataError("md array %s: growing to %d members needs %d new devices, only %d spare" % (
            req.name, want_disks, want_disks - array.raid_disks, spare_now))
    run.add(MdAction("%s md array %s from %d to %d members" % (
        "grow" if array.level == "raid1" else "reshape", req.name, array.raid_disks, want_disks),
        [MDADM, "--grow", run.dev, "--raid-devices=%d" % want_disks] + backup, wait_idle=idle))
    run.raid_disks = want_disks


def _max_component(array):
    """The largest component size every member allows (bytes), rounded to the chunk."""
    rooms = []
    for member in array.members:
        total = getattr(member, "device_size", 0)
        if not total:
            return None
        room = total - member.offset
        if array.metadata in ("0.90", "1.0"):
            room -= 128 * 1024      # superblock (and bitmap) at the end
        rooms.append(room)
    if not rooms:
        return None
    unit = array.chunk or 64 * 1024
    return sizes.round_down(min(rooms), unit)


def _plan_size(run):
    req, array = run.req, run.array
    if req.size is None:
        return
    if array.level == "raid0":
        raise StrataError("md array %s is raid0: mdadm cannot change how much of each member it uses (Grow.c: "
                          "\"Component size change is not supported for RAID0\")" % req.name,
                          hint="leave size out for raid0 arrays")
    unit = max(array.chunk or 0, 64 * 1024)
    largest = _max_component(array)
    if req.size == "max":
        if largest is None or largest - array.component_size < unit:
            return
        target, arg = largest, "max"
    else:
        verdict, target = sizes.compare(array.component_size, req.size, unit)
        if verdict == sizes.SAME:
            return
        if verdict == sizes.SHRINK:
            raise StrataError("md array %s uses %s per member; shrinking it to %s is not supported" % (
                req.name, sizes.human(array.component_size), sizes.human(req.size)),
                hint="shrink the filesystem/LVM on top and the array by hand (docs/md.md)")
        if largest is not None and target > largest:
            raise StrataError("md array %s: %s per member does not fit, the members allow at most %s" % (
                req.name, sizes.human(target), sizes.human(largest)))
        arg = _mdadm_size(target)
    if not req.reshape:
        raise StrataError("md array %s: growing each member's share from %s to %s needs reshape: true" % (
            req.name, sizes.human(array.component_size), sizes.human(target)))
    rules.check_reshape_policy(array, req.name, "a size change")
    idle = run.need_idle("growing its size")
    run.add(MdAction("grow md array %s to use %s of each member (was %s)" % (
        req.name, sizes.human(target), sizes.human(array.component_size)),
        [MDADM, "--grow", run.dev, "--size=%s" % arg], wait_idle=idle))


def _plan_bitmap_policy(run):
    """bitmap and consistency_policy are one setting in the kernel: an internal bitmap reads
    as policy 'bitmap'. Supported switches: bitmap on/off, ppl <-> resync (raid5)."""
    req, array = run.req, run.array
    if not req.bitmap and not req.consistency_policy:
        return
    if run.level != array.level:
        run.plan.notes.append("md array %s: bitmap and consistency_policy are applied on the next run, after the "
                              "level change" % req.name)
        return
    current = array.consistency_policy or ("bitmap" if array.bitmap == "internal" else "resync")
    if req.consistency_policy:
        want = req.consistency_policy
    elif req.bitmap == "internal":
        want = "bitmap"
    else:   # bitmap: none keeps ppl/journal, else plain resync
        want = current if current in ("ppl", "journal", "resync") else "resync"
    if want == current:
        return
    if array.level not in rules.REDUNDANT:
        raise StrataError("md array %s is %s: it has no bitmap or consistency policy" % (req.name, array.level))
    if "journal" in (want, current):
        raise StrataError("md array %s: the journal policy is set at creation (with a journal device); it cannot "
                          "switch from %s to %s here" % (req.name, current, want))
    if want == "ppl" and (array.level != "raid5" or array.metadata == "0.90"):
        raise StrataError("md array %s: the PPL policy needs raid5 with 1.x metadata (it is %s, metadata %s)" % (
            req.name, array.level, array.metadata))
    idle = None
    if "bitmap" in (current, want):
        # the kernel adds or removes a bitmap only on an idle array (md-bitmap location_store:
        # -EBUSY while a resync, recovery, reshape or scrub runs; mdadm: "Cannot add bitmap
        # while array is resyncing or reshaping etc.")
        idle = run.need_idle("changing the bitmap")
        if run.plan.actions:     # an add or a grow earlier in this run starts such work
            if not req.wait:
                raise StrataError("md array %s: changing the bitmap after the other changes of this run needs "
                                  "wait: true (the kernel refuses it while the array rebuilds)" % req.name,
                                  hint="or change the bitmap in a run of its own")
            idle = req.name
    if current == "bitmap":
        run.add(MdAction("remove the write-intent bitmap of md array %s" % req.name,
                         [MDADM, "--grow", run.dev, "--bitmap=none"], wait_idle=idle))
    if current == "ppl":
        run.add(Action("switch md array %s from the PPL policy to resync" % req.name,
                       [MDADM, "--grow", run.dev, "--consistency-policy=resync"]))
    if want == "ppl":
        run.add(Action("switch md array %s to the PPL write-hole policy" % req.name,
                       [MDADM, "--grow", run.dev, "--consistency-policy=ppl"]))
    if want == "bitmap":
        run.add(MdAction("add an internal write-intent bitmap to md array %s" % req.name,
                         [MDADM, "--grow", run.dev, "--bitmap=internal"], wait_idle=idle))


def _plan_sync_action(run):
    req, array = run.req, run.array
    if not req.sync_action:
        return
    current = array.sync_action
    if req.sync_action == "idle":
        if current in ("check", "repair"):
            run.add(Action("stop the %s of md array %s" % (current, req.name),
                           [MDADM, "--misc", "--action=idle", run.dev]))
        elif current not in ("idle", "frozen"):
            run.plan.notes.append("md array %s is busy with %s, which is not a scrub; left running" % (
                req.name, current))
        return
    if array.level not in rules.REDUNDANT:
        raise StrataError("md array %s is %s: without redundancy there is nothing to %s" % (
            req.name, array.level, req.sync_action))
    if current == req.sync_action and not run.plan.actions:
        return          # already running: wait (if asked) and report
    if array.degraded:
        raise StrataError("md array %s is degraded; %s needs every member (rebuild it first)" % (
            req.name, with_article(req.sync_action)))
    idle = run.need_idle(with_article(req.sync_action))
    if run.plan.actions:
        # after other changes in this run (an add starts a recovery, a grow a reshape)
        if not req.wait:
            raise StrataError("md array %s: %s after the other changes of this run needs wait: true" % (
                req.name, with_article(req.sync_action)), hint="or run the scrub on its own")
        idle = req.name
    run.add(MdAction("start %s of md array %s (mismatch_cnt is reported when it ends)" % (
        with_article(req.sync_action), req.name), [MDADM, "--misc", "--action=%s" % req.sync_action, run.dev], wait_idle=idle))
