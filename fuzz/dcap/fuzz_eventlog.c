/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: TDX event logs.  The first byte selects the input: 0 a CC
 * event log (CCEL log area or dstack JSON, detected from the content),
 * replayed, compared with zero RTMRs and turned into claims; 1 trustee's AA
 * text log on an empty log, the same way.  A CC event log is also parsed
 * with dstack's direct reader off (vouch_dcap_eventlog_parse_via): both
 * paths must give the same error and message, or the same replayed RTMRs
 * and claims, or the fuzzer aborts.
 */
#include <stdlib.h>
#include <string.h>

#include "evidence/dcap/dcap.h"
#include "evidence/dcap/dcap_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *claims_of(const struct vouch_dcap_eventlog *log)
{
    json_t *claims = json_object();

    if (claims && vouch_dcap_eventlog_claims(log, claims, NULL) != VOUCH_OK) {
        json_decref(claims);
        return NULL;
    }
    return claims;
}

/* The direct reader and the JSON path agree on this log. */
static void compare_paths(const uint8_t *data, size_t size, const struct vouch_dcap_eventlog *log,
                          vouch_err e, const struct vouch_errbuf *eb)
{
    struct vouch_dcap_eventlog *slow = NULL;
    struct vouch_errbuf eb2 = { "" };
    uint8_t r1[VOUCH_DCAP_RTMR_COUNT][VOUCH_DCAP_RTMR_SIZE];
    uint8_t r2[VOUCH_DCAP_RTMR_COUNT][VOUCH_DCAP_RTMR_SIZE];
    vouch_err e2 = vouch_dcap_eventlog_parse_via(data, size, false, &slow, &eb2);
    json_t *c1, *c2;

    if (e2 != e || strcmp(eb->msg, eb2.msg) != 0)
        abort();
    if (e == VOUCH_OK) {
        vouch_err x1 = vouch_dcap_eventlog_replay(log, r1, NULL);

        if (x1 != vouch_dcap_eventlog_replay(slow, r2, NULL) ||
            (x1 == VOUCH_OK && memcmp(r1, r2, sizeof(r1)) != 0) ||
            vouch_dcap_eventlog_format(log) != vouch_dcap_eventlog_format(slow))
            abort();
        c1 = claims_of(log);
        c2 = claims_of(slow);
        if (!c1 != !c2 || (c1 && !json_equal(c1, c2)))
            abort();
        json_decref(c1);
        json_decref(c2);
    }
    vouch_dcap_eventlog_free(slow);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t zero_rtmrs[VOUCH_DCAP_RTMR_COUNT * VOUCH_DCAP_RTMR_SIZE];
    struct vouch_dcap_eventlog *log = NULL;
    struct vouch_errbuf eb = { "" };
    json_t *claims, *report = NULL;
    vouch_err e;

    if (size < 1)
        return 0;
    if (data[0] == 0) {
        e = vouch_dcap_eventlog_parse(data + 1, size - 1, &log, &eb);
        compare_paths(data + 1, size - 1, log, e, &eb);
    } else if (vouch_dcap_eventlog_parse((const uint8_t *)"[]", 2, &log, NULL) == VOUCH_OK)
        e = vouch_dcap_eventlog_add_aael(log, (const char *)data + 1, size - 1, NULL);
    else
        return 0;
    if (e == VOUCH_OK) {
        (void)vouch_dcap_eventlog_verify(log, zero_rtmrs, &report, NULL);
        json_decref(report);
        claims = json_object();
        if (claims)
            (void)vouch_dcap_eventlog_claims(log, claims, NULL);
        json_decref(claims);
    }
    vouch_dcap_eventlog_free(log);
    return 0;
}
