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
 * Option lines used by several commands (the format of
 * vouch_cli_cmd.options); --at, --json and --collateral are in
 * vouch/evidence.h, shared with the verifiers' inspect commands.
 */
#define DB_OPT                                                                             \
    "--db URL\tthe store: sqlite:PATH or postgres://...; default VOUCH_DB, else "          \
    "sqlite:./var/vouch.db, the same as vouchd"
#define KEK_OPT                                                                            \
    "--kek-file FILE\tthe key-encryption key that wraps the stored secrets (vouchd's "     \
    "--kek-file): 32 bytes, raw, as 64 hex digits or as base64, in a file no group or "   \
    "other may read; default VOUCH_KEK_FILE, else none (secrets in clear)"
#define PCR_FORMATS "JSON, tpm2_pcrread YAML or tpm2_pcrread -o binary"
#define TOKEN_ARG "TOKEN|-\ta compact JWS; \"-\" reads it from stdin"

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
      "--aa-eventlog the attestation agent's log",
      "--tee TEE\tthe verifier the service is to use, named as in an attestation request "
      "(tdx, sgx, snp, nvgpu, ...)\n"
      "--evidence FILE\tthe evidence; \"-\" reads stdin.  A JSON object is sent as it "
      "is; anything else must parse as an SGX or TDX quote (binary or hex) and is sent as "
      "{\"quote\": ...}; other input is refused before anything is sent\n"
      "--collect\tinstead of --evidence, take a TDX quote in this TD through configfs-tsm, "
      "bound to a challenge from the service (or to --runtime-data-*); --tee tdx only\n"
      "--tsm-dir DIR\twith --collect: the configfs-tsm report directory; default "
      "/sys/kernel/config/tsm/report\n"
      "--ccel FILE\twith --collect: the CC event log sent with the quote; default "
      "/sys/firmware/acpi/tables/data/CCEL, left out when it does not exist; a --ccel FILE "
      "that cannot be read is an error\n"
      "--eventlog FILE\t--tee tdx: a CC event log (a CCEL or dstack's JSON log) sent as the "
      "evidence's cc_eventlog, replacing its own; with --collect use --ccel\n"
      "--aa-eventlog FILE\t--tee tdx: the attestation agent's text event log, sent as "
      "aa_eventlog\n"
      "--url URL\tthe Vouch service; default VOUCH_URL, else http://127.0.0.1:8080\n"
      "--runtime-data-hex HEX\truntime data bound to the evidence, at most 4096 bytes in "
      "hex (sent as raw)\n"
      "--runtime-data-json JSON\truntime data as JSON text (sent as structured); not with "
      "--runtime-data-hex\n"
      "--hash ALG\tthe hash of the runtime data in the report data: sha256, sha384 or "
      "sha512; default sha384\n"
      "--policy ID\ta policy to appraise the evidence with; repeat for more; without it, "
      "the policy \"default\"\n"
      "--audience AUD\tthe aud the token is to carry: the issuer (the default) or one of "
      "the service's --allowed-audiences\n"
      "--ear\task for an EAR token (?token=ear) instead of the service's default format\n"
      "--raw\tprint the token as received instead of its decoded header and payload\n"
      "--out FILE\twrite the token to FILE (mode 0600) instead of printing it",
      vouch_cmd_attest },
    { "verify-token", "TOKEN|- --issuer URL [--audience AUD]",
      "verify a token with the issuer's published keys, as a relying party does",
      TOKEN_ARG "\n"
      "--issuer URL\tthe issuer: its keys come from the jwks_uri of "
      "URL/.well-known/openid-configuration, and the token's iss must be URL\n"
      "--audience AUD\talso require the token's aud to be AUD, or an array of strings "
      "holding AUD",
      vouch_cmd_verify_token },
    { "collateral import", "[--db URL] [--dcap-root FILE] [--at RFC3339] PATH...",
      "verify Intel collateral (QuoteCollateralV3 JSON, PCS responses, bundles, directories) "
      "and store it",
      DB_OPT "\n"
      "--dcap-root FILE\tthe root CA certificate (PEM or DER) the chains must end at; "
      "default VOUCH_DCAP_ROOT, else Intel's SGX Root CA\n"
      VOUCH_HELP_AT "\n"
      "PATH\ta collateral file (QuoteCollateralV3 JSON, a saved PCS response, a bundle, AMD "
      "KDS collateral) or a directory of them; a bad document rejects its whole PATH",
      vouch_cmd_collateral_import },
    { "rim import", "[--db URL] [--rim-root FILE] [--at RFC3339] PATH...",
      "verify NVIDIA RIMs (SWID XML or the RIM service's JSON; files or directories) and "
      "store them under their RIM ids",
      DB_OPT "\n"
      "--rim-root FILE\tthe root certificates (PEM) the RIM signing chains must end at, "
      "instead of NVIDIA's RIM root\n"
      VOUCH_HELP_AT "\n"
      "PATH\ta RIM file, or a directory whose files are imported (not recursively); each "
      "file is stored or rejected on its own",
      vouch_cmd_rim_import },
    { "rim list", "[--db URL]", "list the stored NVIDIA RIMs", DB_OPT, vouch_cmd_rim_list },
    { "inspect token", "TOKEN|-", "decode a JWT's header and payload without verifying it",
      TOKEN_ARG, vouch_cmd_inspect_token },
    { "inspect eventlog", "FILE [--json] [--pcrs FILE] [--ebs-fixup]",
      "replay a TCG UEFI event log: events, PCRs per bank, Secure Boot state",
      "FILE\tthe event log, binary (binary_bios_measurements) or as base64 text; "
      "\"-\" reads stdin\n"
      VOUCH_HELP_JSON "\n"
      "--pcrs FILE\tPCR values (" PCR_FORMATS ") the replay must match; exit 1 when it "
      "does not\n"
      "--ebs-fixup\tfor firmware that extends the two ExitBootServices events into PCR 5 "
      "without logging them: replay them when the log lacks them (with --pcrs, only when "
      "PCR 5 does not match otherwise)",
      vouch_cmd_inspect_eventlog },
    { "inspect ima", "FILE [--json|--ascii] [--pcrs FILE] [--policy FILE] [--legacy-banks]",
      "replay an IMA log into PCR 10 per bank, check files against a policy",
      "FILE\tthe IMA log, binary or ASCII (binary_ or ascii_runtime_measurements); "
      "\"-\" reads stdin\n"
      VOUCH_HELP_JSON "\n"
      "--ascii\tprint the log as ascii_runtime_measurements and stop (no replay, no "
      "policy)\n"
      "--pcrs FILE\tquoted PCR values (" PCR_FORMATS "): PCR 10 must match the replay of "
      "the log or of its first entries; the boot_aggregate entry is checked too when the "
      "PCRs it covers are given\n"
      "--policy FILE\ta keylime runtime policy (JSON) or an allowlist of \"DIGEST PATH\" "
      "lines (sha256sum output); files it does not allow are listed and the exit status "
      "is 1\n"
      "--legacy-banks\tthe non-SHA-1 banks extend the zero-padded SHA-1 template hash, as "
      "kernels before 5.8 do",
      vouch_cmd_inspect_ima },
    { "inspect evidence",
      "--tee TEE EVIDENCE [--at RFC3339] [--collateral PATH] [--rims DIR] [--vcek CERT] "
      "[--crl CRL] [--OPTION VALUE]...",
      "verify an evidence document as vouchd would (no binding, no policy); print the claims",
      "--tee TEE\tthe verifier, named as in an attestation request (tdx, sgx, snp, nvgpu, "
      "...)\n"
      "EVIDENCE\tthe evidence document, as an attestation request carries it once decoded; "
      "\"-\" reads stdin\n"
      VOUCH_HELP_AT "\n"
      VOUCH_HELP_COLLATERAL "; tdx, sgx, az-tdx-vtpm and acstdxnvgpu quotes fail without "
      "it\n"
      "--rims DIR\ta directory of NVIDIA driver and VBIOS RIMs; nvgpu and acstdxnvgpu "
      "evidence fails without it\n"
      "--vcek CERT\tsnp: the report's VCEK or VLEK (DER or PEM, as AMD KDS serves it), "
      "used as vouchd uses an imported one when the evidence carries none\n"
      "--crl CRL\tsnp: AMD's CRL of the report's product (DER or PEM), checked as an "
      "imported one is\n"
      "--OPTION VALUE\tany other option goes to the verifiers' set-up as vouchd's option "
      "of that name: --dcap-root FILE, --nvgpu-device-root FILE, --nvgpu-rim-root FILE, "
      "--nvgpu-ocsp off|soft|require, --nvgpu-ocsp-url URL (at most 16 options, each "
      "once); one the verifier does not read is a usage error",
      vouch_cmd_inspect_verifier },
    { "inspect tpmquote",
      "--ak PUB --quote MSG --sig SIG [--pcrs FILE] [--nonce HEX] [--json] [--allow-sha1]",
      "verify a TPM2 quote (tpm2_quote -m/-s) with its AK (PEM or TPM2B_PUBLIC)",
      "--ak PUB\tthe attestation key: a TPM2B_PUBLIC (tpm2_readpublic -f tss), a bare "
      "TPMT_PUBLIC, or PEM (a public key or a certificate)\n"
      "--quote MSG\tthe signed TPMS_ATTEST (tpm2_quote -m)\n"
      "--sig SIG\tits TPMT_SIGNATURE (tpm2_quote -s)\n"
      "--pcrs FILE\tthe PCR values the quote covers (" PCR_FORMATS ", or tpm2_quote -F "
      "values); their digest must equal pcrDigest\n"
      "--nonce HEX\tthe expected extraData, at most 64 bytes; without it extraData is not "
      "checked\n"
      VOUCH_HELP_JSON "\n"
      "--allow-sha1\taccept a signature over SHA-1 (some older AKs)",
      vouch_cmd_inspect_tpmquote },
    { "keys rotate", "[--db URL] [--kek-file FILE] [--alg RS256|ES256|all]",
      "new signing keys; old ones stay in the JWKS until their tokens expire",
      DB_OPT "\n" KEK_OPT "\n"
      "--alg RS256|ES256|all\tthe algorithm that gets a new key; default all",
      vouch_cmd_keys_rotate },
    { "keys rewrap", "[--db URL] (--old-kek FILE [--new-kek FILE] | --new-kek FILE)",
      "re-wrap every stored secret under a new key-encryption key, in one transaction "
      "(no --old-kek: wrap clear ones; no --new-kek: back to clear)",
      DB_OPT "\n"
      "--old-kek FILE\tthe KEK the secrets are wrapped under now (a --kek-file); without it "
      "only the secrets in clear are wrapped, and one under any other KEK fails the run\n"
      "--new-kek FILE\tthe KEK to wrap them under; without it they are stored in clear.  "
      "Give at least one of the two.  The run is written to the audit log as cli keys "
      "rewrap",
      vouch_cmd_keys_rewrap },
    { "keys list", "[--db URL]", "list the token signing keys and their state", DB_OPT,
      vouch_cmd_keys_list },
    { "accesskey create", "[--db URL] [--kek-file FILE] ACCOUNT",
      "a new AccessKey pair for a vTPM account (created when new); the secret is shown once",
      DB_OPT "\n" KEK_OPT "\n"
      "ACCOUNT\tthe account to add the pair to, created when new: 1-64 of A-Z a-z 0-9 . _ - "
      "@",
      vouch_cmd_accesskey_create },
    { "accesskey list", "[--db URL] [--account NAME]",
      "list the vTPM AccessKey ids, their accounts and state (never secrets)",
      DB_OPT "\n"
      "--account NAME\tonly this account's AccessKeys; default every account's",
      vouch_cmd_accesskey_list },
    { "accesskey disable", "[--db URL] ACCESSKEYID", "disable a vTPM AccessKey for good",
      DB_OPT "\n"
      "ACCESSKEYID\tthe AccessKey's id, as accesskey list shows it",
      vouch_cmd_accesskey_disable },
    { "token sign",
      "[--db URL] [--kek-file FILE] [--alg RS256|ES256] [--lifetime SECONDS] CLAIMS.json|-",
      "sign a JSON claims set with the service's active key (tests, tooling)",
      DB_OPT "\n" KEK_OPT "\n"
      "--alg RS256|ES256\tthe algorithm of the signing key; default RS256\n"
      "--lifetime SECONDS\texp is now plus this when the claims have no exp; default 21600 "
      "(6 h)\n"
      "CLAIMS.json|-\ta JSON object of claims; \"-\" reads stdin.  iat and nbf default to now.  "
      "Each signing is written to the audit log as cli token sign",
      vouch_cmd_token_sign },
    { "audit",
      "[--db URL] [--actor WHO] [--action WHAT] [--since RFC3339] [--until RFC3339] "
      "[--limit N] [--json]",
      "show the audit log of administrative actions, newest first",
      DB_OPT "\n"
      "--actor WHO\tonly the entries of this actor, exactly: admin, accesskey:ID or "
      "cli:USER\n"
      "--action WHAT\tonly the entries of this action, exactly: a route (\"POST /policy\"), "
      "a vTPM action or a CLI command (\"cli keys rotate\")\n"
      "--since RFC3339\tonly the entries at or after this time\n"
      "--until RFC3339\tonly the entries before this time\n"
      "--limit N\tshow at most N entries, 1-1000; default 100\n"
      VOUCH_HELP_JSON " (one object per entry and line)",
      vouch_cmd_audit },
    { "db migrate", "[--db URL]",
      "bring the database schema up to date (vouchd does too when it starts)", DB_OPT,
      vouch_cmd_db_migrate },
    { "db status", "[--db URL]",
      "show the backend, the schema version and the migrations still to apply", DB_OPT,
      vouch_cmd_db_status },
    { "db copy", "--from URL --to URL [--force]",
      "copy settings, signing keys (as stored) and documents into an empty store, in one "
      "transaction (sqlite:PATH to postgres://...)",
      "--from URL\tthe store to copy from, sqlite:PATH or postgres://...; opening it brings "
      "its schema up to date, as vouchd would\n"
      "--to URL\tthe store to copy into; it must hold no settings, keys or documents, "
      "unless --force\n"
      "--force\tdelete the target's settings, keys and documents first, in the same "
      "transaction",
      vouch_cmd_db_copy },
    { "policy eval",
      "[-d FILE]... [-i INPUT.json] [-r REFVALUES.json] [--v0] [--strict] [--bindings] "
      "[--now NS] QUERY",
      "evaluate a Rego query (like opa eval) and print the result set as JSON",
      "-d FILE\t(--data) a Rego module, or data when FILE ends in .json (objects merged, "
      "later files win); repeat for more; \"-\" reads stdin\n"
      "-i INPUT.json\t(--input) the input document; \"-\" reads stdin\n"
      "-r REFVALUES.json\t(--reference-values) what query_reference_value(id) returns: a "
      "JSON object of ids and values; an unknown id gives null; \"-\" reads stdin (one "
      "option at most may)\n"
      "--v0\tparse the modules with the Rego v0 grammar, unless they import rego.v1\n"
      "--strict\ta builtin error fails the evaluation (default: the expression is "
      "undefined)\n"
      "--bindings\tprint each solution's variable bindings only, not opa eval's "
      "expressions and bindings\n"
      "--now NS\twhat time.now_ns() returns, in nanoseconds since 1970; default now\n"
      "QUERY\tthe query, e.g. data.policy.allow",
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
        commands[n_commands].options = v->inspect->options;
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
            "(or VOUCH_DB), default sqlite:./var/vouch.db, the same as vouchd.\n"
            "Only db migrate, keys rotate, accesskey create and the imports create a\n"
            "missing SQLite database; the others say it is not there.\n\n"
            "commands:\n");
    for (i = 0; i < n_commands; i++)
        if (strlen(commands[i].name) > width)
            width = strlen(commands[i].name);
    for (i = 0; i < n_commands; i++) {
        fprintf(out, "  %-*s  ", (int)width, commands[i].name);
        vouch_help_print_wrapped(out, width + 4, commands[i].summary);
    }
    fprintf(out, "\n'vouch COMMAND --help' shows the arguments of one command.\n");
}

