/* SPDX-License-Identifier: Apache-2.0
 *
 * vars.c - scenario variables and ${name} substitution.
 */
#include "harness/vars.h"

#include <stdlib.h>
#include <string.h>

void harness_vars_init(struct harness_vars *v)
{
    memset(v, 0, sizeof(*v));
}

void harness_vars_cleanup(struct harness_vars *v)
{
    for (size_t i = 0; i < v->count; i++) {
        free(v->values[i]);
    }
    memset(v, 0, sizeof(*v));
}

enum ref_status
harness_vars_set(struct harness_vars *v, const char *name, const char *value, size_t value_len)
{
    if (strlen(name) >= HARNESS_MAX_VAR_NAME_BYTES || value_len > HARNESS_MAX_VAR_BYTES) {
        return REF_E_TOO_LARGE;
    }
    char *copy = malloc(value_len + 1);
    if (copy == NULL) {
        return REF_E_NOMEM;
    }
    memcpy(copy, value, value_len);
    copy[value_len] = '\0';
    for (size_t i = 0; i < v->count; i++) {
        if (strcmp(v->names[i], name) == 0) {
            free(v->values[i]);
            v->values[i] = copy;
            return REF_OK;
        }
    }
    if (v->count >= HARNESS_MAX_VARS) {
        free(copy);
        return REF_E_TOO_LARGE;
    }
    size_t n = strlen(name);
    memcpy(v->names[v->count], name, n + 1);
    v->values[v->count++] = copy;
    return REF_OK;
}

static const char *lookup(const struct harness_vars *v, const char *name, size_t len)
{
    for (size_t i = 0; i < v->count; i++) {
        if (strlen(v->names[i]) == len && memcmp(v->names[i], name, len) == 0) {
            return v->values[i];
        }
    }
    return NULL;
}

const char *harness_vars_get(const struct harness_vars *v, const char *name)
{
    return lookup(v, name, strlen(name));
}

/* Walks `in`, handing literal runs and ${name} references to the callbacks. */
struct walker {
    bool (*literal)(void *ctx, const char *p, size_t n);
    bool (*ref)(void *ctx, const char *name, size_t n);
    void *ctx;
};

static enum ref_status walk(const char *in, size_t len, const struct walker *w)
{
    size_t i = 0;
    size_t run = 0;
    while (i < len) {
        if (in[i] == '$' && i + 2 < len && in[i + 1] == '$' && in[i + 2] == '{') {
            /* "$${" is a literal "${". */
            if (w->literal != NULL && !w->literal(w->ctx, in + run, i - run)) {
                return REF_E_TOO_LARGE;
            }
            if (w->literal != NULL && !w->literal(w->ctx, "${", 2)) {
                return REF_E_TOO_LARGE;
            }
            i += 3;
            run = i;
            continue;
        }
        if (in[i] == '$' && i + 1 < len && in[i + 1] == '{') {
            size_t start = i + 2;
            size_t end = start;
            while (end < len && in[end] != '}') {
                end++;
            }
            if (end == len) {
                return REF_E_MALFORMED;
            }
            if (w->literal != NULL && !w->literal(w->ctx, in + run, i - run)) {
                return REF_E_TOO_LARGE;
            }
            if (!w->ref(w->ctx, in + start, end - start)) {
                return REF_E_NOT_FOUND;
            }
            i = end + 1;
            run = i;
            continue;
        }
        i++;
    }
    if (w->literal != NULL && !w->literal(w->ctx, in + run, len - run)) {
        return REF_E_TOO_LARGE;
    }
    return REF_OK;
}

struct expand_ctx {
    const struct harness_vars *vars;
    struct ref_buf *out;
    char *missing;
    size_t missing_cap;
    enum ref_status rc;
};

static bool expand_literal(void *ctx, const char *p, size_t n)
{
    struct expand_ctx *e = ctx;
    e->rc = ref_buf_append(e->out, p, n);
    return e->rc == REF_OK;
}

static bool expand_ref(void *ctx, const char *name, size_t n)
{
    struct expand_ctx *e = ctx;
    const char *value = lookup(e->vars, name, n);
    if (value == NULL) {
        if (e->missing != NULL && e->missing_cap > 0) {
            size_t k = n < e->missing_cap - 1 ? n : e->missing_cap - 1;
            memcpy(e->missing, name, k);
            e->missing[k] = '\0';
        }
        return false;
    }
    e->rc = ref_buf_append_cstr(e->out, value);
    if (e->rc != REF_OK) {
        return false;
    }
    return true;
}

enum ref_status harness_vars_expand(const struct harness_vars *v,
                                    const char *in,
                                    size_t len,
                                    struct ref_buf *out,
                                    char *missing,
                                    size_t missing_cap)
{
    struct expand_ctx e = {v, out, missing, missing_cap, REF_OK};
    struct walker w = {expand_literal, expand_ref, &e};
    enum ref_status rc = walk(in, len, &w);
    if (e.rc != REF_OK) {
        return e.rc;
    }
    return rc;
}

struct each_ctx {
    bool (*fn)(void *ctx, const char *name, size_t name_len);
    void *ctx;
};

static bool each_ref(void *ctx, const char *name, size_t n)
{
    struct each_ctx *e = ctx;
    return e->fn(e->ctx, name, n);
}

bool harness_vars_each_ref(const char *in,
                           size_t len,
                           bool (*fn)(void *ctx, const char *name, size_t name_len),
                           void *ctx)
{
    struct each_ctx e = {fn, ctx};
    struct walker w = {NULL, each_ref, &e};
    return walk(in, len, &w) == REF_OK;
}
