/* SPDX-License-Identifier: Apache-2.0
 *
 * request_build.c - the request of a step, built: an operation call serialised as the SDKs
 * send it, or a request written out, with ${var} expanded everywhere, then signed and
 * serialised into the exact bytes the backend sends.
 *
 * Every step kind, the runner's own requests on shared targets (List pages, probes,
 * cleanup) and the sub-steps of concurrent groups go through runner_prepare, so a request
 * is built one way whoever sends it. The exchange it fills owns copies of every part, for
 * the reports.
 */
#define _POSIX_C_SOURCE 200809L

#include "runner_internal.h"

#include "harness/sign.h"
#include "harness/text.h"
#include "harness/vars.h"

#include "ref/limits.h"
#include "ref/uri.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BUILT_REQUEST  (REF_MAX_REQUEST_BYTES)
#define MAX_RESPONSE_BYTES (HARNESS_MAX_RESPONSE_BODY_BYTES + HARNESS_MAX_RESPONSE_HEADER_BYTES)

/* Contract section 2: a pipeline Name is 1 to 40 characters. */
#define HARNESS_MAX_PIPELINE_NAME 40

/* --- Exchanges --------------------------------------------------------------------- */

char *runner_dup_n(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (out != NULL) {
        memcpy(out, s, n);
        out[n] = '\0';
    }
    return out;
}

void runner_exchange_cleanup(struct harness_exchange *x)
{
    free(x->label);
    free(x->method);
    free(x->target);
    for (size_t i = 0; i < x->num_headers; i++) {
        free(x->headers[i].name);
        free(x->headers[i].value);
    }
    free(x->headers);
    free(x->body);
    free(x->observed_body);
    ref_buf_cleanup(&x->request);
    ref_buf_cleanup(&x->response);
    memset(x, 0, sizeof(*x));
}

enum ref_status runner_exchange_init(struct harness_exchange *x)
{
    memset(x, 0, sizeof(*x));
    ref_buf_init(&x->request, MAX_BUILT_REQUEST);
    ref_buf_init(&x->response, MAX_RESPONSE_BYTES);
    x->headers = calloc(MAX_REQUEST_HEADERS, sizeof(*x->headers));
    return x->headers != NULL ? REF_OK : REF_E_NOMEM;
}

enum ref_status runner_add_header(struct harness_header_copy *headers,
                                  size_t *n,
                                  size_t cap,
                                  const char *name,
                                  size_t name_len,
                                  const char *value,
                                  size_t value_len)
{
    if (*n >= cap) {
        return REF_E_TOO_LARGE;
    }
    char *nm = runner_dup_n(name, name_len);
    char *vl = runner_dup_n(value, value_len);
    if (nm == NULL || vl == NULL) {
        free(nm);
        free(vl);
        return REF_E_NOMEM;
    }
    headers[*n].name = nm;
    headers[*n].value = vl;
    (*n)++;
    return REF_OK;
}

enum ref_status runner_add_header_cstr(
    struct harness_header_copy *headers, size_t *n, size_t cap, const char *name, const char *value)
{
    return runner_add_header(headers, n, cap, name, strlen(name), value, strlen(value));
}

static bool name_is(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
        char cb = (*b >= 'A' && *b <= 'Z') ? (char)(*b + 32) : *b;
        if (ca != cb) {
            return false;
        }
    }
    return *a == *b;
}

/* --- Building requests ------------------------------------------------------------- */

/* Expands ${vars} in s into a new NUL-terminated string. REF_E_NOT_FOUND names the
 * missing variable in why. */
