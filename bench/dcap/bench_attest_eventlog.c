/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_attest_eventlog: what a TDX event log adds to POST /v1/attestation,
 * in process, single thread, CPU time of this thread (CLOCK_THREAD_CPUTIME_ID:
 * the machine is shared, wall time depends on its load).
 *
 * For each log: a forged quote (tests/tools/forge.c) whose RTMRs are the
 * log's replay, its collateral imported into a fresh SQLite store, a vouchd
 * app (vouch_app_init, the default policy, RS256 or ES256 flat tokens, the
 * collateral's time) and requests to vouch_app_dispatch() with and without
 * the log, interleaved so that anything else moves both.  Then the steps of
 * one request timed one by one through the same library calls the handler
 * makes: the request's JSON and base64url (vouch_attest_req_parse), the
 * tdx verifier (evidence JSON, quote, DCAP, event log), the event-log step
 * alone split into decode + parse, replay and claims, the default policy,
 * and the token (flat claims + signature), with the token's size.
 *
 * usage: bench_attest_eventlog [SECONDS [ALG [LOG]]]   (from the source root; ALG RS256
 * default; LOG one of the names below, default all)
 * Output per log: "log=NAME requests=N without_us=A with_us=B overhead_pct=P
 * with_terse_us=C terse_overhead_pct=Q with_full_us=D full_overhead_pct=R body_bytes=..
 * token_bytes=WITH/TERSE/FULL/WITHOUT" (with: the default token; terse: ?verbose=false;
 * full: ?verbose=true), then "log=NAME step=STEP [without_us=..] with_us=.." lines.
 * BENCH_REQUESTS_ONLY=1: whole requests only; BENCH_STEP=NAME: that step only;
 * BENCH_MALLOC_DEFAULTS=1: glibc's malloc thresholds instead of vouchd's;
 * BENCH_ITERATIONS=N: N requests of each kind instead of SECONDS (for callgrind:
 * instructions per request are request_with / request_without / request_terse /
 * request_full).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../tests/tools/forge.h"
#include "collateral/collateral.h"
#include "common/codec.h"
#include "common/file.h"
#include "common/json.h"
#include "evidence/dcap/dcap.h"
#include "policy/policy.h"
#include "server/app.h"
#include "server/attest_req.h"
#include "server/router.h"
#include "token/result.h"

#define NOW 1764669600          /* 2025-12-02T10:00:00Z: the forged collateral's time */
#define NOW_TEXT "2025-12-02T10:00:00Z"

struct bench_log {
    const char *name;
    const char *path;           /* NULL: no log at all (the baseline row) */
    size_t trim;                /* >0: only the first `trim` bytes (a CCEL cut after its last event) */
};

static const struct bench_log logs[] = {
    { "dstack-json", "tests/vectors/tdx-eventlog/dstack/event_log.json", 0 },
    { "ccel-ovmf-64k", "tests/vectors/tdx-eventlog/trustee/CCEL_data_ovmf", 0 },
    { "ccel-gcp-trimmed", "tests/vectors/tdx-eventlog/go-tdx-guest/ccel_data.dat", 18432 },
    { "ccel-gcp-256k", "tests/vectors/tdx-eventlog/go-tdx-guest/ccel_data.dat", 0 },
};

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_attest_eventlog: %s: %s\n", what, msg);
    exit(1);
}

static int64_t cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The RTMRs the log replays to: what the forged quote carries. */
static void log_rtmrs(const uint8_t *log, size_t len, uint8_t out[4 * 48])
{
    uint8_t r[VOUCH_DCAP_RTMR_COUNT][VOUCH_DCAP_RTMR_SIZE];
    struct vouch_dcap_eventlog *el = NULL;
    struct vouch_errbuf eb;

    if (vouch_dcap_eventlog_parse(log, len, &el, &eb) || vouch_dcap_eventlog_replay(el, r, &eb))
        die("event log", eb.msg);
    memcpy(out, r, 4 * 48);
    vouch_dcap_eventlog_free(el);
}

