/* SPDX-License-Identifier: Apache-2.0 */
/* UEFI event logs: parsing, replay against upstream-stated PCRs, claims, YAML. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/codec.h"
#include "crypto/digest.h"
#include "evidence/tpm/eventlog.h"
#include "tpm_testutil.h"

static struct vouch_tcg_eventlog *load_log(const char *path)
{
    struct vouch_errbuf eb = { "" };
    struct vouch_tcg_eventlog *log = NULL;
    size_t len;
    uint8_t *d = tu_read(path, &len);

    if (vouch_tcg_eventlog_parse(d, len, VOUCH_TPM_PCR_COUNT, &log, &eb))
        fail_msg("%s: %s", path, eb.msg);
    free(d);
    return log;
}

static void replay(const struct vouch_tcg_eventlog *log, unsigned flags,
                   struct vouch_tpm_pcrs *p)
{
    struct vouch_errbuf eb = { "" };

    if (vouch_tpm_eventlog_replay(log, flags, p, NULL, &eb))
        fail_msg("replay: %s", eb.msg);
}

/* Every tpm2-tools fixture: the "pcrs:" section we print equals tpm2_eventlog's byte for byte. */
static void test_tpm2_tools_pcrs_sections(void **state)
{
    static const char *const logs[] = {
        "event-arch-linux.bin", "event-bootorder.bin", "event-gce-ubuntu-2104-log.bin",
        "event-moklisttrusted.bin", "event-postcode.bin", "event-sd-boot-fedora37.bin",
        "event-uefi-sha1-log.bin", "event-uefiaction.bin", "event-uefiservices.bin",
        "event-uefivar.bin",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        char path[256];
        struct vouch_tcg_eventlog *log;
        struct vouch_tpm_pcrs p;
        struct vouch_buf out = VOUCH_BUF_INIT(1u << 20);
        uint8_t *want;
        size_t wlen;
        const char *sect;

        snprintf(path, sizeof(path), TPM_VEC "tpm2-tools/%s", logs[i]);
        log = load_log(path);
        replay(log, 0, &p);
        assert_int_equal(vouch_tpm_pcrs_format_yaml(&p, VOUCH_TPM_YAML_EVENTLOG, &out), VOUCH_OK);
        snprintf(path, sizeof(path), TPM_VEC "tpm2-tools/expected-pretty_%s.yaml", logs[i]);
        want = tu_read(path, &wlen);
        sect = strstr((const char *)want, "\npcrs:\n");
        assert_non_null(sect);
        if (strcmp(sect + 7, vouch_buf_str(&out)) != 0)
            fail_msg("%s: pcrs differ:\n%s\nwant:\n%s", logs[i], vouch_buf_str(&out), sect + 7);
        vouch_buf_free(&out);
        free(want);
        vouch_tcg_eventlog_free(log);
    }
}

/* Device paths render as tpm2_eventlog (efivar) renders them, for every image-load event. */
static void test_tpm2_tools_device_paths(void **state)
{
    static const char *const logs[] = {
        "event-arch-linux.bin", "event-bootorder.bin", "event-gce-ubuntu-2104-log.bin",
        "event-moklisttrusted.bin", "event-postcode.bin", "event-sd-boot-fedora37.bin",
        "event-uefi-sha1-log.bin", "event-uefiservices.bin",
    };
    size_t i, total = 0;

    (void)state;
    for (i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        char path[256];
        struct vouch_tcg_eventlog *log;
        struct vouch_buf out = VOUCH_BUF_INIT(1u << 22);
        uint8_t *want;
        size_t wlen;
        const char *w, *g;

        snprintf(path, sizeof(path), TPM_VEC "tpm2-tools/%s", logs[i]);
        log = load_log(path);
        assert_int_equal(vouch_tpm_eventlog_format_yaml(log, NULL, &out), VOUCH_OK);
        snprintf(path, sizeof(path), TPM_VEC "tpm2-tools/expected-pretty_%s.yaml", logs[i]);
        want = tu_read(path, &wlen);
        w = (const char *)want;
        g = vouch_buf_str(&out);
        for (;;) {
            const char *wn = strstr(w, "\n    DevicePath: '"), *gn = strstr(g, "\n    DevicePath: '");
            size_t wl, gl;

            if (!wn || !gn) {
                if (wn || gn)
                    fail_msg("%s: different number of device paths", logs[i]);
                break;
            }
            wl = strcspn(wn + 1, "\n");
            gl = strcspn(gn + 1, "\n");
            if (wl != gl || memcmp(wn + 1, gn + 1, wl) != 0)
                fail_msg("%s: device path\n got %.*s\nwant %.*s", logs[i], (int)gl, gn + 1,
                         (int)wl, wn + 1);
            w = wn + 1;
            g = gn + 1;
            total++;
        }
        vouch_buf_free(&out);
        free(want);
        vouch_tcg_eventlog_free(log);
    }
    assert_true(total >= 10);
}

