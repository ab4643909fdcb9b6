/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vouch inspect quote FILE [--eventlog LOG [--aa-eventlog AALOG]] [--collateral PATH]
 *                     [--root CERT] [--at RFC3339] [--json]
 *
 * Print a DCAP quote's fields and, with collateral, the verdict of Intel's
 * algorithm at the given time (default: now).  FILE is a binary quote or hex
 * text (0x-prefixed too); PATH a QuoteCollateralV3 JSON file or a directory
 * of PCS responses (see dcap.h).  LOG is a TDX event log (a CCEL log area
 * or dstack's JSON log), AALOG trustee's AA text log: they are replayed
 * against the quote's RTMRs (signatures checked only with --collateral) and
 * the replay per RTMR and the decoded events are printed.  Exit status: 0
 * parsed (and verified, when collateral was given; and every RTMR replays),
 * 1 verification failed or an RTMR differs, 2 usage, 3 unreadable input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "common/codec.h"
#include "common/time.h"
#include "evidence/dcap/dcap.h"

static void print_tree(const json_t *v, const char *prefix)
{
    const char *k;
    json_t *x;
    char name[512];

    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x) {
            snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "", k);
            print_tree(x, name);
        }
        return;
    }
    if (json_is_string(v)) {
        printf("%-40s %s\n", prefix, json_string_value(v));
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

        printf("%-40s %s\n", prefix, s ? s : "?");
        free(s);
    }
}

/* Print the quote's claims (and verdict) as text or JSON; -1 when out of memory. */
static int print_result(const struct vouch_dcap_quote *q, json_t *claims,
                        const struct vouch_dcap_result *res, int64_t now, bool as_json)
{
    if (as_json) {
        json_t *out = json_pack("{s:s,s:i,s:O}", "tee",
                                q->tee_type == VOUCH_DCAP_TEE_TDX ? "tdx" : "sgx", "version",
                                (int)q->version, "claims", claims);
        int rc;

        if (out && res)
            json_object_set_new(out, "verified", json_true());
        rc = vouch_cli_print_json(out);
        json_decref(out);
        return rc ? -1 : 0;
    }
    printf("%-40s %s quote v%u, %zu bytes (%zu of padding)\n", "quote",
           q->tee_type == VOUCH_DCAP_TEE_TDX ? "TDX" : "SGX", q->version, q->raw_len,
           q->raw_len - q->len);
    print_tree(claims, "");
    if (res) {
        char when[VOUCH_RFC3339_LEN];

        vouch_time_format_rfc3339(now, when);
        printf("%-40s verified at %s: %s%s\n", "verdict", when,
               vouch_dcap_status_name(res->status),
               res->collateral_expired ? " (collateral expired)" : "");
    }
    return 0;
}

/* The verify report as {"rtmr0": {"replayed", "quoted", "match"}, ...} under "eventlog_replay". */
static int replay_claims(const json_t *report, json_t *claims)
{
    json_t *o = json_object(), *r;
    size_t i;
    char key[16];

    if (!o || json_object_set_new(claims, "eventlog_replay", o))
        return -1;
    json_array_foreach(report, i, r) {
        snprintf(key, sizeof(key), "rtmr%d", (int)json_integer_value(json_object_get(r, "rtmr")));
        if (json_object_set_new(o, key, json_pack("{s:O, s:O, s:O}", "replayed",
                                                  json_object_get(r, "replayed"), "quoted",
                                                  json_object_get(r, "quoted"), "match",
                                                  json_object_get(r, "match"))))
            return -1;
    }
    return 0;
}

/*
 * Replay the event logs against the quote's RTMRs; add the claims and the
 * report ("eventlog_replay") to claims.  VOUCH_EXIT_FAIL when an RTMR differs.
 */
static int eventlog_step(const struct vouch_dcap_quote *q, const char *path,
                         const char *aa_path, json_t *claims)
{
    struct vouch_dcap_eventlog *log = NULL;
    struct vouch_errbuf eb = { "" };
    unsigned char *raw = NULL, *aa = NULL;
    size_t n, aa_len;
    json_t *report = NULL;
    int rc = VOUCH_EXIT_ERROR;
    vouch_err e;

    if (q->tee_type != VOUCH_DCAP_TEE_TDX) {
        fprintf(stderr, "vouch: --eventlog: an SGX quote has no RTMRs\n");
        return VOUCH_EXIT_USAGE;
    }
    if (vouch_cli_read_file(path, VOUCH_DCAP_EVENTLOG_MAX, &raw, &n) ||
        (aa_path && vouch_cli_read_file(aa_path, VOUCH_DCAP_AAEL_MAX, &aa, &aa_len)))
        goto out;
    e = vouch_dcap_eventlog_parse(raw, n, &log, &eb);
    if (!e && aa)
        e = vouch_dcap_eventlog_add_aael(log, (const char *)aa, aa_len, &eb);
    if (e) {
        fprintf(stderr, "vouch: %s: %s\n", aa && log ? aa_path : path, eb.msg);
        rc = VOUCH_EXIT_FAIL;
        goto out;
    }
    e = vouch_dcap_eventlog_verify(log, q->body + VOUCH_DCAP_TD_RTMR0, &report, &eb);
    if (e && !report) {
        fprintf(stderr, "vouch: %s: %s\n", path, eb.msg);
        rc = VOUCH_EXIT_FAIL;
        goto out;
    }
    if (e)
        fprintf(stderr, "vouch: event log does not replay: %s\n", eb.msg);
    if (vouch_dcap_eventlog_claims(log, claims, &eb) || replay_claims(report, claims))
        goto out;
    rc = e ? VOUCH_EXIT_FAIL : VOUCH_EXIT_OK;
out:
    json_decref(report);
    vouch_dcap_eventlog_free(log);
    free(raw);
    free(aa);
    return rc;
}

