/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "server/config.h"

static void test_defaults(void **state)
{
    char *argv[] = { "vouchd", NULL };
    struct vouch_config c;

    (void)state;
    assert_int_equal(vouch_config_load(&c, 1, argv, false, NULL), VOUCH_OK);
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 8080);
    assert_string_equal(c.db_url, "sqlite:./var/vouch.db");
    assert_null(c.issuer);
    assert_null(c.admin_token);
    assert_int_equal(c.token_lifetime, 21600);
    assert_int_equal(c.max_body, 1048576);
    assert_false(c.fixed_time_set);
    assert_string_equal(c.token_alg, "RS256");
    assert_false(c.token_ear);
    vouch_config_free(&c);
}

static void test_flags(void **state)
{
    char *argv[] = { "vouchd", "--listen", "[::1]:0", "--db=sqlite:/tmp/x.db",
                     "--issuer", "https://attest.example", "--admin-token",
                     "0123456789abcdef0123", "--token-lifetime", "60", "--max-body", "4096",
                     "--fixed-time", "2025-07-04T10:24:15Z", "--threads", "3", "--token-alg",
                     "ES256", "--token-format", "ear", NULL };
    struct vouch_config c;
    struct vouch_errbuf eb;

    (void)state;
    assert_int_equal(vouch_config_load(&c, 20, argv, false, &eb), VOUCH_OK);
    assert_true(c.token_ear);
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(c.listen_port, 0);
    assert_string_equal(c.db_url, "sqlite:/tmp/x.db");
    assert_string_equal(c.issuer, "https://attest.example");
    assert_string_equal(c.admin_token, "0123456789abcdef0123");
    assert_int_equal(c.token_lifetime, 60);
    assert_int_equal(c.max_body, 4096);
    assert_true(c.fixed_time_set);
    assert_int_equal(c.fixed_time, 1751624655);
    assert_int_equal(c.threads, 3);
    assert_string_equal(c.token_alg, "ES256");
    vouch_config_free(&c);
}

/* The NVIDIA GPU options: off by default, each settable. */
static void test_nvgpu_flags(void **state)
{
    char *argv[] = { "vouchd", "--nvgpu-rim-url", "http://127.0.0.1:9/v1/rim/", "--nvgpu-ocsp",
                     "require", "--nvgpu-ocsp-url", "http://127.0.0.1:9/ocsp",
                     "--nvgpu-device-root", "/tmp/d.pem", "--nvgpu-rim-root", "/tmp/r.pem", NULL };
    char *none[] = { "vouchd", NULL };
    struct vouch_config c;
    struct vouch_errbuf eb;

    (void)state;
    assert_int_equal(vouch_config_load(&c, 1, none, false, &eb), VOUCH_OK);
    assert_null(c.nvgpu_rim_url);
    assert_int_equal(c.nvgpu_ocsp, 0);
    vouch_config_free(&c);
    assert_int_equal(vouch_config_load(&c, 11, argv, false, &eb), VOUCH_OK);
    assert_string_equal(c.nvgpu_rim_url, "http://127.0.0.1:9/v1/rim/");
    assert_int_equal(c.nvgpu_ocsp, 2);
    assert_string_equal(c.nvgpu_ocsp_url, "http://127.0.0.1:9/ocsp");
    assert_string_equal(c.nvgpu_device_root, "/tmp/d.pem");
    assert_string_equal(c.nvgpu_rim_root, "/tmp/r.pem");
    vouch_config_free(&c);
}

/* What verifiers read through the host's option view, flag name by flag name. */
static void test_option_view(void **state)
{
    char *argv[] = { "vouchd", "--nvgpu-ocsp", "soft", "--dcap-root", "/tmp/root.der",
                     "--nvgpu-rim-url", "http://127.0.0.1:9/v1/rim/", "--kek-file",
                     "/tmp/kek", NULL };
    char *none[] = { "vouchd", NULL };
    static const struct {
        const char *name, *want; /* want NULL: unset or not offered */
    } set[] = {
        { "nvgpu-ocsp", "soft" },
        { "dcap-root", "/tmp/root.der" },
        { "nvgpu-rim-url", "http://127.0.0.1:9/v1/rim/" },
        { "nvgpu-device-root", NULL },
        { "nvgpu-ocsp-url", NULL },
        { "admin-token", NULL },     /* a secret: never offered */
        { "kek-file", NULL },        /* a path, but not a verifier's */
        { "no-such-option", NULL },
        { "", NULL },
    };
    struct vouch_config c;
    struct vouch_errbuf eb;
    size_t i;

    (void)state;
    assert_int_equal(vouch_config_load(&c, 1, none, false, &eb), VOUCH_OK);
    assert_null(vouch_config_option(&c, "nvgpu-ocsp")); /* off reads as unset */
    assert_null(vouch_config_option(&c, "dcap-root"));
    vouch_config_free(&c);
    assert_int_equal(vouch_config_load(&c, 9, argv, false, &eb), VOUCH_OK);
    for (i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
        const char *got = vouch_config_option(&c, set[i].name);

        if (set[i].want)
            assert_string_equal(got, set[i].want);
        else if (got)
            fail_msg("%s: got '%s'", set[i].name, got);
    }
    vouch_config_free(&c);
}