/* Compare the replay with {bank: {pcr: hex}}; every stated PCR must be replayed. */
static void check_replay(const char *name, const struct vouch_tpm_pcrs *got,
                           const json_t *banks, bool only_extended, size_t min_checked)
{
    struct vouch_tpm_pcrs want;
    size_t checked = 0;
    int h;
    unsigned i;

    tu_pcrs_from_json(banks, &want);
    for (h = 0; h < VOUCH_HASH__COUNT; h++)
        for (i = 0; i < VOUCH_TPM_PCR_COUNT; i++) {
            if (!vouch_tpm_pcrs_has(&want, (enum vouch_hash)h, i))
                continue;
            if (!vouch_tpm_pcrs_has(got, (enum vouch_hash)h, i)) {
                if (only_extended)
                    continue;
                fail_msg("%s: %s PCR %u not replayed", name, vouch_hash_name((enum vouch_hash)h), i);
            }
            if (memcmp(want.value[h][i], got->value[h][i], vouch_hash_size((enum vouch_hash)h)))
                fail_msg("%s: %s PCR %u differs", name, vouch_hash_name((enum vouch_hash)h), i);
            checked++;
        }
    if (checked < min_checked)
        fail_msg("%s: only %zu PCRs checked", name, checked);
}

static void test_go_tpm_tools_expected(void **state)
{
    json_t *exp = tu_json(TPM_VEC "go-tpm-tools/expected_pcrs_from_server_eventlog_test.json");
    const char *file;
    json_t *v;
    size_t n = 0;

    (void)state;
    json_object_foreach(exp, file, v) {
        char path[256];
        struct vouch_tcg_eventlog *log;
        struct vouch_tpm_pcrs p;

        snprintf(path, sizeof(path), TPM_VEC "go-tpm-tools/%s", file);
        log = load_log(path);
        replay(log, 0, &p);
        check_replay(file, &p, json_object_get(v, "banks"), false, 8);
        vouch_tcg_eventlog_free(log);
        n++;
    }
    assert_int_equal(n, 10);
    json_decref(exp);
}

static void test_go_attestation_expected(void **state)
{
    json_t *exp = tu_json(TPM_VEC "go-attestation/expected_pcrs.json");
    struct vouch_tcg_eventlog *log;
    struct vouch_tpm_pcrs p;

    (void)state;
    log = load_log(TPM_VEC "go-attestation/sb_cert_eventlog");
    replay(log, 0, &p);
    check_replay("sb_cert", &p, json_object_get(json_object_get(exp, "sb_cert_eventlog"), "banks"),
                   true, 8);
    vouch_tcg_eventlog_free(log);

    log = load_log(TPM_VEC "go-attestation/option_rom_eventlog");
    assert_false(log->agile);
    replay(log, 0, &p);
    check_replay("option_rom", &p,
                   json_object_get(json_object_get(exp, "option_rom_eventlog"), "banks"), false, 8);
    vouch_tcg_eventlog_free(log);
    json_decref(exp);
}

