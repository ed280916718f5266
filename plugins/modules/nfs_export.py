#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: nfs_export
short_description: NFS exports, one file per export in /etc/exports.d, with validated options
version_added: 0.1.0
description:
  - Writes each export to its own file, C(/etc/exports.d/<name>.exports), atomically (3 older copies kept),
    and runs C(exportfs -ra) once, only when a file changed. Removes the file with O(state=absent).
  - Every client option is checked against nfs-utils' own keyword list before anything is written, so a typo
    fails instead of making exportfs skip the client. Secure defaults are written out - V(ro) unless V(rw) is
    given, V(sync), V(root_squash), V(secure), V(no_subtree_check) - and V(no_root_squash), V(insecure) and
    world-wide clients (V(*), V(0.0.0.0/0), V(::/0)) need their own allow flag.
  - Reports the live export table (C(/var/lib/nfs/etab), and the kernel's C(/proc/fs/nfsd/exports) while nfsd
    runs), read from Python, and warns where it differs from the exports files (not applied, added by hand).
  - One export (O(path), O(clients), ...) or several (O(exports)) per call; a call that changes nothing starts no
    process.
author:
  - strata.storage maintainers (@strata-storage)
requirements:
  - nfs-utils (C(exportfs); Debian C(nfs-kernel-server)) 2.x, which reads C(/etc/exports.d/*.exports)
options:
  name:
    description:
      - The export's name, the file name in C(/etc/exports.d) (letters, digits, C(_ . -)). Left out, it is made
        from O(path) (C(/srv/data) becomes C(srv_data)).
    type: str
  path:
    description: The directory to export. It must exist (mount the filesystem first).
    type: path
  state:
    description: V(present) writes the export; V(absent) removes its file.
    type: str
    choices: [present, absent]
    default: present
  clients:
    description: Who may mount it, each with its options.
    type: list
    elements: dict
    suboptions:
      host:
        description:
          - A host name, an IP address, a network (C(192.0.2.0/24)), a wildcard (C(*.example.com)) or C(@netgroup).
            V(*), V(0.0.0.0/0) and V(::/0) need O(allow_world).
        type: str
        required: true
      options:
        description:
          - Export options (exports(5)), a list or one comma-separated string, e.g. V([rw, sync]) or
            V(rw,sec=krb5p). Unknown options are refused.
        type: raw
  fsid:
    description: The C(fsid=) of the export (a number, V(root) or a UUID), written for every client.
    type: str
  allow_no_root_squash:
    description: Allow V(no_root_squash) (root on the client is root on the export).
    type: bool
    default: false
  allow_insecure:
    description: Allow V(insecure), V(insecure_locks) and V(no_auth_nlm) (requests from unprivileged ports).
    type: bool
    default: false
  allow_world:
    description: Allow clients that match every host (V(*), V(0.0.0.0/0), V(::/0)).
    type: bool
    default: false
  exports:
    description:
      - Several exports in one call (one C(exportfs -ra) for all), each with O(name), O(path), O(state),
        O(clients), O(fsid) and the allow flags. Exclusive with O(path).
    type: list
    elements: dict
extends_documentation_fragment:
  - strata.storage.action_groups.nfs
  - strata.storage.attributes
notes:
  - sec= is written last, so every other option of the client applies to every security flavor.
  - A path that another exports file (or C(/etc/exports)) exports already is refused; so is an fsid another
    exported path uses.
  - The C(strata.storage.nfs_server) role runs this module for its exports; C(strata.storage.nfs_client) mounts them.
"""

EXAMPLES = r"""
- name: Export an LV's filesystem to one host and one network
  strata.storage.nfs_export:
    name: projects
    path: /srv/projects
    clients:
      - host: app1.example.com
        options: [rw, sync]
      - host: 192.0.2.0/24
        options: [ro, "sec=krb5p"]

- name: Several exports in one call
  strata.storage.nfs_export:
    exports:
      - {name: home, path: /srv/home, clients: [{host: 192.0.2.0/24, options: rw}]}
      - {name: old, path: /srv/old, state: absent}
"""

RETURN = r"""
exports:
  description: Each export by name after the run, with its file, path, clients (the options as written) and its
    entries in the live table.
  returned: always
  type: dict
  sample:
    projects:
      state: present
      file: /etc/exports.d/projects.exports
      path: /srv/projects
      clients: [{host: app1.example.com, options: [rw, sync, root_squash, secure, no_subtree_check]}]
      live: [{client: app1.example.com, options: [sync, wdelay, hide, no_subtree_check, sec=sys, rw, secure, root_squash, no_all_squash]}]
live:
  description: The whole live export table (C(/var/lib/nfs/etab)) after the run, each with C(path), C(client), C(options).
  returned: always
  type: list
  elements: dict
kernel:
  description: The kernel's export cache (C(/proc/fs/nfsd/exports)); null when nfsd is not running.
  returned: always
  type: list
  elements: dict
actions:
  description: Each change made (or that would be made in check mode), in order; files by C(path), C(exportfs -ra) by C(cmd).
  returned: always
  type: list
  elements: dict
reads:
  description: What was read. C([file, read, ...]) lists the files read from Python (no process).
  returned: always
  type: list
  elements: list
rolled_back:
  description: On a failed real run, the undo of the files this run wrote (restored or removed), then C(exportfs -ra).
  returned: on failure, when something was undone
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.strata.storage.plugins.module_utils.core.module_support import file_writer, finish, run_module
from ansible_collections.strata.storage.plugins.module_utils.core.runner import Action
from ansible_collections.strata.storage.plugins.module_utils.nfs import exports as nfs

EXPORT_KEYS = ("name", "path", "state", "clients", "fsid", "allow_no_root_squash", "allow_insecure", "allow_world")


def execute(runner, actions):
    """Files from Python, exportfs through the runner. A real run that fails puts the files back as
    they were and applies them again (undo stack: exportfs -ra first, then one undo per file)."""
    if not runner.check_mode and any(getattr(a, "cmd", None) for a in actions):
        runner.undo_stack.append(Action("apply the restored exports files again", cmd=["exportfs", "-ra"]))
    for action in actions:
        if isinstance(action, nfs.FileRemoval):
            runner.actions.append(action.report())
            if not runner.check_mode:
                nfs.set_aside(action.path)
                runner.undo_stack.append(Action("put %s back" % action.path,
                                                cmd=["mv", "-f", action.path + ".strata-removed", action.path]))
            continue
        runner.execute(action, writer=file_writer)
        if action.path is not None and not runner.check_mode:
            if getattr(action, "previous", None) is None:
                runner.undo_stack.append(Action("remove %s, which this run wrote" % action.path, cmd=["rm", "-f", action.path]))
            else:
                runner.undo_stack.append(Action("restore the previous %s" % action.path,
                                                cmd=["cp", "-p", action.path + ".strata-bak.1", action.path]))


def body(module, runner):
    params = module.params
    if params.get("exports"):
        defaults = dict((k, params[k]) for k in ("allow_no_root_squash", "allow_insecure", "allow_world"))
        reqs = [nfs.request_from_params(dict((k, item.get(k)) for k in EXPORT_KEYS), defaults) for item in params["exports"]]
    else:
        reqs = [nfs.request_from_params(dict((k, params.get(k)) for k in EXPORT_KEYS))]
    state = nfs.read_state(runner)
    plan = nfs.plan_exports(reqs, state)
    execute(runner, plan.actions)
    if not module.check_mode and plan.changed:
        state = nfs.read_state(runner)          # the live table exportfs now holds
    plan.warnings.extend(nfs.differences(state))
    result = {}
    for req in reqs:
        entry = dict(plan.after[req.name])
        entry["live"] = nfs.live_for(state, req.path) if req.path else []
        result[req.name] = entry
    finish(module, runner, plan, exports=result, live=state.live, kernel=state.kernel)


def main():
    client = dict(host=dict(type="str", required=True), options=dict(type="raw"))
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str"),
            path=dict(type="path"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            clients=dict(type="list", elements="dict", options=client),
            fsid=dict(type="str"),
            allow_no_root_squash=dict(type="bool", default=False),
            allow_insecure=dict(type="bool", default=False),
            allow_world=dict(type="bool", default=False),
            exports=dict(type="list", elements="dict"),
        ),
        mutually_exclusive=[("exports", "path"), ("exports", "name"), ("exports", "clients")],
        required_one_of=[("exports", "path", "name")],
        supports_check_mode=True,
    )
    run_module(module, body)


if __name__ == "__main__":
    main()
