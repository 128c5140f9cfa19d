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
 * - everything is released (LeakSanitizer checks, and for jansson's blocks the arena below:
 *   one still live after the input aborts, as does a free of a block it did not hand out or
 *   has taken back already).
 */
#include "common.h"

#include "harness/scenario.h"

#include <jansson.h>
#include <sanitizer/asan_interface.h>

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
        FUZZ_CHECK(ref_op_info(st->request.op) != NULL);
        FUZZ_CHECK(ref_op_name(st->request.op) != NULL);
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

static size_t skip_ws(const uint8_t *t, size_t n, size_t i)
{
    while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) {
        i++;
    }
    return i;
}

/* i at an opening quote of a string without escapes: the index of its closing quote, or n
 * when there is none or an escape comes first. */
static size_t plain_string_end(const uint8_t *t, size_t n, size_t i)
{
    for (size_t j = i + 1; j < n; j++) {
        if (t[j] == '"') {
            return j;
        }
        if (t[j] == '\\' || t[j] < 0x20) {
            return n;
        }
    }
    return n;
}

/* i at the start of a value: the index after it, or n when it cannot be skipped simply (a
 * string with an escape, or the text ends). Strings are skipped whole, so brackets inside
 * them do not count. */
static size_t skip_value(const uint8_t *t, size_t n, size_t i)
{
    size_t depth = 0;
    while (i < n) {
        uint8_t c = t[i];
        if (c == '"') {
            i = plain_string_end(t, n, i);
            if (i == n) {
                return n;
            }
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0) {
                return i;
            }
            depth--;
        } else if (c == ',' && depth == 0) {
            return i;
        }
        i++;
        if (depth == 0 && (c == '"' || c == '}' || c == ']')) {
            return i;
        }
    }
    return n;
}

/* "<name>.json" from the input's own top-level "name" member when it is a plausible file
 * name, read straight off the text: the object's members are stepped over up to the first
 * "name" (a repeated one makes the loader refuse the file anyway), and anything unusual on
 * the way (an escape, no object) leaves "fuzz.json", as a name that is not a plain string
 * does. A jansson parse for this alone was a third of the parsing of most inputs, which
 * are not JSON at all once mutated. */
static void display_name(const uint8_t *data, size_t size, char *out, size_t cap)
{
    snprintf(out, cap, "fuzz.json");
    size_t i = skip_ws(data, size, 0);
    if (i >= size || data[i] != '{') {
        return;
    }
    i = skip_ws(data, size, i + 1);
    while (i < size && data[i] == '"') {
        size_t key_end = plain_string_end(data, size, i);
        if (key_end == size) {
            return;
        }
        bool is_name = key_end - i - 1 == 4 && memcmp(data + i + 1, "name", 4) == 0;
        i = skip_ws(data, size, key_end + 1);
        if (i >= size || data[i] != ':') {
            return;
        }
        i = skip_ws(data, size, i + 1);
        if (is_name) {
            if (i >= size || data[i] != '"') {
                return;
            }
            size_t end = plain_string_end(data, size, i);
            size_t len = end - i - 1;
            if (end == size || len == 0 || len > MAX_NAME_BYTES ||
                memchr(data + i + 1, '/', len) != NULL) {
                return;
            }
            snprintf(out, cap, "%.*s.json", (int)len, (const char *)data + i + 1);
            return;
        }
        i = skip_ws(data, size, skip_value(data, size, i));
        if (i >= size || data[i] != ',') {
            return;
        }
        i = skip_ws(data, size, i + 1);
    }
}

/* --- jansson's heap ------------------------------------------------------------------- */

/* jansson allocates a block for every JSON value, string and member, and the loader parses
 * an input twice (three times when it loads): under ASan's allocator those blocks were half
 * of the target's time. They come from this arena instead, emptied after every input, with
 * ASan told by hand what may be touched: a block's own bytes while it is live, and nothing
 * else (the header before each block, the gap after it, a freed block, the whole arena
 * between inputs), so that an overflow or a use after free by the harness still stops the
 * run. What ASan's allocator and LeakSanitizer checked besides is checked here: a free of
 * anything the arena did not hand out, or has taken back already, aborts, and so does a
 * block still live once the input is done. A freed block's bytes are never handed out
 * again during the same input. */

