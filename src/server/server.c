/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
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
#include <openssl/rand.h>

#include "common/buf.h"
#include "common/codec.h"
#include "common/log.h"
#include "common/time.h"
#include "crypto/digest.h"
#include "server/api.h"
#include "server/metrics.h"
#include "server/ratelimit.h"
#include "server/server.h"
#include "server/tls.h"

/*
 * Body bytes read and dropped after a 413 before the connection closes, so
 * a client that sends its whole body before reading sees the answer.
 */
#define LINGER_MAX (16u << 20)
/* How often connections are checked against their request deadline. */
#define REAPER_TICK_MS 200
/* Client keys kept by each rate limiter (bounded memory; see ratelimit.h). */
#define RATE_KEYS 65536
#define AUTH_FAIL_KEYS 8192
/* libmicrohttpd messages logged per second at most. */
#define MHD_LOG_PER_SECOND 20u
/*
 * HTTP worker threads per core by default.  A request that waits for a
 * durable commit (a vTPM report in its group commit, a PostgreSQL round
 * trip) holds its thread without using the CPU, and with it every other
 * connection libmicrohttpd gave that thread; more threads than cores keep
 * the cores busy meanwhile and let reports commit together
 * (docs/architecture.md, "Group commit").  On SQLite a thread costs a
 * stack and a connection to a file; on PostgreSQL it costs a server
 * connection, which the server's max_connections bounds across replicas.
 */
#define THREADS_PER_CORE_SQLITE 32
#define THREADS_PER_CORE_POSTGRES 4
/* Random bytes in a request id vouchd makes (hex: twice as many characters). */
#define REQUEST_ID_BYTES 16
/* Idle time (no byte moving) after which libmicrohttpd closes a connection. */
#define IDLE_TIMEOUT_S 30u

/*
 * One open connection, from libmicrohttpd's "started" to its "closed"
 * notification.  The reaper thread shuts down the socket of a connection
 * whose request deadline has passed; the list lock makes sure the socket
 * is still this connection's (libmicrohttpd closes it only after "closed").
 */
struct connslot {
    struct connslot *prev, *next;
    MHD_socket fd;
    _Atomic uint64_t deadline_us;   /* monotonic; 0 while a request is being answered */
    uint64_t tls_generation;        /* of the certificate pairs when it opened (tls.h) */
};

struct vouch_server {
    struct MHD_Daemon *daemon;
    struct vouch_app *app;
    atomic_long active;       /* requests between first callback and completion */
    uint64_t request_timeout_us;
    pthread_mutex_t conns_lock;
    struct connslot conns;    /* list head */
    pthread_t reaper;
    bool reaper_started;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    bool stopping;
    struct vouch_ratelimit *rate_ip;        /* --rate-limit per client address */
    struct vouch_ratelimit *rate_cred;      /* --rate-limit per credential */
    struct vouch_ratelimit *auth_failures;  /* --admin-auth-failures per address */
    struct vouch_tls *tls;    /* --tls-cert, --tls-key; NULL: plain HTTP */
    atomic_uint untracked;    /* open connections without a slot (out of memory) */
};

