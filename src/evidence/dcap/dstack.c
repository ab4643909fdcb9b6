/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dstack's JSON event log read directly, without building jansson values:
 * an array of objects whose members are among imr, event_type, digest,
 * event, event_payload and version, each at most once, the integers plain
 * non-negative decimals, the strings printable ASCII without escapes.
 * That is every log dstack writes.  Anything else (other members, escapes,
 * non-ASCII, other number forms, a string holding the array, invalid JSON)
 * makes the reader give up, and the caller parses the log with the JSON
 * parser, whose answer (a log or an error) is then the answer: so the
 * direct reader decides nothing on its own, it only reads faster what the
 * JSON path would have read the same way (fuzz/dcap checks that both paths agree).
 */
#include <stdlib.h>
#include <string.h>

#include "evidence/dcap/dcap_int.h"
#include "evidence/tcg/eventlog.h"

struct dstack_cursor {
    const uint8_t *p, *end;
};

static void skip_ws(struct dstack_cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t'))
        c->p++;
}

/* The next non-blank byte is ch: step over it. */
static bool take(struct dstack_cursor *c, uint8_t ch)
{
    skip_ws(c);
    if (c->p >= c->end || *c->p != ch)
        return false;
    c->p++;
    return true;
}

/* A string of printable ASCII without escapes; *ret points into the input. */
static bool read_plain_string(struct dstack_cursor *c, const char **ret, size_t *ret_len)
{
    const uint8_t *s;

    if (!take(c, '"'))
        return false;
    for (s = c->p; c->p < c->end && *c->p != '"'; c->p++)
        if (*c->p < 0x20 || *c->p > 0x7e || *c->p == '\\')
            return false;
    if (c->p >= c->end)
        return false;
    *ret = (const char *)s;
    *ret_len = (size_t)(c->p - s);
    c->p++;
    return true;
}

/* A non-negative integer without sign, fraction or exponent, at most 18 digits. */
static bool read_plain_uint(struct dstack_cursor *c, int64_t *ret)
{
    int64_t v = 0;
    size_t digits = 0;

    skip_ws(c);
    if (c->p < c->end && *c->p == '0') {
        c->p++;
        digits = 1;
    } else {
        /* at most 18 digits are read, so v stays below 10^18 < INT64_MAX; a 19th is
           refused by the digit check below */
        for (; c->p < c->end && *c->p >= '0' && *c->p <= '9' && digits < 18; c->p++, digits++)
            v = v * 10 + (*c->p - '0');
    }
    if (digits == 0 ||
        (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E' ||
                           (*c->p >= '0' && *c->p <= '9'))))
        return false;
    *ret = v;
    return true;
}

enum { M_IMR = 1, M_TYPE = 2, M_DIGEST = 4, M_EVENT = 8, M_PAYLOAD = 16, M_VERSION = 32 };

/* One member "key": value into f; `seen` refuses a second of the same key. */
static bool read_member(struct dstack_cursor *c, struct vouch_dstack_fields *f, unsigned *seen)
{
    const char *key;
    size_t klen;
    unsigned m;

    if (!read_plain_string(c, &key, &klen) || !take(c, ':'))
        return false;
#define KEY_IS(k) (klen == sizeof(k) - 1 && memcmp(key, k, klen) == 0)
    m = KEY_IS("imr") ? M_IMR : KEY_IS("event_type") ? M_TYPE : KEY_IS("digest") ? M_DIGEST
        : KEY_IS("event") ? M_EVENT : KEY_IS("event_payload") ? M_PAYLOAD
        : KEY_IS("version") ? M_VERSION : 0;
#undef KEY_IS
    if (!m || (*seen & m))
        return false;
    *seen |= m;
    switch (m) {
    case M_IMR: return read_plain_uint(c, &f->imr);
    case M_TYPE: return read_plain_uint(c, &f->type);
    case M_VERSION: return read_plain_uint(c, &f->version);
    case M_DIGEST: return read_plain_string(c, &f->digest, &f->digest_len);
    case M_EVENT: return read_plain_string(c, &f->name, &f->name_len);
    default: return read_plain_string(c, &f->payload, &f->payload_len);
    }
}

/* One event object, with the defaults of the members it leaves out. */
static bool read_event(struct dstack_cursor *c, struct vouch_dstack_fields *f)
{
    unsigned seen = 0;

    memset(f, 0, sizeof(*f));
    f->version = 1;
    f->digest = f->name = f->payload = "";
    if (!take(c, '{'))
        return false;
    if (take(c, '}'))
        return false;           /* imr and event_type missing: the JSON path names them */
    do {
        if (!read_member(c, f, &seen))
            return false;
    } while (take(c, ','));
    return take(c, '}') && (seen & (M_IMR | M_TYPE)) == (M_IMR | M_TYPE);
}

bool vouch_dstack_read(const uint8_t *data, size_t len, struct vouch_dstack_fields **ret,
                       size_t *ret_n)
{
    struct dstack_cursor c = { data, data + len };
    struct vouch_dstack_fields *f = NULL, *bigger;
    size_t n = 0, cap = 0;
    bool ok = false;

    if (!take(&c, '['))
        goto out;
    if (!take(&c, ']')) {
        do {
            if (n == cap) {
                cap = cap ? 2 * cap : 32;
                if (n >= VOUCH_TCG_EL_MAX_EVENTS || !(bigger = realloc(f, cap * sizeof(*f))))
                    goto out;
                f = bigger;
            }
            if (!read_event(&c, &f[n]))
                goto out;
            n++;
        } while (take(&c, ','));
        if (!take(&c, ']'))
            goto out;
    }
    skip_ws(&c);
    ok = c.p == c.end;
out:
    if (!ok) {
        free(f);
        return false;
    }
    *ret = f;
    *ret_n = n;
    return true;
}
