/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Realistic attestation policies (tests/rego/policies/) over claims derived
 * from real evidence (tests/rego/inputs/, see tests/vectors/rego/PROVENANCE.md).
 * Each row: the policy, data, reference values and input (optionally with
 * a JSON merge patch applied), the document evaluated, and the expected
 * value, worked out by hand from the policy text and the claims.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rego/rego.h"
#include "rego/value.h"

#define ROOT VOUCH_SOURCE_ROOT "/tests/rego/"
/* 2025-06-15T15:06:40Z */
#define NOW 1750000000000000000LL

struct pcase {
    const char *name;
    const char *policy;
    bool v0;
    const char *data;         /* file under tests/rego/data, or NULL */
    const char *refs;         /* file under tests/rego/refs, or NULL */
    const char *input;        /* file under tests/rego/inputs */
    const char *input_patch;  /* JSON merged into the input, or NULL */
    const char *data_patch;
    const char *refs_patch;
    const char *path;
    const char *want;         /* expected JSON; NULL: undefined */
};

static const struct pcase cases[] = {
    /* TDX: the vector's TD is a debug TD, everything else matches. */
    { "tdx/vector", "tdx_trust_vector.rego", false, NULL, "tdx.json", "tdx.json", NULL, NULL, NULL,
      "data.policy.result",
      "{\"status\":\"contraindicated\",\"findings\":[\"debug TD\"],"
      "\"kernel_cmdline\":\"root=/dev/vda1 console=hvc0 rw\","
      "\"trust_claims\":{\"instance_identity\":0,\"configuration\":96,\"executables\":2,"
      "\"file-system\":0,\"hardware\":2,\"runtime-opaque\":0,\"storage-opaque\":0,"
      "\"sourced-data\":0}}" },
    /* The same TD without debug: configuration affirming, status affirming. */
    { "tdx/no-debug", "tdx_trust_vector.rego", false, NULL, "tdx.json", "tdx.json",
      "{\"tdx\":{\"td_attributes\":{\"debug\":false}}}", NULL, NULL, "data.policy.result",
      "{\"status\":\"affirming\",\"findings\":[],"
      "\"kernel_cmdline\":\"root=/dev/vda1 console=hvc0 rw\","
      "\"trust_claims\":{\"instance_identity\":0,\"configuration\":2,\"executables\":2,"
      "\"file-system\":0,\"hardware\":2,\"runtime-opaque\":0,\"storage-opaque\":0,"
      "\"sourced-data\":0}}" },
    /* Unknown kernel command line: executables 3, a finding. */
    { "tdx/cmdline", "tdx_trust_vector.rego", false, NULL, "tdx.json", "tdx.json",
      "{\"tdx\":{\"td_attributes\":{\"debug\":false}}}", NULL,
      "{\"kernel_cmdline\":[\"root=/dev/vda1 console=hvc0 ro\"]}", "data.policy.result",
      "{\"status\":\"affirming\",\"findings\":[\"unknown kernel command line\"],"
      "\"kernel_cmdline\":\"root=/dev/vda1 console=hvc0 rw\","
      "\"trust_claims\":{\"instance_identity\":0,\"configuration\":2,\"executables\":3,"
      "\"file-system\":0,\"hardware\":2,\"runtime-opaque\":0,\"storage-opaque\":0,"
      "\"sourced-data\":0}}" },
    /* Out-of-date TCB with an advisory; the TD image is not registered. */
    { "tdx/outofdate", "tdx_trust_vector.rego", false, NULL, "tdx.json", "tdx.json",
      "{\"tdx\":{\"tcb_status\":\"OutOfDate\",\"advisory_ids\":[\"INTEL-SA-00837\"]}}", NULL,
      "{\"mr_td\":[]}", "data.policy.trust_claims",
      "{\"instance_identity\":0,\"configuration\":96,\"executables\":33,\"file-system\":0,"
      "\"hardware\":32,\"runtime-opaque\":0,\"storage-opaque\":0,\"sourced-data\":0}" },
    { "tdx/outofdate-findings", "tdx_trust_vector.rego", false, NULL, "tdx.json", "tdx.json",
      "{\"tdx\":{\"tcb_status\":\"OutOfDate\",\"advisory_ids\":[\"INTEL-SA-00837\"]}}", NULL,
      "{\"mr_td\":[]}", "data.policy.findings",
      "[\"TCB out of date\",\"TD image not in the reference values\",\"advisory INTEL-SA-00837\","
      "\"debug TD\"]" },
    /* A TCB older than two years is not accepted as up to date. */
    { "tdx/stale-tcb", "tdx_trust_vector.rego", false, NULL, "tdx.json", "tdx.json",
      "{\"tdx\":{\"tcb_date\":\"2022-01-01T00:00:00Z\"}}", NULL, NULL, "data.policy.hardware",
      "97" },
    /* Not a TDX quote at all: every rule undefined, defaults stand. */
    { "tdx/no-claims", "tdx_trust_vector.rego", false, NULL, "tdx.json", "sgx.json", NULL, NULL,
      NULL, "data.policy.trust_claims",
      "{\"instance_identity\":0,\"configuration\":36,\"executables\":33,\"file-system\":0,"
      "\"hardware\":97,\"runtime-opaque\":0,\"storage-opaque\":0,\"sourced-data\":0}" },
    /* SGX: Occlum's debug enclave, allow-listed by measurement with debug allowed. */
    { "sgx/allow", "sgx_enclave.rego", false, "sgx_enclaves.json", NULL, "sgx.json", NULL, NULL,
      NULL, "data.sgx.appraisal.decision",
      "{\"allow\":true,\"debug\":true,\"enclaves\":[\"acme-signed\",\"occlum-demo\"],"
      "\"isv_prod_id\":0,\"isv_svn\":0,\"reasons\":[]}" },
    /* Debug no longer allowed: denied with a reason. */
    { "sgx/debug-denied", "sgx_enclave.rego", false, "sgx_enclaves.json", NULL, "sgx.json", NULL,
      "{\"enclaves\":[{\"name\":\"acme-signed\",\"mr_signer\":"
      "\"83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e\","
      "\"isv_prod_id\":0,\"min_isv_svn\":0}]}",
      NULL, "data.sgx.appraisal.decision",
      "{\"allow\":false,\"debug\":true,\"enclaves\":[\"acme-signed\"],\"isv_prod_id\":0,"
      "\"isv_svn\":0,\"reasons\":[\"debug enclave\"]}" },
    /* ISV SVN 3 (little-endian "0300") meets acme-signed-v2's minimum of 2. */
    { "sgx/svn", "sgx_enclave.rego", false, "sgx_enclaves.json", NULL, "sgx.json",
      "{\"sgx\":{\"body\":{\"isv_svn\":\"0300\",\"mr_enclave\":\"00\"},\"tcb_status\":\"OutOfDate\"}}",
      NULL, NULL, "data.sgx.appraisal.decision",
      "{\"allow\":false,\"debug\":true,\"enclaves\":[\"acme-signed\",\"acme-signed-v2\"],"
      "\"isv_prod_id\":0,\"isv_svn\":3,\"reasons\":[\"TCB status OutOfDate\",\"debug enclave\"]}" },
    /* NVIDIA GPU: measurement 7 differs from its RIM, 41 has no RIM entry. */
    { "gpu/mismatch", "nvidia_gpu.rego", false, "gpu_rim.json", "gpu.json", "gpu.json", NULL,
      NULL, NULL, "data.policy.gpu.report",
      "{\"driver_version\":\"550.90.07\",\"mismatched\":[\"7\"],\"missing\":[],"
      "\"trust_claims\":{\"configuration\":2,\"executables\":33,\"hardware\":2},"
      "\"unexpected\":[\"41\"]}" },
    /* With the right golden values and 41 covered: executables affirming. */
    { "gpu/golden", "nvidia_gpu.rego", false, "gpu_rim.json", "gpu.json", "gpu.json", NULL,
      "{\"gpu\":{\"rim\":{\"7\":\"6850b0a82e7e77c0f51e0e6732163866003390c4eb286d8dfb26a72f711a9c8bcdf402a1fd4e5d70b97708107a785efc\","
      "\"41\":\"9d2c6389c070dde430ffd510cad0c546fb9a73b9ee7a478fa804d2ab14c674487abdc7aa12d90215ced4f3678f2765fa\"}}}",
      "{\"allowed_vbios_versions\":[\"96.00.88.00.11\"]}", "data.policy.gpu.trust_claims",
      "{\"configuration\":3,\"executables\":2,\"hardware\":2}" },
    /* IMA: one modified file (kmod), one unknown file, seven excluded. */
    { "ima/verdict", "ima_allowlist.rego", false, "ima_policy.json", NULL, "ima.json", NULL, NULL,
      NULL, "data.ima.verdict",
      "{\"allow\":false,\"checked\":52,\"file-system\":96,\"measured\":60,"
      "\"modified\":[\"/usr/bin/kmod\"],\"skipped\":7,\"unknown\":[\"/usr/lib/os-release\"]}" },
    /* Accepting kmod's digest leaves only the unknown file: warning. */
    { "ima/unknown-only", "ima_allowlist.rego", false, "ima_policy.json", NULL, "ima.json", NULL,
      "{\"ima\":{\"digests\":{\"/usr/bin/kmod\":"
      "[\"a80440c06f285c26474753704cbf1fe9836f45625916fcc788ad670411664043\"]}}}",
      NULL, "data.ima.file_system", "32" },
    /* Legacy v0 policy: debug is a mismatch, mr_servicetd is missing. */
    { "v0/report", "legacy_v0.rego", true, "legacy_reference.json", NULL, "tdx_flat.json", NULL,
      NULL, NULL, "data.policy.report",
      "{\"allow\":false,\"checked\":10,\"mismatched\":[\"tdx.td_attributes.debug\"],"
      "\"missing\":[\"tdx.quote.body.mr_servicetd\"],\"result\":\"fail\","
      "\"unconstrained\":[\"tdx.platform_instance_id\",\"tdx.quote.body.xfam\"]}" },
    { "v0/allow", "legacy_v0.rego", true, "legacy_reference.json", NULL, "tdx_flat.json",
      "{\"tdx.td_attributes.debug\":false,\"tdx.quote.body.mr_servicetd\":"
      "\"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\"}",
      NULL, NULL, "data.policy.allow", "true" },
};

