#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# check_campaign.sh - campaign.sh's promise, tested: a find's log alone rebuilds the input.
#
#   check_campaign.sh <campaign.sh> <planted-bug fuzzer> <seed-dir> <scratch-dir>
#
# Runs a campaign of the planted-bug target, which must fail; then follows the printed
# recipe (the hex between BEGIN and END, through the printed python3 line) and checks that
# the rebuilt file has the artifact's bytes and crashes the target again.
set -u
campaign=$1
fuzzer=$2
seeds=$3
scratch=$4
fail() {
    echo "FAIL: $*"
    exit 1
}
rm -rf "$scratch"
mkdir -p "$scratch"
sh "$campaign" "$scratch/run" "$seeds" "$fuzzer" -max_total_time=60 -timeout=10 \
    >"$scratch/ci.log" 2>&1
rc=$?
[ "$rc" -ne 0 ] || fail "the campaign exited 0 on a target with a planted bug"
artifact=$(find "$scratch/run/artifacts" -type f -name 'crash-*' | head -n 1)
[ -n "$artifact" ] || fail "no crash artifact was saved"
file=$(basename "$artifact")
grep -q "^==== .* found $file" "$scratch/ci.log" || fail "the log does not name $file"
sed -n "/^-----BEGIN $file-----\$/,/^-----END $file-----\$/p" "$scratch/ci.log" |
    sed '1d;$d' >"$scratch/$file.hex"
[ -s "$scratch/$file.hex" ] || fail "the log holds no hex block for $file"
recipe=$(grep -A1 "python3 -c" "$scratch/ci.log" | head -n 2 | tr -d '\\\n')
[ -n "$recipe" ] || fail "the log gives no command to rebuild the input"
(cd "$scratch" && eval "$recipe") || fail "the printed rebuild command failed: $recipe"
cmp -s "$artifact" "$scratch/$file" || fail "the rebuilt input differs from the artifact"
if "$fuzzer" -runs=1 "$scratch/$file" >/dev/null 2>&1; then
    fail "the rebuilt input does not crash the target"
fi
echo "campaign.sh: a find ($file, $(wc -c <"$artifact" | tr -d ' ') bytes) was rebuilt from the log and crashes again"
