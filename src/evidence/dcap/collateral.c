/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Collateral documents: TCB Info (v2, v3), enclave identities, signed PCS
 * bodies, the TCB signing chain and CRLs.  Signatures are checked over the
 * exact bytes of the inner JSON object as delivered, never a
 * re-serialisation.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/codec.h"
#include "common/json.h"
#include "common/time.h"
#include "crypto/sig.h"
#include "crypto/x509.h"
#include "evidence/dcap/dcap.h"

#define DOC_MAX (1u << 20)
#define MAX_LEVELS 256
#define MAX_MODULE_IDS 32

static const char *const status_names[VOUCH_DCAP_STATUS__COUNT] = {
    [VOUCH_DCAP_UP_TO_DATE] = "UpToDate",
    [VOUCH_DCAP_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
    [VOUCH_DCAP_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
    [VOUCH_DCAP_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
    [VOUCH_DCAP_OUT_OF_DATE] = "OutOfDate",
    [VOUCH_DCAP_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
    [VOUCH_DCAP_TD_RELAUNCH_ADVISED] = "TDRelaunchAdvised",
    [VOUCH_DCAP_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED] = "TDRelaunchAdvisedConfigurationNeeded",
    [VOUCH_DCAP_REVOKED] = "Revoked",
};

const char *vouch_dcap_status_name(enum vouch_dcap_tcb_status s)
{
    if ((unsigned)s >= VOUCH_DCAP_STATUS__COUNT)
        return "?";
    return status_names[s];
}

/* -1 when not a TCB Info/QE Identity status string. */
static int vouch_dcap_status_parse(const char *s)
{
    int i;

    for (i = 0; i < VOUCH_DCAP_STATUS__COUNT; i++) {
        /* The relaunch statuses are verdicts, never document values. */
        if (i == VOUCH_DCAP_TD_RELAUNCH_ADVISED ||
            i == VOUCH_DCAP_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED)
            continue;
        if (strcmp(s, status_names[i]) == 0)
            return i;
    }
    return -1;
}

/* ---------------------------------------------------------------------- */
/* Finding the signed bytes inside a PCS body                              */

struct scan {
    const char *p, *end;
};

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' ||
                             *s->p == '\r'))
        s->p++;
}

static int skip_string(struct scan *s)
{
    if (s->p >= s->end || *s->p != '"')
        return -1;
    for (s->p++; s->p < s->end; s->p++) {
        if (*s->p == '\\') {
            s->p++;
            continue;
        }
        if (*s->p == '"') {
            s->p++;
            return 0;
        }
    }
    return -1;
}

/* Skip one value; the body was validated by jansson before, so brackets pair. */
static int skip_value(struct scan *s)
{
    int depth = 0;

    skip_ws(s);
    if (s->p >= s->end)
        return -1;
    if (*s->p == '"')
        return skip_string(s);
    if (*s->p != '{' && *s->p != '[') {
        while (s->p < s->end && !strchr(",}] \t\r\n", *s->p))
            s->p++;
        return 0;
    }
    while (s->p < s->end) {
        switch (*s->p) {
        case '"':
            if (skip_string(s))
                return -1;
            continue;
        case '{':
        case '[':
            depth++;
            break;
        case '}':
        case ']':
            if (--depth == 0) {
                s->p++;
                return 0;
            }
            break;
        default:
            break;
        }
        s->p++;
    }
    return -1;
}

vouch_err vouch_dcap_split_signed(const char *body, size_t len, const char *key,
                                  const char **ret_inner, size_t *ret_inner_len,
                                  const char **ret_sig_hex, size_t *ret_sig_len,
                                  struct vouch_errbuf *eb)
{
    const char *inner = NULL, *sig = NULL;
    size_t inner_len = 0, sig_len = 0, klen = strlen(key);
    struct scan s = { body, body + len };
    json_t *root = NULL;
    vouch_err e;

    e = vouch_json_parse(body, len, &root, eb);
    if (e)
        return e;
    if (!json_is_object(root)) {
        json_decref(root);
        return vouch_fail(eb, VOUCH_E_INVALID, "signed body is not a JSON object");
    }
    json_decref(root);
    skip_ws(&s);
    s.p++; /* '{' */
    for (;;) {
        const char *k, *v;
        size_t ktok;

        skip_ws(&s);
        if (s.p < s.end && *s.p == '}')
            break;
        k = s.p;
        if (skip_string(&s))
            goto bad;
        ktok = (size_t)(s.p - k);   /* the key with its quotes */
        skip_ws(&s);
        if (s.p >= s.end || *s.p != ':')
            goto bad;
        s.p++;
        skip_ws(&s);
        v = s.p;
        if (skip_value(&s))
            goto bad;
        if (ktok == klen + 2 && memcmp(k + 1, key, klen) == 0) {
            inner = v;
            inner_len = (size_t)(s.p - v);
        } else if (ktok == 11 && memcmp(k, "\"signature\"", 11) == 0 && *v == '"') {
            sig = v + 1;
            sig_len = (size_t)(s.p - v) - 2;
        }
        skip_ws(&s);
        if (s.p < s.end && *s.p == ',') {
            s.p++;
            continue;
        }
        break;
    }
    if (!inner || *inner != '{')
        return vouch_fail(eb, VOUCH_E_INVALID, "signed body has no \"%s\" object", key);
    if (!sig)
        return vouch_fail(eb, VOUCH_E_INVALID, "signed body has no \"signature\" string");
    *ret_inner = inner;
    *ret_inner_len = inner_len;
    *ret_sig_hex = sig;
    *ret_sig_len = sig_len;
    return VOUCH_OK;
bad:
    return vouch_fail(eb, VOUCH_E_INVALID, "signed body: cannot scan at offset %zu",
                      (size_t)(s.p - body));
}

/* ---------------------------------------------------------------------- */
/* Field helpers                                                            */

static vouch_err get_hex(const json_t *obj, const char *key, uint8_t *out, size_t n,
                         struct vouch_errbuf *eb)
{
    const char *s;
    size_t len;
    vouch_err e = vouch_json_get_str(obj, key, true, &s, &len, eb);

    if (e)
        return e;
    if (vouch_hex_decode_exact(s, len, out, n, eb))
        return vouch_fail(eb, VOUCH_E_INVALID, "\"%s\": expected %zu hex characters", key,
                          2 * n);
    return VOUCH_OK;
}

static vouch_err get_date(const json_t *obj, const char *key, int64_t *ret,
                          struct vouch_errbuf *eb)
{
    const char *s;
    size_t len;
    vouch_err e = vouch_json_get_str(obj, key, true, &s, &len, eb);

    if (e)
        return e;
    if (vouch_time_parse_rfc3339(s, len, ret, NULL, eb))
        return vouch_fail(eb, VOUCH_E_INVALID, "\"%s\": not an RFC 3339 date", key);
    return VOUCH_OK;
}

static vouch_err get_uint(const json_t *obj, const char *key, int64_t max, int64_t *ret,
                          struct vouch_errbuf *eb)
{
    int64_t v;
    vouch_err e = vouch_json_get_int(obj, key, true, &v, eb);

    if (e)
        return e;
    if (v < 0 || v > max)
        return vouch_fail(eb, VOUCH_E_INVALID, "\"%s\": %lld out of range", key,
                          (long long)v);
    *ret = v;
    return VOUCH_OK;
}

static vouch_err get_status(const json_t *obj, enum vouch_dcap_tcb_status *ret,
                            struct vouch_errbuf *eb)
{
    const char *s;
    size_t len;
    int st;
    vouch_err e = vouch_json_get_str(obj, "tcbStatus", true, &s, &len, eb);

    if (e)
        return e;
    st = vouch_dcap_status_parse(s);
    if (st < 0)
        return vouch_fail(eb, VOUCH_E_INVALID, "unknown tcbStatus \"%s\"", s);
    *ret = (enum vouch_dcap_tcb_status)st;
    return VOUCH_OK;
}

static vouch_err get_advisories(json_t *obj, json_t **ret, struct vouch_errbuf *eb)
{
    json_t *a = NULL, *v;
    size_t i;
    vouch_err e = vouch_json_get_array(obj, "advisoryIDs", false, &a, eb);

    if (e)
        return e;
    if (a)
        json_array_foreach(a, i, v)
            if (!json_is_string(v))
                return vouch_fail(eb, VOUCH_E_INVALID, "advisoryIDs[%zu] is not a string",
                                  i);
    *ret = a;
    return VOUCH_OK;
}

static vouch_err get_sig(const char *hex, size_t len, uint8_t out[64],
                         struct vouch_errbuf *eb)
{
    if (!hex || vouch_hex_decode_exact(hex, len, out, 64, eb))
        return vouch_fail(eb, VOUCH_E_INVALID, "signature is not 128 hex characters");
    return VOUCH_OK;
}

/*
 * What TCB info and enclave identity documents share: the size cap, the
 * signature (128 hex characters), a private NUL-terminated copy of the
 * signed bytes and their parse, which must be a JSON object.
 */
static vouch_err open_signed_doc(const char *inner, size_t len, const char *sig_hex,
                                 size_t sig_len, uint8_t ret_sig[64], char **ret_body,
                                 size_t *ret_body_len, json_t **ret_json,
                                 struct vouch_errbuf *eb)
{
    vouch_err e;

    if (len > DOC_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "%zu bytes", len);
    if ((e = get_sig(sig_hex, sig_len, ret_sig, eb)))
        return e;
    *ret_body = malloc(len + 1);
    if (!*ret_body)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    memcpy(*ret_body, inner, len);
    (*ret_body)[len] = '\0';
    *ret_body_len = len;
    if ((e = vouch_json_parse(inner, len, ret_json, eb)))
        return e;
    if (!json_is_object(*ret_json))
        return vouch_fail(eb, VOUCH_E_INVALID, "not a JSON object");
    return VOUCH_OK;
}

/* "issueDate" and "nextUpdate". */
static vouch_err get_dates(const json_t *obj, int64_t *ret_issue, int64_t *ret_next,
                           struct vouch_errbuf *eb)
{
    vouch_err e;

    if ((e = get_date(obj, "issueDate", ret_issue, eb)) ||
        (e = get_date(obj, "nextUpdate", ret_next, eb)))
        return e;
    return VOUCH_OK;
}

/* The signature over the exact signed bytes. */
static vouch_err check_body_sig(const char *body, size_t len, const uint8_t sig[64],
                                const char *step, EVP_PKEY *key, struct vouch_errbuf *eb)
{
    vouch_err e = vouch_ecdsa_verify_raw(key, VOUCH_HASH_SHA256, body, len, sig, 64, eb);

    return e ? vouch_fail_prefix(eb, e, "%s: ", step) : VOUCH_OK;
}

/* Identity-style levels: [{tcb:{isvsvn}, tcbDate, tcbStatus, advisoryIDs?}]. */
static int cmp_id_level(const void *a, const void *b)
{
    const struct vouch_dcap_id_level *x = a, *y = b;

    return (int)y->isvsvn - (int)x->isvsvn;
}

static vouch_err parse_id_levels(json_t *obj, struct vouch_dcap_id_level **ret,
                                 size_t *ret_n, struct vouch_errbuf *eb)
{
    struct vouch_dcap_id_level *lv = NULL;
    json_t *arr, *item, *tcb;
    size_t i, n;
    int64_t v;
    vouch_err e;

    e = vouch_json_get_array(obj, "tcbLevels", true, &arr, eb);
    if (e)
        return e;
    n = json_array_size(arr);
    if (n == 0 || n > MAX_LEVELS)
        return vouch_fail(eb, VOUCH_E_INVALID, "tcbLevels: %zu entries", n);
    lv = calloc(n, sizeof(*lv));
    if (!lv)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    json_array_foreach(arr, i, item) {
        if (!json_is_object(item)) {
            e = vouch_fail(eb, VOUCH_E_INVALID, "tcbLevels[%zu] is not an object", i);
            goto out;
        }
        if ((e = vouch_json_get_obj(item, "tcb", true, &tcb, eb)) ||
            (e = get_uint(tcb, "isvsvn", 65535, &v, eb)) ||
            (e = get_date(item, "tcbDate", &lv[i].tcb_date, eb)) ||
            (e = get_status(item, &lv[i].status, eb)) ||
            (e = get_advisories(item, &lv[i].advisory_ids, eb))) {
            vouch_fail_prefix(eb, e, "tcbLevels[%zu]: ", i);
            goto out;
        }
        lv[i].isvsvn = (uint16_t)v;
    }
    qsort(lv, n, sizeof(*lv), cmp_id_level);
    *ret = lv;
    *ret_n = n;
    lv = NULL;
out:
    free(lv);
    return e;
}

/* ---------------------------------------------------------------------- */
/* TCB Info                                                                 */

void vouch_dcap_tcb_info_free(struct vouch_dcap_tcb_info *ti)
{
    size_t i;

    if (!ti)
        return;
    for (i = 0; i < ti->n_module_ids; i++)
        free(ti->module_ids[i].levels);
    free(ti->module_ids);
    free(ti->tdx_module.levels);
    free(ti->levels);
    free(ti->body);
    json_decref(ti->json);
    free(ti);
}

static int cmp_tcb_level(const void *a, const void *b)
{
    const struct vouch_dcap_tcb_level *x = a, *y = b;
    int c = memcmp(y->sgx_svn, x->sgx_svn, sizeof(x->sgx_svn));

    if (c)
        return c;
    if (x->pce_svn != y->pce_svn)
        return (int)y->pce_svn - (int)x->pce_svn;
    return memcmp(y->tdx_svn, x->tdx_svn, sizeof(x->tdx_svn));
}

static vouch_err parse_components(json_t *tcb, const char *key, uint8_t out[16],
                                  struct vouch_errbuf *eb)
{
    json_t *arr, *c;
    size_t i;
    int64_t v;
    vouch_err e = vouch_json_get_array(tcb, key, true, &arr, eb);

    if (e)
        return e;
    if (json_array_size(arr) != 16)
        return vouch_fail(eb, VOUCH_E_INVALID, "%s: %zu components, expected 16", key,
                          json_array_size(arr));
    json_array_foreach(arr, i, c) {
        if (!json_is_object(c))
            return vouch_fail(eb, VOUCH_E_INVALID, "%s[%zu] is not an object", key, i);
        if ((e = get_uint(c, "svn", 255, &v, eb)))
            return vouch_fail_prefix(eb, e, "%s[%zu]: ", key, i);
        out[i] = (uint8_t)v;
    }
    return VOUCH_OK;
}

static vouch_err parse_tcb_levels(struct vouch_dcap_tcb_info *ti, struct vouch_errbuf *eb)
{
    json_t *arr, *item, *tcb;
    size_t i, n;
    int64_t v;
    vouch_err e;

    e = vouch_json_get_array(ti->json, "tcbLevels", true, &arr, eb);
    if (e)
        return e;
    n = json_array_size(arr);
    if (n == 0 || n > MAX_LEVELS)
        return vouch_fail(eb, VOUCH_E_INVALID, "tcbLevels: %zu entries", n);
    ti->levels = calloc(n, sizeof(*ti->levels));
    if (!ti->levels)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    json_array_foreach(arr, i, item) {
        struct vouch_dcap_tcb_level *l = &ti->levels[i];

        if (!json_is_object(item))
            return vouch_fail(eb, VOUCH_E_INVALID, "tcbLevels[%zu] is not an object", i);
        if ((e = vouch_json_get_obj(item, "tcb", true, &tcb, eb)))
            goto fail;
        if (ti->version == 2) {
            char key[32];
            int c;

            for (c = 0; c < 16; c++) {
                snprintf(key, sizeof(key), "sgxtcbcomp%02dsvn", c + 1);
                if ((e = get_uint(tcb, key, 255, &v, eb)))
                    goto fail;
                l->sgx_svn[c] = (uint8_t)v;
            }
        } else {
            if ((e = parse_components(tcb, "sgxtcbcomponents", l->sgx_svn, eb)))
                goto fail;
            if (ti->tee == VOUCH_DCAP_TEE_TDX &&
                (e = parse_components(tcb, "tdxtcbcomponents", l->tdx_svn, eb)))
                goto fail;
        }
        if ((e = get_uint(tcb, "pcesvn", 65535, &v, eb)))
            goto fail;
        l->pce_svn = (uint16_t)v;
        if ((e = get_date(item, "tcbDate", &l->tcb_date, eb)) ||
            (e = get_status(item, &l->status, eb)) ||
            (e = get_advisories(item, &l->advisory_ids, eb)))
            goto fail;
        ti->n_levels++;
        continue;
fail:
        return vouch_fail_prefix(eb, e, "tcbLevels[%zu]: ", i);
    }
    qsort(ti->levels, n, sizeof(*ti->levels), cmp_tcb_level);
    for (i = 1; i < n; i++)
        if (cmp_tcb_level(&ti->levels[i - 1], &ti->levels[i]) == 0)
            return vouch_fail(eb, VOUCH_E_INVALID, "tcbLevels: duplicate TCB level");
    return VOUCH_OK;
}

static vouch_err parse_module(json_t *obj, struct vouch_dcap_tdx_module *m, bool levels,
                              struct vouch_errbuf *eb)
{
    vouch_err e;

    if ((e = get_hex(obj, "mrsigner", m->mrsigner, 48, eb)) ||
        (e = get_hex(obj, "attributes", m->attributes, 8, eb)) ||
        (e = get_hex(obj, "attributesMask", m->attributes_mask, 8, eb)))
        return e;
    if (levels) {
        const char *id;
        size_t len;

        if ((e = vouch_json_get_str(obj, "id", true, &id, &len, eb)))
            return e;
        if (len == 0 || len >= sizeof(m->id))
            return vouch_fail(eb, VOUCH_E_INVALID, "id: \"%s\" is not a module id", id);
        memcpy(m->id, id, len + 1);
        if ((e = parse_id_levels(obj, &m->levels, &m->n_levels, eb)))
            return e;
        for (size_t i = 0; i < m->n_levels; i++) {
            enum vouch_dcap_tcb_status s = m->levels[i].status;

            if (s != VOUCH_DCAP_UP_TO_DATE && s != VOUCH_DCAP_OUT_OF_DATE &&
                s != VOUCH_DCAP_REVOKED)
                return vouch_fail(eb, VOUCH_E_INVALID, "tcbLevels: status %s is not valid "
                                  "for a TDX module", vouch_dcap_status_name(s));
        }
    }
    return VOUCH_OK;
}

/* TCB info "version" (2 or 3) and, for version 3, "id": the TEE. */
static vouch_err parse_tcb_version(struct vouch_dcap_tcb_info *ti, struct vouch_errbuf *eb)
{
    const char *id;
    size_t idlen;
    int64_t v;
    vouch_err e;

    if ((e = get_uint(ti->json, "version", 1000, &v, eb)))
        return e;
    ti->version = (int)v;
    if (v != 2 && v != 3)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "version %d (2 and 3 are supported)",
                          ti->version);
    ti->tee = VOUCH_DCAP_TEE_SGX;
    if (v == 2)
        return VOUCH_OK;
    if ((e = vouch_json_get_str(ti->json, "id", true, &id, &idlen, eb)))
        return e;
    if (strcmp(id, "TDX") == 0)
        ti->tee = VOUCH_DCAP_TEE_TDX;
    else if (strcmp(id, "SGX") != 0)
        return vouch_fail(eb, VOUCH_E_INVALID, "id \"%s\" is neither SGX nor TDX", id);
    return VOUCH_OK;
}

