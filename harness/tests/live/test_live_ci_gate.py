# SPDX-License-Identifier: Apache-2.0
#
# test_live_ci_gate.py - `etch run --endpoint` as a CI gate meets it: a target it cannot use
# stops the run before the first scenario with exit status 3 and one line saying what the
# target is (unreachable, not HTTP, not an Elastic Transcoder endpoint, credentials
# refused), and still writes the report files with that reason; a report file that cannot
# be written is a usage error (2) before anything is sent; a run without a terminal shows
# one progress line per finished scenario on stderr and its wall time in the summary.
#
# Usage: test_live_ci_gate.py ETCH SCENARIOS_DIR

import json
import os
import socket
import sys
import tempfile
import xml.etree.ElementTree as ET

from live_util import Server, check, clean_env, expect, run_etch
from live_util import run_main
from misbehaving_server import MisbehavingServer

LIMIT_S = 60
ONE = ["--scenario", "cancel/cancel-unknown-id", "--no-color", "--timeout-ms", "2000",
       "--connect-timeout-ms", "2000"]


def run(etch, suite, url, tmp, *extra, env=None):
    junit = os.path.join(tmp, "run.xml")
    tap = os.path.join(tmp, "run.tap")
    jsonl = os.path.join(tmp, "run.jsonl")
    for path in (junit, tap, jsonl):
        if os.path.exists(path):
            os.unlink(path)
    r = run_etch(etch, ["run", "--endpoint", url, "--scenarios", suite, "--junit", junit,
                        "--tap", tap, "--jsonl", jsonl] + ONE + list(extra), LIMIT_S,
                 env=clean_env(env))
    return r, junit, tap, jsonl


def unusable(etch, suite, url, tmp, label, *texts, env=None):
    """The run stops with 3 and the reason, and every report file says it."""
    r, junit, tap, jsonl = run(etch, suite, url, tmp, env=env)
    expect(r, 3, "the target is unusable", *texts)
    check("summary:" not in r.out, "%s: scenarios ran:\n%s" % (label, r.text()))
    root = ET.parse(junit).getroot()
    errors = root.findall(".//testcase/error")
    check(len(errors) == 1 and all(t in errors[0].get("message", "") for t in texts),
          "%s: the JUnit file does not carry the reason: %s" % (label, open(junit).read()))
    with open(tap, encoding="utf-8") as f:
        text = f.read()
    check("not ok 1 - preflight/target" in text, "%s: TAP: %s" % (label, text))
    with open(jsonl, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    check(len(rows) == 1 and rows[0]["verdict"] == "ERROR", "%s: JSON Lines: %r" % (label, rows))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def preflight(etch, suite, tmp):
    unusable(etch, suite, "http://127.0.0.1:%d" % free_port(), tmp, "unreachable",
             "unreachable:", "does not answer")
    with MisbehavingServer("garbage") as srv:
        unusable(etch, suite, srv.url, tmp, "garbage", "not HTTP:")
    with MisbehavingServer("html404", 1) as srv:
        unusable(etch, suite, srv.url, tmp, "html", "not an Elastic Transcoder endpoint:",
                 "ListPipelines answered 404, text/html")
    with Server(etch, "--quiet") as srv:
        unusable(etch, suite, srv.url, tmp, "unknown key", "credentials refused:",
                 "UnrecognizedClientException",
                 env={"AWS_ACCESS_KEY_ID": "AKIDNOTKNOWN", "AWS_SECRET_ACCESS_KEY": "x"})
        r, _, _, _ = run(etch, suite, srv.url, tmp)
        expect(r, 0, "preflight: an Elastic Transcoder endpoint (ListPipelines answered 200")


def report_files(etch, suite, tmp):
    """A report file that cannot be written stops the run before anything is sent."""
    with MisbehavingServer("good") as srv:
        for option in ("--junit", "--tap", "--jsonl"):
            for path in (os.path.join(tmp, "no-such-dir", "x"), tmp):
                r = run_etch(etch, ["run", "--endpoint", srv.url, "--scenarios", suite, option,
                                    path] + ONE, LIMIT_S, env=clean_env())
                expect(r, 2, "cannot write the")
                check(srv.requests == 0, "%s %s: %d requests were sent first"
                      % (option, path, srv.requests))
        existing = os.path.join(tmp, "kept.xml")
        with open(existing, "w", encoding="utf-8") as f:
            f.write("old")
        r = run_etch(etch, ["run", "--endpoint", srv.url, "--scenarios", suite, "--junit",
                            os.path.join(tmp, "new.xml")] + ONE, LIMIT_S, env=clean_env())
        check(r.status == 0, "a run with a writable report failed:\n" + r.text())


def progress(etch, suite, tmp):
    """Without a terminal (as in CI) every finished scenario is one line on stderr, and the
    summary gives the wall time."""
    with Server(etch, "--quiet") as srv:
        r = run_etch(etch, ["run", "--endpoint", srv.url, "--scenarios", suite, "--no-color",
                            "--scenario", "cancel/cancel-unknown-id", "--scenario",
                            "cancel/cancel-submitted"], LIMIT_S, env=clean_env())
        expect(r, 0, "s wall (scenario time ")
        lines = [ln for ln in r.err.splitlines() if ln.startswith("[")]
        check(len(lines) == 2 and lines[1].startswith("[2/2] "),
              "progress lines on stderr: %r\n%s" % (lines, r.text()))
        r = run_etch(etch, ["run", "--endpoint", srv.url, "--scenarios", suite, "--no-color",
                            "--no-progress"] + ONE, LIMIT_S, env=clean_env())
        check("[1/1]" not in r.err, "--no-progress printed progress:\n" + r.text())


def body(etch, suite):
    with tempfile.TemporaryDirectory() as tmp:
        preflight(etch, suite, tmp)
        report_files(etch, suite, tmp)
        progress(etch, suite, tmp)


def main():
    if len(sys.argv) != 3:
        print("usage: test_live_ci_gate.py ETCH SCENARIOS_DIR", file=sys.stderr)
        return 2
    return run_main(lambda: body(sys.argv[1], sys.argv[2]))


if __name__ == "__main__":
    sys.exit(main())
