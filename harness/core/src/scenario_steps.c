/* SPDX-License-Identifier: Apache-2.0
 *
 * scenario_steps.c - the steps of a scenario: requests (call, raw), waits, concurrent
 * steps and the in-process hooks (seed_pipeline, seed_job, clock, fail_job).
 *
 * A step has exactly one kind key; the keys it may carry besides depend on the kind and
 * on whether it stands at the top or inside a concurrent step.
 */
#include "scenario_internal.h"
#include "step_kinds.h"

#include <jansson.h>

#include <stdio.h>
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

/* What a kind's parser gets: the step object and the value of its kind member. */
struct step_input {
    json_t *obj;                /* the step object */
    const char *path;           /* its JSON path: "steps[2]" */
    json_t *value;              /* the kind member's value */
    const char *value_path;     /* "steps[2].call" */
    const struct defaults *def; /* what the step's expectations inherit */
};

/* Parses the kind member of a step into step (kind, name, level and source are set). */
typedef enum ref_status
step_parse_fn(struct loader *ld, const struct step_input *in, struct harness_step *step);

static enum ref_status
parse_clock(struct loader *ld, json_t *v, const char *path, struct harness_step *step)
{
    if (!json_is_object(v)) {
        return loader_fail(ld, path, "expected an object, got %s", type_name(v));
    }
    static const char *const keys[] = {"set", "advance_ms", "advance_s", "to_next_event", NULL};
    REF_TRY(loader_check_keys(ld, v, path, keys, "a clock step"));
    if (json_object_size(v) != 1) {
        return loader_fail(ld, path,
                           "give exactly one of set, advance_ms, advance_s, to_next_event");
    }
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    const char *set = NULL;
    REF_TRY(loader_get_string(ld, v, "set", path, false, &set));
    if (set != NULL) {
        int64_t ms = 0;
        loader_path_key(p, sizeof(p), path, "set");
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
            return loader_fail(ld, p, "'%s' is not YYYYMMDDTHHMMSSZ or YYYY-MM-DDTHH:MM:SSZ", set);
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
    REF_TRY(loader_get_int(ld, v, "advance_ms", path, 0, INT64_C(366) * 86400 * 1000, &present,
                           &amount));
    if (present) {
        step->clock = HARNESS_CLOCK_ADVANCE;
        step->clock_ms = amount;
        return REF_OK;
    }
    REF_TRY(loader_get_int(ld, v, "advance_s", path, 0, INT64_C(366) * 86400, &present, &amount));
    if (present) {
        step->clock = HARNESS_CLOCK_ADVANCE;
        step->clock_ms = amount * 1000;
        return REF_OK;
    }
    bool next = false;
    REF_TRY(loader_get_bool(ld, v, "to_next_event", path, &next));
    if (!next) {
        loader_path_key(p, sizeof(p), path, "to_next_event");
        return loader_fail(ld, p, "expected true");
    }
    step->clock = HARNESS_CLOCK_TO_NEXT_EVENT;
    return REF_OK;
}

static bool has_var(const char *s)
{
    return strstr(s, "${") != NULL;
}

static enum ref_status
parse_fail_job(struct loader *ld, const struct step_input *in, struct harness_step *step)
{
    json_t *v = in->value;
    if (!json_is_string(v) || json_string_length(v) == 0) {
        return loader_fail(ld, in->value_path, "expected the job Id as a string");
    }
    step->hook_id = json_string_value(v);
    return REF_OK;
}

static enum ref_status
parse_clock_step(struct loader *ld, const struct step_input *in, struct harness_step *step)
{
    return parse_clock(ld, in->value, in->value_path, step);
}

static enum ref_status
parse_seed_pipeline(struct loader *ld, const struct step_input *in, struct harness_step *step)
{
    json_t *v = in->value;
    const char *p = in->value_path;
    if (!json_is_object(v)) {
        return loader_fail(ld, p, "expected an object, got %s", type_name(v));
    }
    static const char *const keys[] = {"id", "name", "status", NULL};
    REF_TRY(loader_check_keys(ld, v, p, keys, "seed_pipeline"));
    REF_TRY(loader_get_string(ld, v, "id", p, true, &step->hook_id));
    step->hook_name = "seeded";
    REF_TRY(loader_get_string(ld, v, "name", p, false, &step->hook_name));
    step->hook_status = "Active";
    REF_TRY(loader_get_string(ld, v, "status", p, false, &step->hook_status));
    if (!has_var(step->hook_status) && strcmp(step->hook_status, "Active") != 0 &&
        strcmp(step->hook_status, "Paused") != 0) {
        char ps[HARNESS_MAX_JSON_PATH_BYTES * 2];
        loader_path_key(ps, sizeof(ps), p, "status");
        return loader_fail(ld, ps, "a pipeline is Active or Paused, not '%s'", step->hook_status);
    }
    return REF_OK;
}

static enum ref_status
parse_seed_job(struct loader *ld, const struct step_input *in, struct harness_step *step)
{
    json_t *v = in->value;
    const char *p = in->value_path;
    if (!json_is_object(v)) {
        return loader_fail(ld, p, "expected an object, got %s", type_name(v));
    }
    static const char *const keys[] = {"id", "pipeline", "status", NULL};
    static const char *const statuses[] = {"Submitted", "Progressing", "Complete",
                                           "Canceled",  "Error",       NULL};
    REF_TRY(loader_check_keys(ld, v, p, keys, "seed_job"));
    REF_TRY(loader_get_string(ld, v, "id", p, true, &step->hook_id));
    REF_TRY(loader_get_string(ld, v, "pipeline", p, true, &step->hook_pipeline));
    step->hook_status = "Submitted";
    REF_TRY(loader_get_string(ld, v, "status", p, false, &step->hook_status));
    if (!has_var(step->hook_status) && !loader_in_list(step->hook_status, statuses)) {
        char ps[HARNESS_MAX_JSON_PATH_BYTES * 2];
        loader_path_key(ps, sizeof(ps), p, "status");
        return loader_fail(ld, ps,
                           "a job is Submitted, Progressing, Complete, Canceled or Error, not '%s'",
                           step->hook_status);
    }
    return REF_OK;
}

static enum ref_status
parse_concurrent(struct loader *ld, const struct step_input *in, struct harness_step *step)
{
    json_t *obj = in->obj;
    const char *path = in->path;
    const struct defaults *def = in->def;
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    loader_path_key(p, sizeof(p), path, "concurrent");
    json_t *subs = json_object_get(obj, "concurrent");
    if (!json_is_array(subs) || json_array_size(subs) < 2) {
        return loader_fail(ld, p, "expected an array of 2 to %d sub-steps", HARNESS_MAX_CONCURRENT);
    }
    if (json_array_size(subs) > HARNESS_MAX_CONCURRENT) {
        return loader_fail(ld, p, "more than %d sub-steps", HARNESS_MAX_CONCURRENT);
    }
    /* The count only once the array exists: loader_free_step walks num_subs entries. */
    step->subs = calloc(json_array_size(subs), sizeof(*step->subs));
    if (step->subs == NULL) {
        return REF_E_NOMEM;
    }
    step->num_subs = json_array_size(subs);
    for (size_t i = 0; i < step->num_subs; i++) {
        char ps[HARNESS_MAX_JSON_PATH_BYTES * 2];
        loader_path_index(ps, sizeof(ps), p, i);
        REF_TRY(loader_parse_step(ld, json_array_get(subs, i), ps, i, CTX_CONCURRENT, def,
                                  &step->subs[i]));
        for (size_t k = 0; k < i; k++) {
            if (strcmp(step->subs[k].name, step->subs[i].name) == 0) {
                return loader_fail(ld, ps, "sub-step name '%s' used twice", step->subs[i].name);
            }
        }
    }
    json_t *outcomes = json_object_get(obj, "outcomes");
    loader_path_key(p, sizeof(p), path, "outcomes");
    if (!json_is_array(outcomes) || json_array_size(outcomes) == 0) {
        return loader_fail(ld, outcomes != NULL ? p : path,
                           "a concurrent step needs \"outcomes\": a non-empty array of allowed "
                           "outcomes");
    }
    if (json_array_size(outcomes) > HARNESS_MAX_EXPECT_GROUPS) {
        return loader_fail(ld, p, "more than %d outcomes", HARNESS_MAX_EXPECT_GROUPS);
    }
    step->num_outcomes = json_array_size(outcomes);
    step->outcomes = calloc(step->num_outcomes, sizeof(*step->outcomes));
    if (step->outcomes == NULL) {
        return REF_E_NOMEM;
    }
    for (size_t i = 0; i < step->num_outcomes; i++) {
        char po[HARNESS_MAX_JSON_PATH_BYTES * 2];
        loader_path_index(po, sizeof(po), p, i);
        json_t *o = json_array_get(outcomes, i);
        if (!json_is_object(o) || json_object_size(o) == 0) {
            return loader_fail(ld, po, "expected an object of sub-step name to expectation");
        }
        const char *key;
        json_t *e;
        json_object_foreach (o, key, e) {
            char pk[HARNESS_MAX_JSON_PATH_BYTES * 2];
            loader_path_key(pk, sizeof(pk), po, key);
            if (strcmp(key, "set") == 0) {
                if (!json_is_object(e)) {
                    return loader_fail(ld, pk, "expected an object of variable name to string");
                }
                const char *vn;
                json_t *vv;
                json_object_foreach (e, vn, vv) {
                    char pv[HARNESS_MAX_JSON_PATH_BYTES * 2];
                    loader_path_key(pv, sizeof(pv), pk, vn);
                    if (!loader_is_var_name(vn, strlen(vn)) || !json_is_string(vv)) {
                        return loader_fail(ld, pv, "expected a variable name and a string value");
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
                return loader_fail(ld, pk, "no sub-step is named '%s'", key);
            }
            REF_TRY(loader_parse_expect(ld, e, pk, def, false, &step->outcomes[i].expect[k]));
            step->outcomes[i].has_expect[k] = true;
        }
    }
    /* An outcome's "set" defines its variables for the steps after this one. */
    for (size_t i = 0; i < step->num_outcomes; i++) {
        if (step->outcomes[i].set != NULL) {
            const char *vn;
            json_t *unused;
            json_object_foreach (step->outcomes[i].set, vn, unused) {
                REF_TRY(loader_define_var(ld, vn, path));
            }
        }
    }
    return REF_OK;
}

static enum ref_status
parse_wait(struct loader *ld, const struct step_input *in, struct harness_step *step)
{
    json_t *obj = in->obj;
    const char *path = in->path;
    const struct defaults *def = in->def;
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    loader_path_key(p, sizeof(p), path, "wait");
    json_t *w = json_object_get(obj, "wait");
    if (!json_is_object(w)) {
        return loader_fail(ld, p, "expected an object, got %s", type_name(w));
    }
    static const char *const keys[] = {"call",  "params",    "headers",     "raw",
                                       "until", "timeout_s", "interval_ms", NULL};
    REF_TRY(loader_check_keys(ld, w, p, keys, "a wait"));
    const char *op = NULL;
    REF_TRY(loader_get_string(ld, w, "call", p, false, &op));
    json_t *raw = json_object_get(w, "raw");
    if ((op == NULL) == (raw == NULL)) {
        return loader_fail(ld, p, "a wait polls either a \"call\" or a \"raw\" request");
    }
    if (op != NULL) {
        REF_TRY(loader_parse_call(ld, w, p, op, &step->request));
    } else {
        char pr[HARNESS_MAX_JSON_PATH_BYTES * 2];
        loader_path_key(pr, sizeof(pr), p, "raw");
        if (json_object_get(w, "params") != NULL) {
            loader_path_key(pr, sizeof(pr), p, "params");
            return loader_fail(ld, pr, "'params' goes with \"call\", not \"raw\"");
        }
        REF_TRY(loader_parse_raw(ld, raw, pr, &step->request));
        if (step->request.is_verbatim) {
            return loader_fail(ld, pr, "a wait cannot poll a verbatim request");
        }
    }
    json_t *until = json_object_get(w, "until");
    char pu[HARNESS_MAX_JSON_PATH_BYTES * 2];
    loader_path_key(pu, sizeof(pu), p, "until");
    if (until == NULL) {
        return loader_fail(ld, p, "a wait needs \"until\"");
    }
    REF_TRY(loader_parse_expect(ld, until, pu, def, true, &step->until));
    int64_t timeout_s = 60;
    REF_TRY(loader_get_int(ld, w, "timeout_s", p, 1, 86400, NULL, &timeout_s));
    step->timeout_ms = timeout_s * 1000;
    step->interval_ms = 1000;
    REF_TRY(loader_get_int(ld, w, "interval_ms", p, 1, 600000, NULL, &step->interval_ms));
    if (step->source == HARNESS_SOURCE_NONE) {
        return loader_fail(ld, path,
                           "no provenance for the wait: give \"source\" on the step or the "
                           "scenario");
    }
    return REF_OK;
}

static const char *const s_retrying_sdk_names[HARNESS_RETRYING_SDK_COUNT] = {
    [HARNESS_RETRYING_SDK_NONE] = "none",
    [HARNESS_RETRYING_SDK_BOTOCORE] = "botocore",
    [HARNESS_RETRYING_SDK_JS_V3] = "js-sdk-v3",
};

const char *harness_retrying_sdk_name(enum harness_retrying_sdk sdk)
{
    return (unsigned)sdk < HARNESS_RETRYING_SDK_COUNT ? s_retrying_sdk_names[sdk] : "none";
}

/* "lost_answer": the SDK whose retry follows the lost first attempt. A call step only: a
 * request written out has no SDK to retry it, and a wait polls anyway. */
static enum ref_status
parse_lost_answer(struct loader *ld, const struct step_input *in, struct harness_step *step)
{
    json_t *v = json_object_get(in->obj, "lost_answer");
    if (v == NULL) {
        return REF_OK;
    }
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    loader_path_key(p, sizeof(p), in->path, "lost_answer");
    const char *name = json_string_value(v);
    for (int k = HARNESS_RETRYING_SDK_NONE + 1; name != NULL && k < HARNESS_RETRYING_SDK_COUNT;
         k++) {
        if (strcmp(name, s_retrying_sdk_names[k]) == 0) {
            step->lost_answer = (enum harness_retrying_sdk)k;
        }
    }
    if (step->lost_answer == HARNESS_RETRYING_SDK_NONE) {
        return loader_fail(ld, p,
                           "expected the SDK whose retry to imitate, \"botocore\" or "
                           "\"js-sdk-v3\", got %s",
                           name != NULL ? name : type_name(v));
    }
    if (step->request.op == REF_OP_CREATE_PIPELINE) {
        /* The lost attempt's pipeline would be one the run cannot name: on a shared
         * endpoint nothing would delete it, and it would hold one of the account's few. */
        return loader_fail(ld, p,
                           "CreatePipeline cannot lose its answer: the pipeline the lost "
                           "attempt created could not be found again and deleted");
    }
    if (step->all_pages) {
        return loader_fail(ld, p,
                           "all_pages and lost_answer do not go together: the pages "
                           "followed would be the retry's");
    }
    return REF_OK;
}

static enum ref_status
parse_call_step(struct loader *ld, const struct step_input *in, struct harness_step *step)
{
    if (!json_is_string(in->value)) {
        return loader_fail(ld, in->value_path, "expected an operation name, got %s",
                           type_name(in->value));
    }
    REF_TRY(loader_parse_call(ld, in->obj, in->path, json_string_value(in->value), &step->request));
    return parse_lost_answer(ld, in, step);
}

static enum ref_status
parse_raw_step(struct loader *ld, const struct step_input *in, struct harness_step *step)
{
    return loader_parse_raw(ld, in->value, in->value_path, &step->request);
}

/* --- The step kinds ---------------------------------------------------------------- */

/* One kind of step. Everything the loader knows about a kind is in its row: the member
 * that names it, the keys a step of that kind may carry (listed in this order in
 * messages), whether it may stand inside a concurrent step, how its member is parsed, and
 * whether only the in-process reference can run it. */
struct step_kind_info {
    enum harness_step_kind kind;
    const char *key;             /* the member naming the kind: "call" */
    const char *noun;            /* the kind in messages: "a call" */
    const char *const *top_keys; /* allowed at the top of a scenario, NULL-terminated */
    const char *const *sub_keys; /* allowed inside a concurrent step; NULL: not there */
    step_parse_fn *parse;
    bool needs_hooks; /* seeds the store or moves the clock: in-process only */
};

static const char *const s_call_top_keys[] = {
    "name",  "note",        "call",   "sign",    "expect",    "capture",     "source", "contract",
    "level", "inproc_only", "params", "headers", "all_pages", "lost_answer", NULL};
static const char *const s_call_sub_keys[] = {"name",   "note",    "call", "sign",
                                              "params", "headers", NULL};
static const char *const s_raw_top_keys[] = {"name",   "note",        "raw",    "sign",
                                             "expect", "capture",     "source", "contract",
                                             "level",  "inproc_only", NULL};
static const char *const s_raw_sub_keys[] = {"name", "note", "raw", "sign", NULL};
static const char *const s_wait_keys[] = {"name",   "note",     "wait",  "sign", "capture",
                                          "source", "contract", "level", NULL};
static const char *const s_concurrent_keys[] = {"name",   "note",     "concurrent", "outcomes",
                                                "source", "contract", "level",      NULL};
static const char *const s_seed_pipeline_keys[] = {"name", "note", "seed_pipeline", NULL};
static const char *const s_seed_job_keys[] = {"name", "note", "seed_job", NULL};
static const char *const s_clock_keys[] = {"name", "note", "clock", NULL};
static const char *const s_fail_job_keys[] = {"name", "note", "fail_job", NULL};

/* Indexed by kind, from STEP_KIND_LIST (step_kinds.h): the loader's columns. */
static const struct step_kind_info s_step_kinds[HARNESS_STEP_KIND_COUNT] = {
#define STEP_KIND_ROW(kind_, key_, noun_, top_, sub_, parse_, run_, hooks_)                        \
    [kind_] = {.kind = kind_,                                                                      \
               .key = key_,                                                                        \
               .noun = noun_,                                                                      \
               .top_keys = top_,                                                                   \
               .sub_keys = sub_,                                                                   \
               .parse = parse_,                                                                    \
               .needs_hooks = hooks_},
    STEP_KIND_LIST(STEP_KIND_ROW)
#undef STEP_KIND_ROW
};

/* Room for every key any kind allows, and the NULL. */
#define STEP_ALL_KEYS_CAP 32

const char *harness_step_kind_key(enum harness_step_kind kind)
{
    if (kind <= HARNESS_STEP_NONE || kind >= HARNESS_STEP_KIND_COUNT) {
        return NULL;
    }
    return s_step_kinds[kind].key;
}

/* The union of the keys of every kind, in table order, NULL-terminated. */
static void all_step_keys(const char **out, size_t cap)
{
    size_t n = 0;
    out[0] = NULL;
    for (int k = HARNESS_STEP_NONE + 1; k < HARNESS_STEP_KIND_COUNT; k++) {
        for (const char *const *key = s_step_kinds[k].top_keys; *key != NULL; key++) {
            if (n + 1 < cap && !loader_in_list(*key, out)) {
                out[n++] = *key;
                out[n] = NULL;
            }
        }
    }
}

/* "call, raw, wait, ..." (by key) or "a call, a raw request or a clock step" (by noun, the
 * kinds a concurrent step may hold). */
static void kind_list(char *out, size_t cap, bool nouns_in_concurrent)
{
    const char *items[HARNESS_STEP_KIND_COUNT];
    size_t n = 0;
    for (int k = HARNESS_STEP_NONE + 1; k < HARNESS_STEP_KIND_COUNT; k++) {
        if (!nouns_in_concurrent) {
            items[n++] = s_step_kinds[k].key;
        } else if (s_step_kinds[k].sub_keys != NULL) {
            items[n++] = s_step_kinds[k].noun;
        }
    }
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used + 1 < cap; i++) {
        const char *sep = i == 0 ? "" : (nouns_in_concurrent && i + 1 == n ? " or " : ", ");
        int w = snprintf(out + used, cap - used, "%s%s", sep, items[i]);
        if (w < 0) {
            break;
        }
        used += (size_t)w;
    }
}

/* The one kind member of step object v, or a message saying why there is none. */
static enum ref_status
find_kind(struct loader *ld, json_t *v, const char *path, const struct step_kind_info **out)
{
    const struct step_kind_info *found = NULL;
    size_t kinds = 0;
    for (int k = HARNESS_STEP_NONE + 1; k < HARNESS_STEP_KIND_COUNT; k++) {
        if (json_object_get(v, s_step_kinds[k].key) != NULL) {
            found = &s_step_kinds[k];
            kinds++;
        }
    }
    if (kinds == 1) {
        *out = found;
        return REF_OK;
    }
    /* A typo in the kind key is the likeliest cause: report unknown keys first. */
    const char *all[STEP_ALL_KEYS_CAP];
    all_step_keys(all, STEP_ALL_KEYS_CAP);
    REF_TRY(loader_check_keys(ld, v, path, all, "a step"));
    char list[256];
    kind_list(list, sizeof(list), false);
    return loader_fail(
        ld, path, kinds == 0 ? "a step needs one of %s" : "a step has exactly one of %s", list);
}

/* name, note, level, source and contract: what every kind shares. */
static enum ref_status parse_common(struct loader *ld,
                                    json_t *v,
                                    const char *path,
                                    size_t index,
                                    enum step_context ctx,
                                    struct defaults *def,
                                    struct harness_step *step)
{
    const char *name = NULL;
    REF_TRY(loader_get_string(ld, v, "name", path, false, &name));
    if (name != NULL) {
        if (!is_step_name(name)) {
            char pn[HARNESS_MAX_JSON_PATH_BYTES * 2];
            loader_path_key(pn, sizeof(pn), path, "name");
            return loader_fail(ld, pn, "'%s' is not a step name (1 to 48 of A-Z a-z 0-9 - _ .)",
                               name);
        }
        step->name = name;
    } else {
        harness_textf(step->name_buf, sizeof(step->name_buf), "%s-%zu",
                      ctx == CTX_TOP ? "step" : "sub", index + 1);
        step->name = step->name_buf;
    }
    REF_TRY(loader_get_string(ld, v, "note", path, false, &step->note));
    REF_TRY(loader_get_bool(ld, v, "inproc_only", path, &step->inproc_only));
    REF_TRY(loader_get_bool(ld, v, "all_pages", path, &step->all_pages));

    REF_TRY(loader_parse_level(ld, v, path, &def->level));
    REF_TRY(loader_parse_source(ld, v, path, &def->source));
    REF_TRY(loader_parse_contract(ld, v, path, &def->contract));
    step->level = def->level != HARNESS_LEVEL_NONE ? def->level : HARNESS_LEVEL_MUST;
    step->source = def->source;
    step->contract = def->contract;
    return REF_OK;
}

/* sign, expect and capture, which follow the kind's own member. */
static enum ref_status parse_after_kind(struct loader *ld,
                                        json_t *v,
                                        const char *path,
                                        enum step_context ctx,
                                        const struct defaults *def,
                                        struct harness_step *step)
{
    json_t *sign = json_object_get(v, "sign");
    if (step->request.is_verbatim) {
        step->sign.principal = HARNESS_PRINCIPAL_NONE;
    }
    if (sign != NULL) {
        char ps[HARNESS_MAX_JSON_PATH_BYTES * 2];
        loader_path_key(ps, sizeof(ps), path, "sign");
        REF_TRY(loader_parse_sign(ld, sign, ps, &step->sign));
        if (step->request.is_verbatim && step->sign.principal != HARNESS_PRINCIPAL_NONE) {
            return loader_fail(ld, ps,
                               "a verbatim request (raw file or bytes) is sent as it is: "
                               "sign must be \"none\"");
        }
    }
    json_t *expect = json_object_get(v, "expect");
    if (expect != NULL) {
        char pe[HARNESS_MAX_JSON_PATH_BYTES * 2];
        loader_path_key(pe, sizeof(pe), path, "expect");
        REF_TRY(loader_parse_expects(ld, expect, pe, def, step));
    }
    json_t *capture = json_object_get(v, "capture");
    if (capture != NULL) {
        char pc[HARNESS_MAX_JSON_PATH_BYTES * 2];
        loader_path_key(pc, sizeof(pc), path, "capture");
        REF_TRY(loader_parse_capture(ld, capture, pc));
        if (step->inproc_only) {
            return loader_fail(
                ld, pc,
                "an inproc_only step captures nothing: elsewhere it is skipped and later "
                "steps would miss the value");
        }
        step->capture = capture;
        if (ctx == CTX_TOP) {
            const char *vn;
            json_t *unused;
            json_object_foreach (capture, vn, unused) {
                REF_TRY(loader_define_var(ld, vn, pc));
            }
        }
    }
    return REF_OK;
}

enum ref_status loader_parse_step(struct loader *ld,
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
        return loader_fail(ld, path, "expected a step object, got %s", type_name(v));
    }
    const struct step_kind_info *kind = NULL;
    REF_TRY(find_kind(ld, v, path, &kind));
    char pk[HARNESS_MAX_JSON_PATH_BYTES * 2];
    loader_path_key(pk, sizeof(pk), path, kind->key);
    const char *const *allowed = ctx == CTX_TOP ? kind->top_keys : kind->sub_keys;
    if (ctx == CTX_CONCURRENT && json_object_get(v, "lost_answer") != NULL) {
        char pl[HARNESS_MAX_JSON_PATH_BYTES * 2];
        loader_path_key(pl, sizeof(pl), path, "lost_answer");
        return loader_fail(ld, pl,
                           "a concurrent sub-step cannot lose its answer: the group's requests "
                           "are released together, and a retry would come after the race");
    }
    if (allowed == NULL) {
        char kinds[256];
        kind_list(kinds, sizeof(kinds), true);
        return loader_fail(ld, pk, "a concurrent sub-step is %s", kinds);
    }
    char what[64];
    harness_textf(what, sizeof(what), "a %s step", kind->key);
    REF_TRY(loader_check_keys(ld, v, path, allowed, what));

    struct defaults def = *parent;
    REF_TRY(parse_common(ld, v, path, index, ctx, &def, step));
    /* Variables used here must be defined before this step. */
    REF_TRY(loader_check_refs(ld, v, path));

    step->sign.principal = HARNESS_PRINCIPAL_MAIN;
    step->kind = kind->kind;
    if (kind->needs_hooks) {
        ld->sc->uses_hooks = true;
    }
    struct step_input in = {
        .obj = v,
        .path = path,
        .value = json_object_get(v, kind->key),
        .value_path = pk,
        .def = &def,
    };
    REF_TRY(kind->parse(ld, &in, step));
    return parse_after_kind(ld, v, path, ctx, &def, step);
}

void loader_free_step(struct harness_step *step)
{
    for (size_t i = 0; i < step->num_subs; i++) {
        loader_free_step(&step->subs[i]);
    }
    free(step->subs);
    /* Every outcome slot, not only those with has_expect: a load that failed halfway may
     * have compiled patterns into one before marking it. */
    for (size_t i = 0; step->outcomes != NULL && i < step->num_outcomes; i++) {
        for (size_t k = 0; k < HARNESS_MAX_CONCURRENT; k++) {
            loader_free_expect(&step->outcomes[i].expect[k]);
        }
    }
    free(step->outcomes);
    for (size_t i = 0; step->expects != NULL && i < step->num_expects; i++) {
        loader_free_expect(&step->expects[i]);
    }
    free(step->expects);
    loader_free_expect(&step->until);
}
