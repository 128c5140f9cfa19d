# SPDX-License-Identifier: Apache-2.0
#
# test_live_lost_answer.py - scenarios whose answers are lost ("lost_answer", tag retries)
# against `etch serve`, with and without test control, and over TLS. What the server
# logged shows that each lost attempt really reached it: the same CancelJob answered 202
# (the answer the run dropped unread) and then 409 ResourceInUseException (the retry,
# which the scenario judged). Nothing is left behind, the lost CreateJob's job included.
# Through a proxy that drops the first CancelJob before the server sees it, the run
# reports an ERROR that says nothing shows the request was handled, instead of judging a
# retry made on a state it does not know.
#
# Usage: test_live_lost_answer.py ETCH SCENARIOS_DIR

import json
import os
import re
import shutil
import socket
import ssl
import sys
import tempfile
import threading

from live_util import (LoopbackServer, Proxy, Server, check, expect, pipe_bytes, run_etch,
                       run_main, signed_get)
from test_live_tls import make_certificate

RUN_LIMIT_S = 120
CANCEL_LINE = re.compile(r"DELETE /2012-09-25/jobs/(\d{13}-\w{6}) (\d{3})")


def run_tag(etch, suite, url, extra=()):
    return run_etch(etch, ["run", "--endpoint", url, "--scenarios", suite, "--no-color",
                           "--tag", "retries"] + list(extra), RUN_LIMIT_S)


def nothing_left(srv):
    resp = signed_get(srv.port, "/2012-09-25/pipelines")
    check(resp.status == 200, "ListPipelines after the run: %r" % resp)
    check(resp.json()["Pipelines"] == [], "pipelines left behind: %r" % resp.json())
    resp = signed_get(srv.port, "/2012-09-25/jobsByStatus/Submitted")
    check(resp.status == 200, "ListJobsByStatus after the run: %r" % resp)
    check(resp.json()["Jobs"] == [], "Submitted jobs left behind: %r" % resp.json())


def check_lost_then_retried(srv):
    """Per job, the statuses its CancelJob requests got, in the server's order: the lost
    attempt's 202, then the retry's 409, for one job in each cancel scenario (cleanup's
    own cancels come after)."""
    answers = {}
    for job, status in CANCEL_LINE.findall(srv.stderr_text()):
        answers.setdefault(job, []).append(status)
    lost_then_retried = [job for job, got in answers.items() if got[:2] == ["202", "409"]]
    check(len(lost_then_retried) >= 2,
          "no job whose CancelJob the server answered 202 and then 409: %r" % answers)


def without_control(etch, suite):
    with Server(etch) as srv, tempfile.TemporaryDirectory() as tmp:
        jsonl = os.path.join(tmp, "run.jsonl")
        r = run_tag(etch, suite, srv.url, ["--jsonl", jsonl])
        expect(r, 0, "3 passed", "0 deviations")
        nothing_left(srv)
        check_lost_then_retried(srv)
        # The JSON Lines report gives a lost answer's step the status of its retry.
        rows = {row["scenario"]: row for row in map(json.loads, open(jsonl, encoding="utf-8"))}
        step = [s for s in rows["cancel-lost-answer-retried"]["steps"]
                if s["name"] == "cancel-answer-lost"][0]
        check(step.get("status") == 409 and step.get("error") == "ResourceInUseException",
              "the lost cancel's step in JSON Lines: %r" % step)
        print(r.out.splitlines()[-2])


def over_tls(etch, suite):
    """The same through a TLS proxy: the first byte comes out of a TLS record, and the
    connection closed after it is a TLS one."""
    if shutil.which("openssl") is None:
        print("openssl is missing: the run over TLS is left out")
        return
    with tempfile.TemporaryDirectory() as tmp:
        key, cert = make_certificate(tmp)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        with Server(etch) as srv, Proxy(srv.port, ctx) as proxy:
            url = "https://localhost:%d" % proxy.port
            r = run_tag(etch, suite, url, ["--cacert", cert])
            expect(r, 0, "3 passed", "0 deviations")
            nothing_left(srv)
            check_lost_then_retried(srv)


def with_control(etch, suite):
    with Server(etch, "--test-control", "--quiet") as srv:
        check(srv.has_test_control, "etch serve --test-control did not say so")
        r = run_tag(etch, suite, srv.url)
        expect(r, 0, "3 passed", "0 deviations")
        nothing_left(srv)


class DropFirstCancel(LoopbackServer):
    """A proxy that passes requests on, except the first CancelJob: it closes that
    connection (and its upstream one) before passing on a byte of it, so the server never
    sees that request. A client sends its next request only after the answer to the last,
    so a request starts at the start of what one read brings."""

    def __init__(self, backend_port):
        super().__init__()
        self.backend_port = backend_port
        self.dropped = 0

    def _handle(self, client):
        try:
            upstream = socket.create_connection(("127.0.0.1", self.backend_port), timeout=10)
        except OSError:
            client.close()
            return
        back = threading.Thread(target=pipe_bytes, args=(upstream, client, self.stopping),
                                daemon=True)
        back.start()
        client.settimeout(0.2)
        try:
            while not self.stopping.is_set():
                try:
                    data = client.recv(65536)
                except socket.timeout:
                    continue
                if not data:
                    break
                with self.lock:
                    drop = self.dropped == 0 and data.startswith(b"DELETE /2012-09-25/jobs/")
                    self.dropped += 1 if drop else 0
                if drop:
                    break
                upstream.sendall(data)
        except OSError:
            pass
        for sock in (client, upstream):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        back.join(5)


def first_attempt_never_arrives(etch, suite):
    with Server(etch, "--quiet") as srv, DropFirstCancel(srv.port) as proxy:
        url = "http://127.0.0.1:%d" % proxy.port
        r = run_etch(etch, ["run", "--endpoint", url, "--scenarios", suite, "--no-color",
                            "--scenario", "cancel-lost-answer-retried"], RUN_LIMIT_S)
        expect(r, 1, "so nothing shows that the endpoint handled the request", "1 errors")
        check(proxy.dropped == 1, "the proxy dropped %d connections" % proxy.dropped)
        nothing_left(srv)


def body(etch, suite):
    without_control(etch, suite)
    over_tls(etch, suite)
    with_control(etch, suite)
    first_attempt_never_arrives(etch, suite)


def main():
    etch, suite = sys.argv[1], sys.argv[2]
    return run_main(lambda: body(etch, suite))


if __name__ == "__main__":
    sys.exit(main())
