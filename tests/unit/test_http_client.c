/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The outbound HTTP client (src/net/http_client.c) against a small HTTP/1.0
 * server on 127.0.0.1 run by this test: statuses, the kept header, POST
 * bodies, the body cap, no redirects, refused schemes and TLS verification.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "net/http_client.h"

static int listen_fd = -1;
static int port;
static pthread_t server_thread;

/* Read one request: headers up to the blank line, then Content-Length bytes. */
static size_t read_request(int fd, char *buf, size_t size)
{
    size_t len = 0, want = 0;
    char *end = NULL, *cl;
    ssize_t r;

    while (len + 1 < size) {
        r = recv(fd, buf + len, size - 1 - len, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        if (buf[0] < 'A' || buf[0] > 'Z')
            break; /* not HTTP (a TLS ClientHello): answer at once */
        if (!end && (end = strstr(buf, "\r\n\r\n"))) {
            cl = strcasestr(buf, "Content-Length:");
            want = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
        }
        if (end && len >= want)
            break;
    }
    buf[len] = '\0';
    return len;
}

static void answer(int fd, const char *req)
{
    char out[4096], big[3000];
    const char *body;

    if (strncmp(req, "GET /ok ", 8) == 0) {
        snprintf(out, sizeof(out), "HTTP/1.0 200 OK\r\nX-Chain: a%%20b\r\n"
                 "Content-Length: 5\r\n\r\nhello");
    } else if (strncmp(req, "GET /big ", 9) == 0) {
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        snprintf(out, sizeof(out), "HTTP/1.0 200 OK\r\n\r\n%s", big);
    } else if (strncmp(req, "GET /moved ", 11) == 0) {
        snprintf(out, sizeof(out), "HTTP/1.0 302 Found\r\nLocation: /ok\r\n\r\n");
    } else if (strncmp(req, "POST /echo ", 11) == 0 &&
               strcasestr(req, "Content-Type: application/ocsp-request") &&
               (body = strstr(req, "\r\n\r\n"))) {
        snprintf(out, sizeof(out), "HTTP/1.0 200 OK\r\n\r\n%s", body + 4);
    } else {
        snprintf(out, sizeof(out), "HTTP/1.0 404 Not Found\r\n\r\n");
    }
    (void)!send(fd, out, strlen(out), MSG_NOSIGNAL);
}

static void *serve(void *arg)
{
    char req[8192];
    int fd;

    (void)arg;
    while ((fd = accept(listen_fd, NULL, NULL)) >= 0) {
        if (read_request(fd, req, sizeof(req)) > 0)
            answer(fd, req);
        close(fd);
    }
    return NULL;
}

static int start(void **state)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);

    (void)state;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) ||
        listen(listen_fd, 8) || getsockname(listen_fd, (struct sockaddr *)&a, &alen))
        return -1;
    port = ntohs(a.sin_port);
    return pthread_create(&server_thread, NULL, serve, NULL);
}

static int stop(void **state)
{
    (void)state;
    shutdown(listen_fd, SHUT_RDWR);
    close(listen_fd);
    pthread_join(server_thread, NULL);
    return 0;
}

static void url(char *out, size_t size, const char *scheme, const char *path)
{
    snprintf(out, size, "%s://127.0.0.1:%d%s", scheme, port, path);
}

/* GET through vouch_http_fetch: outcome by path and cap. */
static void test_fetch(void **state)
{
    static const struct {
        const char *scheme, *path;
        size_t max;
        vouch_err want;
        long status;               /* when the exchange completed */
    } cases[] = {
        { "http", "/ok", 0, VOUCH_OK, 200 },
        { "http", "/missing", 0, VOUCH_E_NOT_FOUND, 404 },
        { "http", "/moved", 0, VOUCH_E_UNAVAILABLE, 302 },     /* not followed */
        { "http", "/big", 1000, VOUCH_E_TOO_LARGE, 0 },
        { "http", "/big", 4000, VOUCH_OK, 200 },
        { "https", "/ok", 0, VOUCH_E_UNAVAILABLE, 0 },          /* no TLS there: refused */
        { "ftp", "/ok", 0, VOUCH_E_UNAVAILABLE, 0 },            /* scheme not allowed */
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_http_request req = { .max = cases[i].max, .want_header = "x-chain" };
        struct vouch_http_response resp;
        struct vouch_errbuf eb = { "" };
        char u[128];
        vouch_err e;

        url(u, sizeof(u), cases[i].scheme, cases[i].path);
        req.url = u;
        e = vouch_http_fetch(&req, &resp, &eb);
        if (e != cases[i].want || (cases[i].status && resp.status != cases[i].status))
            fail_msg("%s: got %s, status %ld: %s", u, vouch_err_name(e), resp.status, eb.msg);
        if (e)
            assert_non_null(strstr(eb.msg, "127.0.0.1"));
        if (!e && strcmp(cases[i].path, "/ok") == 0) {
            assert_int_equal(resp.body.len, 5);
            assert_memory_equal(resp.body.data, "hello", 5);
            assert_string_equal(resp.header, "a%20b"); /* as sent */
        }
        vouch_http_response_done(&resp);
    }
}

/* POST with a content type, as the OCSP transport does; a closed port is I/O. */
static void test_post(void **state)
{
    static const uint8_t req[] = "\x30\x03\x02\x01\x07";
    uint8_t *body = NULL;
    size_t len = 0;
    struct vouch_errbuf eb;
    char u[128];
    int closed;

    (void)state;
    url(u, sizeof(u), "http", "/echo");
    assert_int_equal(vouch_http_post(NULL, u, "application/ocsp-request", req, sizeof(req) - 1,
                                     1024, &body, &len, &eb), VOUCH_OK);
    assert_int_equal(len, sizeof(req) - 1);
    assert_memory_equal(body, req, len);
    free(body);
    body = NULL;
    assert_int_equal(vouch_http_post(NULL, u, "application/ocsp-request", req, sizeof(req) - 1,
                                     2, &body, &len, &eb), VOUCH_E_TOO_LARGE);
    assert_null(body);
    /* a port nothing listens on: bind one, close it, ask there */
    {
        struct sockaddr_in a;
        socklen_t alen = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
        closed = ntohs(a.sin_port);
        close(fd);
    }
    snprintf(u, sizeof(u), "http://127.0.0.1:%d/echo", closed);
    assert_int_equal(vouch_http_post(NULL, u, "application/ocsp-request", req, sizeof(req) - 1,
                                     1024, &body, &len, &eb), VOUCH_E_UNAVAILABLE);
    assert_null(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fetch),
        cmocka_unit_test(test_post),
    };

    return cmocka_run_group_tests(tests, start, stop);
}
