#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# test_baseline_cli.sh - `etch run --baseline`, `--write-baseline` and several
# `--scenarios` folders, end to end against the in-process reference: a baseline that lists
# the failing step passes the run, one that misses it or lists a passing scenario fails it,
# one naming what the suite lacks is a usage error before anything runs, a written baseline
# passes the run it came from, the machine reports mark expected failures, and the folders
# add up with a name in two of them refused.
#
# Usage: test_baseline_cli.sh <etch binary>
set -u
etch=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

check() { # name, want status, command...
    name=$1
    want=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -eq "$want" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $name: exit $got, want $want"
        sed 's/^/  | /' "$tmp/out" "$tmp/err" | head -40
    fi
}

contains() { # name, file, text
    if grep -qF -- "$3" "$2"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $1: '$3' not in $2"
        sed 's/^/  | /' "$2" | head -20
    fi
}

lacks() { # name, file, text
    if grep -qF -- "$3" "$2"; then
        failed=$((failed + 1))
        echo "FAIL $1: '$3' in $2"
    else
        passed=$((passed + 1))
    fi
}

# A suite with a scenario whose expectation the reference does not meet (no such job: 404,
# not 200) and one that passes; a second folder with one more passing scenario, and a
# third with a scenario named as one of the first.
mkdir -p "$tmp/one/demo" "$tmp/two/more" "$tmp/dup/other"
cat >"$tmp/one/demo/reads-missing-job.json" <<'JSON'
{ "name": "reads-missing-job", "description": "Expects a job the reference does not have.",
  "source": "inference",
  "steps": [
    { "name": "list", "call": "ListPipelines", "expect": { "status": 200 } },
    { "name": "read", "call": "ReadJob", "params": { "Id": "1111111111111-nojob0" },
      "expect": { "status": 200 } } ] }
JSON
cat >"$tmp/one/demo/lists.json" <<'JSON'
{ "name": "lists", "description": "Passes.", "source": "model",
  "steps": [ { "name": "list", "call": "ListPipelines", "expect": { "status": 200 } } ] }
JSON
sed 's/"lists"/"lists-too"/' "$tmp/one/demo/lists.json" >"$tmp/two/more/lists-too.json"
cp "$tmp/one/demo/lists.json" "$tmp/dup/other/lists.json"

baseline() { # file, entries...
    out=$1
    shift
    {
        printf '{ "etch_baseline": 1, "expected": [\n'
        sep=""
        for e in "$@"; do
            printf '%s  %s' "$sep" "$e"
            sep=",
"
        done
        printf '\n] }\n'
    } >"$out"
}

run() { # status name, then etch run options
    "$etch" run --no-color --scenarios "$tmp/one" "$@"
}

check "without a baseline the failure fails the run" 1 run
baseline "$tmp/step.json" \
    '{"scenario": "reads-missing-job", "step": "read", "verdict": "FAIL", "reason": "no job 1111111111111-nojob0 yet"}'
check "the failing step listed: exit 0" 0 run --baseline "$tmp/step.json" \
    --junit "$tmp/junit.xml" --tap "$tmp/tap.txt" --jsonl "$tmp/out.jsonl"
contains "says it is expected" "$tmp/out" "expected         demo/reads-missing-job: FAIL (no job 1111111111111-nojob0 yet)"
contains "JUnit: skipped, not failed" "$tmp/junit.xml" '<skipped message="expected failure: no job 1111111111111-nojob0 yet"/>'
contains "JUnit: no failures counted" "$tmp/junit.xml" 'failures="0" errors="0" skipped="1"'
lacks "JUnit: no failure element" "$tmp/junit.xml" "<failure"
contains "TAP: a TODO" "$tmp/tap.txt" "not ok 2 - demo/reads-missing-job # TODO no job 1111111111111-nojob0 yet"
contains "JSON Lines: the reason" "$tmp/out.jsonl" '"expected_by_baseline":"no job 1111111111111-nojob0 yet"'

baseline "$tmp/whole.json" \
    '{"scenario": "demo/reads-missing-job", "verdict": "FAIL", "reason": "whole scenario"}'
check "the whole scenario listed (area/name): exit 0" 0 run --baseline "$tmp/whole.json"

