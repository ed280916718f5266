#!/usr/bin/env bash
# Benchmark (not a test): what reading LVM state costs, one `lvm fullreport` call vs the
# per-object calls a module that loops would make. Runs INSIDE the test VM:
#   python3 tests/vm/vm.py ssh -- bash -s -- 50 < tests/bench/lvm_state_read.sh
# $1 = number of thin volumes (default 50). Uses throwaway loop devices, cleans up.
set -euo pipefail
exec 3>&1 1>&2
N=${1:-50}
export LVM_SUPPRESS_FD_WARNINGS=1
work=$(mktemp -d /tmp/strata-bench.XXXXXX)
truncate -s 2G "$work/d.img"
L=$(losetup --find --show "$work/d.img")
trap 'vgremove -qq -ff -y benchvg >/dev/null 2>&1; losetup -d "$L"; rm -rf "$work"' EXIT
vgcreate -qq benchvg "$L" >/dev/null
lvcreate -qq --yes --type thin-pool --size 1G --name pool benchvg >/dev/null
for i in $(seq 1 "$N"); do
  lvcreate -qq --yes --type thin --virtualsize 64M --thinpool pool --name "t$i" benchvg >/dev/null 2>&1
done
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
runs=5
one=0; three=0; per=0
for _ in $(seq $runs); do
  one=$(( one + $(ms lvm fullreport --all --reportformat json --units b --nosuffix --binary) ))
  three=$(( three + $(ms vgs --reportformat json) + $(ms pvs --reportformat json) + $(ms lvs -a --reportformat json) ))
  s=$(date +%s%N)
  for i in $(seq 1 "$N"); do lvs --reportformat json "benchvg/t$i" >/dev/null 2>&1; done
  e=$(date +%s%N); per=$(( per + (e - s) / 1000000 ))
done
{
echo "LVM state read, $N thin volumes, mean of $runs runs:"
echo "  lvm fullreport (1 call, what our modules run):  $(( one / runs )) ms"
echo "  vgs + pvs + lvs (3 calls, the fallback):         $(( three / runs )) ms"
echo "  lvs per volume ($N calls, a per-object loop):    $(( per / runs )) ms"
} >&3
