/* SPDX-License-Identifier: Apache-2.0 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "common/file.h"
#include "common/help.h"
#include "vouch/evidence.h"

/*
 * Sub-commands, one file each (src/cli/cmd_*.c); declared in commands.h.
 * The `vouch inspect` commands of the TEEs are added from the verifier
 * registry (src/evidence/registry.c) by build_table().
 */
static const struct vouch_cli_cmd fixed[] = {
    { "attest", "--tee TEE (--evidence FILE | --collect [--tsm-dir DIR] [--ccel FILE]) "
      "[--eventlog FILE] [--aa-eventlog FILE] [--url URL] [--runtime-data-hex HEX | --runtime-data-json JSON] [--hash ALG] "
      "[--policy ID]... [--audience AUD] [--ear] [--raw] [--out FILE]",
      "send evidence (a quote or an evidence JSON, or with --collect a TDX quote taken in this "
      "TD through configfs-tsm, bound to a fresh challenge) to a Vouch service; print or store "
      "the token.  For tdx, --eventlog adds a CC event log (a CCEL or dstack's JSON log) and "
      "--aa-eventlog the attestation agent's log", vouch_cmd_attest },
    { "verify-token", "TOKEN|- --issuer URL [--audience AUD]",
      "verify a token with the issuer's published keys, as a relying party does",
      vouch_cmd_verify_token },
    { "collateral import", "[--db URL] [--dcap-root FILE] [--at RFC3339] PATH...",
      "verify Intel collateral (QuoteCollateralV3 JSON, PCS responses, bundles, directories) "
      "and store it", vouch_cmd_collateral_import },
    { "rim import", "[--db URL] [--rim-root FILE] [--at RFC3339] PATH...",
      "verify NVIDIA RIMs (SWID XML or the RIM service's JSON; files or directories) and "
      "store them under their RIM ids", vouch_cmd_rim_import },
    { "rim list", "[--db URL]", "list the stored NVIDIA RIMs", vouch_cmd_rim_list },
    { "inspect token", "TOKEN|-", "decode a JWT's header and payload without verifying it",
      vouch_cmd_inspect_token },
    { "inspect eventlog", "FILE [--json] [--pcrs FILE] [--ebs-fixup]",
      "replay a TCG UEFI event log: events, PCRs per bank, Secure Boot state",
      vouch_cmd_inspect_eventlog },
    { "inspect ima", "FILE [--json|--ascii] [--pcrs FILE] [--policy FILE] [--legacy-banks]",
      "replay an IMA log into PCR 10 per bank, check files against a policy",
      vouch_cmd_inspect_ima },
    { "inspect evidence",
      "--tee TEE EVIDENCE [--at RFC3339] [--collateral PATH] [--rims DIR] [--OPTION VALUE]...",
      "verify an evidence document as vouchd would (no binding, no policy); print the claims",
      vouch_cmd_inspect_verifier },
    { "inspect tpmquote",
      "--ak PUB --quote MSG --sig SIG [--pcrs FILE] [--nonce HEX] [--json] [--allow-sha1]",
      "verify a TPM2 quote (tpm2_quote -m/-s) with its AK (PEM or TPM2B_PUBLIC)",
      vouch_cmd_inspect_tpmquote },
    { "keys rotate", "[--db URL] [--kek-file FILE] [--alg RS256|ES256|all]",
      "new signing keys; old ones stay in the JWKS until their tokens expire",
      vouch_cmd_keys_rotate },
    { "keys rewrap", "[--db URL] [--old-kek FILE] [--new-kek FILE]",
      "re-wrap every stored secret under a new key-encryption key, in one transaction "
      "(no --old-kek: wrap clear ones; no --new-kek: back to clear)",
      vouch_cmd_keys_rewrap },
    { "keys list", "[--db URL]", "list the token signing keys and their state",
      vouch_cmd_keys_list },
    { "accesskey create", "[--db URL] [--kek-file FILE] ACCOUNT",
      "a new AccessKey pair for a vTPM account (created when new); the secret is shown once",
      vouch_cmd_accesskey_create },
    { "accesskey list", "[--db URL] [--account NAME]",
      "list the vTPM AccessKey ids, their accounts and state (never secrets)",
      vouch_cmd_accesskey_list },
    { "accesskey disable", "[--db URL] ACCESSKEYID", "disable a vTPM AccessKey for good",
      vouch_cmd_accesskey_disable },
    { "token sign",
      "[--db URL] [--kek-file FILE] [--alg RS256|ES256] [--lifetime SECONDS] CLAIMS.json|-",
      "sign a JSON claims set with the service's active key (tests, tooling)",
      vouch_cmd_token_sign },
    { "audit",
      "[--db URL] [--actor WHO] [--action WHAT] [--since RFC3339] [--until RFC3339] "
      "[--limit N] [--json]",
      "show the audit log of administrative actions, newest first", vouch_cmd_audit },
    { "db migrate", "[--db URL]",
      "bring the database schema up to date (vouchd does too when it starts)",
      vouch_cmd_db_migrate },
    { "db status", "[--db URL]",
      "show the backend, the schema version and the migrations still to apply",
      vouch_cmd_db_status },
    { "db copy", "--from URL --to URL [--force]",
      "copy settings, signing keys (as stored) and documents into an empty store, in one "
      "transaction (sqlite:PATH to postgres://...)", vouch_cmd_db_copy },
    { "policy eval",
      "-d POLICY.rego [-d more.rego|data.json] [-i INPUT.json] [-r REFVALUES.json] [--v0] "
      "[--strict] [--bindings] [--now NS] QUERY",
      "evaluate a Rego query (like opa eval) and print the result set as JSON",
      vouch_cmd_policy_eval },
};

