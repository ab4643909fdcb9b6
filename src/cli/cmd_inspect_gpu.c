/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vouch inspect gpu EVIDENCE.json [--rims DIR] [--nonce HEX] [--at RFC3339] [--json]
 *
 * Verify NVIDIA GPU evidence and print the claims of every GPU.  The file
 * is tee=nvgpu evidence ({"device_evidence_list": [...]}, or NVIDIA's
 * array of {"arch", "evidence", "certificate"}), or a TDX evidence
 * document carrying "gpu_evidence" (tee=acstdxnvgpu).  With --rims the
 * driver and VBIOS RIMs come from that directory and must be there;
 * without it the RIM checks are reported as not run.  --nonce gives the
 * expected SPDM nonce (hex, zero-padded or truncated to 32 bytes); without
 * it the nonce is shown but not checked.  Exit status: 0 every GPU
 * verified, 1 a GPU failed, 2 usage, 3 unreadable input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "common/codec.h"
#include "common/json.h"
#include "common/time.h"
#include "evidence/nvgpu/nvgpu.h"

static void print_claims(const json_t *v, const char *prefix)
{
    const char *k;
    json_t *x;
    char name[256];

    if (json_is_object(v) && json_object_size(v) > 0) {
        json_object_foreach((json_t *)v, k, x) {
            snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "", k);
            print_claims(x, name);
        }
    } else if (json_is_string(v)) {
        printf("  %-58s %s\n", prefix, json_string_value(v));
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

        printf("  %-58s %s\n", prefix, s ? s : "?");
        free(s);
    }
}

/* The evidence in either shape. */
static vouch_err load_evidence(const uint8_t *data, size_t len,
                               struct vouch_nvgpu_evidence **ret, struct vouch_errbuf *eb)
{
    json_t *doc = NULL, *gpu;
    vouch_err e;

    e = vouch_json_parse(data, len, &doc, eb);
    if (e)
        return e;
    gpu = json_is_object(doc) ? json_object_get(doc, "gpu_evidence") : NULL;
    e = gpu ? vouch_nvgpu_evidence_from_gpu_evidence(gpu, ret, eb)
            : vouch_nvgpu_evidence_from_json(doc, ret, eb);
    json_decref(doc);
    return e;
}

int vouch_cmd_inspect_gpu(int argc, char **argv)
{
    const char *file = NULL, *rims = NULL, *at = NULL, *nonce_hex = NULL;
    struct vouch_nvgpu_evidence *ev = NULL;
    struct vouch_nvgpu_rimdir *dir = NULL;
    struct vouch_nvgpu_trust *t = NULL;
    struct vouch_errbuf eb = { "", "" };
    uint8_t nonce[VOUCH_NVGPU_NONCE_SIZE], *raw_nonce = NULL;
    unsigned char *data = NULL;
    json_t *claims = NULL, *err_claims = NULL, *shown;
    size_t len, nlen = 0, skipped = 0, i;
    bool as_json = false;
    char when[VOUCH_RFC3339_LEN];
    int64_t now;
    int rc = VOUCH_EXIT_ERROR;
    vouch_err e;

    for (i = 1; i < (size_t)argc; i++) {
        if (strcmp(argv[i], "--rims") == 0 && i + 1 < (size_t)argc)
            rims = argv[++i];
        else if (strcmp(argv[i], "--nonce") == 0 && i + 1 < (size_t)argc)
            nonce_hex = argv[++i];
        else if (strcmp(argv[i], "--at") == 0 && i + 1 < (size_t)argc)
            at = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            as_json = true;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return vouch_cli_usage("inspect gpu");
        else if (!file)
            file = argv[i];
        else
            return vouch_cli_usage("inspect gpu");
    }
    if (!file)
        return vouch_cli_usage("inspect gpu");
    now = vouch_clock_now();
    if (at && vouch_time_parse_rfc3339(at, strlen(at), &now, NULL, &eb)) {
        fprintf(stderr, "vouch: --at: %s\n", eb.msg);
        return VOUCH_EXIT_USAGE;
    }
    if (nonce_hex) {
        if (vouch_hex_decode(nonce_hex, strlen(nonce_hex), 1024, &raw_nonce, &nlen, &eb)) {
            fprintf(stderr, "vouch: --nonce: %s\n", eb.msg);
            return VOUCH_EXIT_USAGE;
        }
        vouch_nvgpu_nonce_from_report_data(raw_nonce, nlen, nonce);
        free(raw_nonce);
    }
    if (vouch_cli_read_file(file, VOUCH_NVGPU_EVIDENCE_MAX, &data, &len))
        return VOUCH_EXIT_ERROR;
    e = load_evidence(data, len, &ev, &eb);
    if (e) {
        fprintf(stderr, "vouch: %s: %s%s%s\n", file, eb.msg, eb.field[0] ? " at " : "",
                eb.field);
        rc = VOUCH_EXIT_FAIL;
        goto out;
    }
    if (vouch_nvgpu_trust_new(&t, &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        goto out;
    }
    if (rims) {
        struct vouch_nvgpu_rim_source src;

        if (vouch_nvgpu_rimdir_open(rims, &dir, &skipped, &eb)) {
            fprintf(stderr, "vouch: --rims: %s\n", eb.msg);
            goto out;
        }
        if (skipped && !as_json)
            fprintf(stderr, "vouch: %s: %zu files are not RIMs\n", rims, skipped);
        src = vouch_nvgpu_rimdir_source(dir);
        vouch_nvgpu_trust_set_rim_source(t, &src);
    } else {
        vouch_nvgpu_trust_set_flags(t, VOUCH_NVGPU_RIMS_OPTIONAL);
    }
    e = vouch_nvgpu_verify_evidence(t, ev, nonce_hex ? nonce : NULL, now, &claims, &err_claims,
                                    &eb);
    shown = e ? err_claims : claims;
    vouch_time_format_rfc3339(now, when);
    if (as_json) {
        json_t *out = json_pack("{s:b,s:s,s:O?}", "verified", !e, "at", when, "gpus", shown);
        char *s;

        if (out && e)
            json_object_set_new(out, "error", json_pack("{s:s,s:s}", "code", vouch_err_name(e),
                                                        "message", eb.msg));
        s = out ? json_dumps(out, JSON_INDENT(2)) : NULL;
        json_decref(out);
        if (!s)
            goto out;
        printf("%s\n", s);
        free(s);
    } else {
        for (i = 0; i < json_array_size(shown); i++) {
            printf("gpu%zu\n", i);
            print_claims(json_array_get(shown, i), "");
        }
        if (!rims)
            printf("RIMs not checked (no --rims DIR)\n");
        if (!nonce_hex)
            printf("nonce not checked (no --nonce HEX)\n");
        if (e)
            printf("verdict at %s: FAILED (%s): %s\n", when, vouch_err_name(e), eb.msg);
        else
            printf("verdict at %s: verified, %zu GPU%s\n", when, ev->n, ev->n == 1 ? "" : "s");
    }
    rc = e ? VOUCH_EXIT_FAIL : VOUCH_EXIT_OK;
out:
    json_decref(claims);
    json_decref(err_claims);
    vouch_nvgpu_trust_free(t);
    vouch_nvgpu_rimdir_free(dir);
    vouch_nvgpu_evidence_free(ev);
    free(data);
    return rc;
}
