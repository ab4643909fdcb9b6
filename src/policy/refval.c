/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/json.h"
#include "common/time.h"
#include "policy/refval.h"

#define PAYLOAD_MAX (1u << 20)

void vouch_refvals_free(struct vouch_refval *rv, size_t n)
{
    size_t i;

    if (!rv)
        return;
    for (i = 0; i < n; i++) {
        free(rv[i].name);
        json_decref(rv[i].values);
    }
    free(rv);
}

static bool name_ok(const char *k)
{
    size_t n = strlen(k), i;

    if (n == 0 || n > VOUCH_REFVAL_NAME_MAX)
        return false;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)k[i]) && !strchr("._-:/", k[i]))
            return false;
    return true;
}

/* Add the members of a {"name": [values]} map. */
static vouch_err add_map(const json_t *map, int64_t expires, struct vouch_refval **arr,
                         size_t *n, const char **field, const char *where,
                         struct vouch_errbuf *eb)
{
    const char *k;
    json_t *v;

    if (!json_is_object(map) || json_object_size(map) == 0) {
        *field = where;
        return vouch_fail(eb, VOUCH_E_INVALID, "must be a non-empty object of name -> [values]");
    }
    if (*n + json_object_size(map) > VOUCH_REFVAL_MAX_ENTRIES) {
        *field = where;
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "more than %d reference values in one upload",
                          VOUCH_REFVAL_MAX_ENTRIES);
    }
    json_object_foreach((json_t *)map, k, v) {
        struct vouch_refval *rv;

        if (!name_ok(k)) {
            *field = where;
            return vouch_fail(eb, VOUCH_E_INVALID, "reference value name '%.64s' must be 1-%d "
                              "characters of [A-Za-z0-9._:/-]", k, VOUCH_REFVAL_NAME_MAX);
        }
        if (!json_is_array(v)) {
            *field = where;
            return vouch_fail(eb, VOUCH_E_INVALID, "'%s' must be an array of values", k);
        }
        rv = &(*arr)[(*n)++];
        rv->name = strdup(k);
        rv->values = json_incref(v);
        rv->expires_at = expires;
        if (!rv->name)
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    return VOUCH_OK;
}

vouch_err vouch_refval_parse(const json_t *body, int64_t now, struct vouch_refval **ret,
                             size_t *ret_n, const char **ret_field, struct vouch_errbuf *eb)
{
    struct vouch_refval *arr = NULL;
    const char *field = NULL, *s;
    int64_t expires = now + VOUCH_REFVAL_DEFAULT_LIFETIME;
    json_t *map = NULL, *owned = NULL;
    size_t n = 0, slen;
    vouch_err e = VOUCH_OK;

    arr = calloc(VOUCH_REFVAL_MAX_ENTRIES, sizeof(*arr));
    if (!arr)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (json_is_string(json_object_get(body, "expires_at"))) {
        s = json_string_value(json_object_get(body, "expires_at"));
        e = vouch_time_parse_rfc3339(s, strlen(s), &expires, NULL, eb);
        if (e) {
            field = "expires_at";
            goto out;
        }
    } else if (json_object_get(body, "expires_at")) {
        field = "expires_at";
        e = vouch_fail(eb, VOUCH_E_INVALID, "must be an RFC 3339 date-time");
        goto out;
    }
    if (json_object_get(body, "payload")) {
        /* trustee RVPS message */
        const char *type = "sample";
        uint8_t *raw = NULL;
        size_t rawlen;

        if (vouch_json_get_str(body, "type", false, &type, NULL, eb) ||
            strcmp(type, "sample") != 0) {
            field = "type";
            e = vouch_fail(eb, VOUCH_E_UNSUPPORTED, "only RVPS messages of type 'sample' are "
                           "supported");
            goto out;
        }
        if (vouch_json_get_str(body, "payload", true, &s, &slen, eb)) {
            field = "payload";
            e = VOUCH_E_INVALID;
            goto out;
        }
        e = vouch_b64_decode(s, slen, VOUCH_B64_STD | VOUCH_B64_PAD_OPTIONAL, PAYLOAD_MAX, &raw,
                             &rawlen, eb);
        if (e == VOUCH_E_INVALID)
            e = vouch_b64_decode(s, slen, VOUCH_B64URL, PAYLOAD_MAX, &raw, &rawlen, eb);
        if (!e) {
            e = vouch_json_parse(raw, rawlen, &owned, eb);
            free(raw);
        }
        if (e) {
            field = "payload";
            vouch_fail_prefix(eb, e, "payload: ");
            goto out;
        }
        e = add_map(owned, expires, &arr, &n, &field, "payload", eb);
    } else if ((map = json_object_get(body, "reference_values"))) {
        e = add_map(map, expires, &arr, &n, &field, "reference_values", eb);
    } else if (json_object_get(body, "name")) {
        const char *name;
        json_t *one;

        if (vouch_json_get_str(body, "name", true, &name, NULL, eb)) {
            field = "name";
            e = VOUCH_E_INVALID;
            goto out;
        }
        if (!json_is_array(json_object_get(body, "values"))) {
            field = "values";
            e = vouch_fail(eb, VOUCH_E_INVALID, "'values' must be an array");
            goto out;
        }
        one = json_pack("{s:O}", name, json_object_get(body, "values"));
        e = add_map(one, expires, &arr, &n, &field, "name", eb);
        json_decref(one);
    } else {
        e = vouch_fail(eb, VOUCH_E_INVALID, "expected an RVPS message (payload), "
                       "{name, values} or {reference_values}");
    }
out:
    json_decref(owned);
    if (e) {
        vouch_refvals_free(arr, n);
        if (ret_field)
            *ret_field = field;
        return e;
    }
    *ret = arr;
    *ret_n = n;
    return VOUCH_OK;
}

vouch_err vouch_refval_put(struct vouch_store *s, const struct vouch_refval *rv, int64_t now,
                           struct vouch_errbuf *eb)
{
    char *text = NULL;
    size_t len;
    vouch_err e;

    e = vouch_json_dump(rv->values, VOUCH_STORE_DOC_MAX, &text, &len, eb);
    if (e)
        return e;
    e = vouch_store_doc_put(s, VOUCH_REFVAL_KIND, rv->name, text, len, NULL, rv->expires_at, now,
                            eb);
    free(text);
    return e;
}

vouch_err vouch_refval_get(struct vouch_store *s, const char *name, json_t **ret_values,
                           int64_t *ret_expires_at, struct vouch_errbuf *eb)
{
    struct vouch_store_doc *d = NULL;
    json_t *v = NULL;
    vouch_err e;

    e = vouch_store_doc_get(s, VOUCH_REFVAL_KIND, name, &d, eb);
    if (e)
        return e;
    e = vouch_json_parse(d->body, d->body_len, &v, eb);
    if (e) {
        vouch_store_doc_free(d);
        return vouch_fail_prefix(eb, VOUCH_E_STORE, "stored reference value '%s': ", name);
    }
    if (ret_expires_at)
        *ret_expires_at = d->expires_at;
    *ret_values = v;
    vouch_store_doc_free(d);
    return VOUCH_OK;
}

vouch_err vouch_refval_lookup(struct vouch_store *s, const char *name, int64_t now,
                              json_t **ret_values, struct vouch_errbuf *eb)
{
    int64_t expires = 0;
    json_t *v = NULL;
    vouch_err e;

    e = vouch_refval_get(s, name, &v, &expires, eb);
    if (e)
        return e;
    if (expires && expires <= now) {
        json_decref(v);
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "reference value '%s' expired", name);
    }
    *ret_values = v;
    return VOUCH_OK;
}