/* "tdxModuleIdentities": one module identity per TDX module major version. */
static vouch_err parse_module_ids(struct vouch_dcap_tcb_info *ti, json_t *mods,
                                  struct vouch_errbuf *eb)
{
    json_t *m;
    size_t i;
    vouch_err e;

    if (json_array_size(mods) > MAX_MODULE_IDS)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "tdxModuleIdentities: %zu entries",
                          json_array_size(mods));
    ti->module_ids = calloc(json_array_size(mods) + 1, sizeof(*ti->module_ids));
    if (!ti->module_ids)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    json_array_foreach(mods, i, m) {
        if (!json_is_object(m))
            return vouch_fail(eb, VOUCH_E_INVALID, "tdxModuleIdentities[%zu] is not an object",
                              i);
        ti->n_module_ids++;
        if ((e = parse_module(m, &ti->module_ids[i], true, eb)))
            return vouch_fail_prefix(eb, e, "tdxModuleIdentities[%zu]: ", i);
    }
    return VOUCH_OK;
}

/* "tdxModule" and "tdxModuleIdentities": required for TDX, absent for SGX. */
static vouch_err parse_tdx_modules(struct vouch_dcap_tcb_info *ti, struct vouch_errbuf *eb)
{
    json_t *mod = NULL, *mods = NULL;
    vouch_err e;

    if ((e = vouch_json_get_obj(ti->json, "tdxModule", false, &mod, eb)) ||
        (e = vouch_json_get_array(ti->json, "tdxModuleIdentities", false, &mods, eb)))
        return e;
    if (ti->tee != VOUCH_DCAP_TEE_TDX) {
        if (mod || mods)
            return vouch_fail(eb, VOUCH_E_INVALID, "SGX TCB info with TDX module identities");
        return VOUCH_OK;
    }
    if (!mod)
        return vouch_fail(eb, VOUCH_E_INVALID, "TDX TCB info without tdxModule");
    if ((e = parse_module(mod, &ti->tdx_module, false, eb)))
        return vouch_fail_prefix(eb, e, "tdxModule: ");
    ti->has_tdx_module = true;
    return mods ? parse_module_ids(ti, mods, eb) : VOUCH_OK;
}

