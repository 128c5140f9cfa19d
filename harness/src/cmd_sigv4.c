/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_sigv4.c - `etch sigv4 sign|canonical|string-to-sign|verify FILE`.
 *
 * Runs one SigV4 stage over a request file and prints it exactly, so a signer author can
 * compare byte for byte. Request files are read leniently (LF or CRLF, folded header
 * lines, raw UTF-8 or a space in the target) so AWS's own suite files work as they are;
 * the service itself never accepts those forms.
 */
#include "cli_util.h"
#include "harness/commands.h"
#include "harness/secret.h"

#include "ref/http_lenient.h"
#include "ref/limits.h"
#include "ref/mem.h"
#include "ref/service.h"
#include "ref/sigv4.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_usage[] =
    "usage: etch sigv4 <sign|canonical|string-to-sign|verify> [options] FILE\n"
    "\n"
    "  sign            print the Authorization value for the request (one line)\n"
    "  canonical       print the canonical request\n"
    "  string-to-sign  print the string to sign\n"
    "  verify          check the request's signature: prints OK, or the first failed check\n"
    "                  with the canonical request and string to sign the verifier computed\n"
    "\n"
    "options:\n"
    "  --access-key K      access key id        (default: the contract's AKIDEXAMPLE)\n"
    "  --secret-key S      secret access key    (default: the contract's test secret)\n"
    "  --secret-key-file F read the secret from F (one line)\n"
    "  --session-token T   session token: added as X-Amz-Security-Token when signing,\n"
    "                      required when verifying\n"
    "  --region R          (default: us-east-1)\n"
    "  --service S         (default: elastictranscoder)\n"
    "  --now T             YYYYMMDDTHHMMSSZ; the X-Amz-Date added when the request has\n"
    "                      none, and the verifier's clock (default: the real time)\n"
    "  --skew-seconds N    verifier clock-skew window (default: 300)\n"
    "  --payload-header    also add and sign x-amz-content-sha256\n"
    "  --print request     (sign) print the whole signed request instead\n"
    "\n"
    "FILE is a raw HTTP request ('-' for stdin). With an Authorization header present,\n"
    "canonical and string-to-sign follow its SignedHeaders, date and scope, as the\n"
    "verifier does; without one, they follow what 'sign' would sign.\n"
    "\n"
    "Exit status: 0 success (verify: OK), 1 verification failed, 2 bad usage or input.\n";

enum mode { MODE_NONE = 0, MODE_SIGN, MODE_CANONICAL, MODE_STRING_TO_SIGN, MODE_VERIFY };

struct options {
    enum mode mode;
    const char *path;
    const char *access_key;
    const char *secret_key;
    const char *secret_key_file;
    const char *session_token;
    const char *region;
    const char *service;
    int64_t now_ms;
    long skew_s;
    bool payload_header;
    bool print_request;
};

/* A request being signed: the parsed headers plus the ones the signer adds. */
struct signing_request {
    struct ref_http_request http;
    struct ref_header headers[REF_MAX_HEADERS + REF_SIGV4_MAX_ADDED_HEADERS];
    size_t num_headers;
    /* What the signer is asked to add (the date, the token, the payload header); the
     * credential and scope are set when signing. */
    struct ref_sigv4_sign_params sign;
    char amz_date[REF_SIGV4_AMZ_DATE_LEN + 1];
    /* What SigV4 signs: the body as the service reads it, decoded when it is chunked (the
     * wire form, http.body, is what gets printed back). */
    struct ref_slice signed_body;
    struct ref_buf decoded_body;
};

static enum mode parse_mode(const char *s)
{
    if (strcmp(s, "sign") == 0) {
        return MODE_SIGN;
    } else if (strcmp(s, "canonical") == 0) {
        return MODE_CANONICAL;
    } else if (strcmp(s, "string-to-sign") == 0) {
        return MODE_STRING_TO_SIGN;
    } else if (strcmp(s, "verify") == 0) {
        return MODE_VERIFY;
    }
    return MODE_NONE;
}

/* Reads the action, the request file and the options into *o. Returns true to go on;
 * false when the command ends here, with *exit_status ETCH_EXIT_PASS after --help, or
 * ETCH_EXIT_USAGE for a usage error (message printed). */
