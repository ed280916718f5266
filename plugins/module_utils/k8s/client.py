# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes plumbing shared by the k8s_* modules: auth options, one ApiClient, errors, and
paginated listing.

The official `kubernetes` client is imported lazily so this file imports (and its pure
helpers are testable) without it; modules call `require_client(module)` first, which fails
with missing_required_lib when it is absent.

Option names, their environment variables and their meaning follow kubernetes.core
(plugins/module_utils/args_common.py and k8s/client.py there), so inventories move over
unchanged.
"""

from __future__ import annotations

import base64
import json
import os
import re

from ansible_collections.strata.storage.plugins.module_utils.core.errors import StrataError

try:
    # the import is the presence check
    import kubernetes  # noqa: F401  pylint: disable=unused-import
    from kubernetes.client.rest import ApiException
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the controller
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = exc

    class ApiException(Exception):  # stand-in so `except ApiException` is valid
        status = None
        reason = None
        body = None

AUTH_PROXY_HEADERS_SPEC = dict(
    proxy_basic_auth=dict(type="str", no_log=True),
    basic_auth=dict(type="str", no_log=True),
    user_agent=dict(type="str"),
)

AUTH_ARG_SPEC = dict(
    kubeconfig=dict(type="raw"),
    context=dict(type="str"),
    host=dict(type="str"),
    api_key=dict(type="str", no_log=True),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    ca_cert=dict(type="path", aliases=["ssl_ca_cert"]),
    client_cert=dict(type="path", aliases=["cert_file"]),
    client_key=dict(type="path", aliases=["key_file"], no_log=False),
    validate_certs=dict(type="bool", aliases=["verify_ssl"]),
    proxy=dict(type="str"),
    no_proxy=dict(type="str"),
    proxy_headers=dict(type="dict", options=AUTH_PROXY_HEADERS_SPEC),
    persist_config=dict(type="bool"),
    impersonate_user=dict(type="str"),
    impersonate_groups=dict(type="list", elements="str"),
)

# option -> the kubernetes client's name, which kubernetes.core also reads as K8S_AUTH_<NAME>
CLIENT_NAMES = {"validate_certs": "verify_ssl", "ca_cert": "ssl_ca_cert", "client_cert": "cert_file",
                "client_key": "key_file"}

# Page size for list calls: big enough that 5,000 objects cost a handful of calls, small
# enough that one response stays a few MB.
LIST_PAGE_SIZE = 500
# (connect, read) seconds of every request: an unreachable host fails in seconds instead of
# the operating system's TCP timeout, per retry.
REQUEST_TIMEOUT = (15, 120)


def require_client(module):
    if not HAS_KUBERNETES:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(KUBERNETES_IMPORT_ERROR))
    kubeconfig = module.params.get("kubeconfig")
    if isinstance(kubeconfig, dict):
        # an inline kubeconfig holds tokens, passwords and keys: keep them out of every output
        for secret in _kubeconfig_secrets(kubeconfig):
            module.no_log_values.add(secret)
    elif kubeconfig is not None and not isinstance(kubeconfig, str):
        module.fail_json(msg="kubeconfig must be a path or a kubeconfig as a dict, not %s" % type(kubeconfig).__name__)


def _kubeconfig_secrets(config):
    found = []
    for user in config.get("users") or []:
        data = (user or {}).get("user") or {}
        for key in ("token", "password", "client-key-data"):
            if isinstance(data.get(key), str) and data[key]:
                found.append(data[key])
    return found


def _env(name):
    value = os.environ.get(name)
    return value if value not in (None, "") else None


def _env_bool(value):
    """kubernetes.core: any value but 0/false/no is true."""
    return value.lower() not in ("0", "false", "no")


def resolve_auth(params):
    """The connection settings: each option, else K8S_AUTH_<OPTION> (or K8S_AUTH_<client name>,
    e.g. K8S_AUTH_VERIFY_SSL), as kubernetes.core reads them. Returns (settings, sources) where
    sources names where each came from ("option" or the variable)."""
    auth, sources = {}, {}
    for name, spec in AUTH_ARG_SPEC.items():
        value = params.get(name)
        if value is not None:
            auth[name], sources[name] = value, "option"
            continue
        if name == "proxy_headers":
            headers = {}
            for key, key_spec in AUTH_PROXY_HEADERS_SPEC.items():
                env = _env("K8S_AUTH_PROXY_HEADERS_%s" % key.upper())
                if env is not None:
                    headers[key] = _env_bool(env) if key_spec.get("type") == "bool" else env
            if headers:
                auth[name], sources[name] = headers, "K8S_AUTH_PROXY_HEADERS_*"
            continue
        for variable in ("K8S_AUTH_%s" % name.upper(), "K8S_AUTH_%s" % CLIENT_NAMES.get(name, name).upper()):
            env = _env(variable)
            if env is None:
                continue
            if spec.get("type") == "bool":
                env = _env_bool(env)
            elif spec.get("type") == "list":
                env = [item for item in env.split(",") if item]
            auth[name], sources[name] = env, variable
            break
    return auth, sources


class _HeaderName(str):
    """A header name that is equal only to itself, so one dict can hold Impersonate-Group once per
    group: the API server reads several groups from several header lines (a comma-joined value
    would be one group with a comma in its name)."""

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    __hash__ = object.__hash__


def _kubeconfig_paths(value, source):
    """The files of a kubeconfig setting (':'-separated like KUBECONFIG), each of which must exist."""
    paths = [os.path.expanduser(p) for p in str(value).split(os.pathsep) if p]
    for path in paths:
        if not os.path.exists(path):
            where = "" if source == "option" else " (from %s)" % source
            raise StrataError("the kubeconfig file %s does not exist%s" % (path, where),
                              hint="give the path of an existing kubeconfig, or leave kubeconfig out to use KUBECONFIG "
                                   "or ~/.kube/config")
    return paths


def api_client(params):
    """An ApiClient from the module's auth options and the K8S_AUTH_* variables.

    - host with api_key, client_cert and client_key, or username and password: nothing else is read;
    - else a kubeconfig (the option or K8S_AUTH_KUBECONFIG, a path or a dict) or a context:
      that kubeconfig (for a context, $KUBECONFIG or ~/.kube/config);
    - host alone: refused, naming what is missing;
    - nothing: $KUBECONFIG or ~/.kube/config when there is one, else the in-cluster service account.
    The options then override what the kubeconfig says (host, CA, certificates, proxy...).
    """
    from kubernetes import client, config

    auth, sources = resolve_auth(params)
    host = auth.get("host").rstrip("/") if auth.get("host") else None
    kubeconfig = auth.get("kubeconfig")
    basic = auth.get("username") and auth.get("password")
    credentials = auth.get("api_key") or basic or (auth.get("client_cert") and auth.get("client_key"))
    configuration = client.Configuration()
    load_args = {"context": auth.get("context"), "persist_config": bool(auth.get("persist_config")),
                 "client_configuration": configuration}
    if host and credentials and not kubeconfig and not auth.get("context"):
        pass  # enough to connect: no kubeconfig is read
    elif isinstance(kubeconfig, dict):
        _load(config.load_kube_config_from_dict, "the kubeconfig given as a dict", config_dict=kubeconfig, **load_args)
    elif kubeconfig:
        paths = _kubeconfig_paths(kubeconfig, sources.get("kubeconfig"))
        _load(config.load_kube_config, "kubeconfig %s" % os.pathsep.join(paths), config_file=os.pathsep.join(paths),
              **load_args)
    elif auth.get("context"):
        _load(config.load_kube_config, "the context %s" % auth["context"], config_file=None, **load_args)
    elif host:
        raise StrataError("host %s is given without credentials" % host,
                          hint="set api_key (a bearer token), client_cert and client_key, or username and password; "
                               "or give a kubeconfig instead of host")
    elif _env("KUBECONFIG") or os.path.exists(os.path.expanduser("~/.kube/config")):
        if _env("KUBECONFIG") and not any(os.path.exists(os.path.expanduser(p))
                                          for p in _env("KUBECONFIG").split(os.pathsep) if p):
            raise StrataError("the kubeconfig file %s does not exist (from KUBECONFIG)" % _env("KUBECONFIG"),
                              hint="point KUBECONFIG at an existing kubeconfig, or set the kubeconfig option")
        _load(config.load_kube_config, "the default kubeconfig", config_file=None, **load_args)
    else:
        try:
            config.load_incluster_config(client_configuration=configuration)
        except Exception:
            raise StrataError("no Kubernetes credentials found: no kubeconfig or host was given, neither KUBECONFIG "
                              "nor ~/.kube/config exists, and this does not run in a pod",
                              hint="set kubeconfig (or K8S_AUTH_KUBECONFIG), or host with api_key")
    if host:
        configuration.host = host
    if auth.get("api_key"):
        configuration.api_key = {"authorization": "Bearer %s" % auth["api_key"]}
    elif basic:
        # HTTP basic authentication (kube-apiserver itself dropped it in 1.19; an authenticating
        # proxy in front of one may take it)
        configuration.username, configuration.password = auth["username"], auth["password"]
        token = base64.b64encode(("%s:%s" % (auth["username"], auth["password"])).encode("utf-8")).decode("ascii")
        configuration.api_key = {"authorization": "Basic %s" % token}
    if auth.get("ca_cert"):
        configuration.ssl_ca_cert = auth["ca_cert"]
    if auth.get("client_cert"):
        configuration.cert_file = auth["client_cert"]
    if auth.get("client_key"):
        configuration.key_file = auth["client_key"]
    if auth.get("validate_certs") is not None:
        configuration.verify_ssl = auth["validate_certs"]
    if auth.get("proxy"):
        configuration.proxy = auth["proxy"]
    if auth.get("no_proxy"):
        configuration.no_proxy = auth["no_proxy"]
    headers = dict((k, v) for k, v in (auth.get("proxy_headers") or {}).items() if v is not None)
    if headers:
        import urllib3
        configuration.proxy_headers = urllib3.util.make_headers(**headers)
    api = client.ApiClient(configuration)
    if auth.get("impersonate_user"):
        api.set_default_header("Impersonate-User", auth["impersonate_user"])
    for group in auth.get("impersonate_groups") or []:
        api.set_default_header(_HeaderName("Impersonate-Group"), group)
    if len(auth.get("impersonate_groups") or []) > 1:
        _keep_repeated_headers(api.rest_client.pool_manager)
    return api


def _keep_repeated_headers(pool_manager):
    """urllib3's ProxyManager copies the headers of a request with a body into a plain dict
    (_set_proxy_headers), which joins repeated headers with ", ": keep every Impersonate-Group
    line separate there too."""
    original = getattr(pool_manager, "_set_proxy_headers", None)
    if original is None:
        return

    def set_proxy_headers(url, headers=None):
        if headers is not None and hasattr(headers, "items"):
            flat, seen = {}, set()
            for key, value in headers.items():   # HTTPHeaderDict yields every value on its own
                if key.lower() in seen:
                    key = _HeaderName(key)
                seen.add(key.lower())
                flat[key] = value
            headers = flat
        return original(url, headers)

    pool_manager._set_proxy_headers = set_proxy_headers


def _load(loader, what, **kwargs):
    try:
        loader(**kwargs)
    except Exception as exc:  # the client raises ConfigException and plain errors alike
        raise StrataError("could not load Kubernetes credentials from %s: %s" % (what, exc),
                          hint="check the file, its current-context (or the context option) and the user it names")


def status_of(exc):
    """The API's Status object from an ApiException body ({} when it is not JSON)."""
    try:
        status = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        return {}
    return status if isinstance(status, dict) else {}


