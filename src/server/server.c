/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/time.h"
#include "server/server.h"

/* Oversized bodies up to this size are read and dropped before the 413. */
#define DRAIN_MAX (64u << 20)

struct vouch_server {
    struct MHD_Daemon *daemon;
    struct vouch_app *app;
    atomic_long active;       /* requests between first callback and completion */
};

/* Per-request state, from the first callback to the completion callback. */
struct reqctx {
    struct vouch_server *srv;
    struct MHD_Connection *conn;
    struct vouch_buf body;
    uint64_t start_us;
    bool too_large;
    bool answered;
    unsigned status;
    size_t bytes;
    const char *code;
    char method[16];
    char path[256];           /* for the log line; truncated */
};

static const char *req_header(const struct vouch_http_req *r, const char *name)
{
    struct reqctx *rc = r->impl;

    return MHD_lookup_connection_value(rc->conn, MHD_HEADER_KIND, name);
}

static const char *req_query(const struct vouch_http_req *r, const char *name)
{
    struct reqctx *rc = r->impl;

    return MHD_lookup_connection_value(rc->conn, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result send_response(struct reqctx *rc, struct vouch_http_resp *resp)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    size_t i;

    r = MHD_create_response_from_buffer(resp->body_len, resp->body ? resp->body : "",
                                        resp->body ? MHD_RESPMEM_MUST_FREE
                                                   : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        vouch_http_resp_done(resp);
        return MHD_NO;
    }
    resp->body = NULL; /* owned by MHD now */
    if (resp->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    for (i = 0; i < resp->n_headers; i++)
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    rc->status = resp->status;
    rc->bytes = resp->body_len;
    rc->code = resp->code;
    rc->answered = true;
    ret = MHD_queue_response(rc->conn, resp->status, r);
    MHD_destroy_response(r);
    vouch_http_resp_done(resp);
    return ret;
}

static enum MHD_Result too_large(struct reqctx *rc)
{
    struct vouch_http_resp resp = { 0 };

    vouch_http_problem(&resp, 413, "VOUCH.REQUEST.TOO_LARGE", NULL,
                       "the request body is larger than the limit of %zu bytes",
                       rc->srv->app->cfg.max_body);
    return send_response(rc, &resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct vouch_server *srv = cls;
    struct reqctx *rc = *con_cls;
    struct vouch_http_req req;
    struct vouch_http_resp resp;

    (void)version;
    if (!rc) {
        const char *cl;

        rc = calloc(1, sizeof(*rc));
        if (!rc)
            return MHD_NO;
        rc->srv = srv;
        rc->conn = conn;
        rc->start_us = vouch_clock_us();
        snprintf(rc->method, sizeof(rc->method), "%s", method);
        snprintf(rc->path, sizeof(rc->path), "%s", url);
        vouch_buf_init(&rc->body, srv->app->cfg.max_body);
        *con_cls = rc;
        atomic_fetch_add(&srv->active, 1);
        /*
         * An announced oversized body: a client waiting for 100-continue
         * (or sending something huge) gets 413 before sending it, and the
         * connection closes.  Otherwise the body is read and dropped, so the
         * client can read the 413 and keep the connection.
         */
        cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > srv->app->cfg.max_body) {
            const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                             MHD_HTTP_HEADER_EXPECT);

            if ((expect && strcasecmp(expect, "100-continue") == 0) ||
                strtoull(cl, NULL, 10) > DRAIN_MAX)
                return too_large(rc);
            rc->too_large = true;
        }
        return MHD_YES;
    }
    if (rc->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* Phase one: collect the body, up to the cap. */
        if (!rc->too_large && vouch_buf_append(&rc->body, upload_data, *upload_data_size))
            rc->too_large = true;  /* the buffer freed itself; keep draining */
        *upload_data_size = 0;
        return MHD_YES;
    }
    /* Phase two: the whole body is here; answer. */
    if (rc->too_large)
        return too_large(rc);
    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    req.method = method;
    req.path = url;
    req.body = rc->body.data ? rc->body.data : (const uint8_t *)"";
    req.body_len = rc->body.len;
    req.header = req_header;
    req.query = req_query;
    req.impl = rc;
    vouch_app_dispatch(srv->app, &req, &resp);
    if (!resp.status)
        vouch_http_problem(&resp, 500, "VOUCH.INTERNAL.ERROR", NULL, "handler gave no answer");
    return send_response(rc, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct vouch_server *srv = cls;
    struct reqctx *rc = *con_cls;

    (void)conn;
    if (!rc)
        return;
    if (!rc->answered)
        rc->status = 0;
    vouch_log_request(rc->method, rc->path, rc->status, vouch_clock_us() - rc->start_us,
                      toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? rc->bytes : 0, rc->code);
    vouch_buf_free(&rc->body);
    free(rc);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->active, 1);
}

__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    vouch_log(VOUCH_LOG_WARN, "libmicrohttpd", "detail", msg, VOUCH_LOG_END);
}