/* The POST body: {"tee": "tdx", "evidence": base64url({"quote", "cc_eventlog"})}. */
static char *request_body(const struct forge_out *q, const uint8_t *log, size_t len)
{
    char *qb = vouch_b64_alloc(q->quote, q->quote_len, VOUCH_B64_STD);
    char *lb = log ? vouch_b64_alloc(log, len, VOUCH_B64_STD) : NULL;
    json_t *doc = json_pack("{s:s, s:s?}", "quote", qb, "cc_eventlog", lb);
    char *text = json_dumps(doc, JSON_COMPACT), *ev, *body;

    ev = vouch_b64_alloc(text, strlen(text), VOUCH_B64URL);
    body = malloc(strlen(ev) + 64);
    sprintf(body, "{\"tee\":\"tdx\",\"evidence\":\"%s\"}", ev);
    free(qb);
    free(lb);
    free(text);
    free(ev);
    json_decref(doc);
    return body;
}

/* One POST /v1/attestation (?verbose=false when `terse`); the token's length; exits unless 200. */
/* verbose: NULL (the default token), "false" or "true" (?verbose=). */
static size_t post(struct vouch_app *app, const char *body, const char *verbose)
{
    static const struct vouch_http_field headers[] = {
        { "Content-Type", "application/json", 16 },
    };
    struct vouch_http_field query[] = { { "verbose", verbose, verbose ? strlen(verbose) : 0 } };
    struct vouch_http_plain plain = { headers, 1, query, verbose ? 1 : 0 };
    struct vouch_http_req req;
    struct vouch_http_resp resp;
    size_t n;

    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    req.method = "POST";
    req.path = "/v1/attestation";
    req.body = (const uint8_t *)body;
    req.body_len = strlen(body);
    vouch_http_req_plain(&req, &plain);
    vouch_app_dispatch(app, &req, &resp);
    if (resp.status != 200)
        die("POST /v1/attestation", resp.body ? resp.body : "no body");
    n = resp.body_len;
    vouch_http_resp_done(&resp);
    return n;
}

/* ---- the steps of one request --------------------------------------------------- */

struct step_ctx {
    struct vouch_app *app;
    const char *body;           /* the request */
    const uint8_t *evidence;    /* its decoded evidence document */
    size_t evidence_len;
    const json_t *doc;          /* the same, parsed */
    struct vouch_dcap_quote quote;
    const uint8_t *log;         /* the raw log, or NULL */
    size_t log_len;
    const json_t *annotated;    /* what the policy and the token see */
};

typedef void (*step_fn)(struct step_ctx *c);

static void step_request(struct step_ctx *c)
{
    struct vouch_attest_problem p;
    struct vouch_attest_req ar;
    json_t *body = NULL;

    memset(&p, 0, sizeof(p));
    if (vouch_json_parse(c->body, strlen(c->body), &body, NULL) ||
        !vouch_attest_req_parse(body, c->app->cfg.max_body, &ar, &p))
        die("request", p.detail);
    vouch_attest_req_done(&ar);
    json_decref(body);
}

/* As the handler verifies for the default token: uefi_event_logs left out. */
static json_t *verify(struct step_ctx *c)
{
    const struct vouch_verifier *v = vouch_verifier_find("tdx");
    struct vouch_deferred_claims *d = NULL;
    struct vouch_binding b;
    struct vouch_errbuf eb;
    json_t *claims = NULL;

    memset(&b, 0, sizeof(b));
    if (v->verify_deferred(v, vouch_app_trust(c->app, "tdx"), c->evidence, c->evidence_len,
                           &b, NOW, &claims, &d, &eb))
        die("verify", eb.msg);
    if (d)
        d->free(d);
    return claims;
}

static void step_verify(struct step_ctx *c)
{
    json_decref(verify(c));
}

static void step_eventlog(struct step_ctx *c)
{
    struct vouch_dcap_eventlog *el = NULL;
    struct vouch_errbuf eb;
    json_t *claims = json_object();

    if (vouch_dcap_eventlog_evidence(c->doc, &c->quote, claims, &el, &eb))
        die("event log step", eb.msg);
    vouch_dcap_eventlog_free(el);
    json_decref(claims);
}

static struct vouch_dcap_eventlog *parse_log(struct step_ctx *c)
{
    struct vouch_dcap_eventlog *el = NULL;
    struct vouch_errbuf eb;

    if (vouch_dcap_eventlog_parse(c->log, c->log_len, &el, &eb))
        die("parse", eb.msg);
    return el;
}

static void step_b64(struct step_ctx *c)
{
    const json_t *s = json_object_get(c->doc, "cc_eventlog");
    uint8_t *raw = NULL;
    size_t n;

    if (vouch_b64_decode(json_string_value(s), json_string_length(s), VOUCH_B64_STD,
                         VOUCH_DCAP_EVENTLOG_MAX, &raw, &n, NULL))
        die("base64", "cc_eventlog");
    free(raw);
}

