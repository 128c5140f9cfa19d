# SPDX-License-Identifier: Apache-2.0
#
# serve_timeouts_test.py - the connection timeouts and the bound on open connections of
# `etch serve`, with short settings:
#
# - an idle kept-alive connection is still open well before --idle-timeout-ms and closed
#   (a clean close, no bytes) soon after it; one used again before the limit is still open
#   past the first limit, and answers;
# - a client that sends a request head a byte at a time, slower than --request-timeout-ms
#   allows, gets no answer and its connection closes (the server has no request to answer,
#   so it sends nothing: no 408);
# - with --max-connections 2 on one thread, a third connection waits in the listen backlog
#   without an answer while the first two keep working, and is answered once one of them
#   closes.
#
# The server checks its deadlines four times a second, so a connection closes up to 250 ms
# after its limit; the margins below are several times that, for a loaded machine.
#
# Usage: serve_timeouts_test.py PATH_TO_ETCH. Standard library only.

import socket
import sys
import threading
import time

from serve_util import Connection, Server, TestFailure, build_request, check, run_main

IDLE_TIMEOUT_MS = 2000
REQUEST_TIMEOUT_MS = 500
# Every wait for a close ends after this long.
CLOSE_WITHIN_S = 5.0


def good_request(port):
    """A signed ListPipelines: 200 on a connection that stays open."""
    return build_request(port, "GET", "/2012-09-25/pipelines")


def ask(conn, what):
    conn.send(good_request(conn.port))
    r = conn.read_response()
    check(r.status == 200 and (r.header("Connection") or "").lower() != "close",
          "%s: the request got %r" % (what, r))


def is_closed_now(conn):
    """True when the server has closed the connection (EOF or reset waiting), without
    waiting; fails on bytes nobody asked for."""
    # A socket with a timeout waits for data whatever the flags: not blocking, for once.
    timeout = conn.sock.gettimeout()
    conn.sock.setblocking(False)
    try:
        data = conn.sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        conn.sock.settimeout(timeout)
    check(data == b"", "bytes nobody asked for: %r" % data)
    return True


def wait_closed(conn, what):
    """Waits for the server to close the connection; returns the seconds it took. Nothing
    may arrive before the close."""
    started = time.monotonic()
    conn.sock.settimeout(CLOSE_WITHIN_S)
    try:
        data = conn.sock.recv(65536)
    except socket.timeout:
        raise TestFailure("%s: still open after %.1f s" % (what, CLOSE_WITHIN_S))
    except ConnectionResetError:
        data = b""
    check(data == b"" and conn.buf == b"", "%s: bytes before the close: %r" % (what, data))
    return time.monotonic() - started


def sleep_until(started, seconds):
    left = started + seconds - time.monotonic()
    if left > 0:
        time.sleep(left)


def test_idle_timeout(port):
    limit_s = IDLE_TIMEOUT_MS / 1000.0
    with Connection(port) as conn:
        ask(conn, "idle: the first request")
        answered = time.monotonic()
        sleep_until(answered, limit_s * 0.15)
        check(not is_closed_now(conn), "idle: closed %.0f ms after the answer, before the "
              "idle timeout of %d ms" % ((time.monotonic() - answered) * 1e3, IDLE_TIMEOUT_MS))
        wait_closed(conn, "idle")
        closed_after = time.monotonic() - answered
        # The server's clock starts when it has written the answer, a little before ours.
        check(closed_after >= limit_s * 0.8, "idle: closed after %.0f ms, before the idle "
              "timeout of %d ms" % (closed_after * 1e3, IDLE_TIMEOUT_MS))


def test_idle_timeout_restarts(port):
    """Used again at half the limit, the connection is still open at 1.25 times the limit
    (a quarter of the limit after the first limit and its sweep) and answers."""
    limit_s = IDLE_TIMEOUT_MS / 1000.0
    with Connection(port) as conn:
        ask(conn, "reused: the first request")
        answered = time.monotonic()
        sleep_until(answered, limit_s * 0.5)
        ask(conn, "reused: the request at half the idle timeout")
        sleep_until(answered, limit_s * 1.25)
        check(not is_closed_now(conn), "reused: closed %.0f ms after the first answer, though "
              "used again at %.0f ms" % ((time.monotonic() - answered) * 1e3,
                                         IDLE_TIMEOUT_MS * 0.5))
        ask(conn, "reused: the request past the first idle limit")


def test_slow_request(port):
    """A request head sent a byte every 50 ms (a few seconds for the whole head): the
    connection closes without an answer about REQUEST_TIMEOUT_MS after the first byte."""
    raw = good_request(port)
    limit_s = REQUEST_TIMEOUT_MS / 1000.0
    with Connection(port) as conn:
        stop = threading.Event()
        sent = []

        def trickle():
            try:
                for i in range(len(raw)):
                    if stop.is_set():
                        return
                    conn.sock.send(raw[i:i + 1])
                    sent.append(i)
                    time.sleep(0.05)
            except OSError:
                pass  # the server has closed: what follows is refused

        started = time.monotonic()
        sender = threading.Thread(target=trickle)
        sender.start()
        try:
            wait_closed(conn, "slow request")
        finally:
            stop.set()
            sender.join()
        closed_after = time.monotonic() - started
        check(len(sent) < len(raw), "slow request: the whole request was sent before the close")
        check(closed_after >= limit_s * 0.8, "slow request: closed after %.0f ms, before the "
              "request timeout of %d ms" % (closed_after * 1e3, REQUEST_TIMEOUT_MS))


def test_max_connections(port):
    with Connection(port) as first, Connection(port) as second:
        ask(first, "bound: the first connection")
        ask(second, "bound: the second connection")
        third = Connection(port)
        try:
            # The kernel completes the handshake; the server does not take the connection.
            third.send(good_request(port))
            third.sock.settimeout(0.5)
            try:
                early = third.sock.recv(65536)
                raise TestFailure("bound: the third connection got %r while two were open"
                                  % early[:200])
            except socket.timeout:
                pass
            ask(first, "bound: the first connection with a third waiting")
            ask(second, "bound: the second connection with a third waiting")
            first.close()
            third.sock.settimeout(CLOSE_WITHIN_S)
            try:
                r = third.read_response()
            except socket.timeout:
                raise TestFailure("bound: the third connection got no answer within %.0f s "
                                  "of the first closing" % CLOSE_WITHIN_S)
            check(r.status == 200, "bound: the third connection got %r" % r)
            ask(second, "bound: the second connection after the third was taken")
            ask(third, "bound: the third connection again")
        finally:
            third.close()


def main():
    etch = sys.argv[1]

    def body():
        with Server(etch, "--threads", "1", "--idle-timeout-ms", str(IDLE_TIMEOUT_MS),
                    "--request-timeout-ms", str(REQUEST_TIMEOUT_MS)) as srv:
            checks = [test_idle_timeout, test_idle_timeout_restarts, test_slow_request]
            failures = []

            def run(test):
                try:
                    test(srv.port)
                except (TestFailure, OSError) as e:
                    failures.append("%s: %s" % (test.__name__, e))

            # Each check has its own connection, and they take a few seconds each: side by
            # side.
            threads = [threading.Thread(target=run, args=(t,)) for t in checks]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            check(not failures, "\n  ".join(failures))
        with Server(etch, "--threads", "1", "--max-connections", "2") as srv:
            test_max_connections(srv.port)
    return run_main(body)


if __name__ == "__main__":
    sys.exit(main())
