/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Client commands: `vouch attest` sends evidence to a Vouch service and
 * prints the result; `vouch verify-token` checks a token against an
 * issuer's published keys, as a relying party does.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/tdx_collect.h"
#include "common/file.h"
#include "common/codec.h"
#include "common/json.h"
#include "common/time.h"
#include "crypto/jose.h"
#include "evidence/dcap/dcap.h"
#include "net/http_client.h"

#define RESPONSE_MAX (16u << 20)

/* One exchange with the service (any status): 0, or -1 after printing why. */
static int http_call(const char *method, const char *url, const char *body,
                     const char *content_type, long *ret_status, char **ret_body,
                     size_t *ret_len)
{
    struct vouch_http_request req = {
        .method = method, .url = url, .content_type = content_type,
        .body = (const uint8_t *)body, .body_len = body ? strlen(body) : 0,
        .max = RESPONSE_MAX, .timeout = 60,
    };
    struct vouch_http_response resp;
    struct vouch_errbuf eb;
    uint8_t *out;

    if (vouch_http_exchange(&req, &resp, &eb)) {
        fprintf(stderr, "vouch: %s %s\n", method, eb.msg);
        vouch_http_response_done(&resp);
        return -1;
    }
    out = vouch_buf_steal(&resp.body, ret_len);
    *ret_status = resp.status;
    vouch_http_response_done(&resp);
    if (!out)
        return -1;
    *ret_body = (char *)out;
    return 0;
}

#define EVIDENCE_MAX (16u << 20)

static const char *default_url(void)
{
    const char *u = getenv("VOUCH_URL");

    return u && *u ? u : "http://127.0.0.1:8080";
}

