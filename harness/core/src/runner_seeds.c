/* SPDX-License-Identifier: Apache-2.0
 *
 * runner_seeds.c - seeded objects on a shared target (a live endpoint others use too).
 *
 * With test control (contract section 9) the endpoint seeds what a scenario asks for, but
 * it never forgets a job Id: the scenario's literal Ids are replaced by fresh ones in
 * every request and shown back in every answer. Without control, the seeds a client can
 * make are made (a pipeline created and paused, a job created and canceled) and the Id the
 * endpoint gave stands in for the literal one the same way. A clock step that sets a time
 * adds the dates it moved to the same table, for answers only.
 */
#define _POSIX_C_SOURCE 200809L

#include "runner_internal.h"

#include "harness/text.h"

#include "ref/job_store.h"
#include "ref/router.h"

#include <jansson.h>
#include <openssl/rand.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The contract's Id shape (section 2), as the reference checks it. */
static bool has_id_shape(const char *id)
{
    return ref_job_id_is_valid(ref_slice_from_cstr(id));
}

/* A fresh Id of the contract's shape: this machine's clock in milliseconds, then six
 * random characters, as the reference makes its own. */
static enum ref_status make_fresh_id(char out[RUNNER_SEED_ID_LEN + 1])
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    uint8_t random[6];
    if (RAND_bytes(random, sizeof(random)) != 1) {
        return REF_E_INTERNAL;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    char digits[16];
    harness_textf(digits, sizeof(digits), "%013lld", ms % 10000000000000LL);
    memcpy(out, digits, 13);
    out[13] = '-';
    for (size_t i = 0; i < sizeof(random); i++) {
        out[14 + i] = alphabet[random[i] % (sizeof(alphabet) - 1)];
    }
    out[RUNNER_SEED_ID_LEN] = '\0';
    return REF_OK;
}

enum ref_status runner_alias_seed(struct run *r, enum harness_step_kind kind, char **id)
{
    if (!r->is_shared || *id == NULL || !has_id_shape(*id)) {
        return REF_OK;
    }
    for (size_t i = 0; i < r->num_aliases; i++) {
        if (strcmp(r->aliases[i].fresh, *id) == 0) {
            return REF_OK; /* already fresh: the literal was aliased when expanded */
        }
    }
    if (r->num_aliases == RUNNER_MAX_SEED_ALIASES) {
        return REF_E_TOO_LARGE;
    }
    struct seed_alias *a = &r->aliases[r->num_aliases];
    REF_TRY(make_fresh_id(a->fresh));
    memcpy(a->literal, *id, RUNNER_SEED_ID_LEN + 1);
    a->len = RUNNER_SEED_ID_LEN;
    a->is_answer_only = false;
    char *fresh = runner_dup_n(a->fresh, RUNNER_SEED_ID_LEN);
    if (fresh == NULL) {
        return REF_E_NOMEM;
    }
    r->num_aliases++;
    free(*id);
    *id = fresh;
    if (kind == HARNESS_STEP_SEED_PIPELINE) {
        size_t before = r->pipelines.count;
        enum ref_status rc = runner_ids_add(&r->pipelines, fresh, RUNNER_SEED_ID_LEN);
        runner_budget_add_held(r, r->pipelines.count - before, 0, 0);
        return rc;
    }
    return runner_ids_add(&r->jobs, fresh, RUNNER_SEED_ID_LEN);
}

static void
replace_all(uint8_t *buf, size_t len, const char *from, const char *to, size_t n, bool *changed)
{
    for (size_t i = 0; n > 0 && i + n <= len; i++) {
        if (buf[i] == (uint8_t)from[0] && memcmp(buf + i, from, n) == 0) {
            memcpy(buf + i, to, n);
            *changed = true;
            i += n - 1;
        }
    }
}

enum ref_status
runner_alias_answer(struct run *r, const char *written, const char *moved, size_t len)
{
    if (len > RUNNER_SEED_ID_LEN || memcmp(written, moved, len) == 0) {
        return REF_OK;
    }
    for (size_t i = 0; i < r->num_aliases; i++) {
        const struct seed_alias *a = &r->aliases[i];
        if (a->is_answer_only && a->len == len && memcmp(a->fresh, moved, len) == 0) {
            return REF_OK;
        }
    }
    if (r->num_aliases == RUNNER_MAX_SEED_ALIASES) {
        return REF_E_TOO_LARGE;
    }
    struct seed_alias *a = &r->aliases[r->num_aliases++];
    memcpy(a->literal, written, len);
    a->literal[len] = '\0';
    memcpy(a->fresh, moved, len);
    a->fresh[len] = '\0';
    a->len = len;
    a->is_answer_only = true;
    return REF_OK;
}

void runner_apply_aliases(struct run *r, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < r->num_aliases; i++) {
        const struct seed_alias *a = &r->aliases[i];
        if (!a->is_answer_only) {
            replace_all(buf, len, a->literal, a->fresh, a->len, &r->has_aliased);
        }
    }
}

void runner_unalias_bytes(const struct run *r, uint8_t *buf, size_t len)
{
    bool changed = false;
    for (size_t i = 0; i < r->num_aliases; i++) {
        const struct seed_alias *a = &r->aliases[i];
        if (!a->is_answer_only) {
            replace_all(buf, len, a->fresh, a->literal, a->len, &changed);
        }
    }
}

bool runner_unalias_json(const struct run *r, json_t *v)
{
    bool changed = false;
    if (json_is_string(v)) {
        size_t len = json_string_length(v);
        char *text = runner_dup_n(json_string_value(v), len);
        if (text == NULL) {
            return false;
        }
        for (size_t i = 0; i < r->num_aliases; i++) {
            const struct seed_alias *a = &r->aliases[i];
            replace_all((uint8_t *)text, len, a->fresh, a->literal, a->len, &changed);
        }
        if (changed) {
            changed = json_string_setn_nocheck(v, text, len) == 0;
        }
        free(text);
    } else if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach (v, key, child) {
            changed = runner_unalias_json(r, child) || changed;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach (v, i, child) {
            changed = runner_unalias_json(r, child) || changed;
        }
    }
    return changed;
}

