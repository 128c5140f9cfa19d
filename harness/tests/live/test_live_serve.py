# SPDX-License-Identifier: Apache-2.0
#
# test_live_serve.py - the whole suite with `etch run --endpoint` against `etch serve`:
# no FAIL, ERROR or NOT IMPLEMENTED, the scenarios that need test control SKIPped (etch serve
# runs without it here), at least 85 % of the scenarios run, the first line
# naming the target, the endpoint's clock reported, nothing left on the server
# afterwards (cleanup), and one connection kept alive by one worker.
#
# Usage: test_live_serve.py ETCH SCENARIOS_DIR

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from live_util import (ConnectProxy, Proxy, Server, TestFailure, check, clean_env, expect,
                       run_etch, run_main, signed_get)

RUN_LIMIT_S = 400


def whole_suite(etch, suite):
    with Server(etch, "--quiet") as srv, tempfile.TemporaryDirectory() as tmp:
        jsonl = os.path.join(tmp, "run.jsonl")
        r = run_etch(etch, ["run", "--endpoint", srv.url, "--scenarios", suite, "--no-color",
                            "--jsonl", jsonl], RUN_LIMIT_S)
        expect(r, 0, "clock: the endpoint's Date")
        first = r.out.split("\n", 1)[0]
        check(first.endswith(": target live endpoint %s" % srv.url),
              "the first line does not name the target: %r" % first)
        m = re.search(r"summary: (\d+) scenarios, (\d+) passed, (\d+) failed, (\d+) deviations, "
                      r"(\d+) not implemented, (\d+) skipped, (\d+) errors", r.out)
        check(m is not None, "no summary line:\n" + r.text())
        failed, deviations, not_implemented, skipped, errors = (int(m.group(i))
                                                                for i in (3, 4, 5, 6, 7))
        # No deviation either: malformed requests get the reference's own answers.
        check(failed == 0 and deviations == 0 and not_implemented == 0 and errors == 0,
              "not a clean run:\n" + r.text())
        check(re.search(r"should (\d+)/\1 \(100\.0%\)", r.out) is not None,
              "not every 'should' check passed:\n" + r.text())
        rows = [json.loads(line) for line in open(jsonl, encoding="utf-8")]
        check(len(rows) == int(m.group(1)), "JSON Lines: %d rows" % len(rows))
        skips = {row["scenario"] for row in rows if row["verdict"] == "SKIP"}
        check(len(skips) == skipped and skipped > 0, "expected SKIPs for want of test control")
        check(skipped * 100 <= len(rows) * 15,
              "%d of %d scenarios skipped: more than 15 %%" % (skipped, len(rows)))
        # What only test control (contract section 9) can bring, or more pipelines than a
        # faithful endpoint allows at once (seeded ones are created without control).
        allowed = ("needs test control (contract section 9)", "pipelines at once")
        for row in rows:
            if row["verdict"] == "SKIP":
                check(any(any(a in (s.get("reason") or "") for a in allowed)
                          for s in row["steps"]),
                      "%s skipped for another reason: %r" % (row["scenario"], row["steps"][:2]))
        # Cleanup: every pipeline a scenario created is gone again.
        resp = signed_get(srv.port, "/2012-09-25/pipelines")
        check(resp.status == 200, "ListPipelines after the run: %r" % resp)
        left = resp.json()["Pipelines"]
        check(left == [], "the run left %d pipelines behind: %r" % (len(left), left[:3]))
        print(r.out.splitlines()[-2])


def one_connection(etch, suite):
    """One worker, sequential steps: the probe, every step and the cleanup of three
    scenarios share one kept-alive connection."""
    with Server(etch, "--quiet") as srv, Proxy(srv.port) as proxy:
        url = "http://127.0.0.1:%d" % proxy.port
        r = run_etch(etch, ["run", "--endpoint", url, "--scenarios", suite, "--no-color",
                            "--scenario", "cancel-submitted", "--scenario", "cancel-canceled",
                            "--scenario", "read-job-shape"], 120)
        expect(r, 0, "3 passed")
        check(proxy.connections == 1, "%d connections for one worker (want 1, kept alive)"
              % proxy.connections)


def clock_offset_signs(etch, suite):
    """--clock-offset moves the signing clock: told the endpoint is 20 minutes ahead when it
    is not, every request is signed 20 minutes off, and the preflight's is refused for it:
    the run stops there (exit 3) and says why."""
    with Server(etch, "--quiet") as srv:
        r = run_etch(etch, ["run", "--endpoint", srv.url, "--scenarios", suite, "--no-color",
                            "--scenario", "clock-skew", "--clock-offset", "1200"], 120)
        expect(r, 3, "--clock-offset 1200 in use (-1200 s left over)",
               "preflight: the signature's date is refused", "Signature not yet current")


def through_a_proxy(etch, suite):
    """A proxy from the environment is used as a CONNECT tunnel: the bytes arrive as written
    (a malformed request among them), one tunnel for one worker."""
    with Server(etch, "--quiet") as srv, ConnectProxy() as proxy:
        env = clean_env({"http_proxy": "http://127.0.0.1:%d" % proxy.port})
        env.pop("NO_PROXY", None)
        env.pop("no_proxy", None)
        r = run_etch(etch, ["run", "--endpoint", srv.url, "--scenarios", suite, "--no-color",
                            "--scenario", "cancel-submitted", "--scenario", "malformed-http"],
                     120, env=env)
        expect(r, 0, "2 passed, 0 failed, 0 deviations")
        check(proxy.targets and all(t == "CONNECT 127.0.0.1:%d HTTP/1.1" % srv.port
                                    for t in proxy.targets),
              "the proxy saw %r" % proxy.targets)


def interrupted(etch, suite):
    """SIGINT stops a live run: the scenarios in progress stop at their next step and clean
    up, no other starts, and nothing is left on the server."""
    with Server(etch, "--quiet") as srv:
        p = subprocess.Popen([etch, "run", "--endpoint", srv.url, "--scenarios", suite,
                              "--no-color", "--workers", "2", "--tag", "lifecycle",
                              "--tag", "cancel"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
        time.sleep(3)
        p.send_signal(signal.SIGINT)
        try:
            out, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise TestFailure("etch run did not stop within 60 s of SIGINT")
        err = err.decode("utf-8", "replace")
        check(p.returncode == 1, "exit %s after SIGINT\n%s" % (p.returncode, err))
        check("interrupted:" in err and "were not run" in err, "no interruption notice:\n" + err)
        check(b"summary:" in out, "no report after the interruption")
        left = signed_get(srv.port, "/2012-09-25/pipelines").json()["Pipelines"]
        check(left == [], "an interrupted run left %d pipelines behind" % len(left))


def main():
    if len(sys.argv) != 3:
        print("usage: test_live_serve.py ETCH SCENARIOS_DIR", file=sys.stderr)
        return 2
    etch, suite = sys.argv[1], sys.argv[2]
    return run_main(lambda: (one_connection(etch, suite), through_a_proxy(etch, suite),
                             clock_offset_signs(etch, suite), interrupted(etch, suite),
                             whole_suite(etch, suite)))


if __name__ == "__main__":
    sys.exit(main())