/*
 * The limits on clients: their defaults (rate limits off, so one client's
 * benchmark load is never refused) and each flag.
 */
static void test_client_limit_flags(void **state)
{
    char *none[] = { "vouchd", NULL };
    char *argv[] = { "vouchd", "--max-connections", "100", "--max-connections-per-ip", "5",
                     "--request-timeout", "3", "--rate-limit", "50", "--rate-burst", "200",
                     "--admin-auth-failures", "0", "--vtpm-report-retention", "0", NULL };
    struct vouch_config c;
    struct vouch_errbuf eb;

    (void)state;
    assert_int_equal(vouch_config_load(&c, 1, none, false, &eb), VOUCH_OK);
    assert_int_equal(c.max_connections, 4096);
    assert_int_equal(c.max_connections_per_ip, 64);
    assert_int_equal(c.request_timeout, 10);
    assert_int_equal(c.rate_limit, 0);
    assert_int_equal(c.rate_burst, 0);
    assert_int_equal(c.admin_auth_failures, 10);
    assert_int_equal(c.vtpm_report_retention_days, 90);
    vouch_config_free(&c);
    assert_int_equal(vouch_config_load(&c, 15, argv, false, &eb), VOUCH_OK);
    assert_int_equal(c.max_connections, 100);
    assert_int_equal(c.max_connections_per_ip, 5);
    assert_int_equal(c.request_timeout, 3);
    assert_int_equal(c.rate_limit, 50);
    assert_int_equal(c.rate_burst, 200);
    assert_int_equal(c.admin_auth_failures, 0);
    assert_int_equal(c.vtpm_report_retention_days, 0);
    vouch_config_free(&c);
}

