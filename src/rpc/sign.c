/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signature versions 1 (HMAC-SHA1) and 3 (ACS3-HMAC-SHA256) of Alibaba
 * Cloud's RPC-style APIs.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>


#include "common/codec.h"
#include "common/time.h"
#include "crypto/digest.h"
#include "rpc/rpc.h"

/* What a signed request may grow to while it is canonicalised. */
#define CANON_CAP (VOUCH_RPC_MAX_TOTAL * 3 + 65536)

static int cmp_param(const void *a, const void *b)
{
    const struct vouch_rpc_param *const *x = a, *const *y = b;

    return strcmp((*x)->name, (*y)->name);
}

/*
 * enc(name)=enc(value) of the parameters sorted by name, '&'-joined; or,
 * `twice`, that text encoded once more, written in the same single pass
 * ('&' is "%26", '=' "%3D", each escape "%25XX").
 */
static vouch_err canonical_query(const struct vouch_rpc_params *p, const char *skip, bool twice,
                                 struct vouch_buf *b)
{
    vouch_err (*enc)(struct vouch_buf *, const char *, size_t) =
        twice ? vouch_rpc_encode_twice : vouch_rpc_encode;
    const struct vouch_rpc_param **v = calloc(p->n + 1, sizeof(*v));
    size_t i, n = 0;
    vouch_err e = VOUCH_OK;

    if (!v)
        return VOUCH_E_NOMEM;
    for (i = 0; i < p->n; i++)
        if (!skip || strcmp(p->v[i].name, skip) != 0)
            v[n++] = &p->v[i];
    qsort(v, n, sizeof(*v), cmp_param);
    for (i = 0; i < n && !e; i++) {
        if (i)
            e = twice ? vouch_buf_puts(b, "%26") : vouch_buf_putc(b, '&');
        if (!e)
            e = enc(b, v[i]->name, strlen(v[i]->name));
        if (!e)
            e = twice ? vouch_buf_puts(b, "%3D") : vouch_buf_putc(b, '=');
        if (!e)
            e = enc(b, v[i]->value, v[i]->value_len);
    }
    free(v);
    return e;
}

vouch_err vouch_rpc_v1_string_to_sign(const struct vouch_rpc_params *p, const char *method,
                                      struct vouch_buf *ret, struct vouch_errbuf *eb)
{
    vouch_err e = vouch_buf_puts(ret, method);

    if (!e)
        e = vouch_buf_puts(ret, "&%2F&");
    if (!e)
        e = canonical_query(p, "Signature", true, ret);
    if (e)
        return vouch_fail(eb, e, "signature v1: cannot build the string to sign");
    return VOUCH_OK;
}

vouch_err vouch_rpc_v1_sign(const struct vouch_rpc_params *p, const char *method,
                            const char *secret, char ret_sig[VOUCH_RPC_V1_SIG_LEN + 1],
                            struct vouch_errbuf *eb)
{
    struct vouch_buf sts = VOUCH_BUF_INIT(CANON_CAP * 3);
    struct vouch_buf key = VOUCH_BUF_INIT(VOUCH_RPC_MAX_VALUE + 2);
    uint8_t mac[20];
    vouch_err e;

    e = vouch_rpc_v1_string_to_sign(p, method, &sts, eb);
    if (e)
        goto out;
    if (vouch_buf_puts(&key, secret) || vouch_buf_putc(&key, '&') ||
        vouch_hmac(VOUCH_HASH_SHA1, key.data, key.len, sts.data, sts.len, mac)) {
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "signature v1: HMAC-SHA1 failed");
        goto out;
    }
    vouch_b64_encode(mac, sizeof(mac), VOUCH_B64_STD, ret_sig);
out:
    OPENSSL_cleanse(key.data, key.len);
    vouch_buf_free(&key);
    vouch_buf_free(&sts);
    return e;
}

/* Copy `src[0..n)` into dst (cap bytes with the NUL) or fail. */
static bool copy_part(char *dst, size_t cap, const char *src, size_t n)
{
    if (n == 0 || n >= cap)
        return false;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return true;
}

/* The three parts of the header, in the order the struct holds them. */
static const struct {
    const char *name;
    size_t off, cap, exact_len;
} auth_parts[] = {
    { "Credential", offsetof(struct vouch_rpc_v3_auth, key_id), VOUCH_RPC_MAX_NAME + 1, 0 },
    { "SignedHeaders", offsetof(struct vouch_rpc_v3_auth, signed_headers), 1024, 0 },
    { "Signature", offsetof(struct vouch_rpc_v3_auth, signature), VOUCH_RPC_V3_SIG_LEN + 1,
      VOUCH_RPC_V3_SIG_LEN },
};

