/* SPDX-License-Identifier: Apache-2.0
 *
 * router.h - maps a method and a normalised path onto one of the ten operations.
 *
 * The router works on the same normalised, still percent-encoded path that the
 * signature covers; it never decodes, so a %2F inside a label stays inside the label.
 */
#ifndef REF_ROUTER_H
#define REF_ROUTER_H

#include "ref/slice.h"
#include "ref/status.h"

#define REF_API_VERSION "2012-09-25"

#define REF_OP_LIST(X)                                                                             \
    X(REF_OP_CANCEL_JOB, "CancelJob", false)                                                       \
    X(REF_OP_CREATE_JOB, "CreateJob", false)                                                       \
    X(REF_OP_READ_JOB, "ReadJob", true)                                                            \
    X(REF_OP_LIST_JOBS_BY_PIPELINE, "ListJobsByPipeline", true)                                    \
    X(REF_OP_LIST_JOBS_BY_STATUS, "ListJobsByStatus", true)                                        \
    X(REF_OP_CREATE_PIPELINE, "CreatePipeline", false)                                             \
    X(REF_OP_READ_PIPELINE, "ReadPipeline", true)                                                  \
    X(REF_OP_LIST_PIPELINES, "ListPipelines", true)                                                \
    X(REF_OP_UPDATE_PIPELINE_STATUS, "UpdatePipelineStatus", false)                                \
    X(REF_OP_DELETE_PIPELINE, "DeletePipeline", false)

enum ref_op {
    REF_OP_NONE = 0,
#define REF_OP_ENUM(name, text, is_read) name,
    REF_OP_LIST(REF_OP_ENUM)
#undef REF_OP_ENUM
        REF_OP_COUNT
};

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
REF_MUST_CHECK enum ref_status ref_route_match(struct ref_slice method,
                                               struct ref_slice normalized_path,
                                               struct ref_route *out);

#endif
