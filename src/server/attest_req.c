/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/json.h"
#include "policy/initdata.h"
#include "server/attest_req.h"
#include "server/http.h"
#include "token/challenge.h"

__attribute__((format(printf, 5, 6)))
static bool fail(struct vouch_attest_problem *p, unsigned status, const char *code,
                 const char *field, const char *fmt, ...)
{
    va_list ap;

    p->status = status;
    p->code = code;
    snprintf(p->field, sizeof(p->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
    va_end(ap);
    return false;
}

#define BAD_ARG(p, field, ...) fail(p, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", field, __VA_ARGS__)

/* A failure of kind `e` in `scope`: status and code from the error table. */
__attribute__((format(printf, 5, 6)))
static bool fail_as(struct vouch_attest_problem *p, enum vouch_problem_scope scope, vouch_err e,
                    const char *field, const char *fmt, ...)
{
    const struct vouch_problem_entry *row = vouch_problem_find(scope, e, VOUCH_SUB_NONE);
    va_list ap;

    p->status = row->status;
    p->code = row->code;
    snprintf(p->field, sizeof(p->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
    va_end(ap);
    return false;
}

static bool hash_alg(const json_t *obj, const char *key, const char *path,
                     enum vouch_hash *ret, struct vouch_attest_problem *p)
{
    json_t *v = json_object_get(obj, key);
    char field[128];
    int h;

    *ret = VOUCH_HASH_SHA384;
    if (!v || json_is_null(v))
        return true;
    snprintf(field, sizeof(field), "%s%s", path, key);
    h = json_is_string(v) ? vouch_hash_from_name(json_string_value(v)) : -1;
    if (h != VOUCH_HASH_SHA256 && h != VOUCH_HASH_SHA384 && h != VOUCH_HASH_SHA512)
        return BAD_ARG(p, field, "must be sha256, sha384 or sha512");
    *ret = (enum vouch_hash)h;
    return true;
}

/* runtime_data / init_data in the {raw|structured} form. */
static bool binding_data(const json_t *obj, enum vouch_hash h, const char *field,
                         struct vouch_binding_data *ret, struct vouch_attest_problem *p)
{
    struct vouch_errbuf eb;

    if (vouch_binding_data_parse(obj, h, ret, &eb) == VOUCH_OK)
        return true;
    return BAD_ARG(p, field, "%s", eb.msg);
}

/*
 * init_data in one of its forms.  For init_data_toml: the digest of the
 * text with the algorithm it names ("algorithm = \"sha384\""), and its
 * claims; its agent policy is evaluated only once the evidence verified
 * (vouch_attest_agent_policy).
 */
static bool init_data(const json_t *obj, enum vouch_hash h, const char *path,
                      struct vouch_attest_item *it, struct vouch_attest_problem *p)
{
    json_t *digest = json_object_get(obj, "init_data_digest");
    json_t *toml = json_object_get(obj, "init_data_toml");
    char field[128];
    struct vouch_errbuf eb;

    if (digest) {
        snprintf(field, sizeof(field), "%sinit_data.init_data_digest", path);
        if (!json_is_string(digest) ||
            vouch_b64_decode(json_string_value(digest), json_string_length(digest),
                             VOUCH_B64_URL | VOUCH_B64_PAD_OPTIONAL, VOUCH_BINDING_MAX,
                             &it->init.bytes, &it->init.len, &eb) != VOUCH_OK)
            return BAD_ARG(p, field, "must be base64url");
        return true;
    }
    if (toml) {
        enum vouch_hash alg;

        snprintf(field, sizeof(field), "%sinit_data.init_data_toml", path);
        if (!json_is_string(toml) || json_string_length(toml) > VOUCH_BINDING_MAX)
            return BAD_ARG(p, field, "must be a TOML document of at most %u bytes",
                           VOUCH_BINDING_MAX);
        if (vouch_initdata_parse(json_string_value(toml), json_string_length(toml), &alg,
                                 &it->init_data_claims, &eb))
            return BAD_ARG(p, field, "%s", eb.msg);
        it->init.len = vouch_hash_size(alg);
        it->init.bytes = malloc(it->init.len);
        if (!it->init.bytes ||
            vouch_hash(alg, json_string_value(toml), json_string_length(toml), it->init.bytes))
            return fail(p, 500, "VOUCH.INTERNAL.ERROR", NULL, "cannot hash init data");
        return true;
    }
    snprintf(field, sizeof(field), "%sinit_data", path);
    return binding_data(obj, h, field, &it->init, p);
}

static bool parse_item(const json_t *o, const char *path, size_t max_evidence,
                       struct vouch_attest_item *it, struct vouch_attest_problem *p)
{
    json_t *tee = json_object_get(o, "tee"), *ev = json_object_get(o, "evidence");
    json_t *rd = json_object_get(o, "runtime_data"), *id = json_object_get(o, "init_data");
    enum vouch_hash rh, ih;
    struct vouch_errbuf eb;
    char field[128], tees[160];

    snprintf(it->path, sizeof(it->path), "%s", path);
    snprintf(field, sizeof(field), "%stee", path);
    vouch_verifier_names(tees, sizeof(tees));
    if (!json_is_string(tee))
        return BAD_ARG(p, field, "'tee' is required, one of: %s", tees);
    it->tee = json_string_value(tee);
    it->verifier = vouch_verifier_find(it->tee);
    if (!it->verifier)
        return fail(p, 400, "VOUCH.REQUEST.UNSUPPORTED_TEE", field,
                    "tee '%.32s' is not supported; one of: %s", it->tee, tees);
    snprintf(field, sizeof(field), "%sevidence", path);
    if (!json_is_string(ev))
        return BAD_ARG(p, field, "'evidence' is required: base64url of the evidence document");
    if (vouch_b64_decode(json_string_value(ev), json_string_length(ev), VOUCH_B64URL,
                         max_evidence, &it->evidence, &it->evidence_len, &eb))
        return fail(p, 400, "VOUCH.EVIDENCE.INVALID_ENCODING", field,
                    "evidence must be base64url without padding: %s", eb.msg);
    if (!hash_alg(o, "runtime_data_hash_algorithm", path, &rh, p) ||
        !hash_alg(o, "init_data_hash_algorithm", path, &ih, p))
        return false;
    if (rd && !json_is_null(rd)) {
        json_t *ct;

        snprintf(field, sizeof(field), "%sruntime_data", path);
        if (!json_is_object(rd))
            return BAD_ARG(p, field, "must be {\"raw\": base64} or {\"structured\": JSON}");
        ct = json_object_get(rd, "challenge_token");
        if (!ct && json_is_object(json_object_get(rd, "structured")))
            ct = json_object_get(json_object_get(rd, "structured"), "challenge_token");
        if (ct) {
            snprintf(field, sizeof(field), "%sruntime_data.challenge_token", path);
            if (!json_is_string(ct))
                return BAD_ARG(p, field, "must be the token from POST /challenge");
            it->challenge_token = json_string_value(ct);
        }
        if (!binding_data(rd, rh, field, &it->runtime, p))
            return false;
        it->has_runtime = true;
    }
    if (id && !json_is_null(id)) {
        snprintf(field, sizeof(field), "%sinit_data", path);
        if (!json_is_object(id))
            return BAD_ARG(p, field, "must be an object");
        if (!init_data(id, ih, path, it, p))
            return false;
        it->has_init = true;
    }
    return true;
}

static bool policy_id_ok(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > VOUCH_POLICY_ID_MAX)
        return false;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
            return false;
    return true;
}

bool vouch_attest_req_parse(const json_t *body, size_t max_evidence,
                            struct vouch_attest_req *req, struct vouch_attest_problem *p)
{
    json_t *vr = json_object_get(body, "verification_requests");
    json_t *pids = json_object_get(body, "policy_ids");
    size_t i;

    memset(req, 0, sizeof(*req));
    if (pids && !json_is_null(pids)) {
        if (!json_is_array(pids))
            return BAD_ARG(p, "policy_ids", "must be an array of policy ids");
        if (json_array_size(pids) > VOUCH_ATTEST_MAX_POLICIES)
            return BAD_ARG(p, "policy_ids", "at most %d policies per request",
                           VOUCH_ATTEST_MAX_POLICIES);
        for (i = 0; i < json_array_size(pids); i++) {
            json_t *v = json_array_get(pids, i);
            char field[48];

            snprintf(field, sizeof(field), "policy_ids[%u]", (unsigned)i);
            if (!json_is_string(v) || !policy_id_ok(json_string_value(v)))
                return BAD_ARG(p, field, "a policy id is 1-%d characters of [A-Za-z0-9._-]",
                               VOUCH_POLICY_ID_MAX);
            req->policy_ids[req->n_policies++] = json_string_value(v);
        }
    }
    if (vr) {
        req->trustee_form = true;
        if (!json_is_array(vr) || json_array_size(vr) == 0)
            return BAD_ARG(p, "verification_requests", "must be a non-empty array");
        if (json_array_size(vr) > VOUCH_ATTEST_MAX_ITEMS)
            return BAD_ARG(p, "verification_requests", "at most %d requests",
                           VOUCH_ATTEST_MAX_ITEMS);
        for (i = 0; i < json_array_size(vr); i++) {
            json_t *o = json_array_get(vr, i);
            char path[40];

            snprintf(path, sizeof(path), "verification_requests[%u].", (unsigned)(i % 100));
            if (!json_is_object(o)) {
                path[strlen(path) - 1] = '\0';
                return BAD_ARG(p, path, "must be an object");
            }
            req->n_items++;
            if (!parse_item(o, path, max_evidence, &req->items[i], p))
                return false;
        }
        return true;
    }
    req->n_items = 1;
    return parse_item(body, "", max_evidence, &req->items[0], p);
}

bool vouch_attest_agent_policy(struct vouch_attest_item *it, const struct vouch_initdata_eval *opts,
                               struct vouch_attest_problem *p)
{
    struct vouch_errbuf eb;
    char field[128];
    vouch_err e;

    if (!it->init_data_claims)
        return true;
    snprintf(field, sizeof(field), "%sinit_data.init_data_toml", it->path);
    e = vouch_initdata_agent_policy(it->init_data_claims, opts, &eb);
    if (!e)
        return true;
    /* the field is named when the init data is at fault (a 4xx row) */
    return fail_as(p, VOUCH_SCOPE_APPRAISAL, e,
                   vouch_problem_find(VOUCH_SCOPE_APPRAISAL, e, VOUCH_SUB_NONE)->status < 500
                       ? field : NULL, "%s", eb.msg);
}

void vouch_attest_req_done(struct vouch_attest_req *req)
{
    size_t i;

    for (i = 0; i < req->n_items && i < VOUCH_ATTEST_MAX_ITEMS; i++) {
        free(req->items[i].evidence);
        vouch_binding_data_done(&req->items[i].runtime);
        vouch_binding_data_done(&req->items[i].init);
        json_decref(req->items[i].init_data_claims);
    }
    memset(req, 0, sizeof(*req));
}

bool vouch_attest_check_challenge(const struct vouch_attest_item *it, const uint8_t secret[32],
                                  int64_t now, struct vouch_attest_problem *p)
{
    uint8_t nonce[VOUCH_CHALLENGE_NONCE_LEN];
    struct vouch_errbuf eb;
    char field[128];
    vouch_err e;

    if (!it->challenge_token)
        return true;
    snprintf(field, sizeof(field), "%sruntime_data.challenge_token", it->path);
    e = vouch_challenge_verify(secret, it->challenge_token, strlen(it->challenge_token), now,
                               nonce, &eb);
    if (e)
        return fail_as(p, VOUCH_SCOPE_CHALLENGE, e, field, "%s", eb.msg);
    if (it->runtime.structured) {
        json_t *n = json_object_get(it->runtime.structured, "nonce");
        uint8_t *got = NULL;
        size_t got_len = 0;
        bool ok;

        ok = json_is_string(n) &&
             vouch_b64_decode(json_string_value(n), json_string_length(n),
                              VOUCH_B64_STD | VOUCH_B64_PAD_OPTIONAL, 64, &got, &got_len,
                              NULL) == VOUCH_OK &&
             got_len == sizeof(nonce) && memcmp(got, nonce, sizeof(nonce)) == 0;
        free(got);
        if (!ok) {
            snprintf(field, sizeof(field), "%sruntime_data.structured.nonce", it->path);
            return fail_as(p, VOUCH_SCOPE_CHALLENGE, VOUCH_E_BINDING, field,
                           "runtime_data.structured.nonce must be the challenge's nonce");
        }
        return true;
    }
    if (it->runtime.len < sizeof(nonce) || memcmp(it->runtime.bytes, nonce, sizeof(nonce))) {
        snprintf(field, sizeof(field), "%sruntime_data.raw", it->path);
        return fail_as(p, VOUCH_SCOPE_CHALLENGE, VOUCH_E_BINDING, field,
                       "runtime_data.raw must start with the challenge's 32-byte nonce");
    }
    return true;
}
