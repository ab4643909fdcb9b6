/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/json.h"
#include "common/reader.h"
#include "evidence/tpm/ima.h"
#include "evidence/tpm/tpm_int.h"

/* Template fields we can parse (and rebuild from the ASCII form). */
enum field {
    F_D, F_N, F_DNG, F_DNGV2, F_NNG, F_SIG, F_BUF, F_DMODSIG, F_MODSIG, F_EVMSIG, F_OTHER,
};

#define MAX_FIELDS 16
#define MIN_LINE 44                /* "0 " + 40 hex + " " + a 1-char template name */
#define LEGACY_NAME_PAD 256       /* IMA_EVENT_NAME_LEN_MAX + 1 */
#define LEGACY_DIGEST_LEN 20      /* "ima" template: SHA-1 digest, u32 name length, name */
#define LEGACY_NAME_AT (LEGACY_DIGEST_LEN + 4)

static const struct {
    const char *name;
    const char *fmt;
} templates[] = {
    { "ima", "d|n" },
    { "ima-ng", "d-ng|n-ng" },
    { "ima-ngv2", "d-ngv2|n-ng" },
    { "ima-sig", "d-ng|n-ng|sig" },
    { "ima-sigv2", "d-ngv2|n-ng|sig" },
    { "ima-buf", "d-ng|n-ng|buf" },
    { "ima-modsig", "d-ng|n-ng|sig|d-modsig|modsig" },
    { "evm-sig", "d-ng|n-ng|evmsig|xattrnames|xattrlengths|xattrvalues|iuid|igid|imode" },
};

static enum field field_id(const char *s, size_t n)
{
    static const struct {
        const char *id;
        enum field f;
    } ids[] = {
        { "d", F_D }, { "n", F_N }, { "d-ng", F_DNG }, { "d-ngv2", F_DNGV2 }, { "n-ng", F_NNG },
        { "sig", F_SIG }, { "buf", F_BUF }, { "d-modsig", F_DMODSIG }, { "modsig", F_MODSIG },
        { "evmsig", F_EVMSIG },
    };
    size_t i;

    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        if (strlen(ids[i].id) == n && memcmp(ids[i].id, s, n) == 0)
            return ids[i].f;
    return F_OTHER;
}

/*
 * Template names are the kernel's identifiers ("ima-ng") or a format
 * ("d-ng|n-ng"): printable ASCII without blanks.  Anything else is refused,
 * since the name becomes a key of the claims and a word of the text log.
 */
static bool template_name_printable(const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (p[i] <= ' ' || p[i] > '~')
            return false;
    return true;
}

/* The field list of a template name; 0 fields for an unknown template. */
static int template_fields(const char *name, size_t len, enum field *out)
{
    const char *fmt = NULL, *p, *end;
    size_t i;
    int n = 0;

    for (i = 0; i < sizeof(templates) / sizeof(templates[0]); i++)
        if (strlen(templates[i].name) == len && memcmp(templates[i].name, name, len) == 0)
            fmt = templates[i].fmt;
    if (fmt) {
        p = fmt;
        end = fmt + strlen(fmt);
    } else if (memchr(name, '|', len)) {
        p = name;
        end = name + len;
    } else {
        return 0;
    }
    while (p < end && n < MAX_FIELDS) {
        const char *bar = memchr(p, '|', (size_t)(end - p));
        size_t fl = bar ? (size_t)(bar - p) : (size_t)(end - p);

        out[n++] = field_id(p, fl);
        p += fl + (bar ? 1 : 0);
    }
    return n;
}

void vouch_ima_log_free(struct vouch_ima_log *log)
{
    if (!log)
        return;
    free(log->entries);
    free(log->store);
    free(log);
}

