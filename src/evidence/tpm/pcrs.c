/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/json.h"
#include "common/reader.h"
#include "evidence/tpm/tpm.h"
#include "evidence/tpm/tpm_int.h"

static const struct {
    uint16_t alg;
    const char *name;
} alg_names[] = {
    { VOUCH_TPM_ALG_RSA, "rsa" },
    { VOUCH_TPM_ALG_HMAC, "hmac" },
    { VOUCH_TPM_ALG_AES, "aes" },
    { VOUCH_TPM_ALG_KEYEDHASH, "keyedhash" },
    { VOUCH_TPM_ALG_NULL, "null" },
    { VOUCH_TPM_ALG_RSASSA, "rsassa" },
    { VOUCH_TPM_ALG_RSAPSS, "rsapss" },
    { VOUCH_TPM_ALG_ECDSA, "ecdsa" },
    { VOUCH_TPM_ALG_ECC, "ecc" },
    { VOUCH_TPM_ALG_CFB, "cfb" },
};

/* The TPM_ALG_ID of a hash. */
static uint16_t vouch_tpm_hash_alg(enum vouch_hash h)
{
    static const uint16_t ids[VOUCH_HASH__COUNT] = {
        [VOUCH_HASH_SHA1] = VOUCH_TCG_ALG_SHA1,
        [VOUCH_HASH_SHA256] = VOUCH_TCG_ALG_SHA256,
        [VOUCH_HASH_SHA384] = VOUCH_TCG_ALG_SHA384,
        [VOUCH_HASH_SHA512] = VOUCH_TCG_ALG_SHA512,
        [VOUCH_HASH_SM3] = VOUCH_TCG_ALG_SM3_256,
    };

    return (unsigned)h < VOUCH_HASH__COUNT ? ids[h] : VOUCH_TPM_ALG_NULL;
}

const char *vouch_tpm_alg_name(uint16_t alg)
{
    size_t i;

    for (i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++)
        if (alg_names[i].alg == alg)
            return alg_names[i].name;
    return vouch_tcg_alg_name(alg);
}

void vouch_tpm_pcrs_init(struct vouch_tpm_pcrs *p)
{
    memset(p, 0, sizeof(*p));
}

vouch_err vouch_tpm_pcrs_set(struct vouch_tpm_pcrs *p, enum vouch_hash h, unsigned index,
                             const uint8_t *value, size_t len, struct vouch_errbuf *eb)
{
    if ((unsigned)h >= VOUCH_HASH__COUNT)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "unknown PCR bank");
    if (index >= VOUCH_TPM_PCR_COUNT)
        return vouch_fail(eb, VOUCH_E_INVALID, "PCR index %u out of range", index);
    if (len != vouch_hash_size(h))
        return vouch_fail(eb, VOUCH_E_INVALID, "%s PCR %u: %zu bytes, expected %zu",
                          vouch_hash_name(h), index, len, vouch_hash_size(h));
    memcpy(p->value[h][index], value, len);
    p->mask[h] |= 1u << index;
    return VOUCH_OK;
}

/* ---- selections -------------------------------------------------------- */

/* Parse "0,1,3-7" or "all" into a bitmap. */
static vouch_err parse_index_list(const char *s, size_t len, uint32_t *ret,
                                  struct vouch_errbuf *eb)
{
    uint32_t mask = 0;
    size_t i = 0;

