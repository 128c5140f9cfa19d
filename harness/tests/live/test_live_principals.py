# SPDX-License-Identifier: Apache-2.0
#
# test_live_principals.py - a correct endpoint gets no false FAIL whichever principals a
# run has. The auth scenarios and cancel-submitted run against `etch serve` (which knows
# the test principals and one more main key) once for each combination: no credentials;
# the main test keys in the AWS environment (as a CI job exports them for the AWS CLI);
# the main test keys by flags; another main key alone, with the restricted principal,
# with the temporary one, with both. Every run must end without FAIL, ERROR or NOT
# IMPLEMENTED. With the test keys given, the restricted and temporary test principals are
# there as without credentials; a run that lacks one SKIPs what needs it and the steps
# that depend on those, and a skipped read stops nothing after it.
#
# Usage: test_live_principals.py ETCH SCENARIOS_DIR

import json
import os
import re
import sys
import tempfile

from live_util import Server, TestFailure, check, clean_env, run_etch, run_main

RUN_LIMIT_S = 300

# Contract section 7's test principals.
MAIN = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
RESTRICTED = ("AKIDREADONLY", "readonly/secret/key/EXAMPLEKEY0000000000000")
TEMPORARY = ("AKIDSESSION", "session/secret/key/EXAMPLEKEY00000000000000",
             "etch/session/token/EXAMPLE")

# A second full principal of etch serve's: a main key that is not the test one, beside
# which the fake restricted and temporary principals are not added, so the runs that lack
# them can be made.
OTHER = ("AKIDOTHERMAIN", "other/secret/key/EXAMPLEKEY000000000000000")

CREDENTIALS_FILE = "\n".join([
    "%s %s - full" % MAIN,
    "%s %s - full" % OTHER,
    "%s %s - read-only" % RESTRICTED,
    "%s %s %s full" % TEMPORARY,
]) + "\n"

TEST_MAIN_FLAGS = ["--access-key", MAIN[0], "--secret-key", MAIN[1]]
OTHER_FLAGS = ["--access-key", OTHER[0], "--secret-key", OTHER[1]]
RESTRICTED_FLAGS = ["--restricted-access-key", RESTRICTED[0],
                    "--restricted-secret-key", RESTRICTED[1]]
TEMPORARY_FLAGS = ["--temporary-access-key", TEMPORARY[0], "--temporary-secret-key",
                   TEMPORARY[1], "--temporary-session-token", TEMPORARY[2]]

# (what the run is given, flags, environment, whether it has restricted and temporary)
COMBINATIONS = [
    ("no credentials", [], None, True, True),
    ("the main test keys in the environment", [],
     {"AWS_ACCESS_KEY_ID": MAIN[0], "AWS_SECRET_ACCESS_KEY": MAIN[1]}, True, True),
    ("the main test keys by flags", TEST_MAIN_FLAGS, None, True, True),
    ("another main alone", OTHER_FLAGS, None, False, False),
    ("another main and restricted", OTHER_FLAGS + RESTRICTED_FLAGS, None, True, False),
    ("another main and temporary", OTHER_FLAGS + TEMPORARY_FLAGS, None, False, True),
    ("another main and both", OTHER_FLAGS + RESTRICTED_FLAGS + TEMPORARY_FLAGS, None,
     True, True),
]

# The SKIP reason of a step whose principal the run lacks.
PRINCIPAL_SKIP = re.compile(r"the target has no (restricted|temporary) principal")

SUMMARY = re.compile(r"summary: (\d+) scenarios, (\d+) passed, (\d+) failed, (\d+) deviations, "
                     r"(\d+) not implemented, (\d+) skipped, (\d+) errors")


def run_once(etch, suite, url, label, flags, env_extra, jsonl):
    args = ["run", "--endpoint", url, "--scenarios", suite, "--no-color", "--workers", "4",
            "--tag", "auth", "--scenario", "cancel/cancel-submitted", "--jsonl", jsonl] + flags
    r = run_etch(etch, args, RUN_LIMIT_S, env=clean_env(env_extra))
    m = SUMMARY.search(r.out)
    check(m is not None, "%s: no summary line:\n%s" % (label, r.text()))
    failed, not_implemented, errors = int(m.group(3)), int(m.group(5)), int(m.group(7))
    check(failed == 0 and not_implemented == 0 and errors == 0,
          "%s: %d failed, %d not implemented, %d errors against a correct endpoint:\n%s"
          % (label, failed, not_implemented, errors, r.text()))
    check(r.status == 0, "%s: exit %d:\n%s" % (label, r.status, r.text()))
    return r


def steps_of(jsonl, scenario):
    with open(jsonl, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row["scenario"] == scenario:
                return {s["name"]: s for s in row["steps"]}
    raise TestFailure("%s is not in the run's JSON Lines" % scenario)


def depending_steps_skipped(label, jsonl):
    """Without the temporary principal, what followed its first (state-changing) step is
    not run; a skipped read (a request written signed by the temporary test key, which the
    run cannot sign again) stops nothing, and the steps after it run and pass."""
    steps = steps_of(jsonl, "temporary-principal")
    canceled = steps["canceled"]
    check(canceled["verdict"] == "SKIP" and
          "not run: step 'cancel-without-token' that it depends on was skipped"
          in (canceled.get("reason") or ""),
          "%s: temporary-principal step 'canceled': %r" % (label, canceled))
    steps = steps_of(jsonl, "captures-changed-after-signing")
    check(steps["header-name-case"]["verdict"] == "SKIP",
          "%s: header-name-case: %r" % (label, steps["header-name-case"]))
    check(steps["clock-cli-read"]["verdict"] == "PASS",
          "%s: the step after a skipped read did not run: %r"
          % (label, steps["clock-cli-read"]))


def body(etch, suite):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "principals")
        with open(path, "w", encoding="utf-8") as f:
            f.write(CREDENTIALS_FILE)
        with Server(etch, "--credentials-file", path, "--quiet") as srv:
            jsonl = os.path.join(tmp, "run.jsonl")
            for label, flags, env_extra, restricted, temporary in COMBINATIONS:
                r = run_once(etch, suite, srv.url, label, flags, env_extra, jsonl)
                lacks = PRINCIPAL_SKIP.search(r.out) is not None
                check(lacks == (not (restricted and temporary)),
                      "%s: the run %s for want of a principal:\n%s"
                      % (label, "skipped steps" if lacks else "skipped nothing", r.text()))
                if not temporary:
                    depending_steps_skipped(label, jsonl)
                print("%s: %s" % (label, SUMMARY.search(r.out).group(0)))


def main():
    etch, suite = sys.argv[1], sys.argv[2]
    return run_main(lambda: body(etch, suite))


if __name__ == "__main__":
    sys.exit(main())