static json_t *load(const char *dir, const char *file)
{
    char path[1024];
    json_error_t err;
    json_t *j;

    snprintf(path, sizeof(path), ROOT "%s/%s", dir, file);
    j = json_load_file(path, 0, &err);
    if (!j)
        fail_msg("%s: %s", path, err.text);
    return j;
}

static void patch(json_t *j, const char *text)
{
    json_error_t err;
    json_t *p;

    if (!text)
        return;
    p = json_loads(text, 0, &err);
    if (!p)
        fail_msg("patch: %s", err.text);
    assert_int_equal(json_object_update_recursive(j, p), 0);
    json_decref(p);
}

static vouch_err refval(void *ctx, json_t *const *args, size_t nargs, json_t **ret,
                        struct vouch_errbuf *eb)
{
    json_t *refs = ctx, *v;

    (void)eb;
    if (nargs != 1 || !json_is_string(args[0]))
        return VOUCH_E_INVALID;
    v = refs ? json_object_get(refs, json_string_value(args[0])) : NULL;
    *ret = v ? json_incref(v) : json_null();
    return VOUCH_OK;
}

static char *read_text(const char *file, size_t *ret_len)
{
    char path[1024];
    FILE *f;
    char *buf;
    long n;

    snprintf(path, sizeof(path), ROOT "policies/%s", file);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *ret_len = (size_t)n;
    return buf;
}

