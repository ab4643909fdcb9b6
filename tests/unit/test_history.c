/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The attestation history's writer (src/server/history.c) over a real
 * SQLite store: rows arrive in order, several batches' worth, strings are
 * copied and capped, the table keeps the newest `keep`, and stopping writes
 * what is still queued.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "server/history.h"

static void test_writer(void **state)
{
    char dir[] = "/tmp/vouch-history-XXXXXX", url[96], cmd[64], ids[40], long_code[300];
    struct vouch_store_attestation row, *got = NULL;
    struct vouch_history *h = NULL;
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;
    const size_t total = VOUCH_HISTORY_BATCH * 2 + 17;   /* more than one batch */
    size_t n = 0, i;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(url, sizeof(url), "sqlite:%s/v.db", dir);
    assert_int_equal(vouch_store_open(url, &s, &eb), VOUCH_OK);
    assert_int_equal(vouch_history_start(s, 500, &h, &eb), VOUCH_OK);
    memset(long_code, 'C', sizeof(long_code) - 1);
    long_code[sizeof(long_code) - 1] = '\0';
    for (i = 0; i < total; i++) {
        memset(&row, 0, sizeof(row));
        row.time_ms = (int64_t)i;
        snprintf(row.tee, sizeof(row.tee), "tdx");
        snprintf(ids, sizeof(ids), "[\"p%zu\"]", i);
        row.policy_ids = ids;                   /* the writer copies: reused at once */
        row.allow = i % 2;
        row.tcb_status = i == total - 1 ? NULL : "UpToDate";
        row.http_status = 200;
        row.error_code = i == total - 1 ? long_code : "";
        snprintf(row.request_id, sizeof(row.request_id), "r%zu", i);
        assert_true(vouch_history_add(h, &row));
    }
    vouch_history_stop(h);                      /* writes the queue, then returns */
    assert_int_equal(vouch_store_attestation_list(s, 0, 1000, &got, &n, &eb), VOUCH_OK);
    assert_int_equal(n, 500);                   /* the newest `keep` */
    for (i = 0; i < n; i++) {
        size_t want = total - 1 - i;

        snprintf(ids, sizeof(ids), "[\"p%zu\"]", want);
        assert_int_equal(got[i].time_ms, (int64_t)want);
        assert_string_equal(got[i].policy_ids, ids);
        assert_int_equal(got[i].allow, (int64_t)(want % 2));
        snprintf(ids, sizeof(ids), "r%zu", want);
        assert_string_equal(got[i].request_id, ids);
    }
    assert_string_equal(got[0].tcb_status, "");            /* NULL is stored as "" */
    assert_int_equal(strlen(got[0].error_code), 96);       /* capped */
    assert_string_equal(got[1].tcb_status, "UpToDate");
    vouch_store_attestations_free(got, n);
    vouch_history_stop(NULL);
    vouch_store_close(s);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer),
    };

    return cmocka_run_group_tests_name("history", tests, NULL, NULL);
}
