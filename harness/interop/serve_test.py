# SPDX-License-Identifier: Apache-2.0
#
# serve_test.py - `etch serve` over raw sockets: a signed CancelJob flow on one kept-alive
# connection, a %2F inside an Id reaching the reference undecoded, the body size limit,
# many connections at once, a credentials file, and a graceful SIGTERM (the request in
# flight finishes, new connections are refused, exit 0).
#
# Usage: serve_test.py PATH_TO_ETCH. Standard library only; starts and stops its servers.

import json
import socket
import subprocess
import sys
import tempfile
import threading
import time

from serve_util import (ID_PATTERN, PRESET_ID, ROLE_ARN, UUID_PATTERN, Connection, Server,
                        TestFailure, build_request, check, etch_binary, run_main)

BODY_LIMIT = 4096
THREADS = 32
REQUESTS_PER_THREAD = 4


def expect_error(resp, status, error_type, what):
    check(resp.status == status and resp.header("x-amzn-ErrorType") == error_type,
          "%s: expected %d %s, got %r" % (what, status, error_type, resp))
    check(resp.header("Content-Type") == "application/json",
          "%s: error without Content-Type application/json" % what)
    check("message" in resp.json(), "%s: error body without 'message': %r" % (what, resp.body))
    check(UUID_PATTERN.match(resp.header("x-amzn-RequestId") or ""),
          "%s: no x-amzn-RequestId UUID" % what)


def exchange(conn, port, method, target, body=b"", **kw):
    content_type = "application/json" if body or method == "POST" else None
    conn.send(build_request(port, method, target, body, content_type=content_type, **kw))
    return conn.read_response()


def create_pipeline_and_job(conn, port, name):
    body = json.dumps({"Name": name, "InputBucket": "etch-in", "OutputBucket": "etch-out",
                       "Role": ROLE_ARN}).encode()
    r = exchange(conn, port, "POST", "/2012-09-25/pipelines", body)
    check(r.status == 201, "CreatePipeline: expected 201, got %r" % r)
    pipeline_id = r.json()["Pipeline"]["Id"]
    check(ID_PATTERN.match(pipeline_id), "CreatePipeline: bad Id %r" % pipeline_id)

    body = json.dumps({"Id": pipeline_id, "Status": "Paused"}).encode()
    r = exchange(conn, port, "POST", "/2012-09-25/pipelines/%s/status" % pipeline_id, body)
    check(200 <= r.status < 300, "UpdatePipelineStatus Paused: expected 2xx, got %r" % r)

    body = json.dumps({"PipelineId": pipeline_id, "Input": {"Key": "in.mp4"},
                       "Output": {"Key": "out.mp4", "PresetId": PRESET_ID}}).encode()
    r = exchange(conn, port, "POST", "/2012-09-25/jobs", body)
    check(r.status == 201, "CreateJob: expected 201, got %r" % r)
    job = r.json()["Job"]
    check(job["Status"] == "Submitted", "CreateJob: job not Submitted: %r" % job)
    return pipeline_id, job["Id"]


def test_cancel_flow_keep_alive(srv):
    """The whole CancelJob flow on one connection: every answer must come back on it."""
    port = srv.port
    with Connection(port) as conn:
        _, job_id = create_pipeline_and_job(conn, port, "etch-serve-flow")

        r = exchange(conn, port, "DELETE", "/2012-09-25/jobs/" + job_id)
        check(r.status == 202, "CancelJob: expected 202, got %r" % r)
        check(r.json() == {"Success": "true"}, "CancelJob: body %r" % r.body)
        check(r.header("Content-Type") == "application/json", "CancelJob: Content-Type")
        check(UUID_PATTERN.match(r.header("x-amzn-RequestId") or ""), "CancelJob: RequestId")
        check(r.header("x-amzn-ErrorType") is None, "CancelJob: x-amzn-ErrorType on success")
        check((r.header("Connection") or "").lower() != "close", "CancelJob: Connection close")

        r = exchange(conn, port, "GET", "/2012-09-25/jobs/" + job_id)
        check(r.status == 200 and r.json()["Job"]["Status"] == "Canceled",
              "ReadJob after cancel: expected Canceled, got %r" % r)

        r = exchange(conn, port, "DELETE", "/2012-09-25/jobs/" + job_id)
        expect_error(r, 409, "ResourceInUseException", "CancelJob twice")

        r = exchange(conn, port, "GET", "/2012-09-25/jobs/1111111111111-abcdef")
        expect_error(r, 404, "ResourceNotFoundException", "ReadJob of an unknown Id")

        r = exchange(conn, port, "DELETE", "/2012-09-25/jobs/" + job_id,
                     secret="not-the-secret")
        expect_error(r, 403, "InvalidSignatureException", "CancelJob with a wrong secret")

        r = exchange(conn, port, "DELETE", "/2012-09-25/jobs/" + job_id, signed=False)
        expect_error(r, 403, "MissingAuthenticationTokenException", "CancelJob unsigned")
    return job_id


