/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_ERR_H
#define VOUCH_ERR_H

#include <stdarg.h>
#include <stddef.h>

/*
 * One error enum for the whole library.  0 is success; every other value
 * names a class of failure.  The human-readable reason (which step, which
 * field, which offset) goes into a struct vouch_errbuf supplied by the
 * caller.
 */
typedef enum {
    VOUCH_OK = 0,
    VOUCH_E_INVALID,      /* malformed input: bad syntax, bad encoding */
    VOUCH_E_TRUNCATED,    /* input ends before a field it announces */
    VOUCH_E_TOO_LARGE,    /* a size cap was hit */
    VOUCH_E_UNSUPPORTED,  /* well-formed, but a version/algorithm we do not do */
    VOUCH_E_VERIFY,       /* a cryptographic or semantic check failed */
    VOUCH_E_EXPIRED,      /* outside a validity window */
    VOUCH_E_REVOKED,      /* a certificate is on a CRL */
    VOUCH_E_BINDING,      /* evidence does not carry the expected nonce/runtime data */
    VOUCH_E_NOT_FOUND,    /* a lookup found nothing */
    VOUCH_E_CONFLICT,     /* the thing already exists / conflicting values */
    VOUCH_E_LIMIT,        /* an evaluation or resource limit was exceeded */
    VOUCH_E_AUTH,         /* missing or wrong credentials */
    VOUCH_E_IO,           /* file or network I/O */
    VOUCH_E_STORE,        /* the database failed */
    VOUCH_E_NOMEM,        /* allocation failed */
    VOUCH_E_INTERNAL,     /* a bug or an unexpected library failure */
    VOUCH_E_RATE_LIMITED, /* too many requests from one client */
    VOUCH_E_NOT_YET_VALID, /* before a validity window (EXPIRED is after it) */
    VOUCH_E_UNAVAILABLE,  /* a service we depend on did not answer: try again later */
    VOUCH_E__COUNT
} vouch_err;

/*
 * A finer reason within a kind, for the few failures the HTTP API answers
 * with their own code or field.  Set with vouch_fail_sub(); every other
 * vouch_fail* clears it, vouch_fail_prefix() and vouch_errbuf_set_field()
 * keep it.  Callers decide on kind and sub-code, never on message text.
 */
enum vouch_subcode {
    VOUCH_SUB_NONE = 0,
    VOUCH_SUB_JSON,        /* INVALID: the input is not well-formed JSON */
    VOUCH_SUB_QUOTE,       /* INVALID: the attestation quote's bytes are malformed */
    VOUCH_SUB_INIT_DATA,   /* BINDING: init data (MRCONFIGID, HOSTDATA) differs */
    VOUCH_SUB_GPU,         /* BINDING: a GPU did not sign the expected nonce */
    VOUCH_SUB_EVENTLOG,    /* VERIFY: an event log does not replay to the quoted registers */
    VOUCH_SUB__COUNT
};

#define VOUCH_ERRBUF_SIZE 512

/*
 * Where a failing function writes why it failed.  Any function taking a
 * `struct vouch_errbuf *` accepts NULL there.  On success the buffer is not
 * touched.
 */
struct vouch_errbuf {
    char msg[VOUCH_ERRBUF_SIZE];
    /*
     * The input field at fault as a JSON path relative to the document the
     * function was given ("quote", "device_evidence_list[0].evidence"), or
     * empty.  Set by vouch_fail_field(); every other vouch_fail* clears it.
     */
    char field[96];
    enum vouch_subcode sub;
};

/* Short stable name of an error code, e.g. "truncated". Never NULL. */
const char *vouch_err_name(vouch_err e);

/*
 * Format a message into `eb` (clearing its field and sub-code) and return
 * `code`, so a failure is one line:
 *     return vouch_fail(eb, VOUCH_E_TRUNCATED, "header: %zu bytes left", n);
 */
vouch_err vouch_fail(struct vouch_errbuf *eb, vouch_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
vouch_err vouch_failv(struct vouch_errbuf *eb, vouch_err code, const char *fmt,
                      va_list ap) __attribute__((format(printf, 3, 0)));

/* Like vouch_fail(), and record a sub-code. */
vouch_err vouch_fail_sub(struct vouch_errbuf *eb, vouch_err code, enum vouch_subcode sub,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Set the sub-code of the failure already in `eb` and return `code`. */
vouch_err vouch_errbuf_set_sub(struct vouch_errbuf *eb, vouch_err code, enum vouch_subcode sub);

/* Short stable name of a sub-code, e.g. "json"; "" for VOUCH_SUB_NONE. */
const char *vouch_subcode_name(enum vouch_subcode sub);

/* Like vouch_fail(), and record the JSON path of the field at fault. */
vouch_err vouch_fail_field(struct vouch_errbuf *eb, vouch_err code, const char *field,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Prefix the message already in `eb` with context ("pck chain: " + msg) and
 * return `code` unchanged.  Used when passing a callee's failure upward.
 */
vouch_err vouch_fail_prefix(struct vouch_errbuf *eb, vouch_err code,
                            const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Record the field at fault for the failure already in `eb` and return
 * `code`.  Does not touch the message.
 */
vouch_err vouch_errbuf_set_field(struct vouch_errbuf *eb, vouch_err code, const char *field);

/* Empty the buffer. */
void vouch_errbuf_clear(struct vouch_errbuf *eb);

#endif
