/* SPDX-License-Identifier: Apache-2.0
 *
 * text.c - JSON to text in memory the caller frees with free(), and string rewriting
 * through a JSON value (see text.h).
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

json_t *harness_json_map_strings(json_t *v, harness_json_string_fn *map_string, void *cls)
{
    if (json_is_string(v)) {
        return map_string(cls, v);
    }
    if (json_is_object(v)) {
        json_t *out = json_object();
        const char *key;
        json_t *child;
        json_object_foreach (v, key, child) {
            json_t *c = harness_json_map_strings(child, map_string, cls);
            /* jansson releases c itself when this fails, a NULL out included. */
            if (c == NULL || json_object_set_new(out, key, c) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *child;
        json_array_foreach (v, i, child) {
            json_t *c = harness_json_map_strings(child, map_string, cls);
            if (c == NULL || json_array_append_new(out, c) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    return json_incref(v);
}
