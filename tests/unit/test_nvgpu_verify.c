/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/codec.h"
#include "common/json.h"
#include "crypto/digest.h"
#include "crypto/sig.h"
#include "crypto/x509.h"
#include "evidence/nvgpu/nvgpu.h"
#include "evidence/nvgpu/nvgpu_int.h"
#include "nvgpu_util.h"

#define T_2024 "2024-06-01T00:00:00Z"
#define T_NOW "2026-11-01T00:00:00Z"

#define NONCE_V10 "4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e"
#define NONCE_931 "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"

/* ------------------------------------------------------------------ */
/* A RIM source over a table of id -> file                             */

struct rim_map {
    const char *id, *file;
};

static vouch_err table_get(void *ctx, const char *id, uint8_t **ret, size_t *ret_len,
                           struct vouch_errbuf *eb)
{
    const struct rim_map *m = ctx;

    for (; m && m->id; m++)
        if (strcmp(m->id, id) == 0) {
            *ret = nv_load(m->file, ret_len);
            return VOUCH_OK;
        }
    return vouch_fail(eb, VOUCH_E_NOT_FOUND, "no %s", id);
}

static const struct rim_map rims_v10[] = {
    { "NV_GPU_DRIVER_GH100_545.00", NV_VEC "rims/Driver_RIM_test_no_gpu.swidtag" },
    { "NV_GPU_VBIOS_1010_0200_882_96005E0001",
      NV_VEC "rims/1010_0200_882_96005E0001_test_no_gpu.swidtag" },
    { NULL, NULL },
};

static const struct rim_map rims_v10_prod_vbios[] = {
    { "NV_GPU_DRIVER_GH100_545.00", NV_VEC "rims/Driver_RIM_test_no_gpu.swidtag" },
    { "NV_GPU_VBIOS_1010_0200_882_96005E0001",
      NV_VEC "rims-bad/1010_0200_882_96005E0001_PROD.swidtag" },
    { NULL, NULL },
};

static const struct rim_map rims_bad_signature[] = {
    { "NV_GPU_DRIVER_GH100_545.00", NV_VEC "rims-bad/incorrect_signature_driver_rim.xml" },
    { "NV_GPU_VBIOS_1010_0200_882_96005E0001",
      NV_VEC "rims/1010_0200_882_96005E0001_test_no_gpu.swidtag" },
    { NULL, NULL },
};

static const struct rim_map rims_expired[] = {
    { "NV_GPU_DRIVER_GH100_570.124.03", NV_VEC "rims-bad/NV_GPU_DRIVER_GH100_570.124.03_expired.xml" },
    { NULL, NULL },
};

/* NVIDIA's measurement-mismatch sample RIMs, under the ids of its 535.86.09 report */
static const struct rim_map rims_nvat_mismatch[] = {
    { "NV_GPU_DRIVER_GH100_535.86.09",
      NV_VEC "rims-bad/NV_GPU_DRIVER_GH100_535.86.09_measurement_mismatch.xml" },
    { "NV_GPU_VBIOS_1010_0200_882_96005E0001",
      NV_VEC "rims-bad/NV_GPU_VBIOS_1010_0200_882_96005E0001_measurement_mismatch.xml" },
    { NULL, NULL },
};

/* nvtrust's test driver RIM with NVIDIA's (validly signed) mismatch VBIOS RIM */
static const struct rim_map rims_v10_nvat_vbios[] = {
    { "NV_GPU_DRIVER_GH100_545.00", NV_VEC "rims/Driver_RIM_test_no_gpu.swidtag" },
    { "NV_GPU_VBIOS_1010_0200_882_96005E0001",
      NV_VEC "rims-bad/NV_GPU_VBIOS_1010_0200_882_96005E0001_measurement_mismatch.xml" },
    { NULL, NULL },
};

static const struct rim_map rims_swapped[] = {
    { "NV_GPU_DRIVER_GH100_545.00", NV_VEC "rims/1010_0200_882_96005E0001_test_no_gpu.swidtag" },
    { NULL, NULL },
};

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static struct vouch_nvgpu_trust *trust_with(const struct rim_map *rims, unsigned flags,
                                            const char *device_root, const char *rim_root)
{
    struct vouch_nvgpu_trust *t = NULL;
    struct vouch_nvgpu_rim_source src = { table_get, (void *)rims };
    struct vouch_errbuf eb;
    size_t len;

    assert_int_equal(vouch_nvgpu_trust_new(&t, &eb), VOUCH_OK);
    if (rims)
        vouch_nvgpu_trust_set_rim_source(t, &src);
    vouch_nvgpu_trust_set_flags(t, flags);
    if (device_root) {
        uint8_t *pem = nv_load(device_root, &len);

        assert_int_equal(vouch_nvgpu_trust_set_device_roots(t, (char *)pem, len, &eb), VOUCH_OK);
        free(pem);
    }
    if (rim_root) {
        uint8_t *pem = nv_load(rim_root, &len);

        assert_int_equal(vouch_nvgpu_trust_set_rim_roots(t, (char *)pem, len, &eb), VOUCH_OK);
        free(pem);
    }
    return t;
}

static void device_from_files(struct vouch_nvgpu_device *d, const char *report, const char *chain,
                              enum vouch_nvgpu_arch arch)
{
    memset(d, 0, sizeof(*d));
    d->arch = arch;
    d->cc_enabled = true;
    d->report = nv_load_hex(report, &d->report_len);
    d->chain = (char *)nv_load(chain, &d->chain_len);
}

static void device_free(struct vouch_nvgpu_device *d)
{
    free(d->report);
    free(d->chain);
}

static bool claim_true(json_t *c, const char *key)
{
    return json_is_true(json_object_get(c, key));
}

static const char *claim_str(json_t *c, const char *key)
{
    return json_string_value(json_object_get(c, key));
}

/* The claims of device i of a multi-device answer. */
static json_t *gpu_claims(json_t *answer, size_t i)
{
    return json_object_get(json_array_get(json_object_get(answer, "devices"), i), "claims");
}

static const char *chain_status(json_t *c, const char *key)
{
    return json_string_value(json_object_get(json_object_get(c, key), "x-nvidia-cert-status"));
}

/* ------------------------------------------------------------------ */
/* The table                                                           */

#define SIG "x-nvidia-gpu-attestation-report-signature-verified"
#define FWID "x-nvidia-gpu-attestation-report-cert-chain-fwid-match"
#define NONCE "x-nvidia-gpu-attestation-report-nonce-match"
#define ARCH "x-nvidia-gpu-arch-check"
#define DRV_FETCHED "x-nvidia-gpu-driver-rim-fetched"
#define DRV_SIG "x-nvidia-gpu-driver-rim-signature-verified"
#define VB_FETCHED "x-nvidia-gpu-vbios-rim-fetched"

struct verify_case {
    const char *what;
    const char *report, *chain;
    enum vouch_nvgpu_arch arch;
    const char *nonce;             /* hex, NULL: not checked */
    const char *at;
    const struct rim_map *rims;
    unsigned flags;
    const char *device_root, *rim_root;   /* NULL: NVIDIA's */
    vouch_err want;
    const char *step;              /* the error message starts with this */
    const char *true_claims[8];    /* must be true */
    const char *false_claims[8];   /* must be false */
    const char *chain_status;      /* x-nvidia-gpu-attestation-report-cert-chain status */
    const char *measres;
};

