# SPDX-License-Identifier: Apache-2.0
#
# serve_control_test.py - `etch serve --test-control` over raw sockets (contract section 9):
# without the flag discovery finds no control; with it the first line says so, discovery
# answers, a clock move makes the endpoint's clock virtual (requests are then signed at it,
# the one signed at the real time is refused, answers are dated by it), and a seed and a
# set-status drive a job through its lifecycle at the virtual times; Real ends it all.
#
# Usage: serve_control_test.py PATH_TO_ETCH. Standard library only; starts and stops its
# servers.

import datetime
import email.utils
import json
import sys
import time

from serve_util import (PRESET_ID, ROLE_ARN, Connection, Server, build_request, check,
                        etch_binary, run_main)

CONTROL = "/_etch/control/v1"
VIRTUAL_MS = 1800000000000  # 2027-01-15T08:00:00Z: far outside any skew window of today
PIPELINE_ID = "1111111111111-ctlpip"
JOB_ID = "3000000000000-ctljob"
READONLY_KEY = "AKIDREADONLY"
READONLY_SECRET = "readonly/secret/key/EXAMPLEKEY0000000000000"


def at(ms):
    """A UTC datetime for ms since the epoch, to sign at."""
    return datetime.datetime.fromtimestamp(ms / 1000.0, datetime.timezone.utc)


class Client:
    """One kept-alive connection that signs at the endpoint's clock as the run would: real
    time until a clock call answered a NowMillis, that NowMillis afterwards."""

    def __init__(self, srv):
        self.port = srv.port
        self.conn = Connection(srv.port)
        self.clock_ms = None  # None: the real clock

    def call(self, method, target, body=None, when_ms=None, **kw):
        data = json.dumps(body).encode() if body is not None else b""
        sign_ms = when_ms if when_ms is not None else self.clock_ms
        self.conn.send(build_request(self.port, method, target, data,
                                     content_type="application/json" if body is not None else None,
                                     when=at(sign_ms) if sign_ms is not None else None, **kw))
        return self.conn.read_response()

    def clock(self, body):
        r = self.call("POST", CONTROL + "/clock", body)
        check(r.status == 200, "clock %r: expected 200, got %r" % (body, r))
        now = r.json().get("NowMillis")
        check(isinstance(now, int), "clock %r: no NowMillis in %r" % (body, r.body))
        self.clock_ms = None if body == {"Real": True} else now
        return now

    def close(self):
        self.conn.close()


def expect(r, status, error_type, what):
    check(r.status == status and r.header("x-amzn-ErrorType") == error_type,
          "%s: expected %d %s, got %r" % (what, status, error_type, r))


def test_off_without_flag(etch):
    with Server(etch) as srv:
        check(not srv.has_test_control, "the first line says test control is on without the flag")
        client = Client(srv)
        r = client.call("GET", CONTROL)
        expect(r, 404, "UnknownOperationException", "discovery without --test-control")
        check("Version" not in r.json(), "discovery without --test-control: %r" % r.body)
        client.close()


