/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "common/codec.h"
#include "common/file.h"
#include "crypto/kek.h"
#include "server/tls.h"

/* A certificate chain and its key, as handed to GnuTLS. */
struct tls_pair {
    gnutls_pcert_st certs[VOUCH_TLS_CHAIN_MAX];
    unsigned n_certs;
    gnutls_privkey_t key;
    uint64_t retired_in;       /* the generation that replaced it */
    struct tls_pair *next;     /* on the retired list */
};

struct vouch_tls {
    char *cert_file, *key_file;
    pthread_mutex_t lock;      /* current, retired */
    struct tls_pair *current;
    struct tls_pair *retired;
    _Atomic uint64_t generation;
};

/* The state the certificate callback serves (see tls.h). */
static struct vouch_tls *_Atomic serving;

static void pair_free(struct tls_pair *p)
{
    unsigned i;

    if (!p)
        return;
    for (i = 0; i < p->n_certs; i++)
        gnutls_pcert_deinit(&p->certs[i]);
    gnutls_privkey_deinit(p->key);
    free(p);
}

/* The key must be the leaf certificate's: compare their public key ids. */
static vouch_err key_matches(const struct tls_pair *p, const char *key_file,
                             struct vouch_errbuf *eb)
{
    unsigned char a[64], b[64];
    size_t a_len = sizeof(a), b_len = sizeof(b);
    gnutls_pubkey_t pub = NULL;
    bool same;

    if (gnutls_pubkey_init(&pub) < 0)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    same = gnutls_pubkey_import_privkey(pub, p->key, 0, 0) >= 0 &&
           gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, a, &a_len) >= 0 &&
           gnutls_pubkey_get_key_id(p->certs[0].pubkey, GNUTLS_KEYID_USE_SHA256, b,
                                    &b_len) >= 0 &&
           a_len == b_len && memcmp(a, b, a_len) == 0;
    gnutls_pubkey_deinit(pub);
    if (!same)
        return vouch_fail(eb, VOUCH_E_INVALID, "--tls-key %s is not the key of the "
                          "certificate in --tls-cert", key_file);
    return VOUCH_OK;
}