static uint32_t get32(const uint8_t *p, bool be)
{
    return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
              : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Split a d-ng / d-ngv2 field ("sha256:\0" + digest, or "ima:sha256:\0" + digest). */
static bool split_digest(const uint8_t *f, uint32_t len, struct vouch_ima_entry *e)
{
    const uint8_t *nul = memchr(f, 0, len);
    const uint8_t *colon;
    size_t plen;

    if (!nul || nul == f || nul[-1] != ':')
        return false;
    plen = (size_t)(nul - f) - 1;                 /* without the final ':' */
    colon = plen ? memchr(f, ':', plen) : NULL;   /* d-ngv2: "ima:sha256" */
    if (colon) {
        e->alg = (const char *)colon + 1;
        e->alg_len = (uint32_t)(plen - (size_t)(colon + 1 - f));
    } else {
        e->alg = (const char *)f;
        e->alg_len = (uint32_t)plen;
    }
    e->digest = nul + 1;
    e->digest_len = (uint32_t)(len - (uint32_t)(nul + 1 - f));
    return true;
}

/* Fill the field pointers of a non-legacy entry from its template data. */
static vouch_err parse_fields(struct vouch_ima_entry *e, bool be, size_t idx,
                              struct vouch_errbuf *eb)
{
    enum field fields[MAX_FIELDS];
    int nf = template_fields(e->template_name, e->template_name_len, fields), i;
    struct vouch_reader r;

    if (nf == 0)
        return VOUCH_OK;            /* unknown template: hashed, not interpreted */
    vouch_reader_init(&r, e->data, e->data_len);
    for (i = 0; i < nf; i++) {
        const uint8_t *f;
        uint32_t fl;

        if ((be ? vouch_reader_u32be(&r, &fl) : vouch_reader_u32le(&r, &fl)) ||
            vouch_reader_bytes(&r, fl, &f))
            return vouch_fail(eb, VOUCH_E_TRUNCATED, "entry %zu: template field %d overruns "
                              "the template data", idx, i);
        switch (fields[i]) {
        case F_DNG:
        case F_DNGV2:
            if (!split_digest(f, fl, e))
                return vouch_fail(eb, VOUCH_E_INVALID, "entry %zu: malformed d-ng field", idx);
            break;
        case F_D:
            e->alg = "";
            e->alg_len = 0;
            e->digest = f;
            e->digest_len = fl;
            break;
        case F_NNG:
        case F_N:
            e->path = (const char *)f;
            e->path_len = fl && f[fl - 1] == 0 ? fl - 1 : fl;
            break;
        case F_SIG:
            e->sig = f;
            e->sig_len = fl;
            break;
        case F_BUF:
            e->buf = f;
            e->buf_len = fl;
            break;
        default:
            break;
        }
    }
    if (!vouch_reader_done(&r))
        return vouch_fail(eb, VOUCH_E_INVALID, "entry %zu: %zu bytes after the template fields",
                          idx, vouch_reader_left(&r));
    return VOUCH_OK;
}

/* SHA-1 (or another hash) of an entry's data as the kernel hashes it. */
static vouch_err entry_hash(EVP_MD_CTX *ctx, const struct vouch_ima_entry *e, enum vouch_hash h,
                            uint8_t *out)
{
    if (e->legacy) {
        uint8_t name[LEGACY_NAME_PAD];

        memset(name, 0, sizeof(name));
        memcpy(name, e->path, e->path_len);
        return vouch_tcg_hash2(ctx, h, e->digest, e->digest_len, name, sizeof(name), out);
    }
    return vouch_tcg_hash2(ctx, h, e->data, e->data_len, NULL, 0, out);
}

static vouch_err check_template_hash(EVP_MD_CTX *ctx, struct vouch_ima_entry *e, size_t idx,
                                     struct vouch_errbuf *eb)
{
    uint8_t h[20];

    e->violation = vouch_tcg_all_bytes(e->template_hash, 20, 0);
    if (e->violation)
        return VOUCH_OK;
    if (entry_hash(ctx, e, VOUCH_HASH_SHA1, h))
        return vouch_fail(eb, VOUCH_E_INTERNAL, "entry %zu: SHA-1 failed", idx);
    if (memcmp(h, e->template_hash, sizeof(e->template_hash)) != 0)
        return vouch_fail(eb, VOUCH_E_VERIFY, "entry %zu: template hash does not match the "
                          "template data", idx);
    return VOUCH_OK;
}

static vouch_err push_entry(struct vouch_ima_log *log, size_t *cap,
                            const struct vouch_ima_entry *e, struct vouch_errbuf *eb)
{
    if (log->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        struct vouch_ima_entry *ne;

        if (log->n >= VOUCH_IMA_MAX_ENTRIES)
            return vouch_fail(eb, VOUCH_E_TOO_LARGE, "IMA log: more than %u entries",
                              VOUCH_IMA_MAX_ENTRIES);
        ne = realloc(log->entries, ncap * sizeof(*ne));
        if (!ne)
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        log->entries = ne;
        *cap = ncap;
    }
    log->entries[log->n++] = *e;
    return VOUCH_OK;
}

static vouch_err parse_binary(struct vouch_ima_log *log, EVP_MD_CTX *ctx, struct vouch_errbuf *eb)
{
    struct vouch_reader r;
    size_t cap = 0;
    bool be;
    vouch_err e = VOUCH_OK;

    /* Host order: a little-endian PCR 10 reads as 0x0a000000 in big-endian and vice versa. */
    be = log->store_len >= 4 && get32(log->store, false) >= VOUCH_TPM_PCR_COUNT &&
         get32(log->store, true) < VOUCH_TPM_PCR_COUNT;
    log->big_endian = be;
    vouch_reader_init(&r, log->store, log->store_len);
    while (!e && !vouch_reader_done(&r)) {
        struct vouch_ima_entry en;
        const uint8_t *p;
        size_t idx = log->n;
        uint32_t nl;

        memset(&en, 0, sizeof(en));
        if (vouch_reader_bytes(&r, 4, &p))
            return vouch_fail(eb, VOUCH_E_TRUNCATED, "entry %zu: truncated header", idx);
        en.pcr = get32(p, be);
        if (vouch_reader_copy(&r, en.template_hash, sizeof(en.template_hash)) ||
            vouch_reader_bytes(&r, 4, &p))
            return vouch_fail(eb, VOUCH_E_TRUNCATED, "entry %zu: truncated header", idx);
        nl = get32(p, be);
        if (nl == 0 || nl > VOUCH_IMA_MAX_NAME)
            return vouch_fail(eb, VOUCH_E_INVALID, "entry %zu: template name of %u bytes", idx, nl);
        if (vouch_reader_bytes(&r, nl, &p))
            return vouch_fail(eb, VOUCH_E_TRUNCATED, "entry %zu: truncated template name", idx);
        if (!template_name_printable(p, nl))
            return vouch_fail(eb, VOUCH_E_INVALID, "entry %zu: template name is not printable "
                              "ASCII", idx);
        en.template_name = (const char *)p;
        en.template_name_len = nl;
        if (en.pcr >= VOUCH_TPM_PCR_COUNT)
            return vouch_fail(eb, VOUCH_E_INVALID, "entry %zu: PCR %u", idx, en.pcr);
        if (nl == 3 && memcmp(p, "ima", 3) == 0) {
            /* legacy: digest[20] | u32 len | name, no data length */
            const uint8_t *start = r.p;
            uint32_t pl;

            en.legacy = true;
            if (vouch_reader_bytes(&r, LEGACY_DIGEST_LEN, &en.digest) ||
                vouch_reader_bytes(&r, 4, &p))
                return vouch_fail(eb, VOUCH_E_TRUNCATED, "entry %zu: truncated ima template", idx);
            pl = get32(p, be);
            if (pl >= LEGACY_NAME_PAD)
                return vouch_fail(eb, VOUCH_E_INVALID, "entry %zu: ima file name of %u bytes",
                                  idx, pl);
            if (vouch_reader_bytes(&r, pl, &p))
                return vouch_fail(eb, VOUCH_E_TRUNCATED, "entry %zu: truncated file name", idx);
            en.digest_len = 20;
            en.alg = "";
            en.path = (const char *)p;
            en.path_len = pl;
            en.data = start;
            en.data_len = (uint32_t)(r.p - start);
        } else {
            uint32_t dl;

            if (vouch_reader_bytes(&r, 4, &p))
                return vouch_fail(eb, VOUCH_E_TRUNCATED, "entry %zu: truncated data length", idx);
            dl = get32(p, be);
            if (dl > VOUCH_IMA_MAX_TEMPLATE_DATA)
                return vouch_fail(eb, VOUCH_E_TOO_LARGE, "entry %zu: %u bytes of template data",
                                  idx, dl);
            if (vouch_reader_bytes(&r, dl, &en.data))
                return vouch_fail(eb, VOUCH_E_TRUNCATED, "entry %zu: truncated template data", idx);
            en.data_len = dl;
            e = parse_fields(&en, be, idx, eb);
            if (e)
                return e;
        }
        e = check_template_hash(ctx, &en, idx, eb);
        if (!e)
            e = push_entry(log, &cap, &en, eb);
    }
    return e;
}

/* ---- ASCII ---------------------------------------------------------------- */

struct line {
    const char *p, *end;
};

/* Next space-separated token from the left (may be empty); false at end of line. */
static bool token_left(struct line *l, const char **ret, size_t *ret_len)
{
    const char *sp;

    if (l->p > l->end)
        return false;
    sp = memchr(l->p, ' ', (size_t)(l->end - l->p));
    *ret = l->p;
    *ret_len = sp ? (size_t)(sp - l->p) : (size_t)(l->end - l->p);
    l->p = sp ? sp + 1 : l->end + 1;
    return true;
}

/* Next token from the right. */
static bool token_right(struct line *l, const char **ret, size_t *ret_len)
{
    const char *q = l->end;

    if (l->p > l->end)
        return false;
    while (q > l->p && q[-1] != ' ')
        q--;
    *ret = q;
    *ret_len = (size_t)(l->end - q);
    l->end = q > l->p ? q - 1 : q;
    if (q == l->p)
        l->p = l->end + 1;
    return true;
}

/* Append a field value, rebuilt from its ASCII form, as u32 length + bytes at *w. */
static vouch_err rebuild_field(enum field f, const char *s, size_t n, uint8_t **w, bool legacy,
                               size_t idx, struct vouch_errbuf *eb)
{
    uint8_t *lenp = *w, *out = *w + (legacy ? 0 : 4);
    size_t len = 0;

    switch (f) {
    case F_D:
        if (vouch_hex_decode_exact(s, n, out, n / 2, NULL) || n % 2)
            goto bad;
        len = n / 2;
        break;
    case F_DNG:
    case F_DNGV2:
    case F_DMODSIG: {
        const char *c = n ? memrchr(s, ':', n) : NULL;
        size_t pl, hl;

        if (!n && f == F_DMODSIG)
            break;
        if (!c || (n - (size_t)(c + 1 - s)) % 2)
            goto bad;
        pl = (size_t)(c + 1 - s);
        hl = n - pl;
        memcpy(out, s, pl);
        out[pl] = 0;
        if (vouch_hex_decode_exact(c + 1, hl, out + pl + 1, hl / 2, NULL))
            goto bad;
        len = pl + 1 + hl / 2;
        break;
    }
    case F_N:
    case F_NNG:
        memcpy(out, s, n);
        len = n;
        if (f == F_NNG)
            out[len++] = 0;
        break;
    case F_SIG:
    case F_BUF:
    case F_MODSIG:
    case F_EVMSIG:
        if (n % 2 || vouch_hex_decode_exact(s, n, out, n / 2, NULL))
            goto bad;
        len = n / 2;
        break;
    default:
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "entry %zu: template field cannot be read "
                          "from the ASCII log", idx);
    }
    if (legacy && f == F_N) {
        /* binary legacy layout: digest | u32 len | name */
        memmove(out + 4, out, len);
        put32(out, (uint32_t)len);
        *w = out + 4 + len;
        return VOUCH_OK;
    }
    if (!legacy)
        put32(lenp, (uint32_t)len);
    *w = out + len;
    return VOUCH_OK;
bad:
    return vouch_fail(eb, VOUCH_E_INVALID, "entry %zu: malformed ASCII field", idx);
}

