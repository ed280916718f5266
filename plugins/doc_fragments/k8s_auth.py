# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    # Connection options of every k8s_* module (module_utils/k8s.py AUTH_ARG_SPEC).
    # Names follow kubernetes.core, so existing inventories keep working.
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file.
      - Falls back to E(K8S_AUTH_KUBECONFIG), then E(KUBECONFIG), then C(~/.kube/config),
        then the in-cluster service account.
    type: path
  context:
    description:
      - The kubeconfig context to use (E(K8S_AUTH_CONTEXT)); default is the current context.
    type: str
  host:
    description:
      - The API server URL, for example C(https://10.0.0.1:6443) (E(K8S_AUTH_HOST)).
      - With O(api_key) and no O(kubeconfig), no kubeconfig is read at all.
    type: str
  api_key:
    description:
      - A bearer token (E(K8S_AUTH_API_KEY)). Never logged, never returned.
    type: str
  ca_cert:
    description:
      - CA bundle that signed the API server's certificate (E(K8S_AUTH_SSL_CA_CERT)).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Client certificate for TLS client authentication.
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Key of O(client_cert).
    type: path
    aliases: [key_file]
  validate_certs:
    description:
      - Whether to verify the API server's certificate (E(K8S_AUTH_VERIFY_SSL)).
      - Left out, the kubeconfig's setting is kept (verification on by default).
    type: bool
    aliases: [verify_ssl]
requirements:
  - "kubernetes (the official Python client) on the host that runs the module, usually the
    controller (C(delegate_to: localhost) or a play on localhost)."
"""
