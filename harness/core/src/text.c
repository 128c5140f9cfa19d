/* SPDX-License-Identifier: Apache-2.0
 *
 * text.c - JSON to text in memory the caller frees with free() (see text.h).
 */
#include "harness/text.h"

#include <stdlib.h>

char *harness_json_dump(const json_t *v, size_t flags)
{
    /* Two passes: the first only measures (jansson writes nothing into a NULL buffer). */
    size_t len = json_dumpb(v, NULL, 0, flags);
    if (len == 0) {
        return NULL;
    }
    char *text = malloc(len + 1);
    if (text == NULL) {
        return NULL;
    }
    if (json_dumpb(v, text, len, flags) != len) {
        free(text);
        return NULL;
    }
    text[len] = '\0';
    return text;
}
