# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carry out LioOps through rtslib-fb, record them in the runner's `actions`, and undo
what this run created when a later op fails.

In check mode an op is only recorded (the same `actions` a real run reports). The
backend is the only code that touches rtslib objects; unit tests replace it with a
recorder, the live suite and the Molecule scenario run the real one.
"""

from __future__ import annotations

import os

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.iscsi import lio


class RtslibBackend:
    """Each op as the rtslib calls that make it (rtslib-fb 2.1.75 API)."""

    def __init__(self, rtslib=None):
        self.rtslib = rtslib or lio.rtslib_fb
        self._root = None

    def _ensure_root(self):
        # RTSRoot(): mounts configfs and loads target_core_mod when needed, sets dbroot
        if self._root is None:
            self._root = self.rtslib.RTSRoot()
        return self._root

    def _fabric(self):
        return self.rtslib.FabricModule("iscsi")

    def _target(self, wwn, mode="lookup"):
        return self.rtslib.Target(self._fabric(), wwn, mode=mode)

    def _tpg(self, wwn, tag, mode="lookup"):
        return self.rtslib.TPG(self._target(wwn), tag, mode=mode)

    def _acl(self, a, mode="lookup"):
        return self.rtslib.NodeACL(self._tpg(a["target"], a["tag"]), a["node"], mode=mode)

    def _so(self, plugin, name):
        cls = self.rtslib.BlockStorageObject if plugin == "block" else self.rtslib.FileIOStorageObject
        return cls(name)

    def apply(self, op):
        self._ensure_root()
        getattr(self, "_" + op.op)(op.args, op.secrets)

    # ---------------------------------------------------------------- ops
    def _discovery_auth(self, a, secrets):
        fabric = self._fabric()
        for key in a["set"]:
            if key == "enable":
                fabric.discovery_enable_auth = a["values"]["enable"]
            elif key in ("password", "mutual_password"):
                setattr(fabric, "discovery_" + key, secrets[key])
            else:
                setattr(fabric, "discovery_" + key, a["values"][key])

    def _backstore_create(self, a, _secrets):
        if a["plugin"] == "block":
            self.rtslib.BlockStorageObject(a["name"], dev=a["dev"], wwn=a.get("wwn"),
                                           readonly=bool(a.get("readonly")))
            return
        if a.get("create_file"):
            # a sparse file of the asked size, private to root, never over an existing one
            fd = os.open(a["dev"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.ftruncate(fd, a["size"])
                os.fsync(fd)
            finally:
                os.close(fd)
        try:
            self.rtslib.FileIOStorageObject(a["name"], dev=a["dev"], size=a["size"], wwn=a.get("wwn"),
                                            write_back=bool(a.get("write_back")))
        except Exception:
            if a.get("create_file"):
                os.unlink(a["dev"])
            raise

    def _backstore_delete(self, a, _secrets):
        self._so(a["plugin"], a["name"]).delete()
        if a.get("remove_file"):
            os.unlink(a["remove_file"])

    def _backstore_attributes(self, a, _secrets):
        so = self._so(a["plugin"], a["name"])
        for key, value in sorted(a["attributes"].items()):
            so.set_attribute(key, value)

    def _target_create(self, a, _secrets):
        self._target(a["target"], mode="create")

    def _target_delete(self, a, _secrets):
        self._target(a["target"]).delete()

    def _tpg_create(self, a, _secrets):
        self._tpg(a["target"], a["tag"], mode="create")

    def _tpg_delete(self, a, _secrets):
        self._tpg(a["target"], a["tag"]).delete()

    def _tpg_attributes(self, a, _secrets):
        tpg = self._tpg(a["target"], a["tag"])
        for key, value in sorted(a["attributes"].items()):
            tpg.set_attribute(key, value)

    def _tpg_parameters(self, a, _secrets):
        tpg = self._tpg(a["target"], a["tag"])
        for key, value in sorted(a["parameters"].items()):
            tpg.set_parameter(key, value)

    def _tpg_enable(self, a, _secrets):
        self._tpg(a["target"], a["tag"]).enable = bool(a["enable"])

    def _portal_create(self, a, _secrets):
        self.rtslib.NetworkPortal(self._tpg(a["target"], a["tag"]), a["ip"], a["port"], mode="create")

    def _portal_delete(self, a, _secrets):
        self.rtslib.NetworkPortal(self._tpg(a["target"], a["tag"]), a["ip"], a["port"], mode="lookup").delete()

    def _lun_create(self, a, _secrets):
        self.rtslib.LUN(self._tpg(a["target"], a["tag"]), a["lun"], storage_object=self._so(a["plugin"], a["name"]))

    def _lun_delete(self, a, _secrets):
        self.rtslib.LUN(self._tpg(a["target"], a["tag"]), a["lun"]).delete()

    def _acl_create(self, a, _secrets):
        self._acl(a, mode="create")

    def _acl_delete(self, a, _secrets):
        self._acl(a).delete()

    def _acl_attributes(self, a, _secrets):
        acl = self._acl(a)
        for key, value in sorted(a["attributes"].items()):
            acl.set_attribute(key, value)

    def _acl_auth(self, a, secrets):
        acl = self._acl(a)
        for key in a["set"]:
            value = secrets[key] if key in ("password", "mutual_password") else a["values"][key]
            setattr(acl, "chap_" + key, value)

    def _mapped_lun_create(self, a, _secrets):
        self.rtslib.MappedLUN(self._acl(a), a["index"], tpg_lun=a["tpg_lun"], write_protect=bool(a["write_protect"]))

    def _mapped_lun_delete(self, a, _secrets):
        self.rtslib.MappedLUN(self._acl(a), a["index"]).delete()

    def _mapped_lun_write_protect(self, a, _secrets):
        self.rtslib.MappedLUN(self._acl(a), a["index"]).write_protect = bool(a["write_protect"])


class LioExecutor:
    def __init__(self, runner, backend=None):
        self.runner = runner
        self.backend = backend
        self.undo_stack = []
        self.rolled_back = []

    def execute(self, op):
        self.runner.actions.append(op.report())
        if self.runner.check_mode:
            return
        if self.backend is None:
            self.backend = RtslibBackend()
        try:
            self.backend.apply(op)
        except StrataError:
            raise
        except Exception as exc:    # RTSLibError, OSError from configfs: the kernel's refusal
            raise StrataError("%s failed: %s" % (op.description, exc),
                              details={"lio": op.op, "args": op.args, "actions_done": self.runner.actions[:-1]})
        if op.undo is not None:
            self.undo_stack.append(op.undo)

    def execute_all(self, ops):
        for op in ops:
            self.execute(op)

    def rollback(self):
        """Undo what this run created, newest first; stop at the first undo that fails.
        Returns (complete, error message or None)."""
        while self.undo_stack:
            undo = self.undo_stack.pop()
            entry = undo.report()
            try:
                self.backend.apply(undo)
            except Exception as exc:
                entry["failed"] = str(exc)
                self.rolled_back.append(entry)
                return False, "%s failed: %s" % (undo.description, exc)
            self.rolled_back.append(entry)
        return True, None
