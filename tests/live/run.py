"""Run the live suite (tests/live) inside the test VM with one SSH call.

    python3 tests/live/run.py                    # the LVM live checks (the `live` scenario)
    python3 tests/live/run.py test_md_live.py    # one technology's checks (its own scenario)
(the VM must be up: tests/vm/vm.py up)

Copies plugins/ and tests/live/ into the guest as an ansible_collections tree, then runs
the guest's pytest on it. The exit code is pytest's.
"""

import glob
import os
import shlex
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VM = [sys.executable, os.path.join(ROOT, "tests", "vm", "vm.py")]
GUEST = "/var/tmp/strata-live-tree"
PREFIX = "ansible_collections/strata/storage"


def pytest_args(argv):
    """The LVM live checks when no test file is named (the `live` scenario); each technology's
    scenario names its own file (`run.py test_md_live.py`), so nothing runs twice."""
    if not any(arg.endswith(".py") or "::" in arg for arg in argv):
        here = os.path.dirname(os.path.abspath(__file__))
        argv = sorted(os.path.basename(p) for p in glob.glob(os.path.join(here, "test_lvm_*.py"))) + list(argv)
    return argv


def main():
    with tempfile.TemporaryDirectory() as tmp:
        bundle = os.path.join(tmp, "live.tar")
        with tarfile.open(bundle, "w") as tar:
            for part in ("plugins", "tests/live"):
                tar.add(os.path.join(ROOT, part), arcname="%s/%s" % (PREFIX, part),
                        filter=lambda info: None if "__pycache__" in info.name else info)
        subprocess.run(VM + ["push", bundle, "/var/tmp/strata-live.tar"], check=True)
    remote = (
        "set -e; rm -rf {g}; mkdir -p {g}; tar -xf /var/tmp/strata-live.tar -C {g}; "
        "for d in ansible_collections ansible_collections/strata; do touch {g}/$d/__init__.py; done; "
        "cd {g}/{p}/tests/live; PYTHONPATH={g} python3 -m pytest -q -p no:cacheprovider -x {args}"
    ).format(g=GUEST, p=PREFIX, args=" ".join(shlex.quote(a) for a in pytest_args(sys.argv[1:])))
    return subprocess.run(VM + ["ssh", "--", remote], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
