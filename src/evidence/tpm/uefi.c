/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/reader.h"
#include "crypto/digest.h"
#include "crypto/x509.h"
#include "evidence/tpm/tpm_int.h"
#include "evidence/tpm/uefi.h"

static const uint8_t guid_x509[16] = { 0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a,
                                       0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72 };
static const uint8_t guid_sha256[16] = { 0x26, 0x16, 0xc4, 0xc1, 0x4c, 0x50, 0x92, 0x40,
                                         0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28 };
static const uint8_t guid_sha1[16] = { 0x12, 0xa5, 0x6c, 0x82, 0x10, 0xcf, 0xc9, 0x4a,
                                       0xb1, 0x87, 0xbe, 0x01, 0x49, 0x66, 0x31, 0xbd };

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

void uefi_guid_str(const uint8_t g[16], char out[UEFI_GUID_STR_LEN])
{
    snprintf(out, UEFI_GUID_STR_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12],
             g[13], g[14], g[15]);
}

void uefi_guid_raw_str(const uint8_t g[16], char out[UEFI_GUID_STR_LEN])
{
    snprintf(out, UEFI_GUID_STR_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12],
             g[13], g[14], g[15]);
}

vouch_err uefi_utf16_append(const uint8_t *p, size_t nbytes, struct vouch_buf *out)
{
    size_t i;
    vouch_err e = VOUCH_OK;

    for (i = 0; i + 1 < nbytes && !e; i += 2) {
        uint32_t c = (uint32_t)(p[i] | p[i + 1] << 8);
        uint8_t u[4];
        size_t n;

        if (c == 0)
            break;
        if (c >= 0xd800 && c <= 0xdbff && i + 3 < nbytes) {
            uint32_t lo = (uint32_t)(p[i + 2] | p[i + 3] << 8);

            if (lo >= 0xdc00 && lo <= 0xdfff) {
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                i += 2;
            } else {
                c = 0xfffd;
            }
        } else if (c >= 0xd800 && c <= 0xdfff) {
            c = 0xfffd;
        }
        if (c < 0x80) {
            u[0] = (uint8_t)c;
            n = 1;
        } else if (c < 0x800) {
            u[0] = (uint8_t)(0xc0 | c >> 6);
            u[1] = (uint8_t)(0x80 | (c & 0x3f));
            n = 2;
        } else if (c < 0x10000) {
            u[0] = (uint8_t)(0xe0 | c >> 12);
            u[1] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
            u[2] = (uint8_t)(0x80 | (c & 0x3f));
            n = 3;
        } else {
            u[0] = (uint8_t)(0xf0 | c >> 18);
            u[1] = (uint8_t)(0x80 | (c >> 12 & 0x3f));
            u[2] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
            u[3] = (uint8_t)(0x80 | (c & 0x3f));
            n = 4;
        }
        e = vouch_buf_append(out, u, n);
    }
    return e;
}

static vouch_err hex_append(struct vouch_buf *b, const uint8_t *p, size_t n)
{
    vouch_err e = VOUCH_OK;
    size_t i;

    for (i = 0; i < n && !e; i++)
        e = vouch_buf_printf(b, "%02x", p[i]);
    return e;
}

static vouch_err guid_append(struct vouch_buf *b, const uint8_t *g)
{
    char s[UEFI_GUID_STR_LEN];

    uefi_guid_str(g, s);
    return vouch_buf_puts(b, s);
}