/* Per-request state, from the first callback to the completion callback. */
struct reqctx {
    struct vouch_server *srv;
    struct MHD_Connection *conn;
    struct vouch_buf body;
    size_t body_cap;          /* --max-body, or --vtpm-max-request for the RPC route */
    bool large;               /* the vTPM RPC route (VOUCH_ROUTE_LARGE) */
    struct connslot *slot;
    uint8_t client_key[VOUCH_RATELIMIT_KEY_LEN];
    bool has_credential;
    uint64_t start_us;
    bool refused;             /* rate-limited: answer `refusal` after the body */
    struct vouch_http_resp refusal;
    bool too_large;           /* answered 413 on the socket; lingering */
    size_t lingered;          /* body bytes dropped since */
    bool answered;
    unsigned status;
    size_t bytes;
    const char *code;
    char method[16];
    char path[256];           /* for the log line; truncated */
    char request_id[VOUCH_REQUEST_ID_MAX + 1];   /* X-Request-Id */
    char remote[INET6_ADDRSTRLEN];
    const struct vouch_route *route;   /* matched, for the log line and metrics */
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

struct query_walk {
    bool (*fn)(void *ctx, const char *name, const char *value, size_t value_len);
    void *ctx;
    bool ok;
};

static enum MHD_Result query_one(void *cls, enum MHD_ValueKind kind, const char *key,
                                 size_t key_size, const char *value, size_t value_size)
{
    struct query_walk *w = cls;

    (void)kind;
    (void)key_size;
    if (!w->fn(w->ctx, key, value ? value : "", value ? value_size : 0)) {
        w->ok = false;
        return MHD_NO;
    }
    return MHD_YES;
}

static bool req_query_each(const struct vouch_http_req *r,
                           bool (*fn)(void *ctx, const char *name, const char *value,
                                      size_t value_len),
                           void *ctx)
{
    struct reqctx *rc = r->impl;
    struct query_walk w = { fn, ctx, true };

    MHD_get_connection_values_n(rc->conn, MHD_GET_ARGUMENT_KIND, query_one, &w);
    return w.ok;
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
    MHD_add_response_header(r, "X-Request-Id", rc->request_id);
    rc->route = resp->route;
    rc->status = resp->status;
    rc->bytes = resp->body_len;
    rc->code = resp->code;
    rc->answered = true;
    ret = MHD_queue_response(rc->conn, resp->status, r);
    MHD_destroy_response(r);
    vouch_http_resp_done(resp);
    return ret;
}

/*
 * Answer before the body is read (413 to a client waiting for
 * 100-continue, a framing error), and close the connection after: the
 * body is never read.
 */
static enum MHD_Result answer_early(struct reqctx *rc, struct vouch_http_resp *resp)
{
    vouch_http_resp_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    return send_response(rc, resp);
}

/* The 413 answer: problem+json, or the RPC style on the vTPM endpoint. */
static void too_large_answer(struct reqctx *rc, struct vouch_http_resp *resp)
{
    if (rc->large)
        vouch_api_vtpm_too_large(rc->request_id,
                                 MHD_lookup_connection_value(rc->conn, MHD_HEADER_KIND,
                                                             MHD_HTTP_HEADER_HOST),
                                 rc->body_cap, resp);
    else
        vouch_http_problem(resp, 413, "VOUCH.REQUEST.TOO_LARGE", NULL,
                           "the request body is larger than the limit of %zu bytes",
                           rc->body_cap);
}

static enum MHD_Result too_large(struct reqctx *rc)
{
    struct vouch_http_resp resp = { .request_id = rc->request_id };

    too_large_answer(rc, &resp);
    return answer_early(rc, &resp);
}

/*
 * Answer 413 for a body over the cap (announced, or found in the middle
 * of a chunked one).  libmicrohttpd 0.9.75 takes no response once a body
 * is being read, and an early one makes it close at once, which resets
 * the connection under a client still sending, so that the client often
 * never reads the answer.  So the 413 is written on the socket here
 * (nothing else is being sent on it at this point), and then at most
 * LINGER_MAX more bytes are read and dropped, giving the client time to
 * read it, before the connection is closed.
 */
static void too_large_raw(struct reqctx *rc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(rc->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct vouch_http_resp resp = { .request_id = rc->request_id };
    char head[512];
    int n;

    rc->too_large = true;
    rc->answered = true;
    rc->status = 413;
    vouch_buf_free(&rc->body);
    rc->code = rc->large ? "InvalidParameter.TooLarge" : "VOUCH.REQUEST.TOO_LARGE";
    if (rc->srv->tls)
        return;   /* TLS records, not bytes: answered through libmicrohttpd at the end */
    too_large_answer(rc, &resp);
    n = snprintf(head, sizeof(head), "HTTP/1.1 413 %s\r\nConnection: close\r\n"
                 "Content-Type: %s\r\nX-Content-Type-Options: nosniff\r\n"
                 "X-Request-Id: %s\r\nContent-Length: %zu\r\n\r\n", vouch_http_reason(413),
                 resp.content_type, rc->request_id, resp.body_len);
    if (ci && n > 0 && (size_t)n < sizeof(head) &&
        send(ci->connect_fd, head, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT | MSG_MORE) == n &&
        send(ci->connect_fd, resp.body, resp.body_len, MSG_NOSIGNAL | MSG_DONTWAIT) ==
            (ssize_t)resp.body_len) {
        rc->bytes = resp.body_len;
        shutdown(ci->connect_fd, SHUT_WR);
    }
    vouch_http_resp_done(&resp);
}

/* The connection's deadline: now + the request timeout, or 0 (none). */
static void slot_arm(struct vouch_server *srv, struct connslot *slot, bool armed)
{
    if (slot)
        atomic_store(&slot->deadline_us, armed ? vouch_clock_us() + srv->request_timeout_us : 0);
}

/*
 * The rate-limit key of a client: its IPv4 address (as IPv4-mapped IPv6),
 * or the /64 prefix of its IPv6 address, since one host commonly holds a
 * whole /64.
 */
static void client_key(struct MHD_Connection *conn, uint8_t key[VOUCH_RATELIMIT_KEY_LEN])
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    memset(key, 0, VOUCH_RATELIMIT_KEY_LEN);
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)(const void *)sa;

