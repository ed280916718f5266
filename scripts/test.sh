#!/usr/bin/env bash
# The test command: every check this collection has, cheap ones first, with the wall time
# of each stage and a summary table at the end. Exit status is non-zero if any stage failed.
#
#   scripts/test.sh                 everything: the static stages, and the VM suite alongside
#                                   them in the background (STRATA_SERIAL=1: after them)
#   scripts/test.sh --quick         unit tests + static checks, no VM
#   scripts/test.sh --vm-only       only the VM suite (molecule test --all)
#   scripts/test.sh --stage NAME    only the named stage(s); repeatable or comma-separated;
#                                   a prefix selects a group (`units` = units-core219 +
#                                   units-corelatest)
#   scripts/test.sh --fail-fast     skip the remaining stages after the first failure
#   scripts/test.sh --list          list the stages
#
# Stages, in order:
#   changelog            antsibull-changelog lint (fragments and changelog.yaml)
#   doc-<core>           ansible-doc renders every module (and every role with argument_specs)
#   units-<core>         ansible-test units --venv (tests/unit), zero tests is a failure
#   lint                 ansible-lint, production profile (.ansible-lint)
#   sanity-<core>        ansible-test sanity --venv, every target Python that is installed
#   antsibull-docs       antsibull-docs lint-collection-docs --plugin-docs (docs markup, O()/M()
#                        references, role argument_specs)
#   galaxy-importer      galaxy-importer on the built tarball, as Galaxy imports it (flake8 on
#                        every plugin file, ansible-doc, metadata; tests/galaxy-importer.cfg)
#   install              pytest tests/install: ansible-builder create + introspect, bindep
#                        profiles, the README's install ways offline, AWX project sync and
#                        set_stats, the apt lock waits
#   k8s                  pytest tests/k8s: the k8s modules, playbooks and role through
#                        ansible-playbook against the Kubernetes API stand-in (no VM); the
#                        real-cluster tests run when KUBECONFIG is set, else they are skipped
#   vm                   molecule test --all (extensions/molecule), on the test VM
# where <core> is core219 (Python 3.11, ansible-core 2.19.x) or corelatest (Python 3.12,
# newest ansible-core); pins in tests/requirements/. Set up by scripts/setup.sh (run here).
# Full logs: .cache/logs/<stage>.log (the console output drops pip's download chatter).
# (file-wide, before the first command: the stage_* functions are called through
# run_stage, which shellcheck cannot follow)
# shellcheck disable=SC2317
set -uo pipefail

# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

ALL_STAGES=(changelog doc-core219 doc-corelatest units-core219 units-corelatest lint
            antsibull-docs galaxy-importer install
            sanity-core219 sanity-corelatest k8s vm)
STATIC_STAGES=(changelog doc-core219 doc-corelatest units-core219 units-corelatest lint
               antsibull-docs galaxy-importer install
               sanity-core219 sanity-corelatest k8s)

usage() { sed -n '2,/^# Full logs/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

SELECT=()
FAIL_FAST=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) SELECT+=("${STATIC_STAGES[@]}") ;;
        --vm-only) SELECT+=(vm) ;;
        --stage) shift; [ $# -gt 0 ] || { usage >&2; exit 2; }; IFS=, read -r -a _s <<< "$1"; SELECT+=("${_s[@]}") ;;
        --stage=*) IFS=, read -r -a _s <<< "${1#--stage=}"; SELECT+=("${_s[@]}") ;;
        --fail-fast) FAIL_FAST=1 ;;
        --list) printf '%s\n' "${ALL_STAGES[@]}"; exit 0 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "test.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
[ "${#SELECT[@]}" -gt 0 ] || SELECT=("${ALL_STAGES[@]}")

selected() {
    local s
    for s in "${SELECT[@]}"; do
        if [ "$1" = "$s" ] || [ "${1#"$s"-}" != "$1" ]; then
            return 0
        fi
    done
    return 1
}

