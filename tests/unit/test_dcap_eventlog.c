/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TDX event logs on real vectors (tests/vectors/tdx-eventlog, see INDEX.md):
 * a GCP CCEL and a dstack JSON log replay to their quotes' RTMRs; trustee's
 * CCELs and AA logs replay to trustee's values and give the claims its
 * policies read; tampered, truncated, misindexed, oversized and foreign
 * logs fail at their own step.
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
#include "crypto/digest.h"
#include "evidence/dcap/dcap.h"
#include "evidence/dcap/dcap_int.h"

#define V "tests/vectors/tdx-eventlog/"
#define RTMRS(q) ((q)->body + VOUCH_DCAP_TD_RTMR0)

/* A quote file parsed; the bytes stay loaded for the test's life. */
static void load_quote(const char *path, uint8_t **raw, struct vouch_dcap_quote *q)
{
    size_t n;

    *raw = test_load(path, &n);
    assert_int_equal(vouch_dcap_quote_parse(*raw, n, q, NULL), VOUCH_OK);
}

static struct vouch_dcap_eventlog *parse_file(const char *path)
{
    struct vouch_dcap_eventlog *log = NULL;
    struct vouch_errbuf eb;
    size_t n;
    uint8_t *d = test_load(path, &n);

    if (vouch_dcap_eventlog_parse(d, n, &log, &eb))
        fail_msg("%s: %s", path, eb.msg);
    free(d);
    return log;
}

/* The replayed RTMR i as hex starts with `head` and ends with `tail`. */
static void assert_rtmr(const struct vouch_dcap_eventlog *log, int i, const char *head,
                        const char *tail)
{
    uint8_t r[VOUCH_DCAP_RTMR_COUNT][VOUCH_DCAP_RTMR_SIZE];
    char hex[2 * VOUCH_DCAP_RTMR_SIZE + 1];

    assert_int_equal(vouch_dcap_eventlog_replay(log, r, NULL), VOUCH_OK);
    vouch_hex_encode(r[i], VOUCH_DCAP_RTMR_SIZE, hex);
    assert_memory_equal(hex, head, strlen(head));
    assert_string_equal(hex + strlen(hex) - strlen(tail), tail);
}

static json_t *claims_of(const struct vouch_dcap_eventlog *log)
{
    json_t *c = json_object();

    assert_int_equal(vouch_dcap_eventlog_claims(log, c, NULL), VOUCH_OK);
    return c;
}

static const char *str_at(const json_t *c, const char *a, const char *b)
{
    return json_string_value(json_object_get(json_object_get(c, a), b));
}

/* The GCP log's EV_IPL of /syslinux/vmlinuz.A, the file GRUB's linux command loaded. */
#define GCP_GRUB_KERNEL "b1012372f421ad28c9f542e5a1b8c4d312a0d1c8637ffba5e52b632d4b632e504da1b73964f" \
                        "6e8ba047bcd4f1d5a1dfe"

/* GCP COS: TDVF + GRUB, all four RTMRs replay (RTMR3 zero). */
static void test_ccel_gcp_pair(void **state)
{
    struct vouch_dcap_eventlog *log = parse_file(V "go-tdx-guest/ccel_data.dat");
    struct vouch_dcap_quote q;
    struct vouch_errbuf eb;
    json_t *report = NULL, *c;
    uint8_t *raw;

    (void)state;
    load_quote(V "go-tdx-guest/cos-113-tdx-quote.dat", &raw, &q);
    assert_int_equal(vouch_dcap_eventlog_format(log), VOUCH_DCAP_EL_CCEL);
    if (vouch_dcap_eventlog_verify(log, RTMRS(&q), &report, &eb))
        fail_msg("%s", eb.msg);
    assert_int_equal(json_array_size(report), 4);
    assert_true(json_is_true(json_object_get(json_array_get(report, 2), "match")));
    assert_rtmr(log, 0, "3fa2f61f395b7f5f", "");
    c = claims_of(log);
    assert_int_equal(json_array_size(json_object_get(c, "uefi_event_logs")), 43);
    assert_string_equal(str_at(c, "eventlog", "format"), "ccel");
    /* GRUB's "kernel_cmdline: " EV_IPL: the image path is not a parameter, quotes group. */
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(c, "ccel"), "kernel_parameters"),
                            "root")), "/dev/dm-0");
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_object_get(json_object_get(c, "ccel"), "kernel_parameters"),
                               "dm-mod.create")), "verity 0 PARTUUID="));
    assert_null(json_object_get(json_object_get(json_object_get(c, "ccel"), "kernel_parameters"),
                                "/syslinux/vmlinuz.A"));
    /*
     * GRUB's own measurements: the kernel is the file "grub_cmd: linux" named
     * (/syslinux/vmlinuz.A, measured as an EV_IPL of that name), the command
     * line's digest its "kernel_cmdline: " event's; COS boots no initrd.
     */
    assert_string_equal(str_at(c, "ccel", "kernel"), GCP_GRUB_KERNEL);
    assert_string_equal(str_at(c, "ccel", "cmdline"), "129cc599796a3afe25eaa16b8a0ebfa0f59f2b82c037"
                        "80941081313bb56d2d0fc2c81a87d4656ef2af95e5bb758bc8f0");
    assert_null(json_object_get(json_object_get(c, "ccel"), "initrd"));
    json_decref(c);
    json_decref(report);
    vouch_dcap_eventlog_free(log);
    free(raw);
}

