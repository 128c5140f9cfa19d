/* SPDX-License-Identifier: Apache-2.0
 *
 * main.c - placeholder entry point until the commands land.
 */
#include <stdio.h>

int main(void)
{
    printf("etch %s\n", ETCH_VERSION);
    return 0;
}