vouch_err vouch_dcap_tcb_info_parse(const char *inner, size_t len, const char *sig_hex,
                                    size_t sig_len, struct vouch_dcap_tcb_info **ret,
                                    struct vouch_errbuf *eb)
{
    struct vouch_dcap_tcb_info *ti;
    int64_t v;
    vouch_err e;

    ti = calloc(1, sizeof(*ti));
    if (!ti)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if ((e = open_signed_doc(inner, len, sig_hex, sig_len, ti->signature, &ti->body,
                             &ti->body_len, &ti->json, eb)) ||
        (e = parse_tcb_version(ti, eb)) ||
        (e = get_dates(ti->json, &ti->issue_date, &ti->next_update, eb)) ||
        (e = get_hex(ti->json, "fmspc", ti->fmspc, sizeof(ti->fmspc), eb)) ||
        (e = get_hex(ti->json, "pceId", ti->pce_id, sizeof(ti->pce_id), eb)) ||
        (e = get_uint(ti->json, "tcbType", 1000, &v, eb)))
        goto out;
    ti->tcb_type = (int)v;
    if (v != 0) {
        e = vouch_fail(eb, VOUCH_E_UNSUPPORTED, "tcbType %d (only 0 is defined)",
                       ti->tcb_type);
        goto out;
    }
    if ((e = get_uint(ti->json, "tcbEvaluationDataNumber", INT32_MAX, &ti->eval_num, eb)) ||
        (e = parse_tdx_modules(ti, eb)))
        goto out;
    e = parse_tcb_levels(ti, eb);
out:
    if (e) {
        vouch_dcap_tcb_info_free(ti);
        return vouch_fail_prefix(eb, e, "tcb info: ");
    }
    *ret = ti;
    return VOUCH_OK;
}

