/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/codec.h"
#include "common/json.h"
#include "evidence/nvgpu/spdm.h"
#include "nvgpu_util.h"

/* Every real report the vectors carry, with what a reader of the hex sees. */
struct report_case {
    const char *file;
    size_t len;
    const char *nonce;
    const char *driver, *vbios, *project, *project_sku, *chip_sku;
    const char *fwid_prefix;   /* NULL: no FWID field */
    int nvdec0, ppcie;
    int opaque_version;        /* -1: absent */
    const char *mode;
    size_t padding;
};

static const struct report_case reports[] = {
    { NV_VEC "v1.0_attestationReport.txt", 4049,
      "4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e",
      "545.00", "96.00.5E.00.01", "1010", "0200", "882", NULL, 0x55, -1, -1, NULL, 0 },
    { NV_VEC "nvtrust_hopperAttestationReport.txt", 4117,
      "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb",
      "550.90.07", "96.00.9F.00.01", "1010", "0200", "882", "f5c384aebb579217", 0x55, 0x55, -1,
      NULL, 0 },
    { NV_VEC "nvat_hopperAttestationReport.txt", 4130,
      "5bb22e377702d4e1e8215a903ba094826b9ac7f731dee1fe8102958bf2840aca",
      "580.159.03", "96.00.74.00.20", "1010", "0205", "862", "f1ae7d0093a3f568", 0x55, 0x55, 1,
      "spt", 0 },
    { NV_VEC "nvat_sample_hopperAttestationReport.txt", 4052,
      "27a328247bf7935c993341cf587be6f05986ccce4fe7ba2c54100bd616a58f66",
      "535.86.09", "96.00.5E.00.01", "1010", "0200", "882", NULL, 0x55, -1, -1, NULL, 0 },
    { NV_VEC "nvat_sample_hopperAttestationReportExpired.txt", 4118,
      "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb",
      "570.124.03", "96.00.5E.00.04", "1010", "0205", "862", "e9960d6a289c8028", 0x55, 0x55, -1,
      NULL, 0 },
    { NV_VEC "nvat_sample_hopperAttestationReportInvalidSignature.txt", 4262,
      "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb",
      "560.00", "96.00.A5.00.01", "G520", "0200", "885", "87a829120716b55b", 0x55, 0xaa, -1,
      NULL, 0 },
    { NV_VEC "trustee_hopper_coco_report1.txt", 4130,
      "87d8e24ab336adafe228d49e83d745f6dba4ae505372b6a5704820856b343fec",
      "580.95.05", "96.00.74.00.1A", "1010", "0200", "882", "f1ae7d0093a3f568", 0x55, 0x55, 1,
      "spt", 1 },
};

static void test_real_reports(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
        const struct report_case *c = &reports[i];
        struct vouch_nvgpu_report *r = calloc(1, sizeof(*r));
        struct vouch_errbuf eb;
        char hex[2 * VOUCH_NVGPU_DIGEST_SIZE + 1];
        size_t len;
        uint8_t *data = nv_load_hex(c->file, &len);
        const char *mode;

        assert_non_null(r);
        if (vouch_nvgpu_report_parse(data, len, r, &eb))
            fail_msg("%s: %s", c->file, eb.msg);
        assert_int_equal(len, c->len);
        vouch_hex_encode(r->request_nonce, VOUCH_NVGPU_NONCE_SIZE, hex);
        assert_string_equal(hex, c->nonce);
        assert_int_equal(r->n_blocks, 64);
        assert_int_equal(r->blocks[0].index, 1);
        assert_int_equal(r->blocks[63].index, 64);
        assert_int_equal(r->blocks[10].value_size, 48);
        assert_string_equal(r->driver_version, c->driver);
        assert_string_equal(r->vbios_version, c->vbios);
        assert_string_equal(r->project, c->project);
        assert_string_equal(r->project_sku, c->project_sku);
        assert_string_equal(r->chip_sku, c->chip_sku);
        assert_int_equal(r->has_fwid, c->fwid_prefix != NULL);
        if (c->fwid_prefix) {
            vouch_hex_encode(r->fwid, 8, hex);
            assert_string_equal(hex, c->fwid_prefix);
        }
        assert_int_equal(r->nvdec0_status, c->nvdec0);
        assert_int_equal(r->protected_pcie_status, c->ppcie);
        assert_int_equal(r->has_opaque_version, c->opaque_version >= 0);
        if (c->opaque_version >= 0)
            assert_int_equal(r->opaque_version, c->opaque_version);
        mode = vouch_nvgpu_report_mode(r);
        if (c->mode)
            assert_string_equal(mode, c->mode);
        else
            assert_null(mode);
        assert_int_equal(r->padding, c->padding);
        assert_int_equal(r->signed_len + VOUCH_NVGPU_SIG_SIZE + r->padding, len);
        assert_ptr_equal(r->signature, data + r->signed_len);
        assert_int_equal(r->n_msrscnt, 64);
        free(r);
        free(data);
    }
}

