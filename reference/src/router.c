/* SPDX-License-Identifier: Apache-2.0
 *
 * router.c - maps a method and a normalised path onto one of the ten operations.
 *
 * One table holds the operations of contract section 1 as a method plus the segments
 * after the version segment. The path is split on '/' without decoding, so an encoded
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

struct op_info {
    const char *name;
    bool is_read;
};

static const struct op_info s_ops[REF_OP_COUNT] = {[REF_OP_NONE] = {"", false},
#define REF_OP_ROW(op, text, read) [op] = {text, read},
                                                   REF_OP_LIST(REF_OP_ROW)
#undef REF_OP_ROW
};

/* A segment pattern: a literal, or the label (NULL). */
#define LABEL NULL

struct route_pattern {
    enum ref_op op;
    const char *method;
    size_t num_segments;
    const char *segments[MAX_SEGMENTS];
};

/* Contract section 1, in its order. */
static const struct route_pattern s_routes[] = {
    {REF_OP_CANCEL_JOB, "DELETE", 2, {"jobs", LABEL}},
    {REF_OP_CREATE_JOB, "POST", 1, {"jobs"}},
    {REF_OP_READ_JOB, "GET", 2, {"jobs", LABEL}},
    {REF_OP_LIST_JOBS_BY_PIPELINE, "GET", 2, {"jobsByPipeline", LABEL}},
    {REF_OP_LIST_JOBS_BY_STATUS, "GET", 2, {"jobsByStatus", LABEL}},
    {REF_OP_CREATE_PIPELINE, "POST", 1, {"pipelines"}},
    {REF_OP_READ_PIPELINE, "GET", 2, {"pipelines", LABEL}},
    {REF_OP_LIST_PIPELINES, "GET", 1, {"pipelines"}},
    {REF_OP_UPDATE_PIPELINE_STATUS, "POST", 3, {"pipelines", LABEL, "status"}},
    {REF_OP_DELETE_PIPELINE, "DELETE", 2, {"pipelines", LABEL}},
};

const char *ref_op_name(enum ref_op op)
{
    if ((unsigned)op >= REF_OP_COUNT) {
        return "";
    }
    return s_ops[op].name;
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
    if ((unsigned)op >= REF_OP_COUNT) {
        return false;
    }
    return s_ops[op].is_read;
}

/* Does the part of the path after the version match this pattern? On a match *label
 * gets the label segment (empty for label-less operations). */
static bool pattern_matches(const struct route_pattern *r,
                            const struct ref_slice *segs,
                            size_t num_segs,
                            struct ref_slice *label)
{
    if (num_segs != r->num_segments) {
        return false;
    }
    struct ref_slice found = {NULL, 0};
    for (size_t i = 0; i < num_segs; i++) {
        if (r->segments[i] == LABEL) {
            found = segs[i];
        } else if (!ref_slice_eq_cstr(segs[i], r->segments[i])) {
            return false;
        }
    }
    *label = found;
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

    for (size_t i = 0; i < sizeof(s_routes) / sizeof(s_routes[0]); i++) {
        const struct route_pattern *r = &s_routes[i];
        struct ref_slice label;
        if (!ref_slice_eq_cstr(method, r->method) || !pattern_matches(r, segs, num_segs, &label)) {
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