static bool parse_args(int argc, char **argv, struct options *o, int *exit_status)
{
    *o = (struct options){
        .access_key = REF_TEST_CRED_MAIN->access_key_id,
        .secret_key = REF_TEST_CRED_MAIN->secret_access_key,
        .region = REF_TEST_REGION,
        .service = "elastictranscoder",
        .now_ms = etch_real_now_ms(),
        .skew_s = 300,
    };
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(s_usage, stdout);
            *exit_status = ETCH_EXIT_PASS;
            return false;
        } else if (strcmp(arg, "--access-key") == 0 && has_value) {
            o->access_key = argv[++i];
        } else if (strcmp(arg, "--secret-key") == 0 && has_value) {
            o->secret_key = argv[++i];
        } else if (strcmp(arg, "--secret-key-file") == 0 && has_value) {
            o->secret_key_file = argv[++i];
        } else if (strcmp(arg, "--session-token") == 0 && has_value) {
            o->session_token = argv[++i];
        } else if (strcmp(arg, "--region") == 0 && has_value) {
            o->region = argv[++i];
        } else if (strcmp(arg, "--service") == 0 && has_value) {
            o->service = argv[++i];
        } else if (strcmp(arg, "--now") == 0 && has_value) {
            if (!etch_parse_now(argv[++i], &o->now_ms, "etch sigv4")) {
                *exit_status = ETCH_EXIT_USAGE;
                return false;
            }
        } else if (strcmp(arg, "--skew-seconds") == 0 && has_value) {
            char *end = NULL;
            o->skew_s = strtol(argv[++i], &end, 10);
            if (end == argv[i] || *end != '\0' || o->skew_s < 0 || o->skew_s > 86400 * 7) {
                fprintf(stderr, "etch sigv4: --skew-seconds takes 0..604800\n");
                *exit_status = ETCH_EXIT_USAGE;
                return false;
            }
        } else if (strcmp(arg, "--payload-header") == 0) {
            o->payload_header = true;
        } else if (strcmp(arg, "--print") == 0 && has_value) {
            if (strcmp(argv[++i], "request") != 0) {
                fprintf(stderr, "etch sigv4: --print takes 'request'\n");
                *exit_status = ETCH_EXIT_USAGE;
                return false;
            }
            o->print_request = true;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "etch sigv4: unknown or incomplete option '%s'\n\n%s", arg, s_usage);
            *exit_status = ETCH_EXIT_USAGE;
            return false;
        } else if (o->mode == MODE_NONE) {
            o->mode = parse_mode(arg);
            if (o->mode == MODE_NONE) {
                fprintf(stderr, "etch sigv4: unknown action '%s'\n\n%s", arg, s_usage);
                *exit_status = ETCH_EXIT_USAGE;
                return false;
            }
        } else if (o->path == NULL) {
            o->path = arg;
        } else {
            fprintf(stderr, "etch sigv4: only one request file\n\n%s", s_usage);
            *exit_status = ETCH_EXIT_USAGE;
            return false;
        }
    }
    if (o->mode == MODE_NONE || o->path == NULL) {
        fputs(s_usage, stderr);
        *exit_status = ETCH_EXIT_USAGE;
        return false;
    }
    if (o->print_request && o->mode != MODE_SIGN) {
        fprintf(stderr, "etch sigv4: --print request goes with 'sign'\n");
        *exit_status = ETCH_EXIT_USAGE;
        return false;
    }
    return true;
}

/* Says what the signer adds: X-Amz-Date when the request has none (one it has is kept and
 * signed with), the token when given and the request has none, the payload header. */
static void prepare_for_signing(struct signing_request *r, const struct options *o)
{
    for (size_t i = 0; i < r->http.num_headers; i++) {
        r->headers[r->num_headers++] = r->http.headers[i];
    }
    r->sign = (struct ref_sigv4_sign_params){.has_content_sha256 = o->payload_header};
    const struct ref_header *date =
        ref_http_find_header(r->headers, r->num_headers, REF_SLICE_LIT("x-amz-date"));
    if (date == NULL) {
        ref_sigv4_format_amz_date(o->now_ms / 1000, r->amz_date);
        r->sign.amz_date = ref_slice_make(r->amz_date, REF_SIGV4_AMZ_DATE_LEN);
    } else {
        r->sign.amz_date = date->value;
        r->sign.is_date_in_request = true;
    }
    if (o->session_token != NULL &&
        ref_http_find_header(r->headers, r->num_headers, REF_SLICE_LIT("x-amz-security-token")) ==
            NULL) {
        r->sign.session_token = ref_slice_from_cstr(o->session_token);
    }
}

