#!/bin/bash -eu
# SPDX-License-Identifier: Apache-2.0
#
# build.sh - builds etch's fuzz targets the OSS-Fuzz way, for ClusterFuzzLite.
#
# Uses only what the OSS-Fuzz environment provides: $CC/$CXX with $CFLAGS/$CXXFLAGS (the
# sanitizer and coverage flags), $LIB_FUZZING_ENGINE (the fuzzing engine, linked last),
# $OUT (where fuzzers, dictionaries, options and seed corpora go), $SRC and $WORK. No CMake:
# the reference library (and the harness core, when a target needs it) is compiled with the
# same flags as the targets, so coverage and sanitizers see all of it.
#
# Local test, as OSS-Fuzz would call it, with OSS-Fuzz's optimisation and debug flags and
# both sanitizers at once, which is also how the CMake "fuzz" preset compiles the targets:
#   CC=clang CXX=clang++ CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only \
#   -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=array-bounds,bool,\
#   builtin,enum,float-divide-by-zero,integer-divide-by-zero,null,object-size,return,\
#   returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound \
#   -fno-sanitize-recover=all -fsanitize=fuzzer-no-link" \
#   CXXFLAGS="$CFLAGS" LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/etch-out \
#   SRC="$(cd .. && pwd)" .clusterfuzzlite/build.sh

# The checkout: $SRC/etch in the container (see Dockerfile); next to this script when run
# from a working tree.
script_dir=$(cd "$(dirname "$0")" && pwd)
if [ -f "$script_dir/../fuzz/common.h" ]; then
    ETCH=$(cd "$script_dir/.." && pwd)
elif [ -f "${SRC:-/src}/etch/fuzz/common.h" ]; then
    ETCH=${SRC:-/src}/etch
else
    ETCH=$(pwd)
fi
: "${CC:=clang}"
: "${CXX:=clang++}"
: "${CFLAGS:=}"
: "${CXXFLAGS:=$CFLAGS}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:?set OUT to the directory that receives the fuzzers}"
if [ -z "${WORK:-}" ] || [ ! -w "${WORK}" ]; then
    WORK=$(mktemp -d)
fi
build="$WORK/etch-fuzz-build"
rm -rf "$build"
mkdir -p "$build/ref" "$build/core" "$build/fuzz" "$OUT"

echo "build.sh: etch at $ETCH, objects in $build, output in $OUT"

# The reference needs OpenSSL 3 (the Dockerfile explains the base image); say so plainly
# rather than failing later on a missing API.
if ! printf '#include <openssl/opensslv.h>\n#if OPENSSL_VERSION_MAJOR < 3\n#error old\n#endif\n' |
    $CC -x c -E - >/dev/null 2>&1; then
    echo "build.sh: OpenSSL 3 headers are required (found: $(pkg-config --modversion libcrypto \
2>/dev/null || echo none)); use the ubuntu-24-04 base-builder" >&2
    exit 1
fi

# The same language mode as the CMake build (C11, no GNU extensions).
std="-std=c11"
pc_cflags=$(pkg-config --cflags libcrypto jansson)
includes="-I$ETCH/reference/include -I$ETCH/fuzz"
if [ -d "$ETCH/harness/core/include" ]; then
    includes="$includes -I$ETCH/harness/core/include"
fi

# Static libcrypto and jansson when the distribution ships them, so the fuzzers run on a
# runner image that has neither library installed.
static_or_shared() {
    local pkg=$1 lib=$2 dir
    dir=$(pkg-config --variable=libdir "$pkg" 2>/dev/null || true)
    if [ -n "$dir" ] && [ -f "$dir/lib$lib.a" ]; then
        echo "$dir/lib$lib.a"
    else
        echo "-l$lib"
    fi
}
ext_libs="$(static_or_shared jansson jansson) $(static_or_shared libcrypto crypto) -lpthread -ldl"

# A target's own include directories (see extra_sources below); empty for the libraries.
target_includes=""
# Flags for the targets' own checks (fuzz_<target>.c, common.c) only: as in
# fuzz/CMakeLists.txt, no comparison hooks there, when the compiler knows the flag. The
# comparisons to learn from are the code under test's; an oracle reading every byte again
# doubled the hooks per byte (fuzz/README.md, Speed).
check_cflags=""
no_trace_cmp="-fno-sanitize-coverage=trace-cmp"
# shellcheck disable=SC2086
if echo 'int etch_probe;' | $CC $CFLAGS $no_trace_cmp -x c -c - -o /dev/null 2>/dev/null; then
    no_trace_cmp_ok=1
