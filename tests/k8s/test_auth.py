# -*- coding: utf-8 -*-
"""Connection options of every k8s_* module, as kubernetes.core names them, and the errors of
a first contact that goes wrong: against the API stand-in, whose request log shows what
arrived (impersonation headers, the authorization scheme, the client certificate, a proxy's
Via header), and a tiny forward proxy started here that logs what went through it."""
from __future__ import annotations

import http.client
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

SC_V = "storage.k8s.io/v1"


class ForwardProxy(object):
    """An HTTP forward proxy for plain-http targets: logs each request (URL and its
    Proxy-Authorization header) and forwards it with `Via: 1.1 strata-test-proxy`."""

    def __init__(self):
        self.log = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                proxy.log.append({"method": self.command, "url": self.path,
                                  "proxy_authorization": self.headers.get("Proxy-Authorization")})
                target = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                path = target.path + ("?" + target.query if target.query else "")
                # Impersonate-Group may repeat: putheader keeps each line
                conn.putrequest(self.command, path)
                for key, value in self.headers.items():
                    if key.lower() not in ("proxy-authorization", "proxy-connection", "connection", "host"):
                        conn.putheader(key, value)
                conn.putheader("Via", "1.1 strata-test-proxy")
                conn.endheaders(body)
                response = conn.getresponse()
                data = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def proxy():
    server = ForwardProxy()
    yield server
    server.stop()


def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def playbook(tasks):
    """tasks: [(name, module, args, environment or None)]; every task ignore_errors."""
    lines = ["- hosts: localhost", "  gather_facts: false", "  tasks:"]
    for name, module, args, env in tasks:
        lines += ["    - name: %s" % name, "      %s: %s" % (module, json.dumps(args)), "      ignore_errors: true"]
        if env:
            lines.append("      environment: %s" % json.dumps(env))
    return "\n".join(lines) + "\n"


def assert_one_clear_sentence(msg):
    """First-contact errors: one line naming cause and fix; no traceback, no format escapes
    (%%, %s, {0}), no a/an slips."""
    assert "\n" not in msg and "Traceback" not in msg and "MODULE FAILURE" not in msg, msg
    assert not re.search(r"%%|%s|%\(|\{\d*\}", msg), msg
    assert not re.search(r"\ba [aeio]", msg), msg
    assert len(msg) < 400, msg