/* Render one node (type t, subtype st, body d[0..n)) into b. */
static vouch_err dp_node(uint8_t t, uint8_t st, const uint8_t *d, size_t n, struct vouch_buf *b)
{
    switch (t << 8 | st) {
    case 0x0101:                                    /* PCI */
        if (n >= 2)
            return vouch_buf_printf(b, "Pci(0x%x,0x%x)", d[1], d[0]);
        break;
    case 0x0103:                                    /* memory mapped */
        if (n >= 20)
            return vouch_buf_printf(b, "MemoryMapped(%u,0x%llx,0x%llx)", le32(d),
                                    (unsigned long long)le64(d + 4),
                                    (unsigned long long)le64(d + 12));
        break;
    case 0x0104:                                    /* vendor hardware */
    case 0x0310:                                    /* vendor messaging */
    case 0x0403:                                    /* vendor media */
        if (n >= 16) {
            vouch_err e = vouch_buf_puts(b, t == 1 ? "VenHw(" : t == 3 ? "VenMsg(" : "VenMedia(");

            if (!e)
                e = guid_append(b, d);
            if (!e && n > 16)
                e = vouch_buf_putc(b, ',');
            if (!e)
                e = hex_append(b, d + 16, n - 16);
            return e ? e : vouch_buf_putc(b, ')');
        }
        break;
    case 0x0105:
        if (n >= 4)
            return vouch_buf_printf(b, "Ctrl(%u)", le32(d));
        break;
    case 0x0201:                                    /* ACPI */
        if (n >= 8) {
            uint32_t hid = le32(d), uid = le32(d + 4);

            if (hid == 0x0a0341d0)
                return vouch_buf_printf(b, "PciRoot(0x%x)", uid);
            if (hid == 0x0a0841d0)
                return vouch_buf_printf(b, "PcieRoot(0x%x)", uid);
            if ((hid & 0xffff) == 0x41d0)
                return vouch_buf_printf(b, "Acpi(PNP%04x,0x%x)", hid >> 16, uid);
            return vouch_buf_printf(b, "Acpi(0x%08x,0x%x)", hid, uid);
        }
        break;
    case 0x0302:                                    /* SCSI */
        if (n >= 4)
            return vouch_buf_printf(b, "SCSI(%u,%u)", d[0] | d[1] << 8, d[2] | d[3] << 8);
        break;
    case 0x0305:                                    /* USB */
        if (n >= 2)
            return vouch_buf_printf(b, "USB(%u,%u)", d[0], d[1]);
        break;
    case 0x030b:                                    /* MAC */
        if (n >= 33) {
            unsigned len = d[32] <= 1 ? 6 : 32;
            vouch_err e = vouch_buf_puts(b, "MAC(");

            if (!e)
                e = hex_append(b, d, len);
            return e ? e : vouch_buf_printf(b, ",%u)", d[32]);
        }
        break;
    case 0x030c:                                    /* IPv4, as efivar prints it */
        if (n >= 15)
            return vouch_buf_printf(b, "IPv4(%u.%u.%u.%u%u.%u.%u.%u,%u,%u)", d[0], d[1], d[2],
                                    d[3], d[4], d[5], d[6], d[7], d[12] | d[13] << 8, d[14]);
        break;
    case 0x0312:                                    /* SATA */
        if (n >= 6)
            return vouch_buf_printf(b, "Sata(%u,%u,%u)", d[0] | d[1] << 8, d[2] | d[3] << 8,
                                    d[4] | d[5] << 8);
        break;
    case 0x0317:                                    /* NVMe */
        if (n >= 12)
            return vouch_buf_printf(b, "NVMe(0x%x,%02X-%02X-%02X-%02X-%02X-%02X-%02X-%02X)",
                                    le32(d), d[11], d[10], d[9], d[8], d[7], d[6], d[5], d[4]);
        break;
    case 0x0318: {                                  /* URI */
        vouch_err e = vouch_buf_puts(b, "Uri(");

        if (!e && n)
            e = vouch_buf_append(b, d, n);
        return e ? e : vouch_buf_putc(b, ')');
    }
    case 0x0401:                                    /* hard drive */
        if (n >= 38) {
            uint32_t part = le32(d);
            unsigned long long start = (unsigned long long)le64(d + 4);
            unsigned long long size = (unsigned long long)le64(d + 12);
            vouch_err e;

            if (d[36] == 2 && d[37] == 2) {
                e = vouch_buf_printf(b, "HD(%u,GPT,", part);
                if (!e)
                    e = guid_append(b, d + 20);
                return e ? e : vouch_buf_printf(b, ",0x%llx,0x%llx)", start, size);
            }
            return vouch_buf_printf(b, "HD(%u,MBR,0x%08x,0x%llx,0x%llx)", part, le32(d + 20),
                                    start, size);
        }
        break;
    case 0x0402:                                    /* CD-ROM */
        if (n >= 20)
            return vouch_buf_printf(b, "CDROM(%u,0x%llx,0x%llx)", le32(d),
                                    (unsigned long long)le64(d + 4),
                                    (unsigned long long)le64(d + 12));
        break;
    case 0x0404: {                                  /* file path */
        vouch_err e = vouch_buf_puts(b, "File(");

        if (!e)
            e = uefi_utf16_append(d, n, b);
        return e ? e : vouch_buf_putc(b, ')');
    }
    case 0x0405:
        if (n >= 16) {
            vouch_err e = vouch_buf_puts(b, "Media(");

            if (!e)
                e = guid_append(b, d);
            return e ? e : vouch_buf_putc(b, ')');
        }
        break;
    case 0x0406:                                    /* PIWG firmware file */
    case 0x0407:                                    /* PIWG firmware volume */
        if (n >= 16) {
            vouch_err e = vouch_buf_puts(b, st == 6 ? "FvFile(" : "FvVol(");

            if (!e)
                e = guid_append(b, d);
            return e ? e : vouch_buf_putc(b, ')');
        }
        break;
    case 0x0408:                                    /* relative offset range */
        if (n >= 20)
            return vouch_buf_printf(b, "Offset(0x%llx,0x%llx)", (unsigned long long)le64(d + 4),
                                    (unsigned long long)le64(d + 12));
        break;
    case 0x0501:                                    /* BIOS boot specification */
        if (n >= 4) {
            static const char *const types[] = { "", "Floppy", "HD", "CDROM", "PCMCIA",
                                                 "USB", "Network" };
            unsigned ty = (unsigned)(d[0] | d[1] << 8);
            const uint8_t *s = d + 4, *z = memchr(s, 0, n - 4);
            vouch_err e;

            if (ty < sizeof(types) / sizeof(types[0]) && ty)
                e = vouch_buf_printf(b, "BBS(%s,", types[ty]);
            else
                e = vouch_buf_printf(b, "BBS(0x%x,", ty);
            if (!e)
                e = vouch_buf_append(b, s, z ? (size_t)(z - s) : n - 4);
            return e ? e : vouch_buf_printf(b, ",0x%x)", d[2] | d[3] << 8);
        }
        break;
    default:
        break;
    }
    {
        vouch_err e = vouch_buf_printf(b, "Path(%u,%u,", t, st);

        if (!e)
            e = hex_append(b, d, n);
        return e ? e : vouch_buf_putc(b, ')');
    }
}

