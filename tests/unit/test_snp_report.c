/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SEV-SNP report parser on real reports (tests/vectors/snp, see
 * PROVENANCE.md): every field a table expects, both TCB layouts, the JSON
 * form both ways (trustee's own evidence document rebuilds the exact
 * report bytes), and the structural rejections.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "testutil.h"

#include "common/codec.h"
#include "common/json.h"
#include "evidence/snp/snp.h"

#define V "tests/vectors/snp/"

struct expect {
    const char *file;
    uint32_t version, vmpl, guest_svn;
    uint64_t policy, plat;
    unsigned signer;
    enum vouch_snp_product product;
    uint8_t bl, tee, snp, ucode, current_ucode;
    uint8_t fw_major, fw_minor, fw_build;
    const char *measurement_head;   /* first 4 bytes, hex */
    const char *chip_id_head;
};

static const struct expect reports[] = {
    { V "test-report.bin", 2, 0, 4, 0x3001F, 0x1, 0, VOUCH_SNP_PRODUCT_UNKNOWN, 3, 0, 8, 115,
      206, 1, 52, 4, "a1f39304", "c38427a3" },
    { V "test-vlek-report.bin", 3, 1, 0, 0x30000, 0x27, 1, VOUCH_SNP_PRODUCT_MILAN, 4, 0, 24,
      217, 220, 1, 55, 29, "8922ebbd", "00000000" },
    { V "az-milan-v2-report.bin", 2, 0, 5, 0x3001F, 0x1, 0, VOUCH_SNP_PRODUCT_UNKNOWN, 3, 0, 8,
      115, 210, 1, 52, 4, "9ac48fca", "19752a44" },
    { V "az-milan-v3-report.bin", 3, 0, 10, 0x3001F, 0x25, 0, VOUCH_SNP_PRODUCT_MILAN, 4, 0, 24,
      219, 219, 1, 55, 29, "6a063be9", "66a5a7b4" },
    { V "az-genoa-v3-report.bin", 3, 0, 65547, 0x3001F, 0x24, 0, VOUCH_SNP_PRODUCT_GENOA, 10, 0,
      23, 84, 84, 1, 55, 40, "f57dc09a", "0506ffba" },
};

static void load_report(const char *path, uint8_t raw[VOUCH_SNP_REPORT_SIZE])
{
    size_t n;
    uint8_t *d = test_load(path, &n);

    assert_int_equal(n, VOUCH_SNP_REPORT_SIZE);
    memcpy(raw, d, n);
    free(d);
}

static void test_real_reports(void **state)
{
    struct vouch_snp_report r;
    struct vouch_errbuf eb;
    char hex[9];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
        const struct expect *x = &reports[i];
        uint8_t raw[VOUCH_SNP_REPORT_SIZE];

        load_report(x->file, raw);
        if (vouch_snp_report_parse(raw, sizeof(raw), &r, &eb))
            fail_msg("%s: %s", x->file, eb.msg);
        assert_int_equal(r.version, x->version);
        assert_int_equal(r.vmpl, x->vmpl);
        assert_int_equal(r.guest_svn, x->guest_svn);
        assert_int_equal(r.policy, x->policy);
        assert_int_equal(r.platform_info, x->plat);
        assert_int_equal(vouch_snp_signing_key(&r), x->signer);
        assert_int_equal(r.sig_algo, 1);
        assert_int_equal(r.product, x->product);
        assert_int_equal(r.has_cpuid, x->version >= 3);
        assert_false(r.has_mit_vectors);
        assert_int_equal(r.reported_tcb.bootloader, x->bl);
        assert_int_equal(r.reported_tcb.tee, x->tee);
        assert_int_equal(r.reported_tcb.snp, x->snp);
        assert_int_equal(r.reported_tcb.microcode, x->ucode);
        assert_int_equal(r.current_tcb.microcode, x->current_ucode);
        assert_false(r.reported_tcb.has_fmc);
        assert_int_equal(r.current.major, x->fw_major);
        assert_int_equal(r.current.minor, x->fw_minor);
        assert_int_equal(r.current.build, x->fw_build);
        if (x->measurement_head) {
            vouch_hex_encode(r.measurement, 4, hex);
            assert_string_equal(hex, x->measurement_head);
        }
        if (x->chip_id_head) {
            vouch_hex_encode(r.chip_id, 4, hex);
            assert_string_equal(hex, x->chip_id_head);
        }
    }
}

/* A report modified at one place, and what the parser makes of it. */
struct mutation {
    const char *name, *file;
    size_t off;
    uint8_t value;
    vouch_err want;
};