/* The result equals the expected JSON as values (numbers exactly, object
 * keys in any order). */
static void expect_json(const char *name, const char *out, size_t len, const char *want_text)
{
    struct rarena a;
    jmp_buf jb;
    const struct rval *got, *want;

    if (!out)
        fail_msg("%s: undefined, want %s", name, want_text);
    vouch_ra_init(&a, 0);
    if (setjmp(jb))
        fail_msg("out of memory");
    a.jb = &jb;
    assert_int_equal(vouch_rv_parse_json(&a, out, len, 100, &got, NULL), VOUCH_OK);
    assert_int_equal(vouch_rv_parse_json(&a, want_text, strlen(want_text), 100, &want, NULL),
                     VOUCH_OK);
    if (!rv_eq(got, want))
        fail_msg("%s:\n got  %s\n want %s", name, out, want_text);
    vouch_ra_free(&a);
}

static void run_one(const struct pcase *c)
{
    static const struct vouch_rego_host host = { "query_reference_value", 1, refval };
    struct vouch_rego_compile_opts opts = { c->v0 ? VOUCH_REGO_V0 : 0, &host, 1 };
    struct vouch_rego_module m;
    struct vouch_rego_policy *pol = NULL;
    struct vouch_rego_eval_args args = { 0 };
    struct vouch_errbuf eb = { { 0 } };
    json_t *input, *data = NULL, *refs = NULL;
    char *text, *out = NULL;
    size_t len;

    text = read_text(c->policy, &len);
    m.name = c->policy;
    m.text = text;
    m.len = len;
    if (vouch_rego_compile(&m, 1, &opts, &pol, &eb))
        fail_msg("%s: %s", c->name, eb.msg);
    input = load("inputs", c->input);
    patch(input, c->input_patch);
    if (c->data) {
        data = load("data", c->data);
        patch(data, c->data_patch);
    }
    if (c->refs) {
        refs = load("refs", c->refs);
        patch(refs, c->refs_patch);
    }
    args.input = input;
    args.data = data;
    args.host_ctx = refs;
    args.now_ns = NOW;
    args.flags = VOUCH_REGO_STRICT;
    if (vouch_rego_eval_rule_text(pol, c->path, &args, &out, &len, &eb))
        fail_msg("%s: %s", c->name, eb.msg);
    if (!c->want)
        assert_null(out);
    else
        expect_json(c->name, out, len, c->want);
    free(out);
    free(text);
    json_decref(input);
    json_decref(data);
    json_decref(refs);
    vouch_rego_policy_free(pol);
}

