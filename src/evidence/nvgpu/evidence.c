/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
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
        return vouch_fail(eb, VOUCH_E_INVALID, "%s: longer than %zu or contains NUL", key, max);
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

/* The report: hex (older trustee/NVIDIA files) or standard base64. */
static vouch_err decode_report(const char *s, size_t n, const char *key,
                               struct vouch_nvgpu_device *d, struct vouch_errbuf *eb)
{
    vouch_err e;

    if (n > REPORT_TEXT_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "%s: %zu characters", key, n);
    if (all_hex(s, n))
        e = vouch_hex_decode(s, n, VOUCH_NVGPU_REPORT_MAX, &d->report, &d->report_len, eb);
    else
        e = vouch_b64_decode(s, n, VOUCH_B64_STD | VOUCH_B64_PAD_OPTIONAL,
                             VOUCH_NVGPU_REPORT_MAX, &d->report, &d->report_len, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "%s: neither hex nor base64: ", key);
    return VOUCH_OK;
}

/* The certificate chain: base64 of concatenated PEM certificates. */
static vouch_err decode_chain(const char *s, size_t n, const char *key,
                              struct vouch_nvgpu_device *d, struct vouch_errbuf *eb)
{
    uint8_t *pem = NULL;
    size_t len = 0;
    vouch_err e;

    if (n > CERT_B64_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "%s: %zu characters", key, n);
    e = vouch_b64_decode(s, n, VOUCH_B64_STD | VOUCH_B64_PAD_OPTIONAL, VOUCH_NVGPU_CHAIN_MAX,
                         &pem, &len, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "%s: ", key);
    if (!memmem(pem, len, "-----BEGIN CERTIFICATE-----", 27)) {
        free(pem);
        return vouch_fail(eb, VOUCH_E_INVALID, "%s: not a PEM certificate chain", key);
    }
    d->chain = (char *)pem;
    d->chain_len = len;
    return VOUCH_OK;
}

/* One entry of trustee's device_evidence_list (or NVIDIA's array). */
static vouch_err parse_nvgpu_device(const json_t *o, size_t i, struct vouch_nvgpu_device *d,
                                    struct vouch_errbuf *eb)
{
    const char *arch = NULL, *evidence = NULL, *cert = NULL;
    size_t alen = 0, elen = 0, clen = 0;
    vouch_err e;

    if (!json_is_object(o))
        return vouch_fail(eb, VOUCH_E_INVALID, "device %zu: not an object", i);
    d->index = (int64_t)i;
    d->cc_enabled = true;
    if ((e = vouch_json_get_str(o, "arch", true, &arch, &alen, eb)) ||
        (e = vouch_json_get_str(o, "evidence", true, &evidence, &elen, eb)) ||
        (e = vouch_json_get_str(o, "certificate", true, &cert, &clen, eb)) ||
        (e = opt_str(o, "uuid", 256, &d->uuid, eb)))
        return vouch_fail_prefix(eb, e, "device %zu: ", i);
    d->arch = vouch_nvgpu_arch_parse(arch);
    if (d->arch == VOUCH_NVGPU_ARCH_UNKNOWN)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "device %zu: arch '%.32s' is not a GPU we "
                          "verify (HOPPER, BLACKWELL)", i, arch);
    if ((e = decode_report(evidence, elen, "evidence", d, eb)) ||
        (e = decode_chain(cert, clen, "certificate", d, eb)))
        return vouch_fail_prefix(eb, e, "device %zu: ", i);
    return VOUCH_OK;
}

vouch_err vouch_nvgpu_evidence_from_json(const json_t *doc, struct vouch_nvgpu_evidence **ret,
                                         struct vouch_errbuf *eb)
{
    struct vouch_nvgpu_evidence *ev = NULL;
    const json_t *list = doc;
    vouch_err e;
    size_t i;

    if (json_is_object(doc)) {
        list = json_object_get(doc, "device_evidence_list");
        if (!list)
            return vouch_fail(eb, VOUCH_E_INVALID, "no device_evidence_list");
    }
    if (!json_is_array(list))
        return vouch_fail(eb, VOUCH_E_INVALID, "device_evidence_list is not an array");
    e = evidence_new(json_array_size(list), &ev, eb);
    if (e)
        return e;
    for (i = 0; i < ev->n; i++) {
        e = parse_nvgpu_device(json_array_get(list, i), i, &ev->devices[i], eb);
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

static vouch_err parse_tdx_gpu(const json_t *o, size_t i, struct vouch_nvgpu_device *d,
                               struct vouch_errbuf *eb)
{
    const char *report = NULL, *cert = NULL;
    size_t rlen = 0, clen = 0;
    vouch_err e;

    if (!json_is_object(o))
        return vouch_fail(eb, VOUCH_E_INVALID, "evidence_list[%zu]: not an object", i);
    d->index = (int64_t)i;
    if ((e = vouch_json_get_int(o, "index", false, &d->index, eb)) ||
        (e = opt_str(o, "uuid", 256, &d->uuid, eb)) ||
        (e = opt_str(o, "name", 256, &d->name, eb)) ||
        (e = opt_str(o, "driver_version", 64, &d->driver_version, eb)) ||
        (e = opt_str(o, "vbios_version", 64, &d->vbios_version, eb)) ||
        (e = vouch_json_get_bool(o, "cc_enabled", false, &d->cc_enabled, eb)) ||
        (e = vouch_json_get_str(o, "attestation_report", false, &report, &rlen, eb)) ||
        (e = vouch_json_get_str(o, "certificate", false, &cert, &clen, eb)))
        return vouch_fail_prefix(eb, e, "evidence_list[%zu]: ", i);
    if ((report && (e = decode_report(report, rlen, "attestation_report", d, eb))) ||
        (cert && (e = decode_chain(cert, clen, "certificate", d, eb))))
        return vouch_fail_prefix(eb, e, "evidence_list[%zu]: ", i);
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
        return vouch_fail(eb, VOUCH_E_INVALID, "gpu_evidence is not an object");
    list = json_object_get(gpu_evidence, "evidence_list");
    if (!json_is_array(list))
        return vouch_fail(eb, VOUCH_E_INVALID, "gpu_evidence.evidence_list is not an array");
    e = evidence_new(json_array_size(list), &ev, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "gpu_evidence: ");
    for (i = 0; i < ev->n; i++) {
        e = parse_tdx_gpu(json_array_get(list, i), i, &ev->devices[i], eb);
        if (e) {
            vouch_nvgpu_evidence_free(ev);
            return vouch_fail_prefix(eb, e, "gpu_evidence.");
        }
    }
    *ret = ev;
    return VOUCH_OK;
}