/* Print a token's header and payload, with tcb-status expanded. */
static int print_token(const char *tok, size_t len)
{
    json_t *h = NULL, *p = NULL, *tcb, *out;
    struct vouch_errbuf eb;

    if (vouch_jws_decode_unverified(tok, len, &h, &p, &eb)) {
        fprintf(stderr, "vouch: the answer is not a token: %s\n", eb.msg);
        return VOUCH_EXIT_ERROR;
    }
    tcb = json_object_get(p, "tcb-status");
    if (json_is_string(tcb)) {
        json_t *parsed = json_loads(json_string_value(tcb), 0, NULL);

        if (parsed)
            json_object_set_new(p, "tcb-status", parsed);
    }
    out = json_pack("{s:o,s:o}", "header", h, "payload", p);
    json_dumpf(out, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(out);
    return VOUCH_EXIT_OK;
}

/* A JSON evidence document: it must be an object; sent as written. */
static char *evidence_json(const unsigned char *data, size_t len, size_t *ret_len,
                           struct vouch_errbuf *eb)
{
    json_error_t err;
    json_t *doc = json_loadb((const char *)data, len, 0, &err);
    char *text = NULL;

    if (!doc || !json_is_object(doc)) {
        if (doc)
            vouch_fail(eb, VOUCH_E_INVALID, "the JSON document is not an object");
        else
            vouch_fail(eb, VOUCH_E_INVALID, "not JSON at line %d, column %d: %s", err.line,
                       err.column, err.text);
    } else if ((text = malloc(len + 1))) {
        memcpy(text, data, len);
        text[len] = '\0';
        *ret_len = len;
    }
    json_decref(doc);
    return text;
}

/*
 * The evidence document: a JSON file as is, or an SGX/TDX quote (raw or
 * hex) wrapped as {"quote": b64}, once it parses as one.  NULL with the
 * reason in eb.
 */
static char *evidence_doc(const unsigned char *data, size_t len, size_t *ret_len,
                          struct vouch_errbuf *eb)
{
    struct vouch_dcap_quote parsed;
    size_t i = 0, qlen;
    uint8_t *q = NULL;
    bool owned = false;
    json_t *doc;
    char *b64, *text = NULL;

    while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
        i++;
    if (i < len && (data[i] == '{' || data[i] == '['))
        return evidence_json(data, len, ret_len, eb);
    if (vouch_dcap_quote_decode(data, len, &q, &qlen, &owned, eb))
        return NULL;
    if (vouch_dcap_quote_parse(q, qlen, &parsed, eb)) {
        vouch_fail_prefix(eb, VOUCH_E_INVALID, "not JSON, and not a quote: ");
        goto out;
    }
    b64 = vouch_b64_alloc(q, qlen, VOUCH_B64_STD);
    doc = json_pack("{s:s?,s:n}", "quote", b64, "cc_eventlog");
    free(b64);
    text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (text)
        *ret_len = strlen(text);
    else
        vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
out:
    if (owned)
        free(q);
    return text;
}

struct attest_args {
    const char *tee, *file, *url, *hash, *rd_hex, *rd_json, *audience;
    const char *tsm_dir, *ccel, *out, *eventlog, *aa_eventlog;
    json_t *pids;
    bool ear, raw, collect;
};

/* Returns 0, or the usage status. */
static int parse_attest_args(int argc, char **argv, struct attest_args *a)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        struct { const char *name; const char **slot; } opts[] = {
            { "--tee", &a->tee }, { "--evidence", &a->file }, { "--url", &a->url },
            { "--runtime-data-hex", &a->rd_hex }, { "--runtime-data-json", &a->rd_json },
            { "--hash", &a->hash }, { "--tsm-dir", &a->tsm_dir }, { "--ccel", &a->ccel },
            { "--out", &a->out }, { "--audience", &a->audience },
            { "--eventlog", &a->eventlog }, { "--aa-eventlog", &a->aa_eventlog },
        };
        size_t k;

        if (strcmp(arg, "--ear") == 0 || strcmp(arg, "--raw") == 0 ||
            strcmp(arg, "--collect") == 0) {
            *(arg[2] == 'e' ? &a->ear : arg[2] == 'r' ? &a->raw : &a->collect) = true;
            continue;
        }
        if (!v)
            return vouch_cli_usage("attest");
        for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
            if (strcmp(arg, opts[k].name) == 0)
                break;
        if (k < sizeof(opts) / sizeof(opts[0]))
            *opts[k].slot = v;
        else if (strcmp(arg, "--policy") == 0)
            json_array_append_new(a->pids, json_string(v));
        else
            return vouch_cli_usage("attest");
        i++;
    }
    if (!a->tee || !a->file == !a->collect)
        return vouch_cli_usage("attest");
    if (a->collect && strcmp(a->tee, "tdx") != 0) {
        fprintf(stderr, "vouch: --collect supports --tee tdx only\n");
        return VOUCH_EXIT_USAGE;
    }
    if ((a->eventlog || a->aa_eventlog) && strcmp(a->tee, "tdx") != 0) {
        fprintf(stderr, "vouch: --eventlog and --aa-eventlog are for --tee tdx\n");
        return VOUCH_EXIT_USAGE;
    }
    if (a->rd_hex && a->rd_json) {
        fprintf(stderr, "vouch: --runtime-data-hex and --runtime-data-json are alternatives; "
                "give one\n");
        return VOUCH_EXIT_USAGE;
    }
    if (a->eventlog && a->collect) {
        fprintf(stderr, "vouch: with --collect the CC event log is --ccel (default %s)\n",
                VOUCH_TDX_CCEL_PATH);
        return VOUCH_EXIT_USAGE;
    }
    return 0;
}

/* runtime_data from --runtime-data-hex / --runtime-data-json, or NULL; -1 on bad input. */
static int runtime_data_arg(const struct attest_args *a, json_t **ret)
{
    *ret = NULL;
    if (a->rd_hex) {
        uint8_t *b;
        size_t bl;
        char *b64;

        if (vouch_hex_decode(a->rd_hex, strlen(a->rd_hex), 4096, &b, &bl, NULL)) {
            fprintf(stderr, "vouch: --runtime-data-hex is not hex\n");
            return -1;
        }
        b64 = vouch_b64_alloc(b, bl, VOUCH_B64URL);
        *ret = json_pack("{s:s?}", "raw", b64);
        free(b64);
        free(b);
    } else if (a->rd_json) {
        json_t *s = json_loads(a->rd_json, JSON_DECODE_ANY, NULL);

        if (!s) {
            fprintf(stderr, "vouch: --runtime-data-json is not JSON\n");
            return -1;
        }
        *ret = json_pack("{s:o}", "structured", s);
    }
    return 0;
}

/*
 * POST /challenge: runtime_data {"structured": {"nonce": N}, "challenge_token": T},
 * or NULL after printing why.
 */
