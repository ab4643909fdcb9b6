/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vouch policy eval [-d FILE]... [-i INPUT.json] [-r REFERENCE_VALUES.json]
 *                   [--v0] [--strict] [--bindings] [--now NS] QUERY
 *
 * -d is a Rego module, or data when the file name ends in .json.  Any one
 * file may be "-" (stdin), once.
 *
 * -r gives policies query_reference_value(id): the file is a JSON object
 * from reference-value ids to their values (as trustee's RVPS returns
 * them); an unknown id gives null.
 *
 * Evaluates a Rego query like `opa eval` and prints the result set as JSON:
 * one entry per solution with the expressions' values and the bindings
 * ([] when the query is undefined).  A parse or compile error exits with
 * status 1 and prints file:line:col.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "common/time.h"
#include "rego/rego.h"

#define MAX_FILE ((size_t)64 << 20)
#define MAX_FILES 256

/* query_reference_value(id) over a JSON object of reference values. */
static vouch_err query_reference_value(void *ctx, json_t *const *args, size_t nargs, json_t **ret,
                                       struct vouch_errbuf *eb)
{
    json_t *refs = ctx, *v;

    if (nargs != 1 || !json_is_string(args[0]))
        return vouch_fail(eb, VOUCH_E_INVALID, "reference value id must be a string");
    v = refs ? json_object_get(refs, json_string_value(args[0])) : NULL;
    *ret = v ? json_incref(v) : json_null();
    return VOUCH_OK;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Merge a data file into the data object (top-level keys, later wins). */
static int add_data(json_t *data, const char *path, const unsigned char *buf, size_t len)
{
    json_error_t err;
    json_t *j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &err);

    if (!j) {
        fprintf(stderr, "vouch: %s:%d:%d: %s\n", path, err.line, err.column, err.text);
        return -1;
    }
    if (!json_is_object(j)) {
        fprintf(stderr, "vouch: %s: data must be a JSON object\n", path);
        json_decref(j);
        return -1;
    }
    if (json_object_update_recursive(data, j)) {
        json_decref(j);
        return -1;
    }
    json_decref(j);
    return 0;
}

/* The command line, and the files it named once read. */
struct eval_cmd {
    struct vouch_rego_module mods[MAX_FILES];
    unsigned char *bufs[MAX_FILES + 2];     /* the -d files, then -i and -r */
    size_t nmods, nbufs;
    const char *input_path, *refs_path, *query;
    bool stdin_used;
    unsigned cflags, eflags;
    int shape;
    int64_t now_ns;
    json_t *data, *refs;
};

/* "-" (stdin) may be given to one option only: false, after saying so, for a second. */
static bool claim_stdin(struct eval_cmd *cmd, const char *path, const char *flag)
{
    if (strcmp(path, "-") != 0)
        return true;
    if (cmd->stdin_used) {
        fprintf(stderr, "vouch: %s -: stdin is already read by another option\n", flag);
        return false;
    }
    cmd->stdin_used = true;
    return true;
}

/* Read `path` into cmd->bufs: 0, or an exit status after saying why. */
static int eval_file(struct eval_cmd *cmd, const char *path, unsigned char **ret,
                     size_t *ret_len)
{
    if (vouch_cli_read_file(path, MAX_FILE, ret, ret_len))
        return VOUCH_EXIT_ERROR;
    cmd->bufs[cmd->nbufs++] = *ret;
    return 0;
}

/* -d FILE: a module, or data merged into cmd->data. */
static int eval_data_file(struct eval_cmd *cmd, const char *path)
{
    unsigned char *buf;
    size_t len;
    int rc;

    if (cmd->nbufs >= MAX_FILES) {
        fprintf(stderr, "vouch: -d: at most %d files\n", MAX_FILES);
        return VOUCH_EXIT_USAGE;
    }
    if (!claim_stdin(cmd, path, "-d"))
        return VOUCH_EXIT_USAGE;
    if ((rc = eval_file(cmd, path, &buf, &len)))
        return rc;
    if (ends_with(path, ".json"))
        return add_data(cmd->data, path, buf, len) ? VOUCH_EXIT_FAIL : 0;
    cmd->mods[cmd->nmods++] = (struct vouch_rego_module){ path, (const char *)buf, len };
    return 0;
}

static bool is_flag(const char *arg, const char *s, const char *l)
{
    return strcmp(arg, s) == 0 || strcmp(arg, l) == 0;
}

/* --now NS: a whole number of nanoseconds, sign allowed. */
static bool parse_now(const char *v, int64_t *ret)
{
    char *end;
    long long n;

    errno = 0;
    n = strtoll(v, &end, 10);
    if (!*v || *end || errno)
        return false;
    *ret = n;
    return true;
}