def test_encoded_slash_reaches_reference(srv):
    """%2F inside an Id stays inside the label: 400 ValidationException, never a 404 from a
    decoded path with one more segment. The signature covers the target as sent."""
    with Connection(srv.port) as conn:
        r = exchange(conn, srv.port, "DELETE", "/2012-09-25/jobs/1111111111111-ab%2Fcdef")
        expect_error(r, 400, "ValidationException", "CancelJob with %2F in the Id")
        r = exchange(conn, srv.port, "GET", "/2012-09-25/jobs/1111111111111-ab%2Fcdef")
        expect_error(r, 400, "ValidationException", "ReadJob with %2F in the Id")
    check("DELETE /2012-09-25/jobs/1111111111111-ab%2Fcdef 400 ValidationException"
          in srv.stderr_text(), "the log does not show the target as received")


def test_body_limit(srv):
    port = srv.port
    big = json.dumps({"PipelineId": "1111111111111-abcdef", "Input": {"Key": "x" * BODY_LIMIT},
                      "Output": {"Key": "o", "PresetId": PRESET_ID}}).encode()
    check(len(big) > BODY_LIMIT, "test body not over the limit")
    with Connection(port) as conn:
        r = exchange(conn, port, "POST", "/2012-09-25/jobs", big)
        expect_error(r, 413, "RequestEntityTooLargeException", "CreateJob over the body limit")
        # The body was drained, so the connection stays usable.
        r = exchange(conn, port, "GET", "/2012-09-25/jobs/1111111111111-abcdef")
        expect_error(r, 404, "ResourceNotFoundException", "ReadJob after a 413")

    # A chunked body has no length up front: counted as it arrives.
    with Connection(port) as conn:
        chunk = b"y" * 1000
        head = ("POST /2012-09-25/jobs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" % port)
        body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(5)) + b"0\r\n\r\n"
        conn.send(head.encode() + body)
        r = conn.read_response()
        expect_error(r, 413, "RequestEntityTooLargeException", "chunked body over the limit")

    # A client waiting for 100 Continue is answered at once, before it sends the body.
    with Connection(port) as conn:
        head = ("POST /2012-09-25/jobs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\n"
                "Expect: 100-continue\r\n\r\n" % (port, BODY_LIMIT + 1))
        conn.send(head.encode())
        r = conn.read_response()
        expect_error(r, 413, "RequestEntityTooLargeException", "Expect: 100-continue over limit")


def test_request_checks(srv):
    port = srv.port
    with Connection(port) as conn:
        conn.send(("GET /2012-09-25/jobs/%s HTTP/1.1\r\nHost: x\r\n\r\n" % ("a" * 9000)).encode())
        r = conn.read_response()
        check(r.status == 414 and r.header("x-amzn-ErrorType"), "long target: %r" % r)
    with Connection(port) as conn:
        many = "".join("X-Filler-%d: v\r\n" % i for i in range(70))
        conn.send(("GET /2012-09-25/pipelines HTTP/1.1\r\nHost: x\r\n%s\r\n" % many).encode())
        r = conn.read_response()
        check(r.status == 431 and r.header("x-amzn-ErrorType"), "70 headers: %r" % r)
    # What the reference's strict parser refuses, refused in the contract's error form.
    for what, raw in (
            ("two Host headers", b"GET /2012-09-25/pipelines HTTP/1.1\r\nHost: a\r\n"
                                 b"Host: b\r\n\r\n"),
            ("no Host", b"GET /2012-09-25/pipelines HTTP/1.1\r\n\r\n"),
            ("a space in the target", b"GET /2012-09-25/jobs/a b HTTP/1.1\r\nHost: a\r\n\r\n"),
            ("an absolute-form target", b"GET http://a/2012-09-25/pipelines HTTP/1.1\r\n"
                                        b"Host: a\r\n\r\n"),
            ("a method that is not a token", b"G@T /2012-09-25/pipelines HTTP/1.1\r\n"
                                             b"Host: a\r\n\r\n"),
            ("a control byte in a value", b"GET /2012-09-25/pipelines HTTP/1.1\r\nHost: a\r\n"
                                          b"X-A: a\x01b\r\n\r\n"),
            ("Content-Length with chunked", b"POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\n"
                                            b"Content-Length: 5\r\nTransfer-Encoding: chunked"
                                            b"\r\n\r\n0\r\n\r\n")):
        with Connection(port) as conn:
            conn.send(raw)
            r = conn.read_response()
            check(r.status == 400 and r.header("x-amzn-ErrorType") and "message" in r.json(),
                  "%s: expected 400 in the error form, got %r" % (what, r))


