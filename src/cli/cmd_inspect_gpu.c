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

/* The options of inspect gpu. */
struct gpu_args {
    const char *file, *rims, *at, *nonce_hex;
    bool json;
};

/* Returns 0, or the usage status. */
static int parse_gpu_args(int argc, char **argv, struct gpu_args *ret_args)
{
    struct gpu_args a = { NULL };
    size_t i;

    for (i = 1; i < (size_t)argc; i++) {
        if (strcmp(argv[i], "--rims") == 0 && i + 1 < (size_t)argc)
            a.rims = argv[++i];
        else if (strcmp(argv[i], "--nonce") == 0 && i + 1 < (size_t)argc)
            a.nonce_hex = argv[++i];
        else if (strcmp(argv[i], "--at") == 0 && i + 1 < (size_t)argc)
            a.at = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            a.json = true;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return vouch_cli_usage("inspect gpu");
        else if (!a.file)
            a.file = argv[i];
        else
            return vouch_cli_usage("inspect gpu");
    }
    if (!a.file)
        return vouch_cli_usage("inspect gpu");
    *ret_args = a;
    return VOUCH_EXIT_OK;
}

/* The time of --at (default now) and the SPDM nonce of --nonce; 0, or the usage status. */
static int parse_gpu_values(const struct gpu_args *a, int64_t *ret_now, uint8_t *ret_nonce)
{
    struct vouch_errbuf eb = { "", "" };
    uint8_t *raw_nonce = NULL;
    size_t nlen = 0;
    int64_t now = vouch_clock_now();

    if (a->at && vouch_time_parse_rfc3339(a->at, strlen(a->at), &now, NULL, &eb)) {
        fprintf(stderr, "vouch: --at: %s\n", eb.msg);
        return VOUCH_EXIT_USAGE;
    }
    if (a->nonce_hex) {
        if (vouch_hex_decode(a->nonce_hex, strlen(a->nonce_hex), 1024, &raw_nonce, &nlen, &eb)) {
            fprintf(stderr, "vouch: --nonce: %s\n", eb.msg);
            return VOUCH_EXIT_USAGE;
        }
        vouch_nvgpu_nonce_from_report_data(raw_nonce, nlen, ret_nonce);
        free(raw_nonce);
    }
    *ret_now = now;
    return VOUCH_EXIT_OK;
}

/* The trust to verify with: the RIMs of --rims, or RIM checks left optional without it. */
static int gpu_trust_new(const struct gpu_args *a, struct vouch_nvgpu_trust **ret_trust,
                         struct vouch_nvgpu_rimdir **ret_dir, struct vouch_errbuf *eb)
{
    struct vouch_nvgpu_trust *t = NULL;
    struct vouch_nvgpu_rimdir *dir = NULL;
    struct vouch_nvgpu_rim_source src;
    size_t skipped = 0;

    if (vouch_nvgpu_trust_new(&t, eb)) {
        fprintf(stderr, "vouch: %s\n", eb->msg);
        return VOUCH_EXIT_ERROR;
    }
    if (!a->rims) {
        vouch_nvgpu_trust_set_flags(t, VOUCH_NVGPU_RIMS_OPTIONAL);
    } else if (vouch_nvgpu_rimdir_open(a->rims, &dir, &skipped, eb)) {
        fprintf(stderr, "vouch: --rims: %s\n", eb->msg);
        vouch_nvgpu_trust_free(t);
        return VOUCH_EXIT_ERROR;
    } else {
        if (skipped && !a->json)
            fprintf(stderr, "vouch: %s: %zu files are not RIMs\n", a->rims, skipped);
        src = vouch_nvgpu_rimdir_source(dir);
        vouch_nvgpu_trust_set_rim_source(t, &src);
    }
    *ret_trust = t;
    *ret_dir = dir;
    return VOUCH_EXIT_OK;
}

/* {"verified", "at", "gpus", "error"?}; an error status when it cannot be built. */
static int print_gpu_json(vouch_err e, const struct vouch_errbuf *eb, const char *when,
                          json_t *shown)
{
    json_t *out = json_pack("{s:b,s:s,s:O?}", "verified", !e, "at", when, "gpus", shown);
    int rc;

    if (out && e)
        json_object_set_new(out, "error", json_pack("{s:s,s:s}", "code", vouch_err_name(e),
                                                    "message", eb->msg));
    rc = vouch_cli_print_json(out);
    json_decref(out);
    return rc;
}

/* The GPUs' claims and the verdict at `now`, as JSON or text; 0 verified, 1 failed. */
static int print_gpu_verdict(const struct gpu_args *a, vouch_err e, const struct vouch_errbuf *eb,
                             int64_t now, json_t *shown, size_t ngpus)
{
    char when[VOUCH_RFC3339_LEN];
    size_t i;

    vouch_time_format_rfc3339(now, when);
    if (a->json) {
        if (print_gpu_json(e, eb, when, shown))
            return VOUCH_EXIT_ERROR;
        return e ? VOUCH_EXIT_FAIL : VOUCH_EXIT_OK;
    }
    for (i = 0; i < json_array_size(shown); i++) {
        printf("gpu%zu\n", i);
        print_claims(json_array_get(shown, i), "");
    }
    if (!a->rims)
        printf("RIMs not checked (no --rims DIR)\n");
    if (!a->nonce_hex)
        printf("nonce not checked (no --nonce HEX)\n");
    if (e)
        printf("verdict at %s: FAILED (%s): %s\n", when, vouch_err_name(e), eb->msg);
    else
        printf("verdict at %s: verified, %zu GPU%s\n", when, ngpus, ngpus == 1 ? "" : "s");
    return e ? VOUCH_EXIT_FAIL : VOUCH_EXIT_OK;
}

int vouch_cmd_inspect_gpu(int argc, char **argv)
{
    struct gpu_args a = { NULL };
    struct vouch_nvgpu_evidence *ev = NULL;
    struct vouch_nvgpu_rimdir *dir = NULL;
    struct vouch_nvgpu_trust *t = NULL;
    struct vouch_errbuf eb = { "", "" };
    uint8_t nonce[VOUCH_NVGPU_NONCE_SIZE];
    unsigned char *data = NULL;
    json_t *claims = NULL, *err_claims = NULL;
    size_t len;
    int64_t now = 0;
    int rc;
    vouch_err e;

    rc = parse_gpu_args(argc, argv, &a);
    if (!rc)
        rc = parse_gpu_values(&a, &now, nonce);
    if (rc)
        return rc;
    if (vouch_cli_read_file(a.file, VOUCH_NVGPU_EVIDENCE_MAX, &data, &len))
        return VOUCH_EXIT_ERROR;
    e = load_evidence(data, len, &ev, &eb);
    if (e) {
        fprintf(stderr, "vouch: %s: %s%s%s\n", a.file, eb.msg, eb.field[0] ? " at " : "",
                eb.field);
        rc = VOUCH_EXIT_FAIL;
    } else {
        rc = gpu_trust_new(&a, &t, &dir, &eb);
    }
    if (!rc) {
        e = vouch_nvgpu_verify_evidence(t, ev, a.nonce_hex ? nonce : NULL, now, &claims,
                                        &err_claims, &eb);
        rc = print_gpu_verdict(&a, e, &eb, now, e ? err_claims : claims, ev->n);
    }
    json_decref(claims);
    json_decref(err_claims);
    vouch_nvgpu_trust_free(t);
    vouch_nvgpu_rimdir_free(dir);
    vouch_nvgpu_evidence_free(ev);
    free(data);
    return rc;
}