for s in "${SELECT[@]}"; do
    ok=0
    for a in "${ALL_STAGES[@]}"; do
        if [ "$a" = "$s" ] || [ "${a#"$s"-}" != "$a" ]; then ok=1; fi
    done
    [ "$ok" -eq 1 ] || { echo "test.sh: unknown stage: $s (see --list)" >&2; exit 2; }
done

LOG_DIR="${STRATA_CACHE}/logs"
mkdir -p "$LOG_DIR"
export NO_COLOR=1 ANSIBLE_NOCOLOR=1 PY_COLORS=0 ANSIBLE_FORCE_COLOR=0
export PIP_DISABLE_PIP_VERSION_CHECK=1

now() { echo "${EPOCHREALTIME}"; }
# user+system CPU seconds of all finished child processes of this shell (bash `times`)
# (`times` must run in this shell, not in a $(...) subshell, hence the file)
CPU_FILE="${LOG_DIR}/.times"
cpu() { awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } } END { printf "%.1f", t }' "$CPU_FILE"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
strip_ansi() { sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' -e 's/\x1b\]8;;[^\x1b]*\x1b\\//g' "$@"; }

# Drop pip's per-package chatter from the console (it stays in the log file).
NOISE='^( *(Collecting|Downloading|Using cached|Requirement already|Installing collected|Successfully (installed|uninstalled)|Attempting uninstall|Found existing installation|Uninstalling|Processing|Looking in|Obtaining|Preparing metadata|Getting requirements|Building wheel|Created wheel|Stored in directory)|WARNING: Location .* is ignored|.*━━━)'
show() { grep --line-buffered -v -E "$NOISE" || true; }

# run_logged LOG CMD...: run CMD, output to LOG and (filtered) to the console; CMD's rc.
run_logged() {
    local log="$1"; shift
    printf '$ %s\n' "$*" | tee -a "$log"
    "$@" 2>&1 | tee -a "$log" | show
    return "${PIPESTATUS[0]}"
}

STAGE_DETAIL=""
STAGE_LOG=""

# ---------------------------------------------------------------------------------------
stage_changelog() {
    strata_activate "$STRATA_TOOLS_VENV"
    cd "$STRATA_ROOT" || return 1
    run_logged "$STAGE_LOG" antsibull-changelog lint -v || return 1
    run_logged "$STAGE_LOG" antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml || return 1
    local n
    n="$(find changelogs/fragments -maxdepth 1 -type f \( -name '*.yml' -o -name '*.yaml' \) | wc -l)"
    STAGE_DETAIL="${n} fragments"
}

