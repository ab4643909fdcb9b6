/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vTPM service's actions (API version 2020-06-13), on the store's
 * instances.  Every action works only on instances of the calling
 * account: another account's PropertyUuid answers Forbidden.NotOwner.
 * Verdict fields read "not evaluated" until reports exist.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/codec.h"
#include "common/json.h"
#include "server/vtpm.h"
#include "store/store.h"

#define STATUS_NOT_EVALUATED VOUCH_VTPM_NOT_EVALUATED
#define NO_WHITELIST VOUCH_VTPM_NO_WHITELIST

/* A report nonce's lifetime. */
#define NONCE_LIFETIME_MS (5 * 60 * 1000LL)
#define NONCE_BYTES 32

#define PAGE_SIZE_DEFAULT 10
#define PAGE_SIZE_MAX 100
#define UNREGISTER_MAX 100

const char *vouch_vtpm_status_code(int64_t status)
{
    static const char *const codes[] = { "", "TrustedStatus", "UntrustedStatus",
                                         "UnmeasuredStatus", "NotEvaluatedStatus" };

    return status >= 1 && status <= 4 ? codes[status] : "NotEvaluatedStatus";
}

const char *vouch_vtpm_param_str(struct vouch_vtpm_call *c, const char *name, bool required,
                                 size_t max, bool *ret_ok)
{
    const char *v = vouch_rpc_param(c->params, name);

    *ret_ok = true;
    if (!v || !*v) {
        if (required) {
            *ret_ok = false;
            vouch_vtpm_fail(c, VOUCH_RPC_MISSING_PARAMETER, "(%s)", name);
        }
        return NULL;
    }
    if (strlen(v) > max) {
        *ret_ok = false;
        vouch_vtpm_fail(c, VOUCH_RPC_INVALID_PARAMETER, "(%s is longer than %zu bytes)", name,
                        max);
        return NULL;
    }
    return v;
}

bool vouch_vtpm_param_int(struct vouch_vtpm_call *c, const char *name, int64_t min,
                          int64_t max, int64_t dflt, int64_t *ret)
{
    const char *v = vouch_rpc_param(c->params, name);
    char *end = NULL;
    long long n;

    if (!v || !*v) {
        *ret = dflt;
        return true;
    }
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno || *end || end == v || v[0] == ' ' || v[0] == '+' || n < min || n > max) {
        vouch_vtpm_fail(c, VOUCH_RPC_INVALID_PARAMETER, "(%s must be an integer from %lld to "
                        "%lld)", name, (long long)min, (long long)max);
        return false;
    }
    *ret = n;
    return true;
}

/*
 * A list action's page number.  DescribeEvents names it CurrentPage and the
 * other lists PageNumber, as the SDKs do; the other spelling is taken too, so
 * a caller who mixes them up gets the page asked for, not page 1 again.  Both
 * given with different values is an InvalidParameter.
 */
bool vouch_vtpm_param_page(struct vouch_vtpm_call *c, const char *name, int64_t *ret)
{
    const char *other = strcmp(name, "CurrentPage") == 0 ? "PageNumber" : "CurrentPage";
    const char *v = vouch_rpc_param(c->params, name), *w = vouch_rpc_param(c->params, other);
    int64_t page = 1, alt = 1;

    if (!vouch_vtpm_param_int(c, name, 1, INT32_MAX, 1, &page) ||
        !vouch_vtpm_param_int(c, other, 1, INT32_MAX, 1, &alt))
        return false;
    if (v && *v && w && *w && page != alt) {
        vouch_vtpm_fail(c, VOUCH_RPC_INVALID_PARAMETER, "(%s and %s differ; this action's "
                        "page number is %s)", name, other, name);
        return false;
    }
    *ret = v && *v ? page : alt;
    return true;
}

bool vouch_vtpm_own_instance(struct vouch_vtpm_call *c, const char *uuid,
                             struct vouch_store_instance **ret)
{
    struct vouch_store_instance *in = NULL;
    struct vouch_errbuf eb;
    vouch_err e = vouch_store_instance_get(c->app->store, uuid, &in, &eb);

