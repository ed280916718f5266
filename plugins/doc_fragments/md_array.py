# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    # The options of one md array: strata.storage.md_array's options. LAYOUT repeats them as
    # the suboptions of strata.storage.md_layout's `arrays`: a doc fragment cannot nest another
    # one, and ansible-test's yamllint sanity test needs every attribute here to be a literal
    # string (a computed LAYOUT crashes it: "'Call' object has no attribute 'value'"), so the
    # copy stays; tests/unit/plugins/module_utils/md/test_docs.py keeps the two in step.
    DOCUMENTATION = r"""
options:
  name:
    description:
      - Name of the array. It is created as C(/dev/md/NAME) and found again by this name (or by
        O(uuid)), never by C(/dev/mdN) alone, which can change at every boot.
      - Letters, digits and C(_ . -) (not C(-) first), at most 31 characters, not only digits.
    type: str
    required: true
  uuid:
    description:
      - The array's UUID (as mdadm prints it, or with dashes). When given, the array is found by
        UUID, and a running array of this name with another UUID is an error.
    type: str
  state:
    description:
      - V(present) creates the array when no running array and no listed device carries it,
        assembles it when it is stopped (its superblocks are on the listed devices, or anywhere
        when none are listed), and converges a running array.
      - V(assembled) is V(present) without ever creating; an unknown array is an error.
      - V(stopped) stops the array (C(mdadm --stop)); its superblocks stay.
      - V(absent) stops it and zeroes the superblocks of the LISTED members only; needs
        O(allow_remove=true). Members not listed keep their superblock.
    type: str
    choices: [present, assembled, stopped, absent]
    default: present
  level:
    description:
      - RAID level. Needed to create; for a running array a different level is a level change
        (O(reshape=true); supported raid1 (2 members) -> raid5 and raid5 -> raid6).
      - Minimum members as mdadm counts them, checked before anything runs - raid0 2, raid1 2,
        raid4/5 2, raid6 4, raid10 2 and at least as many as its layout keeps copies.
    type: str
    choices: [raid0, raid1, raid4, raid5, raid6, raid10, "0", "1", "4", "5", "6", "10"]
  members:
    description:
      - The active devices. At creation their number is the array's raid-devices count.
      - On a running array, a listed device that is not in it is added (a blank device passes
        the device guard first; one that carries this array's superblock is re-added when a slot
        is free). Listing more members than the array has is a grow (O(reshape=true)).
      - Members of the array that are not listed are kept (never removed implicitly).
    type: list
    elements: path
    default: []
  spares:
    description:
      - Hot spares, added with the members (not for raid0).
    type: list
    elements: path
    default: []
  chunk:
    description:
      - Chunk size at creation, for example V(512K) (mdadm's default) or V(64K). A power of two of
        at least 4 KiB, for raid0/4/5/6/10 only. A different chunk on a running array is refused.
    type: str
  metadata:
    description:
      - Superblock version at creation - V(1.2) (the default), V(1.1), V(1.0) (at the end of
        the device) or V(0.90) (at most 27 devices, 2 TiB members, no name in the superblock).
        Fixed afterwards.
    type: str
  bitmap:
    description:
      - V(internal) keeps a write-intent bitmap (fast resync after a crash or re-add), V(none) has
        none. Changed on a running array with C(mdadm --grow --bitmap). Leaving it out keeps what
        is there (mdadm adds one by itself to arrays over 100 GiB). Not with O(journal) - the kernel
        refuses to start an array with both.
    type: str
    choices: [internal, none]
  layout:
    description:
      - raid10 layout (V(n2) is mdadm's default, V(f2), V(o2), V(n3), ...) or raid5/6 parity
        layout (V(left-symmetric), ...). Fixed after creation.
    type: str
  consistency_policy:
    description:
      - V(ppl) closes the raid5 write hole with a partial parity log (raid5 and 1.x metadata
        only), V(journal) with a write journal device (O(journal); raid4/5/6), V(bitmap) is an
        internal bitmap, V(resync) a full resync after a crash.
      - On a running raid5, V(ppl) and V(resync) can be switched; V(bitmap) is O(bitmap=internal).
    type: str
    choices: [resync, bitmap, ppl, journal]
  journal:
    description:
      - A fast device (SSD) as the write journal of a raid4/5/6 array, at creation. Implies
        O(consistency_policy=journal). It passes the device guard. Not with O(bitmap=internal).
    type: path
  fail:
    description:
      - Members to mark faulty (C(mdadm --fail)). Refused when it would leave the array without
        the members its level needs to keep the data. A faulty member stays in the array until
        removed.
    type: list
    elements: path
    default: []
  remove:
    description:
      - Members to take out of the array (C(mdadm --remove)) - faulty members and spares; an
        active member only when it is in O(fail) too. V(failed) removes every faulty member.
    type: list
    elements: path
    default: []
  replace:
    description:
      - Rebuild an active member onto a new device while the array stays redundant
        (C(mdadm --replace OLD --with NEW)). The new device passes the device guard and is added
        first. When the rebuild is done the old member is faulty and is removed - in the same run
        with O(wait=true), else on the next run.
    type: list
    elements: dict
    default: []
    suboptions:
      old:
        description: The member to replace.
        type: path
        required: true
      new:
        description: The device that takes its place.
        type: path
        required: true
  reshape:
    description:
      - Allow the changes that reshape the array - more members (C(--raid-devices)), a larger
        O(size), a level change. Without it they are refused with the reason, and nothing runs.
      - The kernel reshapes no raid4/5/6 array with a PPL or a write journal - switch a PPL array to
        O(consistency_policy=resync) first; a journal array cannot be reshaped.
    type: bool
    default: false
  size:
    description:
      - How much of each member the array uses - V(max), or a size such as V(10G). Growing needs
        O(reshape=true); shrinking is refused. Ignored at creation (mdadm uses the smallest member).
        Refused for raid0 (mdadm cannot change it) and for an array with a PPL or write journal.
    type: str
  backup_file:
    description:
      - A file (not on the array) for the critical section of a reshape, when mdadm asks for one
        (C(--backup-file)).
    type: path
  sync_action:
    description:
      - V(check) starts a scrub that counts mismatches, V(repair) one that also rewrites them,
        V(idle) stops a running scrub. The count is returned as RV(array.mismatch_cnt) (wait for
        the end with O(wait=true)). A scrub already running is not started again.
    type: str
    choices: [check, repair, idle]
  wait:
    description:
      - Block until the array is settled - no resync, recovery, reshape, scrub or replacement
        running or pending - at most O(wait_timeout) seconds, then report its state. Steps that
        need an idle array (a grow, a scrub) wait for it first instead of being refused.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait at most (per wait). When they pass the module fails with the progress; the
        kernel goes on with the work.
    type: int
    default: 600
  allow_remove:
    description:
      - Needed by O(state=absent) (stopping the array and zeroing its listed members' superblocks).
        An array that is mounted, active swap or held by another device (LVM on top) is never
        stopped.
    type: bool
    default: false
  force:
    description:
      - Devices that may be overwritten although they are not blank (see the device guard).
        mdadm itself does not notice xfs, LVM or ZFS signatures; this module probes every new
        member, spare, journal and replacement with C(blkid -p) and refuses any signature,
        partition table, holder or mount unless the device is named here. Named devices are
        wiped with C(wipefs --all) before use.
      - A device that carries an old superblock of this array and cannot be re-added is added
        as a new spare only when named here.
      - A device that is mounted, swap, or held by another device (a member of another running
        array, LVM) is refused even when named here. Devices are compared by device number.
    type: list
    elements: path
    default: []
"""

    LAYOUT = r"""
options:
  arrays:
    description:
      - The arrays, each with the options of M(strata.storage.md_array). Arrays not listed are
        left alone; a device listed for two arrays is refused.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the array. It is created as C(/dev/md/NAME) and found again by this name (or by
            O(arrays[].uuid)), never by C(/dev/mdN) alone, which can change at every boot.
          - Letters, digits and C(_ . -) (not C(-) first), at most 31 characters, not only digits.
        type: str
        required: true
      uuid:
        description:
          - The array's UUID (as mdadm prints it, or with dashes). When given, the array is found by
            UUID, and a running array of this name with another UUID is an error.
        type: str
      state:
        description:
          - V(present) creates the array when no running array and no listed device carries it,
            assembles it when it is stopped (its superblocks are on the listed devices, or anywhere
            when none are listed), and converges a running array.
          - V(assembled) is V(present) without ever creating; an unknown array is an error.
          - V(stopped) stops the array (C(mdadm --stop)); its superblocks stay.
          - V(absent) stops it and zeroes the superblocks of the LISTED members only; needs
            O(arrays[].allow_remove=true). Members not listed keep their superblock.
        type: str
        choices: [present, assembled, stopped, absent]
        default: present
      level:
        description:
          - RAID level. Needed to create; for a running array a different level is a level change
            (O(arrays[].reshape=true); supported raid1 (2 members) -> raid5 and raid5 -> raid6).
          - Minimum members as mdadm counts them, checked before anything runs - raid0 2, raid1 2,
            raid4/5 2, raid6 4, raid10 2 and at least as many as its layout keeps copies.
        type: str
        choices: [raid0, raid1, raid4, raid5, raid6, raid10, "0", "1", "4", "5", "6", "10"]
      members:
        description:
          - The active devices. At creation their number is the array's raid-devices count.
          - On a running array, a listed device that is not in it is added (a blank device passes
            the device guard first; one that carries this array's superblock is re-added when a slot
            is free). Listing more members than the array has is a grow (O(arrays[].reshape=true)).
          - Members of the array that are not listed are kept (never removed implicitly).
        type: list
        elements: path
        default: []
      spares:
        description:
          - Hot spares, added with the members (not for raid0).
        type: list
        elements: path
        default: []
      chunk:
        description:
          - Chunk size at creation, for example V(512K) (mdadm's default) or V(64K). A power of two of
            at least 4 KiB, for raid0/4/5/6/10 only. A different chunk on a running array is refused.
        type: str
      metadata:
        description:
          - Superblock version at creation - V(1.2) (the default), V(1.1), V(1.0) (at the end of
            the device) or V(0.90) (at most 27 devices, 2 TiB members, no name in the superblock).
            Fixed afterwards.
        type: str
      bitmap:
        description:
          - V(internal) keeps a write-intent bitmap (fast resync after a crash or re-add), V(none) has
            none. Changed on a running array with C(mdadm --grow --bitmap). Leaving it out keeps what
            is there (mdadm adds one by itself to arrays over 100 GiB). Not with O(arrays[].journal) - the kernel
            refuses to start an array with both.
        type: str
        choices: [internal, none]
      layout:
        description:
          - raid10 layout (V(n2) is mdadm's default, V(f2), V(o2), V(n3), ...) or raid5/6 parity
            layout (V(left-symmetric), ...). Fixed after creation.
        type: str
      consistency_policy:
        description:
          - V(ppl) closes the raid5 write hole with a partial parity log (raid5 and 1.x metadata
            only), V(journal) with a write journal device (O(arrays[].journal); raid4/5/6), V(bitmap) is an
            internal bitmap, V(resync) a full resync after a crash.
          - On a running raid5, V(ppl) and V(resync) can be switched; V(bitmap) is O(arrays[].bitmap=internal).
        type: str
        choices: [resync, bitmap, ppl, journal]
      journal:
        description:
          - A fast device (SSD) as the write journal of a raid4/5/6 array, at creation. Implies
            O(arrays[].consistency_policy=journal). It passes the device guard. Not with O(arrays[].bitmap=internal).
        type: path
      fail:
        description:
          - Members to mark faulty (C(mdadm --fail)). Refused when it would leave the array without
            the members its level needs to keep the data. A faulty member stays in the array until
            removed.
        type: list
        elements: path
        default: []
      remove:
        description:
          - Members to take out of the array (C(mdadm --remove)) - faulty members and spares; an
            active member only when it is in O(arrays[].fail) too. V(failed) removes every faulty member.
        type: list
        elements: path
        default: []
      replace:
        description:
          - Rebuild an active member onto a new device while the array stays redundant
            (C(mdadm --replace OLD --with NEW)). The new device passes the device guard and is added
            first. When the rebuild is done the old member is faulty and is removed - in the same run
            with O(arrays[].wait=true), else on the next run.
        type: list
        elements: dict
        default: []
        suboptions:
          old:
            description: The member to replace.
            type: path
            required: true
          new:
            description: The device that takes its place.
            type: path
            required: true
      reshape:
        description:
          - Allow the changes that reshape the array - more members (C(--raid-devices)), a larger
            O(arrays[].size), a level change. Without it they are refused with the reason, and nothing runs.
          - The kernel reshapes no raid4/5/6 array with a PPL or a write journal - switch a PPL array to
            O(arrays[].consistency_policy=resync) first; a journal array cannot be reshaped.
        type: bool
        default: false
      size:
        description:
          - How much of each member the array uses - V(max), or a size such as V(10G). Growing needs
            O(arrays[].reshape=true); shrinking is refused. Ignored at creation (mdadm uses the smallest member).
            Refused for raid0 (mdadm cannot change it) and for an array with a PPL or write journal.
        type: str
      backup_file:
        description:
          - A file (not on the array) for the critical section of a reshape, when mdadm asks for one
            (C(--backup-file)).
        type: path
      sync_action:
        description:
          - V(check) starts a scrub that counts mismatches, V(repair) one that also rewrites them,
            V(idle) stops a running scrub. The count is returned as C(mismatch_cnt) in RV(arrays) (wait for
            the end with O(arrays[].wait=true)). A scrub already running is not started again.
        type: str
        choices: [check, repair, idle]
      wait:
        description:
          - Block until the array is settled - no resync, recovery, reshape, scrub or replacement
            running or pending - at most O(arrays[].wait_timeout) seconds, then report its state. Steps that
            need an idle array (a grow, a scrub) wait for it first instead of being refused.
        type: bool
        default: false
      wait_timeout:
        description:
          - Seconds to wait at most (per wait). When they pass the module fails with the progress; the
            kernel goes on with the work.
        type: int
        default: 600
      allow_remove:
        description:
          - Needed by O(arrays[].state=absent) (stopping the array and zeroing its listed members' superblocks).
            An array that is mounted, active swap or held by another device (LVM on top) is never
            stopped.
        type: bool
        default: false
      force:
        description:
          - Devices that may be overwritten although they are not blank (see the device guard).
            mdadm itself does not notice xfs, LVM or ZFS signatures; this module probes every new
            member, spare, journal and replacement with C(blkid -p) and refuses any signature,
            partition table, holder or mount unless the device is named here. Named devices are
            wiped with C(wipefs --all) before use.
          - A device that carries an old superblock of this array and cannot be re-added is added
            as a new spare only when named here.
          - A device that is mounted, swap, or held by another device (a member of another running
            array, LVM) is refused even when named here. Devices are compared by device number.
        type: list
        elements: path
        default: []
"""

    # mdadm.conf options, once per call.
    CONFIG = r"""
options:
  config_file:
    description:
      - mdadm's configuration file. Default C(/etc/mdadm/mdadm.conf) when C(/etc/mdadm) exists
        (Debian, Ubuntu), else C(/etc/mdadm.conf) (RHEL family).
    type: path
  persist:
    description:
      - Keep an C(ARRAY /dev/md/NAME metadata=... name=... UUID=...) line per array in the
        configuration file (removed when the array goes with C(state=absent)), so the array assembles under its name at
        boot. Other lines are left as they are; a line that already names the array with its
        UUID is kept verbatim. Written atomically (temporary file, fsync, rename; 3 backups).
    type: bool
    default: true
  update_initramfs:
    description:
      - Refresh the initramfs (C(update-initramfs -u) or C(dracut --force)) when, and only when,
        the configuration file changed, so early boot assembles the arrays with their names.
    type: bool
    default: true
  mailaddr:
    description:
      - The C(MAILADDR) mdmonitor sends alerts (Fail, DegradedArray, ...) to. Left out, the
        file's line is kept. A change restarts mdmonitor if it runs.
    type: str
  program:
    description:
      - The C(PROGRAM) mdmonitor runs on each event (event, md device, member). Left out, the
        file's line is kept. A change restarts mdmonitor if it runs.
    type: path
"""
