# shellcheck shell=bash
# shellcheck disable=SC2034  # variables are used by the scripts that source this file
# Paths and helpers shared by scripts/setup.sh, scripts/test.sh and scripts/demo.sh.
# Source it; it only defines variables and functions (no side effects).

STRATA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
STRATA_CACHE="${STRATA_ROOT}/.cache"
STRATA_VENVS="${STRATA_CACHE}/venv"
STRATA_REQS="${STRATA_ROOT}/tests/requirements"

# ansible-test needs the collection at .../ansible_collections/strata/storage as a real
# directory (it uses os.getcwd(), which resolves symlinks, and it skips symlinked files), so
# this is a copy of the git-visible files, refreshed by scripts/sync_collection.py before
# every ansible-test run. Never edit files in it.
STRATA_TEST_COLLECTIONS="${STRATA_CACHE}/collections"
STRATA_TEST_COLLECTION="${STRATA_TEST_COLLECTIONS}/ansible_collections/strata/storage"
# Everything else (ansible-doc, ansible-lint, molecule, ansible-playbook, pytest) uses the
# live tree through a symlink, plus collections we depend on (extracted from the PyPI
# `ansible` package, see tests/requirements/collections.txt).
STRATA_LIVE_COLLECTIONS="${STRATA_CACHE}/live"
STRATA_DEP_COLLECTIONS="${STRATA_CACHE}/deps"

# The two cores we test on: name -> Python minor version.
STRATA_CORES=(core219 corelatest)
# Other venvs: "galaxy" holds galaxy-importer and antsibull-docs (their pins clash with the
# tools venv's; see tests/requirements/galaxy.txt).
STRATA_AUX_VENVS=(galaxy)
# The venv that also holds ansible-lint, molecule and antsibull-changelog.
STRATA_TOOLS_VENV=core219

strata_python_version() {
    case "$1" in
        core219) echo 3.11 ;;
        corelatest) echo 3.12 ;;
        galaxy) echo 3.11 ;;
        *) echo "unknown venv: $1" >&2; return 1 ;;
    esac
}

strata_venv() { echo "${STRATA_VENVS}/$1"; }

# Absolute path of a real interpreter for a minor version (never a pyenv shim).
strata_find_python() {
    local ver="$1" cand pyenv_root best=""
    pyenv_root="${PYENV_ROOT:-${HOME}/.pyenv}"
    # highest patch release of that minor (sort -V: 3.11.10 after 3.11.7)
    best="$(printf '%s\n' "${pyenv_root}"/versions/"${ver}".*/bin/python"${ver}" | sort -V | tail -n 1)"
    for cand in "$best" "/usr/local/bin/python${ver}" "/usr/bin/python${ver}"; do
        if [ -n "$cand" ] && [ -x "$cand" ] && "$cand" -c 'import venv, ensurepip' 2>/dev/null; then
            echo "$cand"
            return 0
        fi
    done
    if command -v "python${ver}" >/dev/null 2>&1; then
        cand="$("python${ver}" -c 'import sys; print(sys.executable)' 2>/dev/null || true)"
        if [ -n "$cand" ] && "$cand" -c 'import venv, ensurepip' 2>/dev/null; then
            echo "$cand"
            return 0
        fi
    fi
    echo "no usable python${ver} found (looked in ${pyenv_root}/versions, /usr/local/bin, /usr/bin, PATH)" >&2
    return 1
}

# A directory of symlinks python3.X -> the real interpreter of every pyenv/system Python
# (made by setup.sh), put on PATH so ansible-test finds each target Python without pyenv
# shims (a shim for a version that is not "active" fails instead of running).
STRATA_PYBIN="${STRATA_CACHE}/pybin"
STRATA_ALL_MINORS=(3.8 3.9 3.10 3.11 3.12 3.13 3.14)

