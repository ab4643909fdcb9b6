/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_nvgpu: NVIDIA GPU verifications per second, single thread, for
 * one real Hopper report (nvtrust's v1.0 sample: report, device chain and
 * the test_no_gpu driver + VBIOS RIMs) at 2024-06-01 with its nonce.
 * Every verification runs every check and must pass (measres success).
 *   warm:     chain and RIM results already in the trust object's cache:
 *             report parse, one P-384 signature, FWID, nonce, RIM lookups
 *             through the source, measurement comparison, claims;
 *   document: the same through the tee=nvgpu verifier interface, from a
 *             trustee {"device_evidence_list": [...]} document;
 *   cold:     VOUCH_NVGPU_NO_CACHE: the device chain and both RIMs
 *             (XMLDSig, signer chains) are parsed and verified each time;
 *             decoded certificates are reused (src/crypto/x509.c);
 *   cold-fresh: a new trust object for each (built-in roots parsed
 *             again) and the decoded-certificate cache dropped, as a
 *             process's very first verification.
 * RIMs come from memory (a copy per lookup, as a database store returns
 * them).  Run from the source root (bench/run does).
 * usage: bench_nvgpu [SECONDS [MODE]]   (MODE: run only that one, e.g. for callgrind)
 * Output: one line per mode, "mode=warm ops=N secs=S per_sec=R us=U".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/file.h"
#include "common/time.h"
#include "crypto/x509.h"
#include "evidence/binding.h"
#include "evidence/nvgpu/nvgpu.h"

#define V "tests/vectors/nvgpu/"
#define NONCE "4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e"
#define AT 1717200000   /* 2024-06-01T00:00:00Z */

struct mem_rim {
    const char *id;
    uint8_t *doc;
    size_t len;
};

static struct mem_rim rims[] = {
    { "NV_GPU_DRIVER_GH100_545.00", NULL, 0 },
    { "NV_GPU_VBIOS_1010_0200_882_96005E0001", NULL, 0 },
};

static vouch_err mem_get(void *ctx, const char *id, uint8_t **ret_doc, size_t *ret_len,
                         struct vouch_errbuf *eb)
{
    size_t i;

    (void)ctx;
    for (i = 0; i < sizeof(rims) / sizeof(rims[0]); i++) {
        if (strcmp(rims[i].id, id) != 0)
            continue;
        *ret_doc = malloc(rims[i].len);
        if (!*ret_doc)
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        memcpy(*ret_doc, rims[i].doc, rims[i].len);
        *ret_len = rims[i].len;
        return VOUCH_OK;
    }
    return vouch_fail(eb, VOUCH_E_NOT_FOUND, "no %s", id);
}

static uint8_t *load(const char *path, size_t *ret_len)
{
    struct vouch_errbuf eb;
    uint8_t *data;

    if (vouch_file_read(path, 1u << 20, &data, ret_len, &eb)) {
        fprintf(stderr, "bench_nvgpu: %s (run from the source root)\n", eb.msg);
        exit(1);
    }
    return data;
}

/* The report file is hex text with line breaks. */
static char *load_hex_text(const char *path)
{
    size_t len, i, j;
    char *s = (char *)load(path, &len);

    for (i = j = 0; i < len; i++)
        if (s[i] != '\n' && s[i] != '\r' && s[i] != ' ')
            s[j++] = s[i];
    s[j] = '\0';
    return s;
}

static struct vouch_nvgpu_trust *trust(unsigned flags)
{
    struct vouch_nvgpu_rim_source src = { mem_get, NULL };
    struct vouch_nvgpu_trust *t = NULL;
    struct vouch_errbuf eb;

    if (vouch_nvgpu_trust_new(&t, &eb)) {
        fprintf(stderr, "bench_nvgpu: %s\n", eb.msg);
        exit(1);
    }
    vouch_nvgpu_trust_set_rim_source(t, &src);
    vouch_nvgpu_trust_set_flags(t, flags);
    return t;
}

enum mode { WARM, DOCUMENT, COLD, COLD_FRESH };

struct input {
    struct vouch_nvgpu_device dev;
    uint8_t nonce[VOUCH_NVGPU_NONCE_SIZE];
    char *doc;
    size_t doc_len;
};

static int one(struct vouch_nvgpu_trust *t, const struct input *in, enum mode m)
{
    struct vouch_binding b = { in->nonce, sizeof(in->nonce), NULL, 0 };
    struct vouch_errbuf eb = { "" };
    json_t *c = NULL;
    vouch_err e;

    if (m == DOCUMENT) {
        e = vouch_verifier_nvgpu.verify(&vouch_verifier_nvgpu, t, (const uint8_t *)in->doc,
                                        in->doc_len, &b, AT, &c, &eb);
        /* a multi-device verifier: {"devices": [{"claims": {...}}, ...]} */
        if (!e && !json_is_true(json_object_get(
                      json_object_get(json_array_get(json_object_get(c, "devices"), 0), "claims"),
                      "x-nvidia-overall-att-result")))
            e = vouch_fail(&eb, VOUCH_E_VERIFY, "overall result is not true");
    } else {
        c = json_object();
        e = c ? vouch_nvgpu_verify_device(t, &in->dev, in->nonce, AT, c, &eb) : VOUCH_E_NOMEM;
        if (!e && strcmp(json_string_value(json_object_get(c, "measres")), "success") != 0)
            e = vouch_fail(&eb, VOUCH_E_VERIFY, "measres is not success");
    }
    json_decref(c);
    if (e) {
        fprintf(stderr, "bench_nvgpu: %s\n", eb.msg);
        return -1;
    }
    return 0;
}

