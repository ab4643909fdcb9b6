/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/pem.h>

#include "common/codec.h"
#include "common/json.h"
#include "crypto/x509.h"
#include "evidence/nvgpu/rim.h"
#include "nvgpu_util.h"

#define RIM_ROOT NV_VEC "verifier_RIM_root.pem"
#define WRONG_ROOT NV_VEC "incorrect_rim_root.crt"
#define DRIVER_545 NV_VEC "rims/Driver_RIM_test_no_gpu.swidtag"
#define VBIOS_5E01 NV_VEC "rims/1010_0200_882_96005E0001_test_no_gpu.swidtag"

static STACK_OF(X509) *roots_from(const char *path)
{
    STACK_OF(X509) *sk = NULL;
    struct vouch_errbuf eb;
    size_t len;
    uint8_t *pem = nv_load(path, &len);

    if (vouch_x509_parse_pem_chain((const char *)pem, len, 4, &sk, &eb))
        fail_msg("%s: %s", path, eb.msg);
    free(pem);
    return sk;
}

static struct vouch_nvgpu_rim *rim_from(const char *path)
{
    struct vouch_nvgpu_rim *rim = NULL;
    struct vouch_errbuf eb;
    size_t len;
    uint8_t *doc = nv_load(path, &len);

    if (vouch_nvgpu_rim_parse(doc, len, &rim, &eb))
        fail_msg("%s: %s", path, eb.msg);
    free(doc);
    return rim;
}

struct rim_case {
    const char *file, *root, *at;
    enum vouch_nvgpu_rim_kind kind;
    const char *version;
    unsigned n_active;
    vouch_err verify;          /* vouch_nvgpu_rim_verify() */
    const char *verify_msg;
    vouch_err time;            /* vouch_nvgpu_rim_check_time() at `at` */
};

static const struct rim_case rim_cases[] = {
    /* nvtrust's sample RIMs: valid on 2024-06-01, their signer expired 2025-06-2x */
    { DRIVER_545, RIM_ROOT, "2024-06-01T00:00:00Z", VOUCH_NVGPU_RIM_DRIVER, "545.00", 21,
      VOUCH_OK, NULL, VOUCH_OK },
    { DRIVER_545, RIM_ROOT, "2025-07-01T00:00:00Z", VOUCH_NVGPU_RIM_DRIVER, "545.00", 21,
      VOUCH_OK, NULL, VOUCH_E_EXPIRED },
    { VBIOS_5E01, RIM_ROOT, "2024-06-01T00:00:00Z", VOUCH_NVGPU_RIM_VBIOS, "96.00.5E.00.01",
      12, VOUCH_OK, NULL, VOUCH_OK },
    { NV_VEC "rims/NV_GPU_DRIVER_GH100_550.144.03.xml", RIM_ROOT, "2025-10-01T00:00:00Z",
      VOUCH_NVGPU_RIM_DRIVER, "550.144.03", 21, VOUCH_OK, NULL, VOUCH_OK },
    { NV_VEC "rims-bad/1010_0200_882_96005E0001_PROD.swidtag", RIM_ROOT, "2024-06-01T00:00:00Z",
      VOUCH_NVGPU_RIM_VBIOS, "96.00.5E.00.01", 12, VOUCH_OK, NULL, VOUCH_OK },
    /* a RIM under a root that is not NVIDIA's */
    { DRIVER_545, WRONG_ROOT, "2024-06-01T00:00:00Z", VOUCH_NVGPU_RIM_DRIVER, "545.00", 21,
      VOUCH_E_VERIFY, "certificate chain: ", VOUCH_OK },
    /* NVIDIA's negative samples */
    { NV_VEC "rims-bad/incorrect_signature_driver_rim.xml", RIM_ROOT, "2025-10-01T00:00:00Z",
      VOUCH_NVGPU_RIM_DRIVER, "550.144.03", 21, VOUCH_E_VERIFY, "signature: invalid",
      VOUCH_OK },
    { NV_VEC "rims-bad/incorrect_cert_chain_driver_rim.xml", RIM_ROOT, "2025-10-01T00:00:00Z",
      VOUCH_NVGPU_RIM_VBIOS, "97.00.83.00.09", 0, VOUCH_E_VERIFY, "certificate chain: ",
      VOUCH_OK },
    /* (its signature is broken too, as xmlsec1 confirms: the expiry is reported first) */
    { NV_VEC "rims-bad/NV_GPU_DRIVER_GH100_570.124.03_expired.xml", RIM_ROOT,
      "2025-06-01T00:00:00Z", VOUCH_NVGPU_RIM_DRIVER, "570.124.03", 0, VOUCH_E_VERIFY,
      "signature: invalid", VOUCH_E_EXPIRED },
    { NV_VEC "rims-bad/NV_GPU_DRIVER_GH100_535.86.09_measurement_mismatch.xml", RIM_ROOT,
      "2025-10-01T00:00:00Z", VOUCH_NVGPU_RIM_DRIVER, "535.86.09", 0, VOUCH_E_VERIFY,
      "signature: invalid", VOUCH_OK },
    { NV_VEC "rims-bad/NV_GPU_VBIOS_1010_0200_882_96005E0001_measurement_mismatch.xml", RIM_ROOT,
      "2024-06-01T00:00:00Z", VOUCH_NVGPU_RIM_VBIOS, "96.00.5E.00.01", 12, VOUCH_OK, NULL,
      VOUCH_OK },
};

