#!/usr/bin/env python
"""Build and run the strata.storage test VM (Debian 12 under QEMU).

The host kernel of our CI machine has no device-mapper, md or configfs, so every real storage
test runs inside this VM.  Python 3.9+ standard library only.

  vm.py build                      build (or reuse) the cached Debian 12 image
  vm.py up [--disks 8 ...]         boot a VM (idempotent), wait for SSH, write state.json
  vm.py ssh -- CMD...              run a command in the guest (exit code propagates)
  vm.py push SRC... DEST / pull SRC... DEST   copy files (scp -r)
  vm.py loops --count 4 --size 1G  create loop devices in the guest
  vm.py status | inventory | down  inspect, print an Ansible inventory, stop and clean up

Images live in ~/.cache/strata/images/<recipe sha256>/ (override: STRATA_CACHE_DIR),
per-VM run state in <repo>/.cache/vm/<name>/ (override: STRATA_VM_RUN_DIR).
See docs/vm.md.
"""

import argparse
import contextlib
import errno
import fcntl
import hashlib
import json
import os
import platform
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("STRATA_CACHE_DIR", str(Path.home() / ".cache" / "strata")))
IMAGES = CACHE / "images"
RUN_ROOT = Path(os.environ.get("STRATA_VM_RUN_DIR", str(REPO / ".cache" / "vm")))
HOSTNAME = "strata-lab"
ROOT_LABEL = "strata-root"
GUEST_USER = "root"
GUEST_PYTHON = "/usr/bin/python3"
SSH_WAIT = 600          # seconds: TCG boot to SSH is ~2 minutes, leave plenty of room
PROBE_WAIT = 120        # seconds for the KVM probe boot
PROBE_SILENT = 30       # ... and for its first console output

# --------------------------------------------------------------------------------------
# The recipe.  Everything that shapes the image is in here and goes into its hash.
# --------------------------------------------------------------------------------------
RECIPE_VERSION = 1
SUITE = "bookworm"
MIRRORS = [
    "deb http://deb.debian.org/debian bookworm main contrib",
    "deb http://deb.debian.org/debian bookworm-updates main contrib",
    "deb http://deb.debian.org/debian-security bookworm-security main contrib",
]
IMAGE_SIZE = "6G"   # sparse; the root fs has room for test data and fixtures
PACKAGES = sorted("""
    linux-image-amd64 linux-headers-amd64 initramfs-tools zstd
    zfs-dkms zfsutils-linux
    lvm2 thin-provisioning-tools dmsetup mdadm
    targetcli-fb python3-rtslib-fb nvme-cli open-iscsi nfs-kernel-server multipath-tools
    fio e2fsprogs xfsprogs parted gdisk util-linux kmod udev systemd-sysv dbus
    openssh-server python3 python3-pytest sg3-utils lsscsi
    iproute2 procps psmisc less
""".split())
MMDEBSTRAP_OPTS = [
    "--mode=root", "--variant=apt", "--components=main,contrib",
    "--aptopt=APT::Install-Recommends \"false\"",
]

# Units that are not needed at boot (scenarios start what they need).  Kept on purpose:
# udev, lvm2-monitor + dm-event (thin pool autoextend), lvm2-lvmpolld, ssh, systemd-networkd.
DISABLE_UNITS = """
    apt-daily.timer apt-daily-upgrade.timer man-db.timer dpkg-db-backup.timer
    e2scrub_all.timer e2scrub_reap.service fstrim.timer logrotate.timer
    multipathd.service multipathd.socket
    iscsid.service iscsid.socket open-iscsi.service
    nfs-server.service nfs-blkmap.service rpcbind.service rpcbind.socket nfs-client.target
    zfs-import-cache.service zfs-import-scan.service zfs-mount.service zfs-share.service
    zfs-zed.service zfs-volume-wait.service zfs-load-module.service
    zfs-import.target zfs-volumes.target zfs.target
    mdmonitor-oneshot.timer mdcheck_start.timer mdcheck_continue.timer
    rtslib-fb-targetctl.service targetclid.socket targetclid.service
    nvmefc-boot-connections.service nvmf-autoconnect.service
    systemd-networkd-wait-online.service getty@tty1.service
""".split()

