/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The UEFI events that explain a differing PCR (src/vtpm/pcr_events.c): on a
 * real firmware log (go-tpm-tools' debian-10.bin, whose event numbers, types
 * and variable names tpm2_eventlog prints the same), the bounds on events per
 * PCR and on descriptions, and logs that do not parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tpm_testutil.h"
#include "vtpm/pcr_events.h"

#define DEBIAN TPM_VEC "go-tpm-tools/debian-10.bin"

/* One expected event: PCR, its place among that PCR's events, and what it is. */
static const struct {
    unsigned pcr;
    size_t at;
    int64_t event_num;
    const char *type;
    const char *description;     /* NULL: not checked */
} debian_events[] = {
    { 7, 0, 2, "EV_EFI_VARIABLE_DRIVER_CONFIG", "SecureBoot" },
    { 7, 1, 3, "EV_EFI_VARIABLE_DRIVER_CONFIG", "PK" },
    { 7, 2, 4, "EV_EFI_VARIABLE_DRIVER_CONFIG", "KEK" },
    { 7, 4, 6, "EV_EFI_VARIABLE_DRIVER_CONFIG", "dbx" },
    { 7, 5, 7, "EV_SEPARATOR", "" },
    { 7, 6, 19, "EV_EFI_VARIABLE_AUTHORITY", "db" },
    { 7, 7, 23, "EV_EFI_VARIABLE_AUTHORITY", "Shim" },
    { 4, 0, 11, "EV_EFI_ACTION", "Calling EFI Application from Boot Option" },
    { 4, 1, 16, "EV_SEPARATOR", "" },
    { 4, 2, 21, "EV_EFI_BOOT_SERVICES_APPLICATION", NULL },
    { 5, 1, 20, "EV_EFI_GPT_EVENT", "" },
};

static json_t *events_of(const char *path, uint32_t mask)
{
    struct vouch_errbuf eb;
    size_t len;
    uint8_t *log = tu_read(path, &len);
    json_t *out = NULL;

    if (vouch_vtpm_pcr_events(log, len, mask, &out, &eb))
        fail_msg("%s: %s", path, eb.msg);
    free(log);
    return out;
}

static void test_real_log(void **state)
{
    json_t *out = events_of(DEBIAN, 1u << 4 | 1u << 5 | 1u << 7), *ev;
    char name[8];
    size_t i;

    (void)state;
    assert_int_equal(json_object_size(out), 3);
    for (i = 0; i < sizeof(debian_events) / sizeof(debian_events[0]); i++) {
        snprintf(name, sizeof(name), "pcr%u", debian_events[i].pcr);
        ev = json_array_get(json_object_get(json_object_get(out, name), "Events"),
                            debian_events[i].at);
        assert_non_null(ev);
        assert_int_equal(json_integer_value(json_object_get(ev, "EventNum")),
                         debian_events[i].event_num);
        assert_string_equal(json_string_value(json_object_get(ev, "Type")), debian_events[i].type);
        if (debian_events[i].description)
            assert_string_equal(json_string_value(json_object_get(ev, "Description")),
                                debian_events[i].description);
        /* a SHA-1 log: the digest is the sha1 one */
        assert_int_equal(strlen(json_string_value(json_object_get(ev, "Digest"))), 40);
    }
    /* the boot application's description is its device path */
    ev = json_array_get(json_object_get(json_object_get(out, "pcr4"), "Events"), 2);
    assert_non_null(strstr(json_string_value(json_object_get(ev, "Description")), "\\EFI\\"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "pcr7"), "Omitted")), 0);
    json_decref(out);
    /* PCRs outside the mask, or none: nothing */
    out = events_of(DEBIAN, 1u << 9 | 1u << 12);
    assert_int_equal(json_object_size(out), 0);
    json_decref(out);
    out = events_of(DEBIAN, 0);
    assert_int_equal(json_object_size(out), 0);
    json_decref(out);
}

/* A legacy SHA-1 log of `n` EV_EFI_ACTION events on PCR 8, each `text_len` 'a's. */
static uint8_t *action_log(size_t n, size_t text_len, size_t *ret_len)
{
    size_t rec = 4 + 4 + 20 + 4 + text_len, i;
    uint8_t *log = calloc(n, rec), *p;

    assert_non_null(log);
    for (i = 0, p = log; i < n; i++, p += rec) {
        p[0] = 8;                                    /* PCR index, little-endian */
        memcpy(p + 4, "\x07\x00\x00\x80", 4);        /* EV_EFI_ACTION */
        memset(p + 8, 0x11, 20);
        p[28] = (uint8_t)(text_len & 0xff);
        p[29] = (uint8_t)(text_len >> 8);
        memset(p + 32, 'a', text_len);
    }
    *ret_len = n * rec;
    return log;
}

static void test_bounds(void **state)
{
    static const struct {
        size_t n, text_len;
        size_t kept, omitted, description_len;
    } cases[] = {
        { 1, 10, 1, 0, 10 },
        { VOUCH_VTPM_PCR_EVENTS_PER_PCR, 10, VOUCH_VTPM_PCR_EVENTS_PER_PCR, 0, 10 },
        { VOUCH_VTPM_PCR_EVENTS_PER_PCR + 9, 10, VOUCH_VTPM_PCR_EVENTS_PER_PCR, 9, 10 },
        { 2, 1000, 2, 0, VOUCH_VTPM_PCR_EVENT_TEXT_MAX },
    };
    struct vouch_errbuf eb;
    json_t *out = NULL, *pcr;
    uint8_t *log;
    size_t len, i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        log = action_log(cases[i].n, cases[i].text_len, &len);
        assert_int_equal(vouch_vtpm_pcr_events(log, len, 1u << 8, &out, &eb), VOUCH_OK);
        pcr = json_object_get(out, "pcr8");
        assert_int_equal(json_array_size(json_object_get(pcr, "Events")), cases[i].kept);
        assert_int_equal(json_integer_value(json_object_get(pcr, "Omitted")), cases[i].omitted);
        assert_int_equal(strlen(json_string_value(json_object_get(
                             json_array_get(json_object_get(pcr, "Events"), 0), "Description"))),
                         cases[i].description_len);
        json_decref(out);
        free(log);
    }
}

static void test_bad_logs(void **state)
{
    static const uint8_t truncated[] = { 8, 0, 0, 0, 7, 0, 0, 0x80, 1, 2, 3 };
    struct vouch_errbuf eb;
    size_t len;
    uint8_t *bogus = tu_read(TPM_VEC "keylime/binary_bios_measurements-bogus", &len);
    json_t *out = NULL;

    (void)state;
    assert_int_not_equal(vouch_vtpm_pcr_events(bogus, len, 0xffffff, &out, &eb), VOUCH_OK);
    assert_int_not_equal(vouch_vtpm_pcr_events(truncated, sizeof(truncated), 0xffffff, &out, &eb),
                         VOUCH_OK);
    assert_int_not_equal(vouch_vtpm_pcr_events(truncated, 0, 0xffffff, &out, &eb), VOUCH_OK);
    assert_null(out);
    free(bogus);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_log),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_bad_logs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
