/* SPDX-License-Identifier: Apache-2.0
 *
 * report.h - what a run tells people and machines: the text table (colour on a tty),
 * the summary line, failure details with reproducers, and JUnit XML, TAP and JSON Lines.
 *
 * Reproducers never contain a secret: the curl command takes the credentials from the
 * AWS environment variables and session tokens are shown as <redacted>.
 */
#ifndef HARNESS_REPORT_H
#define HARNESS_REPORT_H

#include "harness/runner.h"

#include "ref/buf.h"

#include <stdbool.h>
#include <stdio.h>

struct harness_summary {
    size_t scenarios;
    size_t by_verdict[HARNESS_VERDICT_COUNT];
    size_t must_held, must_total;
    size_t should_held, should_total;
    double duration_ms; /* the scenarios' times added up */
    double wall_ms;     /* the run's own time, start to end; 0 when not known */
};

void harness_summary_compute(const struct harness_scenario_result *results,
                             size_t n,
                             struct harness_summary *out);

struct harness_report_meta {
    const char *tool;     /* "etch 0.1.0" */
    const char *target;   /* "embedded reference (in process)" */
    const char *endpoint; /* URL base for curl reproducers */
    const char *region;
    const char *service;
    bool strict;              /* a DEVIATION counts as a failure (--strict) */
    bool allow_unimplemented; /* NOT IMPLEMENTED is reported as skipped, not failed */
    double wall_ms;           /* the run's wall time; 0 when not known */
    /* Where the run saved the requests of its failing steps (--save-requests), named as
     * harness_saved_request_path says; NULL when it did not. Reproducers point there. */
    const char *saved_requests_dir;
};

/* The table, the failure details and the summary. */
void harness_report_text(FILE *out,
                         const struct harness_scenario_result *results,
                         size_t n,
                         const struct harness_report_meta *meta,
                         bool color);
/* The details of one non-passing step (shared by the table and the cmocka runner). */
void harness_report_step_details(FILE *out,
                                 const struct harness_scenario_result *r,
                                 const struct harness_step_result *s,
                                 const struct harness_report_meta *meta,
                                 bool color);
/* "summary: 4 scenarios, 3 passed, ..." and "conformance: must 52/53 (98.1%), ..." */
void harness_report_summary(FILE *out, const struct harness_summary *sum);

/* The machine reports, one test case (JUnit), test point (TAP) or line (JSON Lines) per
 * scenario. Each returns REF_OK; REF_E_INTERNAL when the stream reports a write error;
 * harness_report_jsonl also REF_E_NOMEM when a line cannot be built (the lines before it
 * are written). */
REF_MUST_CHECK enum ref_status harness_report_junit(FILE *out,
                                                    const struct harness_scenario_result *results,
                                                    size_t n,
                                                    const struct harness_report_meta *meta);
REF_MUST_CHECK enum ref_status harness_report_tap(FILE *out,
                                                  const struct harness_scenario_result *results,
                                                  size_t n,
                                                  const struct harness_report_meta *meta);
REF_MUST_CHECK enum ref_status harness_report_jsonl(FILE *out,
                                                    const struct harness_scenario_result *results,
                                                    size_t n,
                                                    const struct harness_report_meta *meta);

/* Appends a runnable curl command for the exchange (secrets from the environment), or,
 * when curl cannot reproduce the step (a signature fault or a signed_headers list, bytes
 * curl cannot send as they are, a verbatim request), a line saying why and the byte-for-
 * byte replays of the saved request: `etch send` and nc (openssl s_client for https).
 * saved_path names the saved request; NULL: the replays name REQUEST.http and say how to
 * write it. A request signed by hand is sent with its own Authorization, with a line on
 * its date. */
REF_MUST_CHECK enum ref_status harness_step_reproducer(const struct harness_exchange *x,
                                                       const struct harness_report_meta *meta,
                                                       const char *saved_path,
                                                       struct ref_buf *out);
/* harness_step_reproducer without a saved request. */
REF_MUST_CHECK enum ref_status harness_curl_reproducer(const struct harness_exchange *x,
                                                       const struct harness_report_meta *meta,
                                                       struct ref_buf *out);
/* Appends the raw bytes readably: CRLF shown as line ends, other control bytes as \xNN,
 * the session token redacted, at most max_bytes of input. */
REF_MUST_CHECK enum ref_status harness_raw_printable(struct ref_slice raw,
                                                     size_t max_bytes,
                                                     const char *indent,
                                                     struct ref_buf *out);

#endif