static const struct verify_case cases[] = {
    { "nvtrust v1.0 end to end", NV_VEC "v1.0_attestationReport.txt",
      NV_VEC "v1.0_gpuAkCertChain.txt", VOUCH_NVGPU_HOPPER, NONCE_V10, T_2024, rims_v10, 0, NULL,
      NULL, VOUCH_OK, NULL,
      { SIG, FWID, NONCE, ARCH, DRV_FETCHED, DRV_SIG, "x-nvidia-gpu-vbios-rim-version-match",
        "x-nvidia-gpu-vbios-index-no-conflict" },
      { NULL }, "valid", "success" },
    { "nvtrust v1.0, RIM signer expired since", NV_VEC "v1.0_attestationReport.txt",
      NV_VEC "v1.0_gpuAkCertChain.txt", VOUCH_NVGPU_HOPPER, NONCE_V10, T_NOW, rims_v10, 0, NULL,
      NULL, VOUCH_E_EXPIRED, "driver RIM: certificate 'C = US, ST = CA, L = Santa Clara, O = NVIDIA Corporation, "
      "CN = HCC RIM L4 Signer' expired at 2025-06-26",
      { SIG, FWID, NONCE, DRV_FETCHED, DRV_SIG }, { NULL }, "valid", "success" },
    { "nvtrust v1.0, wrong nonce", NV_VEC "v1.0_attestationReport.txt",
      NV_VEC "v1.0_gpuAkCertChain.txt", VOUCH_NVGPU_HOPPER, NONCE_931, T_2024, rims_v10, 0, NULL,
      NULL, VOUCH_E_BINDING, "nonce: ", { SIG, FWID }, { NONCE }, "valid", "success" },
    { "nvtrust v1.0, production VBIOS RIM", NV_VEC "v1.0_attestationReport.txt",
      NV_VEC "v1.0_gpuAkCertChain.txt", VOUCH_NVGPU_HOPPER, NONCE_V10, T_2024,
      rims_v10_prod_vbios, 0, NULL, NULL, VOUCH_E_VERIFY,
      "measurements: 4 of 32 measurements differ", { SIG, FWID, NONCE, VB_FETCHED },
      { NULL }, "valid", "fail" },
    { "nvtrust v1.0, driver RIM with a bad signature", NV_VEC "v1.0_attestationReport.txt",
      NV_VEC "v1.0_gpuAkCertChain.txt", VOUCH_NVGPU_HOPPER, NONCE_V10, "2025-10-01T00:00:00Z",
      rims_bad_signature, 0, NULL, NULL, VOUCH_E_VERIFY, "driver RIM: signature: invalid",
      { SIG, FWID, NONCE, DRV_FETCHED }, { DRV_SIG, "x-nvidia-gpu-driver-rim-version-match" },
      "valid", NULL },
    { "nvtrust v1.0, RIMs under another root", NV_VEC "v1.0_attestationReport.txt",
      NV_VEC "v1.0_gpuAkCertChain.txt", VOUCH_NVGPU_HOPPER, NONCE_V10, T_2024, rims_v10, 0, NULL,
      NV_VEC "incorrect_rim_root.crt", VOUCH_E_VERIFY, "driver RIM: certificate chain: ",
      { SIG, FWID, NONCE, DRV_FETCHED }, { DRV_SIG }, "valid", "not-run" },
    { "nvtrust v1.0, driver RIM is a VBIOS RIM", NV_VEC "v1.0_attestationReport.txt",
      NV_VEC "v1.0_gpuAkCertChain.txt", VOUCH_NVGPU_HOPPER, NONCE_V10, T_2024, rims_swapped, 0,
      NULL, NULL, VOUCH_E_INVALID, "driver RIM: NV_GPU_DRIVER_GH100_545.00 is a VBIOS RIM",
      { SIG }, { DRV_FETCHED }, "valid", "not-run" },
    { "nvtrust v1.0, declared Blackwell", NV_VEC "v1.0_attestationReport.txt",
      NV_VEC "v1.0_gpuAkCertChain.txt", VOUCH_NVGPU_BLACKWELL, NONCE_V10, T_2024, rims_v10, 0,
      NULL, NULL, VOUCH_E_VERIFY, "architecture: evidence says BLACKWELL", { SIG }, { ARCH },
      "valid", "success" },
    { "nvtrust v1.0, NVIDIA's mismatch VBIOS RIM", NV_VEC "v1.0_attestationReport.txt",
      NV_VEC "v1.0_gpuAkCertChain.txt", VOUCH_NVGPU_HOPPER, NONCE_V10, T_2024,
      rims_v10_nvat_vbios, 0, NULL, NULL, VOUCH_E_VERIFY,
      "measurements: 4 of 32 measurements differ",
      { SIG, FWID, NONCE, DRV_SIG, "x-nvidia-gpu-vbios-rim-signature-verified",
        "x-nvidia-gpu-vbios-rim-version-match", "x-nvidia-gpu-vbios-index-no-conflict" },
      { NULL }, "valid", "fail" },
    { "device chain before its certificates are valid", NV_VEC "v1.0_attestationReport.txt",
      NV_VEC "v1.0_gpuAkCertChain.txt", VOUCH_NVGPU_HOPPER, NONCE_V10, "2021-06-01T00:00:00Z",
      rims_v10, 0, NULL, NULL, VOUCH_E_NOT_YET_VALID,
      "certificate chain: valid only from 2022-03-01T00:00:00Z to 9999-12-31T23:59:59Z",
      { SIG, FWID, NONCE, ARCH }, { NULL }, "expired", NULL },
    { "device chain under another root", NV_VEC "v1.0_attestationReport.txt",
      NV_VEC "v1.0_gpuAkCertChain.txt", VOUCH_NVGPU_HOPPER, NONCE_V10, T_2024, rims_v10, 0,
      NV_VEC "verifier_RIM_root.pem", NULL, VOUCH_E_VERIFY, "certificate chain: ", { NONCE },
      { SIG, ARCH }, "invalid", "success" },
    { "go-nvtrust chain without the BROM certificate", NV_VEC "v1.0_attestationReport.txt",
      NV_VEC "gonvtrust_invalidCertChain.txt", VOUCH_NVGPU_HOPPER, NONCE_V10, T_2024, rims_v10,
      0, NULL, NULL, VOUCH_E_VERIFY, "certificate chain: ", { NONCE }, { SIG }, "invalid",
      "success" },
    /* nvtrust 550.90.07 and trustee's chain cases */
    { "nvtrust 550.90.07 without RIMs", NV_VEC "nvtrust_hopperAttestationReport.txt",
      NV_VEC "nvtrust_hopperCertChain.txt", VOUCH_NVGPU_HOPPER, NONCE_931, T_NOW, NULL, 0, NULL,
      NULL, VOUCH_E_NOT_FOUND, "driver RIM: NV_GPU_DRIVER_GH100_550.90.07: no RIM source",
      { SIG, FWID, NONCE, ARCH }, { DRV_FETCHED, VB_FETCHED }, "valid", "not-run" },
    { "nvtrust 550.90.07, RIMs optional", NV_VEC "nvtrust_hopperAttestationReport.txt",
      NV_VEC "nvtrust_hopperCertChain.txt", VOUCH_NVGPU_HOPPER, NONCE_931, T_NOW, rims_v10,
      VOUCH_NVGPU_RIMS_OPTIONAL, NULL, NULL, VOUCH_OK, NULL, { SIG, FWID, NONCE, ARCH },
      { DRV_FETCHED, VB_FETCHED }, "valid", "not-run" },
    { "trustee case 2: root only", NV_VEC "nvtrust_hopperAttestationReport.txt",
      NV_VEC "trustee_hopper_cert_chain_case2.txt", VOUCH_NVGPU_HOPPER, NONCE_931, T_NOW, NULL,
      VOUCH_NVGPU_RIMS_OPTIONAL, NULL, NULL, VOUCH_E_VERIFY,
      "certificate chain: the chain has 1 certificate", { NONCE }, { SIG, FWID }, "invalid",
      "not-run" },
    { "trustee case 3: no provisioner ICA", NV_VEC "nvtrust_hopperAttestationReport.txt",
      NV_VEC "trustee_hopper_cert_chain_case3.txt", VOUCH_NVGPU_HOPPER, NONCE_931, T_NOW, NULL,
      VOUCH_NVGPU_RIMS_OPTIONAL, NULL, NULL, VOUCH_E_VERIFY,
      "certificate chain: certificate 'serialNumber = 41431D480FE5E87274, C = US, O = "
      "NVIDIA Corporation, CN = GH100 A01 GSP BROM' (depth 1): unable to get local issuer", { NONCE }, { SIG, FWID },
      "invalid", "not-run" },
    { "trustee case 4: no leaf", NV_VEC "nvtrust_hopperAttestationReport.txt",
      NV_VEC "trustee_hopper_cert_chain_case4.txt", VOUCH_NVGPU_HOPPER, NONCE_931, T_NOW, NULL,
      VOUCH_NVGPU_RIMS_OPTIONAL, NULL, NULL, VOUCH_E_VERIFY,
      "certificate chain: first certificate", { NONCE }, { SIG, FWID }, "invalid", "not-run" },
    { "NVIDIA's tampered report", NV_VEC "nvat_sample_hopperAttestationReportInvalidSignature.txt",
      NV_VEC "nvat_sample_hopperCertChain.txt", VOUCH_NVGPU_HOPPER, NONCE_931, T_NOW, NULL,
      VOUCH_NVGPU_RIMS_OPTIONAL, NULL, NULL, VOUCH_E_VERIFY, "report signature: ",
      { NONCE, ARCH }, { SIG, FWID }, "valid", "not-run" },
    /* the other real Hopper reports: signature, chain and FWID pass; RIMs missing */
    { "NVIDIA 580.159.03", NV_VEC "nvat_hopperAttestationReport.txt",
      NV_VEC "nvat_hopperCertChain.txt", VOUCH_NVGPU_HOPPER,
      "5bb22e377702d4e1e8215a903ba094826b9ac7f731dee1fe8102958bf2840aca", T_NOW, rims_v10, 0,
      NULL, NULL, VOUCH_E_NOT_FOUND, "driver RIM: NV_GPU_DRIVER_GH100_580.159.03 not found",
      { SIG, FWID, NONCE, ARCH }, { DRV_FETCHED }, "valid", "not-run" },
    { "NVIDIA sample 535.86.09", NV_VEC "nvat_sample_hopperAttestationReport.txt",
      NV_VEC "nvat_sample_hopperCertChain.txt", VOUCH_NVGPU_HOPPER,
      "27a328247bf7935c993341cf587be6f05986ccce4fe7ba2c54100bd616a58f66", T_NOW, rims_v10, 0,
      NULL, NULL, VOUCH_E_NOT_FOUND, "driver RIM: NV_GPU_DRIVER_GH100_535.86.09 not found",
      { SIG, FWID, NONCE, ARCH }, { DRV_FETCHED }, "valid", "not-run" },
    { "trustee CoCo report (zero padding)", NV_VEC "trustee_hopper_coco_report1.txt",
      NV_VEC "trustee_hopper_coco_certs1.txt", VOUCH_NVGPU_HOPPER,
      "87d8e24ab336adafe228d49e83d745f6dba4ae505372b6a5704820856b343fec", T_NOW, rims_v10, 0,
      NULL, NULL, VOUCH_E_NOT_FOUND, "driver RIM: NV_GPU_DRIVER_GH100_580.95.05 not found",
      { SIG, FWID, NONCE, ARCH }, { DRV_FETCHED }, "valid", "not-run" },
    /* its driver RIM was edited, so its signature fails before any comparison:
     * golden values count only from RIMs whose signature verified */
    { "NVIDIA measurement-mismatch sample", NV_VEC "nvat_sample_hopperAttestationReport.txt",
      NV_VEC "nvat_sample_hopperCertChain.txt", VOUCH_NVGPU_HOPPER,
      "27a328247bf7935c993341cf587be6f05986ccce4fe7ba2c54100bd616a58f66",
      "2025-10-01T00:00:00Z", rims_nvat_mismatch, 0, NULL, NULL, VOUCH_E_VERIFY,
      "driver RIM: signature: invalid",
      { SIG, FWID, NONCE, DRV_FETCHED, VB_FETCHED, "x-nvidia-gpu-vbios-rim-signature-verified" },
      { DRV_SIG }, "valid", "not-run" },
    { "NVIDIA expired-RIM sample", NV_VEC "nvat_sample_hopperAttestationReportExpired.txt",
      NV_VEC "nvat_sample_hopperCertChainExpired.txt", VOUCH_NVGPU_HOPPER, NONCE_931,
      "2025-06-01T00:00:00Z", rims_expired, 0, NULL, NULL, VOUCH_E_EXPIRED,
      "driver RIM: certificate 'C = US, ST = CA, L = Santa Clara, O = NVIDIA Corporation, "
      "CN = RIM L4 Signer' expired at 2025-01-02", { SIG, FWID, NONCE, DRV_FETCHED },
      { DRV_SIG }, "valid", "not-run" },
};