static void test_parse_verify_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rim_cases) / sizeof(rim_cases[0]); i++) {
        const struct rim_case *c = &rim_cases[i];
        STACK_OF(X509) *roots = roots_from(c->root);
        struct vouch_nvgpu_rim *rim = NULL;
        struct vouch_errbuf eb = { "" };
        unsigned k, active = 0;
        size_t len;
        uint8_t *doc = nv_load(c->file, &len);
        vouch_err e;

        if (vouch_nvgpu_rim_parse(doc, len, &rim, &eb))
            fail_msg("%s: parse: %s", c->file, eb.msg);
        assert_int_equal(rim->kind, c->kind);
        assert_string_equal(rim->version, c->version);
        for (k = 0; k < rim->n_golden; k++)
            active += rim->golden[k].active;
        if (c->n_active)
            assert_int_equal(active, c->n_active);
        assert_false(rim->signature_verified);
        e = vouch_nvgpu_rim_verify(rim, doc, len, roots, &eb);
        if (e != c->verify || (c->verify_msg && !strstr(eb.msg, c->verify_msg)))
            fail_msg("%s: verify: got %s '%s'", c->file, vouch_err_name(e), eb.msg);
        assert_int_equal(rim->signature_verified, e == VOUCH_OK);
        if (rim->chain) {
            assert_int_equal(sk_X509_num(rim->chain), 4);
            e = vouch_nvgpu_rim_check_time(rim, nv_time(c->at), &eb);
            if (e != c->time)
                fail_msg("%s: at %s: got %s '%s'", c->file, c->at, vouch_err_name(e), eb.msg);
            if (e)
                assert_non_null(strstr(eb.msg, "expired at"));
        }
        vouch_nvgpu_rim_unref(rim);
        sk_X509_pop_free(roots, X509_free);
        free(doc);
    }
}

/* One hash changed by one digit: the document no longer verifies. */
static void test_tampered_hash(void **state)
{
    STACK_OF(X509) *roots = roots_from(RIM_ROOT);
    struct vouch_nvgpu_rim *rim = NULL;
    struct vouch_errbuf eb;
    size_t len;
    uint8_t *doc = nv_load(DRIVER_545, &len);
    char *p;

    (void)state;
    p = strstr((char *)doc, "index=\"7\" active=\"True\"");
    assert_non_null(p);
    p = strstr(p, "Hash0=\"");
    assert_non_null(p);
    p[7] = p[7] == '0' ? '1' : '0';
    assert_int_equal(vouch_nvgpu_rim_parse(doc, len, &rim, &eb), VOUCH_OK);
    assert_int_equal(vouch_nvgpu_rim_verify(rim, doc, len, roots, &eb), VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "signature"));
    /* and verifying other bytes than those parsed is refused */
    doc[len - 2] = ' ';
    assert_int_equal(vouch_nvgpu_rim_verify(rim, doc, len, roots, &eb), VOUCH_E_INVALID);
    vouch_nvgpu_rim_unref(rim);
    sk_X509_pop_free(roots, X509_free);
    free(doc);
}