static struct ref_sigv4_request sigv4_view(const struct signing_request *r)
{
    return (struct ref_sigv4_request){
        .method = r->http.method,
        .path = r->http.path,
        .query = r->http.query,
        .headers = r->headers,
        .num_headers = r->num_headers,
        .body = r->signed_body,
    };
}

static void print_signed_request(const struct signing_request *r, struct ref_slice authorization)
{
    printf(REF_SLICE_FMT " " REF_SLICE_FMT " " REF_SLICE_FMT "\r\n", REF_SLICE_ARG(r->http.method),
           REF_SLICE_ARG(r->http.target),
           REF_SLICE_ARG(r->http.version.len ? r->http.version : REF_SLICE_LIT("HTTP/1.1")));
    for (size_t i = 0; i < r->num_headers; i++) {
        if (ref_slice_eq_nocase(r->headers[i].name, REF_SLICE_LIT("authorization"))) {
            continue; /* replaced by the new signature below */
        }
        printf(REF_SLICE_FMT ": " REF_SLICE_FMT "\r\n", REF_SLICE_ARG(r->headers[i].name),
               REF_SLICE_ARG(r->headers[i].value));
    }
    printf("Authorization: " REF_SLICE_FMT "\r\n\r\n", REF_SLICE_ARG(authorization));
    fwrite(r->http.body.ptr, 1, r->http.body.len, stdout);
}

/* The service hashes a chunked body as its chunks decode, so etch does too. The request file
 * was read leniently (LF line ends and the rest), so its chunks are decoded by the
 * reference's strict parser behind a head of its own: the framing itself must be exact. */
static bool decode_body(struct signing_request *r, const char *path)
{
    r->signed_body = r->http.body;
    const struct ref_header *te = ref_http_find_header(r->http.headers, r->http.num_headers,
                                                       REF_SLICE_LIT("transfer-encoding"));
    if (te == NULL || !ref_slice_eq_nocase(te->value, REF_SLICE_LIT("chunked"))) {
        return true;
    }
    static const char head[] = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    struct ref_buf wire;
    ref_buf_init(&wire, sizeof head - 1 + r->http.body.len);
    struct ref_http_request decoded;
    struct ref_parse_error err = {0};
    enum ref_status rc = ref_buf_append(&wire, head, sizeof head - 1);
    if (rc == REF_OK) {
        rc = ref_buf_append_slice(&wire, r->http.body);
    }
    if (rc == REF_OK) {
        rc = ref_http_parse_request(ref_buf_slice(&wire), &decoded, &r->decoded_body, &err);
    }
    if (rc == REF_OK) {
        r->signed_body = decoded.body;
    } else {
        fprintf(stderr,
                "etch sigv4: the chunked body of '%s' does not decode (%s at body byte %zu: "
                "%s); SigV4 signs the decoded body\n",
                path, ref_status_name(rc),
                err.offset > sizeof head - 1 ? err.offset - (sizeof head - 1) : 0,
                err.reason != NULL ? err.reason : "no reason given");
    }
    ref_buf_cleanup(&wire);
    return rc == REF_OK;
}

static void print_buf(const struct ref_buf *b)
{
    fwrite(b->data, 1, b->len, stdout);
    fputc('\n', stdout);
}