/* The ExitBootServices-missing log matches PCR5 only with the opt-in fix-up. */
static void test_ebs_fixup(void **state)
{
    json_t *exp = tu_json(TPM_VEC "go-attestation/expected_pcrs.json");
    struct vouch_tcg_eventlog *log = load_log(TPM_VEC "go-attestation/ebs_event_missing_eventlog");
    struct vouch_tpm_pcrs quoted, p;
    struct vouch_errbuf eb = { "" };
    json_t *report = NULL;
    bool fixed = true;

    (void)state;
    tu_pcrs_from_json(json_object_get(json_object_get(exp, "ebs_event_missing_eventlog"), "banks"),
                      &quoted);
    assert_int_equal(vouch_tpm_eventlog_replay(log, 0, &p, &fixed, NULL), VOUCH_OK);
    assert_false(fixed);
    assert_memory_not_equal(p.value[VOUCH_HASH_SHA1][5], quoted.value[VOUCH_HASH_SHA1][5], 20);
    assert_int_equal(vouch_tpm_eventlog_replay(log, VOUCH_TPM_EL_EBS_FIXUP, &p, &fixed, NULL),
                     VOUCH_OK);
    assert_true(fixed);
    assert_memory_equal(p.value[VOUCH_HASH_SHA1][5], quoted.value[VOUCH_HASH_SHA1][5], 20);

    /* verify: rejected by default, accepted (and reported) with the flag */
    assert_int_equal(vouch_tpm_eventlog_verify(log, &quoted, 0, &report, &eb), VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "sha1 PCR 5"));
    assert_int_equal(json_array_size(json_object_get(report, "mismatches")), 1);
    json_decref(report);
    assert_int_equal(vouch_tpm_eventlog_verify(log, &quoted, VOUCH_TPM_EL_EBS_FIXUP, &report, &eb),
                     VOUCH_OK);
    assert_true(json_is_true(json_object_get(report, "ebs_fixup")));
    assert_int_equal(json_integer_value(json_object_get(report, "compared")), 1);
    json_decref(report);
    vouch_tcg_eventlog_free(log);
    json_decref(exp);
}

/* The Windows GCE Shielded VM log replays to its 24 stated SHA-1 PCRs; Secure Boot is on. */
static void test_windows_gce_log(void **state)
{
    json_t *dump = tu_json(TPM_VEC "go-attestation/windows_gcp_shielded_vm.json");
    json_t *lj = json_object_get(dump, "Log"), *pcrs = json_object_get(lj, "PCRs"), *x, *claims;
    struct vouch_tpm_pcrs quoted;
    struct vouch_tcg_eventlog *log = NULL;
    struct vouch_errbuf eb = { "" };
    json_t *report = NULL, *sb;
    uint8_t *raw;
    size_t len, i;

    (void)state;
    vouch_tpm_pcrs_init(&quoted);
    json_array_foreach(pcrs, i, x) {
        size_t dl;
        uint8_t *d = tu_b64_member(x, "Digest", &dl);

        assert_int_equal(json_integer_value(json_object_get(x, "DigestAlg")), 3); /* Go crypto.SHA1 */
        assert_int_equal(vouch_tpm_pcrs_set(&quoted, VOUCH_HASH_SHA1,
                                            (unsigned)json_integer_value(json_object_get(x, "Index")),
                                            d, dl, NULL), VOUCH_OK);
        free(d);
    }
    assert_int_equal(quoted.mask[VOUCH_HASH_SHA1], 0xffffff);
    raw = tu_b64_member(lj, "Raw", &len);
    assert_int_equal(vouch_tcg_eventlog_parse(raw, len, VOUCH_TPM_PCR_COUNT, &log, &eb), VOUCH_OK);
    assert_false(log->agile);
    if (vouch_tpm_eventlog_verify(log, &quoted, 0, &report, &eb))
        fail_msg("windows log: %s", eb.msg);
    assert_true(json_integer_value(json_object_get(report, "compared")) >= 8);
    json_decref(report);
    assert_int_equal(vouch_tpm_eventlog_claims(log, &claims), VOUCH_OK);
    sb = json_object_get(claims, "secure_boot");
    assert_true(json_is_true(json_object_get(sb, "enabled")));
    assert_true(json_is_true(json_object_get(sb, "verified")));
    json_decref(claims);
    vouch_tcg_eventlog_free(log);
    free(raw);
    json_decref(dump);
}

