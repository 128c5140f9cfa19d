/* SPDX-License-Identifier: Apache-2.0
 *
 * main.c - the etch command: dispatches to the subcommands of commands.h.
 */
#include "cli_util.h"
#include "harness/commands.h"

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command s_commands[] = {
    {"run", etch_cmd_run, "run the conformance suite (default: against the embedded reference)"},
    {"list", etch_cmd_list, "list the scenarios of the suite"},
    {"diff", etch_cmd_diff, "run the suite on two targets and show where their answers differ"},
    {"explore", etch_cmd_explore,
     "explore random sequences on an endpoint and the reference, shrink what diverges"},
    {"serve", etch_cmd_serve, "serve the reference over HTTP for real clients"},
    {"bench", etch_cmd_bench, "measure signing, verification and request handling speed"},
    {"handle", etch_cmd_handle, "answer one raw HTTP request with a fresh reference"},
    {"send", etch_cmd_send, "send one raw HTTP request file to an endpoint byte for byte"},
    {"sigv4", etch_cmd_sigv4, "sign, canonicalise or verify a request file with SigV4"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: etch <command> [options]\n"
            "\n"
            "etch checks implementations of the Elastic Transcoder job API (CancelJob and the\n"
            "operations around it) against its contract.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof(s_commands) / sizeof(s_commands[0]); i++) {
        fprintf(out, "  %-8s %s\n", s_commands[i].name, s_commands[i].summary);
    }
    fprintf(out, "\n"
                 "Run 'etch <command> --help' for a command's options; 'etch --version' for the "
                 "version.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return ETCH_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return ETCH_EXIT_PASS;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("etch %s\n", ETCH_VERSION);
        return ETCH_EXIT_PASS;
    }
    for (size_t i = 0; i < sizeof(s_commands) / sizeof(s_commands[0]); i++) {
        if (strcmp(argv[1], s_commands[i].name) == 0) {
            return s_commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "etch: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return ETCH_EXIT_USAGE;
}