GUEST_FILES = {
    # path: (mode, content)
    "/etc/systemd/network/20-wired.network": (0o644, """\
[Match]
Name=en*

[Network]
DHCP=ipv4

[DHCPv4]
UseDomains=no
"""),
    "/etc/ssh/sshd_config.d/strata.conf": (0o644, """\
# strata test VM: root by key only
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
GSSAPIAuthentication no
MaxStartups 50:30:100
MaxSessions 50
"""),
    # The spare virtio disks (vd*) are never multipath candidates; multipathd is also
    # disabled at boot.  A scenario writing /etc/multipath.conf keeps this conf.d entry.
    "/etc/multipath/conf.d/strata-lab.conf": (0o644, """\
blacklist {
    devnode "^vd[a-z]+"
}
"""),
    "/etc/initramfs-tools/modules": (0o644, """\
virtio_pci
virtio_blk
ext4
"""),
    "/etc/systemd/journald.conf.d/strata.conf": (0o644, """\
[Journal]
Storage=volatile
RuntimeMaxUse=64M
"""),
    "/etc/sysctl.d/90-strata.conf": (0o644, """\
kernel.printk = 4 4 1 7
"""),
    # Boot probe: with strata.probe on the kernel command line, say so on the serial console
    # once the system is up and power off (used to test whether KVM works on this host).
    "/etc/systemd/system/strata-probe.service": (0o644, """\
[Unit]
Description=strata boot probe
ConditionKernelCommandLine=strata.probe
After=multi-user.target ssh.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo STRATA-PROBE-OK > /dev/ttyS0; systemctl --no-block poweroff'

[Install]
WantedBy=multi-user.target
"""),
    "/usr/local/sbin/strata-loops": (0o755, """\
#!/bin/sh
# strata-loops: throwaway loop devices for tests.
#   strata-loops [--count N] [--size SIZE] [--dir DIR]   create N sparse files + loop devices,
#                                                       print one /dev/loopX per line
#   strata-loops --detach [--dir DIR]                   detach them and delete the files
set -eu
count=4; size=1G; dir=/var/tmp/strata-loops; detach=0
while [ $# -gt 0 ]; do
    case "$1" in
        --count) count=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --dir) dir=$2; shift 2 ;;
        --detach) detach=1; shift ;;
        -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
        *) echo "strata-loops: unknown argument $1" >&2; exit 2 ;;
    esac
done
mkdir -p "$dir"
if [ "$detach" = 1 ]; then
    for f in "$dir"/*.img; do
        [ -e "$f" ] || continue
        for dev in $(losetup -j "$f" -O NAME -n); do losetup -d "$dev"; done
        rm -f "$f"
    done
    exit 0
fi
i=0
while [ "$i" -lt "$count" ]; do
    n=$(ls "$dir" | wc -l)
    f="$dir/loop$n.img"
    truncate -s "$size" "$f"
    losetup --find --show "$f"
    i=$((i + 1))
done
udevadm settle --timeout=60 || true
"""),
    "/usr/local/lib/strata/customize.sh": (0o755, """\
#!/bin/sh
# Runs inside the image chroot at build time (mmdebstrap customize hook).
set -eu
export LC_ALL=C
kvers=$(ls /lib/modules)
[ "$(echo "$kvers" | wc -w)" = 1 ] || { echo "FATAL: expected one kernel, got: $kvers" >&2; exit 1; }
kver=$kvers
echo "strata: kernel $kver"
if ! find "/lib/modules/$kver" -name 'zfs.ko*' | grep -q .; then
    echo "strata: zfs.ko not built yet for $kver, running dkms autoinstall"
    dkms autoinstall -k "$kver"
fi
zfsko=$(find "/lib/modules/$kver" -name 'zfs.ko*' | head -n1)
[ -n "$zfsko" ] || { echo "FATAL: no zfs.ko for kernel $kver (dkms build failed?)" >&2;
                     dkms status >&2 || true; exit 1; }
echo "strata: zfs module $zfsko"
depmod -a "$kver"
modinfo -k "$kver" zfs | grep -E '^(version|vermagic)'
# dkms build trees are large and not needed at run time
rm -rf /var/lib/dkms/zfs/*/build /var/lib/dkms/zfs/*/*/*/log 2>/dev/null || true
for u in @DISABLE_UNITS@; do
    if systemctl disable "$u" >/dev/null 2>&1; then echo "strata: disabled $u"; fi
done
systemctl enable systemd-networkd.service ssh.service strata-probe.service
grep -E '^[[:space:]]*use_devicesfile' /etc/lvm/lvm.conf || echo "strata: lvm.conf use_devicesfile unset (default)"
lvmconfig --type full devices/use_devicesfile || true
lvmconfig --type full activation/thin_pool_autoextend_threshold || true
update-initramfs -u -k "$kver"
for m in virtio_pci virtio_blk ext4; do
    lsinitramfs "/boot/initrd.img-$kver" | grep -q "/$m\\.ko" || \
        { echo "FATAL: $m missing from initrd" >&2; exit 1; }
done
echo "strata: initrd has virtio_pci virtio_blk ext4"
# Avoid first-boot work (ConditionNeedsUpdate: hwdb rebuild, ldconfig) under TCG.
systemd-hwdb update
ldconfig
passwd -l root
"""),
}
GUEST_FILES["/usr/local/lib/strata/customize.sh"] = (
    0o755,
    GUEST_FILES["/usr/local/lib/strata/customize.sh"][1].replace(
        "@DISABLE_UNITS@", " ".join(DISABLE_UNITS)),
)

KERNEL_CMDLINE = ("root=LABEL=%s rw console=ttyS0,115200 net.ifnames=1 mitigations=off "
                  "systemd.show_status=auto" % ROOT_LABEL)


def recipe():
    return {
        "version": RECIPE_VERSION,
        "suite": SUITE,
        "mirrors": MIRRORS,
        "mmdebstrap": MMDEBSTRAP_OPTS,
        "packages": PACKAGES,
        "files": {p: [m, c] for p, (m, c) in sorted(GUEST_FILES.items())},
        "image_size": IMAGE_SIZE,
        "label": ROOT_LABEL,
        "hostname": HOSTNAME,
    }