static const struct mutation mutations[] = {
    { "version 1", V "test-report.bin", VOUCH_SNP_OFF_VERSION, 1, VOUCH_E_UNSUPPORTED },
    { "version 6", V "test-report.bin", VOUCH_SNP_OFF_VERSION, 6, VOUCH_E_UNSUPPORTED },
    { "version 4 (v3 layout)", V "az-milan-v3-report.bin", VOUCH_SNP_OFF_VERSION, 4, VOUCH_OK },
    { "version 5", V "az-milan-v3-report.bin", VOUCH_SNP_OFF_VERSION, 5, VOUCH_OK },
    { "reserved 0x4c", V "test-report.bin", VOUCH_SNP_OFF_RESERVED0, 1, VOUCH_E_INVALID },
    /* Fields of a later version in an earlier one: not read, not refused. */
    { "v2 with CPUID bytes", V "test-report.bin", VOUCH_SNP_OFF_CPUID, 0x19, VOUCH_OK },
    { "v3 with a mitigation vector", V "az-milan-v3-report.bin", VOUCH_SNP_OFF_LAUNCH_MIT, 1,
      VOUCH_OK },
    { "v2 reserved after CPUID", V "test-report.bin", VOUCH_SNP_OFF_RESERVED1, 1,
      VOUCH_E_INVALID },
    { "v3 reserved after CPUID", V "az-milan-v3-report.bin", VOUCH_SNP_OFF_RESERVED1 + 3, 1,
      VOUCH_E_INVALID },
    { "reserved after current version", V "test-report.bin", VOUCH_SNP_OFF_CURRENT_VERSION + 3,
      1, VOUCH_E_INVALID },
    { "v3 reserved after the mitigation vectors", V "az-milan-v3-report.bin",
      VOUCH_SNP_OFF_RESERVED3_V5, 1, VOUCH_E_INVALID },
    { "reserved before signature", V "test-report.bin", VOUCH_SNP_OFF_SIGNATURE - 1, 1,
      VOUCH_E_INVALID },
    { "unsigned tail is not read", V "test-report.bin", VOUCH_SNP_OFF_RESERVED_TAIL, 1,
      VOUCH_OK },
    { "POLICY bit 17 clear", V "test-report.bin", VOUCH_SNP_OFF_POLICY + 2, 0x01,
      VOUCH_E_INVALID },
    { "POLICY bit 26", V "test-report.bin", VOUCH_SNP_OFF_POLICY + 3, 0x04, VOUCH_E_INVALID },
    { "reserved byte of a Milan TCB", V "test-report.bin", VOUCH_SNP_OFF_REPORTED_TCB + 3, 1,
      VOUCH_E_INVALID },
    { "PLATFORM_INFO bit 6", V "test-report.bin", VOUCH_SNP_OFF_PLATFORM_INFO, 0x41,
      VOUCH_E_INVALID },
};

static void test_mutations(void **state)
{
    struct vouch_snp_report r;
    struct vouch_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
        const struct mutation *m = &mutations[i];
        uint8_t raw[VOUCH_SNP_REPORT_SIZE];
        vouch_err e;

        load_report(m->file, raw);
        raw[m->off] = m->value;
        e = vouch_snp_report_parse(raw, sizeof(raw), &r, &eb);
        if (e != m->want)
            fail_msg("%s: got %s (%s), want %s", m->name, vouch_err_name(e),
                     e ? eb.msg : "", vouch_err_name(m->want));
    }
}

static void test_sizes(void **state)
{
    uint8_t raw[VOUCH_SNP_REPORT_SIZE + 1];
    struct vouch_snp_report r;
    struct vouch_errbuf eb;

    (void)state;
    load_report(V "test-report.bin", raw);
    raw[VOUCH_SNP_REPORT_SIZE] = 0;
    assert_int_equal(vouch_snp_report_parse(raw, VOUCH_SNP_REPORT_SIZE - 1, &r, &eb),
                     VOUCH_E_TRUNCATED);
    assert_int_equal(vouch_snp_report_parse(raw, 0, &r, &eb), VOUCH_E_TRUNCATED);
    assert_int_equal(vouch_snp_report_parse(raw, sizeof(raw), &r, &eb), VOUCH_E_INVALID);
}

/* fmc 1, bl 3, tee 0, snp 0x18, ucode 0xD9 in Turin's layout, in all four TCBs. */
static void set_turin_tcbs(uint8_t *raw)
{
    static const size_t offs[] = { VOUCH_SNP_OFF_CURRENT_TCB, VOUCH_SNP_OFF_REPORTED_TCB,
                                   VOUCH_SNP_OFF_COMMITTED_TCB, VOUCH_SNP_OFF_LAUNCH_TCB };
    size_t i;

    for (i = 0; i < 4; i++)
        memcpy(raw + offs[i], "\x01\x03\x00\x18\x00\x00\x00\xd9", 8);
}