        key[10] = key[11] = 0xff;
        memcpy(key + 12, &a4->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)(const void *)sa;

        memcpy(key, &a6->sin6_addr, IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr) ? 16 : 8);
    }
}

/*
 * 429 with Retry-After: problem+json, or on the vTPM endpoint the RPC
 * error body the Alibaba SDKs read (they ignore the status, and would take
 * a body without Code for an answer).
 */
static void rate_limited_answer(struct reqctx *rc, struct vouch_http_resp *resp,
                                uint64_t wait_us, const char *what)
{
    char msg[128], detail[132], retry[VOUCH_RATELIMIT_RETRY_LEN];

    if (!rc->large) {
        vouch_http_rate_limited(resp, wait_us, what);
        return;
    }
    vouch_ratelimit_refusal(wait_us, what, retry, msg, sizeof(msg));
    snprintf(detail, sizeof(detail), "(%s)", msg);
    vouch_api_vtpm_rate_limited(rc->request_id,
                                MHD_lookup_connection_value(rc->conn, MHD_HEADER_KIND,
                                                            MHD_HTTP_HEADER_HOST),
                                detail, resp);
    vouch_http_resp_header(resp, "Retry-After", retry);
}

/*
 * The rate limits a request meets once its headers are in, before its
 * body is read.  Returns true and fills `resp` when it is refused.
 */
static bool rate_limited(struct reqctx *rc, struct vouch_http_resp *resp)
{
    struct vouch_server *srv = rc->srv;
    const char *auth = MHD_lookup_connection_value(rc->conn, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_AUTHORIZATION);
    uint64_t now = vouch_clock_us(), wait = 0;
    uint8_t digest[32];

    rc->has_credential = auth && *auth;
    if (!srv->rate_ip && !srv->auth_failures)
        return false;
    client_key(rc->conn, rc->client_key);
    if (srv->auth_failures && rc->has_credential &&
        !vouch_ratelimit_peek(srv->auth_failures, rc->client_key, now, &wait)) {
        rate_limited_answer(rc, resp, wait, "failed authentications from this address");
        vouch_metrics_rate_limited(VOUCH_LIMIT_AUTH_FAILURES);
        return true;
    }
    if (srv->rate_ip && !vouch_ratelimit_take(srv->rate_ip, rc->client_key, now, &wait)) {
        rate_limited_answer(rc, resp, wait, "requests from this address");
        vouch_metrics_rate_limited(VOUCH_LIMIT_ADDRESS);
        return true;
    }
    if (srv->rate_cred && rc->has_credential &&
        vouch_hash(VOUCH_HASH_SHA256, auth, strlen(auth), digest) == VOUCH_OK &&
        !vouch_ratelimit_take(srv->rate_cred, digest, now, &wait)) {
        rate_limited_answer(rc, resp, wait, "requests with this credential");
        vouch_metrics_rate_limited(VOUCH_LIMIT_CREDENTIAL);
        return true;
    }
    return false;
}

