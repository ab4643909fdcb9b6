/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/json.h"
#include "common/reader.h"
#include "crypto/digest.h"
#include "crypto/x509.h"
#include "evidence/tcg/tcg.h"
#include "evidence/tcg/uefi.h"

static const uint8_t guid_x509[16] = { 0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a,
                                       0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72 };
static const uint8_t guid_sha256[16] = { 0x26, 0x16, 0xc4, 0xc1, 0x4c, 0x50, 0x92, 0x40,
                                         0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28 };
static const uint8_t guid_sha1[16] = { 0x12, 0xa5, 0x6c, 0x82, 0x10, 0xcf, 0xc9, 0x4a,
                                       0xb1, 0x87, 0xbe, 0x01, 0x49, 0x66, 0x31, 0xbd };

/* EFI_SIGNATURE_LIST: type GUID, u32 list size, header size and signature size. */
#define SIG_LIST_HEADER_LEN (16 + 3 * 4)
#define SIG_OWNER_LEN 16            /* EFI_SIGNATURE_DATA: owner GUID, then the data */
#define DER_SEQUENCE 0x30           /* first byte of a DER certificate */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* The 16 bytes in the order `order` gives, as 8-4-4-4-12 lower-case hex (no snprintf: one
 * call per variable event was a tenth of building uefi_event_logs). */
static void guid_text(const uint8_t g[16], const uint8_t order[16], char out[UEFI_GUID_STR_LEN])
{
    static const char digits[] = "0123456789abcdef";
    size_t i, k = 0;

    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = digits[g[order[i]] >> 4];
        out[k++] = digits[g[order[i]] & 0xf];
    }
    out[k] = '\0';
}

void vouch_uefi_guid_str(const uint8_t g[16], char out[UEFI_GUID_STR_LEN])
{
    static const uint8_t mixed[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };

    guid_text(g, mixed, out);
}

void vouch_uefi_guid_raw_str(const uint8_t g[16], char out[UEFI_GUID_STR_LEN])
{
    static const uint8_t raw[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

    guid_text(g, raw, out);
}

vouch_err vouch_uefi_utf16_append(const uint8_t *p, size_t nbytes, struct vouch_buf *out)
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

    vouch_uefi_guid_str(g, s);
    return vouch_buf_puts(b, s);
}

/* Device path node types (UEFI spec, "Device Path Protocol"). */
enum {
    DP_HARDWARE = 0x01,
    DP_ACPI = 0x02,
    DP_MESSAGING = 0x03,
    DP_MEDIA = 0x04,
    DP_BBS = 0x05,
    DP_END = 0x7f,
};
#define DP_END_ENTIRE 0xff          /* END subtype: end of the whole path */
#define DP_HEADER_LEN 4             /* type, subtype, u16 length (header included) */
#define NODE(t, st) ((t) << 8 | (st))

#define EISA_PNP_ID 0x41d0          /* compressed EISA id "PNP" */
#define ACPI_PCI_ROOT_HID 0x0a0341d0 /* PNP0A03 */
#define ACPI_PCIE_ROOT_HID 0x0a0841d0 /* PNP0A08 */
#define MAC_IF_TYPE 32              /* MAC node: 32-byte address, then the interface type */
#define HD_SIGNATURE 20             /* hard drive node: 16-byte signature */
#define HD_MBR_TYPE 36              /* then the partition format and signature type */
#define HD_SIG_TYPE 37
#define HD_GPT 2                    /* format and signature type of a GPT partition */
#define BBS_STRING 4                /* BBS node: device type, status flags, then a string */

/* One node: its type, subtype and body. */
struct dp_view {
    uint8_t type, subtype;
    const uint8_t *d;
    size_t n;
};

static vouch_err dp_pci(const struct dp_view *v, struct vouch_buf *b)
{
    return vouch_buf_printf(b, "Pci(0x%x,0x%x)", v->d[1], v->d[0]);
}

static vouch_err dp_memory_mapped(const struct dp_view *v, struct vouch_buf *b)
{
    return vouch_buf_printf(b, "MemoryMapped(%u,0x%llx,0x%llx)", le32(v->d),
                            (unsigned long long)le64(v->d + 4),
                            (unsigned long long)le64(v->d + 12));
}

