/* SPDX-License-Identifier: Apache-2.0
 *
 * scenario.h - the scenario model and its strict loader (fixtures/scenarios/README.md).
 *
 * A loaded scenario owns its jansson tree and its file bytes; every string and json_t in
 * the step structs borrows from it and lives until harness_scenario_free. The loader
 * checks everything it can before anything is sent: keys, types, operation names and
 * params, signing modes, matchers, and that every ${var} is defined by an earlier step.
 * Errors carry the file, the line and column, the scenario name and the JSON path.
 */
#ifndef HARNESS_SCENARIO_H
#define HARNESS_SCENARIO_H

#include "ref/router.h"
#include "ref/status.h"

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits of a scenario file (README "Limits"); each is tested at and over the limit. */
#define HARNESS_MAX_SCENARIO_FILE_BYTES (1024 * 1024)
#define HARNESS_MAX_JSON_DEPTH          32
#define HARNESS_MAX_STEPS               64
#define HARNESS_MAX_CONCURRENT          8
#define HARNESS_MAX_EXPECT_GROUPS       16
#define HARNESS_MAX_STATUS_ALTERNATIVES 8
#define HARNESS_MAX_VARS                64
#define HARNESS_MAX_VAR_NAME_BYTES      64
#define HARNESS_MAX_VAR_BYTES           4096
#define HARNESS_MAX_WAIT_POLLS          1000
#define HARNESS_MAX_SIGNED_HEADERS      32
#define HARNESS_MAX_TAGS                16
#define HARNESS_MAX_SCENARIO_PIPELINES  1000 /* "pipelines" of a scenario */
#define HARNESS_MAX_JSON_PATH_BYTES     96

/* 2026-11-28T12:45:00Z: where every in-process scenario's virtual clock starts. */
#define HARNESS_DEFAULT_START_MS INT64_C(1795869900000)

enum harness_level {
    HARNESS_LEVEL_NONE = 0,
    HARNESS_LEVEL_MUST,
    HARNESS_LEVEL_SHOULD,
    HARNESS_LEVEL_INFO, /* reported, never part of a verdict */
    HARNESS_LEVEL_COUNT
};

enum harness_source {
    HARNESS_SOURCE_NONE = 0,
    HARNESS_SOURCE_MODEL,
    HARNESS_SOURCE_GUIDE,
    HARNESS_SOURCE_CLIENTS,
    HARNESS_SOURCE_INFERENCE,
    /* The AWS CLI's documented examples, answers recorded from the live service. */
    HARNESS_SOURCE_CLI_EXAMPLES,
    /* moto's messages, which its authors checked against the live service. */
    HARNESS_SOURCE_MOTO,
    HARNESS_SOURCE_COUNT
};

enum harness_step_kind {
    HARNESS_STEP_NONE = 0,
    HARNESS_STEP_CALL,          /* an operation serialised as the SDKs do */
    HARNESS_STEP_RAW,           /* a request written out */
    HARNESS_STEP_WAIT,          /* poll until a predicate holds */
    HARNESS_STEP_CONCURRENT,    /* sub-steps released together */
    HARNESS_STEP_SEED_PIPELINE, /* in-process hooks from here on */
    HARNESS_STEP_SEED_JOB,
    HARNESS_STEP_CLOCK,
    HARNESS_STEP_FAIL_JOB,
    HARNESS_STEP_KIND_COUNT
};

enum harness_principal {
    HARNESS_PRINCIPAL_NONE = 0, /* unsigned */
    HARNESS_PRINCIPAL_MAIN,
    HARNESS_PRINCIPAL_RESTRICTED,
    HARNESS_PRINCIPAL_TEMPORARY,
    HARNESS_PRINCIPAL_COUNT
};

enum harness_token_mode {
    HARNESS_TOKEN_SEND = 0, /* the temporary principal's own token, signed */
    HARNESS_TOKEN_OMIT,
    HARNESS_TOKEN_WRONG,
};

enum harness_fault {
    HARNESS_FAULT_NONE = 0,
    HARNESS_FAULT_WRONG_SECRET,
    HARNESS_FAULT_UNKNOWN_KEY,
    HARNESS_FAULT_SCOPE_DATE,
    HARNESS_FAULT_SCOPE_REGION,
    HARNESS_FAULT_SCOPE_SERVICE,
    HARNESS_FAULT_SCOPE_TERMINATOR,
    HARNESS_FAULT_OMIT_HOST,
    HARNESS_FAULT_FLIP_SIGNATURE_DIGIT,
    HARNESS_FAULT_COUNT
};

struct harness_sign {
    enum harness_principal principal; /* NONE: send unsigned */
    enum harness_token_mode token;
    enum harness_fault fault;
    int64_t date_offset_s;
    const char *signed_headers[HARNESS_MAX_SIGNED_HEADERS]; /* borrowed; used when has_... */
    size_t num_signed_headers;
    bool has_signed_headers;
    bool content_sha256;
};