struct framing {
    unsigned content_length, transfer_encoding;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct framing *f = cls;

    (void)kind;
    (void)value;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        f->content_length++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
        f->transfer_encoding++;
    return MHD_YES;
}

/*
 * Body framing libmicrohttpd lets through but a proxy in front might read
 * differently (request smuggling): refuse it.  (A Content-Length that is
 * not a plain decimal number never gets here: libmicrohttpd answers it.)  Fills `resp` and returns
 * false when the framing is ambiguous.
 */
static bool framing_ok(struct reqctx *rc, struct vouch_http_resp *resp)
{
    struct framing f = { 0 };
    const char *te;

    MHD_get_connection_values(rc->conn, MHD_HEADER_KIND, count_framing, &f);
    if (f.content_length > 1 || f.transfer_encoding > 1) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.BAD_FRAMING",
                           f.content_length > 1 ? "Content-Length" : "Transfer-Encoding",
                           "the header appears more than once");
        return false;
    }
    if (f.content_length && f.transfer_encoding) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.BAD_FRAMING", "Content-Length",
                           "Content-Length and Transfer-Encoding together are ambiguous");
        return false;
    }
    te = MHD_lookup_connection_value(rc->conn, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (te && strcasecmp(te, "chunked") != 0) {
        vouch_http_problem(resp, 501, "VOUCH.REQUEST.BAD_FRAMING", "Transfer-Encoding",
                           "only the chunked transfer coding is supported");
        return false;
    }
    return true;
}

/*
 * The request id: the client's X-Request-Id when well-formed (so one id
 * follows a request through proxies and services), else 16 random bytes
 * in hex.
 */
static void request_id(struct reqctx *rc)
{
    /* random bytes for this thread's next ids: one RAND_bytes() per 64 ids */
    static _Thread_local uint8_t pool[REQUEST_ID_BYTES * 64];
    static _Thread_local size_t used = sizeof(pool);
    const char *given = MHD_lookup_connection_value(rc->conn, MHD_HEADER_KIND, "X-Request-Id");

    if (vouch_request_id_ok(given)) {
        snprintf(rc->request_id, sizeof(rc->request_id), "%s", given);
        return;
    }
    if (used == sizeof(pool)) {
        if (RAND_bytes(pool, sizeof(pool)) != 1)
            memset(pool, 0, sizeof(pool));   /* still ids; never fails in practice */
        used = 0;
    }
    vouch_hex_encode(pool + used, REQUEST_ID_BYTES, rc->request_id);
    used += REQUEST_ID_BYTES;
}

/* The client's address as text, for the log line. */
static void remote_address(struct reqctx *rc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(rc->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
                  rc->remote, sizeof(rc->remote));
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                  rc->remote, sizeof(rc->remote));
}

/* Is method + url the vTPM RPC endpoint (a VOUCH_ROUTE_LARGE route)? */
static bool large_route(const struct vouch_app *app, const char *method, const char *url)
{
    const char *params[VOUCH_HTTP_MAX_PARAMS];
    const struct vouch_route *route = NULL;
    char scratch[VOUCH_ROUTE_PATH_MAX + 1], allow[64];
    size_t n = 0;

    if (strlen(url) > VOUCH_ROUTE_PATH_MAX ||
        vouch_route_match(app->routes, app->n_routes, method, url, scratch, &route, params, &n,
                          allow, sizeof(allow)) != VOUCH_ROUTE_FOUND ||
        !(route->flags & VOUCH_ROUTE_LARGE))
        return false;
    return true;
}

