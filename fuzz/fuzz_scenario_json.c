/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_scenario_json.c - the strict scenario-file loader of the harness.
 *
 * Target functions: harness_scenario_load_buffer, harness_scenario_free,
 * harness_load_error_format, harness_scenario_has_tag and the name functions.
 *
 * Input: the bytes of a scenario file (fixtures/scenarios seed the corpus; an empty input
 * is passed as NULL with length 0). The file is loaded as "<name>.json" in area "fuzz",
 * taking <name> from its own "name" member when it has a plausible one, so that the
 * name-equals-file-name rule does not refuse every input and the loader's deeper checks are
 * reached. raw.file is refused (no base directory), so nothing outside the input is read.
 *
 * Invariants (abort() on violation):
 * - a failure is REF_E_MALFORMED, REF_E_TOO_LARGE or REF_E_NOMEM, leaves *out NULL and
 *   fills the error: file and message NUL-terminated inside their arrays, line and column
 *   not negative; the formatter always terminates, whatever the buffer size;
 * - a success gives 1..HARNESS_MAX_STEPS steps, at most HARNESS_MAX_TAGS (+ the area) tags
 *   with the area first, a name made of [a-z0-9-], every step with a known kind, a
 *   NUL-terminated JSON path and its limits respected (expectations, concurrent sub-steps,
 *   status alternatives, signed headers), and names for every enum it holds;
 * - loading is deterministic, and a loaded scenario's JSON tree, dumped and loaded again,
 *   is accepted again with the same name, tags and step kinds (the loader reads the JSON
 *   values, never the formatting);
 * - everything is released (LeakSanitizer checks).
 */
#include "common.h"

#include "harness/scenario.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAME_BYTES 120

static bool terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static void check_error(enum ref_status rc,
                        const struct harness_scenario *sc,
                        const struct harness_load_error *err)
{
    FUZZ_CHECK(rc == REF_E_MALFORMED || rc == REF_E_TOO_LARGE || rc == REF_E_NOMEM);
    FUZZ_CHECK(sc == NULL);
    FUZZ_CHECK(terminated(err->file, sizeof(err->file)));
    FUZZ_CHECK(terminated(err->message, sizeof(err->message)));
    FUZZ_CHECK(err->message[0] != '\0');
    /* Regression input corpus/scenario_json/empty: loading {NULL, 0} once copied
     * jansson's -1/-1 ("wrong arguments") into line and column. */
    FUZZ_CHECK(err->line >= 0 && err->column >= 0);
    char small[16];
    char big[2048];
    memset(small, 'x', sizeof(small));
    harness_load_error_format(err, small, sizeof(small));
    FUZZ_CHECK(terminated(small, sizeof(small)));
    harness_load_error_format(err, big, sizeof(big));
    FUZZ_CHECK(terminated(big, sizeof(big)) && big[0] != '\0');
    char one[1] = {'x'};
    harness_load_error_format(err, one, sizeof(one));
    FUZZ_CHECK(one[0] == '\0');
}

static void check_expect(const struct harness_expect *e)
{
    FUZZ_CHECK(e->num_status <= HARNESS_MAX_STATUS_ALTERNATIVES);
    FUZZ_CHECK(terminated(e->json_path, sizeof(e->json_path)));
    FUZZ_CHECK(harness_level_name(e->level) != NULL);
    FUZZ_CHECK(harness_source_name(e->source) != NULL);
    for (size_t i = 0; i < e->num_status; i++) {
        const struct harness_status_alt *s = &e->status[i];
        FUZZ_CHECK((s->code >= 100 && s->code <= 599) ||
                   (s->code == 0 && s->status_class >= 1 && s->status_class <= 5));
    }
}

static void check_step(const struct harness_step *st, size_t depth)
{
    FUZZ_CHECK(depth <= 1);
    FUZZ_CHECK(st->kind > HARNESS_STEP_NONE && st->kind <= HARNESS_STEP_FAIL_JOB);
    FUZZ_CHECK(st->name != NULL);
    FUZZ_CHECK(terminated(st->json_path, sizeof(st->json_path)));
    FUZZ_CHECK(st->sign.num_signed_headers <= HARNESS_MAX_SIGNED_HEADERS);
    FUZZ_CHECK(harness_principal_name(st->sign.principal) != NULL);
    FUZZ_CHECK(harness_fault_name(st->sign.fault) != NULL);
    FUZZ_CHECK(harness_level_name(st->level) != NULL);
    for (size_t i = 0; i < st->num_expects; i++) {
        check_expect(&st->expects[i]);
    }
    if (st->kind == HARNESS_STEP_CALL) {
        FUZZ_CHECK(harness_op_info(st->request.op) != NULL);
        FUZZ_CHECK(harness_op_name(st->request.op) != NULL);
    }
    if (st->kind == HARNESS_STEP_RAW && !st->request.is_verbatim) {
        FUZZ_CHECK(st->request.method != NULL && st->request.target != NULL);
    }
    if (st->kind == HARNESS_STEP_CONCURRENT) {
        FUZZ_CHECK(st->num_subs >= 2 && st->num_subs <= HARNESS_MAX_CONCURRENT);
        for (size_t i = 0; i < st->num_subs; i++) {
            check_step(&st->subs[i], depth + 1);
        }
    }
}

