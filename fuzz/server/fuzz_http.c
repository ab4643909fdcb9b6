/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver over the whole HTTP API in-process: an input is one
 * request written as HTTP/1.1 text,
 *
 *     METHOD TARGET\n            (TARGET = path[?query], %-escaped)
 *     Name: value\n              (any bytes, NUL included, up to the \n)
 *     ...
 *     \n
 *     body                       (the rest)
 *
 * framed the way libmicrohttpd hands a request to vouchd (path and query
 * %-decoded, the first of repeated names wins) and sent through
 * vouch_app_dispatch(): the router, admin authentication and every handler,
 * over an app set up as vouchd sets it up (store on a temporary SQLite
 * file, admin token "fuzz-admin-token", no network dependency configured).
 * Stored state carries over between inputs, as in a running server.
 *
 * Invariants: no crash, no leak, a status in 200..599, never a 500, and
 * every error answer is application/problem+json whose "status" matches
 * (the OAuth endpoints answer OAuth's error JSON instead, docs/oidc.md).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/codec.h"
#include "server/api.h"
#include "server/app.h"
#include "fuzz_text.h"

#define FUZZ_ADMIN_TOKEN "fuzz-admin-token"
#define MAX_FIELDS 32
#define MAX_LINE 8192
/* Key rotation makes RSA keys (slow); enough calls to cover the handler. */
#define MAX_ROTATIONS 4

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vouch_app app;
static char dir[64];
static unsigned rotations;

static void cleanup(void)
{
    char path[128];

    vouch_app_done(&app);
    snprintf(path, sizeof(path), "%s/vouch.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/vouch.db-shm", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/vouch.db", dir);
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct vouch_config cfg;
    struct vouch_errbuf eb;
    char db[128], *token = NULL;
    char *args[] = { "vouchd", "--db", db, "--admin-token", FUZZ_ADMIN_TOKEN,
                     "--listen", "127.0.0.1:0", "--log-level", "error",
                     "--allowed-audiences", "sts.amazonaws.com", NULL };

    (void)argc;
    (void)argv;
    snprintf(dir, sizeof(dir), "/tmp/vouch-fuzz-http-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    snprintf(db, sizeof(db), "sqlite:%s/vouch.db", dir);
    if (vouch_config_load(&cfg, 11, args, false, &eb) ||
        vouch_app_init(&app, &cfg, &token, &eb) ||
        vouch_app_set_issuer(&app, "127.0.0.1", 8080, &eb)) {
        fprintf(stderr, "fuzz_http: setup: %s\n", eb.msg);
        abort();
    }
    free(token);
    atexit(cleanup);
    return 0;
}

/* One request, owned copies of its parts (all NUL-terminated). */
struct fuzz_req {
    char method[17];
    char *path;
    char *query;                           /* the raw query string, split in place */
    char *body;
    size_t body_len;
    struct fuzz_text_headers hdr;
    struct vouch_http_field args[MAX_FIELDS];
    size_t n_args;
};

/* %-decode in place as libmicrohttpd does: bad escapes stay as they are. */
static void unescape(char *s)
{
    char *out = s;

    for (; *s; s++) {
        int hi, lo;

        if (*s == '%' && (hi = vouch_hex_digit(s[1])) >= 0 &&
            (lo = vouch_hex_digit(s[2])) >= 0) {
            *out++ = (char)(hi << 4 | lo);
            s += 2;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
}

/* Split "a=1&b&c=%41" into args (a key without '=' has no value: absent). */
static void split_query(struct fuzz_req *r)
{
    char *p = r->query, *amp, *eq;

    while (p && *p && r->n_args < MAX_FIELDS) {
        amp = strchr(p, '&');
        if (amp)
            *amp = '\0';
        eq = strchr(p, '=');
        if (eq) {
            *eq = '\0';
            unescape(p);
            unescape(eq + 1);
            r->args[r->n_args].name = p;
            r->args[r->n_args].value = eq + 1;
            r->args[r->n_args].value_len = strlen(eq + 1);
            r->n_args++;
        }
        p = amp ? amp + 1 : NULL;
    }
}

static bool parse_request_line(struct fuzz_req *r, const uint8_t *line, size_t len)
{
    const uint8_t *sp = memchr(line, ' ', len);
    char *target, *q;

    if (!sp || sp == line || (size_t)(sp - line) >= sizeof(r->method) || len > MAX_LINE)
        return false;
    memcpy(r->method, line, (size_t)(sp - line));
    target = fuzz_text_dup(sp + 1, len - (size_t)(sp - line) - 1);
    q = strchr(target, '?');
    if (q) {
        *q = '\0';
        r->query = q + 1;
    }
    unescape(target);
    r->path = target;
    split_query(r);
    return true;
}

static void fuzz_req_done(struct fuzz_req *r)
{
    free(r->path);
    free(r->body);
    fuzz_text_headers_free(&r->hdr);
}

/* An error answer is problem+json naming the same status; at "/" and at the
 * operator's "/admin/vtpm/{account}" the vTPM service's RPC-style JSON with
 * a RequestId and a Code may answer instead (the router's own 405 and 401
 * there are still problem+json). */
static void check_answer(const char *path, const struct vouch_http_resp *resp)
{
    json_t *doc, *st;

    if (resp->status < 200 || resp->status > 599 || resp->status == 500) {
        fprintf(stderr, "fuzz_http: status %u: %.*s\n", resp->status, (int)resp->body_len,
                resp->body ? resp->body : "");
        abort();
    }
    if (resp->status < 400)
        return;
    if (resp->route && resp->route->fn == vouch_api_oauth_unsupported) {
        doc = json_loadb(resp->body, resp->body_len, 0, NULL);
        if (!resp->content_type || strcmp(resp->content_type, "application/json;charset=UTF-8") ||
            !json_is_string(json_object_get(doc, "error")) ||
            !json_is_string(json_object_get(doc, "error_description")))
            abort();
        json_decref(doc);
        return;
    }
    if ((strcmp(path, "/") == 0 || strncmp(path, "/admin/vtpm/", 12) == 0) &&
        (!resp->content_type ||
         strcmp(resp->content_type, "application/problem+json") != 0)) {
        doc = json_loadb(resp->body, resp->body_len, 0, NULL);
        if (!json_is_string(json_object_get(doc, "Code")) ||
            !json_is_string(json_object_get(doc, "RequestId")))
            abort();
        json_decref(doc);
        return;
    }
    if (!resp->content_type || strcmp(resp->content_type, "application/problem+json") != 0)
        abort();
    doc = json_loadb(resp->body, resp->body_len, 0, NULL);
    st = json_object_get(doc, "status");
    if (!json_is_integer(st) || json_integer_value(st) != (json_int_t)resp->status)
        abort();
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *pos = data, *end = data + size, *line;
    struct vouch_http_resp resp;
    struct vouch_http_plain plain;
    struct vouch_http_req req;
    struct fuzz_req r;
    size_t len;

    memset(&r, 0, sizeof(r));
    line = fuzz_text_line(&pos, end, &len);
    if (!line || !parse_request_line(&r, line, len))
        goto out;
    fuzz_text_headers_read(&r.hdr, &pos, end, MAX_LINE);
    r.body_len = (size_t)(end - pos);
    r.body = fuzz_text_dup(pos, r.body_len);
    if (strcmp(r.method, "POST") == 0 && strcmp(r.path, "/admin/keys/rotate") == 0 &&
        ++rotations > MAX_ROTATIONS)
        goto out;
    plain = (struct vouch_http_plain){ r.hdr.v, r.hdr.n, r.args, r.n_args };
    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    req.method = r.method;
    req.path = r.path;
    req.body = (const uint8_t *)r.body;
    req.body_len = r.body_len;
    vouch_http_req_plain(&req, &plain);
    vouch_app_dispatch(&app, &req, &resp);
    check_answer(r.path, &resp);
    vouch_http_resp_done(&resp);
out:
    fuzz_req_done(&r);
    return 0;
}
