/* SPDX-License-Identifier: Apache-2.0
 *
 * live_preflight.c - before the first scenario of a live run, what is the target? One
 * signed call that changes nothing tells a refused key, a server that is not an Elastic
 * Transcoder endpoint and one that does not speak HTTP apart from an endpoint worth
 * running the suite against, so that a run against the wrong thing stops with one clear
 * line instead of a hundred failing scenarios.
 *
 * The calls are ListPipelines and, when that looks unknown to the server, ReadJob of an
 * Id that names no job: an emulator need not implement every operation, and either one
 * answering in the contract's form (section 1 or section 4) is enough.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness/live.h"

#include "live_internal.h"

#include "harness/expect.h"
#include "harness/text.h"

#include <stdio.h>
#include <string.h>

/* Well formed (contract section 2) and, being all ones, unlikely to name a job. */
#define PREFLIGHT_UNKNOWN_JOB_PATH "/2012-09-25/jobs/1111111111111-etchpf"
#define PREFLIGHT_SHOWN_BODY_BYTES 60
#define PREFLIGHT_WHY_BYTES        384

const char *harness_preflight_verdict_name(enum harness_preflight_verdict v)
{
    switch (v) {
    case HARNESS_PREFLIGHT_USABLE:
        return "usable";
    case HARNESS_PREFLIGHT_UNREACHABLE:
        return "unreachable";
    case HARNESS_PREFLIGHT_NOT_HTTP:
        return "not HTTP";
    case HARNESS_PREFLIGHT_CREDENTIALS_REFUSED:
        return "credentials refused";
    case HARNESS_PREFLIGHT_CLOCK_REFUSED:
        return "the signature's date is refused (the clocks disagree; see --clock-offset)";
    case HARNESS_PREFLIGHT_NOT_ELASTIC_TRANSCODER:
        return "not an Elastic Transcoder endpoint";
    }
    return "?";
}

/* The codes with which an endpoint refuses who is calling rather than what is asked: the
 * contract's (sections 4 and 5) and those other AWS services answer for the same cases. */
