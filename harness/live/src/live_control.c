/* SPDX-License-Identifier: Apache-2.0
 *
 * live_control.c - the client side of test control (contract section 9): the live
 * backend's hooks, sent to the endpoint's /_etch/control/v1 paths.
 *
 * In process the runner seeds objects, moves the virtual clock and fails jobs by calling
 * the reference directly. An endpoint that offers test control takes the same actions
 * over HTTP, so with it the scenarios that need them run live too. Each hook here is one
 * signed JSON request by the main principal (control refuses the others), signed at the
 * endpoint's clock: once a clock call has made that clock virtual, the window the
 * endpoint checks signatures against moves with it, and so must X-Amz-Date.
 *
 * Discovery is one GET: any answer but 200 with "Version" 1 means no control, and the run
 * goes on without it, as the contract says.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/live.h"

#include "live_internal.h"

#include "harness/text.h"

#include "ref/buf.h"

#include <jansson.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTROL_PREFIX "/_etch/control/v1"
#define CONTROL_WHY_BYTES 384
/* Contract section 9: SetMillis is below 10^13. */
#define CONTROL_MAX_MILLIS 9999999999999LL

/* Any valid object will do for a seed: these are the members CreatePipeline and
 * CreateJob require (contract sections 2 and 2b), with values of the right shape. */
#define SEED_ROLE   "arn:aws:iam::111122223333:role/Elastic_Transcoder_Default_Role"
#define SEED_PRESET "1351620000001-000010"

/* One signed control request; *answer (owned by the caller, json_decref) gets the JSON
 * body of a 200. REF_OK for a 200 with a JSON object; REF_E_NOT_FOUND for any other
 * answer (*http_status says which, 0 when it was not HTTP; why its status and error type);
 * another status for a transport failure. */
static enum ref_status control_call(struct harness_backend *b,
                                    const char *method,
                                    const char *path,
                                    const char *body,
                                    json_t **answer,
                                    int *http_status,
                                    char *why,
                                    size_t why_cap)
{
    *answer = NULL;
    *http_status = 0;
    struct live_answer a;
    enum ref_status rc = live_signed_exchange(b, method, path, body, &a, why, why_cap);
    if (rc == REF_E_MALFORMED) {
        rc = REF_E_NOT_FOUND;
    } else if (rc == REF_OK) {
        *http_status = a.http.status;
        if (a.http.status == 200 && json_is_object(a.json)) {
            *answer = a.json;
            a.json = NULL;
        } else {
            harness_textf(why, why_cap, "%s %s answered %d%s%s", method, path, a.http.status,
                          a.error_code[0] != '\0' ? " " : "", a.error_code);
            rc = REF_E_NOT_FOUND;
        }
    }
    live_answer_cleanup(&a);
    return rc;
}

/* Remembers the endpoint's clock from an answer's NowMillis. */
static void note_clock(struct harness_backend *b, json_t *answer, bool is_virtual)
{
    struct live_control *c = live_control_of(b);
    json_t *now = json_object_get(answer, "NowMillis");
    c->is_virtual = is_virtual;
    if (is_virtual && json_is_integer(now)) {
        c->virtual_ms = (int64_t)json_integer_value(now);
    }
}

enum ref_status
harness_live_control_discover(struct harness_backend *b, int64_t *now_ms, char *why, size_t why_cap)
{
    json_t *answer = NULL;
    int http_status;
    enum ref_status rc =
        control_call(b, "GET", CONTROL_PREFIX, NULL, &answer, &http_status, why, why_cap);
    if (rc != REF_OK) {
        return rc;
    }
    json_t *version = json_object_get(answer, "Version");
    json_t *now = json_object_get(answer, "NowMillis");
    if (!json_is_integer(version) || json_integer_value(version) != 1 || !json_is_integer(now)) {
        harness_textf(why, why_cap, "the discovery answer has no Version 1 and NowMillis");
        json_decref(answer);
        return REF_E_NOT_FOUND;
    }
    *now_ms = (int64_t)json_integer_value(now);
    json_decref(answer);
    live_control_of(b)->is_on = true;
    live_enable_hooks(b);
    return REF_OK;
}

bool harness_live_has_control(struct harness_backend *b)
{
    return live_control_of(b)->is_on;
}

enum ref_status
harness_live_control_release_clock(struct harness_backend *b, char *why, size_t why_cap)
{
    struct live_control *c = live_control_of(b);
    if (!c->is_on || !c->is_virtual) {
        return REF_OK;
    }
    json_t *answer = NULL;
    int http_status;
    enum ref_status rc = control_call(b, "POST", CONTROL_PREFIX "/clock", "{\"Real\":true}",
                                      &answer, &http_status, why, why_cap);
    if (rc == REF_OK) {
        note_clock(b, answer, false);
    }
    json_decref(answer);
    return rc;
}