#define N_FIXED (sizeof(fixed) / sizeof(fixed[0]))
#define INSPECT_MAX 16

/*
 * The CLI half of a verifier's inspect command (argv parsing and printing),
 * for the verifiers that print more than their claims; the others get
 * vouch_cmd_inspect_verifier (cmd_inspect_verifier.c).
 */
static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} inspect_runners[] = {
    { "quote", vouch_cmd_inspect_quote },
    { "gpu", vouch_cmd_inspect_gpu },
    { "snp", vouch_cmd_inspect_snp },
};

static struct vouch_cli_cmd commands[N_FIXED + INSPECT_MAX];
static char inspect_names[INSPECT_MAX][64];
static size_t n_commands;

static int (*inspect_runner(const char *name))(int, char **)
{
    size_t i;

    for (i = 0; i < sizeof(inspect_runners) / sizeof(inspect_runners[0]); i++)
        if (strcmp(inspect_runners[i].name, name) == 0)
            return inspect_runners[i].run;
    return NULL;
}

static bool listed(const char *name)
{
    size_t i;

    for (i = 0; i < n_commands; i++)
        if (strcmp(commands[i].name, name) == 0)
            return true;
    return false;
}

/* The fixed commands, then one "inspect NAME" per verifier that has one. */
static void build_table(void)
{
    const struct vouch_verifier *v;
    size_t i, n_inspect = 0;

    memcpy(commands, fixed, sizeof(fixed));
    n_commands = N_FIXED;
    for (i = 0; (v = vouch_verifier_at(i)) && n_inspect < INSPECT_MAX; i++) {
        char *name = inspect_names[n_inspect];

        if (!v->inspect)
            continue;
        snprintf(name, sizeof(inspect_names[0]), "inspect %s", v->inspect->name);
        if (listed(name))
            continue; /* tdx and sgx share one */
        commands[n_commands].name = name;
        commands[n_commands].usage = v->inspect->usage;
        commands[n_commands].summary = v->inspect->summary;
        /* Without its own CLI file, the generic one verifies and prints the claims. */
        commands[n_commands].run = inspect_runner(v->inspect->name)
                                       ? inspect_runner(v->inspect->name)
                                       : vouch_cmd_inspect_verifier;
        n_commands++;
        n_inspect++;
    }
}

static void help(FILE *out)
{
    size_t i, width = 0;

    fprintf(out,
            "usage: vouch COMMAND [ARGS...]\n\n"
            "Vouch command-line tool: inspect evidence, manage the service's keys,\n"
            "policies and collateral.  Commands that use the database take --db URL\n"
            "(or VOUCH_DB), default sqlite:./var/vouch.db, the same as vouchd.\n\n"
            "commands:\n");
    for (i = 0; i < n_commands; i++)
        if (strlen(commands[i].name) > width)
            width = strlen(commands[i].name);
    for (i = 0; i < n_commands; i++) {
        fprintf(out, "  %-*s ", (int)width, commands[i].name);
        vouch_help_print_wrapped(out, width + 3, commands[i].summary);
    }
    fprintf(out, "\n'vouch COMMAND --help' shows the arguments of one command.\n");
}

