/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vouch inspect quote FILE [--collateral PATH] [--root CERT] [--at RFC3339] [--json]
 *
 * Print a DCAP quote's fields and, with collateral, the verdict of Intel's
 * algorithm at the given time (default: now).  FILE is a binary quote or hex
 * text (0x-prefixed too); PATH a QuoteCollateralV3 JSON file or a directory
 * of PCS responses (see dcap.h).  Exit status: 0 parsed (and verified, when
 * collateral was given), 1 verification failed, 2 usage, 3 unreadable input.
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

int vouch_cmd_inspect_quote(int argc, char **argv)
{
    const char *file = NULL, *coll = NULL, *at = NULL, *root_path = NULL;
    struct vouch_dcap_file_source *fs = NULL;
    struct vouch_dcap_ctx *ctx = NULL;
    struct vouch_dcap_result *res = NULL;
    struct vouch_dcap_quote q;
    struct vouch_errbuf eb = { "" };
    unsigned char *raw = NULL;
    uint8_t *quote = NULL;
    size_t raw_len, len;
    bool owned = false, as_json = false;
    json_t *claims = NULL, *out = NULL;
    int64_t now;
    int i, rc = VOUCH_EXIT_ERROR;
    vouch_err e;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--collateral") == 0 && i + 1 < argc)
            coll = argv[++i];
        else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc)
            at = argv[++i];
        else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
            root_path = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            as_json = true;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return vouch_cli_usage("inspect quote");
        else if (!file)
            file = argv[i];
        else
            return vouch_cli_usage("inspect quote");
    }
    if (!file)
        return vouch_cli_usage("inspect quote");
    now = vouch_clock_now();
    if (at && vouch_time_parse_rfc3339(at, strlen(at), &now, NULL, &eb)) {
        fprintf(stderr, "vouch: --at: %s\n", eb.msg);
        return VOUCH_EXIT_USAGE;
    }
    if (vouch_cli_read_file(file, 2 * VOUCH_DCAP_QUOTE_MAX + 16, &raw, &raw_len))
        return VOUCH_EXIT_ERROR;
    if (vouch_dcap_quote_decode(raw, raw_len, &quote, &len, &owned, &eb) ||
        vouch_dcap_quote_parse(quote, len, &q, &eb)) {
        fprintf(stderr, "vouch: %s: %s\n", file, eb.msg);
        rc = VOUCH_EXIT_FAIL;
        goto out;
    }
    if (coll) {
        e = vouch_dcap_file_source_open(coll, root_path, &fs, &eb);
        if (!e)
            e = vouch_dcap_ctx_new(vouch_dcap_file_source_get(fs), NULL, &ctx, &eb);
        if (e) {
            fprintf(stderr, "vouch: %s\n", eb.msg);
            goto out;
        }
        e = vouch_dcap_verify(ctx, quote, len, now, &res, &eb);
        if (e) {
            fprintf(stderr, "vouch: verification failed (%s): %s\n", vouch_err_name(e),
                    eb.msg);
            rc = VOUCH_EXIT_FAIL;
            goto out;
        }
        claims = json_incref(res->claims);
    } else if (vouch_dcap_claims(&q, NULL, NULL, &claims, &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        goto out;
    }
    if (as_json) {
        char *s;

        out = json_pack("{s:s,s:i,s:O}", "tee",
                        q.tee_type == VOUCH_DCAP_TEE_TDX ? "tdx" : "sgx", "version",
                        (int)q.version, "claims", claims);
        if (out && res)
            json_object_set_new(out, "verified", json_true());
        s = out ? json_dumps(out, JSON_INDENT(2)) : NULL;
        if (!s)
            goto out;
        printf("%s\n", s);
        free(s);
    } else {
        printf("%-40s %s quote v%u, %zu bytes (%zu of padding)\n", "quote",
               q.tee_type == VOUCH_DCAP_TEE_TDX ? "TDX" : "SGX", q.version, q.raw_len,
               q.raw_len - q.len);
        print_tree(claims, "");
        if (res) {
            char when[VOUCH_RFC3339_LEN];

            vouch_time_format_rfc3339(now, when);
            printf("%-40s verified at %s: %s%s\n", "verdict", when,
                   vouch_dcap_status_name(res->status),
                   res->collateral_expired ? " (collateral expired)" : "");
        }
    }
    rc = VOUCH_EXIT_OK;
out:
    json_decref(out);
    json_decref(claims);
    vouch_dcap_result_free(res);
    vouch_dcap_ctx_free(ctx);
    vouch_dcap_file_source_free(fs);
    if (owned)
        free(quote);
    free(raw);
    return rc;
}
