/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_CLI_COMMANDS_H
#define VOUCH_CLI_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>

/* Every sub-command's entry point; the table is in src/cli/main.c. */
int vouch_cmd_inspect_token(int argc, char **argv);

/* Evidence inspection: src/cli/cmd_inspect_*.c */
int vouch_cmd_inspect_eventlog(int argc, char **argv);
int vouch_cmd_inspect_ima(int argc, char **argv);
int vouch_cmd_inspect_tpmquote(int argc, char **argv);
int vouch_cmd_inspect_quote(int argc, char **argv);
int vouch_cmd_inspect_gpu(int argc, char **argv);
int vouch_cmd_inspect_snp(int argc, char **argv);
/* Any verifier's inspect command: trust from its hook, verify, print the claims. */
int vouch_cmd_inspect_verifier(int argc, char **argv);
int vouch_cmd_keys_rotate(int argc, char **argv);
int vouch_cmd_keys_list(int argc, char **argv);
int vouch_cmd_keys_rewrap(int argc, char **argv);
int vouch_cmd_accesskey_create(int argc, char **argv);
int vouch_cmd_accesskey_list(int argc, char **argv);
int vouch_cmd_accesskey_disable(int argc, char **argv);
int vouch_cmd_token_sign(int argc, char **argv);
/* The audit log: src/cli/cmd_audit.c */
int vouch_cmd_audit(int argc, char **argv);
struct vouch_store;
/* Record a state-changing command (rc: its exit status) as "cli:USER"; warns on failure. */
void vouch_cli_audit(struct vouch_store *s, const char *action, const char *target, int rc);
/* The database: src/cli/cmd_db.c */
int vouch_cmd_db_migrate(int argc, char **argv);
int vouch_cmd_db_status(int argc, char **argv);
int vouch_cmd_db_copy(int argc, char **argv);

int vouch_cmd_attest(int argc, char **argv);
int vouch_cmd_collateral_import(int argc, char **argv);
int vouch_cmd_rim_import(int argc, char **argv);
int vouch_cmd_rim_list(int argc, char **argv);
int vouch_cmd_verify_token(int argc, char **argv);

/* --db handling shared by the store commands (cmd_keys.c). */
int vouch_cli_db_opt(int argc, char **argv, int i, const char **db);
const char *vouch_cli_default_db(void);
/*
 * Whether `db` names a database that is there: a sqlite: URL whose file is
 * missing prints "vouch: WHAT no database at PATH" and gives false (SQLite
 * would make an empty file at a mistyped path).  Other URLs give true.
 */
bool vouch_cli_db_exists(const char *db, const char *what);
/*
 * Open (and migrate) the store at `db`, printing why not: 0 or an exit
 * status.  Commands that read or use what is stored open an EXISTING one;
 * set-up commands (imports, keys rotate, accesskey create) may CREATE it.
 */
enum vouch_cli_store_mode { VOUCH_CLI_STORE_CREATE, VOUCH_CLI_STORE_EXISTING };
int vouch_cli_store_open(const char *db, enum vouch_cli_store_mode mode,
                         struct vouch_store **ret);

/*
 * --kek-file FILE (default $VOUCH_KEK_FILE, else none), like --db; and
 * loading it: *ret is `kek` once loaded, NULL without a path.  Returns 0 or
 * an exit status (the reason printed).
 */
struct vouch_kek;
int vouch_cli_kek_opt(int argc, char **argv, int i, const char **kek_file);
const char *vouch_cli_default_kek_file(void);
int vouch_cli_load_kek(const char *path, struct vouch_kek *kek, const struct vouch_kek **ret);

/*
 * The arguments of the import commands (cmd_collateral.c):
 *   [--db URL] [ROOT_FLAG FILE] [--at RFC3339] PATH...
 * `root` starts as the caller's default, `now` as the current time.  On
 * success returns VOUCH_EXIT_OK with `paths` (free() it) holding n_paths
 * >= 1 entries of argv; otherwise prints why and returns the exit status.
 */
struct vouch_cli_import {
    const char *db;
    const char *root;
    int64_t now;
    const char **paths;
    int n_paths;
};
int vouch_cli_import_args(int argc, char **argv, const char *cmd, const char *root_flag,
                          struct vouch_cli_import *im);
int vouch_cmd_policy_eval(int argc, char **argv);

#endif
