/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver over the vTPM RPC request path: parameter collection
 * (query and form body), signature v1/v3 checks, time and nonce checks,
 * action dispatch and the actions, in-process through
 * vouch_app_dispatch() over an app on a temporary SQLite store with its
 * clock pinned (--fixed-time 2024-01-01T12:00:00Z) and one access key,
 * id "VKfuzz", secret "fuzzsecret".
 *
 * An input is
 *
 *     MODE METHOD QUERY\n        (MODE: "raw" or "sign"; QUERY: %-escaped)
 *     Name: value\n              (headers, up to a blank line)
 *     \n
 *     body                       (the rest)
 *
 * With "sign" the driver completes the query as a client would
 * (AccessKeyId, SignatureMethod/Version, a fresh SignatureNonce, the
 * pinned Timestamp, unless given) and appends a correct signature v1 over
 * the query and a form body, so inputs reach the actions.  "raw" sends the
 * request as written (wrong signatures, v3 headers, replays).
 *
 * Invariants: no crash, no leak, a status in 200..599, never a 500, every
 * answer JSON with a RequestId, and a Code exactly on 4xx/5xx answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/codec.h"
#include "rpc/rpc.h"
#include "server/app.h"
#include "server/router.h"
#include "fuzz_text.h"

#define FUZZ_KEY_ID "VKfuzz"
#define FUZZ_SECRET "fuzzsecret"
#define FUZZ_TIME "2024-01-01T12:00:00Z"
#define MAX_FIELDS 32
#define MAX_LINE 65536

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vouch_app app;
static char dir[64];
static unsigned long counter;

