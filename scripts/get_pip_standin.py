"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test (``--venv``) bootstraps pip into each new virtual environment by running
``~/.ansible/test/cache/get_pip_<version>.py`` with the packages to install as arguments
(``pip==X setuptools==Y ...``) and downloads that script from ci-files.testing.ansible.com
the first time. That host is not reachable here, so scripts/setup.sh copies this file to
both names ansible-test looks for (get_pip_24_2.py for ansible-core 2.19, get_pip_25_2.py
for 2.20/2.21). It does what get-pip.py does, with the pip bundled in the interpreter:
``python -m ensurepip`` and then ``pip install`` with the given arguments, minus the
get-pip-only options ``--no-setuptools`` / ``--no-wheel``.
"""

import subprocess
import sys

GET_PIP_ONLY = {'--no-setuptools', '--no-wheel'}


def main():
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'],
                          stdout=subprocess.DEVNULL)
    if args:
        subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args)


if __name__ == '__main__':
    try:
        main()
    except subprocess.CalledProcessError as ex:
        sys.exit(ex.returncode or 1)
