/* SPDX-License-Identifier: Apache-2.0
 *
 * scenario_request.c - the requests of a scenario step: "call" (an operation and its
 * params, checked against the reference's operation table), "raw" (a request written out,
 * or verbatim bytes from a file beside the scenario), and "sign" (how it is signed).
 *
 * A request is checked whole at load time, operation names, parameters and signing
 * modes included, so a scenario never fails halfway through a run over a typo.
 */
#define _POSIX_C_SOURCE 200809L

#include "scenario_internal.h"

#include "ref/limits.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>

/* --- Signing ----------------------------------------------------------------------- */

enum ref_status
loader_parse_sign(struct loader *ld, json_t *v, const char *path, struct harness_sign *out)
{
    memset(out, 0, sizeof(*out));
    out->principal = HARNESS_PRINCIPAL_MAIN;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "valid") == 0) {
            return REF_OK;
        }
        if (strcmp(s, "none") == 0) {
            out->principal = HARNESS_PRINCIPAL_NONE;
            return REF_OK;
        }
        if (strcmp(s, "restricted") == 0) {
            out->principal = HARNESS_PRINCIPAL_RESTRICTED;
            return REF_OK;
        }
        if (strcmp(s, "temporary") == 0) {
            out->principal = HARNESS_PRINCIPAL_TEMPORARY;
            return REF_OK;
        }
        if (strcmp(s, "temporary-no-token") == 0) {
            out->principal = HARNESS_PRINCIPAL_TEMPORARY;
            out->token = HARNESS_TOKEN_OMIT;
            return REF_OK;
        }
        if (strcmp(s, "temporary-wrong-token") == 0) {
            out->principal = HARNESS_PRINCIPAL_TEMPORARY;
            out->token = HARNESS_TOKEN_WRONG;
            return REF_OK;
        }
        if (strcmp(s, "none") != 0 && loader_fault_from_name(s, &out->fault) &&
            out->fault != HARNESS_FAULT_NONE) {
            return REF_OK;
        }
        return loader_fail(ld, path,
                           "unknown signing mode '%s' (valid, none, wrong-secret, unknown-key, "
                           "scope-date, scope-region, scope-service, scope-terminator, omit-host, "
                           "flip-signature-digit, restricted, temporary, temporary-no-token, "
                           "temporary-wrong-token, or an object)",
                           s);
    }
    if (!json_is_object(v)) {
        return loader_fail(ld, path, "expected a signing mode string or object, got %s",
                           type_name(v));
    }
    static const char *const keys[] = {"principal",      "token",          "fault", "date_offset_s",
                                       "signed_headers", "content_sha256", NULL};
    REF_TRY(loader_check_keys(ld, v, path, keys, "a sign object"));
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    REF_TRY(loader_parse_principal(ld, v, path, &out->principal));
    const char *s = NULL;
    REF_TRY(loader_get_string(ld, v, "token", path, false, &s));
    if (s != NULL) {
        loader_path_key(p, sizeof(p), path, "token");
        if (out->principal != HARNESS_PRINCIPAL_TEMPORARY) {
            return loader_fail(ld, p, "'token' applies to the temporary principal only");
        }
        if (strcmp(s, "send") == 0) {
            out->token = HARNESS_TOKEN_SEND;
        } else if (strcmp(s, "omit") == 0) {
            out->token = HARNESS_TOKEN_OMIT;
        } else if (strcmp(s, "wrong") == 0) {
            out->token = HARNESS_TOKEN_WRONG;
        } else {
            return loader_fail(ld, p, "unknown token mode '%s' (send, omit, wrong)", s);
        }
    }
    s = NULL;
    REF_TRY(loader_get_string(ld, v, "fault", path, false, &s));
    if (s != NULL && !loader_fault_from_name(s, &out->fault)) {
        loader_path_key(p, sizeof(p), path, "fault");
        return loader_fail(ld, p,
                           "unknown fault '%s' (none, wrong-secret, unknown-key, scope-date, "
                           "scope-region, scope-service, scope-terminator, omit-host, "
                           "flip-signature-digit)",
                           s);
    }
    REF_TRY(loader_get_int(ld, v, "date_offset_s", path, -366 * 86400, 366 * 86400, NULL,
                           &out->date_offset_s));
    REF_TRY(loader_get_bool(ld, v, "content_sha256", path, &out->content_sha256));
    json_t *sh = json_object_get(v, "signed_headers");
    if (sh != NULL) {
        loader_path_key(p, sizeof(p), path, "signed_headers");
        if (!json_is_array(sh) || json_array_size(sh) == 0) {
            return loader_fail(ld, p, "expected a non-empty array of lower-case header names");
        }
        if (json_array_size(sh) > HARNESS_MAX_SIGNED_HEADERS) {
            return loader_fail(ld, p, "more than %d signed headers", HARNESS_MAX_SIGNED_HEADERS);
        }
        size_t i;
        json_t *h;
        json_array_foreach (sh, i, h) {
            if (!json_is_string(h) || json_string_length(h) == 0) {
                char pi[HARNESS_MAX_JSON_PATH_BYTES * 2];
                loader_path_index(pi, sizeof(pi), p, i);
                return loader_fail(ld, pi, "expected a header name");
            }
            out->signed_headers[i] = json_string_value(h);
        }
        out->num_signed_headers = json_array_size(sh);
        out->has_signed_headers = true;
    }
    if (out->principal == HARNESS_PRINCIPAL_NONE &&
        (out->fault != HARNESS_FAULT_NONE || out->date_offset_s != 0 || out->has_signed_headers ||
         out->content_sha256)) {
        return loader_fail(ld, path, "an unsigned request takes no fault, date offset or headers");
    }
    return REF_OK;
}

