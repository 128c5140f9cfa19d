/* SPDX-License-Identifier: Apache-2.0
 *
 * service_internal.h - helpers shared by service.c, service_validate.c and service_out.c.
 *
 * Only the service's own .c files and its tests include this. Nothing here takes a lock;
 * the store does its own locking.
 */
#ifndef REF_SERVICE_INTERNAL_H
#define REF_SERVICE_INTERNAL_H

#include "ref/buf.h"
#include "ref/job_store.h"
#include "ref/slice.h"
#include "ref/status.h"

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- Validation (service_validate.c) ------------------------------------------------- */

/* The patterns of the service model, printed verbatim in validation messages. */
#define REF_PATTERN_ID              "^\\d{13}-\\w{6}$"
#define REF_PATTERN_JOB_STATUS      "(^Submitted$)|(^Progressing$)|(^Complete$)|(^Canceled$)|(^Error$)"
#define REF_PATTERN_PIPELINE_STATUS "(^Active$)|(^Paused$)"
#define REF_PATTERN_ASCENDING       "(^true$)|(^false$)"
#define REF_PATTERN_BUCKET          "^(\\w|\\.|-){1,255}$"
#define REF_PATTERN_ROLE            "^arn:aws:iam::\\w{12}:role/.+$"
#define REF_PATTERN_SNS_TOPIC       "(^$)|(^arn:aws:sns:.*:\\w{12}:.+$)"
#define REF_PATTERN_STORAGE_CLASS   "(^ReducedRedundancy$)|(^Standard$)"
#define REF_PATTERN_GRANTEE_TYPE    "(^Canonical$)|(^Email$)|(^Group$)"
#define REF_PATTERN_ACCESS_CONTROL  "(^FullControl$)|(^Read$)|(^ReadAcp$)|(^WriteAcp$)"

/* A list of validation failures, formatted the way the service answers them:
 * "<n> validation error(s) detected: <entry>; <entry>". */
struct ref_verr {
    struct ref_buf entries; /* "Value '...' at '...' failed to satisfy constraint: ..." joined */
    size_t count;
};

void ref_verr_init(struct ref_verr *v);
void ref_verr_cleanup(struct ref_verr *v);

/* "Value '<value>' at '<member>' failed to satisfy constraint: <constraint>". The value is
 * written as received (the error body builder makes the text valid UTF-8).
 * REF_E_NOMEM / REF_E_TOO_LARGE only. */
REF_MUST_CHECK enum ref_status ref_verr_add(struct ref_verr *v,
                                            struct ref_slice value,
                                            const char *member,
                                            const char *constraint);
/* "... Member must satisfy regular expression pattern: <pattern>". */
REF_MUST_CHECK enum ref_status ref_verr_pattern(struct ref_verr *v,
                                                struct ref_slice value,
                                                const char *member,
                                                const char *pattern);
/* "Value null at '<member>' failed to satisfy constraint: Member must not be null". */
REF_MUST_CHECK enum ref_status ref_verr_null(struct ref_verr *v, const char *member);
/* A failure that is no member constraint (e.g. both Output and Outputs), as is. */
REF_MUST_CHECK enum ref_status ref_verr_text(struct ref_verr *v, const char *text);
/* The member path of a nested member, e.g. "outputs.2.member.key": appended to out. */
REF_MUST_CHECK enum ref_status ref_verr_path(struct ref_buf *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The whole message ("1 validation error detected: ..."), appended to out. */
REF_MUST_CHECK enum ref_status ref_verr_message(const struct ref_verr *v, struct ref_buf *out);

/* Shapes of contract section 2. */
bool ref_shape_bucket(struct ref_slice s);
bool ref_shape_role(struct ref_slice s);
bool ref_shape_sns_topic(struct ref_slice s);
/* The enumerations of a pipeline's ContentConfig and ThumbnailConfig (contract 2b). */
bool ref_shape_storage_class(struct ref_slice s);
bool ref_shape_grantee_type(struct ref_slice s);
bool ref_shape_access_control(struct ref_slice s);
/* Characters (UTF-8 code points) in s; s must be valid UTF-8 (jansson strings are). */
size_t ref_utf8_length(struct ref_slice s);

/* Checks one JSON member against "required string matching pattern"-style rules and
 * records what fails. `checker` may be NULL (any string); min/max count characters (max 0:
 * no upper bound). `required` false accepts an absent member. */
struct ref_string_rule {
    const char *member_path; /* e.g. "inputBucket" */
    bool required;
    size_t min_chars;
    size_t max_chars;
    bool (*checker)(struct ref_slice s);
    const char *pattern; /* printed when checker fails */
};
REF_MUST_CHECK enum ref_status
ref_verr_check_string(struct ref_verr *v, const json_t *value, const struct ref_string_rule *rule);
/* Records a type failure ("Member must be of type <type>") with the value as compact JSON. */
REF_MUST_CHECK enum ref_status
ref_verr_type(struct ref_verr *v, const json_t *value, const char *member_path, const char *type);

/* --- Pipelines (service_pipeline.c) ---------------------------------------------- */

/* Judges a CreatePipeline body in contract section 2b's order: members of the wrong JSON
 * type first, then shapes (each stage's failures together, in the "N validation errors
 * detected" form), then the rules between members, where Role has its own two messages.
 * REF_OK: accepted. REF_E_VALIDATION: the answer's message is appended to msg.
 * REF_E_NOMEM / REF_E_TOO_LARGE otherwise. */
REF_MUST_CHECK enum ref_status ref_pipeline_check(const json_t *body, struct ref_buf *msg);

/* The pipeline as stored and answered (contract section 1b), from a body that
 * ref_pipeline_check accepted: the modelled members that were sent and nothing else,
 * Notifications with its four topics ("" when not sent), and ContentConfig and
 * ThumbnailConfig with Permissions ([] when not sent), both filled from OutputBucket when
 * the body has that instead. New reference; NULL when out of memory. */
json_t *ref_pipeline_spec(const json_t *body);

/* The Warnings of a stored pipeline on an endpoint in `region` (contract section 1b):
 * those decidable from ARNs, an SNS topic or the KMS key in another region. New
 * reference to an array (empty when none); NULL when out of memory. */
json_t *ref_pipeline_warnings(const json_t *spec, const char *region);

/* --- Output (service_out.c) ------------------------------------------------------- */

/* The wire form of a job / pipeline (contract section 1). New reference, NULL when out of
 * memory. It shares the spec's values (read-only, like every stored spec): dump it, do not
 * change it. */
json_t *ref_out_job(const struct ref_job_info *job, const char *region, const char *account_id);
json_t *ref_out_pipeline(const struct ref_pipeline_info *pipeline,
                         const char *region,
                         const char *account_id);

/* Compact JSON of value, appended to out. */
REF_MUST_CHECK enum ref_status ref_out_dump(const json_t *value, struct ref_buf *out);

/* {"message":"..."} for any bytes: text that is not valid UTF-8 has its offending bytes
 * replaced, so the body is always valid JSON. Appended to out. */
REF_MUST_CHECK enum ref_status ref_out_error_body(struct ref_slice message, struct ref_buf *out);

/* "Sat, 28 Nov 2026 12:45:00 GMT" (IMF-fixdate) into out (30 bytes incl. NUL). */
void ref_out_http_date(int64_t unix_ms, char out[30]);

/* A UUID v4 ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx") from 16 random bytes. */
void ref_out_uuid_v4(const uint8_t random16[16], char out[37]);

#endif