/*
 * Bind and listen on the configured address.  The server owns the socket
 * from here on (libmicrohttpd closes it when the daemon stops).
 */
static vouch_err listen_socket(const struct vouch_app *app, int *ret_fd, uint16_t *ret_port,
                               struct vouch_errbuf *eb)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, one = 1;

    memset(&ss, 0, sizeof(ss));
    if (strchr(app->cfg.listen_host, ':')) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(app->cfg.listen_port);
        inet_pton(AF_INET6, app->cfg.listen_host, &a6->sin6_addr);
        len = sizeof(*a6);
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;

        a4->sin_family = AF_INET;
        a4->sin_port = htons(app->cfg.listen_port);
        inet_pton(AF_INET, app->cfg.listen_host, &a4->sin_addr);
        len = sizeof(*a4);
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return vouch_fail(eb, VOUCH_E_IO, "cannot create a socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 1024) ||
        getsockname(fd, (struct sockaddr *)&ss, &len)) {
        close(fd);
        return vouch_fail(eb, VOUCH_E_IO, "cannot listen on %s (address in use or not "
                          "available?)", app->cfg.listen);
    }
    *ret_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    *ret_fd = fd;
    return VOUCH_OK;
}

vouch_err vouch_server_start(struct vouch_app *app, struct vouch_server **ret,
                             uint16_t *ret_port, struct vouch_errbuf *eb)
{
    struct vouch_server *s;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    unsigned threads = app->cfg.threads;
    uint16_t port = 0;
    long ncpu;
    int fd = -1;
    vouch_err e;

    if (strchr(app->cfg.listen_host, ':'))
        flags |= MHD_USE_IPv6;
    if (!threads) {
        ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        threads = ncpu > 0 ? (unsigned)ncpu : 2;
    }
    /* The issuer names the bound port: set it before any request can come. */
    e = listen_socket(app, &fd, &port, eb);
    if (!e && (e = vouch_app_set_issuer(app, app->cfg.listen_host, port, eb)))
        close(fd);
    if (e)
        return e;
    s = calloc(1, sizeof(*s));
    if (!s) {
        close(fd);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    s->app = app;
    atomic_init(&s->active, 0);
    s->daemon = MHD_start_daemon(flags, port, NULL, NULL, on_request, s,
                                 MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                                 MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                                 MHD_OPTION_THREAD_POOL_SIZE, threads,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
                                 MHD_OPTION_END);
    if (!s->daemon) {
        close(fd);
        free(s);
        return vouch_fail(eb, VOUCH_E_IO, "cannot serve on %s", app->cfg.listen);
    }
    *ret_port = port;
    *ret = s;
    return VOUCH_OK;
}

void vouch_server_stop(struct vouch_server *s, unsigned drain_ms)
{
    struct timespec tick = { 0, 10 * 1000 * 1000 };
    unsigned waited = 0;
    MHD_socket fd;

    if (!s)
        return;
    fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    while (atomic_load(&s->active) > 0 && waited < drain_ms) {
        nanosleep(&tick, NULL);
        waited += 10;
    }
    MHD_stop_daemon(s->daemon);
    free(s);
}
