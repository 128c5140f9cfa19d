#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# measure_speed.sh - how many inputs per second each libFuzzer target runs, next to an
# empty target measured in the same run.
#
#   fuzz/measure_speed.sh [-s seconds] [build-dir] [target...]
#
# build-dir is a libFuzzer build (preset "fuzz"; default build-fuzz at the top of the
# checkout). Without targets, every fuzz/fuzz_<target>.c that is built there is measured.
# Each target runs for `seconds` (default 20) from a scratch copy of its corpus, with its
# dictionary and .options, as CI runs it; exec/s is libFuzzer's final
# stat::number_of_executed_units over the wall time of the whole run, and over the CPU
# time it used (steadier when other work shares the machine). The empty target
# (fuzz/bench/empty.c, same flags) runs first and last: how far its two figures lie apart
# says how much the machine's load drifted during the run, and each target is given as a
# share of their mean, which is the figure to compare across machines and days.
#
# A measurement, not a test: it exits 0 whatever the figures are (a crashing target is
# reported as such), and 2 on misuse. Nothing is written below the checkout.
set -u

usage() {
    echo "usage: $0 [-s seconds] [build-dir] [target...]" >&2
    exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
seconds=20
while getopts "s:h" opt; do
    case $opt in
        s) seconds=$OPTARG ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
case $seconds in
    '' | *[!0-9]* | 0) echo "measure_speed: seconds must be a positive integer" >&2; usage ;;
esac

build=$root/build-fuzz
# The build directory is the first argument when it is one (or looks like a path).
if [ $# -gt 0 ] && { [ -d "$1" ] || [ "${1#*/}" != "$1" ]; }; then
    if [ ! -d "$1" ]; then
        echo "measure_speed: no build directory $1" >&2
        exit 2
    fi
    build=$(cd "$1" && pwd)
    shift
fi
empty=$build/fuzz/bench_empty
if [ ! -x "$empty" ]; then
    echo "measure_speed: $empty is missing: not a libFuzzer build directory? Build it with" >&2
    echo "  cmake --preset fuzz && cmake --build --preset fuzz" >&2
    exit 2
fi

# The floors of issue 10: the parsing targets at least 50,000 exec/s, the ones that run a
# service, a store or a signer per input at least 10,000.
floor_of() {
    case $1 in
        path | http_request | http_response | authorization | amz_date | baseline) echo 50000 ;;
        service | serve_connection | sign_verify | job_store | scenario_json) echo 10000 ;;
        *) echo 0 ;;
    esac
}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for src in "$here"/fuzz_*.c; do
        name=$(basename "$src" .c)
        if [ -x "$build/fuzz/$name" ]; then
            targets+=("${name#fuzz_}")
        fi
    done
fi
for t in "${targets[@]}"; do
    if [ ! -f "$here/fuzz_$t.c" ]; then
        echo "measure_speed: no target '$t' (fuzz/fuzz_$t.c)" >&2
        exit 2
    fi
    if [ ! -x "$build/fuzz/fuzz_$t" ]; then
        echo "measure_speed: fuzz_$t is not built in $build" >&2
        exit 2
    fi
done

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The [libfuzzer] settings of fuzz_<target>.options as -key=value flags, as
# fuzz/CMakeLists.txt passes them (the dictionary separately).
options_of() {
    local file=$here/fuzz_$1.options
    [ -f "$file" ] || return 0
    awk '/^\[/ { section = $0; next }
         section == "[libfuzzer]" && /^ *[a-z_]+ *= *[^ ]+ *$/ {
             gsub(/ /, ""); split($0, kv, "=");
             if (kv[1] != "dict") printf "-%s=%s\n", kv[1], kv[2]
         }' "$file"
}

now_ns() {
    date +%s%N
}

