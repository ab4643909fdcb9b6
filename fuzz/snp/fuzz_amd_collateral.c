/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the import of AMD KDS collateral (collateral/amd.c): DER or
 * PEM certificates and CRLs, read, classified and verified against the
 * pinned AMD roots, and what was stored read back through the source the
 * snp verifier uses.  The store is SQLite in a temporary directory, opened
 * once; the time is pinned to 2025-06-15, when the real vectors are valid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "collateral/amd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1750000000

static struct vouch_store *store;
static struct vouch_amd_collateral *amd;
static char dir[] = "/tmp/vouch-fuzz-amd-XXXXXX";

/* At exit: the store and its directory go. */
static void remove_store(void)
{
    static const char *const files[] = { "f.db", "f.db-wal", "f.db-shm", "f.db-journal" };
    char path[96];
    size_t i;

    vouch_amd_collateral_free(amd);
    vouch_store_close(store);
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void open_store(void)
{
    char url[64];

    if (!mkdtemp(dir))
        abort();
    snprintf(url, sizeof(url), "sqlite:%s/f.db", dir);
    if (vouch_store_open(url, &store, NULL) || vouch_amd_collateral_new(store, 0, NULL, &amd, NULL))
        abort();
    atexit(remove_store);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct vouch_snp_source *src;
    json_t *report = NULL;
    enum vouch_snp_product p;

    if (!store)
        open_store();
    if (!vouch_amd_collateral_detect(data, size))
        return 0;
    if (vouch_amd_collateral_import(store, data, size, "fuzz", NOW, &report, NULL) != VOUCH_OK)
        return 0;
    json_decref(report);
    src = vouch_amd_collateral_source(amd);
    for (p = VOUCH_SNP_PRODUCT_MILAN; p < VOUCH_SNP_PRODUCT__COUNT; p++) {
        X509_CRL *crl = NULL;

        /* A stored CRL was verified on import: it must check out again. */
        if (src->get_crl(src->ctx, p, &crl, NULL) == VOUCH_OK &&
            vouch_snp_crl_check(crl, p, VOUCH_SNP_VEK_VCEK, NOW, NULL) != VOUCH_OK)
            abort();
        X509_CRL_free(crl);
    }
    return 0;
}