static void check_case(const struct verify_case *c, struct vouch_nvgpu_trust *t)
{
    struct vouch_nvgpu_device dev;
    uint8_t nonce[32];
    struct vouch_errbuf eb = { "" };
    json_t *claims = json_object();
    vouch_err e;
    size_t k;

    device_from_files(&dev, c->report, c->chain, c->arch);
    if (c->nonce)
        assert_int_equal(vouch_hex_decode_exact(c->nonce, 64, nonce, 32, NULL), VOUCH_OK);
    e = vouch_nvgpu_verify_device(t, &dev, c->nonce ? nonce : NULL, nv_time(c->at), claims, &eb);
    if (e != c->want || (c->step && strncmp(eb.msg, c->step, strlen(c->step)) != 0))
        fail_msg("%s: got %s '%s'", c->what, vouch_err_name(e), eb.msg);
    for (k = 0; k < 8 && c->true_claims[k]; k++)
        if (!claim_true(claims, c->true_claims[k]))
            fail_msg("%s: %s is not true", c->what, c->true_claims[k]);
    for (k = 0; k < 8 && c->false_claims[k]; k++)
        if (!json_is_false(json_object_get(claims, c->false_claims[k])))
            fail_msg("%s: %s is not false", c->what, c->false_claims[k]);
    if (c->chain_status)
        assert_string_equal(chain_status(claims, "x-nvidia-gpu-attestation-report-cert-chain"),
                            c->chain_status);
    if (c->measres && strcmp(c->measres, "success") != 0)
        assert_string_equal(claim_str(claims, "measres"), c->measres);
    if (c->want == VOUCH_OK && c->measres && strcmp(c->measres, "success") == 0) {
        assert_string_equal(claim_str(claims, "measres"), "success");
        assert_true(claim_true(claims, "secboot"));
        assert_string_equal(claim_str(claims, "dbgstat"), "disabled");
    }
    json_decref(claims);
    device_free(&dev);
}

static void test_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_nvgpu_trust *t = trust_with(cases[i].rims, cases[i].flags,
                                                 cases[i].device_root, cases[i].rim_root);

        check_case(&cases[i], t);
        check_case(&cases[i], t);   /* again, from the cache */
        vouch_nvgpu_trust_free(t);
    }
}