/* Each bad value is refused with a message naming the option. */
static void test_bad_values(void **state)
{
    static const struct {
        const char *flag, *value, *needle;
    } cases[] = {
        { "--listen", "localhost:8080", "--listen" },
        { "--listen", "127.0.0.1", "--listen" },
        { "--listen", "127.0.0.1:65536", "--listen" },
        { "--db", "mysql://x", "--db" },
        { "--issuer", "ftp://x", "--issuer" },
        { "--issuer", "https://x/", "--issuer" },
        { "--admin-token", "short", "--admin-token" },
        { "--token-lifetime", "0", "--token-lifetime" },
        { "--token-lifetime", "-5", "--token-lifetime" },
        { "--token-lifetime", "12abc", "--token-lifetime" },
        { "--max-body", "10", "--max-body" },
        { "--fixed-time", "yesterday", "--fixed-time" },
        { "--threads", "0", "--threads" },
        { "--token-alg", "none", "--token-alg" },
        { "--token-format", "jwt", "--token-format" },
        { "--log-level", "loud", "--log-level" },
        { "--pccs-upstream", "file:///etc", "--pccs-upstream" },
        { "--pccs-refresh", "0", "--pccs-refresh" },
        { "--nvgpu-rim-url", "rim.example/v1/rim/", "--nvgpu-rim-url" },
        { "--nvgpu-ocsp", "maybe", "--nvgpu-ocsp" },
        { "--nvgpu-ocsp-url", "ldap://x", "--nvgpu-ocsp-url" },
        { "--max-connections", "0", "--max-connections" },
        { "--max-connections-per-ip", "1000001", "--max-connections-per-ip" },
        { "--request-timeout", "0", "--request-timeout" },
        { "--request-timeout", "3601", "--request-timeout" },
        { "--rate-limit", "-1", "--rate-limit" },
        { "--rate-burst", "many", "--rate-burst" },
        { "--admin-auth-failures", "1000001", "--admin-auth-failures" },
        { "--log-format", "xml", "--log-format" },
        { "--log-format", "", "--log-format" },
        { "--metrics-token", "short", "--metrics-token" },
        { "--vtpm-report-retention", "-1", "--vtpm-report-retention" },
        { "--vtpm-report-retention", "36501", "--vtpm-report-retention" },
        { "--no-such-flag", "1", "unknown option" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *argv[] = { "vouchd", (char *)cases[i].flag, (char *)cases[i].value, NULL };
        struct vouch_config c;
        struct vouch_errbuf eb = { "" };

        assert_int_equal(vouch_config_load(&c, 3, argv, false, &eb), VOUCH_E_INVALID);
        if (!strstr(eb.msg, cases[i].needle))
            fail_msg("%s %s: message '%s' lacks '%s'", cases[i].flag, cases[i].value, eb.msg,
                     cases[i].needle);
    }
    {
        char *argv[] = { "vouchd", "--db", NULL };
        struct vouch_config c;

        assert_int_equal(vouch_config_load(&c, 2, argv, false, NULL), VOUCH_E_INVALID);
    }
}

/* The operations options: text logs and an open /metrics by default, each settable. */
/*
 * Every numeric option: both ends of its range are taken and stored in its
 * field, one past either end is refused naming the range, and so are a
 * sign, a blank and trailing text.
 */
enum field_type { F_UNSIGNED, F_U32, F_U64, F_SIZE, F_INT64 };

static const struct number_case {
    const char *flag;
    size_t field;
    enum field_type type;
    uint64_t min, max;
} number_cases[] = {
#define C(flag, name, type, min, max) { flag, offsetof(struct vouch_config, name), type, min, max }
    C("token-lifetime", token_lifetime, F_INT64, 1, 31622400),
    C("max-body", max_body, F_SIZE, 1024, 1073741824),
    C("vtpm-max-request", vtpm_max_request, F_SIZE, 1048576, 67108864),
    C("max-request-head", max_request_head, F_SIZE, 16384, 67108864),
    C("threads", threads, F_UNSIGNED, 1, 256),
    C("max-connections", max_connections, F_UNSIGNED, 1, 1000000),
    C("max-connections-per-ip", max_connections_per_ip, F_UNSIGNED, 1, 1000000),
    C("request-timeout", request_timeout, F_UNSIGNED, 1, 3600),
    C("rate-limit", rate_limit, F_UNSIGNED, 0, 1000000),
    C("rate-burst", rate_burst, F_UNSIGNED, 0, 1000000),
    C("admin-auth-failures", admin_auth_failures, F_UNSIGNED, 0, 1000000),
    C("audit-retention", audit_retention_days, F_UNSIGNED, 0, 36500),
    C("keep-attestations", keep_attestations, F_U64, 0, 100000000),
    C("pccs-refresh", pccs_refresh, F_INT64, 1, 604800),
    C("vtpm-report-interval", vtpm_report_interval, F_INT64, 1, 604800),
    C("vtpm-keep-reports", vtpm_keep_reports, F_INT64, 1, 100000),
    C("vtpm-report-retention", vtpm_report_retention_days, F_INT64, 0, 36500),
    C("vtpm-replay-records", vtpm_replay_records, F_SIZE, 1000, 1u << 26),
    C("vtpm-replay-per-key", vtpm_replay_per_key, F_SIZE, 1000, 1u << 26),
    C("rego-timeout", rego_timeout_ms, F_U32, 1, 60000),
    C("rego-initdata-timeout", rego_initdata_timeout_ms, F_U32, 1, 60000),
#undef C
};

static uint64_t number_field(const struct vouch_config *c, const struct number_case *t)
{
    const char *f = (const char *)c + t->field;

    switch (t->type) {
    case F_UNSIGNED:
        return *(const unsigned *)(const void *)f;
    case F_U32:
        return *(const uint32_t *)(const void *)f;
    case F_U64:
        return *(const uint64_t *)(const void *)f;
    case F_SIZE:
        return *(const size_t *)(const void *)f;
    default:
        return (uint64_t)*(const int64_t *)(const void *)f;
    }
}

static vouch_err load_one(struct vouch_config *c, const char *flag, const char *value,
                          struct vouch_errbuf *eb)
{
    char name[64];
    char *argv[] = { "vouchd", name, (char *)value, NULL };

    snprintf(name, sizeof(name), "--%s", flag);
    return vouch_config_load(c, 3, argv, false, eb);
}

static void test_number_ranges(void **state)
{
    const char *bad[] = { "-1", "+5", " 5", "5s", "", "0x10" };
    struct vouch_config c;
    struct vouch_errbuf eb;
    char v[32], want[64];
    size_t i, k;

    (void)state;
    for (i = 0; i < sizeof(number_cases) / sizeof(number_cases[0]); i++) {
        const struct number_case *t = &number_cases[i];
        uint64_t ends[2] = { t->min, t->max }, outside[2] = { t->min - 1, t->max + 1 };

        snprintf(want, sizeof(want), "--%s: want %llu..%llu", t->flag,
                 (unsigned long long)t->min, (unsigned long long)t->max);
        for (k = 0; k < 2; k++) {
            snprintf(v, sizeof(v), "%llu", (unsigned long long)ends[k]);
            assert_int_equal(load_one(&c, t->flag, v, &eb), VOUCH_OK);
            assert_true(number_field(&c, t) == ends[k]);
            vouch_config_free(&c);
            if (k == 0 && t->min == 0)
                continue;
            snprintf(v, sizeof(v), "%llu", (unsigned long long)outside[k]);
            assert_int_equal(load_one(&c, t->flag, v, &eb), VOUCH_E_INVALID);
            assert_non_null(strstr(eb.msg, want));
        }
        for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
            assert_int_equal(load_one(&c, t->flag, bad[k], &eb), VOUCH_E_INVALID);
    }
}

/* The options named by a word: each word taken, anything else refused with the list. */
static void test_choices(void **state)
{
    static const struct {
        const char *flag, *value, *error;
    } cases[] = {
        { "token-format", "ear", NULL },
        { "token-format", "EAR", "want flat or ear, got 'EAR'" },
        { "nvgpu-ocsp", "soft", NULL },
        { "nvgpu-ocsp", "on", "want off, soft or require, got 'on'" },
        { "log-format", "json", NULL },
        { "log-format", "xml", "want text or json" },
        { "console", "false", NULL },
        { "console", "no", "want true or false, got 'no'" },
        { "token-alg", "ES256", NULL },
        { "token-alg", "HS256", "want RS256 or ES256" },
        { "pccs-upstream", "https://pccs.example/", NULL },
        { "pccs-upstream", "ftp://pccs.example", "want an http(s) base URL" },
        { "nvgpu-rim-url", "file:///rims", "want an http(s) URL" },
    };
    struct vouch_config c;
    struct vouch_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vouch_err e = load_one(&c, cases[i].flag, cases[i].value, &eb);

        if (!cases[i].error) {
            assert_int_equal(e, VOUCH_OK);
            vouch_config_free(&c);
            continue;
        }
        assert_int_equal(e, VOUCH_E_INVALID);
        assert_non_null(strstr(eb.msg, cases[i].error));
    }
    assert_int_equal(load_one(&c, "pccs-upstream", "https://pccs.example/", &eb), VOUCH_OK);
    assert_string_equal(c.pccs_upstream, "https://pccs.example");
    vouch_config_free(&c);
    assert_int_equal(load_one(&c, "console", "false", &eb), VOUCH_OK);
    assert_false(c.console);
    vouch_config_free(&c);
}

