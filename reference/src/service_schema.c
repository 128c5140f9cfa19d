/* SPDX-License-Identifier: Apache-2.0
 *
 * service_schema.c - request schema tables: the modelled members of a request body, walked
 * for JSON types, for shapes, and to copy what a body holds of them.
 *
 * CreatePipeline (service_pipeline.c) and CreateJob (service_job.c) each describe their body
 * as one struct ref_member tree. Judging a body walks it twice, first for types and then for
 * shapes, so that a body is judged in the contract's order (section 2b: wrong types, then
 * shapes, then the rules between members); storing one copies only what the tree names, so
 * nothing else a body carries is ever stored or echoed (section 1b).
 */
#include "service_internal.h"

#include "ref/limits.h"

#include <stdio.h>

/* Member paths stay short: the deepest is
 * "outputs.30.member.captions.captionSources.20.member.encryption.initializationVector". */
#define PATH_MAX_BYTES 160

const json_t *ref_schema_value(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

/* ref_schema_value for the walks: jansson hands out members without const, which a map's
 * iteration needs. */
static json_t *value_of(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

static const char *kind_name(enum ref_member_kind kind)
{
    switch (kind) {
        case REF_MEMBER_STRING:
            return "string";
        case REF_MEMBER_INTEGER:
            return "integer";
        case REF_MEMBER_STRUCTURE:
            return "structure";
        case REF_MEMBER_LIST:
            return "list";
        case REF_MEMBER_MAP:
            return "map of string to string";
        default:
            return "";
    }
}

/* "<parent>.<name>" (just name at the top), or with index > 0 "<parent>.<index>.member",
 * the service's form for list elements. */
static enum ref_status
child_path(char out[PATH_MAX_BYTES], const char *parent, const char *name, size_t index)
{
    int n;
    if (index > 0) {
        n = snprintf(out, PATH_MAX_BYTES, "%s.%zu.member", parent, index);
    } else if (parent[0] == '\0') {
        n = snprintf(out, PATH_MAX_BYTES, "%s", name);
    } else {
        n = snprintf(out, PATH_MAX_BYTES, "%s.%s", parent, name);
    }
    return n < 0 || n >= PATH_MAX_BYTES ? REF_E_INTERNAL : REF_OK;
}

/* How many elements of a list the walks look at: past a list's maximum its length is what
 * fails (ref_schema_check_shapes), and stopping there bounds the work. */
static size_t items_to_walk(const struct ref_member *m, const json_t *list)
{
    size_t n = json_array_size(list);
    return m->max_items != 0 && n > m->max_items ? m->max_items : n;
}

static bool is_string_map(json_t *value)
{
    if (!json_is_object(value)) {
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach (value, k, v) {
        if (!json_is_string(v)) {
            return false;
        }
    }
    return true;
}

static enum ref_status
check_types(struct ref_verr *v, const struct ref_member *m, json_t *value, const char *path)
{
    if (value == NULL) {
        return REF_OK;
    }
    char child[PATH_MAX_BYTES];
    switch (m->kind) {
        case REF_MEMBER_STRING:
            return json_is_string(value) ? REF_OK : ref_verr_type(v, value, path, "string");
        case REF_MEMBER_INTEGER:
            return json_is_integer(value) ? REF_OK : ref_verr_type(v, value, path, "integer");
        case REF_MEMBER_MAP:
            return is_string_map(value) ? REF_OK
                                        : ref_verr_type(v, value, path, kind_name(m->kind));
        case REF_MEMBER_STRUCTURE:
            if (!json_is_object(value)) {
                return ref_verr_type(v, value, path, "structure");
            }
            for (size_t i = 0; i < m->num_members; i++) {
                const struct ref_member *c = &m->members[i];
                REF_TRY(child_path(child, path, c->path, 0));
                REF_TRY(check_types(v, c, value_of(value, c->key), child));
            }
            return REF_OK;
        case REF_MEMBER_LIST:
            if (!json_is_array(value)) {
                return ref_verr_type(v, value, path, "list");
            }
            for (size_t i = 0; i < items_to_walk(m, value); i++) {
                json_t *e = json_array_get(value, i);
                REF_TRY(child_path(child, path, NULL, i + 1));
                /* A null element is no element of the modelled type. */
                REF_TRY(json_is_null(e) ? ref_verr_type(v, e, child, kind_name(m->members->kind))
                                        : check_types(v, m->members, e, child));
            }
            return REF_OK;
        default:
            return REF_E_INTERNAL;
    }
}

/* "Member must have length <relation> <bound>" for a list or map, with the value as
 * compact JSON. */
static enum ref_status
length_failure(struct ref_verr *v, const json_t *value, const char *path, bool is_short, size_t n)
{
    char constraint[80];
    int len = snprintf(constraint, sizeof(constraint), "Member must have length %s %zu",
                       is_short ? "greater than or equal to" : "less than or equal to", n);
    if (len < 0 || (size_t)len >= sizeof(constraint)) {
        return REF_E_INTERNAL;
    }
    struct ref_buf text;
    ref_buf_init(&text, REF_MAX_RESPONSE_BYTES / 4);
    enum ref_status rc = ref_out_dump(value, &text);
    if (rc == REF_OK) {
        rc = ref_verr_add(v, ref_buf_slice(&text), path, constraint);
    }
    ref_buf_cleanup(&text);
    return rc;
}

/* A map's keys and values against its checker, each failure recorded at the map's path. */
static enum ref_status
check_map(struct ref_verr *v, const struct ref_member *m, json_t *value, const char *path)
{
    const char *k;
    json_t *val;
    json_object_foreach (value, k, val) {
        struct ref_slice ks = ref_slice_from_cstr(k);
        struct ref_slice vs = ref_slice_make(json_string_value(val), json_string_length(val));
        if (m->checker != NULL && !m->checker(ks)) {
            REF_TRY(ref_verr_add(v, ks, path, m->pattern));
        }
        if (m->checker != NULL && !m->checker(vs)) {
            REF_TRY(ref_verr_add(v, vs, path, m->pattern));
        }
    }
    return REF_OK;
}

static enum ref_status
check_shapes(struct ref_verr *v, const struct ref_member *m, json_t *value, const char *path)
{
    if (value == NULL) {
        return m->is_required ? ref_verr_null(v, path) : REF_OK;
    }
    char child[PATH_MAX_BYTES];
    switch (m->kind) {
        case REF_MEMBER_STRING: {
            struct ref_string_rule rule = {.member_path = path,
                                           .required = m->is_required,
                                           .min_chars = m->min_chars,
                                           .max_chars = m->max_chars,
                                           .checker = m->checker,
                                           .pattern = m->pattern};
            return ref_verr_check_string(v, value, &rule);
        }
        case REF_MEMBER_INTEGER:
            return REF_OK;
        case REF_MEMBER_MAP:
            if (m->max_items != 0 && json_object_size(value) > m->max_items) {
                return length_failure(v, value, path, false, m->max_items);
            }
            return check_map(v, m, value, path);
        case REF_MEMBER_STRUCTURE:
            for (size_t i = 0; i < m->num_members; i++) {
                const struct ref_member *c = &m->members[i];
                REF_TRY(child_path(child, path, c->path, 0));
                REF_TRY(check_shapes(v, c, value_of(value, c->key), child));
            }
            return REF_OK;
        case REF_MEMBER_LIST:
            if (json_array_size(value) < m->min_items) {
                return length_failure(v, value, path, true, m->min_items);
            }
            if (m->max_items != 0 && json_array_size(value) > m->max_items) {
                return length_failure(v, value, path, false, m->max_items);
            }
            for (size_t i = 0; i < json_array_size(value); i++) {
                REF_TRY(child_path(child, path, NULL, i + 1));
                REF_TRY(check_shapes(v, m->members, json_array_get(value, i), child));
            }
            return REF_OK;
        default:
            return REF_E_INTERNAL;
    }
}

/* The walks of a body start at its top structure's members, which jansson hands out
 * without const. */
static enum ref_status
walk_body(struct ref_verr *v, const struct ref_member *m, const json_t *body, bool is_types)
{
    char child[PATH_MAX_BYTES];
    for (size_t i = 0; i < m->num_members; i++) {
        const struct ref_member *c = &m->members[i];
        REF_TRY(child_path(child, "", c->path, 0));
        json_t *value = value_of(body, c->key);
        REF_TRY(is_types ? check_types(v, c, value, child) : check_shapes(v, c, value, child));
    }
    return REF_OK;
}

enum ref_status
ref_schema_check_types(struct ref_verr *v, const struct ref_member *m, const json_t *body)
{
    return walk_body(v, m, body, true);
}

enum ref_status
ref_schema_check_shapes(struct ref_verr *v, const struct ref_member *m, const json_t *body)
{
    return walk_body(v, m, body, false);
}

json_t *ref_schema_copy(const struct ref_member *m, const json_t *value)
{
    if (m->kind != REF_MEMBER_STRUCTURE && m->kind != REF_MEMBER_LIST) {
        return json_deep_copy(value);
    }
    if (m->kind == REF_MEMBER_LIST) {
        json_t *list = json_array();
        for (size_t i = 0; list != NULL && i < json_array_size(value); i++) {
            if (json_array_append_new(list,
                                      ref_schema_copy(m->members, json_array_get(value, i))) != 0) {
                json_decref(list);
                list = NULL;
            }
        }
        return list;
    }
    json_t *o = json_object();
    for (size_t i = 0; o != NULL && i < m->num_members; i++) {
        const json_t *v = ref_schema_value(value, m->members[i].key);
        if (v != NULL &&
            json_object_set_new(o, m->members[i].key, ref_schema_copy(&m->members[i], v)) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}