/* The whole claim set of the passing v1.0 case. */
static void test_claims_shape(void **state)
{
    struct vouch_nvgpu_trust *t = trust_with(rims_v10, 0, NULL, NULL);
    struct vouch_nvgpu_device dev;
    uint8_t nonce[32];
    json_t *c = json_object(), *chain, *cfg;

    (void)state;
    device_from_files(&dev, NV_VEC "v1.0_attestationReport.txt", NV_VEC "v1.0_gpuAkCertChain.txt",
                      VOUCH_NVGPU_HOPPER);
    vouch_hex_decode_exact(NONCE_V10, 64, nonce, 32, NULL);
    assert_int_equal(vouch_nvgpu_verify_device(t, &dev, nonce, nv_time(T_2024), c, NULL),
                     VOUCH_OK);
    assert_string_equal(claim_str(c, "arch"), "HOPPER");
    assert_true(json_is_null(json_object_get(c, "uuid")));
    assert_string_equal(claim_str(c, "x-nvidia-device-type"), "gpu");
    assert_string_equal(claim_str(c, "hwmodel"), "GH100 A01 GSP BROM");
    assert_string_equal(claim_str(c, "oemid"), "5703");
    assert_string_equal(claim_str(c, "eat_nonce"), NONCE_V10);
    assert_string_equal(claim_str(c, "x-nvidia-gpu-driver-version"), "545.00");
    assert_string_equal(claim_str(c, "x-nvidia-gpu-vbios-version"), "96.00.5E.00.01");
    assert_string_equal(claim_str(c, "x-nvidia-gpu-driver-rim-id"), "NV_GPU_DRIVER_GH100_545.00");
    assert_string_equal(claim_str(c, "x-nvidia-gpu-vbios-rim-id"),
                        "NV_GPU_VBIOS_1010_0200_882_96005E0001");
    assert_non_null(claim_str(c, "ueid"));
    assert_true(strlen(claim_str(c, "ueid")) > 20);
    assert_null(json_object_get(c, "x-nvidia-gpu-mode"));
    assert_true(json_is_null(json_object_get(c, "x-nvidia-mismatch-measurement-records")));
    chain = json_object_get(c, "x-nvidia-gpu-attestation-report-cert-chain");
    assert_string_equal(claim_str(chain, "x-nvidia-cert-ocsp-status"), "unknown");
    assert_string_equal(claim_str(chain, "x-nvidia-cert-expiration-date"),
                        "9999-12-31T23:59:59Z");
    assert_true(json_is_null(json_object_get(chain, "x-nvidia-cert-revocation-reason")));
    chain = json_object_get(c, "x-nvidia-gpu-vbios-rim-cert-chain");
    assert_string_equal(claim_str(chain, "x-nvidia-cert-status"), "valid");
    assert_string_equal(claim_str(chain, "x-nvidia-cert-expiration-date"),
                        "2025-06-22T09:38:54Z");
    assert_int_equal(json_object_size(json_object_get(c, "measurements")), 64);
    cfg = json_object_get(c, "config");
    assert_string_equal(claim_str(cfg, "driver_version"), "545.00");
    assert_string_equal(claim_str(cfg, "vbios_version"), "96.00.5e.00.01");
    assert_string_equal(claim_str(cfg, "nvdec0_status"), "disabled");
    json_decref(c);
    device_free(&dev);
    vouch_nvgpu_trust_free(t);
}

/* Measurement mismatch records, in NVIDIA's shape. */
static void test_mismatch_records(void **state)
{
    struct vouch_nvgpu_trust *t = trust_with(rims_v10_prod_vbios, 0, NULL, NULL);
    struct vouch_nvgpu_device dev;
    json_t *c = json_object(), *mm;
    size_t i;
    const int want[] = { 1, 2, 3, 9 };

    (void)state;
    device_from_files(&dev, NV_VEC "v1.0_attestationReport.txt", NV_VEC "v1.0_gpuAkCertChain.txt",
                      VOUCH_NVGPU_HOPPER);
    assert_int_equal(vouch_nvgpu_verify_device(t, &dev, NULL, nv_time(T_2024), c, NULL),
                     VOUCH_E_VERIFY);
    mm = json_object_get(c, "x-nvidia-mismatch-measurement-records");
    assert_int_equal(json_array_size(mm), 4);
    for (i = 0; i < 4; i++) {
        json_t *m = json_array_get(mm, i);

        assert_int_equal(json_integer_value(json_object_get(m, "index")), want[i]);
        assert_string_equal(claim_str(m, "measurementSource"), "vbios");
    }
    assert_true(json_is_null(json_object_get(c, "secboot")));
    assert_false(claim_true(c, NONCE));   /* no nonce was asked for */
    json_decref(c);
    device_free(&dev);
    vouch_nvgpu_trust_free(t);
}

static void test_cache(void **state)
{
    struct vouch_nvgpu_trust *t = trust_with(rims_v10, 0, NULL, NULL);
    struct vouch_nvgpu_device dev;
    uint64_t hits, misses;
    int i;

    (void)state;
    device_from_files(&dev, NV_VEC "v1.0_attestationReport.txt", NV_VEC "v1.0_gpuAkCertChain.txt",
                      VOUCH_NVGPU_HOPPER);
    for (i = 0; i < 3; i++) {
        json_t *c = json_object();

        assert_int_equal(vouch_nvgpu_verify_device(t, &dev, NULL, nv_time(T_2024), c, NULL),
                         VOUCH_OK);
        json_decref(c);
    }
    vouch_nvgpu_trust_cache_stats(t, &hits, &misses);
    assert_int_equal(misses, 3);   /* the chain and two RIMs, once */
    assert_int_equal(hits, 6);
    vouch_nvgpu_trust_free(t);

    t = trust_with(rims_v10, VOUCH_NVGPU_NO_CACHE, NULL, NULL);
    for (i = 0; i < 2; i++) {
        json_t *c = json_object();

        assert_int_equal(vouch_nvgpu_verify_device(t, &dev, NULL, nv_time(T_2024), c, NULL),
                         VOUCH_OK);
        json_decref(c);
    }
    vouch_nvgpu_trust_cache_stats(t, &hits, &misses);
    assert_int_equal(hits, 0);
    device_free(&dev);
    vouch_nvgpu_trust_free(t);
}

