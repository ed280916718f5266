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
# The venv that also holds ansible-lint, molecule and antsibull-changelog.
STRATA_TOOLS_VENV=core219

strata_python_version() {
    case "$1" in
        core219) echo 3.11 ;;
        corelatest) echo 3.12 ;;
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
