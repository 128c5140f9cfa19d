/* SPDX-License-Identifier: Apache-2.0
 *
 * text.c - JSON to text in memory the caller frees with free(), the names of JSON types
 * in messages, and string rewriting through a JSON value (see text.h).
 *
 * The type names live in one table so that the loader, the matchers and the diff, which
 * each phrase them their own way, cannot drift apart on which types exist.
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

struct json_type_names {
    const char *noun;
    const char *word;
    const char *exact;
};

static const struct json_type_names s_json_type_names[] = {
    [JSON_OBJECT] = {"an object", "object", "an object"},
    [JSON_ARRAY] = {"an array", "array", "an array"},
    [JSON_STRING] = {"a string", "string", "a string"},
    [JSON_INTEGER] = {"an integer", "integer", "an integer"},
    [JSON_REAL] = {"a number", "number", "a real number"},
    [JSON_TRUE] = {"a boolean", "boolean", "a boolean"},
    [JSON_FALSE] = {"a boolean", "boolean", "a boolean"},
    [JSON_NULL] = {"null", "null", "null"},
};

#define JSON_TYPE_NAME_COUNT (sizeof(s_json_type_names) / sizeof(s_json_type_names[0]))

const char *harness_json_type_name(const json_t *v, enum harness_json_type_wording wording)
{
    if (v == NULL) {
        return wording == HARNESS_JSON_TYPE_WORD ? "absent" : "nothing";
    }
    size_t t = (size_t)json_typeof(v);
    if (t >= JSON_TYPE_NAME_COUNT || s_json_type_names[t].noun == NULL) {
        return wording == HARNESS_JSON_TYPE_WORD ? "value" : "a value";
    }
    switch (wording) {
        case HARNESS_JSON_TYPE_WORD:
            return s_json_type_names[t].word;
        case HARNESS_JSON_TYPE_EXACT:
            return s_json_type_names[t].exact;
        default:
            return s_json_type_names[t].noun;
    }
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
