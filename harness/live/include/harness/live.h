/* SPDX-License-Identifier: Apache-2.0
 *
 * live.h - the live backend: scenarios sent to a real endpoint over HTTP or HTTPS through
 * libcurl, and the settings a live run resolves (endpoint, region, principals).
 *
 * Every request goes out byte for byte as the runner built it: libcurl connects (TCP,
 * TLS, a proxy tunnel) and then only carries bytes (CURLOPT_CONNECT_ONLY with
 * curl_easy_send / curl_easy_recv); harness_core's response parser says when the answer
 * is complete. Nothing is retried: a transport failure is reported with its reason.
 * harness_core never links libcurl; only this library does.
 */
#ifndef HARNESS_LIVE_H
#define HARNESS_LIVE_H

#include "harness/backend.h"
#include "harness/secret.h"

#include "ref/sigv4.h"
#include "ref/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits and defaults of the live backend; each limit is tested at and over it. */
#define HARNESS_LIVE_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define HARNESS_LIVE_DEFAULT_TIMEOUT_MS         30000
#define HARNESS_LIVE_MAX_TIMEOUT_MS             (3600 * 1000)
#define HARNESS_LIVE_MAX_IDLE_CONNECTIONS       8 /* a concurrent group's worth */
#define HARNESS_LIVE_MAX_URL_BYTES              2048
#define HARNESS_LIVE_MAX_SECRET_FILE_BYTES      HARNESS_MAX_SECRET_FILE_BYTES

/* Calls curl_global_init once (thread-safe). False when libcurl cannot start. */
bool harness_live_global_init(void);

/* An endpoint URL taken apart: only scheme://host[:port] with an optional "/" is
 * accepted, because the API's paths start at the root and are sent as written. */
struct harness_live_endpoint {
    char url[HARNESS_LIVE_MAX_URL_BYTES]; /* normalised: scheme://host[:port], no '/' */
    char host_header[512];                /* "host" or "host:port" (explicit port only) */
    bool is_https;
};

/* REF_OK; REF_E_MALFORMED with why filled (not a URL, another scheme, a path, a query,
 * user info). */
REF_MUST_CHECK enum ref_status harness_live_endpoint_parse(const char *url,
                                                           struct harness_live_endpoint *out,
                                                           char *why,
                                                           size_t why_cap);

struct harness_live_options {
    struct harness_live_endpoint endpoint;
    const char *region;         /* borrowed; must outlive the backend */
    const char *cacert;         /* a CA bundle file to trust, or NULL for the system's */
    bool is_insecure;           /* no certificate or host name checks (asked for explicitly) */
    int64_t connect_timeout_ms; /* 0: the default */
    int64_t timeout_ms;         /* whole exchange, connect included; 0: the default */
    int64_t clock_offset_ms;    /* added to this machine's clock to get the endpoint's */
    int64_t cleanup_timeout_ms; /* 0: the runner's default */
    /* Borrowed, indexed by enum harness_principal; NULL when the run lacks it. */
    const struct ref_credential *principals[HARNESS_PRINCIPAL_COUNT];
};

/* A live backend for one worker: its connections are opened on demand and kept alive
 * between requests (at most HARNESS_LIVE_MAX_IDLE_CONNECTIONS idle ones; a concurrent
 * group opens one per sub-step). A request the reference's strict parser refuses is the
 * exception: it goes out on a fresh connection that is closed afterwards, because in
 * process it is read as a first request and after it the connection's framing is
 * unknown. Caps: HARNESS_CAP_CONCURRENT | HARNESS_CAP_SHARED.
 * Owned by the caller (harness_backend_free); NULL when out of memory or when libcurl
 * refuses the options (why says which). */
struct harness_backend *
harness_backend_live_new(const struct harness_live_options *opts, char *why, size_t why_cap);

/* The endpoint's clock against this machine's: one unsigned request, whose answer's Date
 * header is compared with the local clock halfway through the exchange. *offset_ms is
 * endpoint minus local (positive: the endpoint is ahead), to a second (Date's
 * resolution). date_text gets the header as received. REF_OK; REF_E_NOT_FOUND when an
 * answer came but gives no usable Date (none, not a date, not HTTP, a close); any other
 * status is a transport failure (no connection, a reset, a timeout, an answer over the
 * size limit). why says what happened. */
REF_MUST_CHECK enum ref_status harness_live_clock_offset(struct harness_backend *b,
                                                         int64_t *offset_ms,
                                                         char *date_text,
                                                         size_t date_cap,
                                                         char *why,
                                                         size_t why_cap);

/* --- Preflight ------------------------------------------------------------------------ */

/* What the target is, as far as one or two calls that change nothing can tell. */
enum harness_preflight_verdict {
    HARNESS_PREFLIGHT_USABLE,                 /* it answers as an Elastic Transcoder endpoint */
    HARNESS_PREFLIGHT_UNREACHABLE,            /* no connection, a reset, a timeout */
    HARNESS_PREFLIGHT_NOT_HTTP,               /* what came back is not HTTP/1.1 */
    HARNESS_PREFLIGHT_CREDENTIALS_REFUSED,    /* it refused the main principal's signature */
    HARNESS_PREFLIGHT_CLOCK_REFUSED,          /* it refused the signature's date as too far
                                               * from its clock (contract section 5) */
    HARNESS_PREFLIGHT_NOT_ELASTIC_TRANSCODER, /* HTTP, but in no form of the contract */
};