    if (len == 3 && memcmp(s, "all", 3) == 0) {
        *ret = (1u << VOUCH_TPM_PCR_COUNT) - 1;
        return VOUCH_OK;
    }
    while (i < len) {
        unsigned lo = 0, hi, digits = 0;

        while (i < len && isdigit((unsigned char)s[i]) && digits < 3) {
            lo = lo * 10 + (unsigned)(s[i++] - '0');
            digits++;
        }
        if (!digits || lo >= VOUCH_TPM_PCR_COUNT)
            return vouch_fail(eb, VOUCH_E_INVALID, "bad PCR index in selection");
        hi = lo;
        if (i < len && s[i] == '-') {
            i++;
            hi = 0;
            digits = 0;
            while (i < len && isdigit((unsigned char)s[i]) && digits < 3) {
                hi = hi * 10 + (unsigned)(s[i++] - '0');
                digits++;
            }
            if (!digits || hi >= VOUCH_TPM_PCR_COUNT || hi < lo)
                return vouch_fail(eb, VOUCH_E_INVALID, "bad PCR range in selection");
        }
        for (; lo <= hi; lo++)
            mask |= 1u << lo;
        if (i < len) {
            if (s[i] != ',')
                return vouch_fail(eb, VOUCH_E_INVALID, "unexpected '%c' in selection", s[i]);
            i++;
        }
    }
    *ret = mask;
    return VOUCH_OK;
}

vouch_err vouch_tpm_pcr_select_parse(const char *s, struct vouch_tpm_pcr_select *ret,
                                     struct vouch_errbuf *eb)
{
    struct vouch_tpm_pcr_select sel;
    const char *p = s;

    memset(&sel, 0, sizeof(sel));
    while (*p) {
        const char *plus = strchr(p, '+');
        const char *colon = strchr(p, ':');
        size_t seglen = plus ? (size_t)(plus - p) : strlen(p);
        char name[16];
        int h;
        vouch_err e;

        if (!colon || (size_t)(colon - p) >= seglen || (size_t)(colon - p) >= sizeof(name))
            return vouch_fail(eb, VOUCH_E_INVALID, "selection needs BANK:PCRS");
        memcpy(name, p, (size_t)(colon - p));
        name[colon - p] = '\0';
        if (strcmp(name, "sm3_256") == 0)
            h = VOUCH_HASH_SM3;
        else
            h = vouch_hash_from_name(name);
        if (h < 0)
            return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "unknown PCR bank '%s'", name);
        if (sel.count == VOUCH_TPM_MAX_SELECT)
            return vouch_fail(eb, VOUCH_E_TOO_LARGE, "too many banks in selection");
        sel.bank[sel.count].alg = vouch_tpm_hash_alg((enum vouch_hash)h);
        e = parse_index_list(colon + 1, seglen - (size_t)(colon - p) - 1,
                             &sel.bank[sel.count].mask, eb);
        if (e)
            return e;
        sel.count++;
        p += seglen;
        if (*p == '+')
            p++;
    }
    if (!sel.count)
        return vouch_fail(eb, VOUCH_E_INVALID, "empty PCR selection");
    *ret = sel;
    return VOUCH_OK;
}

uint32_t vouch_tpm_pcr_select_mask(const struct vouch_tpm_pcr_select *sel, enum vouch_hash h)
{
    uint32_t mask = 0, i;

    for (i = 0; i < sel->count && i < VOUCH_TPM_MAX_SELECT; i++)
        if (vouch_tcg_alg_hash(sel->bank[i].alg) == (int)h)
            mask |= sel->bank[i].mask;
    return mask;
}

vouch_err vouch_tpm_pcr_select_format(const struct vouch_tpm_pcr_select *sel,
                                      struct vouch_buf *out)
{
    uint32_t b;
    unsigned i;
    vouch_err e = VOUCH_OK;

    for (b = 0; b < sel->count && !e; b++) {
        const char *name = vouch_tpm_alg_name(sel->bank[b].alg);
        bool first = true;

        if (b)
            e = vouch_buf_putc(out, '+');
        if (!e && name)
            e = vouch_buf_printf(out, "%s:", name);
        else if (!e)
            e = vouch_buf_printf(out, "0x%04x:", sel->bank[b].alg);
        for (i = 0; i < VOUCH_TPM_PCR_COUNT && !e; i++)
            if (sel->bank[b].mask >> i & 1) {
                e = vouch_buf_printf(out, first ? "%u" : ",%u", i);
                first = false;
            }
    }
    return e;
}

/* ---- loading ----------------------------------------------------------- */