/* One accepted status: an exact code, a class (status_class 1..5 for "1xx".."5xx"), or
 * "closed": the endpoint closed the connection without answering (raw steps on a live
 * endpoint; the in-process reference always answers). */
struct harness_status_alt {
    int code;
    int status_class;
    bool is_closed;
};

/* The $match patterns of an expectation, compiled (matcher.c). */
struct harness_compiled_regex;

/* One expectation group: checks that share a level and a provenance. */
struct harness_expect {
    enum harness_level level;
    enum harness_source source;
    const char *note; /* borrowed, may be NULL */
    /* borrowed: "3" or "1b, 8", the contract sections it rests on (its own "contract", else
     * its step's, else its scenario's); NULL when none is given */
    const char *contract;
    char json_path[HARNESS_MAX_JSON_PATH_BYTES];
    struct harness_status_alt status[HARNESS_MAX_STATUS_ALTERNATIVES];
    size_t num_status;
    bool has_error;
    const char *error; /* NULL with has_error: no error code at all */
    bool error_form;
    bool json;
    json_t *headers; /* borrowed: name -> string | true | false | matcher */
    json_t *body;    /* borrowed: subset */
    json_t *paths;   /* borrowed: path -> matcher */
    /* Owned: the $match patterns in headers, body and paths, compiled once at load; freed
     * with the scenario. NULL when there are none (or the expectation was not loaded: its
     * patterns are then compiled when evaluated). */
    struct harness_compiled_regex *regexes;
};

/* A request as written in the file (unsigned; ${vars} not yet substituted). */
struct harness_request_spec {
    enum ref_op op;      /* call steps */
    json_t *params;      /* call: borrowed object, may be NULL */
    json_t *headers;     /* call: extra headers; raw: the list; array of [name, value] */
    const char *method;  /* raw */
    const char *target;  /* raw */
    const char *version; /* raw; default "HTTP/1.1" */
    const char *body;    /* raw; borrowed, may hold NUL bytes */
    size_t body_len;
    bool add_host;        /* raw: put Host first unless headers has one */
    bool auto_length;     /* raw: add Content-Length when needed */
    bool is_verbatim;     /* raw file/bytes: sent byte for byte */
    const uint8_t *bytes; /* verbatim bytes (owned by the scenario) */
    size_t bytes_len;
};

struct harness_outcome {
    struct harness_expect expect[HARNESS_MAX_CONCURRENT];
    bool has_expect[HARNESS_MAX_CONCURRENT];
    json_t *set; /* borrowed object of strings, may be NULL */
};

/* Whose retry a step with "lost_answer" imitates: the first attempt is sent and its answer
 * lost, then the request goes again as that SDK retries it, with the headers it gives
 * every attempt of one call (the same invocation Id, the attempt number). */
enum harness_retrying_sdk {
    HARNESS_RETRYING_SDK_NONE = 0, /* sent once, its answer read */
    HARNESS_RETRYING_SDK_BOTOCORE, /* botocore: the headers not signed */
    HARNESS_RETRYING_SDK_JS_V3,    /* the JS SDK v3: the headers signed */
    HARNESS_RETRYING_SDK_COUNT
};

enum harness_clock_kind {
    HARNESS_CLOCK_NONE = 0,
    HARNESS_CLOCK_SET,
    HARNESS_CLOCK_ADVANCE,
    HARNESS_CLOCK_TO_NEXT_EVENT,
};

struct harness_step {
    enum harness_step_kind kind;
    const char *name; /* borrowed, or step_name_buf */
    char name_buf[32];
    const char *note;
    char json_path[HARNESS_MAX_JSON_PATH_BYTES]; /* "steps[2]" */
    size_t index;                                /* 0-based position in its list */
    /* A request step that only the in-process reference can answer meaningfully (a body
     * that ends early: over a connection that is only a slow client); SKIPped elsewhere
     * without stopping the scenario. */
    bool inproc_only;
    /* A List call whose answer is judged as every page's items in order, NextPageToken the
     * last page's: the runner follows the tokens itself, so a scenario can check what the
     * contract guarantees of paging without knowing the server's page size. */
    bool all_pages;
    /* A call whose first attempt reaches the target and whose answer is lost (the
     * connection dropped before it is read), then retried as this SDK retries: signed
     * again and sent on a new connection. The step's expectations judge the retry. */
    enum harness_retrying_sdk lost_answer;

    /* call, raw, wait */
    struct harness_request_spec request;
    struct harness_sign sign;
    struct harness_expect *expects;
    size_t num_expects;
    json_t *capture; /* borrowed object: var -> "Path" | "@header:Name" | "@status" */
    enum harness_level level;
    enum harness_source source;
    const char *contract; /* the sections its expectations inherit (borrowed), or NULL */

