# -*- coding: utf-8 -*-
"""Connection settings of the k8s_* modules: the kubernetes.core option and K8S_AUTH_* variable
names, what is read when, and first-contact errors as one sentence naming cause and fix."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError
from ansible_collections.strata.storage.plugins.module_utils.k8s import client as k8s

kubernetes = pytest.importorskip("kubernetes")


def params(**values):
    out = dict((name, None) for name in k8s.AUTH_ARG_SPEC)
    out.update(values)
    return out


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("K8S_AUTH_") or name == "KUBECONFIG":
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    return monkeypatch


def test_options_win_over_environment_and_both_spellings_are_read(clean_env):
    clean_env.setenv("K8S_AUTH_HOST", "https://env:6443")
    clean_env.setenv("K8S_AUTH_VERIFY_SSL", "no")
    clean_env.setenv("K8S_AUTH_CERT_FILE", "/env/cert")
    clean_env.setenv("K8S_AUTH_CLIENT_KEY", "/env/key")
    clean_env.setenv("K8S_AUTH_IMPERSONATE_GROUPS", "a,b,,c")
    clean_env.setenv("K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH", "u:p")
    clean_env.setenv("K8S_AUTH_PERSIST_CONFIG", "yes")
    auth, sources = k8s.resolve_auth(params(host="https://opt:6443"))
    assert auth["host"] == "https://opt:6443" and sources["host"] == "option"
    assert auth["validate_certs"] is False and sources["validate_certs"] == "K8S_AUTH_VERIFY_SSL"
    assert auth["client_cert"] == "/env/cert" and auth["client_key"] == "/env/key"
    assert auth["impersonate_groups"] == ["a", "b", "c"]
    assert auth["proxy_headers"] == {"proxy_basic_auth": "u:p"}
    assert auth["persist_config"] is True


def test_host_with_token_reads_no_kubeconfig(clean_env):
    api = k8s.api_client(params(host="https://h:6443/", api_key="tok", proxy="http://proxy:3128",
                                no_proxy="10.0.0.0/8", proxy_headers={"proxy_basic_auth": "u:p"},
                                impersonate_user="alice", impersonate_groups=["g1", "g2"]))
    cfg = api.configuration
    assert cfg.host == "https://h:6443" and cfg.api_key == {"authorization": "Bearer tok"}
    assert cfg.proxy == "http://proxy:3128" and cfg.no_proxy == "10.0.0.0/8"
    assert cfg.proxy_headers == {"proxy-authorization": "Basic dTpw"}
    headers = [(str(k), v) for k, v in api.default_headers.items() if str(k).startswith("Impersonate")]
    assert headers == [("Impersonate-User", "alice"), ("Impersonate-Group", "g1"), ("Impersonate-Group", "g2")]


def test_username_and_password_are_basic_auth(clean_env):
    api = k8s.api_client(params(host="https://h", username="u", password="p"))
    assert api.configuration.api_key == {"authorization": "Basic dTpw"}


def test_dict_kubeconfig_and_persist_config_reach_the_loader(clean_env, monkeypatch):
    seen = {}

    def fake_from_dict(config_dict, context=None, persist_config=None, client_configuration=None):
        seen.update(config=config_dict, context=context, persist=persist_config)
        client_configuration.host = "https://from-dict"

    monkeypatch.setattr(kubernetes.config, "load_kube_config_from_dict", fake_from_dict)
    config = {"clusters": [], "users": [{"name": "u", "user": {"token": "secret-token"}}]}
    api = k8s.api_client(params(kubeconfig=config, context="c1"))
    assert api.configuration.host == "https://from-dict"
    assert seen == {"config": config, "context": "c1", "persist": False}  # off unless set, as kubernetes.core
    k8s.api_client(params(kubeconfig=config, persist_config=True))
    assert seen["persist"] is True
    assert k8s._kubeconfig_secrets(config) == ["secret-token"]


def test_missing_kubeconfig_is_named_with_where_it_came_from(clean_env, tmp_path):
    missing = str(tmp_path / "nope")
    with pytest.raises(StrataError) as err:
        k8s.api_client(params(kubeconfig=missing))
    assert err.value.fail_kwargs()["msg"].startswith("the kubeconfig file %s does not exist (give" % missing)
    clean_env.setenv("K8S_AUTH_KUBECONFIG", missing)
    with pytest.raises(StrataError) as err:
        k8s.api_client(params())
    assert "(from K8S_AUTH_KUBECONFIG)" in err.value.msg
    clean_env.delenv("K8S_AUTH_KUBECONFIG")
    clean_env.setenv("KUBECONFIG", missing)
    with pytest.raises(StrataError) as err:
        k8s.api_client(params())
    assert err.value.msg.startswith("the kubeconfig file %s does not exist (from KUBECONFIG)" % missing)


def test_host_without_credentials_says_what_is_missing(clean_env):
    with pytest.raises(StrataError) as err:
        k8s.api_client(params(host="https://h:6443"))
    msg = err.value.fail_kwargs()["msg"]
    assert msg.startswith("host https://h:6443 is given without credentials (set api_key")
    assert "client_cert and client_key" in msg and "username and password" in msg and "kubeconfig" in msg


def test_nothing_given_outside_a_pod(clean_env):
    with pytest.raises(StrataError) as err:
        k8s.api_client(params())
    assert err.value.msg.startswith("no Kubernetes credentials found")


@pytest.mark.parametrize("text,reason", [
    ("HTTPConnectionPool(host='h', port=1): Max retries exceeded (Caused by NewConnectionError("
     "'<urllib3.connection.HTTPConnection object at 0x7f>: Failed to establish a new connection: "
     "[Errno 111] Connection refused'))", "connection refused"),
    ("Failed to resolve 'nohost' ([Errno -2] Name or service not known)", "its host name does not resolve"),
    ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate",
     "its TLS certificate could not be verified"),
    ("Connection to h timed out. (connect timeout=15)", "no answer within 15 seconds"),
])
def test_connection_errors_are_one_sentence(text, reason):
    err = k8s.connection_error(Exception(text), "https://h:6443", "reading StorageClass x")
    msg = err.fail_kwargs()["msg"]
    assert msg.startswith("cannot reach the Kubernetes API server at https://h:6443: %s (" % reason), msg
    assert "\n" not in msg and "%" not in msg


def test_a_bug_is_not_reported_as_an_unreachable_server():
    def broken(**kwargs):
        raise TypeError("unexpected keyword argument")

    with pytest.raises(TypeError):
        k8s.list_all(broken, "PVs")


def test_list_all_relists_in_full_after_410_on_a_later_page():
    class Page(object):
        def __init__(self, payload):
            self.data = json.dumps(payload).encode()

    calls = []

    def lister(**kwargs):
        calls.append((kwargs.get("limit"), kwargs.get("_continue")))
        if kwargs.get("_continue"):
            raise k8s.ApiException(status=410, reason="Expired")
        if kwargs.get("limit"):
            return Page({"items": [1], "metadata": {"continue": "t"}})
        return Page({"items": [1, 2, 3], "metadata": {}})

    assert k8s.list_all(lister, "PVs", page_size=1) == ([1, 2, 3], 3)
    assert calls == [(1, None), (1, "t"), (None, None)]


def test_only_an_expired_410_relists_in_full():
    """client-go's pager falls back to a full list only for IsResourceExpired (Status reason
    Expired); a 410 with another reason is an error, as there."""
    class Page(object):
        def __init__(self, payload):
            self.data = json.dumps(payload).encode()

    gone = json.dumps({"kind": "Status", "code": 410, "reason": "Gone", "message": "gone"})

    def lister(**kwargs):
        if kwargs.get("_continue"):
            exc = k8s.ApiException(status=410, reason="Gone")
            exc.body = gone
            raise exc
        return Page({"items": [1], "metadata": {"continue": "t"}})

    with pytest.raises(StrataError) as err:
        k8s.list_all(lister, "PVs", page_size=1)
    assert err.value.rc == 410