stage_doc() {
    local core="$1" modules=() roles=() f r missing=() rc=0
    strata_activate "$core"
    cd "$STRATA_ROOT" || return 1
    for f in plugins/modules/*.py; do
        [ -e "$f" ] || continue
        r="$(basename "$f" .py)"
        [ "$r" = "__init__" ] || modules+=("strata.storage.${r}")
    done
    for f in roles/*/meta/argument_specs.yml roles/*/meta/argument_specs.yaml; do
        [ -e "$f" ] && roles+=("strata.storage.$(basename "$(dirname "$(dirname "$f")")")")
    done
    if [ "${#modules[@]}" -eq 0 ]; then
        echo "ERROR: no modules in plugins/modules/" | tee -a "$STAGE_LOG"
        return 1
    fi
    run_logged "$STAGE_LOG" ansible-doc -t module "${modules[@]}" > "${STAGE_LOG}.out" || rc=1
    if [ "${#roles[@]}" -gt 0 ]; then
        run_logged "$STAGE_LOG" ansible-doc -t role "${roles[@]}" >> "${STAGE_LOG}.out" || rc=1
    fi
    # ansible-doc exits 0 when a plugin is missing or its docs do not load: check the output
    for r in "${modules[@]}"; do
        grep -q -E "^> MODULE ${r//./\\.}( |$)" "$STAGE_LOG" || missing+=("$r")
    done
    for r in "${roles[@]}"; do
        grep -q -E "^> ROLE: \*?${r//./\\.}\*?" "$STAGE_LOG" || grep -q -E "^> ${r//./\\.}( |$)" "$STAGE_LOG" || missing+=("$r")
    done
    # any warning fails the stage, except one ansible-core 2.21 prints for its own internal
    # collection whenever `ansible-doc -t role` scans collections
    if grep -E '^\[(WARNING|ERROR|DEPRECATION WARNING)\]|^ERROR!' "$STAGE_LOG" \
            | grep -v -E "ansible/_protomatter' does not have a MANIFEST\.json"; then
        rc=1
    fi
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "ERROR: ansible-doc did not render: ${missing[*]}"
        rc=1
    fi
    rm -f "${STAGE_LOG}.out"
    STAGE_DETAIL="${#modules[@]} modules, ${#roles[@]} roles"
    [ "${#missing[@]}" -eq 0 ] || STAGE_DETAIL="${STAGE_DETAIL}, ${#missing[@]} broken"
    return "$rc"
}

# Which Pythons ansible-test uses: the newest core tests every installed target Python,
# core219 only its own (STRATA_ALL_PYTHONS=1: every core tests every Python).
python_args() {
    if [ "$1" = corelatest ] || [ "${STRATA_ALL_PYTHONS:-0}" = 1 ]; then
        return 0
    fi
    echo "--python $(strata_python_version "$1")"
}

# ansible-test runs in a copy of the tree (see scripts/sync_collection.py).
ansible_test_prepare() {
    strata_activate "$1"
    unset ANSIBLE_COLLECTIONS_PATH
    "$(strata_venv "$1")/bin/python" "${STRATA_ROOT}/scripts/sync_collection.py" \
        "$STRATA_ROOT" "$STRATA_TEST_COLLECTION" | tee -a "$STAGE_LOG"
    cd "$STRATA_TEST_COLLECTION" || return 1
}

# Which target Pythons the unit tests run on: core219 its own (3.11, Debian 12's); the newest
# core the oldest and newest target Python installed (3.9 and 3.13 here): the ones that find
# different bugs (syntax and stdlib of the oldest, deprecations of the newest), without the
# three in between (STRATA_ALL_PYTHONS=1 runs every one).
unit_pythons() {
    local minors=() m
    if [ "$1" != corelatest ]; then
        strata_python_version "$1"
        return 0
    fi
    for m in "${STRATA_ALL_MINORS[@]}"; do
        [ "$m" = 3.8 ] && continue          # below python_requires (tests/config.yml)
        [ -x "${STRATA_PYBIN}/python${m}" ] && minors+=("$m")
    done
    if [ "${STRATA_ALL_PYTHONS:-0}" = 1 ] || [ "${#minors[@]}" -le 2 ]; then
        echo "${minors[*]}"
    else
        echo "${minors[0]} ${minors[${#minors[@]}-1]}"
    fi
}

stage_units() {
    local core="$1" rc=0 passed failed py pythons=()
    read -r -a pythons <<< "$(unit_pythons "$core")"
    ansible_test_prepare "$core" || return 1
    if [ ! -d tests/unit ]; then
        echo "ERROR: no tests/unit directory" | tee -a "$STAGE_LOG"
        return 1
    fi
    for py in "${pythons[@]}"; do
        run_logged "$STAGE_LOG" ansible-test units --venv --python "$py" || rc=1
    done
    # pytest prints one summary line per run ("== 12 passed, 1 skipped in 0.5s =="); sum them
    passed="$(strip_ansi "$STAGE_LOG" | grep -E '^=+ .* in [0-9.]+s' | grep -o -E '[0-9]+ passed' | awk '{s += $1} END {print s + 0}')"
    failed="$(strip_ansi "$STAGE_LOG" | grep -E '^=+ .* in [0-9.]+s' | grep -o -E '[0-9]+ (failed|error|errors)' | awk '{s += $1} END {print s + 0}')"
    STAGE_DETAIL="${passed} passed, ${failed} failed ($(grep -o -E '^Unit test [a-z_]+ with Python [0-9.]+' "$STAGE_LOG" | awk '{print $NF}' | sort -u -V | tr '\n' ' ' | sed 's/ $//'))"
    echo "${STAGE_NAME}: ${passed} passed, ${failed} failed"
    if grep -q -E 'All targets skipped|No tests found|no tests ran' "$STAGE_LOG" || [ "$passed" -eq 0 ]; then
        echo "ERROR: ${STAGE_NAME}: zero unit tests ran"
        rc=1
    fi
    return "$rc"
}

stage_sanity() {
    local core="$1" rc=0 ran failed pyargs=()
    read -r -a pyargs <<< "$(python_args "$core")"
    ansible_test_prepare "$core" || return 1
    # corelatest: no --python, so compile/import run on every installed target Python it
    # supports (3.9+, see tests/config.yml); core219: only its own Python (the other target
    # Pythons are covered by corelatest; each one costs a venv, ~10 s cold).
    run_logged "$STAGE_LOG" ansible-test sanity --venv "${pyargs[@]}" || rc=1
    ran="$(grep -c -E '^Running sanity test' "$STAGE_LOG")"
    failed="$(grep -o -E 'The [0-9]+ sanity test\(s\) listed below \(out of [0-9]+\) failed' "$STAGE_LOG" | grep -o -E '^The [0-9]+' | grep -o -E '[0-9]+' || echo 0)"
    STAGE_DETAIL="${ran} tests, ${failed:-0} failed"
    if grep -q 'All targets skipped' "$STAGE_LOG" || [ "$ran" -eq 0 ]; then
        echo "ERROR: ${STAGE_NAME}: no sanity test ran"
        rc=1
    fi
    return "$rc"
}

stage_lint() {
    local rc=0 files
    strata_activate "$STRATA_TOOLS_VENV"
    # Exactly the documented command, in the environment a user has: no ANSIBLE_*_PATH.
    # ansible-lint installs this checkout into .ansible/collections/ itself (.ansible-lint says
    # why); ansible.posix comes from the tools venv (scripts/setup.sh: link_dep_collections).
    unset ANSIBLE_COLLECTIONS_PATH ANSIBLE_ROLES_PATH ANSIBLE_LIBRARY ANSIBLE_HOME
    cd "$STRATA_ROOT" || return 1
    run_logged "$STAGE_LOG" ansible-lint --profile production || rc=1
    files="$(strip_ansi "$STAGE_LOG" | grep -o -E 'in [0-9]+ files processed' | grep -o -E '[0-9]+' | tail -n 1)"
    STAGE_DETAIL="${files:-0} files"
    if [ "${files:-0}" -eq 0 ]; then
        echo "ERROR: ansible-lint processed no files"
        rc=1
    fi
    return "$rc"
}

# --- what Galaxy, the docsite and users' installs see (each stage self-contained) ---------
stage_antsibull_docs() {
    local rc=0 errors
    strata_activate galaxy
    # antsibull-docs finds the collection by its path .../ansible_collections/strata/storage
    # (the live tree) and reads every plugin's and role's docs through ansible-doc
    cd "${STRATA_LIVE_COLLECTIONS}/ansible_collections/strata/storage" || return 1
    run_logged "$STAGE_LOG" antsibull-docs lint-collection-docs --plugin-docs . || rc=1
    # one line per problem: "<file>:<line>:<col>: <what>"
    errors="$(grep -c -E '^[^ $].*:[0-9]+:[0-9]+: ' "$STAGE_LOG")"
    STAGE_DETAIL="$(find plugins/modules plugins/filter -maxdepth 1 -name '*.py' ! -name '__init__.py' | wc -l) plugins, $(find roles -path '*/meta/argument_specs.yml' | wc -l) roles, ${errors} problems"
    [ "$errors" -eq 0 ] || rc=1
    return "$rc"
}