enum ref_status runner_expand(struct run *r,
                              const char *s,
                              size_t len,
                              char **out,
                              size_t *out_len,
                              char *why,
                              size_t why_cap)
{
    struct ref_buf buf;
    ref_buf_init(&buf, MAX_BUILT_REQUEST);
    char missing[HARNESS_MAX_VAR_NAME_BYTES] = "";
    enum ref_status rc = harness_vars_expand(&r->vars, s, len, &buf, missing, sizeof(missing));
    if (rc == REF_OK) {
        rc = ref_buf_nul_terminate(&buf);
    }
    if (rc != REF_OK) {
        if (rc == REF_E_NOT_FOUND) {
            harness_textf(why, why_cap, "variable ${%s} has no value", missing);
        } else {
            harness_textf(why, why_cap, "cannot substitute variables (%s)", ref_status_name(rc));
        }
        ref_buf_cleanup(&buf);
        return rc;
    }
    if (buf.data != NULL && r->num_aliases > 0) {
        runner_apply_aliases(r, buf.data, buf.len);
    }
    if (buf.data == NULL) {
        *out = runner_dup_n("", 0);
        *out_len = 0;
        return *out != NULL ? REF_OK : REF_E_NOMEM;
    }
    /* A copy from our own allocator: ref_buf memory belongs to ref_mem's hooks. */
    *out = runner_dup_n((const char *)buf.data, buf.len);
    *out_len = buf.len;
    ref_buf_cleanup(&buf);
    return *out != NULL ? REF_OK : REF_E_NOMEM;
}

struct expand_ctx {
    struct run *r;
    char *why;
    size_t why_cap;
};

static json_t *expand_string(void *cls, json_t *s)
{
    struct expand_ctx *ctx = cls;
    char *text = NULL;
    size_t n = 0;
    if (runner_expand(ctx->r, json_string_value(s), json_string_length(s), &text, &n, ctx->why,
                      ctx->why_cap) != REF_OK) {
        return NULL;
    }
    json_t *out = json_stringn_nocheck(text, n);
    free(text);
    return out;
}

/* A copy of a params value with ${vars} expanded in every string. NULL with why set for
 * a variable that has no value, NULL with why empty when memory ran out. */
static json_t *expand_json(struct run *r, json_t *v, char *why, size_t why_cap)
{
    struct expand_ctx ctx = {.r = r, .why = why, .why_cap = why_cap};
    return harness_json_map_strings(v, expand_string, &ctx);
}

/* On a shared target every pipeline a scenario creates gets the run's suffix, so that
 * people sharing the endpoint can tell whose it is and cleanup never touches another's.
 * A name too long to take it (a length-limit test) is sent as written. */
static enum ref_status suffix_pipeline_name(struct run *r, json_t *body)
{
    json_t *name = json_object_get(body, "Name");
    size_t len = json_string_length(name);
    size_t suffix_len = strlen(r->name_suffix);
    if (!json_is_string(name) || len == 0 || len + suffix_len > HARNESS_MAX_PIPELINE_NAME) {
        return REF_OK;
    }
    char text[HARNESS_MAX_PIPELINE_NAME + 1];
    memcpy(text, json_string_value(name), len);
    memcpy(text + len, r->name_suffix, suffix_len);
    text[len + suffix_len] = '\0';
    return json_object_set_new(body, "Name", json_stringn(text, len + suffix_len)) == 0
               ? REF_OK
               : REF_E_NOMEM;
}

enum ref_status runner_append_encoded(struct ref_buf *out, const char *s, size_t n)
{
    return ref_uri_encode(ref_slice_make(s, n), false, out);
}

/* The query of a List call: Ascending then PageToken, the order of the model's members. */
static enum ref_status append_call_query(struct run *r,
                                         const struct harness_request_spec *spec,
                                         struct ref_buf *target,
                                         char *why,
                                         size_t why_cap)
{
    static const char *const qnames[] = {"Ascending", "PageToken"};
    enum ref_status rc = REF_OK;
    char *s = NULL;
    size_t n = 0;
    char sep = '?';
    for (size_t i = 0; rc == REF_OK && i < 2; i++) {
        json_t *v = json_object_get(spec->params, qnames[i]);
        if (v == NULL) {
            continue;
        }
        rc = ref_buf_appendf(target, "%c%s=", sep, qnames[i]);
        sep = '&';
        if (rc != REF_OK) {
            break;
        }
        if (json_is_boolean(v)) {
            rc = ref_buf_append_cstr(target, json_is_true(v) ? "true" : "false");
        } else {
            rc =
                runner_expand(r, json_string_value(v), json_string_length(v), &s, &n, why, why_cap);
            if (rc == REF_OK) {
                rc = runner_append_encoded(target, s, n);
            }
            free(s);
            s = NULL;
        }
    }
    return rc;
}