/* The first callback of a request: its headers are in, its body is not. */
static enum MHD_Result request_begin(struct vouch_server *srv, struct MHD_Connection *conn,
                                     const char *url, const char *method, void **con_cls)
{
    const union MHD_ConnectionInfo *ci;
    struct vouch_http_resp resp = { 0 };
    struct reqctx *rc;
    const char *cl, *expect;

    rc = calloc(1, sizeof(*rc));
    if (!rc)
        return MHD_NO;
    rc->srv = srv;
    rc->conn = conn;
    rc->start_us = vouch_clock_us();
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    rc->slot = ci ? ci->socket_context : NULL;
    snprintf(rc->method, sizeof(rc->method), "%s", method);
    snprintf(rc->path, sizeof(rc->path), "%s", url);
    request_id(rc);
    remote_address(rc);
    resp.request_id = rc->request_id;
    rc->refusal.request_id = rc->request_id;
    /* the vTPM endpoint's body may be as large as --vtpm-max-request (whitelists) */
    rc->large = large_route(srv->app, method, url);
    rc->body_cap = srv->app->cfg.max_body;
    if (rc->large && srv->app->cfg.vtpm_max_request > rc->body_cap)
        rc->body_cap = srv->app->cfg.vtpm_max_request;
    vouch_buf_init(&rc->body, rc->body_cap);
    *con_cls = rc;
    atomic_fetch_add(&srv->active, 1);
    if (!framing_ok(rc, &resp))
        return answer_early(rc, &resp);
    /*
     * A refused request is answered once its body is in (up to the cap):
     * answering before makes libmicrohttpd close the connection under a
     * client still sending, which then often never reads the answer.
     */
    rc->refused = rate_limited(rc, &rc->refusal);
    /*
     * An announced oversized body is refused before it is read: through
     * libmicrohttpd when the client waits for 100-continue (it sends
     * nothing more), else directly (see too_large_raw()).
     */
    cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > rc->body_cap) {
        expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
        if ((expect && strcasecmp(expect, "100-continue") == 0) ||
            (srv->tls && strtoull(cl, NULL, 10) - srv->app->cfg.max_body > LINGER_MAX))
            return too_large(rc);
        too_large_raw(rc);
    }
    return MHD_YES;
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
    if (!rc)
        return request_begin(srv, conn, url, method, con_cls);
    if (rc->too_large) {
        /* Under TLS the 413 goes out once the body is in (or closes past LINGER_MAX). */
        if (!*upload_data_size && srv->tls && rc->lingered <= LINGER_MAX) {
            rc->too_large = false;
            return too_large(rc);
        }
        /* Answered already: drop a little more, then close (too_large_raw()). */
        if (!*upload_data_size || *upload_data_size > LINGER_MAX - rc->lingered)
            return MHD_NO;
        rc->lingered += *upload_data_size;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rc->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* Phase one: collect the body, up to the cap. */
        if (vouch_buf_append(&rc->body, upload_data, *upload_data_size))
            too_large_raw(rc);
        *upload_data_size = 0;
        return MHD_YES;
    }
    /* Phase two: the whole body is here; answer. */
    slot_arm(srv, rc->slot, false);
    if (rc->refused)
        return send_response(rc, &rc->refusal);
    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    req.method = method;
    req.path = url;
    req.body = rc->body.data ? rc->body.data : (const uint8_t *)"";
    req.body_len = rc->body.len;
    req.header = req_header;
    req.query = req_query;
    req.query_each = req_query_each;
    req.impl = rc;
    req.request_id = rc->request_id;
    resp.request_id = rc->request_id;
    vouch_app_dispatch(srv->app, &req, &resp);
    if (!resp.status)
        vouch_http_problem(&resp, 500, "VOUCH.INTERNAL.ERROR", NULL, "handler gave no answer");
    /* A wrong admin token (not, say, a bad challenge token) counts as a failure. */
    if (resp.status == 401 && rc->has_credential && srv->auth_failures && resp.code &&
        strcmp(resp.code, "VOUCH.AUTH.UNAUTHORIZED") == 0)
        vouch_ratelimit_charge(srv->auth_failures, rc->client_key, vouch_clock_us());
    return send_response(rc, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct vouch_server *srv = cls;
    struct reqctx *rc = *con_cls;
    struct vouch_log_request line;

    (void)conn;
    if (!rc)
        return;
    if (!rc->answered)
        rc->status = 0;
    line = (struct vouch_log_request){
        .request_id = rc->request_id, .method = rc->method, .path = rc->path,
        .route = rc->route ? rc->route->pattern : NULL, .remote = rc->remote,
        .status = rc->status, .us = vouch_clock_us() - rc->start_us,
        .bytes = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK || rc->too_large ? rc->bytes : 0,
        .code = rc->code,
    };
    vouch_log_request(&line);
    vouch_metrics_request(rc->route ? (int)(rc->route - srv->app->routes) : -1, rc->status,
                          line.us);
    /* The next request on this connection has its own deadline. */
    slot_arm(srv, rc->slot, true);
    vouch_buf_free(&rc->body);
    vouch_http_resp_done(&rc->refusal);
    free(rc);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->active, 1);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct vouch_server *srv = cls;
    struct connslot *slot = *socket_context;
    const union MHD_ConnectionInfo *ci;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED && !slot) {
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        slot = calloc(1, sizeof(*slot));
        if (!slot || !ci) {
            free(slot);    /* untracked: only libmicrohttpd's idle timeout applies */
            atomic_fetch_add(&srv->untracked, 1);
            return;
        }
        slot->fd = ci->connect_fd;
        slot->tls_generation = srv->tls ? vouch_tls_generation(srv->tls) : 0;
        slot_arm(srv, slot, true);
        vouch_metrics_connection(1);
        pthread_mutex_lock(&srv->conns_lock);
        slot->next = srv->conns.next;
        slot->prev = &srv->conns;
        slot->next->prev = slot;
        srv->conns.next = slot;
        pthread_mutex_unlock(&srv->conns_lock);
        *socket_context = slot;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && slot) {
        pthread_mutex_lock(&srv->conns_lock);
        slot->prev->next = slot->next;
        slot->next->prev = slot->prev;
        pthread_mutex_unlock(&srv->conns_lock);
        free(slot);
        *socket_context = NULL;
        vouch_metrics_connection(-1);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        atomic_fetch_sub(&srv->untracked, 1);
    }
}