static vouch_err parse_ascii_line(struct vouch_ima_log *log, struct line l, uint8_t **w,
                                  EVP_MD_CTX *ctx, size_t *cap, struct vouch_errbuf *eb)
{
    struct vouch_ima_entry en;
    enum field fields[MAX_FIELDS];
    struct {
        const char *s;
        size_t n;
    } val[MAX_FIELDS];
    const char *tok;
    size_t tl, idx = log->n;
    unsigned pcr = 0;
    int nf, i, pathf = -1;
    uint8_t *start;
    vouch_err e;

    memset(&en, 0, sizeof(en));
    while (l.p < l.end && *l.p == ' ')
        l.p++;
    if (!token_left(&l, &tok, &tl) || tl == 0 || tl > 2)
        return vouch_fail(eb, VOUCH_E_INVALID, "entry %zu: bad PCR", idx);
    for (i = 0; i < (int)tl; i++) {
        if (!isdigit((unsigned char)tok[i]))
            return vouch_fail(eb, VOUCH_E_INVALID, "entry %zu: bad PCR", idx);
        pcr = pcr * 10 + (unsigned)(tok[i] - '0');
    }
    if (pcr >= VOUCH_TPM_PCR_COUNT)
        return vouch_fail(eb, VOUCH_E_INVALID, "entry %zu: PCR %u", idx, pcr);
    en.pcr = pcr;
    if (!token_left(&l, &tok, &tl) ||
        vouch_hex_decode_exact(tok, tl, en.template_hash, 20, NULL))
        return vouch_fail(eb, VOUCH_E_INVALID, "entry %zu: bad template hash", idx);
    if (!token_left(&l, &tok, &tl) || tl == 0 || tl > VOUCH_IMA_MAX_NAME ||
        !template_name_printable((const uint8_t *)tok, tl))
        return vouch_fail(eb, VOUCH_E_INVALID, "entry %zu: bad template name", idx);
    /* the name is copied into the store so entries do not point into the input */
    start = *w;
    memcpy(start, tok, tl);
    en.template_name = (const char *)start;
    en.template_name_len = (uint32_t)tl;
    *w += tl;
    en.legacy = tl == 3 && memcmp(tok, "ima", 3) == 0;
    nf = template_fields(tok, tl, fields);
    if (nf == 0)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "entry %zu: template '%.*s' cannot be read "
                          "from the ASCII log", idx, (int)tl, tok);
    for (i = 0; i < nf; i++)
        if (fields[i] == F_N || fields[i] == F_NNG)
            pathf = i;
    /* fields left of the path from the left, the rest from the right, the path in between */
    for (i = 0; i < (pathf < 0 ? nf : pathf); i++)
        if (!token_left(&l, &val[i].s, &val[i].n))
            return vouch_fail(eb, VOUCH_E_INVALID, "entry %zu: missing template field", idx);
    if (pathf >= 0) {
        for (i = nf - 1; i > pathf; i--)
            if (!token_right(&l, &val[i].s, &val[i].n))
                return vouch_fail(eb, VOUCH_E_INVALID, "entry %zu: missing template field", idx);
        if (l.p > l.end)
            return vouch_fail(eb, VOUCH_E_INVALID, "entry %zu: missing file name", idx);
        val[pathf].s = l.p;
        val[pathf].n = (size_t)(l.end - l.p);
    } else if (l.p <= l.end) {
        return vouch_fail(eb, VOUCH_E_INVALID, "entry %zu: extra text after the fields", idx);
    }
    start = *w;
    for (i = 0; i < nf; i++) {
        e = rebuild_field(fields[i], val[i].s, val[i].n, w, en.legacy, idx, eb);
        if (e)
            return e;
    }
    en.data = start;
    en.data_len = (uint32_t)(*w - start);
    if (en.legacy) {
        if (en.data_len < LEGACY_NAME_AT)
            return vouch_fail(eb, VOUCH_E_INVALID, "entry %zu: bad ima template", idx);
        en.digest = start;
        en.digest_len = LEGACY_DIGEST_LEN;
        en.alg = "";
        en.path = (const char *)start + LEGACY_NAME_AT;
        en.path_len = en.data_len - LEGACY_NAME_AT;
        if (en.path_len >= LEGACY_NAME_PAD)
            return vouch_fail(eb, VOUCH_E_INVALID, "entry %zu: ima file name too long", idx);
    } else {
        e = parse_fields(&en, false, idx, eb);
        if (e)
            return e;
    }
    e = check_template_hash(ctx, &en, idx, eb);
    return e ? e : push_entry(log, cap, &en, eb);
}