static json_t *challenge_runtime_data(const char *url)
{
    char endpoint[600], *resp = NULL;
    size_t len;
    long status = 0;
    json_t *doc = NULL, *rd = NULL;
    const char *nonce, *tok;

    snprintf(endpoint, sizeof(endpoint), "%s/challenge", url);
    if (http_call("POST", endpoint, "{\"tee\":\"tdx\"}", "application/json", &status, &resp,
                  &len))
        return NULL;
    if (status == 200)
        doc = json_loadb(resp, len, 0, NULL);
    nonce = json_string_value(json_object_get(doc, "nonce"));
    tok = json_string_value(json_object_get(json_object_get(doc, "extra-params"), "jwt"));
    if (nonce && tok)
        rd = json_pack("{s:{s:s},s:s}", "structured", "nonce", nonce, "challenge_token", tok);
    else
        fprintf(stderr, "vouch: %s answered %ld without a nonce and token:\n%s\n", endpoint,
                status, resp);
    json_decref(doc);
    free(resp);
    return rd;
}

/* Collect a quote bound to runtime_data (and the CCEL); the evidence document, or NULL. */
static char *collect_tdx(const struct attest_args *a, const json_t *rd, size_t *ret_len)
{
    struct vouch_errbuf eb;
    uint8_t report_data[VOUCH_TSM_REPORT_DATA], *quote = NULL, *ccel = NULL;
    size_t qlen = 0, clen = 0;
    int h = a->hash ? vouch_hash_from_name(a->hash) : VOUCH_HASH_SHA384;
    char *doc = NULL;
    vouch_err e;

    if (h < 0) {
        fprintf(stderr, "vouch: --hash %s is not sha256, sha384 or sha512\n", a->hash);
        return NULL;
    }
    /* first, so that a --ccel FILE that cannot be read costs no quote */
    e = vouch_file_read(a->ccel ? a->ccel : VOUCH_TDX_CCEL_PATH, VOUCH_TDX_CCEL_MAX, &ccel,
                        &clen, &eb);
    if (e == VOUCH_E_NOT_FOUND && !a->ccel)
        e = VOUCH_OK;                 /* no CCEL at the default path: the quote alone */
    if (!e)
        e = vouch_tdx_report_data(rd, (enum vouch_hash)h, report_data, &eb);
    if (!e)
        e = vouch_tsm_report(a->tsm_dir ? a->tsm_dir : VOUCH_TSM_REPORT_DIR, report_data, &quote,
                             &qlen, &eb);
    if (!e)
        e = vouch_tdx_evidence_doc(quote, qlen, ccel, clen, &doc, &eb);
    if (e)
        fprintf(stderr, "vouch: collecting TDX evidence: %s\n", eb.msg);
    else
        *ret_len = strlen(doc);
    free(quote);
    free(ccel);
    return doc;
}

/* The token to --out FILE (mode 0600), or printed. */
static int deliver(const struct attest_args *a, const char *resp, size_t len)
{
    FILE *f;
    int fd;

    if (!a->out)
        return a->raw ? (printf("%s\n", resp), VOUCH_EXIT_OK) : print_token(resp, len);
    fd = open(a->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f || fwrite(resp, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "vouch: cannot write %s\n", a->out);
        if (f == NULL && fd >= 0)
            close(fd);
        return VOUCH_EXIT_ERROR;
    }
    fprintf(stderr, "vouch: token stored in %s\n", a->out);
    return VOUCH_EXIT_OK;
}

/*
 * Put --eventlog FILE (as base64 `cc_eventlog`: a CCEL or a dstack JSON log)
 * and --aa-eventlog FILE (as text `aa_eventlog`) into the TDX evidence
 * document, replacing what it carried.  Returns the new document (the old
 * one is freed) or NULL after printing why.
 */
static char *with_eventlogs(const struct attest_args *a, char *doc, size_t *len)
{
    unsigned char *cc = NULL, *aa = NULL;
    size_t cc_len = 0, aa_len = 0;
    json_t *j = json_loadb(doc, *len, 0, NULL), *v;
    char *b64 = NULL, *text = NULL;

    if (!json_is_object(j)) {
        fprintf(stderr, "vouch: the evidence is not a JSON object; cannot add event logs\n");
        goto out;
    }
    if (a->eventlog) {
        if (vouch_cli_read_file(a->eventlog, VOUCH_TDX_CCEL_MAX, &cc, &cc_len))
            goto out;
        b64 = vouch_b64_alloc(cc, cc_len, VOUCH_B64_STD);
        if (!b64 || json_object_set_new(j, "cc_eventlog", json_string(b64))) {
            fprintf(stderr, "vouch: out of memory adding %s\n", a->eventlog);
            goto out;
        }
    }
    if (a->aa_eventlog) {
        if (vouch_cli_read_file(a->aa_eventlog, VOUCH_TDX_CCEL_MAX, &aa, &aa_len))
            goto out;
        v = json_stringn((const char *)aa, aa_len);
        if (!v) {
            fprintf(stderr, "vouch: %s is not UTF-8 text\n", a->aa_eventlog);
            goto out;
        }
        json_object_set_new(j, "aa_eventlog", v);
    }
    text = json_dumps(j, JSON_COMPACT);
    if (text)
        *len = strlen(text);
    else
        fprintf(stderr, "vouch: out of memory writing the evidence\n");
out:
    json_decref(j);
    free(b64);
    free(cc);
    free(aa);
    free(doc);
    return text;
}