static int bank_from_name(const char *name, size_t len)
{
    char tmp[16];

    if (len >= sizeof(tmp))
        return -1;
    memcpy(tmp, name, len);
    tmp[len] = '\0';
    if (strcmp(tmp, "sm3_256") == 0 || strcmp(tmp, "sm3-256") == 0)
        return VOUCH_HASH_SM3;
    return vouch_hash_from_name(tmp);
}

static vouch_err set_hex(struct vouch_tpm_pcrs *p, int h, unsigned idx, const char *hex,
                         size_t len, struct vouch_errbuf *eb)
{
    uint8_t v[VOUCH_HASH_MAX_SIZE];
    size_t n = vouch_hash_size((enum vouch_hash)h);

    if (len >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
        hex += 2;
        len -= 2;
    }
    if (vouch_hex_decode_exact(hex, len, v, n, NULL))
        return vouch_fail(eb, VOUCH_E_INVALID, "%s PCR %u: not %zu bytes of hex",
                          vouch_hash_name((enum vouch_hash)h), idx, n);
    return vouch_tpm_pcrs_set(p, (enum vouch_hash)h, idx, v, n, eb);
}

vouch_err vouch_tpm_pcrs_from_json(const json_t *j, struct vouch_tpm_pcrs *ret,
                                   struct vouch_errbuf *eb)
{
    struct vouch_tpm_pcrs p;
    const char *bank;
    json_t *v;
    vouch_err e;

    if (json_is_object(j) && json_object_get(j, "pcrs"))
        j = json_object_get(j, "pcrs");
    if (!json_is_object(j))
        return vouch_fail(eb, VOUCH_E_INVALID, "PCR values: expected a JSON object");
    vouch_tpm_pcrs_init(&p);
    json_object_foreach((json_t *)j, bank, v) {
        int h = bank_from_name(bank, strlen(bank));
        const char *k;
        json_t *x;
        size_t i;

        if (h < 0)
            return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "PCR values: unknown bank '%s'", bank);
        if (json_is_array(v)) {
            if (json_array_size(v) > VOUCH_TPM_PCR_COUNT)
                return vouch_fail(eb, VOUCH_E_INVALID, "PCR values: %s has %zu PCRs", bank,
                                  json_array_size(v));
            json_array_foreach(v, i, x) {
                if (!json_is_string(x))
                    return vouch_fail(eb, VOUCH_E_INVALID, "PCR values: %s[%zu] not a string",
                                      bank, i);
                e = set_hex(&p, h, (unsigned)i, json_string_value(x), json_string_length(x), eb);
                if (e)
                    return e;
            }
            continue;
        }
        if (!json_is_object(v))
            return vouch_fail(eb, VOUCH_E_INVALID, "PCR values: %s: expected object or array",
                              bank);
        json_object_foreach(v, k, x) {
            /* json_object_foreach steps on from k itself: read the index through n */
            const char *n = strncmp(k, "pcr", 3) ? k : k + 3;
            char *end;
            unsigned long idx;

            idx = strtoul(n, &end, 10);
            if (!*n || *end || idx >= VOUCH_TPM_PCR_COUNT)
                return vouch_fail(eb, VOUCH_E_INVALID, "PCR values: bad PCR index '%s'", k);
            if (!json_is_string(x))
                return vouch_fail(eb, VOUCH_E_INVALID, "PCR values: %s/%s not a string", bank, k);
            e = set_hex(&p, h, (unsigned)idx, json_string_value(x), json_string_length(x), eb);
            if (e)
                return e;
        }
    }
    *ret = p;
    return VOUCH_OK;
}

/* tpm2-tools' serialized dump: TPML_PCR_SELECTION (4 + 16 * 8), u32 count, TPML_DIGEST[count] (4 + 8 * 66). */
#define SER_SEL_SIZE (4 + 16 * 8)
#define SER_DIGESTS_SIZE (4 + 8 * 66)

