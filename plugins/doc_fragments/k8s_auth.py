# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    # Connection options of every k8s_* module (module_utils/k8s/client.py AUTH_ARG_SPEC).
    # Names and environment variables follow kubernetes.core, so existing inventories keep working.
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file (several separated by C(:) are merged, as in E(KUBECONFIG)), or
        the kubeconfig itself as a dict. The tokens, passwords and keys of a dict are kept out of
        every output.
      - Also E(K8S_AUTH_KUBECONFIG). A path that does not exist is an error naming it.
      - Left out (and no O(host) with credentials), E(KUBECONFIG) or C(~/.kube/config) is read,
        else the in-cluster service account is used.
    type: raw
  context:
    description:
      - The kubeconfig context to use (E(K8S_AUTH_CONTEXT)); default is the current context.
    type: str
  host:
    description:
      - The API server URL, for example C(https://10.0.0.1:6443) (E(K8S_AUTH_HOST)).
      - With O(api_key), O(client_cert) and O(client_key), or O(username) and O(password), and no
        O(kubeconfig) or O(context), no kubeconfig is read at all. O(host) with none of them and
        no kubeconfig is refused, saying what is missing.
      - With a kubeconfig, it replaces the server the kubeconfig names.
    type: str
  api_key:
    description:
      - A bearer token (E(K8S_AUTH_API_KEY)). Never logged, never returned.
    type: str
  username:
    description:
      - User name for HTTP basic authentication (E(K8S_AUTH_USERNAME)), with O(password).
      - kube-apiserver itself dropped basic authentication in Kubernetes 1.19; this works with an
        authenticating proxy in front of it, or another server that accepts it.
    type: str
  password:
    description:
      - Password for O(username) (E(K8S_AUTH_PASSWORD)). Never logged, never returned.
    type: str
  ca_cert:
    description:
      - CA bundle that signed the API server's certificate (E(K8S_AUTH_SSL_CA_CERT) or E(K8S_AUTH_CA_CERT)).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Client certificate for TLS client authentication (E(K8S_AUTH_CERT_FILE) or E(K8S_AUTH_CLIENT_CERT)).
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Key of O(client_cert) (E(K8S_AUTH_KEY_FILE) or E(K8S_AUTH_CLIENT_KEY)).
    type: path
    aliases: [key_file]
  validate_certs:
    description:
      - Whether to verify the API server's certificate (E(K8S_AUTH_VERIFY_SSL) or
        E(K8S_AUTH_VALIDATE_CERTS); any value but C(0), C(false) or C(no) is true).
      - Left out, the kubeconfig's setting is kept (verification on by default).
    type: bool
    aliases: [verify_ssl]
  proxy:
    description:
      - URL of an HTTP proxy to reach the API server through (E(K8S_AUTH_PROXY)).
      - Left out, the client also honours E(HTTPS_PROXY)/E(HTTP_PROXY).
    type: str
  no_proxy:
    description:
      - Comma-separated hosts, domains, IPs or CIDRs reached without O(proxy) (E(K8S_AUTH_NO_PROXY)),
        for example C(localhost,.local,10.0.0.0/8).
    type: str
  proxy_headers:
    description:
      - Headers for the proxy, as urllib3's C(make_headers) builds them.
    type: dict
    suboptions:
      proxy_basic_auth:
        description:
          - C(user:password) for the proxy's basic authentication (E(K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH)).
        type: str
      basic_auth:
        description:
          - C(user:password) for a basic authentication header (E(K8S_AUTH_PROXY_HEADERS_BASIC_AUTH)).
        type: str
      user_agent:
        description:
          - A user agent string, for example C(strata/1.0) (E(K8S_AUTH_PROXY_HEADERS_USER_AGENT)).
        type: str
  persist_config:
    description:
      - Write refreshed tokens (OIDC, cloud auth providers) back to the kubeconfig file
        (E(K8S_AUTH_PERSIST_CONFIG)). Off unless set, as in kubernetes.core.
    type: bool
  impersonate_user:
    description:
      - User to act as (E(K8S_AUTH_IMPERSONATE_USER)), sent as the C(Impersonate-User) header.
        The credentials need RBAC permission to impersonate.
    type: str
  impersonate_groups:
    description:
      - Groups to act as (E(K8S_AUTH_IMPERSONATE_GROUPS), comma-separated), one
        C(Impersonate-Group) header each.
    type: list
    elements: str
requirements:
  - "kubernetes (the official Python client) on the host that runs the module, usually the
    controller (C(delegate_to: localhost) or a play on localhost)."
"""
