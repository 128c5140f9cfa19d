# SPDX-License-Identifier: Apache-2.0
#
# misbehaving_server.py - an HTTP endpoint that answers its first N requests properly and
# then misbehaves in one chosen way, to show that `etch run --endpoint` neither crashes
# nor hangs on a broken endpoint.
#
# Standard library only. Used as a module by test_live_misbehaving.py, or by hand:
#     python3 misbehaving_server.py MODE [GOOD_ANSWERS]
# prints "listening on http://127.0.0.1:PORT" and serves until interrupted.

import socket
import struct
import sys
import time
import uuid
from email.utils import formatdate

from live_util import LoopbackServer

MODES = {
    "garbage": "bytes that are not HTTP, then a close",
    "reset": "a TCP reset instead of an answer",
    "silent": "reads the request and never answers",
    "huge": "announces a 10 GB body and streams it",
    "endless-chunked": "a chunked body that never ends",
    "endless-close": "a body without framing that never ends",
    "slow": "a valid answer, one byte every 200 ms",
    "invalid-json": "404 ResourceNotFoundException whose body is not valid JSON",
    "html404": "an HTML 404 to everything (an endpoint without the API)",
    "rnf-empty": "404 with x-amzn-ErrorType ResourceNotFoundException and no body",
    "close": "closes the connection without a byte",
    "good": "answers everything properly (with --date-offset: a clock that is off)",
}

HEAD_LIMIT = 65536


def _answer(status, reason, headers, body, date_offset_s=0):
    lines = ["HTTP/1.1 %d %s" % (status, reason),
             "Date: " + formatdate(time.time() + date_offset_s, usegmt=True)]
    lines += ["%s: %s" % h for h in headers]
    lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def good_answer(date_offset_s=0, signed=False):
    """What an endpoint of this API answers: to an unsigned request a proper 403, to a
    signed one a proper 404 (no such pipeline or job), as for the preflight's calls."""
    if signed:
        body = b'{"message":"The specified resource was not found."}'
        return _answer(404, "Not Found", [("Content-Type", "application/json"),
                                          ("x-amzn-ErrorType", "ResourceNotFoundException"),
                                          ("x-amzn-RequestId", str(uuid.uuid4()))], body,
                       date_offset_s)
    body = b'{"message":"Missing Authentication Token"}'
    return _answer(403, "Forbidden", [("Content-Type", "application/json"),
                                      ("x-amzn-ErrorType", "MissingAuthenticationTokenException"),
                                      ("x-amzn-RequestId", str(uuid.uuid4()))], body,
                   date_offset_s)


class MisbehavingServer(LoopbackServer):
    """Serves on a free loopback port in background threads."""

    def __init__(self, mode, good=0, date_offset_s=0):
        if mode not in MODES:
            raise ValueError("unknown mode %r" % mode)
        super().__init__()
        self.mode = mode
        self.good = good
        self.date_offset_s = date_offset_s
        self.requests = 0

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def _read_request(self, conn, buf):
        """Reads one request (head and Content-Length body); returns (request, rest) or
        (None, b"") when the client went away."""
        while b"\r\n\r\n" not in buf:
            if len(buf) > HEAD_LIMIT:
                return None, b""
            chunk = conn.recv(65536)
            if not chunk:
                return None, b""
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or b"0")
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None, b""
            rest += chunk
        return head, rest[length:]

    def _handle(self, conn):
        conn.settimeout(1.0)
        buf = b""
        try:
            while not self.stopping.is_set():
                try:
                    req, buf = self._read_request(conn, buf)
                except socket.timeout:
                    continue
                if req is None:
                    return
                with self.lock:
                    self.requests += 1
                    is_good = self.requests <= self.good
                if is_good or self.mode == "good":
                    signed = b"\r\nauthorization:" in req.lower()
                    conn.sendall(good_answer(self.date_offset_s, signed))
                    continue
                if not self._misbehave(conn):
                    return
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _stream(self, conn, piece, delay=0.0):
        while not self.stopping.is_set():
            conn.sendall(piece)
            if delay:
                time.sleep(delay)

    def _misbehave(self, conn):
        """Answers one request badly; False when the connection is done."""
        m = self.mode
        if m == "garbage":
            conn.sendall(b"\x00\xffTHIS IS NOT HTTP\r\n\r\n")
            return False
        if m == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if m == "close":
            return False
        if m == "silent":
            self.stopping.wait(120)
            return False
        if m == "huge":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 10000000000\r\n\r\n")
            self._stream(conn, b"x" * 65536)
            return False
        if m == "endless-chunked":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            self._stream(conn, b"1000\r\n" + b"y" * 4096 + b"\r\n")
            return False
        if m == "endless-close":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
            self._stream(conn, b"z" * 65536)
            return False
        if m == "slow":
            for byte in good_answer():
                if self.stopping.is_set():
                    return False
                conn.sendall(bytes([byte]))
                time.sleep(0.2)
            return True
        if m == "invalid-json":
            conn.sendall(_answer(404, "Not Found",
                                 [("Content-Type", "application/json"),
                                  ("x-amzn-ErrorType", "ResourceNotFoundException"),
                                  ("x-amzn-RequestId", str(uuid.uuid4()))],
                                 b'{"message": "no such job", '))
            return True
        if m == "html404":
            conn.sendall(_answer(404, "Not Found", [("Content-Type", "text/html")],
                                 b"<html><body><h1>404 Not Found</h1></body></html>"))
            return True
        if m == "rnf-empty":
            conn.sendall(_answer(404, "Not Found",
                                 [("x-amzn-ErrorType", "ResourceNotFoundException"),
                                  ("x-amzn-RequestId", str(uuid.uuid4()))], b""))
            return True
        return False


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in MODES:
        print("usage: misbehaving_server.py MODE [GOOD_ANSWERS]\nmodes:", file=sys.stderr)
        for name, what in MODES.items():
            print("  %-16s %s" % (name, what), file=sys.stderr)
        return 2
    good = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    with MisbehavingServer(sys.argv[1], good) as srv:
        print("listening on %s" % srv.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
