/* SPDX-License-Identifier: Apache-2.0
 *
 * status.h - the one table of statuses, and how the reference answers each.
 *
 * Every fallible function returns an enum ref_status. Each entry names the HTTP status
 * and the error type (x-amzn-ErrorType) the reference sends when a request ends in it,
 * and a default message; contract.md sections 4, 5 and 8 decide those values.
 */
#ifndef REF_STATUS_H
#define REF_STATUS_H

#include <stddef.h>

#define REF_MUST_CHECK __attribute__((warn_unused_result))

/* X(name, http, error_type, default_message) */
#define REF_STATUS_LIST(X)                                                                         \
    X(REF_OK, 200, "", "success")                                                                  \
    /* Malformed HTTP and size limits (contract section 8). */                                     \
    X(REF_E_INCOMPLETE, 400, "BadRequestException", "The request ended before it was complete.")  \
    X(REF_E_MALFORMED, 400, "BadRequestException", "The request could not be parsed.")             \
    X(REF_E_TOO_LARGE, 413, "RequestEntityTooLargeException", "The request is too large.")         \
    X(REF_E_TARGET_TOO_LONG, 414, "RequestURITooLongException", "The request target is too long.") \
    X(REF_E_HEADERS_TOO_LARGE,                                                                     \
      431,                                                                                         \
      "RequestHeaderFieldsTooLargeException",                                                      \
      "The request headers are too large.")                                                        \
    X(REF_E_BODY_TOO_LARGE, 413, "RequestEntityTooLargeException", "The request body is too large.") \
    /* Authentication, in the order of contract section 5. */                                      \
    X(REF_E_MISSING_AUTH, 403, "MissingAuthenticationTokenException", "Missing Authentication Token") \
    X(REF_E_INCOMPLETE_SIGNATURE,                                                                  \
      400,                                                                                         \
      "IncompleteSignatureException",                                                              \
      "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.")   \
    X(REF_E_SIGNATURE_EXPIRED, 403, "InvalidSignatureException", "Signature expired.")             \
    X(REF_E_SIGNATURE_NOT_YET_CURRENT, 403, "InvalidSignatureException", "Signature not yet current.") \
    X(REF_E_HOST_NOT_SIGNED,                                                                       \
      403,                                                                                         \
      "InvalidSignatureException",                                                                 \
      "'Host' must be a 'SignedHeader' in the AWS Authorization.")                                 \
    X(REF_E_BAD_SCOPE, 403, "InvalidSignatureException", "Credential should be scoped correctly.") \
    X(REF_E_UNKNOWN_KEY,                                                                           \
      403,                                                                                         \
      "UnrecognizedClientException",                                                               \
      "The security token included in the request is invalid.")                                   \
    X(REF_E_BAD_TOKEN,                                                                             \
      403,                                                                                         \
      "UnrecognizedClientException",                                                               \
      "The security token included in the request is invalid.")                                   \
    X(REF_E_PAYLOAD_HASH_MISMATCH,                                                                 \
      403,                                                                                         \
      "InvalidSignatureException",                                                                 \
      "The provided 'x-amz-content-sha256' header does not match what was computed.")             \
    X(REF_E_SIGNATURE_MISMATCH,                                                                    \
      403,                                                                                         \
      "InvalidSignatureException",                                                                 \
      "The request signature we calculated does not match the signature you provided. Check "     \
      "your AWS Secret Access Key and signing method. Consult the service documentation for "     \
      "details.")                                                                                  \
    X(REF_E_ACCESS_DENIED,                                                                         \
      403,                                                                                         \
      "AccessDeniedException",                                                                     \
      "User is not authorized to perform this operation.")                                        \
    /* Routing and parameters. */                                                                  \
    X(REF_E_UNKNOWN_OPERATION, 404, "UnknownOperationException", "Unknown operation.")             \
    X(REF_E_INCOMPATIBLE_VERSION,                                                                  \
      400,                                                                                         \
      "IncompatibleVersionException",                                                              \
      "The API version in the request path is not supported.")                                    \
    X(REF_E_VALIDATION, 400, "ValidationException", "1 validation error detected.")                \
    /* The store. */                                                                               \
    X(REF_E_NOT_FOUND, 404, "ResourceNotFoundException", "The specified resource was not found.") \
    X(REF_E_IN_USE, 409, "ResourceInUseException", "The resource is in use.")                     \
    X(REF_E_LIMIT_EXCEEDED, 429, "LimitExceededException", "Too many resources.")                 \
    /* Real failures. */                                                                           \
    X(REF_E_NOMEM, 500, "InternalServiceException", "Out of memory.")                             \
    X(REF_E_INTERNAL, 500, "InternalServiceException", "Internal service error.")

enum ref_status {
#define REF_STATUS_ENUM(name, http, type, msg) name,
    REF_STATUS_LIST(REF_STATUS_ENUM)
#undef REF_STATUS_ENUM
        REF_STATUS_COUNT
};

/* "REF_E_IN_USE" */
const char *ref_status_name(enum ref_status rc);
/* 409 */
int ref_status_http(enum ref_status rc);
/* "ResourceInUseException" ("" for REF_OK) */
const char *ref_status_error_type(enum ref_status rc);
/* The default message sent in {"message":...}. */
const char *ref_status_message(enum ref_status rc);

/* Where and why a parser stopped. `where` and `reason` are always string literals;
 * `offset` is the first byte that could not be accepted (== input length when
 * something is missing at the end), relative to the slice the caller passed in. */
struct ref_parse_error {
    enum ref_status code;
    size_t offset;
    const char *where;
    const char *reason;
};

/* Fills *err (when err is not NULL) and returns code: `return ref_parse_fail(...)`. */
enum ref_status ref_parse_fail(struct ref_parse_error *err,
                               enum ref_status code,
                               size_t offset,
                               const char *where,
                               const char *reason);

/* Writes "where@offset: reason" plus, when input is given, the line holding the offending
 * byte and a caret under it. Always NUL-terminates (truncating to cap). */
void ref_parse_error_format(const struct ref_parse_error *err,
                            const void *input,
                            size_t input_len,
                            char *out,
                            size_t cap);

#define REF_TRY(expr)                                                                              \
    do {                                                                                           \
        enum ref_status rc_ = (expr);                                                              \
        if (rc_ != REF_OK) {                                                                       \
            return rc_;                                                                            \
        }                                                                                          \
    } while (0)

#endif