static void test_root_pins(void **state)
{
    static const struct {
        const char *pem, *sha256;
    } pins[] = {
        { vouch_nvgpu_device_root_pem, VOUCH_NVGPU_DEVICE_ROOT_SHA256 },
        { vouch_nvgpu_rim_root_pem, VOUCH_NVGPU_RIM_ROOT_SHA256 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < 2; i++) {
        STACK_OF(X509) *sk = NULL;
        uint8_t fp[32];
        char hex[65];

        assert_int_equal(vouch_x509_parse_pem_chain(pins[i].pem, strlen(pins[i].pem), 2, &sk,
                                                    NULL), VOUCH_OK);
        assert_int_equal(sk_X509_num(sk), 1);
        assert_int_equal(vouch_x509_fingerprint(sk_X509_value(sk, 0), fp), VOUCH_OK);
        vouch_hex_encode(fp, 32, hex);
        assert_string_equal(hex, pins[i].sha256);
        sk_X509_pop_free(sk, X509_free);
    }
}

/* ------------------------------------------------------------------ */
/* Evidence documents                                                  */

static char *b64_of_file(const char *path, bool hex)
{
    size_t len;
    uint8_t *d = hex ? nv_load_hex(path, &len) : nv_load(path, &len);
    char *s = vouch_b64_alloc(d, len, VOUCH_B64_STD);

    free(d);
    return s;
}

static char *text_of_file(const char *path)
{
    size_t len, i, j;
    char *s = (char *)nv_load(path, &len);

    for (i = j = 0; i < len; i++)
        if (s[i] != '\n' && s[i] != '\r')
            s[j++] = s[i];
    s[j] = '\0';
    return s;
}

/* tee=nvgpu through the common verifier interface, hex and base64 reports. */
static void test_nvgpu_document(void **state)
{
    struct vouch_nvgpu_trust *t = trust_with(rims_v10, 0, NULL, NULL);
    char *hexrep = text_of_file(NV_VEC "v1.0_attestationReport.txt");
    char *b64rep = b64_of_file(NV_VEC "v1.0_attestationReport.txt", true);
    char *chain = b64_of_file(NV_VEC "v1.0_gpuAkCertChain.txt", false);
    size_t n = strlen(hexrep) + strlen(b64rep) + 2 * strlen(chain) + 512;
    char *doc = malloc(n);
    uint8_t rd[48];
    struct vouch_binding b = { rd, sizeof(rd), NULL, 0 };
    struct vouch_errbuf eb;
    json_t *claims = NULL, *gpus;

    (void)state;
    /* 48 bytes of report data: the first 32 are the nonce */
    vouch_hex_decode_exact(NONCE_V10, 64, rd, 32, NULL);
    memset(rd + 32, 0xee, 16);
    snprintf(doc, n, "{\"device_evidence_list\":[{\"arch\":\"HOPPER\",\"uuid\":\"GPU-1\","
             "\"evidence\":\"%s\",\"certificate\":\"%s\"},{\"arch\":\"hopper\",\"uuid\":\"GPU-2\","
             "\"evidence\":\"%s\",\"certificate\":\"%s\"}]}", hexrep, chain, b64rep, chain);
    assert_string_equal(vouch_verifier_nvgpu.tee, "nvgpu");
    if (vouch_verifier_nvgpu.verify(&vouch_verifier_nvgpu, t, (uint8_t *)doc, strlen(doc), &b,
                                    nv_time(T_2024), &claims, &eb))
        fail_msg("%s", eb.msg);
    /* one device per GPU, each with its own claims (multi-device form) */
    assert_true(vouch_verifier_nvgpu.multi_device);
    gpus = json_object_get(claims, "devices");
    assert_int_equal(json_array_size(gpus), 2);
    assert_string_equal(claim_str(json_array_get(gpus, 1), "class"), "gpu");
    assert_string_equal(claim_str(json_array_get(gpus, 1), "tee"), "nvgpu");
    assert_string_equal(claim_str(gpu_claims(claims, 1), "uuid"), "GPU-2");
    assert_string_equal(claim_str(gpu_claims(claims, 0), "measres"), "success");
    assert_true(claim_true(gpu_claims(claims, 1), NONCE));
    assert_string_equal(claim_str(gpu_claims(claims, 0), "report_data"), NONCE_V10);
    assert_string_equal(claim_str(gpu_claims(claims, 1), "report_data"), NONCE_V10);
    assert_true(claim_true(gpu_claims(claims, 1), "x-nvidia-overall-att-result"));
    json_decref(claims);

    /* no runtime data: no binding check, and the claims say so */
    claims = NULL;
    if (vouch_verifier_nvgpu.verify(&vouch_verifier_nvgpu, t, (uint8_t *)doc, strlen(doc), NULL,
                                    nv_time(T_2024), &claims, &eb))
        fail_msg("%s", eb.msg);
    assert_false(claim_true(gpu_claims(claims, 0), NONCE));
    json_decref(claims);
    /* runtime data of 32 bytes or less is zero-padded: not this nonce */
    b.report_data_len = 31;
    assert_int_equal(vouch_verifier_nvgpu.verify(&vouch_verifier_nvgpu, t, (uint8_t *)doc,
                                                 strlen(doc), &b, nv_time(T_2024), &claims, &eb),
                     VOUCH_E_BINDING);
    b.report_data_len = sizeof(rd);
    /* other runtime data: the nonce does not match */
    rd[0] ^= 1;
    assert_int_equal(vouch_verifier_nvgpu.verify(&vouch_verifier_nvgpu, t, (uint8_t *)doc,
                                                 strlen(doc), &b, nv_time(T_2024), &claims, &eb),
                     VOUCH_E_BINDING);
    assert_non_null(strstr(eb.msg, "gpu0: nonce: the SPDM request nonce does not match"));
    rd[0] ^= 1;
    /* no trust configured */
    assert_int_equal(vouch_verifier_nvgpu.verify(&vouch_verifier_nvgpu, NULL, (uint8_t *)doc,
                                                 strlen(doc), &b, nv_time(T_2024), &claims, &eb),
                     VOUCH_E_NOT_FOUND);
    /* a report cut short: malformed, and the field says which */
    {
        char *cut = strstr(doc, "\",\"certificate\"");

        memmove(cut - 8, cut, strlen(cut) + 1);
        assert_int_equal(vouch_verifier_nvgpu.verify(&vouch_verifier_nvgpu, t, (uint8_t *)doc,
                                                     strlen(doc), &b, nv_time(T_2024), &claims,
                                                     &eb), VOUCH_E_TRUNCATED);
        assert_string_equal(eb.field, "device_evidence_list[0].evidence");
        assert_non_null(strstr(eb.msg, "gpu0: attestation report: "));
    }
    free(doc);
    free(hexrep);
    free(b64rep);
    free(chain);
    vouch_nvgpu_trust_free(t);
}

/* NVIDIA's PPCIe evidence: eight real H100s in one document. */
static void test_ppcie_eight_gpus(void **state)
{
    struct vouch_nvgpu_trust *t = trust_with(NULL, VOUCH_NVGPU_RIMS_OPTIONAL, NULL, NULL);
    struct vouch_nvgpu_evidence *ev = NULL;
    struct vouch_errbuf eb;
    json_t *claims = NULL;
    uint8_t nonce[32];
    size_t len, i;
    uint8_t *doc = nv_load(NV_VEC "nvtrust_ppcie_gpu_evidence.json", &len);

    (void)state;
    if (vouch_nvgpu_evidence_parse(doc, len, &ev, &eb))
        fail_msg("%s", eb.msg);
    assert_int_equal(ev->n, 8);
    vouch_hex_decode_exact("4760e30534a0621357d458b1a7936551b5dc4cd1e69718adf7ed9fb0252a537e",
                           64, nonce, 32, NULL);
    if (vouch_nvgpu_verify_evidence(t, ev, nonce, nv_time(T_NOW), &claims, NULL, &eb))
        fail_msg("%s", eb.msg);
    assert_int_equal(json_array_size(claims), 8);
    for (i = 0; i < 8; i++) {
        json_t *c = json_array_get(claims, i);

        assert_true(claim_true(c, SIG));
        assert_true(claim_true(c, FWID));
        assert_true(claim_true(c, NONCE));
        assert_string_equal(claim_str(c, "x-nvidia-gpu-mode"), "ppcie");
        assert_string_equal(claim_str(c, "x-nvidia-gpu-driver-rim-id"),
                            "NV_GPU_DRIVER_GH100_590.12");
    }
    json_decref(claims);
    vouch_nvgpu_evidence_free(ev);
    free(doc);
    vouch_nvgpu_trust_free(t);
}

/*
 * The other real Hopper evidence, as NVIDIA serializes it (a top-level
 * array) or with several GPUs: signature, chain and FWID pass.  Without
 * their RIMs the first GPU fails at its driver RIM, or, with RIMs
 * optional, every GPU passes and reports its RIMs missing.
 */
struct doc_case {
    const char *file, *nonce, *driver_rim_id;
    size_t n_gpus;
};

static const struct doc_case doc_cases[] = {
    { NV_VEC "nvat_evidence_hopper_590_12.json",
      "e97b23a1718095a0e9e35edca810768c70a6a5a389b705e753b197912bc11576",
      "NV_GPU_DRIVER_GH100_590.12", 1 },
    { NV_VEC "nvat_hopper_evidence.json",
      "e97b23a1718095a0e9e35edca810768c70a6a5a389b705e753b197912bc11576",
      "NV_GPU_DRIVER_GH100_590.12", 1 },
    /* NVIDIA expects its driver RIM's signer to be on hold, which only an
     * online OCSP check can see: offline its status is "unknown" */
    { NV_VEC "nvat_hopper_evidence_cert_hold.json", NONCE_931,
      "NV_GPU_DRIVER_GH100_570.86.10", 1 },
    { NV_VEC "nvtrust_ppcie_gpu_evidence.json",
      "4760e30534a0621357d458b1a7936551b5dc4cd1e69718adf7ed9fb0252a537e",
      "NV_GPU_DRIVER_GH100_590.12", 8 },
};

static void check_rims_missing(json_t *c, const char *driver_rim_id)
{
    static const char *const passed[] = { SIG, FWID, NONCE, ARCH,
                                          "x-nvidia-gpu-attestation-report-parsed" };
    json_t *chain = json_object_get(c, "x-nvidia-gpu-attestation-report-cert-chain");
    size_t k;

    for (k = 0; k < sizeof(passed) / sizeof(passed[0]); k++)
        if (!claim_true(c, passed[k]))
            fail_msg("%s: %s is not true", driver_rim_id, passed[k]);
    assert_string_equal(claim_str(chain, "x-nvidia-cert-status"), "valid");
    assert_string_equal(claim_str(chain, "x-nvidia-cert-ocsp-status"), "unknown");
    assert_string_equal(claim_str(c, "x-nvidia-gpu-driver-rim-id"), driver_rim_id);
    assert_true(json_is_false(json_object_get(c, DRV_FETCHED)));
    assert_true(json_is_false(json_object_get(c, VB_FETCHED)));
    assert_true(json_is_false(json_object_get(c, DRV_SIG)));
    assert_string_equal(claim_str(c, "measres"), "not-run");
    assert_true(json_is_null(json_object_get(c, "secboot")));
}

static void test_other_hopper_documents(void **state)
{
    size_t i, k;

    (void)state;
    for (i = 0; i < sizeof(doc_cases) / sizeof(doc_cases[0]); i++) {
        const struct doc_case *dc = &doc_cases[i];
        struct vouch_nvgpu_trust *t = trust_with(rims_v10, 0, NULL, NULL);
        struct vouch_nvgpu_evidence *ev = NULL;
        struct vouch_errbuf eb = { "" };
        json_t *claims = NULL, *err = NULL;
        uint8_t nonce[32];
        char want[160];
        size_t len;
        uint8_t *doc = nv_load(dc->file, &len);

        if (vouch_nvgpu_evidence_parse(doc, len, &ev, &eb))
            fail_msg("%s: %s", dc->file, eb.msg);
        assert_int_equal(ev->n, dc->n_gpus);
        assert_int_equal(vouch_hex_decode_exact(dc->nonce, 64, nonce, 32, NULL), VOUCH_OK);

        /* RIMs required: gpu0 fails at its driver RIM, after every device check passed */
        snprintf(want, sizeof(want), "gpu0: driver RIM: %s not found", dc->driver_rim_id);
        if (vouch_nvgpu_verify_evidence(t, ev, nonce, nv_time(T_NOW), &claims, &err, &eb) !=
            VOUCH_E_NOT_FOUND || strcmp(eb.msg, want) != 0)
            fail_msg("%s: got '%s', wanted '%s'", dc->file, eb.msg, want);
        assert_int_equal(json_array_size(err), 1);
        check_rims_missing(json_array_get(err, 0), dc->driver_rim_id);
        json_decref(err);

        /* RIMs optional: every GPU passes and says its RIMs are missing */
        vouch_nvgpu_trust_set_flags(t, VOUCH_NVGPU_RIMS_OPTIONAL);
        if (vouch_nvgpu_verify_evidence(t, ev, nonce, nv_time(T_NOW), &claims, NULL, &eb))
            fail_msg("%s: %s", dc->file, eb.msg);
        assert_int_equal(json_array_size(claims), dc->n_gpus);
        for (k = 0; k < dc->n_gpus; k++)
            check_rims_missing(json_array_get(claims, k), dc->driver_rim_id);
        json_decref(claims);

        /* and another nonce fails there, at the nonce */
        nonce[31] ^= 1;
        assert_int_equal(vouch_nvgpu_verify_evidence(t, ev, nonce, nv_time(T_NOW), &claims,
                                                     NULL, &eb), VOUCH_E_BINDING);
        assert_non_null(strstr(eb.msg, "gpu0: nonce: "));

        vouch_nvgpu_evidence_free(ev);
        vouch_nvgpu_trust_free(t);
        free(doc);
    }
}

/* tee=acstdxnvgpu: the GPUs' nonce is the TD's REPORT_DATA[0..32]. */
static void test_acstdxnvgpu(void **state)
{
    struct vouch_nvgpu_trust *t = trust_with(rims_v10, 0, NULL, NULL);
    char *rep = b64_of_file(NV_VEC "v1.0_attestationReport.txt", true);
    char *chain = b64_of_file(NV_VEC "v1.0_gpuAkCertChain.txt", false);
    size_t n = 2 * (strlen(rep) + strlen(chain)) + 1024;
    char *doc = malloc(n);
    uint8_t report_data[64];
    struct vouch_errbuf eb;
    json_t *gpu_evidence, *claims = NULL, *err = NULL;
    static const struct {
        const char *what, *gpu1_extra;
        bool gpu1_cert;
        vouch_err want;
        const char *msg;
    } variants[] = {
        { "two good GPUs", "\"cc_enabled\":true", true, VOUCH_OK, NULL },
        { "second GPU not in CC mode", "\"cc_enabled\":false", true, VOUCH_E_VERIFY,
          "gpu1: confidential computing: the GPU is not in confidential-computing mode" },
        { "second GPU without certificate", "\"cc_enabled\":true", false, VOUCH_E_INVALID,
          "gpu1: evidence: the GPU evidence lacks its certificate chain" },
        { "second GPU misreports its driver", "\"cc_enabled\":true,\"driver_version\":\"550.1\"",
          true, VOUCH_E_VERIFY, "gpu1: declared versions: declared driver_version 550.1" },
    };
    size_t i;

    (void)state;
    memset(report_data, 0x5a, sizeof(report_data));
    vouch_hex_decode_exact(NONCE_V10, 64, report_data, 32, NULL);
    for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        snprintf(doc, n, "{\"evidence_list\":[{\"index\":0,\"uuid\":\"GPU-a\",\"name\":\"NVIDIA "
                 "H100 80GB HBM3\",\"driver_version\":\"545.00\",\"vbios_version\":"
                 "\"96.00.5E.00.01\",\"attestation_report\":\"%s\",\"certificate\":\"%s\","
                 "\"cc_enabled\":true},{\"index\":1,\"uuid\":\"GPU-b\",\"name\":\"NVIDIA H100\","
                 "\"attestation_report\":\"%s\"%s%s%s,%s}],\"collection_time\":"
                 "\"2024-06-01T00:00:00Z\"}", rep, chain, rep,
                 variants[i].gpu1_cert ? ",\"certificate\":\"" : "",
                 variants[i].gpu1_cert ? chain : "", variants[i].gpu1_cert ? "\"" : "",
                 variants[i].gpu1_extra);
        assert_int_equal(vouch_json_parse(doc, strlen(doc), &gpu_evidence, &eb), VOUCH_OK);
        claims = err = NULL;
        if (vouch_nvgpu_verify_gpu_evidence(t, gpu_evidence, report_data, nv_time(T_2024),
                                            &claims, &err, &eb) != variants[i].want)
            fail_msg("%s: %s", variants[i].what, eb.msg);
        if (variants[i].want == VOUCH_OK) {
            assert_int_equal(json_array_size(claims), 2);
            assert_string_equal(claim_str(json_array_get(claims, 0), "name"),
                                "NVIDIA H100 80GB HBM3");
            assert_true(claim_true(json_array_get(claims, 1), NONCE));
            json_decref(claims);
        } else {
            assert_non_null(strstr(eb.msg, variants[i].msg));
            assert_int_equal(json_array_size(err), 2);   /* the failing GPU's claims last */
            assert_true(claim_true(json_array_get(err, 0), SIG));
            json_decref(err);
        }
        json_decref(gpu_evidence);
    }
    /* another TD's report data: both GPUs' nonces differ */
    report_data[5] ^= 0xff;
    snprintf(doc, n, "{\"evidence_list\":[{\"index\":0,\"attestation_report\":\"%s\","
             "\"certificate\":\"%s\",\"cc_enabled\":true}]}", rep, chain);
    assert_int_equal(vouch_json_parse(doc, strlen(doc), &gpu_evidence, &eb), VOUCH_OK);
    assert_int_equal(vouch_nvgpu_verify_gpu_evidence(t, gpu_evidence, report_data,
                                                     nv_time(T_2024), &claims, NULL, &eb),
                     VOUCH_E_BINDING);
    json_decref(gpu_evidence);
    /* malformed members are named from the TDX evidence document */
    snprintf(doc, n, "{\"evidence_list\":[{\"index\":0,\"attestation_report\":\"%s\","
             "\"certificate\":\"%s\"},{\"index\":1,\"attestation_report\":\"@@\"}]}", rep,
             chain);
    assert_int_equal(vouch_json_parse(doc, strlen(doc), &gpu_evidence, &eb), VOUCH_OK);
    assert_int_equal(vouch_nvgpu_verify_gpu_evidence(t, gpu_evidence, report_data,
                                                     nv_time(T_2024), &claims, NULL, &eb),
                     VOUCH_E_INVALID);
    assert_string_equal(eb.field, "gpu_evidence.evidence_list[1].attestation_report");
    json_decref(gpu_evidence);
    free(doc);
    free(rep);
    free(chain);
    vouch_nvgpu_trust_free(t);
}