/* The request carries a signature: compute the stages the verifier computes. */
static int verifier_stage(const struct options *o,
                          const struct signing_request *r,
                          const struct ref_credential *cred)
{
    struct ref_sigv4_verifier v = {
        .credentials = cred,
        .num_credentials = 1,
        .region = o->region,
        .service = o->service,
        .skew_s = o->skew_s,
    };
    struct ref_buf canonical, sts;
    ref_buf_init(&canonical, REF_MAX_CANONICAL_BYTES);
    ref_buf_init(&sts, REF_MAX_CANONICAL_BYTES);
    struct ref_sigv4_trace trace = {.canonical_request = &canonical, .string_to_sign = &sts};
    struct ref_sigv4_request req = sigv4_view(r);
    struct ref_sigv4_outcome outcome;
    enum ref_status rc = ref_sigv4_verify(&v, &req, o->now_ms / 1000, &outcome, &trace);
    int exit_code = 0;
    if (o->mode == MODE_VERIFY) {
        if (rc == REF_OK) {
            printf("OK\n");
        } else {
            printf("FAIL %s %d %s\n%s\n", ref_status_error_type(rc), ref_status_http(rc),
                   ref_status_name(rc), outcome.message);
            if (outcome.err.reason != NULL) {
                printf("at %s, byte %zu: %s\n", outcome.err.where ? outcome.err.where : "request",
                       outcome.err.offset, outcome.err.reason);
            }
            if (canonical.len > 0) {
                printf("\nCanonical request (as the verifier computed it):\n");
                print_buf(&canonical);
            }
            if (sts.len > 0) {
                printf("\nString to sign (as the verifier computed it):\n");
                print_buf(&sts);
            }
            exit_code = 1;
        }
    } else {
        const struct ref_buf *stage = o->mode == MODE_CANONICAL ? &canonical : &sts;
        if (stage->len == 0) {
            fprintf(stderr, "etch sigv4: the verifier stopped before this stage: %s %s\n",
                    ref_status_error_type(rc), outcome.message);
            exit_code = 1;
        } else {
            fwrite(stage->data, 1, stage->len, stdout);
            if (o->mode == MODE_STRING_TO_SIGN || canonical.len > 0) {
                fputc('\n', stdout);
            }
        }
    }
    ref_buf_cleanup(&canonical);
    ref_buf_cleanup(&sts);
    return exit_code;
}

/* No signature yet: compute the stages the signer computes. */
static int signer_stage(const struct options *o, struct signing_request *r)
{
    struct ref_sigv4_sign_params p = r->sign;
    p.access_key_id = ref_slice_from_cstr(o->access_key);
    p.secret_access_key = ref_slice_from_cstr(o->secret_key);
    p.region = ref_slice_from_cstr(o->region);
    p.service = ref_slice_from_cstr(o->service);
    struct ref_buf canonical, sts;
    ref_buf_init(&canonical, REF_MAX_CANONICAL_BYTES);
    ref_buf_init(&sts, REF_MAX_CANONICAL_BYTES);
    struct ref_sigv4_trace trace = {.canonical_request = &canonical, .string_to_sign = &sts};
    struct ref_sigv4_request req = sigv4_view(r);
    struct ref_sigv4_signing_result signing;
    enum ref_status rc = ref_sigv4_sign_request(&p, &req, &signing, &trace);
    if (rc == REF_OK) {
        /* The request as printed: its own headers, then what the signer added. */
        rc = ref_sigv4_signing_result_apply(&signing, r->headers, &r->num_headers,
                                            sizeof(r->headers) / sizeof(r->headers[0]));
    }
    struct ref_slice authorization = ref_sigv4_signing_result_authorization(&signing);
    int exit_code = 0;
    if (rc != REF_OK) {
        if (rc == REF_E_TOO_LARGE) {
            fprintf(stderr,
                    "etch sigv4: cannot sign this request: the reference would refuse its "
                    "signature as too large (at most %d signed headers and a %d-byte "
                    "Authorization value)\n",
                    REF_MAX_SIGNED_HEADERS, REF_MAX_AUTHORIZATION_BYTES);
        } else {
            fprintf(stderr, "etch sigv4: cannot sign this request: %s\n", ref_status_name(rc));
        }
        exit_code = 2;
    } else if (o->mode == MODE_SIGN && o->print_request) {
        print_signed_request(r, authorization);
    } else if (o->mode == MODE_SIGN) {
        fwrite(authorization.ptr, 1, authorization.len, stdout);
        fputc('\n', stdout);
    } else {
        print_buf(o->mode == MODE_CANONICAL ? &canonical : &sts);
    }
    ref_sigv4_signing_result_cleanup(&signing);
    ref_buf_cleanup(&canonical);
    ref_buf_cleanup(&sts);
    return exit_code;
}