def recipe_hash():
    blob = json.dumps(recipe(), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
class VMError(Exception):
    pass


def log(msg):
    print("vm: %s" % msg, flush=True)


def run(argv, check=True, **kw):
    """Run argv (list), echo it, raise VMError with stderr on failure."""
    log("$ " + " ".join(shlex.quote(str(a)) for a in argv))
    proc = subprocess.run([str(a) for a in argv], **kw, check=False)
    if check and proc.returncode != 0:
        raise VMError("command failed (rc=%d): %s" % (proc.returncode, " ".join(map(str, argv))))
    return proc


class Stages:
    """Time named stages and print a summary."""

    def __init__(self):
        self.times = []
        self.t0 = time.monotonic()

    @contextlib.contextmanager
    def stage(self, name):
        t = time.monotonic()
        log("== %s" % name)
        yield
        dt = time.monotonic() - t
        self.times.append((name, dt))
        log("== %s: %.1fs" % (name, dt))

    def summary(self):
        for name, dt in self.times:
            log("   %-28s %7.1fs" % (name, dt))
        log("   %-28s %7.1fs" % ("total", time.monotonic() - self.t0))


@contextlib.contextmanager
def flock(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            log("waiting for lock %s (another vm.py is working)" % path)
            fcntl.flock(fh, fcntl.LOCK_EX)
        yield


HOST_TOOLS = {
    "mmdebstrap": "mmdebstrap",
    "qemu-system-x86_64": "qemu-system-x86",
    "qemu-img": "qemu-utils",
    "mke2fs": "e2fsprogs",
    "ssh": "openssh-client",
    "scp": "openssh-client",
    "ssh-keygen": "openssh-client",
}


def which(tool):
    return shutil.which(tool) or next(
        (str(p) for p in (Path("/usr/sbin") / tool, Path("/sbin") / tool) if p.exists()), None)


def ensure_host_tools(tools):
    missing = sorted({HOST_TOOLS[t] for t in tools if not which(t)})
    keyring = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
    if "mmdebstrap" in tools and not keyring.exists():
        missing.append("debian-archive-keyring")
    if not missing:
        return
    if os.geteuid() != 0:
        raise VMError("missing host packages %s; install them (apt-get install %s)"
                      % (missing, " ".join(missing)))
    log("installing host packages: %s" % " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # apt-get also waits for the dpkg lock itself, should another apt take it after our check
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=%d" % apt_lock_timeout()]
    install = apt + ["install", "-y", "--no-install-recommends"] + missing
    wait_apt_lock()
    if run(install, check=False, env=env).returncode != 0:
        # a fresh machine may have no (or stale) package lists
        wait_apt_lock()
        run(apt + ["update"], env=env)
        wait_apt_lock()
        run(install, env=env)


# On a fresh machine apt often runs on its own for minutes (cloud-init, unattended-upgrades)
# and apt-get fails at once on its lock: wait for the locks first, bounded, and say so (the
# same rules as strata_wait_apt_lock in scripts/env.sh). STRATA_APT_LOCK_FILES replaces the
# list of lock files (space-separated; the tests use their own files).
APT_LOCK_FILES = ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock", "/var/lib/apt/lists/lock",
                  "/var/cache/apt/archives/lock")


def apt_lock_timeout():
    return int(os.environ.get("STRATA_APT_LOCK_TIMEOUT") or 600)


def apt_lock_holders(files=None):
    """PIDs (as strings; -1: an open-file-description lock) that hold a lock, fcntl (as apt and
    dpkg take it) or flock, on one of the apt/dpkg lock files, read from /proc/locks."""
    if files is None:
        files = os.environ.get("STRATA_APT_LOCK_FILES", "").split() or APT_LOCK_FILES
    keys = set()
    for path in files:
        try:
            st = os.stat(path)
        except OSError:
            continue
        keys.add("%02x:%02x:%d" % (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino))
    if not keys:
        return []
    try:
        with open("/proc/locks") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    holders = set()
    for line in lines:
        # "1: POSIX  ADVISORY  WRITE 4242 fe:00:1574 0 EOF"; a waiter's line has "->" in field 2
        fields = line.split()
        if len(fields) >= 6 and fields[1] != "->" and fields[5] in keys:
            holders.add(fields[4])
    return sorted(holders)


def describe_pids(pids):
    out = []
    for pid in pids:
        if pid == "-1":
            out.append("an open-file-description lock")
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").replace(b"\n", b" ").decode(errors="replace").strip()
        except OSError:
            cmd = "?"
        out.append("pid %s (%s)" % (pid, cmd[:80]))
    return ", ".join(out)


def wait_apt_lock(timeout=None, files=None, poll=1.0):
    """Return once no apt/dpkg lock is held; VMError after `timeout` seconds."""
    timeout = apt_lock_timeout() if timeout is None else timeout
    start = time.monotonic()
    said = None
    while True:
        holders = apt_lock_holders(files)
        waited = time.monotonic() - start
        if not holders:
            if said is not None:
                log("apt/dpkg lock free after %d s" % waited)
            return
        if waited >= timeout:
            raise VMError("apt/dpkg lock still held after %d s by %s; giving up "
                          "(STRATA_APT_LOCK_TIMEOUT=<seconds> waits longer)" % (timeout, describe_pids(holders)))
        if said is None or time.monotonic() - said >= 30:
            log("waiting for the apt/dpkg lock, held by %s (%d s so far, at most %d s)"
                % (describe_pids(holders), waited, timeout))
            said = time.monotonic()
        time.sleep(poll)


def pid_alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    # a zombie is not alive
    try:
        with open("/proc/%d/stat" % pid) as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(cond, timeout, interval=1.0, what="condition"):
    """Poll cond() until it returns truthy or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        res = cond()
        if res:
            return res
        if time.monotonic() >= deadline:
            raise VMError("timed out after %ds waiting for %s" % (timeout, what))
        time.sleep(interval)


def tail(path, lines=60):
    try:
        with open(path, "rb") as fh:
            data = fh.read()[-200000:]
        return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])
    except OSError:
        return "(no console log at %s)" % path


# --------------------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------------------
def image_dir():
    return IMAGES / recipe_hash()


def image_ready(d=None):
    d = d or image_dir()
    return (d / "manifest.json").exists()


def mounts_under(path):
    prefix = str(path).rstrip("/") + "/"
    with open("/proc/mounts") as fh:
        points = [line.split()[1].replace("\\040", " ") for line in fh]
    return [m for m in points if m.startswith(prefix)]


def remove_build_dir(path):
    """Remove a (partial) build dir; first undo any mounts a killed mmdebstrap left in it,
    and never recurse into a mount (that could be the host's /dev, /proc or /sys)."""
    for m in sorted(mounts_under(path), key=len, reverse=True):
        subprocess.run(["umount", "-l", m], check=False)
    left = mounts_under(path)
    if left:
        raise VMError("not removing %s: still mounted: %s" % (path, left))
    shutil.rmtree(str(path), ignore_errors=True)


def clean_stale_tmp():
    if not IMAGES.exists():
        return
    for p in IMAGES.glob(".tmp-*"):
        try:
            pid = int(p.name.rsplit("-", 1)[1])
        except (IndexError, ValueError):
            pid = 0
        if not pid_alive(pid):
            log("removing stale partial build %s" % p)
            remove_build_dir(p)


def cmd_build(args):
    h = recipe_hash()
    final = IMAGES / h
    if image_ready(final) and not args.force:
        log("image cached: %s" % final)
        return 0
    if os.geteuid() != 0:
        raise VMError("building the image needs root (mmdebstrap --mode=root, chroot)")
    ensure_host_tools(["mmdebstrap", "mke2fs", "ssh-keygen", "qemu-img", "qemu-system-x86_64",
                       "ssh"])
    IMAGES.mkdir(parents=True, exist_ok=True)
    with flock(IMAGES / (".lock-" + h)):
        if image_ready(final) and not args.force:
            log("image cached: %s (built by another process)" % final)
            return 0
        clean_stale_tmp()
        build(final)
    return 0


def build(final):
    st = Stages()
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-%s-" % final.name[:12], dir=str(IMAGES)))
    # the pid suffix lets a later build spot (and remove) this dir if we die
    tmp2 = tmp.with_name(tmp.name + "-%d" % os.getpid())
    tmp.rename(tmp2)
    tmp = tmp2
    ok = False
    try:
        rootfs = tmp / "rootfs"
        overlay = tmp / "overlay"
        for path, (mode, content) in GUEST_FILES.items():
            p = overlay / path.lstrip("/")
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(content)
            p.chmod(mode)
        with st.stage("mmdebstrap (packages + zfs dkms)"):
            run(["mmdebstrap"] + MMDEBSTRAP_OPTS + [
                "--include=" + ",".join(PACKAGES),
                "--customize-hook=sync-in %s /" % overlay,
                '--customize-hook=chroot "$1" /bin/sh /usr/local/lib/strata/customize.sh',
                SUITE, str(rootfs)] + MIRRORS)
        with st.stage("verify + configure"):
            kvers = sorted(p.name for p in (rootfs / "lib/modules").iterdir())
            if len(kvers) != 1:
                raise VMError("expected one kernel in the image, found %s" % kvers)
            kver = kvers[0]
            zfs = list((rootfs / "lib/modules" / kver).rglob("zfs.ko*"))
            if not zfs:
                raise VMError("FATAL: zfs.ko for kernel %s is missing from the image" % kver)
            log("kernel %s, zfs module %s" % (kver, zfs[0].relative_to(rootfs)))
            etc = rootfs / "etc"
            (etc / "hostname").write_text(HOSTNAME + "\n")
            (etc / "hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\t%s\n"
                                       "::1\tlocalhost ip6-localhost ip6-loopback\n" % HOSTNAME)
            (etc / "fstab").write_text("LABEL=%s / ext4 defaults,noatime,errors=remount-ro 0 1\n"
                                       % ROOT_LABEL)
            resolv = etc / "resolv.conf"
            if resolv.is_symlink() or resolv.exists():
                resolv.unlink()
            resolv.write_text("nameserver 10.0.2.3\n")
            # a fixed machine-id: an "uninitialized" one would make systemd run first-boot
            # presets (re-enabling units we disabled)
            (etc / "machine-id").write_text(os.urandom(16).hex() + "\n")
            key = tmp / "id_ed25519"
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "strata-lab-vm",
                 "-f", key])
            sshdir = rootfs / "root/.ssh"
            sshdir.mkdir(mode=0o700, exist_ok=True)
            (sshdir / "authorized_keys").write_text((tmp / "id_ed25519.pub").read_text())
            (sshdir / "authorized_keys").chmod(0o600)
            shutil.copy2(rootfs / "boot" / ("vmlinuz-" + kver), tmp / "vmlinuz")
            shutil.copy2(rootfs / "boot" / ("initrd.img-" + kver), tmp / "initrd.img")
            # ConditionNeedsUpdate: /etc/.updated newer than /usr means no first-boot updates
            now = time.time() + 60
            for p in (etc / ".updated", rootfs / "var/.updated"):
                p.write_text("# strata image build\n")
                os.utime(p, (now, now))
            du = subprocess.run(["du", "-sh", "--one-file-system", str(rootfs)],
                                capture_output=True, text=True,
                                check=False).stdout.split()[0]
            log("rootfs size %s" % du)
        with st.stage("mke2fs -d (raw ext4 image)"):
            raw = tmp / "root.raw"
            run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", ROOT_LABEL, "-d", rootfs,
                 "-E", "root_owner=0:0", raw, IMAGE_SIZE])
            remove_build_dir(rootfs)
            remove_build_dir(overlay)
        manifest = {
            "recipe_sha256": final.name,
            "recipe": recipe(),
            "kernel": kver,
            "zfs_module": str(zfs[0].relative_to(rootfs)),
            "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "stages": {n: round(t, 1) for n, t in st.times},
            "files": {"root": "root.raw", "kernel": "vmlinuz", "initrd": "initrd.img",
                      "key": "id_ed25519"},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if final.exists():     # a forced rebuild replaces the old image
            old = final.with_name(".old-%s-%d" % (final.name, os.getpid()))
            final.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        tmp.rename(final)
        ok = True
        log("image ready: %s" % final)
    finally:
        if not ok:
            log("build failed; removing %s" % tmp)
            remove_build_dir(tmp)
        st.summary()


# --------------------------------------------------------------------------------------
# running VMs
# --------------------------------------------------------------------------------------
SSH_OPTS = [
    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
    "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=8",
]


def run_dir(name):
    return RUN_ROOT / name


def load_state(name):
    try:
        return json.loads((run_dir(name) / "state.json").read_text())
    except (OSError, ValueError):
        return None


def save_state(name, state):
    d = run_dir(name)
    tmp = d / ".state.json.tmp"
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.rename(d / "state.json")


def qemu_pid(name, state=None):
    """The pid of this VM's qemu: state.json first, then qemu's own pidfile."""
    state = state if state is not None else load_state(name)
    if state and state.get("pid"):
        return int(state["pid"])
    try:
        return int((run_dir(name) / "qemu.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def ours(pid, name):
    """True if pid is a qemu started for this run dir (guards against pid reuse)."""
    try:
        cmd = Path("/proc/%d/cmdline" % pid).read_bytes().split(b"\0")
    except OSError:
        return False
    return (bool(cmd) and b"qemu-system" in cmd[0]
            and any(str(run_dir(name)).encode() in a for a in cmd))


def stray_qemus(name):
    """qemu processes whose command line names this run dir (e.g. from a lost pidfile)."""
    pids = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit() and int(p.name) != os.getpid() and ours(int(p.name), name):
            pids.append(int(p.name))
    return pids


def ssh_argv(state, control=True, tty=False):
    argv = ["ssh", "-i", state["identity_file"], "-p", str(state["port"])] + SSH_OPTS
    if control:
        argv += ["-o", "ControlMaster=auto", "-o", "ControlPersist=300",
                 "-o", "ControlPath=%s/cm-%%C" % run_dir(state["name"])]
    else:
        argv += ["-o", "ControlMaster=no", "-o", "ControlPath=none"]
    if tty:
        argv.append("-t")
    return argv + ["%s@%s" % (state["user"], state["address"])]


def ssh_ok(state, timeout=20):
    try:
        return subprocess.run(
            ssh_argv(state, control=False) + ["-o", "ConnectTimeout=8", "true"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=timeout, check=False).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def qemu_version():
    out = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True,
                         check=False)
    return out.stdout.splitlines()[0] if out.stdout else "unknown"


def parse_size(s):
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    s = s.strip().upper().rstrip("B").rstrip("I")
    num = s.rstrip("KMGT")
    return int(float(num) * units[s[len(num):]])


def qmp(name, *commands):
    """Send QMP commands to the VM's monitor socket; best effort."""
    path = run_dir(name) / "qmp.sock"
    if not path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(str(path))
            s.recv(65536)
            for c in ("qmp_capabilities",) + commands:
                s.sendall(json.dumps({"execute": c}).encode() + b"\n")
                s.recv(65536)
        return True
    except OSError:
        return False


def base_qemu(img, accel, cpus, memory):
    argv = ["qemu-system-x86_64", "-nodefaults", "-display", "none",
            "-smp", str(cpus), "-m", str(memory),
            "-kernel", img / "vmlinuz", "-initrd", img / "initrd.img"]
    if accel == "kvm":
        argv += ["-accel", "kvm", "-cpu", "host"]
    else:
        # the default CPU model; "-cpu max" under TCG failed to find the root disk here
        argv += ["-accel", "tcg,thread=multi"]
    argv += ["-device", "virtio-rng-pci"]
    return argv


# ---- KVM probe -----------------------------------------------------------------------
def probe_key():
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return hashlib.sha256(json.dumps(
        [platform.release(), qemu_version(), cpu, socket.gethostname()]).encode()).hexdigest()[:16]


def probe_kvm(img):
    """Boot the image once under KVM; return (ok, detail).  Cached per machine."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "/dev/kvm missing or not accessible"
    cache = CACHE / "kvm-probe.json"
    key = probe_key()
    try:
        known = json.loads(cache.read_text())
    except (OSError, ValueError):
        known = {}
    if key in known:
        r = known[key]
        return r["ok"], "cached probe from %s: %s" % (r["when"], r["detail"])
    log("probing KVM with a short boot (timeout %ds, done once per machine)" % PROBE_WAIT)
    CACHE.mkdir(parents=True, exist_ok=True)
    logf = CACHE / ("kvm-probe-%s.log" % key)
    logf.unlink() if logf.exists() else None
    argv = base_qemu(img, "kvm", 1, 1024) + [
        "-append", KERNEL_CMDLINE + " strata.probe", "-no-reboot", "-snapshot",
        "-drive", "file=%s,if=none,id=root,format=raw,readonly=off" % (img / "root.raw"),
        "-device", "virtio-blk-pci,drive=root,serial=strata-root",
        "-serial", "file:%s" % logf]
    t = time.monotonic()
    proc = subprocess.Popen([str(a) for a in argv], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)

    def seen():
        try:
            out = logf.read_bytes()
        except OSError:
            out = b""
        if b"STRATA-PROBE-OK" in out:
            return "ok"
        if proc.poll() is not None:
            return "exited"
        # a working KVM guest prints kernel messages within a second or two; the hang seen
        # on this host prints nothing at all
        if not out and time.monotonic() - t > PROBE_SILENT:
            return "no console output in %ds" % PROBE_SILENT
        return None
    try:
        res = wait_for(seen, PROBE_WAIT, 1.0, "KVM probe")
    except VMError:
        res = "timeout"
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    out = proc.stdout.read().decode("utf-8", "replace").strip() if proc.stdout else ""
    out = out if res == "exited" else ""     # else it only says we terminated it
    ok = res == "ok"
    detail = ("booted in %.0fs" % (time.monotonic() - t) if ok else
              "%s after %.0fs%s" % (res, time.monotonic() - t, (": " + out[-300:]) if out else ""))
    known[key] = {"ok": ok, "detail": detail, "when": time.strftime("%Y-%m-%d %H:%M")}
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "kvm-probe.json").write_text(json.dumps(known, indent=2) + "\n")
    return ok, detail


def choose_accel(img, want):
    want = want or os.environ.get("STRATA_VM_ACCEL", "auto")
    if want == "tcg":
        return "tcg", "asked for TCG"
    ok, detail = probe_kvm(img)
    if want == "kvm" and not ok:
        raise VMError("KVM was asked for but the probe failed: %s" % detail)
    return ("kvm" if ok else "tcg"), detail


# ---- up ------------------------------------------------------------------------------
def collection_link():
    """<run root>/collections/ansible_collections/strata/storage -> the checkout.

    Molecule (prerun: false) and ad-hoc runs put <run root>/collections first in
    ANSIBLE_COLLECTIONS_PATH, so ansible always sees the live checkout, never a stale copy.
    """
    link = RUN_ROOT / "collections" / "ansible_collections" / "strata" / "storage"
    target = os.path.relpath(str(REPO), str(link.parent))
    if os.path.islink(str(link)) and os.readlink(str(link)) == target:
        return link
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(".storage.%d" % os.getpid())
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(target)
    tmp.rename(link)
    return link


def cmd_up(args):
    ensure_host_tools(["qemu-system-x86_64", "qemu-img", "ssh", "scp"])
    collection_link()
    if not image_ready():
        log("no cached image for this recipe; building it")
        rc = cmd_build(argparse.Namespace(force=False))
        if rc:
            return rc
    img = image_dir()
    d = run_dir(args.name)
    d.mkdir(parents=True, exist_ok=True)
    with flock(d / ".lock"):
        state = load_state(args.name)
        pid = qemu_pid(args.name, state)
        if state and pid and pid_alive(pid) and ours(pid, args.name):
            if ssh_ok(state):
                log("VM %r is already up (pid %s, ssh 127.0.0.1:%s, %s)"
                    % (args.name, pid, state["port"], state.get("accel")))
                want = (args.disks, parse_size(args.disk_size))
                have = (len(state.get("disks", [])), state.get("disk_size_bytes"))
                if want != have:
                    log("note: it runs with %d disks of %s bytes; `down` first to change"
                        % have)
                return 0
            log("VM %r is running (pid %s) but SSH does not answer yet; waiting"
                % (args.name, pid))
            t = time.monotonic()
            wait_ssh(args.name, state, pid, SSH_WAIT)
            log("VM %r answers after %.0fs more" % (args.name, time.monotonic() - t))
            return 0
        if state or pid or stray_qemus(args.name):
            log("stale state in %s (qemu pid %s not running); cleaning up" % (d, pid))
            stop(args.name, state)
        return boot(args, img, d)


def boot(args, img, d):
    accel, why = choose_accel(img, args.accel)
    log("accelerator: %s (%s)" % (accel.upper(), why))
    overlay = d / "root.qcow2"
    run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", img / "root.raw",
         overlay], stdout=subprocess.DEVNULL)
    size = parse_size(args.disk_size)
    disks = []
    for i in range(1, args.disks + 1):
        f = d / ("d%d.raw" % i)
        with open(f, "wb") as fh:
            fh.truncate(size)
        disks.append({"serial": "strata-d%d" % i, "by_id": "/dev/disk/by-id/virtio-strata-d%d" % i,
                      "file": str(f), "size_bytes": size})
    key = d / "id_ed25519"
    shutil.copyfile(img / "id_ed25519", key)
    key.chmod(0o600)
    console = d / "console.log"
    if console.exists():
        console.replace(d / "console.prev.log")
    for f in ("qemu.pid", "qmp.sock"):
        with contextlib.suppress(FileNotFoundError):
            (d / f).unlink()
    for attempt in range(3):
        port = free_port()
        argv = base_qemu(img, accel, args.cpus, args.memory) + [
            "-name", "strata-%s" % args.name,
            "-append", KERNEL_CMDLINE,
            "-drive", "file=%s,if=none,id=root,format=qcow2,cache=unsafe,discard=unmap" % overlay,
            "-device", "virtio-blk-pci,drive=root,serial=strata-root"]
        for i, disk in enumerate(disks, 1):
            argv += ["-drive", "file=%s,if=none,id=d%d,format=raw,cache=unsafe,discard=unmap"
                     % (disk["file"], i),
                     "-device", "virtio-blk-pci,drive=d%d,serial=%s" % (i, disk["serial"])]
        argv += ["-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:22" % port,
                 "-device", "virtio-net-pci,netdev=n0",
                 "-serial", "file:%s" % console,
                 "-qmp", "unix:%s,server=on,wait=off" % (d / "qmp.sock"),
                 "-pidfile", d / "qemu.pid", "-daemonize"]
        (d / "qemu.cmdline").write_text(" ".join(shlex.quote(str(a)) for a in argv) + "\n")
        t0 = time.monotonic()
        proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                              timeout=120, check=False)
        if proc.returncode == 0:
            break
        err = proc.stderr.strip()
        if "hostfwd" in err or "Could not set up host forwarding" in err:
            log("port %d taken, retrying (%s)" % (port, err))
            continue
        raise VMError("qemu failed to start (rc=%d): %s" % (proc.returncode, err))
    else:
        raise VMError("could not find a free port for SSH forwarding")
    pid = wait_for(lambda: qemu_pid(args.name, {}), 30, 0.2, "qemu pidfile")
    state = {
        "name": args.name, "status": "booting", "pid": pid, "accel": accel,
        "address": "127.0.0.1", "port": port, "user": GUEST_USER,
        "identity_file": str(key), "python": GUEST_PYTHON, "hostname": HOSTNAME,
        "image": str(img), "run_dir": str(d), "console_log": str(console),
        "cpus": args.cpus, "memory_mb": args.memory, "disk_size_bytes": size, "disks": disks,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    save_state(args.name, state)
    log("qemu pid %d, ssh on 127.0.0.1:%d; waiting for SSH (limit %ds)" % (pid, port, SSH_WAIT))
    wait_ssh(args.name, state, pid, SSH_WAIT)
    boot_s = time.monotonic() - t0
    # data disks present with their stable names?
    check = ("udevadm settle --timeout=60; ls /dev/disk/by-id/ | grep -c '^virtio-strata-d' "
             "|| true")
    out = subprocess.run(ssh_argv(state) + [check], capture_output=True, text=True,
                         timeout=120, check=False).stdout.strip()
    if out != str(len(disks)):
        raise VMError("guest sees %r of %d data disks under /dev/disk/by-id" % (out, len(disks)))
    state.update(status="up", boot_seconds=round(boot_s, 1))
    save_state(args.name, state)
    write_handy_files(state)
    log("VM %r up in %.0fs (%s): ssh -p %d root@127.0.0.1, %d disks %s .. %s"
        % (args.name, boot_s, accel.upper(), port, len(disks),
           disks[0]["by_id"] if disks else "-", disks[-1]["by_id"] if disks else "-"))
    return 0


def wait_ssh(name, state, pid, timeout):
    def ready():
        if not pid_alive(pid):
            raise VMError("qemu (pid %d) exited during boot; console log tail:\n%s"
                          % (pid, tail(state["console_log"])))
        return ssh_ok(state, timeout=30)
    try:
        wait_for(ready, timeout, 2.0, "SSH on 127.0.0.1:%s" % state["port"])
    except VMError as exc:
        if "console log" in str(exc):
            raise
        raise VMError("%s; console log tail (%s):\n%s\n(the VM is left running; "
                      "`vm.py down --name %s` stops it)"
                      % (exc, state["console_log"], tail(state["console_log"]), name))


def write_handy_files(state):
    d = run_dir(state["name"])
    for k in ("port", "address", "user", "identity_file", "python"):
        (d / k).write_text("%s\n" % state[k])
    (d / "ssh_config").write_text(
        "Host %s\n  HostName %s\n  Port %s\n  User %s\n  IdentityFile %s\n"
        "  IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n"
        "  LogLevel ERROR\n" % (HOSTNAME, state["address"], state["port"], state["user"],
                                state["identity_file"]))
    (d / "inventory.yml").write_text(inventory_yaml(state))


# ---- down ----------------------------------------------------------------------------
def cmd_down(args):
    d = run_dir(args.name)
    if not d.exists():
        log("VM %r: nothing to stop (%s does not exist)" % (args.name, d))
        return 0
    with flock(d / ".lock"):
        stop(args.name, load_state(args.name), graceful=not args.force)
    log("VM %r is down" % args.name)
    return 0


def kill_wait(pid, sig, timeout):
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    try:
        wait_for(lambda: not pid_alive(pid), timeout, 0.5, "pid %d to exit" % pid)
        return True
    except VMError:
        return False


def stop(name, state, graceful=True):
    d = run_dir(name)
    pid = qemu_pid(name, state)
    pids = [pid] if pid and pid_alive(pid) and ours(pid, name) else []
    pids += [p for p in stray_qemus(name) if p not in pids]
    for p in pids:
        t = time.monotonic()
        done = False
        if graceful and state and p == state.get("pid"):
            with contextlib.suppress(subprocess.TimeoutExpired):
                subprocess.run(ssh_argv(state, control=False) + ["-o", "ConnectTimeout=8",
                               "systemctl poweroff"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30,
                               check=False)
            try:
                wait_for(lambda: not pid_alive(p), 90, 0.5, "guest poweroff")
                done = True
            except VMError:
                log("guest did not power off in 90s; stopping qemu")
        if not done and qmp(name, "quit"):
            done = kill_wait(p, 0, 15)
        if not done:
            done = kill_wait(p, signal.SIGTERM, 15) or kill_wait(p, signal.SIGKILL, 15)
        if not done:
            raise VMError("qemu pid %d did not exit even after SIGKILL" % p)
        log("qemu pid %d stopped in %.0fs" % (p, time.monotonic() - t))
    # close any SSH control masters into the old VM
    for sock in d.glob("cm-*"):
        subprocess.run(["ssh", "-o", "ControlPath=%s" % sock, "-O", "exit", "strata"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10,
                       check=False)
        with contextlib.suppress(FileNotFoundError):
            sock.unlink()
    left = stray_qemus(name)
    if left:
        raise VMError("qemu processes still running for %s: %s" % (d, left))
    if (d / "console.log").exists():
        (d / "console.log").replace(d / "console.prev.log")
    for f in list(d.glob("d*.raw")) + [d / n for n in (
            "root.qcow2", "state.json", "qemu.pid", "qmp.sock", "port", "address", "user",
            "identity_file", "python", "ssh_config", "inventory.yml", "id_ed25519")]:
        with contextlib.suppress(FileNotFoundError):
            f.unlink()


# ---- ssh, push, pull, loops, status, inventory -----------------------------------------
def need_up(name):
    state = load_state(name)
    if not state or not pid_alive(state.get("pid")) or state.get("status") != "up":
        raise VMError("VM %r is not up (run: tests/vm/vm.py up --name %s)" % (name, name))
    return state


def strip_dashdash(cmd):
    return cmd[1:] if cmd and cmd[0] == "--" else cmd


def cmd_ssh(args):
    state = need_up(args.name)
    cmd = strip_dashdash(args.command)
    argv = ssh_argv(state, tty=not cmd or args.tty) + cmd
    try:
        return subprocess.run(argv, timeout=args.timeout, check=False).returncode
    except subprocess.TimeoutExpired:
        print("vm: ssh command timed out after %ss" % args.timeout, file=sys.stderr)
        return 124


def scp_argv(state):
    return (["scp", "-O", "-r", "-q", "-i", state["identity_file"], "-P", str(state["port"])]
            + SSH_OPTS + ["-o", "ControlMaster=auto", "-o", "ControlPersist=300",
                          "-o", "ControlPath=%s/cm-%%C" % run_dir(state["name"])])


def cmd_push(args):
    state = need_up(args.name)
    remote = "%s@%s:%s" % (state["user"], state["address"], args.paths[-1])
    argv = scp_argv(state) + args.paths[:-1] + [remote]
    return subprocess.run(argv, check=False).returncode


def cmd_pull(args):
    state = need_up(args.name)
    srcs = ["%s@%s:%s" % (state["user"], state["address"], p) for p in args.paths[:-1]]
    return subprocess.run(scp_argv(state) + srcs + [args.paths[-1]], check=False).returncode


def cmd_loops(args):
    state = need_up(args.name)
    cmd = ["strata-loops"] + (["--detach"] if args.detach else
                              ["--count", str(args.count), "--size", args.size])
    return subprocess.run(ssh_argv(state) + [" ".join(cmd)], check=False).returncode


def cmd_status(args):
    state = load_state(args.name)
    pid = qemu_pid(args.name, state)
    alive = bool(pid and pid_alive(pid) and ours(pid, args.name))
    answers = bool(alive and state and ssh_ok(state))
    info = {"name": args.name, "running": alive, "ssh": answers}
    if state:
        info.update({k: state.get(k) for k in (
            "pid", "accel", "address", "port", "user", "identity_file", "boot_seconds",
            "started", "image", "console_log")})
        info["disks"] = [x["by_id"] for x in state.get("disks", [])]
    info["image_cached"] = image_ready()
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for k, v in info.items():
            print("%-14s %s" % (k + ":", v))
    return 0 if answers else 3


def inventory_yaml(state):
    return """\
---
# generated by tests/vm/vm.py for the running VM %(name)r
all:
  children:
    storage_hosts:
      hosts:
        %(hostname)s:
          ansible_host: %(address)s
          ansible_port: %(port)s
          ansible_user: %(user)s
          ansible_ssh_private_key_file: %(identity_file)s
          ansible_python_interpreter: %(python)s
          ansible_ssh_common_args: >-
            -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes
""" % state


def cmd_inventory(args):
    print(inventory_yaml(need_up(args.name)), end="")
    return 0


def cmd_console(args):
    state = load_state(args.name) or {}
    print(tail(state.get("console_log", str(run_dir(args.name) / "console.log")), args.lines))
    return 0


def add_vm_commands(sub):
    def named(p):
        p.add_argument("--name", default=os.environ.get("STRATA_VM_NAME") or "default",
                       help="VM name (default: $STRATA_VM_NAME or %(default)s)")
        return p

    p = named(sub.add_parser("up", help="boot the VM (idempotent) and wait for SSH"))
    p.add_argument("--disks", type=int, default=8, help="spare virtio disks (default 8)")
    p.add_argument("--disk-size", default="2G", help="size of each sparse disk (default 2G)")
    p.add_argument("--memory", type=int, default=4096, help="MiB (default 4096)")
    p.add_argument("--cpus", type=int, default=2)
    p.add_argument("--accel", choices=["auto", "kvm", "tcg"], default=None,
                   help="default auto (env STRATA_VM_ACCEL): KVM if a probe boot works")
    p.set_defaults(func=cmd_up)

    p = named(sub.add_parser("down", help="stop the VM and delete its overlay and disks"))
    p.add_argument("--force", action="store_true", help="skip the guest poweroff, kill qemu")
    p.set_defaults(func=cmd_down)

    p = named(sub.add_parser("ssh", help="run a command in the guest: ssh [--name N] -- CMD"))
    p.add_argument("-t", "--tty", action="store_true", help="allocate a tty")
    p.add_argument("--timeout", type=float, default=None, help="seconds before giving up")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_ssh)

    p = named(sub.add_parser("push", help="copy host files into the guest: push SRC... DEST"))
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(func=cmd_push)
    p = named(sub.add_parser("pull", help="copy guest files to the host: pull SRC... DEST"))
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(func=cmd_pull)

    p = named(sub.add_parser("loops", help="create loop devices in the guest (strata-loops)"))
    p.add_argument("--count", type=int, default=4)
    p.add_argument("--size", default="1G")
    p.add_argument("--detach", action="store_true", help="detach and delete them instead")
    p.set_defaults(func=cmd_loops)

    p = named(sub.add_parser("status", help="is it running, does SSH answer (rc 3 if not)"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = named(sub.add_parser("inventory", help="print an Ansible YAML inventory for the VM"))
    p.set_defaults(func=cmd_inventory)

    p = named(sub.add_parser("console", help="print the tail of the serial console log"))
    p.add_argument("--lines", type=int, default=80)
    p.set_defaults(func=cmd_console)


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------
def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="vm.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("build", help="build the cached image (instant when cached)")
    p.add_argument("--force", action="store_true", help="rebuild even when cached")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("image-path", help="print the cached image directory for this recipe")
    p.set_defaults(func=lambda a: print(image_dir()) or (0 if image_ready() else 1))

    add_vm_commands(sub)
    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except VMError as exc:
        print("vm: ERROR: %s" % exc, file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("vm: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
