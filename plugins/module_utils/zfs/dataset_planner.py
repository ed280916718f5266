# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan one dataset (filesystem or zvol): create with properties, set what differs, inherit
on request, rename, grow a zvol, load an encryption key, destroy (only with a flag, never
recursive unless asked: children, snapshots and clones elsewhere are listed and refused).

Comparisons use the value ZFS reports, whatever its source: a property the user asks for
that the dataset already has by inheritance or default is not a change, and properties the
user does not name are never touched. Create-only properties (volblocksize, encryption,
casesensitivity, normalization, utf8only, keyformat) asked different on an existing dataset
are an error that says what to do.

Encryption keys: the key material goes to a key file (mode 0600, written by us) and the
dataset gets keylocation=file://...; the material is never on a command line, in
`actions` or in the diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core.text import with_article
from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.core.plan import Plan
from ansible_collections.strata.storage.plugins.module_utils.core.sizes import human
from ansible_collections.strata.storage.plugins.module_utils.zfs import props as zprops
from ansible_collections.strata.storage.plugins.module_utils.zfs.actions import ZfsAction
from ansible_collections.strata.storage.plugins.module_utils.zfs.reader import Dataset

DEFAULT_VOLBLOCKSIZE = 8192          # ZVOL_DEFAULT_BLOCKSIZE in OpenZFS 2.1
KEY_DIR = "/etc/zfs/keys"
ENCRYPTION_PROPS = ("encryption", "keyformat", "keylocation", "pbkdf2iters")

ENCRYPTION_SPEC = dict(
    cipher=dict(type="str", default="on",
                choices=["on", "aes-128-ccm", "aes-192-ccm", "aes-256-ccm", "aes-128-gcm", "aes-192-gcm", "aes-256-gcm"]),
    keyformat=dict(type="str", required=True, choices=["passphrase", "hex", "raw"]),
    key=dict(type="str", no_log=True),
    key_file=dict(type="path", no_log=False),
    pbkdf2iters=dict(type="int"),
)
DATASET_OPTIONS_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    type=dict(type="str", default="filesystem", choices=["filesystem", "volume"]),
    size=dict(type="str"),
    sparse=dict(type="bool", default=False),
    properties=dict(type="dict", default={}),
    inherit=dict(type="list", elements="str", default=[]),
    encryption=dict(type="dict", options=ENCRYPTION_SPEC),
    rename_from=dict(type="str"),
    create_parents=dict(type="bool", default=False),
    allow_shrink=dict(type="bool", default=False),
    allow_destroy=dict(type="bool", default=False),
    recursive=dict(type="bool", default=False),
    destroy_clones=dict(type="bool", default=False),
)


@dataclass
class EncryptionRequest:
    cipher: str = "on"
    keyformat: str = "passphrase"
    key: str = None
    key_file: str = None
    pbkdf2iters: int = None


@dataclass
class DatasetRequest:
    name: str
    state: str = "present"
    type: str = "filesystem"
    size: int = None
    size_text: str = None
    sparse: bool = False
    properties: dict = field(default_factory=dict)      # prop -> (text, comparable)
    inherit: list = field(default_factory=list)
    encryption: EncryptionRequest = None
    rename_from: str = None
    create_parents: bool = False
    allow_shrink: bool = False
    allow_destroy: bool = False
    recursive: bool = False
    destroy_clones: bool = False


def default_key_file(name):
    return "%s/%s.key" % (KEY_DIR, re.sub(r"[^A-Za-z0-9_.:-]", "_", name))


def check_key_material(keyformat, key, what):
    """libzfs_crypto.c rules: a passphrase is 8 to 512 bytes, a hex key 64 hex digits, a
    raw key exactly 32 bytes."""
    data = key.encode("utf-8")
    if keyformat == "passphrase" and not 8 <= len(data) <= 512:
        raise StrataError("%s: a passphrase must be 8 to 512 bytes long" % what)
    if keyformat == "hex" and not re.match(r"^[0-9A-Fa-f]{64}$", key):
        raise StrataError("%s: a hex key is exactly 64 hexadecimal digits" % what)
    if keyformat == "raw" and len(data) != 32:
        raise StrataError("%s: a raw key is exactly 32 bytes" % what)


def key_file_content(keyformat, key):
    return key if keyformat == "raw" else key + "\n"