/*
 * GRUB's file events are the kernel or the initrd only as the "linux" and
 * "initrd" commands name them.  The GCP log with its linux command rewritten
 * (same length; EV_IPL data is not replayed, only digests) as an initrd one:
 * the file it names is then the initrd, and no kernel is claimed.
 */
static void test_grub_initrd(void **state)
{
    static const char from[] = "grub_cmd: linux /syslinux/vmlinuz.A init=";
    static const char to[] = "grub_cmd: initrd /syslinux/vmlinuz.A nit=";
    struct vouch_dcap_eventlog *log = NULL;
    struct vouch_errbuf eb;
    uint8_t *d, *at;
    json_t *c;
    size_t n;

    (void)state;
    d = test_load(V "go-tdx-guest/ccel_data.dat", &n);
    at = memmem(d, n, from, sizeof(from) - 1);
    assert_non_null(at);
    assert_null(memmem(at + 1, n - (size_t)(at + 1 - d), from, sizeof(from) - 1));
    memcpy(at, to, sizeof(to) - 1);
    if (vouch_dcap_eventlog_parse(d, n, &log, &eb))
        fail_msg("%s", eb.msg);
    c = claims_of(log);
    assert_string_equal(str_at(c, "ccel", "initrd"), GCP_GRUB_KERNEL);
    assert_null(json_object_get(json_object_get(c, "ccel"), "kernel"));
    json_decref(c);
    vouch_dcap_eventlog_free(log);
    free(d);
}

/* dstack: JSON log, boot and runtime events, replays to all four RTMRs. */
static void test_dstack_pair(void **state)
{
    struct vouch_dcap_eventlog *log = parse_file(V "dstack/event_log.json");
    struct vouch_dcap_quote q;
    struct vouch_errbuf eb;
    json_t *c, *rt;
    uint8_t *raw;

    (void)state;
    load_quote(V "dstack/quote.bin", &raw, &q);
    assert_int_equal(vouch_dcap_eventlog_format(log), VOUCH_DCAP_EL_DSTACK);
    if (vouch_dcap_eventlog_verify(log, RTMRS(&q), NULL, &eb))
        fail_msg("%s", eb.msg);
    assert_rtmr(log, 3, "0f787c3877f3e950", "147185a8");
    c = claims_of(log);
    rt = json_object_get(c, "runtime_events");
    assert_string_equal(json_string_value(json_object_get(rt, "app-id")),
                        "3763bc34552cf3a27ff71ad5f7a90471562a1a2d");
    assert_string_equal(json_string_value(json_object_get(rt, "compose-hash")),
                        "3763bc34552cf3a27ff71ad5f7a90471562a1a2df552dfc1998cba2d60da27e7");
    assert_non_null(strstr(json_string_value(json_object_get(rt, "key-provider")),
                           "\"name\":\"local-sgx\""));
    assert_int_equal(json_array_size(json_object_get(c, "uefi_event_logs")), 20);
    assert_string_equal(str_at(c, "ccel", "kernel"), "0761fbfa317a42d8edbe9e404178d102adc059cfac"
                        "e98c5e07d1d535371c145c3497fd2a19b8398568b8c8a6f95e0a86");
    assert_string_equal(str_at(c, "ccel", "cmdline"), "4027cb4ec64dbc24b6d98d9470daeefc749bbb6a9b"
                        "011762d215f6ed3eb833d58fd72d9ad850958f72878182e6f61924");
    assert_non_null(str_at(c, "ccel", "initrd"));
    json_decref(c);
    vouch_dcap_eventlog_free(log);
    free(raw);
}

/* dstack's GetQuote form: runtime digests "" are recomputed, and the log replays. */
static void test_dstack_lite_pair(void **state)
{
    struct vouch_dcap_eventlog *log = parse_file(V "dstack-lite/event_log.json");
    struct vouch_dcap_quote q;
    struct vouch_errbuf eb;
    json_t *c;
    uint8_t *raw;

    (void)state;
    load_quote(V "dstack-lite/quote.bin", &raw, &q);
    if (vouch_dcap_eventlog_verify(log, RTMRS(&q), NULL, &eb))
        fail_msg("%s", eb.msg);
    c = claims_of(log);
    assert_int_equal(json_object_size(json_object_get(c, "runtime_events")), 9);
    assert_int_equal(json_array_size(json_object_get(c, "uefi_event_logs")), 20);
    json_decref(c);
    vouch_dcap_eventlog_free(log);
    free(raw);
}

