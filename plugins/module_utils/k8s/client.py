# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes plumbing shared by the k8s_* modules: auth options, one ApiClient, errors, and
paginated listing.

The official `kubernetes` client is imported lazily so this file imports (and its pure
helpers are testable) without it; modules call `require_client(module)` first, which fails
with missing_required_lib when it is absent.
"""

from __future__ import annotations

import json
import os

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

# Option names follow kubernetes.core so users can move their auth vars over unchanged.
AUTH_ARG_SPEC = dict(
    kubeconfig=dict(type="path"),
    context=dict(type="str"),
    host=dict(type="str"),
    api_key=dict(type="str", no_log=True),
    ca_cert=dict(type="path", aliases=["ssl_ca_cert"]),
    client_cert=dict(type="path", aliases=["cert_file"]),
    client_key=dict(type="path", aliases=["key_file"], no_log=False),
    validate_certs=dict(type="bool", aliases=["verify_ssl"]),
)

# Page size for list calls: big enough that 5,000 objects cost a handful of calls, small
# enough that one response stays a few MB.
LIST_PAGE_SIZE = 500


def require_client(module):
    if not HAS_KUBERNETES:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(KUBERNETES_IMPORT_ERROR))


def _env(name):
    value = os.environ.get(name)
    return value if value not in (None, "") else None


def api_client(params):
    """An ApiClient from the module's auth options (falling back to K8S_AUTH_* env vars, then
    kubeconfig/$KUBECONFIG, then the in-cluster service account)."""
    from kubernetes import client, config

    def opt(key, env):
        return params.get(key) if params.get(key) is not None else _env(env)

    kubeconfig = opt("kubeconfig", "K8S_AUTH_KUBECONFIG")
    context = opt("context", "K8S_AUTH_CONTEXT")
    host = opt("host", "K8S_AUTH_HOST")
    api_key = opt("api_key", "K8S_AUTH_API_KEY")
    verify = params.get("validate_certs")
    if verify is None and _env("K8S_AUTH_VERIFY_SSL") is not None:
        verify = _env("K8S_AUTH_VERIFY_SSL").lower() in ("1", "true", "yes")

    configuration = client.Configuration()
    try:
        if host and api_key is not None and not kubeconfig:
            pass  # explicit host + token: no kubeconfig needed
        elif kubeconfig or _env("KUBECONFIG") or os.path.exists(os.path.expanduser("~/.kube/config")):
            config.load_kube_config(config_file=kubeconfig, context=context,
                                    client_configuration=configuration)
        else:
            config.load_incluster_config(client_configuration=configuration)
    except Exception as exc:  # the client raises ConfigException and plain errors alike
        raise StrataError("could not load Kubernetes credentials: %s" % exc,
                          hint="set kubeconfig (or KUBECONFIG), or host and api_key")
    if host:
        configuration.host = host
    if api_key is not None:
        configuration.api_key = {"authorization": "Bearer %s" % api_key}
    ca_cert = opt("ca_cert", "K8S_AUTH_SSL_CA_CERT")
    if ca_cert:
        configuration.ssl_ca_cert = ca_cert
    if params.get("client_cert"):
        configuration.cert_file = params["client_cert"]
    if params.get("client_key"):
        configuration.key_file = params["client_key"]
    if verify is not None:
        configuration.verify_ssl = verify
    return client.ApiClient(configuration)


def status_of(exc):
    """The API's Status object from an ApiException body ({} when it is not JSON)."""
    try:
        return json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        return {}


def api_error(what, exc, hint=None):
    """StrataError naming the object, with the API's code, reason and message."""
    status = status_of(exc)
    message = status.get("message") or exc.reason or str(exc)
    return StrataError("%s: API answered %s %s: %s" % (what, exc.status, status.get("reason") or exc.reason, message),
                       rc=exc.status, hint=hint, details={"status": status} if status else None)


def list_all(list_fn, what, page_size=LIST_PAGE_SIZE, **kwargs):
    """Every item of a list call as plain dicts, following `continue` tokens.

    Asks for the raw JSON (`_preload_content=False`): building typed models for thousands of
    objects costs seconds, and dicts are what reports and diffs need anyway.
    Returns (items, calls).
    """
    items, calls, token = [], 0, None
    while True:
        call_kwargs = dict(kwargs, limit=page_size, _preload_content=False)
        if token:
            call_kwargs["_continue"] = token
        try:
            response = list_fn(**call_kwargs)
        except ApiException as exc:
            raise api_error("listing %s" % what, exc)
        calls += 1
        page = json.loads(response.data)
        items.extend(page.get("items") or [])
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return items, calls
