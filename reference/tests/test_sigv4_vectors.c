/* SPDX-License-Identifier: Apache-2.0
 *
 * test_sigv4_vectors.c - the public AWS SigV4 suites and the project's own vectors, run
 * stage by stage through the signer and then the verifier.
 *
 * The AWS suites are read in place from ETCH_SHARED_DIR/vectors (never copied into the
 * project); without that folder their tests skip. Each case is its own cmocka test, and a
 * failing case prints which stage diverged: canonical request, string to sign (computed
 * from the expected canonical request), signature (computed from the expected string to
 * sign), or the Authorization value. Cases that do not apply are registered and skipped
 * with the reason, so the output lists them.
 */
#define _POSIX_C_SOURCE 200809L

#include "sigv4_test_support.h"
#include "test_util.h"

#include "ref/http_lenient.h"
#include "ref/mem.h"
#include "ref/sigv4.h"

#include <jansson.h>

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PATH_BYTES 1024

enum suite {
    SUITE_NONE = 0,
    SUITE_CLASSIC, /* sigv4/<case>/<case>.{req,creq,sts,authz} */
    SUITE_CRT,     /* sigv4-crt/<case>/{context.json,request.txt,header-*.txt} */
    SUITE_PROJECT, /* fixtures/sigv4/<case>/{context.json,request.txt,...} */
    SUITE_MISSING, /* the shared vectors folder is absent */
};

struct vcase {
    enum suite suite;
    char dir[PATH_BYTES];
    char base[128]; /* the case's own name (classic file stem) */
    char test_name[192];
};

/* Everything one case needs from its files. */
struct vinput {
    char *request_text;
    size_t request_len;
    char *creq;
    char *sts;
    char *authz;     /* classic only */
    char *signature; /* CRT and project */
    char ak[128], sk[128], region[64], service[64], amz_date[17];
    char *token; /* malloc'd, or NULL */
    bool normalize;
    bool sign_body;
    bool omit_token;
    bool is_explicit_list; /* project: SignedHeaders given in context.json */
    char signed_list[1024];
};

static char *read_text(const char *dir, const char *file, size_t *len)
{
    char path[PATH_BYTES];
    path_join(path, sizeof path, dir, file);
    return test_read_file(path, len);
}

static char *must_read(const char *dir, const char *file, size_t *len)
{
    char *text = read_text(dir, file, len);
    if (text == NULL) {
        fail_msg("cannot read %s/%s", dir, file);
    }
    return text;
}

/* Trailing newlines in expected-value files are not part of the value. */
static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) {
        s[--n] = '\0';
    }
}

static void copy_cstr(char *dst, size_t cap, const char *src)
{
    int n = snprintf(dst, cap, "%s", src);
    assert_true(n >= 0 && (size_t)n < cap);
}