static enum ref_status build_call(struct run *r,
                                  const struct harness_request_spec *spec,
                                  struct harness_exchange *x,
                                  char *why,
                                  size_t why_cap)
{
    const struct ref_op_info *info = ref_op_info(spec->op);
    struct ref_buf target;
    ref_buf_init(&target, REF_MAX_TARGET_BYTES * 4);
    enum ref_status rc = ref_buf_appendf(&target, "/%s/%s", REF_API_VERSION, info->collection);
    char *s = NULL;
    size_t n = 0;
    if (rc == REF_OK && info->label_member != NULL) {
        json_t *label = json_object_get(spec->params, info->label_member);
        rc = ref_buf_append_cstr(&target, "/");
        if (rc == REF_OK) {
            rc = runner_expand(r, json_string_value(label), json_string_length(label), &s, &n, why,
                               why_cap);
        }
        if (rc == REF_OK) {
            rc = runner_append_encoded(&target, s, n);
        }
        free(s);
        s = NULL;
    }
    if (rc == REF_OK && info->suffix != NULL) {
        rc = ref_buf_appendf(&target, "/%s", info->suffix);
    }
    if (rc == REF_OK && info->has_query && spec->params != NULL) {
        rc = append_call_query(r, spec, &target, why, why_cap);
    }
    if (rc == REF_OK) {
        rc = ref_buf_nul_terminate(&target);
    }
    if (rc != REF_OK) {
        ref_buf_cleanup(&target);
        return rc;
    }
    x->target = runner_dup_n((const char *)target.data, target.len);
    ref_buf_cleanup(&target);
    if (x->target == NULL) {
        return REF_E_NOMEM;
    }
    x->method = runner_dup_n(info->method, strlen(info->method));
    if (x->method == NULL) {
        return REF_E_NOMEM;
    }
    rc = runner_add_header_cstr(x->headers, &x->num_headers, MAX_REQUEST_HEADERS, "Host",
                                r->b->host);
    if (rc == REF_OK && info->has_body) {
        json_t *body = json_object();
        if (body == NULL) {
            return REF_E_NOMEM;
        }
        if (spec->params != NULL) {
            const char *key;
            json_t *v;
            json_object_foreach (spec->params, key, v) {
                if (info->label_member != NULL && strcmp(key, info->label_member) == 0) {
                    continue;
                }
                json_t *c = expand_json(r, v, why, why_cap);
                if (c == NULL) {
                    json_decref(body);
                    return why[0] != '\0' ? REF_E_NOT_FOUND : REF_E_NOMEM;
                }
                /* On failure jansson releases c; a body missing a member must not go out. */
                if (json_object_set_new(body, key, c) != 0) {
                    json_decref(body);
                    return REF_E_NOMEM;
                }
            }
        }
        if (spec->op == REF_OP_CREATE_PIPELINE && r->is_shared) {
            rc = suffix_pipeline_name(r, body);
            if (rc != REF_OK) {
                json_decref(body);
                return rc;
            }
        }
        char *text = harness_json_dump(body, JSON_COMPACT);
        json_decref(body);
        if (text == NULL) {
            return REF_E_NOMEM;
        }
        x->body_len = strlen(text);
        x->body = (uint8_t *)text;
        char len_text[24];
        harness_textf(len_text, sizeof(len_text), "%zu", x->body_len);
        rc = runner_add_header_cstr(x->headers, &x->num_headers, MAX_REQUEST_HEADERS,
                                    "Content-Type", "application/json");
        if (rc == REF_OK) {
            rc = runner_add_header_cstr(x->headers, &x->num_headers, MAX_REQUEST_HEADERS,
                                        "Content-Length", len_text);
        }
    }
    return rc;
}

