# SPDX-License-Identifier: Apache-2.0
#
# test_live_broken.py - `etch run --endpoint` catches broken emulators: broken_proxy.py in
# front of `etch serve` drops every NextPageToken (on a page size of 2, so that four items
# cross pages), or lets a Paused pipeline start its jobs, or lets CancelJob of a
# Progressing job answer 202. Each makes the run FAIL (exit 1, a FAIL in the area that
# checks it), with test control (the proxy forwards the control paths unchanged) and
# without. The same proxy passing everything through leaves the whole suite PASSing, so
# the proxy itself is faithful.
#
# Usage: test_live_broken.py ETCH SCENARIOS_DIR

import json
import os
import re
import sys
import tempfile

from broken_proxy import BrokenProxy
from live_util import Server, check, run_etch, run_main

RUN_LIMIT_S = 180

# mode -> (areas where a FAIL is expected, selection with control, selection without).
# Without control the selected scenarios wait in real time: a few seconds each.
CASES = {
    "drop-page-token": ({"pagination"},
                        ["--tag", "pagination"],
                        ["--scenario", "pagination/pipelines-pages-real-clock"]),
    "ignore-pause": ({"lifecycle", "cancel"},
                     ["--scenario", "lifecycle/paused-pipeline-flow",
                      "--scenario", "lifecycle/pause-holds-submitted-only",
                      "--scenario", "lifecycle/start-delay-after-resume",
                      "--scenario", "cancel/cancel-then-resume-real-clock",
                      # Its clock moves only inside concurrent groups: cleanup once waited
                      # on the stopped clock for ever after its FAIL (RUN_LIMIT_S catches it).
                      "--scenario", "concurrency/cancel-races-start"],
                     ["--scenario", "lifecycle/paused-pipeline-flow",
                      "--scenario", "lifecycle/pause-holds-real-clock"]),
    "cancel-progressing": ({"cancel"},
                           ["--scenario", "cancel/cancel-progressing",
                            "--scenario", "cancel/cancel-seeded-statuses"],
                           ["--scenario", "cancel/cancel-progressing"]),
    "cancel-ignored": ({"cancel"},
                       ["--scenario", "cancel/cancel-submitted",
                        "--scenario", "cancel/cancel-paused-real-clock"],
                       ["--scenario", "cancel/cancel-submitted",
                        "--scenario", "cancel/cancel-paused-real-clock"]),
}


def live_run(etch, url, suite, tmp, args):
    jsonl = os.path.join(tmp, "run.jsonl")
    if os.path.exists(jsonl):
        os.remove(jsonl)
    r = run_etch(etch, ["run", "--endpoint", url, "--scenarios", suite, "--no-color",
                        "--cleanup-timeout-ms", "20000", "--jsonl", jsonl] + args, RUN_LIMIT_S)
    check(os.path.exists(jsonl), "no JSON Lines report:\n" + r.text())
    with open(jsonl, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return r, rows


def faithful(etch, srv, suite, tmp):
    """Pass-through: the whole suite, with control, one worker, PASSes through the proxy."""
    with BrokenProxy(srv.port, "pass") as proxy:
        r, rows = live_run(etch, proxy.url, suite, tmp, ["--workers", "1"])
    bad = ["%s/%s %s" % (x["area"], x["scenario"], x["verdict"]) for x in rows
           if x["verdict"] != "PASS"]
    check(r.status == 0 and not bad and len(rows) > 100,
          "through the pass-through proxy: %r\n%s" % (bad[:5], r.text()))
    print("pass (control): %d scenarios, all PASS, %.1f s" % (len(rows), r.seconds))


def broken(etch, srv, suite, tmp, mode, with_control):
    areas, sel_control, sel_plain = CASES[mode]
    with BrokenProxy(srv.port, mode) as proxy:
        r, rows = live_run(etch, proxy.url, suite, tmp,
                           (sel_control if with_control else sel_plain) + ["--workers", "4"])
        changes = dict(proxy.changes)
    what = "%s (%s)" % (mode, "control" if with_control else "no control")
    line = [l for l in r.out.splitlines() if l.startswith("test control: ")]
    want = "test control: found" if with_control else "test control: not offered"
    check(line and line[0].startswith(want), "%s: %r\n%s" % (what, line, r.text()))
    check(changes, "%s: the proxy changed nothing\n%s" % (what, r.text()))
    failed = ["%s/%s" % (x["area"], x["scenario"]) for x in rows if x["verdict"] == "FAIL"]
    check(r.status == 1, "%s: exit %d, want 1\n%s" % (what, r.status, r.text()))
    check(any(f.split("/")[0] in areas for f in failed),
          "%s: no FAIL in %s (FAILs: %r)\n%s" % (what, sorted(areas), failed, r.text()))
    errors = [x["scenario"] for x in rows if x["verdict"] == "ERROR"]
    check(not errors, "%s: ERRORs %r\n%s" % (what, errors, r.text()))
    if mode == "cancel-ignored":
        cleanup_is_honest(what, r, rows)
    print("%s: exit 1 in %.1f s; FAIL: %s; the proxy: %s" % (
        what, r.seconds, ", ".join(failed),
        ", ".join("%s x%d" % kv for kv in sorted(changes.items()))))


def cleanup_is_honest(what, r, rows):
    """A cancel answered 202 that canceled nothing is not counted as canceled, and the
    pipelines its Submitted jobs keep busy are left at once, said so, not waited for (the
    run's --cleanup-timeout-ms of 20 s per scenario would show in its time)."""
    canceled = sum(x.get("cleanup", {}).get("jobs_canceled", 0) for x in rows)
    ignored = sum(x.get("cleanup", {}).get("jobs_cancel_ignored", 0) for x in rows)
    check(canceled == 0 and ignored > 0,
          "%s: %d counted canceled, %d ignored\n%s" % (what, canceled, ignored, r.text()))
    check("cancels answered 2xx but the job did not then read Canceled" in r.out or
          "cancel answered 2xx but the job did not then read Canceled" in r.out,
          "%s: the report does not say the cancels were ignored\n%s" % (what, r.text()))
    check(re.search(r"^cleanup: 0 jobs canceled, .*, [1-9]\d* left behind$", r.out, re.M),
          "%s: the cleanup line does not say what was left\n%s" % (what, r.text()))
    check(r.seconds < 20, "%s: %.1f s: cleanup waited\n%s" % (what, r.seconds, r.text()))


def main():
    if len(sys.argv) != 3:
        print("usage: test_live_broken.py ETCH SCENARIOS_DIR", file=sys.stderr)
        return 2
    etch, suite = sys.argv[1], sys.argv[2]

    def body():
        # drop-page-token needs a page size below 4 so that its four items cross pages; the
        # other modes run on the default page size, which the whole suite expects.
        with tempfile.TemporaryDirectory() as tmp:
            with Server(etch, "--quiet", "--test-control") as srv:
                faithful(etch, srv, suite, tmp)
                for mode in ("ignore-pause", "cancel-progressing", "cancel-ignored"):
                    broken(etch, srv, suite, tmp, mode, True)
            with Server(etch, "--quiet", "--test-control", "--page-size", "2") as srv:
                broken(etch, srv, suite, tmp, "drop-page-token", True)
            with Server(etch, "--quiet") as srv:
                for mode in ("ignore-pause", "cancel-progressing", "cancel-ignored"):
                    broken(etch, srv, suite, tmp, mode, False)
            with Server(etch, "--quiet", "--page-size", "2") as srv:
                broken(etch, srv, suite, tmp, "drop-page-token", False)

    return run_main(body)


if __name__ == "__main__":
    sys.exit(main())