static vouch_err parse_ascii(struct vouch_ima_log *log, const uint8_t *data, size_t len,
                             EVP_MD_CTX *ctx, struct vouch_errbuf *eb)
{
    const char *p = (const char *)data, *end = p + len;
    size_t lines = 0, cap = 0, i;
    uint8_t *w;
    vouch_err e = VOUCH_OK;

    for (i = 0; i < len; i++)
        lines += data[i] == '\n';
    if (lines > VOUCH_IMA_MAX_ENTRIES)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "IMA log: more than %u entries",
                          VOUCH_IMA_MAX_ENTRIES);
    /*
     * A line writes its template name and rebuilt fields (never longer than
     * their text) plus at most 4 + 1 bytes per field, and only once its PCR
     * and 40-hex template hash parsed: such a line has at least MIN_LINE
     * characters, which bounds the number of lines that write.
     */
    if (lines + 1 > len / MIN_LINE + 1)
        lines = len / MIN_LINE;
    log->store_len = len + (lines + 1) * (5 * MAX_FIELDS + 8);
    log->store = malloc(log->store_len);
    if (!log->store)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    w = log->store;
    while (!e && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        struct line l = { p, nl ? nl : end };

        if (l.end > l.p && l.end[-1] == '\r')
            l.end--;
        if (l.end > l.p)
            e = parse_ascii_line(log, l, &w, ctx, &cap, eb);
        p = nl ? nl + 1 : end;
    }
    return e;
}

