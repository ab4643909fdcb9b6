/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "evidence/nvgpu/ocsp.h"

/*
 * A minimal HTTP/1.0 POST client for OCSP (RFC 6960 appendix A): one
 * request per connection, plain http only, bounded in time and size.
 */

#define TIMEOUT_MS 10000
#define HEADER_MAX 16384

static vouch_err split_url(const char *url, char *host, size_t hsize, char *port, size_t psize,
                           const char **ret_path, struct vouch_errbuf *eb)
{
    const char *h, *end, *colon;
    size_t n;

    if (strncasecmp(url, "http://", 7) != 0)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "only http:// OCSP URLs are supported");
    h = url + 7;
    end = h + strcspn(h, "/?#");
    colon = memchr(h, ':', (size_t)(end - h));
    n = (size_t)((colon ? colon : end) - h);
    if (n == 0 || n >= hsize)
        return vouch_fail(eb, VOUCH_E_INVALID, "bad host in URL");
    memcpy(host, h, n);
    host[n] = '\0';
    if (colon) {
        n = (size_t)(end - colon - 1);
        if (n == 0 || n >= psize)
            return vouch_fail(eb, VOUCH_E_INVALID, "bad port in URL");
        memcpy(port, colon + 1, n);
        port[n] = '\0';
    } else {
        snprintf(port, psize, "80");
    }
    *ret_path = *end == '/' ? end : "/";
    return VOUCH_OK;
}

static int connect_timeout(const struct addrinfo *ai)
{
    struct pollfd pfd;
    int fd, err = 0, flags;
    socklen_t len = sizeof(err);

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -1;
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        goto fail;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS)
            goto fail;
        pfd.fd = fd;
        pfd.events = POLLOUT;
        if (poll(&pfd, 1, TIMEOUT_MS) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
            goto fail;
    }
    return fd;
fail:
    close(fd);
    return -1;
}

static vouch_err send_all(int fd, const uint8_t *p, size_t n, struct vouch_errbuf *eb)
{
    struct pollfd pfd = { fd, POLLOUT, 0 };

    while (n) {
        ssize_t w;

        if (poll(&pfd, 1, TIMEOUT_MS) != 1)
            return vouch_fail(eb, VOUCH_E_IO, "send timed out");
        w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (w <= 0)
            return vouch_fail(eb, VOUCH_E_IO, "send: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return VOUCH_OK;
}

static vouch_err recv_all(int fd, struct vouch_buf *b, struct vouch_errbuf *eb)
{
    struct pollfd pfd = { fd, POLLIN, 0 };
    uint8_t chunk[8192];

    for (;;) {
        ssize_t r;

        if (poll(&pfd, 1, TIMEOUT_MS) != 1)
            return vouch_fail(eb, VOUCH_E_IO, "receive timed out");
        r = recv(fd, chunk, sizeof(chunk), 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r < 0)
            return vouch_fail(eb, VOUCH_E_IO, "receive: %s", strerror(errno));
        if (r == 0)
            return VOUCH_OK;
        if (vouch_buf_append(b, chunk, (size_t)r))
            return vouch_fail(eb, VOUCH_E_TOO_LARGE, "response larger than %zu bytes", b->max);
    }
}

vouch_err vouch_ocsp_http_post(void *ctx, const char *url, const uint8_t *req, size_t req_len,
                               size_t max, uint8_t **ret_resp, size_t *ret_len,
                               struct vouch_errbuf *eb)
{
    struct vouch_buf hdr = VOUCH_BUF_INIT(HEADER_MAX), in = VOUCH_BUF_INIT(max + HEADER_MAX);
    struct addrinfo hints, *ai = NULL, *a;
    char host[256], port[16];
    const char *path = "/", *body, *p;
    uint8_t *out;
    size_t body_len;
    vouch_err e;
    int fd = -1, rc, status;

    (void)ctx;
    e = split_url(url, host, sizeof(host), port, sizeof(port), &path, eb);
    if (e)
        return e;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, port, &hints, &ai);
    if (rc)
        return vouch_fail(eb, VOUCH_E_IO, "%s: %s", host, gai_strerror(rc));
    for (a = ai; a && fd < 0; a = a->ai_next)
        fd = connect_timeout(a);
    freeaddrinfo(ai);
    if (fd < 0)
        return vouch_fail(eb, VOUCH_E_IO, "cannot connect to %s:%s", host, port);
    if (vouch_buf_printf(&hdr, "POST %s HTTP/1.0\r\nHost: %s\r\nContent-Type: "
                         "application/ocsp-request\r\nAccept: application/ocsp-response\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n", path, host,
                         req_len)) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "request header too long");
        goto out;
    }
    if ((e = send_all(fd, hdr.data, hdr.len, eb)) || (e = send_all(fd, req, req_len, eb)) ||
        (e = recv_all(fd, &in, eb)))
        goto out;
    p = vouch_buf_str(&in);
    if (in.len < 12 || sscanf(p, "HTTP/1.%*[01] %d", &status) != 1) {
        e = vouch_fail(eb, VOUCH_E_IO, "not an HTTP response");
        goto out;
    }
    body = memmem(in.data, in.len, "\r\n\r\n", 4);
    if (!body) {
        e = vouch_fail(eb, VOUCH_E_IO, "HTTP response without a body");
        goto out;
    }
    body += 4;
    body_len = in.len - (size_t)(body - (const char *)in.data);
    if (status != 200) {
        e = vouch_fail(eb, VOUCH_E_IO, "HTTP status %d", status);
        goto out;
    }
    if (body_len > max) {
        e = vouch_fail(eb, VOUCH_E_TOO_LARGE, "response larger than %zu bytes", max);
        goto out;
    }
    out = malloc(body_len ? body_len : 1);
    if (!out) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    memcpy(out, body, body_len);
    *ret_resp = out;
    *ret_len = body_len;
out:
    if (fd >= 0)
        close(fd);
    vouch_buf_free(&hdr);
    vouch_buf_free(&in);
    return e;
}