struct quote_args {
    const char *file, *coll, *at, *root_path, *el, *aael;
    bool as_json;
};

/* Returns 0, or the usage status. */
static int parse_quote_args(int argc, char **argv, struct quote_args *a)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(argv[i], "--collateral") == 0 && v)
            a->coll = argv[++i];
        else if (strcmp(argv[i], "--at") == 0 && v)
            a->at = argv[++i];
        else if (strcmp(argv[i], "--root") == 0 && v)
            a->root_path = argv[++i];
        else if (strcmp(argv[i], "--eventlog") == 0 && v)
            a->el = argv[++i];
        else if (strcmp(argv[i], "--aa-eventlog") == 0 && v)
            a->aael = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            a->as_json = true;
        else if ((argv[i][0] == '-' && argv[i][1] != '\0') || a->file)
            return vouch_cli_usage("inspect quote");
        else
            a->file = argv[i];
    }
    if (!a->file || (a->aael && !a->el))
        return vouch_cli_usage("inspect quote");
    return 0;
}

/*
 * The claims: with --collateral, those of the quote verified as vouchd does
 * (*ret_res holds the verdict); without, those of the quote as parsed.
 */
static int quote_claims(const struct quote_args *a, const uint8_t *quote, size_t len,
                        const struct vouch_dcap_quote *q, int64_t now,
                        struct vouch_dcap_result **ret_res, json_t **ret_claims)
{
    struct vouch_dcap_file_source *fs = NULL;
    struct vouch_dcap_ctx *ctx = NULL;
    struct vouch_errbuf eb = { "" };
    int rc = VOUCH_EXIT_ERROR;
    vouch_err e;

    if (!a->coll) {
        if (vouch_dcap_claims(q, NULL, NULL, ret_claims, &eb)) {
            fprintf(stderr, "vouch: %s\n", eb.msg);
            return VOUCH_EXIT_ERROR;
        }
        return VOUCH_EXIT_OK;
    }
    e = vouch_dcap_file_source_open(a->coll, a->root_path, &fs, &eb);
    if (!e)
        e = vouch_dcap_ctx_new(vouch_dcap_file_source_get(fs), NULL, &ctx, &eb);
    if (e) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        goto out;
    }
    e = vouch_dcap_verify(ctx, quote, len, now, ret_res, &eb);
    if (e) {
        fprintf(stderr, "vouch: verification failed (%s): %s\n", vouch_err_name(e), eb.msg);
        rc = VOUCH_EXIT_FAIL;
        goto out;
    }
    *ret_claims = json_incref((*ret_res)->claims);
    rc = VOUCH_EXIT_OK;
out:
    vouch_dcap_ctx_free(ctx);
    vouch_dcap_file_source_free(fs);
    return rc;
}

int vouch_cmd_inspect_quote(int argc, char **argv)
{
    struct quote_args a = { 0 };
    struct vouch_dcap_result *res = NULL;
    struct vouch_dcap_quote q;
    struct vouch_errbuf eb = { "" };
    unsigned char *raw = NULL;
    uint8_t *quote = NULL;
    size_t raw_len, len;
    bool owned = false;
    json_t *claims = NULL;
    int64_t now = vouch_clock_now();
    int rc = parse_quote_args(argc, argv, &a), el_rc = VOUCH_EXIT_OK;

    if (rc)
        return rc;
    if (a.at && vouch_time_parse_rfc3339(a.at, strlen(a.at), &now, NULL, &eb)) {
        fprintf(stderr, "vouch: --at: %s\n", eb.msg);
        return VOUCH_EXIT_USAGE;
    }
    if (vouch_cli_read_file(a.file, 2 * VOUCH_DCAP_QUOTE_MAX + 16, &raw, &raw_len))
        return VOUCH_EXIT_ERROR;
    if (vouch_dcap_quote_decode(raw, raw_len, &quote, &len, &owned, &eb) ||
        vouch_dcap_quote_parse(quote, len, &q, &eb)) {
        fprintf(stderr, "vouch: %s: %s\n", a.file, eb.msg);
        rc = VOUCH_EXIT_FAIL;
        goto out;
    }
    rc = quote_claims(&a, quote, len, &q, now, &res, &claims);
    if (!rc && a.el)
        el_rc = eventlog_step(&q, a.el, a.aael, claims);
    if (!rc && el_rc != VOUCH_EXIT_OK && el_rc != VOUCH_EXIT_FAIL)
        rc = el_rc;
    if (!rc)
        rc = print_result(&q, claims, res, now, a.as_json) ? VOUCH_EXIT_ERROR : el_rc;
out:
    json_decref(claims);
    vouch_dcap_result_free(res);
    if (owned)
        free(quote);
    free(raw);
    return rc;
}
