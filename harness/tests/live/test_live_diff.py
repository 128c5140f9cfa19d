# SPDX-License-Identifier: Apache-2.0
#
# test_live_diff.py - `etch diff` between `etch serve` and the embedded reference shows
# no difference, and does show the differences that exist.
#
# No scenario is left out: malformed requests included, `etch serve` answers exactly as
# the embedded reference does (every request it gets is read by the reference's strict
# parser and answered by ref_service_handle). The differences a real mismatch makes are shown with a server configured for
# another region, so that every signed request it gets is refused.
#
# Usage: test_live_diff.py ETCH SCENARIOS_DIR

import re
import sys

from live_util import Server, check, expect, run_etch, run_main

RUN_LIMIT_S = 400


def no_difference(etch, suite):
    with Server(etch, "--quiet") as srv:
        r = run_etch(etch, ["diff", "--endpoint", srv.url, "--scenarios", suite, "--no-color",
                            "--workers", "4"], RUN_LIMIT_S)
        expect(r, 0, "0 different (0 differences)")
        first = r.out.split("\n", 1)[0]
        check(("A live endpoint %s | B embedded reference" % srv.url) in first,
              "the first line does not name both targets: %r" % first)
        m = re.search(r"summary: (\d+) scenarios: (\d+) same", r.out)
        check(m is not None and int(m.group(2)) > 50, "too few scenarios compared:\n" + r.text())
        print(r.out.splitlines()[-1])


def shows_differences(etch, suite):
    with Server(etch, "--quiet", "--region", "eu-west-1") as srv:
        r = run_etch(etch, ["diff", "--endpoint", srv.url, "--scenarios", suite, "--no-color",
                            "--scenario", "cancel-submitted"], 120)
        expect(r, 1, "DIFF  cancel/cancel-submitted",
               "create-pipeline: status: A 403 | B 201",
               "create-pipeline: error code: A InvalidSignatureException | B none",
               "create-pipeline: body Pipeline: A missing | B present",
               "0 same, 1 different")
        # Normalised away: nothing about request ids or dates on the steps that agree.
        check("RequestId" not in r.out, "a normalised field was reported:\n" + r.text())


def two_endpoints(etch, suite):
    """B can be a second live endpoint: two `etch serve` agree with each other."""
    with Server(etch, "--quiet") as a, Server(etch, "--quiet") as b:
        r = run_etch(etch, ["diff", "--endpoint", a.url, "--endpoint", b.url, "--scenarios",
                            suite, "--no-color", "--tag", "cancel", "--tag", "pipelines"], 200)
        expect(r, 0, "B live endpoint %s" % b.url, "0 different")


def main():
    if len(sys.argv) != 3:
        print("usage: test_live_diff.py ETCH SCENARIOS_DIR", file=sys.stderr)
        return 2
    etch, suite = sys.argv[1], sys.argv[2]
    return run_main(lambda: (shows_differences(etch, suite), two_endpoints(etch, suite),
                             no_difference(etch, suite)))


if __name__ == "__main__":
    sys.exit(main())
