/* SPDX-License-Identifier: Apache-2.0
 *
 * live_settings.c - the credentials and region of a live run, from the command line, the
 * environment or the contract's defaults, in that order (live.h has the rules).
 *
 * The environment comes in through a lookup function so the precedence is tested without
 * touching the process's own variables. Contradictions are refused rather than guessed
 * at: a run against a real endpoint with half a credential set would only produce a wall
 * of authentication failures. Secrets are copied, and wiped when the settings go.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/live.h"
#include "harness/secret.h"

#include "harness/text.h"

#include "ref/service.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { KEY = 0, SECRET = 1, TOKEN = 2 };

const char *harness_setting_source_name(enum harness_setting_source src)
{
    switch (src) {
        case HARNESS_SETTING_FLAGS:
            return "command line";
        case HARNESS_SETTING_ENVIRONMENT:
            return "environment";
        case HARNESS_SETTING_DEFAULT:
            return "contract test principal";
        default:
            return "none";
    }
}

/* An unset and an empty variable are the same thing: a shell's `export X=` unsets X for
 * every AWS tool, and should here too. */
static const char *env_value(harness_getenv_fn *fn, void *ctx, const char *name)
{
    const char *v = fn != NULL ? fn(ctx, name) : NULL;
    return v != NULL && v[0] != '\0' ? v : NULL;
}

static enum ref_status keep(struct harness_live_settings *s, int p, int what, const char *text)
{
    if (text == NULL) {
        return REF_OK;
    }
    s->strings[p][what] = strdup(text);
    return s->strings[p][what] != NULL ? REF_OK : REF_E_NOMEM;
}

/* A secret from exactly one of: its flag, its file, or (fallback) the environment. */
static enum ref_status pick_secret(struct harness_live_settings *s,
                                   int p,
                                   const char *flag_name,
                                   const char *flag,
                                   const char *file,
                                   const char *env,
                                   char *why,
                                   size_t why_cap)
{
    if (flag != NULL && file != NULL) {
        harness_textf(why, why_cap, "%s and %s-file both given: one secret, one source", flag_name,
                      flag_name);
        return REF_E_MALFORMED;
    }
    if (file != NULL) {
        return harness_read_secret_file(file, &s->strings[p][SECRET], why, why_cap);
    }
    return keep(s, p, SECRET, flag != NULL ? flag : env);
}

static void use_strings(struct harness_live_settings *s, int p, enum ref_role role)
{
    s->has[p] = true;
    s->creds[p].access_key_id = s->strings[p][KEY];
    s->creds[p].secret_access_key = s->strings[p][SECRET];
    s->creds[p].session_token = s->strings[p][TOKEN];
    s->creds[p].role = role;
}

static enum ref_status
use_default(struct harness_live_settings *s, int p, const struct ref_credential *c)
{
    REF_TRY(keep(s, p, KEY, c->access_key_id));
    REF_TRY(keep(s, p, SECRET, c->secret_access_key));
    REF_TRY(keep(s, p, TOKEN, c->session_token));
    use_strings(s, p, c->role);
    s->source[p] = HARNESS_SETTING_DEFAULT;
    return REF_OK;
}

static enum ref_status resolve_main(const struct harness_live_cred_args *a,
                                    harness_getenv_fn *fn,
                                    void *ctx,
                                    struct harness_live_settings *s,
                                    char *why,
                                    size_t why_cap)
{
    int p = HARNESS_PRINCIPAL_MAIN;
    const char *env_key = env_value(fn, ctx, "AWS_ACCESS_KEY_ID");
    const char *env_secret = env_value(fn, ctx, "AWS_SECRET_ACCESS_KEY");
    const char *env_token = env_value(fn, ctx, "AWS_SESSION_TOKEN");
    const char *key = a->access_key != NULL ? a->access_key : env_key;
    if (key == NULL) {
        if (a->secret_key != NULL || a->secret_key_file != NULL || a->session_token != NULL) {
            harness_textf(why, why_cap,
                          "a secret key or session token was given without an access key "
                          "(--access-key or AWS_ACCESS_KEY_ID)");
            return REF_E_MALFORMED;
        }
        if (env_secret != NULL || env_token != NULL) {
            harness_textf(why, why_cap, "%s is set but AWS_ACCESS_KEY_ID is not",
                          env_secret != NULL ? "AWS_SECRET_ACCESS_KEY" : "AWS_SESSION_TOKEN");
            return REF_E_MALFORMED;
        }
        return use_default(s, p, REF_TEST_CRED_MAIN);
    }
    s->source[p] = a->access_key != NULL ? HARNESS_SETTING_FLAGS : HARNESS_SETTING_ENVIRONMENT;
    REF_TRY(keep(s, p, KEY, key));
    REF_TRY(pick_secret(s, p, "--secret-key", a->secret_key, a->secret_key_file, env_secret, why,
                        why_cap));
    if (s->strings[p][SECRET] == NULL) {
        harness_textf(why, why_cap,
                      "no secret key for access key %s: give --secret-key-file FILE, "
                      "AWS_SECRET_ACCESS_KEY or --secret-key",
                      key);
        return REF_E_MALFORMED;
    }
    /* The environment's token belongs to the environment's key. */
    const char *token = a->session_token != NULL                      ? a->session_token
                        : s->source[p] == HARNESS_SETTING_ENVIRONMENT ? env_token
                                                                      : NULL;
    REF_TRY(keep(s, p, TOKEN, token));
    use_strings(s, p, REF_ROLE_FULL);
    return REF_OK;
}