/* Logs without upstream PCRs still parse; Secure Boot state as go-attestation's tests expect. */
static void test_other_logs(void **state)
{
    static const struct {
        const char *path;
        bool agile;
        int secure_boot;          /* -1: no SecureBoot event, 0 off, 1 on */
        size_t min_events;
    } cases[] = {
        { "go-attestation/coreos_36_shielded_vm_no_secure_boot_eventlog", true, 0, 50 },
        { "go-attestation/crypto_agile_eventlog", true, -2, 20 },
        { "go-attestation/ubuntu_2104_shielded_vm_no_secure_boot_eventlog", true, 0, 50 },
        { "go-attestation/short_no_action_eventlog", false, -1, 1 },
        { "keylime/binary_bios_measurements", true, -2, 100 },
        { "keylime/binary_bios_measurements-secureboot", true, 1, 50 },
        { "tpm2-tools/event.bin", true, -2, 2 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[256];
        struct vouch_tcg_eventlog *log;
        struct vouch_tpm_pcrs p;
        json_t *claims, *en;

        snprintf(path, sizeof(path), TPM_VEC "%s", cases[i].path);
        log = load_log(path);
        if (log->agile != cases[i].agile)
            fail_msg("%s: agile %d", cases[i].path, log->agile);
        if (log->n_events < cases[i].min_events)
            fail_msg("%s: %zu events", cases[i].path, log->n_events);
        replay(log, 0, &p);
        assert_int_equal(vouch_tpm_eventlog_claims(log, &claims), VOUCH_OK);
        assert_int_equal(json_array_size(json_object_get(claims, "uefi_event_logs")), log->n_events);
        en = json_object_get(json_object_get(claims, "secure_boot"), "enabled");
        if (cases[i].secure_boot == -1 && en)
            fail_msg("%s: unexpected SecureBoot state", cases[i].path);
        if (cases[i].secure_boot >= 0 && (!en || json_is_true(en) != (cases[i].secure_boot == 1)))
            fail_msg("%s: SecureBoot state", cases[i].path);
        json_decref(claims);
        vouch_tcg_eventlog_free(log);
    }
}

static void test_keylime_mb_log_b64(void **state)
{
    size_t len, i, o = 0, dl;
    uint8_t *b64 = tu_read(TPM_VEC "keylime/mb_log.b64", &len), *raw;
    struct vouch_tcg_eventlog *log = NULL;
    struct vouch_tpm_pcrs p;

    (void)state;
    for (i = 0; i < len; i++)
        if (b64[i] != '\n' && b64[i] != '\r')
            b64[o++] = b64[i];
    assert_int_equal(vouch_b64_decode((char *)b64, o, VOUCH_B64_STD, 1u << 20, &raw, &dl, NULL),
                     VOUCH_OK);
    assert_int_equal(vouch_tcg_eventlog_parse(raw, dl, VOUCH_TPM_PCR_COUNT, &log, NULL), VOUCH_OK);
    replay(log, 0, &p);
    assert_true(p.mask[VOUCH_HASH_SHA256] != 0);
    vouch_tcg_eventlog_free(log);
    free(raw);
    free(b64);
}

static void test_negative_logs(void **state)
{
    static const struct {
        const char *path;
        vouch_err want;
    } cases[] = {
        { "keylime/binary_bios_measurements-empty", VOUCH_E_TRUNCATED },
        { "keylime/binary_bios_measurements-bogus", VOUCH_E_INVALID },
        /* tpm2-tools' fixture: eventSize 37 leaves the 4-byte vendorInfo outside the event */
        { "tpm2-tools/specid-vendordata.bin", VOUCH_E_TRUNCATED },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[256];
        struct vouch_errbuf eb = { "" };
        struct vouch_tcg_eventlog *log = (void *)1;
        size_t len;
        uint8_t *d;

        snprintf(path, sizeof(path), TPM_VEC "%s", cases[i].path);
        d = tu_read(path, &len);
        if (vouch_tcg_eventlog_parse(d, len, VOUCH_TPM_PCR_COUNT, &log, &eb) != cases[i].want)
            fail_msg("%s: '%s'", cases[i].path, eb.msg);
        assert_ptr_equal(log, (void *)1);
        assert_true(eb.msg[0] != '\0');
        free(d);
    }
}

/* Build a crypto-agile log: Spec ID event (given data) + events. */
static size_t put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
    return 4;
}

