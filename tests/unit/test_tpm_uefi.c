/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UEFI structures in event data (src/evidence/tcg/uefi.c): GUIDs, UCS-2
 * strings, device paths, UEFI_VARIABLE_DATA, EFI_SIGNATURE_LIST and
 * EFI_SIGNATURE_DATA.  Real bytes come from the tpm2-tools event logs in
 * tests/vectors/tpm, with tpm2_eventlog's own rendering (the
 * expected-pretty_*.yaml files) as the expected text; hand-built bytes
 * cover every node type the decoder names and the malformed cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "evidence/tpm/eventlog.h"
#include "evidence/tcg/uefi.h"
#include "tpm_testutil.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* EFI_GLOBAL_VARIABLE as it is stored (mixed endian). */
#define GLOBAL_GUID_HEX "61dfe48bca93d211aa0d00e098032b8c"
#define GLOBAL_GUID_STR "8be4df61-93ca-11d2-aa0d-00e098032b8c"

static struct vouch_tcg_eventlog *load_log(const char *name)
{
    struct vouch_errbuf eb = { "" };
    struct vouch_tcg_eventlog *log = NULL;
    char path[256];
    size_t len;
    uint8_t *d;

    snprintf(path, sizeof(path), TPM_VEC "tpm2-tools/%s", name);
    d = tu_read(path, &len);
    if (vouch_tcg_eventlog_parse(d, len, VOUCH_TPM_PCR_COUNT, &log, &eb))
        fail_msg("%s: %s", path, eb.msg);
    free(d);
    return log;
}

/* Event `num` of a log (tpm2_eventlog's EventNum), which must have type `type`. */
static const struct vouch_tcg_event *event_at(const struct vouch_tcg_eventlog *log, size_t num,
                                              uint32_t type)
{
    if (num >= log->n_events)
        fail_msg("event %zu of %zu", num, log->n_events);
    if (log->events[num].type != type)
        fail_msg("event %zu has type 0x%x, expected 0x%x", num, log->events[num].type, type);
    return &log->events[num];
}

/* ---------------------------------------------------------------------- */
/* GUIDs and strings                                                      */

static void test_guids(void **state)
{
    static const struct {
        const char *hex, *canonical, *raw;
    } cases[] = {
        { GLOBAL_GUID_HEX, GLOBAL_GUID_STR, "61dfe48b-ca93-d211-aa0d-00e098032b8c" },
        /* EFI_IMAGE_SECURITY_DATABASE_GUID (db, dbx) */
        { "cbb219d73a3d9645a3bcdad00e67656f", "d719b2cb-3d3a-4596-a3bc-dad00e67656f",
          "cbb219d7-3a3d-9645-a3bc-dad00e67656f" },
        { "00000000000000000000000000000000", "00000000-0000-0000-0000-000000000000",
          "00000000-0000-0000-0000-000000000000" },
        { "ffeeddccbbaa99887766554433221100", "ccddeeff-aabb-8899-7766-554433221100",
          "ffeeddcc-bbaa-9988-7766-554433221100" },
    };
    size_t i, n;

    (void)state;
    for (i = 0; i < ARRAY_LEN(cases); i++) {
        uint8_t *g = tu_unhex(cases[i].hex, &n);
        char s[UEFI_GUID_STR_LEN];

        assert_int_equal(n, 16);
        vouch_uefi_guid_str(g, s);
        assert_string_equal(s, cases[i].canonical);
        vouch_uefi_guid_raw_str(g, s);
        assert_string_equal(s, cases[i].raw);
        free(g);
    }
}

