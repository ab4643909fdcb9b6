/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver over what POST /v1/attestation does with a body before
 * any key is touched: JSON, both request forms (vouch_attest_req_parse:
 * tee, base64url evidence, runtime/init data with their hashes, TOML init
 * data, challenge tokens, policy ids), then each item's verifier on its
 * decoded evidence document without trust anchors (so a DCAP quote is
 * parsed and the GPU documents are read, and every path ends in an error
 * rather than a verdict; tee=tpm, whose AK is in the evidence, may
 * verify).  Invariants: no crash, no leak, and a failed parse always
 * names a status and a code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "server/attest_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t secret[32] = { 1 };
    struct vouch_attest_problem p;
    struct vouch_attest_req req;
    json_t *body = NULL;
    size_t i;

    if (vouch_json_parse(data, size, &body, NULL))
        return 0;
    memset(&p, 0, sizeof(p));
    if (!vouch_attest_req_parse(body, 1u << 20, &req, &p)) {
        if (p.status < 400 || p.status > 599 || !p.code)
            abort();
        vouch_attest_req_done(&req);
        json_decref(body);
        return 0;
    }
    for (i = 0; i < req.n_items; i++) {
        struct vouch_attest_item *it = &req.items[i];
        struct vouch_binding b = {
            it->has_runtime ? it->runtime.bytes : NULL, it->runtime.len,
            it->has_init ? it->init.bytes : NULL, it->init.len,
        };
        struct vouch_errbuf eb;
        json_t *claims = NULL;

        memset(&p, 0, sizeof(p));
        (void)vouch_attest_check_challenge(it, secret, 1700000000, &p);
        /*
         * No trust anchors: nothing can verify, except tee=tpm, whose AK
         * travels with the evidence (policies decide whether to trust it).
         */
        if (it->verifier->verify(it->verifier, NULL, it->evidence, it->evidence_len, &b,
                                 1700000000, &claims, &eb) == VOUCH_OK &&
            strcmp(it->verifier->tee, "tpm") != 0)
            abort();
        json_decref(claims);
    }
    vouch_attest_req_done(&req);
    json_decref(body);
    return 0;
}