else
    no_trace_cmp_ok=0
fi

compile_dir() {
    # compile_dir <out-dir> <source files...>
    # src is local: the loop over the targets below calls this with its own src in use.
    local out=$1 src obj
    shift
    for src in "$@"; do
        obj="$out/$(echo "${src#"$ETCH"/}" | tr '/' '_' | sed 's/\.c$/.o/')"
        # shellcheck disable=SC2086
        $CC $CFLAGS $check_cflags $std $includes $target_includes $pc_cflags -c "$src" -o "$obj"
    done
}

# Sources a target compiles in besides its own file: the part of a harness library it tests
# (CMake links serve_connection with the harness_serve_conn library, which is serve_conn.c
# alone: the rest of the server needs libuv, which this image lacks). Each one's
# directory goes on that target's include path, since its header sits next to it.
declare -A extra_sources=(
    [serve_connection]="harness/src/serve_conn.c"
)

mapfile -t ref_sources < <(find "$ETCH/reference/src" -maxdepth 1 -name '*.c' | sort)
compile_dir "$build/ref" "${ref_sources[@]}"
ar rcs "$build/libref.a" "$build"/ref/*.o

have_core=0
if [ -d "$ETCH/harness/core" ]; then
    mapfile -t core_sources < <(find "$ETCH/harness/core" -name '*.c' -not -path '*/tests/*' |
        sort)
    if [ "${#core_sources[@]}" -gt 0 ]; then
        compile_dir "$build/core" "${core_sources[@]}"
        ar rcs "$build/libharness_core.a" "$build"/core/*.o
        have_core=1
    fi
fi

if [ "$no_trace_cmp_ok" = 1 ]; then
    check_cflags=$no_trace_cmp
fi
compile_dir "$build/fuzz" "$ETCH/fuzz/common.c"
check_cflags=""

built=()
for src in "$ETCH"/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    target=${name#fuzz_}
    libs="$build/libref.a"
    # A target that includes a harness header tests the harness core (which uses the
    # reference): link both, core first.
    if grep -q '#include "harness/' "$src"; then
        if [ "$have_core" != 1 ]; then
            echo "build.sh: skipping $name: harness/core is not there yet" >&2
            continue
        fi
        libs="$build/libharness_core.a $libs"
    fi
    # The target's extra_sources; their directories stay on the include path for its own file.
    extra_objs=()
    target_includes=""
    for rel in ${extra_sources[$target]:-}; do
        target_includes="$target_includes -I$ETCH/$(dirname "$rel")"
        compile_dir "$build/fuzz" "$ETCH/$rel"
        extra_objs+=("$build/fuzz/$(echo "$rel" | tr '/' '_' | sed 's/\.c$/.o/')")
    done
    if [ "$no_trace_cmp_ok" = 1 ]; then
        check_cflags=$no_trace_cmp
    fi
    compile_dir "$build/fuzz" "$src"
    check_cflags=""
    target_includes=""
    obj="$build/fuzz/fuzz_${name}.o"
    # Link with the C++ driver: libFuzzer is C++ and OSS-Fuzz builds it against its libc++.
    # shellcheck disable=SC2086
    $CXX $CXXFLAGS "$obj" "${extra_objs[@]}" "$build/fuzz/fuzz_common.o" \
        $libs $ext_libs $LIB_FUZZING_ENGINE -o "$OUT/$name"

    if [ -f "$ETCH/fuzz/dict/$target.dict" ]; then
        cp "$ETCH/fuzz/dict/$target.dict" "$OUT/$name.dict"
    fi
    if [ -f "$ETCH/fuzz/$name.options" ]; then
        cp "$ETCH/fuzz/$name.options" "$OUT/$name.options"
    fi
    if [ -d "$ETCH/fuzz/corpus/$target" ]; then
        rm -f "$OUT/${name}_seed_corpus.zip"
        (cd "$ETCH/fuzz/corpus/$target" && zip -q -X "$OUT/${name}_seed_corpus.zip" ./*)
    fi
    built+=("$name")
done

echo "build.sh: built ${#built[@]} fuzzers: ${built[*]}"