/* "2015-08-30T12:36:00Z" -> "20150830T123600Z". */
static void iso_extended_to_basic(const char *iso, char out[17])
{
    size_t j = 0;
    for (size_t i = 0; iso[i] != '\0' && j < 16; i++) {
        if (iso[i] != '-' && iso[i] != ':') {
            out[j++] = iso[i];
        }
    }
    out[j] = '\0';
    assert_int_equal(j, 16);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void load_context(const char *dir, struct vinput *in)
{
    char path[PATH_BYTES];
    path_join(path, sizeof path, dir, "context.json");
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (root == NULL) {
        fail_msg("%s:%d: %s", path, jerr.line, jerr.text);
    }
    json_t *creds = json_object_get(root, "credentials");
    assert_non_null(creds);
    copy_cstr(in->ak, sizeof in->ak, json_string_value(json_object_get(creds, "access_key_id")));
    copy_cstr(in->sk, sizeof in->sk,
              json_string_value(json_object_get(creds, "secret_access_key")));
    const char *token = json_string_value(json_object_get(creds, "token"));
    in->token = token != NULL ? strdup(token) : NULL;
    copy_cstr(in->region, sizeof in->region, json_string_value(json_object_get(root, "region")));
    copy_cstr(in->service, sizeof in->service, json_string_value(json_object_get(root, "service")));
    iso_extended_to_basic(json_string_value(json_object_get(root, "timestamp")), in->amz_date);
    json_t *normalize = json_object_get(root, "normalize");
    in->normalize = normalize == NULL || json_is_true(normalize);
    in->sign_body = json_is_true(json_object_get(root, "sign_body"));
    in->omit_token = json_is_true(json_object_get(root, "omit_session_token"));
    json_t *list = json_object_get(root, "signed_headers");
    in->is_explicit_list = json_is_array(list);
    in->signed_list[0] = '\0';
    if (in->is_explicit_list) {
        size_t i;
        json_t *name;
        size_t used = 0;
        json_array_foreach (list, i, name) {
            int n = snprintf(in->signed_list + used, sizeof in->signed_list - used, "%s%s",
                             i > 0 ? ";" : "", json_string_value(name));
            assert_true(n > 0 && (size_t)n < sizeof in->signed_list - used);
            used += (size_t)n;
        }
    }
    json_decref(root);
}

static void free_input(struct vinput *in)
{
    free(in->request_text);
    free(in->creq);
    free(in->sts);
    free(in->authz);
    free(in->signature);
    free(in->token);
}

/* The classic suite gives session tokens only in its notes; the CRT case of the same name
 * carries the same token in its context.json (vectors/SOURCE.md), so read it there. */
static char *classic_token(const char *case_name)
{
    char path[PATH_BYTES];
    int n = snprintf(path, sizeof path, "%s/vectors/sigv4-crt/%s", ETCH_SHARED_DIR, case_name);
    assert_true(n > 0 && (size_t)n < sizeof path);
    struct vinput crt = {0};
    load_context(path, &crt);
    return crt.token;
}

static void load_case(const struct vcase *c, struct vinput *in)
{
    memset(in, 0, sizeof *in);
    char file[256];
    if (c->suite == SUITE_CLASSIC) {
        snprintf(file, sizeof file, "%s.req", c->base);
        in->request_text = must_read(c->dir, file, &in->request_len);
        snprintf(file, sizeof file, "%s.creq", c->base);
        in->creq = must_read(c->dir, file, NULL);
        snprintf(file, sizeof file, "%s.sts", c->base);
        in->sts = must_read(c->dir, file, NULL);
        snprintf(file, sizeof file, "%s.authz", c->base);
        in->authz = must_read(c->dir, file, NULL);
        chomp(in->authz);
        /* Fixed inputs of the classic suite (vectors/SOURCE.md, "Fixed inputs"). */
        copy_cstr(in->ak, sizeof in->ak, "AKIDEXAMPLE");
        copy_cstr(in->sk, sizeof in->sk, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        copy_cstr(in->region, sizeof in->region, "us-east-1");
        copy_cstr(in->service, sizeof in->service, "service");
        copy_cstr(in->amz_date, sizeof in->amz_date, "20150830T123600Z");
        in->normalize = true;
        if (strcmp(c->base, "get-vanilla-with-session-token") == 0 ||
            strncmp(c->base, "post-sts-header-", 16) == 0) {
            in->token = classic_token(c->base);
        }
        /* post-sts-header-after: the token goes on after signing (not signed). */
        in->omit_token = strcmp(c->base, "post-sts-header-after") == 0;
        return;
    }
    load_context(c->dir, in);
    in->request_text = must_read(c->dir, "request.txt", &in->request_len);
    if (c->suite == SUITE_CRT) {
        in->creq = must_read(c->dir, "header-canonical-request.txt", NULL);
        in->sts = must_read(c->dir, "header-string-to-sign.txt", NULL);
        in->signature = must_read(c->dir, "header-signature.txt", NULL);
    } else {
        in->creq = must_read(c->dir, "canonical-request.txt", NULL);
        in->sts = must_read(c->dir, "string-to-sign.txt", NULL);
        in->signature = must_read(c->dir, "signature.txt", NULL);
    }
    chomp(in->signature);
}

static bool
stage_check(const struct vcase *c, const char *stage, struct ref_slice got, const char *want)
{
    if (ref_slice_eq_cstr(got, want)) {
        return true;
    }
    print_error("%s: stage '%s' diverged\n--- expected\n%s\n--- got\n" REF_SLICE_FMT "\n---\n",
                c->test_name, stage, want, REF_SLICE_ARG(got));
    return false;
}

/* The signature in an Authorization value ("..., Signature=<hex>"). */
static const char *authz_signature(const char *authz)
{
    const char *at = strstr(authz, "Signature=");
    return at != NULL ? at + strlen("Signature=") : "";
}

static void run_case(void **state)
{
    const struct vcase *c = *state;
    if (c->suite == SUITE_MISSING) {
        print_message("SigV4 suites not found at %s/vectors: AWS vector cases skipped\n",
                      ETCH_SHARED_DIR);
        skip();
    }
    struct vinput in;
    load_case(c, &in);
    if (!in.normalize) {
        print_message("%s: normalize=false is the S3 path rule; this service normalises\n",
                      c->test_name);
        free_input(&in);
        skip();
    }

    /* Parse the request file. */
    struct ref_http_request *http = calloc(1, sizeof *http);
    assert_non_null(http);
    struct ref_buf scratch;
    ref_buf_init(&scratch, 65536);
    struct ref_parse_error perr = {0};
    enum ref_status rc = ref_http_parse_lenient(ref_slice_make(in.request_text, in.request_len),
                                                http, &scratch, &perr);
    if (rc != REF_OK) {
        fail_msg("%s: request file does not parse: %s at %zu (%s)", c->test_name, perr.reason,
                 perr.offset, perr.where);
    }
    struct treq *t = calloc(1, sizeof *t);
    assert_non_null(t);
    treq_init(t, "", "", "", "");
    t->req.method = http->method;
    t->req.path = http->path;
    t->req.query = http->query;
    t->req.body = http->body;
    for (size_t i = 0; i < http->num_headers; i++) {
        treq_add_slice(t, http->headers[i].name, http->headers[i].value);
    }
    /* What a CRT-style signer adds before signing (vectors/SOURCE.md, CRT format). */
    char body_hash[REF_SHA256_HEX_LEN + 1] = {0};
    if (c->suite == SUITE_CRT) {
        treq_add(t, "X-Amz-Date", in.amz_date);
        if (in.sign_body) {
            ref_sigv4_sha256_hex(t->req.body, body_hash);
            treq_add(t, "x-amz-content-sha256", body_hash);
        }
    }
    /* The signer adds the token unless the case says it goes on after signing, or the
     * request file already carries it (classic post-sts-header-before, project cases). */
    if (in.token != NULL && !in.omit_token && treq_count(t, "x-amz-security-token") == 0) {
        treq_add(t, "X-Amz-Security-Token", in.token);
    }

    /* Sign, keeping the signer's own stages. */
    struct ref_buf creq, sts;
    ref_buf_init(&creq, REF_MAX_CANONICAL_BYTES);
    ref_buf_init(&sts, 4096);
    struct ref_sigv4_trace trace = {&creq, &sts};
    struct ref_slice names[REF_MAX_SIGNED_HEADERS];
    size_t num_names = 0;
    if (in.is_explicit_list) {
        num_names = split_names(in.signed_list, names, REF_MAX_SIGNED_HEADERS);
    }
    struct ref_sigv4_sign_params p = {
        .access_key_id = ref_slice_from_cstr(in.ak),
        .secret_access_key = ref_slice_from_cstr(in.sk),
        .region = ref_slice_from_cstr(in.region),
        .service = ref_slice_from_cstr(in.service),
        .amz_date = ref_slice_from_cstr(in.amz_date),
        .signed_headers = in.is_explicit_list ? names : NULL,
        .num_signed_headers = num_names,
    };
    rc = ref_sigv4_sign(&p, &t->req, &t->authz, &trace);
    assert_int_equal(rc, REF_OK);

    bool ok = true;
    /* Stage 1: canonical request. */
    ok &= stage_check(c, "canonical request", ref_buf_slice(&creq), in.creq);
    /* Stage 2: string to sign, from the expected canonical request. */
    struct ref_buf sts2;
    ref_buf_init(&sts2, 4096);
    char scope[256];
    snprintf(scope, sizeof scope, "%.8s/%s/%s/aws4_request", in.amz_date, in.region, in.service);
    assert_int_equal(ref_sigv4_string_to_sign(ref_slice_from_cstr(in.amz_date),
                                              ref_slice_from_cstr(scope),
                                              ref_slice_from_cstr(in.creq), &sts2),
                     REF_OK);
    ok &= stage_check(c, "string to sign", ref_buf_slice(&sts2), in.sts);
    ok &= stage_check(c, "string to sign (signer)", ref_buf_slice(&sts), in.sts);
    /* Stage 3: signature, from the expected string to sign. */
    uint8_t key[REF_SHA256_LEN];
    char sig[REF_SHA256_HEX_LEN];
    char date8[9];
    snprintf(date8, sizeof date8, "%.8s", in.amz_date);
    assert_int_equal(ref_sigv4_signing_key(ref_slice_from_cstr(in.sk), ref_slice_from_cstr(date8),
                                           ref_slice_from_cstr(in.region),
                                           ref_slice_from_cstr(in.service), key),
                     REF_OK);
    assert_int_equal(ref_sigv4_signature(key, ref_slice_from_cstr(in.sts), sig), REF_OK);
    ref_mem_wipe(key, sizeof key);
    const char *want_sig = in.signature != NULL ? in.signature : authz_signature(in.authz);
    ok &= stage_check(c, "signature", ref_slice_make(sig, sizeof sig), want_sig);
    /* Stage 4: the whole Authorization value (classic), or the signer's signature. */
    if (in.authz != NULL) {
        ok &= stage_check(c, "authorization", ref_buf_slice(&t->authz), in.authz);
    } else {
        const char *ours = strstr((const char *)t->authz.data, "Signature=");
        assert_non_null(ours);
        ok &= stage_check(c, "signer signature", ref_slice_make(ours + 10, REF_SHA256_HEX_LEN),
                          want_sig);
    }

    /* Stage 5: the verifier accepts what was signed, or refuses a token added after
     * signing (our policy: an unsigned token is UnrecognizedClient). */
    treq_add_slice(t, ref_slice_from_cstr("Authorization"), ref_buf_slice(&t->authz));
    if (in.token != NULL && in.omit_token) {
        treq_add(t, "X-Amz-Security-Token", in.token);
    }
    struct ref_credential cred = {in.ak, in.sk, in.token, REF_ROLE_FULL};
    struct ref_sigv4_verifier v = {
        .credentials = &cred,
        .num_credentials = 1,
        .region = in.region,
        .service = in.service,
        .skew_s = 300,
    };
    int64_t now_s = 0;
    assert_int_equal(ref_sigv4_parse_amz_date(ref_slice_from_cstr(in.amz_date), &now_s, NULL),
                     REF_OK);
    struct ref_sigv4_outcome out;
    rc = ref_sigv4_verify(&v, &t->req, now_s, &out, NULL);
    enum ref_status want_rc = (in.token != NULL && in.omit_token) ? REF_E_BAD_TOKEN : REF_OK;
    if (rc != want_rc) {
        print_error("%s: stage 'verify' gave %s (%s), expected %s\n", c->test_name,
                    ref_status_name(rc), out.message, ref_status_name(want_rc));
        ok = false;
    }

    ref_buf_cleanup(&creq);
    ref_buf_cleanup(&sts);
    ref_buf_cleanup(&sts2);
    ref_buf_cleanup(&scratch);
    treq_cleanup(t);
    free(t);
    free(http);
    free_input(&in);
    if (!ok) {
        fail_msg("%s: at least one stage diverged (see above)", c->test_name);
    }
}

/* Case discovery. */

struct case_list {
    struct vcase *items;
    size_t count, cap;
};

static struct vcase *add_case(struct case_list *l)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->items = realloc(l->items, l->cap * sizeof *l->items);
        assert_non_null(l->items);
    }
    struct vcase *c = &l->items[l->count++];
    memset(c, 0, sizeof *c);
    return c;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The sub-folders of dir, sorted, as malloc'd names (NULL-terminated array). */
static char **list_dirs(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return NULL;
    }
    size_t n = 0, cap = 16;
    char **names = malloc(cap * sizeof *names);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[PATH_BYTES];
        path_join(path, sizeof path, dir, e->d_name);
        if (!is_dir(path)) {
            continue;
        }
        if (n + 1 >= cap) {
            cap *= 2;
            names = realloc(names, cap * sizeof *names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    names[n] = NULL;
    return names;
}

static void free_dirs(char **names)
{
    for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
        free(names[i]);
    }
    free(names);
}

/* Classic: a folder is a case when it holds <folder>.req; otherwise it groups cases. */
static void discover_classic(struct case_list *l, const char *dir, const char *prefix)
{
    char **names = list_dirs(dir);
    for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
        char sub[PATH_BYTES], req[PATH_BYTES * 2];
        path_join(sub, sizeof sub, dir, names[i]);
        snprintf(req, sizeof req, "%s/%s.req", sub, names[i]);
        struct stat st;
        if (stat(req, &st) == 0) {
            struct vcase *c = add_case(l);
            c->suite = SUITE_CLASSIC;
            copy_cstr(c->dir, sizeof c->dir, sub);
            copy_cstr(c->base, sizeof c->base, names[i]);
            snprintf(c->test_name, sizeof c->test_name, "classic/%s%s", prefix, names[i]);
        } else {
            char nested[256];
            snprintf(nested, sizeof nested, "%s%s/", prefix, names[i]);
            discover_classic(l, sub, nested);
        }
    }
    free_dirs(names);
}