def test_first_contact_errors_name_cause_and_fix(standin, standin_tls, ansible_run, tmp_path):
    """Each first contact that goes wrong, one task each: the server unreachable (the info and
    cleanup modules used to end in an uncaught urllib3 exception), a kubeconfig path that does
    not exist (named, with where it came from), host without credentials (what is missing), TLS
    without the CA, a wrong token."""
    port = closed_port()
    missing = str(tmp_path / "no-such-dir" / "kubeconfig")
    tasks = [
        ("unreachable info", "strata.storage.k8s_storage_info",
         {"host": "http://127.0.0.1:%d" % port, "api_key": "x"}, None),
        ("unreachable cleanup", "strata.storage.k8s_storage_cleanup",
         {"host": "http://127.0.0.1:%d" % port, "api_key": "x", "pvs": [{"name": "a"}]}, None),
        ("unreachable class", "strata.storage.k8s_storageclass",
         {"name": "x", "provisioner": "p.io", "host": "http://127.0.0.1:%d" % port, "api_key": "x"}, None),
        ("missing kubeconfig", "strata.storage.k8s_storageclass", {"name": "x", "kubeconfig": missing}, None),
        ("missing kubeconfig from env", "strata.storage.k8s_tenant_namespace", {"name": "x"},
         {"K8S_AUTH_KUBECONFIG": missing}),
        ("host without credentials", "strata.storage.k8s_storage_info", {"host": standin.url}, {"HOME": str(tmp_path)}),
        ("tls without ca", "strata.storage.k8s_storageclass",
         {"name": "tls", "provisioner": "topolvm.io", "host": standin_tls.url, "api_key": standin_tls.token}, None),
        ("wrong token", "strata.storage.k8s_storageclass",
         {"name": "x", "provisioner": "topolvm.io", "host": standin.url, "api_key": "wrong-token"}, None),
    ]
    result = ansible_run(playbook(tasks))
    for name in ("unreachable info", "unreachable cleanup", "unreachable class"):
        res = result.result(name)
        assert res["failed"] is True
        assert res["msg"].startswith("cannot reach the Kubernetes API server at http://127.0.0.1:%d: connection refused"
                                     % port), res["msg"]
        assert "check host" in res["msg"]
        assert_one_clear_sentence(res["msg"])
    for name in ("missing kubeconfig", "missing kubeconfig from env"):
        res = result.result(name)
        assert res["failed"] is True
        assert res["msg"].startswith("the kubeconfig file %s does not exist" % missing), res["msg"]
        assert_one_clear_sentence(res["msg"])
    assert "K8S_AUTH_KUBECONFIG" in result.result("missing kubeconfig from env")["msg"]
    res = result.result("host without credentials")
    assert res["failed"] is True
    assert res["msg"].startswith("host %s is given without credentials" % standin.url), res["msg"]
    for option in ("api_key", "client_cert", "username", "kubeconfig"):
        assert option in res["msg"]
    assert_one_clear_sentence(res["msg"])
    res = result.result("tls without ca")
    assert res["failed"] is True
    assert res["msg"].startswith("cannot reach the Kubernetes API server at %s: its TLS certificate could not be "
                                 "verified" % standin_tls.url), res["msg"]
    assert "ca_cert" in res["msg"]
    assert_one_clear_sentence(res["msg"])
    res = result.result("wrong token")
    assert res["failed"] is True
    assert res["msg"].startswith("reading StorageClass x: API answered 401")
    assert "rejected the credentials" in res["msg"]
    assert "wrong-token" not in json.dumps(result.records)
    assert [r["path"] for r in standin.requests()] == ["/apis/storage.k8s.io/v1/storageclasses/x"]  # the 401 only


