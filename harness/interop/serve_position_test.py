# SPDX-License-Identifier: Apache-2.0
#
# serve_position_test.py - a malformed request gets the same answer from `etch serve`
# wherever it stands on its connection: as the first request, as the fifth after four good
# ones on a kept-alive connection, and pipelined between good ones in a single write.
# Every one is refused in the contract's error form with "Connection: close", and the
# connection then ends (nothing after a request that did not parse can be framed).
#
# Usage: serve_position_test.py PATH_TO_ETCH. Standard library only.

import sys

from serve_util import Connection, Server, TestFailure, build_request, check, run_main

# Every malformed request of the serve tests (serve_test.py), with the status it gets.
MALFORMED = (
    ("garbage", b"GARBAGE\r\n\r\n", 400),
    ("no HTTP version", b"GET /2012-09-25/pipelines\r\nHost: a\r\n\r\n", 400),
    ("HTTP/2.0 on the request line", b"GET /2012-09-25/pipelines HTTP/2.0\r\nHost: a\r\n\r\n",
     400),
    ("a field line without a colon", b"GET /2012-09-25/pipelines HTTP/1.1\r\nHost: a\r\n"
                                     b"X-Broken header\r\n\r\n", 400),
    ("obsolete folding", b"GET /2012-09-25/pipelines HTTP/1.1\r\nHost: a\r\nX-A: a\r\n"
                         b" b\r\n\r\n", 400),
    ("bare LF line ends", b"GET /2012-09-25/pipelines HTTP/1.1\nHost: a\n\n", 400),
    ("a space before the colon", b"GET /2012-09-25/pipelines HTTP/1.1\r\nHost : a\r\n\r\n", 400),
    ("a NUL in a value", b"GET /2012-09-25/pipelines HTTP/1.1\r\nHost: a\r\nX-A: a\x00b"
                         b"\r\n\r\n", 400),
    ("a control byte in a value", b"GET /2012-09-25/pipelines HTTP/1.1\r\nHost: a\r\n"
                                  b"X-A: a\x01b\r\n\r\n", 400),
    ("two Host headers", b"GET /2012-09-25/pipelines HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
     400),
    ("no Host", b"GET /2012-09-25/pipelines HTTP/1.1\r\n\r\n", 400),
    ("a space in the target", b"GET /2012-09-25/jobs/a b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("an absolute-form target", b"GET http://a/2012-09-25/pipelines HTTP/1.1\r\n"
                                b"Host: a\r\n\r\n", 400),
    ("a method that is not a token", b"G@T /2012-09-25/pipelines HTTP/1.1\r\nHost: a\r\n\r\n",
     400),
    ("Content-Length not a number", b"POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\n"
                                    b"Content-Length: ten\r\n\r\n{}", 400),
    ("Content-Length with chunked", b"POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\n"
                                    b"Content-Length: 5\r\nTransfer-Encoding: chunked"
                                    b"\r\n\r\n0\r\n\r\n", 400),
    ("a chunk size that is not hex", b"POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\n"
                                     b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n"
                                     b"0\r\n\r\n", 400),
    ("a declared body over the reference's limit", b"POST /2012-09-25/jobs HTTP/1.1\r\n"
                                                   b"Host: a\r\nContent-Length: 99999999"
                                                   b"\r\n\r\n", 413),
    ("a target over the limit", b"GET /2012-09-25/jobs/" + b"a" * 9000 + b" HTTP/1.1\r\n"
                                b"Host: a\r\n\r\n", 414),
    ("70 headers", b"GET /2012-09-25/pipelines HTTP/1.1\r\nHost: a\r\n" +
     b"".join(b"X-Filler-%d: v\r\n" % i for i in range(70)) + b"\r\n", 431),
)


def good_request(port):
    """A signed ListPipelines: 200 on a connection that stays open."""
    return build_request(port, "GET", "/2012-09-25/pipelines")


def what_counts(resp):
    """What must not depend on the position: status, error type, the JSON body (message),
    and that the answer closes the connection. The request Id and Date may differ."""
    return (resp.status, resp.header("x-amzn-ErrorType"), resp.header("Content-Type"),
            (resp.header("Connection") or "").lower(), resp.body)


def read_good(conn, what):
    r = conn.read_response()
    check(r.status == 200 and (r.header("Connection") or "").lower() != "close",
          "%s: the good request got %r" % (what, r))


def read_to_close(conn, what):
    """After a closing answer: nothing more, then EOF."""
    conn.sock.settimeout(10)
    try:
        rest = conn.sock.recv(1)
    except ConnectionResetError:
        raise TestFailure("%s: the connection was reset instead of closed" % what)
    check(rest == b"" and conn.buf == b"", "%s: bytes after the closing answer" % what)


def answer_first(port, raw, what):
    with Connection(port) as conn:
        conn.send(raw)
        r = conn.read_response()
        read_to_close(conn, what)
        return r


def answer_fifth(port, raw, what):
    with Connection(port) as conn:
        for _ in range(4):
            conn.send(good_request(port))
            read_good(conn, what)
        conn.send(raw)
        r = conn.read_response()
        read_to_close(conn, what)
        return r


def answer_pipelined(port, raw, what):
    """Two good requests, the malformed one and a good one after it, in one write: two
    200s, the refusal, and nothing for the request after it."""
    with Connection(port) as conn:
        conn.send(good_request(port) + good_request(port) + raw + good_request(port))
        read_good(conn, what)
        read_good(conn, what)
        r = conn.read_response()
        read_to_close(conn, what)
        return r


def test_positions(srv):
    failures = []
    for what, raw, status in MALFORMED:
        answers = {}
        for position, send in (("first", answer_first), ("fifth", answer_fifth),
                               ("pipelined", answer_pipelined)):
            try:
                answers[position] = what_counts(send(srv.port, raw, "%s (%s)" % (what,
                                                                                 position)))
            except (TestFailure, OSError) as e:
                answers[position] = "failed: %s" % e
        first = answers["first"]
        if isinstance(first, str) or first[0] != status or not first[1] or first[3] != "close":
            failures.append("%s: as the first request: expected %d in the error form with "
                            "Connection: close, got %r" % (what, status, first))
            continue
        for position in ("fifth", "pipelined"):
            if answers[position] != first:
                failures.append("%s: %s: %r, as the first request: %r"
                                % (what, position, answers[position], first))
    check(not failures, "answers depend on the position:\n  " + "\n  ".join(failures))


def main():
    etch = sys.argv[1]

    def body():
        with Server(etch, "--threads", "2") as srv:
            test_positions(srv)
    return run_main(body)


if __name__ == "__main__":
    sys.exit(main())
