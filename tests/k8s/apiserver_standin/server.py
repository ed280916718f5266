# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP front of the Kubernetes API server stand-in: routing, discovery, auth, TLS.

This is NOT a cluster: no controllers (but one, see README), no watch, no admission webhooks,
no server-side apply. It serves the API paths our k8s_* modules call, with the semantics they
depend on, so their tests run without a kube-apiserver.
"""

from __future__ import annotations

import base64
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
from .store import ApiError, Store, bad_request, invalid_options, not_found

KUBE_VERSION = validation.schema_version().lstrip("v")


def _status_body(code, reason, message):
    return ApiError(code, reason, message).status()


class NotServed(Exception):
    """No handler serves the path (answered with the plain-text 404 of a real server)."""


class StandinServer(object):
    """A running stand-in: `.url`, `.token`, `.store`; `start()`/`stop()`; `write_kubeconfig()`.

    token: the bearer token every request needs; basic: (user, password) also accepted as
    HTTP basic authentication (a real kube-apiserver dropped basic auth in 1.19; some
    authenticating proxies in front of one still take it)."""

    def __init__(self, token=None, tls=False, host="127.0.0.1", port=0, basic=None):
        self.token = token
        self.basic = tuple(basic) if basic else None
        self.tls = tls
        self.store = Store()
        self.ca_cert = None
        self.client_cert = self.client_key = None
        self._tmp = None
        self._thread = None
        handler = type("Handler", (_Handler,), {"standin": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        if tls:
            import ssl
            self._tmp = tempfile.mkdtemp(prefix="k8s-standin-tls-")
            cert, key, self.ca_cert = make_tls_files(self._tmp, host)
            self.client_cert, self.client_key = make_client_cert(self._tmp, "strata-client")
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            # client certificates are asked for but optional; the request log names the
            # certificate's CN (no authentication by certificate is modelled)
            context.verify_mode = ssl.CERT_OPTIONAL
            context.load_verify_locations(self.ca_cert)
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


def make_client_cert(directory, cn):
    """A client certificate and key signed by the throw-away CA of make_tls_files."""
    ca_key, ca_cert = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.crt")
    key, csr, cert = (os.path.join(directory, "%s.%s" % (cn, n)) for n in ("key", "csr", "crt"))
    ext = os.path.join(directory, "client.ext")
    with open(ext, "w") as handle:
        handle.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                     "extendedKeyUsage=clientAuth\n")
    for args in (["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=%s" % cn],
                 ["x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
                  "-days", "2", "-extfile", ext]):
        subprocess.run(["openssl"] + args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return cert, key


def _discovery_core(unserved=()):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1",
            "resources": [r.discovery() for r in RESOURCES if not r.group and r.qualified not in unserved]}


def _discovery_group(group, version, unserved=()):
    resources = [r.discovery() for r in RESOURCES if r.group == group and r.version == version
                 and r.qualified not in unserved]
    if not resources:
        return None
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "%s/%s" % (group, version),
            "resources": resources}


def _discovery_groups(unserved=()):
    groups = []
    served = set(r.group for r in RESOURCES if r.group and r.qualified not in unserved)
    for name, versions in sorted(group_versions().items()):
        if name not in served:
            continue
        entries = [{"groupVersion": "%s/%s" % (name, v), "version": v} for v in versions]
        groups.append({"name": name, "versions": entries, "preferredVersion": entries[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _version_doc():
    major, minor = KUBE_VERSION.split(".")[:2]
    return {"major": major, "minor": minor, "gitVersion": "v%s-standin" % KUBE_VERSION, "gitCommit": "standin",
            "gitTreeState": "clean", "buildDate": "1970-01-01T00:00:00Z", "goVersion": "none",
            "compiler": "none", "platform": "linux/amd64"}


# Headers the request log keeps (tests look at impersonation, proxies and the auth scheme).
LOGGED_HEADERS = ("Impersonate-User", "User-Agent", "Via")

DELETE_OPTION_KEYS = ("dryRun", "preconditions", "propagationPolicy", "gracePeriodSeconds", "orphanDependents")


def _dry_run_errors(values):
    """apimachinery pkg/apis/meta/v1/validation ValidateDryRun: only "All" is allowed."""
    if any(v != "All" for v in values):
        return [validation.FieldError("NotSupported", "dryRun", value=list(values), supported=["All"])]
    return []


def write_options(method, qs):
    """CreateOptions/UpdateOptions/PatchOptions: the create, update and patch handlers
    (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/create.go, update.go, patch.go) decode
    them from the URL query only (the body is the object) and validate them
    (ValidateCreateOptions...: 422 on a bad dryRun or fieldValidation value)."""
    kind = {"POST": "CreateOptions", "PUT": "UpdateOptions", "PATCH": "PatchOptions"}[method]
    options = {"dryRun": list(qs.get("dryRun") or []),
               "fieldManager": (qs.get("fieldManager") or [""])[-1],
               "fieldValidation": (qs.get("fieldValidation") or [""])[-1]}
    errs = _dry_run_errors(options["dryRun"])
    if len(options["fieldManager"]) > 128:
        errs.append(validation.FieldError("TooLong", "fieldManager", "may not be more than 128 bytes"))
    if options["fieldValidation"] not in ("", "Ignore", "Warn", "Strict"):
        errs.append(validation.FieldError("NotSupported", "fieldValidation", value=options["fieldValidation"],
                                          supported=["", "Ignore", "Strict", "Warn"]))
    if errs:
        raise invalid_options(kind, errs)
    # rest.go fieldValidation(): Warn when the parameter is absent
    options["fieldValidation"] = options["fieldValidation"] or "Warn"
    return options


def delete_options(raw, qs):
    """DeleteOptions as DeleteResource reads them (staging/src/k8s.io/apiserver/pkg/endpoints/
    handlers/delete.go): decoded from the body whenever the request has one, and then the URL
    query is NOT read at all; from the query only when the body is empty. So a DELETE with a
    body of preconditions and dryRun only in the query is a real delete. Validated by
    ValidateDeleteOptions (422). `_source` says where they came from."""
    if raw:
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise bad_request("couldn't get version/kind; json parse error: %s" % exc)
        if not isinstance(body, dict) or body.get("kind") not in (None, "DeleteOptions"):
            raise bad_request("decoded object cannot be converted to DeleteOptions")
        dry = body.get("dryRun")
        if dry is not None and (not isinstance(dry, list) or not all(isinstance(v, str) for v in dry)):
            raise bad_request("json: cannot unmarshal %s into Go struct field DeleteOptions.dryRun of type []string"
                              % validation._json_type(dry))
        options = dict((k, body[k]) for k in DELETE_OPTION_KEYS if body.get(k) is not None)
        options["_source"] = "body"
    else:
        options = {"_source": "query"}
        if qs.get("dryRun"):
            options["dryRun"] = list(qs["dryRun"])
        if qs.get("propagationPolicy"):
            options["propagationPolicy"] = qs["propagationPolicy"][-1]
        if qs.get("gracePeriodSeconds"):
            options["gracePeriodSeconds"] = qs["gracePeriodSeconds"][-1]
        if qs.get("orphanDependents"):
            options["orphanDependents"] = qs["orphanDependents"][-1] in ("true", "1")
    errs = _dry_run_errors(options.get("dryRun") or [])
    policy = options.get("propagationPolicy")
    if policy is not None and policy not in ("Foreground", "Background", "Orphan"):
        errs.append(validation.FieldError("NotSupported", "propagationPolicy", value=policy,
                                          supported=["Foreground", "Background", "Orphan", "nil"]))
    if policy is not None and options.get("orphanDependents") is not None:
        errs.append(validation.FieldError("Invalid", "propagationPolicy", "orphanDependents and deletionPropagation "
                                          "cannot be both set", policy))
    if errs:
        raise invalid_options("DeleteOptions", errs)
    return options


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

    def _send_not_found(self):
        """What a real server answers for a path nothing serves (an API group whose CRD is not
        installed): staging/src/k8s.io/apiserver/pkg/util/notfoundhandler/not_found_handler.go
        calls http.NotFound, a text/plain "404 page not found", not a Status."""
        data = b"404 page not found\n"
        self.send_response(404)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

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

    def _logged_headers(self):
        out = dict((name.lower(), self.headers.get(name)) for name in LOGGED_HEADERS if self.headers.get(name))
        groups = self.headers.get_all("Impersonate-Group") or []
        if groups:
            out["impersonate-group"] = list(groups)
        auth = self.headers.get("Authorization") or ""
        out["authorization"] = auth.split(" ", 1)[0] if auth else None
        peer = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
        if peer:
            out["client-cert"] = dict(item[0] for item in peer.get("subject", ())).get("commonName")
        return out

    def _authorized(self):
        standin = self.standin
        auth = self.headers.get("Authorization") or ""
        if standin.token and auth == "Bearer %s" % standin.token:
            return True
        if standin.basic and auth.startswith("Basic "):
            try:
                return base64.b64decode(auth[6:]).decode() == "%s:%s" % standin.basic
            except (ValueError, UnicodeDecodeError):
                return False
        return not standin.token and not standin.basic

    def _serve(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        qs = parse_qs(split.query, keep_blank_values=True)
        query = dict((k, v[-1]) for k, v in qs.items())
        standin = self.standin
        try:
            logged_body = json.loads(raw) if raw else None
        except ValueError:
            logged_body = raw.decode("utf-8", "replace")
        if not self._authorized():
            if not path.startswith("/_standin"):
                standin.store.record(method, path, query, logged_body, self._logged_headers())
            return self._send(401, _status_body(401, "Unauthorized", "Unauthorized"))
        if path.startswith("/_standin"):
            return self._serve_standin(method, path)
        standin.store.record(method, path, query, logged_body, self._logged_headers())
        standin.store.run_hooks(method, path, query)
        headers = {}
        try:
            code, body = self._dispatch(method, path, qs, raw, headers)
        except NotServed:
            return self._send_not_found()
        except ApiError as exc:
            code, body = exc.code, exc.status()
            headers.update(exc.headers)
        except Exception as exc:  # a stand-in bug: say so rather than hang the client
            code, body = 500, _status_body(500, "InternalError", "k8s stand-in internal error: %r" % (exc,))
        standin.store.run_hooks(method, path, query, after=True)
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

    def _dispatch(self, method, path, qs, raw, headers):
        query = dict((k, v[-1]) for k, v in qs.items())
        unserved = self.standin.store.unserved
        if method == "GET":
            if path == "/version":
                return 200, _version_doc()
            if path == "/api":
                return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": "%s:%d" % (self.standin.host, self.standin.port)}]}
            if path == "/api/v1":
                return 200, _discovery_core(unserved)
            if path == "/apis":
                return 200, _discovery_groups(unserved)
            parts = path.split("/")
            if len(parts) == 4 and parts[1] == "apis":
                doc = _discovery_group(parts[2], parts[3], unserved)
                if doc is not None:
                    return 200, doc
        target = route(path)
        if target is None or target[0].qualified in unserved:
            raise NotServed()
        resource, namespace, name, sub = target
        if sub is not None and (sub != "status" or not resource.status):
            raise NotServed()
        store = self.standin.store
        if query.get("watch") in ("true", "1"):
            raise ApiError(405, "MethodNotAllowed", "watch is not supported by the k8s API stand-in")
        if method in ("POST", "PUT", "PATCH"):
            options = write_options(method, qs)
            dry_run = bool(options["dryRun"])
            field_validation = options["fieldValidation"]
        elif method == "DELETE":
            options = delete_options(raw, qs)
            dry_run = bool(options.get("dryRun"))
        else:
            dry_run, field_validation = False, "Warn"
        warnings = []
        body = None
        if raw and method != "DELETE":
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
                # DeleteCollection: list options from the query, DeleteOptions as above
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
            return done(200, store.delete(resource, namespace, name, options, dry_run))
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