static void check_scenario(const struct harness_scenario *sc)
{
    FUZZ_CHECK(sc->name != NULL && sc->name[0] != '\0');
    for (const char *p = sc->name; *p != '\0'; p++) {
        FUZZ_CHECK((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-');
    }
    FUZZ_CHECK(sc->num_steps >= 1 && sc->num_steps <= HARNESS_MAX_STEPS);
    FUZZ_CHECK(sc->num_tags >= 1 && sc->num_tags <= HARNESS_MAX_TAGS + 1);
    FUZZ_CHECK(strcmp(sc->tags[0], "fuzz") == 0);
    FUZZ_CHECK(harness_scenario_has_tag(sc, "fuzz"));
    for (size_t i = 0; i < sc->num_tags; i++) {
        FUZZ_CHECK(sc->tags[i] != NULL && harness_scenario_has_tag(sc, sc->tags[i]));
    }
    for (size_t i = 0; i < sc->num_steps; i++) {
        check_step(&sc->steps[i], 0);
    }
}

/* "<name>.json" from the input's own "name" member when it is a plausible file name. */
static void display_name(const uint8_t *data, size_t size, char *out, size_t cap)
{
    snprintf(out, cap, "fuzz.json");
    json_error_t jerr;
    json_t *root = json_loadb((const char *)data, size, JSON_ALLOW_NUL, &jerr);
    const char *name = json_string_value(json_object_get(root, "name"));
    if (name != NULL && name[0] != '\0' && strlen(name) <= MAX_NAME_BYTES &&
        strchr(name, '/') == NULL) {
        snprintf(out, cap, "%s.json", name);
    }
    json_decref(root);
}

static enum ref_status load(const uint8_t *data,
                            size_t size,
                            const char *display,
                            struct harness_scenario **sc,
                            struct harness_load_error *err)
{
    *sc = NULL;
    memset(err, 0, sizeof(*err));
    /* An empty input is passed as {NULL, 0}, as the replay driver does and as any caller
     * holding an empty slice may: libFuzzer itself never passes NULL. */
    return harness_scenario_load_buffer(size == 0 ? NULL : data, size, display, "fuzz", NULL, sc,
                                        err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > HARNESS_MAX_SCENARIO_FILE_BYTES + 16) {
        return 0;
    }
    char display[MAX_NAME_BYTES + 8];
    display_name(data, size, display, sizeof(display));

    static struct harness_load_error err;
    static struct harness_load_error err2;
    struct harness_scenario *sc = NULL;
    struct harness_scenario *again = NULL;
    enum ref_status rc = load(data, size, display, &sc, &err);
    enum ref_status rc2 = load(data, size, display, &again, &err2);
    FUZZ_CHECK(rc == rc2);
    if (rc != REF_OK) {
        check_error(rc, sc, &err);
        FUZZ_CHECK(strcmp(err.message, err2.message) == 0);
        FUZZ_CHECK(err.line == err2.line && err.column == err2.column);
        return 0;
    }
    FUZZ_CHECK(sc != NULL && again != NULL);
    check_scenario(sc);
    FUZZ_CHECK(again->num_steps == sc->num_steps);
    harness_scenario_free(again);
    again = NULL;

    /* The tree, dumped and loaded again, is the same scenario. */
    char *dumped = json_dumps(sc->root, JSON_ENCODE_ANY | JSON_COMPACT);
    FUZZ_CHECK(dumped != NULL);
    rc2 = load((const uint8_t *)dumped, strlen(dumped), display, &again, &err2);
    if (rc2 != REF_OK) {
        fprintf(stderr, "reloading the dumped tree failed: %s\n%s\n", err2.message, dumped);
    }
    FUZZ_CHECK(rc2 == REF_OK);
    FUZZ_CHECK(strcmp(again->name, sc->name) == 0);
    FUZZ_CHECK(again->num_tags == sc->num_tags && again->num_steps == sc->num_steps);
    for (size_t i = 0; i < sc->num_tags; i++) {
        FUZZ_CHECK(strcmp(again->tags[i], sc->tags[i]) == 0);
    }
    for (size_t i = 0; i < sc->num_steps; i++) {
        FUZZ_CHECK(again->steps[i].kind == sc->steps[i].kind);
        FUZZ_CHECK(strcmp(again->steps[i].name, sc->steps[i].name) == 0);
    }
    harness_scenario_free(again);
    free(dumped);
    harness_scenario_free(sc);
    return 0;
}
