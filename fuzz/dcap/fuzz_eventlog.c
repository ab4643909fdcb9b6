/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: TDX event logs.  The first byte selects the input: 0 a CC
 * event log (CCEL log area or dstack JSON, detected from the content),
 * replayed, compared with zero RTMRs and turned into claims; 1 trustee's AA
 * text log on an empty log, the same way.
 */
#include <stdlib.h>

#include "evidence/dcap/dcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t zero_rtmrs[VOUCH_DCAP_RTMR_COUNT * VOUCH_DCAP_RTMR_SIZE];
    struct vouch_dcap_eventlog *log = NULL;
    json_t *claims, *report = NULL;
    vouch_err e;

    if (size < 1)
        return 0;
    if (data[0] == 0)
        e = vouch_dcap_eventlog_parse(data + 1, size - 1, &log, NULL);
    else if (vouch_dcap_eventlog_parse((const uint8_t *)"[]", 2, &log, NULL) == VOUCH_OK)
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
