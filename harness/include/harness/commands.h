/* SPDX-License-Identifier: Apache-2.0
 *
 * commands.h - the etch subcommands. Each takes the arguments after its own name
 * (argv[0] is the subcommand name) and returns the process exit code:
 * 0 success, 1 a failed check, 2 bad usage or unreadable input.
 */
#ifndef HARNESS_COMMANDS_H
#define HARNESS_COMMANDS_H

int etch_cmd_handle(int argc, char **argv);
int etch_cmd_sigv4(int argc, char **argv);
int etch_cmd_run(int argc, char **argv);
int etch_cmd_list(int argc, char **argv);
int etch_cmd_serve(int argc, char **argv);
int etch_cmd_bench(int argc, char **argv);
int etch_cmd_diff(int argc, char **argv);
int etch_cmd_send(int argc, char **argv);
int etch_cmd_explore(int argc, char **argv);

#endif
