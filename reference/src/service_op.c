/* SPDX-License-Identifier: Apache-2.0
 *
 * service_op.c - what the ten operations share: their answers, their error messages and
 * the parameters more than one of them reads.
 *
 * An operation answers through ref_svc_answer (or the fixed CancelJob body), or returns the
 * status to answer with after ref_svc_fail or ref_svc_verr_finish put its message in place;
 * service.c turns that status into the error form of contract section 4. The parameters
 * here (an Id label, the paging query, a JSON body) are decoded the same way wherever they
 * appear, so each has one reader.
 */
#include "service_internal.h"

#include "ref/limits.h"
#include "ref/uri.h"

#include <jansson.h>

#include <stdarg.h>
#include <stdio.h>

/* --- Answers ------------------------------------------------------------------------- */

/* A success answer; takes the reference to body. */
enum ref_status ref_svc_answer(struct ref_op_ctx *c, int http_status, json_t *body)
{
    if (body == NULL) {
        return REF_E_NOMEM;
    }
    ref_buf_reset(&c->resp->body);
    enum ref_status rc = ref_out_dump(body, &c->resp->body);
    json_decref(body);
    return ref_svc_answer_written(c, http_status, rc);
}

enum ref_status ref_svc_answer_written(struct ref_op_ctx *c, int http_status, enum ref_status rc)
{
    if (rc == REF_E_TOO_LARGE) {
        /* Our own answer outgrew REF_MAX_RESPONSE_BYTES: no fault of the request's size. */
        return REF_E_INTERNAL;
    }
    if (rc != REF_OK) {
        return rc;
    }
    c->resp->status = REF_OK;
    c->resp->http_status = http_status;
    return REF_OK;
}

enum ref_status ref_svc_answer_success_true(struct ref_op_ctx *c)
{
    /* The bytes jansson writes for {"Success": "true"} in compact form, without building
     * and serialising a tree for a body that never changes (CancelJob's hot path). */
    static const char body[] = "{\"Success\":\"true\"}";
    ref_buf_reset(&c->resp->body);
    REF_TRY(ref_buf_append(&c->resp->body, body, sizeof(body) - 1));
    c->resp->status = REF_OK;
    c->resp->http_status = 202;
    return REF_OK;
}

/* Sets the message for an error return and passes the status through. */
enum ref_status ref_svc_fail(struct ref_op_ctx *c, enum ref_status status, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    ref_buf_reset(c->msg);
    if (n > 0 && (size_t)n < sizeof(text) && ref_buf_append(c->msg, text, (size_t)n) != REF_OK) {
        ref_buf_reset(c->msg);
    }
    return status;
}

/* Ends validation: REF_OK when nothing failed, else REF_E_VALIDATION with the message. */
enum ref_status ref_svc_verr_finish(struct ref_op_ctx *c, struct ref_verr *v)
{
    if (v->count == 0) {
        return REF_OK;
    }
    ref_buf_reset(c->msg);
    REF_TRY(ref_verr_message(v, c->msg));
    return REF_E_VALIDATION;
}

/* --- Parameters -------------------------------------------------------------------- */

/* The label as an Id, recorded under member `member` when it is not one. */
enum ref_status ref_svc_check_id_label(struct ref_op_ctx *c, struct ref_verr *v, const char *member)
{
    if (ref_job_id_is_valid(c->label)) {
        return REF_OK;
    }
    return ref_verr_pattern(v, c->label, member, REF_PATTERN_ID);
}

/* Ascending and PageToken from the query string (decoded once; the first of a repeated
 * parameter counts; other parameters are ignored, as the service ignores them). */
