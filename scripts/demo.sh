#!/usr/bin/env bash
# The demo: boot the test VM (no real hardware needed) and build the lab's storage layout
# on it with the site playbook, then show what was built.
#
#   scripts/demo.sh            boot (or reuse) the VM, run playbooks/site.yml, summarize
#   scripts/demo.sh --down     the same, then stop the VM
#
# Extra arguments after `--` go to ansible-playbook (e.g. `-- --check --diff`).
# STRATA_ANSIBLE_STRATEGY=linear turns the mitogen strategy off (see docs/vm.md).
set -euo pipefail

# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

DOWN=0
PLAYBOOK_ARGS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --down) DOWN=1 ;;
        --) shift; PLAYBOOK_ARGS=("$@"); break ;;
        -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "demo.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

step() { printf '\n==== %s\n' "$*"; }
T0=$SECONDS

step "setup (venvs, collection path)"
"${STRATA_ROOT}/scripts/setup.sh"
strata_activate "$STRATA_TOOLS_VENV"
cd "$STRATA_ROOT"
PY="$(strata_venv "$STRATA_TOOLS_VENV")/bin/python"

step "boot the test VM (builds the image the first time, ~10 min; then ~2 min)"
"$PY" tests/vm/vm.py up

# the same Ansible settings the VM suite uses (extensions/molecule/config.yml)
export ANSIBLE_HOST_KEY_CHECKING=False
if [ "${STRATA_ANSIBLE_STRATEGY:-mitogen_linear}" = mitogen_linear ] \
        && [ -d tests/vm/ansible_plugins/strategy ]; then
    export ANSIBLE_STRATEGY_PLUGINS="${STRATA_ROOT}/tests/vm/ansible_plugins/strategy"
    export ANSIBLE_STRATEGY=mitogen_linear
fi

step "ansible-playbook -i inventories/lab playbooks/site.yml ${PLAYBOOK_ARGS[*]}"
T1=$SECONDS
ansible-playbook -i inventories/lab playbooks/site.yml "${PLAYBOOK_ARGS[@]}"
PLAY_S=$((SECONDS - T1))

step "what was built (as the guest's own tools see it)"
# one SSH round trip (ssh hands the string to the guest's shell); every probe is optional
"$PY" tests/vm/vm.py ssh -- '
    show() { echo "--- $*"; "$@" 2>/dev/null || echo "(none)"; }
    show lsblk -o NAME,SIZE,TYPE,FSTYPE,MOUNTPOINTS
    show cat /proc/mdstat
    show lvs -o vg_name,lv_name,lv_attr,lv_size,pool_lv,data_percent,metadata_percent
    command -v zpool >/dev/null && show zfs list -o name,used,avail,mountpoint
    command -v exportfs >/dev/null && show exportfs -v
    command -v targetcli >/dev/null && show targetcli ls /iscsi
    [ -d /sys/kernel/config/nvmet/subsystems ] && show ls /sys/kernel/config/nvmet/subsystems
    show findmnt -t ext4,xfs,zfs -o TARGET,SOURCE,FSTYPE,SIZE
'

if [ "$DOWN" -eq 1 ]; then
    step "stop the VM"
    "$PY" tests/vm/vm.py down
fi

step "done in $((SECONDS - T0)) s (site playbook ${PLAY_S} s); the VM is $([ "$DOWN" -eq 1 ] && echo stopped || echo 'still up: python3 tests/vm/vm.py ssh -- CMD, or tests/vm/vm.py down')"