/* The widest left column ("--db URL") of an options text. */
static size_t options_width(const char *opts)
{
    size_t width = 0, name;

    while (*opts) {
        name = strcspn(opts, "\t\n");
        if (name > width)
            width = name;
        opts += strcspn(opts, "\n");
        opts += *opts == '\n';
    }
    return width;
}

/*
 * An options text (struct vouch_cli_cmd) as two aligned columns,
 * "  NAME ARG  description", each description wrapped under itself.  A
 * line without a description is printed as its name alone.
 */
static void print_options(FILE *out, const char *opts)
{
    size_t width = options_width(opts), line, name;
    char *desc;

    while (*opts) {
        line = strcspn(opts, "\n");
        name = strcspn(opts, "\t\n");
        if (name + 1 >= line) {
            if (line > 0)
                fprintf(out, "  %.*s\n", (int)name, opts);
        } else {
            fprintf(out, "  %-*.*s  ", (int)width, (int)name, opts);
            desc = strndup(opts + name + 1, line - name - 1);
            if (desc)
                vouch_help_print_wrapped(out, width + 4, desc);
            else    /* out of memory: unwrapped */
                fprintf(out, "%.*s\n", (int)(line - name - 1), opts + name + 1);
            free(desc);
        }
        opts += line;
        opts += *opts == '\n';
    }
}

/* `vouch NAME --help`: the usage line, the summary, then every option. */
static void command_help(FILE *out, const struct vouch_cli_cmd *cmd)
{
    fprintf(out, "usage: vouch %s %s\n  ", cmd->name, cmd->usage);
    vouch_help_print_wrapped(out, 2, cmd->summary);
    if (cmd->options && *cmd->options) {
        fputc('\n', out);
        print_options(out, cmd->options);
    }
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

int vouch_cli_print_json(const json_t *j)
{
    char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;

    if (!s)
        return VOUCH_EXIT_ERROR;
    printf("%s\n", s);
    free(s);
    return VOUCH_EXIT_OK;
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
            command_help(stdout, cmd);
            return VOUCH_EXIT_OK;
        }
    /* The sub-command sees its own name as argv[0]. */
    return cmd->run(argc - used, argv + used);
}
