/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/json.h"
#include "evidence/nvgpu/nvgpu.h"

#define CERT_B64_MAX (VOUCH_NVGPU_CHAIN_MAX / 3 * 4 + 4)
#define REPORT_TEXT_MAX (2 * VOUCH_NVGPU_REPORT_MAX)

static void device_clear(struct vouch_nvgpu_device *d)
{
    free(d->uuid);
    free(d->name);
    free(d->driver_version);
    free(d->vbios_version);
    free(d->report);
    free(d->chain);
    memset(d, 0, sizeof(*d));
}

void vouch_nvgpu_evidence_free(struct vouch_nvgpu_evidence *ev)
{
    size_t i;

    if (!ev)
        return;
    for (i = 0; i < ev->n; i++)
        device_clear(&ev->devices[i]);
    free(ev->devices);
    free(ev);
}

static vouch_err evidence_new(size_t n, struct vouch_nvgpu_evidence **ret,
                              struct vouch_errbuf *eb)
{
    struct vouch_nvgpu_evidence *ev;

    if (n == 0)
        return vouch_fail(eb, VOUCH_E_INVALID, "the GPU evidence list is empty");
    if (n > VOUCH_NVGPU_MAX_DEVICES)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "%zu GPUs, at most %d", n,
                          VOUCH_NVGPU_MAX_DEVICES);
    ev = calloc(1, sizeof(*ev));
    if (ev)
        ev->devices = calloc(n, sizeof(*ev->devices));
    if (!ev || !ev->devices) {
        free(ev);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    ev->n = n;
    *ret = ev;
    return VOUCH_OK;
}

/* Record "<device path>.<key>" as the field at fault. */
static vouch_err at(struct vouch_errbuf *eb, vouch_err e, const struct vouch_nvgpu_device *d,
                    const char *key)
{
    char field[sizeof(d->path) + 32];

    snprintf(field, sizeof(field), "%s%s%s", d->path, key ? "." : "", key ? key : "");
    return vouch_errbuf_set_field(eb, e, field);
}

/* An optional string member, copied. */
static vouch_err opt_str(const json_t *o, const char *key, size_t max, char **ret,
                         struct vouch_errbuf *eb)
{
    const char *s = NULL;
    size_t len = 0;
    vouch_err e = vouch_json_get_str(o, key, false, &s, &len, eb);

    if (e || !s)
        return e;
    if (len > max || strlen(s) != len)
        return vouch_fail(eb, VOUCH_E_INVALID, "'%s' is longer than %zu or contains NUL", key,
                          max);
    *ret = strdup(s);
    return *ret ? VOUCH_OK : vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
}

