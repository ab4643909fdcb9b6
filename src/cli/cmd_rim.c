/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "collateral/rim.h"
#include "common/file.h"
#include "common/time.h"
#include "evidence/nvgpu/nvgpu.h"

/* Import one file; prints a line either way.  Returns false when rejected. */
static bool import_file(struct vouch_store *s, STACK_OF(X509) *roots, const char *path,
                        int64_t now)
{
    struct vouch_errbuf eb;
    json_t *report = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    bool ok = false;

    if (vouch_file_read(path, VOUCH_NVGPU_RIM_MAX * 2, &data, &len, &eb) ||
        vouch_rim_import(s, roots, data, len, path, now, NULL, &report, &eb)) {
        fprintf(stderr, "vouch: %s: rejected: %s\n", path, eb.msg);
        goto out;
    }
    printf("stored  %-48s %-6s %-16s valid until %s\n",
           json_string_value(json_object_get(report, "id")),
           json_string_value(json_object_get(report, "kind")),
           json_string_value(json_object_get(report, "version")),
           json_string_value(json_object_get(report, "not_after")));
    ok = true;
out:
    json_decref(report);
    free(data);
    return ok;
}

/* A file, or every regular file of a directory (not recursive). */
static bool import_path(struct vouch_store *s, STACK_OF(X509) *roots, const char *path,
                        int64_t now)
{
    struct dirent **names = NULL;
    struct stat st;
    bool ok = true;
    int n, i;

    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return import_file(s, roots, path, now);
    n = scandir(path, &names, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "vouch: %s: cannot list the directory\n", path);
        return false;
    }
    for (i = 0; i < n; i++) {
        char *full = NULL;

        if (names[i]->d_name[0] != '.' &&
            asprintf(&full, "%s/%s", path, names[i]->d_name) > 0 && stat(full, &st) == 0 &&
            S_ISREG(st.st_mode))
            ok = import_file(s, roots, full, now) && ok;
        free(full);
        free(names[i]);
    }
    free(names);
    return ok;
}

/*
 * vouch rim import [--db URL] [--rim-root FILE] [--at RFC3339] PATH...
 * Each RIM's chain (to NVIDIA's RIM root, or --rim-root), validity at --at
 * (default now) and signature are checked before it is stored.
 */
int vouch_cmd_rim_import(int argc, char **argv)
{
    struct vouch_cli_import im = { .root = NULL };
    struct vouch_nvgpu_trust *t = NULL;
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;
    int i, rc;

    rc = vouch_cli_import_args(argc, argv, "rim import", "--rim-root", &im);
    if (rc)
        return rc;
    if (vouch_nvgpu_trust_new(&t, &eb) ||
        (im.root && vouch_nvgpu_trust_load_roots(t, true, im.root, &eb))) {
        fprintf(stderr, "vouch: --rim-root: %s\n", eb.msg);
        rc = VOUCH_EXIT_ERROR;
        goto out;
    }
    if (vouch_store_open(im.db, &s, &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        rc = VOUCH_EXIT_ERROR;
        goto out;
    }
    for (i = 0; i < im.n_paths; i++) {
        if (!import_path(s, vouch_nvgpu_trust_rim_roots(t), im.paths[i], im.now))
            rc = VOUCH_EXIT_FAIL;
        else
            vouch_cli_audit(s, "cli rim import", im.paths[i], VOUCH_EXIT_OK);
    }
out:
    vouch_store_close(s);
    vouch_nvgpu_trust_free(t);
    free(im.paths);
    return rc;
}

/* vouch rim list [--db URL] */
int vouch_cmd_rim_list(int argc, char **argv)
{
    const char *db = vouch_cli_default_db();
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;
    json_t *list = NULL, *r;
    int i = 1, next, rc = VOUCH_EXIT_OK;
    size_t k;

    while (i < argc) {
        next = vouch_cli_db_opt(argc, argv, i, &db);
        if (next < 0 || next == i)
            return vouch_cli_usage("rim list");
        i = next;
    }
    if ((rc = vouch_cli_store_open(db, VOUCH_CLI_STORE_EXISTING, &s)))
        goto out;
    if (vouch_rim_list(s, &list, &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        rc = VOUCH_EXIT_ERROR;
        goto out;
    }
    json_array_foreach(list, k, r)
        printf("%-48s %-6s %-16s valid until %s\n",
               json_string_value(json_object_get(r, "id")),
               json_string_value(json_object_get(r, "kind")),
               json_string_value(json_object_get(r, "version")),
               json_string_value(json_object_get(r, "not_after")));
out:
    json_decref(list);
    vouch_store_close(s);
    return rc;
}