/* NVIDIA's own parser output for its unit-test report, field by field. */
static void test_matches_nvat_parser(void **state)
{
    struct vouch_nvgpu_report *r = calloc(1, sizeof(*r));
    json_t *want, *blocks, *fields, *req;
    struct vouch_errbuf eb;
    char hexbuf[2 * 1024 + 3];
    size_t len, i;
    uint8_t *data = nv_load_hex(NV_VEC "nvat_hopperAttestationReport.txt", &len);

    (void)state;
    assert_non_null(r);
    assert_int_equal(vouch_json_load_file(VOUCH_SOURCE_ROOT "/" NV_VEC
                                          "nvat_spdm_parsed_output.json", 1 << 20, &want, &eb),
                     VOUCH_OK);
    assert_int_equal(vouch_json_load_file(VOUCH_SOURCE_ROOT "/" NV_VEC
                                          "nvat_spdm_req_parsed_output.json", 1 << 20, &req, &eb),
                     VOUCH_OK);
    assert_int_equal(vouch_nvgpu_report_parse(data, len, r, &eb), VOUCH_OK);

    hexbuf[0] = '0';
    hexbuf[1] = 'x';
    vouch_hex_encode(r->request_nonce, 32, hexbuf + 2);
    assert_string_equal(hexbuf, json_string_value(json_object_get(req, "Nonce")));
    vouch_hex_encode(r->responder_nonce, 32, hexbuf + 2);
    assert_string_equal(hexbuf, json_string_value(json_object_get(want, "Nonce")));
    vouch_hex_encode(r->signature, 96, hexbuf + 2);
    assert_string_equal(hexbuf, json_string_value(json_object_get(want, "Signature")));
    assert_int_equal(r->opaque_len, json_integer_value(json_object_get(want, "OpaqueLength")));
    assert_int_equal(r->n_blocks, json_integer_value(json_object_get(want, "NumberOfBlocks")));

    blocks = json_object_get(json_object_get(want, "MeasurementRecord"), "MeasurementBlocks");
    assert_int_equal(json_object_size(blocks), 64);
    for (i = 0; i < r->n_blocks; i++) {
        char key[8];
        json_t *b;

        snprintf(key, sizeof(key), "%u", r->blocks[i].index);
        b = json_object_get(blocks, key);
        assert_non_null(b);
        vouch_hex_encode(r->blocks[i].value, r->blocks[i].value_size, hexbuf + 2);
        assert_string_equal(hexbuf, json_string_value(json_object_get(b,
                                                          "DMTFSpecMeasurementValue")));
    }

    /* Every field NVIDIA lists, as raw bytes (the MSRSCNT list as numbers). */
    fields = json_object_get(json_object_get(want, "OpaqueData"), "OpaqueDataField");
    for (i = 0; i < r->n_opaque; i++) {
        const struct vouch_nvgpu_opaque *f = &r->opaque[i];
        char key[64];
        json_t *v;

        if (f->type == VOUCH_NVGPU_OPAQUE_OPAQUE_DATA_VERSION ||
            f->type == VOUCH_NVGPU_OPAQUE_FEATURE_FLAG)
            continue;   /* NVIDIA's sample output predates these two */
        snprintf(key, sizeof(key), "OPAQUE_FIELD_ID_%s",
                 f->type == VOUCH_NVGPU_OPAQUE_CPRINFO ? "cprinfo"
                                                       : vouch_nvgpu_opaque_name(f->type));
        for (char *p = key; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 32);
        if (f->type == VOUCH_NVGPU_OPAQUE_MSRSCNT) {
            v = json_object_get(fields, "OPAQUE_FIELD_ID_MSRSCNT");
            assert_int_equal(json_array_size(v), r->n_msrscnt);
            assert_int_equal(json_integer_value(json_array_get(v, 11)), 130);
            assert_int_equal(r->msrscnt[44], 130);
            continue;
        }
        v = json_object_get(fields, key);
        if (!v)
            fail_msg("NVIDIA output lacks %s", key);
        vouch_hex_encode(f->data, f->size, hexbuf + 2);
        assert_string_equal(hexbuf, json_string_value(v));
    }
    json_decref(want);
    json_decref(req);
    free(r);
    free(data);
}

