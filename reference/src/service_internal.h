/* SPDX-License-Identifier: Apache-2.0
 *
 * service_internal.h - what the service's own .c files share: the service object and an
 * operation's context, the operations and their common helpers, validation, request
 * schemas, pipelines and jobs as stored, and the output forms.
 *
 * Only the service's own .c files and its tests include this. Nothing here takes a lock but
 * the scheduler's functions (service_sched.c); the store does its own locking.
 */
#ifndef REF_SERVICE_INTERNAL_H
#define REF_SERVICE_INTERNAL_H

#include "ref/buf.h"
#include "ref/http.h"
#include "ref/job_store.h"
#include "ref/service.h"
#include "ref/sigv4.h"
#include "ref/slice.h"
#include "ref/status.h"

#include <jansson.h>

#include <pthread.h>
#include <stdatomic.h>
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
/* CreateJob's members (the model's JobInput, CreateJobOutput and CreateJobPlaylist). */
#define REF_PATTERN_FRAME_RATE                                                                     \
    "(^auto$)|(^10$)|(^15$)|(^23.97$)|(^24$)|(^25$)|(^29.97$)|(^30$)|(^50$)|(^60$)"
#define REF_PATTERN_RESOLUTION   "(^auto$)|(^\\d{1,5}x\\d{1,5}$)"
#define REF_PATTERN_ASPECT_RATIO "(^auto$)|(^1:1$)|(^4:3$)|(^3:2$)|(^16:9$)"
#define REF_PATTERN_INTERLACED   "(^auto$)|(^true$)|(^false$)"
#define REF_PATTERN_CONTAINER                                                                      \
    "(^auto$)|(^3gp$)|(^asf$)|(^avi$)|(^divx$)|(^flv$)|(^mkv$)|(^mov$)|(^mp4$)|(^mpeg$)|"          \
    "(^mpeg-ps$)|(^mpeg-ts$)|(^mxf$)|(^ogg$)|(^ts$)|(^vob$)|(^wav$)|(^webm$)|(^mp3$)|(^m4a$)|"     \
    "(^aac$)"
#define REF_PATTERN_THUMBNAIL_PATTERN "(^$)|(^.*\\{count\\}.*$)"
#define REF_PATTERN_ROTATE            "(^auto$)|(^0$)|(^90$)|(^180$)|(^270$)"
#define REF_PATTERN_FLOAT_STRING      "^\\d{1,5}(\\.\\d{0,5})?$"
#define REF_PATTERN_PLAYLIST_FORMAT   "(^HLSv3$)|(^HLSv4$)|(^Smooth$)|(^MPEG-DASH$)"

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
/* CreateJob's member patterns (contract 2b), each exactly its REF_PATTERN_* above. */
bool ref_shape_frame_rate(struct ref_slice s);
bool ref_shape_resolution(struct ref_slice s);
bool ref_shape_aspect_ratio(struct ref_slice s);
bool ref_shape_interlaced(struct ref_slice s);
bool ref_shape_container(struct ref_slice s);
bool ref_shape_thumbnail_pattern(struct ref_slice s);
bool ref_shape_rotate(struct ref_slice s);
bool ref_shape_float_string(struct ref_slice s);
bool ref_shape_playlist_format(struct ref_slice s);
/* UserMetadata keys and values: 0-9 A-Z a-z, space and _.:/=+-%@ (contract 2b). */
bool ref_shape_user_metadata(struct ref_slice s);
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

/* --- Request schemas (service_schema.c) --------------------------------------------- */

enum ref_member_kind {
    REF_MEMBER_NONE = 0,
    REF_MEMBER_STRING,
    REF_MEMBER_INTEGER,
    REF_MEMBER_STRUCTURE,
    REF_MEMBER_LIST,
    REF_MEMBER_MAP, /* string to string, the model's only map (UserMetadata) */
};

/* One modelled member of a request body. Tables of these are static and never change. */
struct ref_member {
    const char *key;  /* JSON name, e.g. "InputBucket" (unused for a list's element) */
    const char *path; /* its name in member paths, e.g. "inputBucket" */
    enum ref_member_kind kind;
    bool is_required;
    /* REF_MEMBER_STRING: as struct ref_string_rule (max_chars 0: no upper bound).
     * REF_MEMBER_MAP: checker judges every key and value; pattern is then the whole
     * constraint text of a failure. */
    size_t min_chars;
    size_t max_chars;
    bool (*checker)(struct ref_slice s);
    const char *pattern;
    /* REF_MEMBER_STRUCTURE: its members. REF_MEMBER_LIST: members[0] is the element. */
    const struct ref_member *members;
    size_t num_members;
    size_t min_items; /* REF_MEMBER_LIST */
    size_t max_items; /* REF_MEMBER_LIST, REF_MEMBER_MAP (pairs); 0: no upper bound */
};

#define REF_MEMBERS(table) .members = (table), .num_members = sizeof(table) / sizeof((table)[0])

/* Member `key` of obj when present and not null (null counts as not sent); borrowed. */
const json_t *ref_schema_value(const json_t *obj, const char *key);

