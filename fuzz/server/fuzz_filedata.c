/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver over PutMessage's FileData decoding
 * (vouch_vtpm_filedata_decode, docs/vtpm.md "FileData").  An input is the
 * JSON document; the driver base64-encodes it as an agent would (so the
 * fuzzer works on the JSON, not on base64), and also decodes the input
 * as-is (the base64 layer).  Invariants: no crash, no leak; a failure's
 * message names FileData; a success has a quote, a signature and PCRs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "server/vtpm_filedata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_one(const char *text, size_t len)
{
    struct vouch_vtpm_filedata fd;
    struct vouch_errbuf eb;
    vouch_err e = vouch_vtpm_filedata_decode(text, len, &fd, &eb);
    unsigned h;
    bool any = false;

    if (e) {
        if (strncmp(eb.msg, "FileData", 8) != 0)
            abort();
    } else {
        for (h = 0; h < VOUCH_HASH__COUNT; h++)
            any |= fd.pcrs.mask[h] != 0;
        if (!fd.quote || !fd.sig || !any || (fd.has_ima && !fd.ima))
            abort();
    }
    vouch_vtpm_filedata_done(&fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *b64;

    if (size > (1u << 20))
        return 0;
    b64 = vouch_b64_alloc(data, size, VOUCH_B64_STD);
    if (!b64)
        return 0;
    decode_one(b64, strlen(b64));
    free(b64);
    decode_one((const char *)data, size);
    return 0;
}