static void test_operations_flags(void **state)
{
    char *none[] = { "vouchd", NULL };
    char *argv[] = { "vouchd", "--log-format", "json", "--metrics-token",
                     "metrics-token-0123456789", NULL };
    char *text[] = { "vouchd", "--log-format=text", NULL };
    struct vouch_config c;
    struct vouch_errbuf eb;

    (void)state;
    assert_int_equal(vouch_config_load(&c, 1, none, false, &eb), VOUCH_OK);
    assert_false(c.log_json);
    assert_null(c.metrics_token);
    vouch_config_free(&c);
    assert_int_equal(vouch_config_load(&c, 5, argv, false, &eb), VOUCH_OK);
    assert_true(c.log_json);
    assert_string_equal(c.metrics_token, "metrics-token-0123456789");
    /* never offered to verifiers */
    assert_null(vouch_config_option(&c, "metrics-token"));
    vouch_config_free(&c);
    assert_int_equal(vouch_config_load(&c, 2, text, false, &eb), VOUCH_OK);
    assert_false(c.log_json);
    vouch_config_free(&c);
    {
        char path[] = "/tmp/vouch-metrics-token-XXXXXX";
        int fd = mkstemp(path);   /* mode 0600 */
        char *file[] = { "vouchd", "--metrics-token-file", path, NULL };

        assert_true(fd >= 0);
        assert_int_equal(write(fd, "file-metrics-token-0123\nignored\n", 33), 33);
        close(fd);
        assert_int_equal(vouch_config_load(&c, 3, file, false, &eb), VOUCH_OK);
        assert_string_equal(c.metrics_token, "file-metrics-token-0123");
        vouch_config_free(&c);
        chmod(path, 0644);   /* readable by others: refused */
        assert_int_not_equal(vouch_config_load(&c, 3, file, false, &eb), VOUCH_OK);
        assert_non_null(strstr(eb.msg, "--metrics-token-file"));
        unlink(path);
    }
    setenv("VOUCH_LOG_FORMAT", "json", 1);
    assert_int_equal(vouch_config_load(&c, 1, none, true, &eb), VOUCH_OK);
    assert_true(c.log_json);
    vouch_config_free(&c);
    unsetenv("VOUCH_LOG_FORMAT");
}