def request_from_params(params):
    name = params["name"]
    dtype = params.get("type") or "filesystem"
    zprops.check_dataset_name(name, dtype)
    if "/" not in name:
        raise StrataError("dataset %s is a pool's root dataset" % name,
                          hint="use strata.storage.zfs_pool (filesystem_properties) for the root dataset")
    what = "dataset %s" % name
    props = dict(params.get("properties") or {})
    size_text = params.get("size")
    if "volsize" in props:
        if size_text is not None:
            raise StrataError("%s: give the zvol size as size or properties.volsize, not both" % what)
        size_text = props.pop("volsize")
    if dtype == "filesystem" and size_text is not None:
        raise StrataError("%s: size applies to volumes (type: volume); a filesystem takes quota or refquota" % what)
    size = zprops.parse_size(size_text, what="%s size" % what) if size_text is not None else None
    if size == 0:
        raise StrataError("%s: size must be larger than zero" % what)
    checked = zprops.check_dataset_properties(props, dtype, creating=True, what=what)
    for prop in ENCRYPTION_PROPS:
        if prop in checked:
            raise StrataError("%s: set %s through the encryption option, not properties" % (what, prop),
                              hint="encryption: {keyformat: passphrase, key: ..., key_file: ...}")
    inherit = []
    for prop in params.get("inherit") or []:
        canon = zprops.dataset_prop_name(prop)
        if canon in checked:
            raise StrataError("%s: property %s is both set and inherited" % (what, canon))
        if canon in zprops.DATASET_PROPS and zprops.DATASET_PROPS[canon][1] not in ("inherit", "default"):
            raise StrataError("%s: property %s cannot be inherited (it is %s)" % (
                what, canon, zprops.DATASET_PROPS[canon][1].replace("_", " ")))
        inherit.append(canon)
    enc = None
    if params.get("encryption"):
        e = dict(params["encryption"])
        unknown = sorted(set(k for k, v in e.items() if v is not None) - set(ENCRYPTION_SPEC))
        if unknown:
            raise StrataError("%s: unknown encryption option %s" % (what, ", ".join(unknown)))
        if e.get("keyformat") not in ENCRYPTION_SPEC["keyformat"]["choices"]:
            raise StrataError("%s: encryption.keyformat must be one of %s" % (
                what, ", ".join(ENCRYPTION_SPEC["keyformat"]["choices"])))
        if (e.get("cipher") or "on") not in ENCRYPTION_SPEC["cipher"]["choices"]:
            raise StrataError("%s: encryption.cipher %s is not one of %s" % (
                what, e.get("cipher"), ", ".join(ENCRYPTION_SPEC["cipher"]["choices"])))
        enc = EncryptionRequest(cipher=e.get("cipher") or "on", keyformat=e["keyformat"], key=e.get("key"),
                                key_file=e.get("key_file") or default_key_file(name),
                                pbkdf2iters=e.get("pbkdf2iters"))
        if enc.key is not None:
            check_key_material(enc.keyformat, enc.key, what)
        if enc.pbkdf2iters is not None:
            if enc.keyformat != "passphrase":
                raise StrataError("%s: pbkdf2iters applies to passphrase keys only" % what)
            zprops.check_dataset_property("pbkdf2iters", enc.pbkdf2iters, dtype, creating=True)
    rename_from = params.get("rename_from")
    if rename_from:
        zprops.check_dataset_name(rename_from, dtype)
        if zprops.pool_of(rename_from) != zprops.pool_of(name):
            raise StrataError("%s: rename_from %s is in another pool" % (what, rename_from),
                              hint="datasets move between pools with zfs send/receive (strata.storage.zfs_replicate)")
    return DatasetRequest(
        name=name, state=params.get("state") or "present", type=dtype, size=size,
        size_text=str(size_text).strip() if size_text is not None else None, sparse=bool(params.get("sparse")),
        properties=checked, inherit=inherit, encryption=enc, rename_from=rename_from,
        create_parents=bool(params.get("create_parents")), allow_shrink=bool(params.get("allow_shrink")),
        allow_destroy=bool(params.get("allow_destroy")), recursive=bool(params.get("recursive")),
        destroy_clones=bool(params.get("destroy_clones")),
    )


