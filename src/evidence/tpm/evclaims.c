/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event-log claims: Secure Boot state, boot chain (the events' own claims
 * are evidence/tcg's); tpm2_eventlog-style YAML.
 */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/reader.h"
#include "evidence/tpm/eventlog.h"
#include "evidence/tcg/uefi.h"
#include "evidence/tpm/tpm_int.h"

/* Prefixes grub puts before the text of the commands and kernel command line it measures. */
#define GRUB_CMD "grub_cmd: "
#define KERNEL_CMDLINE "kernel_cmdline: "

static json_t *digest_map(const struct vouch_tcg_event *ev)
{
    json_t *m = json_object();
    uint32_t d;

    for (d = 0; m && d < ev->n_digests; d++) {
        int h = vouch_tcg_alg_hash(ev->digests[d].alg);

        if (h >= 0)
            json_object_set_new(m, vouch_hash_name((enum vouch_hash)h),
                                vouch_tcg_json_hex(ev->digests[d].bytes, ev->digests[d].size));
    }
    return m;
}

/* Secure Boot and boot-chain summaries, from the per-event claims. */
static vouch_err summaries(const struct vouch_tcg_eventlog *log, json_t *events, json_t *root)
{
    json_t *sb = json_object(), *auth = json_array(), *apps = json_array(),
           *grub = json_array();
    const char *cmdline = NULL;
    bool pcr7_sep = false;
    size_t i;
    vouch_err e = VOUCH_E_NOMEM;

    if (!sb || !auth || !apps || !grub)
        goto out;
    for (i = 0; i < log->n_events; i++) {
        const struct vouch_tcg_event *ev = &log->events[i];
        json_t *c = json_array_get(events, i), *det = json_object_get(c, "details");
        const char *uname = json_string_value(json_object_get(det, "unicode_name"));
        const char *str = json_string_value(json_object_get(det, "string"));
        bool verified = json_is_true(json_object_get(c, "digest_matches_event"));

        if (ev->type == VOUCH_EV_SEPARATOR && ev->pcr == 7)
            pcr7_sep = true;
        if (ev->type == VOUCH_EV_EFI_VARIABLE_DRIVER_CONFIG && ev->pcr == 7 && uname) {
            if (!strcmp(uname, "SecureBoot")) {
                json_int_t len = json_integer_value(json_object_get(det, "variable_data_length"));
                json_t *en = json_object_get(det, "enabled");

                json_object_set_new(sb, "enabled", json_boolean(len == 1 && json_is_true(en)));
                json_object_set_new(sb, "verified", json_boolean(verified));
            } else if (!strcmp(uname, "PK") || !strcmp(uname, "KEK") || !strcmp(uname, "db") ||
                       !strcmp(uname, "dbx")) {
                char key[16];
                json_t *cnt = json_object_get(det, "signature_count");

                snprintf(key, sizeof(key), "%s_count", uname);
                for (char *k = key; *k; k++)
                    *k = (char)(*k >= 'A' && *k <= 'Z' ? *k - 'A' + 'a' : *k);
                json_object_set_new(sb, key, json_integer(cnt ? json_integer_value(cnt) : 0));
            }
        }
        if (ev->type == VOUCH_EV_EFI_VARIABLE_AUTHORITY && ev->pcr == 7) {
            json_t *a = json_pack("{s:s?, s:b, s:O?}", "unicode_name", uname,
                                  "after_separator", pcr7_sep, "authority",
                                  json_object_get(det, "authority"));

            if (!a || json_array_append_new(auth, a))
                goto out;
        }
        if (ev->type == VOUCH_EV_EFI_BOOT_SERVICES_APPLICATION) {
            json_t *a = json_pack("{s:I, s:O?, s:o}", "pcr", (json_int_t)ev->pcr, "device_path",
                                  json_object_get(det, "device_path"), "digests", digest_map(ev));

            if (!a || json_array_append_new(apps, a))
                goto out;
        }
        if (ev->type == VOUCH_EV_IPL && str && verified) {
            if (!strncmp(str, GRUB_CMD, strlen(GRUB_CMD))) {
                if (json_array_append_new(grub, json_string(str + strlen(GRUB_CMD))))
                    goto out;
            } else if (!strncmp(str, KERNEL_CMDLINE, strlen(KERNEL_CMDLINE))) {
                cmdline = str + strlen(KERNEL_CMDLINE);
            } else if ((ev->pcr == 8 || ev->pcr == 12) && ev->data_len >= 2 && !ev->data[1] &&
                       strchr(str, '=')) {
                cmdline = str;   /* systemd-boot / stub: UTF-16 load options */
            }
        }
    }
    if (json_object_set(sb, "authorities", auth) || json_object_set(root, "secure_boot", sb) ||
        json_object_set(root, "boot_applications", apps))
        goto out;
    if (json_array_size(grub) && json_object_set(root, "grub_cmds", grub))
        goto out;
    if (cmdline && vouch_json_set_str(root, "kernel_cmdline", cmdline))
        goto out;
    e = VOUCH_OK;
out:
    json_decref(sb);
    json_decref(auth);
    json_decref(apps);
    json_decref(grub);
    return e;
}

vouch_err vouch_tpm_eventlog_claims(const struct vouch_tcg_eventlog *log, json_t **ret)
{
    json_t *root = json_object(), *events = json_array(), *banks = json_array();
    vouch_err e = VOUCH_E_NOMEM;
    size_t i;

    if (!root || !events || !banks)
        goto out;
    if (log->agile) {
        for (i = 0; i < log->spec.n_algs; i++) {
            int h = vouch_tcg_alg_hash(log->spec.algs[i].alg);

            if (h >= 0 && json_array_append_new(banks, json_string(vouch_hash_name((enum vouch_hash)h))))
                goto out;
        }
    } else if (json_array_append_new(banks, json_string("sha1"))) {
        goto out;
    }
    for (i = 0; i < log->n_events; i++) {
        json_t *c;

        if (vouch_tcg_event_claims(log, &log->events[i], 0, &c) || json_array_append_new(events, c))
            goto out;
    }
    if (vouch_json_set_str(root, "format", log->agile ? "tcg2" : "tcg1") ||
        json_object_set(root, "banks", banks) || json_object_set(root, "uefi_event_logs", events))
        goto out;
    e = summaries(log, events, root);
    if (e)
        goto out;
    *ret = root;
    root = NULL;
out:
    json_decref(root);
    json_decref(events);
    json_decref(banks);
    return e;
}

/* ---- YAML --------------------------------------------------------------- */

static vouch_err yaml_quoted(struct vouch_buf *out, const char *s, size_t n)
{
    vouch_err e = vouch_buf_putc(out, '"');
    size_t i;

    for (i = 0; i < n && !e; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\')
            e = vouch_buf_printf(out, "\\%c", c);
        else if (c == '\n')
            e = vouch_buf_puts(out, "\\n");
        else if (c == 0)
            e = vouch_buf_puts(out, "\\0");
        else if (c < 0x20 || c == 0x7f)
            e = vouch_buf_printf(out, "\\x%02x", c);
        else
            e = vouch_buf_putc(out, c);
    }
    return e ? e : vouch_buf_putc(out, '"');
}

static vouch_err yaml_hex(struct vouch_buf *out, const uint8_t *p, size_t n)
{
    vouch_err e = vouch_buf_putc(out, '"');
    size_t i;

    for (i = 0; i < n && !e; i++)
        e = vouch_buf_printf(out, "%02x", p[i]);
    return e ? e : vouch_buf_putc(out, '"');
}

static vouch_err yaml_spec(const struct vouch_tcg_eventlog *log, struct vouch_buf *out)
{
    vouch_err e = vouch_buf_printf(out,
        "  SpecID:\n  - Signature: Spec ID Event03\n    platformClass: %u\n"
        "    specVersionMinor: %u\n    specVersionMajor: %u\n    specErrata: %u\n"
        "    uintnSize: %u\n    numberOfAlgorithms: %u\n    Algorithms:\n",
        log->spec.platform_class, log->spec.version_minor, log->spec.version_major,
        log->spec.errata, log->spec.uintn_size, log->spec.n_algs);
    uint32_t i;

    for (i = 0; i < log->spec.n_algs && !e; i++) {
        const char *n = vouch_tpm_alg_name(log->spec.algs[i].alg);

        e = vouch_buf_printf(out, "    - Algorithm[%u]:\n      algorithmId: ", i);
        if (!e)
            e = n ? vouch_buf_puts(out, n) : vouch_buf_printf(out, "0x%04x", log->spec.algs[i].alg);
        if (!e)
            e = vouch_buf_printf(out, "\n      digestSize: %u\n", log->spec.algs[i].size);
    }
    return e ? e : vouch_buf_printf(out, "    vendorInfoSize: %u\n", log->spec.vendor_info_size);
}

static vouch_err yaml_event_body(const struct vouch_tcg_eventlog *log,
                                 const struct vouch_tcg_event *ev, struct vouch_buf *out)
{
    struct uefi_variable v;
    struct vouch_reader r;
    vouch_err e;

    if (ev == &log->events[0] && log->agile)
        return yaml_spec(log, out);
    if (vouch_tcg_is_variable_event(ev->type) &&
        vouch_uefi_variable_parse(ev->data, ev->data_len, &v)) {
        char g[UEFI_GUID_STR_LEN];

        vouch_uefi_guid_str(v.guid, g);
        e = vouch_buf_printf(out, "  Event:\n    VariableName: %s\n    UnicodeNameLength: %llu\n"
                             "    VariableDataLength: %llu\n    UnicodeName: ", g,
                             (unsigned long long)v.name_chars, (unsigned long long)v.data_len);
        if (!e)
            e = vouch_uefi_utf16_append(v.name, (size_t)v.name_chars * 2, out);
        if (!e)
            e = vouch_buf_puts(out, "\n    VariableData: ");
        if (!e)
            e = yaml_hex(out, v.data, (size_t)v.data_len);
        return e ? e : vouch_buf_putc(out, '\n');
    }
    if (vouch_tcg_is_image_event(ev->type)) {
        uint64_t loc, len, link, dplen;
        const uint8_t *path;

        vouch_reader_init(&r, ev->data, ev->data_len);
        if (!vouch_reader_u64le(&r, &loc) && !vouch_reader_u64le(&r, &len) &&
            !vouch_reader_u64le(&r, &link) && !vouch_reader_u64le(&r, &dplen) &&
            dplen <= vouch_reader_left(&r) && !vouch_reader_bytes(&r, (size_t)dplen, &path)) {
            e = vouch_buf_printf(out, "  Event:\n    ImageLocationInMemory: 0x%llx\n"
                                 "    ImageLengthInMemory: %llu\n    ImageLinkTimeAddress: 0x%llx\n"
                                 "    LengthOfDevicePath: %llu\n    DevicePath: '",
                                 (unsigned long long)loc, (unsigned long long)len,
                                 (unsigned long long)link, (unsigned long long)dplen);
            if (!e)
                e = vouch_uefi_device_path(path, (size_t)dplen, out, NULL);
            return e ? e : vouch_buf_puts(out, "'\n");
        }
    }
    if (ev->type == VOUCH_EV_IPL || ev->type == VOUCH_EV_EFI_ACTION ||
        ev->type == VOUCH_EV_ACTION || ev->type == VOUCH_EV_S_CRTM_VERSION ||
        ev->type == VOUCH_EV_POST_CODE || ev->type == VOUCH_EV_EVENT_TAG) {
        json_t *s = vouch_tcg_text_json(ev->data, ev->data_len);

        if (s) {
            e = vouch_buf_puts(out, "  Event:\n    String: ");
            if (!e)
                e = yaml_quoted(out, json_string_value(s), json_string_length(s));
            json_decref(s);
            return e ? e : vouch_buf_putc(out, '\n');
        }
    }
    e = vouch_buf_puts(out, "  Event: ");
    if (!e)
        e = yaml_hex(out, ev->data, ev->data_len);
    return e ? e : vouch_buf_putc(out, '\n');
}

vouch_err vouch_tpm_eventlog_format_yaml(const struct vouch_tcg_eventlog *log,
                                         const struct vouch_tpm_pcrs *replayed,
                                         struct vouch_buf *out)
{
    vouch_err e = vouch_buf_puts(out, "---\nversion: 1\nevents:\n");
    size_t i;
    uint32_t d;

    for (i = 0; i < log->n_events && !e; i++) {
        const struct vouch_tcg_event *ev = &log->events[i];
        const char *name = vouch_tcg_event_type_name(ev->type);

        e = vouch_buf_printf(out, "- EventNum: %zu\n  PCRIndex: %u\n  EventType: ", i, ev->pcr);
        if (!e)
            e = name ? vouch_buf_puts(out, name) : vouch_buf_printf(out, "0x%08x", ev->type);
        if (!e && (i == 0 || !log->agile)) {
            e = vouch_buf_puts(out, "\n  Digest: ");
            if (!e)
                e = yaml_hex(out, ev->digests[0].bytes, ev->digests[0].size);
        } else if (!e) {
            e = vouch_buf_printf(out, "\n  DigestCount: %u\n  Digests:\n", ev->n_digests);
            for (d = 0; d < ev->n_digests && !e; d++) {
                const char *an = vouch_tpm_alg_name(ev->digests[d].alg);

                e = vouch_buf_puts(out, "  - AlgorithmId: ");
                if (!e)
                    e = an ? vouch_buf_puts(out, an)
                           : vouch_buf_printf(out, "0x%04x", ev->digests[d].alg);
                if (!e)
                    e = vouch_buf_puts(out, "\n    Digest: ");
                if (!e)
                    e = yaml_hex(out, ev->digests[d].bytes, ev->digests[d].size);
                if (!e && d + 1 < ev->n_digests)
                    e = vouch_buf_putc(out, '\n');
            }
        }
        if (!e)
            e = vouch_buf_printf(out, "\n  EventSize: %u\n", ev->data_len);
        if (!e)
            e = yaml_event_body(log, ev, out);
    }
    if (!e && replayed) {
        e = vouch_buf_puts(out, "pcrs:\n");
        if (!e)
            e = vouch_tpm_pcrs_format_yaml(replayed, VOUCH_TPM_YAML_EVENTLOG, out);
    }
    return e;
}