/* Precedence: flags > environment > file > defaults. */
static void test_file_env_flags(void **state)
{
    char path[] = "/tmp/vouch-config-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    char *argv[] = { "vouchd", "--config", path, "--max-body", "2048", NULL };
    struct vouch_config c;
    struct vouch_errbuf eb;

    (void)state;
    fprintf(f, "# comment\n\nlisten = 127.0.0.1:9000\nmax-body = 8192\n"
               "token-lifetime = \"120\"\ndb = sqlite:/tmp/from-file.db\n");
    fclose(f);
    setenv("VOUCH_TOKEN_LIFETIME", "300", 1);
    assert_int_equal(vouch_config_load(&c, 5, argv, true, &eb), VOUCH_OK);
    assert_int_equal(c.listen_port, 9000);          /* file */
    assert_string_equal(c.db_url, "sqlite:/tmp/from-file.db");
    assert_int_equal(c.token_lifetime, 300);        /* env over file */
    assert_int_equal(c.max_body, 2048);             /* flag over file */
    vouch_config_free(&c);
    unsetenv("VOUCH_TOKEN_LIFETIME");

    /* A bad line is reported with file and line number. */
    f = fopen(path, "w");
    fprintf(f, "listen = 127.0.0.1:9000\nbogus-option = 1\n");
    fclose(f);
    assert_int_equal(vouch_config_load(&c, 3, argv, false, &eb), VOUCH_E_INVALID);
    assert_non_null(strstr(eb.msg, ":2:"));
    f = fopen(path, "w");
    fprintf(f, "max-body = 1\n");
    fclose(f);
    assert_int_equal(vouch_config_load(&c, 3, argv, false, &eb), VOUCH_E_INVALID);
    assert_non_null(strstr(eb.msg, ":1: max-body"));
    unlink(path);
    assert_int_equal(vouch_config_load(&c, 3, argv, false, &eb), VOUCH_E_IO);
}

