/* SPDX-License-Identifier: Apache-2.0
 *
 * test_live_settings.c - the settings of a live run: credential and region precedence
 * (flags, then the AWS environment, then the contract's test principals), the test
 * principals only beside the test main principal (also when its own keys are given),
 * secret files (one line, at and over the size limit, empty, unreadable), contradictions
 * refused; and endpoint URLs.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/live.h"

#include "ref/service.h"

/* cmocka needs its prelude first. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- A fake environment ------------------------------------------------------------ */

struct env_var {
    const char *name;
    const char *value;
};

static const char *table_getenv(void *ctx, const char *name)
{
    for (const struct env_var *v = ctx; v != NULL && v->name != NULL; v++) {
        if (strcmp(v->name, name) == 0) {
            return v->value;
        }
    }
    return NULL;
}

static enum ref_status resolve(const struct harness_live_cred_args *a,
                               const struct env_var *env,
                               struct harness_live_settings *s,
                               char *why,
                               size_t why_cap)
{
    return harness_live_settings_resolve(a, table_getenv, (void *)(uintptr_t)env, s, why, why_cap);
}

static char *secret_file(const char *content, size_t len)
{
    char tmpl[] = "/tmp/etch-secret-XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
    return strdup(tmpl);
}

/* --- Precedence -------------------------------------------------------------------- */

static void test_live_settings_defaults_are_the_test_principals(void **state)
{
    (void)state;
    struct harness_live_cred_args a = {0};
    struct harness_live_settings s;
    char why[256];
    assert_int_equal(resolve(&a, NULL, &s, why, sizeof(why)), REF_OK);
    assert_string_equal(s.region, "us-east-1");
    assert_int_equal(s.region_source, HARNESS_SETTING_DEFAULT);
    assert_string_equal(s.creds[HARNESS_PRINCIPAL_MAIN].access_key_id, "AKIDEXAMPLE");
    assert_string_equal(s.creds[HARNESS_PRINCIPAL_RESTRICTED].access_key_id, "AKIDREADONLY");
    assert_string_equal(s.creds[HARNESS_PRINCIPAL_TEMPORARY].access_key_id, "AKIDSESSION");
    assert_string_equal(s.creds[HARNESS_PRINCIPAL_TEMPORARY].session_token,
                        REF_TEST_CRED_TEMPORARY->session_token);
    assert_int_equal(s.creds[HARNESS_PRINCIPAL_RESTRICTED].role, REF_ROLE_READ_ONLY);
    for (size_t p = HARNESS_PRINCIPAL_MAIN; p < HARNESS_PRINCIPAL_COUNT; p++) {
        assert_true(s.has[p]);
        assert_int_equal(s.source[p], HARNESS_SETTING_DEFAULT);
    }
    harness_live_settings_cleanup(&s);
}

