/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_serve.c - `etch serve`: the reference over HTTP, for real clients and live runs.
 *
 * Reads the options into a ref_service_config (the real clock, which test control can make
 * virtual when --test-control offers it), starts the libuv front of serve_http.c,
 * prints the address it listens on as the first line of stdout (tests read the port from
 * it), and waits for SIGINT or SIGTERM. On either it stops accepting, lets the requests in
 * flight finish (bounded), and exits 0.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli_util.h"
#include "harness/commands.h"
#include "serve_credentials.h"
#include "serve_http.h"

#include "ref/limits.h"
#include "ref/service.h"
#include "ref/slice.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long requests in flight get to finish after a stop signal. */
#define DRAIN_TIMEOUT_MS 10000
#define DRAIN_POLL_MS    20
/* Bounds of the numeric options: generous, but explicit. */
#define MAX_SKEW_S      86400
#define MAX_JOB_TIME_MS (366LL * 24 * 3600 * 1000)
#define MAX_PAGE_SIZE   1000
/* The limits are settings because the real quotas could be raised on request (contract
 * section 2b); the store grows as objects are made, so a high bound reserves nothing. */
#define MAX_PIPELINES_SETTING   1000000
#define MAX_QUEUED_JOBS_SETTING 1000000000
#define MAX_REGION_BYTES        32
#define MAX_LISTEN_HOST_LEN     64
/* The connection timeouts: a day at most, which is already no timeout for any client. */
#define MAX_CONN_TIMEOUT_MS (24U * 3600 * 1000)
/* Open connections: far past what the descriptors of one process usually allow. */
#define MAX_CONNECTIONS_SETTING 1000000

static const char s_usage[] =
    "usage: etch serve [--listen HOST:PORT] [--region R] [--credentials-file F]\n"
    "                  [--skew-seconds N] [--start-delay-ms N] [--run-time-ms N] [--page-size N]\n"
    "                  [--max-pipelines N] [--max-queued-jobs N] [--max-request-bytes N]\n"
    "                  [--threads N] [--idle-timeout-ms N] [--request-timeout-ms N]\n"
    "                  [--max-connections N] [--test-control] [--quiet]\n"
    "\n"
    "Serves the reference implementation over HTTP/1.1 (keep-alive, many connections at\n"
    "once) for real clients and live runs, until SIGINT or SIGTERM: then it stops\n"
    "accepting, lets the requests in flight finish and exits 0. The first line on stdout\n"
    "is 'etch serve: listening on http://HOST:PORT' (followed by ' (test control on)' with\n"
    "--test-control); one line per request goes to stderr (method, target, status, error\n"
    "type, time in ms).\n"
    "\n"
    "  --listen HOST:PORT     numeric address and port (default 127.0.0.1:0; port 0 picks\n"
    "                         a free one; IPv6 as [::1]:PORT)\n"
    "  --region R             the endpoint's region (default us-east-1)\n"
    "  --credentials-file F   principals, one a line: ACCESS_KEY SECRET [SESSION_TOKEN|-]\n"
    "                         [full|read-only]; '#' starts a comment line (default: the\n"
    "                         contract's test principals)\n"
    "  --skew-seconds N       allowed clock skew of signed requests (default 300)\n"
    "  --start-delay-ms N     a job on an Active pipeline starts after N ms (default 2000)\n"
    "  --run-time-ms N        a started job completes after N ms (default 5000)\n"
    "  --page-size N          items per page of the List operations (default 50)\n"
    "  --max-pipelines N      pipelines that may exist at once; CreatePipeline past them\n"
    "                         answers 429 LimitExceededException (default 4, the service's\n"
    "                         quota)\n"
    "  --max-queued-jobs N    Submitted and Progressing jobs per pipeline; CreateJob past\n"
    "                         them answers 429 LimitExceededException (default 1000000)\n"
    "  --max-request-bytes N  largest request body accepted, larger gets 413 (default and\n"
    "                         maximum 262144)\n"
    "  --threads N            worker threads, each with its own event loop (default: one\n"
    "                         per CPU)\n"
    "  --idle-timeout-ms N    a kept-alive connection with no request under way is closed\n"
    "                         after N ms without one (default 60000)\n"
    "  --request-timeout-ms N a request must arrive whole, and its answer be taken, within\n"
    "                         N ms of its first byte; past that the connection is closed\n"
    "                         without an answer (default 30000)\n"
    "  --max-connections N    connections served at once, shared evenly by the threads\n"
    "                         (rounded up to a multiple of --threads); more wait in the\n"
    "                         listen backlog until one closes (default 1024)\n"
    "  --test-control         offer test control (contract section 9): signed requests of\n"
    "                         the main principal under /_etch/control/v1 move a virtual\n"
    "                         clock, seed pipelines and jobs in any status and set a job's\n"
    "                         status. For test endpoints only: anyone holding the main key\n"
    "                         can then change time and state for every client (default off:\n"
    "                         those paths are unknown operations)\n"
    "  --quiet                no per-request log lines\n"
    "\n"
    "Exit status: 0 after a signal, 1 when the server cannot start, 2 for bad usage.\n";