/* --rego-timeout and --rego-initdata-timeout: milliseconds, 1..60000. */
static void test_rego_timeouts(void **state)
{
    static const struct {
        const char *flag, *value;
        vouch_err want;
        uint32_t admin_ms, initdata_ms;
    } cases[] = {
        { "--log-level", "info", VOUCH_OK, 50, 10 },   /* the defaults */
        { "--rego-timeout", "200", VOUCH_OK, 200, 10 },
        { "--rego-initdata-timeout", "1", VOUCH_OK, 50, 1 },
        { "--rego-timeout", "60000", VOUCH_OK, 60000, 10 },
        { "--rego-timeout", "0", VOUCH_E_INVALID, 0, 0 },
        { "--rego-timeout", "60001", VOUCH_E_INVALID, 0, 0 },
        { "--rego-initdata-timeout", "-1", VOUCH_E_INVALID, 0, 0 },
        { "--rego-initdata-timeout", "10ms", VOUCH_E_INVALID, 0, 0 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *argv[] = { "vouchd", (char *)cases[i].flag, (char *)cases[i].value, NULL };
        struct vouch_config c;
        struct vouch_errbuf eb = { "" };

        assert_int_equal(vouch_config_load(&c, 3, argv, false, &eb), cases[i].want);
        if (cases[i].want) {
            assert_non_null(strstr(eb.msg, cases[i].flag));
            continue;
        }
        assert_int_equal(c.rego_timeout_ms, cases[i].admin_ms);
        assert_int_equal(c.rego_initdata_timeout_ms, cases[i].initdata_ms);
        vouch_config_free(&c);
    }
}

/* --allowed-audiences: the list as parsed, or refused (want NULL). */
static const struct {
    const char *value;
    const char *want;   /* entries joined by '|'; NULL: refused */
} audience_lists[] = {
    { "sts.amazonaws.com", "sts.amazonaws.com" },
    { " sts.amazonaws.com , sts.aliyuncs.com ", "sts.amazonaws.com|sts.aliyuncs.com" },
    { "a,b,", "a|b" },
    { "", "" },
    { "a,,b", NULL },
    { "has space", NULL },
    { "tab\there", NULL },
    { "caf\xc3\xa9", NULL },
    { "x,\x7f", NULL },
};

static void test_allowed_audiences(void **state)
{
    char *argv[] = { "vouchd", "--allowed-audiences", NULL, "--allowed-audiences", "last", NULL };
    char joined[512], long_aud[300];
    struct vouch_config c;
    struct vouch_errbuf eb;
    size_t i, k;

    (void)state;
    for (i = 0; i < sizeof(audience_lists) / sizeof(audience_lists[0]); i++) {
        argv[2] = (char *)audience_lists[i].value;
        if (!audience_lists[i].want) {
            assert_int_not_equal(vouch_config_load(&c, 3, argv, false, &eb), VOUCH_OK);
            assert_non_null(strstr(eb.msg, "--allowed-audiences"));
            continue;
        }
        assert_int_equal(vouch_config_load(&c, 3, argv, false, &eb), VOUCH_OK);
        joined[0] = '\0';
        for (k = 0; k < c.n_audiences; k++)
            snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s%s",
                     k ? "|" : "", c.audiences[k]);
        assert_string_equal(joined, audience_lists[i].want);
        if (c.n_audiences)
            assert_true(vouch_config_audience_listed(&c, c.audiences[0]));
        assert_false(vouch_config_audience_listed(&c, "STS.AMAZONAWS.COM"));
        vouch_config_free(&c);
    }
    /* a later source replaces the list, it does not add to it */
    argv[2] = "a,b";
    assert_int_equal(vouch_config_load(&c, 5, argv, false, &eb), VOUCH_OK);
    assert_int_equal(c.n_audiences, 1);
    assert_false(vouch_config_audience_listed(&c, "a"));
    vouch_config_free(&c);
    /* 255 characters at most, 32 entries at most */
    memset(long_aud, 'a', 256);
    long_aud[256] = '\0';
    argv[2] = long_aud;
    assert_int_not_equal(vouch_config_load(&c, 3, argv, false, &eb), VOUCH_OK);
    long_aud[255] = '\0';
    assert_int_equal(vouch_config_load(&c, 3, argv, false, &eb), VOUCH_OK);
    vouch_config_free(&c);
    joined[0] = '\0';
    for (k = 0; k < 33; k++)
        snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%sa%zu",
                 k ? "," : "", k);
    argv[2] = joined;
    assert_int_not_equal(vouch_config_load(&c, 3, argv, false, &eb), VOUCH_OK);
    assert_non_null(strstr(eb.msg, "at most 32"));
}

/* --tls-cert and --tls-key go together; the files are read when the server starts. */
static void test_tls_pair(void **state)
{
    char *both[] = { "vouchd", "--tls-cert", "/x/c.pem", "--tls-key", "/x/k.pem", NULL };
    char *cert[] = { "vouchd", "--tls-cert", "/x/c.pem", NULL };
    char *key[] = { "vouchd", "--tls-key", "/x/k.pem", NULL };
    struct vouch_config c;
    struct vouch_errbuf eb;

    (void)state;
    assert_int_equal(vouch_config_load(&c, 5, both, false, &eb), VOUCH_OK);
    assert_string_equal(c.tls_cert, "/x/c.pem");
    assert_string_equal(c.tls_key, "/x/k.pem");
    vouch_config_free(&c);
    assert_int_not_equal(vouch_config_load(&c, 3, cert, false, &eb), VOUCH_OK);
    assert_non_null(strstr(eb.msg, "--tls-key is missing"));
    assert_int_not_equal(vouch_config_load(&c, 3, key, false, &eb), VOUCH_OK);
    assert_non_null(strstr(eb.msg, "--tls-cert is missing"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_nvgpu_flags),
        cmocka_unit_test(test_option_view),
        cmocka_unit_test(test_client_limit_flags),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_number_ranges),
        cmocka_unit_test(test_choices),
        cmocka_unit_test(test_operations_flags),
        cmocka_unit_test(test_file_env_flags),
        cmocka_unit_test(test_rego_timeouts),
        cmocka_unit_test(test_allowed_audiences),
        cmocka_unit_test(test_tls_pair),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