vouch_err uefi_device_path(const uint8_t *p, size_t len, struct vouch_buf *out, json_t *nodes)
{
    struct vouch_buf node = VOUCH_BUF_INIT(4096);
    struct vouch_reader r;
    bool first = true;
    vouch_err e = VOUCH_OK;

    vouch_reader_init(&r, p, len);
    while (!e && vouch_reader_left(&r) >= 4) {
        uint8_t t, st;
        uint16_t nl;
        const uint8_t *body;

        vouch_reader_u8(&r, &t);
        vouch_reader_u8(&r, &st);
        vouch_reader_u16le(&r, &nl);
        if (nl < 4 || vouch_reader_bytes(&r, (size_t)nl - 4, &body))
            break;
        if (t == 0x7f) {
            if (st == 0xff)
                break;
            e = vouch_buf_putc(out, ',');
            first = true;
            continue;
        }
        vouch_buf_reset(&node);
        e = dp_node(t, st, body, (size_t)nl - 4, &node);
        if (!e && !first)
            e = vouch_buf_putc(out, '/');
        if (!e)
            e = vouch_buf_append(out, node.data, node.len);
        if (!e && nodes && json_array_append_new(nodes, json_stringn((const char *)node.data,
                                                                      node.len)))
            e = VOUCH_E_NOMEM;
        first = false;
    }
    vouch_buf_free(&node);
    return e;
}