    /* wait */
    struct harness_expect until;
    int64_t timeout_ms;
    int64_t interval_ms;

    /* concurrent */
    struct harness_step *subs;
    size_t num_subs;
    struct harness_outcome *outcomes;
    size_t num_outcomes;

    /* hooks: seed_pipeline, seed_job, fail_job, clock */
    const char *hook_id;
    const char *hook_name;
    const char *hook_pipeline;
    const char *hook_status;
    enum harness_clock_kind clock;
    int64_t clock_ms; /* SET: absolute epoch ms; ADVANCE: delta */
};

struct harness_scenario {
    char *path;         /* owned: the file as given to the loader */
    char *display_path; /* owned: "<area>/<name>.json" when known, else path */
    char *area;         /* owned: the folder name, "" when unknown */
    char *base_dir;     /* owned: folder of the file, for raw.file */
    const char *name;   /* borrowed from root */
    const char *description;
    const char *tags[HARNESS_MAX_TAGS + 1]; /* the area first, then the file's tags */
    size_t num_tags;
    bool inproc_only;
    /* "pipelines": the most pipelines the scenario holds at once, when more than one; 0
     * when not declared. In process the reference's pipeline limit is raised to it; live,
     * it is what the scenario takes from the run's pipeline budget. */
    size_t pipelines;
    bool uses_hooks; /* some step needs in-process hooks */
    json_t *vars;    /* borrowed object, may be NULL */
    struct harness_step *steps;
    size_t num_steps;
    json_t *root;       /* owned */
    uint8_t **verbatim; /* owned raw.file contents */
    size_t num_verbatim;
};

struct harness_load_error {
    char file[256];
    int line; /* 0 when unknown */
    int column;
    char message[768]; /* "scenario 'x': steps[2].expect.status: expected ..." */
};

/* Formats "file:line:col: message" (or "file: message") into out, always terminated. */
void harness_load_error_format(const struct harness_load_error *err, char *out, size_t cap);

/* Loads one scenario file. `area` may be NULL: it is then the name of the file's folder.
 * REF_OK: *out is owned by the caller (harness_scenario_free).
 * REF_E_MALFORMED: the file is not a valid scenario (err says where and why).
 * REF_E_TOO_LARGE: over a limit (err says which). REF_E_NOT_FOUND: cannot be read.
 * REF_E_NOMEM: out of memory. */
REF_MUST_CHECK enum ref_status harness_scenario_load_file(const char *path,
                                                          const char *area,
                                                          struct harness_scenario **out,
                                                          struct harness_load_error *err);

/* Same, from bytes (fuzz targets, tests). display_path names it in errors; base_dir is
 * where raw.file paths are resolved (NULL: raw.file is refused). */
REF_MUST_CHECK enum ref_status harness_scenario_load_buffer(const uint8_t *data,
                                                            size_t len,
                                                            const char *display_path,
                                                            const char *area,
                                                            const char *base_dir,
                                                            struct harness_scenario **out,
                                                            struct harness_load_error *err);

void harness_scenario_free(struct harness_scenario *sc);

/* True when the scenario carries the tag (the area counts as a tag). */
bool harness_scenario_has_tag(const struct harness_scenario *sc, const char *tag);

/* Names for reports: "must", "model", "wrong-secret" (operations: ref_op_name). */
const char *harness_level_name(enum harness_level level);
const char *harness_source_name(enum harness_source source);
const char *harness_fault_name(enum harness_fault fault);
const char *harness_principal_name(enum harness_principal principal);
/* "botocore", "js-sdk-v3"; "none" for HARNESS_RETRYING_SDK_NONE. */
const char *harness_retrying_sdk_name(enum harness_retrying_sdk sdk);
/* The member that names a step kind in a scenario file ("call", "seed_job"); NULL for
 * HARNESS_STEP_NONE or a value that is no kind. */
const char *harness_step_kind_key(enum harness_step_kind kind);

/* A loaded suite: every scenario file under a directory, sorted by area then name. */
struct harness_suite {
    struct harness_scenario **items;
    size_t count;
};

/* Loads <dir>/<area>/<name>.json for every area folder. Stops at the first broken file:
 * REF_E_MALFORMED / REF_E_TOO_LARGE with err filled; REF_E_NOT_FOUND when dir cannot be
 * read. A scenario name used twice is REF_E_MALFORMED. */
REF_MUST_CHECK enum ref_status harness_suite_load_dir(const char *dir,
                                                      struct harness_suite *suite,
                                                      struct harness_load_error *err);
void harness_suite_cleanup(struct harness_suite *suite);

#endif