static void step_parse(struct step_ctx *c)
{
    vouch_dcap_eventlog_free(parse_log(c));
}

static void step_replay(struct step_ctx *c)
{
    struct vouch_dcap_eventlog *el = parse_log(c);
    struct vouch_errbuf eb;

    if (vouch_dcap_eventlog_verify(el, c->quote.body + VOUCH_DCAP_TD_RTMR0, NULL, &eb))
        die("replay", eb.msg);
    vouch_dcap_eventlog_free(el);
}

/* The claims the default token carries (derived), or all of them (uefi_event_logs too). */
static void claims_of(struct step_ctx *c, bool all)
{
    struct vouch_dcap_eventlog *el = parse_log(c);
    struct vouch_errbuf eb;
    json_t *claims = json_object();

    if (all ? vouch_dcap_eventlog_claims(el, claims, &eb)
            : vouch_dcap_eventlog_derived_claims(el, claims, &eb))
        die("claims", eb.msg);
    json_decref(claims);
    vouch_dcap_eventlog_free(el);
}

static void step_claims(struct step_ctx *c)
{
    claims_of(c, false);
}

static void step_claims_all(struct step_ctx *c)
{
    claims_of(c, true);
}

static void step_policy(struct step_ctx *c)
{
    struct vouch_policy_outcome o;
    struct vouch_errbuf eb;
    const json_t *in[1] = { c->annotated };

    memset(&o, 0, sizeof(o));
    if (vouch_policy_appraise_limited(c->app->policies, c->app->store, NULL, 0, in, 1, NOW, NULL,
                                      &o, &eb))
        die("policy", eb.msg);
    vouch_policy_outcome_done(&o);
}

static size_t token(struct step_ctx *c)
{
    struct vouch_appraisal a = { "cpu0", "tdx", c->annotated, NULL, "default" };
    struct vouch_keyring *kr = NULL;
    struct vouch_errbuf eb;
    struct vouch_result r;
    json_t *payload = NULL;
    char *tok = NULL;
    size_t len = 0;

    memset(&r, 0, sizeof(r));
    r.issuer = "http://127.0.0.1";
    r.iat = NOW;
    r.lifetime = 300;
    r.tee = "tdx";
    r.appraisals = &a;
    r.n_appraisals = 1;
    if (vouch_result_flat(&r, &payload, &eb) || vouch_app_keyring(c->app, false, &kr, &eb) ||
        vouch_keyring_sign(kr, c->app->token_alg, payload, 4u << 20, &tok, &len, &eb))
        die("token", eb.msg);
    vouch_keyring_unref(kr);
    json_decref(payload);
    free(tok);
    return len;
}

static void step_token(struct step_ctx *c)
{
    (void)token(c);
}

/* CPU µs per call of fn, over `secs` seconds of this thread's CPU (at least 20 calls). */
static double measure(step_fn fn, struct step_ctx *c, double secs)
{
    int64_t start = cpu_ns(), end = start + (int64_t)(secs * 1e9), t;
    unsigned long n = 0;

    fn(c);                      /* warm: caches, lazy OpenSSL fetches */
    start = cpu_ns();
    do {
        fn(c);
        n++;
        t = cpu_ns();
    } while (t < end || n < 20);
    return (double)(t - start) / 1e3 / (double)n;
}