struct serve_options {
    char host[MAX_LISTEN_HOST_LEN + 1];
    uint16_t port;
    const char *region;
    const char *credentials_file;
    uint64_t skew_s;
    uint64_t start_delay_ms;
    uint64_t run_time_ms;
    uint64_t page_size;
    uint64_t max_pipelines;   /* 0: the default */
    uint64_t max_queued_jobs; /* 0: the default */
    uint64_t max_body_bytes;
    uint64_t threads;
    uint64_t idle_timeout_ms;    /* 0: the default */
    uint64_t request_timeout_ms; /* 0: the default */
    uint64_t max_connections;    /* 0: the default */
    bool has_skew, has_start_delay, has_run_time, has_page_size;
    bool is_quiet;
    bool has_test_control;
};

static bool
parse_number(const char *option, const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (ref_slice_to_u64(ref_slice_from_cstr(text), max, &v) != REF_OK || v < min) {
        fprintf(stderr, "etch serve: %s needs a whole number from %llu to %llu, not '%s'\n", option,
                (unsigned long long)min, (unsigned long long)max, text);
        return false;
    }
    *out = v;
    return true;
}

/* HOST:PORT, or [IPV6]:PORT. The host is checked later, when it is bound. */
static bool parse_listen(const char *text, struct serve_options *opt)
{
    const char *host = text;
    size_t host_len = 0;
    const char *port_text = NULL;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close != NULL && close[1] == ':') {
            host = text + 1;
            host_len = (size_t)(close - host);
            port_text = close + 2;
        }
    } else {
        const char *colon = strrchr(text, ':');
        if (colon != NULL && strchr(text, ':') == colon) {
            host_len = (size_t)(colon - text);
            port_text = colon + 1;
        }
    }
    uint64_t port = 0;
    if (port_text == NULL || host_len == 0 || host_len > MAX_LISTEN_HOST_LEN ||
        ref_slice_to_u64(ref_slice_from_cstr(port_text), 65535, &port) != REF_OK) {
        fprintf(stderr,
                "etch serve: --listen needs HOST:PORT (e.g. 127.0.0.1:8080, [::1]:0), not '%s'\n",
                text);
        return false;
    }
    snprintf(opt->host, sizeof(opt->host), "%.*s", (int)host_len, host);
    opt->port = (uint16_t)port;
    return true;
}

static bool is_region(const char *text)
{
    size_t len = strnlen(text, MAX_REGION_BYTES + 1);
    if (len == 0 || len > MAX_REGION_BYTES) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return false;
        }
    }
    return true;
}

/* Reads the options of `etch serve` into *opt. Returns true to go on; false when the
 * command ends here, with *exit_status ETCH_EXIT_PASS after --help, or ETCH_EXIT_USAGE for
 * a usage error (message printed). */
