/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A collateral source backed by files: a dcap-qvl QuoteCollateralV3 JSON
 * document, or a directory of PCS responses (the layout of teepot's test
 * data).  Everything is read once at open; the getters hand out pointers
 * into the source, so release is not needed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/file.h"
#include "common/codec.h"
#include "common/json.h"
#include "crypto/digest.h"
#include "evidence/dcap/dcap.h"

#define FILE_MAX (4u << 20)

struct item {
    char *data;            /* NUL-terminated */
    size_t len;
    char *sig;             /* signature hex (signed documents) */
    size_t sig_len;
    char *chain;           /* issuer chain PEM */
    size_t chain_len;
    uint8_t sha256[32];
    bool present;
};

struct vouch_dcap_file_source {
    struct vouch_dcap_source src;
    struct item tcb, qe, pck_crl, root_crl, root;
    enum vouch_dcap_tee tcb_tee;
    uint8_t tcb_fmspc[6];
    char qe_id[8];
};

static void item_free(struct item *it)
{
    free(it->data);
    free(it->sig);
    free(it->chain);
    memset(it, 0, sizeof(*it));
}

void vouch_dcap_file_source_free(struct vouch_dcap_file_source *fs)
{
    if (!fs)
        return;
    item_free(&fs->tcb);
    item_free(&fs->qe);
    item_free(&fs->pck_crl);
    item_free(&fs->root_crl);
    item_free(&fs->root);
    free(fs);
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static vouch_err item_set(struct item *it, const char *data, size_t len, const char *sig,
                          size_t sig_len, const char *chain, size_t chain_len,
                          struct vouch_errbuf *eb)
{
    it->data = dup_n(data, len);
    it->len = len;
    if (sig) {
        it->sig = dup_n(sig, sig_len);
        it->sig_len = sig_len;
    }
    if (chain) {
        it->chain = dup_n(chain, chain_len);
        it->chain_len = chain_len;
    }
    if (!it->data || (sig && !it->sig) || (chain && !it->chain))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    it->present = true;
    return vouch_hash(VOUCH_HASH_SHA256, it->data, it->len, it->sha256);
}

static vouch_err read_file(const char *path, char **ret, size_t *ret_len,
                           struct vouch_errbuf *eb)
{
    return vouch_file_read(path, FILE_MAX, (uint8_t **)ret, ret_len, eb);
}

/* Remember which FMSPC/TEE the TCB info is for and which QE identity we hold. */
static vouch_err index_docs(struct vouch_dcap_file_source *fs, struct vouch_errbuf *eb)
{
    json_t *j = NULL;
    const char *s;
    size_t n;
    vouch_err e;
    int64_t ver;

    e = vouch_json_parse(fs->tcb.data, fs->tcb.len, &j, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "tcb_info: ");
    if ((e = vouch_json_get_str(j, "fmspc", true, &s, &n, eb)) ||
        (e = vouch_hex_decode_exact(s, n, fs->tcb_fmspc, 6, eb)) ||
        (e = vouch_json_get_int(j, "version", true, &ver, eb))) {
        json_decref(j);
        return vouch_fail_prefix(eb, e, "tcb_info: ");
    }
    fs->tcb_tee = VOUCH_DCAP_TEE_SGX;
    s = NULL;
    (void)vouch_json_get_str(j, "id", false, &s, &n, eb);
    if (s && strcmp(s, "TDX") == 0)
        fs->tcb_tee = VOUCH_DCAP_TEE_TDX;
    json_decref(j);
    e = vouch_json_parse(fs->qe.data, fs->qe.len, &j, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "qe_identity: ");
    s = NULL;
    if ((e = vouch_json_get_str(j, "id", true, &s, &n, eb)) || n >= sizeof(fs->qe_id)) {
        json_decref(j);
        return vouch_fail(eb, VOUCH_E_INVALID, "qe_identity: no usable \"id\"");
    }
    memcpy(fs->qe_id, s, n + 1);
    json_decref(j);
    return VOUCH_OK;
}

/* ---------------------------------------------------------------------- */
/* Getters                                                                  */

static void to_doc(const struct item *it, struct vouch_dcap_doc *d)
{
    memset(d, 0, sizeof(*d));
    d->data = (const uint8_t *)it->data;
    d->len = it->len;
    d->sig_hex = it->sig;
    d->sig_len = it->sig_len;
    d->issuer_chain = it->chain;
    d->issuer_chain_len = it->chain_len;
    d->sha256 = it->sha256;
}

static vouch_err get_tcb_info(void *ctx, enum vouch_dcap_tee tee, const uint8_t fmspc[6],
                              struct vouch_dcap_doc *ret, struct vouch_errbuf *eb)
{
    struct vouch_dcap_file_source *fs = ctx;

    if (!fs->tcb.present || tee != fs->tcb_tee || memcmp(fmspc, fs->tcb_fmspc, 6) != 0)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "no %s TCB info for FMSPC "
                          "%02X%02X%02X%02X%02X%02X", tee == VOUCH_DCAP_TEE_TDX ? "TDX" : "SGX",
                          fmspc[0], fmspc[1], fmspc[2], fmspc[3], fmspc[4], fmspc[5]);
    to_doc(&fs->tcb, ret);
    return VOUCH_OK;
}