/* Copies slice into a NUL-terminated buffer, truncating; returns out. */
static const char *slice_to_cstr(struct ref_slice s, char *out, size_t cap)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    for (size_t i = 0; i < n; i++) {
        out[i] = (char)s.ptr[i];
    }
    out[n] = '\0';
    return out;
}

static void credential_from_request(const struct signing_request *r,
                                    struct ref_credential *cred,
                                    char *key_id,
                                    size_t key_id_cap,
                                    char *token,
                                    size_t token_cap)
{
    const struct ref_header *authz =
        ref_http_find_header(r->headers, r->num_headers, REF_SLICE_LIT("authorization"));
    struct ref_sigv4_auth auth;
    if (authz != NULL && ref_sigv4_parse_authorization(authz->value, &auth, NULL) == REF_OK) {
        cred->access_key_id = slice_to_cstr(auth.access_key_id, key_id, key_id_cap);
    }
    const struct ref_header *tok =
        ref_http_find_header(r->headers, r->num_headers, REF_SLICE_LIT("x-amz-security-token"));
    cred->session_token = tok ? slice_to_cstr(tok->value, token, token_cap) : NULL;
}

int etch_cmd_sigv4(int argc, char **argv)
{
    struct options o;
    int exit_status = ETCH_EXIT_USAGE;
    if (!parse_args(argc, argv, &o, &exit_status)) {
        return exit_status;
    }

    int exit_code = 2;
    struct ref_buf raw, scratch;
    ref_buf_init(&raw, REF_MAX_REQUEST_BYTES);
    ref_buf_init(&scratch, REF_MAX_REQUEST_BYTES);
    char *secret = NULL;
    struct signing_request *r = ref_mem_calloc(1, sizeof(*r));
    if (r == NULL) {
        goto out;
    }
    ref_buf_init(&r->decoded_body, REF_MAX_BODY_BYTES);
    if (o.secret_key_file != NULL) {
        char why[512];
        if (harness_read_secret_file(o.secret_key_file, &secret, why, sizeof(why)) != REF_OK) {
            fprintf(stderr, "etch sigv4: %s\n", why);
            goto out;
        }
        o.secret_key = secret;
    }
    if (!etch_read_input(o.path, &raw, "etch sigv4")) {
        goto out;
    }
    struct ref_parse_error err = {0};
    if (ref_http_parse_lenient(ref_buf_slice(&raw), &r->http, &scratch, &err) != REF_OK) {
        char msg[512];
        ref_parse_error_format(&err, raw.data, raw.len, msg, sizeof(msg));
        fprintf(stderr, "etch sigv4: cannot read the request in '%s':\n%s\n", o.path, msg);
        goto out;
    }
    if (!decode_body(r, o.path)) {
        goto out;
    }

    bool has_authorization = ref_http_find_header(r->http.headers, r->http.num_headers,
                                                  REF_SLICE_LIT("authorization")) != NULL;
    if (o.mode == MODE_VERIFY || (has_authorization && o.mode != MODE_SIGN)) {
        for (size_t i = 0; i < r->http.num_headers; i++) {
            r->headers[r->num_headers++] = r->http.headers[i];
        }
        struct ref_credential cred = {
            .access_key_id = o.access_key,
            .secret_access_key = o.secret_key,
            .session_token = o.session_token,
            .role = REF_ROLE_FULL,
        };
        char key_id[256], token[2048];
        if (o.mode != MODE_VERIFY) {
            /* Printing a stage must not depend on the clock or on who signed: take the
             * key and token from the request itself and accept any time. */
            credential_from_request(r, &cred, key_id, sizeof(key_id), token, sizeof(token));
            o.skew_s = INT32_MAX;
        }
        exit_code = verifier_stage(&o, r, &cred);
    } else {
        if (has_authorization) {
            fprintf(stderr, "etch sigv4: the request is already signed; signing it again\n");
        }
        prepare_for_signing(r, &o);
        exit_code = signer_stage(&o, r);
    }

out:
    if (r != NULL) {
        ref_buf_cleanup(&r->decoded_body);
    }
    ref_mem_free(r);
    if (secret != NULL) {
        ref_mem_wipe(secret, strlen(secret));
        free(secret);
    }
    ref_buf_cleanup(&scratch);
    ref_buf_cleanup(&raw);
    return exit_code;
}