/* trustee's td-shim and OVMF CCELs replay to trustee's expected values. */
static void test_trustee_ccels(void **state)
{
    struct vouch_dcap_eventlog *shim = parse_file(V "trustee/CCEL_data");
    struct vouch_dcap_eventlog *ovmf = parse_file(V "trustee/CCEL_data_ovmf");
    json_t *c, *ev;

    (void)state;
    assert_rtmr(shim, 0, "2dc712306a963ead", "13543f4");
    assert_rtmr(shim, 1, "0fa3be56af61208b", "28cd3cf");
    assert_rtmr(ovmf, 0, "8566f998798db094", "0abe193");
    assert_rtmr(ovmf, 1, "775b9f6bfe99f8a3", "10c13c6");
    assert_rtmr(ovmf, 2, "94eaf7a7bf398ed8", "bf25f34a");
    c = claims_of(shim);
    /* trustee's parse_tdx_claims_expected.json: 5 events, td_payload, td_payload_info. */
    assert_int_equal(json_array_size(json_object_get(c, "uefi_event_logs")), 5);
    ev = json_array_get(json_object_get(c, "uefi_event_logs"), 3);
    assert_string_equal(json_string_value(json_object_get(ev, "type_name")),
                        "EV_EFI_PLATFORM_FIRMWARE_BLOB2");
    assert_int_equal(json_integer_value(json_object_get(ev, "index")), 2);
    assert_string_equal(str_at(c, "ccel", "kernel"), "5b7aa6572f649714ff00b6a2b9170516a068fd1a0b"
                        "a72aa8de27574131d454e6396d3bfa1727d9baf421618a942977fa");
    assert_string_equal(str_at(c, "ccel", "kernel_cmdline"), "root=/dev/vda1 console=hvc0 rw");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(c, "ccel"), "kernel_parameters"),
                            "console")), "hvc0");
    assert_true(json_is_null(json_object_get(
        json_object_get(json_object_get(c, "ccel"), "kernel_parameters"), "rw")));
    json_decref(c);
    c = claims_of(ovmf);
    assert_int_equal(json_array_size(json_object_get(c, "uefi_event_logs")), 20);
    ev = json_array_get(json_object_get(c, "uefi_event_logs"), 0);
    assert_string_equal(json_string_value(json_object_get(ev, "type_name")),
                        "EV_EFI_HANDOFF_TABLES2");
    json_decref(c);
    vouch_dcap_eventlog_free(shim);
    vouch_dcap_eventlog_free(ovmf);
}

/* ccel.kernel_parameters[key] as a string, "(missing)" when it is not one. */
static const char *param(const json_t *c, const char *key)
{
    const char *v = json_string_value(
        json_object_get(json_object_get(json_object_get(c, "ccel"), "kernel_parameters"), key));

    return v ? v : "(missing)";
}

/*
 * trustee's CCEL with its TD payload command line "root=/dev/vda1
 * console=hvc0 rw" changed in place: bytes that are not UTF-8 are shown
 * as %XX in kernel_cmdline and in a parameter's key or value; valid UTF-8
 * is kept as it is.
 */
static void test_ccel_cmdline_not_utf8(void **state)
{
    static const struct {
        const char *from, *to, *cmdline, *key, *value;
    } cases[] = {
        { "hvc0", "hv\xff" "0", "root=/dev/vda1 console=hv%FF0 rw", "console", "hv%FF0" },
        { "console", "cons\xc3le", "root=/dev/vda1 cons%C3le=hvc0 rw", "cons%C3le", "hvc0" },
        { "vda1", "vd\xe2\x82", "root=/dev/vd%E2%82 console=hvc0 rw", "root", "/dev/vd%E2%82" },
        { "hvc0", "h\xc3\xa9" "c", "root=/dev/vda1 console=h\xc3\xa9" "c rw", "console",
          "h\xc3\xa9" "c" },
    };
    size_t n, i;
    uint8_t *orig = test_load(V "trustee/CCEL_data", &n);

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t *d = malloc(n);
        uint8_t *at;
        struct vouch_dcap_eventlog *log = NULL;
        struct vouch_errbuf eb;
        json_t *c;

        assert_non_null(d);
        memcpy(d, orig, n);
        at = memmem(d, n, "root=/dev/vda1 console=hvc0 rw", 30);
        assert_non_null(at);
        at = memmem(at, 30, cases[i].from, strlen(cases[i].from));
        assert_non_null(at);
        assert_int_equal(strlen(cases[i].to), strlen(cases[i].from));
        memcpy(at, cases[i].to, strlen(cases[i].to));
        if (vouch_dcap_eventlog_parse(d, n, &log, &eb))
            fail_msg("case %zu: %s", i, eb.msg);
        c = claims_of(log);
        assert_non_null(str_at(c, "ccel", "kernel_cmdline"));
        assert_string_equal(str_at(c, "ccel", "kernel_cmdline"), cases[i].cmdline);
        assert_string_equal(param(c, cases[i].key), cases[i].value);
        assert_int_equal(json_object_size(json_object_get(json_object_get(c, "ccel"),
                                                          "kernel_parameters")), 3);
        json_decref(c);
        vouch_dcap_eventlog_free(log);
        free(d);
    }
    free(orig);
}

/* trustee's AA text logs replay to trustee's RTMR3 values and become tdx.aael claims. */
static void test_aael(void **state)
{
    static const struct {
        const char *file, *head, *tail, *domain, *flat;
        size_t n;
    } cases[] = {
        { V "trustee/AAEL_data_1", "71563a23b430b863", "0764", "image-rs",
          "image-rs/CreateContainer", 1 },
        { V "trustee/AAEL_data_3", "0de62b45b2977549", "3f06", "github.com/confidential-containers",
          "github.com/confidential-containers/CreateContainer", 2 },
    };
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_dcap_eventlog *log = NULL;
        struct vouch_errbuf eb;
        uint8_t *t = test_load(cases[i].file, &n);
        json_t *c, *aael;

        /* an empty dstack log: no firmware events in RTMR3 */
        assert_int_equal(vouch_dcap_eventlog_parse((const uint8_t *)"[]", 2, &log, NULL),
                         VOUCH_OK);
        if (vouch_dcap_eventlog_add_aael(log, (const char *)t, n, &eb))
            fail_msg("%s", eb.msg);
        assert_rtmr(log, 3, cases[i].head, cases[i].tail);
        c = claims_of(log);
        aael = json_object_get(c, "aael");
        assert_int_equal(json_array_size(json_object_get(json_object_get(aael, cases[i].domain),
                                                         "CreateContainer")), cases[i].n);
        assert_string_equal(json_string_value(json_array_get(json_object_get(
                                json_object_get(aael, cases[i].domain), "CreateContainer"), 0)),
                            "docker.io/library/alpine");
        assert_int_equal(json_array_size(json_object_get(aael, cases[i].flat)), cases[i].n);
        json_decref(c);
        free(t);
        vouch_dcap_eventlog_free(log);
    }
}

