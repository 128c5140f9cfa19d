/* SPDX-License-Identifier: Apache-2.0
 *
 * router.h - maps a method and a normalised path onto one of the ten operations.
 *
 * The router works on the same normalised, still percent-encoded path that the
 * signature covers; it never decodes, so a %2F inside a label stays inside the label.
 */
#ifndef REF_ROUTER_H
#define REF_ROUTER_H

#include <stdbool.h>

#include "ref/slice.h"
#include "ref/status.h"

#define REF_API_VERSION "2012-09-25"

/* The ten operations of contract section 1, once: every other table of operations (the
 * router's patterns, the service's handlers, the harness's request builder and scenario
 * loader) is indexed by or built from this one.
 *
 * Columns: enum, wire name, method, the collection segment after the version, the member
 * that fills the label segment after it (NULL: no label), a literal last segment (NULL:
 * none), whether the restricted principal may call it (Read and List), whether it takes
 * the query members Ascending and PageToken, and whether it has a JSON body. */
#define REF_OP_LIST(X)                                                                             \
    X(REF_OP_CANCEL_JOB, "CancelJob", "DELETE", "jobs", "Id", NULL, false, false, false)           \
    X(REF_OP_CREATE_JOB, "CreateJob", "POST", "jobs", NULL, NULL, false, false, true)              \
    X(REF_OP_READ_JOB, "ReadJob", "GET", "jobs", "Id", NULL, true, false, false)                   \
    X(REF_OP_LIST_JOBS_BY_PIPELINE, "ListJobsByPipeline", "GET", "jobsByPipeline", "PipelineId",   \
      NULL, true, true, false)                                                                     \
    X(REF_OP_LIST_JOBS_BY_STATUS, "ListJobsByStatus", "GET", "jobsByStatus", "Status", NULL, true, \
      true, false)                                                                                 \
    X(REF_OP_CREATE_PIPELINE, "CreatePipeline", "POST", "pipelines", NULL, NULL, false, false,     \
      true)                                                                                        \
    X(REF_OP_READ_PIPELINE, "ReadPipeline", "GET", "pipelines", "Id", NULL, true, false, false)    \
    X(REF_OP_LIST_PIPELINES, "ListPipelines", "GET", "pipelines", NULL, NULL, true, true, false)   \
    X(REF_OP_UPDATE_PIPELINE_STATUS, "UpdatePipelineStatus", "POST", "pipelines", "Id", "status",  \
      false, false, true)                                                                          \
    X(REF_OP_DELETE_PIPELINE, "DeletePipeline", "DELETE", "pipelines", "Id", NULL, false, false,   \
      false)

enum ref_op {
    REF_OP_NONE = 0,
#define REF_OP_ENUM(name, ...) name,
    REF_OP_LIST(REF_OP_ENUM)
#undef REF_OP_ENUM
        REF_OP_COUNT
};

/* One row of REF_OP_LIST. The request target is "/2012-09-25/<collection>", then
 * "/<label value>" when label_member is set, then "/<suffix>" when suffix is set. */
struct ref_op_info {
    enum ref_op op;
    const char *name;         /* "CancelJob" */
    const char *method;       /* "DELETE" */
    const char *collection;   /* "jobs" */
    const char *label_member; /* "Id", "PipelineId", "Status" or NULL */
    const char *suffix;       /* "status" or NULL */
    bool is_read;             /* the restricted principal may call it */
    bool has_query;           /* Ascending, PageToken */
    bool has_body;
};

/* The row for op; NULL for REF_OP_NONE and out-of-range values. */
const struct ref_op_info *ref_op_info(enum ref_op op);
/* "CancelJob"; "" for REF_OP_NONE. */
const char *ref_op_name(enum ref_op op);
/* REF_OP_NONE when unknown. */
enum ref_op ref_op_from_name(struct ref_slice name);
/* Read and List operations, which the restricted principal may call. */
bool ref_op_is_read(enum ref_op op);

struct ref_route {
    enum ref_op op;
    struct ref_slice label; /* the {Id}/{PipelineId}/{Status} segment, still encoded */
};

/* Matches a method and a normalised path (no query).
 * REF_OK: out->op is set. REF_E_INCOMPATIBLE_VERSION: the first segment is not
 * 2012-09-25 but the rest and the method match an operation (out->op says which).
 * REF_E_UNKNOWN_OPERATION: nothing matches. */
REF_MUST_CHECK enum ref_status
ref_route_match(struct ref_slice method, struct ref_slice normalized_path, struct ref_route *out);

#endif
