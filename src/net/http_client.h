/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_NET_HTTP_CLIENT_H
#define VOUCH_NET_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "vouch/err.h"

/*
 * The one outbound HTTP client of vouchd and the vouch CLI (libcurl):
 * http and https only, TLS peer and host verification on, no redirects,
 * a connect timeout, a whole-exchange timeout and a cap on the response
 * body.  src/evidence never includes this: verifiers get network data
 * through the sources of include/vouch/evidence.h, which the server or the
 * CLI fills in with these functions.
 */
#define VOUCH_HTTP_CONNECT_TIMEOUT 10 /* seconds */
#define VOUCH_HTTP_TIMEOUT 30         /* seconds, the whole exchange */
#define VOUCH_HTTP_BODY_MAX (4u << 20)

struct vouch_http_request {
    const char *method;         /* "GET" (default when NULL) or "POST" */
    const char *url;
    const char *content_type;   /* of body; NULL without a body */
    const uint8_t *body;        /* NULL: no body */
    size_t body_len;
    const char *accept;         /* Accept header, or NULL */
    size_t max;                 /* response body cap; 0: VOUCH_HTTP_BODY_MAX */
    long timeout;               /* seconds; 0: VOUCH_HTTP_TIMEOUT */
    const char *want_header;    /* a response header to keep, or NULL */
};

struct vouch_http_response {
    long status;
    struct vouch_buf body;      /* at most request->max bytes */
    char *header;               /* want_header's value as sent, or NULL */
    bool too_large;             /* the body went over the cap */
};

/*
 * Run one exchange.  Any HTTP status is a completed exchange (VOUCH_OK,
 * status in ret->status); a transport failure is VOUCH_E_IO and a body over
 * the cap VOUCH_E_TOO_LARGE, the message naming the URL.  `ret` needs
 * vouch_http_response_done() in every case.
 */
vouch_err vouch_http_exchange(const struct vouch_http_request *req,
                              struct vouch_http_response *ret, struct vouch_errbuf *eb);
void vouch_http_response_done(struct vouch_http_response *r);

/*
 * The same, where only 200 counts: VOUCH_E_NOT_FOUND for 404,
 * VOUCH_E_IO for any other status.
 */
vouch_err vouch_http_fetch(const struct vouch_http_request *req,
                           struct vouch_http_response *ret, struct vouch_errbuf *eb);

/*
 * POST `body` and return the 200 answer's body in *ret_body (malloc'd, at
 * most `max` bytes).  The shape of struct vouch_net_source's post, so the
 * server and the CLI hand it to verifiers (ctx unused).
 */
vouch_err vouch_http_post(void *ctx, const char *url, const char *content_type,
                          const uint8_t *body, size_t body_len, size_t max, uint8_t **ret_body,
                          size_t *ret_len, struct vouch_errbuf *eb);

#endif
