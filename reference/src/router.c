/* SPDX-License-Identifier: Apache-2.0
 *
 * router.c - maps a method and a normalised path onto one of the ten operations.
 *
 * The operations of contract section 1 are REF_OP_LIST (router.h): a method, a collection
 * segment, an optional label and an optional literal last segment after the version. The path is
 * split on '/' without decoding, so an encoded
 * "%2F" stays inside its segment and the label comes back exactly as it was signed.
 * Nothing is allocated; route.label borrows from the path.
 *
 * Trailing slashes: a path ending in '/' has an empty last segment. That empty segment
 * matches a label like any other value, so "DELETE /2012-09-25/jobs/" is CancelJob with an
 * empty Id and "GET /2012-09-25/pipelines/" is ReadPipeline with an empty Id; the service
 * answers both with 400 ValidationException (contract section 8), which tells the caller
 * more than a 404 would. An empty segment never matches a literal one, so
 * "POST /2012-09-25/jobs/" (no labelled POST on jobs) and "/2012-09-25/jobs/{Id}/" are
 * unknown operations.
 */
#include "ref/router.h"

#include <stdbool.h>
#include <stddef.h>

/* The most segments any operation has after the version: pipelines/{Id}/status. */
#define MAX_SEGMENTS 3

static const struct ref_op_info s_ops[REF_OP_COUNT] = {
#define REF_OP_ROW(op, text, method, collection, label, suffix, read, query, body)                 \
    [op] = {op, text, method, collection, label, suffix, read, query, body},
    REF_OP_LIST(REF_OP_ROW)
#undef REF_OP_ROW
};

const struct ref_op_info *ref_op_info(enum ref_op op)
{
    if (op <= REF_OP_NONE || op >= REF_OP_COUNT) {
        return NULL;
    }
    return &s_ops[op];
}

const char *ref_op_name(enum ref_op op)
{
    const struct ref_op_info *info = ref_op_info(op);
    return info != NULL ? info->name : "";
}

enum ref_op ref_op_from_name(struct ref_slice name)
{
    for (unsigned op = REF_OP_NONE + 1; op < REF_OP_COUNT; op++) {
        if (ref_slice_eq_cstr(name, s_ops[op].name)) {
            return (enum ref_op)op;
        }
    }
    return REF_OP_NONE;
}

bool ref_op_is_read(enum ref_op op)
{
    const struct ref_op_info *info = ref_op_info(op);
    return info != NULL && info->is_read;
}

/* Does the part of the path after the version match this operation's collection,
 * label and suffix? On a match *label gets the label segment (empty for label-less
 * operations). */
static bool op_matches(const struct ref_op_info *op,
                       const struct ref_slice *segs,
                       size_t num_segs,
                       struct ref_slice *label)
{
    size_t want = 1 + (op->label_member != NULL ? 1u : 0u) + (op->suffix != NULL ? 1u : 0u);
    if (num_segs != want || !ref_slice_eq_cstr(segs[0], op->collection)) {
        return false;
    }
    if (op->suffix != NULL && !ref_slice_eq_cstr(segs[num_segs - 1], op->suffix)) {
        return false;
    }
    *label = op->label_member != NULL ? segs[1] : (struct ref_slice){NULL, 0};
    return true;
}

enum ref_status
ref_route_match(struct ref_slice method, struct ref_slice normalized_path, struct ref_route *out)
{
    *out = (struct ref_route){.op = REF_OP_NONE, .label = {NULL, 0}};

    struct ref_slice rest = normalized_path;
    struct ref_slice seg;
    if (rest.len == 0 || rest.ptr[0] != '/') {
        return REF_E_UNKNOWN_OPERATION;
    }
    rest = ref_slice_sub(rest, 1, rest.len - 1);

    /* The version segment, then at most MAX_SEGMENTS more; anything longer matches no
     * operation. Splitting stops early, so a long path costs no more than a short one. */
    struct ref_slice version;
    if (!ref_slice_split(&rest, '/', &version)) {
        return REF_E_UNKNOWN_OPERATION;
    }
    struct ref_slice segs[MAX_SEGMENTS];
    size_t num_segs = 0;
    for (bool more = true; more;) {
        if (num_segs == MAX_SEGMENTS) {
            return REF_E_UNKNOWN_OPERATION;
        }
        more = ref_slice_split(&rest, '/', &seg);
        segs[num_segs++] = seg;
    }

    for (unsigned op = REF_OP_NONE + 1; op < REF_OP_COUNT; op++) {
        const struct ref_op_info *r = &s_ops[op];
        struct ref_slice label;
        if (!ref_slice_eq_cstr(method, r->method) || !op_matches(r, segs, num_segs, &label)) {
            continue;
        }
        out->op = r->op;
        out->label = label;
        /* Contract section 8: the right operation under another version is
         * IncompatibleVersion (400), with the operation named for the caller. */
        if (!ref_slice_eq_cstr(version, REF_API_VERSION)) {
            return REF_E_INCOMPATIBLE_VERSION;
        }
        return REF_OK;
    }
    return REF_E_UNKNOWN_OPERATION;
}