static bool same_text(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* The main principal is the contract's test principal when it came from the defaults, or
 * when the flags or environment gave exactly its key, secret and (no) session token. */
static bool main_is_test_principal(const struct harness_live_settings *s)
{
    int p = HARNESS_PRINCIPAL_MAIN;
    if (s->source[p] == HARNESS_SETTING_DEFAULT) {
        return true;
    }
    const struct ref_credential *t = REF_TEST_CRED_MAIN;
    return same_text(s->strings[p][KEY], t->access_key_id) &&
           same_text(s->strings[p][SECRET], t->secret_access_key) &&
           same_text(s->strings[p][TOKEN], t->session_token);
}

static enum ref_status resolve_other(int p,
                                     const char *name,
                                     const char *key,
                                     const char *secret,
                                     const char *secret_file,
                                     const char *token,
                                     bool needs_token,
                                     const struct ref_credential *fallback,
                                     struct harness_live_settings *s,
                                     char *why,
                                     size_t why_cap)
{
    char flag[64];
    snprintf(flag, sizeof(flag), "--%s-secret-key", name);
    if (key == NULL) {
        if (secret != NULL || secret_file != NULL || token != NULL) {
            harness_textf(why, why_cap,
                          "the %s principal's secret or token was given without "
                          "--%s-access-key",
                          name, name);
            return REF_E_MALFORMED;
        }
        /* The contract's fake principals only beside the contract's fake main one, however
         * that one was given: a CI job exporting the test keys for other AWS tools means the
         * test principals, not real credentials that happen to look like them. */
        if (main_is_test_principal(s)) {
            return use_default(s, p, fallback);
        }
        return REF_OK;
    }
    REF_TRY(keep(s, p, KEY, key));
    REF_TRY(pick_secret(s, p, flag, secret, secret_file, NULL, why, why_cap));
    if (s->strings[p][SECRET] == NULL) {
        harness_textf(why, why_cap,
                      "no secret key for the %s principal %s: give %s-file FILE or %s", name, key,
                      flag, flag);
        return REF_E_MALFORMED;
    }
    if (needs_token && token == NULL) {
        harness_textf(why, why_cap, "the %s principal needs --%s-session-token", name, name);
        return REF_E_MALFORMED;
    }
    REF_TRY(keep(s, p, TOKEN, token));
    use_strings(s, p, fallback->role);
    s->source[p] = HARNESS_SETTING_FLAGS;
    return REF_OK;
}

static bool is_region(const char *r)
{
    size_t n = strlen(r);
    if (n == 0 || n >= sizeof(((struct harness_live_settings *)NULL)->region)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = r[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return false;
        }
    }
    return true;
}

enum ref_status harness_live_settings_resolve(const struct harness_live_cred_args *args,
                                              harness_getenv_fn *getenv_fn,
                                              void *env_ctx,
                                              struct harness_live_settings *out,
                                              char *why,
                                              size_t why_cap)
{
    memset(out, 0, sizeof(*out));
    const char *region = args->region;
    out->region_source = HARNESS_SETTING_FLAGS;
    if (region == NULL) {
        region = env_value(getenv_fn, env_ctx, "AWS_REGION");
        if (region == NULL) {
            region = env_value(getenv_fn, env_ctx, "AWS_DEFAULT_REGION");
        }
        out->region_source = HARNESS_SETTING_ENVIRONMENT;
    }
    if (region == NULL) {
        region = REF_TEST_REGION;
        out->region_source = HARNESS_SETTING_DEFAULT;
    }
    if (!is_region(region)) {
        harness_textf(why, why_cap,
                      "'%s' is not a region name (lower-case letters, digits and '-')", region);
        return REF_E_MALFORMED;
    }
    snprintf(out->region, sizeof(out->region), "%s", region);
    enum ref_status rc = resolve_main(args, getenv_fn, env_ctx, out, why, why_cap);
    if (rc == REF_OK) {
        rc = resolve_other(HARNESS_PRINCIPAL_RESTRICTED, "restricted", args->restricted_access_key,
                           args->restricted_secret_key, args->restricted_secret_key_file, NULL,
                           false, REF_TEST_CRED_RESTRICTED, out, why, why_cap);
    }
    if (rc == REF_OK) {
        rc = resolve_other(HARNESS_PRINCIPAL_TEMPORARY, "temporary", args->temporary_access_key,
                           args->temporary_secret_key, args->temporary_secret_key_file,
                           args->temporary_session_token, true, REF_TEST_CRED_TEMPORARY, out, why,
                           why_cap);
    }
    if (rc == REF_E_NOMEM) {
        harness_textf(why, why_cap, "out of memory");
    }
    return rc;
}

void harness_live_settings_cleanup(struct harness_live_settings *s)
{
    for (size_t p = 0; p < HARNESS_PRINCIPAL_COUNT; p++) {
        for (size_t k = 0; k < 3; k++) {
            char *v = s->strings[p][k];
            if (v != NULL) {
                OPENSSL_cleanse(v, strlen(v));
                free(v);
            }
        }
    }
    memset(s, 0, sizeof(*s));
}
