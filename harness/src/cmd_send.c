/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_send.c - `etch send`: sends one raw HTTP request file to a live endpoint byte for
 * byte and prints the answer as it came.
 *
 * The replay of a failing step: `etch run --save-requests DIR` writes the requests of the
 * steps that did not pass, and this sends one of them again, malformed bytes included, on
 * a new connection (the live backend: plain TCP or TLS through libcurl, which after
 * connecting only carries bytes). A signed request carries its X-Amz-Date, so once the
 * endpoint's clock is past the skew window a faithful endpoint refuses it as expired:
 * --resign signs it again at the current time, changing nothing else.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli_util.h"
#include "harness/commands.h"
#include "live_cli.h"

#include "harness/backend.h"
#include "harness/replay.h"

#include "ref/limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A saved request is at most what a run sends; a chunked body's framing can be longer
 * than the parser's request limit, so the file limit is generous. */
#define SEND_MAX_FILE_BYTES (64u * 1024 * 1024)
/* The answer kept and printed: a whole response the backend reads. */
#define SEND_MAX_RESPONSE_BYTES (64u * 1024 * 1024)
#define SEND_MAX_TIMEOUT_S      3600

static void send_usage(FILE *out)
{
    fprintf(out,
            "usage: etch send --endpoint URL [--timeout S] [--resign] [options] FILE\n"
            "\n"
            "Sends the raw HTTP request in FILE (or stdin for '-') to the endpoint byte for\n"
            "byte, on a new connection (HTTP or HTTPS), and prints the answer as it came:\n"
            "status line, headers and body. For replaying what `etch run --save-requests DIR`\n"
            "saved of a failing step; `etch handle FILE` answers the same file as the\n"
            "reference does.\n"
            "\n"
            "options:\n"
            "  --timeout S   give up on the answer after S seconds (default 30)\n"
            "  --resign      sign the request again at the current time (the endpoint's, with\n"
            "                --clock-offset) with the credentials of the options below or the\n"
            "                environment, keeping every other byte: the date in X-Amz-Date and\n"
            "                the credential scope, the access key id and a session token are\n"
            "                replaced, and the signature computed for the SignedHeaders the\n"
            "                request names. A signature carries its X-Amz-Date, so a replay\n"
            "                later than the endpoint's clock-skew window (5 minutes) is refused\n"
            "                as expired by a correct endpoint unless signed again\n"
            "  --help        this text\n"
            "\n"
            "%s"
            "\n"
            "exit status:\n"
            "  0  an answer came (whatever its status)\n"
            "  1  no answer: the endpoint could not be reached, closed the connection without\n"
            "     answering, or did not answer in time\n"
            "  2  bad usage, an unreadable file, or a request --resign cannot sign again\n",
            etch_live_usage);
}

struct send_options {
    struct etch_live_args live;
    const char *file;
    bool resign;
    long long timeout_s;
};

/* Returns true to go on; false with *exit_status set (after --help or a usage error). */
static bool parse_send_options(int argc, char **argv, struct send_options *o, int *exit_status)
{
    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            send_usage(stdout);
            *exit_status = ETCH_EXIT_PASS;
            return false;
        }
        enum etch_option_result taken = etch_live_option(argc, argv, &i, "send", 1, &o->live);
        if (taken == ETCH_OPTION_BAD) {
            *exit_status = ETCH_EXIT_USAGE;
            return false;
        }
        if (taken == ETCH_OPTION_TAKEN) {
            continue;
        }
        if (strcmp(a, "--resign") == 0) {
            o->resign = true;
        } else if (strcmp(a, "--timeout") == 0) {
            if (etch_missing_value(argc, argv, i, "send")) {
                *exit_status = ETCH_EXIT_USAGE;
                return false;
            }
            char *end = NULL;
            const char *v = argv[++i];
            o->timeout_s = strtoll(v, &end, 10);
            if (end == v || *end != '\0' || o->timeout_s < 1 || o->timeout_s > SEND_MAX_TIMEOUT_S) {
                fprintf(stderr, "etch send: --timeout takes whole seconds from 1 to %d, not '%s'\n",
                        SEND_MAX_TIMEOUT_S, v);
                *exit_status = ETCH_EXIT_USAGE;
                return false;
            }
        } else if ((a[0] != '-' || strcmp(a, "-") == 0) && o->file == NULL) {
            o->file = a;
        } else {
            fprintf(stderr,
                    "etch send: unknown option or second file '%s' (see etch send --help)\n", a);
            *exit_status = ETCH_EXIT_USAGE;
            return false;
        }
    }
    if (o->live.num_endpoints == 0 || o->file == NULL) {
        fprintf(stderr,
                "etch send: needs --endpoint URL and a request FILE (see etch send --help)\n");
        *exit_status = ETCH_EXIT_USAGE;
        return false;
    }
    if (o->timeout_s > 0) {
        o->live.timeout_ms = o->timeout_s * 1000;
    }
    return true;
}