vouch_err vouch_ima_log_parse(const uint8_t *data, size_t len, struct vouch_ima_log **ret,
                              struct vouch_errbuf *eb)
{
    struct vouch_ima_log *log = calloc(1, sizeof(*log));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    vouch_err e;

    if (!log || !ctx) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    if (len && (isdigit(data[0]) || data[0] == ' ')) {
        log->ascii = true;
        e = parse_ascii(log, data, len, ctx, eb);
    } else {
        log->store = malloc(len ? len : 1);
        if (!log->store) {
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            goto out;
        }
        memcpy(log->store, data, len);
        log->store_len = len;
        e = parse_binary(log, ctx, eb);
    }
out:
    EVP_MD_CTX_free(ctx);
    if (e) {
        vouch_ima_log_free(log);
        return e;
    }
    *ret = log;
    return VOUCH_OK;
}

/* ---- replay ---------------------------------------------------------------- */

void vouch_ima_state_init(struct vouch_ima_state *s, uint32_t banks)
{
    memset(s, 0, sizeof(*s));
    s->banks = banks & ((1u << VOUCH_HASH__COUNT) - 1);
}

static vouch_err entry_digest(EVP_MD_CTX *ctx, const struct vouch_ima_entry *e, enum vouch_hash h,
                              unsigned flags, uint8_t *out)
{
    size_t n = vouch_hash_size(h);

    if (flags & VOUCH_IMA_LEGACY_BANKS) {
        memset(out, 0, n);
        memset(out, 0xff, e->violation ? 20 : 0);
        if (!e->violation)
            memcpy(out, e->template_hash, sizeof(e->template_hash));
        return VOUCH_OK;
    }
    if (e->violation) {
        memset(out, 0xff, n);
        return VOUCH_OK;
    }
    if (h == VOUCH_HASH_SHA1) {
        memcpy(out, e->template_hash, sizeof(e->template_hash));
        return VOUCH_OK;
    }
    return entry_hash(ctx, e, h, out);
}

/*
 * A digest context per bank: re-initialising a context for the algorithm
 * it last ran keeps OpenSSL's provider state; alternating SHA-1 and
 * SHA-256 on one context rebuilt it twice per entry.
 */
struct bank_ctx {
    EVP_MD_CTX *c[VOUCH_HASH__COUNT];
};

static void bank_ctx_done(struct bank_ctx *b)
{
    size_t h;

    for (h = 0; h < VOUCH_HASH__COUNT; h++)
        EVP_MD_CTX_free(b->c[h]);
}

static vouch_err extend_entry(struct bank_ctx *ctx, const struct vouch_ima_entry *e,
                              uint32_t banks, unsigned flags, struct vouch_ima_state *s)
{
    uint8_t d[VOUCH_HASH_MAX_SIZE];
    int h;

    for (h = 0; h < VOUCH_HASH__COUNT; h++) {
        size_t n = vouch_hash_size((enum vouch_hash)h);
        vouch_err err;

        if (!(banks >> h & 1))
            continue;
        if (!ctx->c[h] && !(ctx->c[h] = EVP_MD_CTX_new()))
            return VOUCH_E_NOMEM;
        err = entry_digest(ctx->c[h], e, (enum vouch_hash)h, flags, d);
        if (!err)
            err = vouch_tcg_hash2(ctx->c[h], (enum vouch_hash)h, s->pcr[h], n, d, n, s->pcr[h]);
        if (err)
            return err;
    }
    s->next_index++;
    return VOUCH_OK;
}