struct bad_doc {
    const char *what;
    const char *xml;
    const char *msg;
};

static const struct bad_doc bad_docs[] = {
    { "not XML", "hello", "not well-formed" },
    { "DTD", "<!DOCTYPE x [<!ENTITY a \"b\">]><SoftwareIdentity xmlns=\"http://standards.iso.org/"
      "iso/19770/-2/2015/schema.xsd\"/>", "DTD" },
    { "wrong root", "<Foo/>", "SoftwareIdentity" },
    { "no meta", "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/"
      "schema.xsd\"><Payload/></SoftwareIdentity>", "lacks its Meta" },
    { "no signature", "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/"
      "schema.xsd\"><Meta colloquialVersion=\"1.0\"/><Payload/></SoftwareIdentity>",
      "lacks its Signature" },
    { "bad version", "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/"
      "schema.xsd\"><Meta colloquialVersion=\"x y\"/><Payload/><ds:Signature xmlns:ds=\"http://"
      "www.w3.org/2000/09/xmldsig#\"/></SoftwareIdentity>", "neither a driver" },
    { "switch RIM", "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/"
      "schema.xsd\"><Meta colloquialVersion=\"96.10.55.00.01\" edition=\"SWITCH\"/><Payload/>"
      "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/></SoftwareIdentity>",
      "not a GPU" },
    { "no measurements", "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/"
      "schema.xsd\"><Meta colloquialVersion=\"1.0\"/><Payload/><ds:Signature xmlns:ds=\"http://"
      "www.w3.org/2000/09/xmldsig#\"/></SoftwareIdentity>", "no measurements" },
    { "short hash", "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/"
      "schema.xsd\" xmlns:h=\"http://www.w3.org/2001/04/xmlenc#sha384\"><Meta colloquialVersion="
      "\"1.0\"/><Payload><Resource type=\"Measurement\" index=\"1\" active=\"True\" "
      "alternatives=\"1\" size=\"2\" h:Hash0=\"00\"/></Payload><ds:Signature xmlns:ds=\"http://"
      "www.w3.org/2000/09/xmldsig#\"/></SoftwareIdentity>", "Hash0 is not 2 bytes" },
    { "missing alternative", "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/"
      "2015/schema.xsd\" xmlns:h=\"http://www.w3.org/2001/04/xmlenc#sha384\"><Meta "
      "colloquialVersion=\"1.0\"/><Payload><Resource type=\"Measurement\" index=\"1\" active="
      "\"True\" alternatives=\"2\" size=\"1\" h:Hash0=\"00\"/></Payload><ds:Signature xmlns:ds="
      "\"http://www.w3.org/2000/09/xmldsig#\"/></SoftwareIdentity>", "Hash1 missing" },
    { "index repeated", "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/"
      "schema.xsd\" xmlns:h=\"http://www.w3.org/2001/04/xmlenc#sha384\"><Meta colloquialVersion="
      "\"1.0\"/><Payload><Resource type=\"Measurement\" index=\"1\" active=\"True\" "
      "alternatives=\"1\" size=\"1\" h:Hash0=\"00\"/><Resource type=\"Measurement\" index=\"1\" "
      "active=\"False\" alternatives=\"1\" size=\"1\" h:Hash0=\"00\"/></Payload><ds:Signature "
      "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/></SoftwareIdentity>", "repeated" },
    { "index out of range", "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/"
      "2015/schema.xsd\" xmlns:h=\"http://www.w3.org/2001/04/xmlenc#sha384\"><Meta "
      "colloquialVersion=\"1.0\"/><Payload><Resource type=\"Measurement\" index=\"255\" active="
      "\"True\" alternatives=\"1\" size=\"1\" h:Hash0=\"00\"/></Payload><ds:Signature xmlns:ds="
      "\"http://www.w3.org/2000/09/xmldsig#\"/></SoftwareIdentity>", "outside 0..254" },
};