/* Records every member of the wrong JSON type in body, whose members are m's (m is the
 * request's top structure; member paths start at its members, e.g. "outputs.1.member.key").
 * REF_E_NOMEM / REF_E_TOO_LARGE / REF_E_INTERNAL only. */
REF_MUST_CHECK enum ref_status
ref_schema_check_types(struct ref_verr *v, const struct ref_member *m, const json_t *body);
/* Records every shape failure in body: required members, lengths, patterns, list and map
 * sizes. The types must already be right (ref_schema_check_types found nothing). */
REF_MUST_CHECK enum ref_status
ref_schema_check_shapes(struct ref_verr *v, const struct ref_member *m, const json_t *body);
/* A copy of value with only the members m models. New reference; NULL when out of memory. */
json_t *ref_schema_copy(const struct ref_member *m, const json_t *value);

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

/* --- Jobs (service_job.c) --------------------------------------------------------- */

/* Judges a CreateJob body in contract section 2b's order: members of the wrong JSON type
 * first, then shapes, then the rules between members (exactly one of Input and Inputs and of
 * Output and Outputs; playlists name outputs of this job), each stage's failures together in
 * the "N validation errors detected" form. REF_OK: accepted. REF_E_VALIDATION: the answer's
 * message is appended to msg. REF_E_NOMEM / REF_E_TOO_LARGE otherwise. */
REF_MUST_CHECK enum ref_status ref_job_check(const json_t *body, struct ref_buf *msg);

/* The job as stored (contract section 1b), from a body that ref_job_check accepted: Inputs
 * (a single Input becomes a list of one), Outputs (likewise for Output), Playlists ([] when
 * none), OutputKeyPrefix and UserMetadata when sent; only modelled members, nothing else.
 * New reference; NULL when out of memory. */
json_t *ref_job_spec(const json_t *body);

/* --- Output (service_out.c) ------------------------------------------------------- */

/* The wire form of a job / pipeline (contract section 1). New reference, NULL when out of
 * memory. It shares the spec's values (read-only, like every stored spec): dump it, do not
 * change it. */
json_t *ref_out_job(const struct ref_job_info *job, const char *region, const char *account_id);
/* {"Job": ...}, appended to out: the bytes ref_out_dump gives for a tree of ref_out_job's
 * under "Job", written without building the tree (ReadJob and CreateJob answer this way). */
REF_MUST_CHECK enum ref_status ref_out_job_answer(const struct ref_job_info *job,
                                                  const char *region,
                                                  const char *account_id,
                                                  struct ref_buf *out);
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

/* --- The service (service.c) ------------------------------------------------------- */

struct ref_service {
    struct ref_service_config cfg;
    char *region; /* owned copies of the config's strings */
    char *account_id;
    struct ref_sigv4_verifier verifier;
    struct ref_sigv4_key_cache *key_cache; /* NULL when the config turns it off */
    struct ref_job_store *store;
    /* The env's random source need not be thread-safe; every call goes through this lock.
     * Lock order: store lock, then env_lock (the store draws Id bytes while locked). */
    pthread_mutex_t env_lock;
    /* The scheduler's quiet window: no start or finish is due before quiet_until_ms, so a
     * request before then need not have the store scan its queued jobs (a scan costs time
     * in proportion to them). INT64_MIN means "not known": scan. Only two things bring an
     * event forward: a new job, which lowers the window to its own event, and a pipeline
     * activated, which resets it. Both bump sched_generation under sched_lock, so a window
     * computed before the change is never stored after it (ref_svc_advance). Ending a job only
     * takes an event away: the window then ends early, which costs a scan, never a miss. */
    _Atomic int64_t quiet_until_ms;
    pthread_mutex_t sched_lock;
    uint64_t sched_generation;
    /* Test control's virtual clock (contract section 9): REF_CLOCK_REAL while the env's clock
     * counts, else the time the clock stands at. An atomic rather than a lock: every request
     * reads it (ref_svc_now_ms), and a move is one compare-and-swap (service_control.c). */
    _Atomic int64_t virtual_now_ms;
};

/* virtual_now_ms when the clock is the env's. */
#define REF_CLOCK_REAL INT64_MIN

/* What an operation sees. Operations return REF_OK after writing a success answer into
 * resp, or the status to answer with (and, optionally, its message in msg). */
struct ref_op_ctx {
    struct ref_service *svc;
    const struct ref_http_request *req;
    struct ref_response *resp;
    int64_t now_ms;
    struct ref_slice label; /* percent-decoded once */
    struct ref_buf *msg;
};

/* The service's clock (service.c): test control's virtual clock once it has been moved, else
 * the env's. Everything in the service that reads time reads this. */
int64_t ref_svc_now_ms(struct ref_service *svc);
/* The env's clock, or the real one when the env has none (service.c). */
int64_t ref_svc_env_now_ms(struct ref_service *svc);

/* --- Scheduler (service_sched.c) ------------------------------------------------------ */

/* Applies the starts and finishes due at now_ms, unless the quiet window says none is. */
void ref_svc_advance(struct ref_service *svc, int64_t now_ms);
/* After a pipeline was activated (or the store replaced): the next request scans again. */
void ref_svc_schedule_changed(struct ref_service *svc);
/* After a job was created: the window ends no later than the job's own next event. */
void ref_svc_schedule_job_added(struct ref_service *svc, const struct ref_job_info *job);

