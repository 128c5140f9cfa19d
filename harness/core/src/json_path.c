/* SPDX-License-Identifier: Apache-2.0
 *
 * json_path.c - simple JSON paths ("Job.Outputs[0].Key"): checking one at load time and
 * resolving one in an answer's body.
 *
 * The syntax is deliberately small (member names and array indexes, no wildcards or
 * filters): paths name single values a scenario expects or captures, and a scenario
 * author should not have to learn a query language to write one.
 */
#include "harness/expect.h"

#include <jansson.h>

/* Reads the next path element: a member name or [index]. */
static bool next_elem(const char **pp, char *key, size_t cap, long *index)
{
    const char *p = *pp;
    *index = -1;
    if (*p == '.') {
        p++;
        if (*p == '\0' || *p == '.' || *p == '[') {
            return false;
        }
    }
    if (*p == '[') {
        p++;
        if (*p < '0' || *p > '9') {
            return false;
        }
        long v = 0;
        while (*p >= '0' && *p <= '9') {
            if (v > 100000000L) {
                return false;
            }
            v = v * 10 + (*p - '0');
            p++;
        }
        if (*p != ']') {
            return false;
        }
        *index = v;
        *pp = p + 1;
        return true;
    }
    size_t n = 0;
    while (*p != '\0' && *p != '.' && *p != '[') {
        if (*p == ']' || n + 1 >= cap) {
            return false;
        }
        key[n++] = *p++;
    }
    if (n == 0) {
        return false;
    }
    key[n] = '\0';
    *pp = p;
    return true;
}

bool harness_json_path_is_valid(const char *path)
{
    if (path == NULL || *path == '\0' || *path == '.' || *path == '[') {
        return false;
    }
    const char *p = path;
    char key[256];
    long index;
    while (*p != '\0') {
        if (!next_elem(&p, key, sizeof(key), &index)) {
            return false;
        }
    }
    return true;
}

json_t *harness_json_path(json_t *root, const char *path)
{
    if (!harness_json_path_is_valid(path)) {
        return NULL;
    }
    json_t *cur = root;
    const char *p = path;
    char key[256];
    long index;
    while (*p != '\0' && cur != NULL) {
        if (!next_elem(&p, key, sizeof(key), &index)) {
            return NULL;
        }
        if (index >= 0) {
            cur = json_is_array(cur) ? json_array_get(cur, (size_t)index) : NULL;
        } else {
            cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
        }
    }
    return cur;
}