/* The GCP CCEL mutated: each breaks at its own step. */
#define FIRST_EVENT 65          /* the Spec ID record: 32-byte header + 33 bytes */
static void test_ccel_negative(void **state)
{
    enum { FLIP, TRUNCATE, INDEX5, OVERSIZE };
    static const struct {
        int how;
        vouch_err parse, verify;
    } cases[] = {
        { FLIP, VOUCH_OK, VOUCH_E_VERIFY },
        { TRUNCATE, VOUCH_E_TRUNCATED, 0 },
        { INDEX5, VOUCH_E_INVALID, 0 },
        { OVERSIZE, VOUCH_E_TOO_LARGE, 0 },
    };
    struct vouch_dcap_quote q;
    uint8_t *raw, *good;
    size_t i, n;

    (void)state;
    load_quote(V "go-tdx-guest/cos-113-tdx-quote.dat", &raw, &q);
    good = test_load(V "go-tdx-guest/ccel_data.dat", &n);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_dcap_eventlog *log = NULL;
        struct vouch_errbuf eb;
        uint8_t *d = malloc(n);
        size_t len = n;
        uint32_t index = good[FIRST_EVENT], count_off = FIRST_EVENT + 8;
        char want[64];

        memcpy(d, good, n);
        if (cases[i].how == FLIP)
            d[count_off + 4 + 2 + 7] ^= 1;            /* a byte of the SHA-384 digest */
        else if (cases[i].how == TRUNCATE)
            len = count_off + 20;
        else if (cases[i].how == INDEX5)
            d[FIRST_EVENT] = 5;
        else
            memset(d + count_off + 4 + 2 + 48, 0x7f, 4);   /* eventSize */
        assert_int_equal(vouch_dcap_eventlog_parse(d, len, &log, &eb), cases[i].parse);
        if (!cases[i].parse) {
            assert_int_equal(vouch_dcap_eventlog_verify(log, RTMRS(&q), NULL, &eb),
                             cases[i].verify);
            assert_int_equal(eb.sub, VOUCH_SUB_EVENTLOG);
            assert_string_equal(eb.field, "cc_eventlog");
            snprintf(want, sizeof(want), "RTMR%u (CC MR index %u)", index - 1, index);
            assert_non_null(strstr(eb.msg, want));
        }
        vouch_dcap_eventlog_free(log);
        free(d);
    }
    free(good);
    free(raw);
}

/*
 * An event with no SHA-384 digest (a digest count of 0 is well-formed: the
 * count may be under the header's) parses, and then cannot be replayed: a
 * 400 naming cc_eventlog, not a mismatch.
 */
static void test_ccel_no_sha384(void **state)
{
    struct vouch_dcap_eventlog *log = NULL;
    struct vouch_dcap_quote q;
    struct vouch_errbuf eb;
    uint8_t *raw, *d;
    size_t n, count_off = FIRST_EVENT + 8, digest = 2 + 48;

    (void)state;
    load_quote(V "go-tdx-guest/cos-113-tdx-quote.dat", &raw, &q);
    d = test_load(V "go-tdx-guest/ccel_data.dat", &n);
    assert_int_equal(d[count_off], 1);
    d[count_off] = 0;
    memmove(d + count_off + 4, d + count_off + 4 + digest, n - (count_off + 4 + digest));
    if (vouch_dcap_eventlog_parse(d, n - digest, &log, &eb))
        fail_msg("%s", eb.msg);
    assert_int_equal(vouch_dcap_eventlog_verify(log, RTMRS(&q), NULL, &eb), VOUCH_E_INVALID);
    assert_string_equal(eb.field, "cc_eventlog");
    assert_non_null(strstr(eb.msg, "no SHA-384 digest"));
    vouch_dcap_eventlog_free(log);
    free(d);
    free(raw);
}

/* A log for another quote: the dstack log against the GCP quote and back. */
static void test_foreign_quote(void **state)
{
    struct vouch_dcap_eventlog *gcp = parse_file(V "go-tdx-guest/ccel_data.dat");
    struct vouch_dcap_eventlog *ds = parse_file(V "dstack/event_log.json");
    struct vouch_dcap_quote qg, qd;
    struct vouch_errbuf eb;
    uint8_t *rg, *rd;

    (void)state;
    load_quote(V "go-tdx-guest/cos-113-tdx-quote.dat", &rg, &qg);
    load_quote(V "dstack/quote.bin", &rd, &qd);
    assert_int_equal(vouch_dcap_eventlog_verify(gcp, RTMRS(&qd), NULL, &eb), VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "RTMR0 (CC MR index 1)"));
    assert_non_null(strstr(eb.msg, "and more RTMRs differ"));
    assert_int_equal(vouch_dcap_eventlog_verify(ds, RTMRS(&qg), NULL, &eb), VOUCH_E_VERIFY);
    assert_int_equal(eb.sub, VOUCH_SUB_EVENTLOG);
    vouch_dcap_eventlog_free(gcp);
    vouch_dcap_eventlog_free(ds);
    free(rg);
    free(rd);
}

/* Replace the first `from` in s (a copy) by `to`. */
static char *replaced(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    char *out;

    assert_non_null(p);
    assert_true(asprintf(&out, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from)) > 0);
    return out;
}