# Environment for running Ansible tools from venv $1 against the live tree.
strata_activate() {
    local venv
    venv="$(strata_venv "$1")"
    export VIRTUAL_ENV="$venv"
    export PATH="${venv}/bin:${STRATA_PYBIN}:${PATH}"
    export ANSIBLE_COLLECTIONS_PATH="${STRATA_LIVE_COLLECTIONS}:${STRATA_DEP_COLLECTIONS}"
    unset PYTHONHOME
}

# ---------------------------------------------------------------------------------------
# apt/dpkg locks. On a fresh machine apt often runs on its own for minutes (cloud-init,
# unattended-upgrades), and apt-get then fails at once on its lock. strata_wait_apt_lock waits
# for the locks to be free, at most STRATA_APT_LOCK_TIMEOUT seconds (default 600), and says
# what it waits for. The lock files (space-separated) can be replaced with
# STRATA_APT_LOCK_FILES (the tests do, so that they never hold the machine's real lock).
STRATA_APT_LOCK_FILES_DEFAULT="/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock"

# PIDs holding a lock on one of the lock files: fcntl locks (as apt and dpkg take them) and
# flock locks alike, read from /proc/locks (no need to open, let alone take, the lock).
# An open-file-description lock has no owning process: it shows as -1.
strata_apt_lock_holders() {
    local f dev keys=()
    for f in ${STRATA_APT_LOCK_FILES:-$STRATA_APT_LOCK_FILES_DEFAULT}; do
        [ -e "$f" ] || continue
        dev="$(stat -L -c %d "$f")" || continue
        # /proc/locks names the file as MAJOR:MINOR:INODE (hex, hex, decimal)
        keys+=("$(printf '%02x:%02x:%s' $(( (dev >> 8) & 0xfff )) \
            $(( (dev & 0xff) | ((dev >> 12) & 0xfff00) )) "$(stat -L -c %i "$f")")")
    done
    [ "${#keys[@]}" -gt 0 ] && [ -r /proc/locks ] || return 0
    # "1: POSIX ADVISORY WRITE <pid> <maj:min:ino> 0 EOF"; a waiter's line has "->" in field 2
    awk -v keys="${keys[*]}" '
        BEGIN { n = split(keys, k, " "); for (i = 1; i <= n; i++) want[k[i]] = 1 }
        $2 != "->" && ($6 in want) { print $5 }' /proc/locks | sort -u
}

strata_describe_pids() {
    local pid what out=""
    for pid in "$@"; do
        if [ "$pid" = -1 ]; then
            what="an open-file-description lock"
        else
            what="pid ${pid} ($(tr '\0\n' '  ' < "/proc/${pid}/cmdline" 2>/dev/null | cut -c1-80 | sed 's/ $//'))"
        fi
        out="${out:+${out}, }${what}"
    done
    echo "$out"
}

# strata_wait_apt_lock [TIMEOUT_S]: 0 once no lock is held, 1 (with a message) after TIMEOUT_S.
strata_wait_apt_lock() {
    local timeout="${1:-${STRATA_APT_LOCK_TIMEOUT:-600}}" start=$SECONDS said=-1 holders
    while holders="$(strata_apt_lock_holders)"; [ -n "$holders" ]; do
        # shellcheck disable=SC2086  # one PID per word
        if [ $((SECONDS - start)) -ge "$timeout" ]; then
            echo "apt/dpkg lock still held after ${timeout} s by $(strata_describe_pids $holders);" \
                "giving up (STRATA_APT_LOCK_TIMEOUT=<seconds> waits longer)" >&2
            return 1
        fi
        if [ "$said" -lt 0 ] || [ $((SECONDS - said)) -ge 30 ]; then
            # shellcheck disable=SC2086
            echo "waiting for the apt/dpkg lock, held by $(strata_describe_pids $holders)" \
                "($((SECONDS - start)) s so far, at most ${timeout} s)" >&2
            said=$SECONDS
        fi
        sleep 1
    done
    [ "$said" -lt 0 ] || echo "apt/dpkg lock free after $((SECONDS - start)) s" >&2
    return 0
}
