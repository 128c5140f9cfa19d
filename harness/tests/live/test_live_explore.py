# SPDX-License-Identifier: Apache-2.0
#
# test_live_explore.py - `etch explore` from the command line: against `etch serve` with
# test control and without it a bounded run finds no divergence and leaves nothing behind;
# through the broken proxy (a Progressing job canceled, a paused pipeline starting its
# jobs) the divergence is found, shrunk to at most 8 steps and written as a scenario that
# `etch run --scenarios DIR` replays to FAIL on the broken endpoint and PASS in process;
# without control, against etch serve starting its jobs at once, the reference follows the
# endpoint's jobs (nothing found on etch serve, a cancel of a Progressing job found through
# the proxy); the in-process broken targets and the exit statuses (0, 1, 2, 3) of the
# command.
#
# Usage: test_live_explore.py ETCH SCENARIOS_DIR

import os
import re
import sys
import tempfile

from broken_proxy import BrokenProxy
from live_util import Server, check, expect, run_etch, run_main, signed_get

LIMIT_S = 120
SHRUNK = re.compile(r"shrunk from (\d+) to (\d+) steps; written to (\S+) ")


def explore(etch, endpoint, *args, limit_s=LIMIT_S):
    r = run_etch(etch, ["explore", "--endpoint", endpoint, "--time", "60"] + list(args), limit_s)
    summary = [l for l in r.out.splitlines() if l.startswith("summary: ")]
    check(len(summary) == 1, "want one summary line:\n" + r.text())
    check("explore: " in r.err, "no progress line on stderr:\n" + r.text())
    print("%-45s exit %d, %s" % (endpoint + " " + " ".join(args), r.status, summary[0]))
    return r


def nothing_found(r):
    expect(r, 0, " 0 divergences (must level)")
    check("DIVERGENCE" not in r.out, "a divergence against etch serve:\n" + r.text())


def nothing_left(port):
    resp = signed_get(port, "/2012-09-25/pipelines")
    check(resp.status == 200, "ListPipelines after the run: %r" % resp)
    left = resp.json()["Pipelines"]
    check(left == [], "the run left %d pipelines behind: %r" % (len(left), left[:3]))


def found_and_written(r, tmp):
    """The run found one divergence, shrank it to at most 8 steps and wrote it."""
    expect(r, 1, "DIVERGENCE", " 1 divergence (must level)")
    m = SHRUNK.search(r.out)
    check(m is not None, "no scenario written:\n" + r.text())
    check(int(m.group(2)) <= 8, "shrunk to %s steps only:\n%s" % (m.group(2), r.text()))
    path = m.group(3)
    check(path.startswith(tmp) and os.path.isfile(path), "not a file: %r" % path)
    return path


def against_serve(etch):
    with Server(etch, "--quiet", "--test-control") as srv:
        url = "http://127.0.0.1:%d" % srv.port
        r = explore(etch, url, "--steps", "3000", "--seed", "5")
        check("test control: found" in r.out, "test control not found:\n" + r.text())
        nothing_found(r)
        nothing_left(srv.port)
        r = explore(etch, url, "--steps", "800", "--no-test-control")
        nothing_found(r)
        nothing_left(srv.port)
    with Server(etch, "--quiet") as srv:
        r = explore(etch, "http://127.0.0.1:%d" % srv.port, "--steps", "1500", "--seed", "9")
        check("test control: not offered" in r.out, "control offered?\n" + r.text())
        nothing_found(r)
        nothing_left(srv.port)


def against_broken_proxy(etch, suite):
    with Server(etch, "--quiet", "--test-control") as srv:
        for mode in ("cancel-progressing", "ignore-pause"):
            with BrokenProxy(srv.port, mode) as proxy, tempfile.TemporaryDirectory() as tmp:
                r = explore(etch, proxy.url, "--steps", "20000", "--out", tmp)
                path = found_and_written(r, tmp)
                replay = run_etch(etch, ["run", "--no-color", "--endpoint", proxy.url,
                                         "--scenarios", tmp], LIMIT_S)
                expect(replay, 1, "1 failed")
                replay = run_etch(etch, ["run", "--no-color", "--scenarios", tmp], LIMIT_S)
                expect(replay, 0, "1 passed, 0 failed")
                print("  %s: %s replays to FAIL through the proxy, PASS in process"
                      % (mode, os.path.basename(path)))