static vouch_err load_serialized(const uint8_t *d, size_t len, struct vouch_tpm_pcrs *ret,
                                 struct vouch_errbuf *eb)
{
    struct vouch_tpm_pcrs p;
    struct vouch_reader r;
    uint32_t nsel, nlists, b, i;
    uint16_t algs[16];
    uint32_t masks[16];
    uint32_t list = 0, slot = 0, listcount = 0;

    vouch_tpm_pcrs_init(&p);
    vouch_reader_init(&r, d, len);
    if (vouch_reader_u32le(&r, &nsel) || nsel > 16)
        return vouch_fail(eb, VOUCH_E_INVALID, "serialized PCRs: bad selection count");
    for (b = 0; b < 16; b++) {
        const uint8_t *s;

        if (vouch_reader_bytes(&r, 8, &s))
            return vouch_fail(eb, VOUCH_E_TRUNCATED, "serialized PCRs: short selection");
        algs[b] = (uint16_t)(s[0] | s[1] << 8);
        if (b < nsel && s[2] > 4)
            return vouch_fail(eb, VOUCH_E_INVALID, "serialized PCRs: sizeofSelect %u", s[2]);
        masks[b] = 0;
        for (i = 0; b < nsel && i < s[2] && i < 3; i++)
            masks[b] |= (uint32_t)s[3 + i] << (8 * i);
    }
    if (vouch_reader_u32le(&r, &nlists) ||
        vouch_reader_left(&r) != (size_t)nlists * SER_DIGESTS_SIZE)
        return vouch_fail(eb, VOUCH_E_INVALID, "serialized PCRs: bad digest list count");
    for (b = 0; b < nsel; b++) {
        int h = vouch_tcg_alg_hash(algs[b]);

        for (i = 0; i < VOUCH_TPM_PCR_COUNT; i++) {
            const uint8_t *dg;
            uint16_t size;

            if (!(masks[b] >> i & 1))
                continue;
            while (slot == listcount) {
                if (list == nlists)
                    return vouch_fail(eb, VOUCH_E_INVALID,
                                      "serialized PCRs: fewer values than selected");
                r.p = d + SER_SEL_SIZE + 4 + (size_t)list * SER_DIGESTS_SIZE;
                if (vouch_reader_u32le(&r, &listcount) || listcount > 8)
                    return vouch_fail(eb, VOUCH_E_INVALID, "serialized PCRs: bad digest count");
                list++;
                slot = 0;
            }
            r.p = d + SER_SEL_SIZE + 4 + (size_t)(list - 1) * SER_DIGESTS_SIZE + 4 + slot * 66;
            if (vouch_reader_u16le(&r, &size) || vouch_reader_bytes(&r, 64, &dg))
                return vouch_fail(eb, VOUCH_E_TRUNCATED, "serialized PCRs: short digest");
            slot++;
            if (h < 0)
                continue;
            if (vouch_tpm_pcrs_set(&p, (enum vouch_hash)h, i, dg, size, eb))
                return vouch_fail_prefix(eb, VOUCH_E_INVALID, "serialized PCRs: ");
        }
    }
    *ret = p;
    return VOUCH_OK;
}

static size_t select_size(const struct vouch_tpm_pcr_select *sel)
{
    size_t total = 0;
    uint32_t b;

    for (b = 0; b < sel->count; b++) {
        int h = vouch_tcg_alg_hash(sel->bank[b].alg);

        if (h < 0)
            return 0;
        total += (size_t)__builtin_popcount(sel->bank[b].mask) * vouch_hash_size((enum vouch_hash)h);
    }
    return total;
}

static vouch_err load_values(const uint8_t *d, size_t len,
                             const struct vouch_tpm_pcr_select *sel,
                             struct vouch_tpm_pcrs *ret, struct vouch_errbuf *eb)
{
    struct vouch_tpm_pcrs p;
    size_t off = 0;
    uint32_t b;
    unsigned i;