static void test_bad_documents(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++) {
        struct vouch_nvgpu_rim *rim = NULL;
        struct vouch_errbuf eb = { "" };
        vouch_err e = vouch_nvgpu_rim_parse((const uint8_t *)bad_docs[i].xml,
                                            strlen(bad_docs[i].xml), &rim, &eb);

        if (e == VOUCH_OK || !strstr(eb.msg, bad_docs[i].msg))
            fail_msg("%s: got %s '%s'", bad_docs[i].what, vouch_err_name(e), eb.msg);
        assert_null(rim);
    }
}

/* Prefixes of a real RIM never parse and never crash. */
static void test_prefixes(void **state)
{
    size_t len, n;
    uint8_t *doc = nv_load(VBIOS_5E01, &len);

    (void)state;
    for (n = 0; n < len; n += 211) {
        struct vouch_nvgpu_rim *rim = NULL;

        assert_int_not_equal(vouch_nvgpu_rim_parse(doc, n, &rim, NULL), VOUCH_OK);
        assert_null(rim);
    }
    free(doc);
}

struct id_case {
    const char *file, *hint;
    vouch_err want;
    const char *id;
};

static const struct id_case id_cases[] = {
    { DRIVER_545, NULL, VOUCH_OK, "NV_GPU_DRIVER_GH100_545.00" },
    { DRIVER_545, "Driver_RIM_test_no_gpu.swidtag", VOUCH_OK, "NV_GPU_DRIVER_GH100_545.00" },
    { DRIVER_545, "/x/NV_GPU_DRIVER_GH100_545.00.xml", VOUCH_OK, "NV_GPU_DRIVER_GH100_545.00" },
    { DRIVER_545, "NV_GPU_DRIVER_GH100_545.00_extra", VOUCH_OK, "NV_GPU_DRIVER_GH100_545.00" },
    { DRIVER_545, "NV_GPU_DRIVER_GH100_550.90.07", VOUCH_E_CONFLICT, NULL },
    { DRIVER_545, "NV_GPU_DRIVER_GH100_545.001", VOUCH_E_CONFLICT, NULL },
    { VBIOS_5E01, "1010_0200_882_96005E0001_test_no_gpu.swidtag", VOUCH_OK,
      "NV_GPU_VBIOS_1010_0200_882_96005E0001" },
    { VBIOS_5E01, "NV_GPU_VBIOS_1010_0200_882_96005E0001", VOUCH_OK,
      "NV_GPU_VBIOS_1010_0200_882_96005E0001" },
    { VBIOS_5E01, "nv_gpu_vbios_1010_0200_882_96005e0001.xml", VOUCH_OK,
      "NV_GPU_VBIOS_1010_0200_882_96005E0001" },
    { VBIOS_5E01, NULL, VOUCH_E_INVALID, NULL },
    { VBIOS_5E01, "1010_0200_882_96005E0002.swidtag", VOUCH_E_CONFLICT, NULL },
    { VBIOS_5E01, "1010_0200_96005E0001", VOUCH_E_INVALID, NULL },
    { VBIOS_5E01, "10-10_0200_882_96005E0001", VOUCH_E_INVALID, NULL },
    { VBIOS_5E01, "NV_GPU_DRIVER_GH100_545.00", VOUCH_E_CONFLICT, NULL },
};

static void test_rim_ids(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(id_cases) / sizeof(id_cases[0]); i++) {
        const struct id_case *c = &id_cases[i];
        struct vouch_nvgpu_rim *rim = rim_from(c->file);
        char id[VOUCH_NVGPU_RIM_ID_MAX] = "";
        struct vouch_errbuf eb = { "" };
        vouch_err e = vouch_nvgpu_rim_id(rim, c->hint, id, &eb);

        if (e != c->want)
            fail_msg("case %zu (%s): got %s '%s'", i, c->hint ? c->hint : "-",
                     vouch_err_name(e), eb.msg);
        if (c->id)
            assert_string_equal(id, c->id);
        vouch_nvgpu_rim_unref(rim);
    }
}