stage_galaxy_importer() {
    local rc=0 work tarball warnings linted
    strata_activate galaxy
    unset ANSIBLE_COLLECTIONS_PATH  # Galaxy imports the bare tarball
    work="${STRATA_CACHE}/galaxy-importer"
    rm -rf "$work" && mkdir -p "$work"
    cd "$STRATA_ROOT" || return 1
    run_logged "$STAGE_LOG" ansible-galaxy collection build --output-path "$work" . || return 1
    tarball="$(ls "$work"/strata-storage-*.tar.gz)"
    # it writes importer_result.json into the current directory
    cd "$work" || return 1
    GALAXY_IMPORTER_CONFIG="${STRATA_ROOT}/tests/galaxy-importer.cfg" \
        run_logged "$STAGE_LOG" python -m galaxy_importer.main "$tarball" || rc=1
    # galaxy-importer exits 0 with warnings (Galaxy shows them on the import page): any fails
    warnings="$(grep -c -E '^(WARNING|ERROR)' "$STAGE_LOG")"
    linted="$(grep -c -E '^Linting .* via flake8' "$STAGE_LOG")"
    grep -q '^Importer processing completed successfully' "$STAGE_LOG" || rc=1
    STAGE_DETAIL="${linted} plugins through flake8, ${warnings} warnings"
    [ "$warnings" -eq 0 ] || rc=1
    return "$rc"
}

