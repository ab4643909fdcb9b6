/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the events that explain differing PCRs (src/vtpm/pcr_events.c), every PCR asked. */
#include <stdlib.h>

#include "vtpm/pcr_events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *out = NULL;

    if (vouch_vtpm_pcr_events(data, size, 0xffffffu, &out, NULL) == VOUCH_OK) {
        char *text = json_dumps(out, JSON_COMPACT);

        free(text);
        json_decref(out);
    }
    return 0;
}