static enum ref_status
add_header_list(struct run *r, json_t *list, struct harness_exchange *x, char *why, size_t why_cap)
{
    size_t i;
    json_t *pair;
    json_array_foreach (list, i, pair) {
        json_t *name = json_array_get(pair, 0);
        json_t *value = json_array_get(pair, 1);
        char *nv = NULL;
        char *vv = NULL;
        size_t nn = 0;
        size_t vn = 0;
        enum ref_status rc = runner_expand(r, json_string_value(name), json_string_length(name),
                                           &nv, &nn, why, why_cap);
        if (rc == REF_OK) {
            rc = runner_expand(r, json_string_value(value), json_string_length(value), &vv, &vn,
                               why, why_cap);
        }
        if (rc == REF_OK) {
            rc =
                runner_add_header(x->headers, &x->num_headers, MAX_REQUEST_HEADERS, nv, nn, vv, vn);
        }
        free(nv);
        free(vv);
        if (rc != REF_OK) {
            return rc;
        }
    }
    return REF_OK;
}

static enum ref_status build_raw(struct run *r,
                                 const struct harness_request_spec *spec,
                                 struct harness_exchange *x,
                                 char *why,
                                 size_t why_cap)
{
    size_t n = 0;
    REF_TRY(runner_expand(r, spec->method, strlen(spec->method), &x->method, &n, why, why_cap));
    REF_TRY(runner_expand(r, spec->target, strlen(spec->target), &x->target, &n, why, why_cap));
    bool has_host = false;
    bool has_framing = false;
    if (spec->headers != NULL) {
        size_t i;
        json_t *pair;
        json_array_foreach (spec->headers, i, pair) {
            const char *name = json_string_value(json_array_get(pair, 0));
            has_host = has_host || name_is(name, "Host");
            has_framing = has_framing || name_is(name, "Content-Length") ||
                          name_is(name, "Transfer-Encoding");
        }
    }
    if (spec->add_host && !has_host) {
        REF_TRY(runner_add_header_cstr(x->headers, &x->num_headers, MAX_REQUEST_HEADERS, "Host",
                                       r->b->host));
    }
    if (spec->headers != NULL) {
        REF_TRY(add_header_list(r, spec->headers, x, why, why_cap));
    }
    if (spec->body != NULL) {
        char *body = NULL;
        REF_TRY(runner_expand(r, spec->body, spec->body_len, &body, &x->body_len, why, why_cap));
        x->body = (uint8_t *)body;
    }
    if (spec->auto_length && x->body_len > 0 && !has_framing) {
        char len_text[24];
        harness_textf(len_text, sizeof(len_text), "%zu", x->body_len);
        REF_TRY(runner_add_header_cstr(x->headers, &x->num_headers, MAX_REQUEST_HEADERS,
                                       "Content-Length", len_text));
    }
    return REF_OK;
}

static enum ref_status serialize(struct harness_exchange *x, const char *version)
{
    struct ref_buf *out = &x->request;
    REF_TRY(ref_buf_appendf(out, "%s %s %s\r\n", x->method, x->target, version));
    for (size_t i = 0; i < x->num_headers; i++) {
        REF_TRY(ref_buf_appendf(out, "%s: %s\r\n", x->headers[i].name, x->headers[i].value));
    }
    REF_TRY(ref_buf_append_cstr(out, "\r\n"));
    return ref_buf_append(out, x->body, x->body_len);
}

/* After a seeded Id replaced a literal one in a request written with its signature. */
static enum prep
resign_or_error(struct run *r, struct harness_exchange *x, char *why, size_t why_cap)
{
    enum ref_status rc = runner_resign_raw(r, x);
    if (rc == REF_E_NOT_FOUND) {
        harness_textf(why, why_cap,
                      "the target has no principal with the access key this request is "
                      "written signed with");
        r->lacked_principal = true;
        return PREP_SKIP;
    }
    if (rc != REF_OK) {
        harness_textf(why, why_cap, "cannot sign the request again for the run's Ids (%s)",
                      ref_status_name(rc));
        return PREP_ERROR;
    }
    return PREP_OK;
}

/* The headers an SDK gives every attempt of one call: the invocation Id, the same for
 * all, and the attempt's number (the JS SDK v3 also says how many it makes at most, 3 by
 * default; botocore's default "legacy" mode sends the number alone). */
