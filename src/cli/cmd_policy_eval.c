/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vouch policy eval -d POLICY.rego [-d more.rego|data.json] [-i INPUT.json]
 *                   [-r REFERENCE_VALUES.json] [--v0] [--strict] [--bindings]
 *                   [--now NS] QUERY
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

int vouch_cmd_policy_eval(int argc, char **argv)
{
    struct vouch_rego_module mods[MAX_FILES];
    unsigned char *bufs[MAX_FILES + 1];
    size_t nmods = 0, nbufs = 0, i, len;
    const char *input_path = NULL, *query = NULL, *refs_path = NULL;
    json_t *refs = NULL;
    static const struct vouch_rego_host hosts[] = {
        { "query_reference_value", 1, query_reference_value },
    };
    unsigned cflags = 0, eflags = 0;
    int shape = VOUCH_REGO_RESULT_FULL, rc = VOUCH_EXIT_ERROR, a;
    int64_t now = vouch_clock_now() * 1000000000LL;
    json_t *data = json_object();
    struct vouch_rego_policy *pol = NULL;
    struct vouch_rego_doc *input = NULL, *ddoc = NULL;
    struct vouch_rego_compile_opts copts = { 0 };
    struct vouch_rego_eval_args eargs = { 0 };
    struct vouch_errbuf eb = { { 0 } };
    char *out = NULL;
    vouch_err e;

    if (!data)
        return VOUCH_EXIT_ERROR;
    for (a = 1; a < argc; a++) {
        if ((strcmp(argv[a], "-d") == 0 || strcmp(argv[a], "--data") == 0) && a + 1 < argc) {
            const char *path = argv[++a];
            unsigned char *buf;

            if (nbufs >= MAX_FILES) {
                fprintf(stderr, "vouch: too many files\n");
                goto out;
            }
            if (vouch_cli_read_file(path, MAX_FILE, &buf, &len))
                goto out;
            bufs[nbufs++] = buf;
            if (ends_with(path, ".json")) {
                if (add_data(data, path, buf, len)) {
                    rc = VOUCH_EXIT_FAIL;
                    goto out;
                }
            } else {
                mods[nmods].name = path;
                mods[nmods].text = (const char *)buf;
                mods[nmods].len = len;
                nmods++;
            }
        } else if ((strcmp(argv[a], "-i") == 0 || strcmp(argv[a], "--input") == 0) &&
                   a + 1 < argc) {
            input_path = argv[++a];
        } else if ((strcmp(argv[a], "-r") == 0 || strcmp(argv[a], "--reference-values") == 0) &&
                   a + 1 < argc) {
            refs_path = argv[++a];
        } else if (strcmp(argv[a], "--v0") == 0) {
            cflags |= VOUCH_REGO_V0;
        } else if (strcmp(argv[a], "--strict") == 0) {
            eflags |= VOUCH_REGO_STRICT;
        } else if (strcmp(argv[a], "--bindings") == 0) {
            shape = VOUCH_REGO_RESULT_BINDINGS;
        } else if (strcmp(argv[a], "--now") == 0 && a + 1 < argc) {
            char *end;

            now = strtoll(argv[++a], &end, 10);
            if (*end) {
                rc = vouch_cli_usage("policy eval");
                goto out;
            }
        } else if (argv[a][0] == '-' && argv[a][1]) {
            rc = vouch_cli_usage("policy eval");
            goto out;
        } else if (!query) {
            query = argv[a];
        } else {
            rc = vouch_cli_usage("policy eval");
            goto out;
        }
    }
    if (!query) {
        rc = vouch_cli_usage("policy eval");
        goto out;
    }
    if (refs_path) {
        json_error_t err;

        refs = json_load_file(refs_path, JSON_REJECT_DUPLICATES, &err);
        if (!refs || !json_is_object(refs)) {
            fprintf(stderr, "vouch: %s: %s\n", refs_path, refs ? "not a JSON object" : err.text);
            rc = VOUCH_EXIT_FAIL;
            goto out;
        }
    }
    copts.flags = cflags;
    copts.hosts = hosts;
    copts.nhosts = 1;
    e = vouch_rego_compile(mods, nmods, &copts, &pol, &eb);
    if (e) {
        fprintf(stderr, "%s\n", eb.msg);
        rc = VOUCH_EXIT_FAIL;
        goto out;
    }
    if (input_path) {
        unsigned char *buf;

        if (vouch_cli_read_file(input_path, MAX_FILE, &buf, &len))
            goto out;
        bufs[nbufs++] = buf;
        e = vouch_rego_doc_parse((const char *)buf, len, &input, &eb);
        if (e) {
            fprintf(stderr, "vouch: %s: %s\n", input_path, eb.msg);
            rc = VOUCH_EXIT_FAIL;
            goto out;
        }
    }
    if (vouch_rego_doc_from_json(data, &ddoc, &eb)) {
        fprintf(stderr, "vouch: data: %s\n", eb.msg);
        goto out;
    }
    eargs.input_doc = input;
    eargs.data_doc = ddoc;
    eargs.now_ns = now;
    eargs.flags = eflags;
    eargs.host_ctx = refs;
    e = vouch_rego_query(pol, query, &eargs, shape, &out, &len, &eb);
    if (e) {
        fprintf(stderr, "%s\n", eb.msg);
        rc = VOUCH_EXIT_FAIL;
        goto out;
    }
    printf("%s\n", out);
    rc = VOUCH_EXIT_OK;
out:
    free(out);
    vouch_rego_doc_free(input);
    vouch_rego_doc_free(ddoc);
    vouch_rego_policy_free(pol);
    json_decref(data);
    json_decref(refs);
    for (i = 0; i < nbufs; i++)
        free(bufs[i]);
    return rc;
}