# passed, failed, skipped (the caller's locals) from the last pytest summary line of log $1:
# pytest -q ends with "49 passed, 3 skipped in 118.13s" (no "=====" frame in quiet mode)
pytest_counts() {
    local summary
    summary="$(strip_ansi "$1" | grep -E '^(=+ )?[0-9]+ (passed|failed|skipped|errors?).* in [0-9.]+s' | tail -n 1)"
    passed="$(grep -o -E '[0-9]+ passed' <<< "$summary" | grep -o -E '[0-9]+')"
    failed="$(grep -o -E '[0-9]+ (failed|error|errors)' <<< "$summary" | awk '{s += $1} END {print s + 0}')"
    skipped="$(grep -o -E '[0-9]+ skipped' <<< "$summary" | grep -o -E '[0-9]+')"
}

stage_install() {
    local rc=0 passed failed skipped
    strata_activate "$STRATA_TOOLS_VENV"
    cd "$STRATA_ROOT" || return 1
    run_logged "$STAGE_LOG" python -m pytest -p no:cacheprovider -q -rs -n 2 tests/install || rc=1
    pytest_counts "$STAGE_LOG"
    STAGE_DETAIL="${passed:-0} passed, ${failed} failed, ${skipped:-0} skipped"
    if [ "${passed:-0}" -eq 0 ]; then
        echo "ERROR: ${STAGE_NAME}: zero tests passed"
        rc=1
    fi
    # the tests skip only when a tool scripts/setup.sh installs is missing: not here
    if [ "${skipped:-0}" -ne 0 ]; then
        echo "ERROR: ${STAGE_NAME}: ${skipped} tests skipped (see the reasons above)"
        rc=1
    fi
    return "$rc"
}
# ---------------------------------------------------------------------------------------

stage_k8s() {
    local rc=0 passed failed skipped
    strata_activate "$STRATA_TOOLS_VENV"
    cd "$STRATA_ROOT" || return 1
    # two workers: each gets its own API stand-in (session fixture); most time is module start-up
    run_logged "$STAGE_LOG" python -m pytest -p no:cacheprovider -q -rs -n 2 tests/k8s tests/host || rc=1
    pytest_counts "$STAGE_LOG"
    STAGE_DETAIL="${passed:-0} passed, ${failed} failed, ${skipped:-0} skipped (real cluster: ${KUBECONFIG:-no KUBECONFIG})"
    if [ "${passed:-0}" -eq 0 ]; then
        echo "ERROR: ${STAGE_NAME}: zero tests passed"
        rc=1
    fi
    return "$rc"
}