/* The evidence document: collected in the TD, or from --evidence. */
static char *evidence_of(const struct attest_args *a, json_t **rd, size_t *ret_len, int *rc)
{
    struct vouch_errbuf eb = { "" };
    unsigned char *data = NULL;
    size_t len;
    char *doc = NULL;

    if (a->collect) {
        if (!*rd && !(*rd = challenge_runtime_data(a->url)))
            return NULL;
        return collect_tdx(a, *rd, ret_len);
    }
    if (vouch_cli_read_file(a->file, EVIDENCE_MAX, &data, &len))
        return NULL;
    doc = evidence_doc(data, len, ret_len, &eb);
    if (!doc) {
        fprintf(stderr, "vouch: --evidence %s: %s\n", a->file, eb.msg);
        *rc = VOUCH_EXIT_USAGE;
    }
    free(data);
    return doc;
}

int vouch_cmd_attest(int argc, char **argv)
{
    struct attest_args a = { .url = default_url(), .pids = json_array() };
    json_t *req = NULL, *rd = NULL;
    char *doc = NULL, *ev = NULL, *body = NULL, *resp = NULL, endpoint[600];
    size_t doclen = 0, resp_len = 0;
    long status = 0;
    int rc = parse_attest_args(argc, argv, &a);

    if (rc)
        goto out;
    rc = VOUCH_EXIT_USAGE;
    if (runtime_data_arg(&a, &rd))
        goto out;
    rc = VOUCH_EXIT_ERROR;
    doc = evidence_of(&a, &rd, &doclen, &rc);
    if (doc && (a.eventlog || a.aa_eventlog))
        doc = with_eventlogs(&a, doc, &doclen);
    if (!doc)
        goto out;
    ev = vouch_b64_alloc(doc, doclen, VOUCH_B64URL);
    req = json_pack("{s:s,s:s?,s:O}", "tee", a.tee, "evidence", ev, "policy_ids", a.pids);
    if (rd)
        json_object_set(req, "runtime_data", rd);
    if (a.hash)
        json_object_set_new(req, "runtime_data_hash_algorithm", json_string(a.hash));
    if (a.audience)
        json_object_set_new(req, "audience", json_string(a.audience));
    body = json_dumps(req, JSON_COMPACT);
    snprintf(endpoint, sizeof(endpoint), "%s/v1/attestation%s", a.url, a.ear ? "?token=ear" : "");
    if (!body || http_call("POST", endpoint, body, "application/json", &status, &resp,
                             &resp_len))
        goto out;
    if (status != 200) {
        fprintf(stderr, "vouch: %s answered %ld:\n%s\n", endpoint, status, resp);
        rc = VOUCH_EXIT_FAIL;
        goto out;
    }
    rc = deliver(&a, resp, resp_len);
out:
    free(doc);
    free(ev);
    free(body);
    free(resp);
    json_decref(req);
    json_decref(rd);
    json_decref(a.pids);
    return rc;
}

/* A string member, or "" when absent or not a string. */
static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

/* GET url and parse the JSON answer. */
static json_t *get_json(const char *url)
{
    char *body = NULL;
    size_t len;
    long status;
    json_t *v = NULL;
    struct vouch_errbuf eb;

    if (http_call("GET", url, NULL, NULL, &status, &body, &len))
        return NULL;
    if (status != 200)
        fprintf(stderr, "vouch: GET %s: HTTP %ld\n", url, status);
    else if (vouch_json_parse(body, len, &v, &eb))
        fprintf(stderr, "vouch: GET %s: %s\n", url, eb.msg);
    free(body);
    return v;
}

/* Whether a JSON string is exactly s (an embedded NUL does not stop the compare). */
static bool string_is(const json_t *v, const char *s)
{
    size_t n = strlen(s);

    return json_is_string(v) && json_string_length(v) == n &&
           memcmp(json_string_value(v), s, n) == 0;
}

/*
 * Whether the token's aud names `audience`: a string equal to it, or
 * (RFC 7519 section 4.1.3) an array of strings, one of them equal to it.
 */