/* Vendor hardware, messaging and media nodes: a GUID and vendor bytes. */
static vouch_err dp_vendor(const struct dp_view *v, struct vouch_buf *b)
{
    vouch_err e = vouch_buf_puts(b, v->type == DP_HARDWARE    ? "VenHw("
                                    : v->type == DP_MESSAGING ? "VenMsg("
                                                              : "VenMedia(");

    if (!e)
        e = guid_append(b, v->d);
    if (!e && v->n > 16)
        e = vouch_buf_putc(b, ',');
    if (!e)
        e = hex_append(b, v->d + 16, v->n - 16);
    return e ? e : vouch_buf_putc(b, ')');
}

static vouch_err dp_controller(const struct dp_view *v, struct vouch_buf *b)
{
    return vouch_buf_printf(b, "Ctrl(%u)", le32(v->d));
}

static vouch_err dp_acpi(const struct dp_view *v, struct vouch_buf *b)
{
    uint32_t hid = le32(v->d), uid = le32(v->d + 4);

    if (hid == ACPI_PCI_ROOT_HID)
        return vouch_buf_printf(b, "PciRoot(0x%x)", uid);
    if (hid == ACPI_PCIE_ROOT_HID)
        return vouch_buf_printf(b, "PcieRoot(0x%x)", uid);
    if ((hid & 0xffff) == EISA_PNP_ID)
        return vouch_buf_printf(b, "Acpi(PNP%04x,0x%x)", hid >> 16, uid);
    return vouch_buf_printf(b, "Acpi(0x%08x,0x%x)", hid, uid);
}

static vouch_err dp_scsi(const struct dp_view *v, struct vouch_buf *b)
{
    const uint8_t *d = v->d;

    return vouch_buf_printf(b, "SCSI(%u,%u)", d[0] | d[1] << 8, d[2] | d[3] << 8);
}

static vouch_err dp_usb(const struct dp_view *v, struct vouch_buf *b)
{
    return vouch_buf_printf(b, "USB(%u,%u)", v->d[0], v->d[1]);
}

static vouch_err dp_mac(const struct dp_view *v, struct vouch_buf *b)
{
    uint8_t if_type = v->d[MAC_IF_TYPE];
    vouch_err e = vouch_buf_puts(b, "MAC(");

    if (!e)   /* Ethernet (0) and 802.3 (1) addresses are 6 bytes */
        e = hex_append(b, v->d, if_type <= 1 ? 6 : MAC_IF_TYPE);
    return e ? e : vouch_buf_printf(b, ",%u)", if_type);
}

/* IPv4, as efivar prints it. */
static vouch_err dp_ipv4(const struct dp_view *v, struct vouch_buf *b)
{
    const uint8_t *d = v->d;

    return vouch_buf_printf(b, "IPv4(%u.%u.%u.%u%u.%u.%u.%u,%u,%u)", d[0], d[1], d[2], d[3],
                            d[4], d[5], d[6], d[7], d[12] | d[13] << 8, d[14]);
}

static vouch_err dp_sata(const struct dp_view *v, struct vouch_buf *b)
{
    const uint8_t *d = v->d;

    return vouch_buf_printf(b, "Sata(%u,%u,%u)", d[0] | d[1] << 8, d[2] | d[3] << 8,
                            d[4] | d[5] << 8);
}

static vouch_err dp_nvme(const struct dp_view *v, struct vouch_buf *b)
{
    const uint8_t *d = v->d;

    return vouch_buf_printf(b, "NVMe(0x%x,%02X-%02X-%02X-%02X-%02X-%02X-%02X-%02X)", le32(d),
                            d[11], d[10], d[9], d[8], d[7], d[6], d[5], d[4]);
}

/*
 * A URI is ASCII (RFC 3986); any other byte, and a blank or NUL, is shown
 * percent-encoded, so the text stays one printable UTF-8 word whatever
 * the node holds.
 */