/* ---- one log: its own forged quote, store and app ----------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (!f || fputs(text, f) < 0 || fclose(f))
        die(path, "cannot write");
}

struct setup {
    char dir[64];
    struct forge_out forged;
    struct vouch_app app;
    uint8_t *log;
    size_t log_len;
};

static void setup_app(struct setup *s, const struct bench_log *bl, const char *alg)
{
    struct forge_opts o;
    struct vouch_config cfg;
    struct vouch_errbuf eb;
    char err[256], db[128], root[128], *tok = NULL;
    char *args[] = { "vouchd", "--db", db, "--admin-token", "bench-admin-token-000000",
                     "--listen", "127.0.0.1:0", "--log-level", "error", "--fixed-time",
                     NOW_TEXT, "--dcap-root", root, "--token-alg", (char *)alg, NULL };
    json_t *report = NULL;
    X509 *x = NULL;

    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "/tmp/vouch-bench-el-XXXXXX");
    if (!mkdtemp(s->dir))
        die("mkdtemp", "failed");
    if (vouch_file_read(bl->path, VOUCH_DCAP_EVENTLOG_MAX, &s->log, &s->log_len, &eb))
        die(bl->path, eb.msg);
    if (bl->trim && bl->trim < s->log_len)
        s->log_len = bl->trim;
    forge_defaults(&o, NOW);
    o.has_rtmrs = true;
    log_rtmrs(s->log, s->log_len, o.rtmrs);
    if (forge_make(&o, &s->forged, err, sizeof(err)))
        die("forge", err);
    snprintf(db, sizeof(db), "sqlite:%s/v.db", s->dir);
    snprintf(root, sizeof(root), "%s/root.pem", s->dir);
    write_file(root, s->forged.root_pem);
    if (vouch_config_load(&cfg, 15, args, false, &eb) ||
        vouch_app_init(&s->app, &cfg, &tok, &eb) ||
        vouch_app_set_issuer(&s->app, "127.0.0.1", 8080, &eb) ||
        vouch_collateral_load_root(root, &x, &eb) ||
        vouch_collateral_import_json(s->app.store, x, s->forged.collateral,
                                     strlen(s->forged.collateral), NOW, &report, &eb))
        die("setup", eb.msg);
    json_decref(report);
    X509_free(x);
    free(tok);
}

static void teardown_app(struct setup *s)
{
    char cmd[100];

    vouch_app_done(&s->app);
    forge_out_free(&s->forged);
    free(s->log);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
    if (system(cmd) != 0)
        die("cleanup", s->dir);
}

/* The annotated evidence the handler builds from the verifier's claims. */
static json_t *annotate(json_t *claims)
{
    json_t *a = json_pack("{s:O, s:O, s:n, s:n}", "report_data",
                          json_object_get(claims, "report_data"), "init_data",
                          json_object_get(claims, "init_data"), "runtime_data_claims",
                          "init_data_claims");

    json_object_del(claims, "report_data");
    json_object_del(claims, "init_data");
    json_object_set_new(a, "tdx", claims);
    return a;
}

/* Fill c for a request with (log) or without (NULL) the event log. */
static void step_ctx_init(struct step_ctx *c, struct setup *s, const uint8_t *log, size_t len)
{
    struct vouch_attest_problem p;
    struct vouch_attest_req ar;
    struct vouch_errbuf eb;
    json_t *body = NULL, *doc = NULL;

    memset(c, 0, sizeof(*c));
    c->app = &s->app;
    c->body = request_body(&s->forged, log, len);
    c->log = log;
    c->log_len = len;
    memset(&p, 0, sizeof(p));
    if (vouch_json_parse(c->body, strlen(c->body), &body, NULL) ||
        !vouch_attest_req_parse(body, c->app->cfg.max_body, &ar, &p))
        die("request", p.detail);
    c->evidence_len = ar.items[0].evidence_len;
    c->evidence = malloc(c->evidence_len + 1);
    memcpy((uint8_t *)c->evidence, ar.items[0].evidence, c->evidence_len + 1);
    vouch_attest_req_done(&ar);
    json_decref(body);
    if (vouch_json_parse(c->evidence, c->evidence_len, &doc, &eb) ||
        vouch_dcap_quote_parse(s->forged.quote, s->forged.quote_len, &c->quote, &eb))
        die("evidence", eb.msg);
    c->doc = doc;
    c->annotated = annotate(verify(c));
}

static void step_ctx_done(struct step_ctx *c)
{
    free((char *)c->body);
    free((uint8_t *)c->evidence);
    json_decref((json_t *)c->doc);
    json_decref((json_t *)c->annotated);
}

static void report_steps(const char *name, struct step_ctx *with, struct step_ctx *without,
                         double secs)
{
    static const struct {
        const char *name;
        step_fn fn;
        bool log_only;
    } steps[] = {
        { "request-json-base64", step_request, false },
        { "verify", step_verify, false },
        { "eventlog-step", step_eventlog, true },
        { "eventlog-base64", step_b64, true },
        { "eventlog-parse", step_parse, true },
        { "eventlog-parse+replay", step_replay, true },
        { "eventlog-parse+claims", step_claims, true },
        { "eventlog-parse+claims+uefi_event_logs", step_claims_all, true },
        { "policy", step_policy, false },
        { "token", step_token, false },
    };
    size_t i;

    const char *only = getenv("BENCH_STEP");

    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        double w;

        if (only && strcmp(only, steps[i].name) != 0)
            continue;
        w = measure(steps[i].fn, with, secs);

        if (steps[i].log_only)
            printf("log=%s step=%s with_us=%.1f\n", name, steps[i].name, w);
        else
            printf("log=%s step=%s without_us=%.1f with_us=%.1f\n", name, steps[i].name,
                   measure(steps[i].fn, without, secs), w);
    }
}