static int eval_args(struct eval_cmd *cmd, int argc, char **argv)
{
    int a, rc;

    for (a = 1; a < argc; a++) {
        const char *v = a + 1 < argc ? argv[a + 1] : NULL;

        if (is_flag(argv[a], "-d", "--data") && v) {
            if ((rc = eval_data_file(cmd, v)))
                return rc;
            a++;
        } else if (is_flag(argv[a], "-i", "--input") && v) {
            if (!claim_stdin(cmd, v, "-i"))
                return VOUCH_EXIT_USAGE;
            cmd->input_path = argv[++a];
        } else if (is_flag(argv[a], "-r", "--reference-values") && v) {
            if (!claim_stdin(cmd, v, "-r"))
                return VOUCH_EXIT_USAGE;
            cmd->refs_path = argv[++a];
        } else if (strcmp(argv[a], "--v0") == 0) {
            cmd->cflags |= VOUCH_REGO_V0;
        } else if (strcmp(argv[a], "--strict") == 0) {
            cmd->eflags |= VOUCH_REGO_STRICT;
        } else if (strcmp(argv[a], "--bindings") == 0) {
            cmd->shape = VOUCH_REGO_RESULT_BINDINGS;
        } else if (strcmp(argv[a], "--now") == 0 && v) {
            if (!parse_now(argv[++a], &cmd->now_ns)) {
                fprintf(stderr, "vouch: --now: want nanoseconds since 1970, got '%s'\n", v);
                return VOUCH_EXIT_USAGE;
            }
        } else if ((argv[a][0] == '-' && argv[a][1]) || cmd->query) {
            return vouch_cli_usage("policy eval");
        } else {
            cmd->query = argv[a];
        }
    }
    return cmd->query ? 0 : vouch_cli_usage("policy eval");
}

/* -r FILE: a JSON object of reference values. */
static int eval_refs(struct eval_cmd *cmd)
{
    unsigned char *buf;
    json_error_t err;
    size_t len;
    int rc;

    if (!cmd->refs_path)
        return 0;
    if ((rc = eval_file(cmd, cmd->refs_path, &buf, &len)))
        return rc;
    cmd->refs = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &err);
    if (!cmd->refs || !json_is_object(cmd->refs)) {
        if (cmd->refs)
            fprintf(stderr, "vouch: %s: not a JSON object\n", cmd->refs_path);
        else
            fprintf(stderr, "vouch: %s:%d:%d: %s\n", cmd->refs_path, err.line, err.column,
                    err.text);
        return VOUCH_EXIT_FAIL;
    }
    return 0;
}

/* Compile, read the input, run the query, print the result set. */
static int eval_run(struct eval_cmd *cmd)
{
    static const struct vouch_rego_host hosts[] = {
        { "query_reference_value", 1, query_reference_value },
    };
    struct vouch_rego_compile_opts copts = { cmd->cflags, hosts, 1 };
    struct vouch_rego_eval_args eargs = { 0 };
    struct vouch_rego_policy *pol = NULL;
    struct vouch_rego_doc *input = NULL, *ddoc = NULL;
    struct vouch_errbuf eb = { { 0 } };
    unsigned char *buf;
    char *out = NULL;
    size_t len;
    int rc = VOUCH_EXIT_FAIL;

    if (vouch_rego_compile(cmd->mods, cmd->nmods, &copts, &pol, &eb)) {
        fprintf(stderr, "%s\n", eb.msg);
        goto out;
    }
    if (cmd->input_path) {
        if ((rc = eval_file(cmd, cmd->input_path, &buf, &len)))
            goto out;
        rc = VOUCH_EXIT_FAIL;
        if (vouch_rego_doc_parse((const char *)buf, len, &input, &eb)) {
            fprintf(stderr, "vouch: %s: %s\n", cmd->input_path, eb.msg);
            goto out;
        }
    }
    if (vouch_rego_doc_from_json(cmd->data, &ddoc, &eb)) {
        fprintf(stderr, "vouch: data: %s\n", eb.msg);
        rc = VOUCH_EXIT_ERROR;
        goto out;
    }
    eargs = (struct vouch_rego_eval_args){ .input_doc = input, .data_doc = ddoc,
                                           .now_ns = cmd->now_ns, .flags = cmd->eflags,
                                           .host_ctx = cmd->refs };
    if (vouch_rego_query(pol, cmd->query, &eargs, cmd->shape, &out, &len, &eb)) {
        fprintf(stderr, "%s\n", eb.msg);
        goto out;
    }
    printf("%s\n", out);
    rc = VOUCH_EXIT_OK;
out:
    free(out);
    vouch_rego_doc_free(input);
    vouch_rego_doc_free(ddoc);
    vouch_rego_policy_free(pol);
    return rc;
}

int vouch_cmd_policy_eval(int argc, char **argv)
{
    struct eval_cmd *cmd = calloc(1, sizeof(*cmd));
    int rc = VOUCH_EXIT_ERROR;
    size_t i;

    if (!cmd || !(cmd->data = json_object()))
        goto out;
    cmd->shape = VOUCH_REGO_RESULT_FULL;
    cmd->now_ns = vouch_clock_now() * 1000000000LL;
    rc = eval_args(cmd, argc, argv);
    if (!rc)
        rc = eval_refs(cmd);
    if (!rc)
        rc = eval_run(cmd);
out:
    if (cmd) {
        json_decref(cmd->data);
        json_decref(cmd->refs);
        for (i = 0; i < cmd->nbufs; i++)
            free(cmd->bufs[i]);
    }
    free(cmd);
    return rc;
}
