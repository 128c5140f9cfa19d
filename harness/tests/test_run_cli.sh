#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# test_run_cli.sh - `etch run` and `etch list` end to end: exit statuses (0 to 3), the
# first output line, selection by name, tag and exclusion, the report files, and the
# checks of the live options made before anything is sent.
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
# Live options: checked before anything is sent (nothing listens on port 1). The AWS
# variables of whoever runs the tests stay out of it.
noaws="env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_REGION
    -u AWS_DEFAULT_REGION"
check "endpoint unreachable" 3 $noaws "$etch" run --endpoint http://127.0.0.1:1 \
    --connect-timeout-ms 2000
head -n 1 "$tmp/out" >"$tmp/first"
contains "first line names the live target" "$tmp/first" ": target live endpoint http://127.0.0.1:1"
contains "unreachable: nothing run" "$tmp/err" "does not answer"
check "live options need --endpoint" 2 $noaws "$etch" run --access-key AKIDEXAMPLE
contains "says --endpoint" "$tmp/err" "need --endpoint"
check "not a URL" 2 $noaws "$etch" run --endpoint 127.0.0.1:8080
check "other scheme" 2 $noaws "$etch" run --endpoint ftp://127.0.0.1/
check "a path" 2 $noaws "$etch" run --endpoint http://127.0.0.1:8080/prefix
contains "no path" "$tmp/err" "has no path"
check "credentials in the URL" 2 $noaws "$etch" run --endpoint http://user:pw@127.0.0.1:8080
check "two endpoints" 2 $noaws "$etch" run --endpoint http://127.0.0.1:1 \
    --endpoint http://127.0.0.1:2
check "workers 0" 2 $noaws "$etch" run --endpoint http://127.0.0.1:1 --workers 0
check "workers over 32" 2 $noaws "$etch" run --endpoint http://127.0.0.1:1 --workers 33
check "timeout 0" 2 $noaws "$etch" run --endpoint http://127.0.0.1:1 --timeout-ms 0
check "timeout over an hour" 2 $noaws "$etch" run --endpoint http://127.0.0.1:1 --timeout-ms 3600001
check "clock offset over a week" 2 $noaws "$etch" run --endpoint http://127.0.0.1:1 \
    --clock-offset 604801
check "key without secret" 2 $noaws "$etch" run \
    --endpoint http://127.0.0.1:1 --access-key AKIDEXAMPLE
contains "asks for the secret" "$tmp/err" "no secret key for access key"
check "secret without key" 2 $noaws "$etch" run \
    --endpoint http://127.0.0.1:1 --secret-key-file /dev/null
check "empty secret file" 2 $noaws "$etch" run --endpoint http://127.0.0.1:1 --access-key K \
    --secret-key-file /dev/null
contains "says empty" "$tmp/err" "is empty"
check "cacert and insecure" 2 $noaws "$etch" run --endpoint https://127.0.0.1:1 --insecure \
    --cacert /dev/null
check "diff needs an endpoint" 2 $noaws "$etch" diff
check "diff three endpoints" 2 $noaws "$etch" diff --endpoint http://127.0.0.1:1 \
    --endpoint http://127.0.0.1:2 --endpoint http://127.0.0.1:3
check "diff unreachable" 3 $noaws "$etch" diff --endpoint http://127.0.0.1:1 \
    --scenario cancel-unknown-id --scenarios "$suite"
check "diff help" 0 $noaws "$etch" diff --help
check "exclude unknown" 2 "$etch" run --scenarios "$cli/failing" --exclude nope
check "exclude by name" 0 "$etch" run --no-color --scenarios "$cli/failing" --exclude must-breaks
contains "one left" "$tmp/out" "(1 of 2 selected)"
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