static void test_live_settings_environment_beats_defaults(void **state)
{
    (void)state;
    const struct env_var env[] = {{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                  {"AWS_SECRET_ACCESS_KEY", "env-secret"},
                                  {"AWS_SESSION_TOKEN", "env-token"},
                                  {"AWS_DEFAULT_REGION", "eu-west-1"},
                                  {NULL, NULL}};
    struct harness_live_cred_args a = {0};
    struct harness_live_settings s;
    char why[256];
    assert_int_equal(resolve(&a, env, &s, why, sizeof(why)), REF_OK);
    const struct ref_credential *m = &s.creds[HARNESS_PRINCIPAL_MAIN];
    assert_string_equal(m->access_key_id, "AKIDENV");
    assert_string_equal(m->secret_access_key, "env-secret");
    assert_string_equal(m->session_token, "env-token");
    assert_int_equal(s.source[HARNESS_PRINCIPAL_MAIN], HARNESS_SETTING_ENVIRONMENT);
    assert_string_equal(s.region, "eu-west-1");
    assert_int_equal(s.region_source, HARNESS_SETTING_ENVIRONMENT);
    /* Real credentials: the contract's fake principals are not added beside them. */
    assert_false(s.has[HARNESS_PRINCIPAL_RESTRICTED]);
    assert_false(s.has[HARNESS_PRINCIPAL_TEMPORARY]);
    harness_live_settings_cleanup(&s);
}

static void test_live_settings_aws_region_beats_default_region(void **state)
{
    (void)state;
    const struct env_var env[] = {
        {"AWS_REGION", "ap-south-1"}, {"AWS_DEFAULT_REGION", "eu-west-1"}, {NULL, NULL}};
    struct harness_live_cred_args a = {0};
    struct harness_live_settings s;
    char why[256];
    assert_int_equal(resolve(&a, env, &s, why, sizeof(why)), REF_OK);
    assert_string_equal(s.region, "ap-south-1");
    harness_live_settings_cleanup(&s);
    a.region = "us-west-2";
    assert_int_equal(resolve(&a, env, &s, why, sizeof(why)), REF_OK);
    assert_string_equal(s.region, "us-west-2");
    assert_int_equal(s.region_source, HARNESS_SETTING_FLAGS);
    harness_live_settings_cleanup(&s);
}

static void test_live_settings_flags_beat_environment(void **state)
{
    (void)state;
    const struct env_var env[] = {{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                  {"AWS_SECRET_ACCESS_KEY", "env-secret"},
                                  {"AWS_SESSION_TOKEN", "env-token"},
                                  {NULL, NULL}};
    struct harness_live_cred_args a = {.access_key = "AKIDFLAG", .secret_key = "flag-secret"};
    struct harness_live_settings s;
    char why[256];
    assert_int_equal(resolve(&a, env, &s, why, sizeof(why)), REF_OK);
    const struct ref_credential *m = &s.creds[HARNESS_PRINCIPAL_MAIN];
    assert_string_equal(m->access_key_id, "AKIDFLAG");
    assert_string_equal(m->secret_access_key, "flag-secret");
    /* The environment's token belongs to the environment's key, not to the flag's. */
    assert_null(m->session_token);
    assert_int_equal(s.source[HARNESS_PRINCIPAL_MAIN], HARNESS_SETTING_FLAGS);
    harness_live_settings_cleanup(&s);
}

static void test_live_settings_flag_key_takes_environment_secret(void **state)
{
    (void)state;
    const struct env_var env[] = {{"AWS_SECRET_ACCESS_KEY", "env-secret"}, {NULL, NULL}};
    struct harness_live_cred_args a = {.access_key = "AKIDFLAG", .session_token = "flag-token"};
    struct harness_live_settings s;
    char why[256];
    assert_int_equal(resolve(&a, env, &s, why, sizeof(why)), REF_OK);
    assert_string_equal(s.creds[HARNESS_PRINCIPAL_MAIN].secret_access_key, "env-secret");
    assert_string_equal(s.creds[HARNESS_PRINCIPAL_MAIN].session_token, "flag-token");
    harness_live_settings_cleanup(&s);
}

static void test_live_settings_empty_variables_are_unset(void **state)
{
    (void)state;
    const struct env_var env[] = {
        {"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}, {"AWS_REGION", ""}, {NULL, NULL}};
    struct harness_live_cred_args a = {0};
    struct harness_live_settings s;
    char why[256];
    assert_int_equal(resolve(&a, env, &s, why, sizeof(why)), REF_OK);
    assert_int_equal(s.source[HARNESS_PRINCIPAL_MAIN], HARNESS_SETTING_DEFAULT);
    assert_string_equal(s.region, "us-east-1");
    harness_live_settings_cleanup(&s);
}

/* The test main principal given by its own key and secret (a CI job exporting them for the
 * AWS CLI) is still the test principal: the other two test principals come with it. */
static void test_live_settings_test_keys_given_keep_test_principals(void **state)
{
    (void)state;
    const struct ref_credential *t = REF_TEST_CRED_MAIN;
    const struct env_var env[] = {{"AWS_ACCESS_KEY_ID", t->access_key_id},
                                  {"AWS_SECRET_ACCESS_KEY", t->secret_access_key},
                                  {NULL, NULL}};
    struct harness_live_cred_args none = {0};
    struct harness_live_cred_args flags = {.access_key = t->access_key_id,
                                           .secret_key = t->secret_access_key};
    struct {
        const struct harness_live_cred_args *args;
        const struct env_var *env;
        enum harness_setting_source main_source;
    } cases[] = {{&none, env, HARNESS_SETTING_ENVIRONMENT}, {&flags, NULL, HARNESS_SETTING_FLAGS}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct harness_live_settings s;
        char why[256];
        assert_int_equal(resolve(cases[i].args, cases[i].env, &s, why, sizeof(why)), REF_OK);
        assert_int_equal(s.source[HARNESS_PRINCIPAL_MAIN], cases[i].main_source);
        assert_true(s.has[HARNESS_PRINCIPAL_RESTRICTED]);
        assert_true(s.has[HARNESS_PRINCIPAL_TEMPORARY]);
        assert_int_equal(s.source[HARNESS_PRINCIPAL_RESTRICTED], HARNESS_SETTING_DEFAULT);
        assert_string_equal(s.creds[HARNESS_PRINCIPAL_RESTRICTED].access_key_id, "AKIDREADONLY");
        assert_string_equal(s.creds[HARNESS_PRINCIPAL_TEMPORARY].session_token,
                            REF_TEST_CRED_TEMPORARY->session_token);
        harness_live_settings_cleanup(&s);
    }
}

/* Only the whole test principal counts: its key with another secret, or with a session
 * token, is somebody's real credential, and the fake principals stay away from it. A
 * principal given by flags beside the test main one is kept; the missing one is the test's. */
static void test_live_settings_test_key_alone_is_not_the_test_principal(void **state)
{
    (void)state;
    const struct ref_credential *t = REF_TEST_CRED_MAIN;
    const struct env_var other_secret[] = {{"AWS_ACCESS_KEY_ID", t->access_key_id},
                                           {"AWS_SECRET_ACCESS_KEY", "another-secret"},
                                           {NULL, NULL}};
    const struct env_var with_token[] = {{"AWS_ACCESS_KEY_ID", t->access_key_id},
                                         {"AWS_SECRET_ACCESS_KEY", t->secret_access_key},
                                         {"AWS_SESSION_TOKEN", "a-token"},
                                         {NULL, NULL}};
    const struct env_var *envs[] = {other_secret, with_token};
    struct harness_live_cred_args a = {0};
    struct harness_live_settings s;
    char why[256];
    for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
        assert_int_equal(resolve(&a, envs[i], &s, why, sizeof(why)), REF_OK);
        assert_false(s.has[HARNESS_PRINCIPAL_RESTRICTED]);
        assert_false(s.has[HARNESS_PRINCIPAL_TEMPORARY]);
        harness_live_settings_cleanup(&s);
    }
    struct harness_live_cred_args b = {.access_key = t->access_key_id,
                                       .secret_key = t->secret_access_key,
                                       .restricted_access_key = "AKIDRO",
                                       .restricted_secret_key = "ro-secret"};
    assert_int_equal(resolve(&b, NULL, &s, why, sizeof(why)), REF_OK);
    assert_string_equal(s.creds[HARNESS_PRINCIPAL_RESTRICTED].access_key_id, "AKIDRO");
    assert_int_equal(s.source[HARNESS_PRINCIPAL_RESTRICTED], HARNESS_SETTING_FLAGS);
    assert_int_equal(s.source[HARNESS_PRINCIPAL_TEMPORARY], HARNESS_SETTING_DEFAULT);
    harness_live_settings_cleanup(&s);
}

static void test_live_settings_other_principals_from_flags(void **state)
{
    (void)state;
    struct harness_live_cred_args a = {
        .access_key = "AKIDMAIN",
        .secret_key = "main-secret",
        .restricted_access_key = "AKIDRO",
        .restricted_secret_key = "ro-secret",
        .temporary_access_key = "AKIDTMP",
        .temporary_secret_key = "tmp-secret",
        .temporary_session_token = "tmp-token",
    };
    struct harness_live_settings s;
    char why[256];
    assert_int_equal(resolve(&a, NULL, &s, why, sizeof(why)), REF_OK);
    assert_string_equal(s.creds[HARNESS_PRINCIPAL_RESTRICTED].access_key_id, "AKIDRO");
    assert_string_equal(s.creds[HARNESS_PRINCIPAL_RESTRICTED].secret_access_key, "ro-secret");
    assert_null(s.creds[HARNESS_PRINCIPAL_RESTRICTED].session_token);
    assert_string_equal(s.creds[HARNESS_PRINCIPAL_TEMPORARY].session_token, "tmp-token");
    assert_int_equal(s.source[HARNESS_PRINCIPAL_TEMPORARY], HARNESS_SETTING_FLAGS);
    harness_live_settings_cleanup(&s);
}

/* --- Refusals ---------------------------------------------------------------------- */

struct refusal {
    const char *name;
    struct harness_live_cred_args args;
    struct env_var env[4];
    const char *why; /* a part of the message */
};

static void test_live_settings_rejects_contradictions(void **state)
{
    (void)state;
    const struct refusal cases[] = {
        {"key without secret",
         {.access_key = "K"},
         {{NULL, NULL}},
         "no secret key for access key K"},
        {"env key without secret",
         {0},
         {{"AWS_ACCESS_KEY_ID", "K"}, {NULL, NULL}},
         "no secret key for access key K"},
        {"secret without key", {.secret_key = "S"}, {{NULL, NULL}}, "without an access key"},
        {"token without key", {.session_token = "T"}, {{NULL, NULL}}, "without an access key"},
        {"env secret without env key",
         {0},
         {{"AWS_SECRET_ACCESS_KEY", "S"}, {NULL, NULL}},
         "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"},
        {"env token without env key",
         {0},
         {{"AWS_SESSION_TOKEN", "T"}, {NULL, NULL}},
         "AWS_SESSION_TOKEN is set but AWS_ACCESS_KEY_ID is not"},
        {"secret twice",
         {.access_key = "K", .secret_key = "S", .secret_key_file = "/dev/null"},
         {{NULL, NULL}},
         "both given"},
        {"restricted secret without key",
         {.restricted_secret_key = "S"},
         {{NULL, NULL}},
         "without --restricted-access-key"},
        {"restricted key without secret",
         {.restricted_access_key = "K"},
         {{NULL, NULL}},
         "no secret key for the restricted principal"},
        {"temporary without token",
         {.temporary_access_key = "K", .temporary_secret_key = "S"},
         {{NULL, NULL}},
         "needs --temporary-session-token"},
        {"bad region", {.region = "US East"}, {{NULL, NULL}}, "is not a region name"},
        {"bad env region",
         {0},
         {{"AWS_REGION", "us-east-1/x"}, {NULL, NULL}},
         "is not a region name"},
        {"missing secret file",
         {.access_key = "K", .secret_key_file = "/nonexistent/etch-secret"},
         {{NULL, NULL}},
         "cannot read the secret file"},
        {"empty secret file",
         {.access_key = "K", .secret_key_file = "/dev/null"},
         {{NULL, NULL}},
         "is empty"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct harness_live_settings s;
        char why[256] = "";
        enum ref_status rc = resolve(&cases[i].args, cases[i].env, &s, why, sizeof(why));
        if (rc != REF_E_MALFORMED || strstr(why, cases[i].why) == NULL) {
            fail_msg("%s: status %s, message '%s'", cases[i].name, ref_status_name(rc), why);
        }
        harness_live_settings_cleanup(&s);
    }
}

/* --- Secret files ------------------------------------------------------------------ */

static void test_live_settings_secret_file_one_line(void **state)
{
    (void)state;
    char *path = secret_file("  file-secret\r\n", 15);
    struct harness_live_cred_args a = {.access_key = "K", .secret_key_file = path};
    struct harness_live_settings s;
    char why[256];
    assert_int_equal(resolve(&a, NULL, &s, why, sizeof(why)), REF_OK);
    assert_string_equal(s.creds[HARNESS_PRINCIPAL_MAIN].secret_access_key, "file-secret");
    harness_live_settings_cleanup(&s);
    unlink(path);
    free(path);

    path = secret_file("one\ntwo\n", 8);
    a.secret_key_file = path;
    assert_int_equal(resolve(&a, NULL, &s, why, sizeof(why)), REF_E_MALFORMED);
    assert_non_null(strstr(why, "more than one line"));
    harness_live_settings_cleanup(&s);
    unlink(path);
    free(path);
}

static void test_live_settings_secret_file_size_limit(void **state)
{
    (void)state;
    size_t n = HARNESS_LIVE_MAX_SECRET_FILE_BYTES;
    char *text = malloc(n + 1);
    assert_non_null(text);
    memset(text, 's', n + 1);
    char *at = secret_file(text, n);
    char *over = secret_file(text, n + 1);
    struct harness_live_cred_args a = {.access_key = "K", .secret_key_file = at};
    struct harness_live_settings s;
    char why[256];
    assert_int_equal(resolve(&a, NULL, &s, why, sizeof(why)), REF_OK);
    assert_int_equal(strlen(s.creds[HARNESS_PRINCIPAL_MAIN].secret_access_key), n);
    harness_live_settings_cleanup(&s);
    a.secret_key_file = over;
    assert_int_equal(resolve(&a, NULL, &s, why, sizeof(why)), REF_E_MALFORMED);
    assert_non_null(strstr(why, "larger than"));
    harness_live_settings_cleanup(&s);
    unlink(at);
    unlink(over);
    free(at);
    free(over);
    free(text);
}

static void test_live_settings_other_secret_files(void **state)
{
    (void)state;
    char *ro = secret_file("ro-secret\n", 10);
    char *tmp = secret_file("tmp-secret\n", 11);
    struct harness_live_cred_args a = {
        .restricted_access_key = "AKIDRO",
        .restricted_secret_key_file = ro,
        .temporary_access_key = "AKIDTMP",
        .temporary_secret_key_file = tmp,
        .temporary_session_token = "tok",
    };
    struct harness_live_settings s;
    char why[256];
    assert_int_equal(resolve(&a, NULL, &s, why, sizeof(why)), REF_OK);
    /* The main principal stays the test one; the others are the given ones. */
    assert_string_equal(s.creds[HARNESS_PRINCIPAL_MAIN].access_key_id, "AKIDEXAMPLE");
    assert_string_equal(s.creds[HARNESS_PRINCIPAL_RESTRICTED].secret_access_key, "ro-secret");
    assert_string_equal(s.creds[HARNESS_PRINCIPAL_TEMPORARY].secret_access_key, "tmp-secret");
    harness_live_settings_cleanup(&s);
    unlink(ro);
    unlink(tmp);
    free(ro);
    free(tmp);
}

/* --- Endpoint URLs ----------------------------------------------------------------- */

static void test_live_endpoint_accepts_root_urls(void **state)
{
    (void)state;
    const struct {
        const char *in;
        const char *url;
        const char *host;
        bool is_https;
    } cases[] = {
        {"http://127.0.0.1:8080", "http://127.0.0.1:8080", "127.0.0.1:8080", false},
        {"http://127.0.0.1:8080/", "http://127.0.0.1:8080", "127.0.0.1:8080", false},
        {"https://elastictranscoder.us-east-1.amazonaws.com",
         "https://elastictranscoder.us-east-1.amazonaws.com",
         "elastictranscoder.us-east-1.amazonaws.com", true},
        {"HTTP://Example.Test:81", "http://Example.Test:81", "Example.Test:81", false},
        {"http://[::1]:9000", "http://[::1]:9000", "[::1]:9000", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct harness_live_endpoint e;
        char why[256] = "";
        if (harness_live_endpoint_parse(cases[i].in, &e, why, sizeof(why)) != REF_OK) {
            fail_msg("%s: %s", cases[i].in, why);
        }
        assert_string_equal(e.url, cases[i].url);
        assert_string_equal(e.host_header, cases[i].host);
        assert_int_equal(e.is_https, cases[i].is_https);
    }
}

static void test_live_endpoint_rejects_other_urls(void **state)
{
    (void)state;
    char longest[HARNESS_LIVE_MAX_URL_BYTES + 8];
    memset(longest, 'a', sizeof(longest) - 1);
    memcpy(longest, "http://", 7);
    longest[sizeof(longest) - 1] = '\0';
    const char *cases[] = {
        "",
        "127.0.0.1:8080",
        "ftp://127.0.0.1/",
        "file:///etc/passwd",
        "http://127.0.0.1:8080/prefix",
        "http://127.0.0.1:8080/2012-09-25/jobs",
        "http://127.0.0.1:8080/?x=1",
        "http://127.0.0.1:8080/#frag",
        "http://user:pw@127.0.0.1:8080",
        "http://",
        longest,
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct harness_live_endpoint e;
        char why[256] = "";
        if (harness_live_endpoint_parse(cases[i], &e, why, sizeof(why)) == REF_OK) {
            fail_msg("accepted '%.60s'", cases[i]);
        }
        assert_true(why[0] != '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_settings_defaults_are_the_test_principals),
        cmocka_unit_test(test_live_settings_environment_beats_defaults),
        cmocka_unit_test(test_live_settings_aws_region_beats_default_region),
        cmocka_unit_test(test_live_settings_flags_beat_environment),
        cmocka_unit_test(test_live_settings_flag_key_takes_environment_secret),
        cmocka_unit_test(test_live_settings_empty_variables_are_unset),
        cmocka_unit_test(test_live_settings_test_keys_given_keep_test_principals),
        cmocka_unit_test(test_live_settings_test_key_alone_is_not_the_test_principal),
        cmocka_unit_test(test_live_settings_other_principals_from_flags),
        cmocka_unit_test(test_live_settings_rejects_contradictions),
        cmocka_unit_test(test_live_settings_secret_file_one_line),
        cmocka_unit_test(test_live_settings_secret_file_size_limit),
        cmocka_unit_test(test_live_settings_other_secret_files),
        cmocka_unit_test(test_live_endpoint_accepts_root_urls),
        cmocka_unit_test(test_live_endpoint_rejects_other_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