/* ---------------------------------------------------------------------- */
/* Enclave identity                                                        */

void vouch_dcap_qe_identity_free(struct vouch_dcap_qe_identity *qi)
{
    if (!qi)
        return;
    free(qi->levels);
    free(qi->body);
    json_decref(qi->json);
    free(qi);
}

vouch_err vouch_dcap_qe_identity_parse(const char *inner, size_t len, const char *sig_hex,
                                       size_t sig_len, struct vouch_dcap_qe_identity **ret,
                                       struct vouch_errbuf *eb)
{
    struct vouch_dcap_qe_identity *qi;
    const char *id;
    size_t idlen;
    int64_t v;
    vouch_err e;

    qi = calloc(1, sizeof(*qi));
    if (!qi)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if ((e = open_signed_doc(inner, len, sig_hex, sig_len, qi->signature, &qi->body,
                             &qi->body_len, &qi->json, eb)) ||
        (e = vouch_json_get_str(qi->json, "id", true, &id, &idlen, eb)))
        goto out;
    if (strcmp(id, "QE") && strcmp(id, "TD_QE") && strcmp(id, "QVE") && strcmp(id, "QAE")) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "id \"%s\" is not QE, TD_QE, QVE or QAE", id);
        goto out;
    }
    memcpy(qi->id, id, idlen + 1);
    if ((e = get_uint(qi->json, "version", 1000, &v, eb)))
        goto out;
    qi->version = (int)v;
    if (v != 2) {
        e = vouch_fail(eb, VOUCH_E_UNSUPPORTED, "version %d (only 2 is supported)",
                       qi->version);
        goto out;
    }
    if ((e = get_dates(qi->json, &qi->issue_date, &qi->next_update, eb)) ||
        (e = get_uint(qi->json, "tcbEvaluationDataNumber", INT32_MAX, &qi->eval_num, eb)) ||
        (e = get_hex(qi->json, "miscselect", qi->miscselect, sizeof(qi->miscselect), eb)) ||
        (e = get_hex(qi->json, "miscselectMask", qi->miscselect_mask,
                     sizeof(qi->miscselect_mask), eb)) ||
        (e = get_hex(qi->json, "attributes", qi->attributes, sizeof(qi->attributes), eb)) ||
        (e = get_hex(qi->json, "attributesMask", qi->attributes_mask,
                     sizeof(qi->attributes_mask), eb)) ||
        (e = get_hex(qi->json, "mrsigner", qi->mrsigner, sizeof(qi->mrsigner), eb)) ||
        (e = get_uint(qi->json, "isvprodid", 65535, &v, eb)))
        goto out;
    qi->isvprodid = (uint16_t)v;
    e = parse_id_levels(qi->json, &qi->levels, &qi->n_levels, eb);
