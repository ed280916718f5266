# -*- coding: utf-8 -*-
"""Run a play with ansible-playbook on this host (connection local), against the live tree of
the collection, and return what the ansible.posix.json callback reports."""
from __future__ import annotations

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_play(tmp_path, play_text, args=(), env_extra=None):
    """The play's first play's tasks, as the JSON callback gives them."""
    play = tmp_path / "play.yml"
    play.write_text(play_text)
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": "%s:%s" % (os.path.join(REPO, ".cache", "live"), os.path.join(REPO, ".cache", "deps")),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
    })
    env.update(env_extra or {})
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                           "-c", "local"] + list(args) + [str(play)], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, cwd=str(tmp_path), check=False)
    assert proc.stdout, proc.stderr.decode()
    return json.loads(proc.stdout.decode())["plays"][0]["tasks"]