static vouch_err get_qe_identity(void *ctx, enum vouch_dcap_tee tee,
                                 struct vouch_dcap_doc *ret, struct vouch_errbuf *eb)
{
    struct vouch_dcap_file_source *fs = ctx;
    const char *want = tee == VOUCH_DCAP_TEE_TDX ? "TD_QE" : "QE";

    if (!fs->qe.present || strcmp(fs->qe_id, want) != 0)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "no %s identity", want);
    to_doc(&fs->qe, ret);
    return VOUCH_OK;
}

static vouch_err get_pck_crl(void *ctx, enum vouch_dcap_ca ca, struct vouch_dcap_doc *ret,
                             struct vouch_errbuf *eb)
{
    struct vouch_dcap_file_source *fs = ctx;

    (void)ca; /* one CRL; its issuer is checked by the verifier */
    if (!fs->pck_crl.present)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "no PCK CRL");
    to_doc(&fs->pck_crl, ret);
    return VOUCH_OK;
}

static vouch_err get_root_ca_crl(void *ctx, struct vouch_dcap_doc *ret,
                                 struct vouch_errbuf *eb)
{
    struct vouch_dcap_file_source *fs = ctx;

    if (!fs->root_crl.present)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "no root CA CRL");
    to_doc(&fs->root_crl, ret);
    return VOUCH_OK;
}

static vouch_err get_root(void *ctx, struct vouch_dcap_doc *ret, struct vouch_errbuf *eb)
{
    struct vouch_dcap_file_source *fs = ctx;

    if (!fs->root.present)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "no root certificate");
    to_doc(&fs->root, ret);
    return VOUCH_OK;
}

static struct vouch_dcap_file_source *fs_new(void)
{
    struct vouch_dcap_file_source *fs = calloc(1, sizeof(*fs));

    if (!fs)
        return NULL;
    fs->src.ctx = fs;
    fs->src.get_tcb_info = get_tcb_info;
    fs->src.get_qe_identity = get_qe_identity;
    fs->src.get_pck_crl = get_pck_crl;
    fs->src.get_root_ca_crl = get_root_ca_crl;
    fs->src.get_root = get_root;
    return fs;
}

const struct vouch_dcap_source *vouch_dcap_file_source_get(struct vouch_dcap_file_source *fs)
{
    return &fs->src;
}

/* ---------------------------------------------------------------------- */
/* QuoteCollateralV3 JSON                                                  */

static vouch_err str_member(json_t *j, const char *key, bool required, const char **ret,
                            size_t *ret_len, struct vouch_errbuf *eb)
{
    *ret = NULL;
    *ret_len = 0;
    return vouch_json_get_str(j, key, required, ret, ret_len, eb);
}

