/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A TOML 1.0 reader for the documents attesters send (confidential
 * containers' init data and the aa.toml / cdh.toml it embeds): tables,
 * arrays of tables, dotted keys, all four string forms, integers (with _,
 * 0x/0o/0b), floats, booleans, arrays and inline tables.  Dates and times
 * are refused (nothing we read uses them).  Values become jansson values.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/codec.h"
#include "common/json.h"
#include "common/toml.h"

#define TOML_MAX_DEPTH 32

struct tp {
    const char *start, *p, *end;
    const char *err;
    const char *err_at;
    int depth;
};

static bool tfail(struct tp *t, const char *at, const char *msg)
{
    if (!t->err) {
        t->err = msg;
        t->err_at = at;
    }
    return false;
}

/* Spaces, tabs and a comment; not newlines. */
static void ws(struct tp *t)
{
    while (t->p < t->end && (*t->p == ' ' || *t->p == '\t'))
        t->p++;
    if (t->p < t->end && *t->p == '#')
        while (t->p < t->end && *t->p != '\n')
            t->p++;
}

/* Spaces, comments and newlines. */
static void ws_nl(struct tp *t)
{
    for (;;) {
        ws(t);
        if (t->p < t->end && (*t->p == '\n' || *t->p == '\r'))
            t->p++;
        else
            return;
    }
}

static bool at_eol(struct tp *t)
{
    ws(t);
    if (t->p >= t->end)
        return true;
    if (*t->p == '\n') {
        t->p++;
        return true;
    }
    if (*t->p == '\r' && t->p + 1 < t->end && t->p[1] == '\n') {
        t->p += 2;
        return true;
    }
    return tfail(t, t->p, "expected the end of the line");
}

static bool bare_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

/*
 * The backslash escape at t->p in a basic string: what it stands for into
 * b, t->p past it.  `at` is where the string began (for messages).
 */
static bool string_escape(struct tp *t, struct vouch_buf *b, const char *at, bool multi)
{
    uint32_t cp = 0;
    char out[4], c;
    int i, n;

    if (t->end - t->p < 2)
        return tfail(t, t->p, "unterminated escape");
    switch (t->p[1]) {
    case 'b': c = '\b'; break;
    case 't': c = '\t'; break;
    case 'n': c = '\n'; break;
    case 'f': c = '\f'; break;
    case 'r': c = '\r'; break;
    case '"': c = '"'; break;
    case '\\': c = '\\'; break;
    case 'u':
    case 'U':
        n = t->p[1] == 'u' ? 4 : 8;
        if (t->end - t->p < 2 + n)
            return tfail(t, t->p, "short unicode escape");
        for (i = 0; i < n; i++) {
            int d = vouch_hex_digit((unsigned char)t->p[2 + i]);

            if (d < 0)
                return tfail(t, t->p, "bad unicode escape");
            cp = cp << 4 | (uint32_t)d;
        }
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return tfail(t, t->p, "escape is not a Unicode scalar value");
        if (vouch_buf_append(b, out, vouch_utf8_encode(cp, out)))
            return tfail(t, at, "string too long");
        t->p += 2 + n;
        return true;
    default:
        if (multi && (t->p[1] == '\n' || t->p[1] == ' ' || t->p[1] == '\t' ||
                      t->p[1] == '\r')) {
            /* line-ending backslash: drop it and the whitespace after it */
            const char *s = t->p + 1;

            while (s < t->end && (*s == ' ' || *s == '\t'))
                s++;
            if (s < t->end && (*s == '\n' || *s == '\r')) {
                while (s < t->end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
                    s++;
                t->p = s;
                return true;
            }
        }
        return tfail(t, t->p, "invalid escape");
    }
    if (vouch_buf_putc(b, (uint8_t)c))
        return tfail(t, at, "string too long");
    t->p += 2;
    return true;
}

/* A string value or quoted key at t->p, into b (NUL-terminated). */
static bool string(struct tp *t, struct vouch_buf *b)
{
    char q = *t->p;
    bool multi = t->end - t->p >= 3 && t->p[1] == q && t->p[2] == q;
    const char *at = t->p;

    t->p += multi ? 3 : 1;
    if (multi && t->p < t->end && *t->p == '\n')
        t->p++;                         /* a newline right after the opening is trimmed */
    else if (multi && t->end - t->p >= 2 && t->p[0] == '\r' && t->p[1] == '\n')
        t->p += 2;
    for (;;) {
        char c;

        if (t->p >= t->end)
            return tfail(t, at, "unterminated string");
        c = *t->p;
        if (c == q) {
            if (!multi) {
                t->p++;
                break;
            }
            if (t->end - t->p >= 3 && t->p[1] == q && t->p[2] == q) {
                /* up to two more quotes may close it: """a""""" is a"" */
                size_t extra = 0;

                while (extra < 2 && t->end - t->p > 3 + (ptrdiff_t)extra &&
                       t->p[3 + extra] == q)
                    extra++;
                if (extra && vouch_buf_append(b, t->p, extra))
                    return tfail(t, at, "string too long");
                t->p += 3 + extra;
                break;
            }
        }
        if ((c == '\n' || c == '\r') && !multi)
            return tfail(t, t->p, "newline in a single-line string");
        if ((unsigned char)c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return tfail(t, t->p, "control character in a string");
        if (c == '\\' && q == '"') {
            if (!string_escape(t, b, at, multi))
                return false;
            continue;
        }
        if (vouch_buf_putc(b, (uint8_t)c))
            return tfail(t, at, "string too long");
        t->p++;
    }
    if (vouch_buf_putc(b, 0))
        return tfail(t, at, "string too long");
    b->len--;
    return true;
}

/* One key part (bare or quoted) into b. */
static bool key_part(struct tp *t, struct vouch_buf *b)
{
    const char *s = t->p;

    vouch_buf_reset(b);
    if (t->p < t->end && (*t->p == '"' || *t->p == '\'')) {
        if (t->end - t->p >= 3 && t->p[1] == *t->p && t->p[2] == *t->p)
            return tfail(t, t->p, "a key cannot be a multi-line string");
        return string(t, b);
    }
    while (t->p < t->end && bare_char(*t->p))
        t->p++;
    if (t->p == s)
        return tfail(t, s, "expected a key");
    return vouch_buf_append(b, s, (size_t)(t->p - s)) == VOUCH_OK &&
                   vouch_buf_putc(b, 0) == VOUCH_OK
               ? (b->len--, true)
               : tfail(t, s, "key too long");
}

/*
 * Walk a dotted key from `tbl`, creating tables on the way; on return
 * *ret_tbl is the table holding the last part, whose name is in `last`.
 */
static bool dotted(struct tp *t, json_t *tbl, json_t **ret_tbl, struct vouch_buf *last)
{
    for (;;) {
        json_t *next;

        if (!key_part(t, last))
            return false;
        ws(t);
        if (t->p >= t->end || *t->p != '.')
            break;
        t->p++;
        ws(t);
        next = json_object_getn(tbl, (const char *)last->data, last->len);
        if (!next) {
            next = json_object();
            if (!next || json_object_setn_new(tbl, (const char *)last->data, last->len,
                                              next))
                return tfail(t, t->p, "invalid key");
        } else if (json_is_array(next) && json_array_size(next)) {
            next = json_array_get(next, json_array_size(next) - 1);  /* [[x]] then x.y */
        }
        if (!json_is_object(next))
            return tfail(t, t->p, "a key is used both as a value and as a table");
        tbl = next;
    }
    *ret_tbl = tbl;
    return true;
}

static json_t *value(struct tp *t);

static json_t *number(struct tp *t)
{
    char tmp[80], *e;
    const char *s = t->p;
    size_t n = 0;
    bool real = false;
    int base = 10;

    while (t->p < t->end && (bare_char(*t->p) || *t->p == '+' || *t->p == '.' ||
                             *t->p == ':')) {
        if (*t->p == ':' || (*t->p == '-' && t->p != s && n && tmp[n - 1] != 'e' &&
                             tmp[n - 1] != 'E'))
            return tfail(t, s, "dates and times are not supported"), NULL;
        if (*t->p != '_') {
            if (n + 1 >= sizeof(tmp))
                return tfail(t, s, "number too long"), NULL;
            tmp[n++] = *t->p;
        }
        t->p++;
    }
    tmp[n] = '\0';
    if (strcmp(tmp, "inf") == 0 || strcmp(tmp, "+inf") == 0 || strcmp(tmp, "-inf") == 0 ||
        strstr(tmp, "nan"))
        return tfail(t, s, "inf and nan have no JSON form"), NULL;
    if (n > 2 && tmp[0] == '0' && (tmp[1] == 'x' || tmp[1] == 'o' || tmp[1] == 'b'))
        base = tmp[1] == 'x' ? 16 : tmp[1] == 'o' ? 8 : 2;
    else
        real = strpbrk(tmp, ".eE") != NULL;
    errno = 0;
    if (real) {
        double d = strtod(tmp, &e);

        if (e == tmp || *e || errno == ERANGE || !isfinite(d))
            return tfail(t, s, "invalid float"), NULL;
        return json_real(d);
    } else {
        long long v = strtoll(base == 10 ? tmp : tmp + 2, &e, base);

        if (!n || e == tmp || *e || errno == ERANGE ||
            (base != 10 && (tmp[2] == '-' || tmp[2] == '+')))
            return tfail(t, s, "invalid integer"), NULL;
        return json_integer(v);
    }
}

static json_t *array(struct tp *t)
{
    json_t *a = json_array(), *v;

    t->p++;
    for (;;) {
        ws_nl(t);
        if (t->p < t->end && *t->p == ']') {
            t->p++;
            return a;
        }
        v = value(t);
        if (!v || json_array_append_new(a, v))
            break;
        ws_nl(t);
        if (t->p < t->end && *t->p == ',') {
            t->p++;
            continue;
        }
        if (t->p < t->end && *t->p == ']') {
            t->p++;
            return a;
        }
        tfail(t, t->p, "expected ',' or ']' in an array");
        break;
    }
    json_decref(a);
    return NULL;
}

static bool keyval(struct tp *t, json_t *tbl);

static json_t *inline_table(struct tp *t)
{
    json_t *o = json_object();

    t->p++;
    ws(t);
    if (t->p < t->end && *t->p == '}') {
        t->p++;
        return o;
    }
    for (;;) {
        if (!keyval(t, o))
            break;
        ws(t);
        if (t->p < t->end && *t->p == ',') {
            t->p++;
            ws(t);
            continue;
        }
        if (t->p < t->end && *t->p == '}') {
            t->p++;
            return o;
        }
        tfail(t, t->p, "expected ',' or '}' in an inline table");
        break;
    }
    json_decref(o);
    return NULL;
}

static json_t *value(struct tp *t)
{
    struct vouch_buf b = VOUCH_BUF_INIT(1u << 20);
    json_t *v = NULL;

    if (t->p >= t->end)
        return tfail(t, t->p, "expected a value"), NULL;
    if (++t->depth > TOML_MAX_DEPTH)
        return tfail(t, t->p, "nested too deeply"), NULL;
    if (*t->p == '"' || *t->p == '\'') {
        if (string(t, &b))
            v = json_stringn((const char *)b.data, b.len);
        if (!v && !t->err)
            tfail(t, t->p, "string is not valid UTF-8");
    } else if (*t->p == '[') {
        v = array(t);
    } else if (*t->p == '{') {
        v = inline_table(t);
    } else if (t->end - t->p >= 4 && memcmp(t->p, "true", 4) == 0 &&
               (t->end - t->p == 4 || !bare_char(t->p[4]))) {
        t->p += 4;
        v = json_true();
    } else if (t->end - t->p >= 5 && memcmp(t->p, "false", 5) == 0 &&
               (t->end - t->p == 5 || !bare_char(t->p[5]))) {
        t->p += 5;
        v = json_false();
    } else if ((*t->p >= '0' && *t->p <= '9') || *t->p == '+' || *t->p == '-' ||
               *t->p == 'i' || *t->p == 'n') {
        v = number(t);
    } else {
        tfail(t, t->p, "expected a value");
    }
    t->depth--;
    vouch_buf_free(&b);
    return v;
}

/* key = value, into tbl. */
static bool keyval(struct tp *t, json_t *tbl)
{
    struct vouch_buf k = VOUCH_BUF_INIT(4096);
    const char *at = t->p;
    json_t *v, *holder = NULL;
    bool ok = false;

    if (!dotted(t, tbl, &holder, &k))
        goto out;
    ws(t);
    if (t->p >= t->end || *t->p != '=') {
        tfail(t, t->p, "expected '='");
        goto out;
    }
    t->p++;
    ws(t);
    v = value(t);
    if (!v)
        goto out;
    if (json_object_getn(holder, (const char *)k.data, k.len)) {
        json_decref(v);
        tfail(t, at, "duplicate key");
        goto out;
    }
    if (memchr(k.data, 0, k.len)) {
        json_decref(v);
        tfail(t, at, "a key cannot hold a NUL");
        goto out;
    }
    if (json_object_setn_new(holder, (const char *)k.data, k.len, v)) {  /* takes v */
        tfail(t, at, "invalid key");
        goto out;
    }
    ok = true;
out:
    vouch_buf_free(&k);
    return ok;
}

/* [a.b] or [[a.b]]: the table later key/values go to. */
static bool header(struct tp *t, json_t *root, json_t **ret_tbl)
{
    struct vouch_buf k = VOUCH_BUF_INIT(4096);
    bool aot = t->end - t->p >= 2 && t->p[1] == '[';
    json_t *holder, *cur;
    bool ok = false;

    t->p += aot ? 2 : 1;
    ws(t);
    if (!dotted(t, root, &holder, &k))
        goto out;
    ws(t);
    if (t->end - t->p < (aot ? 2 : 1) || t->p[0] != ']' || (aot && t->p[1] != ']')) {
        tfail(t, t->p, aot ? "expected ']]'" : "expected ']'");
        goto out;
    }
    t->p += aot ? 2 : 1;
    cur = json_object_getn(holder, (const char *)k.data, k.len);
    if (!cur) {
        cur = aot ? json_array() : json_object();
        if (!cur || json_object_setn_new(holder, (const char *)k.data, k.len, cur)) {
            tfail(t, t->p, "invalid table name");   /* not UTF-8, or out of memory */
            goto out;
        }
    }
    if (aot) {
        json_t *o = json_object();

        if (!o || !json_is_array(cur) || json_array_append_new(cur, o)) {
            if (!json_is_array(cur))
                json_decref(o);
            tfail(t, t->p, "[[table]] names a key that is not an array of tables");
            goto out;
        }
        *ret_tbl = o;
    } else {
        if (!json_is_object(cur)) {
            tfail(t, t->p, "[table] names a key that is already a value");
            goto out;
        }
        *ret_tbl = cur;
    }
    ok = at_eol(t);
out:
    vouch_buf_free(&k);
    return ok;
}

vouch_err vouch_toml_parse(const char *text, size_t len, json_t **ret, struct vouch_errbuf *eb)
{
    struct tp t = { text, text, text + len, NULL, NULL, 0 };
    json_t *root = json_object(), *tbl = root;
    const char *q;
    int line = 1;

    if (!root)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (;;) {
        ws_nl(&t);
        if (t.p >= t.end)
            break;
        if (*t.p == '[') {
            if (!header(&t, root, &tbl))
                goto bad;
        } else if (!keyval(&t, tbl) || !at_eol(&t)) {
            goto bad;
        }
    }
    *ret = root;
    return VOUCH_OK;
bad:
    json_decref(root);
    for (q = text; t.err_at && q < t.err_at; q++)
        line += *q == '\n';
    return vouch_fail(eb, VOUCH_E_INVALID, "TOML line %d: %s", line, t.err);
}