# run <label> <binary> <corpus-dir or empty> [flags...]: prints "<units> <wall seconds>
# <CPU seconds> <rc>". The CPU time (user and system) is the steadier figure on a machine
# whose other work comes and goes: it does not count the time the target waited for a core.
run() {
    local label=$1 bin=$2 corpus=$3
    shift 3
    local dir=$scratch/$label
    mkdir -p "$dir/corpus" "$dir/artifacts"
    if [ -n "$corpus" ]; then
        cp -R "$corpus"/. "$dir/corpus"/
    fi
    local start end rc units cpu TIMEFORMAT='%3U %3S'
    start=$(now_ns)
    { time (cd "$dir" && "$bin" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        "$@" -artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$dir/log" 2>&1); } 2>"$dir/cpu"
    rc=$?
    end=$(now_ns)
    units=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$dir/log")
    cpu=$(awk '{ printf "%.3f", $1 + $2 }' "$dir/cpu")
    echo "${units:-0} $(awk -v ns=$((end - start)) 'BEGIN { printf "%.3f", ns / 1e9 }') $cpu $rc"
}

rate() {
    awk -v u="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? u / s : 0) }'
}

echo "measure_speed: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -f "$build/CMakeCache.txt" ]; then
    type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
    upper=$(echo "$type" | tr '[:lower:]' '[:upper:]')
    flags=$(sed -n "s/^CMAKE_C_FLAGS_$upper:[A-Z]*=//p" "$build/CMakeCache.txt")
    cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
    echo "measure_speed: $build, $type ($flags), $("$cc" --version | head -n1)"
fi
echo "measure_speed: ${#targets[@]} targets, $seconds s each, the empty target first and last"

read -r e1_units e1_secs e1_cpu e1_rc < <(run empty-before "$empty" "")
e1=$(rate "$e1_units" "$e1_secs")
e1c=$(rate "$e1_units" "$e1_cpu")

results=()
for t in "${targets[@]}"; do
    mapfile -t opts < <(options_of "$t")
    dict=()
    if [ -f "$here/dict/$t.dict" ]; then
        dict=(-dict="$here/dict/$t.dict")
    fi
    read -r units secs cpu rc < <(run "$t" "$build/fuzz/fuzz_$t" "$here/corpus/$t" "${opts[@]}" "${dict[@]}")
    note=""
    if [ "$rc" != 0 ]; then
        # Keep the log and the artifact for a look; the rest of the scratch goes.
        keep=$(mktemp -d)
        cp -R "$scratch/$t/log" "$scratch/$t/artifacts" "$keep"/
        note="exit $rc, log and artifacts in $keep"
    fi
    results+=("$t $(rate "$units" "$secs") $(rate "$units" "$cpu") $note")
done

read -r e2_units e2_secs e2_cpu e2_rc < <(run empty-after "$empty" "")
e2=$(rate "$e2_units" "$e2_secs")
e2c=$(rate "$e2_units" "$e2_cpu")
base=$(( (e1 + e2) / 2 ))
basec=$(( (e1c + e2c) / 2 ))
if [ "$e1_rc" != 0 ] || [ "$e2_rc" != 0 ] || [ "$base" -le 0 ]; then
    echo "measure_speed: the empty target failed (exit $e1_rc, $e2_rc): no baseline" >&2
    base=0
    basec=0
fi

share() {
    awk -v r="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f%%", 100 * r / b; else print "-" }'
}

echo
row() {
    printf '| %-14s | %9s | %8s | %10s | %8s | %6s | %-5s |\n' "$@"
}
row target "exec/s" "of empty" "exec/CPU-s" "of empty" floor ""
echo "|----------------|----------:|---------:|-----------:|---------:|-------:|-------|"
row "(empty, first)" "$e1" "" "$e1c" "" "" ""
for line in "${results[@]}"; do
    read -r t r rc note <<<"$line"
    floor=$(floor_of "$t")
    if [ -n "$note" ]; then
        verdict="crash"
    elif [ "$r" -ge "$floor" ]; then
        verdict="pass"
    else
        verdict="FAIL"
    fi
    row "$t" "$r" "$(share "$r" "$base")" "$rc" "$(share "$rc" "$basec")" "$floor" "$verdict"
    if [ -n "$note" ]; then
        echo "  $t: $note" >&2
    fi
done
row "(empty, last)" "$e2" "" "$e2c" "" "" ""
drift=$(awk -v a="$e1" -v b="$e2" 'BEGIN { if (a > 0) printf "%+.1f%%", 100 * (b - a) / a }')
echo
echo "measure_speed: empty target $e1 then $e2 exec/s (drift $drift), $e1c then $e2c per CPU second;"
echo "measure_speed: shares are of their means; the verdict compares exec/s (wall clock) with the floor"
exit 0
