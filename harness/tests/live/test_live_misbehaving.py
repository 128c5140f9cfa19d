# SPDX-License-Identifier: Apache-2.0
#
# test_live_misbehaving.py - a misbehaving endpoint never crashes or hangs
# `etch run --endpoint`: garbage bytes, a reset, silence, a huge or endless body, a slow
# drip, invalid JSON, a close without an answer. Each misbehaviour is met twice: by the
# clock probe and the preflight that start a run (the run stops with exit status 3, the
# target unusable, before any scenario), and by a scenario's request after proper
# answers to those (an ERROR or FAIL with the reason, within the timeouts). Also the
# NOT IMPLEMENTED decision: an endpoint without the API (HTML 404s) is not an Elastic
# Transcoder endpoint at the preflight, and NOT IMPLEMENTED when only the scenario's
# operation answers that way; a ResourceNotFoundException never is.
#
# Usage: test_live_misbehaving.py ETCH SCENARIOS_DIR

import re
import sys

from live_util import check, expect, run_etch, run_main
from misbehaving_server import MisbehavingServer

TIMEOUT_MS = 1500
LIMIT_S = 30  # far above what the timeouts allow: a run that takes this long hung


def run_against(etch, suite, mode, good, *extra, date_offset_s=0):
    with MisbehavingServer(mode, good, date_offset_s) as srv:
        r = run_etch(etch, ["run", "--endpoint", srv.url, "--scenarios", suite, "--no-color",
                            "--scenario", "cancel-unknown-id", "--timeout-ms", str(TIMEOUT_MS),
                            "--connect-timeout-ms", str(TIMEOUT_MS), "--cleanup-timeout-ms", "0"]
                     + list(extra), LIMIT_S)
        check(r.seconds < 15, "%s: %.1f s is too long for %d ms timeouts\n%s"
              % (mode, r.seconds, TIMEOUT_MS, r.text()))
        return r


# mode -> what the start of a run reports; nothing is run after either.
PROBE = {
    "reset": ("unreachable:", "does not answer", "reset"),
    "silent": ("unreachable:", "does not answer", "no complete answer within 1500 ms"),
    "slow": ("unreachable:", "does not answer", "no complete answer within 1500 ms"),
    "endless-chunked": ("unreachable:", "does not answer", "larger than the"),
    "endless-close": ("unreachable:", "does not answer", "larger than the"),
    "garbage": ("cannot read the endpoint's clock (the answer is not valid HTTP)",
                "preflight: not HTTP: ListPipelines: the answer is not HTTP"),
    "huge": ("cannot read the endpoint's clock (the answer is not valid HTTP)",
             "preflight: not HTTP: ListPipelines: the answer is not HTTP"),
    "close": ("closed the connection without answering",
              "preflight: not HTTP: ListPipelines: the endpoint closed the connection"),
    "html404": ("preflight: not an Elastic Transcoder endpoint: ListPipelines answered 404, "
                "text/html", "ReadJob answered 404"),
}

# Proper answers a scenario's request comes after: the clock probe's and the preflight's.
GOOD_START = 2

# mode -> what the scenario's one request reports after a proper probe answer.
STEP = {
    "reset": ("ERROR", "transport failure: receiving the answer failed", "reset"),
    "silent": ("ERROR", "transport failure: no complete answer within 1500 ms"),
    "slow": ("ERROR", "transport failure: no complete answer within 1500 ms"),
    "endless-chunked": ("ERROR", "transport failure: the answer is larger than the"),
    "endless-close": ("ERROR", "transport failure: the answer is larger than the"),
    "garbage": ("ERROR", "the response is not valid HTTP"),
    "huge": ("ERROR", "the response is not valid HTTP", "body larger than the limit"),
    "close": ("ERROR", "the endpoint closed the connection without answering"),
    "invalid-json": ("FAIL", "error_form", "a JSON object body"),
}


def probes(etch, suite):
    for mode, want in PROBE.items():
        r = run_against(etch, suite, mode, 0)
        expect(r, 3, *want, "the target is unusable")
        check("summary:" not in r.out, "%s: scenarios ran after the start failed" % mode)


def steps(etch, suite):
    for mode, want in STEP.items():
        r = run_against(etch, suite, mode, GOOD_START)
        expect(r, 1, "%s  " % want[0], *want[1:])


def not_implemented(etch, suite):
    r = run_against(etch, suite, "html404", GOOD_START)
    expect(r, 1, "NOT IMPLEMENTED", "the endpoint does not know CancelJob",
           "a well-formed CancelJob request got 404")
    r = run_against(etch, suite, "html404", GOOD_START, "--allow-unimplemented")
    expect(r, 0, "NOT IMPLEMENTED")
    # A ResourceNotFoundException is an operation the endpoint knows, whatever its body.
    r = run_against(etch, suite, "rnf-empty", 0)
    expect(r, 1, "FAIL  ")
    check("NOT IMPLEMENTED " not in r.out.replace("0 not implemented", ""),
          "a ResourceNotFoundException was taken for NOT IMPLEMENTED\n" + r.text())


def clock_offset(etch, suite):
    """The endpoint's clock, read from its Date before anything runs, and --clock-offset."""
    # A Date header has whole seconds, so the offset read from it may be one second off
    # when the exchange straddles a second (a slow, sanitised build).
    # A good endpoint answers signed requests with a proper ResourceNotFoundException: the
    # scenario passes, whatever the clock says, once the offset is compensated or not.
    r = run_against(etch, suite, "good", 0, date_offset_s=3600)
    expect(r, 0, "clock: the endpoint's Date")
    within_a_second(r, r"is (\d+) s ahead of this machine's clock", 3600)
    within_a_second(r, r"pass --clock-offset (\d+) to compensate", 3600)
    r = run_against(etch, suite, "good", 0, "--clock-offset", "3600", date_offset_s=3600)
    expect(r, 0, "--clock-offset 3600 in use (")
    within_a_second(r, r"--clock-offset 3600 in use \((-?\d+) s left over\)", 0)
    check("to compensate" not in r.out, "warned although compensated\n" + r.text())
    r = run_against(etch, suite, "good", 0, date_offset_s=-120)
    expect(r, 0, "s behind this machine's clock")
    within_a_second(r, r"is (\d+) s behind this machine's clock", 120)
    within_a_second(r, r"pass --clock-offset (-\d+)", -120)


def within_a_second(result, pattern, want):
    """The number the pattern captures in the output is want, give or take a second."""
    m = re.search(pattern, result.out + result.err)
    check(m is not None, "%r not in the output:\n%s" % (pattern, result.text()))
    check(abs(int(m.group(1)) - want) <= 1,
          "%s: %s, want %d give or take 1\n%s" % (pattern, m.group(1), want, result.text()))


def main():
    if len(sys.argv) != 3:
        print("usage: test_live_misbehaving.py ETCH SCENARIOS_DIR", file=sys.stderr)
        return 2
    etch, suite = sys.argv[1], sys.argv[2]
    return run_main(lambda: (probes(etch, suite), steps(etch, suite),
                             not_implemented(etch, suite), clock_offset(etch, suite)))


if __name__ == "__main__":
    sys.exit(main())