static void test_report_rim_ids(void **state)
{
    static const struct {
        const char *file;
        enum vouch_nvgpu_arch arch;
        const char *driver, *vbios;
    } cases[] = {
        { NV_VEC "v1.0_attestationReport.txt", VOUCH_NVGPU_HOPPER, "NV_GPU_DRIVER_GH100_545.00",
          "NV_GPU_VBIOS_1010_0200_882_96005E0001" },
        { NV_VEC "nvtrust_hopperAttestationReport.txt", VOUCH_NVGPU_HOPPER,
          "NV_GPU_DRIVER_GH100_550.90.07", "NV_GPU_VBIOS_1010_0200_882_96009F0001" },
        { NV_VEC "nvat_sample_hopperAttestationReportInvalidSignature.txt", VOUCH_NVGPU_BLACKWELL,
          "NV_GPU_CC_DRIVER_GB100_560.00", "NV_GPU_VBIOS_G520_0200_885_9600A50001" },
        { NV_VEC "v1.0_attestationReport.txt", VOUCH_NVGPU_ARCH_UNKNOWN, NULL,
          "NV_GPU_VBIOS_1010_0200_882_96005E0001" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_nvgpu_report *r = calloc(1, sizeof(*r));
        char id[VOUCH_NVGPU_RIM_ID_MAX];
        size_t len;
        uint8_t *data = nv_load_hex(cases[i].file, &len);
        vouch_err e;

        assert_non_null(r);
        assert_int_equal(vouch_nvgpu_report_parse(data, len, r, NULL), VOUCH_OK);
        e = vouch_nvgpu_driver_rim_id(r, cases[i].arch, id, NULL);
        if (cases[i].driver) {
            assert_int_equal(e, VOUCH_OK);
            assert_string_equal(id, cases[i].driver);
        } else {
            assert_int_equal(e, VOUCH_E_UNSUPPORTED);
        }
        assert_int_equal(vouch_nvgpu_vbios_rim_id(r, id, NULL), VOUCH_OK);
        assert_string_equal(id, cases[i].vbios);
        free(r);
        free(data);
    }
}

/* A RIM service JSON envelope, and plain XML, through the import check. */
static void test_check_file(void **state)
{
    STACK_OF(X509) *roots = roots_from(RIM_ROOT);
    char id[VOUCH_NVGPU_RIM_ID_MAX];
    struct vouch_errbuf eb;
    uint8_t *xml = NULL;
    size_t len, xlen;
    uint8_t *doc = nv_load(DRIVER_545, &len);
    char *b64 = vouch_b64_alloc(doc, len, VOUCH_B64_STD), *env;
    int64_t t = nv_time("2024-06-01T00:00:00Z");

    (void)state;
    assert_int_equal(vouch_nvgpu_rim_check_file(doc, len, "Driver_RIM_test_no_gpu.swidtag", roots,
                                                t, id, &xml, &xlen, &eb), VOUCH_OK);
    assert_string_equal(id, "NV_GPU_DRIVER_GH100_545.00");
    assert_int_equal(xlen, len);
    assert_memory_equal(xml, doc, len);
    free(xml);
    assert_int_equal(vouch_nvgpu_rim_check_file(doc, len, NULL, roots,
                                                nv_time("2026-01-01T00:00:00Z"), id, NULL,
                                                NULL, &eb), VOUCH_E_EXPIRED);

    free(doc);
    doc = nv_load(NV_VEC "rims-bad/NV_GPU_DRIVER_GH100_570.124.03_expired.xml", &xlen);
    assert_int_equal(vouch_nvgpu_rim_check_file(doc, xlen, NULL, roots,
                                                nv_time("2025-06-01T00:00:00Z"), id, NULL,
                                                NULL, &eb), VOUCH_E_EXPIRED);
    assert_non_null(strstr(eb.msg, "RIM L4 Signer"));
    free(doc);
    doc = nv_load(NV_VEC "rims-bad/incorrect_signature_driver_rim.xml", &xlen);
    assert_int_equal(vouch_nvgpu_rim_check_file(doc, xlen, NULL, roots,
                                                nv_time("2025-06-01T00:00:00Z"), id, NULL,
                                                NULL, &eb), VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "signature"));

    env = malloc(strlen(b64) + 128);
    assert_non_null(env);
    sprintf(env, "{\"id\":\"NV_GPU_DRIVER_GH100_545.00\",\"rim\":\"%s\",\"sha256\":\"x\"}", b64);
    xml = NULL;
    assert_int_equal(vouch_nvgpu_rim_check_file((uint8_t *)env, strlen(env), "x.json", roots, t,
                                                id, &xml, &xlen, &eb), VOUCH_OK);
    assert_string_equal(id, "NV_GPU_DRIVER_GH100_545.00");
    assert_int_equal(xlen, len);
    free(xml);
    sprintf(env, "{\"id\":\"NV_GPU_DRIVER_GH100_999\",\"rim\":\"%s\"}", b64);
    assert_int_equal(vouch_nvgpu_rim_check_file((uint8_t *)env, strlen(env), NULL, roots, t, id,
                                                NULL, NULL, &eb), VOUCH_E_CONFLICT);
    sprintf(env, "{\"id\":\"NV_GPU_DRIVER_GH100_545.00\"}");
    assert_int_equal(vouch_nvgpu_rim_check_file((uint8_t *)env, strlen(env), NULL, roots, t, id,
                                                NULL, NULL, &eb), VOUCH_E_INVALID);
    free(env);
    free(b64);
    free(doc);
    sk_X509_pop_free(roots, X509_free);
}

