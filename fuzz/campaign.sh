#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# campaign.sh - one time-boxed libFuzzer campaign of a target, the way CI's fuzz step runs
# it, that on a find prints everything needed to reproduce it from the log alone.
#
#   fuzz/campaign.sh <scratch-dir> <seed-corpus-dir> <fuzzer> [libFuzzer flags...]
#
# The flags are what a campaign gives the target: its .options as -key=value, its
# dictionary, -max_total_time and -timeout (fuzz/CMakeLists.txt passes them). New inputs go
# to <scratch-dir>/corpus, listed before the seed corpus so that the checked-in corpus is
# only read; finds go to <scratch-dir>/artifacts. Each run starts from an empty scratch
# corpus, so a CI run depends on the commit alone (and the random seed, printed).
#
# libFuzzer's own log goes to <scratch-dir>/fuzz.log: a clean run prints the final stats,
# a find prints the log's tail, then for each artifact (crash-, leak-, timeout-, oom-,
# slow-unit-) its size, SHA-1, the commands that rebuild and replay it, and its bytes as hex.
# Exit status: libFuzzer's (0 when nothing was found).
set -u

if [ $# -lt 3 ]; then
    echo "usage: $0 <scratch-dir> <seed-corpus-dir> <fuzzer> [libFuzzer flags...]" >&2
    exit 2
fi
scratch=$1
seeds=$2
fuzzer=$3
shift 3
name=$(basename "$fuzzer")
target=${name#fuzz_}

rm -rf "$scratch/corpus" "$scratch/artifacts"
mkdir -p "$scratch/corpus" "$scratch/artifacts" || exit 2
log=$scratch/fuzz.log

"$fuzzer" -print_final_stats=1 "$@" -artifact_prefix="$scratch/artifacts/" \
    "$scratch/corpus" "$seeds" >"$log" 2>&1
rc=$?

seed=$(sed -n 's/^INFO: Seed: \([0-9]*\).*/\1/p' "$log" | head -n 1)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
seconds=?
for flag in "$@"; do
    case $flag in -max_total_time=*) seconds=${flag#-max_total_time=} ;; esac
done

found=$(find "$scratch/artifacts" -type f | sort)
if [ "$rc" -eq 0 ] && [ -z "$found" ]; then
    echo "$name: nothing found in ${execs:-?} executions (seed ${seed:-?}, $seconds s)"
    grep '^stat::' "$log"
    exit 0
fi

echo "$name: libFuzzer exited $rc after ${execs:-?} executions (seed ${seed:-?})"
echo "---- the last 60 lines of libFuzzer's log"
tail -n 60 "$log"
echo "----"
if [ -z "$found" ]; then
    echo "$name: no input was saved (libFuzzer itself failed); rerun the campaign with"
    echo "  $fuzzer -seed=${seed:-0} $* <empty-dir> <fuzz/corpus/$target>"
    [ "$rc" -ne 0 ] || rc=1
    exit "$rc"
fi

for input in $found; do
    file=$(basename "$input")
    size=$(wc -c <"$input" | tr -d ' ')
    sum=$(sha1sum "$input" | cut -d ' ' -f 1)
    cat <<EOF

==== $name found $file ($size bytes, SHA-1 $sum)
To reproduce, save the lines between BEGIN and END below as $file.hex, then:
  python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read()))' \\
      <$file.hex >$file
  cmake --preset fuzz && cmake --build --preset fuzz --target $name
  build-fuzz/fuzz/$name -runs=1 $file          # libFuzzer build: the stack and the invariant
  build/fuzz/$name $file                        # or any compiler, with the replay driver
  fuzz/promote.sh $target $file <name>          # then: a regression input of the corpus
The whole campaign ran as: $name -seed=${seed:-0} $* <scratch> fuzz/corpus/$target
-----BEGIN $file-----
EOF
    od -An -v -tx1 "$input" | tr -d ' \n' | fold -w 64
    echo
    echo "-----END $file-----"
done
[ "$rc" -ne 0 ] || rc=1
exit "$rc"
