/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_TLS_H
#define VOUCH_SERVER_TLS_H

#include <stdint.h>
#include <time.h>

#include <gnutls/abstract.h>

#include "vouch/err.h"

/*
 * vouchd's TLS certificate and key (--tls-cert, --tls-key), served to
 * libmicrohttpd through GnuTLS's certificate callback so that a reload
 * (SIGHUP) swaps the pair for new handshakes without touching the
 * daemon: connections in flight keep the pair they were set up with.
 *
 * A replaced pair is retired, not freed: GnuTLS keeps using the pair a
 * session was given for as long as the session lives.  The server tells
 * vouch_tls_collect() the oldest generation a still-open connection
 * began in; a retired pair no open connection can hold is freed then.
 *
 * There is one TLS state per process: GnuTLS's callback carries no
 * context pointer, so vouch_tls_cert_callback() serves the state made by
 * the last vouch_tls_new().
 */

/* Protocol versions offered: TLS 1.2 and 1.3 only (GnuTLS priority string). */
#define VOUCH_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* Largest certificate chain and key file read, and chain length taken. */
#define VOUCH_TLS_FILE_MAX (256u * 1024)
#define VOUCH_TLS_CHAIN_MAX 16

struct vouch_tls;

/* What was loaded, for the log. */
struct vouch_tls_info {
    char subject[256];
    char sha256[65];          /* the leaf certificate's SHA-256 fingerprint, hex */
    time_t not_after;
    unsigned chain;           /* certificates served */
};

/*
 * Load the pair: `cert_file` is PEM, the leaf first, then any
 * intermediates; `key_file` is a PEM private key (PKCS#1, SEC1 or PKCS#8,
 * unencrypted) that only its owner may read.  Fails, naming the file,
 * when either cannot be read or parsed, or when the key is not the
 * certificate's.
 */
vouch_err vouch_tls_new(const char *cert_file, const char *key_file, struct vouch_tls **ret,
                        struct vouch_tls_info *ret_info, struct vouch_errbuf *eb);

/*
 * Read the same two files again and serve the new pair to new
 * handshakes.  On failure nothing changes: the old pair stays in service.
 */
vouch_err vouch_tls_reload(struct vouch_tls *t, struct vouch_tls_info *ret_info,
                           struct vouch_errbuf *eb);

/* The current generation (bumped by each reload); connections note it when they open. */
uint64_t vouch_tls_generation(const struct vouch_tls *t);

/*
 * Free the retired pairs no open connection can hold: every open
 * connection began in generation `oldest_open` or later (UINT64_MAX: no
 * connection is open).
 */
void vouch_tls_collect(struct vouch_tls *t, uint64_t oldest_open);

/* Frees every pair; no connection may still be open.  Accepts NULL. */
void vouch_tls_free(struct vouch_tls *t);

/* The callback libmicrohttpd takes as MHD_OPTION_HTTPS_CERT_CALLBACK. */
int vouch_tls_cert_callback(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn,
                            int nreqs, const gnutls_pk_algorithm_t *pk_algos,
                            int pk_algos_length, gnutls_pcert_st **ret_pcert,
                            unsigned int *ret_pcert_length, gnutls_privkey_t *ret_key);

#endif