def api_error(what, exc, hint=None):
    """StrataError naming the object, with the API's code, reason and message."""
    if not exc.status:  # the client's own wrapper of a TLS error (status 0)
        return connection_error(exc, None, what)
    status = status_of(exc)
    message = status.get("message") or exc.reason or str(exc)
    return StrataError("%s: API answered %s %s: %s" % (what, exc.status, status.get("reason") or exc.reason, message),
                       rc=exc.status, hint=hint, details={"status": status} if status else None)


def _root_cause(exc):
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        nxt = getattr(exc, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = exc.__cause__ or exc.__context__
        if nxt is None:
            break
        exc = nxt
    return seen


def connection_error(exc, host, what=None):
    """One sentence for a request that never got an HTTP answer: which server, why, what to do."""
    chain = _root_cause(exc)
    text = " ".join(str(e) for e in chain) + " " + " ".join(type(e).__name__ for e in chain)
    hint = "check host (or the kubeconfig's cluster server), that the API server is up and reachable from here, " \
           "and the proxy settings"
    if re.search(r"CERTIFICATE_VERIFY_FAILED|certificate verify failed", text):
        reason = "its TLS certificate could not be verified"
        hint = "set ca_cert to the CA that signed it (or validate_certs: false for a lab)"
    elif "SSLError" in text or "SSL" in text and "Error" in text:
        reason = "the TLS handshake failed"
        hint = "check that host is an https:// address of the API server, ca_cert, client_cert and client_key"
    elif re.search(r"Connection refused|ConnectionRefused|Errno 111", text):
        reason = "connection refused"
    elif re.search(r"NameResolution|Name or service not known|nodename nor servname|Errno -[23]\b", text):
        reason = "its host name does not resolve"
    elif re.search(r"ProxyError|Tunnel connection failed", text):
        reason = "the proxy failed"
        hint = "check proxy and no_proxy"
    elif re.search(r"timed out|Timeout", text):
        reason = "no answer within %s seconds" % REQUEST_TIMEOUT[0]
    elif re.search(r"No route to host|Network is unreachable|Errno 11[03]", text):
        reason = "no route to it"
    else:
        reason = str(chain[-1]).strip().splitlines()[0] if chain else "unknown error"
        reason = re.sub(r"<[^>]*>: ", "", reason)[:160]
    where = host or "the configured host"
    return StrataError("cannot reach the Kubernetes API server at %s: %s" % (where, reason), hint=hint,
                       details={"request": what} if what else None)


def connection_errors():
    """The exceptions of a request that got no HTTP answer (urllib3's and the socket's); other
    exceptions are bugs and must not be reported as an unreachable server."""
    import urllib3
    return (urllib3.exceptions.HTTPError, OSError)


def is_expired(exc):
    """client-go errors.IsResourceExpired: a 410 whose Status reason is Expired (a continue token
    compacted away); a 410 without a Status body counts too."""
    if not isinstance(exc, StrataError) or exc.rc != 410:
        return False
    return (((exc.details or {}).get("status") or {}).get("reason") or "Expired") == "Expired"


def paginate(fetch, page_size):
    """Every item of a paginated list, following `continue` tokens. fetch(limit, token) returns
    one decoded page (limit and token None: the whole list) or raises StrataError. When a later
    page is Expired (the snapshot of the first page was compacted away) the list starts again as
    one unpaginated request, as client-go's pager does (tools/pager/pager.go); the pages read so
    far are dropped. Returns (items, calls)."""
    items, calls, token = [], 0, None
    while True:
        calls += 1
        try:
            page = fetch(page_size, token)
        except StrataError as exc:
            if not (token and is_expired(exc)):
                raise
            return (fetch(None, None).get("items") or []), calls + 1
        items.extend(page.get("items") or [])
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return items, calls


def list_all(list_fn, what, page_size=LIST_PAGE_SIZE, host=None, **kwargs):
    """Every item of a list call of the typed client as plain dicts (see paginate).

    Asks for the raw JSON (`_preload_content=False`): building typed models for thousands of
    objects costs seconds, and dicts are what reports and diffs need anyway. Returns (items, calls).
    """
    def fetch(limit, token):
        call_kwargs = dict(kwargs, _preload_content=False, _request_timeout=REQUEST_TIMEOUT)
        if limit:
            call_kwargs["limit"] = limit
        if token:
            call_kwargs["_continue"] = token
        try:
            return json.loads(list_fn(**call_kwargs).data)
        except ApiException as exc:
            if not exc.status:   # the client's own wrapper of a TLS failure
                raise connection_error(exc, host, "listing %s" % what)
            raise api_error("listing %s" % what, exc)
        except connection_errors() as exc:
            raise connection_error(exc, host, "listing %s" % what)

    return paginate(fetch, page_size)