bool uefi_variable_parse(const uint8_t *p, size_t len, struct uefi_variable *ret)
{
    struct vouch_reader r;
    struct uefi_variable v;

    vouch_reader_init(&r, p, len);
    if (vouch_reader_bytes(&r, 16, &v.guid) || vouch_reader_u64le(&r, &v.name_chars) ||
        vouch_reader_u64le(&r, &v.data_len) || v.name_chars > len || v.data_len > len ||
        vouch_reader_bytes(&r, (size_t)v.name_chars * 2, &v.name) ||
        vouch_reader_bytes(&r, (size_t)v.data_len, &v.data))
        return false;
    *ret = v;
    return true;
}

bool uefi_variable_is(const struct uefi_variable *v, const char *s)
{
    size_t n = strlen(s), i;

    if (v->name_chars != n)
        return false;
    for (i = 0; i < n; i++)
        if (v->name[2 * i] != (uint8_t)s[i] || v->name[2 * i + 1])
            return false;
    return true;
}

static json_t *signature_entry(const uint8_t *type, const uint8_t *owner, const uint8_t *d,
                               size_t n)
{
    char g[UEFI_GUID_STR_LEN], t[UEFI_GUID_STR_LEN];
    json_t *o;

    uefi_guid_str(owner, g);
    if (memcmp(type, guid_x509, 16) == 0) {
        const unsigned char *q = d;
        X509 *x = n <= INT32_MAX ? d2i_X509(NULL, &q, (long)n) : NULL;
        uint8_t fp[32];
        char subj[256];

        o = json_pack("{s:s, s:s}", "type", "x509", "owner", g);
        if (o && vouch_hash(VOUCH_HASH_SHA256, d, n, fp) == VOUCH_OK)
            json_object_set_new(o, "sha256", tpm_json_hex(fp, 32));
        if (o && x) {
            vouch_x509_subject(x, subj, sizeof(subj));
            json_object_set_new(o, "subject", json_string(subj));
        }
        X509_free(x);
        ERR_clear_error();
        return o;
    }
    if (memcmp(type, guid_sha256, 16) == 0)
        return json_pack("{s:s, s:s, s:o}", "type", "sha256", "owner", g, "digest",
                         tpm_json_hex(d, n));
    if (memcmp(type, guid_sha1, 16) == 0)
        return json_pack("{s:s, s:s, s:o}", "type", "sha1", "owner", g, "digest",
                         tpm_json_hex(d, n));
    uefi_guid_str(type, t);
    return json_pack("{s:s, s:s, s:o}", "type", t, "owner", g, "data", tpm_json_hex(d, n));
}

json_t *uefi_signature_lists(const uint8_t *p, size_t len, size_t max, size_t *ret_count)
{
    struct vouch_reader r;
    json_t *arr = json_array();
    size_t count = 0;

    vouch_reader_init(&r, p, len);
    while (arr && !vouch_reader_done(&r)) {
        const uint8_t *type, *body;
        uint32_t list_size, header_size, sig_size;
        struct vouch_reader lr;

        if (vouch_reader_bytes(&r, 16, &type) || vouch_reader_u32le(&r, &list_size) ||
            vouch_reader_u32le(&r, &header_size) || vouch_reader_u32le(&r, &sig_size) ||
            list_size < 28 || header_size > list_size - 28 || sig_size < 16 ||
            vouch_reader_bytes(&r, list_size - 28, &body) ||
            (list_size - 28 - header_size) % sig_size)
            goto bad;
        vouch_reader_init(&lr, body + header_size, list_size - 28 - header_size);
        while (!vouch_reader_done(&lr)) {
            const uint8_t *sd;

            vouch_reader_bytes(&lr, sig_size, &sd);
            if (count++ < max) {
                json_t *o = signature_entry(type, sd, sd + 16, sig_size - 16);

                if (!o || json_array_append_new(arr, o))
                    goto bad;
            }
        }
    }
    if (ret_count)
        *ret_count = count;
    return arr;
bad:
    json_decref(arr);
    return NULL;
}

json_t *uefi_signature_data(const uint8_t *p, size_t len)
{
    if (len < 16 + 4 || p[16] != 0x30)
        return NULL;
    return signature_entry(guid_x509, p, p + 16, len - 16);
}
