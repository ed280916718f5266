# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the k8s tests: the Kubernetes API server STAND-IN (not a cluster; see
apiserver_standin/README.md) and `ansible_run`, which runs a playbook against it.

Tests must not start servers themselves: use `standin` / `standin_tls`. One server per
session; its store and request log are emptied before every test.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import OrderedDict

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TESTS = os.path.dirname(HERE)
if TESTS not in sys.path:  # tests/ is no package (ansible-test); pytest imports this dir as `k8s`
    sys.path.insert(0, TESTS)

from k8s.apiserver_standin import StandinServer  # noqa: E402

TOKEN = "standin-test-token"
BASIC = ("strata-user", "standin-test-password")


class Standin(object):
    """What tests get: a running stand-in with an empty store."""

    def __init__(self, server, kubeconfig):
        self.server = server
        self.store = server.store
        self.url = server.url
        self.token = server.token
        self.kubeconfig = kubeconfig
        self.ca_cert = server.ca_cert
        self.client_cert, self.client_key = server.client_cert, server.client_key
        self.basic = server.basic

    def seed(self, objects, validate=False):
        """Store full objects (apiVersion/kind/metadata.name, status kept); missing namespaces
        are created. validate=True also runs the Go-style validation (not the schema pass)."""
        return self.store.seed(objects, validate=validate)

    def requests(self):
        """[{method, path, query}] of API requests since the last reset (query without `continue`)."""
        return self.store.requests()

    def reset_requests(self):
        self.store.reset_requests()

    def get(self, api_version, kind, name, namespace=None):
        return self.store.get_object(api_version, kind, name, namespace)

    def list(self, api_version, kind, namespace=None):
        return self.store.list_objects(api_version, kind, namespace)

    def delete(self, api_version, kind, name, namespace=None):
        """Delete as an API client would (finalizers honoured; a namespace starts Terminating)."""
        from k8s.apiserver_standin.resources import lookup_kind
        return self.store.delete(lookup_kind(api_version, kind), namespace, name)

    def snapshot(self):
        """{(apiVersion/kind, namespace, name): (uid, resourceVersion, deletionTimestamp)} of every
        object in the store: equal before and after means nothing was written."""
        out = {}
        for kind, objects in self.store.dump().items():
            for obj in objects:
                meta = obj["metadata"]
                out[(kind, meta.get("namespace"), meta["name"])] = (
                    meta["uid"], meta["resourceVersion"], meta.get("deletionTimestamp"))
        return out

    def writes(self):
        """The non-GET requests since the last reset."""
        return [r for r in self.requests() if r["method"] != "GET"]

    def api_client(self):
        """A kubernetes.client.ApiClient for this stand-in (from its kubeconfig)."""
        from kubernetes import client, config
        configuration = client.Configuration()
        config.load_kube_config(config_file=self.kubeconfig, context="standin", client_configuration=configuration)
        return client.ApiClient(configuration)


def _start(tmp_factory, tls):
    server = StandinServer(token=TOKEN, tls=tls, basic=BASIC).start()
    path = os.path.join(str(tmp_factory.mktemp("standin-tls" if tls else "standin")), "kubeconfig")
    server.write_kubeconfig(path)
    return server, path


@pytest.fixture(scope="session")
def _standin_session(tmp_path_factory):
    server, path = _start(tmp_path_factory, tls=False)
    yield server, path
    server.stop()


@pytest.fixture(scope="session")
def _standin_tls_session(tmp_path_factory):
    server, path = _start(tmp_path_factory, tls=True)
    yield server, path
    server.stop()


@pytest.fixture
def standin(_standin_session):
    server, path = _standin_session
    server.store.reset()
    return Standin(server, path)


@pytest.fixture
def standin_tls(_standin_tls_session):
    server, path = _standin_tls_session
    server.store.reset()
    return Standin(server, path)


# ---------------------------------------------------------------------------------------------
# ansible_run


class PlaybookResult(object):
    def __init__(self, proc, records):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.records = records  # every result in order: {task, host, status, result}
        self.tasks = OrderedDict()  # task name -> [result, ...] (one per host/loop run)
        for record in records:
            self.tasks.setdefault(record["task"], []).append(record["result"])

    def result(self, task_name):
        """The (last) result of the task with this name."""
        if task_name not in self.tasks:
            raise KeyError("no task %r ran; tasks: %s\n--- stdout ---\n%s\n--- stderr ---\n%s"
                           % (task_name, list(self.tasks), self.stdout[-4000:], self.stderr[-4000:]))
        return self.tasks[task_name][-1]

    def changed_tasks(self):
        return [name for name, results in self.tasks.items() if any(r.get("changed") for r in results)]

    def __repr__(self):
        return "PlaybookResult(rc=%s, tasks=%s)" % (self.rc, list(self.tasks))


@pytest.fixture
def ansible_run(tmp_path):
    """ansible_run(playbook_path_or_text, extravars=None, check=False, diff=False, env=None)."""
    bindir = os.path.dirname(sys.executable)
    playbook_cmd = os.path.join(bindir, "ansible-playbook")
    if not os.path.exists(playbook_cmd):
        pytest.skip("ansible-playbook not found next to %s" % sys.executable)
    counter = [0]

    def run(playbook, extravars=None, check=False, diff=False, env=None):
        counter[0] += 1
        work = tmp_path / ("run%d" % counter[0])
        work.mkdir()
        if "\n" in playbook or not os.path.exists(playbook):
            path = work / "playbook.yml"
            path.write_text(playbook)
            playbook = str(path)
        inventory = work / "inventory.ini"
        inventory.write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        results = work / "results.jsonl"
        cmd = [playbook_cmd, "-i", str(inventory), playbook]
        if extravars:
            varsfile = work / "extravars.json"
            varsfile.write_text(json.dumps(extravars))
            cmd += ["-e", "@%s" % varsfile]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        environ = dict((k, v) for k, v in os.environ.items()
                       if k != "KUBECONFIG" and not k.startswith("K8S_AUTH_"))
        environ.update({
            "ANSIBLE_COLLECTIONS_PATH": "%s:%s" % (os.path.join(REPO, ".cache", "live"),
                                                   os.path.join(REPO, ".cache", "deps")),
            "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "strata_jsonl",
            "STRATA_RESULTS_FILE": str(results),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
            "ANSIBLE_HOST_KEY_CHECKING": "0",
            "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
        })
        environ.update(env or {})
        proc = subprocess.run(cmd, cwd=str(work), env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, check=False)
        records = []
        if results.exists():
            with open(str(results)) as handle:
                records = [json.loads(line) for line in handle if line.strip()]
        return PlaybookResult(proc, records)

    return run