static size_t put_first(uint8_t *p, const uint8_t *spec, size_t n)
{
    size_t o = 0;

    o += put32(p + o, 0);
    o += put32(p + o, VOUCH_EV_NO_ACTION);
    memset(p + o, 0, 20);
    o += 20;
    o += put32(p + o, (uint32_t)n);
    memcpy(p + o, spec, n);
    return o + n;
}

/* One sha256-only TCG_PCR_EVENT2 whose digest is H(data). */
static size_t put_event2(uint8_t *p, uint32_t pcr, uint32_t type, const void *data, size_t n)
{
    size_t o = 0;

    o += put32(p + o, pcr);
    o += put32(p + o, type);
    o += put32(p + o, 1);
    p[o++] = 0x0b;
    p[o++] = 0x00;
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA256, data, n, p + o), VOUCH_OK);
    o += 32;
    o += put32(p + o, (uint32_t)n);
    memcpy(p + o, data, n);
    return o + n;
}

#define SPEC_HDR "Spec ID Event03\0" "\0\0\0\0" "\x00\x02\x00\x02"

/* go-attestation's TestParseSpecIDEvent cases, as table rows. */
static void test_spec_id_table(void **state)
{
    static const struct {
        const char *name;
        const char *spec;
        size_t len;
        vouch_err want;
        uint32_t n_algs;
    } cases[] = {
        { "sha1", SPEC_HDR "\x01\0\0\0" "\x04\0\x14\0" "\x02\0\0", 16 + 8 + 4 + 4 + 3, VOUCH_OK, 1 },
        { "sha1_and_sha256", SPEC_HDR "\x02\0\0\0" "\x04\0\x14\0" "\x0b\0\x20\0" "\x02\0\0",
          16 + 8 + 4 + 8 + 3, VOUCH_OK, 2 },
        { "invalid_version", "Spec ID Event03\0" "\0\0\0\0" "\x02\x01\x00\x08" "\x02\0\0\0"
          "\x04\0\x14\0" "\x0b\0\x20\0" "\x02\0\0", 16 + 8 + 4 + 8 + 3, VOUCH_E_UNSUPPORTED, 0 },
        { "malicious_number_of_algs", SPEC_HDR "\xff\xff\xff\xff" "\x04\0\x14\0" "\x02\0\0",
          16 + 8 + 4 + 4 + 3, VOUCH_E_INVALID, 0 },
        { "wrong_sha256_size", SPEC_HDR "\x01\0\0\0" "\x0b\0\x14\0" "\x00", 16 + 8 + 4 + 4 + 1,
          VOUCH_E_INVALID, 0 },
        { "duplicate_alg", SPEC_HDR "\x02\0\0\0" "\x0b\0\x20\0" "\x0b\0\x20\0" "\x00",
          16 + 8 + 4 + 8 + 1, VOUCH_E_INVALID, 0 },
        { "truncated_vendor_info", SPEC_HDR "\x01\0\0\0" "\x04\0\x14\0" "\x05\0", 16 + 8 + 4 + 4 + 2,
          VOUCH_E_TRUNCATED, 0 },
        { "unknown_alg_listed", SPEC_HDR "\x01\0\0\0" "\x27\0\x20\0" "\x00", 16 + 8 + 4 + 4 + 1,
          VOUCH_OK, 1 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[256];
        size_t n = put_first(buf, (const uint8_t *)cases[i].spec, cases[i].len);
        struct vouch_tcg_eventlog *log = NULL;
        struct vouch_errbuf eb = { "" };
        vouch_err e = vouch_tcg_eventlog_parse(buf, n, VOUCH_TPM_PCR_COUNT, &log, &eb);

        if (e != cases[i].want)
            fail_msg("%s: got %s (%s)", cases[i].name, vouch_err_name(e), eb.msg);
        if (!e) {
            assert_true(log->agile);
            assert_int_equal(log->spec.n_algs, cases[i].n_algs);
        }
        vouch_tcg_eventlog_free(log);
    }
}

/* StartupLocality sets PCR0's initial value, and is refused after PCR0 was extended. */
static void test_startup_locality(void **state)
{
    static const uint8_t spec[] = SPEC_HDR "\x01\0\0\0" "\x0b\0\x20\0" "\x00";
    uint8_t buf[1024], want[32], init[64];
    size_t n = put_first(buf, spec, sizeof(spec) - 1), n2;
    struct vouch_tcg_eventlog *log = NULL;
    struct vouch_tpm_pcrs p;
    struct vouch_errbuf eb = { "" };
    uint8_t dg[32];

    (void)state;
    n += put_event2(buf + n, 0, VOUCH_EV_NO_ACTION, "StartupLocality\0\x03", 17);
    n2 = n;
    n += put_event2(buf + n, 0, VOUCH_EV_S_CRTM_VERSION, "v1", 2);
    assert_int_equal(vouch_tcg_eventlog_parse(buf, n, VOUCH_TPM_PCR_COUNT, &log, NULL), VOUCH_OK);
    replay(log, 0, &p);
    memset(init, 0, sizeof(init));
    init[31] = 3;
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA256, "v1", 2, dg), VOUCH_OK);
    memcpy(init + 32, dg, 32);
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA256, init, 64, want), VOUCH_OK);
    assert_memory_equal(p.value[VOUCH_HASH_SHA256][0], want, 32);
    assert_int_equal(p.mask[VOUCH_HASH_SHA256], 1);
    assert_int_equal(p.mask[VOUCH_HASH_SHA1], 0);
    vouch_tcg_eventlog_free(log);

    /* locality event after a PCR0 measurement */
    n = n2 - (4 + 4 + 4 + 2 + 32 + 4 + 17);
    n += put_event2(buf + n, 0, VOUCH_EV_S_CRTM_VERSION, "v1", 2);
    n += put_event2(buf + n, 0, VOUCH_EV_NO_ACTION, "StartupLocality\0\x03", 17);
    assert_int_equal(vouch_tcg_eventlog_parse(buf, n, VOUCH_TPM_PCR_COUNT, &log, NULL), VOUCH_OK);
    assert_int_equal(vouch_tpm_eventlog_replay(log, 0, &p, NULL, &eb), VOUCH_E_INVALID);
    assert_non_null(strstr(eb.msg, "StartupLocality"));
    vouch_tcg_eventlog_free(log);
}

