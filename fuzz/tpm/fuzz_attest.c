/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the TPM structures unmarshalled with libtss2-mu (TPMS_ATTEST /
 * TPM2B_ATTEST, TPMT_SIGNATURE, TPM2B_PUBLIC / TPMT_PUBLIC / PEM keys), the
 * claims rendering, and a verification against a fixed AK with the input
 * split into quote and signature at the offset given by its first byte.
 */
#include <stdlib.h>
#include <string.h>

#include "evidence/tpm/quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tests/vectors/tpm/swtpm-generated/ak_ecc.tpm2b_public */
static const unsigned char ak_ecc[] = {
  0x00, 0x58, 0x00, 0x23, 0x00, 0x0b, 0x00, 0x05, 0x00, 0x72, 0x00, 0x00,
  0x00, 0x10, 0x00, 0x18, 0x00, 0x0b, 0x00, 0x03, 0x00, 0x10, 0x00, 0x20,
  0x39, 0x25, 0x57, 0x3b, 0xa9, 0xb2, 0x35, 0xb8, 0x0a, 0x55, 0x1f, 0xcd,
  0x8b, 0x13, 0x70, 0x2c, 0x1f, 0x87, 0x99, 0x5b, 0xf4, 0x51, 0xd1, 0xe4,
  0x75, 0x0b, 0x5d, 0x25, 0x36, 0x17, 0x7e, 0x3d, 0x00, 0x20, 0xb7, 0x01,
  0xc5, 0x3f, 0x76, 0x26, 0xa0, 0xf2, 0x92, 0xfa, 0x30, 0xee, 0xe4, 0x47,
  0x07, 0x41, 0xa1, 0x31, 0x0c, 0x74, 0xd6, 0x4c, 0x7c, 0xfa, 0xd5, 0x26,
  0x84, 0xb4, 0x8c, 0xaa, 0x8a, 0x5b
};
static const unsigned int ak_ecc_len = 90;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vouch_tpm_key *ak;
    struct vouch_tpm_quote q;
    struct vouch_tpm_key *k = NULL;
    json_t *c = NULL;

    if (!ak && vouch_tpm_key_load(ak_ecc, ak_ecc_len, 0, &ak, NULL))
        abort();
    if (vouch_tpm_quote_parse(data, size, &q, NULL) == VOUCH_OK &&
        vouch_tpm_quote_claims(&q, ak, NULL, &c) == VOUCH_OK)
        json_decref(c);
    memset(&q, 0, sizeof(q));
    (void)vouch_tpm_signature_parse(data, size, &q, NULL);
    if (vouch_tpm_key_load(data, size, VOUCH_TPM_KEY_REQUIRE_AK_ATTRS, &k, NULL) == VOUCH_OK)
        vouch_tpm_key_free(k);
    if (size > 1) {
        size_t cut = 1 + (size_t)data[0] * (size - 1) / 255;
        struct vouch_tpm_pcrs pcrs;
        struct vouch_tpm_quote_check chk = { NULL, 0, &pcrs, NULL, 0, VOUCH_TPM_QUOTE_ALLOW_SHA1 };

        vouch_tpm_pcrs_init(&pcrs);
        (void)vouch_tpm_quote_verify(ak, data + 1, cut - 1, data + cut, size - cut, &chk, NULL, NULL);
    }
    return 0;
}
