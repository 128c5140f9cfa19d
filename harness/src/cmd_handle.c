/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_handle.c - `etch handle`: answers one raw HTTP request with a fresh reference.
 *
 * For debugging a request by hand and for reproducing fuzz findings: the request goes
 * through the same strict parser and the same ref_service_handle as everywhere else,
 * with the contract's test credentials and the clock pinned at --now.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli_util.h"
#include "harness/commands.h"

#include "ref/http.h"
#include "ref/limits.h"
#include "ref/service.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char s_usage[] =
    "usage: etch handle [--now YYYYMMDDTHHMMSSZ] [--seed-pipeline ID[:Active|Paused]]...\n"
    "                   [--seed-job ID:PIPELINE_ID[:STATUS]]... [--max-pipelines N]\n"
    "                   [--max-queued-jobs N] [FILE]\n"
    "\n"
    "Reads one raw HTTP/1.1 request from FILE (or stdin, or '-') and prints the raw\n"
    "response of a fresh in-process reference: the strict parser, SigV4 verification\n"
    "with the contract's test credentials (region us-east-1), routing and the store.\n"
    "\n"
    "  --now T            the reference's clock (default: the real time); use the\n"
    "                     request's X-Amz-Date to replay a captured request\n"
    "  --seed-pipeline    put a pipeline with this Id in the store first (Active)\n"
    "  --seed-job         put a job with this Id on that pipeline first (Submitted)\n"
    "  --max-pipelines N  pipelines that may exist at once, seeded ones included; past\n"
    "                     them CreatePipeline answers 429 (default 4, as etch serve)\n"
    "  --max-queued-jobs N  Submitted and Progressing jobs per pipeline; past them\n"
    "                     CreateJob answers 429 (default 1000000, as etch serve)\n"
    "\n"
    "The input is read only as far as the reference's parser needs to decide, as a\n"
    "server reads a request, so no input is refused for its size: a request over a\n"
    "limit gets its 413, 414 or 431 from the bytes up to that limit (a Content-Length\n"
    "over the body limit from the head alone), and a chunked body is read for as long\n"
    "as its framing stays valid.\n"
    "\n"
    "Exit status: 0 when the reference answered 2xx, 1 for any other answer, 2 for bad\n"
    "usage or unreadable input.\n";

/* One read's worth: more than the largest head the reference accepts, so that a request
 * over a head limit is decided after the first read. */
#define READ_CHUNK_BYTES (64 * 1024)

/* Whether the reference's parser needs more input than `arrived` to answer the whole
 * input. It reads left to right and checks every limit as soon as a prefix passes it, so
 * whatever it refuses in a prefix it refuses the same way whatever follows; a prefix it
 * takes as a complete request still needs to know whether anything follows. */
static bool needs_more(struct ref_slice arrived, struct ref_buf *body)
{
    struct ref_http_request req;
    size_t consumed = 0;
    enum ref_status rc = ref_http_parse_request_prefix(arrived, &req, body, &consumed, NULL);
    return rc == REF_E_INCOMPLETE || (rc == REF_OK && consumed == arrived.len);
}

/* Reads the request from path (stdin for NULL or "-") into raw, stopping as soon as the
 * parser has decided: the reference then answers what has been read exactly as it would
 * answer the whole input. The parser's limits bound how far that can be; the farthest is
 * a chunked body of one-byte chunks with the longest chunk lines, whose framing may be
 * far longer than REF_MAX_REQUEST_BYTES while every chunk is in bounds, and which
 * `etch serve` reads to the end too. */
static bool read_request(const char *path, struct ref_buf *raw)
{
    bool is_stdin = path == NULL || strcmp(path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "etch handle: cannot open '%s': %s\n", path, strerror(errno));
        return false;
    }
    struct ref_buf body;
    ref_buf_init(&body, REF_MAX_BODY_BYTES);
    uint8_t chunk[READ_CHUNK_BYTES];
    size_t parsed_len = 0;
    bool ok = true;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            fprintf(stderr, "etch handle: cannot read '%s': %s\n", name, strerror(errno));
            ok = false;
            break;
        }
        if (n == 0) {
            break; /* the end of the input: what has been read is all of it */
        }
        if (ref_buf_append(raw, chunk, (size_t)n) != REF_OK) {
            fprintf(stderr, "etch handle: out of memory reading '%s'\n", name);
            ok = false;
            break;
        }
        /* The parser starts from the first byte each time: looking again only once the
         * input has doubled keeps its passes over a long chunked body within twice its
         * length. */
        if (raw->len < 2 * parsed_len) {
            continue;
        }
        parsed_len = raw->len;
        if (!needs_more(ref_buf_slice(raw), &body)) {
            break;
        }
    }
    ref_buf_cleanup(&body);
    if (!is_stdin) {
        close(fd);
    }
    return ok;
}

struct fixed_clock {
    int64_t now_ms;
};

static int64_t fixed_now_ms(void *ctx)
{
    return ((const struct fixed_clock *)ctx)->now_ms;
}

/* Splits "a:b:c" in place into up to three parts; missing parts stay NULL. */
static void split_colons(char *text, char *parts[3])
{
    parts[0] = text;
    parts[1] = NULL;
    parts[2] = NULL;
    for (int i = 1; i < 3; i++) {
        char *colon = strchr(parts[i - 1], ':');
        if (colon == NULL) {
            break;
        }
        *colon = '\0';
        parts[i] = colon + 1;
    }
}