/* dstack runtime events: digests recomputed; a wrong one fails, an empty one is filled in. */
static void test_dstack_negative(void **state)
{
    /* app-id's digest, and the same with one hex digit changed */
    static const char app_digest[] = "837c2dd72f8a4c740159e5e042ed79b7eaaa5ab3a151a45e27bc366bb8b2";
    static const struct {
        const char *from, *to;
        vouch_err parse, verify;
        const char *msg;
    } cases[] = {
        { app_digest, "937c2dd72f8a4c740159e5e042ed79b7eaaa5ab3a151a45e27bc366bb8b2",
          VOUCH_E_VERIFY, 0, "runtime event 'app-id'" },
        { "\"event\":\"app-id\",\"event_payload\":\"3763", "\"event\":\"app-id\",\"event_payload\":\"4763",
          VOUCH_E_VERIFY, 0, "runtime event 'app-id'" },
        { "\"imr\":3,\"event_type\":134217729,\"digest\":\"837c", "\"imr\":2,\"event_type\":134217729,\"digest\":\"837c",
          VOUCH_OK, VOUCH_E_VERIFY, "RTMR2 (CC MR index 3)" },
        { "\"imr\":3,\"event_type\":134217729,\"digest\":\"837c", "\"imr\":4,\"event_type\":134217729,\"digest\":\"837c",
          VOUCH_E_INVALID, 0, "imr 4" },
        { "\"imr\":0,\"event_type\":2147483659,\"digest\":\"8ae1", "\"imr\":0,\"event_type\":2147483659,\"digest\":\"zae1",
          VOUCH_E_INVALID, 0, "not hex" },
    };
    struct vouch_dcap_quote q;
    size_t i, n;
    uint8_t *raw, *good;
    char *text, *stripped;

    (void)state;
    load_quote(V "dstack/quote.bin", &raw, &q);
    good = test_load(V "dstack/event_log.json", &n);
    text = strndup((const char *)good, n);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_dcap_eventlog *log = NULL;
        struct vouch_errbuf eb;
        char *bad = replaced(text, cases[i].from, cases[i].to);

        assert_int_equal(vouch_dcap_eventlog_parse((uint8_t *)bad, strlen(bad), &log, &eb),
                         cases[i].parse);
        if (!cases[i].parse)
            assert_int_equal(vouch_dcap_eventlog_verify(log, RTMRS(&q), NULL, &eb),
                             cases[i].verify);
        if (!strstr(eb.msg, cases[i].msg))
            fail_msg("case %zu: '%s' lacks '%s'", i, eb.msg, cases[i].msg);
        vouch_dcap_eventlog_free(log);
        free(bad);
    }
    /* GetQuote's stripped form: a runtime digest "" is recomputed and still replays. */
    {
        struct vouch_dcap_eventlog *log = NULL;
        char *start, *end;

        stripped = strdup(text);
        start = strstr(stripped, "\"event\":\"app-id\"");
        assert_non_null(start);
        while (start > stripped && strncmp(start, "\"digest\":\"", 10) != 0)
            start--;
        start += 10;
        end = strchr(start, '"');
        memmove(start, end, strlen(end) + 1);
        assert_int_equal(vouch_dcap_eventlog_parse((uint8_t *)stripped, strlen(stripped), &log,
                                                   NULL), VOUCH_OK);
        assert_int_equal(vouch_dcap_eventlog_verify(log, RTMRS(&q), NULL, NULL), VOUCH_OK);
        vouch_dcap_eventlog_free(log);
        free(stripped);
    }
    free(text);
    free(good);
    free(raw);
}

/* The AA log on top of a CCEL: INIT must repeat the CCEL's RTMR3; the result must match. */
static void test_aael_on_ccel(void **state)
{
    static const char bad_init[] = "INIT sha384/01";
    struct vouch_dcap_eventlog *log = parse_file(V "go-tdx-guest/ccel_data.dat");
    struct vouch_dcap_quote q;
    struct vouch_errbuf eb;
    uint8_t *raw, *t;
    size_t n;
    char *other;

    (void)state;
    load_quote(V "go-tdx-guest/cos-113-tdx-quote.dat", &raw, &q);
    t = test_load(V "trustee/AAEL_data_1", &n);
    assert_int_equal(vouch_dcap_eventlog_add_aael(log, (const char *)t, n, NULL), VOUCH_OK);
    /* the quote's RTMR3 is zero: the AA log claims an extend that did not happen */
    assert_int_equal(vouch_dcap_eventlog_verify(log, RTMRS(&q), NULL, &eb), VOUCH_E_VERIFY);
    assert_string_equal(eb.field, "aa_eventlog");
    assert_non_null(strstr(eb.msg, "RTMR3 (CC MR index 4)"));
    /* INIT not the CCEL's RTMR3 (zero here) */
    other = strndup((const char *)t, n);
    other[12] = '1';
    assert_int_equal(vouch_dcap_eventlog_add_aael(log, other, n, NULL), VOUCH_OK);
    assert_int_equal(vouch_dcap_eventlog_verify(log, RTMRS(&q), NULL, &eb), VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "INIT value"));
    free(other);
    /* malformed AA logs */
    assert_int_equal(vouch_dcap_eventlog_add_aael(log, bad_init, strlen(bad_init), &eb),
                     VOUCH_E_INVALID);
    assert_int_equal(vouch_dcap_eventlog_add_aael(log, (const char *)t, 109, NULL), VOUCH_OK);
    other = strndup((const char *)t, n);
    memcpy(other + 109, "image-rs-no-spaces", 18);
    other[109 + 18] = 0;
    assert_int_equal(vouch_dcap_eventlog_add_aael(log, other, 127, &eb), VOUCH_E_INVALID);
    assert_non_null(strstr(eb.msg, "line 2"));
    free(other);
    free(t);
    free(raw);
    vouch_dcap_eventlog_free(log);
}

