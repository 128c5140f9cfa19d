/* SPDX-License-Identifier: Apache-2.0
 *
 * scenario_steps.c - the steps of a scenario: requests (call, raw), waits, concurrent
 * steps and the in-process hooks (seed_pipeline, seed_job, clock, fail_job).
 *
 * A step has exactly one kind key; the keys it may carry besides depend on the kind and
 * on whether it stands at the top or inside a concurrent step.
 */
#include "scenario_internal.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>

static bool is_step_name(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 48) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static const char *const s_kind_keys[] = {
    "call", "raw", "wait", "concurrent", "seed_pipeline", "seed_job", "clock", "fail_job", NULL};

static enum ref_status
parse_clock(struct loader *ld, json_t *v, const char *path, struct harness_step *step)
{
    if (!json_is_object(v)) {
        return fail(ld, path, "expected an object, got %s", type_name(v));
    }
    static const char *const keys[] = {"set", "advance_ms", "advance_s", "to_next_event", NULL};
    REF_TRY(check_keys(ld, v, path, keys, "a clock step"));
    if (json_object_size(v) != 1) {
        return fail(ld, path, "give exactly one of set, advance_ms, advance_s, to_next_event");
    }
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    const char *set = NULL;
    REF_TRY(get_string(ld, v, "set", path, false, &set));
    if (set != NULL) {
        int64_t ms = 0;
        path_key(p, sizeof(p), path, "set");
        /* Either YYYYMMDDTHHMMSSZ or YYYY-MM-DDTHH:MM:SSZ, converted by days-from-civil. */
        int f[6] = {0};
        static const int basic_pos[6][2] = {{0, 4}, {4, 2}, {6, 2}, {9, 2}, {11, 2}, {13, 2}};
        static const int ext_pos[6][2] = {{0, 4}, {5, 2}, {8, 2}, {11, 2}, {14, 2}, {17, 2}};
        size_t len = strlen(set);
        const int(*pos)[2] = NULL;
        if (len == 16 && set[8] == 'T' && set[15] == 'Z') {
            pos = basic_pos;
        } else if (len == 20 && set[4] == '-' && set[7] == '-' && set[10] == 'T' &&
                   set[13] == ':' && set[16] == ':' && set[19] == 'Z') {
            pos = ext_pos;
        }
        bool ok = pos != NULL;
        for (int i = 0; ok && i < 6; i++) {
            for (int k = 0; k < pos[i][1]; k++) {
                char c = set[pos[i][0] + k];
                if (c < '0' || c > '9') {
                    ok = false;
                    break;
                }
                f[i] = f[i] * 10 + (c - '0');
            }
        }
        ok = ok && f[1] >= 1 && f[1] <= 12 && f[2] >= 1 && f[2] <= 31 && f[3] < 24 && f[4] < 60 &&
             f[5] < 61;
        if (!ok) {
            return fail(ld, p, "'%s' is not YYYYMMDDTHHMMSSZ or YYYY-MM-DDTHH:MM:SSZ", set);
        }
        int64_t y = f[0] - (f[1] <= 2 ? 1 : 0);
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t mp = (f[1] + 9) % 12;
        int64_t doy = (153 * mp + 2) / 5 + f[2] - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        int64_t days = era * 146097 + doe - 719468;
        ms = ((days * 86400) + f[3] * 3600 + f[4] * 60 + f[5]) * 1000;
        step->clock = HARNESS_CLOCK_SET;
        step->clock_ms = ms;
        return REF_OK;
    }
    bool present = false;
    int64_t amount = 0;
    REF_TRY(get_int(ld, v, "advance_ms", path, 0, INT64_C(366) * 86400 * 1000, &present, &amount));
    if (present) {
        step->clock = HARNESS_CLOCK_ADVANCE;
        step->clock_ms = amount;
        return REF_OK;
    }
    REF_TRY(get_int(ld, v, "advance_s", path, 0, INT64_C(366) * 86400, &present, &amount));
    if (present) {
        step->clock = HARNESS_CLOCK_ADVANCE;
        step->clock_ms = amount * 1000;
        return REF_OK;
    }
    bool next = false;
    REF_TRY(get_bool(ld, v, "to_next_event", path, &next));
    if (!next) {
        path_key(p, sizeof(p), path, "to_next_event");
        return fail(ld, p, "expected true");
    }
    step->clock = HARNESS_CLOCK_TO_NEXT_EVENT;
    return REF_OK;
}

