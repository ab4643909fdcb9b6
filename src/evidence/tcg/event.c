/* SPDX-License-Identifier: Apache-2.0 */
/* Claims of one TCG event: type name, digests, details decoded from the event data. */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/reader.h"
#include "evidence/tcg/eventlog.h"
#include "evidence/tcg/tcg.h"
#include "evidence/tcg/uefi.h"

/* How many signature entries of a db/dbx variable the claims list. */
#define MAX_SIGNATURES 512

static const struct {
    uint32_t type;
    const char *name;
} event_names[] = {
    { 0x0, "EV_PREBOOT_CERT" },
    { 0x1, "EV_POST_CODE" },
    { 0x2, "EV_UNUSED" },
    { 0x3, "EV_NO_ACTION" },
    { 0x4, "EV_SEPARATOR" },
    { 0x5, "EV_ACTION" },
    { 0x6, "EV_EVENT_TAG" },
    { 0x7, "EV_S_CRTM_CONTENTS" },
    { 0x8, "EV_S_CRTM_VERSION" },
    { 0x9, "EV_CPU_MICROCODE" },
    { 0xa, "EV_PLATFORM_CONFIG_FLAGS" },
    { 0xb, "EV_TABLE_OF_DEVICES" },
    { 0xc, "EV_COMPACT_HASH" },
    { 0xd, "EV_IPL" },
    { 0xe, "EV_IPL_PARTITION_DATA" },
    { 0xf, "EV_NONHOST_CODE" },
    { 0x10, "EV_NONHOST_CONFIG" },
    { 0x11, "EV_NONHOST_INFO" },
    { 0x12, "EV_OMIT_BOOT_DEVICE_EVENTS" },
    { 0x13, "EV_POST_CODE2" },
    { 0x80000000, "EV_EFI_EVENT_BASE" },
    { 0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG" },
    { 0x80000002, "EV_EFI_VARIABLE_BOOT" },
    { 0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION" },
    { 0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER" },
    { 0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER" },
    { 0x80000006, "EV_EFI_GPT_EVENT" },
    { 0x80000007, "EV_EFI_ACTION" },
    { 0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB" },
    { 0x80000009, "EV_EFI_HANDOFF_TABLES" },
    { 0x8000000a, "EV_EFI_PLATFORM_FIRMWARE_BLOB2" },
    { 0x8000000b, "EV_EFI_HANDOFF_TABLES2" },
    { 0x8000000c, "EV_EFI_VARIABLE_BOOT2" },
    { 0x8000000d, "EV_EFI_GPT_EVENT2" },
    { 0x80000010, "EV_EFI_HCRTM_EVENT" },
    { 0x800000e0, "EV_EFI_VARIABLE_AUTHORITY" },
    { 0x800000e1, "EV_EFI_SPDM_FIRMWARE_BLOB" },
    { 0x800000e2, "EV_EFI_SPDM_FIRMWARE_CONFIG" },
};

const char *vouch_tcg_event_type_name(uint32_t type)
{
    size_t i;

    for (i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++)
        if (event_names[i].type == type)
            return event_names[i].name;
    return NULL;
}

bool vouch_tcg_is_variable_event(uint32_t type)
{
    return type == VOUCH_EV_EFI_VARIABLE_DRIVER_CONFIG || type == VOUCH_EV_EFI_VARIABLE_BOOT ||
           type == VOUCH_EV_EFI_VARIABLE_BOOT2 || type == VOUCH_EV_EFI_VARIABLE_AUTHORITY;
}

bool vouch_tcg_is_image_event(uint32_t type)
{
    return type == VOUCH_EV_EFI_BOOT_SERVICES_APPLICATION ||
           type == VOUCH_EV_EFI_BOOT_SERVICES_DRIVER ||
           type == VOUCH_EV_EFI_RUNTIME_SERVICES_DRIVER;
}

/* Whether every supported digest of ev equals H(p[0..n)); false if none is supported. */
static bool digests_match(EVP_MD_CTX *ctx, const struct vouch_tcg_event *ev, const uint8_t *p,
                          size_t n)
{
    uint8_t out[VOUCH_HASH_MAX_SIZE];
    bool any = false;
    uint32_t d;

    for (d = 0; d < ev->n_digests; d++) {
        int h = vouch_tcg_alg_hash(ev->digests[d].alg);

        if (h < 0)
            continue;
        if (vouch_tcg_hash2(ctx, (enum vouch_hash)h, p, n, NULL, 0, out) ||
            memcmp(out, ev->digests[d].bytes, ev->digests[d].size) != 0)
            return false;
        any = true;
    }
    return any;
}

bool vouch_tcg_event_digest_matches(const struct vouch_tcg_event *ev)
{
    static const char *const prefixes[] = { "grub_cmd: ", "kernel_cmdline: ",
                                            "module_cmdline: ", "grub_kernel_cmdline: " };
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const uint8_t *d = ev->data;
    size_t n = ev->data_len, i;
    bool ok = false;
    struct uefi_variable v;

    if (!ctx)
        return false;
    if (digests_match(ctx, ev, d, n))
        ok = true;
    else if (n && d[n - 1] == 0 && digests_match(ctx, ev, d, n - 1))
        ok = true;
    else if (ev->type == VOUCH_EV_IPL) {
        for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]) && !ok; i++) {
            size_t pl = strlen(prefixes[i]);

            if (n > pl && memcmp(d, prefixes[i], pl) == 0)
                ok = digests_match(ctx, ev, d + pl, n - pl - (d[n - 1] == 0));
        }
    } else if ((ev->type == VOUCH_EV_EFI_VARIABLE_BOOT ||
                ev->type == VOUCH_EV_EFI_VARIABLE_BOOT2) &&
               vouch_uefi_variable_parse(d, n, &v)) {
        /* Some firmware measures only VariableData of boot variables. */
        ok = digests_match(ctx, ev, v.data, (size_t)v.data_len);
    }
    EVP_MD_CTX_free(ctx);
    return ok;
}

json_t *vouch_tcg_text_json(const uint8_t *d, size_t n)
{
    struct vouch_buf b = VOUCH_BUF_INIT(1u << 20);
    json_t *j = NULL;
    size_t i, zeros = 0;

    if (n >= 4 && n % 2 == 0) {
        for (i = 1; i < n; i += 2)
            zeros += d[i] == 0;
        if (zeros * 4 >= (n / 2) * 3 && d[0] && !d[1]) {   /* mostly ASCII in UTF-16 */
            if (vouch_uefi_utf16_append(d, n, &b) == VOUCH_OK)
                j = json_stringn(vouch_buf_str(&b), b.len);
            vouch_buf_free(&b);
            if (j)
                return j;
        }
    }
    while (n && d[n - 1] == 0)
        n--;
    for (i = 0; i < n; i++)
        if (d[i] < 0x20 && d[i] != '\n' && d[i] != '\t' && d[i] != '\r')
            return NULL;
    return json_stringn((const char *)d, n);   /* NULL when not valid UTF-8 */
}

static vouch_err variable_details(const struct vouch_tcg_event *ev, unsigned flags, json_t *det)
{
    struct vouch_buf name = VOUCH_BUF_INIT(4096);
    struct uefi_variable v;
    char raw[UEFI_GUID_STR_LEN], guid[UEFI_GUID_STR_LEN];
    json_t *sigs = NULL;
    size_t count = 0;
    vouch_err e;

    if (!vouch_uefi_variable_parse(ev->data, ev->data_len, &v))
        return VOUCH_OK;
    vouch_uefi_guid_raw_str(v.guid, raw);
    vouch_uefi_guid_str(v.guid, guid);
    e = vouch_uefi_utf16_append(v.name, (size_t)v.name_chars * 2, &name);
    if (!e)
        e = vouch_json_set_str(det, "variable_name", raw);
    if (!e)
        e = vouch_json_set_str(det, "variable_guid", guid);
    if (!e)
        e = vouch_json_set_strn(det, "unicode_name", vouch_buf_str(&name), name.len);
    if (!e)
        e = vouch_json_set_int(det, "unicode_name_length", (int64_t)v.name_chars);
    if (!e)
        e = vouch_json_set_new(det, "variable_data",
                               vouch_tcg_json_b64(v.data, (size_t)v.data_len));
    if (!e)
        e = vouch_json_set_int(det, "variable_data_length", (int64_t)v.data_len);
    if (e)
        goto out;
    if (flags & VOUCH_TCG_CLAIMS_NO_SIGNATURES) {
        if (v.data_len == 1)
            e = vouch_json_set_bool(det, "enabled", v.data[0] == 1);
    } else if (ev->type == VOUCH_EV_EFI_VARIABLE_DRIVER_CONFIG &&
               (vouch_uefi_variable_is(&v, "PK") || vouch_uefi_variable_is(&v, "KEK") ||
                vouch_uefi_variable_is(&v, "db") || vouch_uefi_variable_is(&v, "dbx") ||
                vouch_uefi_variable_is(&v, "dbt") || vouch_uefi_variable_is(&v, "dbr"))) {
        sigs = vouch_uefi_signature_lists(v.data, (size_t)v.data_len, MAX_SIGNATURES, &count);
        if (sigs) {
            e = vouch_json_set_new(det, "signatures", sigs);
            if (!e)
                e = vouch_json_set_int(det, "signature_count", (int64_t)count);
        }
    } else if (ev->type == VOUCH_EV_EFI_VARIABLE_AUTHORITY) {
        sigs = vouch_uefi_signature_data(v.data, (size_t)v.data_len);
        if (sigs)
            e = vouch_json_set_new(det, "authority", sigs);
    } else if (v.data_len == 1) {
        e = vouch_json_set_bool(det, "enabled", v.data[0] == 1);
    }
out:
    vouch_buf_free(&name);
    return e;
}

static vouch_err image_details(const struct vouch_tcg_event *ev, json_t *det)
{
    struct vouch_buf dp = VOUCH_BUF_INIT(1u << 16);
    struct vouch_reader r;
    uint64_t loc, len, link, dplen;
    const uint8_t *path;
    json_t *nodes;
    vouch_err e;

    vouch_reader_init(&r, ev->data, ev->data_len);
    if (vouch_reader_u64le(&r, &loc) || vouch_reader_u64le(&r, &len) ||
        vouch_reader_u64le(&r, &link) || vouch_reader_u64le(&r, &dplen) ||
        dplen > vouch_reader_left(&r) || vouch_reader_bytes(&r, (size_t)dplen, &path))
        return VOUCH_OK;
    nodes = json_array();
    if (!nodes)
        return VOUCH_E_NOMEM;
    e = vouch_uefi_device_path(path, (size_t)dplen, &dp, nodes);
    if (!e)
        e = vouch_json_set_int(det, "image_location", (int64_t)loc);
    if (!e)
        e = vouch_json_set_int(det, "image_length", (int64_t)len);
    if (!e)
        e = vouch_json_set_int(det, "image_link_time_address", (int64_t)link);
    if (!e)
        e = vouch_json_set_strn(det, "device_path", vouch_buf_str(&dp), dp.len);
    if (!e)
        e = json_object_set(det, "device_paths", nodes) ? VOUCH_E_NOMEM : VOUCH_OK;
    json_decref(nodes);
    vouch_buf_free(&dp);
    return e;
}

static vouch_err no_action_details(const struct vouch_tcg_eventlog *log,
                                   const struct vouch_tcg_event *ev, json_t *det)
{
    if (ev == &log->events[0] && log->agile) {
        json_t *algs = json_array(), *spec;
        uint32_t i;

        for (i = 0; algs && i < log->spec.n_algs; i++) {
            const char *n = vouch_tcg_alg_name(log->spec.algs[i].alg);

            json_array_append_new(algs, json_pack("{s:s?, s:I, s:I}", "name", n, "id",
                                                  (json_int_t)log->spec.algs[i].alg, "size",
                                                  (json_int_t)log->spec.algs[i].size));
        }
        spec = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o}", "signature", "Spec ID Event03",
                         "platform_class", (json_int_t)log->spec.platform_class,
                         "spec_version_minor", (json_int_t)log->spec.version_minor,
                         "spec_version_major", (json_int_t)log->spec.version_major,
                         "spec_errata", (json_int_t)log->spec.errata,
                         "uintn_size", (json_int_t)log->spec.uintn_size, "algorithms", algs);
        return vouch_json_set_new(det, "spec_id", spec);
    }
    if (ev->data_len == 17 && memcmp(ev->data, "StartupLocality", 16) == 0)
        return vouch_json_set_int(det, "startup_locality", ev->data[16]);
    if (ev->data_len >= 16 && memchr(ev->data, 0, 16)) {
        json_t *s = vouch_tcg_text_json(ev->data, strnlen((const char *)ev->data, 16));

        if (s)
            return vouch_json_set_new(det, "signature", s);
    }
    return VOUCH_OK;
}

