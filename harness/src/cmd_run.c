/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_run.c - placeholder for `etch run` and `etch list` until the scenario suite lands.
 */
#include "harness/commands.h"

#include <stdio.h>

int etch_cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "etch run: the scenario suite is not built yet\n");
    return 2;
}

int etch_cmd_list(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "etch list: the scenario suite is not built yet\n");
    return 2;
}
