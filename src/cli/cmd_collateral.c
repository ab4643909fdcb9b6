/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "collateral/collateral.h"
#include "common/time.h"

/*
 * vouch collateral import [--db URL] [--dcap-root FILE] [--at RFC3339] PATH...
 * Every signature and chain is checked (at --at, default now) before
 * anything is stored; one bad document rejects that PATH whole.
 */
int vouch_cmd_collateral_import(int argc, char **argv)
{
    const char *db = vouch_cli_default_db(), *root_path = getenv("VOUCH_DCAP_ROOT");
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;
    X509 *root = NULL;
    int64_t now = vouch_clock_now();
    int i = 1, next, rc = VOUCH_EXIT_OK, npaths = 0;

    while (i < argc) {
        next = vouch_cli_db_opt(argc, argv, i, &db);
        if (next < 0)
            return vouch_cli_usage("collateral import");
        if (next != i) {
            i = next;
        } else if (strcmp(argv[i], "--dcap-root") == 0 && i + 1 < argc) {
            root_path = argv[i + 1];
            i += 2;
        } else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
            if (vouch_time_parse_rfc3339(argv[i + 1], strlen(argv[i + 1]), &now, NULL, &eb)) {
                fprintf(stderr, "vouch: --at: %s\n", eb.msg);
                return VOUCH_EXIT_USAGE;
            }
            i += 2;
        } else if (argv[i][0] == '-') {
            return vouch_cli_usage("collateral import");
        } else {
            npaths++;
            i++;
        }
    }
    if (!npaths)
        return vouch_cli_usage("collateral import");
    if (root_path && *root_path && vouch_collateral_load_root(root_path, &root, &eb)) {
        fprintf(stderr, "vouch: --dcap-root: %s\n", eb.msg);
        return VOUCH_EXIT_ERROR;
    }
    if (vouch_store_open(db, &s, &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        X509_free(root);
        return VOUCH_EXIT_ERROR;
    }
    for (i = 1; i < argc; i++) {
        json_t *report = NULL;
        size_t k;

        if (strcmp(argv[i], "--db") == 0 || strcmp(argv[i], "--dcap-root") == 0 ||
            strcmp(argv[i], "--at") == 0) {
            i++;
            continue;
        }
        if (argv[i][0] == '-')
            continue;
        if (vouch_collateral_import_path(s, root, argv[i], now, &report, &eb)) {
            fprintf(stderr, "vouch: %s: rejected, nothing stored: %s\n", argv[i], eb.msg);
            rc = VOUCH_EXIT_FAIL;
            continue;
        }
        for (k = 0; k < json_array_size(report); k++) {
            json_t *r = json_array_get(report, k);

            printf("%-10s %-32s next update %s%s\n",
                   json_string_value(json_object_get(r, "action")),
                   json_string_value(json_object_get(r, "id")),
                   json_string_value(json_object_get(r, "next_update")),
                   json_is_true(json_object_get(r, "expired")) ? " (expired)" : "");
        }
        json_decref(report);
    }
    vouch_store_close(s);
    X509_free(root);
    return rc;
}