static void test_utf16(void **state)
{
    static const struct {
        const char *what, *hex;
        size_t nbytes;         /* bytes given to the decoder: all of hex when 0 */
        const char *utf8;
    } cases[] = {
        { "ASCII", "5300650063007500720065004200" "6f006f007400", 0, "SecureBoot" },
        { "stops at NUL", "50004b0000004b004500", 0, "PK" },
        { "odd trailing byte ignored", "6400620078", 0, "db" },
        { "length cuts a character", "640062007800", 5, "db" },
        { "empty", "", 0, "" },
        { "two-byte UTF-8", "e900", 0, "\xc3\xa9" },
        { "three-byte UTF-8", "ac20", 0, "\xe2\x82\xac" },
        { "surrogate pair", "3dd800de", 0, "\xf0\x9f\x98\x80" },
        { "lone low surrogate", "00dc4100", 0, "\xef\xbf\xbd" "A" },
        { "high surrogate, no low after it", "3dd84100", 0, "\xef\xbf\xbd" "A" },
        { "high surrogate at the end", "41003dd8", 0, "A\xef\xbf\xbd" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(cases); i++) {
        struct vouch_buf b = VOUCH_BUF_INIT(4096);
        uint8_t *d = NULL;
        size_t n = 0;

        if (strlen(cases[i].hex))
            d = tu_unhex(cases[i].hex, &n);
        if (cases[i].nbytes)
            n = cases[i].nbytes;
        assert_int_equal(vouch_uefi_utf16_append(d ? d : (const uint8_t *)"", n, &b), VOUCH_OK);
        if (b.len != strlen(cases[i].utf8) ||
            (b.len && memcmp(b.data, cases[i].utf8, b.len) != 0))
            fail_msg("%s: got \"%.*s\"", cases[i].what, (int)b.len, (const char *)b.data);
        vouch_buf_free(&b);
        free(d);
    }
}

/* ---------------------------------------------------------------------- */
/* Device paths                                                            */

/* A device path node: type, subtype, body (hex); its length is computed. */
struct dp_node_spec {
    uint8_t type, subtype;
    const char *body;
};

struct dp_case {
    const char *what;
    struct dp_node_spec nodes[3];
    const char *tail;          /* raw hex appended after the nodes (malformed parts) */
    const char *want;
    size_t want_nodes;         /* strings in the `nodes` array */
};

#define GPT_SIG "13465a1ab519444ba83dd926d40daa1c"
#define GPT_SIG_STR "1a5a4613-19b5-4b44-a83d-d926d40daa1c"

static const struct dp_case dp_cases[] = {
    /* Hardware */
    { "PCI", { { 1, 1, "001f" } }, NULL, "Pci(0x1f,0x0)", 1 },
    { "PCI, body short", { { 1, 1, "00" } }, NULL, "Path(1,1,00)", 1 },
    { "memory mapped", { { 1, 3, "0b000000" "0010000000000000" "ff1f000000000000" } }, NULL,
      "MemoryMapped(11,0x1000,0x1fff)", 1 },
    { "memory mapped, body short", { { 1, 3, "0b000000" "00100000" } }, NULL,
      "Path(1,3,0b00000000100000)", 1 },
    { "vendor hardware with data", { { 1, 4, GLOBAL_GUID_HEX "abcd" } }, NULL,
      "VenHw(" GLOBAL_GUID_STR ",abcd)", 1 },
    { "vendor hardware, GUID only", { { 1, 4, GLOBAL_GUID_HEX } }, NULL,
      "VenHw(" GLOBAL_GUID_STR ")", 1 },
    { "controller", { { 1, 5, "02000000" } }, NULL, "Ctrl(2)", 1 },
    { "unknown hardware subtype", { { 1, 0x99, "0102" } }, NULL, "Path(1,153,0102)", 1 },
    /* ACPI */
    { "PCI root", { { 2, 1, "d041030a" "00000000" } }, NULL, "PciRoot(0x0)", 1 },
    { "PCIe root", { { 2, 1, "d041080a" "01000000" } }, NULL, "PcieRoot(0x1)", 1 },
    { "ACPI PNP id", { { 2, 1, "d0410105" "00000000" } }, NULL, "Acpi(PNP0501,0x0)", 1 },
    { "ACPI other id", { { 2, 1, "78563412" "02000000" } }, NULL, "Acpi(0x12345678,0x2)", 1 },
    { "ACPI, body short", { { 2, 1, "d041030a" } }, NULL, "Path(2,1,d041030a)", 1 },
    /* Messaging */
    { "SCSI", { { 3, 2, "01000000" } }, NULL, "SCSI(1,0)", 1 },
    { "USB", { { 3, 5, "0b00" } }, NULL, "USB(11,0)", 1 },
    { "MAC, Ethernet", { { 3, 0x0b, "0cc47aff601c" "0000000000000000000000000000000000000000"
                                    "000000000000" "01" } },
      NULL, "MAC(0cc47aff601c,1)", 1 },
    { "MAC, other interface type",
      { { 3, 0x0b, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" "06" } },
      NULL, "MAC(000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f,6)", 1 },
    { "MAC, body short", { { 3, 0x0b, "0cc47aff601c" } }, NULL, "Path(3,11,0cc47aff601c)",
      1 },
    { "IPv4", { { 3, 0x0c, "c0a80002" "c0a80001" "0000" "0000" "0600" "01" "00000000"
                           "00000000" } },
      NULL, "IPv4(192.168.0.2192.168.0.1,6,1)", 1 },
    { "vendor messaging", { { 3, 0x10, GLOBAL_GUID_HEX "00" } }, NULL,
      "VenMsg(" GLOBAL_GUID_STR ",00)", 1 },
    { "SATA", { { 3, 0x12, "0100" "ffff" "0000" } }, NULL, "Sata(1,65535,0)", 1 },
    { "NVMe", { { 3, 0x17, "01000000" "0102030405060708" } }, NULL,
      "NVMe(0x1,08-07-06-05-04-03-02-01)", 1 },
    { "URI", { { 3, 0x18, "687474703a2f2f782f" } }, NULL, "Uri(http://x/)", 1 },
    { "URI, empty", { { 3, 0x18, "" } }, NULL, "Uri()", 1 },
    { "URI, not ASCII", { { 3, 0x18, "612062fffe00" } }, NULL, "Uri(a%20b%FF%FE%00)", 1 },
    /* Media */
    { "hard drive, GPT",
      { { 4, 1, "01000000" "0008000000000000" "0000080000000000" GPT_SIG "02" "02" } }, NULL,
      "HD(1,GPT," GPT_SIG_STR ",0x800,0x80000)", 1 },
    { "hard drive, MBR",
      { { 4, 1, "02000000" "3f00000000000000" "00a0000000000000"
                "78563412000000000000000000000000" "01" "01" } },
      NULL, "HD(2,MBR,0x12345678,0x3f,0xa000)", 1 },
    { "hard drive, body short",
      { { 4, 1, "01000000" "0008000000000000" "0000080000000000" GPT_SIG "02" } }, NULL,
      "Path(4,1," "01000000" "0008000000000000" "0000080000000000" GPT_SIG "02" ")",
      1 },
    { "CD-ROM", { { 4, 2, "00000000" "1000000000000000" "2000000000000000" } }, NULL,
      "CDROM(0,0x10,0x20)", 1 },
    { "vendor media", { { 4, 3, GLOBAL_GUID_HEX } }, NULL, "VenMedia(" GLOBAL_GUID_STR ")",
      1 },
    { "file path", { { 4, 4, "5c0045004600490000005c00" } }, NULL, "File(\\EFI)", 1 },
    { "media protocol", { { 4, 5, GLOBAL_GUID_HEX } }, NULL, "Media(" GLOBAL_GUID_STR ")", 1 },
    { "firmware file", { { 4, 6, GLOBAL_GUID_HEX } }, NULL, "FvFile(" GLOBAL_GUID_STR ")", 1 },
    { "firmware volume", { { 4, 7, GLOBAL_GUID_HEX } }, NULL, "FvVol(" GLOBAL_GUID_STR ")", 1 },
    { "firmware volume, body short", { { 4, 7, "61dfe48b" } }, NULL, "Path(4,7,61dfe48b)", 1 },
    { "relative offset range", { { 4, 8, "00000000" "005c010000000000" "ff7f040000000000" } },
      NULL, "Offset(0x15c00,0x47fff)", 1 },
    /* BIOS boot specification */
    { "BBS, hard disk", { { 5, 1, "0200" "0100" "4469736b00" "ff" } }, NULL,
      "BBS(HD,Disk,0x1)", 1 },
    { "BBS, no NUL", { { 5, 1, "0600" "0000" "4e6574" } }, NULL, "BBS(Network,Net,0x0)", 1 },
    { "BBS, unknown device type", { { 5, 1, "8000" "0000" "00" } }, NULL, "BBS(0x80,,0x0)", 1 },
    { "BBS, device type 0", { { 5, 1, "0000" "0000" } }, NULL, "BBS(0x0,,0x0)", 1 },
    { "BBS, UTF-8 description", { { 5, 1, "0200" "0100" "44c3a96b00" } }, NULL,
      "BBS(HD,D\xc3\xa9k,0x1)", 1 },
    { "BBS, description not UTF-8", { { 5, 1, "0200" "0100" "44c3a9ffc36b00" } }, NULL,
      "BBS(HD,D\xc3\xa9%FF%C3k,0x1)", 1 },
    { "BBS, description cut in a character", { { 5, 1, "0200" "0100" "44e282" } }, NULL,
      "BBS(HD,D%E2%82,0x1)", 1 },
    { "unknown node type", { { 6, 1, "aa" } }, NULL, "Path(6,1,aa)", 1 },
    /* Structure */
    { "empty", { { 0 } }, "", "", 0 },
    { "two nodes", { { 2, 1, "d041030a" "00000000" }, { 1, 1, "0003" } }, NULL,
      "PciRoot(0x0)/Pci(0x3,0x0)", 2 },
    { "end of instance, then another",
      { { 1, 1, "0003" }, { 0x7f, 0x01, "" }, { 1, 1, "0104" } }, NULL,
      "Pci(0x3,0x0),Pci(0x4,0x1)", 2 },
    { "end of the whole path stops", { { 1, 1, "0003" }, { 0x7f, 0xff, "" }, { 1, 1, "0104" } },
      NULL, "Pci(0x3,0x0)", 1 },
    { "node length under the header's", { { 1, 1, "0003" } }, "01010300" "0000",
      "Pci(0x3,0x0)", 1 },
    { "node length past the end", { { 1, 1, "0003" } }, "04040a00" "5c00", "Pci(0x3,0x0)", 1 },
    { "fewer bytes than a header at the end", { { 1, 1, "0003" } }, "7fff04",
      "Pci(0x3,0x0)", 1 },
    { "truncated first node", { { 0 } }, "0101", "", 0 },
};

/* The bytes of a case: each node with its length, then the raw tail. */
static uint8_t *dp_bytes(const struct dp_case *c, size_t *ret_len)
{
    struct vouch_buf hex = VOUCH_BUF_INIT(1u << 16);
    uint8_t *d;
    size_t i;

    for (i = 0; i < ARRAY_LEN(c->nodes) && c->nodes[i].body; i++) {
        size_t len = 4 + strlen(c->nodes[i].body) / 2;

        assert_int_equal(vouch_buf_printf(&hex, "%02x%02x%02x%02x%s", c->nodes[i].type,
                                          c->nodes[i].subtype, (unsigned)(len & 0xff),
                                          (unsigned)(len >> 8), c->nodes[i].body),
                         VOUCH_OK);
    }
    if (c->tail)
        assert_int_equal(vouch_buf_puts(&hex, c->tail), VOUCH_OK);
    if (hex.len == 0) {
        *ret_len = 0;
        d = malloc(1);
    } else {
        d = tu_unhex(vouch_buf_str(&hex), ret_len);
    }
    vouch_buf_free(&hex);
    return d;
}

static void test_device_paths(void **state)
{
    size_t i, len;

    (void)state;
    for (i = 0; i < ARRAY_LEN(dp_cases); i++) {
        const struct dp_case *c = &dp_cases[i];
        struct vouch_buf out = VOUCH_BUF_INIT(1u << 16);
        json_t *nodes = json_array();
        uint8_t *d = dp_bytes(c, &len);

        assert_int_equal(vouch_uefi_device_path(d, len, &out, nodes), VOUCH_OK);
        if (out.len != strlen(c->want) || (out.len && memcmp(out.data, c->want, out.len) != 0))
            fail_msg("%s:\n got %.*s\nwant %s", c->what, (int)out.len, (const char *)out.data,
                     c->want);
        if (json_array_size(nodes) != c->want_nodes)
            fail_msg("%s: %zu nodes, expected %zu", c->what, json_array_size(nodes),
                     c->want_nodes);
        /* Without the nodes array the text is the same. */
        vouch_buf_reset(&out);
        assert_int_equal(vouch_uefi_device_path(d, len, &out, NULL), VOUCH_OK);
        assert_int_equal(out.len, strlen(c->want));
        json_decref(nodes);
        vouch_buf_free(&out);
        free(d);
    }
}

/* The node strings of a multi-node path are its '/'-separated parts. */
static void test_device_path_node_list(void **state)
{
    static const struct dp_case c = {
        "three nodes",
        { { 2, 1, "d041030a" "00000000" }, { 1, 1, "0003" }, { 4, 4, "410062000000" } },
        NULL, "PciRoot(0x0)/Pci(0x3,0x0)/File(Ab)", 3 };
    struct vouch_buf out = VOUCH_BUF_INIT(4096);
    json_t *nodes = json_array();
    uint8_t *d;
    size_t len;

    (void)state;
    d = dp_bytes(&c, &len);
    assert_int_equal(vouch_uefi_device_path(d, len, &out, nodes), VOUCH_OK);
    assert_string_equal(vouch_buf_str(&out), c.want);
    assert_int_equal(json_array_size(nodes), c.want_nodes);
    assert_string_equal(json_string_value(json_array_get(nodes, 0)), "PciRoot(0x0)");
    assert_string_equal(json_string_value(json_array_get(nodes, 1)), "Pci(0x3,0x0)");
    assert_string_equal(json_string_value(json_array_get(nodes, 2)), "File(Ab)");
    json_decref(nodes);
    vouch_buf_free(&out);
    free(d);
}

/*
 * Boot services applications and drivers of real logs: the device path of
 * their UEFI_IMAGE_LOAD_EVENT renders as tpm2_eventlog renders it.
 */
static void test_image_load_paths(void **state)
{
    static const struct {
        const char *log;
        size_t event;
        uint32_t type;
        const char *want;
    } cases[] = {
        { "event-arch-linux.bin", 22, VOUCH_EV_EFI_BOOT_SERVICES_APPLICATION,
          "PciRoot(0x0)/Pci(0x17,0x0)/Sata(1,65535,0)/HD(1,GPT,1a504613-19b5-4b44-a83d-"
          "d926d40daa1c,0x800,0x80000)/File(\\EFI\\SYSTEMD\\SYSTEMD-BOOTX64.EFI)" },
        { "event-arch-linux.bin", 9, VOUCH_EV_EFI_BOOT_SERVICES_DRIVER,
          "PciRoot(0x0)/Pci(0x1,0x0)/Pci(0x0,0x0)/Offset(0xf250,0x201ff)" },
        { "event-bootorder.bin", 25, VOUCH_EV_EFI_BOOT_SERVICES_APPLICATION,
          "PciRoot(0x0)/Pci(0x6,0x0)/HD(15,GPT,c359e798-596a-42b6-b6f6-eca290429d99,0x2800,"
          "0x35000)/File(\\EFI\\BOOT\\BOOTX64.EFI)" },
        { "event-gce-ubuntu-2104-log.bin", 23, VOUCH_EV_EFI_BOOT_SERVICES_APPLICATION,
          "PciRoot(0x0)/Pci(0x3,0x0)/SCSI(1,0)/HD(15,GPT,6ea6f740-25ef-4269-838d-1a6f21ebf27f,"
          "0x2800,0x35000)/File(\\EFI\\ubuntu\\shimx64.efi)" },
        { "event-gce-ubuntu-2104-log.bin", 27, VOUCH_EV_EFI_BOOT_SERVICES_APPLICATION,
          "File(\\EFI\\ubuntu\\grubx64.efi)" },
        { "event-moklisttrusted.bin", 25, VOUCH_EV_EFI_BOOT_SERVICES_APPLICATION,
          "PciRoot(0x0)/Pci(0x1,0x3)/Pci(0x0,0x0)/HD(1,GPT,32e3ebef-0a78-4087-b320-948b8e06b02f,"
          "0x800,0x12c000)/File(\\EFI\\redhat\\shimx64.efi)" },
        { "event-postcode.bin", 38, VOUCH_EV_EFI_BOOT_SERVICES_APPLICATION,
          "PciRoot(0x3)/Pci(0x0,0x0)/Pci(0x0,0x0)/MAC(0cc47aff601c,1)/IPv4(0.0.0.00.0.0.0,0,0)" },
        { "event-postcode.bin", 12, VOUCH_EV_EFI_BOOT_SERVICES_DRIVER,
          "PciRoot(0x7)/Pci(0x0,0x0)/Pci(0x0,0x1)/Offset(0x24638,0x645ff)" },
        { "event-uefiservices.bin", 1, VOUCH_EV_EFI_BOOT_SERVICES_DRIVER,
          "PciRoot(0x0)/Pci(0x2,0x0)/Pci(0x0,0x0)/Offset(0x12600,0x3c3ff)" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(cases); i++) {
        struct vouch_tcg_eventlog *log = load_log(cases[i].log);
        const struct vouch_tcg_event *ev = event_at(log, cases[i].event, cases[i].type);
        struct vouch_buf out = VOUCH_BUF_INIT(1u << 16);
        uint64_t dplen = 0;
        size_t k;

        /* UEFI_IMAGE_LOAD_EVENT: location, length, link-time address, path length (u64 each). */
        assert_true(ev->data_len >= 32);
        for (k = 0; k < 8; k++)
            dplen |= (uint64_t)ev->data[24 + k] << (8 * k);
        assert_true(dplen <= ev->data_len - 32);
        assert_int_equal(vouch_uefi_device_path(ev->data + 32, (size_t)dplen, &out, NULL),
                         VOUCH_OK);
        if (strcmp(vouch_buf_str(&out), cases[i].want) != 0)
            fail_msg("%s event %zu:\n got %s\nwant %s", cases[i].log, cases[i].event,
                     vouch_buf_str(&out), cases[i].want);
        vouch_buf_free(&out);
        vouch_tcg_eventlog_free(log);
    }
}

/* ---------------------------------------------------------------------- */
/* Variables                                                               */

/* UEFI_VARIABLE_DATA of real events: GUID, name and data length as tpm2_eventlog shows them. */
static void test_real_variables(void **state)
{
    static const struct {
        const char *log;
        size_t event;
        uint32_t type;
        const char *guid, *name;
        uint64_t data_len;
    } cases[] = {
        { "event-uefivar.bin", 1, VOUCH_EV_EFI_VARIABLE_DRIVER_CONFIG, GLOBAL_GUID_STR,
          "SecureBoot", 1 },
        { "event-arch-linux.bin", 3, VOUCH_EV_EFI_VARIABLE_DRIVER_CONFIG, GLOBAL_GUID_STR,
          "SecureBoot", 0 },
        { "event-arch-linux.bin", 6, VOUCH_EV_EFI_VARIABLE_DRIVER_CONFIG,
          "d719b2cb-3d3a-4596-a3bc-dad00e67656f", "db", 4655 },
        { "event-arch-linux.bin", 19, VOUCH_EV_EFI_VARIABLE_BOOT, GLOBAL_GUID_STR, "Boot0000",
          160 },
        { "event-postcode.bin", 28, VOUCH_EV_EFI_VARIABLE_BOOT, GLOBAL_GUID_STR, "Boot000A",
          397 },
        { "event-gce-ubuntu-2104-log.bin", 26, VOUCH_EV_EFI_VARIABLE_AUTHORITY,
          "605dab50-e046-4300-abb6-3dd810dd8b23", "SbatLevel", 18 },
        { "event-moklisttrusted.bin", 29, VOUCH_EV_EFI_VARIABLE_AUTHORITY,
          "605dab50-e046-4300-abb6-3dd810dd8b23", "MokListTrusted", 1 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(cases); i++) {
        struct vouch_tcg_eventlog *log = load_log(cases[i].log);
        const struct vouch_tcg_event *ev = event_at(log, cases[i].event, cases[i].type);
        struct vouch_buf name = VOUCH_BUF_INIT(4096);
        struct uefi_variable v;
        char g[UEFI_GUID_STR_LEN];

        assert_true(vouch_uefi_variable_parse(ev->data, ev->data_len, &v));
        vouch_uefi_guid_str(v.guid, g);
        assert_string_equal(g, cases[i].guid);
        assert_int_equal(v.name_chars, strlen(cases[i].name));
        assert_int_equal(vouch_uefi_utf16_append(v.name, (size_t)v.name_chars * 2, &name),
                         VOUCH_OK);
        assert_string_equal(vouch_buf_str(&name), cases[i].name);
        assert_int_equal(v.data_len, cases[i].data_len);
        assert_ptr_equal(v.data, v.name + v.name_chars * 2);
        assert_true(vouch_uefi_variable_is(&v, cases[i].name));
        assert_false(vouch_uefi_variable_is(&v, "PKx"));
        vouch_buf_free(&name);
        vouch_tcg_eventlog_free(log);
    }
}

/* Hand-built UEFI_VARIABLE_DATA: GUID, u64 name length, u64 data length, name, data. */
static void test_variable_bounds(void **state)
{
    static const struct {
        const char *what, *hex;
        bool ok;
    } cases[] = {
        { "PK with one data byte",
          GLOBAL_GUID_HEX "0200000000000000" "0100000000000000" "50004b00" "01", true },
        { "trailing bytes are not part of it",
          GLOBAL_GUID_HEX "0200000000000000" "0100000000000000" "50004b00" "01" "ffff", true },
        { "empty name and data", GLOBAL_GUID_HEX "0000000000000000" "0000000000000000", true },
        { "header truncated", GLOBAL_GUID_HEX "0200000000000000" "01000000", false },
        { "name runs past the end",
          GLOBAL_GUID_HEX "0300000000000000" "0000000000000000" "50004b00", false },
        { "data runs past the end",
          GLOBAL_GUID_HEX "0200000000000000" "0200000000000000" "50004b00" "01", false },
        { "huge name length", GLOBAL_GUID_HEX "ffffffffffffffff" "0000000000000000" "0000",
          false },
        { "name length whose double wraps",
          GLOBAL_GUID_HEX "0000000000000080" "0000000000000000" "0000", false },
        { "huge data length", GLOBAL_GUID_HEX "0000000000000000" "ffffffffffffff7f" "00",
          false },
    };
    size_t i, n;

    (void)state;
    for (i = 0; i < ARRAY_LEN(cases); i++) {
        uint8_t *d = tu_unhex(cases[i].hex, &n);
        struct uefi_variable v;

        memset(&v, 0xa5, sizeof(v));
        if (vouch_uefi_variable_parse(d, n, &v) != cases[i].ok)
            fail_msg("%s: expected %s", cases[i].what, cases[i].ok ? "success" : "failure");
        if (cases[i].ok)
            assert_ptr_equal(v.guid, d);
        free(d);
    }
}

static void test_variable_names(void **state)
{
    static const struct {
        const char *name_hex, *ascii;
        bool equal;
    } cases[] = {
        { "50004b00", "PK", true },
        { "50004b00", "PKx", false },
        { "50004b00", "P", false },
        { "50004b00", "pk", false },
        { "50014b00", "PK", false },   /* a high byte is not ASCII */
        { "", "", true },
        { "", "PK", false },
        { "4b0045004b00", "KEK", true },
    };
    size_t i, n;

    (void)state;
    for (i = 0; i < ARRAY_LEN(cases); i++) {
        uint8_t *name = strlen(cases[i].name_hex) ? tu_unhex(cases[i].name_hex, &n) : NULL;
        struct uefi_variable v = { 0 };

        v.name = name;
        v.name_chars = name ? n / 2 : 0;
        if (vouch_uefi_variable_is(&v, cases[i].ascii) != cases[i].equal)
            fail_msg("case %zu: \"%s\"", i, cases[i].ascii);
        free(name);
    }
}

/* ---------------------------------------------------------------------- */
/* Signature lists                                                         */

static const uint8_t *variable_data(const struct vouch_tcg_event *ev, size_t *ret_len)
{
    struct uefi_variable v;

    assert_true(vouch_uefi_variable_parse(ev->data, ev->data_len, &v));
    *ret_len = (size_t)v.data_len;
    return v.data;
}

/* Real KEK and db: Microsoft's certificates, known by their SHA-256 fingerprints. */
static void test_real_signature_lists(void **state)
{
    static const struct {
        const char *log;
        size_t event;
        size_t count;
        const char *sha256[2];
        const char *cn[2];
    } cases[] = {
        { "event-gce-ubuntu-2104-log.bin", 5, 1,
          { "a1117f516a32cefcba3f2d1ace10a87972fd6bbe8fe0d0b996e09e65d802a503" },
          { "Microsoft Corporation KEK CA 2011" } },
        { "event-gce-ubuntu-2104-log.bin", 6, 2,
          { "48e99b991f57fc52f76149599bff0a58c47154229b9f8d603ac40d3500248507",
            "e8e95f0733a55e8bad7be0a1413ee23c51fcea64b3c8fa6a786935fddcc71961" },
          { "Microsoft Corporation UEFI CA 2011", "Microsoft Windows Production PCA 2011" } },
    };
    size_t i, j;

    (void)state;
    for (i = 0; i < ARRAY_LEN(cases); i++) {
        struct vouch_tcg_eventlog *log = load_log(cases[i].log);
        const struct vouch_tcg_event *ev =
            event_at(log, cases[i].event, VOUCH_EV_EFI_VARIABLE_DRIVER_CONFIG);
        size_t len, count = 0;
        const uint8_t *d = variable_data(ev, &len);
        json_t *arr = vouch_uefi_signature_lists(d, len, 16, &count);

        assert_non_null(arr);
        assert_int_equal(count, cases[i].count);
        assert_int_equal(json_array_size(arr), cases[i].count);
        for (j = 0; j < cases[i].count; j++) {
            json_t *o = json_array_get(arr, j);

            assert_string_equal(json_string_value(json_object_get(o, "type")), "x509");
            assert_string_equal(json_string_value(json_object_get(o, "sha256")),
                                cases[i].sha256[j]);
            assert_non_null(strstr(json_string_value(json_object_get(o, "subject")),
                                   cases[i].cn[j]));
            assert_int_equal(strlen(json_string_value(json_object_get(o, "owner"))),
                             UEFI_GUID_STR_LEN - 1);
        }
        json_decref(arr);
        vouch_tcg_eventlog_free(log);
    }
}

/* A real dbx: one list of SHA-256 entries (48 bytes each), listed up to the cap. */
static void test_real_dbx_cap(void **state)
{
    struct vouch_tcg_eventlog *log = load_log("event-arch-linux.bin");
    const struct vouch_tcg_event *ev = event_at(log, 7, VOUCH_EV_EFI_VARIABLE_DRIVER_CONFIG);
    size_t len, count = 0, all = 0;
    const uint8_t *d = variable_data(ev, &len);
    json_t *few, *every;

    (void)state;
    assert_int_equal(len, 3724);
    every = vouch_uefi_signature_lists(d, len, SIZE_MAX, &all);
    assert_non_null(every);
    assert_int_equal(all, (3724 - 28) / 48);
    assert_int_equal(json_array_size(every), all);
    assert_string_equal(json_string_value(json_object_get(json_array_get(every, 0), "type")),
                        "sha256");
    assert_int_equal(strlen(json_string_value(json_object_get(json_array_get(every, 0),
                                                              "digest"))), 64);
    few = vouch_uefi_signature_lists(d, len, 5, &count);
    assert_non_null(few);
    assert_int_equal(count, all);
    assert_int_equal(json_array_size(few), 5);
    assert_true(json_equal(json_array_get(few, 4), json_array_get(every, 4)));
    json_decref(few);
    json_decref(every);
    vouch_tcg_eventlog_free(log);
}

#define SHA256_TYPE "2616c4c14c509240aca941f936934328"
#define SHA1_TYPE "12a56c8210cfc94ab187be01496631bd"
#define OWNER "0102030405060708090a0b0c0d0e0f10"
#define OWNER_STR "04030201-0605-0807-090a-0b0c0d0e0f10"
#define D32 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/* Hand-built EFI_SIGNATURE_LISTs: type, u32 list size, header size, signature size. */
static void test_signature_list_bounds(void **state)
{
    static const struct {
        const char *what, *hex;
        long count;            /* -1: malformed (NULL) */
        const char *type0, *field0, *value0;
    } cases[] = {
        { "empty", "", 0, NULL, NULL, NULL },
        { "two SHA-256 entries",
          SHA256_TYPE "7c000000" "00000000" "30000000" OWNER D32 OWNER D32, 2, "sha256",
          "digest", D32 },
        { "a SHA-1 entry", SHA1_TYPE "40000000" "00000000" "24000000" OWNER "00112233445566778899"
                                                                       "aabbccddeeff00112233",
          1, "sha1", "digest", "00112233445566778899aabbccddeeff00112233" },
        { "unknown type keeps the data",
          GLOBAL_GUID_HEX "2e000000" "00000000" "12000000" OWNER "beef", 1, GLOBAL_GUID_STR,
          "data", "beef" },
        { "list header is skipped",
          SHA256_TYPE "50000000" "04000000" "30000000" "ffffffff" OWNER D32, 1, "sha256",
          "digest", D32 },
        { "two lists", SHA1_TYPE "1c000000" "00000000" "24000000"
                       SHA256_TYPE "4c000000" "00000000" "30000000" OWNER D32, 1, "sha256",
          "digest", D32 },
        { "list size under the header", SHA256_TYPE "1b000000" "00000000" "30000000", -1 },
        { "header size past the list", SHA256_TYPE "1c000000" "01000000" "30000000", -1 },
        { "signature size under the owner GUID", SHA256_TYPE "2b000000" "00000000" "0f000000"
                                                 "000102030405060708090a0b0c0d0e", -1 },
        { "entries not a multiple of the size",
          SHA256_TYPE "4d000000" "00000000" "30000000" OWNER D32 "00", -1 },
        { "list runs past the data", SHA256_TYPE "4c000000" "00000000" "30000000" OWNER, -1 },
        { "truncated list header", SHA256_TYPE "4c000000", -1 },
    };
    size_t i, n, count;

    (void)state;
    for (i = 0; i < ARRAY_LEN(cases); i++) {
        uint8_t *d = strlen(cases[i].hex) ? tu_unhex(cases[i].hex, &n) : NULL;
        json_t *arr;

        if (!d)
            n = 0;
        count = 12345;
        arr = vouch_uefi_signature_lists(d ? d : (const uint8_t *)"", n, 16, &count);
        if (cases[i].count < 0) {
            if (arr)
                fail_msg("%s: accepted", cases[i].what);
        } else {
            json_t *o;

            if (!arr)
                fail_msg("%s: rejected", cases[i].what);
            assert_int_equal(count, (size_t)cases[i].count);
            assert_int_equal(json_array_size(arr), (size_t)cases[i].count);
            if (cases[i].count) {
                o = json_array_get(arr, 0);
                assert_string_equal(json_string_value(json_object_get(o, "type")),
                                    cases[i].type0);
                assert_string_equal(json_string_value(json_object_get(o, "owner")), OWNER_STR);
                assert_string_equal(json_string_value(json_object_get(o, cases[i].field0)),
                                    cases[i].value0);
            }
        }
        json_decref(arr);
        free(d);
    }
}

/* EFI_SIGNATURE_DATA of a real EV_EFI_VARIABLE_AUTHORITY: the db certificate that verified shim. */
static void test_signature_data(void **state)
{
    struct vouch_tcg_eventlog *log = load_log("event-moklisttrusted.bin");
    const struct vouch_tcg_event *ev = event_at(log, 23, VOUCH_EV_EFI_VARIABLE_AUTHORITY);
    size_t len, n;
    const uint8_t *d = variable_data(ev, &len);
    json_t *o = vouch_uefi_signature_data(d, len);
    uint8_t *bad;

    (void)state;
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "type")), "x509");
    assert_string_equal(json_string_value(json_object_get(o, "owner")),
                        "77fa9abd-0359-4d32-bd60-28f4e78f784b");
    assert_string_equal(json_string_value(json_object_get(o, "sha256")),
                        "48e99b991f57fc52f76149599bff0a58c47154229b9f8d603ac40d3500248507");
    assert_non_null(strstr(json_string_value(json_object_get(o, "subject")),
                           "Microsoft Corporation UEFI CA 2011"));
    json_decref(o);
    vouch_tcg_eventlog_free(log);

    /* Not a certificate, too short, or a certificate that does not parse. */
    bad = tu_unhex(OWNER "0400000000", &n);
    assert_null(vouch_uefi_signature_data(bad, n));
    free(bad);
    bad = tu_unhex(OWNER "3082", &n);
    assert_null(vouch_uefi_signature_data(bad, n));
    free(bad);
    bad = tu_unhex(OWNER "3082ffff00", &n);
    o = vouch_uefi_signature_data(bad, n);
    assert_non_null(o);       /* listed by its hash, without a subject */
    assert_null(json_object_get(o, "subject"));
    assert_int_equal(strlen(json_string_value(json_object_get(o, "sha256"))), 64);
    json_decref(o);
    free(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guids),
        cmocka_unit_test(test_utf16),
        cmocka_unit_test(test_device_paths),
        cmocka_unit_test(test_device_path_node_list),
        cmocka_unit_test(test_image_load_paths),
        cmocka_unit_test(test_real_variables),
        cmocka_unit_test(test_variable_bounds),
        cmocka_unit_test(test_variable_names),
        cmocka_unit_test(test_real_signature_lists),
        cmocka_unit_test(test_real_dbx_cap),
        cmocka_unit_test(test_signature_list_bounds),
        cmocka_unit_test(test_signature_data),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