/* trustee's expected claims for nvtrust's 550.90.07 report (the newer
 * trustee renders nvdec0/protected_pcie differently; see docs/nvgpu.md). */
static void test_matches_trustee_claims(void **state)
{
    struct vouch_nvgpu_report *r = calloc(1, sizeof(*r));
    json_t *want, *got = json_object(), *wconf, *gconf, *v;
    struct vouch_errbuf eb;
    const char *key;
    size_t len;
    uint8_t *data = nv_load_hex(NV_VEC "nvtrust_hopperAttestationReport.txt", &len);

    (void)state;
    assert_non_null(r);
    assert_int_equal(vouch_json_load_file(VOUCH_SOURCE_ROOT "/" NV_VEC
                                          "trustee_hopperAttestationReport-claims.json", 1 << 20,
                                          &want, &eb), VOUCH_OK);
    assert_int_equal(vouch_nvgpu_report_parse(data, len, r, &eb), VOUCH_OK);
    assert_int_equal(vouch_nvgpu_report_claims(r, got), VOUCH_OK);
    assert_true(json_equal(json_object_get(want, "measurements"),
                           json_object_get(got, "measurements")));
    wconf = json_object_get(want, "config");
    gconf = json_object_get(got, "config");
    json_object_foreach(wconf, key, v) {
        json_t *g = json_object_get(gconf, key);

        if (strcmp(key, "nvdec0_status") == 0) {
            assert_string_equal(json_string_value(g), "disabled");
            continue;
        }
        if (strcmp(key, "protected_pcie_status") == 0) {
            assert_string_equal(json_string_value(g), "55");
            continue;
        }
        if (!json_equal(v, g))
            fail_msg("config.%s differs", key);
    }
    assert_int_equal(json_object_size(wconf), json_object_size(gconf));
    json_decref(want);
    json_decref(got);
    free(r);
    free(data);
}

/* Every strict prefix of a real report is rejected, none crashes. */
static void test_every_prefix_rejected(void **state)
{
    struct vouch_nvgpu_report *r = calloc(1, sizeof(*r));
    size_t len, n;
    uint8_t *data = nv_load_hex(NV_VEC "nvtrust_hopperAttestationReport.txt", &len);

    (void)state;
    assert_non_null(r);
    for (n = 0; n < len; n++) {
        vouch_err e = vouch_nvgpu_report_parse(data, n, r, NULL);

        if (e != VOUCH_E_TRUNCATED && e != VOUCH_E_INVALID)
            fail_msg("prefix %zu: %s", n, vouch_err_name(e));
    }
    free(r);
    free(data);
}

/* Offsets in nvtrust's 550.90.07 report, from its layout. */
#define RSP 37
#define RECORD (RSP + 8)
#define OPAQUE_LEN (RECORD + 3520 + 32)
#define OPAQUE (OPAQUE_LEN + 2)

/* Byte offset of the opaque field of `type` (its header), or 0. */
static size_t opaque_at(const uint8_t *d, size_t len, uint16_t type)
{
    size_t o = OPAQUE, end = OPAQUE + (d[OPAQUE_LEN] | d[OPAQUE_LEN + 1] << 8);

    while (o + 4 <= end && o + 4 <= len) {
        if ((d[o] | d[o + 1] << 8) == type)
            return o;
        o += 4 + (size_t)(d[o + 2] | d[o + 3] << 8);
    }
    return 0;
}

enum edit { SET_BYTE, APPEND, SET_OPAQUE_TYPE, SET_OPAQUE_BYTE };