out:
    if (e) {
        vouch_dcap_qe_identity_free(qi);
        return vouch_fail_prefix(eb, e, "qe identity: ");
    }
    *ret = qi;
    return VOUCH_OK;
}

/* ---------------------------------------------------------------------- */
/* Signatures, chains, CRLs                                                */

vouch_err vouch_dcap_tcb_info_verify_sig(const struct vouch_dcap_tcb_info *ti,
                                         EVP_PKEY *key, struct vouch_errbuf *eb)
{
    return check_body_sig(ti->body, ti->body_len, ti->signature, "tcb info", key, eb);
}

vouch_err vouch_dcap_qe_identity_verify_sig(const struct vouch_dcap_qe_identity *qi,
                                            EVP_PKEY *key, struct vouch_errbuf *eb)
{
    return check_body_sig(qi->body, qi->body_len, qi->signature, "qe identity", key, eb);
}

static void window_add(struct vouch_dcap_window *w, int64_t nb, int64_t na)
{
    if (nb > w->not_before)
        w->not_before = nb;
    if (na < w->not_after)
        w->not_after = na;
    if (nb < w->first_issue)
        w->first_issue = nb;
}

static bool self_issued(X509 *x)
{
    return X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0;
}

vouch_err vouch_dcap_signing_chain_verify(const char *pem, size_t len, X509 *root,
                                          X509_CRL *root_crl, EVP_PKEY **ret_key,
                                          struct vouch_dcap_window *ret_window,
                                          struct vouch_errbuf *eb)
{
    struct vouch_dcap_window w = { INT64_MIN, INT64_MAX, INT64_MAX };
    STACK_OF(X509) *sk = NULL;
    X509 *signer = NULL;
    X509_REVOKED *rev;
    EVP_PKEY *rootkey, *key;
    int64_t nb, na;
    char cn[256];
    vouch_err e;
    int i;

