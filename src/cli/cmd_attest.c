/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Client commands: `vouch attest` sends evidence to a Vouch service and
 * prints the result; `vouch verify-token` checks a token against an
 * issuer's published keys, as a relying party does.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
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

/* The evidence document: a JSON file as is, or a quote file wrapped as {"quote": b64}. */
static char *evidence_doc(const unsigned char *data, size_t len, size_t *ret_len)
{
    size_t i = 0;
    uint8_t *q = NULL;
    size_t qlen;
    bool owned = false;
    json_t *doc;
    char *b64, *text;

    while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
        i++;
    if (i < len && data[i] == '{') {
        text = malloc(len + 1);
        if (text) {
            memcpy(text, data, len);
            text[len] = '\0';
            *ret_len = len;
        }
        return text;
    }
    if (vouch_dcap_quote_decode(data, len, &q, &qlen, &owned, NULL))
        return NULL;
    b64 = vouch_b64_alloc(q, qlen, VOUCH_B64_STD);
    if (owned)
        free(q);
    doc = json_pack("{s:s?,s:n}", "quote", b64, "cc_eventlog");
    free(b64);
    text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (text)
        *ret_len = strlen(text);
    return text;
}

int vouch_cmd_attest(int argc, char **argv)
{
    const char *tee = NULL, *file = NULL, *url = default_url(), *hash = NULL;
    const char *rd_hex = NULL, *rd_json = NULL, *audience = NULL;
    json_t *req = NULL, *pids = json_array();
    unsigned char *data = NULL;
    char *doc = NULL, *ev = NULL, *body = NULL, *resp = NULL, endpoint[600];
    size_t len, doclen, resp_len;
    bool ear = false, raw = false;
    long status = 0;
    int i, rc = VOUCH_EXIT_ERROR;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--ear") == 0) {
            ear = true;
            continue;
        }
        if (strcmp(a, "--raw") == 0) {
            raw = true;
            continue;
        }
        if (!v) {
            json_decref(pids);
            return vouch_cli_usage("attest");
        }
        if (strcmp(a, "--tee") == 0)
            tee = v;
        else if (strcmp(a, "--evidence") == 0)
            file = v;
        else if (strcmp(a, "--url") == 0)
            url = v;
        else if (strcmp(a, "--runtime-data-hex") == 0)
            rd_hex = v;
        else if (strcmp(a, "--runtime-data-json") == 0)
            rd_json = v;
        else if (strcmp(a, "--hash") == 0)
            hash = v;
        else if (strcmp(a, "--audience") == 0)
            audience = v;
        else if (strcmp(a, "--policy") == 0)
            json_array_append_new(pids, json_string(v));
        else {
            json_decref(pids);
            return vouch_cli_usage("attest");
        }
        i++;
    }
    if (!tee || !file) {
        json_decref(pids);
        return vouch_cli_usage("attest");
    }
    if (vouch_cli_read_file(file, EVIDENCE_MAX, &data, &len))
        goto out;
    doc = evidence_doc(data, len, &doclen);
    if (!doc) {
        fprintf(stderr, "vouch: %s is neither an evidence JSON document nor a quote\n", file);
        rc = VOUCH_EXIT_USAGE;
        goto out;
    }
    ev = vouch_b64_alloc(doc, doclen, VOUCH_B64URL);
    req = json_pack("{s:s,s:s?,s:O}", "tee", tee, "evidence", ev, "policy_ids", pids);
    if (rd_hex) {
        uint8_t *b;
        size_t bl;
        char *b64;

        if (vouch_hex_decode(rd_hex, strlen(rd_hex), 4096, &b, &bl, NULL)) {
            fprintf(stderr, "vouch: --runtime-data-hex is not hex\n");
            rc = VOUCH_EXIT_USAGE;
            goto out;
        }
        b64 = vouch_b64_alloc(b, bl, VOUCH_B64URL);
        json_object_set_new(req, "runtime_data", json_pack("{s:s?}", "raw", b64));
        free(b64);
        free(b);
    } else if (rd_json) {
        json_t *s = json_loads(rd_json, JSON_DECODE_ANY, NULL);

        if (!s) {
            fprintf(stderr, "vouch: --runtime-data-json is not JSON\n");
            rc = VOUCH_EXIT_USAGE;
            goto out;
        }
        json_object_set_new(req, "runtime_data", json_pack("{s:o}", "structured", s));
    }
    if (hash)
        json_object_set_new(req, "runtime_data_hash_algorithm", json_string(hash));
    if (audience)
        json_object_set_new(req, "audience", json_string(audience));
    body = json_dumps(req, JSON_COMPACT);
    snprintf(endpoint, sizeof(endpoint), "%s/v1/attestation%s", url, ear ? "?token=ear" : "");
    if (!body || http_call("POST", endpoint, body, "application/json", &status, &resp,
                             &resp_len))
        goto out;
    if (status != 200) {
        fprintf(stderr, "vouch: %s answered %ld:\n%s\n", endpoint, status, resp);
        rc = VOUCH_EXIT_FAIL;
        goto out;
    }
    if (raw) {
        printf("%s\n", resp);
        rc = VOUCH_EXIT_OK;
    } else {
        rc = print_token(resp, resp_len);
    }
out:
    free(data);
    free(doc);
    free(ev);
    free(body);
    free(resp);
    json_decref(req);
    json_decref(pids);
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
    if (vouch_jws_decode_unverified(tok, strlen(tok), &hdr, NULL, &eb) ||
        !(kid = json_string_value(json_object_get(hdr, "kid")))) {
        fprintf(stderr, "vouch: not a token with a kid: %s\n", eb.msg);
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
    if (strcmp(str(payload, "iss"), issuer)) {
        fprintf(stderr, "vouch: token rejected: iss is not %s\n", issuer);
        goto out;
    }
    if (audience && strcmp(str(payload, "aud"), audience)) {
        fprintf(stderr, "vouch: token rejected: aud is not %s\n", audience);
        goto out;
    }
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