/* --- What the operations share (service_op.c) ------------------------------------------ */

/* A success answer with this HTTP status; takes the reference to body (NULL: out of
 * memory). REF_E_INTERNAL when the answer outgrows REF_MAX_RESPONSE_BYTES. */
REF_MUST_CHECK enum ref_status ref_svc_answer(struct ref_op_ctx *c, int http_status, json_t *body);
/* The answer whose body a writer has put in c->resp->body with status rc: a success with
 * http_status when rc is REF_OK; a body over REF_MAX_RESPONSE_BYTES is our own fault
 * (REF_E_INTERNAL), never the request's. */
REF_MUST_CHECK enum ref_status
ref_svc_answer_written(struct ref_op_ctx *c, int http_status, enum ref_status rc);
/* The 202 {"Success":"true"} of CancelJob and DeletePipeline. */
REF_MUST_CHECK enum ref_status ref_svc_answer_success_true(struct ref_op_ctx *c);
/* Sets the message for an error return and passes the status through. */
enum ref_status ref_svc_fail(struct ref_op_ctx *c, enum ref_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends validation: REF_OK when nothing failed, else REF_E_VALIDATION with the message. */
REF_MUST_CHECK enum ref_status ref_svc_verr_finish(struct ref_op_ctx *c, struct ref_verr *v);

/* The label as an Id, recorded under member `member` when it is not one. */
REF_MUST_CHECK enum ref_status
ref_svc_check_id_label(struct ref_op_ctx *c, struct ref_verr *v, const char *member);
/* The check of the operations whose only input is an Id label: REF_OK, or the validation
 * answer's status. */
REF_MUST_CHECK enum ref_status ref_svc_validate_id_label_only(struct ref_op_ctx *c);

struct ref_list_params {
    bool is_descending;
    struct ref_buf token; /* decoded PageToken; empty when absent */
};

/* Ascending and PageToken from the query string; failures recorded in v. */
REF_MUST_CHECK enum ref_status
ref_svc_parse_list_query(struct ref_op_ctx *c, struct ref_verr *v, struct ref_list_params *p);
/* Parses the body as one JSON object (new reference in *out). REF_E_VALIDATION (with the
 * message) otherwise. */
REF_MUST_CHECK enum ref_status ref_svc_parse_body(struct ref_op_ctx *c, json_t **out);
/* A member that is present and not null; borrowed. */
json_t *ref_svc_member(const json_t *obj, const char *key);

/* The pipeline `id` was not found, in the service's words (contract section 4). */
REF_MUST_CHECK enum ref_status ref_svc_pipeline_not_found(struct ref_op_ctx *c,
                                                          struct ref_slice id);
/* REF_E_NOT_FOUND with "The specified <what> was not found."; other statuses pass. */
REF_MUST_CHECK enum ref_status
ref_svc_store_failure(struct ref_op_ctx *c, enum ref_status rc, const char *what);

/* --- Test control (service_control.c) -------------------------------------------------- */

/* True when path (normalised) is /_etch/control/v1 or under it. */
bool ref_svc_is_control_path(struct ref_slice path);
/* Answers one authenticated control request of a service with has_test_control: path is the
 * normalised path, caller the principal that signed it; label holds the Id segment once
 * decoded. Returns like an operation (REF_OK with the answer in c->resp, or the status to
 * answer with): REF_E_ACCESS_DENIED for any caller but the main principal,
 * REF_E_UNKNOWN_OPERATION for a path or method control does not have. */
REF_MUST_CHECK enum ref_status ref_svc_control(struct ref_op_ctx *c,
                                               struct ref_slice path,
                                               const struct ref_credential *caller,
                                               struct ref_buf *label);

/* --- The ten operations (service_job.c, service_pipeline.c) ---------------------------- */

/* Each returns REF_OK with its answer in c->resp, or the status to answer with. */
REF_MUST_CHECK enum ref_status ref_svc_cancel_job(struct ref_op_ctx *c);
REF_MUST_CHECK enum ref_status ref_svc_create_job(struct ref_op_ctx *c);
REF_MUST_CHECK enum ref_status ref_svc_read_job(struct ref_op_ctx *c);
REF_MUST_CHECK enum ref_status ref_svc_list_jobs_by_pipeline(struct ref_op_ctx *c);
REF_MUST_CHECK enum ref_status ref_svc_list_jobs_by_status(struct ref_op_ctx *c);
REF_MUST_CHECK enum ref_status ref_svc_create_pipeline(struct ref_op_ctx *c);
REF_MUST_CHECK enum ref_status ref_svc_read_pipeline(struct ref_op_ctx *c);
REF_MUST_CHECK enum ref_status ref_svc_list_pipelines(struct ref_op_ctx *c);
REF_MUST_CHECK enum ref_status ref_svc_update_pipeline_status(struct ref_op_ctx *c);
REF_MUST_CHECK enum ref_status ref_svc_delete_pipeline(struct ref_op_ctx *c);

#endif