    e = vouch_x509_parse_pem_chain(pem, len, 4, &sk, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "issuer chain: ");
    for (i = 0; i < sk_X509_num(sk); i++) {
        X509 *x = sk_X509_value(sk, i);

        if (X509_cmp(x, root) == 0)
            continue;
        if (self_issued(x)) {
            e = vouch_fail(eb, VOUCH_E_VERIFY, "issuer chain: root is not the trusted root");
            goto out;
        }
        if (signer) {
            e = vouch_fail(eb, VOUCH_E_INVALID, "issuer chain: more than one signing "
                           "certificate");
            goto out;
        }
        signer = x;
    }
    if (!signer) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "issuer chain: no TCB signing certificate");
        goto out;
    }
    cn[0] = '\0';
    X509_NAME_get_text_by_NID(X509_get_subject_name(signer), NID_commonName, cn,
                              sizeof(cn));
    if (!strstr(cn, "TCB Signing")) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "issuer chain: '%s' is not a TCB signing "
                       "certificate", cn);
        goto out;
    }
    rootkey = X509_get0_pubkey(root);
    if (X509_NAME_cmp(X509_get_issuer_name(signer), X509_get_subject_name(root)) != 0 ||
        !rootkey || X509_verify(signer, rootkey) != 1) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "issuer chain: '%s' is not signed by the "
                       "trusted root", cn);
        goto out;
    }
    if (root_crl && X509_CRL_get0_by_cert(root_crl, &rev, signer) == 1) {
        e = vouch_fail(eb, VOUCH_E_REVOKED, "issuer chain: '%s' is revoked by the root CA "
                       "CRL", cn);
        goto out;
    }
    if (vouch_x509_validity(signer, &nb, &na) == VOUCH_OK)
        window_add(&w, nb, na);
    if (vouch_x509_validity(root, &nb, &na) == VOUCH_OK)
        window_add(&w, nb, na);
    key = X509_get_pubkey(signer);
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
        EVP_PKEY_free(key);
        e = vouch_fail(eb, VOUCH_E_INVALID, "issuer chain: signing key is not EC");
        goto out;
    }
    *ret_key = key;
    *ret_window = w;
