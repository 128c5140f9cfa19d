# SPDX-License-Identifier: Apache-2.0
#
# test_live_pipelines.py - the live pipeline budget of `etch run --endpoint` against
# `etch serve`: with the faithful limit of 4 pipelines and 4 workers the pipelines area
# runs clean (pipeline-warnings, which holds 4 pipelines at once, among the PASSes); a
# scenario needing more than the target allows is SKIPped on the 429 LimitExceededException,
# one needing more than the run allows (--max-pipelines) is SKIPped before its first step;
# never a FAIL, and nothing left on the server.
#
# Usage: test_live_pipelines.py ETCH SCENARIOS_DIR

import json
import os
import sys
import tempfile

from live_util import Server, check, expect, run_etch, run_main, signed_get

RUN_LIMIT_S = 120

REASON_TARGET = ("needs more pipelines than the target allows: "
                 "CreatePipeline answered 429 LimitExceededException")


def reason_run(needed, allowed):
    return ("needs %d pipelines at once, more than the run allows (--max-pipelines %d)"
            % (needed, allowed))


def live_run(etch, srv, suite, tmp, args):
    """One `etch run` against srv; returns its result and its verdicts by area/name (each
    with the reasons of its SKIPped steps)."""
    jsonl = os.path.join(tmp, "run.jsonl")
    if os.path.exists(jsonl):
        os.remove(jsonl)
    r = run_etch(etch, ["run", "--endpoint", srv.url, "--scenarios", suite, "--no-color",
                        "--jsonl", jsonl] + args, RUN_LIMIT_S)
    check(os.path.exists(jsonl), "no JSON Lines report:\n" + r.text())
    rows = {}
    with open(jsonl, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            reasons = {s.get("reason") for s in row["steps"] if s["verdict"] == "SKIP"}
            rows["%s/%s" % (row["area"], row["scenario"])] = (row["verdict"], reasons)
    bad = {name: v for name, (v, _) in rows.items() if v not in ("PASS", "SKIP")}
    check(not bad, "verdicts other than PASS or SKIP: %r\n%s" % (bad, r.text()))
    return r, rows


def nothing_left(srv):
    resp = signed_get(srv.port, "/2012-09-25/pipelines")
    check(resp.status == 200, "ListPipelines after the run: %r" % resp)
    left = resp.json()["Pipelines"]
    check(left == [], "the run left %d pipelines behind: %r" % (len(left), left[:3]))


def skipped_for(rows, name, reason, r):
    check(name in rows, "%s was not run:\n%s" % (name, r.text()))
    verdict, reasons = rows[name]
    check(verdict == "SKIP", "%s: %s, want SKIP (%s)\n%s" % (name, verdict, reason, r.text()))
    check(reasons == {reason}, "%s skipped for %r, want %r" % (name, sorted(reasons), reason))


def shared_budget(etch, suite):
    """Four workers share the target's 4 pipelines: every scenario of the pipelines area
    that runs live passes, pipeline-warnings (4 at once) and the 2-pipeline ones among them;
    only the in-process-only captures are SKIPped."""
    with Server(etch, "--max-pipelines", "4", "--quiet") as srv, \
            tempfile.TemporaryDirectory() as tmp:
        r, rows = live_run(etch, srv, suite, tmp, ["--workers", "4", "--tag", "pipelines"])
        expect(r, 0, "0 failed", "0 errors")
        for name in ("pipelines/pipeline-warnings", "pipelines/delete-pipeline",
                     "pipelines/list-pipelines-shape", "pipelines/create-pipeline-output-rules"):
            check(rows.get(name, ("missing",))[0] == "PASS",
                  "%s: %s, want PASS\n%s" % (name, rows.get(name, ("missing",))[0], r.text()))
        for name, (verdict, reasons) in rows.items():
            if verdict == "SKIP":
                check(all(x and "in-process only" in x for x in reasons),
                      "%s skipped for %r" % (name, sorted(reasons)))
        nothing_left(srv)


def target_limit(etch, suite):
    """The target allows 1 pipeline, the run 3: a 2-pipeline scenario meets 429 with nobody
    else holding a pipeline and is SKIPped with that reason, a 1-pipeline one still passes.
    With --max-pipelines 1 on the run side, the 4-pipeline scenario is SKIPped up front."""
    with Server(etch, "--max-pipelines", "1", "--quiet") as srv, \
            tempfile.TemporaryDirectory() as tmp:
        r, rows = live_run(etch, srv, suite, tmp, [
            "--max-pipelines", "3", "--scenario", "pipelines/delete-pipeline",
            "--scenario", "pipelines/create-pipeline-shape"])
        expect(r, 0, "1 passed, 0 failed", "1 skipped, 0 errors")
        skipped_for(rows, "pipelines/delete-pipeline", REASON_TARGET, r)
        check(rows["pipelines/create-pipeline-shape"][0] == "PASS",
              "create-pipeline-shape did not pass:\n" + r.text())
        nothing_left(srv)

        r, rows = live_run(etch, srv, suite, tmp, [
            "--max-pipelines", "1", "--scenario", "pipelines/pipeline-warnings",
            "--scenario", "pipelines/create-pipeline-shape"])
        expect(r, 0, "1 passed, 0 failed", "1 skipped, 0 errors")
        skipped_for(rows, "pipelines/pipeline-warnings", reason_run(4, 1), r)
        nothing_left(srv)


def main():
    if len(sys.argv) != 3:
        print("usage: test_live_pipelines.py ETCH SCENARIOS_DIR", file=sys.stderr)
        return 2
    etch, suite = sys.argv[1], sys.argv[2]
    return run_main(lambda: (target_limit(etch, suite), shared_budget(etch, suite)))


if __name__ == "__main__":
    sys.exit(main())