/* Events the log's Spec ID event does not announce, trailing garbage, bad PCR indexes. */
static void test_malformed_events(void **state)
{
    static const uint8_t spec[] = SPEC_HDR "\x01\0\0\0" "\x0b\0\x20\0" "\x00";
    uint8_t buf[1024];
    size_t base = put_first(buf, spec, sizeof(spec) - 1), n;
    struct vouch_tcg_eventlog *log = NULL;
    struct vouch_errbuf eb = { "" };

    (void)state;
    /* digest algorithm sha1 not listed */
    n = base + put_event2(buf + base, 0, VOUCH_EV_SEPARATOR, "\0\0\0\0", 4);
    buf[base + 12] = 0x04;
    assert_int_equal(vouch_tcg_eventlog_parse(buf, n, VOUCH_TPM_PCR_COUNT,
                                              &log, &eb), VOUCH_E_INVALID);
    assert_non_null(strstr(eb.msg, "not in the Spec ID"));
    /* PCR 24 */
    n = base + put_event2(buf + base, 24, VOUCH_EV_SEPARATOR, "\0\0\0\0", 4);
    assert_int_equal(vouch_tcg_eventlog_parse(buf, n, VOUCH_TPM_PCR_COUNT,
                                              &log, &eb), VOUCH_E_INVALID);
    /* zero padding after the last event is accepted, garbage is not */
    n = base + put_event2(buf + base, 7, VOUCH_EV_SEPARATOR, "\0\0\0\0", 4);
    memset(buf + n, 0, 64);
    assert_int_equal(vouch_tcg_eventlog_parse(buf, n + 64, VOUCH_TPM_PCR_COUNT,
                                              &log, NULL), VOUCH_OK);
    assert_int_equal(log->n_events, 2);
    vouch_tcg_eventlog_free(log);
    buf[n + 3] = 1;
    assert_int_equal(vouch_tcg_eventlog_parse(buf, n + 64, VOUCH_TPM_PCR_COUNT,
                                              &log, &eb), VOUCH_E_INVALID);
}

