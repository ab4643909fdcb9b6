/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/time.h"

static FILE *log_out;
static enum vouch_log_level log_min = VOUCH_LOG_INFO;
static bool log_json_on;
/*
 * Lines up to PIPE_BUF bytes are written concurrently (read side): one
 * write() of them is atomic on a pipe, a socket and a file alike.  A
 * longer line takes the write side, so no other line lands inside it.
 */
static pthread_rwlock_t log_write_lock = PTHREAD_RWLOCK_INITIALIZER;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void vouch_log_setup(FILE *out, enum vouch_log_level min)
{
    log_out = out;
    log_min = min;
}

void vouch_log_json(bool on)
{
    log_json_on = on;
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

/* A JSON string: every byte outside printable ASCII escaped, so the line stays valid JSON. */
static void put_json(struct vouch_buf *b, const char *v)
{
    vouch_buf_putc(b, '"');
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;

        if (c == '"' || c == '\\')
            vouch_buf_printf(b, "\\%c", c);
        else if (c < ' ' || c >= 0x7f)
            vouch_buf_printf(b, "\\u%04x", c);
        else
            vouch_buf_putc(b, c);
    }
    vouch_buf_putc(b, '"');
}

/* One string field, after the first: ` key=value` or `,"key":"value"`. */
static void put_field(struct vouch_buf *b, const char *k, const char *v)
{
    if (log_json_on) {
        vouch_buf_putc(b, ',');
        put_json(b, k);
        vouch_buf_putc(b, ':');
        put_json(b, v);
    } else {
        vouch_buf_putc(b, ' ');
        vouch_buf_puts(b, k);
        vouch_buf_putc(b, '=');
        put_value(b, v);
    }
}

/* One number field: ` key=N` or `,"key":N` (keys are plain words). */
static void put_number(struct vouch_buf *b, const char *k, uint64_t n)
{
    vouch_buf_puts(b, log_json_on ? ",\"" : " ");
    vouch_buf_puts(b, k);
    vouch_buf_puts(b, log_json_on ? "\":" : "=");
    vouch_buf_put_uint(b, n);
}

static void line_start(struct vouch_buf *b, enum vouch_log_level lvl, const char *msg)
{
    /* this thread's last second, formatted (not gmtime_r(): glibc locks in it) */
    static _Thread_local char when[VOUCH_RFC3339_LEN];
    static _Thread_local time_t when_sec = -1;
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != when_sec) {
        vouch_time_format_rfc3339((int64_t)ts.tv_sec, when);
        when[19] = '\0';   /* "YYYY-MM-DDTHH:MM:SS", the milliseconds follow */
        when_sec = ts.tv_sec;
    }
    if (log_json_on) {
        vouch_buf_printf(b, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":", when,
                         ts.tv_nsec / 1000000, level_names[lvl]);
        put_json(b, msg);
        return;
    }
    vouch_buf_printf(b, "ts=%s.%03ldZ level=%s msg=", when, ts.tv_nsec / 1000000,
                     level_names[lvl]);
    put_value(b, msg);
}

/* The whole of data to fd; false on an error. */
static bool write_all(int fd, const uint8_t *data, size_t len)
{
    ssize_t n;

    while (len) {
        n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

/*
 * One line out with one write(2), without stdio: stdio's stream lock is
 * held across the system call, and under load the request threads queue
 * (and sleep) on it.
 */
static void line_write(FILE *out, const struct vouch_buf *b)
{
    int fd = fileno(out);
    bool whole = b->len <= PIPE_BUF;

    if (fd < 0) {   /* not a file descriptor (a memory stream) */
        fwrite(b->data, 1, b->len, out);
        fflush(out);
        return;
    }
    if (whole)
        pthread_rwlock_rdlock(&log_write_lock);
    else
        pthread_rwlock_wrlock(&log_write_lock);
    (void)write_all(fd, b->data, b->len);
    pthread_rwlock_unlock(&log_write_lock);
}

static void line_end(struct vouch_buf *b)
{
    FILE *out = log_out ? log_out : stderr;

    if (log_json_on)
        vouch_buf_putc(b, '}');
    if (vouch_buf_putc(b, '\n') == VOUCH_OK)
        line_write(out, b);
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
        put_field(&b, k, v ? v : "");
    }
    va_end(ap);
    line_end(&b);
}

void vouch_log_request(const struct vouch_log_request *r)
{
    struct vouch_buf b = VOUCH_BUF_INIT(16384);

    if (VOUCH_LOG_INFO < log_min)
        return;
    line_start(&b, VOUCH_LOG_INFO, "request");
    if (r->request_id)
        put_field(&b, "request_id", r->request_id);
    put_field(&b, "method", r->method ? r->method : "");
    put_field(&b, "path", r->path ? r->path : "");
    put_number(&b, "status", r->status);
    put_number(&b, "us", r->us);
    put_number(&b, "bytes", r->bytes);
    if (r->route)
        put_field(&b, "route", r->route);
    if (r->remote)
        put_field(&b, "remote", r->remote);
    if (r->code)
        put_field(&b, "code", r->code);
    line_end(&b);
}