def seconds_of(r):
    m = re.search(r" ([0-9.]+) s \(", r.out)
    check(m is not None, "no time in the summary:\n" + r.text())
    return float(m.group(1))


def without_control_following(etch):
    """Without test control the reference follows the endpoint's jobs: etch serve starting
    its jobs at once finds nothing (before, its own clock's 2 s start delay made a correct
    endpoint diverge), and through the proxy a cancel of a Progressing job is found within
    60 s, shrunk and replayed; in process likewise with a target whose clock moves by
    itself."""
    with Server(etch, "--quiet", "--start-delay-ms", "0", "--run-time-ms", "200") as srv:
        url = "http://127.0.0.1:%d" % srv.port
        r = explore(etch, url, "--steps", "150", "--seed", "9")
        nothing_found(r)
        m = re.search(r" (\d+) job transitions? followed", r.out)
        check(m is not None and int(m.group(1)) > 0, "nothing followed:\n" + r.text())
        nothing_left(srv.port)
        with BrokenProxy(srv.port, "cancel-progressing") as proxy, \
                tempfile.TemporaryDirectory() as tmp:
            r = explore(etch, proxy.url, "--steps", "0", "--out", tmp)
            found_and_written(r, tmp)
            check("CancelJob: status: endpoint 202 | reference 409" in r.out, r.text())
            check(seconds_of(r) < 60, "found after 60 s or more:\n" + r.text())
            replay = run_etch(etch, ["run", "--no-color", "--endpoint", proxy.url,
                                     "--scenarios", tmp], LIMIT_S)
            expect(replay, 1, "1 failed")
            replay = run_etch(etch, ["run", "--no-color", "--scenarios", tmp], LIMIT_S)
            expect(replay, 0, "1 passed, 0 failed")
    with tempfile.TemporaryDirectory() as tmp:
        r = explore(etch, "inproc:broken-cancel-progressing", "--no-test-control", "--out", tmp)
        found_and_written(r, tmp)
        replay = run_etch(etch, ["run", "--no-color", "--scenarios", tmp], LIMIT_S)
        expect(replay, 0, "1 passed, 0 failed")
    nothing_found(explore(etch, "inproc", "--no-test-control", "--steps", "3000"))


def inproc_targets(etch):
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("cancel-progressing", "paused-starts", "list-drops-job"):
            r = explore(etch, "inproc:broken-" + kind, "--out", tmp)
            found_and_written(r, tmp)
        replay = run_etch(etch, ["run", "--no-color", "--scenarios", tmp], LIMIT_S)
        expect(replay, 0, "3 passed, 0 failed")
    nothing_found(explore(etch, "inproc", "--steps", "3000"))


def exit_statuses(etch):
    r = run_etch(etch, ["explore", "--help"], 30)
    expect(r, 0, "usage: etch explore", "--seed N", "inproc:broken-cancel-progressing")
    for args in (["--bogus"], [], ["--endpoint", "inproc:broken-nothing"],
                 ["--endpoint", "inproc", "--steps", "many"],
                 ["--endpoint", "inproc", "--endpoint", "inproc"]):
        r = run_etch(etch, ["explore"] + args, 30)
        check(r.status == 2, "%r: want exit 2:\n%s" % (args, r.text()))
        check("etch explore: " in r.err, "%r: no message:\n%s" % (args, r.text()))
    # Nothing listens on port 1 of the loopback: the target is unusable.
    r = run_etch(etch, ["explore", "--endpoint", "http://127.0.0.1:1", "--connect-timeout-ms",
                        "1000"], 30)
    expect(r, 3, "does not answer")


def main():
    if len(sys.argv) != 3:
        print("usage: test_live_explore.py ETCH SCENARIOS_DIR", file=sys.stderr)
        return 2
    etch, suite = sys.argv[1], sys.argv[2]
    return run_main(lambda: (exit_statuses(etch), inproc_targets(etch), against_serve(etch),
                             against_broken_proxy(etch, suite), without_control_following(etch)))


if __name__ == "__main__":
    sys.exit(main())