    if (e == VOUCH_E_NOT_FOUND || e == VOUCH_E_INVALID) {
        vouch_vtpm_fail(c, VOUCH_RPC_INSTANCE_NOT_FOUND, "(%.128s)", uuid);
        return false;
    }
    if (e) {
        vouch_vtpm_fail(c, vouch_rpc_error_of(e), "%s", "");
        return false;
    }
    if (strcmp(in->account, c->account) != 0) {
        vouch_store_instance_free(in);
        vouch_vtpm_fail(c, VOUCH_RPC_NOT_OWNER, "(%.128s)", uuid);
        return false;
    }
    if (ret)
        *ret = in;
    else
        vouch_store_instance_free(in);
    return true;
}

/* The caller's request parameter Extensions: empty, or a JSON object's text. */
static bool extensions_ok(struct vouch_vtpm_call *c, const char *v)
{
    json_t *j = NULL;
    bool ok;

    if (!v)
        return true;
    ok = vouch_json_parse(v, strlen(v), &j, NULL) == VOUCH_OK && json_is_object(j);
    json_decref(j);
    if (!ok)
        vouch_vtpm_fail(c, VOUCH_RPC_INVALID_PARAMETER, "(Extensions must be a JSON object)");
    return ok;
}

static json_t *register_message(struct vouch_vtpm_call *c)
{
    static const char *const text[] = { "InstanceId", "InstanceType", "PropertyName",
                                        "PropertyPrivateIp", "PropertyPublicIp", "Extensions" };
    const char *v[6];
    struct vouch_store_instance in = { 0 };
    struct vouch_errbuf eb;
    bool ok;
    vouch_err e;
    size_t i;

    in.uuid = (char *)vouch_vtpm_param_str(c, "PropertyUuid", true, VOUCH_STORE_NAME_MAX, &ok);
    for (i = 0; ok && i < 6; i++)
        v[i] = vouch_vtpm_param_str(c, text[i], false, VOUCH_STORE_FIELD_MAX, &ok);
    if (!ok ||
        !vouch_vtpm_param_int(c, "PropertyAffiliation", INT32_MIN, INT32_MAX, 0,
                              &in.affiliation) ||
        !extensions_ok(c, v[5]))
        return NULL;
    in.account = (char *)c->account;
    in.instance_id = (char *)(v[0] ? v[0] : "");
    in.instance_type = (char *)(v[1] ? v[1] : "");
    in.name = (char *)(v[2] ? v[2] : "");
    in.private_ip = (char *)(v[3] ? v[3] : "");
    in.public_ip = (char *)(v[4] ? v[4] : "");
    in.extensions = (char *)(v[5] ? v[5] : "{}");
    in.system_status = in.program_status = STATUS_NOT_EVALUATED;
    in.system_whitelist_id = in.program_whitelist_id = NO_WHITELIST;
    in.system_detail = in.program_detail = "{}";
    in.program_whitelist_name = "";
    e = vouch_store_instance_register(c->app->store, &in, c->now_ms, &eb);
    if (e == VOUCH_E_INVALID)
        return vouch_vtpm_fail(c, VOUCH_RPC_INVALID_PARAMETER, "(%s)", eb.msg);
    if (e)
        return vouch_vtpm_fail(c, vouch_rpc_error_of(e), "(%.128s)", in.uuid);
    return json_object();
}

size_t vouch_vtpm_param_list(struct vouch_vtpm_call *c, const char *name, size_t max,
                             const char **ids, char **ret_copy)
{
    char *copy, *p, *save = NULL;
    size_t n = 0;
    bool ok;
    const char *v = vouch_vtpm_param_str(c, name, true, max * (VOUCH_STORE_NAME_MAX + 4), &ok);

    *ret_copy = NULL;
    if (!ok)
        return 0;
    if (!(copy = strdup(v)))
        return vouch_vtpm_fail(c, VOUCH_RPC_INTERNAL, "%s", ""), 0;
    *ret_copy = copy;
    for (p = strtok_r(copy, ",[]\" ", &save); p; p = strtok_r(NULL, ",[]\" ", &save)) {
        if (n == max)
            return vouch_vtpm_fail(c, VOUCH_RPC_INVALID_PARAMETER, "(at most %zu %s)", max,
                                   name), 0;
        ids[n++] = p;
    }
    if (n == 0)
        vouch_vtpm_fail(c, VOUCH_RPC_MISSING_PARAMETER, "(%s)", name);
    return n;
}

