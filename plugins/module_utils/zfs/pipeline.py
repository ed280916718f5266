# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`zfs send | zfs receive` without a shell: two argv lists joined by a copy loop in this
process, which counts the bytes that went through (the `bytes_sent` a replication run
reports). Both commands run in the C locale; their stderr goes to temp files (no pipe can
fill up and stall them). `limit` stops the copy after that many bytes, as a cut link would:
the receive side then keeps a resume token (used by tests of resumable sends)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass

from ansible_collections.strata.storage.plugins.module_utils.core.runner import TOOL_ENV

CHUNK = 1 << 20


@dataclass
class PipeResult:
    send_rc: int
    recv_rc: int
    bytes: int
    send_stderr: str
    recv_stderr: str
    recv_stdout: str
    cut: bool = False


def run_pipeline(send_cmd, recv_cmd, limit=None):
    env = dict(os.environ, **TOOL_ENV)
    with tempfile.TemporaryFile() as send_err, tempfile.TemporaryFile() as recv_err, \
            tempfile.TemporaryFile() as recv_out:
        # run_command cannot join two processes without a shell and count the bytes between
        # them, which is the point here (argv lists, no shell)
        send = subprocess.Popen(send_cmd, stdout=subprocess.PIPE, stderr=send_err, env=env)  # pylint: disable=ansible-bad-function
        recv = subprocess.Popen(recv_cmd, stdin=subprocess.PIPE, stdout=recv_out,  # pylint: disable=ansible-bad-function
                                stderr=recv_err, env=env)
        total = 0
        cut = False
        try:
            while True:
                want = CHUNK if limit is None else min(CHUNK, limit - total)
                if want <= 0:
                    cut = True
                    break
                chunk = send.stdout.read(want)
                if not chunk:
                    break
                try:
                    recv.stdin.write(chunk)
                except BrokenPipeError:
                    break
                total += len(chunk)
        finally:
            try:
                recv.stdin.close()
            except BrokenPipeError:
                pass
            if cut:
                send.kill()
            send.stdout.close()
            send_rc = send.wait()
            recv_rc = recv.wait()
        for handle in (send_err, recv_err, recv_out):
            handle.seek(0)
        return PipeResult(send_rc=send_rc, recv_rc=recv_rc, bytes=total,
                          send_stderr=send_err.read().decode("utf-8", "replace"),
                          recv_stderr=recv_err.read().decode("utf-8", "replace"),
                          recv_stdout=recv_out.read().decode("utf-8", "replace"), cut=cut)
