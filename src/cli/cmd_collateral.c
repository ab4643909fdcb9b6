/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "collateral/collateral.h"
#include "common/time.h"

int vouch_cli_import_args(int argc, char **argv, const char *cmd, const char *root_flag,
                          struct vouch_cli_import *im)
{
    struct vouch_errbuf eb;
    int i = 1, next;

    im->db = vouch_cli_default_db();
    im->now = vouch_clock_now();
    im->n_paths = 0;
    im->paths = calloc((size_t)argc + 1, sizeof(*im->paths));
    if (!im->paths) {
        fprintf(stderr, "vouch: out of memory\n");
        return VOUCH_EXIT_ERROR;
    }
    while (i < argc) {
        next = vouch_cli_db_opt(argc, argv, i, &im->db);
        if (next < 0)
            goto usage;
        if (next != i) {
            i = next;
        } else if (strcmp(argv[i], root_flag) == 0 && i + 1 < argc) {
            im->root = argv[i + 1];
            i += 2;
        } else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
            if (vouch_time_parse_rfc3339(argv[i + 1], strlen(argv[i + 1]), &im->now, NULL,
                                         &eb)) {
                fprintf(stderr, "vouch: --at: %s\n", eb.msg);
                free(im->paths);
                im->paths = NULL;
                return VOUCH_EXIT_USAGE;
            }
            i += 2;
        } else if (argv[i][0] == '-') {
            goto usage;
        } else {
            im->paths[im->n_paths++] = argv[i++];
        }
    }
    if (im->n_paths)
        return VOUCH_EXIT_OK;
usage:
    free(im->paths);
    im->paths = NULL;
    return vouch_cli_usage(cmd);
}

/*
 * vouch collateral import [--db URL] [--dcap-root FILE] [--at RFC3339] PATH...
 * Every signature and chain is checked (at --at, default now) before
 * anything is stored; one bad document rejects that PATH whole.
 */
int vouch_cmd_collateral_import(int argc, char **argv)
{
    struct vouch_cli_import im = { .root = getenv("VOUCH_DCAP_ROOT") };
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;
    X509 *root = NULL;
    int i, rc;

    rc = vouch_cli_import_args(argc, argv, "collateral import", "--dcap-root", &im);
    if (rc)
        return rc;
    if (im.root && *im.root && vouch_collateral_load_root(im.root, &root, &eb)) {
        fprintf(stderr, "vouch: --dcap-root: %s\n", eb.msg);
        rc = VOUCH_EXIT_ERROR;
        goto out;
    }
    if (vouch_store_open(im.db, &s, &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        rc = VOUCH_EXIT_ERROR;
        goto out;
    }
    for (i = 0; i < im.n_paths; i++) {
        json_t *report = NULL;
        size_t k;

        if (vouch_collateral_import_path(s, root, im.paths[i], im.now, &report, &eb)) {
            fprintf(stderr, "vouch: %s: rejected, nothing stored: %s\n", im.paths[i], eb.msg);
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
        vouch_cli_audit(s, "cli collateral import", im.paths[i], VOUCH_EXIT_OK);
    }
out:
    vouch_store_close(s);
    X509_free(root);
    free(im.paths);
    return rc;
}
