# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run storage tools: argv lists only, C locale, check-mode aware, every call recorded.

Two kinds of calls:
- read(): runs in every mode (it changes nothing) and is recorded in `reads`;
- execute(): recorded in `actions`; in check mode it is not run, so check mode and a real
  run report the same `actions`.

Before a tool runs for the first time in a module call, the runner looks it up on the host,
so a missing tool is one clear sentence naming the package that provides it (not the
"No such file or directory" of the exec); execute_all() looks up the tools of all its
Actions before the first one runs, in check mode too.

An Action that creates something may carry its `undo`: the command that removes it again
while it holds no data (pvremove for a pvcreate, vgremove for a vgcreate, lvremove for an
lvcreate). The runner stacks the undo of every action that succeeded in this call; when a
later step fails, `rollback()` runs them in reverse order and stops at the first one that
fails, so nothing that existed before the call is ever touched. An undo may be a list (run in
its order); a command that can leave part of what it creates when it fails itself (mdadm
--create) stacks its undo before it runs (`undo_if_failed`), and an undo step marked
`best_effort` that fails found nothing to undo: it is reported and the rollback goes on. Once every action ran, the
module calls `keep_created()`: a failure after that (reading the result) undoes nothing.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError

# C locale so we parse English; LVM warns on fds Ansible leaves open, which would land in
# stderr and in our error messages for nothing.
TOOL_ENV = {
    "LC_ALL": "C",
    "LANG": "C",
    "LVM_SUPPRESS_FD_WARNINGS": "1",
}


# Which package provides a tool, for the "not installed" message (Debian / RHEL names,
# the same in both unless noted). Technologies add their tools here.
TOOL_PACKAGES = {
    "lvm": "lvm2", "pvcreate": "lvm2", "pvremove": "lvm2", "pvmove": "lvm2", "pvresize": "lvm2",
    "vgcreate": "lvm2", "vgextend": "lvm2", "vgreduce": "lvm2", "vgremove": "lvm2", "vgs": "lvm2",
    "pvs": "lvm2", "lvs": "lvm2", "lvcreate": "lvm2", "lvextend": "lvm2", "lvreduce": "lvm2",
    "lvremove": "lvm2", "lvchange": "lvm2", "lvconvert": "lvm2", "lvrename": "lvm2",
    "vgcfgbackup": "lvm2", "vgcfgrestore": "lvm2", "lvmconfig": "lvm2", "vgchange": "lvm2",
    "thin_check": "thin-provisioning-tools (RHEL: device-mapper-persistent-data)",
    "blkid": "util-linux", "wipefs": "util-linux", "lsblk": "util-linux", "mount": "util-linux",
    "umount": "util-linux", "losetup": "util-linux",
    "mkfs.ext4": "e2fsprogs", "mke2fs": "e2fsprogs", "resize2fs": "e2fsprogs", "e2label": "e2fsprogs",
    "e2fsck": "e2fsprogs", "mkfs.xfs": "xfsprogs", "xfs_admin": "xfsprogs", "xfs_io": "xfsprogs",
    "xfs_growfs": "xfsprogs",
    "mdadm": "mdadm", "zpool": "zfsutils-linux (RHEL: zfs)", "zfs": "zfsutils-linux (RHEL: zfs)",
    "nvme": "nvme-cli", "iscsiadm": "open-iscsi (RHEL: iscsi-initiator-utils)",
    "multipath": "multipath-tools (RHEL: device-mapper-multipath)",
    "exportfs": "nfs-kernel-server (RHEL: nfs-utils)", "targetcli": "targetcli-fb (RHEL: targetcli)",
    "modprobe": "kmod", "udevadm": "udev (RHEL: systemd-udev)", "systemctl": "systemd",
    "dmsetup": "dmsetup (RHEL: device-mapper)", "sgdisk": "gdisk", "partx": "util-linux",
    "update-initramfs": "initramfs-tools", "dracut": "dracut",
    # iSCSI initiator and multipath
    "multipathd": "multipath-tools (RHEL: device-mapper-multipath)",
    "targetctl": "python3-rtslib-fb (RHEL: python3-rtslib)",
}
# Where root's tools live when PATH lacks the sbin folders (Ansible's get_bin_path looks
# there too).
SBIN_DIRS = ["/sbin", "/usr/sbin", "/usr/local/sbin"]


@dataclass
class Result:
    cmd: list
    rc: int
    stdout: str
    stderr: str


@dataclass
class Action:
    """One planned change: a command, or a file write (path + content), with a description.
    Only the description and the command or path are ever reported, never file content."""

    description: str
    cmd: list = None
    path: str = None
    content: str = None
    mode: int = 0o644
    undo: object = None         # Action (or list, run in its order) removing what this one creates
    mkfs: object = None         # filesystem.MkfsCheck: the tool's dry run checks it first
    # the command can leave part of what it creates when it fails itself (mdadm --create writes
    # superblocks before it starts the array): its undo is stacked before it runs
    undo_if_failed: bool = False
    # as an undo: failing means there was nothing to undo (the array was never started); the
    # failure is reported and the rollback goes on
    best_effort: bool = False

    def undos(self):
        """The undo Actions, in the order they run."""
        if self.undo is None:
            return []
        return list(self.undo) if isinstance(self.undo, (list, tuple)) else [self.undo]

    def report(self):
        out = {"description": self.description}
        if self.cmd is not None:
            out["cmd"] = list(self.cmd)
        if self.path is not None:
            out["path"] = self.path
        return out