static vouch_err dp_uri(const struct dp_view *v, struct vouch_buf *b)
{
    vouch_err e = vouch_buf_puts(b, "Uri(");
    size_t i;

    for (i = 0; i < v->n && !e; i++)
        e = v->d[i] > ' ' && v->d[i] <= '~' ? vouch_buf_putc(b, (char)v->d[i])
                                            : vouch_buf_printf(b, "%%%02X", v->d[i]);
    return e ? e : vouch_buf_putc(b, ')');
}

static vouch_err dp_hard_drive(const struct dp_view *v, struct vouch_buf *b)
{
    const uint8_t *d = v->d;
    uint32_t part = le32(d);
    unsigned long long start = (unsigned long long)le64(d + 4);
    unsigned long long size = (unsigned long long)le64(d + 12);
    vouch_err e;

    if (d[HD_MBR_TYPE] == HD_GPT && d[HD_SIG_TYPE] == HD_GPT) {
        e = vouch_buf_printf(b, "HD(%u,GPT,", part);
        if (!e)
            e = guid_append(b, d + HD_SIGNATURE);
        return e ? e : vouch_buf_printf(b, ",0x%llx,0x%llx)", start, size);
    }
    return vouch_buf_printf(b, "HD(%u,MBR,0x%08x,0x%llx,0x%llx)", part,
                            le32(d + HD_SIGNATURE), start, size);
}

static vouch_err dp_cdrom(const struct dp_view *v, struct vouch_buf *b)
{
    return vouch_buf_printf(b, "CDROM(%u,0x%llx,0x%llx)", le32(v->d),
                            (unsigned long long)le64(v->d + 4),
                            (unsigned long long)le64(v->d + 12));
}

static vouch_err dp_file(const struct dp_view *v, struct vouch_buf *b)
{
    vouch_err e = vouch_buf_puts(b, "File(");

    if (!e)
        e = vouch_uefi_utf16_append(v->d, v->n, b);
    return e ? e : vouch_buf_putc(b, ')');
}

/* A GUID in a named wrapper: media protocol, PIWG firmware file and volume. */
static vouch_err dp_guid_node(const struct dp_view *v, struct vouch_buf *b)
{
    const char *name = v->subtype == 0x05 ? "Media(" : v->subtype == 0x06 ? "FvFile("
                                                                          : "FvVol(";
    vouch_err e = vouch_buf_puts(b, name);

    if (!e)
        e = guid_append(b, v->d);
    return e ? e : vouch_buf_putc(b, ')');
}

static vouch_err dp_offset(const struct dp_view *v, struct vouch_buf *b)
{
    return vouch_buf_printf(b, "Offset(0x%llx,0x%llx)", (unsigned long long)le64(v->d + 4),
                            (unsigned long long)le64(v->d + 12));
}

/*
 * BIOS boot specification: device type, status flags, a NUL-terminated
 * description, shown as BBS(type,description,flags) with the description's
 * bytes that are not UTF-8 as %XX.
 */
static vouch_err dp_bbs(const struct dp_view *v, struct vouch_buf *b)
{
    static const char *const types[] = { "", "Floppy", "HD", "CDROM", "PCMCIA", "USB",
                                         "Network" };
    const uint8_t *d = v->d, *s = d + BBS_STRING;
    const uint8_t *z = memchr(s, 0, v->n - BBS_STRING);
    unsigned ty = (unsigned)(d[0] | d[1] << 8);
    vouch_err e;

    if (ty < sizeof(types) / sizeof(types[0]) && ty)
        e = vouch_buf_printf(b, "BBS(%s,", types[ty]);
    else
        e = vouch_buf_printf(b, "BBS(0x%x,", ty);
    if (!e)
        e = vouch_text_append(b, (const char *)s, z ? (size_t)(z - s) : v->n - BBS_STRING);
    return e ? e : vouch_buf_printf(b, ",0x%x)", d[2] | d[3] << 8);
}

