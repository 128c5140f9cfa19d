# SPDX-License-Identifier: Apache-2.0
#
# test_live_replay.py - reproducers that reproduce: the failing steps of a run against
# `etch serve` are replayed and get the answer the run saw.
#
#   - `etch run --save-requests DIR` writes the bytes of each failing step's request;
#     `etch send --endpoint URL FILE` sends each again and gets the run's status and error
#     code; `etch handle FILE` takes the same files (the in-process run's) and answers as
#     the run's reference did.
#   - The curl line of a raw step with a hand-written Authorization, run with sh, gets the
#     run's status and error code (it used to drop that header: 403
#     MissingAuthenticationTokenException).
#   - A step curl cannot reproduce (a signature fault on purpose, a bare LF) says so and
#     names `etch send` and nc with the saved file.
#   - `etch send --resign` signs a saved request again at the current time.
#   - A --save-requests folder that cannot be made is exit status 2 before anything runs;
#     `etch send` refuses bad input with exit status 2 and says when no answer came (1).
#
# Usage: test_live_replay.py ETCH SCENARIOS_DIR (the suite folder; the scenarios used
# here are harness/tests/cli/replay, found next to this file)

import os
import re
import shutil
import subprocess
import sys
import tempfile

from live_util import Server, check, clean_env, expect, run_etch, run_main

HERE = os.path.dirname(os.path.abspath(__file__))
REPLAY_SUITE = os.path.join(HERE, "..", "cli", "replay")
RUN_LIMIT_S = 120


def blocks(out):
    """The failure blocks of a text report, by scenario name."""
    found = {}
    for part in re.split(r"\n(?=FAIL demo/)", out):
        m = re.match(r"FAIL demo/([a-z-]+)\.json", part)
        if m:
            found[m.group(1)] = part.split("\nsummary:")[0]
    return found


def answer_of(text):
    """(status, error code) of the first raw HTTP answer in text."""
    m = re.search(r"HTTP/1\.1 (\d{3})", text)
    check(m is not None, "no HTTP answer in:\n" + text)
    err = re.search(r"(?im)^\s*x-amzn-ErrorType: *([A-Za-z]+)", text)
    return int(m.group(1)), err.group(1) if err else None


def run_answer(block):
    """The answer the run saw, from the block's response (raw HTTP) section."""
    check("response (raw HTTP):" in block, "no response in the block:\n" + block)
    return answer_of(block.split("response (raw HTTP):", 1)[1])


def curl_command(block):
    """The curl command of a block, as a shell would read it."""
    lines = block.split("\n")
    for i, line in enumerate(lines):
        if line.strip().startswith("curl "):
            cmd = []
            for follow in lines[i:]:
                cmd.append(follow.strip())
                if not follow.endswith("\\"):
                    return "\n".join(cmd)
    raise AssertionError("no curl command in:\n" + block)


def saved_file(block):
    m = re.search(r"request saved as (\S+\.http) ", block)
    check(m is not None, "the block names no saved request:\n" + block)
    check(os.path.isfile(m.group(1)), "the saved request %s is not there" % m.group(1))
    return m.group(1)


def send(etch, url, path, *extra):
    r = run_etch(etch, ["send", "--endpoint", url, "--timeout", "10"] + list(extra) + [path], 30)
    expect(r, 0)
    return answer_of(r.out)