vouch_err vouch_rpc_v3_parse_authorization(const char *value, struct vouch_rpc_v3_auth *ret,
                                           struct vouch_errbuf *eb)
{
    static const char alg[] = VOUCH_RPC_V3_ALGORITHM " ";
    struct vouch_rpc_v3_auth a;
    const char *p;
    unsigned seen = 0, i;

    if (strncmp(value, alg, sizeof(alg) - 1) != 0)
        return vouch_fail_field(eb, VOUCH_E_AUTH, "Authorization", "not %s",
                                VOUCH_RPC_V3_ALGORITHM);
    memset(&a, 0, sizeof(a));
    for (p = value + sizeof(alg) - 1; *p;) {
        const char *end, *eq;
        size_t n, vlen;

        while (*p == ' ')
            p++;
        end = strchr(p, ',');
        n = end ? (size_t)(end - p) : strlen(p);
        eq = memchr(p, '=', n);
        for (i = 0; eq && i < 3; i++)
            if (strlen(auth_parts[i].name) == (size_t)(eq - p) &&
                memcmp(auth_parts[i].name, p, (size_t)(eq - p)) == 0)
                break;
        vlen = eq ? n - (size_t)(eq - p) - 1 : 0;
        if (!eq || i == 3 || (seen & (1u << i)) ||
            (auth_parts[i].exact_len && vlen != auth_parts[i].exact_len) ||
            !copy_part((char *)&a + auth_parts[i].off, auth_parts[i].cap, eq + 1, vlen))
            return vouch_fail_field(eb, VOUCH_E_AUTH, "Authorization",
                                    "unknown, repeated or malformed part \"%.*s\"",
                                    (int)(eq ? (size_t)(eq - p) : n > 32 ? 32 : n), p);
        seen |= 1u << i;
        p += n;
        if (*p == ',')
            p++;
    }
    if (seen != 7)
        return vouch_fail_field(eb, VOUCH_E_AUTH, "Authorization",
                                "Credential, SignedHeaders and Signature are required");
    *ret = a;
    return VOUCH_OK;
}

static const char *const required_v3[] = {
    "host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce",
    "x-acs-version",
};

/* Is `name` (n bytes) a well-formed lower-case header name? */
static bool header_name_ok(const char *name, size_t n)
{
    size_t i;

    if (n == 0 || n > 64)
        return false;
    for (i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '-'))
            return false;
    return true;
}

vouch_err vouch_rpc_v3_check_request(const struct vouch_rpc_v3_request *r,
                                     const char *signed_headers, struct vouch_errbuf *eb)
{
    const char *p = signed_headers, *prev = NULL, *sha;
    size_t prev_len = 0, i, found = 0;
    uint8_t digest[32];
    char hex[65];

    while (*p) {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);

        if (!header_name_ok(p, n) ||
            (prev && (memcmp(prev, p, n < prev_len ? n : prev_len) > 0 ||
                      (memcmp(prev, p, n < prev_len ? n : prev_len) == 0 && prev_len >= n))))
            return vouch_fail_field(eb, VOUCH_E_AUTH, "Authorization",
                                    "SignedHeaders: not sorted, lower-case and unique");
        for (i = 0; i < sizeof(required_v3) / sizeof(required_v3[0]); i++)
            if (strlen(required_v3[i]) == n && memcmp(required_v3[i], p, n) == 0)
                found++;
        prev = p;
        prev_len = n;
        p += n + (end ? 1 : 0);
    }
    if (found != sizeof(required_v3) / sizeof(required_v3[0]))
        return vouch_fail_field(eb, VOUCH_E_AUTH, "Authorization",
                                "SignedHeaders must include host, x-acs-action, "
                                "x-acs-content-sha256, x-acs-date, x-acs-signature-nonce "
                                "and x-acs-version");
    sha = r->header(r->header_ctx, "x-acs-content-sha256");
    if (vouch_hash(VOUCH_HASH_SHA256, r->body, r->body_len, digest))
        return vouch_fail(eb, VOUCH_E_INTERNAL, "SHA-256 failed");
    vouch_hex_encode(digest, sizeof(digest), hex);
    if (!sha || strcmp(sha, hex) != 0)
        return vouch_fail_field(eb, VOUCH_E_AUTH, "x-acs-content-sha256",
                                "x-acs-content-sha256 is not the SHA-256 of the body");
    return VOUCH_OK;
}