/* The verifier's step over an evidence document. */
static void test_evidence_document(void **state)
{
    struct vouch_dcap_quote q;
    struct vouch_errbuf eb;
    uint8_t *raw, *logb;
    size_t n;
    json_t *doc, *c;
    char *b64;

    (void)state;
    load_quote(V "dstack/quote.bin", &raw, &q);
    /* absent and null: allowed, and a claim says so */
    doc = json_pack("{s:n}", "cc_eventlog");
    c = json_object();
    assert_int_equal(vouch_dcap_eventlog_evidence(doc, &q, c, NULL, NULL), VOUCH_OK);
    assert_true(json_is_false(json_object_get(json_object_get(c, "eventlog"), "present")));
    assert_null(json_object_get(c, "uefi_event_logs"));
    json_decref(c);
    json_decref(doc);
    /* not base64 */
    doc = json_pack("{s:s}", "cc_eventlog", "*not base64*");
    c = json_object();
    assert_int_equal(vouch_dcap_eventlog_evidence(doc, &q, c, NULL, &eb), VOUCH_E_INVALID);
    assert_string_equal(eb.field, "cc_eventlog");
    json_decref(c);
    json_decref(doc);
    /* garbage that is base64: a malformed log is a 400, naming the field */
    doc = json_pack("{s:s}", "cc_eventlog", "AAAAAAAAAAAA");
    c = json_object();
    assert_int_equal(vouch_dcap_eventlog_evidence(doc, &q, c, NULL, &eb), VOUCH_E_INVALID);
    assert_string_equal(eb.field, "cc_eventlog");
    json_decref(c);
    json_decref(doc);
    /* only an AA log: RTMR3 alone is compared (this quote's RTMR3 is dstack's) */
    logb = test_load(V "trustee/AAEL_data_1", &n);
    doc = json_pack("{s:n, s:s%}", "cc_eventlog", "aa_eventlog", (const char *)logb, n);
    c = json_object();
    assert_int_equal(vouch_dcap_eventlog_evidence(doc, &q, c, NULL, &eb), VOUCH_E_VERIFY);
    assert_string_equal(eb.field, "aa_eventlog");
    assert_non_null(strstr(eb.msg, "RTMR3 (CC MR index 4)"));
    assert_null(strstr(eb.msg, "RTMR0"));
    json_decref(c);
    json_decref(doc);
    free(logb);
    /* dstack's log, base64 of the JSON */
    logb = test_load(V "dstack/event_log.json", &n);
    b64 = vouch_b64_alloc(logb, n, VOUCH_B64_STD);
    doc = json_pack("{s:s}", "cc_eventlog", b64);
    c = json_object();
    assert_int_equal(vouch_dcap_eventlog_evidence(doc, &q, c, NULL, &eb), VOUCH_OK);
    assert_string_equal(str_at(c, "eventlog", "format"), "dstack");
    assert_string_equal(str_at(c, "runtime_events", "instance-id"),
                        "c3714eb66990eace777b4e664c16e09375dec4c9");
    assert_non_null(json_object_get(c, "uefi_event_logs"));
    json_decref(c);
    /* the same, the per-event list left out and the verified log handed back */
    {
        struct vouch_dcap_eventlog *log = NULL;
        json_t *later = json_object();

        c = json_object();
        assert_int_equal(vouch_dcap_eventlog_evidence(doc, &q, c, &log, &eb), VOUCH_OK);
        assert_non_null(log);
        assert_null(json_object_get(c, "uefi_event_logs"));
        assert_string_equal(str_at(c, "runtime_events", "instance-id"),
                            "c3714eb66990eace777b4e664c16e09375dec4c9");
        assert_int_equal(vouch_dcap_eventlog_event_list(log, later, NULL), VOUCH_OK);
        assert_int_equal(json_array_size(json_object_get(later, "uefi_event_logs")), 20);
        vouch_dcap_eventlog_free(log);
        json_decref(later);
        json_decref(c);
    }
    json_decref(doc);
    free(b64);
    free(logb);
    free(raw);
}

/*
 * The claims in two parts (what the tdx verifier gives without, then on
 * demand with the per-event list) are the claims in one: every derived
 * claim the same, uefi_event_logs only in the second part.
 */
static void test_claims_in_two_parts(void **state)
{
    static const char *const logs[] = {
        V "go-tdx-guest/ccel_data.dat", V "dstack/event_log.json", V "dstack-lite/event_log.json",
        V "trustee/CCEL_data", V "trustee/CCEL_data_ovmf",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        struct vouch_dcap_eventlog *log = parse_file(logs[i]);
        json_t *whole = claims_of(log), *parts = json_object();

        assert_int_equal(vouch_dcap_eventlog_derived_claims(log, parts, NULL), VOUCH_OK);
        assert_null(json_object_get(parts, "uefi_event_logs"));
        assert_non_null(json_object_get(parts, "ccel"));
        assert_int_equal(json_object_size(parts) + 1, json_object_size(whole));
        assert_int_equal(vouch_dcap_eventlog_event_list(log, parts, NULL), VOUCH_OK);
        assert_true(json_array_size(json_object_get(parts, "uefi_event_logs")) > 0);
        if (!json_equal(whole, parts))
            fail_msg("%s: the claims in two parts differ from the whole", logs[i]);
        json_decref(whole);
        json_decref(parts);
        vouch_dcap_eventlog_free(log);
    }
    /* no log: nothing to add */
    {
        json_t *c = json_object();

        assert_int_equal(vouch_dcap_eventlog_event_list(NULL, c, NULL), VOUCH_OK);
        assert_int_equal(json_object_size(c), 0);
        json_decref(c);
    }
}