static bool is_credential_error(const char *code)
{
    static const char *const codes[] = {
        "MissingAuthenticationTokenException",
        "MissingAuthenticationToken",
        "IncompleteSignatureException",
        "InvalidSignatureException",
        "UnrecognizedClientException",
        "AccessDeniedException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "ExpiredTokenException",
    };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (strcmp(code, codes[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* "404 text/html \"<html><body>Not Found...\"": enough to recognise what answered. */
static void describe_answer(const struct live_answer *a, char *out, size_t cap)
{
    if (a->error_code[0] != '\0') {
        json_t *message = json_object_get(a->json, "message");
        harness_textf(out, cap, "%d %s%s%s", a->http.status, a->error_code,
                      json_is_string(message) ? ": " : "",
                      json_is_string(message) ? json_string_value(message) : "");
        return;
    }
    const struct ref_header *type = harness_http_response_header(&a->http, "Content-Type");
    char shown[PREFLIGHT_SHOWN_BODY_BYTES + 1];
    size_t n = 0;
    for (size_t i = 0; i < a->http.body.len && n < PREFLIGHT_SHOWN_BODY_BYTES; i++) {
        uint8_t c = a->http.body.ptr[i];
        shown[n++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
    }
    shown[n] = '\0';
    harness_textf(out, cap, "%d, %.*s%s, body \"%s%s\"", a->http.status,
                  type != NULL ? (int)type->value.len : 0,
                  type != NULL ? (const char *)type->value.ptr : "",
                  type != NULL ? "" : "no Content-Type", shown,
                  a->http.body.len > n ? "..." : "");
}

/* What one answer says about the target; PREFLIGHT_UNDECIDED when it says nothing
 * either way (the operation looks unknown, or the answer is in no form of the contract). */
enum { PREFLIGHT_UNDECIDED = -1 };

/* Contract section 5's messages for a request time outside the server's window. */
static bool is_clock_refusal(const struct live_answer *a)
{
    json_t *message = json_object_get(a->json, "message");
    const char *text = json_is_string(message) ? json_string_value(message) : "";
    return strcmp(a->error_code, "InvalidSignatureException") == 0 &&
           (strstr(text, "Signature expired") != NULL ||
            strstr(text, "Signature not yet current") != NULL);
}

static int judge(const struct live_answer *a, const char *member)
{
    if (is_clock_refusal(a)) {
        return HARNESS_PREFLIGHT_CLOCK_REFUSED;
    }
    if (is_credential_error(a->error_code)) {
        return HARNESS_PREFLIGHT_CREDENTIALS_REFUSED;
    }
    if (a->http.status / 100 == 2 && json_is_object(a->json) &&
        json_object_get(a->json, member) != NULL) {
        return HARNESS_PREFLIGHT_USABLE;
    }
    /* An error code as clients derive it (contract section 4) is this API's way of
     * answering, even in a form that breaks other rules: the scenarios judge the form. */
    struct harness_observed obs = {.http = &a->http, .body = a->json};
    if (a->error_code[0] != '\0' && !harness_is_unknown_operation(&obs)) {
        return HARNESS_PREFLIGHT_USABLE;
    }
    return PREFLIGHT_UNDECIDED;
}

/* One probe: fills *verdict when the answer decides, and appends what came to out. */
static bool probe(struct harness_backend *b,
                  const char *operation,
                  const char *path,
                  const char *member,
                  enum harness_preflight_verdict *verdict,
                  struct harness_preflight *out)
{
    struct live_answer a;
    char why[PREFLIGHT_WHY_BYTES] = "";
    enum ref_status rc = live_signed_exchange(b, "GET", path, NULL, &a, why, sizeof(why));
    size_t used = strlen(out->what);
    char *tail = out->what + used;
    size_t room = sizeof(out->what) - used;
    const char *sep = used > 0 ? "; " : "";
    bool is_decided = true;
    if (rc == REF_E_MALFORMED) {
        *verdict = HARNESS_PREFLIGHT_NOT_HTTP;
        harness_textf(tail, room, "%s%s: %s", sep, operation, why);
    } else if (rc == REF_E_NOT_FOUND) {
        /* No main principal: nothing to sign with, so nothing to judge by. */
        *verdict = HARNESS_PREFLIGHT_USABLE;
        harness_textf(tail, room, "%snot checked: %s", sep, why);
    } else if (rc != REF_OK) {
        *verdict = HARNESS_PREFLIGHT_UNREACHABLE;
        harness_textf(tail, room, "%s%s: %s", sep, operation, why);
    } else {
        char shown[PREFLIGHT_WHY_BYTES];
        describe_answer(&a, shown, sizeof(shown));
        harness_textf(tail, room, "%s%s answered %s", sep, operation, shown);
        int judged = judge(&a, member);
        is_decided = judged != PREFLIGHT_UNDECIDED;
        if (is_decided) {
            *verdict = (enum harness_preflight_verdict)judged;
        }
    }
    live_answer_cleanup(&a);
    return is_decided;
}

enum harness_preflight_verdict harness_live_preflight(struct harness_backend *b,
                                                      struct harness_preflight *out)
{
    memset(out, 0, sizeof(*out));
    enum harness_preflight_verdict verdict = HARNESS_PREFLIGHT_NOT_ELASTIC_TRANSCODER;
    if (!probe(b, "ListPipelines", "/2012-09-25/pipelines", "Pipelines", &verdict, out) &&
        !probe(b, "ReadJob", PREFLIGHT_UNKNOWN_JOB_PATH, "Job", &verdict, out)) {
        verdict = HARNESS_PREFLIGHT_NOT_ELASTIC_TRANSCODER;
    }
    out->verdict = verdict;
    return verdict;
}