static bool has_var(const char *s)
{
    return strstr(s, "${") != NULL;
}

static enum ref_status parse_hook(
    struct loader *ld, json_t *obj, const char *kind, const char *path, struct harness_step *step)
{
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    path_key(p, sizeof(p), path, kind);
    json_t *v = json_object_get(obj, kind);
    ld->sc->uses_hooks = true;
    if (strcmp(kind, "fail_job") == 0) {
        step->kind = HARNESS_STEP_FAIL_JOB;
        if (!json_is_string(v) || json_string_length(v) == 0) {
            return fail(ld, p, "expected the job Id as a string");
        }
        step->hook_id = json_string_value(v);
        return REF_OK;
    }
    if (strcmp(kind, "clock") == 0) {
        step->kind = HARNESS_STEP_CLOCK;
        return parse_clock(ld, v, p, step);
    }
    if (!json_is_object(v)) {
        return fail(ld, p, "expected an object, got %s", type_name(v));
    }
    if (strcmp(kind, "seed_pipeline") == 0) {
        static const char *const keys[] = {"id", "name", "status", NULL};
        step->kind = HARNESS_STEP_SEED_PIPELINE;
        REF_TRY(check_keys(ld, v, p, keys, "seed_pipeline"));
        REF_TRY(get_string(ld, v, "id", p, true, &step->hook_id));
        step->hook_name = "seeded";
        REF_TRY(get_string(ld, v, "name", p, false, &step->hook_name));
        step->hook_status = "Active";
        REF_TRY(get_string(ld, v, "status", p, false, &step->hook_status));
        if (!has_var(step->hook_status) && strcmp(step->hook_status, "Active") != 0 &&
            strcmp(step->hook_status, "Paused") != 0) {
            char ps[HARNESS_MAX_JSON_PATH_BYTES * 2];
            path_key(ps, sizeof(ps), p, "status");
            return fail(ld, ps, "a pipeline is Active or Paused, not '%s'", step->hook_status);
        }
        return REF_OK;
    }
    static const char *const keys[] = {"id", "pipeline", "status", NULL};
    static const char *const statuses[] = {"Submitted", "Progressing", "Complete",
                                           "Canceled",  "Error",       NULL};
    step->kind = HARNESS_STEP_SEED_JOB;
    REF_TRY(check_keys(ld, v, p, keys, "seed_job"));
    REF_TRY(get_string(ld, v, "id", p, true, &step->hook_id));
    REF_TRY(get_string(ld, v, "pipeline", p, true, &step->hook_pipeline));
    step->hook_status = "Submitted";
    REF_TRY(get_string(ld, v, "status", p, false, &step->hook_status));
    if (!has_var(step->hook_status) && !in_list(step->hook_status, statuses)) {
        char ps[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_key(ps, sizeof(ps), p, "status");
        return fail(ld, ps,
                    "a job is Submitted, Progressing, Complete, Canceled or Error, not '%s'",
                    step->hook_status);
    }
    return REF_OK;
}

static enum ref_status parse_concurrent(struct loader *ld,
                                        json_t *obj,
                                        const char *path,
                                        const struct defaults *def,
                                        struct harness_step *step)
{
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    path_key(p, sizeof(p), path, "concurrent");
    json_t *subs = json_object_get(obj, "concurrent");
    if (!json_is_array(subs) || json_array_size(subs) < 2) {
        return fail(ld, p, "expected an array of 2 to %d sub-steps", HARNESS_MAX_CONCURRENT);
    }
    if (json_array_size(subs) > HARNESS_MAX_CONCURRENT) {
        return fail(ld, p, "more than %d sub-steps", HARNESS_MAX_CONCURRENT);
    }
    step->num_subs = json_array_size(subs);
    step->subs = calloc(step->num_subs, sizeof(*step->subs));
    if (step->subs == NULL) {
        return REF_E_NOMEM;
    }
    for (size_t i = 0; i < step->num_subs; i++) {
        char ps[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_index(ps, sizeof(ps), p, i);
        REF_TRY(
            parse_step(ld, json_array_get(subs, i), ps, i, CTX_CONCURRENT, def, &step->subs[i]));
        for (size_t k = 0; k < i; k++) {
            if (strcmp(step->subs[k].name, step->subs[i].name) == 0) {
                return fail(ld, ps, "sub-step name '%s' used twice", step->subs[i].name);
            }
        }
    }
    json_t *outcomes = json_object_get(obj, "outcomes");
    path_key(p, sizeof(p), path, "outcomes");
    if (!json_is_array(outcomes) || json_array_size(outcomes) == 0) {
        return fail(ld, outcomes != NULL ? p : path,
                    "a concurrent step needs \"outcomes\": a non-empty array of allowed "
                    "outcomes");
    }
    if (json_array_size(outcomes) > HARNESS_MAX_EXPECT_GROUPS) {
        return fail(ld, p, "more than %d outcomes", HARNESS_MAX_EXPECT_GROUPS);
    }
    step->num_outcomes = json_array_size(outcomes);
    step->outcomes = calloc(step->num_outcomes, sizeof(*step->outcomes));
    if (step->outcomes == NULL) {
        return REF_E_NOMEM;
    }
    for (size_t i = 0; i < step->num_outcomes; i++) {
        char po[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_index(po, sizeof(po), p, i);
        json_t *o = json_array_get(outcomes, i);
        if (!json_is_object(o) || json_object_size(o) == 0) {
            return fail(ld, po, "expected an object of sub-step name to expectation");
        }
        const char *key;
        json_t *e;
        json_object_foreach (o, key, e) {
            char pk[HARNESS_MAX_JSON_PATH_BYTES * 2];
            path_key(pk, sizeof(pk), po, key);
            if (strcmp(key, "set") == 0) {
                if (!json_is_object(e)) {
                    return fail(ld, pk, "expected an object of variable name to string");
                }
                const char *vn;
                json_t *vv;
                json_object_foreach (e, vn, vv) {
                    char pv[HARNESS_MAX_JSON_PATH_BYTES * 2];
                    path_key(pv, sizeof(pv), pk, vn);
                    if (!is_var_name(vn, strlen(vn)) || !json_is_string(vv)) {
                        return fail(ld, pv, "expected a variable name and a string value");
                    }
                }
                step->outcomes[i].set = e;
                continue;
            }
            size_t k = 0;
            while (k < step->num_subs && strcmp(step->subs[k].name, key) != 0) {
                k++;
            }
            if (k == step->num_subs) {
                return fail(ld, pk, "no sub-step is named '%s'", key);
            }
            REF_TRY(parse_expect(ld, e, pk, def, false, &step->outcomes[i].expect[k]));
            step->outcomes[i].has_expect[k] = true;
        }
    }
    return REF_OK;
}

static enum ref_status parse_wait(struct loader *ld,
                                  json_t *obj,
                                  const char *path,
                                  const struct defaults *def,
                                  struct harness_step *step)
{
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    path_key(p, sizeof(p), path, "wait");
    json_t *w = json_object_get(obj, "wait");
    if (!json_is_object(w)) {
        return fail(ld, p, "expected an object, got %s", type_name(w));
    }
    static const char *const keys[] = {"call",  "params",    "headers",     "raw",
                                       "until", "timeout_s", "interval_ms", NULL};
    REF_TRY(check_keys(ld, w, p, keys, "a wait"));
    const char *op = NULL;
    REF_TRY(get_string(ld, w, "call", p, false, &op));
    json_t *raw = json_object_get(w, "raw");
    if ((op == NULL) == (raw == NULL)) {
        return fail(ld, p, "a wait polls either a \"call\" or a \"raw\" request");
    }
    if (op != NULL) {
        REF_TRY(parse_call(ld, w, p, op, &step->request));
    } else {
        char pr[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_key(pr, sizeof(pr), p, "raw");
        if (json_object_get(w, "params") != NULL) {
            path_key(pr, sizeof(pr), p, "params");
            return fail(ld, pr, "'params' goes with \"call\", not \"raw\"");
        }
        REF_TRY(parse_raw(ld, raw, pr, &step->request));
        if (step->request.is_verbatim) {
            return fail(ld, pr, "a wait cannot poll a verbatim request");
        }
    }
    json_t *until = json_object_get(w, "until");
    char pu[HARNESS_MAX_JSON_PATH_BYTES * 2];
    path_key(pu, sizeof(pu), p, "until");
    if (until == NULL) {
        return fail(ld, p, "a wait needs \"until\"");
    }
    REF_TRY(parse_expect(ld, until, pu, def, true, &step->until));
    int64_t timeout_s = 60;
    REF_TRY(get_int(ld, w, "timeout_s", p, 1, 86400, NULL, &timeout_s));
    step->timeout_ms = timeout_s * 1000;
    step->interval_ms = 1000;
    REF_TRY(get_int(ld, w, "interval_ms", p, 1, 600000, NULL, &step->interval_ms));
    return REF_OK;
}

enum ref_status parse_step(struct loader *ld,
                           json_t *v,
                           const char *path,
                           size_t index,
                           enum step_context ctx,
                           const struct defaults *parent,
                           struct harness_step *step)
{
    memset(step, 0, sizeof(*step));
    step->index = index;
    harness_textf(step->json_path, sizeof(step->json_path), "%s", path);
    if (!json_is_object(v)) {
        return fail(ld, path, "expected a step object, got %s", type_name(v));
    }
    const char *kind = NULL;
    size_t kinds = 0;
    for (size_t i = 0; s_kind_keys[i] != NULL; i++) {
        if (json_object_get(v, s_kind_keys[i]) != NULL) {
            kind = s_kind_keys[i];
            kinds++;
        }
    }
    if (kinds != 1) {
        /* A typo in the kind key is the likeliest cause: report unknown keys first. */
        static const char *const all[] = {
            "name",        "note",      "sign",          "expect",   "capture", "source",
            "level",       "call",      "params",        "headers",  "raw",     "wait",
            "concurrent",  "outcomes",  "seed_pipeline", "seed_job", "clock",   "fail_job",
            "inproc_only", "all_pages", "contract",      NULL};
        REF_TRY(check_keys(ld, v, path, all, "a step"));
        return fail(ld, path,
                    kinds == 0 ? "a step needs one of call, raw, wait, concurrent, "
                                 "seed_pipeline, seed_job, clock, fail_job"
                               : "a step has exactly one of call, raw, wait, concurrent, "
                                 "seed_pipeline, seed_job, clock, fail_job");
    }
    bool is_request = strcmp(kind, "call") == 0 || strcmp(kind, "raw") == 0;
    bool is_wait = strcmp(kind, "wait") == 0;
    bool is_conc = strcmp(kind, "concurrent") == 0;
    bool is_clock = strcmp(kind, "clock") == 0;
    if (ctx == CTX_CONCURRENT && !is_request && !is_clock) {
        char pk[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_key(pk, sizeof(pk), path, kind);
        return fail(ld, pk, "a concurrent sub-step is a call, a raw request or a clock step");
    }
    /* Keys each kind allows. */
    const char *allowed[16];
    size_t na = 0;
    allowed[na++] = "name";
    allowed[na++] = "note";
    allowed[na++] = kind;
    if (is_request) {
        allowed[na++] = "sign";
        if (ctx == CTX_TOP) {
            allowed[na++] = "expect";
            allowed[na++] = "capture";
            allowed[na++] = "source";
            allowed[na++] = "contract";
            allowed[na++] = "level";
            allowed[na++] = "inproc_only";
        }
        if (strcmp(kind, "call") == 0) {
            allowed[na++] = "params";
            allowed[na++] = "headers";
            if (ctx == CTX_TOP) {
                allowed[na++] = "all_pages";
            }
        }
    } else if (is_wait) {
        allowed[na++] = "sign";
        allowed[na++] = "capture";
        allowed[na++] = "source";
        allowed[na++] = "contract";
        allowed[na++] = "level";
    } else if (is_conc) {
        allowed[na++] = "outcomes";
        allowed[na++] = "source";
        allowed[na++] = "contract";
        allowed[na++] = "level";
    }
    allowed[na] = NULL;
    char what[64];
    harness_textf(what, sizeof(what), "a %s step", kind);
    REF_TRY(check_keys(ld, v, path, allowed, what));

    const char *name = NULL;
    REF_TRY(get_string(ld, v, "name", path, false, &name));
    if (name != NULL) {
        if (!is_step_name(name)) {
            char pn[HARNESS_MAX_JSON_PATH_BYTES * 2];
            path_key(pn, sizeof(pn), path, "name");
            return fail(ld, pn, "'%s' is not a step name (1 to 48 of A-Z a-z 0-9 - _ .)", name);
        }
        step->name = name;
    } else {
        harness_textf(step->name_buf, sizeof(step->name_buf), "%s-%zu",
                      ctx == CTX_TOP ? "step" : "sub", index + 1);
        step->name = step->name_buf;
    }
    REF_TRY(get_string(ld, v, "note", path, false, &step->note));
    REF_TRY(get_bool(ld, v, "inproc_only", path, &step->inproc_only));
    REF_TRY(get_bool(ld, v, "all_pages", path, &step->all_pages));

    struct defaults def = *parent;
    REF_TRY(parse_level(ld, v, path, &def.level));
    REF_TRY(parse_source(ld, v, path, &def.source));
    REF_TRY(parse_contract(ld, v, path));
    step->level = def.level != HARNESS_LEVEL_NONE ? def.level : HARNESS_LEVEL_MUST;
    step->source = def.source;

    /* Variables used here must be defined before this step. */
    REF_TRY(check_refs(ld, v, path));

    char pk[HARNESS_MAX_JSON_PATH_BYTES * 2];
    path_key(pk, sizeof(pk), path, kind);
    step->sign.principal = HARNESS_PRINCIPAL_MAIN;
    if (strcmp(kind, "call") == 0) {
        step->kind = HARNESS_STEP_CALL;
        json_t *c = json_object_get(v, "call");
        if (!json_is_string(c)) {
            return fail(ld, pk, "expected an operation name, got %s", type_name(c));
        }
        REF_TRY(parse_call(ld, v, path, json_string_value(c), &step->request));
    } else if (strcmp(kind, "raw") == 0) {
        step->kind = HARNESS_STEP_RAW;
        REF_TRY(parse_raw(ld, json_object_get(v, "raw"), pk, &step->request));
    } else if (is_wait) {
        step->kind = HARNESS_STEP_WAIT;
        REF_TRY(parse_wait(ld, v, path, &def, step));
        if (step->source == HARNESS_SOURCE_NONE) {
            return fail(ld, path,
                        "no provenance for the wait: give \"source\" on the step or the "
                        "scenario");
        }
    } else if (is_conc) {
        step->kind = HARNESS_STEP_CONCURRENT;
        REF_TRY(parse_concurrent(ld, v, path, &def, step));
    } else {
        REF_TRY(parse_hook(ld, v, kind, path, step));
    }

    json_t *sign = json_object_get(v, "sign");
    if (step->request.is_verbatim) {
        step->sign.principal = HARNESS_PRINCIPAL_NONE;
    }
    if (sign != NULL) {
        char ps[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_key(ps, sizeof(ps), path, "sign");
        REF_TRY(parse_sign(ld, sign, ps, &step->sign));
        if (step->request.is_verbatim && step->sign.principal != HARNESS_PRINCIPAL_NONE) {
            return fail(ld, ps,
                        "a verbatim request (raw file or bytes) is sent as it is: "
                        "sign must be \"none\"");
        }
    }
    json_t *expect = json_object_get(v, "expect");
    if (expect != NULL) {
        char pe[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_key(pe, sizeof(pe), path, "expect");
        REF_TRY(parse_expects(ld, expect, pe, &def, step));
    }
    json_t *capture = json_object_get(v, "capture");
    if (capture != NULL) {
        char pc[HARNESS_MAX_JSON_PATH_BYTES * 2];
        path_key(pc, sizeof(pc), path, "capture");
        REF_TRY(parse_capture(ld, capture, pc));
        if (step->inproc_only) {
            return fail(ld, pc,
                        "an inproc_only step captures nothing: elsewhere it is skipped and later "
                        "steps would miss the value");
        }
        step->capture = capture;
        if (ctx == CTX_TOP) {
            const char *vn;
            json_t *unused;
            json_object_foreach (capture, vn, unused) {
                REF_TRY(define_var(ld, vn, pc));
            }
        }
    }
    if (is_conc) {
        for (size_t i = 0; i < step->num_outcomes; i++) {
            if (step->outcomes[i].set != NULL) {
                const char *vn;
                json_t *unused;
                json_object_foreach (step->outcomes[i].set, vn, unused) {
                    REF_TRY(define_var(ld, vn, path));
                }
            }
        }
    }
    return REF_OK;
}

void free_step(struct harness_step *step)
{
    for (size_t i = 0; i < step->num_subs; i++) {
        free_step(&step->subs[i]);
    }
    free(step->subs);
    free(step->outcomes);
    free(step->expects);
}