/*
 * The AA's current format: a tagged event ("LEAA", "domain operation
 * content") at CC MR index 4 appended to the CCEL, then 8 x 0xFF, as the
 * attester sends it.  trustee's vector: its SHA-384 is dad5f0e2...0d02.
 */
#define GCP_LOG_END 18101       /* the GCP log's last record ends here; 0xFF fill follows */
static void test_tagged_aael(void **state)
{
    static const char text[] = "domain operation content";
    uint8_t tagged[8 + sizeof(text) - 1], dg[48], rec[12 + 2 + 48 + 4 + sizeof(tagged)];
    uint8_t *gcp, *d;
    size_t n, off = 0;
    struct vouch_dcap_eventlog *log = NULL;
    char hex[97];
    json_t *c;

    (void)state;
    memcpy(tagged, "LEAA", 4);                         /* 0x4141454C little-endian */
    tagged[4] = sizeof(text) - 1;
    tagged[5] = tagged[6] = tagged[7] = 0;
    memcpy(tagged + 8, text, sizeof(text) - 1);
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA384, tagged, sizeof(tagged), dg), VOUCH_OK);
    vouch_hex_encode(dg, 48, hex);
    assert_memory_equal(hex, "dad5f0e2", 8);
    assert_string_equal(hex + 92, "0d02");
    memset(rec, 0, sizeof(rec));
    rec[off] = 4;                                      /* MRIndex 4 = RTMR3 */
    rec[off + 4] = 6;                                  /* EV_EVENT_TAG */
    rec[off + 8] = 1;                                  /* one digest */
    off += 12;
    rec[off] = 0x0c;                                   /* SHA-384 */
    memcpy(rec + off + 2, dg, 48);
    off += 50;
    rec[off] = sizeof(tagged);
    memcpy(rec + off + 4, tagged, sizeof(tagged));
    gcp = test_load(V "go-tdx-guest/ccel_data.dat", &n);
    d = malloc(GCP_LOG_END + sizeof(rec) + 8);
    memcpy(d, gcp, GCP_LOG_END);
    memcpy(d + GCP_LOG_END, rec, sizeof(rec));
    memset(d + GCP_LOG_END + sizeof(rec), 0xff, 8);
    assert_int_equal(vouch_dcap_eventlog_parse(d, GCP_LOG_END + sizeof(rec) + 8, &log, NULL),
                     VOUCH_OK);
    {
        uint8_t zero[96] = { 0 }, want[48];

        memcpy(zero + 48, dg, 48);
        assert_int_equal(vouch_hash(VOUCH_HASH_SHA384, zero, 96, want), VOUCH_OK);
        vouch_hex_encode(want, 48, hex);
        assert_rtmr(log, 3, hex, "");
    }
    c = claims_of(log);
    assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(
                            json_object_get(c, "aael"), "domain"), "operation"), 0)), "content");
    json_decref(c);
    vouch_dcap_eventlog_free(log);
    free(d);
    free(gcp);
}

/* Parse through both paths: the same error and message, or the same RTMRs and claims. */
static void same_on_both_paths(const char *text, size_t len)
{
    struct vouch_dcap_eventlog *fast = NULL, *slow = NULL;
    struct vouch_errbuf eb1 = { "" }, eb2 = { "" };
    uint8_t r1[VOUCH_DCAP_RTMR_COUNT][VOUCH_DCAP_RTMR_SIZE];
    uint8_t r2[VOUCH_DCAP_RTMR_COUNT][VOUCH_DCAP_RTMR_SIZE];
    vouch_err e1 = vouch_dcap_eventlog_parse_via((const uint8_t *)text, len, true, &fast, &eb1);
    vouch_err e2 = vouch_dcap_eventlog_parse_via((const uint8_t *)text, len, false, &slow, &eb2);

    if (e1 != e2 || strcmp(eb1.msg, eb2.msg) != 0)
        fail_msg("'%.80s': direct %d '%s', JSON %d '%s'", text, e1, eb1.msg, e2, eb2.msg);
    if (!e1) {
        json_t *c1 = json_object(), *c2 = json_object();

        assert_int_equal(vouch_dcap_eventlog_format(fast), vouch_dcap_eventlog_format(slow));
        assert_int_equal(vouch_dcap_eventlog_replay(fast, r1, NULL), VOUCH_OK);
        assert_int_equal(vouch_dcap_eventlog_replay(slow, r2, NULL), VOUCH_OK);
        assert_memory_equal(r1, r2, sizeof(r1));
        assert_int_equal(vouch_dcap_eventlog_claims(fast, c1, NULL), VOUCH_OK);
        assert_int_equal(vouch_dcap_eventlog_claims(slow, c2, NULL), VOUCH_OK);
        if (!json_equal(c1, c2))
            fail_msg("'%.80s': the claims differ", text);
        json_decref(c1);
        json_decref(c2);
    }
    vouch_dcap_eventlog_free(fast);
    vouch_dcap_eventlog_free(slow);
}

