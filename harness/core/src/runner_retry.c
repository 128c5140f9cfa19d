/* SPDX-License-Identifier: Apache-2.0
 *
 * runner_retry.c - a call whose answer is lost, retried as an SDK retries it (a step's
 * "lost_answer").
 *
 * SDKs retry a request whose answer never came (a connection reset, a timeout): the same
 * operation, signed again at the time of the retry, on a new connection, with the
 * invocation Id of the first attempt and the next attempt number. The target has already
 * handled the first attempt, so the retry meets the state the first one left: a CancelJob
 * retried after its 202 was lost finds the job Canceled. The first attempt goes through
 * the backend's send_losing_answer, which only returns once the target has begun to
 * answer, so the runner knows the target handled it; the retry goes through runner.c's
 * request step like any other request and is what the step's expectations judge.
 */
#define _POSIX_C_SOURCE 200809L

#include "runner_internal.h"

#include "harness/text.h"

#include <openssl/rand.h>

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The label of each attempt in reports. */
#define LOST_ATTEMPT_LABEL "attempt-1-answer-lost"

/* A version 4 UUID, as the SDKs make their invocation Ids. */
static void new_invocation_id(char out[RUNNER_INVOCATION_ID_BYTES])
{
    uint8_t bytes[16];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
        /* No randomness: the clock still tells one call from the next. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t v = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec;
        for (size_t i = 0; i < sizeof(bytes); i++) {
            bytes[i] = (uint8_t)(v >> ((i % 8) * 8)) ^ (uint8_t)i;
        }
    }
    bytes[6] = (uint8_t)((bytes[6] & 0x0f) | 0x40); /* version 4 */
    bytes[8] = (uint8_t)((bytes[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (size_t i = 0; i < sizeof(bytes); i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[n++] = '-';
        }
        out[n++] = hex[bytes[i] >> 4];
        out[n++] = hex[bytes[i] & 0x0f];
    }
    out[n] = '\0';
}

enum prep runner_lose_first_answer(struct run *r,
                                   const struct harness_step *step,
                                   struct harness_step_result *s,
                                   struct sdk_attempt *attempt,
                                   char *why,
                                   size_t why_cap)
{
    memset(attempt, 0, sizeof(*attempt));
    if (r->b->ops->send_losing_answer == NULL) {
        harness_textf(why, why_cap, "this target cannot drop a connection before its answer");
        return PREP_ERROR;
    }
    attempt->sdk = step->lost_answer;
    attempt->number = 1;
    new_invocation_id(attempt->invocation_id);
    struct harness_exchange *x = runner_result_add_exchange(s);
    if (x == NULL) {
        harness_textf(why, why_cap, "out of memory");
        return PREP_ERROR;
    }
    enum prep p = runner_prepare_attempt(r, step, attempt, x, why, why_cap);
    if (p != PREP_OK) {
        return p;
    }
    x->label = runner_dup_n(LOST_ATTEMPT_LABEL, strlen(LOST_ATTEMPT_LABEL));
    if (x->label == NULL) {
        harness_textf(why, why_cap, "out of memory");
        return PREP_ERROR;
    }
    char reason[RUNNER_DETAIL_BYTES] = "";
    if (r->b->ops->send_losing_answer(r->b, ref_buf_slice(&x->request), reason, sizeof(reason)) !=
        REF_OK) {
        harness_textf(why, why_cap,
                      "transport failure on the attempt whose answer was to be lost: %s",
                      reason[0] != '\0' ? reason : "no reason given");
        return PREP_ERROR;
    }
    attempt->number = 2;
    return PREP_OK;
}

static bool is_own_pipeline(const struct run *r, const char *id)
{
    for (size_t i = 0; i < r->pipelines.count; i++) {
        if (strcmp(r->pipelines.ids[i], id) == 0) {
            return true;
        }
    }
    return false;
}

/* One page of ListJobsByPipeline (token NULL: the first): every job Id on it remembered;
 * *next the page's NextPageToken (a copy, NULL on the last page). */
static enum ref_status
adopt_page(struct run *r, const char *pipeline, const char *token, char **next)
{
    *next = NULL;
    json_t *params = json_object();
    if (params == NULL ||
        json_object_set_new(params, "PipelineId",
                            runner_literal_param(pipeline, strlen(pipeline))) != 0 ||
        (token != NULL && json_object_set_new(params, "PageToken",
                                              runner_literal_param(token, strlen(token))) != 0)) {
        json_decref(params);
        return REF_E_NOMEM;
    }
    struct harness_exchange x;
    struct observation o;
    char why[RUNNER_DETAIL_BYTES] = "";
    enum ref_status rc =
        runner_side_call(r, REF_OP_LIST_JOBS_BY_PIPELINE, params, NULL, &x, &o, why, sizeof(why));
    json_decref(params);
    if (rc == REF_OK && o.http.status == 200) {
        json_t *jobs = json_object_get(o.body, "Jobs");
        size_t i;
        json_t *job;
        json_array_foreach (jobs, i, job) {
            json_t *id = json_object_get(job, "Id");
            if (json_is_string(id) && rc == REF_OK) {
                rc = runner_ids_add(&r->jobs, json_string_value(id), json_string_length(id));
            }
        }
        json_t *next_token = json_object_get(o.body, "NextPageToken");
        if (rc == REF_OK && json_is_string(next_token)) {
            *next = runner_dup_n(json_string_value(next_token), json_string_length(next_token));
            rc = *next != NULL ? REF_OK : REF_E_NOMEM;
        }
    } else if (rc != REF_E_NOMEM) {
        /* Not adopted: cleanup then lists what it could not delete, as for any leftover. */
        rc = REF_OK;
    }
    runner_observation_cleanup(&o);
    runner_exchange_cleanup(&x);
    return rc;
}

enum ref_status runner_adopt_lost_jobs(struct run *r, const struct harness_exchange *lost)
{
    if (!r->is_shared || lost->body == NULL) {
        return REF_OK;
    }
    json_t *body = json_loadb((const char *)lost->body, lost->body_len, 0, NULL);
    json_t *pipeline = json_object_get(body, "PipelineId");
    enum ref_status rc = REF_OK;
    if (json_is_string(pipeline) && is_own_pipeline(r, json_string_value(pipeline))) {
        char *token = NULL;
        size_t pages = 0;
        do {
            char *next = NULL;
            rc = adopt_page(r, json_string_value(pipeline), token, &next);
            free(token);
            token = next;
        } while (rc == REF_OK && token != NULL && ++pages < HARNESS_MAX_LIST_PAGES);
        free(token);
    }
    json_decref(body);
    return rc;
}