static enum ref_status add_attempt_headers(struct harness_exchange *x,
                                           const struct sdk_attempt *attempt)
{
    char request_text[48];
    if (attempt->sdk == HARNESS_RETRYING_SDK_JS_V3) {
        harness_textf(request_text, sizeof(request_text), "attempt=%u; max=3", attempt->number);
    } else {
        harness_textf(request_text, sizeof(request_text), "attempt=%u", attempt->number);
    }
    REF_TRY(runner_add_header_cstr(x->headers, &x->num_headers, MAX_REQUEST_HEADERS,
                                   "amz-sdk-invocation-id", attempt->invocation_id));
    return runner_add_header_cstr(x->headers, &x->num_headers, MAX_REQUEST_HEADERS,
                                  "amz-sdk-request", request_text);
}

enum prep runner_prepare(struct run *r,
                         const struct harness_step *step,
                         struct harness_exchange *x,
                         char *why,
                         size_t why_cap)
{
    return runner_prepare_attempt(r, step, NULL, x, why, why_cap);
}

enum prep runner_prepare_attempt(struct run *r,
                                 const struct harness_step *step,
                                 const struct sdk_attempt *attempt,
                                 struct harness_exchange *x,
                                 char *why,
                                 size_t why_cap)
{
    enum ref_status rc = runner_exchange_init(x);
    if (rc != REF_OK) {
        harness_textf(why, why_cap, "out of memory");
        return PREP_ERROR;
    }
    x->sign = step->sign;
    why[0] = '\0';
    const struct harness_request_spec *spec = &step->request;
    if (spec->is_verbatim) {
        x->is_verbatim = true;
        rc = ref_buf_append(&x->request, spec->bytes, spec->bytes_len);
        if (rc != REF_OK) {
            harness_textf(why, why_cap, "cannot hold the request (%s)", ref_status_name(rc));
            return PREP_ERROR;
        }
        r->has_aliased = false;
        if (r->num_aliases > 0) {
            runner_apply_aliases(r, x->request.data, x->request.len);
        }
        return r->has_aliased || r->redate_ms != 0 ? resign_or_error(r, x, why, why_cap) : PREP_OK;
    }
    r->has_aliased = false;
    rc = step->kind == HARNESS_STEP_RAW ||
                 (step->kind == HARNESS_STEP_WAIT && spec->op == REF_OP_NONE)
             ? build_raw(r, spec, x, why, why_cap)
             : build_call(r, spec, x, why, why_cap);
    if (rc == REF_OK && spec->op != REF_OP_NONE && spec->headers != NULL) {
        rc = add_header_list(r, spec->headers, x, why, why_cap);
    }
    /* The JS SDK signs its retry headers (SignedHeaders lists them), so they go in first. */
    if (rc == REF_OK && attempt != NULL && attempt->sdk == HARNESS_RETRYING_SDK_JS_V3) {
        rc = add_attempt_headers(x, attempt);
    }
    if (rc == REF_OK) {
        struct harness_sign_target t = {
            .method = x->method,
            .target = x->target,
            .headers = x->headers,
            .num_headers = &x->num_headers,
            .cap_headers = MAX_REQUEST_HEADERS,
            .body = x->body,
            .body_len = x->body_len,
        };
        rc = harness_sign_request(r->b, &step->sign, r->b->ops->now_ms(r->b), &t);
        if (rc == REF_E_NOT_FOUND) {
            harness_textf(why, why_cap, "the target has no %s principal",
                          harness_principal_name(step->sign.principal));
            r->lacked_principal = true;
            return PREP_SKIP;
        }
    }
    /* botocore adds its retry headers after signing: they follow Authorization, unsigned. */
    if (rc == REF_OK && attempt != NULL && attempt->sdk == HARNESS_RETRYING_SDK_BOTOCORE) {
        rc = add_attempt_headers(x, attempt);
    }
    if (rc == REF_OK) {
        rc = serialize(x, spec->version != NULL ? spec->version : "HTTP/1.1");
    }
    if (rc != REF_OK) {
        if (why[0] == '\0') {
            harness_textf(why, why_cap, "cannot build the request (%s)", ref_status_name(rc));
        }
        return PREP_ERROR;
    }
    /* Signed by the runner after the Ids were put in, or written with a signature of its
     * own that no longer covers them (new Ids, or a date the clock step moved). */
    return (r->has_aliased || r->redate_ms != 0) && step->sign.principal == HARNESS_PRINCIPAL_NONE
               ? resign_or_error(r, x, why, why_cap)
               : PREP_OK;
}
