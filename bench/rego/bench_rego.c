/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_rego: the cost of one policy evaluation with compilation done once.
 *
 *   bench_rego [SECONDS]     (run from the source root; default 3 s per measurement)
 *
 * Policy: tests/rego/policies/tdx_trust_vector.rego (52 rules and defaults,
 * reference values through query_reference_value); input: the TDX claims
 * of tests/rego/inputs/tdx.json (about 10 KB as compact JSON, with 5 event
 * log entries).  Each iteration evaluates data.policy.result, the token's
 * whole appraisal (trust vector, status, findings), to a jansson value, as
 * the service does.  Reported: microseconds per evaluation for the input
 * given as a jansson value (read in place), and as a prepared document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/time.h"
#include "rego/rego.h"

static vouch_err refval(void *ctx, json_t *const *args, size_t nargs, json_t **ret,
                        struct vouch_errbuf *eb)
{
    json_t *v;

    (void)eb;
    if (nargs != 1 || !json_is_string(args[0]))
        return VOUCH_E_INVALID;
    v = json_object_get(ctx, json_string_value(args[0]));
    *ret = v ? json_incref(v) : json_null();
    return VOUCH_OK;
}

static char *slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0) {
        fprintf(stderr, "bench_rego: cannot read %s (run from the source root)\n", path);
        exit(1);
    }
    rewind(f);
    buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        exit(1);
    fclose(f);
    buf[n] = '\0';
    *ret_len = (size_t)n;
    return buf;
}

/* Microseconds per evaluation, evaluating for about `secs` seconds. */
static double run(const struct vouch_rego_policy *pol, const struct vouch_rego_eval_args *args,
                  double secs)
{
    struct vouch_errbuf eb;
    uint64_t t0, t1, end;
    long i, n = 0;

    t0 = vouch_clock_us();
    end = t0 + (uint64_t)(secs * 1e6);
    do {
        for (i = 0; i < 64; i++) {      /* read the clock every 64 evaluations */
            json_t *out = NULL;

            if (vouch_rego_eval_rule(pol, "data.policy.result", args, &out, &eb) || !out) {
                fprintf(stderr, "bench_rego: %s\n", eb.msg);
                exit(1);
            }
            json_decref(out);
        }
        n += 64;
        t1 = vouch_clock_us();
    } while (t1 < end);
    return (double)(t1 - t0) / (double)n;
}

int main(int argc, char **argv)
{
    static const char policy_path[] = "tests/rego/policies/tdx_trust_vector.rego";
    double secs = argc > 1 ? atof(argv[1]) : 3.0;
    struct vouch_rego_host host = { "query_reference_value", 1, refval };
    struct vouch_rego_compile_opts opts = { 0, &host, 1 };
    struct vouch_rego_module m;
    struct vouch_rego_policy *pol;
    struct vouch_rego_doc *doc;
    struct vouch_rego_eval_args args = { 0 };
    struct vouch_errbuf eb;
    json_error_t jerr;
    json_t *input, *refs, *out = NULL;
    char *text, *compact;
    size_t len;
    uint64_t t0, t1;
    double lazy_us, doc_us;
    int i, compiles;

    if (!(secs > 0))
        secs = 3.0;
    compiles = secs >= 1 ? 100 : 5;
    text = slurp(policy_path, &len);
    m.name = policy_path;
    m.text = text;
    m.len = len;
    t0 = vouch_clock_us();
    for (i = 0; i < compiles; i++) {
        if (vouch_rego_compile(&m, 1, &opts, &pol, &eb)) {
            fprintf(stderr, "bench_rego: %s\n", eb.msg);
            return 1;
        }
        if (i < compiles - 1)
            vouch_rego_policy_free(pol);
    }
    t1 = vouch_clock_us();
    input = json_load_file("tests/rego/inputs/tdx.json", 0, &jerr);
    refs = json_load_file("tests/rego/refs/tdx.json", 0, &jerr);
    if (!input || !refs) {
        fprintf(stderr, "bench_rego: %s\n", jerr.text);
        return 1;
    }
    compact = json_dumps(input, JSON_COMPACT);
    args.host_ctx = refs;
    args.now_ns = 1750000000000000000LL;
    args.input = input;
    if (vouch_rego_eval_rule(pol, "data.policy.result", &args, &out, &eb)) {
        fprintf(stderr, "bench_rego: %s\n", eb.msg);
        return 1;
    }
    lazy_us = run(pol, &args, secs / 2);
    if (vouch_rego_doc_parse(compact, strlen(compact), &doc, &eb)) {
        fprintf(stderr, "bench_rego: %s\n", eb.msg);
        return 1;
    }
    args.input = NULL;
    args.input_doc = doc;
    doc_us = run(pol, &args, secs / 2);
    {
        char *res = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);

        printf("result: %s\n", res);
        free(res);
    }
    printf("policy: %s (%zu bytes), input: %zu bytes of JSON\n", policy_path, len,
           strlen(compact));
    printf("compile: %.1f us\n", (double)(t1 - t0) / compiles);
    printf("eval, input as jansson value: %.2f us per evaluation (%.1f s)\n", lazy_us, secs / 2);
    printf("eval, input as prepared document: %.2f us per evaluation (%.1f s)\n", doc_us,
           secs / 2);
    json_decref(out);
    json_decref(input);
    json_decref(refs);
    free(compact);
    free(text);
    vouch_rego_doc_free(doc);
    vouch_rego_policy_free(pol);
    return 0;
}
