/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "server/app.h"
#include "server/router.h"

static void h_a(struct vouch_app *app, const struct vouch_http_req *req,
                struct vouch_http_resp *resp)
{
    (void)app;
    (void)req;
    resp->status = 201;
}

static void h_b(struct vouch_app *app, const struct vouch_http_req *req,
                struct vouch_http_resp *resp)
{
    (void)app;
    (void)req;
    resp->status = 202;
}

static const struct vouch_route table[] = {
    { "GET", "/healthz", h_a, 0 },
    { "GET", "/policy", h_a, 0 },
    { "POST", "/policy", h_b, VOUCH_ROUTE_ADMIN },
    { "GET", "/policy/{id}", h_b, 0 },
    { "DELETE", "/policy/{id}", h_a, 0 },
    { "GET", "/a/{x}/b/{y}", h_a, 0 },
};

static void test_match_table(void **state)
{
    static const struct {
        const char *method, *path;
        enum vouch_route_result want;
        size_t index, nparams;     /* index: the route found, or the path's first */
        const char *p0, *p1, *allow;
    } cases[] = {
        { "GET", "/healthz", VOUCH_ROUTE_FOUND, 0, 0, NULL, NULL, NULL },
        { "HEAD", "/healthz", VOUCH_ROUTE_FOUND, 0, 0, NULL, NULL, NULL },
        { "POST", "/healthz", VOUCH_ROUTE_BAD_METHOD, 0, 0, NULL, NULL, "GET" },
        { "GET", "/healthz/", VOUCH_ROUTE_NOT_FOUND, 0, 0, NULL, NULL, NULL },
        { "GET", "/healthzz", VOUCH_ROUTE_NOT_FOUND, 0, 0, NULL, NULL, NULL },
        { "GET", "/", VOUCH_ROUTE_NOT_FOUND, 0, 0, NULL, NULL, NULL },
        { "GET", "", VOUCH_ROUTE_NOT_FOUND, 0, 0, NULL, NULL, NULL },
        { "POST", "/policy", VOUCH_ROUTE_FOUND, 2, 0, NULL, NULL, NULL },
        { "PUT", "/policy", VOUCH_ROUTE_BAD_METHOD, 1, 0, NULL, NULL, "GET, POST" },
        { "GET", "/policy/default", VOUCH_ROUTE_FOUND, 3, 1, "default", NULL, NULL },
        { "DELETE", "/policy/x", VOUCH_ROUTE_FOUND, 4, 1, "x", NULL, NULL },
        { "PATCH", "/policy/x", VOUCH_ROUTE_BAD_METHOD, 3, 0, NULL, NULL, "GET, DELETE" },
        { "GET", "/policy//", VOUCH_ROUTE_NOT_FOUND, 0, 0, NULL, NULL, NULL },
        { "GET", "/policy/x/y", VOUCH_ROUTE_NOT_FOUND, 0, 0, NULL, NULL, NULL },
        { "GET", "/a/1/b/22", VOUCH_ROUTE_FOUND, 5, 2, "1", "22", NULL },
        { "GET", "/a/1/c/22", VOUCH_ROUTE_NOT_FOUND, 0, 0, NULL, NULL, NULL },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct vouch_route *r = NULL;
        const char *params[VOUCH_HTTP_MAX_PARAMS];
        char scratch[VOUCH_ROUTE_PATH_MAX + 1], allow[64];
        size_t np = 99;
        enum vouch_route_result got;

        got = vouch_route_match(table, sizeof(table) / sizeof(table[0]), cases[i].method,
                                cases[i].path, scratch, &r, params, &np, allow, sizeof(allow));
        if (got != cases[i].want)
            fail_msg("%s %s: got %d want %d", cases[i].method, cases[i].path, got,
                     cases[i].want);
        if (got == VOUCH_ROUTE_FOUND) {
            assert_ptr_equal(r, &table[cases[i].index]);
            assert_int_equal(np, cases[i].nparams);
            if (cases[i].p0)
                assert_string_equal(params[0], cases[i].p0);
            if (cases[i].p1)
                assert_string_equal(params[1], cases[i].p1);
        }
        if (got == VOUCH_ROUTE_BAD_METHOD)     /* the path's first route, for its flags */
            assert_ptr_equal(r, &table[cases[i].index]);
        if (cases[i].allow)
            assert_string_equal(allow, cases[i].allow);
    }
}