def test_on_with_flag(etch):
    with Server(etch, "--test-control", "--start-delay-ms", "2000",
                "--run-time-ms", "5000") as srv:
        check(srv.has_test_control, "the first line does not say test control is on")
        client = Client(srv)

        # Discovery: the endpoint's clock, real for now.
        r = client.call("GET", CONTROL)
        check(r.status == 200, "discovery: expected 200, got %r" % r)
        d = r.json()
        check(d.get("Version") == 1 and d.get("Features") == ["clock", "seed", "set-status"],
              "discovery: %r" % d)
        check(abs(d.get("NowMillis", 0) - time.time() * 1000) < 60000,
              "discovery: NowMillis %r is not the real clock" % d.get("NowMillis"))

        # Only the main principal.
        r = client.call("GET", CONTROL, access_key=READONLY_KEY, secret=READONLY_SECRET)
        expect(r, 403, "AccessDeniedException", "discovery by the restricted principal")

        # The clock becomes virtual: requests are signed at it from now on.
        check(client.clock({"SetMillis": VIRTUAL_MS}) == VIRTUAL_MS, "SetMillis")
        r = client.call("GET", "/2012-09-25/pipelines", when_ms=int(time.time() * 1000))
        expect(r, 403, "InvalidSignatureException", "signed at the real time")
        r = client.call("GET", "/2012-09-25/pipelines")
        check(r.status == 200, "signed at the virtual time: expected 200, got %r" % r)
        dates = [v for n, v in r.headers if n.lower() == "date"]
        check(len(dates) == 1, "expected one Date header, got %r" % dates)
        check(email.utils.parsedate_to_datetime(dates[0]) == at(VIRTUAL_MS),
              "Date %r is not the virtual clock" % dates[0])
        # Malformed HTTP is answered by the same service, dated by the same clock, whether
        # it is a connection's first request or comes after a good one.
        for what, before in (("first", b""), ("after a good request",
                                                build_request(srv.port, "GET",
                                                              "/2012-09-25/pipelines",
                                                              signed=False))):
            with Connection(srv.port) as raw:
                raw.send(before + b"GET /2012-09-25/pipelines HTTP/1.1\r\nHost: a\r\n"
                         b"X-A: a\r\n folded\r\n\r\n")
                if before:
                    raw.read_response()
                r = raw.read_response()
                check(r.status == 400, "folded header (%s): expected 400, got %r" % (what, r))
                date = r.header("Date")
                check(date is not None and
                      email.utils.parsedate_to_datetime(date) == at(VIRTUAL_MS),
                      "folded header (%s): Date %r is not the virtual clock" % (what, date))

        # A seed, then a set-status and a clock move drive the job at the virtual times.
        r = client.call("POST", CONTROL + "/seed", {
            "Pipelines": [{"Id": PIPELINE_ID, "Status": "Paused", "Name": "control",
                           "InputBucket": "etch-in", "OutputBucket": "etch-out",
                           "Role": ROLE_ARN}],
            "Jobs": [{"Id": JOB_ID, "PipelineId": PIPELINE_ID, "Status": "Submitted",
                      "Input": {"Key": "in.mp4"},
                      "Output": {"Key": "out.mp4", "PresetId": PRESET_ID}}]})
        check(r.status == 200 and r.json() == {"Pipelines": [PIPELINE_ID], "Jobs": [JOB_ID]},
              "seed: %r" % r)
        client.clock({"AdvanceMillis": 1000})
        r = client.call("POST", "%s/jobs/%s/status" % (CONTROL, JOB_ID), {"Status": "Progressing"})
        check(r.status == 200, "set-status Progressing: expected 200, got %r" % r)
        job = r.json().get("Job", {})
        check(job.get("Status") == "Progressing"
              and job.get("Timing", {}).get("StartTimeMillis") == VIRTUAL_MS + 1000,
              "set-status Progressing: %r" % job)
        check(client.clock({"ToNextEvent": True}) == VIRTUAL_MS + 1000 + 5000, "ToNextEvent")
        r = client.call("GET", "/2012-09-25/jobs/" + JOB_ID)
        timing = r.json().get("Job", {}).get("Timing", {})
        check(r.json()["Job"]["Status"] == "Complete"
              and timing == {"SubmitTimeMillis": VIRTUAL_MS, "StartTimeMillis": VIRTUAL_MS + 1000,
                             "FinishTimeMillis": VIRTUAL_MS + 6000},
              "ReadJob after the move: %r" % r)
        r = client.call("POST", "%s/jobs/%s/status" % (CONTROL, JOB_ID), {"Status": "Error"})
        expect(r, 409, "ResourceInUseException", "set-status Error of a Complete job")

        # Real: the endpoint follows real time again, for every client.
        now = client.clock({"Real": True})
        check(abs(now - time.time() * 1000) < 60000, "Real: NowMillis %r" % now)
        r = client.call("GET", "/2012-09-25/pipelines")
        check(r.status == 200, "signed at the real time after Real: expected 200, got %r" % r)
        client.close()
        # Printed right after the first line, so long since written by now.
        check("test control on" in srv.stderr_text(), "the settings line does not say it")


def main():
    etch = etch_binary()

    def body():
        test_off_without_flag(etch)
        test_on_with_flag(etch)

    return run_main(body)


if __name__ == "__main__":
    sys.exit(main())
