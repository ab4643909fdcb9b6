/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/json.h"
#include "crypto/jcs.h"
#include "evidence/binding.h"

void vouch_binding_data_done(struct vouch_binding_data *d)
{
    if (!d)
        return;
    free(d->bytes);
    json_decref(d->structured);
    memset(d, 0, sizeof(*d));
}

static vouch_err decode_raw(const char *s, size_t n, uint8_t **ret, size_t *ret_len,
                            struct vouch_errbuf *eb)
{
    struct vouch_errbuf first;

    if (vouch_b64_decode(s, n, VOUCH_B64URL, VOUCH_BINDING_MAX, ret, ret_len, &first) ==
        VOUCH_OK)
        return VOUCH_OK;
    if (vouch_b64_decode(s, n, VOUCH_B64_STD | VOUCH_B64_PAD_OPTIONAL, VOUCH_BINDING_MAX, ret,
                         ret_len, NULL) == VOUCH_OK)
        return VOUCH_OK;
    return vouch_fail(eb, VOUCH_E_INVALID, "not base64url or base64: %s", first.msg);
}

vouch_err vouch_binding_data_parse(const json_t *obj, enum vouch_hash hash,
                                   struct vouch_binding_data *ret, struct vouch_errbuf *eb)
{
    json_t *raw = json_object_get(obj, "raw");
    json_t *st = json_object_get(obj, "structured");
    uint8_t digest[VOUCH_HASH_MAX_SIZE];
    char *canon = NULL;
    size_t clen;
    vouch_err e;

    if (!json_is_object(obj))
        return vouch_fail(eb, VOUCH_E_INVALID, "must be an object with 'raw' or 'structured'");
    if (raw && st)
        return vouch_fail(eb, VOUCH_E_INVALID, "give 'raw' or 'structured', not both");
    if (raw) {
        uint8_t *bytes;
        size_t len;

        if (!json_is_string(raw))
            return vouch_fail(eb, VOUCH_E_INVALID, "'raw' must be a base64 string");
        e = decode_raw(json_string_value(raw), json_string_length(raw), &bytes, &len, eb);
        if (e)
            return vouch_fail_prefix(eb, e, "'raw': ");
        memset(ret, 0, sizeof(*ret));
        ret->bytes = bytes;
        ret->len = len;
        return VOUCH_OK;
    }
    if (!st)
        return vouch_fail(eb, VOUCH_E_INVALID, "needs 'raw' or 'structured'");
    e = vouch_jcs(st, VOUCH_BINDING_MAX, &canon, &clen, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "'structured': ");
    e = vouch_hash(hash, canon, clen, digest);
    free(canon);
    if (e)
        return vouch_fail(eb, e, "hash %s unavailable", vouch_hash_name(hash));
    memset(ret, 0, sizeof(*ret));
    ret->len = vouch_hash_size(hash);
    ret->bytes = malloc(ret->len);
    if (!ret->bytes)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    memcpy(ret->bytes, digest, ret->len);
    ret->structured = json_incref((json_t *)st);
    return VOUCH_OK;
}

vouch_err vouch_binding_check(const uint8_t *expected, size_t expected_len,
                              const uint8_t *field, size_t field_len, const char *what,
                              struct vouch_errbuf *eb)
{
    uint8_t want[256];
    size_t n;

    if (!expected)
        return VOUCH_OK;
    if (field_len > sizeof(want))
        return vouch_fail(eb, VOUCH_E_INTERNAL, "%s field too large", what);
    memset(want, 0, field_len);
    n = expected_len < field_len ? expected_len : field_len;
    memcpy(want, expected, n);
    if (memcmp(want, field, field_len) != 0) {
        char got_hex[129], want_hex[129];
        size_t show = field_len > 64 ? 64 : field_len;

        vouch_hex_encode(field, show, got_hex);
        vouch_hex_encode(want, show, want_hex);
        return vouch_fail(eb, VOUCH_E_BINDING, "%s does not match: evidence has %s, "
                          "expected %s", what, got_hex, want_hex);
    }
    return VOUCH_OK;
}
