#!/bin/sh
# Time tests/vm/bench/overhead.yml (10 trivial tasks) against the running test VM with
# three connection setups.  Needs ansible-core (and PyPI mitogen for the last one) on PATH;
# the VM must be up (tests/vm/vm.py up).  Usage: overhead.sh [RUNS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
inv=${STRATA_INVENTORY:-"$repo/inventories/lab"}
runs=${1:-2}
py=$(command -v python3)
export ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3

measure() {   # label, then extra ansible-playbook arguments / env via ENVS
    label=$1; shift
    i=0
    while [ "$i" -lt "$runs" ]; do
        t0=$(date +%s.%N)
        # shellcheck disable=SC2086  # ENVS holds several VAR=value words
        env $ENVS ansible-playbook -i "$inv" "$here/overhead.yml" "$@" \
            >/tmp/strata-overhead.log 2>&1 || { cat /tmp/strata-overhead.log; exit 1; }
        t1=$(date +%s.%N)
        echo "$label run $((i + 1)): $(echo "$t1 - $t0" | bc) s for 10 tasks"
        i=$((i + 1))
    done
}

# 0. ansible-playbook start-up alone (no host matches): subtract it from the rest
ENVS="" measure "startup (list-hosts)" --list-hosts
# Extra vars win over the lab inventory's own connection settings.
# 1. ansible defaults: no pipelining, ControlPersist=60s (ansible's default ssh_args)
ENVS="" measure "default            " -e ansible_ssh_pipelining=false \
    -e "ansible_ssh_args='-C -o ControlMaster=auto -o ControlPersist=60s'"
# 2. pipelining + a long ControlPersist (what inventories/lab and the molecule config use)
ENVS="" measure "pipelining+persist " -e ansible_ssh_pipelining=true \
    -e "ansible_ssh_args='-o ControlMaster=auto -o ControlPersist=1800s'"
# 3. mitogen strategy, if installed
mitogen=$($py -c 'import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__))' 2>/dev/null || true)
if [ -n "$mitogen" ]; then
    ENVS="ANSIBLE_STRATEGY_PLUGINS=$mitogen/plugins/strategy ANSIBLE_STRATEGY=mitogen_linear" \
        measure "mitogen_linear     "
else
    echo "mitogen: not installed (pip install mitogen)"
fi