def read_to_close(conn, what):
    """After an answer that closes: nothing more, then EOF (a reset would lose answers)."""
    conn.sock.settimeout(10)
    try:
        rest = conn.sock.recv(1)
    except ConnectionResetError:
        raise TestFailure("%s: the connection was reset instead of closed" % what)
    check(rest == b"" and conn.buf == b"", "%s: bytes after the closing answer" % what)


def test_malformed(srv):
    """Malformed requests get the reference's own answer (not a closed socket, a repaired
    header or a server's HTML page): every request is read by the strict parser."""
    port = srv.port
    refused = (
        ("garbage", b"GARBAGE\r\n\r\n", 400),
        ("no HTTP version", b"GET /2012-09-25/pipelines\r\nHost: a\r\n\r\n", 400),
        ("HTTP/2.0 on the request line", b"GET /2012-09-25/pipelines HTTP/2.0\r\nHost: a\r\n\r\n",
         400),
        ("a field line without a colon", b"GET /2012-09-25/pipelines HTTP/1.1\r\nHost: a\r\n"
                                         b"X-Broken header\r\n\r\n", 400),
        ("obsolete folding", b"GET /2012-09-25/pipelines HTTP/1.1\r\nHost: a\r\nX-A: a\r\n"
                             b" b\r\n\r\n", 400),
        ("bare LF line ends", b"GET /2012-09-25/pipelines HTTP/1.1\nHost: a\n\n", 400),
        ("a space before the colon", b"GET /2012-09-25/pipelines HTTP/1.1\r\nHost : a\r\n\r\n",
         400),
        ("a NUL in a value", b"GET /2012-09-25/pipelines HTTP/1.1\r\nHost: a\r\nX-A: a\x00b"
                             b"\r\n\r\n", 400),
        ("Content-Length not a number", b"POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\n"
                                        b"Content-Length: ten\r\n\r\n{}", 400),
        ("a chunk size that is not hex", b"POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\n"
                                         b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n"
                                         b"0\r\n\r\n", 400),
        ("a declared body over the reference's limit", b"POST /2012-09-25/jobs HTTP/1.1\r\n"
                                                       b"Host: a\r\nContent-Length: 99999999"
                                                       b"\r\n\r\n", 413),
    )
    for what, raw, status in refused:
        with Connection(port) as conn:
            conn.send(raw)
            r = conn.read_response()
            check(r.status == status and r.header("x-amzn-ErrorType") and "message" in r.json(),
                  "%s: expected %d in the error form, got %r" % (what, status, r))
            check(r.header("Content-Type") == "application/json", "%s: Content-Type" % what)
            check((r.header("Connection") or "").lower() == "close",
                  "%s: a refusal must close the connection" % what)
            read_to_close(conn, what)

    # A head that arrives in pieces is judged once it is all there.
    with Connection(port) as conn:
        for piece in (b"GET /2012-09-25/pipe", b"lines HTTP/1.1\r\nHo", b"st: a\r\nX-A: a\r\n",
                      b" folded\r\n\r\n"):
            conn.send(piece)
            time.sleep(0.05)
        r = conn.read_response()
        check(r.status == 400 and r.header("x-amzn-ErrorType") == "BadRequestException",
              "folding sent in pieces: %r" % r)
        read_to_close(conn, "folding sent in pieces")

    # A refused client that goes on sending still gets the whole answer, then a close.
    with Connection(port) as conn:
        conn.send(b"GARBAGE\r\n\r\n")
        time.sleep(0.05)
        try:
            conn.send(b"x" * 4096)
        except OSError:
            pass  # the gate may have shut its side down already: the answer still counts
        r = conn.read_response()
        check(r.status == 400, "garbage, then more bytes: %r" % r)

    # A chunked body the gate has seen whole, and one sent after an interim 100 Continue,
    # both reach the reference (403: unsigned, so the body itself does not matter).
    with Connection(port) as conn:
        conn.send(b"POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                  b"\r\n2\r\n{}\r\n0\r\n\r\n")
        r = conn.read_response()
        expect_error(r, 403, "MissingAuthenticationTokenException", "a whole chunked body")
        check((r.header("Connection") or "").lower() != "close", "kept alive after a 403")
    with Connection(port) as conn:
        conn.send(b"POST /2012-09-25/jobs HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        r = conn.read_response()
        check(r.status == 100, "chunked with Expect: expected 100 Continue, got %r" % r)
        conn.send(b"2\r\n{}\r\n0\r\n\r\n")
        r = conn.read_response()
        expect_error(r, 403, "MissingAuthenticationTokenException", "chunked after 100 Continue")

    # A connection that says nothing and leaves costs nothing; the server goes on.
    for _ in range(20):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    with Connection(port) as conn:
        r = exchange(conn, port, "GET", "/2012-09-25/pipelines")
        check(r.status == 200, "ListPipelines after silent connections: %r" % r)
    log = srv.stderr_text()
    check("- - 400 BadRequestException" in log, "no log line for the garbage request")
    check("GET /2012-09-25/pipelines 400 BadRequestException" in log,
          "no log line for a refused GET")


def test_concurrent_connections(srv, job_id):
    """THREADS connections open at once, each sending several requests (kept alive)."""
    port = srv.port
    errors = []
    conns = [Connection(port) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)

    def worker(conn):
        try:
            barrier.wait(timeout=20)
            for _ in range(REQUESTS_PER_THREAD):
                r = exchange(conn, port, "GET", "/2012-09-25/jobs/" + job_id)
                check(r.status == 200 and r.json()["Job"]["Id"] == job_id, "ReadJob: %r" % r)
                r = exchange(conn, port, "DELETE", "/2012-09-25/jobs/" + job_id)
                check(r.status == 409, "CancelJob of a Canceled job: %r" % r)
        except Exception as e:  # reported below, the thread must not die silently
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(c,)) for c in conns]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        check(not any(t.is_alive() for t in threads), "concurrent workers did not finish")
    finally:
        for c in conns:
            c.close()
    check(not errors, "%d of %d concurrent connections failed, first: %s"
          % (len(errors), THREADS, errors[0] if errors else ""))