out:
    ERR_clear_error();
    sk_X509_pop_free(sk, X509_free);
    return e;
}

vouch_err vouch_dcap_crl_verify(const uint8_t *data, size_t len, X509 *issuer,
                                X509_CRL **ret, struct vouch_dcap_window *ret_window,
                                int64_t *ret_crl_num, struct vouch_errbuf *eb)
{
    struct vouch_dcap_window w;
    X509_CRL *crl = NULL;
    ASN1_INTEGER *num;
    EVP_PKEY *key;
    int64_t n = -1;
    vouch_err e;

    e = vouch_crl_parse(data, len, &crl, eb);
    if (e)
        return e;
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) {
        char subj[256];

        vouch_x509_subject(issuer, subj, sizeof(subj));
        e = vouch_fail(eb, VOUCH_E_VERIFY, "CRL issuer is not '%s'", subj);
        goto out;
    }
    key = X509_get0_pubkey(issuer);
    if (!key || X509_CRL_verify(crl, key) != 1) {
        e = vouch_fail(eb, VOUCH_E_VERIFY, "CRL signature does not verify");
        goto out;
    }
    if (vouch_asn1_time_to_unix(X509_CRL_get0_lastUpdate(crl), &w.not_before) ||
        vouch_asn1_time_to_unix(X509_CRL_get0_nextUpdate(crl), &w.not_after)) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "CRL lacks thisUpdate or nextUpdate");
        goto out;
    }
    w.first_issue = w.not_before;
    num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
    if (num) {
        int64_t v;

        if (ASN1_INTEGER_get_int64(&v, num) == 1)
            n = v;
        ASN1_INTEGER_free(num);
    }
    *ret = crl;
    crl = NULL;
    *ret_window = w;
    *ret_crl_num = n;
out:
    ERR_clear_error();
    X509_CRL_free(crl);
    return e;
}
