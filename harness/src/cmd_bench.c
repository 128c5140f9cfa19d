/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_bench.c - placeholder for `etch bench` until the benchmarks land.
 */
#include "harness/commands.h"

#include <stdio.h>

int etch_cmd_bench(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "etch bench: not built yet\n");
    return 2;
}