vouch_err vouch_dcap_file_source_from_json(const char *json, size_t len,
                                           struct vouch_dcap_file_source **ret,
                                           struct vouch_errbuf *eb)
{
    struct vouch_dcap_file_source *fs = NULL;
    const char *tcb, *tcb_sig, *tcb_chain, *qe, *qe_sig, *qe_chain, *pck, *pck_chain, *root;
    size_t tcb_n, tcb_sig_n, tcb_chain_n, qe_n, qe_sig_n, qe_chain_n, pck_n, pck_chain_n;
    size_t root_n;
    json_t *j = NULL;
    vouch_err e;

    e = vouch_json_parse(json, len, &j, eb);
    if (e)
        goto out;
    if (!json_is_object(j)) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "not a JSON object");
        goto out;
    }
    if ((e = str_member(j, "tcb_info", true, &tcb, &tcb_n, eb)) ||
        (e = str_member(j, "tcb_info_signature", true, &tcb_sig, &tcb_sig_n, eb)) ||
        (e = str_member(j, "tcb_info_issuer_chain", true, &tcb_chain, &tcb_chain_n, eb)) ||
        (e = str_member(j, "qe_identity", true, &qe, &qe_n, eb)) ||
        (e = str_member(j, "qe_identity_signature", true, &qe_sig, &qe_sig_n, eb)) ||
        (e = str_member(j, "qe_identity_issuer_chain", true, &qe_chain, &qe_chain_n, eb)) ||
        (e = str_member(j, "pck_crl", true, &pck, &pck_n, eb)) ||
        (e = str_member(j, "pck_crl_issuer_chain", false, &pck_chain, &pck_chain_n, eb)) ||
        (e = str_member(j, "root_ca_crl", true, &root, &root_n, eb)))
        goto out;
    fs = fs_new();
    if (!fs) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    if ((e = item_set(&fs->tcb, tcb, tcb_n, tcb_sig, tcb_sig_n, tcb_chain, tcb_chain_n, eb)) ||
        (e = item_set(&fs->qe, qe, qe_n, qe_sig, qe_sig_n, qe_chain, qe_chain_n, eb)) ||
        (e = item_set(&fs->pck_crl, pck, pck_n, NULL, 0, pck_chain, pck_chain_n, eb)) ||
        (e = item_set(&fs->root_crl, root, root_n, NULL, 0, NULL, 0, eb)))
        goto out;
    e = index_docs(fs, eb);
out:
    json_decref(j);
    if (e) {
        vouch_dcap_file_source_free(fs);
        return vouch_fail_prefix(eb, e, "collateral: ");
    }
    *ret = fs;
    return VOUCH_OK;
}

/* ---------------------------------------------------------------------- */
/* Directory of PCS responses                                               */

static vouch_err dir_file(const char *dir, const char *name, bool required, char **ret,
                          size_t *ret_len, struct vouch_errbuf *eb)
{
    char path[4096];
    vouch_err e;

    *ret = NULL;
    *ret_len = 0;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "path too long");
    e = read_file(path, ret, ret_len, eb);
    if (e == VOUCH_E_NOT_FOUND && !required)
        return VOUCH_OK;
    return e;
}

/* NAME.der, NAME.pem or NAME.hex, whichever exists. */
static vouch_err dir_any(const char *dir, const char *stem, bool required, char **ret,
                         size_t *ret_len, struct vouch_errbuf *eb)
{
    static const char *const exts[] = { "der", "pem", "hex", "crl" };
    char name[256];
    size_t i;
    vouch_err e;

    for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        snprintf(name, sizeof(name), "%s.%s", stem, exts[i]);
        e = dir_file(dir, name, false, ret, ret_len, eb);
        if (e || *ret)
            return e;
    }
    if (required)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "%s/%s.{der,pem,hex}: not found", dir, stem);
    return VOUCH_OK;
}

