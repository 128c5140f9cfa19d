#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# test_failure_blocks.sh - what a failure block of `etch run` tells: the scenario's
# description, the contract sections the broken expectation rests on (named as sections,
# with the README that maps them to the reference's files, never a machine's path, and in
# the one-line message of JUnit and TAP), the
# variables an expectation names with their values, and for a concurrent group the
# outcomes it allows next to what it got; JUnit, TAP and JSON Lines carry the same.
#
# Usage: test_failure_blocks.sh <etch binary> <harness/tests/cli folder>
set -u
etch=$1
suite=$2/blocks
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

contains() { # name, file, text
    if grep -qF -- "$3" "$2"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $1: '$3' not in $2"
        sed 's/^/  | /' "$2" | head -40
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

"$etch" run --no-color --scenarios "$suite" --junit "$tmp/junit.xml" --tap "$tmp/tap.txt" \
    --jsonl "$tmp/out.jsonl" >"$tmp/out" 2>"$tmp/err"
status=$?
if [ "$status" -eq 1 ]; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
    echo "FAIL exit status $status, want 1"
fi

out=$tmp/out
contains "description" "$out" "  scenario: An expectation naming a captured variable"
contains "variable and its value" "$out" 'paths.Pipeline.Name: expected "${pipelineId}" = "'
contains "the expectation's own sections" "$out" "rests on contract sections 2, 8"
contains "where sections live" "$out" \
    "where the reference implements each contract section: reference/README.md"
lacks "no machine path" "$out" "spec/contract.md"
contains "concurrent: description" "$out" "  scenario: A concurrent group none of whose"
contains "concurrent: what it got" "$out" \
    "got read-a: 404 ResourceNotFoundException; read-b: 404 ResourceNotFoundException"
contains "concurrent: allowed outcomes" "$out" "allowed outcomes (steps[0].outcomes):"
contains "concurrent: first outcome" "$out" "1. read-a: 200; read-b: 200 or 202"
contains "concurrent: second outcome" "$out" \
    "2. read-a: 4xx AccessDeniedException; read-b: 200 and more checks"

contains "junit: description" "$tmp/junit.xml" "scenario: An expectation naming"
contains "junit: variable" "$tmp/junit.xml" 'expected &quot;${pipelineId}&quot; = &quot;'
contains "junit: outcomes" "$tmp/junit.xml" "1. read-a: 200; read-b: 200 or 202"
contains "tap: description" "$tmp/tap.txt" '  description: "A concurrent group none of whose'
contains "tap: variable" "$tmp/tap.txt" 'expected \"${pipelineId}\" = \"'
contains "tap: contract" "$tmp/tap.txt" 'found \"blocks\" (contract sections 2, 8)"'
contains "junit: contract in the message" "$tmp/junit.xml" 'found &quot;blocks&quot; (contract sections 2, 8)"'
contains "jsonl: description" "$tmp/out.jsonl" '"description":"An expectation naming'
contains "jsonl: contract" "$tmp/out.jsonl" '"contract":"2, 8"'
contains "jsonl: the scenario's contract, inherited" "$tmp/out.jsonl" '"contract":"1b"'
contains "jsonl: outcomes" "$tmp/out.jsonl" \
    '"allowed_outcomes":[{"read-a":"200","read-b":"200 or 202"}'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