static bool all_hex(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n % 2)
        return false;
    for (i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* The report: hex (older trustee/NVIDIA files) or base64, standard or URL-safe. */
static vouch_err decode_report(const char *s, size_t n, const char *key,
                               struct vouch_nvgpu_device *d, struct vouch_errbuf *eb)
{
    if (n > REPORT_TEXT_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "'%s' has %zu characters, more than a "
                          "report of %u bytes", key, n, VOUCH_NVGPU_REPORT_MAX);
    if (all_hex(s, n) &&
        vouch_hex_decode(s, n, VOUCH_NVGPU_REPORT_MAX, &d->report, &d->report_len, NULL) == 0)
        return VOUCH_OK;
    if (vouch_b64_decode(s, n, VOUCH_B64_STD | VOUCH_B64_PAD_OPTIONAL, VOUCH_NVGPU_REPORT_MAX,
                         &d->report, &d->report_len, NULL) == VOUCH_OK ||
        vouch_b64_decode(s, n, VOUCH_B64_URL | VOUCH_B64_PAD_OPTIONAL, VOUCH_NVGPU_REPORT_MAX,
                         &d->report, &d->report_len, NULL) == VOUCH_OK)
        return VOUCH_OK;
    return vouch_fail(eb, VOUCH_E_INVALID, "'%s' is neither hex nor base64", key);
}

/* The certificate chain: base64 of concatenated PEM certificates. */
static vouch_err decode_chain(const char *s, size_t n, const char *key,
                              struct vouch_nvgpu_device *d, struct vouch_errbuf *eb)
{
    uint8_t *pem = NULL;
    size_t len = 0;

    if (n > CERT_B64_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "'%s' has %zu characters, more than a "
                          "chain of %u bytes", key, n, VOUCH_NVGPU_CHAIN_MAX);
    if (vouch_b64_decode(s, n, VOUCH_B64_STD | VOUCH_B64_PAD_OPTIONAL, VOUCH_NVGPU_CHAIN_MAX,
                         &pem, &len, NULL) != VOUCH_OK &&
        vouch_b64_decode(s, n, VOUCH_B64_URL | VOUCH_B64_PAD_OPTIONAL, VOUCH_NVGPU_CHAIN_MAX,
                         &pem, &len, NULL) != VOUCH_OK)
        return vouch_fail(eb, VOUCH_E_INVALID, "'%s' is not base64", key);
    if (!memmem(pem, len, "-----BEGIN CERTIFICATE-----", 27)) {
        free(pem);
        return vouch_fail(eb, VOUCH_E_INVALID, "'%s' is not a PEM certificate chain", key);
    }
    d->chain = (char *)pem;
    d->chain_len = len;
    return VOUCH_OK;
}

/* One entry of trustee's device_evidence_list (or NVIDIA's array). */
static vouch_err parse_nvgpu_device(const json_t *o, struct vouch_nvgpu_device *d,
                                    struct vouch_errbuf *eb)
{
    const char *arch = NULL, *evidence = NULL, *cert = NULL;
    size_t alen = 0, elen = 0, clen = 0;
    vouch_err e;

    d->cc_enabled = true;
    d->report_key = "evidence";
    if (!json_is_object(o))
        return at(eb, vouch_fail(eb, VOUCH_E_INVALID, "%s is not an object", d->path), d,
                  NULL);
    if ((e = vouch_json_get_str(o, "arch", true, &arch, &alen, eb)))
        return at(eb, vouch_fail_prefix(eb, VOUCH_E_INVALID, "%s: ", d->path), d, "arch");
    if ((e = vouch_json_get_str(o, "evidence", true, &evidence, &elen, eb)))
        return at(eb, vouch_fail_prefix(eb, VOUCH_E_INVALID, "%s: ", d->path), d, "evidence");
    if ((e = vouch_json_get_str(o, "certificate", true, &cert, &clen, eb)))
        return at(eb, vouch_fail_prefix(eb, VOUCH_E_INVALID, "%s: ", d->path), d,
                  "certificate");
    if ((e = opt_str(o, "uuid", 256, &d->uuid, eb)))
        return at(eb, vouch_fail_prefix(eb, e, "%s: ", d->path), d, "uuid");
    d->arch = vouch_nvgpu_arch_parse(arch);
    if (d->arch == VOUCH_NVGPU_ARCH_UNKNOWN)
        return at(eb, vouch_fail(eb, VOUCH_E_UNSUPPORTED, "%s: arch '%.32s' is not a GPU we "
                                 "verify (HOPPER, BLACKWELL)", d->path, arch), d, "arch");
    if ((e = decode_report(evidence, elen, "evidence", d, eb)))
        return at(eb, vouch_fail_prefix(eb, e, "%s: ", d->path), d, "evidence");
    if ((e = decode_chain(cert, clen, "certificate", d, eb)))
        return at(eb, vouch_fail_prefix(eb, e, "%s: ", d->path), d, "certificate");
    return VOUCH_OK;
}

vouch_err vouch_nvgpu_evidence_from_json(const json_t *doc, struct vouch_nvgpu_evidence **ret,
                                         struct vouch_errbuf *eb)
{
    struct vouch_nvgpu_evidence *ev = NULL;
    const json_t *list = doc;
    const char *name = "";
    vouch_err e;
    size_t i;

    if (json_is_object(doc)) {
        name = "device_evidence_list";
        list = json_object_get(doc, name);
        if (!list)
            return vouch_fail_field(eb, VOUCH_E_INVALID, name, "'device_evidence_list' is "
                                    "required");
    }
    if (!json_is_array(list))
        return vouch_fail_field(eb, VOUCH_E_INVALID, name, "%s is not an array",
                                *name ? name : "the evidence");
    e = evidence_new(json_array_size(list), &ev, eb);
    if (e)
        return vouch_errbuf_set_field(eb, e, name);
    for (i = 0; i < ev->n; i++) {
        struct vouch_nvgpu_device *d = &ev->devices[i];

        d->index = (int64_t)i;
        snprintf(d->path, sizeof(d->path), "%s[%zu]", name, i);
        e = parse_nvgpu_device(json_array_get(list, i), d, eb);
        if (e) {
            vouch_nvgpu_evidence_free(ev);
            return e;
        }
    }
    *ret = ev;
    return VOUCH_OK;
}

vouch_err vouch_nvgpu_evidence_parse(const uint8_t *data, size_t len,
                                     struct vouch_nvgpu_evidence **ret, struct vouch_errbuf *eb)
{
    json_t *doc = NULL;
    vouch_err e;

    if (len > VOUCH_NVGPU_EVIDENCE_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "GPU evidence of %zu bytes", len);
    e = vouch_json_parse(data, len, &doc, eb);
    if (e)
        return e;
    e = vouch_nvgpu_evidence_from_json(doc, ret, eb);
    json_decref(doc);
    return e;
}

static vouch_err parse_tdx_gpu(const json_t *o, struct vouch_nvgpu_device *d,
                               struct vouch_errbuf *eb)
{
    static const char *const strs[] = { "uuid", "name", "driver_version", "vbios_version" };
    char **dst[] = { &d->uuid, &d->name, &d->driver_version, &d->vbios_version };
    const char *report = NULL, *cert = NULL;
    size_t rlen = 0, clen = 0, i;
    vouch_err e;

    d->report_key = "attestation_report";
    if (!json_is_object(o))
        return at(eb, vouch_fail(eb, VOUCH_E_INVALID, "%s is not an object", d->path), d,
                  NULL);
    if ((e = vouch_json_get_int(o, "index", false, &d->index, eb)))
        return at(eb, vouch_fail_prefix(eb, VOUCH_E_INVALID, "%s: ", d->path), d, "index");
    for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if ((e = opt_str(o, strs[i], 256, dst[i], eb)))
            return at(eb, vouch_fail_prefix(eb, e, "%s: ", d->path), d, strs[i]);
    if ((e = vouch_json_get_bool(o, "cc_enabled", false, &d->cc_enabled, eb)))
        return at(eb, vouch_fail_prefix(eb, VOUCH_E_INVALID, "%s: ", d->path), d,
                  "cc_enabled");
    if ((e = vouch_json_get_str(o, "attestation_report", false, &report, &rlen, eb)))
        return at(eb, vouch_fail_prefix(eb, VOUCH_E_INVALID, "%s: ", d->path), d,
                  "attestation_report");
    if ((e = vouch_json_get_str(o, "certificate", false, &cert, &clen, eb)))
        return at(eb, vouch_fail_prefix(eb, VOUCH_E_INVALID, "%s: ", d->path), d,
                  "certificate");
    if (report && (e = decode_report(report, rlen, "attestation_report", d, eb)))
        return at(eb, vouch_fail_prefix(eb, e, "%s: ", d->path), d, "attestation_report");
    if (cert && (e = decode_chain(cert, clen, "certificate", d, eb)))
        return at(eb, vouch_fail_prefix(eb, e, "%s: ", d->path), d, "certificate");
    return VOUCH_OK;
}

vouch_err vouch_nvgpu_evidence_from_gpu_evidence(const json_t *gpu_evidence,
                                                 struct vouch_nvgpu_evidence **ret,
                                                 struct vouch_errbuf *eb)
{
    struct vouch_nvgpu_evidence *ev = NULL;
    const json_t *list;
    vouch_err e;
    size_t i;

    if (!json_is_object(gpu_evidence))
        return vouch_fail_field(eb, VOUCH_E_INVALID, "gpu_evidence", "gpu_evidence is not an "
                                "object");
    list = json_object_get(gpu_evidence, "evidence_list");
    if (!json_is_array(list))
        return vouch_fail_field(eb, VOUCH_E_INVALID, "gpu_evidence.evidence_list",
                                "gpu_evidence.evidence_list is %s",
                                list ? "not an array" : "required");
    e = evidence_new(json_array_size(list), &ev, eb);
    if (e)
        return vouch_errbuf_set_field(eb, e, "gpu_evidence.evidence_list");
    for (i = 0; i < ev->n; i++) {
        struct vouch_nvgpu_device *d = &ev->devices[i];

        d->index = (int64_t)i;
        snprintf(d->path, sizeof(d->path), "gpu_evidence.evidence_list[%zu]", i);
        e = parse_tdx_gpu(json_array_get(list, i), d, eb);
        if (e) {
            vouch_nvgpu_evidence_free(ev);
            return e;
        }
    }
    *ret = ev;
    return VOUCH_OK;
}