struct mutation {
    const char *what;
    enum edit edit;
    size_t off;        /* SET_BYTE: offset; SET_OPAQUE_*: opaque type */
    size_t arg;        /* SET_OPAQUE_BYTE: offset in the field's data */
    uint8_t value;
    vouch_err want;
    const char *msg;   /* substring of the error message */
};

static const struct mutation mutations[] = {
    { "request version", SET_BYTE, 0, 0, 0x10, VOUCH_E_UNSUPPORTED, "request: SPDM version" },
    { "request code", SET_BYTE, 1, 0, 0xE1, VOUCH_E_UNSUPPORTED, "code 0xe1" },
    { "no signature requested", SET_BYTE, 2, 0, 0x00, VOUCH_E_UNSUPPORTED, "no signature" },
    { "response version", SET_BYTE, RSP, 0, 0x12, VOUCH_E_UNSUPPORTED, "response: SPDM" },
    { "response code", SET_BYTE, RSP + 1, 0, 0x61, VOUCH_E_UNSUPPORTED, "code 0x61" },
    { "zero blocks", SET_BYTE, RSP + 4, 0, 0, VOUCH_E_INVALID, "no measurement blocks" },
    { "fewer blocks than the record holds", SET_BYTE, RSP + 4, 0, 63, VOUCH_E_INVALID,
      "bytes after 63 blocks" },
    { "more blocks than the record holds", SET_BYTE, RSP + 4, 0, 65, VOUCH_E_TRUNCATED,
      "block 64" },
    { "record length beyond the report", SET_BYTE, RSP + 7, 0, 0x01, VOUCH_E_TRUNCATED,
      "measurement record" },
    { "block index 0", SET_BYTE, RECORD, 0, 0, VOUCH_E_INVALID, "index 0" },
    { "block index repeated", SET_BYTE, RECORD + 55, 0, 1, VOUCH_E_INVALID, "repeated" },
    { "non-DMTF block", SET_BYTE, RECORD + 1, 0, 2, VOUCH_E_UNSUPPORTED, "not DMTF" },
    { "DMTF value larger than its block", SET_BYTE, RECORD + 5, 0, 49, VOUCH_E_TRUNCATED,
      "exceeds the block" },
    { "DMTF value smaller than its block", SET_BYTE, RECORD + 5, 0, 47, VOUCH_E_INVALID,
      "after the value" },
    { "opaque length beyond the report", SET_BYTE, OPAQUE_LEN + 1, 0, 0x10, VOUCH_E_TRUNCATED,
      "opaque data" },
    { "trailing non-zero byte", APPEND, 0, 0, 0x01, VOUCH_E_INVALID, "after the signature" },
    { "opaque type repeated", SET_OPAQUE_TYPE, VOUCH_NVGPU_OPAQUE_BOARD_ID, 0,
      VOUCH_NVGPU_OPAQUE_GPU_INFO, VOUCH_E_INVALID, "repeated" },
    { "opaque INVALID type", SET_OPAQUE_TYPE, VOUCH_NVGPU_OPAQUE_BOARD_ID, 0, 255,
      VOUCH_E_INVALID, "INVALID" },
    { "driver version missing", SET_OPAQUE_TYPE, VOUCH_NVGPU_OPAQUE_DRIVER_VERSION, 0, 200,
      VOUCH_E_INVALID, "lacks the driver version" },
    { "VBIOS version missing", SET_OPAQUE_TYPE, VOUCH_NVGPU_OPAQUE_VBIOS_VERSION, 0, 201,
      VOUCH_E_INVALID, "lacks the VBIOS version" },
    { "switch_pdi of 4 bytes", SET_OPAQUE_TYPE, VOUCH_NVGPU_OPAQUE_BOARD_ID, 0,
      VOUCH_NVGPU_OPAQUE_SWITCH_PDI, VOUCH_E_INVALID, "not a multiple of 8" },
    { "driver version not ASCII", SET_OPAQUE_BYTE, VOUCH_NVGPU_OPAQUE_DRIVER_VERSION, 1, 0x80,
      VOUCH_E_INVALID, "not printable" },
    { "nvdec0 unknown value", SET_OPAQUE_BYTE, VOUCH_NVGPU_OPAQUE_NVDEC0_STATUS, 0, 0x12,
      VOUCH_E_INVALID, "nvdec0_status: unknown value 0x12" },
};