VM_BUILD_PID=""
VM_BUILD_LOG="${LOG_DIR}/vm-build.log"
VM_BUILD_RC="${LOG_DIR}/vm-build.rc"
# Build (or find cached) the VM image in the background while the static stages run; it is
# mostly downloads and a module compile, and the static stages leave room for it.
# STRATA_PREBUILD_VM=0 turns this off (the image is then built by the vm stage's create).
start_vm_build() {
    local py
    [ "${STRATA_PREBUILD_VM:-1}" = 1 ] || return 0
    [ -f "${STRATA_ROOT}/tests/vm/vm.py" ] || return 0
    py="$(strata_find_python 3.11)" || return 0
    rm -f "$VM_BUILD_RC"
    echo "[test] building the VM image in the background (log: ${VM_BUILD_LOG#"${STRATA_ROOT}"/})"
    # its own process group, so that it can be stopped as a whole
    # shellcheck disable=SC2016  # the inner script takes its values as arguments
    setsid bash -c 'cd "$1" && "$2" tests/vm/vm.py build; echo $? > "$3"' _ \
        "$STRATA_ROOT" "$py" "$VM_BUILD_RC" > "$VM_BUILD_LOG" 2>&1 < /dev/null &
    VM_BUILD_PID=$!
}

wait_vm_build() {
    [ -n "$VM_BUILD_PID" ] || return 0
    echo "[test] waiting for the VM image build (pid ${VM_BUILD_PID})"
    while kill -0 "$VM_BUILD_PID" 2>/dev/null && [ ! -s "$VM_BUILD_RC" ]; do
        sleep 2
    done
    if [ "$(cat "$VM_BUILD_RC" 2>/dev/null)" != 0 ]; then
        echo "ERROR: VM image build failed; last lines of ${VM_BUILD_LOG}:"
        tail -n 60 "$VM_BUILD_LOG"
        return 1
    fi
    tail -n 3 "$VM_BUILD_LOG"
}

stop_vm_build() {
    if [ -n "$VM_BUILD_PID" ] && kill -0 "$VM_BUILD_PID" 2>/dev/null; then
        echo "[test] stopping the background VM image build (process group ${VM_BUILD_PID})"
        kill -TERM -- "-${VM_BUILD_PID}" 2>/dev/null
    fi
}

# Pass Molecule's output through and append the wall seconds spent in each scenario
# (from its "[scenario > action] Executing" lines; default = create + destroy of the VM).
time_scenarios() {
    local line cur="" start=$SECONDS name
    declare -A total=()
    while IFS= read -r line; do
        printf '%s\n' "$line"
        if [[ $line =~ \[([A-Za-z0-9_-]+)\ \>\ [a-z_]+\]\ Executing ]]; then
            name=${BASH_REMATCH[1]}
            if [ "$name" != "$cur" ]; then
                [ -n "$cur" ] && total[$cur]=$(( ${total[$cur]:-0} + SECONDS - start ))
                cur=$name
                start=$SECONDS
            fi
        fi
    done
    [ -n "$cur" ] && total[$cur]=$(( ${total[$cur]:-0} + SECONDS - start ))
    for name in "${!total[@]}"; do
        printf 'scenario %-12s %5d s\n' "$name" "${total[$name]}"
    done
}