/* Every prefix of a real log either parses to a prefix of its events or fails cleanly. */
static void test_truncation(void **state)
{
    size_t len, k;
    uint8_t *d = tu_read(TPM_VEC "tpm2-tools/event-uefivar.bin", &len);
    struct vouch_tcg_eventlog *full = load_log(TPM_VEC "tpm2-tools/event-uefivar.bin");

    (void)state;
    for (k = 0; k < len; k++) {
        uint8_t *cut = malloc(k ? k : 1);
        struct vouch_tcg_eventlog *log = NULL;
        vouch_err e;

        memcpy(cut, d, k);
        e = vouch_tcg_eventlog_parse(cut, k, VOUCH_TPM_PCR_COUNT, &log, NULL);
        if (e == VOUCH_OK) {
            assert_true(log->n_events < full->n_events);
            assert_int_equal(log->events[log->n_events - 1].data_len,
                             full->events[log->n_events - 1].data_len);
            vouch_tcg_eventlog_free(log);
        } else {
            assert_true(e == VOUCH_E_TRUNCATED || e == VOUCH_E_INVALID);
        }
        free(cut);
    }
    vouch_tcg_eventlog_free(full);
    free(d);
}

/* Quoted values that differ from the replay are reported per PCR. */
static void test_verify_reports_mismatch(void **state)
{
    struct vouch_tcg_eventlog *log = load_log(TPM_VEC "tpm2-tools/event-arch-linux.bin");
    struct vouch_tpm_pcrs p, quoted;
    struct vouch_errbuf eb = { "" };
    json_t *report = NULL, *mm, *unv;

    (void)state;
    replay(log, 0, &p);
    quoted = p;
    quoted.mask[VOUCH_HASH_SHA1] &= ~(1u << 8);   /* not quoted: unverified, not a mismatch */
    assert_int_equal(vouch_tpm_eventlog_verify(log, &quoted, 0, &report, &eb), VOUCH_OK);
    unv = json_object_get(json_object_get(report, "unverified_pcrs"), "sha1");
    assert_int_equal(json_array_size(unv), 1);
    assert_int_equal(json_integer_value(json_array_get(unv, 0)), 8);
    json_decref(report);
    quoted.value[VOUCH_HASH_SHA256][4][0] ^= 1;
    quoted.value[VOUCH_HASH_SHA256][7][31] ^= 0x80;
    assert_int_equal(vouch_tpm_eventlog_verify(log, &quoted, 0, &report, &eb), VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "sha256 PCR 4"));
    mm = json_object_get(report, "mismatches");
    assert_int_equal(json_array_size(mm), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(mm, 1), "pcr")), 7);
    json_decref(report);
    /* a quote covering nothing the log extends */
    vouch_tpm_pcrs_init(&quoted);
    assert_int_equal(vouch_tpm_pcrs_set(&quoted, VOUCH_HASH_SHA256, 10, p.value[1][10], 32, NULL),
                     VOUCH_OK);
    assert_int_equal(vouch_tpm_eventlog_verify(log, &quoted, 0, NULL, &eb), VOUCH_E_NOT_FOUND);
    vouch_tcg_eventlog_free(log);
}

