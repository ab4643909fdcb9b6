/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_RPC_H
#define VOUCH_RPC_H
/*
 * Alibaba Cloud's RPC-style API conventions, as the official SDKs speak
 * them: request parameters in a URL query and/or an
 * application/x-www-form-urlencoded body, signed with signature version 1
 * (HMAC-SHA1 over the sorted, percent-encoded parameters) or version 3
 * (ACS3-HMAC-SHA256 over a canonical request, in the Authorization
 * header).  Both sides use this code: the server to check a signature,
 * the agent to make one.  docs/vtpm.md shows both computations step by
 * step.
 *
 * Pure functions: no I/O, no clock, no logging.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include <vouch/err.h>

/* Caps on what a request may carry (FileData travels in the query). */
#define VOUCH_RPC_MAX_PARAMS 128
#define VOUCH_RPC_MAX_NAME 128
#define VOUCH_RPC_MAX_VALUE ((size_t)8 << 20)
#define VOUCH_RPC_MAX_TOTAL ((size_t)16 << 20)

/* One decoded parameter; name and value are NUL-terminated copies. */
struct vouch_rpc_param {
    char *name;
    char *value;
    size_t value_len;
};

struct vouch_rpc_params {
    struct vouch_rpc_param *v;
    size_t n;
    size_t total;      /* decoded bytes held, against VOUCH_RPC_MAX_TOTAL */
};

#define VOUCH_RPC_PARAMS_INIT { NULL, 0, 0 }

void vouch_rpc_params_free(struct vouch_rpc_params *p);

/*
 * Decode `text` (a URL query without '?', or a form body) and append its
 * parameters to `p`.  '+' is a space; "%XX" must be two hex digits; a
 * name is 1..VOUCH_RPC_MAX_NAME printable ASCII characters; a value may
 * not decode to a NUL byte.  A name seen twice, here or in what `p`
 * already holds, is an error: a signature must cover one meaning.  On
 * error `p` is left as it was and eb->field names the parameter.
 */
vouch_err vouch_rpc_params_parse(struct vouch_rpc_params *p, const char *text, size_t len,
                                 struct vouch_errbuf *eb);

/* Append one parameter (copies); the same rules as parsing. */
vouch_err vouch_rpc_params_add(struct vouch_rpc_params *p, const char *name, const char *value,
                               struct vouch_errbuf *eb);

/*
 * The name of the first parameter whose value is not UTF-8, or NULL when
 * all are.  Runs of ASCII are checked 8 bytes at a time: a FileData value
 * is tens of kilobytes of base64.
 */
const char *vouch_rpc_params_not_utf8(const struct vouch_rpc_params *p);

/* The value of `name` (exact case), or NULL. */
const char *vouch_rpc_param(const struct vouch_rpc_params *p, const char *name);

/*
 * Alibaba's percent-encoding of `n` bytes of `s` onto `b`: A-Z a-z 0-9
 * '-' '_' '.' '~' stay, every other byte becomes "%XX" in upper case
 * (so a space is "%20", '*' is "%2A", '+' is "%2B").
 */
vouch_err vouch_rpc_encode(struct vouch_buf *b, const char *s, size_t n);

/*
 * The encoding of the encoding, in one pass: an unreserved byte stays,
 * any other becomes "%25XX" (signature v1 encodes the canonical query,
 * which holds the encoded parameters, once more).
 */
vouch_err vouch_rpc_encode_twice(struct vouch_buf *b, const char *s, size_t n);

/*
 * Signature version 1.  The string to sign is
 *   METHOD "&" "%2F" "&" enc(canonical query)
 * where the canonical query is enc(name) "=" enc(value) of every
 * parameter but "Signature", sorted by name, joined with '&'.  The
 * signature is base64(HMAC-SHA1(secret "&", string to sign)).
 */
#define VOUCH_RPC_V1_SIG_LEN 28  /* base64 of 20 bytes */

vouch_err vouch_rpc_v1_string_to_sign(const struct vouch_rpc_params *p, const char *method,
                                      struct vouch_buf *ret, struct vouch_errbuf *eb);
vouch_err vouch_rpc_v1_sign(const struct vouch_rpc_params *p, const char *method,
                            const char *secret, char ret_sig[VOUCH_RPC_V1_SIG_LEN + 1],
                            struct vouch_errbuf *eb);

/*
 * Signature version 3 (ACS3-HMAC-SHA256).  The canonical request is
 *   METHOD \n PATH \n canonical query \n canonical headers \n
 *   signed headers \n hex(SHA-256(body))
 * with the query's parameters sorted by name as enc(name) "=" enc(value),
 * and the headers of the signed-headers list (lower-case names, sorted,
 * ';'-joined) as "name:trimmed value\n" each.  The string to sign is
 * "ACS3-HMAC-SHA256\n" hex(SHA-256(canonical request)); the signature is
 * hex(HMAC-SHA256(secret, string to sign)).
 */
#define VOUCH_RPC_V3_ALGORITHM "ACS3-HMAC-SHA256"
#define VOUCH_RPC_V3_SIG_LEN 64

struct vouch_rpc_v3_request {
    const char *method;                       /* "POST" */
    const char *path;                         /* "/" */
    const struct vouch_rpc_params *query;     /* the URL query's parameters only */
    /* A request header by lower-case name, or NULL when absent. */
    const char *(*header)(void *ctx, const char *name);
    void *header_ctx;
    const uint8_t *body;
    size_t body_len;
};

/* The parts of an "Authorization: ACS3-HMAC-SHA256 Credential=...,
 * SignedHeaders=...,Signature=..." header. */
struct vouch_rpc_v3_auth {
    char key_id[VOUCH_RPC_MAX_NAME + 1];
    char signed_headers[1024];
    char signature[VOUCH_RPC_V3_SIG_LEN + 1];
};

vouch_err vouch_rpc_v3_parse_authorization(const char *value,
                                           struct vouch_rpc_v3_auth *ret,
                                           struct vouch_errbuf *eb);

/*
 * Check that `signed_headers` is sorted, lower-case, without repeats, and
 * names every header the server requires to be signed (host, x-acs-action,
 * x-acs-version, x-acs-date, x-acs-signature-nonce, x-acs-content-sha256),
 * and that x-acs-content-sha256 is the SHA-256 of the body.
 */
vouch_err vouch_rpc_v3_check_request(const struct vouch_rpc_v3_request *r,
                                     const char *signed_headers, struct vouch_errbuf *eb);

vouch_err vouch_rpc_v3_string_to_sign(const struct vouch_rpc_v3_request *r,
                                      const char *signed_headers, struct vouch_buf *ret,
                                      struct vouch_errbuf *eb);
vouch_err vouch_rpc_v3_sign(const struct vouch_rpc_v3_request *r, const char *signed_headers,
                            const char *secret, char ret_sig[VOUCH_RPC_V3_SIG_LEN + 1],
                            struct vouch_errbuf *eb);

/*
 * The Timestamp / x-acs-date form, "YYYY-MM-DDThh:mm:ssZ" (UTC, no
 * fraction), to seconds since the epoch.
 */
vouch_err vouch_rpc_parse_timestamp(const char *s, int64_t *ret, struct vouch_errbuf *eb);

#endif