static vouch_err event_details(const struct vouch_tcg_eventlog *log,
                               const struct vouch_tcg_event *ev, unsigned flags, json_t *det)
{
    struct vouch_reader r;
    json_t *s;

    if (ev->type == VOUCH_EV_NO_ACTION)
        return no_action_details(log, ev, det);
    if (vouch_tcg_is_variable_event(ev->type))
        return variable_details(ev, flags, det);
    if (vouch_tcg_is_image_event(ev->type))
        return image_details(ev, det);
    switch (ev->type) {
    case VOUCH_EV_SEPARATOR:
        if (ev->data_len == 4)
            return vouch_json_set_bool(det, "error", vouch_tcg_all_bytes(ev->data, 4, 0xff));
        return VOUCH_OK;
    case VOUCH_EV_EVENT_TAG: {
        uint32_t id, size;
        const uint8_t *tag;

        vouch_reader_init(&r, ev->data, ev->data_len);
        if (vouch_reader_u32le(&r, &id) || vouch_reader_u32le(&r, &size) ||
            vouch_reader_bytes(&r, size, &tag))
            return VOUCH_OK;
        if (vouch_json_set_int(det, "tag_id", id) ||
            vouch_json_set_new(det, "tag_data", vouch_tcg_json_b64(tag, size)))
            return VOUCH_E_NOMEM;
        s = vouch_tcg_text_json(tag, size);
        return s ? vouch_json_set_new(det, "string", s) : VOUCH_OK;
    }
    case VOUCH_EV_EFI_PLATFORM_FIRMWARE_BLOB: {
        uint64_t base, len;

        vouch_reader_init(&r, ev->data, ev->data_len);
        if (vouch_reader_u64le(&r, &base) || vouch_reader_u64le(&r, &len))
            return VOUCH_OK;
        if (vouch_json_set_int(det, "blob_base", (int64_t)base) ||
            vouch_json_set_int(det, "blob_length", (int64_t)len))
            return VOUCH_E_NOMEM;
        return VOUCH_OK;
    }
    case VOUCH_EV_EFI_PLATFORM_FIRMWARE_BLOB2: {
        uint8_t dlen;
        const uint8_t *desc;
        uint64_t base, len;

        vouch_reader_init(&r, ev->data, ev->data_len);
        if (vouch_reader_u8(&r, &dlen) || vouch_reader_bytes(&r, dlen, &desc) ||
            vouch_reader_u64le(&r, &base) || vouch_reader_u64le(&r, &len))
            return VOUCH_OK;
        s = vouch_tcg_text_json(desc, dlen);
        if ((s && vouch_json_set_new(det, "string", s)) ||
            vouch_json_set_int(det, "blob_base", (int64_t)base) ||
            vouch_json_set_int(det, "blob_length", (int64_t)len))
            return VOUCH_E_NOMEM;
        return VOUCH_OK;
    }
    case VOUCH_EV_IPL:
    case VOUCH_EV_EFI_ACTION:
    case VOUCH_EV_ACTION:
    case VOUCH_EV_S_CRTM_VERSION:
    case VOUCH_EV_POST_CODE:
    case VOUCH_EV_COMPACT_HASH:
    case VOUCH_EV_PLATFORM_CONFIG_FLAGS:
    case VOUCH_EV_OMIT_BOOT_DEVICE_EVENTS:
        s = vouch_tcg_text_json(ev->data, ev->data_len);
        return s ? vouch_json_set_new(det, "string", s) : VOUCH_OK;
    default:
        return VOUCH_OK;
    }
}