static int run(const struct input *in, enum mode m, const char *name, double secs)
{
    struct vouch_nvgpu_trust *t = m == COLD_FRESH ? NULL
                                                  : trust(m == COLD ? VOUCH_NVGPU_NO_CACHE : 0);
    uint64_t start, end, now;
    unsigned long ops = 0;
    int rc = 0;

    if (t && m != COLD && one(t, in, m))   /* fill the cache */
        rc = -1;
    start = vouch_clock_us();
    end = start + (uint64_t)(secs * 1e6);
    do {
        if (m == COLD_FRESH) {
            vouch_x509_cache_clear();
            t = trust(0);
        }
        if (!rc && one(t, in, m))
            rc = -1;
        if (m == COLD_FRESH) {
            vouch_nvgpu_trust_free(t);
            t = NULL;
        }
        ops++;
        now = vouch_clock_us();
    } while (!rc && now < end);
    vouch_nvgpu_trust_free(t);
    if (rc)
        return rc;
    printf("mode=%s ops=%lu secs=%.3f per_sec=%.0f us=%.1f\n", name, ops,
           (double)(now - start) / 1e6, (double)ops * 1e6 / (double)(now - start),
           (double)(now - start) / (double)ops);
    return 0;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 3.0;
    const char *only = argc > 2 ? argv[2] : NULL;
    static const struct {
        enum mode m;
        const char *name;
    } modes[] = {
        { WARM, "warm" }, { DOCUMENT, "document" }, { COLD, "cold" }, { COLD_FRESH, "cold-fresh" },
    };
    struct input in;
    struct vouch_errbuf eb;
    char *hex, *chain_b64;
    size_t hex_len, i;
    int rc = 1;

    if (secs <= 0)
        secs = 3.0;
    memset(&in, 0, sizeof(in));
    rims[0].doc = load(V "rims/Driver_RIM_test_no_gpu.swidtag", &rims[0].len);
    rims[1].doc = load(V "rims/1010_0200_882_96005E0001_test_no_gpu.swidtag", &rims[1].len);
    if (vouch_hex_decode_exact(NONCE, 64, in.nonce, sizeof(in.nonce), &eb)) {
        fprintf(stderr, "bench_nvgpu: nonce: %s\n", eb.msg);
        return 1;
    }
    in.dev.arch = VOUCH_NVGPU_HOPPER;
    in.dev.cc_enabled = true;
    hex = load_hex_text(V "v1.0_attestationReport.txt");
    hex_len = strlen(hex);
    in.dev.chain = (char *)load(V "v1.0_gpuAkCertChain.txt", &in.dev.chain_len);
    if (vouch_hex_decode(hex, hex_len, hex_len / 2, &in.dev.report, &in.dev.report_len, &eb)) {
        fprintf(stderr, "bench_nvgpu: report: %s\n", eb.msg);
        return 1;
    }
    /* tee=nvgpu evidence: trustee's document with one GPU, the report in hex */
    chain_b64 = vouch_b64_alloc((const uint8_t *)in.dev.chain, in.dev.chain_len, VOUCH_B64_STD);
    if (!chain_b64)
        return 1;
    in.doc_len = hex_len + strlen(chain_b64) + 128;
    in.doc = malloc(in.doc_len);
    if (!in.doc)
        return 1;
    in.doc_len = (size_t)snprintf(in.doc, in.doc_len, "{\"device_evidence_list\":[{\"arch\":"
                                  "\"HOPPER\",\"evidence\":\"%s\",\"certificate\":\"%s\"}]}",
                                  hex, chain_b64);
    printf("nvtrust v1.0 Hopper report (%zu bytes), 5-certificate chain, driver + VBIOS RIMs "
           "(%zu + %zu bytes), at 2024-06-01, one thread\n", in.dev.report_len, rims[0].len,
           rims[1].len);
    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if ((!only || strcmp(only, modes[i].name) == 0) &&
            run(&in, modes[i].m, modes[i].name, secs))
            goto out;
    rc = 0;
out:
    for (i = 0; i < sizeof(rims) / sizeof(rims[0]); i++)
        free(rims[i].doc);
    free(in.dev.report);
    free(in.dev.chain);
    free(in.doc);
    free(chain_b64);
    free(hex);
    return rc;
}