/*
 * Shut down the sockets of connections past their deadline; libmicrohttpd
 * then sees the connection end and closes it as usual.  Then free the
 * retired TLS certificate pairs no open connection can hold.
 */
static void reap_late(struct vouch_server *srv)
{
    uint64_t now = vouch_clock_us(), deadline, oldest = UINT64_MAX;
    struct connslot *s;
    unsigned n = 0;
    char count[16];

    pthread_mutex_lock(&srv->conns_lock);
    for (s = srv->conns.next; s != &srv->conns; s = s->next) {
        if (s->tls_generation < oldest)
            oldest = s->tls_generation;
        deadline = atomic_load(&s->deadline_us);
        if (deadline && deadline <= now) {
            shutdown(s->fd, SHUT_RDWR);
            atomic_store(&s->deadline_us, 0);
            n++;
        }
    }
    pthread_mutex_unlock(&srv->conns_lock);
    if (srv->tls && atomic_load(&srv->untracked) == 0)
        vouch_tls_collect(srv->tls, oldest);
    if (n) {
        snprintf(count, sizeof(count), "%u", n);
        vouch_log(VOUCH_LOG_WARN, "closed connections past the request deadline", "count",
                  count, VOUCH_LOG_END);
    }
}

static void *reaper_main(void *arg)
{
    struct vouch_server *srv = arg;
    struct timespec until;

    pthread_mutex_lock(&srv->stop_lock);
    while (!srv->stopping) {
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += REAPER_TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&srv->stop_cond, &srv->stop_lock, &until);
        if (srv->stopping)
            break;
        pthread_mutex_unlock(&srv->stop_lock);
        reap_late(srv);
        pthread_mutex_lock(&srv->stop_lock);
    }
    pthread_mutex_unlock(&srv->stop_lock);
    return NULL;
}

/*
 * Whether a libmicrohttpd message may be logged: at most MHD_LOG_PER_SECOND
 * a second, since a flood of refused connections would otherwise write
 * one line each.  Returns how many were dropped before this one in *dropped.
 */