/* [{alg, digest}]: built member by member (json_pack's format parsing cost more than the rest). */
static json_t *digests_claims(const struct vouch_tcg_event *ev)
{
    json_t *digests = json_array(), *o;
    uint32_t d;
    char unknown[16];

    for (d = 0; digests && d < ev->n_digests; d++) {
        int h = vouch_tcg_alg_hash(ev->digests[d].alg);
        const char *alg = unknown;

        if (h >= 0)
            alg = vouch_tcg_hash_claim_name((enum vouch_hash)h);
        else
            snprintf(unknown, sizeof(unknown), "0x%04x", ev->digests[d].alg);
        o = json_object();
        if (!o || json_array_append_new(digests, o) ||
            json_object_set_new_nocheck(o, "alg", json_string(alg)) ||
            json_object_set_new_nocheck(o, "digest", vouch_tcg_json_hex(ev->digests[d].bytes,
                                                                        ev->digests[d].size))) {
            json_decref(digests);
            return NULL;
        }
    }
    return digests;
}

vouch_err vouch_tcg_event_details(const struct vouch_tcg_eventlog *log,
                                  const struct vouch_tcg_event *ev, unsigned flags, json_t **ret)
{
    json_t *det = json_object();

    if (!det || event_details(log, ev, flags, det)) {
        json_decref(det);
        return VOUCH_E_NOMEM;
    }
    *ret = det;
    return VOUCH_OK;
}