/* One request each; separate functions (kept apart by their counters, so the compiler
 * does not fold them) so that callgrind can count each kind on its own. */
static volatile unsigned long n_without, n_with, n_terse, n_full;

__attribute__((noinline)) static void request_without(struct step_ctx *c)
{
    post(c->app, c->body, NULL);
    n_without++;
}

__attribute__((noinline)) static void request_with(struct step_ctx *c)
{
    post(c->app, c->body, NULL);
    n_with++;
}

__attribute__((noinline)) static void request_terse(struct step_ctx *c)
{
    post(c->app, c->body, "false");
    n_terse++;
}

__attribute__((noinline)) static void request_full(struct step_ctx *c)
{
    post(c->app, c->body, "true");
    n_full++;
}

/* Whole requests through vouch_app_dispatch, interleaved: without the log, and with it
 * for the default token (no uefi_event_logs), ?verbose=false (no logs or certificates)
 * and ?verbose=true (uefi_event_logs in the token). */
static void report_requests(const char *name, struct step_ctx *with, struct step_ctx *without,
                            double secs)
{
    int64_t t_with = 0, t_without = 0, t_terse = 0, t_full = 0, t;
    int64_t end = cpu_ns() + (int64_t)(secs * 1e9);
    size_t tok_with = post(with->app, with->body, NULL);
    size_t tok_without = post(without->app, without->body, NULL);
    size_t tok_terse = post(with->app, with->body, "false");
    size_t tok_full = post(with->app, with->body, "true");
    unsigned long n = 0, fixed = getenv("BENCH_ITERATIONS") ? strtoul(getenv("BENCH_ITERATIONS"),
                                                                        NULL, 10) : 0;

    do {
        t = cpu_ns();
        request_without(without);
        t_without += cpu_ns() - t;
        t = cpu_ns();
        request_with(with);
        t_with += cpu_ns() - t;
        t = cpu_ns();
        request_terse(with);
        t_terse += cpu_ns() - t;
        t = cpu_ns();
        request_full(with);
        t_full += cpu_ns() - t;
        n++;
    } while (fixed ? n < fixed : cpu_ns() < end || n < 20);
    printf("log=%s requests=%lu without_us=%.1f with_us=%.1f overhead_pct=%.1f "
           "with_terse_us=%.1f terse_overhead_pct=%.1f with_full_us=%.1f full_overhead_pct=%.1f "
           "body_bytes=%zu/%zu token_bytes=%zu/%zu/%zu/%zu\n", name, n,
           (double)t_without / 1e3 / n, (double)t_with / 1e3 / n,
           100.0 * ((double)t_with / (double)t_without - 1), (double)t_terse / 1e3 / n,
           100.0 * ((double)t_terse / (double)t_without - 1), (double)t_full / 1e3 / n,
           100.0 * ((double)t_full / (double)t_without - 1), strlen(with->body),
           strlen(without->body), tok_with, tok_terse, tok_full, tok_without);
}

int main(int argc, char **argv)
{
    double secs = argc >= 2 && atof(argv[1]) > 0 ? atof(argv[1]) : 3;
    const char *alg = argc >= 3 ? argv[2] : "RS256";
    const char *only = argc >= 4 ? argv[3] : NULL;
    size_t i;

    if (!getenv("BENCH_MALLOC_DEFAULTS"))
        vouch_app_tune_malloc();           /* as vouchd does */
    for (i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        struct setup s;
        struct step_ctx with, without;

        if (only && strcmp(only, logs[i].name) != 0)
            continue;
        setup_app(&s, &logs[i], alg);
        step_ctx_init(&with, &s, s.log, s.log_len);
        step_ctx_init(&without, &s, NULL, 0);
        if (!getenv("BENCH_STEP"))
            report_requests(logs[i].name, &with, &without, secs);
        if (!getenv("BENCH_REQUESTS_ONLY"))
            report_steps(logs[i].name, &with, &without, secs / 4);
        step_ctx_done(&with);
        step_ctx_done(&without);
        teardown_app(&s);
    }
    return 0;
}