enum ref_status
ref_svc_parse_list_query(struct ref_op_ctx *c, struct ref_verr *v, struct ref_list_params *p)
{
    struct ref_query_param params[REF_MAX_QUERY_PARAMS];
    size_t count = 0;
    REF_TRY(ref_uri_split_query(c->req->query, params, REF_MAX_QUERY_PARAMS, &count));
    bool has_ascending = false;
    bool has_token = false;
    struct ref_buf name;
    struct ref_buf value;
    ref_buf_init(&name, REF_MAX_TARGET_BYTES);
    ref_buf_init(&value, REF_MAX_TARGET_BYTES);
    enum ref_status rc = REF_OK;
    for (size_t i = 0; i < count && rc == REF_OK; i++) {
        ref_buf_reset(&name);
        ref_buf_reset(&value);
        struct ref_slice n = params[i].name;
        struct ref_slice val = params[i].value;
        if (ref_uri_decode(params[i].name, &name, NULL) == REF_OK) {
            n = ref_buf_slice(&name);
        }
        if (ref_uri_decode(params[i].value, &value, NULL) == REF_OK) {
            val = ref_buf_slice(&value);
        }
        if (ref_slice_eq_cstr(n, "Ascending") && !has_ascending) {
            has_ascending = true;
            if (ref_slice_eq_cstr(val, "false")) {
                p->is_descending = true;
            } else if (!ref_slice_eq_cstr(val, "true")) {
                rc = ref_verr_pattern(v, val, "ascending", REF_PATTERN_ASCENDING);
            }
        } else if (ref_slice_eq_cstr(n, "PageToken") && !has_token) {
            has_token = true;
            if (!ref_job_id_is_valid(val)) {
                rc = ref_verr_pattern(v, val, "pageToken", REF_PATTERN_ID);
            } else {
                rc = ref_buf_append_slice(&p->token, val);
            }
        }
    }
    ref_buf_cleanup(&name);
    ref_buf_cleanup(&value);
    return rc;
}

/* Parses the body as one JSON object. REF_E_VALIDATION (with the message) otherwise. */
enum ref_status ref_svc_parse_body(struct ref_op_ctx *c, json_t **out)
{
    *out = NULL;
    /* Zeroed: when jansson runs out of memory before it starts reading it returns NULL
     * without filling jerr in, and an empty message can only mean that. */
    json_error_t jerr = {0};
    struct ref_slice body = c->req->body;
    const char *text = body.ptr != NULL ? (const char *)body.ptr : "";
    json_t *doc = json_loadb(text, body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        if (json_error_code(&jerr) == json_error_out_of_memory || jerr.text[0] == '\0') {
            return REF_E_NOMEM;
        }
        return ref_svc_fail(c, REF_E_VALIDATION,
                            "The request body is not valid JSON: %s (line %d, column %d)",
                            jerr.text, jerr.line, jerr.column);
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        return ref_svc_fail(c, REF_E_VALIDATION, "The request body must be a JSON object.");
    }
    *out = doc;
    return REF_OK;
}

/* A member that is present and not null. */
json_t *ref_svc_member(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

/* --- Shared answers of the operations ------------------------------------------------ */

/* The pipeline `id` (an Id by now) does not exist: moto's wording, which it verified
 * against the live service (contract section 4). Every operation that names a pipeline
 * answers it, CreateJob and ListJobsByPipeline included. */
enum ref_status ref_svc_pipeline_not_found(struct ref_op_ctx *c, struct ref_slice id)
{
    return ref_svc_fail(
        c, REF_E_NOT_FOUND,
        "The specified pipeline was not found: account=%s, pipelineId=" REF_SLICE_FMT ".",
        c->svc->account_id, REF_SLICE_ARG(id));
}

enum ref_status ref_svc_store_failure(struct ref_op_ctx *c, enum ref_status rc, const char *what)
{
    switch (rc) {
        case REF_E_NOT_FOUND:
            return ref_svc_fail(c, rc, "The specified %s was not found.", what);
        default:
            return rc;
    }
}

/* The check of the operations whose only input is an Id label (CancelJob, ReadJob,
 * ReadPipeline, DeletePipeline): REF_OK, or the validation answer's status. */
enum ref_status ref_svc_validate_id_label_only(struct ref_op_ctx *c)
{
    struct ref_verr v;
    ref_verr_init(&v);
    enum ref_status rc = ref_svc_check_id_label(c, &v, "id");
    if (rc == REF_OK) {
        rc = ref_svc_verr_finish(c, &v);
    }
    ref_verr_cleanup(&v);
    return rc;
}