static vouch_err dir_signed(struct item *it, const char *dir, const char *file,
                            const char *chain_file, const char *key, struct vouch_errbuf *eb)
{
    char *body = NULL, *chain = NULL;
    size_t body_n, chain_n, inner_n, sig_n;
    const char *inner, *sig;
    vouch_err e;

    if ((e = dir_file(dir, file, true, &body, &body_n, eb)) ||
        (e = dir_file(dir, chain_file, true, &chain, &chain_n, eb)))
        goto out;
    /* teepot's extracted files may keep a C string's trailing NUL. */
    while (body_n && body[body_n - 1] == '\0')
        body_n--;
    e = vouch_dcap_split_signed(body, body_n, key, &inner, &inner_n, &sig, &sig_n, eb);
    if (e) {
        vouch_fail_prefix(eb, e, "%s/%s: ", dir, file);
        goto out;
    }
    e = item_set(it, inner, inner_n, sig, sig_n, chain, chain_n, eb);
out:
    free(body);
    free(chain);
    return e;
}

static vouch_err from_dir(const char *dir, struct vouch_dcap_file_source **ret,
                          struct vouch_errbuf *eb)
{
    struct vouch_dcap_file_source *fs = fs_new();
    char *data = NULL, *chain = NULL;
    size_t n, chain_n;
    vouch_err e;

    if (!fs)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if ((e = dir_signed(&fs->tcb, dir, "tcb_info.json", "tcb_info_issuer_chain.pem",
                        "tcbInfo", eb)) ||
        (e = dir_signed(&fs->qe, dir, "qe_identity.json", "qe_identity_issuer_chain.pem",
                        "enclaveIdentity", eb)))
        goto out;
    if ((e = dir_any(dir, "pck_crl", true, &data, &n, eb)) ||
        (e = dir_file(dir, "pck_crl_issuer_chain.pem", false, &chain, &chain_n, eb)) ||
        (e = item_set(&fs->pck_crl, data, n, NULL, 0, chain, chain_n, eb)))
        goto out;
    free(data);
    data = NULL;
    if ((e = dir_any(dir, "root_ca_crl", true, &data, &n, eb)) ||
        (e = item_set(&fs->root_crl, data, n, NULL, 0, NULL, 0, eb)))
        goto out;
    free(data);
    data = NULL;
    if ((e = dir_file(dir, "root_ca.pem", false, &data, &n, eb)))
        goto out;
    if (!data && (e = dir_file(dir, "root_ca.der", false, &data, &n, eb)))
        goto out;
    if (data && (e = item_set(&fs->root, data, n, NULL, 0, NULL, 0, eb)))
        goto out;
    e = index_docs(fs, eb);
out:
    free(data);
    free(chain);
    if (e) {
        vouch_dcap_file_source_free(fs);
        return e;
    }
    *ret = fs;
    return VOUCH_OK;
}

vouch_err vouch_dcap_file_source_open(const char *path, const char *root_path,
                                      struct vouch_dcap_file_source **ret,
                                      struct vouch_errbuf *eb)
{
    struct vouch_dcap_file_source *fs = NULL;
    struct stat st;
    char *data = NULL;
    size_t n;
    vouch_err e;

    if (stat(path, &st) != 0)
        return vouch_fail(eb, errno == ENOENT ? VOUCH_E_NOT_FOUND : VOUCH_E_IO, "%s: %s",
                          path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        e = from_dir(path, &fs, eb);
    } else {
        e = read_file(path, &data, &n, eb);
        if (!e)
            e = vouch_dcap_file_source_from_json(data, n, &fs, eb);
        if (e)
            vouch_fail_prefix(eb, e, "%s: ", path);
        free(data);
        data = NULL;
    }
    if (e)
        return e;
    if (root_path) {
        e = read_file(root_path, &data, &n, eb);
        if (!e) {
            item_free(&fs->root);
            e = item_set(&fs->root, data, n, NULL, 0, NULL, 0, eb);
        }
        free(data);
        if (e) {
            vouch_dcap_file_source_free(fs);
            return e;
        }
    }
    *ret = fs;
    return VOUCH_OK;
}
