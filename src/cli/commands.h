/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_CLI_COMMANDS_H
#define VOUCH_CLI_COMMANDS_H

/* Every sub-command's entry point; the table is in src/cli/main.c. */
int vouch_cmd_inspect_token(int argc, char **argv);
int vouch_cmd_inspect_quote(int argc, char **argv);
int vouch_cmd_keys_rotate(int argc, char **argv);
int vouch_cmd_keys_list(int argc, char **argv);
int vouch_cmd_token_sign(int argc, char **argv);

/* --db handling shared by the store commands (cmd_keys.c). */
int vouch_cli_db_opt(int argc, char **argv, int i, const char **db);
const char *vouch_cli_default_db(void);

#endif