/* "name:trimmed value\n" for each signed header. */
static vouch_err canonical_headers(const struct vouch_rpc_v3_request *r, const char *list,
                                   struct vouch_buf *b, struct vouch_errbuf *eb)
{
    char name[65];
    const char *p = list;
    vouch_err e = VOUCH_OK;

    while (*p && !e) {
        const char *end = strchr(p, ';'), *v;
        size_t n = end ? (size_t)(end - p) : strlen(p), vn;

        if (!header_name_ok(p, n))
            return vouch_fail_field(eb, VOUCH_E_AUTH, "Authorization", "bad SignedHeaders");
        memcpy(name, p, n);
        name[n] = '\0';
        v = r->header(r->header_ctx, name);
        if (!v)
            return vouch_fail_field(eb, VOUCH_E_AUTH, name, "signed header %s is absent", name);
        while (*v == ' ' || *v == '\t')
            v++;
        vn = strlen(v);
        while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
            vn--;
        e = vouch_buf_append(b, name, n);
        if (!e)
            e = vouch_buf_putc(b, ':');
        if (!e)
            e = vouch_buf_append(b, v, vn);
        if (!e)
            e = vouch_buf_putc(b, '\n');
        p += n + (end ? 1 : 0);
    }
    return e ? vouch_fail(eb, e, "signature v3: canonical headers too large") : VOUCH_OK;
}

static vouch_err hex_sha256(const void *data, size_t n, char hex[65])
{
    uint8_t d[32];

    if (vouch_hash(VOUCH_HASH_SHA256, data, n, d))
        return VOUCH_E_INTERNAL;
    vouch_hex_encode(d, sizeof(d), hex);
    return VOUCH_OK;
}

vouch_err vouch_rpc_v3_string_to_sign(const struct vouch_rpc_v3_request *r,
                                      const char *signed_headers, struct vouch_buf *ret,
                                      struct vouch_errbuf *eb)
{
    struct vouch_buf c = VOUCH_BUF_INIT(CANON_CAP);
    char body_hex[65], canon_hex[65];
    vouch_err e;

    e = hex_sha256(r->body, r->body_len, body_hex);
    if (!e)
        e = vouch_buf_printf(&c, "%s\n%s\n", r->method, r->path);
    if (!e)
        e = canonical_query(r->query, NULL, false, &c);
    if (!e)
        e = vouch_buf_putc(&c, '\n');
    if (e) {
        e = vouch_fail(eb, e, "signature v3: cannot build the canonical request");
        goto out;
    }
    e = canonical_headers(r, signed_headers, &c, eb);
    if (e)
        goto out;
    if (vouch_buf_printf(&c, "\n%s\n%s", signed_headers, body_hex) ||
        hex_sha256(c.data, c.len, canon_hex) ||
        vouch_buf_printf(ret, "%s\n%s", VOUCH_RPC_V3_ALGORITHM, canon_hex))
        e = vouch_fail(eb, VOUCH_E_TOO_LARGE, "signature v3: canonical request too large");
out:
    vouch_buf_free(&c);
    return e;
}

vouch_err vouch_rpc_v3_sign(const struct vouch_rpc_v3_request *r, const char *signed_headers,
                            const char *secret, char ret_sig[VOUCH_RPC_V3_SIG_LEN + 1],
                            struct vouch_errbuf *eb)
{
    struct vouch_buf sts = VOUCH_BUF_INIT(4096);
    uint8_t mac[32];
    vouch_err e;

    e = vouch_rpc_v3_string_to_sign(r, signed_headers, &sts, eb);
    if (e)
        goto out;
    if (vouch_hmac(VOUCH_HASH_SHA256, secret, strlen(secret), sts.data, sts.len, mac)) {
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "signature v3: HMAC-SHA256 failed");
        goto out;
    }
    vouch_hex_encode(mac, sizeof(mac), ret_sig);
out:
    vouch_buf_free(&sts);
    return e;
}

vouch_err vouch_rpc_parse_timestamp(const char *s, int64_t *ret, struct vouch_errbuf *eb)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    size_t i;

    for (i = 0; i < sizeof(shape) - 1; i++)
        if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
            return vouch_fail(eb, VOUCH_E_INVALID, "not YYYY-MM-DDThh:mm:ssZ");
    if (s[i] != '\0')
        return vouch_fail(eb, VOUCH_E_INVALID, "not YYYY-MM-DDThh:mm:ssZ");
    return vouch_time_parse_rfc3339(s, i, ret, NULL, eb);
}