/* Claims: trustee's event shape, digest checks, boot chain summaries. */
static void test_claims_shape(void **state)
{
    struct vouch_tcg_eventlog *log = load_log(TPM_VEC "tpm2-tools/event-gce-ubuntu-2104-log.bin");
    json_t *claims, *events, *ev;
    size_t i, seps = 0, actions = 0, images = 0, vars = 0;

    (void)state;
    assert_int_equal(vouch_tpm_eventlog_claims(log, &claims), VOUCH_OK);
    assert_string_equal(json_string_value(json_object_get(claims, "format")), "tcg2");
    events = json_object_get(claims, "uefi_event_logs");
    json_array_foreach(events, i, ev) {
        const char *t = json_string_value(json_object_get(ev, "type_name"));
        bool m = json_is_true(json_object_get(ev, "digest_matches_event"));
        json_t *det = json_object_get(ev, "details");

        assert_non_null(t);
        assert_true(json_is_array(json_object_get(ev, "digests")));
        if (!strcmp(t, "EV_SEPARATOR")) {
            assert_true(m);
            seps++;
        } else if (!strcmp(t, "EV_EFI_ACTION")) {
            assert_true(m);
            assert_non_null(json_object_get(det, "string"));
            actions++;
        } else if (!strcmp(t, "EV_EFI_BOOT_SERVICES_APPLICATION")) {
            assert_false(m);   /* an Authenticode hash, not a hash of the data */
            assert_non_null(strstr(json_string_value(json_object_get(det, "device_path")), "File("));
            images++;
        } else if (!strcmp(t, "EV_EFI_VARIABLE_DRIVER_CONFIG")) {
            assert_true(m);
            assert_non_null(json_object_get(det, "unicode_name"));
            assert_non_null(json_string_value(json_object_get(det, "variable_guid")));
            vars++;
        }
    }
    assert_true(seps >= 8 && actions >= 2 && images >= 2 && vars >= 5);
    assert_int_equal(json_array_size(json_object_get(claims, "boot_applications")), images);
    assert_non_null(json_object_get(claims, "kernel_cmdline"));
    assert_true(json_array_size(json_object_get(claims, "grub_cmds")) > 3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(claims, "secure_boot"),
                                                        "db_count")) > 0, 1);
    json_decref(claims);
    vouch_tcg_eventlog_free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tpm2_tools_pcrs_sections),
        cmocka_unit_test(test_tpm2_tools_device_paths),
        cmocka_unit_test(test_go_tpm_tools_expected),
        cmocka_unit_test(test_go_attestation_expected),
        cmocka_unit_test(test_ebs_fixup),
        cmocka_unit_test(test_windows_gce_log),
        cmocka_unit_test(test_other_logs),
        cmocka_unit_test(test_keylime_mb_log_b64),
        cmocka_unit_test(test_negative_logs),
        cmocka_unit_test(test_spec_id_table),
        cmocka_unit_test(test_startup_locality),
        cmocka_unit_test(test_malformed_events),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_verify_reports_mismatch),
        cmocka_unit_test(test_claims_shape),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