static bool mhd_log_allowed(unsigned *dropped)
{
    static _Atomic uint64_t window;
    static atomic_uint in_window, skipped;
    uint64_t now_s = vouch_clock_us() / 1000000u, w = atomic_load(&window);

    *dropped = 0;
    if (w != now_s && atomic_compare_exchange_strong(&window, &w, now_s)) {
        atomic_store(&in_window, 0);
        *dropped = atomic_exchange(&skipped, 0);
    }
    if (atomic_fetch_add(&in_window, 1) < MHD_LOG_PER_SECOND)
        return true;
    atomic_fetch_add(&skipped, 1);
    return false;
}

/*
 * libmicrohttpd answers a request line or headers over its per-connection
 * pool (--max-request-head) with 414 or 431 itself, and vouchd never sees
 * the request; its log line says only the status.  Name the limit.  The
 * status is the first argument of the library's one format for error
 * answers (0.9.75 connection.c, transmit_error_response_len).
 */
static const char *mhd_log_hint(const struct vouch_server *srv, const char *fmt, va_list ap,
                                char *buf, size_t size)
{
    static const char error_answer[] = "Error processing request (HTTP response code is %u";
    unsigned status;
    va_list args;

    if (strncmp(fmt, error_answer, sizeof(error_answer) - 1) != 0)
        return NULL;
    va_copy(args, ap);
    status = va_arg(args, unsigned);
    va_end(args);
    if (status != 414 && status != 431)
        return NULL;
    snprintf(buf, size, "the request line and headers must fit in --max-request-head "
             "(%zu bytes); send large parameters in a form body", srv->app->cfg.max_request_head);
    return buf;
}

__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    const struct vouch_server *srv = cls;
    char msg[512], count[16], hint[160];
    const char *why;
    unsigned dropped;
    size_t n;

    if (!mhd_log_allowed(&dropped))
        return;
    if (dropped) {
        snprintf(count, sizeof(count), "%u", dropped);
        vouch_log(VOUCH_LOG_WARN, "libmicrohttpd messages dropped", "count", count,
                  VOUCH_LOG_END);
    }
    why = mhd_log_hint(srv, fmt, ap, hint, sizeof(hint));
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    if (why)
        vouch_log(VOUCH_LOG_WARN, "libmicrohttpd", "detail", msg, "hint", why, VOUCH_LOG_END);
    else
        vouch_log(VOUCH_LOG_WARN, "libmicrohttpd", "detail", msg, VOUCH_LOG_END);
}

/* The rate limiters the configuration asks for; none when off. */
static vouch_err limiters_new(struct vouch_server *s, const struct vouch_config *cfg)
{
    uint64_t burst = cfg->rate_burst ? cfg->rate_burst : cfg->rate_limit;
    vouch_err e = VOUCH_OK;

    if (cfg->rate_limit) {
        e = vouch_ratelimit_new(cfg->rate_limit, 1000000, burst, RATE_KEYS, &s->rate_ip);
        if (!e)
            e = vouch_ratelimit_new(cfg->rate_limit, 1000000, burst, RATE_KEYS, &s->rate_cred);
    }
    if (!e && cfg->admin_auth_failures)
        e = vouch_ratelimit_new(cfg->admin_auth_failures, 60 * 1000000ull,
                                cfg->admin_auth_failures, AUTH_FAIL_KEYS, &s->auth_failures);
    return e;
}

static void server_free(struct vouch_server *s)
{
    if (!s)
        return;
    vouch_ratelimit_free(s->rate_ip);
    vouch_ratelimit_free(s->rate_cred);
    vouch_ratelimit_free(s->auth_failures);
    vouch_tls_free(s->tls);
    pthread_mutex_destroy(&s->conns_lock);
    pthread_mutex_destroy(&s->stop_lock);
    pthread_cond_destroy(&s->stop_cond);
    free(s);
}

static struct vouch_server *server_new(struct vouch_app *app)
{
    struct vouch_server *s = calloc(1, sizeof(*s));
    pthread_condattr_t ca;