struct harness_preflight {
    enum harness_preflight_verdict verdict;
    char what[768]; /* the calls and what came: "ListPipelines answered 403 ..." */
};

/* ListPipelines signed by the main principal and, when its answer decides nothing (the
 * operation looks unknown, or the answer is in no form of the contract), ReadJob of an Id
 * that names no job. A credential error from either is CREDENTIALS_REFUSED, or
 * CLOCK_REFUSED when its message says the signature is expired or not yet current; a List
 * answer,
 * a Job, or any other error code (contract section 4) but an unknown operation's is
 * USABLE. Without a main
 * principal nothing is sent and the target counts as USABLE. */
enum harness_preflight_verdict harness_live_preflight(struct harness_backend *b,
                                                      struct harness_preflight *out);
/* "credentials refused", ... */
const char *harness_preflight_verdict_name(enum harness_preflight_verdict v);

/* --- Test control (contract section 9) ------------------------------------------------ */

/* Asks the endpoint whether it offers test control: GET /_etch/control/v1, signed by the
 * main principal. REF_OK: it does, *now_ms gets its clock, and b gains HARNESS_CAP_HOOKS |
 * HARNESS_CAP_VIRTUAL_CLOCK with hooks that go through control (seeds, clock moves,
 * failing a job), signing every request at the endpoint's clock from then on.
 * REF_E_NOT_FOUND: any other answer, so no control (why says what came); another status
 * for a transport failure. Either way the run can go on. */
REF_MUST_CHECK enum ref_status harness_live_control_discover(struct harness_backend *b,
                                                             int64_t *now_ms,
                                                             char *why,
                                                             size_t why_cap);
/* Whether discovery on this backend succeeded. */
bool harness_live_has_control(struct harness_backend *b);
/* Returns the endpoint's clock to real time ({"Real":true}) when this backend's clock
 * calls made it virtual; REF_OK at once otherwise. For the end of a scenario that moved
 * the clock, so that other clients can reach the endpoint again. */
REF_MUST_CHECK enum ref_status
harness_live_control_release_clock(struct harness_backend *b, char *why, size_t why_cap);

/* --- Settings of a live run: credentials and region ---------------------------------- */

/* What the command line said; NULL for what it did not. */
struct harness_live_cred_args {
    const char *access_key;
    const char *secret_key;
    const char *secret_key_file;
    const char *session_token;
    const char *restricted_access_key;
    const char *restricted_secret_key;
    const char *restricted_secret_key_file;
    const char *temporary_access_key;
    const char *temporary_secret_key;
    const char *temporary_secret_key_file;
    const char *temporary_session_token;
    const char *region;
};

/* Looks a variable up (getenv in the program; a table in tests); NULL when unset. */
typedef const char *harness_getenv_fn(void *ctx, const char *name);

/* Where a setting came from, for the run's header lines. */
enum harness_setting_source {
    HARNESS_SETTING_NONE = 0,
    HARNESS_SETTING_FLAGS,
    HARNESS_SETTING_ENVIRONMENT,
    HARNESS_SETTING_DEFAULT, /* the contract's test principals, us-east-1 */
};

/* The resolved settings. Owns its strings (secrets are wiped on cleanup). */
struct harness_live_settings {
    struct ref_credential creds[HARNESS_PRINCIPAL_COUNT];
    bool has[HARNESS_PRINCIPAL_COUNT];
    enum harness_setting_source source[HARNESS_PRINCIPAL_COUNT];
    char *strings[HARNESS_PRINCIPAL_COUNT][3]; /* owned key, secret, token */
    char region[64];
    enum harness_setting_source region_source;
};

/* Precedence (README, "etch run --endpoint"): flags, then the AWS environment variables
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,
 * AWS_DEFAULT_REGION), then the contract's test principals and us-east-1.
 * - main: the key from --access-key, else $AWS_ACCESS_KEY_ID, else the test principal;
 *   its secret from --secret-key, --secret-key-file, else $AWS_SECRET_ACCESS_KEY (so a
 *   secret never has to be on the command line); its token from --session-token, else
 *   $AWS_SESSION_TOKEN when the key came from the environment.
 * - restricted and temporary: from their flags (secrets also from files); the test
 *   principals only when the main one is the test principal too (no credentials were
 *   given at all, or exactly its key and secret, without a token, from the flags or the
 *   environment), since real credentials never sit beside the contract's fake ones.
 * REF_OK; REF_E_MALFORMED with why filled for an incomplete or contradictory set (a key
 * without a secret, a secret without a key, two sources of one secret, an unreadable or
 * empty secret file); REF_E_NOMEM. Always release with harness_live_settings_cleanup. */
REF_MUST_CHECK enum ref_status
harness_live_settings_resolve(const struct harness_live_cred_args *args,
                              harness_getenv_fn *getenv_fn,
                              void *env_ctx,
                              struct harness_live_settings *out,
                              char *why,
                              size_t why_cap);
void harness_live_settings_cleanup(struct harness_live_settings *s);

/* "command line", "environment", "contract test principal" */
const char *harness_setting_source_name(enum harness_setting_source src);

#endif
