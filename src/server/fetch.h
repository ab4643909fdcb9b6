/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_FETCH_H
#define VOUCH_SERVER_FETCH_H

#include <stddef.h>

#include "common/buf.h"
#include "vouch/err.h"

/*
 * Outbound HTTP GET for the service's upstream sources (PCS/PCCS refresh,
 * the NVIDIA RIM service): libcurl, http/https only, 10 s to connect, 30 s
 * in all.  Never used on a request's path unless configured.
 */
#define VOUCH_FETCH_MAX (4u << 20)

struct vouch_fetch {
    struct vouch_buf body;     /* at most `max` bytes */
    const char *want_header;   /* a response header to keep, or NULL */
    char *header;              /* its value, percent-decoded (Intel URL-encodes PEM) */
};

/*
 * GET `url`.  Anything but HTTP 200 is an error: VOUCH_E_NOT_FOUND for
 * 404, VOUCH_E_UNAVAILABLE otherwise (the message names the URL).  `f` needs
 * vouch_fetch_done() in every case.
 */
vouch_err vouch_fetch_get(const char *url, const char *header, size_t max,
                          struct vouch_fetch *f, struct vouch_errbuf *eb);
void vouch_fetch_done(struct vouch_fetch *f);

#endif