/* --- Requests ---------------------------------------------------------------------- */

static enum ref_status parse_header_list(struct loader *ld, json_t *v, const char *path)
{
    if (!json_is_array(v)) {
        return loader_fail(ld, path, "expected an array of [name, value] pairs, got %s",
                           type_name(v));
    }
    if (json_array_size(v) > REF_MAX_HEADERS) {
        return loader_fail(ld, path, "more than %d headers", REF_MAX_HEADERS);
    }
    size_t i;
    json_t *pair;
    json_array_foreach (v, i, pair) {
        char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
        loader_path_index(p, sizeof(p), path, i);
        if (!json_is_array(pair) || json_array_size(pair) != 2 ||
            !json_is_string(json_array_get(pair, 0)) || !json_is_string(json_array_get(pair, 1))) {
            return loader_fail(ld, p, "expected a [name, value] pair of strings");
        }
    }
    return REF_OK;
}

enum ref_status loader_parse_call(struct loader *ld,
                                  json_t *step_obj,
                                  const char *path,
                                  const char *op_name,
                                  struct harness_request_spec *out)
{
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    const struct ref_op_info *info = ref_op_info(ref_op_from_name(ref_slice_from_cstr(op_name)));
    loader_path_key(p, sizeof(p), path, "call");
    if (info == NULL) {
        return loader_fail(ld, p,
                           "unknown operation '%s' (CancelJob, CreateJob, ReadJob, "
                           "ListJobsByPipeline, ListJobsByStatus, CreatePipeline, ReadPipeline, "
                           "ListPipelines, UpdatePipelineStatus, DeletePipeline)",
                           op_name);
    }
    out->op = info->op;
    json_t *params = json_object_get(step_obj, "params");
    loader_path_key(p, sizeof(p), path, "params");
    if (params != NULL && !json_is_object(params)) {
        return loader_fail(ld, p, "expected an object, got %s", type_name(params));
    }
    out->params = params;
    if (info->label_member != NULL) {
        json_t *label = params != NULL ? json_object_get(params, info->label_member) : NULL;
        if (label == NULL) {
            return loader_fail(ld, params != NULL ? p : path, "%s needs the parameter '%s'",
                               info->name, info->label_member);
        }
        if (!json_is_string(label)) {
            char pl[HARNESS_MAX_JSON_PATH_BYTES * 2];
            loader_path_key(pl, sizeof(pl), p, info->label_member);
            return loader_fail(ld, pl, "expected a string, got %s", type_name(label));
        }
    }
    if (params != NULL) {
        const char *key;
        json_t *val;
        json_object_foreach (params, key, val) {
            char pk[HARNESS_MAX_JSON_PATH_BYTES * 2];
            loader_path_key(pk, sizeof(pk), p, key);
            if (info->label_member != NULL && strcmp(key, info->label_member) == 0) {
                continue;
            }
            if (info->has_query && strcmp(key, "Ascending") == 0) {
                if (!json_is_string(val) && !json_is_boolean(val)) {
                    return loader_fail(ld, pk, "expected \"true\", \"false\" or a boolean, got %s",
                                       type_name(val));
                }
                continue;
            }
            if (info->has_query && strcmp(key, "PageToken") == 0) {
                if (!json_is_string(val)) {
                    return loader_fail(ld, pk, "expected a string, got %s", type_name(val));
                }
                continue;
            }
            if (info->has_body) {
                continue; /* body members: any JSON, as an SDK user could pass */
            }
            return loader_fail(ld, pk, "unknown parameter '%s' for %s (takes %s%s%s)", key,
                               info->name, info->label_member != NULL ? info->label_member : "",
                               info->label_member != NULL && info->has_query ? ", " : "",
                               info->has_query ? "Ascending, PageToken" : "");
        }
    }
    json_t *headers = json_object_get(step_obj, "headers");
    if (headers != NULL) {
        loader_path_key(p, sizeof(p), path, "headers");
        REF_TRY(parse_header_list(ld, headers, p));
        out->headers = headers;
    }
    return REF_OK;
}