/* Properties: PropertyUuids separated by commas (or a JSON array of them). */
static json_t *unregister_message(struct vouch_vtpm_call *c)
{
    const char *uuids[UNREGISTER_MAX];
    char *copy = NULL;
    struct vouch_errbuf eb;
    json_t *out = NULL;
    size_t n = vouch_vtpm_param_list(c, "Properties", UNREGISTER_MAX, uuids, &copy), i;

    if (n == 0)
        goto out;
    for (i = 0; i < n; i++)         /* all or nothing: check every one first */
        if (!vouch_vtpm_own_instance(c, uuids[i], NULL))
            goto out;
    for (i = 0; i < n; i++) {
        vouch_err e = vouch_store_instance_delete(c->app->store, c->account, uuids[i], &eb);

        if (e && e != VOUCH_E_NOT_FOUND) {
            vouch_vtpm_fail(c, vouch_rpc_error_of(e), "%s", "");
            goto out;
        }
    }
    out = json_object();
out:
    free(copy);
    return out;
}

static json_t *generate_nonce(struct vouch_vtpm_call *c)
{
    uint8_t raw[NONCE_BYTES];
    char hex[NONCE_BYTES * 2 + 1];
    struct vouch_errbuf eb;
    bool ok;
    vouch_err e;
    const char *uuid = vouch_vtpm_param_str(c, "PropertyUuid", true, VOUCH_STORE_NAME_MAX, &ok);

    if (!ok || !vouch_vtpm_own_instance(c, uuid, NULL))
        return NULL;
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return vouch_vtpm_fail(c, VOUCH_RPC_INTERNAL, "%s", "");
    vouch_hex_encode(raw, sizeof(raw), hex);
    e = vouch_store_nonce_issue(c->app->store, hex, uuid, c->now_ms,
                                c->now_ms + NONCE_LIFETIME_MS, &eb);
    if (e)
        return vouch_vtpm_fail(c, vouch_rpc_error_of(e), "%s", "");
    return json_pack("{s:{s:s,s:I}}", "data", "Nonce", hex, "ExpireTime",
                     (json_int_t)(c->now_ms + NONCE_LIFETIME_MS));
}

/* Reports older than this make an instance offline (unmeasured). */
static int64_t offline_after_ms(const struct vouch_vtpm_call *c)
{
    return 2 * c->app->cfg.vtpm_report_interval * 1000;
}

static int64_t online_status(const struct vouch_vtpm_call *c,
                             const struct vouch_store_instance *in)
{
    return in->recent_report_ms && c->now_ms - in->recent_report_ms <= offline_after_ms(c);
}

/* A verdict goes stale: no report within twice the interval is "unmeasured". */
static int64_t system_status(const struct vouch_vtpm_call *c,
                             const struct vouch_store_instance *in)
{
    if (in->system_status == VOUCH_VTPM_NOT_EVALUATED || online_status(c, in))
        return in->system_status;
    return VOUCH_VTPM_UNMEASURED;
}

/*
 * Extensions: the registration's, and the reported values of open PCR
 * events.  *ret_text is in->extensions, or *ret_alloc made here (free());
 * false when memory runs out.
 */
