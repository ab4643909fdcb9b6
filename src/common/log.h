/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_COMMON_LOG_H
#define VOUCH_COMMON_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Structured logging for the programs (vouchd, vouch).  Library code does
 * not log: it returns errors.  One line per event, logfmt style:
 *   ts=2026-11-23T10:00:00.123Z level=info msg=request request_id=... method=GET path=/healthz ...
 * A line is written with one write(2) (one stdio call on a stream without
 * a file descriptor), so lines from threads never interleave.
 */
enum vouch_log_level {
    VOUCH_LOG_DEBUG,
    VOUCH_LOG_INFO,
    VOUCH_LOG_WARN,
    VOUCH_LOG_ERROR,
};

/* Direct output to `out` (default stderr) and drop lines below `min`. */
void vouch_log_setup(FILE *out, enum vouch_log_level min);

/*
 * Write each line as one JSON object instead (--log-format json):
 *   {"time":"2026-11-23T10:00:00.123Z","level":"info","msg":"request",...}
 * with the same keys as the text form; numbers of the request line are
 * JSON numbers.
 */
void vouch_log_json(bool on);

/* Parse "debug"/"info"/"warn"/"error"; returns -1 when unknown. */
int vouch_log_level_parse(const char *s);

/* Ends the key/value list of vouch_log() (a typed NULL, portable in varargs). */
#define VOUCH_LOG_END ((const char *)NULL)

/*
 * Log a message with optional extra key=value pairs, given as
 * VOUCH_LOG_END-terminated (key, value) string pairs.  Values are quoted
 * when needed.
 */
void vouch_log(enum vouch_log_level lvl, const char *msg, ...)
    __attribute__((sentinel));

/* What the per-request line says.  NULL strings are left out. */
struct vouch_log_request {
    const char *request_id;
    const char *method;
    const char *path;        /* as sent, without the query */
    const char *route;       /* the route pattern that matched */
    const char *remote;      /* client address */
    unsigned status;
    uint64_t us;             /* first byte to the answer queued */
    uint64_t bytes;          /* body bytes sent */
    const char *code;        /* problem code of an error answer */
};

/* The per-request line (never a header value or a body: no secrets). */
void vouch_log_request(const struct vouch_log_request *r);

#endif