static vouch_err check_pcrs(const struct vouch_ima_log *log, struct vouch_errbuf *eb)
{
    size_t i;

    for (i = 0; i < log->n; i++)
        if (log->entries[i].pcr != VOUCH_IMA_PCR)
            return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "entry %zu extends PCR %u; only PCR %d "
                              "logs are supported", i, log->entries[i].pcr, VOUCH_IMA_PCR);
    return VOUCH_OK;
}

vouch_err vouch_ima_replay(const struct vouch_ima_log *log, const struct vouch_ima_state *start,
                           uint32_t banks, unsigned flags, struct vouch_ima_state *ret,
                           struct vouch_errbuf *eb)
{
    struct vouch_ima_state s;
    struct bank_ctx ctx = { { NULL } };
    vouch_err e;
    size_t i;

    e = check_pcrs(log, eb);
    if (e)
        return e;
    if (start)
        s = *start;
    else
        vouch_ima_state_init(&s, banks);
    for (i = 0; i < log->n && !e; i++)
        e = extend_entry(&ctx, &log->entries[i], s.banks, flags, &s);
    bank_ctx_done(&ctx);
    if (e)
        return vouch_fail(eb, e, "IMA replay: digest failed");
    *ret = s;
    return VOUCH_OK;
}

vouch_err vouch_ima_boot_aggregate(const struct vouch_tpm_pcrs *pcrs, enum vouch_hash h,
                                   uint8_t *out, struct vouch_errbuf *eb)
{
    unsigned last = h == VOUCH_HASH_SHA1 ? 7 : 9, i;
    const EVP_MD *md = vouch_hash_md(h);
    EVP_MD_CTX *ctx;
    vouch_err e = VOUCH_OK;

    for (i = 0; i <= last; i++)
        if (!vouch_tpm_pcrs_has(pcrs, h, i))
            return vouch_fail(eb, VOUCH_E_NOT_FOUND, "boot_aggregate: no %s PCR %u",
                              vouch_hash_name(h), i);
    ctx = EVP_MD_CTX_new();
    if (!md || !ctx || EVP_DigestInit_ex2(ctx, md, NULL) != 1)
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "boot_aggregate: digest failed");
    for (i = 0; !e && i <= last; i++)
        if (EVP_DigestUpdate(ctx, pcrs->value[h][i], vouch_hash_size(h)) != 1)
            e = vouch_fail(eb, VOUCH_E_INTERNAL, "boot_aggregate: digest failed");
    if (!e && EVP_DigestFinal_ex(ctx, out, NULL) != 1)
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "boot_aggregate: digest failed");
    EVP_MD_CTX_free(ctx);
    return e;
}

static int hash_of_alg(const struct vouch_ima_entry *e)
{
    char name[16];

    if (e->alg_len == 0)
        return e->digest_len == 20 ? VOUCH_HASH_SHA1 : -1;
    if (e->alg_len >= sizeof(name))
        return -1;
    memcpy(name, e->alg, e->alg_len);
    name[e->alg_len] = 0;
    return vouch_hash_from_name(name);
}

static vouch_err check_boot_aggregate(const struct vouch_ima_entry *e,
                                      const struct vouch_tpm_pcrs *quoted, int *ret,
                                      struct vouch_errbuf *eb)
{
    uint8_t want[VOUCH_HASH_MAX_SIZE];
    int h = hash_of_alg(e);
    vouch_err err;

    if (h < 0 || e->digest_len != vouch_hash_size((enum vouch_hash)h))
        return vouch_fail(eb, VOUCH_E_INVALID, "boot_aggregate: unknown digest algorithm");
    err = vouch_ima_boot_aggregate(quoted, (enum vouch_hash)h, want, NULL);
    if (err == VOUCH_E_NOT_FOUND) {
        *ret = VOUCH_IMA_BA_NOT_CHECKED;
        return VOUCH_OK;
    }
    if (err)
        return vouch_fail(eb, err, "boot_aggregate: digest failed");
    if (memcmp(want, e->digest, e->digest_len) != 0)
        return vouch_fail(eb, VOUCH_E_VERIFY, "boot_aggregate (%s) does not match the quoted "
                          "PCRs 0-%d", vouch_hash_name((enum vouch_hash)h),
                          h == VOUCH_HASH_SHA1 ? 7 : 9);
    *ret = VOUCH_IMA_BA_VERIFIED;
    return VOUCH_OK;
}

static bool state_matches(const struct vouch_ima_state *s, uint32_t banks,
                          const struct vouch_tpm_pcrs *quoted)
{
    int h;

    for (h = 0; h < VOUCH_HASH__COUNT; h++)
        if (banks >> h & 1 &&
            memcmp(s->pcr[h], quoted->value[h][VOUCH_IMA_PCR], vouch_hash_size((enum vouch_hash)h)))
            return false;
    return true;
}

vouch_err vouch_ima_verify(const struct vouch_ima_log *log, uint64_t first_index,
                           const struct vouch_ima_state *prev,
                           const struct vouch_tpm_pcrs *quoted, unsigned flags,
                           struct vouch_ima_result *ret, struct vouch_errbuf *eb)
{
    struct vouch_ima_result res;
    struct vouch_ima_state s;
    uint32_t quoted_banks = 0, banks;
    struct bank_ctx ctx = { { NULL } };
    size_t i;
    int h;
    bool found;
    vouch_err e;

