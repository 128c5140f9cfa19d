/* SPDX-License-Identifier: Apache-2.0
 *
 * live_signed.c - one request signed by the main principal, built outside the runner: the
 * test-control calls (live_control.c) and the preflight (live_preflight.c) send these.
 *
 * Signed at the endpoint's clock as the backend sees it (b->ops->now_ms), so that a
 * --clock-offset or a virtual clock set through test control carries over, as it does for
 * the scenarios' own requests.
 */
#define _POSIX_C_SOURCE 200809L

#include "live_internal.h"

#include "harness/expect.h"
#include "harness/text.h"

#include "ref/sigv4.h"

#include <stdio.h>
#include <string.h>

/* Every request this module builds is small: a path and at most a seed of one object. */
#define SIGNED_REQUEST_BYTES 16384
#define SIGNED_WHY_BYTES     384

static enum ref_status build_signed(struct harness_backend *b,
                                    const struct ref_credential *cred,
                                    const char *method,
                                    const char *path,
                                    const char *body,
                                    struct ref_buf *req)
{
    size_t body_len = body != NULL ? strlen(body) : 0;
    char amz_date[REF_SIGV4_AMZ_DATE_LEN + 1];
    ref_sigv4_format_amz_date(b->ops->now_ms(b) / 1000, amz_date);
    char length[24];
    snprintf(length, sizeof(length), "%zu", body_len);

    struct ref_header headers[3 + REF_SIGV4_MAX_ADDED_HEADERS];
    size_t n = 0;
    headers[n++] = (struct ref_header){REF_SLICE_LIT("Host"), ref_slice_from_cstr(b->host)};
    if (body != NULL) {
        headers[n++] =
            (struct ref_header){REF_SLICE_LIT("Content-Type"), REF_SLICE_LIT("application/json")};
        headers[n++] =
            (struct ref_header){REF_SLICE_LIT("Content-Length"), ref_slice_from_cstr(length)};
    }
    struct ref_sigv4_request sreq = {
        .method = ref_slice_from_cstr(method),
        .path = ref_slice_from_cstr(path),
        .query = {NULL, 0},
        .headers = headers,
        .num_headers = n,
        .body = ref_slice_make(body, body_len),
    };
    struct ref_sigv4_sign_params params = {
        .access_key_id = ref_slice_from_cstr(cred->access_key_id),
        .secret_access_key = ref_slice_from_cstr(cred->secret_access_key),
        .region = ref_slice_from_cstr(b->region),
        .service = ref_slice_from_cstr(b->service),
        .amz_date = ref_slice_make(amz_date, REF_SIGV4_AMZ_DATE_LEN),
        .session_token = cred->session_token != NULL ? ref_slice_from_cstr(cred->session_token)
                                                     : (struct ref_slice){NULL, 0},
    };
    struct ref_sigv4_signing_result signing;
    enum ref_status rc = ref_sigv4_sign_request(&params, &sreq, &signing, NULL);
    if (rc == REF_OK) {
        rc = ref_sigv4_signing_result_apply(&signing, headers, &n,
                                            sizeof(headers) / sizeof(headers[0]));
    }
    if (rc == REF_OK) {
        rc = ref_buf_appendf(req, "%s %s HTTP/1.1\r\n", method, path);
    }
    for (size_t i = 0; rc == REF_OK && i < n; i++) {
        rc = ref_buf_appendf(req, "%.*s: %.*s\r\n", (int)headers[i].name.len,
                             (const char *)headers[i].name.ptr, (int)headers[i].value.len,
                             (const char *)headers[i].value.ptr);
    }
    if (rc == REF_OK) {
        rc = ref_buf_append_cstr(req, "\r\n");
    }
    if (rc == REF_OK && body_len > 0) {
        rc = ref_buf_append(req, body, body_len);
    }
    ref_sigv4_signing_result_cleanup(&signing);
    return rc;
}

enum ref_status live_signed_exchange(struct harness_backend *b,
                                     const char *method,
                                     const char *path,
                                     const char *body,
                                     struct live_answer *out,
                                     char *why,
                                     size_t why_cap)
{
    memset(out, 0, sizeof(*out));
    ref_buf_init(&out->raw, HARNESS_MAX_RESPONSE_HEADER_BYTES + HARNESS_MAX_RESPONSE_BODY_BYTES);
    ref_buf_init(&out->body, HARNESS_MAX_RESPONSE_BODY_BYTES);
    const struct ref_credential *cred = b->principals[HARNESS_PRINCIPAL_MAIN];
    if (cred == NULL) {
        harness_textf(why, why_cap, "the run has no main principal to sign with");
        return REF_E_NOT_FOUND;
    }
    struct ref_buf req;
    ref_buf_init(&req, SIGNED_REQUEST_BYTES);
    enum ref_status rc = build_signed(b, cred, method, path, body, &req);
    if (rc != REF_OK) {
        harness_textf(why, why_cap, "cannot build the request (%s)", ref_status_name(rc));
        ref_buf_cleanup(&req);
        return rc;
    }
    char send_why[SIGNED_WHY_BYTES] = "";
    rc = b->ops->send_explained(b, ref_buf_slice(&req), &out->raw, send_why, sizeof(send_why));
    ref_buf_cleanup(&req);
    if (rc != REF_OK) {
        harness_textf(why, why_cap, "%s", send_why[0] != '\0' ? send_why : ref_status_name(rc));
        return rc;
    }
    if (out->raw.len == 0) {
        harness_textf(why, why_cap, "the endpoint closed the connection without answering");
        return REF_E_MALFORMED;
    }
    struct ref_parse_error err = {0};
    if (harness_http_parse_response(ref_buf_slice(&out->raw), &out->http, &out->body, NULL,
                                    &err) != REF_OK) {
        harness_textf(why, why_cap, "the answer is not HTTP (%s at byte %zu)",
                      err.reason != NULL ? err.reason : "unparsable", err.offset);
        return REF_E_MALFORMED;
    }
    out->json = json_loadb((const char *)out->http.body.ptr, out->http.body.len, 0, NULL);
    struct harness_observed obs = {.http = &out->http, .body = out->json};
    harness_error_code(&obs, out->error_code, sizeof(out->error_code));
    return REF_OK;
}

void live_answer_cleanup(struct live_answer *a)
{
    json_decref(a->json);
    a->json = NULL;
    ref_buf_cleanup(&a->raw);
    ref_buf_cleanup(&a->body);
}
