/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_CLI_COMMANDS_H
#define VOUCH_CLI_COMMANDS_H

/* Every sub-command's entry point; the table is in src/cli/main.c. */
int vouch_cmd_inspect_token(int argc, char **argv);
int vouch_cmd_policy_eval(int argc, char **argv);

#endif
