# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the Kubernetes API server STAND-IN (not a cluster) until interrupted.

    python -m tests.k8s.apiserver_standin --port 0 --token T --kubeconfig-out PATH [--seed FILE] [--tls]
    python tests/k8s/apiserver_standin/__main__.py ...      (same, without -m)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

if __package__ in (None, ""):  # run as a file: make `k8s.apiserver_standin` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from k8s.apiserver_standin.server import StandinServer
else:
    from .server import StandinServer


def load_seed(path):
    """Objects from a JSON file (a list, a List kind with items, or one object) or a YAML file
    (one or more documents; needs PyYAML)."""
    with open(path) as handle:
        text = handle.read()
    try:
        data = json.loads(text)
        docs = data if isinstance(data, list) else [data]
    except ValueError:
        import yaml
        docs = [d for d in yaml.safe_load_all(text) if d]
    objects = []
    for doc in docs:
        if isinstance(doc, list):
            objects.extend(doc)
        elif isinstance(doc, dict) and doc.get("kind", "").endswith("List") and "items" in doc:
            objects.extend(doc["items"])
        else:
            objects.append(doc)
    return objects


def main(argv=None):
    parser = argparse.ArgumentParser(prog="k8s-apiserver-standin",
                                     description="Kubernetes API server stand-in for tests (not a cluster).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", help="require Authorization: Bearer TOKEN on every request")
    parser.add_argument("--kubeconfig-out", help="write a kubeconfig (context `standin`) here")
    parser.add_argument("--seed", action="append", default=[], help="JSON/YAML file of objects to load first")
    parser.add_argument("--validate-seed", action="store_true", help="run the Go-style checks on seeded objects")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a throw-away CA (path printed)")
    args = parser.parse_args(argv)

    server = StandinServer(token=args.token, tls=args.tls, host=args.host, port=args.port)
    for path in args.seed:
        server.store.seed(load_seed(path), validate=args.validate_seed)
    server.store.reset_requests()
    if args.kubeconfig_out:
        server.write_kubeconfig(args.kubeconfig_out)
    server.start()
    print(server.url, flush=True)
    if server.ca_cert:
        print("ca_cert: %s" % server.ca_cert, flush=True)
    if args.kubeconfig_out:
        print("kubeconfig: %s" % args.kubeconfig_out, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
