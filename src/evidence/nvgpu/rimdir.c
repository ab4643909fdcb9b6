/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/file.h"
#include "evidence/nvgpu/rim.h"

/*
 * A directory of RIM files (vouch inspect gpu --rims DIR, tests).  Indexed
 * once: the id of each file comes from the document and its name, so
 * NVIDIA's sample names ("1010_0200_882_96005E0001_PROD.swidtag") and RIM
 * service names ("NV_GPU_DRIVER_GH100_550.90.07") both work.
 */

#define MAX_FILES 4096

struct entry {
    char id[VOUCH_NVGPU_RIM_ID_MAX];
    char *path;
    bool conflict;         /* another file has the same id */
};

struct vouch_nvgpu_rimdir {
    size_t n;
    struct entry *entries;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void vouch_nvgpu_rimdir_free(struct vouch_nvgpu_rimdir *d)
{
    size_t i;

    if (!d)
        return;
    for (i = 0; i < d->n; i++)
        free(d->entries[i].path);
    free(d->entries);
    free(d);
}

vouch_err vouch_nvgpu_rimdir_open(const char *path, struct vouch_nvgpu_rimdir **ret,
                                  size_t *ret_skipped, struct vouch_errbuf *eb)
{
    struct vouch_nvgpu_rimdir *d = NULL;
    char **names = NULL;
    size_t n_names = 0, skipped = 0, i, j;
    struct dirent *de;
    vouch_err e = VOUCH_OK;
    DIR *dir = opendir(path);

    if (!dir)
        return vouch_fail(eb, VOUCH_E_IO, "%s: %s", path, strerror(errno));
    d = calloc(1, sizeof(*d));
    names = calloc(MAX_FILES, sizeof(*names));
    if (!d || !names) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n_names == MAX_FILES) {
            e = vouch_fail(eb, VOUCH_E_TOO_LARGE, "%s: more than %d files", path, MAX_FILES);
            goto out;
        }
        names[n_names] = strdup(de->d_name);
        if (!names[n_names++]) {
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            goto out;
        }
    }
    qsort(names, n_names, sizeof(*names), by_name);
    d->entries = calloc(n_names ? n_names : 1, sizeof(*d->entries));
    if (!d->entries) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < n_names; i++) {
        struct vouch_nvgpu_rim *rim = NULL;
        struct entry *en = &d->entries[d->n];
        struct stat st;
        uint8_t *doc = NULL;
        size_t len = 0, plen = strlen(path) + strlen(names[i]) + 2;
        bool ok;

        en->path = malloc(plen);
        if (!en->path) {
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            goto out;
        }
        snprintf(en->path, plen, "%s/%s", path, names[i]);
        ok = stat(en->path, &st) == 0 && S_ISREG(st.st_mode) &&
             (size_t)st.st_size <= VOUCH_NVGPU_RIM_MAX &&
             vouch_file_read(en->path, VOUCH_NVGPU_RIM_MAX, &doc, &len, NULL) == VOUCH_OK &&
             vouch_nvgpu_rim_parse(doc, len, &rim, NULL) == VOUCH_OK &&
             vouch_nvgpu_rim_id(rim, names[i], en->id, NULL) == VOUCH_OK;
        vouch_nvgpu_rim_unref(rim);
        free(doc);
        if (!ok) {
            free(en->path);
            en->path = NULL;
            skipped++;
            continue;
        }
        for (j = 0; j < d->n; j++)
            if (strcmp(d->entries[j].id, en->id) == 0)
                d->entries[j].conflict = en->conflict = true;
        d->n++;
    }
    if (ret_skipped)
        *ret_skipped = skipped;
    *ret = d;
    d = NULL;
out:
    for (i = 0; names && i < n_names; i++)
        free(names[i]);
    free(names);
    vouch_nvgpu_rimdir_free(d);
    closedir(dir);
    return e;
}

static vouch_err rimdir_get(void *ctx, const char *id, uint8_t **ret_doc, size_t *ret_len,
                            struct vouch_errbuf *eb)
{
    const struct vouch_nvgpu_rimdir *d = ctx;
    size_t i;

    for (i = 0; i < d->n; i++) {
        if (strcasecmp(d->entries[i].id, id) != 0)
            continue;
        if (d->entries[i].conflict)
            return vouch_fail(eb, VOUCH_E_CONFLICT, "several files hold RIM %s", id);
        return vouch_file_read(d->entries[i].path, VOUCH_NVGPU_RIM_MAX, ret_doc, ret_len, eb);
    }
    return vouch_fail(eb, VOUCH_E_NOT_FOUND, "no RIM %s", id);
}

struct vouch_nvgpu_rim_source vouch_nvgpu_rimdir_source(struct vouch_nvgpu_rimdir *d)
{
    struct vouch_nvgpu_rim_source s = { rimdir_get, d };

    return s;
}

size_t vouch_nvgpu_rimdir_count(const struct vouch_nvgpu_rimdir *d)
{
    return d->n;
}

const char *vouch_nvgpu_rimdir_id(const struct vouch_nvgpu_rimdir *d, size_t i)
{
    return i < d->n ? d->entries[i].id : NULL;
}
