# SPDX-License-Identifier: Apache-2.0
#
# test_live_control.py - test control (contract section 9) with `etch run --endpoint`:
# against `etch serve --test-control` the whole suite runs with one worker, every scenario
# PASSes and none is SKIPped, nothing is left on the server, and a second run on the same
# server passes again (seeded Ids do not collide); with --no-test-control on that server,
# and against `etch serve` without control, the scenarios that need hooks are SKIPped with
# the test-control reason and nothing FAILs. Discovery is not fooled by an endpoint that
# answers 200 with something other than the discovery answer.
#
# Usage: test_live_control.py ETCH SCENARIOS_DIR

import json
import os
import re
import sys
import tempfile

from live_util import Server, check, expect, run_etch, run_main, signed_get
from misbehaving_server import MisbehavingServer, _answer

RUN_LIMIT_S = 240

REASON = "needs test control (contract section 9), which this target does not offer"
AFTER = "not run: an earlier step that needs test control was skipped"
FOUND = "test control: found (contract section 9"
NOT_USED = "test control: not used (--no-test-control)"
NOT_OFFERED = "test control: not offered ("


def live_run(etch, url, suite, tmp, args, limit_s=RUN_LIMIT_S):
    """One `etch run` against url; returns its result and its JSON Lines rows."""
    jsonl = os.path.join(tmp, "run.jsonl")
    if os.path.exists(jsonl):
        os.remove(jsonl)
    r = run_etch(etch, ["run", "--endpoint", url, "--scenarios", suite, "--no-color",
                        "--jsonl", jsonl] + args, limit_s)
    check(os.path.exists(jsonl), "no JSON Lines report:\n" + r.text())
    with open(jsonl, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    print("%-60s exit %d, %d scenarios, %.1f s" % (" ".join(args) or "(every scenario)",
                                                    r.status, len(rows), r.seconds))
    return r, rows


def control_line(r):
    lines = [l for l in r.out.splitlines() if l.startswith("test control: ")]
    check(len(lines) == 1, "want one 'test control:' line in the header:\n" + r.text())
    return lines[0]


def verdicts(rows):
    out = {}
    for row in rows:
        out.setdefault(row["verdict"], []).append("%s/%s" % (row["area"], row["scenario"]))
    return out


def nothing_left(r, port):
    check(re.search(r"^cleanup: .*, 0 left behind$", r.out, re.M) is not None,
          "the cleanup line does not say 0 left behind:\n" + r.text())
    resp = signed_get(port, "/2012-09-25/pipelines")
    check(resp.status == 200, "ListPipelines after the run: %r" % resp)
    left = resp.json()["Pipelines"]
    check(left == [], "the run left %d pipelines behind: %r" % (len(left), left[:3]))


def all_pass(r, rows, what):
    v = verdicts(rows)
    check(set(v) == {"PASS"}, "%s: verdicts other than PASS: %r\n%s"
          % (what, {k: n[:5] for k, n in v.items() if k != "PASS"}, r.text()))
    expect(r, 0, "0 failed", "0 skipped, 0 errors")


def skips_for_control(r, rows, what):
    """No FAIL or ERROR; every SKIP names test control as its reason."""
    v = verdicts(rows)
    bad = {k: n[:5] for k, n in v.items() if k not in ("PASS", "SKIP")}
    check(not bad, "%s: %r\n%s" % (what, bad, r.text()))
    check(r.status == 0, "%s: exit %d\n%s" % (what, r.status, r.text()))
    check(v.get("SKIP"), "%s: nothing was SKIPped, yet hooks are missing" % what)
    for row in rows:
        if row["verdict"] == "SKIP":
            # The step that needed control says so; the steps after it were not run.
            reasons = {s.get("reason") for s in row["steps"] if s["verdict"] == "SKIP"}
            # Or, without control, more pipelines at once than a faithful endpoint allows
            # (seeded under control, they would have to be created).
            pipelines = all("pipelines at once" in str(x) for x in reasons)
            check(pipelines or (REASON in reasons and reasons <= {REASON, AFTER}),
                  "%s: %s/%s skipped for %r" % (
                what, row["area"], row["scenario"], sorted(map(str, reasons))))
    return len(v["SKIP"])


def with_control(etch, suite):
    with Server(etch, "--quiet", "--test-control") as srv, \
            tempfile.TemporaryDirectory() as tmp:
        check(srv.has_test_control, "etch serve --test-control did not say so")
        for attempt in ("first run", "second run on the same server"):
            r, rows = live_run(etch, srv.url, suite, tmp, ["--workers", "1"])
            check(control_line(r).startswith(FOUND), "%s: %s" % (attempt, control_line(r)))
            check(len(rows) > 100, "%s: only %d scenarios ran" % (attempt, len(rows)))
            all_pass(r, rows, attempt)
            nothing_left(r, srv.port)
        # The same server, control turned off on the run's side: the whole suite (the
        # real-clock scenarios wait in real time, so four workers).
        r, rows = live_run(etch, srv.url, suite, tmp, ["--workers", "4", "--no-test-control"])
        check(control_line(r) == NOT_USED, control_line(r))
        skipped = skips_for_control(r, rows, "--no-test-control")
        print("  --no-test-control: %d scenarios SKIPped for test control" % skipped)
        nothing_left(r, srv.port)


def small_pages(etch, suite):
    """A faithful endpoint may page at any size (contract section 1: the server's choice):
    with pages of 2 nothing FAILs; only the should-level page-size checks deviate."""
    with Server(etch, "--quiet", "--test-control", "--page-size", "2") as srv, \
            tempfile.TemporaryDirectory() as tmp:
        r, rows = live_run(etch, srv.url, suite, tmp, ["--workers", "1"])
        v = verdicts(rows)
        bad = {k: n[:5] for k, n in v.items() if k not in ("PASS", "DEVIATION")}
        check(not bad, "pages of 2: %r\n%s" % (bad, r.text()))
        check(r.status == 0, "pages of 2: exit %d\n%s" % (r.status, r.text()))
        print("  pages of 2: %d PASS, %d DEVIATION" % (len(v.get("PASS", [])),
                                                      len(v.get("DEVIATION", []))))


def without_control(etch, suite):
    """Plain `etch serve`: discovery finds no control. The scenarios that wait in real time
    are left out (live.serve runs them); those left need no hooks or are skipped."""
    with Server(etch, "--quiet") as srv, tempfile.TemporaryDirectory() as tmp:
        check(not srv.has_test_control, "etch serve without --test-control offers it")
        r, rows = live_run(etch, srv.url, suite, tmp,
                           ["--workers", "4", "--exclude", "real-clock", "--exclude", "lifecycle",
                            "--exclude", "jobs/read-job-shape",
                            "--exclude", "jobs/job-output-status"])
        line = control_line(r)
        check(line.startswith(NOT_OFFERED), line)
        print("  " + line)
        skips_for_control(r, rows, "etch serve without --test-control")
        nothing_left(r, srv.port)


class Answers200(MisbehavingServer):
    """Answers the clock probe and the preflight properly, then 200 with the given body to
    everything."""

    def __init__(self, body, content_type="application/json"):
        super().__init__("good", good=2)
        self.mode = "answer-200"
        self.body = body
        self.content_type = content_type

    def _misbehave(self, conn):
        conn.sendall(_answer(200, "OK", [("Content-Type", self.content_type)], self.body))
        return True


def not_fooled(etch, suite):
    """200 answers that are not the discovery answer mean no control; so do the
    misbehaving server's 200s with a body that never ends or is too large."""
    bodies = [b"not json at all", b"[]", b"{}", b'{"Version":"1","NowMillis":1}',
              b'{"Version":2,"NowMillis":1}', b'{"Version":1}',
              b'{"Features":["clock","seed","set-status"],"NowMillis":1}']
    servers = [Answers200(b) for b in bodies] + [Answers200(b"<html></html>", "text/html")]
    servers += [MisbehavingServer(m, good=2) for m in ("huge", "endless-chunked",
                                                       "endless-close")]
    with tempfile.TemporaryDirectory() as tmp:
        for srv in servers:
            with srv:
                r, _ = live_run(etch, srv.url, suite, tmp, [
                    "--scenario", "cancel-unknown-id", "--timeout-ms", "1500",
                    "--connect-timeout-ms", "1500", "--cleanup-timeout-ms", "0"], 30)
                line = control_line(r)
                what = getattr(srv, "body", srv.mode)
                check(line.startswith(NOT_OFFERED), "%r: %s" % (what, line))
                print("  %r: %s" % (what, line))


def main():
    if len(sys.argv) != 3:
        print("usage: test_live_control.py ETCH SCENARIOS_DIR", file=sys.stderr)
        return 2
    etch, suite = sys.argv[1], sys.argv[2]
    return run_main(lambda: (not_fooled(etch, suite), with_control(etch, suite),
                             small_pages(etch, suite), without_control(etch, suite)))


if __name__ == "__main__":
    sys.exit(main())