/* The nodes the decoder names, with the body length each needs. */
static const struct {
    uint16_t node;                  /* NODE(type, subtype) */
    size_t min_len;
    vouch_err (*render)(const struct dp_view *v, struct vouch_buf *b);
} dp_nodes[] = {
    { NODE(DP_HARDWARE, 0x01), 2, dp_pci },
    { NODE(DP_HARDWARE, 0x03), 20, dp_memory_mapped },
    { NODE(DP_HARDWARE, 0x04), 16, dp_vendor },
    { NODE(DP_HARDWARE, 0x05), 4, dp_controller },
    { NODE(DP_ACPI, 0x01), 8, dp_acpi },
    { NODE(DP_MESSAGING, 0x02), 4, dp_scsi },
    { NODE(DP_MESSAGING, 0x05), 2, dp_usb },
    { NODE(DP_MESSAGING, 0x0b), MAC_IF_TYPE + 1, dp_mac },
    { NODE(DP_MESSAGING, 0x0c), 15, dp_ipv4 },
    { NODE(DP_MESSAGING, 0x10), 16, dp_vendor },
    { NODE(DP_MESSAGING, 0x12), 6, dp_sata },
    { NODE(DP_MESSAGING, 0x17), 12, dp_nvme },
    { NODE(DP_MESSAGING, 0x18), 0, dp_uri },
    { NODE(DP_MEDIA, 0x01), HD_SIG_TYPE + 1, dp_hard_drive },
    { NODE(DP_MEDIA, 0x02), 20, dp_cdrom },
    { NODE(DP_MEDIA, 0x03), 16, dp_vendor },
    { NODE(DP_MEDIA, 0x04), 0, dp_file },
    { NODE(DP_MEDIA, 0x05), 16, dp_guid_node },
    { NODE(DP_MEDIA, 0x06), 16, dp_guid_node },
    { NODE(DP_MEDIA, 0x07), 16, dp_guid_node },
    { NODE(DP_MEDIA, 0x08), 20, dp_offset },
    { NODE(DP_BBS, 0x01), BBS_STRING, dp_bbs },
};

/* Render one node into b: by name when known and long enough, else Path(type,subtype,hex). */
static vouch_err dp_node(const struct dp_view *v, struct vouch_buf *b)
{
    vouch_err e;
    size_t i;

    for (i = 0; i < sizeof(dp_nodes) / sizeof(dp_nodes[0]); i++)
        if (dp_nodes[i].node == NODE(v->type, v->subtype) && v->n >= dp_nodes[i].min_len)
            return dp_nodes[i].render(v, b);
    e = vouch_buf_printf(b, "Path(%u,%u,", v->type, v->subtype);
    if (!e)
        e = hex_append(b, v->d, v->n);
    return e ? e : vouch_buf_putc(b, ')');
}