static char *join_path(const char *dir, const char *rel)
{
    size_t n = strlen(dir) + 1 + strlen(rel) + 1;
    char *out = malloc(n);
    if (out != NULL) {
        harness_textf(out, n, "%s/%s", dir, rel);
    }
    return out;
}

static enum ref_status keep_verbatim(struct loader *ld, uint8_t *data)
{
    struct harness_scenario *sc = ld->sc;
    uint8_t **more = realloc(sc->verbatim, (sc->num_verbatim + 1) * sizeof(*more));
    if (more == NULL) {
        free(data);
        return REF_E_NOMEM;
    }
    sc->verbatim = more;
    sc->verbatim[sc->num_verbatim++] = data;
    return REF_OK;
}

enum ref_status
loader_parse_raw(struct loader *ld, json_t *v, const char *path, struct harness_request_spec *out)
{
    if (!json_is_object(v)) {
        return loader_fail(ld, path, "expected a raw request object, got %s", type_name(v));
    }
    static const char *const keys[] = {"method", "target",         "version", "headers", "body",
                                       "host",   "content_length", "file",    "bytes",   NULL};
    REF_TRY(loader_check_keys(ld, v, path, keys, "a raw request"));
    char p[HARNESS_MAX_JSON_PATH_BYTES * 2];
    json_t *file = json_object_get(v, "file");
    json_t *bytes = json_object_get(v, "bytes");
    if (file != NULL || bytes != NULL) {
        if (json_object_size(v) != 1) {
            return loader_fail(ld, path, "'%s' stands alone: no other raw keys with it",
                               file != NULL ? "file" : "bytes");
        }
        out->is_verbatim = true;
        if (bytes != NULL) {
            loader_path_key(p, sizeof(p), path, "bytes");
            if (!json_is_string(bytes) || json_string_length(bytes) == 0) {
                return loader_fail(ld, p, "expected a non-empty string");
            }
            out->bytes = (const uint8_t *)json_string_value(bytes);
            out->bytes_len = json_string_length(bytes);
            return REF_OK;
        }
        loader_path_key(p, sizeof(p), path, "file");
        if (!json_is_string(file) || json_string_length(file) == 0) {
            return loader_fail(ld, p, "expected a path relative to the scenario file");
        }
        const char *rel = json_string_value(file);
        if (rel[0] == '/') {
            return loader_fail(ld, p, "'%s': give a path relative to the scenario file", rel);
        }
        if (ld->sc->base_dir == NULL) {
            return loader_fail(ld, p, "raw.file needs a scenario loaded from a file");
        }
        char *full = join_path(ld->sc->base_dir, rel);
        if (full == NULL) {
            return REF_E_NOMEM;
        }
        uint8_t *data = NULL;
        size_t len = 0;
        bool too_large = false;
        enum ref_status rc = loader_read_file(full, REF_MAX_REQUEST_BYTES, &data, &len, &too_large);
        free(full);
        if (rc == REF_E_NOMEM) {
            return rc;
        }
        if (rc != REF_OK) {
            return loader_fail(
                ld, p, too_large ? "'%s' is larger than a request may be" : "cannot read '%s'",
                rel);
        }
        REF_TRY(keep_verbatim(ld, data));
        out->bytes = data;
        out->bytes_len = len;
        return REF_OK;
    }
    REF_TRY(loader_get_string(ld, v, "method", path, true, &out->method));
    REF_TRY(loader_get_string(ld, v, "target", path, true, &out->target));
    out->version = "HTTP/1.1";
    REF_TRY(loader_get_string(ld, v, "version", path, false, &out->version));
    json_t *headers = json_object_get(v, "headers");
    if (headers != NULL) {
        loader_path_key(p, sizeof(p), path, "headers");
        REF_TRY(parse_header_list(ld, headers, p));
        out->headers = headers;
    }
    json_t *body = json_object_get(v, "body");
    if (body != NULL) {
        loader_path_key(p, sizeof(p), path, "body");
        if (!json_is_string(body)) {
            return loader_fail(ld, p, "expected the body written out as a string, got %s",
                               type_name(body));
        }
        out->body = json_string_value(body);
        out->body_len = json_string_length(body);
    }
    out->add_host = true;
    REF_TRY(loader_get_bool(ld, v, "host", path, &out->add_host));
    out->auto_length = true;
    const char *cl = NULL;
    REF_TRY(loader_get_string(ld, v, "content_length", path, false, &cl));
    if (cl != NULL) {
        if (strcmp(cl, "none") == 0) {
            out->auto_length = false;
        } else if (strcmp(cl, "auto") != 0) {
            loader_path_key(p, sizeof(p), path, "content_length");
            return loader_fail(ld, p, "expected \"auto\" or \"none\", got '%s'", cl);
        }
    }
    return REF_OK;
}