struct cmp_case {
    const char *report, *driver, *vbios;
    vouch_err want;
    const char *vbios_mismatches;  /* RIM indices the VBIOS RIM disagrees on */
};

static const struct cmp_case cmp_cases[] = {
    /* nvtrust v1.0: every measurement matches nvtrust's test RIMs */
    { NV_VEC "v1.0_attestationReport.txt", DRIVER_545, VBIOS_5E01, VOUCH_OK, "" },
    /* ... but not the production VBIOS RIM of the same version */
    { NV_VEC "v1.0_attestationReport.txt", DRIVER_545,
      NV_VEC "rims-bad/1010_0200_882_96005E0001_PROD.swidtag", VOUCH_E_VERIFY, "1,2,3,9" },
    /* NVAT's 580.159.03 and trustee's CoCo report vs their production VBIOS RIMs (nvtrust#90) */
    { NV_VEC "nvat_hopperAttestationReport.txt", DRIVER_545,
      NV_VEC "rims/1010_0205_862_9600740020_PROD.swidtag", VOUCH_E_VERIFY, "9" },
    { NV_VEC "trustee_hopper_coco_report1.txt", DRIVER_545,
      NV_VEC "rims/1010_0200_882_960074001A_PROD.swidtag", VOUCH_E_VERIFY, "9" },
    /* NVIDIA's measurement-mismatch sample */
    { NV_VEC "nvat_sample_hopperAttestationReport.txt",
      NV_VEC "rims-bad/NV_GPU_DRIVER_GH100_535.86.09_measurement_mismatch.xml",
      NV_VEC "rims-bad/NV_GPU_VBIOS_1010_0200_882_96005E0001_measurement_mismatch.xml",
      VOUCH_E_VERIFY, NULL },
    /* the same RIM as driver and VBIOS: every active index conflicts */
    { NV_VEC "v1.0_attestationReport.txt", VBIOS_5E01, VBIOS_5E01, VOUCH_E_CONFLICT, NULL },
};