static void test_v5_and_turin(void **state)
{
    uint8_t raw[VOUCH_SNP_REPORT_SIZE];
    struct vouch_snp_report r;
    struct vouch_errbuf eb;
    struct vouch_snp_tcb t;

    (void)state;
    /* Turin layout: fmc, bl, tee, snp, rsvd, rsvd, rsvd, ucode. */
    vouch_snp_tcb_decode(0xD900000018000301ull, true, &t);
    assert_true(t.has_fmc);
    assert_int_equal(t.fmc, 1);
    assert_int_equal(t.bootloader, 3);
    assert_int_equal(t.tee, 0);
    assert_int_equal(t.snp, 0x18);
    assert_int_equal(t.microcode, 0xD9);
    vouch_snp_tcb_decode(0x7308000000000003ull, false, &t);
    assert_false(t.has_fmc);
    assert_int_equal(t.bootloader, 3);
    assert_int_equal(t.snp, 8);
    assert_int_equal(t.microcode, 115);

    /* A v5 report from a Turin CPU: mitigation vectors read, Turin TCBs. */
    load_report(V "az-milan-v3-report.bin", raw);
    raw[VOUCH_SNP_OFF_VERSION] = 5;
    raw[VOUCH_SNP_OFF_CPUID] = 0x1A;
    raw[VOUCH_SNP_OFF_CPUID + 1] = 0x02;
    raw[VOUCH_SNP_OFF_LAUNCH_MIT] = 0x05;
    raw[VOUCH_SNP_OFF_CURRENT_MIT + 1] = 0x01;
    set_turin_tcbs(raw);
    if (vouch_snp_report_parse(raw, sizeof(raw), &r, &eb))
        fail_msg("%s", eb.msg);
    assert_int_equal(r.product, VOUCH_SNP_PRODUCT_TURIN);
    assert_true(r.has_mit_vectors);
    assert_int_equal(r.launch_mit_vector, 5);
    assert_int_equal(r.current_mit_vector, 0x100);
    assert_true(r.reported_tcb.has_fmc);
    assert_int_equal(r.reported_tcb.fmc, 1);
    assert_int_equal(r.reported_tcb.bootloader, 3);
    assert_int_equal(r.reported_tcb.snp, 0x18);
    assert_int_equal(r.reported_tcb.microcode, 0xD9);
    /* A Milan-layout TCB on Turin sets Turin's reserved bytes. */
    memcpy(raw + VOUCH_SNP_OFF_LAUNCH_TCB, "\x04\x00\x00\x00\x00\x00\x18\xdb", 8);
    assert_int_equal(vouch_snp_report_parse(raw, sizeof(raw), &r, &eb), VOUCH_E_INVALID);
    set_turin_tcbs(raw);
    /* v5 reserved after the mitigation vectors. */
    raw[VOUCH_SNP_OFF_RESERVED3_V5] = 1;
    assert_int_equal(vouch_snp_report_parse(raw, sizeof(raw), &r, &eb), VOUCH_E_INVALID);
}

/* Report -> JSON -> report gives the same bytes, for every vector and a Turin v5. */
static void test_json_roundtrip(void **state)
{
    uint8_t raw[VOUCH_SNP_REPORT_SIZE], back[VOUCH_SNP_REPORT_SIZE];
    struct vouch_snp_report r;
    struct vouch_errbuf eb;
    json_t *j;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
        load_report(reports[i].file, raw);
        assert_int_equal(vouch_snp_report_parse(raw, sizeof(raw), &r, &eb), VOUCH_OK);
        assert_int_equal(vouch_snp_report_to_json(&r, &j, &eb), VOUCH_OK);
        if (vouch_snp_report_from_json(j, back, &eb))
            fail_msg("%s: %s", reports[i].file, eb.msg);
        assert_memory_equal(raw, back, sizeof(raw));
        json_decref(j);
    }
    load_report(V "az-milan-v3-report.bin", raw);
    raw[VOUCH_SNP_OFF_VERSION] = 5;
    raw[VOUCH_SNP_OFF_CPUID] = 0x1A;
    raw[VOUCH_SNP_OFF_LAUNCH_MIT] = 0x07;
    set_turin_tcbs(raw);
    assert_int_equal(vouch_snp_report_parse(raw, sizeof(raw), &r, &eb), VOUCH_OK);
    assert_int_equal(vouch_snp_report_to_json(&r, &j, &eb), VOUCH_OK);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "reported_tcb"),
                                                        "fmc")), 1);
    assert_int_equal(vouch_snp_report_from_json(j, back, &eb), VOUCH_OK);
    assert_memory_equal(raw, back, sizeof(raw));
    json_decref(j);
}