vouch_err vouch_tcg_event_claims(const struct vouch_tcg_eventlog *log,
                                 const struct vouch_tcg_event *ev, unsigned flags, json_t **ret)
{
    const char *name = vouch_tcg_event_type_name(ev->type);
    json_t *o = json_object(), *det = json_object();
    char unknown[24];

    if (!name) {
        snprintf(unknown, sizeof(unknown), "0x%08x", ev->type);
        name = unknown;
    }
    if (!o || !det || event_details(log, ev, flags, det) ||
        json_object_set_new_nocheck(o, "index", json_integer(ev->pcr)) ||
        json_object_set_new_nocheck(o, "type", json_integer(ev->type)) ||
        json_object_set_new_nocheck(o, "type_name", json_string(name)) ||
        json_object_set_new_nocheck(o, "digests", digests_claims(ev)) ||
        json_object_set_new_nocheck(o, "event", vouch_tcg_json_b64(ev->data, ev->data_len)) ||
        json_object_set_new_nocheck(o, "digest_matches_event",
                                    json_boolean(vouch_tcg_event_digest_matches(ev))) ||
        json_object_set_new_nocheck(o, "details", json_incref(det))) {
        json_decref(o);
        json_decref(det);
        return VOUCH_E_NOMEM;
    }
    json_decref(det);
    *ret = o;
    return VOUCH_OK;
}
