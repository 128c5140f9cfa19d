# SPDX-License-Identifier: Apache-2.0
#
# test_bench.py - `etch bench` runs and says something well-formed: the in-process
# benchmarks (JSON and table), its usage errors, and the live mode against an `etch serve`
# this test starts on a free loopback port and stops. It never judges a figure: this
# machine is shared and noisy, so only shape and sanity are checked (positive numbers,
# every request answered, the answers the server should give).
#
# usage: python3 test_bench.py ETCH
import json
import subprocess
import sys

ETCH = sys.argv[1]
INPROC_NAMES = [
    "floor", "floor_cached_key", "sign_derived_key", "sign_cached_key", "verify_derived_key",
    "verify_cached_key", "parse", "cancel_job_cached_key", "cancel_job_derived_key", "read_job",
    "create_job",
]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(args, timeout=300):
    return subprocess.run([ETCH] + args, capture_output=True, text=True, timeout=timeout)


def test_inproc_json():
    p = run(["bench", "--json", "--runs", "2", "--ops", "40", "--no-suite"])
    check(p.returncode == 0, "inproc --json exits 0 (stderr: %s)" % p.stderr.strip())
    doc = json.loads(p.stdout)
    check(doc["mode"] == "inproc" and doc["runs"] == 2 and doc["ops_per_run"] == 40,
          "inproc JSON says what it ran")
    names = [r["name"] for r in doc["results"]]
    check(names == INPROC_NAMES, "every benchmark reported, in order: %s" % names)
    for r in doc["results"]:
        check(r["ns_per_op"] > 0 and r["ratio_to_floor"] > 0, "%s has positive figures" % r["name"])
    floor = [r for r in doc["results"] if r["name"] == "floor"][0]
    check(abs(floor["ratio_to_floor"] - 1.0) < 1e-9, "the floor is 1.00x itself")
    check(doc["key_cache"]["hits"] > 0, "the verifier's cache was hit")
    check("suite" not in doc, "--no-suite leaves the suite out")


def test_inproc_table_with_suite():
    p = run(["bench", "--runs", "1", "--ops", "20", "--suite-runs", "1"])
    check(p.returncode == 0, "inproc table exits 0 (stderr: %s)" % p.stderr.strip())
    check("x floor" in p.stdout and "cancel_job_cached_key" in p.stdout, "table has its columns")
    check("whole in-process suite (etch run)" in p.stdout and "exit status 0" in p.stdout,
          "the suite was timed and passed")


def test_usage():
    for args in (["--runs", "0"], ["--ops", "x"], ["--ops", "200001"], ["--op", "Nothing"],
                 ["--no-such-option"], ["--duration", "-1"], ["--access-key", "AKID"]):
        p = run(["bench"] + args)
        check(p.returncode == 2, "bench %s is bad usage (exit %d)" % (" ".join(args), p.returncode))
    p = run(["bench", "--help"])
    check(p.returncode == 0 and "--endpoint" in p.stdout, "bench --help")


def test_live():
    probe = run(["bench", "--endpoint", "http://127.0.0.1:1", "--duration", "0.1"])
    if "built without" in probe.stderr:
        print("skip live: " + probe.stderr.strip())
        return
    srv = subprocess.Popen([ETCH, "serve", "--listen", "127.0.0.1:0", "--quiet"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = srv.stdout.readline()
        if "built without" in line or not line.startswith("etch serve: listening on "):
            err = srv.stderr.read() if srv.poll() is not None else ""
            if "built without" in err:
                print("skip live: " + err.strip())
                return
            check(False, "etch serve started: %r %r" % (line, err))
            return
        url = line.strip().rsplit(" ", 1)[1]
        for op in ("ReadJob", "CancelJob"):
            p = run(["bench", "--endpoint", url, "--connections", "2", "--duration", "0.6",
                     "--op", op, "--json"], timeout=120)
            check(p.returncode == 0, "live %s exits 0 (stderr: %s)" % (op, p.stderr.strip()))
            doc = json.loads(p.stdout)
            check(doc["mode"] == "live" and doc["op"] == op and doc["connections"] == 2,
                  "live %s JSON says what it ran" % op)
            for kind in ("signed", "bare_libcurl"):
                r = doc[kind]
                check(r["requests"] > 0 and r["failures"] == 0 and r["requests_per_s"] > 0,
                      "live %s %s: answered requests" % (op, kind))
                check(0 < r["p50_us"] <= r["p99_us"], "live %s %s: p50 <= p99" % (op, kind))
                # The job does not exist (404) and unsigned requests are refused (403): every
                # answer is a 4xx, and above all none is a 5xx.
                check(r["status_classes"]["4xx"] == r["requests"],
                      "live %s %s: every answer a 4xx" % (op, kind))
            check(doc["ratio_signed_to_bare"] > 0, "live %s: a ratio" % op)
        p = run(["bench", "--endpoint", url, "--connections", "1", "--duration", "0.3"],
                timeout=60)
        check(p.returncode == 0 and "signed / bare requests per second" in p.stdout,
              "live table")
    finally:
        srv.terminate()
        try:
            srv.wait(timeout=20)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()


test_inproc_json()
test_inproc_table_with_suite()
test_usage()
test_live()
print("%d failed" % len(failures))
sys.exit(1 if failures else 0)