/* A clock call whose answer sets the clock this backend signs at. */
static bool clock_call(struct harness_backend *b, const char *body)
{
    json_t *answer = NULL;
    int http_status;
    char why[CONTROL_WHY_BYTES];
    enum ref_status rc = control_call(b, "POST", CONTROL_PREFIX "/clock", body, &answer,
                                      &http_status, why, sizeof(why));
    if (rc == REF_OK) {
        note_clock(b, answer, true);
    }
    json_decref(answer);
    return rc == REF_OK;
}

void live_control_set_clock_ms(struct harness_backend *b, int64_t now_ms)
{
    if (now_ms < 0) {
        now_ms = 0;
    } else if (now_ms > CONTROL_MAX_MILLIS) {
        now_ms = CONTROL_MAX_MILLIS;
    }
    struct live_control *c = live_control_of(b);
    if (c->is_virtual && c->virtual_ms == now_ms) {
        return; /* already there: the runner sets the time next_event_ms moved to */
    }
    char body[64];
    snprintf(body, sizeof(body), "{\"SetMillis\":%" PRId64 "}", now_ms);
    (void)clock_call(b, body);
}

/* Control has no call that only tells the next event's time: ToNextEvent moves there.
 * The runner always moves the clock to the time this returns (or ends a wait when it
 * returns false), so moving here gives the same sequence of states. */
bool live_control_next_event_ms(struct harness_backend *b, int64_t *when_ms)
{
    struct live_control *c = live_control_of(b);
    int64_t before = b->ops->now_ms(b);
    if (!clock_call(b, "{\"ToNextEvent\":true}") || c->virtual_ms == before) {
        return false;
    }
    *when_ms = c->virtual_ms;
    return true;
}

void live_control_tick(struct harness_backend *b)
{
    /* The endpoint applies due starts and finishes before it answers anything. */
    (void)b;
}

/* The status an in-process hook returns for the answer a control call got. */
static enum ref_status hook_status(enum ref_status rc, int http_status)
{
    if (rc != REF_E_NOT_FOUND) {
        return rc;
    }
    switch (http_status) {
        case 400:
            return REF_E_VALIDATION;
        case 404:
            return REF_E_NOT_FOUND;
        case 409:
            return REF_E_IN_USE;
        default:
            return REF_E_INTERNAL;
    }
}

/* Sends one seed body (taking its reference); REF_E_IN_USE, REF_E_VALIDATION or
 * REF_E_NOT_FOUND as the answer says, like the in-process hooks. */
static enum ref_status seed(struct harness_backend *b, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (text == NULL) {
        return REF_E_NOMEM;
    }
    json_t *answer = NULL;
    int http_status;
    char why[CONTROL_WHY_BYTES];
    enum ref_status rc = control_call(b, "POST", CONTROL_PREFIX "/seed", text, &answer,
                                      &http_status, why, sizeof(why));
    free(text);
    json_decref(answer);
    return hook_status(rc, http_status);
}

enum ref_status live_control_seed_pipeline(struct harness_backend *b,
                                           const char *id,
                                           const char *name,
                                           const char *status)
{
    json_t *pipeline =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "Id", id, "Name", name, "Status", status,
                  "InputBucket", "etch-input", "OutputBucket", "etch-output", "Role", SEED_ROLE);
    json_t *body = json_pack("{s:[o], s:[]}", "Pipelines", pipeline, "Jobs");
    return body != NULL ? seed(b, body) : REF_E_NOMEM;
}

enum ref_status live_control_seed_job(struct harness_backend *b,
                                      const char *id,
                                      const char *pipeline_id,
                                      const char *status)
{
    json_t *job = json_pack("{s:s, s:s, s:s, s:{s:s}, s:[{s:s, s:s}]}", "Id", id, "PipelineId",
                            pipeline_id, "Status", status, "Input", "Key", "etch-input.mp4",
                            "Outputs", "Key", "etch-output.mp4", "PresetId", SEED_PRESET);
    json_t *body = json_pack("{s:[], s:[o]}", "Pipelines", "Jobs", job);
    return body != NULL ? seed(b, body) : REF_E_NOMEM;
}

enum ref_status live_control_fail_job(struct harness_backend *b, const char *id)
{
    char path[128];
    snprintf(path, sizeof(path), CONTROL_PREFIX "/jobs/%s/status", id);
    json_t *answer = NULL;
    int http_status;
    char why[CONTROL_WHY_BYTES];
    enum ref_status rc = control_call(b, "POST", path, "{\"Status\":\"Error\"}", &answer,
                                      &http_status, why, sizeof(why));
    json_decref(answer);
    return hook_status(rc, http_status);
}