static void test_compare(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cmp_cases) / sizeof(cmp_cases[0]); i++) {
        const struct cmp_case *c = &cmp_cases[i];
        struct vouch_nvgpu_report *r = calloc(1, sizeof(*r));
        struct vouch_nvgpu_rim *drv = rim_from(c->driver), *vb = rim_from(c->vbios);
        json_t *mm = json_array(), *m;
        struct vouch_nvgpu_compare res;
        struct vouch_errbuf eb = { "" };
        char got[256] = "";
        size_t len, k;
        uint8_t *data = nv_load_hex(c->report, &len);
        vouch_err e;

        assert_non_null(r);
        assert_int_equal(vouch_nvgpu_report_parse(data, len, r, NULL), VOUCH_OK);
        e = vouch_nvgpu_rim_compare(r, drv, vb, mm, &res, &eb);
        if (e != c->want)
            fail_msg("case %zu: got %s '%s'", i, vouch_err_name(e), eb.msg);
        assert_int_equal(res.no_conflict, e != VOUCH_E_CONFLICT);
        assert_int_equal(res.match, e == VOUCH_OK);
        assert_int_equal(res.n_mismatched, json_array_size(mm));
        assert_int_equal(res.skipped_index, 35);  /* every report here has NVDEC0 off */
        json_array_foreach(mm, k, m) {
            const char *src = json_string_value(json_object_get(m, "measurementSource"));

            assert_int_equal(json_integer_value(json_object_get(m, "goldenSize")), 48);
            assert_int_equal(json_integer_value(json_object_get(m, "runtimeSize")), 48);
            assert_int_equal(strlen(json_string_value(json_object_get(m, "runtimeValue"))),
                             96);
            if (strcmp(src, "vbios") == 0)
                snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%" JSON_INTEGER_FORMAT,
                         got[0] ? "," : "", json_integer_value(json_object_get(m, "index")));
        }
        if (c->vbios_mismatches)
            assert_string_equal(got, c->vbios_mismatches);
        if (e == VOUCH_E_VERIFY)
            assert_true(res.n_mismatched > 0);
        json_decref(mm);
        vouch_nvgpu_rim_unref(drv);
        vouch_nvgpu_rim_unref(vb);
        free(r);
        free(data);
    }
}

/* The first mismatch record carries both values; NVDEC0 on brings index 35 back. */
static void test_compare_details(void **state)
{
    struct vouch_nvgpu_report *r = calloc(1, sizeof(*r));
    struct vouch_nvgpu_rim *drv = rim_from(DRIVER_545), *vb;
    struct vouch_nvgpu_compare res, res35;
    json_t *mm = json_array(), *m;
    char hex[97];
    size_t len;
    uint8_t *data = nv_load_hex(NV_VEC "v1.0_attestationReport.txt", &len);
    const struct vouch_nvgpu_opaque *f;

    (void)state;
    vb = rim_from(NV_VEC "rims-bad/1010_0200_882_96005E0001_PROD.swidtag");
    assert_int_equal(vouch_nvgpu_report_parse(data, len, r, NULL), VOUCH_OK);
    assert_int_equal(vouch_nvgpu_rim_compare(r, drv, vb, mm, &res, NULL), VOUCH_E_VERIFY);
    m = json_array_get(mm, 0);
    assert_int_equal(json_integer_value(json_object_get(m, "index")), 1);
    vouch_hex_encode(vouch_nvgpu_report_block(r, 2)->value, 48, hex);
    assert_string_equal(json_string_value(json_object_get(m, "runtimeValue")), hex);
    vouch_hex_encode(vouch_nvgpu_rim_golden(vb, 1)->values, 48, hex);
    assert_string_equal(json_string_value(json_object_get(m, "goldenValue")), hex);
    vouch_nvgpu_rim_unref(vb);

    vb = rim_from(VBIOS_5E01);
    assert_int_equal(vouch_nvgpu_rim_compare(r, drv, vb, NULL, &res, NULL), VOUCH_OK);
    assert_int_equal(res.n_compared, 21 + 12 - 1);
    f = vouch_nvgpu_report_opaque(r, VOUCH_NVGPU_OPAQUE_NVDEC0_STATUS);
    data[f->data - data] = VOUCH_NVGPU_NVDEC0_ENABLED;
    assert_int_equal(vouch_nvgpu_report_parse(data, len, r, NULL), VOUCH_OK);
    vouch_nvgpu_rim_compare(r, drv, vb, NULL, &res35, NULL);
    assert_int_equal(res35.skipped_index, 0);
    assert_int_equal(res35.n_compared, 21 + 12);
    json_decref(mm);
    vouch_nvgpu_rim_unref(drv);
    vouch_nvgpu_rim_unref(vb);
    free(r);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_verify_table),
        cmocka_unit_test(test_tampered_hash),
        cmocka_unit_test(test_bad_documents),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_rim_ids),
        cmocka_unit_test(test_report_rim_ids),
        cmocka_unit_test(test_check_file),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_compare_details),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