/* --- Shared targets without test control: seeds a client can make ---------------- */

#define SEED_ROLE   "arn:aws:iam::111122223333:role/Elastic_Transcoder_Default_Role"
#define SEED_PRESET "1351620000001-000010"

/* Remembers literal -> made for the rest of the scenario. The made Id must have the
 * literal's length, since requests are rewritten in place. */
static enum ref_status
alias_made(struct run *r, const char *literal, json_t *made, char *why, size_t why_cap)
{
    if (!json_is_string(made) || json_string_length(made) != RUNNER_SEED_ID_LEN) {
        harness_textf(why, why_cap,
                      "the Id the target gave has not the Id shape of contract "
                      "section 2, so the scenario's Ids cannot stand for it");
        return REF_E_MALFORMED;
    }
    if (r->num_aliases == RUNNER_MAX_SEED_ALIASES) {
        return REF_E_TOO_LARGE;
    }
    struct seed_alias *a = &r->aliases[r->num_aliases++];
    memcpy(a->literal, literal, RUNNER_SEED_ID_LEN + 1);
    memcpy(a->fresh, json_string_value(made), RUNNER_SEED_ID_LEN + 1);
    a->len = RUNNER_SEED_ID_LEN;
    a->is_answer_only = false;
    return REF_OK;
}

/* One call of the emulation; *status gets the HTTP status, *made the member at `path` of
 * a 2xx answer (a new reference, or NULL). */
static enum ref_status emulate_call(struct run *r,
                                    enum ref_op op,
                                    json_t *params,
                                    const char *path,
                                    int *status,
                                    json_t **made,
                                    char *why,
                                    size_t why_cap)
{
    struct harness_exchange x;
    struct observation o;
    memset(&x, 0, sizeof(x));
    enum ref_status rc =
        params != NULL ? runner_side_call(r, op, params, NULL, &x, &o, why, why_cap) : REF_E_NOMEM;
    json_decref(params);
    *status = rc == REF_OK ? o.http.status : 0;
    *made = rc == REF_OK && path != NULL && o.http.status / 100 == 2
                ? json_incref(harness_json_path(o.body, path))
                : NULL;
    if (rc == REF_OK && o.http.status / 100 != 2) {
        harness_textf(why, why_cap, "%s answered %d %s", ref_op_name(op), o.http.status,
                      x.error_code);
    }
    runner_observation_cleanup(&o);
    runner_exchange_cleanup(&x);
    return rc;
}

enum ref_status runner_emulate_seed(struct run *r,
                                    const struct harness_step *step,
                                    const char *literal,
                                    const char *pipeline,
                                    const char *status,
                                    bool *is_done,
                                    char *why,
                                    size_t why_cap)
{
    *is_done = false;
    bool is_pipeline = step->kind == HARNESS_STEP_SEED_PIPELINE;
    bool can =
        literal != NULL && has_id_shape(literal) && status != NULL &&
        (is_pipeline ? (strcmp(status, "Active") == 0 || strcmp(status, "Paused") == 0)
                     : (strcmp(status, "Submitted") == 0 || strcmp(status, "Canceled") == 0));
    if (!can) {
        return REF_OK; /* another status needs time or a failure only control can bring */
    }
    int st = 0;
    json_t *made = NULL;
    enum ref_status rc;
    if (is_pipeline) {
        do {
            json_decref(made);
            rc = emulate_call(r, REF_OP_CREATE_PIPELINE,
                              json_pack("{s:s, s:s, s:s, s:s}", "Name",
                                        step->hook_name != NULL ? step->hook_name : "seeded",
                                        "InputBucket", "etch-input", "OutputBucket", "etch-output",
                                        "Role", SEED_ROLE),
                              "Pipeline.Id", &st, &made, why, why_cap);
            /* 429 while others of the run hold pipelines: wait for their cleanup. */
        } while (rc == REF_OK && st == 429 && runner_pipeline_refused(r));
    } else {
        rc = emulate_call(r, REF_OP_CREATE_JOB,
                          json_pack("{s:s, s:{s:s}, s:[{s:s, s:s}]}", "PipelineId", pipeline,
                                    "Input", "Key", "etch-input.mp4", "Outputs", "Key",
                                    "etch-output.mp4", "PresetId", SEED_PRESET),
                          "Job.Id", &st, &made, why, why_cap);
    }
    if (rc == REF_OK && made != NULL) {
        rc = alias_made(r, literal, made, why, why_cap);
    }
    const char *made_id = rc == REF_OK && made != NULL ? json_string_value(made) : NULL;
    json_t *ignored = NULL;
    if (made_id != NULL && is_pipeline && strcmp(status, "Paused") == 0) {
        rc = emulate_call(r, REF_OP_UPDATE_PIPELINE_STATUS,
                          json_pack("{s:s, s:s}", "Id", made_id, "Status", "Paused"), NULL, &st,
                          &ignored, why, why_cap);
    } else if (made_id != NULL && !is_pipeline && strcmp(status, "Canceled") == 0) {
        rc = emulate_call(r, REF_OP_CANCEL_JOB, json_pack("{s:s}", "Id", made_id), NULL, &st,
                          &ignored, why, why_cap);
    }
    *is_done = rc == REF_OK && made_id != NULL && st / 100 == 2;
    json_decref(made);
    return rc == REF_E_NOMEM ? rc : REF_OK;
}