static bool extensions_of(struct vouch_vtpm_call *c, const struct vouch_store_instance *in,
                          const char **ret_text, char **ret_alloc)
{
    json_t *ext = NULL;
    char *text;

    *ret_alloc = NULL;
    if (in->system_exceptions == 0) {
        *ret_text = in->extensions;
        return true;
    }
    if (vouch_json_parse(in->extensions, strlen(in->extensions), &ext, NULL) ||
        !json_is_object(ext)) {
        json_decref(ext);
        ext = json_object();
    }
    if (!ext || !vouch_vtpm_open_pcrs(c, in->uuid, ext)) {
        json_decref(ext);
        return false;
    }
    text = json_dumps(ext, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(ext);
    if (!text)
        return false;
    *ret_text = *ret_alloc = text;
    return true;
}

/*
 * An answer's members written as JSON text, `"name":value` in order and
 * separated by commas, as vouch_json_dump() writes an object of them: the
 * first error sticks.
 */
struct members {
    struct vouch_buf *b;
    vouch_err e;
    size_t n;
};

static void member_name(struct members *m, const char *name)
{
    if (!m->e && m->n++ > 0)
        m->e = vouch_buf_putc(m->b, ',');
    if (!m->e)
        m->e = vouch_buf_putc(m->b, '"');
    if (!m->e)
        m->e = vouch_buf_puts(m->b, name);
    if (!m->e)
        m->e = vouch_buf_append(m->b, "\":", 2);
}

static void member_str(struct members *m, const char *name, const char *v)
{
    member_name(m, name);
    if (!m->e)
        m->e = vouch_json_write_string(m->b, v, strlen(v));
}

static void member_int(struct members *m, const char *name, int64_t v)
{
    member_name(m, name);
    if (!m->e)
        m->e = vouch_buf_put_int(m->b, v);
}

/* The DescribeInstance fields of one instance, as members of m. */
static void instance_write(struct vouch_vtpm_call *c, const struct vouch_store_instance *in,
                           struct members *m)
{
    const char *ext = NULL;
    char *ext_alloc = NULL;

    if (!extensions_of(c, in, &ext, &ext_alloc)) {
        m->e = VOUCH_E_NOMEM;
        return;
    }
    member_str(m, "PropertyUuid", in->uuid);
    member_str(m, "PropertyName", in->name);
    member_str(m, "PropertyPrivateIp", in->private_ip);
    member_str(m, "PropertyPublicIp", in->public_ip);
    member_str(m, "InstanceId", in->instance_id);
    member_str(m, "InstanceType", in->instance_type);
    member_int(m, "PropertyAffiliation", in->affiliation);
    member_int(m, "SystemTrustStatus", system_status(c, in));
    member_str(m, "SystemTrustDetail", in->system_detail);
    member_int(m, "SystemWhiteListId", in->system_whitelist_id);
    member_int(m, "SystemExceptionNum", in->system_exceptions);
    member_int(m, "ProgramTrustStatus", in->program_status);
    member_str(m, "ProgramTrustDetail", in->program_detail);
    member_int(m, "ProgramWhiteListId", in->program_whitelist_id);
    member_str(m, "ProgramWhiteListName", in->program_whitelist_name);
    member_int(m, "ProgramExceptionNum", in->program_exceptions);
    member_int(m, "OnlineStatus", online_status(c, in));
    member_int(m, "GmtCreate", in->created_ms);
    member_int(m, "GmtModified", in->modified_ms);
    member_int(m, "GmtRecentReport", in->recent_report_ms);
    member_str(m, "Extensions", ext);
    free(ext_alloc);
}

static bool describe_instance(struct vouch_vtpm_call *c, struct vouch_buf *out)
{
    struct vouch_store_instance *in = NULL;
    struct members m = { .b = out };
    bool ok;
    const char *uuid = vouch_vtpm_param_str(c, "PropertyUuid", true, VOUCH_STORE_NAME_MAX, &ok);

    if (!ok || !vouch_vtpm_own_instance(c, uuid, &in))
        return false;
    instance_write(c, in, &m);
    vouch_store_instance_free(in);
    return m.e ? vouch_vtpm_fail(c, VOUCH_RPC_INTERNAL, "%s", ""), false : true;
}

/*
 * Filters of DescribeInstances: SystemTrustStatus, ProgramTrustStatus,
 * OnlineStatus.  The system status is the one shown: a verdict (1, 2)
 * counts while the instance is online, and is 3 once it is not.
 */
static bool list_filter(struct vouch_vtpm_call *c, struct vouch_store_instance_filter *f)
{
    int64_t online, status;

    if (!vouch_vtpm_param_int(c, "SystemTrustStatus", 1, 4, -1, &status) ||
        !vouch_vtpm_param_int(c, "ProgramTrustStatus", 1, 4, -1, &f->program_status) ||
        !vouch_vtpm_param_int(c, "OnlineStatus", 0, 1, -1, &online))
        return false;
    f->system_status = status == VOUCH_VTPM_UNMEASURED ? -2 : status;
    if (status == VOUCH_VTPM_TRUSTED || status == VOUCH_VTPM_UNTRUSTED ||
        status == VOUCH_VTPM_UNMEASURED) {
        int64_t want = status == VOUCH_VTPM_UNMEASURED ? 0 : 1;

        if (online >= 0 && online != want)
            f->system_status = INT32_MIN;      /* shown statuses never match: none */
        online = want;
    }
    f->online = (int)online;
    f->online_since_ms = c->now_ms - offline_after_ms(c);
    return true;
}

/* {"TotalCount", "PageNumber", "PageSize", "Instances": [instance, ...]} */
static void instances_write(struct vouch_vtpm_call *c, const struct vouch_store_instance *v,
                            size_t n, uint64_t total, int64_t page, int64_t size,
                            struct members *m)
{
    size_t i;

    member_int(m, "TotalCount", (int64_t)total);
    member_int(m, "PageNumber", page);
    member_int(m, "PageSize", size);
    member_name(m, "Instances");
    if (!m->e)
        m->e = vouch_buf_putc(m->b, '[');
    for (i = 0; !m->e && i < n; i++) {
        struct members item = { .b = m->b };

        m->e = vouch_buf_append(m->b, i ? ",{" : "{", i ? 2 : 1);
        if (!m->e)
            instance_write(c, &v[i], &item);
        m->e = m->e ? m->e : item.e;
        if (!m->e)
            m->e = vouch_buf_putc(m->b, '}');
    }
    if (!m->e)
        m->e = vouch_buf_putc(m->b, ']');
}

static bool describe_instances(struct vouch_vtpm_call *c, struct vouch_buf *out)
{
    struct vouch_store_instance_filter f = VOUCH_STORE_INSTANCE_FILTER_ANY;
    struct vouch_store_instance *v = NULL;
    struct members m = { .b = out };
    int64_t size, page;
    uint64_t total = 0, offset;
    struct vouch_errbuf eb;
    size_t n = 0;
    vouch_err e;

    if (!vouch_vtpm_param_int(c, "PageSize", 1, PAGE_SIZE_MAX, PAGE_SIZE_DEFAULT, &size) ||
        !vouch_vtpm_param_page(c, "PageNumber", &page) || !list_filter(c, &f))
        return false;
    offset = (uint64_t)(page - 1) * (uint64_t)size;
    e = vouch_store_instance_list(c->app->store, c->account, &f, offset, (size_t)size, &v, &n,
                                  &total, &eb);
    if (e)
        return vouch_vtpm_fail(c, vouch_rpc_error_of(e), "%s", ""), false;
    instances_write(c, v, n, total, page, size, &m);
    vouch_store_instances_free(v, n);
    return m.e ? vouch_vtpm_fail(c, VOUCH_RPC_INTERNAL, "%s", ""), false : true;
}

static const struct vouch_vtpm_action actions[] = {
    { "DescribeBoot", vouch_vtpm_describe_boot, 0 },
    { "DescribeEvents", vouch_vtpm_describe_events, 0 },
    { "DescribeInstance", NULL, 0, describe_instance },
    { "DescribeInstances", NULL, 0, describe_instances },
    { "DescribeReports", vouch_vtpm_describe_reports, 0 },
    { "GenerateNonce", generate_nonce, 0 },
    { "IgnoreEvents", vouch_vtpm_ignore_events, VOUCH_VTPM_AUDITED },
    { "ProduceAikcert", vouch_vtpm_produce_aikcert, VOUCH_VTPM_AUDITED },
    { "PutMessage", vouch_vtpm_put_message, 0 },
    { "RegisterMessage", register_message, VOUCH_VTPM_AUDITED },
    { "TrustEvents", vouch_vtpm_trust_events, VOUCH_VTPM_AUDITED },
    { "UnregisterMessage", unregister_message, VOUCH_VTPM_AUDITED },
};

const struct vouch_vtpm_action *vouch_vtpm_action_find(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strcmp(actions[i].name, name) == 0)
            return &actions[i];
    for (i = 0; i < vouch_vtpm_whitelist_n_actions; i++)
        if (strcmp(vouch_vtpm_whitelist_actions[i].name, name) == 0)
            return &vouch_vtpm_whitelist_actions[i];
    return NULL;
}
