#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# icount.sh - instructions per operation of each `etch bench` benchmark, under callgrind.
#
# Timings on a shared, noisy machine move from run to run; instruction counts do not. This
# runs `etch bench` in process under valgrind's callgrind, takes the inclusive count of
# each benchmark's loop function (bench_loop_* in harness/src/bench_inproc.c) and divides
# it by the operations that loop ran, then prints them next to the floor's. Under valgrind
# OpenSSL does not see the SHA extensions, so its SHA-256 runs a longer code path and the
# crypto weighs more than on the hardware: compare these counts with each other and over
# time, not with the timed ratios.
#
# Needs valgrind (Debian: valgrind). Takes a minute or two.
#
# usage: harness/bench/icount.sh [--etch PATH] [--ops N] [--runs N]
set -eu

etch=""
ops=300
runs=1
while [ $# -gt 0 ]; do
    case "$1" in
        --etch) etch=$2; shift 2 ;;
        --ops) ops=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        -h|--help) sed -n '/^# usage:/s/^# //p' "$0"; exit 0 ;;
        *) echo "icount: unknown option $1" >&2; exit 2 ;;
    esac
done
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "$etch" ]; then
    etch="$root/build/etch"
fi
if [ ! -x "$etch" ]; then
    echo "icount: no etch binary at $etch (build it, or pass --etch PATH)" >&2
    exit 2
fi
if ! command -v valgrind >/dev/null 2>&1; then
    echo "icount: valgrind is not installed (Debian: apt-get install valgrind)" >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
    "$etch" bench --runs "$runs" --ops "$ops" --no-suite >/dev/null 2>"$work/valgrind.err" || {
    echo "icount: etch bench failed under valgrind:" >&2
    tail -n 20 "$work/valgrind.err" >&2
    exit 1
}
# What run_one spent in each loop function (inclusive) and how often it called it: the
# timed rounds only, not the warm-up pass, which calls the loops from elsewhere.
callgrind_annotate --inclusive=yes --tree=calling "$work/cg.out" >"$work/tree.txt"
echo "etch bench under callgrind: instructions per operation ($ops ops per run)"
printf '  %-24s %14s %9s\n' "benchmark" "instr/op" "x floor"
awk -v ops="$ops" '
    /\*  .*:run_one \[/ { in_block = 1; next }
    in_block && /^ *$/ { in_block = 0 }
    in_block && /> .*bench_loop_[a-z_]* \([0-9]+x\)/ {
        match($0, /bench_loop_[a-z_]*/)
        name = substr($0, RSTART + 11, RLENGTH - 11)
        match($0, /\([0-9]+x\)/)
        calls = substr($0, RSTART + 1, RLENGTH - 3)
        n = $1
        gsub(",", "", n)
        per[name] = n / (calls * ops)
    }
    END {
        floor = per["floor"]
        names = "floor floor_cached_key sign_derived_key sign_cached_key verify_derived_key " \
                "verify_cached_key parse cancel_job_cached_key cancel_job_derived_key " \
                "read_job create_job"
        k = split(names, list, " ")
        for (i = 1; i <= k; i++) {
            if (list[i] in per) {
                printf "  %-24s %14.0f %9.2f\n", list[i], per[list[i]],
                       (floor > 0 ? per[list[i]] / floor : 0)
            }
        }
    }' "$work/tree.txt"