static void test_bad_documents(void **state)
{
    static const struct {
        const char *doc;
        vouch_err want;
        const char *msg, *field;
    } docs[] = {
        { "[", VOUCH_E_INVALID, "invalid JSON", "" },
        { "{}", VOUCH_E_INVALID, "'device_evidence_list' is required", "device_evidence_list" },
        { "{\"device_evidence_list\":{}}", VOUCH_E_INVALID, "not an array",
          "device_evidence_list" },
        { "{\"device_evidence_list\":[]}", VOUCH_E_INVALID, "empty", "device_evidence_list" },
        { "{\"device_evidence_list\":[1]}", VOUCH_E_INVALID,
          "device_evidence_list[0] is not an object", "device_evidence_list[0]" },
        { "[1]", VOUCH_E_INVALID, "[0] is not an object", "[0]" },
        { "{\"device_evidence_list\":[{\"evidence\":\"00\",\"certificate\":\"\"}]}",
          VOUCH_E_INVALID, "arch", "device_evidence_list[0].arch" },
        { "{\"device_evidence_list\":[{\"arch\":\"LS10\",\"evidence\":\"00\","
          "\"certificate\":\"\"}]}", VOUCH_E_UNSUPPORTED, "not a GPU",
          "device_evidence_list[0].arch" },
        { "{\"device_evidence_list\":[{\"arch\":\"HOPPER\",\"evidence\":\"*\","
          "\"certificate\":\"\"}]}", VOUCH_E_INVALID, "neither hex nor base64",
          "device_evidence_list[0].evidence" },
        { "{\"device_evidence_list\":[{\"arch\":\"HOPPER\",\"evidence\":\"00\","
          "\"certificate\":\"aGVsbG8=\"}]}", VOUCH_E_INVALID, "not a PEM",
          "device_evidence_list[0].certificate" },
        { "{\"device_evidence_list\":[{\"arch\":\"HOPPER\",\"evidence\":\"00\","
          "\"certificate\":\"%%%\"}]}", VOUCH_E_INVALID, "not base64",
          "device_evidence_list[0].certificate" },
        { "{\"device_evidence_list\":[{\"arch\":\"HOPPER\",\"evidence\":\"00\","
          "\"certificate\":\"aGVsbG8=\",\"uuid\":1}]}", VOUCH_E_INVALID, "uuid",
          "device_evidence_list[0].uuid" },
        { "{\"device_evidence_list\":[{\"arch\":\"HOPPER\",\"certificate\":\"\"}]}",
          VOUCH_E_INVALID, "evidence", "device_evidence_list[0].evidence" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        struct vouch_nvgpu_evidence *ev = NULL;
        struct vouch_errbuf eb = { "", "" };
        vouch_err e = vouch_nvgpu_evidence_parse((const uint8_t *)docs[i].doc,
                                                 strlen(docs[i].doc), &ev, &eb);

        if (e != docs[i].want || !strstr(eb.msg, docs[i].msg) ||
            strcmp(eb.field, docs[i].field) != 0)
            fail_msg("%s: got %s '%s' at '%s'", docs[i].doc, vouch_err_name(e), eb.msg,
                     eb.field);
        assert_null(ev);
    }
}

/* ------------------------------------------------------------------ */
/* Blackwell, synthetically: a GB100-named leaf with a DiceTcbInfo FWID */

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                       bool ca, const char *fwid_oid, const uint8_t fwid[48])
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509V3_CTX v3;
    X509_EXTENSION *ext;

    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 0x1234567);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    ASN1_TIME_set_string(X509_getm_notBefore(x), "20200101000000Z");
    ASN1_TIME_set_string(X509_getm_notAfter(x), "99991231235959Z");
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
                              ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    if (fwid_oid) {
        /* DiceTcbInfo { vendor [0] "NVIDIA", fwids [6] { { sha384, fwid } } } */
        uint8_t der[75] = { 0x30, 0x49, 0x80, 0x06, 'N', 'V', 'I', 'D', 'I', 'A', 0xa6, 0x3f,
                            0x30, 0x3d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
                            0x02, 0x02, 0x04, 0x30 };
        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        ASN1_OBJECT *oid = OBJ_txt2obj(fwid_oid, 1);

        memcpy(der + 27, fwid, 48);
        ASN1_OCTET_STRING_set(os, der, sizeof(der));
        ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, os);
        assert_non_null(ext);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        ASN1_OBJECT_free(oid);
        ASN1_OCTET_STRING_free(os);
    }
    assert_true(X509_sign(x, issuer_key, EVP_sha384()) > 0);
    X509_NAME_free(name);
    return x;
}

