/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_handle.c - `etch handle`: answers one raw HTTP request with a fresh reference.
 *
 * For debugging a request by hand and for reproducing fuzz findings: the request goes
 * through the same strict parser and the same ref_service_handle as everywhere else,
 * with the contract's test credentials and the clock pinned at --now.
 */
#include "cli_util.h"
#include "harness/commands.h"

#include "ref/limits.h"
#include "ref/service.h"

#include <stdio.h>
#include <string.h>

static const char s_usage[] =
    "usage: etch handle [--now YYYYMMDDTHHMMSSZ] [--seed-pipeline ID[:Active|Paused]]...\n"
    "                   [--seed-job ID:PIPELINE_ID[:STATUS]]... [FILE]\n"
    "\n"
    "Reads one raw HTTP/1.1 request from FILE (or stdin, or '-') and prints the raw\n"
    "response of a fresh in-process reference: the strict parser, SigV4 verification\n"
    "with the contract's test credentials (region us-east-1), routing and the store.\n"
    "\n"
    "  --now T            the reference's clock (default: the real time); use the\n"
    "                     request's X-Amz-Date to replay a captured request\n"
    "  --seed-pipeline    put a pipeline with this Id in the store first (Active)\n"
    "  --seed-job         put a job with this Id on that pipeline first (Submitted)\n"
    "\n"
    "Exit status: 0 when the reference answered 2xx, 1 for any other answer, 2 for bad\n"
    "usage or unreadable input.\n";

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
        fprintf(stderr,
                "etch handle: cannot seed %s '%s': %s\n",
                is_job ? "job" : "pipeline",
                parts[0],
                ref_status_name(rc));
        return false;
    }
    return true;
}

int etch_cmd_handle(int argc, char **argv)
{
    const char *path = NULL;
    struct fixed_clock clock = {.now_ms = etch_real_now_ms()};
    /* Seeds are applied after the service exists, in command-line order. */
    char *seeds[64];
    bool seed_is_job[64];
    size_t num_seeds = 0;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(s_usage, stdout);
            return 0;
        } else if (strcmp(arg, "--now") == 0 && has_value) {
            if (!etch_parse_now(argv[++i], &clock.now_ms, "etch handle")) {
                return 2;
            }
        } else if ((strcmp(arg, "--seed-pipeline") == 0 || strcmp(arg, "--seed-job") == 0) &&
                   has_value) {
            if (num_seeds == sizeof(seeds) / sizeof(seeds[0])) {
                fprintf(stderr, "etch handle: at most 64 seeds\n");
                return 2;
            }
            seed_is_job[num_seeds] = strcmp(arg, "--seed-job") == 0;
            seeds[num_seeds++] = argv[++i];
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "etch handle: unknown or incomplete option '%s'\n\n%s", arg, s_usage);
            return 2;
        } else if (path == NULL) {
            path = arg;
        } else {
            fprintf(stderr, "etch handle: only one request file\n\n%s", s_usage);
            return 2;
        }
    }

    struct ref_buf raw;
    ref_buf_init(&raw, REF_MAX_REQUEST_BYTES);
    if (!etch_read_input(path, &raw, "etch handle")) {
        ref_buf_cleanup(&raw);
        return 2;
    }

    struct ref_service_config cfg;
    ref_service_config_defaults(&cfg);
    cfg.env.now_ms = fixed_now_ms;
    cfg.env.ctx = &clock;
    struct ref_service *svc = ref_service_new(&cfg);
    if (svc == NULL) {
        fprintf(stderr, "etch handle: out of memory\n");
        ref_buf_cleanup(&raw);
        return 2;
    }

    int exit_code = 2;
    struct ref_buf response;
    ref_buf_init(&response, REF_MAX_RESPONSE_BYTES);
    for (size_t i = 0; i < num_seeds; i++) {
        if (!seed(svc, seed_is_job[i], seeds[i])) {
            goto out;
        }
    }
    if (ref_service_handle(svc, ref_buf_slice(&raw), &response) != REF_OK) {
        fprintf(stderr, "etch handle: the reference could not build an answer\n");
        goto out;
    }
    fwrite(response.data, 1, response.len, stdout);
    /* The status code sits at a fixed place in "HTTP/1.1 NNN ". */
    exit_code = (response.len > 9 && response.data[9] == '2') ? 0 : 1;

out:
    ref_buf_cleanup(&response);
    ref_service_free(svc);
    ref_buf_cleanup(&raw);
    return exit_code;
}
