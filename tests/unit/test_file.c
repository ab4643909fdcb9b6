/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/file.h"

static void test_read(void **state)
{
    char path[] = "/tmp/vouch-file-XXXXXX";
    int fd = mkstemp(path);
    uint8_t *data = (uint8_t *)"untouched";
    size_t len = 7;
    struct vouch_errbuf eb;

    (void)state;
    assert_int_equal(write(fd, "abc\0def", 7), 7);
    close(fd);
    assert_int_equal(vouch_file_read(path, 7, &data, &len, &eb), VOUCH_OK);
    assert_int_equal(len, 7);
    assert_memory_equal(data, "abc\0def", 8); /* NUL-terminated after the data */
    free(data);
    data = (uint8_t *)"untouched";
    assert_int_equal(vouch_file_read(path, 6, &data, &len, &eb), VOUCH_E_TOO_LARGE);
    assert_non_null(strstr(eb.msg, path));
    assert_string_equal((char *)data, "untouched");
    unlink(path);
    assert_int_equal(vouch_file_read(path, 100, &data, &len, &eb), VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_file_read("/", 100, &data, &len, &eb), VOUCH_E_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
