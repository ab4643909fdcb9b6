/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"

static FILE *log_out;
static enum vouch_log_level log_min = VOUCH_LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void vouch_log_setup(FILE *out, enum vouch_log_level min)
{
    log_out = out;
    log_min = min;
}

int vouch_log_level_parse(const char *s)
{
    size_t i;

    for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return (int)i;
    return -1;
}

static bool needs_quotes(const char *v)
{
    if (!*v)
        return true;
    for (; *v; v++)
        if (*v <= ' ' || *v == '"' || *v == '=' || *v == '\\' || (unsigned char)*v >= 0x7f)
            return true;
    return false;
}

static void put_value(struct vouch_buf *b, const char *v)
{
    if (!needs_quotes(v)) {
        vouch_buf_puts(b, v);
        return;
    }
    vouch_buf_putc(b, '"');
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;

        if (c == '"' || c == '\\')
            vouch_buf_printf(b, "\\%c", c);
        else if (c < ' ' || c == 0x7f)
            vouch_buf_printf(b, "\\x%02x", c);
        else
            vouch_buf_putc(b, c);
    }
    vouch_buf_putc(b, '"');
}

static void line_start(struct vouch_buf *b, enum vouch_log_level lvl, const char *msg)
{
    struct timespec ts;
    struct tm tm;
    char when[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    vouch_buf_printf(b, "ts=%s.%03ldZ level=%s msg=", when, ts.tv_nsec / 1000000,
                     level_names[lvl]);
    put_value(b, msg);
}

static void line_end(struct vouch_buf *b)
{
    FILE *out = log_out ? log_out : stderr;

    if (vouch_buf_putc(b, '\n') == VOUCH_OK) {
        fwrite(b->data, 1, b->len, out);
        fflush(out);
    }
    vouch_buf_free(b);
}

void vouch_log(enum vouch_log_level lvl, const char *msg, ...)
{
    struct vouch_buf b = VOUCH_BUF_INIT(16384);
    const char *k, *v;
    va_list ap;

    if (lvl < log_min)
        return;
    line_start(&b, lvl, msg);
    va_start(ap, msg);
    while ((k = va_arg(ap, const char *)) != NULL) {
        v = va_arg(ap, const char *);
        vouch_buf_printf(&b, " %s=", k);
        put_value(&b, v ? v : "");
    }
    va_end(ap);
    line_end(&b);
}

void vouch_log_request(const char *method, const char *path, unsigned status,
                       uint64_t us, uint64_t bytes, const char *code)
{
    struct vouch_buf b = VOUCH_BUF_INIT(16384);

    if (VOUCH_LOG_INFO < log_min)
        return;
    line_start(&b, VOUCH_LOG_INFO, "request");
    vouch_buf_puts(&b, " method=");
    put_value(&b, method);
    vouch_buf_puts(&b, " path=");
    put_value(&b, path);
    vouch_buf_printf(&b, " status=%u us=%llu bytes=%llu", status, (unsigned long long)us,
                     (unsigned long long)bytes);
    if (code) {
        vouch_buf_puts(&b, " code=");
        put_value(&b, code);
    }
    line_end(&b);
}