static bool aud_names(const json_t *payload, const char *audience)
{
    const json_t *aud = json_object_get(payload, "aud"), *v;
    bool found = false;
    size_t i;

    if (!json_is_array(aud))
        return string_is(aud, audience);
    json_array_foreach(aud, i, v) {
        if (!json_is_string(v))
            return false;
        found = found || string_is(v, audience);
    }
    return found;
}

/* iss is the issuer and, when audience is given, aud names it: 0, or -1 after printing why. */
static int check_iss_aud(const json_t *payload, const char *issuer, const char *audience)
{
    if (!string_is(json_object_get(payload, "iss"), issuer)) {
        fprintf(stderr, "vouch: token rejected: iss is not %s\n", issuer);
        return -1;
    }
    if (audience && !aud_names(payload, audience)) {
        fprintf(stderr, "vouch: token rejected: aud is not %s nor an array of strings "
                "holding it\n", audience);
        return -1;
    }
    return 0;
}

int vouch_cmd_verify_token(int argc, char **argv)
{
    const char *issuer = NULL, *tok = NULL, *audience = NULL, *kid = NULL, *jwks_uri;
    unsigned char *buf = NULL;
    json_t *conf = NULL, *jwks = NULL, *hdr = NULL, *payload = NULL, *keys;
    EVP_PKEY *key = NULL;
    enum vouch_jws_alg alg;
    struct vouch_errbuf eb;
    char url[600];
    size_t len, k;
    int i, rc = VOUCH_EXIT_FAIL;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--issuer") == 0 && i + 1 < argc)
            issuer = argv[++i];
        else if (strcmp(argv[i], "--audience") == 0 && i + 1 < argc)
            audience = argv[++i];
        else if (!tok && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
            tok = argv[i];
        else
            return vouch_cli_usage("verify-token");
    }
    if (!tok || !issuer)
        return vouch_cli_usage("verify-token");
    if (strcmp(tok, "-") == 0) {
        if (vouch_cli_read_file("-", 1 << 20, &buf, &len))
            return VOUCH_EXIT_ERROR;
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            buf[--len] = '\0';
        tok = (const char *)buf;
    }
    if (vouch_jws_decode_unverified(tok, strlen(tok), &hdr, NULL, &eb)) {
        fprintf(stderr, "vouch: not a token: %s\n", eb.msg);
        goto out;
    }
    if (!(kid = json_string_value(json_object_get(hdr, "kid")))) {
        fprintf(stderr, "vouch: the token's header has no kid naming its key\n");
        goto out;
    }
    snprintf(url, sizeof(url), "%s/.well-known/openid-configuration", issuer);
    conf = get_json(url);
    jwks_uri = conf ? json_string_value(json_object_get(conf, "jwks_uri")) : NULL;
    if (!jwks_uri || strcmp(str(conf, "issuer"), issuer)) {
        fprintf(stderr, "vouch: %s does not describe issuer %s\n", url, issuer);
        rc = VOUCH_EXIT_ERROR;
        goto out;
    }
    jwks = get_json(jwks_uri);
    keys = jwks ? json_object_get(jwks, "keys") : NULL;
    for (k = 0; keys && k < json_array_size(keys); k++) {
        json_t *jwk = json_array_get(keys, k);

        if (json_is_string(json_object_get(jwk, "kid")) &&
            strcmp(json_string_value(json_object_get(jwk, "kid")), kid) == 0)
            break;
    }
    if (!keys || k == json_array_size(keys)) {
        fprintf(stderr, "vouch: no key '%s' in %s\n", kid, jwks_uri);
        goto out;
    }
    if (vouch_jwk_import(json_array_get(keys, k), &key, &alg, &eb) ||
        vouch_jws_verify(tok, strlen(tok), alg, key, NULL, &payload, &eb) ||
        vouch_jwt_check_times(payload, vouch_clock_now(), 60, &eb)) {
        fprintf(stderr, "vouch: token rejected: %s\n", eb.msg);
        goto out;
    }
    if (check_iss_aud(payload, issuer, audience))
        goto out;
    fprintf(stderr, "vouch: token verified: %s signature by key %s of %s, not expired\n",
            vouch_jws_alg_name(alg), kid, issuer);
    rc = print_token(tok, strlen(tok));
out:
    EVP_PKEY_free(key);
    json_decref(conf);
    json_decref(jwks);
    json_decref(hdr);
    json_decref(payload);
    free(buf);
    return rc;
}
