/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "vouch/err.h"

static const char *const names[VOUCH_E__COUNT] = {
    [VOUCH_OK] = "ok",
    [VOUCH_E_INVALID] = "invalid",
    [VOUCH_E_TRUNCATED] = "truncated",
    [VOUCH_E_TOO_LARGE] = "too_large",
    [VOUCH_E_UNSUPPORTED] = "unsupported",
    [VOUCH_E_VERIFY] = "verification_failed",
    [VOUCH_E_EXPIRED] = "expired",
    [VOUCH_E_REVOKED] = "revoked",
    [VOUCH_E_BINDING] = "binding_mismatch",
    [VOUCH_E_NOT_FOUND] = "not_found",
    [VOUCH_E_CONFLICT] = "conflict",
    [VOUCH_E_LIMIT] = "limit_exceeded",
    [VOUCH_E_AUTH] = "unauthorized",
    [VOUCH_E_IO] = "io",
    [VOUCH_E_STORE] = "store",
    [VOUCH_E_NOMEM] = "out_of_memory",
    [VOUCH_E_INTERNAL] = "internal",
    [VOUCH_E_RATE_LIMITED] = "rate_limited",
    [VOUCH_E_NOT_YET_VALID] = "not_yet_valid",
    [VOUCH_E_UNAVAILABLE] = "unavailable",
};

static const char *const sub_names[VOUCH_SUB__COUNT] = {
    [VOUCH_SUB_NONE] = "",
    [VOUCH_SUB_JSON] = "json",
    [VOUCH_SUB_QUOTE] = "quote",
    [VOUCH_SUB_INIT_DATA] = "init_data",
    [VOUCH_SUB_GPU] = "gpu",
    [VOUCH_SUB_EVENTLOG] = "eventlog",
};

const char *vouch_err_name(vouch_err e)
{
    if ((unsigned)e >= VOUCH_E__COUNT || !names[e])
        return "unknown";
    return names[e];
}

const char *vouch_subcode_name(enum vouch_subcode sub)
{
    if ((unsigned)sub >= VOUCH_SUB__COUNT || !sub_names[sub])
        return "unknown";
    return sub_names[sub];
}

vouch_err vouch_failv(struct vouch_errbuf *eb, vouch_err code, const char *fmt,
                      va_list ap)
{
    if (eb) {
        vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
        eb->field[0] = '\0';
        eb->sub = VOUCH_SUB_NONE;
    }
    return code;
}

vouch_err vouch_fail_sub(struct vouch_errbuf *eb, vouch_err code, enum vouch_subcode sub,
                         const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vouch_failv(eb, code, fmt, ap);
    va_end(ap);
    return vouch_errbuf_set_sub(eb, code, sub);
}

vouch_err vouch_errbuf_set_sub(struct vouch_errbuf *eb, vouch_err code, enum vouch_subcode sub)
{
    if (eb)
        eb->sub = sub;
    return code;
}

vouch_err vouch_fail(struct vouch_errbuf *eb, vouch_err code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vouch_failv(eb, code, fmt, ap);
    va_end(ap);
    return code;
}

vouch_err vouch_fail_field(struct vouch_errbuf *eb, vouch_err code, const char *field,
                           const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vouch_failv(eb, code, fmt, ap);
    va_end(ap);
    if (eb && field)
        snprintf(eb->field, sizeof(eb->field), "%s", field);
    return code;
}

vouch_err vouch_fail_prefix(struct vouch_errbuf *eb, vouch_err code,
                            const char *fmt, ...)
{
    char old[VOUCH_ERRBUF_SIZE];
    size_t n;
    va_list ap;

    if (!eb)
        return code;
    memcpy(old, eb->msg, sizeof(old));
    old[sizeof(old) - 1] = '\0';
    va_start(ap, fmt);
    vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
    va_end(ap);
    n = strlen(eb->msg);
    if (n < sizeof(eb->msg) - 1) {
        size_t room = sizeof(eb->msg) - 1 - n;
        size_t olen = strlen(old);

        if (olen > room)
            olen = room;
        memcpy(eb->msg + n, old, olen);
        eb->msg[n + olen] = '\0';
    }
    return code;
}

vouch_err vouch_errbuf_set_field(struct vouch_errbuf *eb, vouch_err code, const char *field)
{
    if (eb && field)
        snprintf(eb->field, sizeof(eb->field), "%s", field);
    return code;
}

void vouch_errbuf_clear(struct vouch_errbuf *eb)
{
    if (eb) {
        eb->msg[0] = '\0';
        eb->field[0] = '\0';
        eb->sub = VOUCH_SUB_NONE;
    }
}