def test_connection_options_as_kubernetes_core_names_them(standin, standin_tls, ansible_run, proxy):
    """proxy, no_proxy, proxy_headers, impersonation, basic auth, a dict kubeconfig, the
    K8S_AUTH_* variables (both spellings of the TLS ones), and token + CA over TLS."""
    base = {"host": standin.url, "api_key": standin.token}

    def sc(name, **extra):
        return dict(base, name=name, provisioner="topolvm.io", **extra)

    tls = standin_tls
    tls_env = {
        "a": {"K8S_AUTH_HOST": tls.url, "K8S_AUTH_API_KEY": tls.token, "K8S_AUTH_SSL_CA_CERT": tls.ca_cert,
              "K8S_AUTH_CERT_FILE": tls.client_cert, "K8S_AUTH_KEY_FILE": tls.client_key},
        "b": {"K8S_AUTH_HOST": tls.url, "K8S_AUTH_API_KEY": tls.token, "K8S_AUTH_CA_CERT": tls.ca_cert,
              "K8S_AUTH_CLIENT_CERT": tls.client_cert, "K8S_AUTH_CLIENT_KEY": tls.client_key},
        "c": {"K8S_AUTH_HOST": tls.url, "K8S_AUTH_API_KEY": tls.token, "K8S_AUTH_VERIFY_SSL": "no"},
        "d": {"K8S_AUTH_HOST": tls.url, "K8S_AUTH_API_KEY": tls.token, "K8S_AUTH_VALIDATE_CERTS": "false"},
    }
    kubeconfig = json.loads(open(standin.kubeconfig).read())
    tasks = [
        ("proxy", "strata.storage.k8s_storageclass",
         sc("via-proxy", proxy=proxy.url, proxy_headers={"proxy_basic_auth": "pu:pp", "user_agent": "strata-test/1"}),
         None),
        ("no proxy", "strata.storage.k8s_storageclass", sc("direct", proxy=proxy.url, no_proxy="127.0.0.1"), None),
        ("impersonation", "strata.storage.k8s_storageclass",
         sc("as-alice", impersonate_user="alice", impersonate_groups=["team-a", "auditors"]), None),
        ("basic", "strata.storage.k8s_storageclass",
         {"name": "basic", "provisioner": "topolvm.io", "host": standin.url, "username": standin.basic[0],
          "password": standin.basic[1]}, None),
        ("dict kubeconfig", "strata.storage.k8s_storageclass",
         {"name": "from-dict", "provisioner": "topolvm.io", "kubeconfig": kubeconfig, "persist_config": False}, None),
        ("env", "strata.storage.k8s_storageclass", {"name": "from-env", "provisioner": "topolvm.io"},
         {"K8S_AUTH_HOST": standin.url, "K8S_AUTH_API_KEY": standin.token, "K8S_AUTH_PROXY": proxy.url,
          "K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH": "eu:ep", "K8S_AUTH_IMPERSONATE_USER": "bob",
          "K8S_AUTH_IMPERSONATE_GROUPS": "g1,g2"}),
        ("token and ca", "strata.storage.k8s_storageclass",
         {"name": "tls", "provisioner": "topolvm.io", "host": tls.url, "api_key": tls.token, "ca_cert": tls.ca_cert},
         None),
    ] + [("tls %s" % n, "strata.storage.k8s_storageclass", {"name": "tls-%s" % n, "provisioner": "topolvm.io"}, env)
         for n, env in sorted(tls_env.items())]
    result = ansible_run(playbook(tasks))
    for name, dummy, dummy, dummy in tasks:
        res = result.result(name)
        assert res.get("failed") is not True and res["changed"] is True, (name, res)
    for name in ("via-proxy", "direct", "as-alice", "basic", "from-dict", "from-env"):
        assert standin.get(SC_V, "StorageClass", name) is not None

    def arrived(name):
        return [r for r in standin.requests() if r["path"].endswith("/" + name)
                or (r["method"] == "POST" and (r["body"] or {}).get("metadata", {}).get("name") == name)]

    through = [e["url"] for e in proxy.log]
    assert any(u.endswith("/storageclasses/via-proxy") for u in through)
    assert all(e["proxy_authorization"] == "Basic cHU6cHA=" for e in proxy.log if "via-proxy" in e["url"])
    assert all(r["headers"].get("via") == "1.1 strata-test-proxy" for r in arrived("via-proxy"))
    assert not [u for u in through if "direct" in u] and not [r for r in arrived("direct") if r["headers"].get("via")]
    for request in arrived("as-alice"):
        assert request["headers"].get("impersonate-user") == "alice"
        assert request["headers"].get("impersonate-group") == ["team-a", "auditors"]
    assert set(r["headers"]["authorization"] for r in arrived("basic")) == {"Basic"}
    assert set(r["headers"]["authorization"] for r in arrived("from-dict")) == {"Bearer"}
    for request in arrived("from-env"):
        assert request["headers"].get("impersonate-user") == "bob"
        assert request["headers"].get("impersonate-group") == ["g1", "g2"]
        assert request["headers"].get("via") == "1.1 strata-test-proxy"
    assert any(e["proxy_authorization"] == "Basic ZXU6ZXA=" for e in proxy.log if "from-env" in e["url"])
    # the client certificate from K8S_AUTH_CERT_FILE/KEY_FILE (or CLIENT_CERT/CLIENT_KEY) was presented
    certs = dict((r["body"]["metadata"]["name"], r["headers"].get("client-cert")) for r in tls.requests()
                 if r["method"] == "POST")
    assert certs == {"tls": None, "tls-a": "strata-client", "tls-b": "strata-client", "tls-c": None, "tls-d": None}
    # secrets never in the output: the tokens, the password
    text = result.stdout + result.stderr + json.dumps(result.records)
    assert standin.token not in text and standin.basic[1] not in text and tls.token not in text