def test_graceful_stop(srv):
    """SIGTERM while a request is half sent: no new connections, the request completes,
    then exit 0. No sleeps decide the outcome: the server's 100 Continue shows it holds
    the request, and refused connections show it has stopped accepting."""
    port = srv.port
    body = json.dumps({"Name": "etch-serve-late", "InputBucket": "etch-in",
                       "OutputBucket": "etch-out", "Role": ROLE_ARN}).encode()
    raw = build_request(port, "POST", "/2012-09-25/pipelines", body,
                        content_type="application/json",
                        extra_headers=[("Expect", "100-continue")])
    head, rest = raw[:len(raw) - len(body)], body
    with Connection(port) as conn:
        conn.send(head)
        r = conn.read_response()
        check(r.status == 100, "expected 100 Continue for the held request, got %r" % r)
        srv.signal()
        deadline = time.monotonic() + 10
        refused = False
        while not refused and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                time.sleep(0.05)
            except OSError:
                refused = True
        check(refused, "new connections were still accepted 10 s after SIGTERM")
        check(srv.proc.poll() is None, "the server exited with a request in flight")
        conn.send(rest)
        r = conn.read_response()
        check(r.status == 201, "the request in flight at SIGTERM: expected 201, got %r" % r)
        check((r.header("Connection") or "").lower() == "close",
              "an answer during shutdown should close the connection")
    status = srv.wait_exit()
    check(status == 0, "etch serve exited with %s after SIGTERM" % status)