static void test_policies(void **state)
{
    const struct pcase *c = *state;

    run_one(c);
}

/* The v0 policy means something else (or nothing) in the v1 grammar:
 * p[x] { } is an object rule there, and bodies need `if`. */
static void test_v0_needs_v0(void **state)
{
    struct vouch_rego_module m;
    struct vouch_rego_policy *pol = NULL;
    struct vouch_errbuf eb = { { 0 } };
    size_t len;
    char *text = read_text("legacy_v0.rego", &len);
    struct vouch_rego_eval_args args = { 0 };
    json_t *input = load("inputs", "tdx_flat.json"), *data = load("data", "legacy_reference.json");
    char *out = NULL;

    (void)state;
    m.name = "legacy_v0.rego";
    m.text = text;
    m.len = len;
    assert_int_equal(vouch_rego_compile(&m, 1, NULL, &pol, &eb), VOUCH_OK);
    args.input = input;
    args.data = data;
    /* as v1, mismatched is an object {key: true}, not a set */
    assert_int_equal(vouch_rego_eval_rule_text(pol, "data.policy.mismatched", &args, &out, &len,
                                               &eb),
                     VOUCH_OK);
    assert_string_equal(out, "{\"tdx.td_attributes.debug\":true}");
    free(out);
    free(text);
    json_decref(input);
    json_decref(data);
    vouch_rego_policy_free(pol);
}

int main(void)
{
    struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 1];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = test_policies;
        tests[i].setup_func = NULL;
        tests[i].teardown_func = NULL;
        tests[i].initial_state = (void *)&cases[i];
    }
    tests[i].name = "v0 policy read as v1";
    tests[i].test_func = test_v0_needs_v0;
    tests[i].setup_func = NULL;
    tests[i].teardown_func = NULL;
    tests[i].initial_state = NULL;
    return _cmocka_run_group_tests("rego_policies", tests, i + 1, NULL, NULL);
}
