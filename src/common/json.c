/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/codec.h"
#include "common/file.h"
#include "common/json.h"

vouch_err vouch_json_parse(const void *data, size_t len, json_t **ret,
                           struct vouch_errbuf *eb)
{
    json_error_t jerr;
    json_t *v;

    v = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!v)
        return vouch_fail(eb, VOUCH_E_INVALID, "invalid JSON at line %d column %d: %s",
                          jerr.line, jerr.column, jerr.text);
    *ret = v;
    return VOUCH_OK;
}

vouch_err vouch_json_load_file(const char *path, size_t max, json_t **ret,
                               struct vouch_errbuf *eb)
{
    uint8_t *data;
    size_t len;
    vouch_err e;

    e = vouch_file_read(path, max, &data, &len, eb);
    if (e)
        return e;
    e = vouch_json_parse(data, len, ret, eb);
    if (e)
        vouch_fail_prefix(eb, e, "%s: ", path);
    free(data);
    return e;
}

struct dump_ctx {
    struct vouch_buf buf;
    vouch_err err;
};

static int dump_cb(const char *p, size_t n, void *data)
{
    struct dump_ctx *c = data;

    c->err = vouch_buf_append(&c->buf, p, n);
    return c->err ? -1 : 0;
}

vouch_err vouch_json_dump(const json_t *v, size_t max, char **ret, size_t *ret_len,
                          struct vouch_errbuf *eb)
{
    struct dump_ctx c = { VOUCH_BUF_INIT(max), VOUCH_OK };
    uint8_t *p;

    if (json_dump_callback(v, dump_cb, &c, JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
        vouch_buf_free(&c.buf);
        if (c.err == VOUCH_E_TOO_LARGE)
            return vouch_fail(eb, c.err, "JSON output larger than %zu bytes", max);
        return vouch_fail(eb, c.err ? c.err : VOUCH_E_INTERNAL, "cannot serialise JSON");
    }
    p = vouch_buf_steal(&c.buf, ret_len);
    if (!p)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    *ret = (char *)p;
    return VOUCH_OK;
}

/* Find key; absent or null counts as missing.  Returns NULL when missing. */
static json_t *member(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

    return json_is_null(v) ? NULL : v;
}

static vouch_err missing(const char *key, bool required, struct vouch_errbuf *eb)
{
    if (required)
        return vouch_fail(eb, VOUCH_E_INVALID, "'%s' is required", key);
    return VOUCH_OK;
}

vouch_err vouch_json_get_str(const json_t *obj, const char *key, bool required,
                             const char **ret, size_t *ret_len, struct vouch_errbuf *eb)
{
    json_t *v = member(obj, key);

    if (!v)
        return missing(key, required, eb);
    if (!json_is_string(v))
        return vouch_fail(eb, VOUCH_E_INVALID, "'%s' must be a string", key);
    *ret = json_string_value(v);
    if (ret_len)
        *ret_len = json_string_length(v);
    return VOUCH_OK;
}

vouch_err vouch_json_get_int(const json_t *obj, const char *key, bool required,
                             int64_t *ret, struct vouch_errbuf *eb)
{
    json_t *v = member(obj, key);

    if (!v)
        return missing(key, required, eb);
    if (!json_is_integer(v))
        return vouch_fail(eb, VOUCH_E_INVALID, "'%s' must be an integer", key);
    *ret = json_integer_value(v);
    return VOUCH_OK;
}

vouch_err vouch_json_get_bool(const json_t *obj, const char *key, bool required,
                              bool *ret, struct vouch_errbuf *eb)
{
    json_t *v = member(obj, key);

    if (!v)
        return missing(key, required, eb);
    if (!json_is_boolean(v))
        return vouch_fail(eb, VOUCH_E_INVALID, "'%s' must be a boolean", key);
    *ret = json_is_true(v);
    return VOUCH_OK;
}

vouch_err vouch_json_get_obj(const json_t *obj, const char *key, bool required,
                             json_t **ret, struct vouch_errbuf *eb)
{
    json_t *v = member(obj, key);

    if (!v)
        return missing(key, required, eb);
    if (!json_is_object(v))
        return vouch_fail(eb, VOUCH_E_INVALID, "'%s' must be an object", key);
    *ret = v;
    return VOUCH_OK;
}

vouch_err vouch_json_get_array(const json_t *obj, const char *key, bool required,
                               json_t **ret, struct vouch_errbuf *eb)
{
    json_t *v = member(obj, key);

    if (!v)
        return missing(key, required, eb);
    if (!json_is_array(v))
        return vouch_fail(eb, VOUCH_E_INVALID, "'%s' must be an array", key);
    *ret = v;
    return VOUCH_OK;
}

vouch_err vouch_json_set_new(json_t *obj, const char *key, json_t *v)
{
    if (!v)
        return VOUCH_E_NOMEM;
    return json_object_set_new(obj, key, v) == 0 ? VOUCH_OK : VOUCH_E_NOMEM;
}

vouch_err vouch_json_set_str(json_t *obj, const char *key, const char *s)
{
    return vouch_json_set_new(obj, key, json_string(s));
}

vouch_err vouch_json_set_strn(json_t *obj, const char *key, const char *s, size_t n)
{
    return vouch_json_set_new(obj, key, json_stringn(s, n));
}

vouch_err vouch_json_set_int(json_t *obj, const char *key, int64_t v)
{
    return vouch_json_set_new(obj, key, json_integer(v));
}

vouch_err vouch_json_set_bool(json_t *obj, const char *key, bool v)
{
    return vouch_json_set_new(obj, key, json_boolean(v));
}

vouch_err vouch_json_set_hex(json_t *obj, const char *key, const void *data, size_t n)
{
    char *hex = vouch_hex_alloc(data, n);
    vouch_err e;

    if (!hex)
        return VOUCH_E_NOMEM;
    e = vouch_json_set_new(obj, key, json_stringn(hex, 2 * n));
    free(hex);
    return e;
}