    e = check_pcrs(log, eb);
    if (e)
        return e;
    for (h = 0; h < VOUCH_HASH__COUNT; h++)
        if (vouch_tpm_pcrs_has(quoted, (enum vouch_hash)h, VOUCH_IMA_PCR) && vouch_hash_md(h))
            quoted_banks |= 1u << h;
    if (first_index == 0) {
        vouch_ima_state_init(&s, quoted_banks);
    } else {
        if (!prev || prev->next_index != first_index)
            return vouch_fail(eb, VOUCH_E_CONFLICT, "IMA log starts at entry %llu, the "
                              "verified state is at entry %llu", (unsigned long long)first_index,
                              prev ? (unsigned long long)prev->next_index : 0ULL);
        s = *prev;
    }
    banks = s.banks & quoted_banks;
    if (!banks)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "the quote has no PCR %d in a bank the IMA "
                          "state tracks", VOUCH_IMA_PCR);
    memset(&res, 0, sizeof(res));
    res.first_index = first_index;
    res.total = log->n;
    res.banks = banks;
    res.boot_aggregate = VOUCH_IMA_BA_ABSENT;
    if (first_index == 0 && log->n && log->entries[0].path &&
        log->entries[0].path_len == 14 && memcmp(log->entries[0].path, "boot_aggregate", 14) == 0) {
        if (flags & VOUCH_IMA_NO_BOOT_AGGREGATE) {
            res.boot_aggregate = VOUCH_IMA_BA_NOT_CHECKED;
        } else {
            e = check_boot_aggregate(&log->entries[0], quoted, &res.boot_aggregate, eb);
            if (e)
                return e;
        }
    }
    /* the first prefix (possibly empty) whose replay equals the quote */
    found = state_matches(&s, banks, quoted);
    for (i = 0; !found && i < log->n; i++) {
        e = extend_entry(&ctx, &log->entries[i], s.banks, flags, &s);
        if (e)
            break;
        res.violations += log->entries[i].violation;
        found = state_matches(&s, banks, quoted);
    }
    bank_ctx_done(&ctx);
    if (e)
        return vouch_fail(eb, e, "IMA replay: digest failed");
    if (!found) {
        char got[17], want[17];

        for (h = 0; !(banks >> h & 1); h++)
            ;
        vouch_hex_encode(s.pcr[h], 8, got);
        vouch_hex_encode(quoted->value[h][VOUCH_IMA_PCR], 8, want);
        return vouch_fail(eb, VOUCH_E_VERIFY, "IMA log: no prefix of entries %llu..%llu "
                          "replays to the quoted PCR %d (%s: all entries give %s..., the quote "
                          "has %s...)", (unsigned long long)first_index,
                          (unsigned long long)(first_index + log->n), VOUCH_IMA_PCR,
                          vouch_hash_name((enum vouch_hash)h), got, want);
    }
    res.matched = (size_t)(s.next_index - first_index);
    res.state = s;
    if (ret)
        *ret = res;
    return VOUCH_OK;
}

/* ---- state, claims, ASCII ------------------------------------------------- */

static json_t *pcr10_json(const struct vouch_ima_state *s, uint32_t banks)
{
    json_t *o = json_object();
    int h;

    for (h = 0; o && h < VOUCH_HASH__COUNT; h++)
        if (banks >> h & 1 &&
            json_object_set_new(
                o, vouch_hash_name((enum vouch_hash)h),
                vouch_tcg_json_hex(s->pcr[h], vouch_hash_size((enum vouch_hash)h)))) {
            json_decref(o);
            return NULL;
        }
    return o;
}

vouch_err vouch_ima_state_to_json(const struct vouch_ima_state *s, json_t **ret)
{
    json_t *o = json_pack("{s:I, s:o}", "next_index", (json_int_t)s->next_index, "pcr10",
                          pcr10_json(s, s->banks));

    if (!o)
        return VOUCH_E_NOMEM;
    *ret = o;
    return VOUCH_OK;
}

vouch_err vouch_ima_state_from_json(const json_t *j, struct vouch_ima_state *ret,
                                    struct vouch_errbuf *eb)
{
    struct vouch_ima_state s;
    json_t *ni = json_object_get(j, "next_index"), *pcrs = json_object_get(j, "pcr10"), *v;
    const char *bank;

    if (!json_is_integer(ni) || json_integer_value(ni) < 0 || !json_is_object(pcrs))
        return vouch_fail(eb, VOUCH_E_INVALID, "IMA state: needs next_index and pcr10");
    vouch_ima_state_init(&s, 0);
    s.next_index = (uint64_t)json_integer_value(ni);
    json_object_foreach(pcrs, bank, v) {
        int h = vouch_hash_from_name(bank);

        if (h < 0)
            return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "IMA state: unknown bank '%s'", bank);
        if (!json_is_string(v) ||
            vouch_hex_decode_exact(json_string_value(v), json_string_length(v), s.pcr[h],
                                   vouch_hash_size((enum vouch_hash)h), NULL))
            return vouch_fail(eb, VOUCH_E_INVALID, "IMA state: bad %s value", bank);
        s.banks |= 1u << h;
    }
    if (!s.banks)
        return vouch_fail(eb, VOUCH_E_INVALID, "IMA state: no bank");
    *ret = s;
    return VOUCH_OK;
}

