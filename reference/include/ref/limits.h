/* SPDX-License-Identifier: Apache-2.0
 *
 * limits.h - every limit the reference enforces, in one place.
 *
 * Each has an "at the limit" and an "over the limit" test. Going over a request limit
 * answers a 4xx (contract section 8), never a crash.
 */
#ifndef REF_LIMITS_H
#define REF_LIMITS_H

/* Method token ("DELETE" is the longest the API uses; leave room for others). */
#define REF_MAX_METHOD_BYTES 16
/* Request target (path and query) as received. Over it: 414. */
#define REF_MAX_TARGET_BYTES 8192
/* Header lines. Over either: 431. */
#define REF_MAX_HEADERS      64
#define REF_MAX_HEADER_BYTES 16384
/* Decoded body (Content-Length or the sum of chunks). Over it: 413. */
#define REF_MAX_BODY_BYTES   262144
/* One chunk-size line of a chunked body, extensions included. */
#define REF_MAX_CHUNK_LINE_BYTES 256
/* A whole raw request as the service accepts it. */
#define REF_MAX_REQUEST_BYTES (REF_MAX_TARGET_BYTES + REF_MAX_HEADER_BYTES + 2 * REF_MAX_BODY_BYTES)

/* SigV4. The SDKs sign 3 to 6 headers and write Authorization values of 197 to 301 bytes;
 * the two limits below leave room for many times that. The signer (ref_sigv4_sign) refuses
 * with REF_E_TOO_LARGE whatever the verifier would refuse for size, rather than the limits
 * growing to cover any request the header limits allow: a signer that writes a value its
 * own verifier refuses is the bug, and a request with 2 KiB of signed header names is not
 * one a client sends. */
#define REF_MAX_SIGNED_HEADERS     32
#define REF_MAX_AUTHORIZATION_BYTES 2048
#define REF_MAX_QUERY_PARAMS       64
#define REF_MAX_CANONICAL_BYTES    (REF_MAX_TARGET_BYTES * 3 + REF_MAX_HEADER_BYTES + 1024)
#define REF_SHA256_LEN             32
#define REF_SHA256_HEX_LEN         64

/* CreatePipeline members (the service model's constraints, contract sections 2 and 2b). */
#define REF_MAX_PIPELINE_NAME_CHARS 40
#define REF_MAX_PERMISSIONS         30 /* per ContentConfig or ThumbnailConfig */
#define REF_MAX_PERMISSION_ACCESS   30 /* Access values of one permission */
#define REF_MAX_GRANTEE_CHARS       255
#define REF_MAX_KMS_KEY_ARN_CHARS   255

/* CreateJob members (the service model's constraints, contract sections 2 and 2b). */
#define REF_MAX_JOB_INPUTS           200
#define REF_MAX_JOB_OUTPUTS          30
#define REF_MAX_PLAYLISTS            30
#define REF_MAX_PLAYLIST_OUTPUT_KEYS 30
#define REF_MAX_USER_METADATA        10 /* key/value pairs */
#define REF_MAX_INPUT_KEY_CHARS      1024
#define REF_MAX_KEY_CHARS            255 /* output Key, OutputKeyPrefix, playlist Name */
#define REF_MAX_CAPTION_SOURCES      20
#define REF_MAX_CAPTION_FORMATS      4

/* The store. The two defaults are the service's documented quotas (contract section 2b):
 * 4 pipelines per region and account, 1,000,000 queued jobs per pipeline; past either,
 * CreatePipeline or CreateJob answers 429 LimitExceededException. Both are settings
 * (ref_service_config), since the real quotas could be raised on request. A queued job is
 * one its pipeline still holds: Submitted or Progressing. The guide does not say whether a
 * job being transcoded still counts; counting it refuses earlier rather than later, and it is
 * the count the store already keeps per pipeline for DeletePipeline's in-use check. Nothing
 * is allocated up front for either limit: the store grows as objects are created. */
#define REF_MAX_PIPELINES        4
#define REF_MAX_QUEUED_JOBS      1000000
#define REF_DEFAULT_PAGE_SIZE    50
#define REF_MAX_RESPONSE_BYTES   (4 * 1024 * 1024)

#endif
