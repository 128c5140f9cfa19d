/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_serve.c - placeholder for `etch serve` until the HTTP server lands.
 */
#include "harness/commands.h"

#include <stdio.h>

int etch_cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "etch serve: not built yet\n");
    return 2;
}