static void test_mutations(void **state)
{
    struct vouch_nvgpu_report *r = calloc(1, sizeof(*r));
    size_t len, i;
    uint8_t *orig = nv_load_hex(NV_VEC "nvtrust_hopperAttestationReport.txt", &len);

    (void)state;
    assert_non_null(r);
    assert_int_equal(vouch_nvgpu_report_parse(orig, len, r, NULL), VOUCH_OK);
    for (i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
        const struct mutation *m = &mutations[i];
        uint8_t *d = malloc(len + 1);
        struct vouch_errbuf eb = { "" };
        size_t n = len, o;
        vouch_err e;

        assert_non_null(d);
        memcpy(d, orig, len);
        switch (m->edit) {
        case SET_BYTE:
            d[m->off] = m->value;
            break;
        case APPEND:
            d[n++] = m->value;
            break;
        case SET_OPAQUE_TYPE:
            o = opaque_at(d, n, (uint16_t)m->off);
            assert_true(o != 0);
            d[o] = m->value;
            d[o + 1] = 0;
            break;
        case SET_OPAQUE_BYTE:
            o = opaque_at(d, n, (uint16_t)m->off);
            assert_true(o != 0);
            d[o + 4 + m->arg] = m->value;
            break;
        }
        e = vouch_nvgpu_report_parse(d, n, r, &eb);
        if (e != m->want || !strstr(eb.msg, m->msg))
            fail_msg("%s: got %s '%s', want %s '%s'", m->what, vouch_err_name(e), eb.msg,
                     vouch_err_name(m->want), m->msg);
        free(d);
    }
    /* Zero padding is tolerated and reported. */
    {
        uint8_t *d = calloc(1, len + 3);

        assert_non_null(d);
        memcpy(d, orig, len);
        assert_int_equal(vouch_nvgpu_report_parse(d, len + 3, r, NULL), VOUCH_OK);
        assert_int_equal(r->padding, 3);
        free(d);
    }
    free(r);
    free(orig);
}

static void test_vbios_format(void **state)
{
    static const struct {
        uint8_t raw[8];
        size_t n;
        const char *want;
    } cases[] = {
        { { 0x00, 0x9f, 0x00, 0x96, 0x01, 0, 0, 0 }, 8, "96.00.9F.00.01" },
        { { 0x00, 0x5e, 0x00, 0x96, 0x01, 0, 0, 0 }, 8, "96.00.5E.00.01" },
        { { 0x00, 0x74, 0x00, 0x96, 0x20, 0, 0, 0 }, 8, "96.00.74.00.20" },
        { { 0x00, 0x81, 0x02, 0x98, 0x01, 0, 0, 0 }, 8, "98.02.81.00.01" },
        { { 0x00, 0x9f, 0x00, 0x96, 0x01, 0, 0, 0 }, 7, NULL },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[15];
        vouch_err e = vouch_nvgpu_vbios_format(cases[i].raw, cases[i].n, out);

        if (!cases[i].want) {
            assert_int_equal(e, VOUCH_E_INVALID);
            continue;
        }
        assert_int_equal(e, VOUCH_OK);
        assert_string_equal(out, cases[i].want);
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(vouch_nvgpu_opaque_name(VOUCH_NVGPU_OPAQUE_MSRSCNT), "measurement_count");
    assert_string_equal(vouch_nvgpu_opaque_name(VOUCH_NVGPU_OPAQUE_FEATURE_FLAG), "feature_flag");
    assert_null(vouch_nvgpu_opaque_name(26));
    assert_int_equal(vouch_nvgpu_arch_parse("Hopper"), VOUCH_NVGPU_HOPPER);
    assert_int_equal(vouch_nvgpu_arch_parse("BLACKWELL"), VOUCH_NVGPU_BLACKWELL);
    assert_int_equal(vouch_nvgpu_arch_parse("LS10"), VOUCH_NVGPU_ARCH_UNKNOWN);
    assert_string_equal(vouch_nvgpu_arch_name(VOUCH_NVGPU_BLACKWELL), "BLACKWELL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_reports),
        cmocka_unit_test(test_matches_nvat_parser),
        cmocka_unit_test(test_matches_trustee_claims),
        cmocka_unit_test(test_every_prefix_rejected),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_vbios_format),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