/* Whether some command is "GROUP ...". */
static bool is_group(const char *group)
{
    size_t i, n = strlen(group);

    for (i = 0; i < n_commands; i++)
        if (strncmp(commands[i].name, group, n) == 0 && commands[i].name[n] == ' ')
            return true;
    return false;
}

/* The commands "GROUP ...", each with its arguments. */
static void group_help(FILE *out, const char *group)
{
    size_t i, n = strlen(group);

    fprintf(out, "usage: vouch %s COMMAND [ARGS...]\n\ncommands:\n", group);
    for (i = 0; i < n_commands; i++) {
        if (strncmp(commands[i].name, group, n) != 0 || commands[i].name[n] != ' ')
            continue;
        fprintf(out, "  vouch %s %s\n    ", commands[i].name, commands[i].usage);
        vouch_help_print_wrapped(out, 4, commands[i].summary);
    }
    fprintf(out, "\n'vouch %s COMMAND --help' shows one of them.\n", group);
}

/*
 * A group name with --help ("vouch accesskey --help"): its commands on
 * stdout.  Alone, or with an unknown command after it: a usage error, the
 * group's commands on stderr.  -1 when argv[1] is no group.
 */
static int group_only(int argc, char **argv)
{
    if (!is_group(argv[1]))
        return -1;
    if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
        group_help(stdout, argv[1]);
        return VOUCH_EXIT_OK;
    }
    if (argc > 2)
        fprintf(stderr, "vouch: unknown command '%s %s'\n\n", argv[1], argv[2]);
    group_help(stderr, argv[1]);
    return VOUCH_EXIT_USAGE;
}

int vouch_cli_usage(const char *name)
{
    size_t i;

    for (i = 0; i < n_commands; i++)
        if (strcmp(commands[i].name, name) == 0) {
            fprintf(stderr, "usage: vouch %s %s\n  %s\n", name, commands[i].usage,
                    commands[i].summary);
            break;
        }
    return VOUCH_EXIT_USAGE;
}

int vouch_cli_read_file(const char *path, size_t max, unsigned char **ret, size_t *ret_len)
{
    struct vouch_errbuf eb;
    vouch_err e;

    if (strcmp(path, "-") == 0)
        e = vouch_file_read_stream(stdin, "standard input", max, ret, ret_len, &eb);
    else
        e = vouch_file_read(path, max, ret, ret_len, &eb);
    if (e) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        return -1;
    }
    return 0;
}

/* Match "a b" commands against argv[1..2] first, then one-word ones. */
static const struct vouch_cli_cmd *find(int argc, char **argv, int *ret_used)
{
    char two[128];
    size_t i;

    if (argc >= 3) {
        snprintf(two, sizeof(two), "%s %s", argv[1], argv[2]);
        for (i = 0; i < n_commands; i++)
            if (strcmp(commands[i].name, two) == 0) {
                *ret_used = 2;
                return &commands[i];
            }
    }
    for (i = 0; i < n_commands; i++)
        if (strcmp(commands[i].name, argv[1]) == 0) {
            *ret_used = 1;
            return &commands[i];
        }
    return NULL;
}

int main(int argc, char **argv)
{
    const struct vouch_cli_cmd *cmd;
    int used = 0, i;

    build_table();
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        help(argc < 2 ? stderr : stdout);
        return argc < 2 ? VOUCH_EXIT_USAGE : VOUCH_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("vouch %s\n", VOUCH_VERSION);
        return VOUCH_EXIT_OK;
    }
    cmd = find(argc, argv, &used);
    if (!cmd && (i = group_only(argc, argv)) >= 0)
        return i;
    if (!cmd) {
        fprintf(stderr, "vouch: unknown command '%s'\n\n", argv[1]);
        help(stderr);
        return VOUCH_EXIT_USAGE;
    }
    for (i = 1 + used; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: vouch %s %s\n  %s\n", cmd->name, cmd->usage, cmd->summary);
            if (strstr(cmd->usage, "--db URL"))
                printf("\n  --db URL  the store: sqlite:PATH or postgres://...; default VOUCH_DB,\n"
                       "            else sqlite:./var/vouch.db, the same as vouchd\n");
            return VOUCH_EXIT_OK;
        }
    /* The sub-command sees its own name as argv[0]. */
    return cmd->run(argc - used, argv + used);
}