static bool parse_options(int argc, char **argv, struct serve_options *opt, int *exit_status)
{
    snprintf(opt->host, sizeof(opt->host), "127.0.0.1");
    opt->max_body_bytes = REF_MAX_BODY_BYTES;
    /* One event loop per CPU, as nginx's worker_processes auto: more threads than CPUs
     * only add switches between them (measured: 10 to 15% more CPU per request with 4
     * threads than with 2 on a 2-CPU machine, and a lower rate). */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    opt->threads =
        cpus < 1 ? 1 : (cpus > ETCH_SERVE_MAX_THREADS ? ETCH_SERVE_MAX_THREADS : (uint64_t)cpus);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(s_usage, stdout);
            *exit_status = ETCH_EXIT_PASS;
            return false;
        } else if (strcmp(arg, "--quiet") == 0) {
            opt->is_quiet = true;
            continue;
        } else if (strcmp(arg, "--test-control") == 0) {
            opt->has_test_control = true;
            continue;
        } else if (value == NULL) {
            fprintf(stderr, "etch serve: unknown or incomplete option '%s'\n\n%s", arg, s_usage);
            *exit_status = ETCH_EXIT_USAGE;
            return false;
        } else if (strcmp(arg, "--listen") == 0) {
            ok = parse_listen(value, opt);
        } else if (strcmp(arg, "--region") == 0) {
            ok = is_region(value);
            if (!ok) {
                fprintf(stderr, "etch serve: --region '%s' is not a region name\n", value);
            }
            opt->region = value;
        } else if (strcmp(arg, "--credentials-file") == 0) {
            opt->credentials_file = value;
        } else if (strcmp(arg, "--skew-seconds") == 0) {
            ok = parse_number(arg, value, 0, MAX_SKEW_S, &opt->skew_s);
            opt->has_skew = true;
        } else if (strcmp(arg, "--start-delay-ms") == 0) {
            ok = parse_number(arg, value, 0, MAX_JOB_TIME_MS, &opt->start_delay_ms);
            opt->has_start_delay = true;
        } else if (strcmp(arg, "--run-time-ms") == 0) {
            ok = parse_number(arg, value, 0, MAX_JOB_TIME_MS, &opt->run_time_ms);
            opt->has_run_time = true;
        } else if (strcmp(arg, "--page-size") == 0) {
            ok = parse_number(arg, value, 1, MAX_PAGE_SIZE, &opt->page_size);
            opt->has_page_size = true;
        } else if (strcmp(arg, "--max-pipelines") == 0) {
            ok = parse_number(arg, value, 1, MAX_PIPELINES_SETTING, &opt->max_pipelines);
        } else if (strcmp(arg, "--max-queued-jobs") == 0) {
            ok = parse_number(arg, value, 1, MAX_QUEUED_JOBS_SETTING, &opt->max_queued_jobs);
        } else if (strcmp(arg, "--max-request-bytes") == 0) {
            ok = parse_number(arg, value, 0, REF_MAX_BODY_BYTES, &opt->max_body_bytes);
        } else if (strcmp(arg, "--threads") == 0) {
            ok = parse_number(arg, value, 1, ETCH_SERVE_MAX_THREADS, &opt->threads);
        } else if (strcmp(arg, "--idle-timeout-ms") == 0) {
            ok = parse_number(arg, value, 1, MAX_CONN_TIMEOUT_MS, &opt->idle_timeout_ms);
        } else if (strcmp(arg, "--request-timeout-ms") == 0) {
            ok = parse_number(arg, value, 1, MAX_CONN_TIMEOUT_MS, &opt->request_timeout_ms);
        } else if (strcmp(arg, "--max-connections") == 0) {
            ok = parse_number(arg, value, 1, MAX_CONNECTIONS_SETTING, &opt->max_connections);
        } else {
            fprintf(stderr, "etch serve: unknown option '%s'\n\n%s", arg, s_usage);
            *exit_status = ETCH_EXIT_USAGE;
            return false;
        }
        if (!ok) {
            *exit_status = ETCH_EXIT_USAGE;
            return false;
        }
        i++;
    }
    return true;
}

/* Waits for requests in flight to finish, at most DRAIN_TIMEOUT_MS; a second stop
 * signal ends the wait at once. */
static void drain(struct etch_server *srv, const sigset_t *stop_signals, bool is_quiet)
{
    const struct timespec step = {.tv_sec = 0, .tv_nsec = DRAIN_POLL_MS * 1000000L};
    for (int waited_ms = 0; etch_server_in_flight(srv) > 0; waited_ms += DRAIN_POLL_MS) {
        if (waited_ms >= DRAIN_TIMEOUT_MS) {
            if (!is_quiet) {
                fprintf(stderr,
                        "etch serve: %zu requests still in flight after %d ms; closing them\n",
                        etch_server_in_flight(srv), DRAIN_TIMEOUT_MS);
            }
            return;
        }
        if (sigtimedwait(stop_signals, NULL, &step) > 0) {
            if (!is_quiet) {
                fprintf(stderr, "etch serve: second stop signal; closing the connections\n");
            }
            return;
        }
    }
}

