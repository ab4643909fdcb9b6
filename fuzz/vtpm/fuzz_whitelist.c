/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: vTPM program-whitelist import (src/vtpm/whitelist.c), the
 * keylime runtime-policy and digest-list parsers behind it.  The first
 * byte picks the format (0 keylime, 1 digests, else detected from the
 * text).  An accepted whitelist must import again from its stored form
 * as keylime JSON with the same counts (what appraisals compile).
 */
#include <stdlib.h>
#include <string.h>

#include "vtpm/whitelist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const formats[] = { VOUCH_VTPM_WL_KEYLIME, VOUCH_VTPM_WL_DIGESTS };
    struct vouch_vtpm_wl_doc d = { 0 }, again = { 0 };
    const char *format;

    if (size < 1)
        return 0;
    format = data[0] < 2 ? formats[data[0]] : NULL;
    if (vouch_vtpm_whitelist_import(format, (const char *)data + 1, size - 1, &d, NULL))
        return 0;
    if (vouch_vtpm_whitelist_import(VOUCH_VTPM_WL_KEYLIME, d.document, strlen(d.document),
                                    &again, NULL) ||
        again.digests != d.digests || again.paths != d.paths || again.excludes != d.excludes)
        abort();
    vouch_vtpm_wl_doc_done(&again);
    vouch_vtpm_wl_doc_done(&d);
    return 0;
}
