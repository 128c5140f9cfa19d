#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# promote.sh - turns a fuzzing find into a regression input (and says how to make it a
# scenario).
#
#   fuzz/promote.sh <target> <crash-file> [name]   minimise one input (-minimize_crash=1),
#                                                   then copy it to fuzz/corpus/<target>/
#   fuzz/promote.sh <target> <directory>           merge a campaign's corpus: only inputs
#                                                   that add coverage are copied (-merge=1)
#
# The input is minimised with the libFuzzer build of the target (preset "fuzz"; set
# ETCH_FUZZ_BUILD to use another build directory). An input that does not crash (a slow
# one, or a behaviour bug the target does not assert yet) is copied as it is. Without a
# name the file keeps libFuzzer's naming, the SHA-1 of its content.
# Afterwards the replay test (ctest -R replay.<target>) runs it on every build, and it
# fails until the bug is fixed.
set -eu

usage() {
    echo "usage: $0 <target> <crash-file|corpus-dir> [name]" >&2
    exit 2
}

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    usage
fi
target=$1
input=$2
name=${3:-}

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${ETCH_FUZZ_BUILD:-$root/build-fuzz}
fuzzer=$build/fuzz/fuzz_$target
corpus=$here/corpus/$target
seconds=${ETCH_MINIMIZE_SECONDS:-60}

if [ ! -f "$here/fuzz_$target.c" ]; then
    echo "promote: no target '$target' (fuzz/fuzz_$target.c)" >&2
    exit 2
fi
[ -e "$input" ] || { echo "promote: $input does not exist" >&2; exit 2; }
if [ ! -x "$fuzzer" ]; then
    echo "promote: $fuzzer is missing; build it first:" >&2
    echo "  cmake --preset fuzz && cmake --build --preset fuzz --target fuzz_$target" >&2
    exit 2
fi
mkdir -p "$corpus"

if [ -d "$input" ]; then
    before=$(find "$corpus" -type f | wc -l)
    "$fuzzer" -merge=1 "$corpus" "$input"
    after=$(find "$corpus" -type f | wc -l)
    echo "promote: merged $input into fuzz/corpus/$target ($before -> $after files)"
    echo "Review with 'git status fuzz/corpus/$target', then commit the new files."
    exit 0
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
minimised=$scratch/minimised
# -minimize_crash keeps shrinking while the input still crashes; it exits non-zero when
# the input does not crash at all, and then the input is kept as it is.
if "$fuzzer" -minimize_crash=1 -max_total_time="$seconds" -exact_artifact_path="$minimised" \
    "$input" >"$scratch/log" 2>&1 && [ -s "$minimised" ]; then
    echo "promote: minimised $(wc -c <"$input") -> $(wc -c <"$minimised") bytes"
elif [ -s "$minimised" ]; then
    echo "promote: minimised $(wc -c <"$input") -> $(wc -c <"$minimised") bytes"
else
    echo "promote: the input does not crash fuzz_$target; keeping it unminimised"
    cp "$input" "$minimised"
fi

if [ -z "$name" ]; then
    name=$(sha1sum "$minimised" | cut -d' ' -f1)
fi
dest=$corpus/$name
cp "$minimised" "$dest"
rel=fuzz/corpus/$target/$name
echo "promote: wrote $rel"
echo
echo "Reproduce:"
echo "  $build/fuzz/fuzz_$target $rel              # libFuzzer build, with the stack"
echo "  ctest --preset default -R 'replay\\.$target\$'      # every build replays the corpus"

case $target in
    service | http_request)
        seeds="--seed-pipeline 1111111111111-abcde1:Active"
        seeds="$seeds --seed-pipeline 1111111111111-paused:Paused"
        seeds="$seeds --seed-job 2222222222222-abcdef:1111111111111-abcde1:Submitted"
        echo "  build/etch handle --now 20261128T124500Z $seeds \\"
        echo "      $rel"
        echo "(fuzz_service seeds more jobs, one per status; add --seed-job for the one the"
        echo " request names. fuzz_service also re-signs the request: if only the re-signed"
        echo " form fails, sign it first with 'etch sigv4 sign'.)"
        echo
        echo "If the answer is a behaviour bug, make it a scenario too, e.g."
        echo "fixtures/scenarios/fuzz/$(echo "$name" | cut -c1-12).json:"
        cat <<JSON
{
  "name": "$(echo "$name" | cut -c1-12)",
  "description": "fuzz_service find $name: <what the reference did wrong>.",
  "tags": ["fuzz"],
  "inproc_only": true,
  "steps": [
    { "clock": { "set": "20261128T124500Z" } },
    { "seed_pipeline": { "id": "1111111111111-abcde1", "status": "Active" } },
    { "seed_job": { "id": "2222222222222-abcdef", "pipeline": "1111111111111-abcde1",
                    "status": "Submitted" } },
    {
      "name": "replay",
      "raw": { "file": "../../../$rel" },
      "expect": [ { "status": 400, "error": "<the error the contract asks for>" } ]
    }
  ]
}
JSON
        ;;
    serve_connection)
        # The first byte seeds the cuts, not part of what the client sent.
        echo "  tail -c +2 $rel | build/etch handle --now 20261128T124500Z -"
        echo "(the bytes the connection got, without the seed byte: what the reference"
        echo " answers to the first request in them)"
        ;;
    *)
        echo
        echo "A parser or property find: the corpus file is the regression test. If it shows"
        echo "a behaviour a client could see, write the request out as a raw scenario step"
        echo "(fixtures/scenarios/README.md, 'raw') and check it with 'etch handle'."
        ;;
esac