static void discover_flat(struct case_list *l, const char *dir, enum suite suite, const char *label)
{
    char **names = list_dirs(dir);
    for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
        struct vcase *c = add_case(l);
        c->suite = suite;
        path_join(c->dir, sizeof c->dir, dir, names[i]);
        copy_cstr(c->base, sizeof c->base, names[i]);
        snprintf(c->test_name, sizeof c->test_name, "%s/%s", label, names[i]);
    }
    free_dirs(names);
}

int main(void)
{
    struct case_list l = {0};
    char dir[PATH_BYTES];
    snprintf(dir, sizeof dir, "%s/vectors", ETCH_SHARED_DIR);
    if (is_dir(dir)) {
        snprintf(dir, sizeof dir, "%s/vectors/sigv4", ETCH_SHARED_DIR);
        discover_classic(&l, dir, "");
        snprintf(dir, sizeof dir, "%s/vectors/sigv4-crt", ETCH_SHARED_DIR);
        discover_flat(&l, dir, SUITE_CRT, "crt");
    } else {
        struct vcase *c = add_case(&l);
        c->suite = SUITE_MISSING;
        copy_cstr(c->test_name, sizeof c->test_name, "aws-suites-missing");
    }
    snprintf(dir, sizeof dir, "%s/fixtures/sigv4", ETCH_SOURCE_DIR);
    discover_flat(&l, dir, SUITE_PROJECT, "project");

    struct CMUnitTest *tests = calloc(l.count, sizeof *tests);
    if (tests == NULL) {
        return 1;
    }
    for (size_t i = 0; i < l.count; i++) {
        tests[i] = (struct CMUnitTest){
            .name = l.items[i].test_name,
            .test_func = run_case,
            .initial_state = &l.items[i],
        };
    }
    int failed = _cmocka_run_group_tests("sigv4_vectors", tests, l.count, NULL, NULL);
    free(tests);
    free(l.items);
    return failed;
}