vouch_err vouch_ima_claims(const struct vouch_ima_log *log, const struct vouch_ima_result *res,
                           json_t *unknown, size_t unknown_count, json_t **ret)
{
    static const char *const ba[] = { "absent", "not_checked", "verified" };
    json_t *o = NULL, *tmpl = json_object(), *state = NULL;
    size_t i;

    if (!tmpl)
        return VOUCH_E_NOMEM;
    for (i = 0; i < log->n; i++) {
        char name[VOUCH_IMA_MAX_NAME + 1];
        json_t *c;

        memcpy(name, log->entries[i].template_name, log->entries[i].template_name_len);
        name[log->entries[i].template_name_len] = 0;
        c = json_object_get(tmpl, name);
        if (json_object_set_new(tmpl, name, json_integer(c ? json_integer_value(c) + 1 : 1)))
            goto nomem;
    }
    if (vouch_ima_state_to_json(&res->state, &state))
        goto nomem;
    o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:o, s:s, s:I, s:O, s:O}",
                  "entries", (json_int_t)res->total, "first_index", (json_int_t)res->first_index,
                  "verified_entries", (json_int_t)res->matched,
                  "pending_entries", (json_int_t)(res->total - res->matched),
                  "next_index", (json_int_t)res->state.next_index,
                  "pcr10", pcr10_json(&res->state, res->banks),
                  "boot_aggregate", ba[res->boot_aggregate < 3 ? res->boot_aggregate : 0],
                  "violations", (json_int_t)res->violations, "templates", tmpl, "state", state);
    if (!o)
        goto nomem;
    if (unknown && (json_object_set(o, "unknown_files", unknown) ||
                    json_object_set_new(o, "unknown_count", json_integer((json_int_t)unknown_count))))
        goto nomem;
    json_decref(tmpl);
    json_decref(state);
    *ret = o;
    return VOUCH_OK;
nomem:
    json_decref(o);
    json_decref(tmpl);
    json_decref(state);
    return VOUCH_E_NOMEM;
}

static vouch_err hex_out(struct vouch_buf *out, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    vouch_err e = vouch_buf_reserve(out, 2 * n);
    size_t i;

    for (i = 0; i < n && !e; i++) {
        out->data[out->len++] = (uint8_t)digits[p[i] >> 4];
        out->data[out->len++] = (uint8_t)digits[p[i] & 15];
    }
    if (!e)
        out->data[out->len] = 0;
    return e;
}

/* One field in the ASCII form (the kernel's IMA_SHOW_ASCII). */
static vouch_err show_field(struct vouch_buf *out, enum field f, const uint8_t *d, uint32_t n)
{
    const uint8_t *nul;

    switch (f) {
    case F_DNG:
    case F_DNGV2:
    case F_DMODSIG:
        nul = memchr(d, 0, n);
        if (!nul)
            return hex_out(out, d, n);
        if (vouch_buf_append(out, d, (size_t)(nul - d)))
            return VOUCH_E_TOO_LARGE;
        return hex_out(out, nul + 1, n - (uint32_t)(nul + 1 - d));
    case F_NNG:
    case F_N:
        return vouch_buf_append(out, d, n && !d[n - 1] ? n - 1 : n);
    default:
        return hex_out(out, d, n);
    }
}

vouch_err vouch_ima_format_ascii(const struct vouch_ima_log *log, struct vouch_buf *out)
{
    vouch_err e = VOUCH_OK;
    size_t i;

    for (i = 0; i < log->n && !e; i++) {
        const struct vouch_ima_entry *en = &log->entries[i];
        enum field fields[MAX_FIELDS];
        int nf = template_fields(en->template_name, en->template_name_len, fields), k;
        uint32_t off = 0;

        e = vouch_buf_printf(out, "%2u ", en->pcr);
        if (!e)
            e = hex_out(out, en->template_hash, 20);
        if (!e)
            e = vouch_buf_printf(out, " %.*s", (int)en->template_name_len, en->template_name);
        if (!e && en->legacy) {
            e = vouch_buf_putc(out, ' ');
            if (!e)
                e = hex_out(out, en->digest, en->digest_len);
            if (!e)
                e = vouch_buf_putc(out, ' ');
            if (!e)
                e = vouch_buf_append(out, en->path, en->path_len);
        }
        for (k = 0; !en->legacy && k < nf && !e; k++) {
            uint32_t fl;

            if (en->data_len - off < 4)
                break;
            fl = get32(en->data + off, log->big_endian);
            off += 4;
            e = vouch_buf_putc(out, ' ');
            if (!e && fl)
                e = show_field(out, fields[k], en->data + off, fl);
            off += fl;
        }
        if (!e)
            e = vouch_buf_putc(out, '\n');
    }
    return e;
}