vouch_err vouch_uefi_device_path(const uint8_t *p, size_t len, struct vouch_buf *out, json_t *nodes)
{
    struct vouch_buf node = VOUCH_BUF_INIT(4096);
    struct vouch_reader r;
    bool first = true;
    vouch_err e = VOUCH_OK;

    vouch_reader_init(&r, p, len);
    while (!e && vouch_reader_left(&r) >= DP_HEADER_LEN) {
        struct dp_view v;
        uint16_t nl;

        vouch_reader_u8(&r, &v.type);
        vouch_reader_u8(&r, &v.subtype);
        vouch_reader_u16le(&r, &nl);
        if (nl < DP_HEADER_LEN || vouch_reader_bytes(&r, (size_t)nl - DP_HEADER_LEN, &v.d))
            break;
        v.n = (size_t)nl - DP_HEADER_LEN;
        if (v.type == DP_END) {
            if (v.subtype == DP_END_ENTIRE)
                break;
            e = vouch_buf_putc(out, ',');   /* end of one instance, another follows */
            first = true;
            continue;
        }
        vouch_buf_reset(&node);
        e = dp_node(&v, &node);
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

bool vouch_uefi_variable_parse(const uint8_t *p, size_t len, struct uefi_variable *ret)
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

bool vouch_uefi_variable_is(const struct uefi_variable *v, const char *s)
{
    size_t n = strlen(s), i;

    if (v->name_chars != n)
        return false;
    for (i = 0; i < n; i++)
        if (v->name[2 * i] != (uint8_t)s[i] || v->name[2 * i + 1])
            return false;
    return true;
}

/*
 * The length of the DER SEQUENCE at d (tag, length, contents), or n when it
 * does not parse or overruns: EFI_SIGNATURE_DATA sizes may include padding
 * after the certificate.
 */
static size_t der_length(const uint8_t *d, size_t n)
{
    size_t len = 0, k, i;

    if (n < 2 || d[0] != 0x30)
        return n;
    if (d[1] < 0x80)
        return 2u + d[1] <= n ? 2u + d[1] : n;
    k = d[1] & 0x7f;
    if (k == 0 || k > 4 || 2 + k > n)
        return n;
    for (i = 0; i < k; i++)
        len = len << 8 | d[2 + i];
    return len <= n - 2 - k ? 2 + k + len : n;
}

static json_t *signature_entry(const uint8_t *type, const uint8_t *owner, const uint8_t *d,
                               size_t n)
{
    char g[UEFI_GUID_STR_LEN], t[UEFI_GUID_STR_LEN];
    json_t *o;

    vouch_uefi_guid_str(owner, g);
    if (memcmp(type, guid_x509, 16) == 0) {
        const unsigned char *q = d;
        X509 *x = NULL;
        uint8_t fp[32];
        char subj[256];

        /* decoded once per process (db, KEK: the same certificates in every log) */
        if (vouch_x509_parse_der(d, der_length(d, n), &x, NULL) != VOUCH_OK && n <= INT32_MAX)
            x = d2i_X509(NULL, &q, (long)n);
        o = json_pack("{s:s, s:s}", "type", "x509", "owner", g);
        if (o && vouch_hash(VOUCH_HASH_SHA256, d, n, fp) == VOUCH_OK)
            json_object_set_new(o, "sha256", vouch_tcg_json_hex(fp, 32));
        if (o && x) {
            vouch_x509_subject(x, subj, sizeof(subj));
            json_object_set_new(o, "subject", vouch_json_text(subj, strlen(subj)));
        }
        X509_free(x);
        ERR_clear_error();
        return o;
    }
    if (memcmp(type, guid_sha256, 16) == 0)
        return json_pack("{s:s, s:s, s:o}", "type", "sha256", "owner", g, "digest",
                         vouch_tcg_json_hex(d, n));
    if (memcmp(type, guid_sha1, 16) == 0)
        return json_pack("{s:s, s:s, s:o}", "type", "sha1", "owner", g, "digest",
                         vouch_tcg_json_hex(d, n));
    vouch_uefi_guid_str(type, t);
    return json_pack("{s:s, s:s, s:o}", "type", t, "owner", g, "data", vouch_tcg_json_hex(d, n));
}

json_t *vouch_uefi_signature_lists(const uint8_t *p, size_t len, size_t max, size_t *ret_count)
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
            list_size < SIG_LIST_HEADER_LEN || header_size > list_size - SIG_LIST_HEADER_LEN ||
            sig_size < SIG_OWNER_LEN ||
            vouch_reader_bytes(&r, list_size - SIG_LIST_HEADER_LEN, &body) ||
            (list_size - SIG_LIST_HEADER_LEN - header_size) % sig_size)
            goto bad;
        vouch_reader_init(&lr, body + header_size,
                          list_size - SIG_LIST_HEADER_LEN - header_size);
        while (!vouch_reader_done(&lr)) {
            const uint8_t *sd;

            vouch_reader_bytes(&lr, sig_size, &sd);
            if (count++ < max) {
                json_t *o = signature_entry(type, sd, sd + SIG_OWNER_LEN,
                                            sig_size - SIG_OWNER_LEN);

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

json_t *vouch_uefi_signature_data(const uint8_t *p, size_t len)
{
    if (len < SIG_OWNER_LEN + 4 || p[SIG_OWNER_LEN] != DER_SEQUENCE)
        return NULL;
    return signature_entry(guid_x509, p, p + SIG_OWNER_LEN, len - SIG_OWNER_LEN);
}