/* Signs the request again with the backend's principals at the endpoint's time. */
static bool resign(struct harness_backend *b, struct ref_buf *request)
{
    const struct ref_credential *creds[HARNESS_PRINCIPAL_COUNT];
    size_t n = 0;
    for (size_t p = HARNESS_PRINCIPAL_MAIN; p < HARNESS_PRINCIPAL_COUNT; p++) {
        if (b->principals[p] != NULL) {
            creds[n++] = b->principals[p];
        }
    }
    char why[ETCH_MESSAGE_BYTES];
    enum ref_status rc =
        harness_resign_at(request, creds, n, b->ops->now_ms(b) / 1000, why, sizeof(why));
    if (rc != REF_OK) {
        fprintf(stderr, "etch send: --resign: %s\n", why[0] != '\0' ? why : ref_status_name(rc));
        return false;
    }
    return true;
}

int etch_cmd_send(int argc, char **argv)
{
    struct send_options o;
    int exit_status = ETCH_EXIT_USAGE;
    if (!parse_send_options(argc, argv, &o, &exit_status)) {
        return exit_status;
    }
    struct ref_buf request;
    struct ref_buf response;
    ref_buf_init(&request, SEND_MAX_FILE_BYTES);
    ref_buf_init(&response, SEND_MAX_RESPONSE_BYTES);
    struct etch_live_run *live = NULL;
    if (!etch_read_input(o.file, &request, "send")) {
        goto out;
    }
    if (request.len == 0) {
        fprintf(stderr, "etch send: %s is empty: nothing to send\n", o.file);
        goto out;
    }
    live = etch_live_open("send", &o.live, &exit_status);
    if (live == NULL) {
        goto out;
    }
    struct harness_backend *b = etch_live_backend(live, 0, 0);
    if (o.resign && !resign(b, &request)) {
        exit_status = ETCH_EXIT_USAGE;
        goto out;
    }
    char why[ETCH_MESSAGE_BYTES] = "";
    enum ref_status rc =
        b->ops->send_explained != NULL
            ? b->ops->send_explained(b, ref_buf_slice(&request), &response, why, sizeof(why))
            : b->ops->send(b, ref_buf_slice(&request), &response);
    if (rc != REF_OK) {
        fprintf(stderr, "etch send: no answer from %s: %s\n", o.live.endpoints[0],
                why[0] != '\0' ? why : ref_status_name(rc));
        exit_status = ETCH_EXIT_FAIL;
    } else if (response.len == 0) {
        fprintf(stderr, "etch send: %s closed the connection without answering\n",
                o.live.endpoints[0]);
        exit_status = ETCH_EXIT_FAIL;
    } else {
        fwrite(response.data, 1, response.len, stdout);
        exit_status = fflush(stdout) == 0 ? ETCH_EXIT_PASS : ETCH_EXIT_FAIL;
    }
out:
    etch_live_close(live);
    ref_buf_cleanup(&request);
    ref_buf_cleanup(&response);
    return exit_status;
}