static void test_overlong_path(void **state)
{
    char *path = malloc(VOUCH_ROUTE_PATH_MAX + 10);
    char scratch[VOUCH_ROUTE_PATH_MAX + 1], allow[8];
    const char *params[VOUCH_HTTP_MAX_PARAMS];
    const struct vouch_route *r;
    size_t np;

    (void)state;
    path[0] = '/';
    memset(path + 1, 'a', VOUCH_ROUTE_PATH_MAX + 5);
    path[VOUCH_ROUTE_PATH_MAX + 6] = '\0';
    assert_int_equal(vouch_route_match(table, 6, "GET", path, scratch, &r, params, &np, allow,
                                       sizeof(allow)), VOUCH_ROUTE_NOT_FOUND);
    free(path);
}

static const char *fake_header(const struct vouch_http_req *r, const char *name)
{
    return strcasecmp(name, "Authorization") == 0 ? r->impl : NULL;
}

/* Dispatch: 404/405 problems, admin auth, handler call. */
static void test_dispatch(void **state)
{
    struct vouch_app app;
    struct vouch_http_req req;
    struct vouch_http_resp resp;
    json_t *body;

    (void)state;
    memset(&app, 0, sizeof(app));
    app.routes = table;
    app.n_routes = sizeof(table) / sizeof(table[0]);
    /* admin hash = sha256("0123456789abcdef") */
    {
        static const uint8_t h[32] = {
            0x9f, 0x9f, 0x51, 0x11, 0xf7, 0xb2, 0x7a, 0x78, 0x1f, 0x1f, 0x1d, 0xdd,
            0xe5, 0xeb, 0xc2, 0xdd, 0x2b, 0x79, 0x6b, 0xfc, 0x73, 0x65, 0xc9, 0xc2,
            0x8b, 0x54, 0x8e, 0x56, 0x41, 0x76, 0x92, 0x9f,
        };
        memcpy(app.admin_hash, h, 32);
    }
    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    req.method = "GET";
    req.path = "/nope";
    vouch_app_dispatch(&app, &req, &resp);
    assert_int_equal(resp.status, 404);
    assert_string_equal(resp.content_type, "application/problem+json");
    body = json_loadb(resp.body, resp.body_len, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(body, "code")),
                        "VOUCH.REQUEST.NOT_FOUND");
    assert_int_equal(json_integer_value(json_object_get(body, "status")), 404);
    assert_non_null(json_object_get(body, "type"));
    assert_non_null(json_object_get(body, "title"));
    assert_non_null(json_object_get(body, "detail"));
    json_decref(body);
    vouch_http_resp_done(&resp);

    req.method = "PUT";
    req.path = "/policy";
    vouch_app_dispatch(&app, &req, &resp);
    assert_int_equal(resp.status, 405);
    assert_string_equal(resp.headers[0].name, "Allow");
    assert_string_equal(resp.headers[0].value, "GET, POST");
    vouch_http_resp_done(&resp);

    /* Admin route without, with a wrong, and with the right token. */
    req.method = "POST";
    vouch_app_dispatch(&app, &req, &resp);
    assert_int_equal(resp.status, 401);
    vouch_http_resp_done(&resp);
    {
        static const struct {
            const char *auth;
            unsigned want;
        } cases[] = {
            { NULL, 401 },
            { "Bearer wrong-token-000000", 401 },
            { "Basic MDEyMzQ1Njc4OWFiY2RlZg==", 401 },
            { "Bearer 0123456789abcdef0", 401 },
            { "Bearer 0123456789abcdef", 202 },
            { "bearer  0123456789abcdef", 202 },
        };
        size_t i;

        req.header = fake_header;
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            req.impl = (void *)cases[i].auth;
            vouch_app_dispatch(&app, &req, &resp);
            if (resp.status != cases[i].want)
                fail_msg("auth '%s': got %u", cases[i].auth ? cases[i].auth : "(none)",
                         resp.status);
            vouch_http_resp_done(&resp);
        }
    }
}

/* sha256("0123456789abcdef"), the admin token of the tests below */
static const uint8_t admin_hash[32] = {
    0x9f, 0x9f, 0x51, 0x11, 0xf7, 0xb2, 0x7a, 0x78, 0x1f, 0x1f, 0x1d, 0xdd,
    0xe5, 0xeb, 0xc2, 0xdd, 0x2b, 0x79, 0x6b, 0xfc, 0x73, 0x65, 0xc9, 0xc2,
    0x8b, 0x54, 0x8e, 0x56, 0x41, 0x76, 0x92, 0x9f,
};