static bool seed(struct ref_service *svc, bool is_job, char *spec)
{
    char *parts[3];
    split_colons(spec, parts);
    enum ref_status rc;
    if (is_job) {
        if (parts[1] == NULL) {
            fprintf(stderr, "etch handle: --seed-job needs ID:PIPELINE_ID[:STATUS]\n");
            return false;
        }
        rc = ref_service_seed_job(svc, parts[0], parts[1], parts[2] ? parts[2] : "Submitted");
    } else {
        rc = ref_service_seed_pipeline(svc, parts[0], "seeded", parts[1] ? parts[1] : "Active");
    }
    if (rc != REF_OK) {
        fprintf(stderr, "etch handle: cannot seed %s '%s': %s\n", is_job ? "job" : "pipeline",
                parts[0], ref_status_name(rc));
        return false;
    }
    return true;
}

/* Seeds one `etch handle` takes at most. */
#define MAX_SEEDS 64

struct handle_options {
    const char *path; /* NULL: stdin */
    int64_t now_ms;
    /* Seeds are applied after the service exists, in command-line order. */
    char *seeds[MAX_SEEDS];
    bool seed_is_job[MAX_SEEDS];
    size_t num_seeds;
    /* 0: the reference's defaults, the same as etch serve's. */
    uint64_t max_pipelines;
    uint64_t max_queued_jobs;
};

/* Reads the options and the request file of `etch handle` into *o. Returns true to go on;
 * false when the command ends here, with *exit_status ETCH_EXIT_PASS after --help, or
 * ETCH_EXIT_USAGE for a usage error (message printed). */
static bool parse_options(int argc, char **argv, struct handle_options *o, int *exit_status)
{
    *o = (struct handle_options){.now_ms = etch_real_now_ms()};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(s_usage, stdout);
            *exit_status = ETCH_EXIT_PASS;
            return false;
        } else if (strcmp(arg, "--now") == 0 && has_value) {
            if (!etch_parse_now(argv[++i], &o->now_ms, "etch handle")) {
                *exit_status = ETCH_EXIT_USAGE;
                return false;
            }
        } else if ((strcmp(arg, "--max-pipelines") == 0 || strcmp(arg, "--max-queued-jobs") == 0) &&
                   has_value) {
            bool is_pipes = strcmp(arg, "--max-pipelines") == 0;
            uint64_t v = 0;
            const char *text = argv[++i];
            if (ref_slice_to_u64(ref_slice_from_cstr(text), UINT32_MAX, &v) != REF_OK || v == 0) {
                fprintf(stderr, "etch handle: %s needs a whole number from 1 to %u, not '%s'\n",
                        arg, (unsigned)UINT32_MAX, text);
                *exit_status = ETCH_EXIT_USAGE;
                return false;
            }
            *(is_pipes ? &o->max_pipelines : &o->max_queued_jobs) = v;
        } else if ((strcmp(arg, "--seed-pipeline") == 0 || strcmp(arg, "--seed-job") == 0) &&
                   has_value) {
            if (o->num_seeds == MAX_SEEDS) {
                fprintf(stderr, "etch handle: at most %d seeds\n", MAX_SEEDS);
                *exit_status = ETCH_EXIT_USAGE;
                return false;
            }
            o->seed_is_job[o->num_seeds] = strcmp(arg, "--seed-job") == 0;
            o->seeds[o->num_seeds++] = argv[++i];
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "etch handle: unknown or incomplete option '%s'\n\n%s", arg, s_usage);
            *exit_status = ETCH_EXIT_USAGE;
            return false;
        } else if (o->path == NULL) {
            o->path = arg;
        } else {
            fprintf(stderr, "etch handle: only one request file\n\n%s", s_usage);
            *exit_status = ETCH_EXIT_USAGE;
            return false;
        }
    }
    return true;
}

int etch_cmd_handle(int argc, char **argv)
{
    struct handle_options o;
    int exit_status = ETCH_EXIT_USAGE;
    if (!parse_options(argc, argv, &o, &exit_status)) {
        return exit_status;
    }
    struct fixed_clock clock = {.now_ms = o.now_ms};

    struct ref_buf raw;
    /* No cap of its own: read_request stops where the parser decides. */
    ref_buf_init(&raw, SIZE_MAX);
    if (!read_request(o.path, &raw)) {
        ref_buf_cleanup(&raw);
        return ETCH_EXIT_USAGE;
    }

    struct ref_service_config cfg;
    ref_service_config_defaults(&cfg);
    cfg.env.now_ms = fixed_now_ms;
    cfg.env.ctx = &clock;
    if (o.max_pipelines > 0) {
        cfg.max_pipelines = (size_t)o.max_pipelines;
    }
    if (o.max_queued_jobs > 0) {
        cfg.max_queued_jobs = (size_t)o.max_queued_jobs;
    }
    struct ref_service *svc = ref_service_new(&cfg);
    if (svc == NULL) {
        fprintf(stderr, "etch handle: out of memory\n");
        ref_buf_cleanup(&raw);
        return ETCH_EXIT_USAGE;
    }

    exit_status = ETCH_EXIT_USAGE;
    struct ref_buf response;
    ref_buf_init(&response, REF_MAX_RESPONSE_BYTES);
    for (size_t i = 0; i < o.num_seeds; i++) {
        if (!seed(svc, o.seed_is_job[i], o.seeds[i])) {
            goto out;
        }
    }
    if (ref_service_handle(svc, ref_buf_slice(&raw), &response) != REF_OK) {
        fprintf(stderr, "etch handle: the reference could not build an answer\n");
        goto out;
    }
    fwrite(response.data, 1, response.len, stdout);
    /* The status code sits at a fixed place in "HTTP/1.1 NNN ". */
    exit_status = (response.len > 9 && response.data[9] == '2') ? ETCH_EXIT_PASS : ETCH_EXIT_FAIL;

out:
    ref_buf_cleanup(&response);
    ref_service_free(svc);
    ref_buf_cleanup(&raw);
    return exit_status;
}