def live_replays(etch, tmp):
    saved = os.path.join(tmp, "saved", "nested")
    with Server(etch, "--quiet") as srv:
        r = run_etch(etch, ["run", "--no-color", "--endpoint", srv.url, "--scenarios",
                            REPLAY_SUITE, "--save-requests", saved], RUN_LIMIT_S)
        expect(r, 1, "FAIL demo/hand-signed.json", "FAIL demo/fault-signed.json",
               "FAIL demo/malformed.json")
        found = blocks(r.out)
        check(sorted(found) == ["fault-signed", "hand-signed", "malformed"],
              "failure blocks: %r\n%s" % (sorted(found), r.text()))

        # The hand-written Authorization goes out with the curl line.
        block = found["hand-signed"]
        want = run_answer(block)
        cmd = curl_command(block)
        check("Authorization: AWS4-HMAC-SHA256 Credential=AKIDNOBODY" in cmd,
              "the curl line drops the hand-written Authorization:\n" + cmd)
        if shutil.which("curl") is None:
            print("curl is not installed: the curl line is not run")
        else:
            p = subprocess.run(["sh", "-c", cmd], capture_output=True, timeout=30,
                               env=clean_env(), stdin=subprocess.DEVNULL)
            got = answer_of(p.stdout.decode("utf-8", "replace"))
            check(got == want, "the curl line got %r, the run %r:\n%s" % (got, want, cmd))
            print("curl line of hand-signed: %d %s, as in the run" % got)

        # Every saved request, sent again, gets the run's answer.
        for name, b in sorted(found.items()):
            want = run_answer(b)
            got = send(etch, srv.url, saved_file(b))
            check(got == want, "%s: etch send got %r, the run %r" % (name, got, want))
            print("etch send of %s: %d %s, as in the run" % ((name,) + got))

        # What curl cannot send is said, with the replays of the saved file instead.
        for name, why in (("fault-signed", "a fault on purpose (wrong-secret)"),
                          ("malformed", "bare LF")):
            b = found[name]
            check("# curl cannot reproduce this step:" in b and why in b,
                  "%s: no plain word that curl cannot reproduce it:\n%s" % (name, b))
            check("curl -sS" not in b, "%s: a curl line that cannot reproduce:\n%s" % (name, b))
            path = saved_file(b)
            check("etch send --endpoint \"%s\" '%s'" % (srv.url, path) in b and
                  "nc 127.0.0.1 %d < '%s'" % (srv.port, path) in b,
                  "%s: no etch send or nc replay of the saved file:\n%s" % (name, b))

        # Signed again now with the environment's credentials (here the contract's test
        # principal): the key the run never had is replaced and the signature holds.
        got = send(etch, srv.url, saved_file(found["hand-signed"]), "--resign")
        check(got == (404, "ResourceNotFoundException"),
              "--resign: %r, not the 404 of a read of an unknown job" % (got,))
        r = run_etch(etch, ["send", "--endpoint", srv.url, "--resign",
                            saved_file(found["malformed"])], 30)
        expect(r, 2, "--resign: not a well-formed HTTP request")


def handle_takes_the_files(etch, tmp):
    """The in-process run's saved requests: `etch handle` answers them as the run did."""
    saved = os.path.join(tmp, "inproc")
    r = run_etch(etch, ["run", "--no-color", "--scenarios", REPLAY_SUITE, "--save-requests",
                        saved], RUN_LIMIT_S)
    expect(r, 1)
    for name, b in sorted(blocks(r.out).items()):
        want = run_answer(b)
        h = run_etch(etch, ["handle", "--now", "20261128T124500Z", saved_file(b)], 30)
        got = answer_of(h.out)
        check(got == want, "%s: etch handle answered %r, the run saw %r" % (name, got, want))
    print("etch handle answers the saved requests as the run's reference did")


def bad_folder(etch, tmp):
    blocker = os.path.join(tmp, "a-file")
    with open(blocker, "w") as f:
        f.write("not a folder\n")
    r = run_etch(etch, ["run", "--no-color", "--scenarios", REPLAY_SUITE, "--save-requests",
                        os.path.join(blocker, "saved")], 30)
    expect(r, 2, "--save-requests")
    check("FAIL demo/" not in r.out, "scenarios ran before the folder was checked:\n" + r.text())


def send_refusals(etch, tmp):
    """Bad input and no answer: clear messages, never a crash or a hang."""
    request = os.path.join(tmp, "get.http")
    with open(request, "wb") as f:
        f.write(b"GET /2012-09-25/pipelines HTTP/1.1\r\nHost: h\r\n\r\n")
    empty = os.path.join(tmp, "empty.http")
    open(empty, "wb").close()
    expect(run_etch(etch, ["send", request], 30), 2, "needs --endpoint URL and a request FILE")
    expect(run_etch(etch, ["send", "--endpoint", "http://127.0.0.1:1", empty], 30), 2,
           "is empty")
    expect(run_etch(etch, ["send", "--endpoint", "http://127.0.0.1:1",
                           os.path.join(tmp, "none.http")], 30), 2, "none.http")
    expect(run_etch(etch, ["send", "--endpoint", "http://127.0.0.1:1", "--timeout", "0",
                           request], 30), 2, "--timeout takes whole seconds")
    expect(run_etch(etch, ["send", "--endpoint", "http://127.0.0.1:1", request, request], 30),
           2, "second file")
    r = run_etch(etch, ["send", "--endpoint", "http://127.0.0.1:1", "--connect-timeout-ms",
                        "2000", request], 30)
    expect(r, 1, "etch send: no answer from http://127.0.0.1:1")
    r = run_etch(etch, ["send", "--help"], 30)
    expect(r, 0, "--resign", "skew window")


def main():
    if len(sys.argv) != 3:
        print("usage: test_live_replay.py ETCH SCENARIOS_DIR", file=sys.stderr)
        return 2
    etch = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="etch-replay-")
    try:
        return run_main(lambda: (bad_folder(etch, tmp), send_refusals(etch, tmp),
                                 handle_takes_the_files(etch, tmp), live_replays(etch, tmp)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
