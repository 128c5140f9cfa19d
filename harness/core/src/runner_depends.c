/* SPDX-License-Identifier: Apache-2.0
 *
 * runner_depends.c - steps that depend on a skipped step are skipped too.
 *
 * A step the target could not run (its principal is missing, say) left no trace: no
 * captured value, no change on the target. A later step that reads such a variable, or
 * that follows a skipped step which would have changed the target's state, would check
 * a world the scenario never built, and a correct endpoint would FAIL it. The rule
 * (fixtures/scenarios/README.md, "Verdicts"):
 * - a step that uses ${v} where v is a variable a skipped step would have captured (and
 *   no step that ran has captured since) is skipped, naming that step;
 * - after a skipped step that changes state (a call that is not a Read or List, a raw
 *   request whose method, as written or as the verbatim bytes' first word, is not GET or
 *   HEAD, any step other than a call, raw or wait), every later step of the scenario is
 *   skipped: which of them relied on its effect cannot be told from the file. A skipped
 *   read changes nothing, so only its captures are missing.
 */
#include "runner_internal.h"

#include "harness/text.h"
#include "harness/vars.h"

#include "ref/router.h"

#include <jansson.h>

#include <string.h>

static bool is_read_method(const char *m, size_t len)
{
    return (len == 3 && memcmp(m, "GET", 3) == 0) || (len == 4 && memcmp(m, "HEAD", 4) == 0);
}

/* A raw request's method: as written, or a verbatim request's first word. */
static bool raw_is_read(const struct harness_request_spec *spec)
{
    if (spec->is_verbatim) {
        const char *b = (const char *)spec->bytes;
        const char *sp = b != NULL ? memchr(b, ' ', spec->bytes_len) : NULL;
        return sp != NULL && is_read_method(b, (size_t)(sp - b));
    }
    return spec->method != NULL && is_read_method(spec->method, strlen(spec->method));
}

bool runner_step_changes_state(const struct harness_step *step)
{
    switch (step->kind) {
        case HARNESS_STEP_CALL:
            return !ref_op_is_read(step->request.op);
        case HARNESS_STEP_RAW:
            return !raw_is_read(&step->request);
        case HARNESS_STEP_WAIT:
            return false; /* it only polls with a read */
        default:
            return true;
    }
}

static size_t find_missing(const struct run *r, const char *name, size_t name_len)
{
    for (size_t i = 0; i < r->num_missing; i++) {
        if (strlen(r->missing[i].var) == name_len &&
            memcmp(r->missing[i].var, name, name_len) == 0) {
            return i;
        }
    }
    return r->num_missing;
}

void runner_note_captures(struct run *r, const struct harness_step *step, bool was_skipped)
{
    const char *name;
    json_t *v;
    if (step->capture == NULL) {
        return;
    }
    json_object_foreach (step->capture, name, v) {
        (void)v;
        size_t i = find_missing(r, name, strlen(name));
        if (!was_skipped && i < r->num_missing) {
            /* Captured anew by a step that ran: later uses see a real value. */
            r->missing[i] = r->missing[--r->num_missing];
        } else if (was_skipped && i == r->num_missing && i < HARNESS_MAX_VARS) {
            harness_textf(r->missing[i].var, sizeof(r->missing[i].var), "%s", name);
            r->missing[i].step = step->name;
            r->num_missing++;
        } else if (was_skipped && i < r->num_missing) {
            r->missing[i].step = step->name;
        }
    }
}

struct use_search {
    const struct run *r;
    const char *found; /* the skipped step's name */
};

static bool not_missing(void *ctx, const char *name, size_t name_len)
{
    struct use_search *u = ctx;
    size_t i = find_missing(u->r, name, name_len);
    if (i < u->r->num_missing) {
        u->found = u->r->missing[i].step;
        return false;
    }
    return true;
}

/* Walks a step's JSON as the loader's definition check does: captures' paths and regular
 * expressions hold no variables. */
static void search_uses(json_t *v, struct use_search *u)
{
    if (u->found != NULL) {
        return;
    }
    if (json_is_string(v)) {
        (void)harness_vars_each_ref(json_string_value(v), json_string_length(v), not_missing, u);
    } else if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach (v, key, child) {
            if (strcmp(key, "capture") != 0 && strcmp(key, "$match") != 0) {
                search_uses(child, u);
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach (v, i, child) {
            search_uses(child, u);
        }
    }
}

const char *runner_skipped_dependency(const struct run *r, const struct harness_step *step)
{
    if (r->num_missing == 0 || r->sc->root == NULL) {
        return NULL;
    }
    json_t *steps = json_object_get(r->sc->root, "steps");
    struct use_search u = {.r = r, .found = NULL};
    search_uses(json_array_get(steps, step->index), &u);
    return u.found;
}
