#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# test_run_cli.sh - `etch run` and `etch list` end to end: exit statuses (0, 1, 2), the
# first output line, selection by name and tag, and the report files.
#
# Usage: test_run_cli.sh <etch binary> <harness/tests/cli folder> <fixtures/scenarios>
set -u
etch=$1
cli=$2
suite=$3
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

check "whole suite passes" 0 "$etch" run --no-color --scenarios "$suite" \
    --junit "$tmp/junit.xml" --tap "$tmp/tap.txt" --jsonl "$tmp/out.jsonl"
contains "first line names the target" "$tmp/out" "etch "
head -n 1 "$tmp/out" >"$tmp/first"
contains "first line names the target" "$tmp/first" ": target embedded reference (in process)"
contains "summary line" "$tmp/out" "summary: "
contains "conformance line" "$tmp/out" "conformance: must "
contains "junit written" "$tmp/junit.xml" "<testsuites name=\"etch\""
contains "tap written" "$tmp/tap.txt" "TAP version 13"
contains "jsonl written" "$tmp/out.jsonl" "\"verdict\":\"PASS\""

check "a must breaks" 1 "$etch" run --no-color --scenarios "$cli/failing"
contains "failure details" "$tmp/out" "FAIL demo/must-breaks.json, step 1 'read' (ReadJob)"
contains "curl reproducer" "$tmp/out" "--aws-sigv4 \"aws:amz:us-east-1:elastictranscoder\""
check "select by name" 0 "$etch" run --no-color --scenarios "$cli/failing" --scenario passes
contains "one selected" "$tmp/out" "(1 of 2 selected)"
check "select by area/name" 1 "$etch" run --no-color --scenarios "$cli/failing" \
    --scenario demo/must-breaks
check "select by tag" 0 "$etch" run --no-color --scenarios "$cli/failing" --tag green
check "unknown scenario name" 2 "$etch" run --scenarios "$cli/failing" --scenario nope
check "unknown tag" 2 "$etch" run --scenarios "$cli/failing" --tag nope

check "deviation passes" 0 "$etch" run --no-color --scenarios "$cli/deviating"
contains "deviation shown" "$tmp/out" "DEVIATION demo/should-breaks.json"
check "deviation fails with --strict" 1 "$etch" run --strict --scenarios "$cli/deviating"

check "broken scenario file" 2 "$etch" run --scenarios "$cli/broken"
contains "file, line and column" "$tmp/err" "demo/broken.json:4:"
check "unknown option" 2 "$etch" run --frobnicate
check "missing value" 2 "$etch" run --junit
check "live endpoint not yet" 2 "$etch" run --endpoint http://127.0.0.1:1
contains "says not supported" "$tmp/err" "not supported yet"
check "missing suite folder" 2 "$etch" run --scenarios "$tmp/none"
check "help" 0 "$etch" run --help
contains "help documents exit statuses" "$tmp/out" "exit status:"
ETCH_SCENARIOS="$cli/failing" check "ETCH_SCENARIOS" 0 "$etch" run --scenario passes

check "list" 0 "$etch" list --scenarios "$suite"
contains "list counts" "$tmp/out" " scenarios"
check "list by tag" 0 "$etch" list --scenarios "$cli/failing" --tag green
contains "list by tag" "$tmp/out" "1 scenarios"
check "list broken" 2 "$etch" list --scenarios "$cli/broken"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