int etch_cmd_serve(int argc, char **argv)
{
    struct serve_options opt = {0};
    int exit_status = ETCH_EXIT_USAGE;
    if (!parse_options(argc, argv, &opt, &exit_status)) {
        return exit_status;
    }

    struct etch_credential_set creds = {0};
    if (opt.credentials_file != NULL &&
        !etch_credentials_load(opt.credentials_file, &creds, "etch serve")) {
        return ETCH_EXIT_USAGE;
    }

    struct ref_service_config cfg;
    ref_service_config_defaults(&cfg);
    /* The real clock and OpenSSL's random bytes: a zeroed env. */
    cfg.env = (struct ref_env){0};
    if (opt.region != NULL) {
        cfg.region = opt.region;
    }
    if (creds.count > 0) {
        cfg.credentials = creds.items;
        cfg.num_credentials = creds.count;
    }
    if (opt.has_skew) {
        cfg.skew_s = (int64_t)opt.skew_s;
    }
    if (opt.has_start_delay) {
        cfg.start_delay_ms = (int64_t)opt.start_delay_ms;
    }
    if (opt.has_run_time) {
        cfg.run_time_ms = (int64_t)opt.run_time_ms;
    }
    if (opt.has_page_size) {
        cfg.page_size = (size_t)opt.page_size;
    }
    if (opt.max_pipelines > 0) {
        cfg.max_pipelines = (size_t)opt.max_pipelines;
    }
    if (opt.max_queued_jobs > 0) {
        cfg.max_queued_jobs = (size_t)opt.max_queued_jobs;
    }
    cfg.has_test_control = opt.has_test_control;
    struct ref_service *svc = ref_service_new(&cfg);
    if (svc == NULL) {
        fprintf(stderr, "etch serve: out of memory\n");
        etch_credentials_free(&creds);
        return ETCH_EXIT_FAIL;
    }

    /* Block the stop signals before the loop threads start, so that they
     * inherit the mask and only this thread receives them (in sigwait). A client that
     * goes away must not kill the server either. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct etch_server_config server_cfg = {
        .svc = svc,
        .host = opt.host,
        .port = opt.port,
        .max_body_bytes = (size_t)opt.max_body_bytes,
        .threads = (unsigned)opt.threads,
        .is_quiet = opt.is_quiet,
        .idle_timeout_ms = (unsigned)opt.idle_timeout_ms,
        .slow_client_timeout_ms = (unsigned)opt.request_timeout_ms,
        .max_connections = (size_t)opt.max_connections,
    };
    struct etch_server *srv = etch_server_start(&server_cfg);
    if (srv == NULL) {
        ref_service_free(svc);
        etch_credentials_free(&creds);
        return ETCH_EXIT_FAIL;
    }
    bool is_ipv6 = strchr(opt.host, ':') != NULL;
    /* Test control lets any holder of the main key move time and state for every client:
     * the line a user sees first says so. */
    printf("etch serve: listening on http://%s%s%s:%u%s\n", is_ipv6 ? "[" : "", opt.host,
           is_ipv6 ? "]" : "", (unsigned)etch_server_port(srv),
           opt.has_test_control ? " (test control on)" : "");
    fflush(stdout);
    if (!opt.is_quiet) {
        fprintf(stderr,
                "etch serve: region %s, %zu principal(s), skew %lld s, start delay %lld ms, "
                "run time %lld ms, page size %zu, body limit %zu bytes, %u thread(s), "
                "test control %s\n",
                cfg.region, cfg.num_credentials, (long long)cfg.skew_s,
                (long long)cfg.start_delay_ms, (long long)cfg.run_time_ms, cfg.page_size,
                server_cfg.max_body_bytes, server_cfg.threads, opt.has_test_control ? "on" : "off");
    }

    int sig = 0;
    while (sigwait(&stop_signals, &sig) != 0) {
        /* sigwait only fails for an invalid set; keep waiting rather than exit early. */
    }
    if (!opt.is_quiet) {
        fprintf(stderr, "etch serve: %s: no new connections; finishing %zu request(s) in flight\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM", etch_server_in_flight(srv));
    }
    etch_server_quiesce(srv);
    drain(srv, &stop_signals, opt.is_quiet);
    etch_server_stop(srv);
    ref_service_free(svc);
    etch_credentials_free(&creds);
    if (!opt.is_quiet) {
        fprintf(stderr, "etch serve: stopped\n");
    }
    return ETCH_EXIT_PASS;
}