    if (len != select_size(sel))
        return vouch_fail(eb, VOUCH_E_INVALID, "PCR values: %zu bytes, the selection needs %zu",
                          len, select_size(sel));
    vouch_tpm_pcrs_init(&p);
    for (b = 0; b < sel->count; b++) {
        enum vouch_hash h = (enum vouch_hash)vouch_tcg_alg_hash(sel->bank[b].alg);
        size_t n = vouch_hash_size(h);

        for (i = 0; i < VOUCH_TPM_PCR_COUNT; i++)
            if (sel->bank[b].mask >> i & 1) {
                if (vouch_tpm_pcrs_set(&p, h, i, d + off, n, eb))
                    return VOUCH_E_INVALID;
                off += n;
            }
    }
    *ret = p;
    return VOUCH_OK;
}

/* YAML as tpm2-tools prints PCRs: a bank line "  sha256:" then "    N : 0xHEX" lines. */
static vouch_err load_yaml(const char *s, size_t len, struct vouch_tpm_pcrs *ret,
                           struct vouch_errbuf *eb)
{
    struct vouch_tpm_pcrs p;
    const char *end = s + len, *line = s;
    int bank = -1;
    bool any = false;

    vouch_tpm_pcrs_init(&p);
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *le = nl ? nl : end, *q = line, *colon;
        size_t indent;

        while (q < le && *q == ' ')
            q++;
        indent = (size_t)(q - line);
        colon = memchr(q, ':', (size_t)(le - q));
        if (colon && q < le && isdigit((unsigned char)*q) && bank >= 0) {
            unsigned idx = 0;
            const char *v = colon + 1, *ve = le;

            while (q < colon && isdigit((unsigned char)*q) && idx < 100)
                idx = idx * 10 + (unsigned)(*q++ - '0');
            while (q < colon && *q == ' ')
                q++;
            while (v < ve && *v == ' ')
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\r'))
                ve--;
            if (q != colon || idx >= VOUCH_TPM_PCR_COUNT)
                return vouch_fail(eb, VOUCH_E_INVALID, "PCR YAML: bad index line");
            if (set_hex(&p, bank, idx, v, (size_t)(ve - v), eb))
                return vouch_fail_prefix(eb, VOUCH_E_INVALID, "PCR YAML: ");
            any = true;
        } else if (colon && q < le) {
            const char *ve = colon + 1;

            while (ve < le && (*ve == ' ' || *ve == '\r'))
                ve++;
            bank = (ve == le && indent > 0) ? bank_from_name(q, (size_t)(colon - q)) : -1;
        }
        line = nl ? nl + 1 : end;
    }
    if (!any)
        return vouch_fail(eb, VOUCH_E_INVALID, "PCR YAML: no PCR values found");
    *ret = p;
    return VOUCH_OK;
}

static bool is_text(const uint8_t *d, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (!(d[i] == '\n' || d[i] == '\r' || d[i] == '\t' || (d[i] >= 0x20 && d[i] < 0x7f)))
            return false;
    return len > 0;
}

vouch_err vouch_tpm_pcrs_load(const uint8_t *data, size_t len,
                              const struct vouch_tpm_pcr_select *sel,
                              struct vouch_tpm_pcrs *ret, struct vouch_errbuf *eb)
{
    size_t i = 0;

    if (len >= SER_SEL_SIZE + 4 && (len - SER_SEL_SIZE - 4) % SER_DIGESTS_SIZE == 0 &&
        !load_serialized(data, len, ret, NULL))
        return VOUCH_OK;
    if (sel && select_size(sel) == len && len)
        return load_values(data, len, sel, ret, eb);
    if (!is_text(data, len)) {
        if (sel)
            return load_values(data, len, sel, ret, eb);
        return vouch_fail(eb, VOUCH_E_INVALID,
                          "PCR values: not JSON, YAML or a tpm2-tools serialized file");
    }
    while (i < len && isspace(data[i]))
        i++;
    if (i < len && data[i] == '{') {
        json_t *j;
        vouch_err e = vouch_json_parse(data, len, &j, eb);

        if (e)
            return vouch_fail_prefix(eb, e, "PCR values: ");
        e = vouch_tpm_pcrs_from_json(j, ret, eb);
        json_decref(j);
        return e;
    }
    return load_yaml((const char *)data, len, ret, eb);
}