static vouch_err load_certs(struct tls_pair *p, const char *path, struct vouch_errbuf *eb)
{
    uint8_t *pem = NULL;
    size_t len = 0;
    gnutls_datum_t d;
    int rc;
    vouch_err e;

    e = vouch_file_read(path, VOUCH_TLS_FILE_MAX, &pem, &len, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "--tls-cert: ");
    d.data = pem;
    d.size = (unsigned)len;
    p->n_certs = VOUCH_TLS_CHAIN_MAX;
    rc = gnutls_pcert_list_import_x509_raw(p->certs, &p->n_certs, &d, GNUTLS_X509_FMT_PEM,
                                           GNUTLS_X509_CRT_LIST_IMPORT_FAIL_IF_EXCEED |
                                           GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
    free(pem);
    if (rc < 0 || p->n_certs == 0) {
        p->n_certs = 0;
        return vouch_fail(eb, VOUCH_E_INVALID, "--tls-cert %s: not a PEM certificate chain "
                          "(leaf first, at most %d certificates, each signed by the next): %s",
                          path, VOUCH_TLS_CHAIN_MAX, gnutls_strerror(rc));
    }
    return VOUCH_OK;
}

static vouch_err load_key(struct tls_pair *p, const char *path, struct vouch_errbuf *eb)
{
    uint8_t *pem = NULL;
    size_t len = 0;
    gnutls_datum_t d;
    int rc;
    vouch_err e;

    e = vouch_secret_file_read(path, VOUCH_TLS_FILE_MAX, &pem, &len, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "--tls-key: ");
    if (gnutls_privkey_init(&p->key) < 0) {
        vouch_kek_secret_free(pem, len);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    d.data = pem;
    d.size = (unsigned)len;
    rc = gnutls_privkey_import_x509_raw(p->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
    vouch_kek_secret_free(pem, len);
    if (rc < 0)
        return vouch_fail(eb, VOUCH_E_INVALID, "--tls-key %s: not an unencrypted PEM private "
                          "key: %s", path, gnutls_strerror(rc));
    return VOUCH_OK;
}

/* The leaf's subject, fingerprint and expiry, for the log. */
static void describe(const struct tls_pair *p, struct vouch_tls_info *info)
{
    unsigned char digest[32];
    size_t dlen = sizeof(digest);
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t dn = { NULL, 0 };

    memset(info, 0, sizeof(*info));
    info->chain = p->n_certs;
    if (gnutls_fingerprint(GNUTLS_DIG_SHA256, &p->certs[0].cert, digest, &dlen) >= 0 &&
        dlen == sizeof(digest))
        vouch_hex_encode(digest, sizeof(digest), info->sha256);
    if (gnutls_x509_crt_init(&crt) < 0)
        return;
    if (gnutls_x509_crt_import(crt, &p->certs[0].cert, GNUTLS_X509_FMT_DER) >= 0) {
        info->not_after = gnutls_x509_crt_get_expiration_time(crt);
        if (gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0)
            snprintf(info->subject, sizeof(info->subject), "%.*s", (int)dn.size,
                     (const char *)dn.data);
        gnutls_free(dn.data);
    }
    gnutls_x509_crt_deinit(crt);
}

static vouch_err pair_load(const char *cert_file, const char *key_file,
                           struct tls_pair **ret, struct vouch_tls_info *ret_info,
                           struct vouch_errbuf *eb)
{
    struct tls_pair *p = calloc(1, sizeof(*p));
    vouch_err e;

    if (!p)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = load_certs(p, cert_file, eb);
    if (!e)
        e = load_key(p, key_file, eb);
    if (!e)
        e = key_matches(p, key_file, eb);
    if (e) {
        pair_free(p);
        return e;
    }
    if (ret_info)
        describe(p, ret_info);
    *ret = p;
    return VOUCH_OK;
}

vouch_err vouch_tls_new(const char *cert_file, const char *key_file, struct vouch_tls **ret,
                        struct vouch_tls_info *ret_info, struct vouch_errbuf *eb)
{
    struct vouch_tls *t = calloc(1, sizeof(*t));
    vouch_err e;

    if (!t)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    pthread_mutex_init(&t->lock, NULL);
    atomic_init(&t->generation, 1);
    t->cert_file = strdup(cert_file);
    t->key_file = strdup(key_file);
    if (!t->cert_file || !t->key_file)
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    else
        e = pair_load(cert_file, key_file, &t->current, ret_info, eb);
    if (e) {
        vouch_tls_free(t);
        return e;
    }
    atomic_store(&serving, t);
    *ret = t;
    return VOUCH_OK;
}

vouch_err vouch_tls_reload(struct vouch_tls *t, struct vouch_tls_info *ret_info,
                           struct vouch_errbuf *eb)
{
    struct tls_pair *fresh = NULL;
    vouch_err e;

    e = pair_load(t->cert_file, t->key_file, &fresh, ret_info, eb);
    if (e)
        return e;
    pthread_mutex_lock(&t->lock);
    /* Swap first, then bump: a connection that sees the new generation gets the new pair. */
    t->current->retired_in = atomic_load(&t->generation) + 1;
    t->current->next = t->retired;
    t->retired = t->current;
    t->current = fresh;
    atomic_fetch_add(&t->generation, 1);
    pthread_mutex_unlock(&t->lock);
    return VOUCH_OK;
}

uint64_t vouch_tls_generation(const struct vouch_tls *t)
{
    return atomic_load(&((struct vouch_tls *)t)->generation);
}

void vouch_tls_collect(struct vouch_tls *t, uint64_t oldest_open)
{
    struct tls_pair **pp, *p, *dead = NULL;

    pthread_mutex_lock(&t->lock);
    for (pp = &t->retired; (p = *pp);) {
        if (p->retired_in <= oldest_open) {
            *pp = p->next;
            p->next = dead;
            dead = p;
        } else {
            pp = &p->next;
        }
    }
    pthread_mutex_unlock(&t->lock);
    while ((p = dead)) {
        dead = p->next;
        pair_free(p);
    }
}

void vouch_tls_free(struct vouch_tls *t)
{
    struct vouch_tls *expected = t;
    struct tls_pair *p;

    if (!t)
        return;
    atomic_compare_exchange_strong(&serving, &expected, NULL);
    while ((p = t->retired)) {
        t->retired = p->next;
        pair_free(p);
    }
    pair_free(t->current);
    pthread_mutex_destroy(&t->lock);
    free(t->cert_file);
    free(t->key_file);
    free(t);
}

int vouch_tls_cert_callback(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn,
                            int nreqs, const gnutls_pk_algorithm_t *pk_algos,
                            int pk_algos_length, gnutls_pcert_st **ret_pcert,
                            unsigned int *ret_pcert_length, gnutls_privkey_t *ret_key)
{
    struct vouch_tls *t = atomic_load(&serving);

    (void)session;
    (void)req_ca_rdn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    if (!t)
        return -1;
    pthread_mutex_lock(&t->lock);
    *ret_pcert = t->current->certs;
    *ret_pcert_length = t->current->n_certs;
    *ret_key = t->current->key;
    pthread_mutex_unlock(&t->lock);
    return 0;
}