static char *pem_of(X509 *a, X509 *b)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p, *out;
    long n;

    PEM_write_bio_X509(bio, a);
    PEM_write_bio_X509(bio, b);
    n = BIO_get_mem_data(bio, &p);
    out = malloc((size_t)n + 1);
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
    BIO_free(bio);
    return out;
}

static void test_blackwell_synthetic(void **state)
{
    EVP_PKEY *root_key = EVP_EC_gen("P-384"), *leaf_key = EVP_EC_gen("P-384");
    uint8_t fwid[48], sig_der_buf[128], *sig_der = sig_der_buf, nonce[32];
    struct vouch_nvgpu_device dev;
    struct vouch_nvgpu_report r;
    struct vouch_nvgpu_trust *t;
    struct vouch_errbuf eb;
    X509 *root, *leaf, *leaf2;
    const struct vouch_nvgpu_opaque *f;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t siglen = sizeof(sig_der_buf);
    char *roots_pem, *p;
    json_t *c;
    uint8_t got[48];

    (void)state;
    assert_non_null(root_key);
    assert_non_null(leaf_key);
    memset(fwid, 0xb1, sizeof(fwid));
    root = make_cert("Test GPU Root", root_key, NULL, root_key, true, NULL, NULL);
    leaf = make_cert("GB100 A01 GSP FMC LF", leaf_key, root, root_key, false,
                     "2.23.133.5.4.1.1", fwid);
    assert_int_equal(vouch_nvgpu_cert_arch(leaf), VOUCH_NVGPU_BLACKWELL);
    assert_int_equal(vouch_nvgpu_leaf_fwid(leaf, VOUCH_NVGPU_BLACKWELL, got, &eb), VOUCH_OK);
    assert_memory_equal(got, fwid, 48);
    assert_int_equal(vouch_nvgpu_leaf_fwid(leaf, VOUCH_NVGPU_HOPPER, got, &eb),
                     VOUCH_E_NOT_FOUND);

    /* nvtrust's 550.90.07 report with this FWID, re-signed with the test leaf key */
    memset(&dev, 0, sizeof(dev));
    dev.arch = VOUCH_NVGPU_BLACKWELL;
    dev.cc_enabled = true;
    dev.report = nv_load_hex(NV_VEC "nvtrust_hopperAttestationReport.txt", &dev.report_len);
    assert_int_equal(vouch_nvgpu_report_parse(dev.report, dev.report_len, &r, NULL), VOUCH_OK);
    f = vouch_nvgpu_report_opaque(&r, VOUCH_NVGPU_OPAQUE_FWID);
    memcpy((uint8_t *)f->data, fwid, 48);
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, leaf_key), 1);
    assert_int_equal(EVP_DigestSign(md, sig_der, &siglen, dev.report, r.signed_len), 1);
    assert_int_equal(vouch_ecdsa_der_to_raw(sig_der, siglen, 48, dev.report + r.signed_len),
                     VOUCH_OK);
    dev.chain = pem_of(leaf, root);
    dev.chain_len = strlen(dev.chain);

    t = trust_with(NULL, VOUCH_NVGPU_RIMS_OPTIONAL, NULL, NULL);
    roots_pem = pem_of(root, root);
    p = strstr(roots_pem + 1, "-----BEGIN");
    *p = '\0';
    assert_int_equal(vouch_nvgpu_trust_set_device_roots(t, roots_pem, strlen(roots_pem), &eb),
                     VOUCH_OK);
    vouch_hex_decode_exact(NONCE_931, 64, nonce, 32, NULL);
    c = json_object();
    if (vouch_nvgpu_verify_device(t, &dev, nonce, nv_time(T_NOW), c, &eb))
        fail_msg("%s", eb.msg);
    assert_true(claim_true(c, SIG));
    assert_true(claim_true(c, FWID));
    assert_true(claim_true(c, ARCH));
    assert_string_equal(claim_str(c, "x-nvidia-gpu-driver-rim-id"),
                        "NV_GPU_CC_DRIVER_GB100_550.90.07");
    assert_string_equal(claim_str(c, "hwmodel"), "Test GPU Root");
    assert_string_equal(claim_str(c, "ueid"), "19088743");
    json_decref(c);

    /* the same leaf with the FWID under Hopper's OID: Blackwell's is missing */
    leaf2 = make_cert("GB100 A01 GSP FMC LF", leaf_key, root, root_key, false, "2.23.133.5.4.1",
                      fwid);
    free(dev.chain);
    dev.chain = pem_of(leaf2, root);
    dev.chain_len = strlen(dev.chain);
    c = json_object();
    assert_int_equal(vouch_nvgpu_verify_device(t, &dev, nonce, nv_time(T_NOW), c, &eb),
                     VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "FWID: the attestation certificate carries no FWID"));
    assert_true(claim_true(c, SIG));
    assert_false(claim_true(c, FWID));
    json_decref(c);

    free(roots_pem);
    free(dev.chain);
    free(dev.report);
    vouch_nvgpu_trust_free(t);
    X509_free(root);
    X509_free(leaf);
    X509_free(leaf2);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(leaf_key);
    EVP_MD_CTX_free(md);
}