/*
 * dstack's direct reader (dstack.c) against the JSON path: on the vector,
 * and on logs that take the direct reader to each of its edges (where it
 * reads on, and where it gives up and leaves the answer to the JSON path).
 */
static void test_dstack_direct_reader(void **state)
{
#define D48 "\"digest\":\"8ae1e425351df7992c444586eff99d35af3b779aa2b0e981cb4b73bc5b279f2ade19b6a62a203fc3c3bbdaae80af596d\""
#define RT "\"imr\":3,\"event_type\":134217729,"
    static const char *const logs[] = {
        "[]", " [ ] ", "[", "[]x", "[] []", "{}", "\"[]\"", "[{}]", "[1]", "[null]",
        "[{\"imr\":0,\"event_type\":1," D48 "}]",
        " [ { \"imr\" : 0 , \"event_type\" : 1 , " D48 " } ] \n",
        "[{\"imr\":0,\"event_type\":1," D48 "},]",
        "[{\"imr\":0,\"event_type\":1," D48 ",}]",
        "[{\"imr\":0,\"event_type\":1," D48 "}",
        "[{\"imr\":0," D48 "}]",
        "[{\"event_type\":1," D48 "}]",
        "[{\"imr\":0,\"imr\":1,\"event_type\":1," D48 "}]",
        "[{\"imr\":0,\"event_type\":1," D48 ",\"other\":1}]",
        "[{\"imr\":4,\"event_type\":1," D48 "}]",
        "[{\"imr\":-0,\"event_type\":1," D48 "}]",
        "[{\"imr\":-1,\"event_type\":1," D48 "}]",
        "[{\"imr\":00,\"event_type\":1," D48 "}]",
        "[{\"imr\":0.0,\"event_type\":1," D48 "}]",
        "[{\"imr\":0e0,\"event_type\":1," D48 "}]",
        "[{\"imr\":\"0\",\"event_type\":1," D48 "}]",
        "[{\"imr\":0,\"event_type\":4294967296," D48 "}]",
        "[{\"imr\":0,\"event_type\":999999999999999999," D48 "}]",
        "[{\"imr\":0,\"event_type\":9999999999999999999," D48 "}]",
        "[{\"imr\":0,\"event_type\":99999999999999999999999," D48 "}]",
        "[{\"imr\":0,\"event_type\":1}]",
        "[{\"imr\":0,\"event_type\":1,\"digest\":\"00\"}]",
        "[{\"imr\":0,\"event_type\":1,\"digest\":null}]",
        "[{\"imr\":0,\"event_type\":1," D48 ",\"event_payload\":\"0g\"}]",
        "[{\"imr\":0,\"event_type\":1," D48 ",\"event_payload\":\"abc\"}]",
        "[{\"imr\":0,\"event_type\":1," D48 ",\"event_payload\":\"AbCd\"}]",
        "[{\"imr\":0,\"event_type\":1," D48 ",\"version\":2}]",
        "[{\"imr\":0,\"event_type\":1," D48 ",\"version\":3}]",
        "[{" RT "\"event\":\"app-id\",\"event_payload\":\"00ff\"}]",
        "[{" RT "\"event\":\"app-id\",\"event_payload\":\"00ff\",\"version\":2}]",
        "[{" RT "\"event\":\"app\\u0000id\",\"event_payload\":\"00ff\"}]",
        "[{" RT "\"event\":\"app\\\"id\",\"event_payload\":\"00ff\",\"version\":2}]",
        "[{" RT "\"event\":\"caf\xc3\xa9\",\"event_payload\":\"\"}]",
        "[{" RT "\"event\":\"bad\xc3\",\"event_payload\":\"\"}]",
        "[{" RT "\"event\":\"tab\there\",\"event_payload\":\"\"}]",
        "[{" RT "\"event\":\"a\",\"event_payload\":\"\"},{" RT "\"event\":\"a\"}]",
        "[{" RT "\"event\":\"x\"," D48 "}]",
        "[{" RT "\"event\":\"unterminated}]",
        "[{\"imr\":0,\"event_type\":1," D48 "}][{\"imr\":0}]",
        "\"[{\\\"imr\\\":0,\\\"event_type\\\":1}]\"",
    };
    uint8_t *vec;
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(logs) / sizeof(logs[0]); i++)
        same_on_both_paths(logs[i], strlen(logs[i]));
    vec = test_load(V "dstack/event_log.json", &n);
    same_on_both_paths((const char *)vec, n);
    for (i = 0; i < n; i += 97)         /* every 97th prefix of the real log */
        same_on_both_paths((const char *)vec, i);
    free(vec);
#undef D48
#undef RT
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ccel_gcp_pair),
        cmocka_unit_test(test_grub_initrd),
        cmocka_unit_test(test_ccel_no_sha384),
        cmocka_unit_test(test_dstack_pair),
        cmocka_unit_test(test_dstack_lite_pair),
        cmocka_unit_test(test_trustee_ccels),
        cmocka_unit_test(test_ccel_cmdline_not_utf8),
        cmocka_unit_test(test_aael),
        cmocka_unit_test(test_ccel_negative),
        cmocka_unit_test(test_foreign_quote),
        cmocka_unit_test(test_dstack_negative),
        cmocka_unit_test(test_aael_on_ccel),
        cmocka_unit_test(test_evidence_document),
        cmocka_unit_test(test_tagged_aael),
        cmocka_unit_test(test_claims_in_two_parts),
        cmocka_unit_test(test_dstack_direct_reader),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