vouch_err vouch_tpm_pcrs_to_json(const struct vouch_tpm_pcrs *p, json_t **ret)
{
    json_t *root = json_object();
    int h;
    unsigned i;

    if (!root)
        return VOUCH_E_NOMEM;
    for (h = 0; h < VOUCH_HASH__COUNT; h++) {
        json_t *bank;

        if (!p->mask[h])
            continue;
        bank = json_object();
        if (!bank || json_object_set_new(root, vouch_hash_name((enum vouch_hash)h), bank))
            goto nomem;
        for (i = 0; i < VOUCH_TPM_PCR_COUNT; i++) {
            char key[4];

            if (!(p->mask[h] >> i & 1))
                continue;
            snprintf(key, sizeof(key), "%u", i);
            if (json_object_set_new(
                    bank, key,
                    vouch_tcg_json_hex(p->value[h][i], vouch_hash_size((enum vouch_hash)h))))
                goto nomem;
        }
    }
    *ret = root;
    return VOUCH_OK;
nomem:
    json_decref(root);
    return VOUCH_E_NOMEM;
}

vouch_err vouch_tpm_pcrs_format_yaml(const struct vouch_tpm_pcrs *p, int style,
                                     struct vouch_buf *out)
{
    static const char upper[] = "0123456789ABCDEF", lower[] = "0123456789abcdef";
    const char *digits = style == VOUCH_TPM_YAML_EVENTLOG ? lower : upper;
    vouch_err e = VOUCH_OK;
    int h;
    unsigned i;
    size_t k;

    for (h = 0; h < VOUCH_HASH__COUNT && !e; h++) {
        size_t n = vouch_hash_size((enum vouch_hash)h);

        if (!p->mask[h])
            continue;
        e = vouch_buf_printf(out, "  %s:\n",
                             h == VOUCH_HASH_SM3 ? "sm3_256" : vouch_hash_name((enum vouch_hash)h));
        for (i = 0; i < VOUCH_TPM_PCR_COUNT && !e; i++) {
            if (!(p->mask[h] >> i & 1))
                continue;
            if (style == VOUCH_TPM_YAML_EVENTLOG)
                e = vouch_buf_printf(out, "    %-3u: 0x", i);
            else
                e = vouch_buf_printf(out, "    %-2u: 0x", i);
            for (k = 0; k < n && !e; k++) {
                e = vouch_buf_putc(out, (uint8_t)digits[p->value[h][i][k] >> 4]);
                if (!e)
                    e = vouch_buf_putc(out, (uint8_t)digits[p->value[h][i][k] & 15]);
            }
            if (!e)
                e = vouch_buf_putc(out, '\n');
        }
    }
    return e;
}

size_t vouch_tpm_pcrs_diff(const struct vouch_tpm_pcrs *want,
                           const struct vouch_tpm_pcrs *have, json_t *diffs,
                           size_t *ret_compared)
{
    size_t ndiff = 0, ncmp = 0;
    int h;
    unsigned i;

    for (h = 0; h < VOUCH_HASH__COUNT; h++) {
        size_t n = vouch_hash_size((enum vouch_hash)h);
        uint32_t both = want->mask[h] & have->mask[h];

        for (i = 0; i < VOUCH_TPM_PCR_COUNT; i++) {
            json_t *d;

            if (!(both >> i & 1))
                continue;
            ncmp++;
            if (memcmp(want->value[h][i], have->value[h][i], n) == 0)
                continue;
            ndiff++;
            if (!diffs)
                continue;
            d = json_pack("{s:s, s:I, s:o, s:o}", "bank", vouch_hash_name((enum vouch_hash)h),
                          "pcr", (json_int_t)i,
                          "expected", vouch_tcg_json_hex(want->value[h][i], n),
                          "actual", vouch_tcg_json_hex(have->value[h][i], n));
            if (d)
                json_array_append_new(diffs, d);
        }
    }
    if (ret_compared)
        *ret_compared = ncmp;
    return ndiff;
}