/* The directory-backed RIM source over the vectors' RIM folders. */
static void test_rimdir(void **state)
{
    struct vouch_nvgpu_rimdir *d = NULL;
    struct vouch_nvgpu_rim_source src;
    struct vouch_nvgpu_trust *t;
    struct vouch_nvgpu_device dev;
    struct vouch_errbuf eb;
    uint8_t *doc = NULL, nonce[32];
    size_t skipped = 99, len = 0, i;
    json_t *c;
    static const char *const ids[] = {
        "NV_GPU_VBIOS_1010_0200_882_96005E0001", "NV_GPU_VBIOS_1010_0200_882_960074001A",
        "NV_GPU_VBIOS_1010_0205_862_9600740020", "NV_GPU_DRIVER_GH100_545.00",
        "NV_GPU_DRIVER_GH100_550.144.03",
    };

    (void)state;
    if (vouch_nvgpu_rimdir_open(VOUCH_SOURCE_ROOT "/" NV_VEC "rims", &d, &skipped, &eb))
        fail_msg("%s", eb.msg);
    assert_int_equal(skipped, 0);
    assert_int_equal(vouch_nvgpu_rimdir_count(d), 5);
    for (i = 0; i < 5; i++)
        assert_string_equal(vouch_nvgpu_rimdir_id(d, i), ids[i]);
    assert_null(vouch_nvgpu_rimdir_id(d, 5));
    src = vouch_nvgpu_rimdir_source(d);
    assert_int_equal(src.get(src.ctx, "nv_gpu_driver_gh100_545.00", &doc, &len, &eb), VOUCH_OK);
    assert_true(len > 10000);
    free(doc);
    assert_int_equal(src.get(src.ctx, "NV_GPU_DRIVER_GH100_1.0", &doc, &len, &eb),
                     VOUCH_E_NOT_FOUND);

    /* the v1.0 report end to end, RIMs from the directory */
    t = trust_with(NULL, 0, NULL, NULL);
    vouch_nvgpu_trust_set_rim_source(t, &src);
    device_from_files(&dev, NV_VEC "v1.0_attestationReport.txt", NV_VEC "v1.0_gpuAkCertChain.txt",
                      VOUCH_NVGPU_HOPPER);
    vouch_hex_decode_exact(NONCE_V10, 64, nonce, 32, NULL);
    c = json_object();
    if (vouch_nvgpu_verify_device(t, &dev, nonce, nv_time(T_2024), c, &eb))
        fail_msg("%s", eb.msg);
    assert_string_equal(claim_str(c, "measres"), "success");
    json_decref(c);
    device_free(&dev);
    vouch_nvgpu_trust_free(t);
    vouch_nvgpu_rimdir_free(d);

    /* two files claim the same VBIOS id; the others are indexed */
    if (vouch_nvgpu_rimdir_open(VOUCH_SOURCE_ROOT "/" NV_VEC "rims-bad", &d, &skipped, &eb))
        fail_msg("%s", eb.msg);
    src = vouch_nvgpu_rimdir_source(d);
    assert_int_equal(src.get(src.ctx, "NV_GPU_VBIOS_1010_0200_882_96005E0001", &doc, &len, &eb),
                     VOUCH_E_CONFLICT);
    assert_int_equal(src.get(src.ctx, "NV_GPU_DRIVER_GH100_570.124.03", &doc, &len, &eb),
                     VOUCH_OK);
    free(doc);
    vouch_nvgpu_rimdir_free(d);
    vouch_nvgpu_rimdir_free(NULL);

    /* not a directory */
    assert_int_equal(vouch_nvgpu_rimdir_open(VOUCH_SOURCE_ROOT "/" NV_VEC "no-such-dir", &d,
                                             NULL, &eb), VOUCH_E_IO);
}

static void test_nonce_from_report_data(void **state)
{
    uint8_t out[32], in[64];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i + 1);
    vouch_nvgpu_nonce_from_report_data(in, 64, out);
    assert_memory_equal(out, in, 32);
    vouch_nvgpu_nonce_from_report_data(in, 5, out);
    assert_memory_equal(out, in, 5);
    for (i = 5; i < 32; i++)
        assert_int_equal(out[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_claims_shape),
        cmocka_unit_test(test_mismatch_records),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_root_pins),
        cmocka_unit_test(test_nvgpu_document),
        cmocka_unit_test(test_ppcie_eight_gpus),
        cmocka_unit_test(test_other_hopper_documents),
        cmocka_unit_test(test_acstdxnvgpu),
        cmocka_unit_test(test_bad_documents),
        cmocka_unit_test(test_blackwell_synthetic),
        cmocka_unit_test(test_nonce_from_report_data),
        cmocka_unit_test(test_rimdir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