/*
 * The admin token is compared over the whole header value as sent: a NUL
 * inside it does not cut the value short (sizeof - 1: the literal's length).
 */
static void test_admin_auth_full_value(void **state)
{
#define AUTH(lit) { lit, sizeof(lit) - 1 }
    static const struct {
        const char *value;
        size_t len;
        unsigned want;
    } cases[] = {
        { "Bearer 0123456789abcdef", sizeof("Bearer 0123456789abcdef") - 1, 202 },
        AUTH("Bearer 0123456789abcdef\0junk"),
        AUTH("Bearer 0123456789abcdef\0"),
        AUTH("Bearer \0" "0123456789abcdef"),
        AUTH("\0Bearer 0123456789abcdef"),
        AUTH("Bearer 0123456789abcde\0f"),
        AUTH("Bearer "),
        AUTH("Bearer"),
        AUTH(""),
    };
#undef AUTH
    struct vouch_app app;
    struct vouch_http_req req;
    struct vouch_http_resp resp;
    size_t i;

    (void)state;
    memset(&app, 0, sizeof(app));
    app.routes = table;
    app.n_routes = sizeof(table) / sizeof(table[0]);
    memcpy(app.admin_hash, admin_hash, 32);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_http_field h = { "authorization", cases[i].value, cases[i].len };
        struct vouch_http_plain plain = { &h, 1, NULL, 0 };

        memset(&req, 0, sizeof(req));
        memset(&resp, 0, sizeof(resp));
        req.method = "POST";
        req.path = "/policy";
        vouch_http_req_plain(&req, &plain);
        vouch_app_dispatch(&app, &req, &resp);
        if (resp.status != (cases[i].want ? cases[i].want : 401))
            fail_msg("case %zu: got %u", i, resp.status);
        vouch_http_resp_done(&resp);
    }
}

/* {id} captures: at most 512 bytes of UTF-8 text, else a 400 naming "id". */
static void test_capture_checks(void **state)
{
    static const struct {
        const char *id;
        unsigned want;
    } cases[] = {
        { "default", 202 },
        { "caf\xc3\xa9", 202 },
        { "a b", 202 },
        { "\xff", 400 },
        { "\xc3", 400 },
        { "\xc0\xaf", 400 },            /* overlong '/' */
        { "\xed\xa0\x80", 400 },        /* surrogate */
        { "a\x01", 400 },
        { "a\x7f", 400 },
        { "\xc2\x85", 400 },             /* C1 control */
        { "%ff", 202 },                  /* already decoded: a literal percent sign */
    };
    char long_ok[513], long_bad[514];
    struct vouch_app app;
    size_t i;

    (void)state;
    memset(&app, 0, sizeof(app));
    app.routes = table;
    app.n_routes = sizeof(table) / sizeof(table[0]);
    memset(long_ok, 'a', 512);
    long_ok[512] = '\0';
    memset(long_bad, 'a', 513);
    long_bad[513] = '\0';
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]) + 2; i++) {
        const char *id = i < sizeof(cases) / sizeof(cases[0]) ? cases[i].id
                         : i == sizeof(cases) / sizeof(cases[0]) ? long_ok : long_bad;
        unsigned want = i < sizeof(cases) / sizeof(cases[0]) ? cases[i].want
                        : i == sizeof(cases) / sizeof(cases[0]) ? 202 : 400;
        struct vouch_http_req req;
        struct vouch_http_resp resp;
        char path[600];
        json_t *body;

        snprintf(path, sizeof(path), "/policy/%s", id);
        memset(&req, 0, sizeof(req));
        memset(&resp, 0, sizeof(resp));
        req.method = "GET";
        req.path = path;
        vouch_app_dispatch(&app, &req, &resp);
        if (resp.status != want)
            fail_msg("id case %zu: got %u want %u", i, resp.status, want);
        if (want == 400) {
            body = json_loadb(resp.body, resp.body_len, 0, NULL);
            assert_string_equal(json_string_value(json_object_get(body, "field")), "id");
            json_decref(body);
        }
        vouch_http_resp_done(&resp);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_table),
        cmocka_unit_test(test_overlong_path),
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_admin_auth_full_value),
        cmocka_unit_test(test_capture_checks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
