/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_sigv4.c - placeholder for `etch sigv4` until the lenient request reader lands.
 */
#include "harness/commands.h"

#include <stdio.h>

int etch_cmd_sigv4(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "etch sigv4: not built yet\n");
    return 2;
}