    if (!s)
        return NULL;
    s->app = app;
    atomic_init(&s->active, 0);
    s->request_timeout_us = (uint64_t)app->cfg.request_timeout * 1000000u;
    s->conns.next = s->conns.prev = &s->conns;
    pthread_mutex_init(&s->conns_lock, NULL);
    pthread_mutex_init(&s->stop_lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->stop_cond, &ca);
    pthread_condattr_destroy(&ca);
    if (limiters_new(s, &app->cfg)) {
        server_free(s);
        return NULL;
    }
    return s;
}

static void reaper_stop(struct vouch_server *s)
{
    if (!s->reaper_started)
        return;
    pthread_mutex_lock(&s->stop_lock);
    s->stopping = true;
    pthread_cond_signal(&s->stop_cond);
    pthread_mutex_unlock(&s->stop_lock);
    pthread_join(s->reaper, NULL);
    s->reaper_started = false;
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
                             uint16_t *ret_port, struct vouch_tls_info *ret_tls,
                             struct vouch_errbuf *eb)
{
    struct MHD_OptionItem tls_opts[3] = { { MHD_OPTION_END, 0, NULL },
                                          { MHD_OPTION_END, 0, NULL },
                                          { MHD_OPTION_END, 0, NULL } };
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
        threads = (strcmp(vouch_store_backend(app->store), "sqlite") == 0
                       ? THREADS_PER_CORE_SQLITE : THREADS_PER_CORE_POSTGRES) *
                  (ncpu > 0 ? (unsigned)ncpu : 2);
    }
    /* The issuer names the bound port: set it before any request can come. */
    e = listen_socket(app, &fd, &port, eb);
    if (!e && (e = vouch_app_set_issuer(app, app->cfg.listen_host, port, eb)))
        close(fd);
    if (e)
        return e;
    s = server_new(app);
    if (!s) {
        close(fd);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    if (app->cfg.tls_cert) {
        e = vouch_tls_new(app->cfg.tls_cert, app->cfg.tls_key, &s->tls, ret_tls, eb);
        if (e) {
            close(fd);
            server_free(s);
            return e;
        }
        flags |= MHD_USE_TLS;
        tls_opts[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_CERT_CALLBACK, 0,
                                               (void *)vouch_tls_cert_callback };
        tls_opts[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
                                               (void *)VOUCH_TLS_PRIORITIES };
    }
    s->daemon = MHD_start_daemon(flags, port, NULL, NULL, on_request, s,
                                 MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                                 MHD_OPTION_ARRAY, tls_opts,
                                 MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                                 MHD_OPTION_THREAD_POOL_SIZE, threads,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                 MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                                 MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S,
                                 MHD_OPTION_CONNECTION_LIMIT, app->cfg.max_connections,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                 app->cfg.max_connections_per_ip,
                                 /* the request line and headers must fit; every
                                    connection that served a request holds this much
                                    (libmicrohttpd zeroes its whole pool between them) */
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, app->cfg.max_request_head,
                                 MHD_OPTION_END);
    if (!s->daemon) {
        close(fd);
        server_free(s);
        return vouch_fail(eb, VOUCH_E_IO, "cannot serve on %s%s", app->cfg.listen,
                          app->cfg.tls_cert && !MHD_is_feature_supported(MHD_FEATURE_TLS)
                              ? ": this libmicrohttpd has no TLS support" : "");
    }
    if (pthread_create(&s->reaper, NULL, reaper_main, s) != 0) {
        MHD_stop_daemon(s->daemon);
        server_free(s);
        return vouch_fail(eb, VOUCH_E_INTERNAL, "cannot start the request deadline thread");
    }
    s->reaper_started = true;
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
    reaper_stop(s);
    server_free(s);
}

vouch_err vouch_server_reload_tls(struct vouch_server *s, struct vouch_tls_info *ret_info,
                                  struct vouch_errbuf *eb)
{
    if (!s->tls)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "TLS is off (no --tls-cert)");
    return vouch_tls_reload(s->tls, ret_info, eb);
}
