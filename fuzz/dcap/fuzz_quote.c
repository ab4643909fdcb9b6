/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the quote parser, hex decoding and claims rendering. */
#include <stdlib.h>

#include "evidence/dcap/dcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vouch_dcap_quote q;
    uint8_t *bin;
    size_t len;
    bool owned;
    json_t *c = NULL;

    if (vouch_dcap_quote_decode(data, size, &bin, &len, &owned, NULL))
        return 0;
    if (vouch_dcap_quote_parse(bin, len, &q, NULL) == VOUCH_OK &&
        vouch_dcap_claims(&q, NULL, NULL, &c, NULL) == VOUCH_OK)
        json_decref(c);
    if (owned)
        free(bin);
    return 0;
}