#if defined(__clang__) || defined(__GNUC__)
#define ARENA_UNCHECKED __attribute__((no_sanitize_address))
#else
#define ARENA_UNCHECKED
#endif

#define ARENA_CHUNK_BYTES ((size_t)4 << 20)
#define ARENA_ALIGN       16 /* a block's alignment, and the poisoned gap after it */
#define ARENA_LIVE        UINT64_C(0x6576696c2d6e736a)
#define ARENA_FREED       UINT64_C(0x646565726621736a)

struct arena_chunk {
    struct arena_chunk *next;
    size_t cap;
    size_t used;
    size_t pad; /* keeps bytes 16-byte aligned */
    uint8_t bytes[];
};

struct arena_header {
    uint64_t size;
    uint64_t state; /* ARENA_LIVE or ARENA_FREED */
};

static struct {
    struct arena_chunk *first;
    struct arena_chunk *cur;
    size_t live;
} s_arena;

static size_t round_up(size_t n)
{
    return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

ARENA_UNCHECKED static void *arena_alloc(size_t n)
{
    if (n > ARENA_CHUNK_BYTES * 64) {
        return NULL;
    }
    size_t need = sizeof(struct arena_header) + round_up(n) + ARENA_ALIGN;
    struct arena_chunk *c = s_arena.cur;
    while (c != NULL && c->cap - c->used < need) {
        c = c->next;
    }
    if (c == NULL) {
        size_t cap = need > ARENA_CHUNK_BYTES ? need : ARENA_CHUNK_BYTES;
        c = malloc(sizeof(*c) + cap);
        if (c == NULL) {
            return NULL;
        }
        *c = (struct arena_chunk){.next = NULL, .cap = cap, .used = 0};
        ASAN_POISON_MEMORY_REGION(c->bytes, cap);
        /* At the end of the list, so that the chunks in use come first after a reset. */
        struct arena_chunk **at = &s_arena.first;
        while (*at != NULL) {
            at = &(*at)->next;
        }
        *at = c;
    }
    s_arena.cur = c;
    uint8_t *block = c->bytes + c->used;
    c->used += need;
    *(struct arena_header *)(void *)block = (struct arena_header){.size = n, .state = ARENA_LIVE};
    s_arena.live++;
    uint8_t *p = block + sizeof(struct arena_header);
    ASAN_UNPOISON_MEMORY_REGION(p, n);
    return p;
}

ARENA_UNCHECKED static void arena_free(void *p)
{
    if (p == NULL) {
        return;
    }
    bool inside = false;
    for (struct arena_chunk *c = s_arena.first; c != NULL && !inside; c = c->next) {
        inside = (uint8_t *)p >= c->bytes + sizeof(struct arena_header) &&
                 (uint8_t *)p < c->bytes + c->used;
    }
    FUZZ_CHECK(inside);
    struct arena_header *h = (struct arena_header *)(void *)((uint8_t *)p - sizeof(*h));
    FUZZ_CHECK(h->state == ARENA_LIVE);
    h->state = ARENA_FREED;
    ASAN_POISON_MEMORY_REGION(p, h->size);
    s_arena.live--;
}

/* After every input: nothing of jansson's may be left, and the arena starts over. */
static void arena_end_input(void)
{
    if (s_arena.live != 0) {
        fprintf(stderr, "%zu jansson block(s) still allocated after the input\n", s_arena.live);
        FUZZ_CHECK(!"everything jansson allocated is released");
    }
    for (struct arena_chunk *c = s_arena.first; c != NULL; c = c->next) {
        c->used = 0;
    }
    s_arena.cur = s_arena.first;
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

static void run(const uint8_t *data, size_t size)
{
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
        return;
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
    arena_free(dumped); /* json_dumps's memory is jansson's */
    harness_scenario_free(sc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > HARNESS_MAX_SCENARIO_FILE_BYTES + 16) {
        return 0;
    }
    /* Before jansson has allocated anything, as json_set_alloc_funcs asks. */
    static bool s_arena_set;
    if (!s_arena_set) {
        json_set_alloc_funcs(arena_alloc, arena_free);
        s_arena_set = true;
    }
    run(data, size);
    arena_end_input();
    return 0;
}