stage_vm() {
    local rc=0 scenarios=() d
    strata_activate "$STRATA_TOOLS_VENV"
    cd "$STRATA_ROOT" || return 1
    wait_vm_build 2>&1 | tee -a "$STAGE_LOG"
    [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
    local mdir=extensions/molecule
    [ -d "$mdir" ] || mdir=molecule
    for d in "$mdir"/*/molecule.yml; do
        [ -e "$d" ] && scenarios+=("$(basename "$(dirname "$d")")")
    done
    if [ "${#scenarios[@]}" -eq 0 ]; then
        echo "ERROR: no Molecule scenarios under extensions/molecule/" | tee -a "$STAGE_LOG"
        return 1
    fi
    # Molecule keeps its "instances created" state under ~/.ansible/tmp, keyed by the
    # checkout's directory NAME only, so a state file left by another checkout called
    # "main" (or an interrupted run) makes it skip `create` and run against a VM that is
    # not up.  Each run gets its own fresh state directory inside this checkout.
    export MOLECULE_EPHEMERAL_DIRECTORY="${STRATA_CACHE}/molecule-state/run-$$"
    rm -rf "${STRATA_CACHE}/molecule-state"
    mkdir -p "$MOLECULE_EPHEMERAL_DIRECTORY"
    printf '$ molecule test --all\n' | tee -a "$STAGE_LOG"
    molecule test --all 2>&1 | time_scenarios "$STAGE_LOG" | tee -a "$STAGE_LOG" | show
    [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
    STAGE_DETAIL="${#scenarios[@]} scenarios (${scenarios[*]})"
    if [ "$rc" -ne 0 ]; then
        for d in "${STRATA_CACHE}"/vm/*/console.log; do
            [ -f "$d" ] || continue
            echo "---- last 60 lines of ${d#"${STRATA_ROOT}"/} ----"
            tail -n 60 "$d"
        done
    fi
    return "$rc"
}

# ---------------------------------------------------------------------------------------
RESULTS=()
ANY_FAILED=0
STAGE_NAME=""

run_stage() {
    local name="$1" fn="$2" t0 t1 c0 c1 rc status
    shift 2
    selected "$name" || return 0
    if [ "$FAIL_FAST" -eq 1 ] && [ "$ANY_FAILED" -eq 1 ]; then
        RESULTS+=("${name}|SKIP|0.0|0.0|after an earlier failure (--fail-fast)")
        return 0
    fi
    STAGE_NAME="$name"
    STAGE_DETAIL=""
    STAGE_LOG="${LOG_DIR}/${name}.log"
    : > "$STAGE_LOG"
    printf '\n======== [%s] start %s ========\n' "$name" "$(date -u +%H:%M:%S)"
    t0="$(now)"
    times > "$CPU_FILE"; c0="$(cpu)"
    ( "$fn" "$@"; r=$?; printf '%s\n' "$STAGE_DETAIL" > "${STAGE_LOG}.detail"; exit "$r" )
    rc=$?
    t1="$(now)"
    times > "$CPU_FILE"; c1="$(cpu)"
    STAGE_DETAIL="$(cat "${STAGE_LOG}.detail" 2>/dev/null)"
    rm -f "${STAGE_LOG}.detail"
    if [ "$rc" -eq 0 ]; then status=PASS; else status=FAIL; ANY_FAILED=1; fi
    printf '======== [%s] %s in %ss%s ========\n' "$name" "$status" "$(elapsed "$t0" "$t1")" \
        "${STAGE_DETAIL:+ (${STAGE_DETAIL})}"
    RESULTS+=("${name}|${status}|$(elapsed "$t0" "$t1")|$(elapsed "$c0" "$c1")|${STAGE_DETAIL}")
}

# ---------------------------------------------------------------------------------------
# The vm stage alongside the static stages. A TCG guest mostly keeps one host core busy
# (LVM, mdadm or Python in the guest are single-threaded), so on a 2-core machine the static
# stages fit into the other core instead of adding their own wall time. The vm stage runs as
# a child `scripts/test.sh --stage vm` in its own process group (its log:
# .cache/logs/vm-job.log, printed when it ends); STRATA_SERIAL=1 runs it after the others.
VM_JOB_PID=""
VM_JOB_LOG="${LOG_DIR}/vm-job.log"
parallel_vm() {
    [ "${STRATA_SERIAL:-0}" != 1 ] && [ -z "${STRATA_VM_JOB:-}" ] && selected vm \
        && { [ "${#SELECT[@]}" -gt 1 ] || [ "${SELECT[0]}" != vm ]; }
}

start_vm_job() {
    echo "[test] the vm stage runs in the background alongside the static stages (log: ${VM_JOB_LOG#"${STRATA_ROOT}"/})"
    # shellcheck disable=SC2016  # the inner script takes its values as arguments
    setsid env STRATA_VM_JOB=1 STRATA_SKIP_SETUP=1 STRATA_PREBUILD_VM=0 \
        bash -c 'cd "$1" && exec scripts/test.sh --stage vm' _ "$STRATA_ROOT" > "$VM_JOB_LOG" 2>&1 < /dev/null &
    VM_JOB_PID=$!
}

stop_vm_job() {
    if [ -n "$VM_JOB_PID" ] && kill -0 "$VM_JOB_PID" 2>/dev/null; then
        echo "[test] stopping the background vm stage (process group ${VM_JOB_PID})"
        kill -TERM -- "-${VM_JOB_PID}" 2>/dev/null
    fi
}

# Wait for the background vm stage, show its output, take its row into the table.
finish_vm_job() {
    local rc row
    [ -n "$VM_JOB_PID" ] || return 0
    printf '\n======== [vm] running in the background since the start; waiting (%s) ========\n' "$(date -u +%H:%M:%S)"
    wait "$VM_JOB_PID"
    rc=$?
    show < "$VM_JOB_LOG" | grep -v -E '^(STAGE|-{18}|TOTAL|setup|vm +(PASS|FAIL)) '
    row="$(strip_ansi "$VM_JOB_LOG" | grep -E '^vm +(PASS|FAIL) ' | tail -n 1)"
    if [ -z "$row" ]; then
        row="vm FAIL 0.0 0.0 no result from the background vm stage (rc ${rc})"
    fi
    read -r n st w c d <<< "$row"
    RESULTS+=("${n}|${st}|${w}|${c}|${d} (in the background)")
    if [ "$st" != PASS ] || [ "$rc" -ne 0 ]; then
        ANY_FAILED=1
    fi
}

T_START="$(now)"
times > "$CPU_FILE"; C_START="$(cpu)"
t0="$(now)"
if [ -n "${STRATA_SKIP_SETUP:-}" ]; then
    echo "[test] setup skipped (STRATA_SKIP_SETUP: the parent scripts/test.sh ran it)"
else
    echo "[test] scripts/setup.sh"
    if ! "${STRATA_ROOT}/scripts/setup.sh"; then
        echo "[test] FATAL: scripts/setup.sh failed" >&2
        exit 1
    fi
    times > "$CPU_FILE"
    RESULTS+=("setup|PASS|$(elapsed "$t0" "$(now)")|$(elapsed "$C_START" "$(cpu)")|venvs, collection trees")
fi

trap 'stop_vm_build; stop_vm_job; exit 130' INT TERM
selected vm && start_vm_build
parallel_vm && start_vm_job

run_stage changelog stage_changelog
run_stage doc-core219 stage_doc core219
run_stage doc-corelatest stage_doc corelatest
run_stage units-core219 stage_units core219
run_stage units-corelatest stage_units corelatest
run_stage lint stage_lint
run_stage antsibull-docs stage_antsibull_docs
run_stage galaxy-importer stage_galaxy_importer
run_stage install stage_install
run_stage sanity-core219 stage_sanity core219
run_stage sanity-corelatest stage_sanity corelatest
run_stage k8s stage_k8s
if [ -n "$VM_JOB_PID" ]; then
    if [ "$FAIL_FAST" -eq 1 ] && [ "$ANY_FAILED" -eq 1 ]; then
        stop_vm_job
    fi
    finish_vm_job
else
    run_stage vm stage_vm
fi

stop_vm_build

# wall = elapsed seconds; cpu = user+system seconds of the stage's processes (compare
# runs on busy machines by cpu)
printf '\n%-18s %-6s %8s %8s  %s\n' STAGE RESULT WALL_S CPU_S DETAIL
printf '%-18s %-6s %8s %8s  %s\n' ------------------ ------ -------- -------- ------------------------------
for r in "${RESULTS[@]}"; do
    IFS='|' read -r n s t c d <<< "$r"
    printf '%-18s %-6s %8s %8s  %s\n' "$n" "$s" "$t" "$c" "$d"
done
times > "$CPU_FILE"
printf '%-18s %-6s %8s %8s\n' TOTAL "$([ "$ANY_FAILED" -eq 0 ] && echo PASS || echo FAIL)" \
    "$(elapsed "$T_START" "$(now)")" "$(elapsed "$C_START" "$(cpu)")"
exit "$ANY_FAILED"