# --------------------------------------------------------------------------- helpers
def _round_up(value, unit):
    return -(-int(value) // unit) * unit


def _prop_words(props):
    return ["%s=%s" % (p, text) for p, (text, _c) in props.items()]


def encryption_root_of(state, name):
    """The encrypted ancestor a new dataset would inherit encryption from (or None)."""
    parent = zprops.parent_of(name)
    while parent:
        ds = state.get(parent)
        if ds is not None:
            return parent if ds.value("encryption", "off") not in ("off", "-", None) else None
        parent = zprops.parent_of(parent)
    return None


def _check_space_props(req, ds, what):
    for prop, used_prop in (("quota", "used"), ("refquota", "referenced")):
        if prop in req.properties:
            want = req.properties[prop][1]
            used = ds.int(used_prop)
            if isinstance(want, int) and 0 < want < used:
                raise StrataError("%s: %s %s is below what the dataset holds now (%s %s)" % (
                    what, prop, human(want), used_prop, human(used)),
                    hint="free space first, or ask for %s of at least %s" % (with_article(prop), human(used)))


# --------------------------------------------------------------------------- planning
def plan_dataset(req, state, read_file=None, pool_known=True):
    """read_file(path) -> text or None (for key files). pool_known: the pool exists (or is
    predicted to, in check mode)."""
    what = "dataset %s" % req.name
    pool = zprops.pool_of(req.name)
    if not pool_known:
        raise StrataError("%s: pool %s does not exist (or is not imported)" % (what, pool),
                          hint="create or import it with strata.storage.zfs_pool first")
    current = state.get(req.name)
    if req.state == "absent":
        return plan_destroy(req, state, current)
    plan = Plan()
    source_name = None
    if req.rename_from:
        old = state.get(req.rename_from)
        if current is not None and old is not None:
            raise StrataError("%s: both %s and %s exist; refusing to rename over an existing dataset" % (
                what, req.rename_from, req.name))
        if current is None and old is not None:
            source_name = req.rename_from
            current = old
            parent = zprops.parent_of(req.name)
            flags = ["-p"] if (parent and state.get(parent) is None and req.create_parents) else []
            if parent and state.get(parent) is None and not req.create_parents:
                raise StrataError("%s: parent %s does not exist for the rename" % (what, parent),
                                  hint="create it first or set create_parents")
            plan.add(ZfsAction("rename %s to %s" % (req.rename_from, req.name),
                               cmd=["zfs", "rename"] + flags + [req.rename_from, req.name], kind="rename"))
        elif current is None:
            plan.notes.append("%s: neither it nor %s exists; creating it" % (what, req.rename_from))
    if current is None:
        return _plan_create(req, state, plan, read_file)
    if current.type != req.type:
        raise StrataError("%s exists as %s, not %s" % (what, with_article(current.type), with_article(req.type)),
                          hint="a filesystem cannot become a volume or the other way round")
    return _plan_update(req, state, current, plan, read_file, source_name)


def _plan_create(req, state, plan, read_file):
    what = "dataset %s" % req.name
    parent = zprops.parent_of(req.name)
    parent_ds = state.get(parent) if parent else None
    if parent_ds is None and not req.create_parents:
        raise StrataError("%s: parent %s does not exist" % (what, parent),
                          hint="create the parent first, or set create_parents: true (zfs create -p)")
    if parent_ds is not None and parent_ds.type != "filesystem":
        raise StrataError("%s: parent %s is %s; only filesystems hold datasets" % (what, parent, with_article(parent_ds.type)))
    cmd = ["zfs", "create"]
    if req.create_parents and parent_ds is None:
        cmd.append("-p")
    props = dict(req.properties)
    after = {"state": "present", "type": req.type}
    if req.type == "volume":
        if req.size is None:
            raise StrataError("%s: a new volume needs a size" % what, hint="e.g. size: 10G")
        vbs = props["volblocksize"][1] if "volblocksize" in props else DEFAULT_VOLBLOCKSIZE
        size = _round_up(req.size, vbs)
        if req.sparse:
            cmd.append("-s")
        cmd += ["-V", str(size) if size != req.size else req.size_text]
        after["volsize"] = size
        if size != req.size:
            plan.notes.append("%s: size %s rounded up to %d bytes (a multiple of volblocksize %d)" % (
                what, req.size_text, size, vbs))
    enc = req.encryption
    if enc is not None:
        inherited_root = encryption_root_of(state, req.name)
        if enc.key is not None:
            current_key = read_file(enc.key_file) if read_file else None
            wanted = key_file_content(enc.keyformat, enc.key)
            if current_key != wanted:
                plan.add(ZfsAction("write the key file %s for %s (mode 0600)" % (enc.key_file, req.name),
                                   path=enc.key_file, content=wanted, mode=0o600, kind="keyfile"))
        elif read_file is not None and read_file(enc.key_file) is None:
            raise StrataError("%s: key file %s does not exist and no key is given" % (what, enc.key_file),
                              hint="give the key material in encryption.key (no_log) or create the file first")
        props["encryption"] = (enc.cipher, enc.cipher)
        props["keyformat"] = (enc.keyformat, enc.keyformat)
        props["keylocation"] = ("file://" + enc.key_file, "file://" + enc.key_file)
        if enc.pbkdf2iters:
            props["pbkdf2iters"] = (str(enc.pbkdf2iters), enc.pbkdf2iters)
        after["encryption"] = enc.cipher
        if inherited_root:
            plan.notes.append("%s: a new encryption root below encrypted %s" % (what, inherited_root))
    for word in _prop_words(props):
        cmd += ["-o", word]
    # when a later step of this run fails, the new (still empty) dataset is destroyed again;
    # not recursive: what this run created below it is undone first (newest first)
    plan.add(ZfsAction("create %s %s" % (req.type, req.name), cmd=cmd + [req.name], kind="create",
                       undo=ZfsAction("destroy %s %s (created by this run)" % (req.type, req.name),
                                      cmd=["zfs", "destroy", req.name])))
    after["properties"] = {p: t for p, (t, _c) in req.properties.items()}
    plan.before = {"state": "absent"}
    plan.after = after
    return plan


def _plan_update(req, state, ds, plan, read_file, source_name):
    what = "dataset %s" % req.name
    before = {"state": "present", "type": ds.type, "properties": {}}
    after = {"state": "present", "type": ds.type, "properties": {}}
    changes = {}
    for prop, (text, comparable) in req.properties.items():
        current = ds.value(prop)
        before["properties"][prop] = current
        after["properties"][prop] = current
        if zprops.same_value(prop, comparable, current):
            continue
        if zprops.is_create_only(prop):
            raise StrataError(
                "%s: property %s is fixed when a dataset is created (it is %s, %s asked)" % (
                    what, prop, current, text),
                hint="create a new dataset with it and move the data (zfs send | zfs receive -o %s=%s)" % (prop, text))
        changes[prop] = text
        after["properties"][prop] = text
    _check_space_props(req, ds, what)
    if req.type == "volume" and req.size is not None:
        vbs = ds.int("volblocksize") or DEFAULT_VOLBLOCKSIZE
        want = _round_up(req.size, vbs)
        have = ds.int("volsize")
        before["volsize"] = have
        after["volsize"] = have
        if want > have:
            changes["volsize"] = str(want) if want != req.size else req.size_text
            after["volsize"] = want
        elif want < have:
            if not req.allow_shrink:
                raise StrataError("%s: size %s is smaller than the volume (%s); shrinking loses data" % (
                    what, human(want), human(have)), hint="set allow_shrink: true if this is intended")
            changes["volsize"] = str(want)
            after["volsize"] = want
            plan.warnings.append("%s: shrinking the volume from %s to %s" % (what, human(have), human(want)))
    if changes:
        words = ["%s=%s" % (p, t) for p, t in changes.items()]
        plan.add(ZfsAction("set %s on %s" % (", ".join(words), req.name),
                           cmd=["zfs", "set"] + words + [req.name], kind="set"))
    for prop in req.inherit:
        if ds.source(prop) in ("local", "received"):
            before["properties"][prop] = ds.value(prop)
            after["properties"][prop] = "(inherited)"
            plan.add(ZfsAction("inherit %s on %s (was %s)" % (prop, req.name, ds.value(prop)),
                               cmd=["zfs", "inherit", prop, req.name], kind="inherit"))
    _plan_existing_encryption(req, ds, plan, read_file, before, after)
    if source_name:
        before["name"] = source_name
        after["name"] = req.name
    plan.before = before
    plan.after = after
    return plan


def _plan_existing_encryption(req, ds, plan, read_file, before, after):
    what = "dataset %s" % req.name
    enc = req.encryption
    current = ds.value("encryption", "off")
    if enc is None:
        return
    before["encryption"] = current
    after["encryption"] = current
    if current in ("off", "-", None):
        raise StrataError("%s exists unencrypted; encryption is fixed when a dataset is created" % what,
                          hint="create a new encrypted dataset and move the data (zfs send | zfs receive)")
    if enc.cipher != "on" and enc.cipher != current:
        raise StrataError("%s: encryption is %s, %s asked; the cipher is fixed at creation" % (what, current, enc.cipher))
    root = ds.value("encryptionroot")
    if root not in (None, "-", "", req.name):
        plan.notes.append("%s inherits its key from encryption root %s" % (what, root))
        return
    fmt = ds.value("keyformat")
    if fmt not in (None, "-", enc.keyformat):
        raise StrataError("%s: keyformat is %s, %s asked" % (what, fmt, enc.keyformat),
                          hint="change keys with 'zfs change-key'; this module does not rotate keys")
    location = ds.value("keylocation")
    if location not in (None, "-", "none") and location != "file://" + enc.key_file:
        raise StrataError("%s: its key is at %s, not file://%s" % (what, location, enc.key_file),
                          hint="name the key file the dataset uses in encryption.key_file")
    if enc.key is not None and read_file is not None:
        wanted = key_file_content(enc.keyformat, enc.key)
        have = read_file(enc.key_file)
        if have is None:
            plan.add(ZfsAction("restore the key file %s for %s (mode 0600)" % (enc.key_file, req.name),
                               path=enc.key_file, content=wanted, mode=0o600, kind="keyfile"))
        elif have != wanted:
            raise StrataError("%s: the key in %s differs from the key given; refusing to overwrite a key file" % (
                what, enc.key_file), hint="keys are rotated with 'zfs change-key'")
    if ds.value("keystatus") == "unavailable":
        plan.add(ZfsAction("load the key of %s from %s" % (req.name, location), cmd=["zfs", "load-key", req.name],
                           kind="load-key"))
        if ds.type == "filesystem" and ds.value("canmount") == "on" and ds.value("mountpoint") not in ("none", "legacy"):
            plan.add(ZfsAction("mount %s" % req.name, cmd=["zfs", "mount", req.name], kind="mount"))
        after["keystatus"] = "available"


def plan_destroy(req, state, current):
    what = "dataset %s" % req.name
    plan = Plan(before={"state": "present" if current else "absent"}, after={"state": "absent"})
    if current is None:
        return plan
    deps = state.dependents(req.name)
    listing = []
    if deps["children"]:
        listing.append("children: %s" % ", ".join(deps["children"]))
    if deps["snapshots"]:
        listing.append("snapshots: %s" % ", ".join(deps["snapshots"]))
    if deps["clones"]:
        listing.append("clones elsewhere: %s" % ", ".join(deps["clones"]))
    if not req.allow_destroy:
        raise StrataError("%s exists; destroying it needs allow_destroy: true%s" % (
            what, " (it has %s)" % "; ".join(listing) if listing else ""),
            hint="nothing was changed")
    if (deps["children"] or deps["snapshots"]) and not req.recursive:
        raise StrataError("%s has dependents, refusing to destroy it: %s" % (what, "; ".join(listing)),
                          hint="nothing was changed; set recursive: true to destroy them too",
                          details={"dependents": deps})
    if deps["clones"] and not req.destroy_clones:
        raise StrataError("%s has clones in other trees that a destroy would take: %s" % (
            what, ", ".join(deps["clones"])),
            hint="nothing was changed; promote the clones (zfs promote) to keep them, or set destroy_clones: true",
            details={"dependents": deps})
    if deps["held"]:
        raise StrataError("%s: snapshots with holds cannot be destroyed: %s" % (what, ", ".join(deps["held"])),
                          hint="release the holds first (strata.storage.zfs_snapshot release)")
    flags = ["-R"] if deps["clones"] else (["-r"] if deps["children"] or deps["snapshots"] else [])
    plan.add(ZfsAction("destroy %s %s%s" % (current.type, req.name, " and %s" % "; ".join(listing) if listing else ""),
                       cmd=["zfs", "destroy"] + flags + [req.name],
                       dry_run=["zfs", "destroy", "-n", "-v"] + flags + [req.name], kind="destroy"))
    plan.notes.append("destroying %s" % ("; ".join([req.name] + listing)))
    return plan


# --------------------------------------------------------------------------- projection
def project(state, req, plan):
    """The state a plan leaves (predicted), so the next dataset of a layout is planned against
    it: created datasets appear with their properties, set values flow down to descendants
    that inherit them, renames move a subtree, destroys remove it."""
    for action in plan.actions:
        kind = getattr(action, "kind", None)
        if kind == "create":
            _project_create(state, req)
        elif kind == "rename":
            _project_rename(state, action.cmd[-2], action.cmd[-1])
        elif kind == "set":
            for word in action.cmd[2:-1]:
                prop, value = word.split("=", 1)
                _project_set(state, action.cmd[-1], prop, value)
        elif kind == "inherit":
            _project_inherit(state, action.cmd[-1], action.cmd[-2])
        elif kind == "destroy":
            name = action.cmd[-1]
            inside = tuple(name + sep for sep in "/@#")
            for key in [n for n in state.datasets if n == name or n.startswith(inside)]:
                del state.datasets[key]
    return state


def _project_create(state, req):
    parent = state.get(zprops.parent_of(req.name))
    ds = Dataset(name=req.name, type=req.type, props={"type": (req.type, "-")})
    if parent is not None:
        for prop, (value, source) in parent.props.items():
            if zprops.is_inheritable(prop) and zprops.applies_to(prop, req.type):
                src = source if source.startswith("inherited") else (
                    "inherited from %s" % parent.name if source in ("local", "received") else source)
                ds.props[prop] = (value, src)
    for prop, (text, comparable) in req.properties.items():
        ds.props[prop] = (str(comparable) if isinstance(comparable, int) else comparable, "local")
    if req.encryption is not None:
        ds.props["encryption"] = ("aes-256-gcm" if req.encryption.cipher == "on" else req.encryption.cipher, "-")
        ds.props["keyformat"] = (req.encryption.keyformat, "-")
        ds.props["keylocation"] = ("file://" + req.encryption.key_file, "local")
        ds.props["encryptionroot"] = (req.name, "-")
        ds.props["keystatus"] = ("available", "-")
    if req.type == "volume" and req.size:
        vbs = req.properties["volblocksize"][1] if "volblocksize" in req.properties else DEFAULT_VOLBLOCKSIZE
        ds.props["volsize"] = (str(_round_up(req.size, vbs)), "local")
        ds.props["volblocksize"] = (str(vbs), "default" if "volblocksize" not in req.properties else "-")
    ds.props.setdefault("used", ("0", "-"))
    ds.props.setdefault("referenced", ("0", "-"))
    state.datasets[req.name] = ds


def _project_rename(state, old, new):
    for name in list(state.datasets):
        if name == old or name.startswith(old + "/") or name.startswith(old + "@") or name.startswith(old + "#"):
            ds = state.datasets.pop(name)
            ds.name = new + name[len(old):]
            state.datasets[ds.name] = ds


def _project_set(state, name, prop, value):
    ds = state.get(name)
    if ds is None:
        return
    comparable = zprops.comparable_current(prop, value) if prop in zprops.DATASET_PROPS else value
    try:
        if prop in zprops.SIZE_PROPS or prop in zprops.COUNT_LIMITS:
            comparable = zprops.check_dataset_property(prop, value, ds.type, creating=True)[2]
    except StrataError:
        pass
    shown = str(comparable) if isinstance(comparable, int) else value
    ds.props[prop] = (shown, "local")
    if zprops.is_inheritable(prop):
        for child in state.descendants(name):
            src = child.props.get(prop, (None, "default"))[1]
            if src in ("default", "-") or src.startswith("inherited"):
                if zprops.applies_to(prop, child.type):
                    child.props[prop] = (shown, "inherited from %s" % name)


def _project_inherit(state, name, prop):
    ds = state.get(name)
    parent = state.get(zprops.parent_of(name)) if zprops.parent_of(name) else None
    if ds is None:
        return
    if parent is not None and prop in parent.props:
        value, source = parent.props[prop]
        ds.props[prop] = (value, source if source.startswith("inherited") else "inherited from %s" % parent.name)
    else:
        ds.props.pop(prop, None)
