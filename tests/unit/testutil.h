/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_TESTS_TESTUTIL_H
#define VOUCH_TESTS_TESTUTIL_H

/* Helpers shared by the cmocka suites (include after <cmocka.h>). */

#include <stdint.h>
#include <stdlib.h>

#include "common/file.h"

/* Load a test vector (path relative to the source root) or fail the test. */
static inline uint8_t *test_load(const char *path, size_t *ret_len)
{
    struct vouch_errbuf eb;
    uint8_t *data = NULL;

    if (vouch_file_read(path, 64u << 20, &data, ret_len, &eb) != VOUCH_OK)
        fail_msg("%s", eb.msg);
    return data;
}

#endif
