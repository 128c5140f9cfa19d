# SPDX-License-Identifier: Apache-2.0
#
# serve_handle_test.py - `etch handle` and `etch serve` answer the same bytes alike when
# they are far over the reference's limits: an 8 MiB body behind its Content-Length, a
# 1 MiB header value, a 1 MiB Signature inside Authorization, a 1 MiB request target, and
# a chunked body whose framing (1.2 MB of one-byte chunks) is longer than any limit while
# every chunk stays in bounds. Same status, error type and message from both.
#
# Usage: serve_handle_test.py PATH_TO_ETCH. Standard library only; starts and stops its
# own server with the reference's default limits, the ones `etch handle` has.

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading

from serve_util import Connection, Server, TestFailure, check, etch_binary, run_main

MIB = 1024 * 1024
HANDLE_TIMEOUT_S = 60
CANCEL_HEAD = (b"DELETE /2012-09-25/jobs/2222222222222-abcdef HTTP/1.1\r\n"
               b"Host: localhost\r\n")


def requests():
    """(name, raw bytes, the status both must give)."""
    return (
        ("an 8 MiB body", b"POST /2012-09-25/jobs HTTP/1.1\r\nHost: localhost\r\n"
                          b"Content-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n" % (8 * MIB) + b"x" * (8 * MIB), 413),
        ("a 1 MiB header value", CANCEL_HEAD + b"X-Big: " + b"a" * MIB + b"\r\n\r\n", 431),
        ("a 1 MiB Signature", CANCEL_HEAD + b"X-Amz-Date: 20261128T124516Z\r\n"
                              b"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
                              b"20261128/us-east-1/elastictranscoder/aws4_request, "
                              b"SignedHeaders=host;x-amz-date, Signature=" + b"0" * MIB +
                              b"\r\n\r\n", 431),
        ("a 1 MiB target", b"DELETE /2012-09-25/jobs/" + b"a" * MIB +
                           b" HTTP/1.1\r\nHost: localhost\r\n\r\n", 414),
        ("1.2 MB of one-byte chunks", b"POST /2012-09-25/jobs HTTP/1.1\r\nHost: localhost\r\n"
                                      b"Transfer-Encoding: chunked\r\n\r\n" +
                                      b"1\r\nx\r\n" * 200000 + b"0\r\n\r\n", 403),
    )


def parse_answer(raw, what):
    """(status, error type, message) of one raw HTTP response."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    check(sep != b"", "%s: no end of the head in %r" % (what, raw[:200]))
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"^HTTP/1\.1 (\d{3}) ", lines[0])
    check(m is not None, "%s: bad status line %r" % (what, lines[0]))
    error_type = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "x-amzn-errortype":
            error_type = value.strip()
    return int(m.group(1)), error_type, body


def ask_handle(etch, path, what):
    p = subprocess.run([etch, "handle", path], capture_output=True, timeout=HANDLE_TIMEOUT_S)
    check(p.returncode == 1, "%s: etch handle exited %d (wanted 1), stderr %r"
          % (what, p.returncode, p.stderr[:300]))
    return parse_answer(p.stdout, "etch handle, " + what)


def ask_serve(port, raw, what):
    """Sends everything while reading the answer: a refused upload may be cut short by the
    server (a reset or a broken pipe on our side), but its answer must have come first."""
    with Connection(port, timeout=30) as conn:
        def send():
            try:
                conn.send(raw)
            except OSError:
                pass
        sender = threading.Thread(target=send)
        sender.start()
        try:
            resp = conn.read_response()
        except ConnectionResetError:
            raise TestFailure("%s: etch serve reset the connection before answering" % what)
        finally:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)  # a sender still blocked stops at once
            except OSError:
                pass
            sender.join(30)
        return resp.status, resp.header("x-amzn-ErrorType"), resp.body


def main():
    etch = etch_binary()
    with Server(etch) as srv, tempfile.TemporaryDirectory() as tmp:
        for i, (what, raw, status) in enumerate(requests()):
            path = os.path.join(tmp, "request-%d.http" % i)
            with open(path, "wb") as f:
                f.write(raw)
            handled = ask_handle(etch, path, what)
            served = ask_serve(srv.port, raw, what)
            check(handled[0] == status,
                  "%s: etch handle answered %d %s, wanted %d" % (what, handled[0], handled[1],
                                                                  status))
            check(handled == served, "%s: etch handle answered %d %s %r, etch serve %d %s %r"
                  % ((what,) + handled + served))
            print("%s: %d %s from both" % (what, handled[0], handled[1]))


if __name__ == "__main__":
    sys.exit(run_main(main))
