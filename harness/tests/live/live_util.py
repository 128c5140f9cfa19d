# SPDX-License-Identifier: Apache-2.0
#
# live_util.py - shared pieces of the live-run tests: `etch serve` started on a free port
# and stopped, `etch` run with a wall-clock bound, a loopback TCP server skeleton, on it a
# TCP or TLS proxy that counts connections and an HTTP CONNECT proxy, and a signed request
# to look at what a run left on the server.
#
# Standard library only. The server wrapper and the signer are the ones the `etch serve`
# tests use (harness/interop/serve_util.py), so both sets of tests agree on them.

import os
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "interop"))
import serve_util  # noqa: E402  (path set just above)

from serve_util import Server, TestFailure, check, run_main  # noqa: E402,F401

SKIP = serve_util.SKIP


def clean_env(extra=None):
    """The environment for etch: no AWS settings of whoever runs the tests, no proxy."""
    env = serve_util.isolated_env(extra)
    env.pop("AWS_CONFIG_FILE", None)
    env.pop("AWS_SHARED_CREDENTIALS_FILE", None)
    env.pop("AWS_EC2_METADATA_DISABLED", None)
    return env


class Result:
    def __init__(self, status, out, err, seconds):
        self.status = status
        self.out = out
        self.err = err
        self.seconds = seconds

    def text(self):
        return "exit %s after %.1f s\n--- stdout ---\n%s--- stderr ---\n%s" % (
            self.status, self.seconds, self.out, self.err)


def run_etch(etch, args, limit_s, env=None):
    """Runs etch; a run over limit_s is killed and fails the test (etch must not hang)."""
    start = time.monotonic()
    try:
        p = subprocess.run([etch] + args, capture_output=True, timeout=limit_s,
                           env=env if env is not None else clean_env(), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise TestFailure("etch %s did not finish within %d s (it hung)\n%s" % (
            " ".join(args[:3]), limit_s,
            (e.stdout or b"").decode("utf-8", "replace")[-3000:]))
    r = Result(p.returncode, p.stdout.decode("utf-8", "replace"),
               p.stderr.decode("utf-8", "replace"), time.monotonic() - start)
    check(r.status >= 0, "etch died from signal %d\n%s" % (-r.status, r.text()))
    return r


def expect(result, status, *texts):
    """The run ended with this exit status and printed each text (stdout or stderr)."""
    check(result.status == status, "want exit %d, got\n%s" % (status, result.text()))
    both = result.out + result.err
    for t in texts:
        check(t in both, "%r not in the output:\n%s" % (t, result.text()))


def pipe_bytes(src, dst, stopping):
    """Copies src to dst until src closes or stopping is set, then closes both."""
    src.settimeout(0.5)
    try:
        while not stopping.is_set():
            try:
                data = src.recv(65536)
            except socket.timeout:
                continue
            if not data:
                break
            dst.sendall(data)
    except (OSError, ssl.SSLError):
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


class LoopbackServer:
    """A TCP server on a free loopback port. Inside a `with` block a background thread
    accepts; each connection is counted and handed to self._handle on a thread of its own.
    Subclasses say what _handle does."""

    def __init__(self, backlog=16):
        self.connections = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.sock.settimeout(0.2)  # so that the thread sees `stopping` soon
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(5)
        self.sock.close()
        return False

    def _accept(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        raise NotImplementedError


class Proxy(LoopbackServer):
    """A TCP proxy to a backend port, optionally terminating TLS on its side; it counts
    the connections clients open, which shows whether they keep them alive."""

    def __init__(self, backend_port, tls_context=None):
        super().__init__(backlog=32)
        self.backend_port = backend_port
        self.tls = tls_context

    def _handle(self, client):
        try:
            if self.tls is not None:
                client.settimeout(10)
                client = self.tls.wrap_socket(client, server_side=True)
            upstream = socket.create_connection(("127.0.0.1", self.backend_port), timeout=10)
        except (OSError, ssl.SSLError):
            client.close()
            return
        t = threading.Thread(target=pipe_bytes, args=(upstream, client, self.stopping),
                             daemon=True)
        t.start()
        pipe_bytes(client, upstream, self.stopping)
        t.join(10)


class ConnectProxy(LoopbackServer):
    """An HTTP proxy that only tunnels (CONNECT host:port), recording what it was asked."""

    def __init__(self):
        super().__init__()
        self.targets = []

    def _handle(self, client):
        client.settimeout(10)
        head = b""
        try:
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    client.close()
                    return
                head += chunk
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            self.targets.append(line)
            method, target, _ = line.split(" ", 2)
            if method != "CONNECT":
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                client.close()
                return
            host, _, port = target.rpartition(":")
            upstream = socket.create_connection((host, int(port)), timeout=10)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        except (OSError, ValueError):
            client.close()
            return
        t = threading.Thread(target=pipe_bytes, args=(upstream, client, self.stopping),
                             daemon=True)
        t.start()
        pipe_bytes(client, upstream, self.stopping)
        t.join(10)


def signed_get(port, path):
    """A GET signed by the main test principal, answered on a fresh connection."""
    with serve_util.Connection(port) as conn:
        conn.send(serve_util.build_request(port, "GET", path))
        return conn.read_response()
