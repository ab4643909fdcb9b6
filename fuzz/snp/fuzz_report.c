/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the SEV-SNP report parser, its JSON form both ways and its
 * claims.  Input: a raw 1184-byte report, or (first byte '{') trustee's
 * tee=snp evidence document, parsed with its certificates.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "evidence/snp/snp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The JSON form keeps every signed byte the report's version defines
 * (bytes of a later version's fields are not read, so they do not
 * survive; they are zeroed in the copy compared against).
 */
static void report_round_trip(const struct vouch_snp_report *r)
{
    uint8_t back[VOUCH_SNP_REPORT_SIZE], want[VOUCH_SNP_REPORT_SIZE];
    json_t *j = NULL, *c = NULL;

    memcpy(want, r->raw, sizeof(want));
    if (!r->has_cpuid)
        memset(want + VOUCH_SNP_OFF_CPUID, 0, VOUCH_SNP_OFF_RESERVED1 - VOUCH_SNP_OFF_CPUID);
    if (!r->has_mit_vectors)
        memset(want + VOUCH_SNP_OFF_LAUNCH_MIT, 0,
               VOUCH_SNP_OFF_RESERVED3_V5 - VOUCH_SNP_OFF_LAUNCH_MIT);
    if (vouch_snp_report_to_json(r, &j, NULL) == VOUCH_OK &&
        vouch_snp_report_from_json(j, back, NULL) == VOUCH_OK &&
        memcmp(back, want, VOUCH_SNP_OFF_RESERVED_TAIL) != 0)
        abort();
    json_decref(j);
    if (vouch_snp_claims(r, &c, NULL) == VOUCH_OK)
        json_decref(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vouch_snp_report r;
    struct vouch_snp_evidence ev;

    if (size > 0 && data[0] == '{') {
        if (vouch_snp_evidence_parse(data, size, &ev, NULL) == VOUCH_OK) {
            report_round_trip(&ev.report);
            vouch_snp_evidence_done(&ev);
        }
        return 0;
    }
    if (vouch_snp_report_parse(data, size, &r, NULL) == VOUCH_OK)
        report_round_trip(&r);
    return 0;
}