@dataclass
class Runner:
    """Wraps AnsibleModule.run_command. `module` needs run_command and check_mode."""

    module: object
    reads: list = field(default_factory=list)
    actions: list = field(default_factory=list)
    undo_stack: list = field(default_factory=list)    # undo Actions of what this call created
    rolled_back: list = field(default_factory=list)   # reported undo actions, in run order
    found_tools: dict = field(default_factory=dict)

    @property
    def check_mode(self):
        return bool(getattr(self.module, "check_mode", False))

    def require_tool(self, name):
        """Raise a clear StrataError when the tool `name` is not installed on this host."""
        if os.path.isabs(name) or name in self.found_tools:
            return
        finder = getattr(self.module, "get_bin_path", None)
        if finder is not None:
            path = finder(name, required=False, opt_dirs=SBIN_DIRS)
        else:   # a stand-in module (tests inside the VM)
            path = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", "")] + SBIN_DIRS))
        if not path:
            package = TOOL_PACKAGES.get(name)
            raise StrataError(
                "%s is not installed on this host%s" % (
                    name, ": it comes with the %s package" % package if package else ""),
                hint="install %s on the target (see bindep.txt), then run again" % (package or "it"))
        self.found_tools[name] = path

    def _run(self, cmd, data=None):
        if isinstance(cmd, str):
            raise TypeError("Runner takes argv lists, never shell strings")
        cmd = [str(part) for part in cmd]
        self.require_tool(cmd[0])
        rc, out, err = self.module.run_command(
            cmd, check_rc=False, environ_update=TOOL_ENV, data=data, binary_data=data is not None
        )
        return Result(cmd=cmd, rc=rc, stdout=out, stderr=err)

    def read(self, cmd, ok_rcs=(0,), what=None, check=True):
        """Run a command that changes nothing; raise StrataError on an unexpected rc (unless
        check is False: then the caller judges the result, e.g. a tool's dry run)."""
        result = self._run(cmd)
        self.reads.append(result.cmd)
        if check and result.rc not in ok_rcs:
            raise StrataError(
                "%s failed" % (what or "'%s'" % " ".join(result.cmd)),
                cmd=result.cmd, rc=result.rc, stdout=result.stdout, stderr=result.stderr,
            )
        return result

    def execute(self, action, writer=None):
        """Carry out one Action (or only record it in check mode)."""
        self.actions.append(action.report())
        if self.check_mode:
            return None
        if action.cmd is not None:
            if action.undo_if_failed:
                self.stack_undo(action.undos())
            result = self._run(action.cmd)
            if result.rc != 0:
                raise StrataError(
                    "%s failed" % action.description,
                    cmd=result.cmd, rc=result.rc, stdout=result.stdout, stderr=result.stderr,
                    details={"actions_done": self.actions[:-1]},
                )
            if not action.undo_if_failed:
                self.stack_undo(action.undos())
            return result
        if action.path is not None:
            if writer is None:
                raise StrataError("no writer given for %s" % action.path)
            writer(action.path, action.content, action.mode)
            return None
        raise StrataError("action '%s' has neither a command nor a file" % action.description)

    def stack_undo(self, undos):
        """Stack undo Actions given in the order they run (the stack is popped from its end)."""
        self.undo_stack.extend(reversed(list(undos)))

    def keep_created(self):
        """Every action of the call ran: what it created stays, even when reading the result
        afterwards fails (a report is no reason to remove a finished volume)."""
        self.undo_stack = []

    def rollback(self):
        """Undo what this call created, newest first; stop at the first undo that fails.
        Returns (all undone, the error of the failed undo or None). Every undo run is
        recorded in `rolled_back` with its result."""
        while self.undo_stack:
            undo = self.undo_stack.pop()
            entry = undo.report()
            try:
                result = self._run(undo.cmd)
            except StrataError as exc:      # the tool vanished mid-run: report, stop
                entry["failed"] = exc.msg
                self.rolled_back.append(entry)
                return False, exc.msg
            if result.rc != 0:
                why = (result.stderr or result.stdout or "rc %d" % result.rc).strip()
                if undo.best_effort:        # nothing there to undo: say so, go on
                    entry["nothing_to_undo"] = why
                    self.rolled_back.append(entry)
                    continue
                entry["failed"] = why
                self.rolled_back.append(entry)
                return False, "%s failed: %s" % (undo.description, entry["failed"])
            self.rolled_back.append(entry)
        return True, None

    def require_tools(self, actions):
        """Look up every tool the Actions (and their undos) will run, before the first one runs
        and in check mode too: a missing tool then fails a plan before it changed anything,
        not half-way (a lookup on PATH, no process)."""
        for action in actions:
            for step in [action] + action.undos():
                if step.cmd:
                    self.require_tool(str(step.cmd[0]))

    def execute_all(self, actions, writer=None):
        self.require_tools(actions)
        for action in actions:
            self.execute(action, writer=writer)