def test_credentials_file(etch, tmpdir):
    """Principals from a file: a full one works, a read-only one may not cancel, the
    default test principal is gone."""
    path = tmpdir + "/principals"
    with open(path, "w") as f:
        f.write("# etch serve test principals\n"
                "AKIDFILEFULL file/full/secret - full\n"
                "\n"
                "AKIDFILERO  file/ro/secret  -  read-only\n"
                "\tAKIDFILETMP file/tmp/secret etch/file/token\r\n")
    with Server(etch, "--credentials-file", path, "--quiet", "--region", "eu-west-1") as srv:
        with Connection(srv.port) as conn:
            r = exchange(conn, srv.port, "GET", "/2012-09-25/pipelines", region="eu-west-1",
                         access_key="AKIDFILEFULL", secret="file/full/secret")
            check(r.status == 200, "ListPipelines signed for the server's region: %r" % r)
            r = exchange(conn, srv.port, "GET", "/2012-09-25/pipelines",
                         access_key="AKIDFILEFULL", secret="file/full/secret")
            expect_error(r, 403, "InvalidSignatureException", "signed for another region")
    with Server(etch, "--credentials-file", path, "--quiet") as srv:
        port = srv.port
        with Connection(port) as conn:
            r = exchange(conn, port, "GET", "/2012-09-25/pipelines",
                         access_key="AKIDFILEFULL", secret="file/full/secret")
            check(r.status == 200, "ListPipelines with the file's full principal: %r" % r)
            r = exchange(conn, port, "DELETE", "/2012-09-25/jobs/1111111111111-abcdef",
                         access_key="AKIDFILERO", secret="file/ro/secret")
            expect_error(r, 403, "AccessDeniedException", "CancelJob by a read-only principal")
            r = exchange(conn, port, "GET", "/2012-09-25/pipelines")
            expect_error(r, 403, "UnrecognizedClientException", "the default key with a file")
            r = exchange(conn, port, "GET", "/2012-09-25/pipelines",
                         access_key="AKIDFILETMP", secret="file/tmp/secret",
                         extra_headers=[("X-Amz-Security-Token", "etch/file/token")])
            check(r.status == 200, "ListPipelines with the file's session principal: %r" % r)
            r = exchange(conn, port, "GET", "/2012-09-25/pipelines",
                         access_key="AKIDFILETMP", secret="file/tmp/secret")
            expect_error(r, 403, "UnrecognizedClientException", "session principal, no token")
    # A file that cannot be used stops the server before it listens.
    for bad in ("AKIDONLY\n", "K S - admin\n", "# nothing\n", "K S\nK T\n"):
        with open(path, "w") as f:
            f.write(bad)
        p = subprocess.run([etch, "serve", "--credentials-file", path], capture_output=True,
                           timeout=20)
        check(p.returncode == 2 and p.stdout == b"",
              "credentials file %r: expected exit 2 before listening, got %d %r"
              % (bad, p.returncode, p.stdout))


def test_bad_usage(etch):
    for args in (["--listen", "localhost"], ["--threads", "0"], ["--page-size", "x"],
                 ["--max-request-bytes", "999999999"], ["--bogus"]):
        p = subprocess.run([etch, "serve"] + args, capture_output=True, timeout=20)
        check(p.returncode == 2, "etch serve %s: expected exit 2, got %d" % (args, p.returncode))


def test_port_in_use(etch, srv):
    """A second server on a port the first holds does not start (each loop's socket shares
    the port with its siblings, never with another server)."""
    p = subprocess.run([etch, "serve", "--quiet", "--listen", "127.0.0.1:%d" % srv.port],
                       capture_output=True, timeout=20)
    check(p.returncode == 1 and b"cannot listen" in p.stderr,
          "a second etch serve on port %d: expected exit 1 (cannot listen), got %d %r"
          % (srv.port, p.returncode, p.stderr[:200]))


def main():
    etch = etch_binary()
    test_bad_usage(etch)
    args = ["--max-request-bytes", str(BODY_LIMIT), "--start-delay-ms", "3600000",
            "--threads", "4"]
    with Server(etch, *args) as srv:
        job_id = test_cancel_flow_keep_alive(srv)
        test_encoded_slash_reaches_reference(srv)
        test_body_limit(srv)
        test_request_checks(srv)
        test_malformed(srv)
        test_concurrent_connections(srv, job_id)
        test_port_in_use(etch, srv)
        log = srv.stderr_text()
        check("DELETE /2012-09-25/jobs/%s 202 - " % job_id in log,
              "no log line for the successful CancelJob")
        check("DELETE /2012-09-25/jobs/%s 409 ResourceInUseException " % job_id in log,
              "no log line for the refused CancelJob")
        test_graceful_stop(srv)
    with tempfile.TemporaryDirectory() as tmpdir:
        test_credentials_file(etch, tmpdir)


if __name__ == "__main__":
    sys.exit(run_main(main))
