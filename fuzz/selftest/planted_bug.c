/* SPDX-License-Identifier: Apache-2.0
 *
 * planted_bug.c - a target with one planted bug, for testing campaign.sh: any input that
 * starts with "etch" and holds a NUL byte aborts, which libFuzzer finds in moments from
 * the seed "etch" (selftest/seed). Not a fuzz target of the project.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 5 && memcmp(data, "etch", 4) == 0 && memchr(data + 4, 0, size - 4) != NULL) {
        abort();
    }
    return 0;
}
