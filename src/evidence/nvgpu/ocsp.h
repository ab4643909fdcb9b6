/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_NVGPU_OCSP_H
#define VOUCH_NVGPU_OCSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "crypto/digest.h"
#include "vouch/err.h"

/*
 * OCSP (RFC 6960) for NVIDIA's certificate chains: the device identity
 * chain (certificates 1..n-2: not the FMC leaf, not the root) and the RIM
 * signing chains (0..n-2).  The library builds requests and checks
 * responses; the bytes travel through a transport the caller supplies, so
 * the core does no I/O.  Off by default: claims then say "unknown".
 */

#define VOUCH_OCSP_NONCE_SIZE 32
#define VOUCH_OCSP_RESPONSE_MAX (64u * 1024)

/*
 * POST `req` (DER OCSPRequest) to `url` and return the DER response body
 * in *ret_resp (malloc'd, at most `max` bytes; the caller frees it).
 * VOUCH_E_UNAVAILABLE (or VOUCH_E_IO) for transport failures.  Called from any thread.
 */
struct vouch_ocsp_transport {
    vouch_err (*post)(void *ctx, const char *url, const uint8_t *req, size_t req_len,
                      size_t max, uint8_t **ret_resp, size_t *ret_len,
                      struct vouch_errbuf *eb);
    void *ctx;
};

enum vouch_ocsp_mode {
    VOUCH_OCSP_OFF = 0,   /* no queries; status "unknown" (the default) */
    VOUCH_OCSP_SOFT,      /* query; revoked fails, an unreachable responder is "unknown" */
    VOUCH_OCSP_REQUIRE,   /* query; anything but a verified "good" fails */
};

struct vouch_ocsp_config {
    enum vouch_ocsp_mode mode;
    const char *url;             /* responder; NULL: the certificate's AIA */
    bool no_nonce;               /* do not send/require a nonce (cached responders) */
    bool allow_hold;             /* accept revoked with reason certificateHold */
    enum vouch_hash certid_hash; /* hash for the CertID; 0 (SHA-1) is NVAT's choice */
    int64_t max_skew;            /* seconds of clock skew allowed; 0 means 300 */
    struct vouch_ocsp_transport transport;
};

enum vouch_ocsp_status {
    VOUCH_OCSP_STATUS_UNKNOWN = 0,   /* not checked, or the responder does not know */
    VOUCH_OCSP_STATUS_GOOD,
    VOUCH_OCSP_STATUS_REVOKED,
};

struct vouch_ocsp_result {
    enum vouch_ocsp_status status;
    int reason;                  /* CRL reason code when revoked, else -1 */
    bool checked;                /* a response was obtained and verified */
    bool nonce_match;
    int64_t this_update, next_update;   /* next_update 0 when absent */
};

/* "good" / "revoked" / "unknown". */
const char *vouch_ocsp_status_name(enum vouch_ocsp_status s);

/* RFC 5280 reason name ("keyCompromise", "certificateHold", ...), or NULL. */
const char *vouch_ocsp_reason_name(int reason);

/*
 * A DER OCSPRequest for `cert` issued by `issuer`, with the CertID hashed
 * with `hash` and, when `nonce` is not NULL, a nonce extension.  *ret is
 * allocated with OPENSSL_malloc (free with OPENSSL_free).
 */
vouch_err vouch_ocsp_request(X509 *cert, X509 *issuer, enum vouch_hash hash,
                             const uint8_t *nonce, size_t nonce_len, uint8_t **ret,
                             size_t *ret_len, struct vouch_errbuf *eb);

/*
 * Check a DER OCSPResponse for `cert`/`issuer`: status successful, a basic
 * response signed by the issuer or by a responder it delegated to
 * (id-kp-OCSPSigning), verified up to one of `roots` at `now`; the
 * single response for this CertID (any CertID hash); thisUpdate not in
 * the future and nextUpdate (if any) not in the past, with `max_skew`;
 * the nonce echoed when `nonce` is given.  The result says good, revoked
 * (with reason) or unknown.  Returns VOUCH_OK when the response is valid,
 * whatever status it carries; VOUCH_E_VERIFY / VOUCH_E_INVALID /
 * VOUCH_E_EXPIRED (stale) / VOUCH_E_NOT_YET_VALID (from the future) otherwise.  *ret is written only on success.
 */
vouch_err vouch_ocsp_check_response(const uint8_t *der, size_t len, X509 *cert, X509 *issuer,
                                    STACK_OF(X509) *roots, const uint8_t *nonce,
                                    size_t nonce_len, int64_t now, int64_t max_skew,
                                    struct vouch_ocsp_result *ret, struct vouch_errbuf *eb);

/*
 * Query the responder for `cert` (issuer `issuer`) per `cfg`: build the
 * request with a fresh random nonce, post it, check the response.
 * With mode OFF nothing happens and *ret says unknown/unchecked.
 * Returns an error when the mode's rules make the outcome a failure
 * (revoked, or in REQUIRE mode anything but good); *ret is filled in
 * either case.
 */
vouch_err vouch_ocsp_query(const struct vouch_ocsp_config *cfg, X509 *cert, X509 *issuer,
                           STACK_OF(X509) *roots, int64_t now, struct vouch_ocsp_result *ret,
                           struct vouch_errbuf *eb);

/*
 * Query every certificate of `chain` (leaf first, root last) from
 * position `first` to n-2, with its successor as issuer, and fold the
 * results: revoked if any is revoked, good if all are good, else unknown.
 * *ret describes the worst certificate.  Same error rules as above.
 */
vouch_err vouch_ocsp_query_chain(const struct vouch_ocsp_config *cfg, STACK_OF(X509) *chain,
                                 int first, STACK_OF(X509) *roots, int64_t now,
                                 struct vouch_ocsp_result *ret, struct vouch_errbuf *eb);

#endif