baseline "$tmp/empty.json"
check "the entry removed: a new failure" 1 run --baseline "$tmp/empty.json"
contains "names the new failure" "$tmp/out" "new failure      demo/reads-missing-job: FAIL at step 'read' (FAIL), not in the baseline"

baseline "$tmp/stale.json" \
    '{"scenario": "reads-missing-job", "step": "read", "verdict": "FAIL", "reason": "known"}' \
    '{"scenario": "lists", "verdict": "FAIL", "reason": "was broken once"}'
check "a passing scenario listed: an unexpected pass" 1 run --baseline "$tmp/stale.json"
contains "says to remove it" "$tmp/out" "unexpected pass  demo/lists: expected FAIL, now PASS (baseline line 3): remove the entry from the baseline"

baseline "$tmp/wrong-verdict.json" \
    '{"scenario": "reads-missing-job", "step": "read", "verdict": "ERROR", "reason": "known"}'
check "another verdict than the one listed: a new failure" 1 run --baseline "$tmp/wrong-verdict.json"

baseline "$tmp/unknown.json" '{"scenario": "no-such-scenario", "verdict": "FAIL", "reason": "r"}'
check "an unknown scenario: usage error" 2 run --baseline "$tmp/unknown.json"
contains "names it, with the position" "$tmp/err" "unknown.json:2:3: expected[0]: no scenario of the suite is named 'no-such-scenario'"
lacks "nothing ran" "$tmp/out" "summary:"
baseline "$tmp/unknown-step.json" \
    '{"scenario": "lists", "step": "nope", "verdict": "FAIL", "reason": "r"}'
check "an unknown step: usage error" 2 run --baseline "$tmp/unknown-step.json"
contains "names the step" "$tmp/err" "has no step named 'nope'"
printf '{ "etch_baseline": 1, "expected": [ {"scenario": "lists", "verdict": "FAIL"} ] }' \
    >"$tmp/no-reason.json"
check "an entry without a reason: usage error" 2 run --baseline "$tmp/no-reason.json"
contains "says reason is missing" "$tmp/err" "no-reason.json:1:37: expected[0]: 'reason' is missing"
check "a baseline that cannot be read: usage error" 2 run --baseline "$tmp/none.json"
check "--baseline twice: usage error" 2 run --baseline "$tmp/step.json" --baseline "$tmp/step.json"

check "--write-baseline" 1 run --write-baseline "$tmp/written.json"
contains "says where" "$tmp/out" "baseline written to $tmp/written.json"
contains "the failing step, reason from its check" "$tmp/written.json" '{"scenario": "reads-missing-job", "step": "read", "verdict": "FAIL", "reason": "status: expected 200, got 404"}'
lacks "no passing step" "$tmp/written.json" '"list"'
check "the written baseline passes the run" 0 run --baseline "$tmp/written.json"
if ls "$tmp"/written.json.tmp-* >/dev/null 2>&1; then
    failed=$((failed + 1))
    echo "FAIL a temporary file was left beside the baseline"
else
    passed=$((passed + 1))
fi
check "--write-baseline into a missing folder: usage error first" 2 run \
    --write-baseline "$tmp/missing/b.json"
contains "says it cannot write" "$tmp/err" "cannot write the baseline to $tmp/missing/b.json"
lacks "nothing ran" "$tmp/out" "summary:"

check "two --scenarios folders add up" 1 run --scenarios "$tmp/two"
contains "three selected" "$tmp/out" "(3 of 3 selected)"
contains "both folders named" "$tmp/out" "scenarios: $tmp/one, $tmp/two"
contains "the second folder's scenario ran" "$tmp/out" "lists-too"
check "two folders, the failure listed" 0 run --scenarios "$tmp/two" --baseline "$tmp/step.json"
check "a name in two folders: usage error" 2 run --scenarios "$tmp/dup"
contains "names both files" "$tmp/err" "two scenarios are named 'lists': $tmp/one/demo/lists.json and $tmp/dup/other/lists.json"
check "etch list adds the folders up too" 0 "$etch" list --scenarios "$tmp/one" --scenarios "$tmp/two"
contains "three listed" "$tmp/out" "3 scenarios"
check "help documents --baseline" 0 "$etch" run --help
contains "help: --baseline" "$tmp/out" "--baseline FILE"
contains "help: --write-baseline" "$tmp/out" "--write-baseline FILE"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