static void cleanup(void)
{
    static const char *const files[] = { "vouch.db-wal", "vouch.db-shm", "vouch.db" };
    char path[128];
    size_t i;

    vouch_app_done(&app);
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct vouch_config cfg;
    struct vouch_errbuf eb;
    char db[128], *token = NULL;
    char *args[] = { "vouchd", "--db", db, "--admin-token", "fuzz-admin-token",
                     "--listen", "127.0.0.1:0", "--log-level", "error",
                     "--fixed-time", FUZZ_TIME, NULL };

    (void)argc;
    (void)argv;
    snprintf(dir, sizeof(dir), "/tmp/vouch-fuzz-vtpm-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    snprintf(db, sizeof(db), "sqlite:%s/vouch.db", dir);
    if (vouch_config_load(&cfg, 11, args, false, &eb) ||
        vouch_app_init(&app, &cfg, &token, &eb) ||
        vouch_store_accesskey_create(app.store, "fuzz", FUZZ_KEY_ID, FUZZ_SECRET, 0, &eb)) {
        fprintf(stderr, "fuzz_vtpm: setup: %s\n", eb.msg);
        abort();
    }
    free(token);
    atexit(cleanup);
    return 0;
}

struct fuzz_req {
    char method[17];
    bool sign;
    struct vouch_buf query;
    char *body;
    size_t body_len;
    struct vouch_rpc_params args;          /* the decoded query, as the server sees it */
    struct fuzz_text_headers hdr;
    struct vouch_http_field fields[VOUCH_RPC_MAX_PARAMS];
};

/* "MODE METHOD QUERY" */
static bool parse_first_line(struct fuzz_req *r, const uint8_t *line, size_t len)
{
    char *copy, *method, *query, *save = NULL;
    bool ok = false;

    if (len > MAX_LINE)
        return false;
    copy = fuzz_text_dup(line, len);
    if (strncmp(copy, "sign ", 5) == 0 || strncmp(copy, "raw ", 4) == 0) {
        r->sign = copy[0] == 's';
        method = strtok_r(copy + (r->sign ? 5 : 4), " ", &save);
        query = strtok_r(NULL, "", &save);
        if (method && strlen(method) < sizeof(r->method)) {
            memcpy(r->method, method, strlen(method) + 1);
            ok = vouch_buf_puts(&r->query, query ? query : "") == VOUCH_OK;
        }
    }
    free(copy);
    return ok;
}

static bool is_form(const struct fuzz_req *r)
{
    size_t i;

    for (i = 0; i < r->hdr.n; i++)
        if (strcasecmp(r->hdr.v[i].name, "Content-Type") == 0)
            return strncasecmp(r->hdr.v[i].value, "application/x-www-form-urlencoded",
                               33) == 0;
    return false;
}

/* Complete the query as a client would and append its signature v1. */
static void sign(struct fuzz_req *r)
{
    static const char *const common[][2] = {
        { "AccessKeyId", FUZZ_KEY_ID }, { "SignatureMethod", "HMAC-SHA1" },
        { "SignatureVersion", "1.0" }, { "Timestamp", FUZZ_TIME },
        { "Version", "2020-06-13" },
    };
    struct vouch_rpc_params all = VOUCH_RPC_PARAMS_INIT;
    char sig[VOUCH_RPC_V1_SIG_LEN + 1], nonce[32];
    size_t i;

    if (vouch_rpc_params_parse(&all, (const char *)r->query.data, r->query.len, NULL))
        goto out;
    for (i = 0; i < sizeof(common) / sizeof(common[0]); i++)
        if (!vouch_rpc_param(&all, common[i][0]) &&
            !vouch_rpc_params_add(&all, common[i][0], common[i][1], NULL))
            vouch_buf_printf(&r->query, "&%s=%s", common[i][0], common[i][1]);
    snprintf(nonce, sizeof(nonce), "n%lu", ++counter);
    if (!vouch_rpc_param(&all, "SignatureNonce") &&
        !vouch_rpc_params_add(&all, "SignatureNonce", nonce, NULL))
        vouch_buf_printf(&r->query, "&SignatureNonce=%s", nonce);
    if (is_form(r) && vouch_rpc_params_parse(&all, r->body, r->body_len, NULL))
        goto out;
    if (!vouch_rpc_v1_sign(&all, r->method, FUZZ_SECRET, sig, NULL)) {
        vouch_buf_puts(&r->query, "&Signature=");
        vouch_rpc_encode(&r->query, sig, strlen(sig));
    }
out:
    vouch_rpc_params_free(&all);
}

/* An answer is JSON with a RequestId; a Code exactly when it is an error. */
static void check_answer(const struct vouch_http_resp *resp)
{
    json_t *doc;
    bool is_error = resp->status >= 400;

    if (resp->status < 200 || resp->status > 599 || resp->status == 500) {
        fprintf(stderr, "fuzz_vtpm: status %u: %.*s\n", resp->status, (int)resp->body_len,
                resp->body ? resp->body : "");
        abort();
    }
    if (resp->content_type && strcmp(resp->content_type, "application/problem+json") == 0)
        return;                       /* the router's own answers (405) */
    doc = json_loadb(resp->body, resp->body_len, 0, NULL);
    if (!json_is_string(json_object_get(doc, "RequestId")) ||
        json_is_string(json_object_get(doc, "Code")) != is_error)
        abort();
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *pos = data, *end = data + size, *line;
    struct fuzz_req r = { .query = VOUCH_BUF_INIT(VOUCH_RPC_MAX_TOTAL),
                          .args = VOUCH_RPC_PARAMS_INIT };
    struct vouch_http_resp resp;
    struct vouch_http_plain plain;
    struct vouch_http_req req;
    size_t len, i;

    line = fuzz_text_line(&pos, end, &len);
    if (!line || !parse_first_line(&r, line, len))
        goto out;
    fuzz_text_headers_read(&r.hdr, &pos, end, MAX_LINE);
    r.body_len = (size_t)(end - pos);
    r.body = fuzz_text_dup(pos, r.body_len);
    if (r.sign)
        sign(&r);
    /* The server's view of the query: decoded pairs ('+' is a space). */
    if (r.query.len && vouch_rpc_params_parse(&r.args, (const char *)r.query.data, r.query.len,
                                              NULL))
        goto out;
    for (i = 0; i < r.args.n; i++)
        r.fields[i] = (struct vouch_http_field){ r.args.v[i].name, r.args.v[i].value,
                                                 r.args.v[i].value_len };
    plain = (struct vouch_http_plain){ r.hdr.v, r.hdr.n, r.fields, r.args.n };
    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    req.method = r.method;
    req.path = "/";
    req.body = (const uint8_t *)r.body;
    req.body_len = r.body_len;
    vouch_http_req_plain(&req, &plain);
    vouch_app_dispatch(&app, &req, &resp);
    check_answer(&resp);
    vouch_http_resp_done(&resp);
out:
    vouch_rpc_params_free(&r.args);
    vouch_buf_free(&r.query);
    free(r.body);
    fuzz_text_headers_free(&r.hdr);
    return 0;
}
