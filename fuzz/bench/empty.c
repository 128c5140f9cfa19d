/* SPDX-License-Identifier: Apache-2.0
 *
 * empty.c - a fuzz target that does nothing, the yardstick of fuzz/measure_speed.sh.
 *
 * Built with the same compiler, sanitizer and coverage flags as the real targets, so its
 * exec/s is what libFuzzer and the sanitizer runtimes cost alone on this machine at this
 * moment; a target's figure is read as a share of it. It lives outside fuzz/fuzz_*.c so
 * that it is neither a CI fuzz test nor a ClusterFuzzLite fuzzer: it tests nothing.
 */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return 0;
}
