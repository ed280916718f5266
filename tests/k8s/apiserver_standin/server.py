# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP front of the Kubernetes API server stand-in: routing, discovery, auth, TLS.

This is NOT a cluster: no controllers (but one, see README), no watch, no admission webhooks,
no server-side apply. It serves the API paths our k8s_* modules call, with the semantics they
depend on, so their tests run without a kube-apiserver.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import validation
from .resources import BY_PATH, RESOURCES, group_versions
from .store import ApiError, Store, bad_request, not_found

KUBE_VERSION = validation.schema_version().lstrip("v")


def _status_body(code, reason, message):
    return ApiError(code, reason, message).status()


class StandinServer(object):
    """A running stand-in: `.url`, `.token`, `.store`; `start()`/`stop()`; `write_kubeconfig()`."""

    def __init__(self, token=None, tls=False, host="127.0.0.1", port=0):
        self.token = token
        self.tls = tls
        self.store = Store()
        self.ca_cert = None
        self._tmp = None
        self._thread = None
        handler = type("Handler", (_Handler,), {"standin": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        if tls:
            import ssl
            self._tmp = tempfile.mkdtemp(prefix="k8s-standin-tls-")
            cert, key, self.ca_cert = make_tls_files(self._tmp, host)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.host = host
        self.port = self.httpd.server_address[1]
        self.url = "%s://%s:%d" % ("https" if tls else "http", host, self.port)

    def start(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="k8s-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def kubeconfig_dict(self):
        cluster = {"server": self.url}
        if self.ca_cert:
            cluster["certificate-authority"] = self.ca_cert
        user = {"token": self.token} if self.token else {}
        return {
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": "standin", "cluster": cluster}],
            "users": [{"name": "standin", "user": user}],
            "contexts": [{"name": "standin", "context": {"cluster": "standin", "user": "standin",
                                                         "namespace": "default"}}],
            "current-context": "standin",
        }

    def write_kubeconfig(self, path):
        """JSON is YAML: clients (and kubectl) read this file as a kubeconfig."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(self.kubeconfig_dict(), handle, indent=2)
        return path


def make_tls_files(directory, host="127.0.0.1"):
    """A throw-away CA and a server certificate for host/localhost, made with the openssl CLI."""
    ca_key, ca_cert = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.crt")
    key, csr, cert = (os.path.join(directory, n) for n in ("server.key", "server.csr", "server.crt"))
    ext = os.path.join(directory, "server.ext")
    with open(ext, "w") as handle:
        handle.write("subjectAltName=IP:%s,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                     "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
                     "authorityKeyIdentifier=keyid,issuer\nsubjectKeyIdentifier=hash\n" % host)

    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_cert, "-days", "2",
        "-subj", "/CN=k8s-standin-ca", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=k8s-standin")
    run("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
        "-days", "2", "-extfile", ext)
    return cert, key, ca_cert


def _discovery_core():
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1",
            "resources": [r.discovery() for r in RESOURCES if not r.group]}


def _discovery_group(group, version):
    resources = [r.discovery() for r in RESOURCES if r.group == group and r.version == version]
    if not resources:
        return None
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "%s/%s" % (group, version),
            "resources": resources}


def _discovery_groups():
    groups = []
    for name, versions in sorted(group_versions().items()):
        entries = [{"groupVersion": "%s/%s" % (name, v), "version": v} for v in versions]
        groups.append({"name": name, "versions": entries, "preferredVersion": entries[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _version_doc():
    major, minor = KUBE_VERSION.split(".")[:2]
    return {"major": major, "minor": minor, "gitVersion": "v%s-standin" % KUBE_VERSION, "gitCommit": "standin",
            "gitTreeState": "clean", "buildDate": "1970-01-01T00:00:00Z", "goVersion": "none",
            "compiler": "none", "platform": "linux/amd64"}


def route(path):
    """(resource, namespace, name, subresource) for an API path, or None."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        res = BY_PATH.get((group, version, rest[2]))
        if res is not None and res.namespaced:
            namespace, rest = rest[1], rest[2:]
    if not rest:
        return None
    res = BY_PATH.get((group, version, rest[0]))
    if res is None or len(rest) > 3:
        return None
    if res.namespaced and namespace is None and len(rest) > 1:
        return None
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    return res, namespace, name, sub


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    standin = None  # set per server by StandinServer
    server_version = "k8s-apiserver-standin"

    def log_message(self, fmt, *args):  # keep test output clean
        pass

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_PUT(self):
        self._serve("PUT")

    def do_PATCH(self):
        self._serve("PATCH")

    def do_DELETE(self):
        self._serve("DELETE")

    def _send(self, code, body, headers=None):
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        for key, value in (headers or {}).items():
            if isinstance(value, list):
                for item in value:
                    self.send_header(key, item)
            else:
                self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _serve(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        query = dict((k, v[-1]) for k, v in parse_qs(split.query, keep_blank_values=True).items())
        standin = self.standin
        token = standin.token
        if token and self.headers.get("Authorization") != "Bearer %s" % token:
            if not path.startswith("/_standin"):
                standin.store.record(method, path, query)
            return self._send(401, _status_body(401, "Unauthorized", "Unauthorized"))
        if path.startswith("/_standin"):
            return self._serve_standin(method, path)
        standin.store.record(method, path, query)
        headers = {}
        try:
            code, body = self._dispatch(method, path, query, raw, headers)
        except ApiError as exc:
            code, body = exc.code, exc.status()
            headers.update(exc.headers)
        except Exception as exc:  # a stand-in bug: say so rather than hang the client
            code, body = 500, _status_body(500, "InternalError", "k8s stand-in internal error: %r" % (exc,))
        self._send(code, body, headers)

    def _serve_standin(self, method, path):
        store = self.standin.store
        if path == "/_standin/requests" and method == "GET":
            return self._send(200, store.requests())
        if path == "/_standin/requests" and method == "DELETE":
            store.reset_requests()
            return self._send(200, [])
        if path == "/_standin/objects" and method == "GET":
            return self._send(200, store.dump())
        if path == "/_standin/objects" and method == "DELETE":
            store.reset()
            return self._send(200, {})
        return self._send(404, _status_body(404, "NotFound", "the stand-in has no %s %s" % (method, path)))

    def _dispatch(self, method, path, query, raw, headers):
        if method == "GET":
            if path == "/version":
                return 200, _version_doc()
            if path == "/api":
                return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": "%s:%d" % (self.standin.host, self.standin.port)}]}
            if path == "/api/v1":
                return 200, _discovery_core()
            if path == "/apis":
                return 200, _discovery_groups()
            parts = path.split("/")
            if len(parts) == 4 and parts[1] == "apis":
                doc = _discovery_group(parts[2], parts[3])
                if doc is not None:
                    return 200, doc
        target = route(path)
        if target is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        resource, namespace, name, sub = target
        if sub is not None and (sub != "status" or not resource.status):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        store = self.standin.store
        dry = query.get("dryRun")
        if dry is not None and dry != "All":
            raise bad_request('dryRun: Unsupported value: "%s": supported values: "All"' % dry)
        dry_run = dry == "All"
        field_validation = query.get("fieldValidation") or "Warn"
        if field_validation not in ("Ignore", "Warn", "Strict"):
            raise bad_request("fieldValidation: Unsupported value: \"%s\": supported values: \"Ignore\", \"Strict\", "
                              "\"Warn\"" % field_validation)
        if query.get("watch") in ("true", "1"):
            raise ApiError(405, "MethodNotAllowed", "watch is not supported by the k8s API stand-in")
        warnings = []
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise bad_request("the body of the request was not valid JSON: %s" % exc)

        def done(code, obj):
            if warnings:
                headers["Warning"] = ['299 - "%s"' % w.replace('"', '\\"') for w in warnings]
            return code, obj

        if name is None:
            if method == "GET":
                return done(200, store.list(resource, namespace, query.get("labelSelector"),
                                            query.get("fieldSelector"), query.get("limit"), query.get("continue")))
            if method == "POST" and (namespace is not None or not resource.namespaced):
                return done(201, store.create(resource, namespace, body, dry_run, field_validation, warnings))
            if method == "DELETE" and (namespace is not None or not resource.namespaced):
                return done(200, store.delete_collection(resource, namespace, query.get("labelSelector"),
                                                         query.get("fieldSelector"), dry_run))
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        if method == "GET":
            obj = store.current(resource, namespace, name)
            if obj is None:
                raise not_found(resource, name)
            return done(200, obj)
        if method == "PUT":
            return done(200, store.replace(resource, namespace, name, body, dry_run, field_validation, warnings, sub))
        if method == "PATCH":
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            return done(200, store.patch(resource, namespace, name, body, ctype, dry_run, field_validation,
                                         warnings, sub))
        if method == "DELETE" and sub is None:
            options = body if isinstance(body, dict) else {}
            if query.get("propagationPolicy"):
                options = dict(options, propagationPolicy=query["propagationPolicy"])
            if options.get("dryRun"):
                if options["dryRun"] != ["All"]:
                    raise bad_request('dryRun: Unsupported value: %s: supported values: "All"' % json.dumps(options["dryRun"]))
                dry_run = True
            return done(200, store.delete(resource, namespace, name, options, dry_run))
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
