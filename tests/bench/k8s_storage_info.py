# -*- coding: utf-8 -*-
"""Benchmark (not a test): what k8s_storage_info costs on a large cluster.

Starts the API stand-in (tests/k8s/apiserver_standin, NOT a real API server), seeds
--namespaces x --pairs PVs and as many PVCs (5,000 each by default, 200 namespaces), plus 2 pods
and 1 PVC event per namespace, then measures:
  1. listing: the module's read_cluster() (every list call, pagination followed);
  2. the report: k8s_report.build_report() over those objects;
  3. the whole module through ansible-playbook (module start, listing, report, result transfer);
and prints wall times and the API calls per kind, counted by the stand-in.

  cd /work/main && .cache/venv/core219/bin/python tests/bench/k8s_storage_info.py [--page-size 500]
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "k8s"))
sys.path.insert(0, os.path.join(REPO, ".cache", "live"))

import storage_seed  # noqa: E402  pylint: disable=wrong-import-position
from apiserver_standin import StandinServer  # noqa: E402  pylint: disable=wrong-import-position


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--pairs", type=int, default=25, help="PV/PVC pairs per namespace")
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args()

    from ansible_collections.strata.storage.plugins.module_utils.k8s import report as k8s_report
    from ansible_collections.strata.storage.plugins.modules import k8s_storage_info

    server = StandinServer(token="bench").start()
    work = tempfile.mkdtemp(prefix="strata-k8s-bench.")
    kubeconfig = os.path.join(work, "kubeconfig")
    server.write_kubeconfig(kubeconfig)
    try:
        objects = storage_seed.scale_cluster(namespaces=args.namespaces, pairs_per_namespace=args.pairs)
        started = time.time()
        server.store.seed(objects)
        print("seeded %d objects in %.2fs" % (len(objects), time.time() - started))

        from kubernetes import client, config
        configuration = client.Configuration()
        config.load_kube_config(config_file=kubeconfig, context="standin", client_configuration=configuration)
        server.store.reset_requests()
        started = time.time()
        listed, calls = k8s_storage_info.read_cluster(client.ApiClient(configuration), None, args.page_size)
        listing = time.time() - started
        started = time.time()
        report = k8s_report.build_report(listed["persistentvolumes"], listed["persistentvolumeclaims"],
                                         listed["storageclasses"], listed["pods"], listed["events"],
                                         datetime.datetime.now(datetime.timezone.utc), stale_days=30)
        building = time.time() - started
        print("listing (read_cluster): %.2fs, %d calls %s" % (listing, sum(calls.values()), json.dumps(calls, sort_keys=True)))
        print("report (build_report):  %.2fs, %d bytes of JSON" % (building, len(json.dumps(report))))

        playbook = os.path.join(work, "bench.yml")
        with open(playbook, "w") as handle:
            handle.write("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                         "    - strata.storage.k8s_storage_info:\n        kubeconfig: %s\n        page_size: %d\n"
                         "        stale_days: 30\n" % (kubeconfig, args.page_size))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".cache", "live"))
        server.store.reset_requests()
        started = time.time()
        proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                               "-c", "local", "-e", "ansible_python_interpreter=%s" % sys.executable, playbook],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
        whole = time.time() - started
        if proc.returncode != 0:
            print(proc.stdout[-3000:], proc.stderr[-3000:])
            return 1
        per_kind = {}
        for req in server.store.requests():
            per_kind[req["path"]] = per_kind.get(req["path"], 0) + 1
        print("ansible-playbook, whole module: %.2fs, %d calls %s" % (whole, sum(per_kind.values()), json.dumps(per_kind, sort_keys=True)))
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
