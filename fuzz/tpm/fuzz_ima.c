/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: IMA logs in both forms (the form is detected from the first
 * byte): parsing, replay, prefix verification, the ASCII rendering and a
 * whitelist check with an exclusion.
 */
#include <stdlib.h>

#include "evidence/tpm/ima.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vouch_ima_policy *pol;
    struct vouch_ima_log *log = NULL;
    struct vouch_ima_state s;
    struct vouch_ima_result r;
    struct vouch_tpm_pcrs q;
    struct vouch_buf out = VOUCH_BUF_INIT(64u << 20);
    json_t *unknown, *c = NULL;
    size_t n;

    if (!pol) {
        static const uint8_t d[32] = { 1 };

        if (vouch_ima_policy_new(&pol) || vouch_ima_policy_add_exclude(pol, "/tmp/.*", NULL) ||
            vouch_ima_policy_add_digest(pol, "/usr/bin/a", 10, d, 32, NULL) ||
            vouch_ima_policy_add_buffer(pol, ".ima", d, 32, NULL))
            abort();
    }
    if (vouch_ima_log_parse(data, size, &log, NULL))
        return 0;
    (void)vouch_ima_format_ascii(log, &out);
    unknown = json_array();
    (void)vouch_ima_policy_check(pol, log, 0, log->n, 0, unknown, 50, &n, NULL);
    if (vouch_ima_replay(log, NULL, (1u << VOUCH_HASH_SHA1) | (1u << VOUCH_HASH_SHA256), 0, &s,
                         NULL) == VOUCH_OK) {
        vouch_tpm_pcrs_init(&q);
        vouch_tpm_pcrs_set(&q, VOUCH_HASH_SHA256, VOUCH_IMA_PCR, s.pcr[VOUCH_HASH_SHA256], 32, NULL);
        if (vouch_ima_verify(log, 0, NULL, &q, 0, &r, NULL) == VOUCH_OK &&
            vouch_ima_claims(log, &r, unknown, n, &c) == VOUCH_OK)
            json_decref(c);
    }
    json_decref(unknown);
    vouch_buf_free(&out);
    vouch_ima_log_free(log);
    return 0;
}