/* trustee's own evidence document rebuilds test-report.bin exactly. */
static void test_trustee_json(void **state)
{
    uint8_t raw[VOUCH_SNP_REPORT_SIZE], back[VOUCH_SNP_REPORT_SIZE];
    struct vouch_errbuf eb;
    json_t *doc, *rep;
    size_t n;
    uint8_t *d = test_load(V "trustee-e2e-evidence.json", &n);

    (void)state;
    assert_int_equal(vouch_json_parse(d, n, &doc, &eb), VOUCH_OK);
    rep = json_object_get(doc, "attestation_report");
    if (vouch_snp_report_from_json(rep, back, &eb))
        fail_msg("%s", eb.msg);
    load_report(V "test-report.bin", raw);
    assert_memory_equal(raw, back, sizeof(raw));
    /* A byte array of the wrong length, a value out of range, a missing field. */
    json_array_remove(json_object_get(rep, "measurement"), 0);
    assert_int_equal(vouch_snp_report_from_json(rep, back, &eb), VOUCH_E_INVALID);
    assert_string_equal(eb.field, "measurement");
    json_object_set_new(rep, "vmpl", json_integer(1ll << 32));
    assert_int_equal(vouch_snp_report_from_json(rep, back, &eb), VOUCH_E_INVALID);
    json_object_del(rep, "policy");
    assert_int_equal(vouch_snp_report_from_json(rep, back, &eb), VOUCH_E_INVALID);
    assert_string_equal(eb.field, "policy");
    json_decref(doc);
    free(d);
}

static void test_claims(void **state)
{
    uint8_t raw[VOUCH_SNP_REPORT_SIZE];
    struct vouch_snp_report r;
    struct vouch_errbuf eb;
    json_t *c;

    (void)state;
    load_report(V "test-report.bin", raw);
    assert_int_equal(vouch_snp_report_parse(raw, sizeof(raw), &r, &eb), VOUCH_OK);
    assert_int_equal(vouch_snp_claims(&r, &c, &eb), VOUCH_OK);
    assert_int_equal(json_integer_value(json_object_get(c, "policy_abi_major")), 0);
    assert_int_equal(json_integer_value(json_object_get(c, "policy_abi_minor")), 31);
    assert_true(json_is_true(json_object_get(c, "policy_smt_allowed")));
    assert_true(json_is_false(json_object_get(c, "policy_debug_allowed")));
    assert_true(json_is_false(json_object_get(c, "policy_migrate_ma")));
    assert_true(json_is_false(json_object_get(c, "policy_single_socket")));
    assert_true(json_is_true(json_object_get(c, "platform_smt_enabled")));
    assert_true(json_is_false(json_object_get(c, "platform_tsme_enabled")));
    assert_int_equal(json_integer_value(json_object_get(c, "reported_tcb_bootloader")), 3);
    assert_int_equal(json_integer_value(json_object_get(c, "reported_tcb_tee")), 0);
    assert_int_equal(json_integer_value(json_object_get(c, "reported_tcb_snp")), 8);
    assert_int_equal(json_integer_value(json_object_get(c, "reported_tcb_microcode")), 115);
    assert_string_equal(json_string_value(json_object_get(c, "measurement")),
                        "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c"
                        "23500644e0e692e6be917f9050d3d38c");
    assert_string_equal(json_string_value(json_object_get(c, "report_data")),
                        "ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e2"
                        "0000000000000000000000000000000000000000000000000000000000000000");
    assert_string_equal(json_string_value(json_object_get(c, "init_data")),
                        "0000000000000000000000000000000000000000000000000000000000000000");
    assert_int_equal(strlen(json_string_value(json_object_get(c, "chip_id"))), 128);
    assert_null(json_object_get(c, "reported_tcb_fmc"));
    json_decref(c);
    /* DEBUG (POLICY bit 19) shows. */
    raw[VOUCH_SNP_OFF_POLICY + 2] |= 0x08;
    assert_int_equal(vouch_snp_report_parse(raw, sizeof(raw), &r, &eb), VOUCH_OK);
    assert_int_equal(vouch_snp_claims(&r, &c, &eb), VOUCH_OK);
    assert_true(json_is_true(json_object_get(c, "policy_debug_allowed")));
    json_decref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_reports),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_v5_and_turin),
        cmocka_unit_test(test_json_roundtrip),
        cmocka_unit_test(test_trustee_json),
        cmocka_unit_test(test_claims),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
