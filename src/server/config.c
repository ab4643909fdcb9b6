/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "common/help.h"
#include "common/log.h"
#include "common/time.h"
#include "crypto/kek.h"
#include "server/config.h"
#include "server/replay.h"

/* --vtpm-replay-records and --vtpm-replay-per-key: at most 64 Mi records (about 2.7 GB). */
#define VOUCH_CONFIG_REPLAY_MAX (1u << 26)

#define CONFIG_FILE_MAX (64 * 1024)

enum opt_id {
    OPT_LISTEN,
    OPT_DB,
    OPT_ISSUER,
    OPT_ADMIN_TOKEN,
    OPT_ADMIN_TOKEN_FILE,
    OPT_KEK_FILE,
    OPT_CONFIG,
    OPT_TOKEN_LIFETIME,
    OPT_TOKEN_ALG,
    OPT_TOKEN_FORMAT,
    OPT_MAX_BODY,
    OPT_VTPM_MAX_REQUEST,
    OPT_MAX_REQUEST_HEAD,
    OPT_FIXED_TIME,
    OPT_THREADS,
    OPT_MAX_CONNECTIONS,
    OPT_MAX_CONNECTIONS_PER_IP,
    OPT_REQUEST_TIMEOUT,
    OPT_RATE_LIMIT,
    OPT_RATE_BURST,
    OPT_ADMIN_AUTH_FAILURES,
    OPT_LOG_LEVEL,
    OPT_REGO_TIMEOUT,
    OPT_REGO_INITDATA_TIMEOUT,
    /* operations (docs/operations.md) */
    OPT_LOG_FORMAT,
    OPT_METRICS_TOKEN,
    OPT_METRICS_TOKEN_FILE,
    /* the console and its attestation history (docs/console.md) */
    OPT_CONSOLE,
    OPT_KEEP_ATTESTATIONS,
    OPT_AUDIT_RETENTION,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    /* OIDC (docs/oidc.md) */
    OPT_ALLOWED_AUDIENCES,
    OPT_DCAP_ROOT,
    OPT_PCCS_UPSTREAM,
    OPT_PCCS_REFRESH,
    OPT_NVGPU_DEVICE_ROOT,
    OPT_NVGPU_RIM_ROOT,
    OPT_VTPM_EK_ROOTS,
    OPT_VTPM_REPORT_INTERVAL,
    OPT_VTPM_KEEP_REPORTS,
    OPT_VTPM_REPLAY_RECORDS,
    OPT_VTPM_REPLAY_PER_KEY,
    OPT_VTPM_REPORT_RETENTION,
    OPT_NVGPU_RIM_URL,
    OPT_AMD_KDS_URL,
    OPT_NVGPU_OCSP,
    OPT_NVGPU_OCSP_URL,
    OPT__COUNT
};

static const struct {
    const char *flag;      /* without "--" */
    const char *env;
    const char *arg;
    const char *help;
} opts[OPT__COUNT] = {
    [OPT_LISTEN] = { "listen", "VOUCH_LISTEN", "ADDR:PORT",
                     "address to listen on (default 127.0.0.1:8080; port 0 picks one)" },
    [OPT_DB] = { "db", "VOUCH_DB", "URL", "store: sqlite:PATH (default sqlite:./var/vouch.db)" },
    [OPT_ISSUER] = { "issuer", "VOUCH_ISSUER", "URL",
                     "token issuer and OIDC issuer URL (default http://ADDR:PORT)" },
    [OPT_ADMIN_TOKEN] = { "admin-token", "VOUCH_ADMIN_TOKEN", "TOKEN",
                          "bearer token for the admin APIs (default: generated at first "
                          "start and printed once); other local users can read flags in "
                          "the process list, so prefer --admin-token-file or the "
                          "environment variable" },
    [OPT_ADMIN_TOKEN_FILE] = { "admin-token-file", "VOUCH_ADMIN_TOKEN_FILE", "FILE",
                               "read the admin token from the first line of FILE, which "
                               "only its owner may read (mode 0600 or 0400)" },
    [OPT_KEK_FILE] = { "kek-file", "VOUCH_KEK_FILE", "FILE",
                       "key-encryption key wrapping the secrets in the store: 32 random "
                       "bytes, raw or as hex or base64, in a file only its owner may read "
                       "(default: secrets stored in clear, with a warning)" },
    [OPT_CONFIG] = { "config", "VOUCH_CONFIG", "FILE",
                     "read options from FILE: 'name = value' lines, names as the flags" },
    [OPT_TOKEN_LIFETIME] = { "token-lifetime", "VOUCH_TOKEN_LIFETIME", "SECONDS",
                             "lifetime of attestation tokens (default 21600)" },
    [OPT_TOKEN_ALG] = { "token-alg", "VOUCH_TOKEN_ALG", "ALG",
                        "token signature algorithm, RS256 or ES256 (default RS256)" },
    [OPT_TOKEN_FORMAT] = { "token-format", "VOUCH_TOKEN_FORMAT", "FORMAT",
                           "default attestation token: flat (Alibaba's) or ear (trustee's); "
                           "a request can ask with ?token= (default flat)" },
    [OPT_MAX_BODY] = { "max-body", "VOUCH_MAX_BODY", "BYTES",
                       "largest request body accepted (default 1048576)" },
    [OPT_VTPM_MAX_REQUEST] = { "vtpm-max-request", "VOUCH_VTPM_MAX_REQUEST", "BYTES",
                               "largest form body of a vTPM RPC request (program whitelists "
                               "travel in one parameter; default 16777216)" },
    [OPT_MAX_REQUEST_HEAD] = { "max-request-head", "VOUCH_MAX_REQUEST_HEAD", "BYTES",
                               "room for a request's line (URL query included) and headers, "
                               "else 414/431; libmicrohttpd zeroes this much after every "
                               "request, so large parameters belong in a form body "
                               "(default 32768)" },
    [OPT_FIXED_TIME] = { "fixed-time", "VOUCH_FIXED_TIME", "RFC3339",
                         "verify evidence as if at this instant (tests, reproducing a "
                         "past verdict)" },
    [OPT_THREADS] = { "threads", "VOUCH_THREADS", "N",
                      "HTTP worker threads (default: 32 per core on SQLite, 4 per core on "
                      "PostgreSQL)" },
    [OPT_MAX_CONNECTIONS] = { "max-connections", "VOUCH_MAX_CONNECTIONS", "N",
                              "open client connections at most, all addresses together "
                              "(default 4096; the open-files limit is raised to fit)" },
    [OPT_MAX_CONNECTIONS_PER_IP] = { "max-connections-per-ip", "VOUCH_MAX_CONNECTIONS_PER_IP",
                                     "N", "open connections at most from one client address "
                                     "(default 64)" },
    [OPT_REQUEST_TIMEOUT] = { "request-timeout", "VOUCH_REQUEST_TIMEOUT", "SECONDS",
                              "a request's headers and body must arrive within this time, "
                              "however steadily they trickle in (default 10)" },
    [OPT_RATE_LIMIT] = { "rate-limit", "VOUCH_RATE_LIMIT", "N",
                         "requests per second from one client address, and with one "
                         "credential; more get 429 (default 0: off)" },
    [OPT_RATE_BURST] = { "rate-burst", "VOUCH_RATE_BURST", "N",
                         "bucket size of --rate-limit: requests one client may send "
                         "at once (default 0: the --rate-limit value)" },
    [OPT_ADMIN_AUTH_FAILURES] = { "admin-auth-failures", "VOUCH_ADMIN_AUTH_FAILURES", "N",
                                  "failed admin authentications allowed per minute from one "
                                  "client address; then 429 (default 10; 0: no limit)" },
    [OPT_DCAP_ROOT] = { "dcap-root", "VOUCH_DCAP_ROOT", "FILE",
                        "trust this root certificate (PEM or DER) instead of the pinned Intel "
                        "SGX Root CA; for test PKIs" },
    [OPT_PCCS_UPSTREAM] = { "pccs-upstream", "VOUCH_PCCS_UPSTREAM", "URL",
                            "refresh stored Intel collateral from this PCS/PCCS base URL "
                            "(e.g. https://api.trustedservices.intel.com); off by default" },
    [OPT_PCCS_REFRESH] = { "pccs-refresh", "VOUCH_PCCS_REFRESH", "SECONDS",
                           "seconds between upstream refresh passes (default 3600)" },
    [OPT_NVGPU_DEVICE_ROOT] = { "nvgpu-device-root", "VOUCH_NVGPU_DEVICE_ROOT", "FILE",
                                "trust these PEM roots instead of the pinned NVIDIA Device "
                                "Identity CA; for test PKIs" },
    [OPT_NVGPU_RIM_ROOT] = { "nvgpu-rim-root", "VOUCH_NVGPU_RIM_ROOT", "FILE",
                             "trust these PEM roots for RIM signatures instead of the pinned "
                             "NVIDIA RIM root; for test PKIs" },
    [OPT_AMD_KDS_URL] = { "amd-kds-url", "VOUCH_AMD_KDS_URL", "URL",
                          "fetch AMD VCEKs and CRLs missing from the store from this KDS (e.g. "
                          "https://kdsintf.amd.com, or another vouchd); verified and stored; "
                          "off by default" },
    [OPT_NVGPU_RIM_URL] = { "nvgpu-rim-url", "VOUCH_NVGPU_RIM_URL", "URL",
                            "fetch RIMs missing from the store from this RIM service (the id "
                            "is appended, e.g. https://rim.attestation.nvidia.com/v1/rim/); "
                            "off by default" },
    [OPT_NVGPU_OCSP] = { "nvgpu-ocsp", "VOUCH_NVGPU_OCSP", "MODE",
                         "OCSP for NVIDIA certificate chains: off (claims say 'unknown'), "
                         "soft (revoked fails) or require (only 'good' passes); default off" },
    [OPT_NVGPU_OCSP_URL] = { "nvgpu-ocsp-url", "VOUCH_NVGPU_OCSP_URL", "URL",
                             "OCSP responder for --nvgpu-ocsp (default: each certificate's "
                             "own AIA)" },
    [OPT_VTPM_EK_ROOTS] = { "vtpm-ek-roots", "VOUCH_VTPM_EK_ROOTS", "FILE",
                            "vTPM: TPM manufacturer root certificates (PEM) EK certificates "
                            "must chain to; ProduceAikcert then requires EkCert (default: "
                            "EK certificates are not checked)" },
    [OPT_VTPM_REPORT_INTERVAL] = { "vtpm-report-interval", "VOUCH_VTPM_REPORT_INTERVAL",
                                   "SECONDS", "vTPM: how often instances report; one silent "
                                   "for twice this long is offline (default 1800)" },
    [OPT_VTPM_REPLAY_RECORDS] = { "vtpm-replay-records", "VOUCH_VTPM_REPLAY_RECORDS", "N",
                                  "vTPM: SignatureNonce records held, all keys (about 40 "
                                  "bytes each, used as filled); a record lives about 15 "
                                  "minutes, so this caps signed calls at N / 900 per second "
                                  "sustained (default 1048576)" },
    [OPT_VTPM_REPLAY_PER_KEY] = { "vtpm-replay-per-key", "VOUCH_VTPM_REPLAY_PER_KEY", "N",
                                  "vTPM: SignatureNonce records one AccessKey may hold, so "
                                  "N / 900 signed calls per second per key (default 100000)" },
    [OPT_VTPM_KEEP_REPORTS] = { "vtpm-keep-reports", "VOUCH_VTPM_KEEP_REPORTS", "N",
                                "vTPM: accepted reports kept per instance, the newest "
                                "(default 100)" },
    [OPT_VTPM_REPORT_RETENTION] = { "vtpm-report-retention", "VOUCH_VTPM_REPORT_RETENTION",
                                    "DAYS", "vTPM: delete report history older than this, "
                                    "keeping each instance's newest report (default 90; 0: "
                                    "only --vtpm-keep-reports bounds it)" },
    [OPT_LOG_LEVEL] = { "log-level", "VOUCH_LOG_LEVEL", "LEVEL",
                        "debug, info, warn or error (default info)" },
    [OPT_REGO_TIMEOUT] = { "rego-timeout", "VOUCH_REGO_TIMEOUT", "MS",
                           "wall-clock budget of one appraisal policy evaluation, in "
                           "milliseconds (default 50); see docs/rego.md for the other limits" },
    [OPT_REGO_INITDATA_TIMEOUT] = { "rego-initdata-timeout", "VOUCH_REGO_INITDATA_TIMEOUT", "MS",
                                    "wall-clock budget of the agent policy carried in a "
                                    "request's init data, in milliseconds (default 10); it "
                                    "also runs under stricter step and memory limits" },
    /* operations (docs/operations.md) */
    [OPT_LOG_FORMAT] = { "log-format", "VOUCH_LOG_FORMAT", "FORMAT",
                         "text (key=value lines, the default) or json (one JSON object "
                         "per line)" },
    [OPT_METRICS_TOKEN] = { "metrics-token", "VOUCH_METRICS_TOKEN", "TOKEN",
                            "require 'Authorization: Bearer TOKEN' on GET /metrics "
                            "(default: /metrics is open); at least 16 characters; flags "
                            "show in the process list, so prefer the next option" },
    [OPT_METRICS_TOKEN_FILE] = { "metrics-token-file", "VOUCH_METRICS_TOKEN_FILE", "FILE",
                                 "read the metrics token from the first line of FILE, which "
                                 "only its owner may read (mode 0600 or 0400)" },
    [OPT_CONSOLE] = { "console", "VOUCH_CONSOLE", "BOOL",
                      "serve the web console at /console: true (default) or false" },
    [OPT_KEEP_ATTESTATIONS] = { "keep-attestations", "VOUCH_KEEP_ATTESTATIONS", "N",
                                "keep the newest N attestations (time, tee, policies, verdict, "
                                "error code; never evidence or tokens) for GET "
                                "/admin/attestations and the console (default 10000; 0: off)" },
    [OPT_AUDIT_RETENTION] = { "audit-retention", "VOUCH_AUDIT_RETENTION", "DAYS",
                              "keep audit log entries this many days (default 365; 0: keep "
                              "them forever)" },
    [OPT_TLS_CERT] = { "tls-cert", "VOUCH_TLS_CERT", "FILE",
                       "serve HTTPS (TLS 1.2 and 1.3) with this PEM certificate chain, leaf "
                       "first; needs --tls-key; SIGHUP reads both files again" },
    [OPT_TLS_KEY] = { "tls-key", "VOUCH_TLS_KEY", "FILE",
                      "the PEM private key of --tls-cert, in a file only its owner may read "
                      "(mode 0600 or 0400)" },
    /* OIDC (docs/oidc.md) */
    [OPT_ALLOWED_AUDIENCES] = { "allowed-audiences", "VOUCH_ALLOWED_AUDIENCES", "LIST",
                                "comma-separated audiences a request may ask for as "
                                "'audience' (e.g. sts.amazonaws.com); a token's aud is the "
                                "issuer when none is asked for (default: only the issuer)" },
};

void vouch_config_usage(FILE *out)
{
    int i;

    fprintf(out,
            "usage: vouchd [OPTIONS]\n\n"
            "Vouch attestation verifier.  Serves the attestation API, OIDC discovery and\n"
            "JWKS over HTTP, or HTTPS with --tls-cert (SIGHUP reloads it).  Every\n"
            "option can also be set with the environment variable shown, or in the\n"
            "--config file; flags win over the environment, which wins over the file.\n\n");
    for (i = 0; i < OPT__COUNT; i++) {
        char left[64];

        snprintf(left, sizeof(left), "--%s %s", opts[i].flag, opts[i].arg);
        if (strlen(left) > 28)
            fprintf(out, "  %s\n%31s", left, "");
        else
            fprintf(out, "  %-28s ", left);
        vouch_help_print_wrapped(out, 31, opts[i].help);
        fprintf(out, "  %-28s [%s]\n", "", opts[i].env);
    }
    fprintf(out, "  %-28s %s\n  %-28s %s\n", "--help", "show this help", "--version",
            "show the version");
}

static vouch_err set_str(char **dst, const char *v)
{
    char *s = strdup(v);

    if (!s)
        return VOUCH_E_NOMEM;
    free(*dst);
    *dst = s;
    return VOUCH_OK;
}

static vouch_err parse_u64(const char *v, uint64_t min, uint64_t max, uint64_t *ret)
{
    char *end;
    unsigned long long n;

    if (!*v || !isdigit((unsigned char)*v))
        return VOUCH_E_INVALID;
    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno || *end || n < min || n > max)
        return VOUCH_E_INVALID;
    *ret = n;
    return VOUCH_OK;
}

static vouch_err parse_listen(struct vouch_config *c, const char *v, struct vouch_errbuf *eb)
{
    const char *colon = strrchr(v, ':');
    char host[64];
    size_t hlen;
    uint64_t port;
    unsigned char addr[16];

    if (!colon)
        return vouch_fail(eb, VOUCH_E_INVALID, "want ADDR:PORT, got '%s'", v);
    hlen = (size_t)(colon - v);
    if (hlen >= 2 && v[0] == '[' && v[hlen - 1] == ']') {
        v++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof(host))
        return vouch_fail(eb, VOUCH_E_INVALID, "bad listen address");
    memcpy(host, v, hlen);
    host[hlen] = '\0';
    if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1)
        return vouch_fail(eb, VOUCH_E_INVALID, "'%s' is not a numeric IP address", host);
    if (parse_u64(colon + 1, 0, 65535, &port))
        return vouch_fail(eb, VOUCH_E_INVALID, "bad port '%s'", colon + 1);
    memcpy(c->listen_host, host, hlen + 1);
    c->listen_port = (uint16_t)port;
    return VOUCH_OK;
}

#define ADMIN_TOKEN_FILE_MAX 4096

/* --admin-token-file, --metrics-token-file: the first line of a private file, newline stripped. */
static vouch_err token_file(char **dst, const char *path, struct vouch_errbuf *eb)
{
    uint8_t *data = NULL;
    size_t len = 0;
    vouch_err e;

    e = vouch_secret_file_read(path, ADMIN_TOKEN_FILE_MAX, &data, &len, eb);
    if (e)
        return e;
    data[strcspn((char *)data, "\r\n")] = '\0';
    if (strlen((char *)data) < 16)
        e = vouch_fail(eb, VOUCH_E_INVALID, "%s: the token must be at least 16 characters",
                       path);
    else
        e = set_str(dst, (char *)data);
    vouch_kek_secret_free(data, len);
    return e;
}

/*
 * --allowed-audiences: a comma-separated list, blanks around entries
 * ignored; each entry 1..VOUCH_AUDIENCE_MAX printable ASCII characters.
 */
static vouch_err parse_audiences(struct vouch_config *c, const char *v, struct vouch_errbuf *eb)
{
    const char *p = v, *end;
    size_t n, i;

    vouch_config_audiences_free(c);
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        end = p + strcspn(p, ",");
        n = (size_t)(end - p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == 0 || n > VOUCH_AUDIENCE_MAX)
            return vouch_fail(eb, VOUCH_E_INVALID, "each audience is 1..%d characters",
                              VOUCH_AUDIENCE_MAX);
        for (i = 0; i < n; i++)
            if (p[i] <= ' ' || p[i] > '~')
                return vouch_fail(eb, VOUCH_E_INVALID, "an audience is printable ASCII "
                                  "without blanks");
        if (c->n_audiences == VOUCH_AUDIENCES_MAX)
            return vouch_fail(eb, VOUCH_E_INVALID, "at most %d audiences", VOUCH_AUDIENCES_MAX);
        c->audiences[c->n_audiences] = strndup(p, n);
        if (!c->audiences[c->n_audiences++])
            return VOUCH_E_NOMEM;
        p = *end ? end + 1 : end;
    }
    return VOUCH_OK;
}

/*
 * How the value of an option that needs no code of its own is read into
 * struct vouch_config: its kind, its field, and for a number the range
 * accepted and the unit an error names.  The other options (V_SPECIAL)
 * are read by option_set_special().
 */
enum value_kind {
    V_SPECIAL = 0,
    V_TEXT,      /* char *: a path, kept as given */
    V_URL,       /* char *: an http(s) URL of at most URL_MAX bytes */
    V_URL_BASE,  /* the same, a trailing '/' dropped (a path is appended to it) */
    V_UNSIGNED,  /* unsigned */
    V_U32,       /* uint32_t */
    V_U64,       /* uint64_t */
    V_SIZE,      /* size_t */
    V_INT64,     /* int64_t */
};

#define URL_MAX 512
#define FIELD(name) offsetof(struct vouch_config, name)
#define DAYS_MAX 36500
#define WEEK (7 * 86400)

static const struct option_value {
    enum value_kind kind;
    size_t field;
    uint64_t min, max;
    const char *unit;
    bool verifiers;  /* a text the verifiers may read (vouch_config_option) */
} values[OPT__COUNT] = {
    [OPT_KEK_FILE] = { V_TEXT, FIELD(kek_file), 0, 0, NULL },
    [OPT_CONFIG] = { V_TEXT, FIELD(config_file), 0, 0, NULL },
    [OPT_DCAP_ROOT] = { V_TEXT, FIELD(dcap_root), 0, 0, NULL, true },
    [OPT_NVGPU_DEVICE_ROOT] = { V_TEXT, FIELD(nvgpu_device_root), 0, 0, NULL, true },
    [OPT_NVGPU_RIM_ROOT] = { V_TEXT, FIELD(nvgpu_rim_root), 0, 0, NULL, true },
    [OPT_VTPM_EK_ROOTS] = { V_TEXT, FIELD(vtpm_ek_roots), 0, 0, NULL },
    [OPT_TLS_CERT] = { V_TEXT, FIELD(tls_cert), 0, 0, NULL },
    [OPT_TLS_KEY] = { V_TEXT, FIELD(tls_key), 0, 0, NULL },
    [OPT_PCCS_UPSTREAM] = { V_URL_BASE, FIELD(pccs_upstream), 0, 0, NULL, true },
    [OPT_AMD_KDS_URL] = { V_URL_BASE, FIELD(amd_kds_url), 0, 0, NULL, true },
    [OPT_NVGPU_RIM_URL] = { V_URL, FIELD(nvgpu_rim_url), 0, 0, NULL, true },
    [OPT_NVGPU_OCSP_URL] = { V_URL, FIELD(nvgpu_ocsp_url), 0, 0, NULL, true },
    [OPT_TOKEN_LIFETIME] = { V_INT64, FIELD(token_lifetime), 1, 366 * 86400, " seconds" },
    [OPT_MAX_BODY] = { V_SIZE, FIELD(max_body), 1024, 1u << 30, " bytes" },
    [OPT_VTPM_MAX_REQUEST] = { V_SIZE, FIELD(vtpm_max_request), 1u << 20, 64u << 20, " bytes" },
    [OPT_MAX_REQUEST_HEAD] = { V_SIZE, FIELD(max_request_head), 16u << 10, 64u << 20,
                               " bytes" },
    [OPT_THREADS] = { V_UNSIGNED, FIELD(threads), 1, 256, "" },
    [OPT_MAX_CONNECTIONS] = { V_UNSIGNED, FIELD(max_connections), 1, 1000000, "" },
    [OPT_MAX_CONNECTIONS_PER_IP] = { V_UNSIGNED, FIELD(max_connections_per_ip), 1, 1000000,
                                     "" },
    [OPT_REQUEST_TIMEOUT] = { V_UNSIGNED, FIELD(request_timeout), 1, 3600, " seconds" },
    [OPT_RATE_LIMIT] = { V_UNSIGNED, FIELD(rate_limit), 0, 1000000, "" },
    [OPT_RATE_BURST] = { V_UNSIGNED, FIELD(rate_burst), 0, 1000000, "" },
    [OPT_ADMIN_AUTH_FAILURES] = { V_UNSIGNED, FIELD(admin_auth_failures), 0, 1000000, "" },
    [OPT_AUDIT_RETENTION] = { V_UNSIGNED, FIELD(audit_retention_days), 0, DAYS_MAX, " days" },
    [OPT_KEEP_ATTESTATIONS] = { V_U64, FIELD(keep_attestations), 0, 100000000, "" },
    [OPT_PCCS_REFRESH] = { V_INT64, FIELD(pccs_refresh), 1, WEEK, " seconds" },
    [OPT_VTPM_REPORT_INTERVAL] = { V_INT64, FIELD(vtpm_report_interval), 1, WEEK, " seconds" },
    [OPT_VTPM_KEEP_REPORTS] = { V_INT64, FIELD(vtpm_keep_reports), 1, 100000, "" },
    [OPT_VTPM_REPORT_RETENTION] = { V_INT64, FIELD(vtpm_report_retention_days), 0, DAYS_MAX,
                                    " days" },
    [OPT_VTPM_REPLAY_RECORDS] = { V_SIZE, FIELD(vtpm_replay_records), 1000,
                                  VOUCH_CONFIG_REPLAY_MAX, "" },
    [OPT_VTPM_REPLAY_PER_KEY] = { V_SIZE, FIELD(vtpm_replay_per_key), 1000,
                                  VOUCH_CONFIG_REPLAY_MAX, "" },
    [OPT_REGO_TIMEOUT] = { V_U32, FIELD(rego_timeout_ms), 1, 60000, " milliseconds" },
    [OPT_REGO_INITDATA_TIMEOUT] = { V_U32, FIELD(rego_initdata_timeout_ms), 1, 60000,
                                    " milliseconds" },
};

static bool is_http_url(const char *v)
{
    return (strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0) &&
           strlen(v) <= URL_MAX;
}

/* A number in the option's range, stored in its field as the field's type. */
static vouch_err option_set_number(struct vouch_config *c, const struct option_value *ov,
                                   const char *v, struct vouch_errbuf *eb)
{
    void *field = (char *)c + ov->field;
    uint64_t n;

    if (parse_u64(v, ov->min, ov->max, &n))
        return vouch_fail(eb, VOUCH_E_INVALID, "want %llu..%llu%s, got '%s'",
                          (unsigned long long)ov->min, (unsigned long long)ov->max, ov->unit,
                          v);
    switch (ov->kind) {
    case V_UNSIGNED:
        *(unsigned *)field = (unsigned)n;
        break;
    case V_U32:
        *(uint32_t *)field = (uint32_t)n;
        break;
    case V_U64:
        *(uint64_t *)field = n;
        break;
    case V_SIZE:
        *(size_t *)field = (size_t)n;
        break;
    default:
        *(int64_t *)field = (int64_t)n;
        break;
    }
    return VOUCH_OK;
}

/* A value of the table above. */
static vouch_err option_set_value(struct vouch_config *c, const struct option_value *ov,
                                  const char *v, struct vouch_errbuf *eb)
{
    char **text = (char **)((char *)c + ov->field);
    size_t len = strlen(v);
    vouch_err e;

    if (ov->kind != V_TEXT && ov->kind != V_URL && ov->kind != V_URL_BASE)
        return option_set_number(c, ov, v, eb);
    if (ov->kind != V_TEXT && !is_http_url(v))
        return vouch_fail(eb, VOUCH_E_INVALID, "want an http(s) %sURL, got '%s'",
                          ov->kind == V_URL_BASE ? "base " : "", v);
    e = set_str(text, v);
    if (!e && ov->kind == V_URL_BASE && len && (*text)[len - 1] == '/')
        (*text)[len - 1] = '\0';
    return e;
}

/* The index of `v` in the NULL-ended `names`, or an error listing them. */
static vouch_err option_choice(const char *v, const char *const *names, int *ret,
                               struct vouch_errbuf *eb)
{
    char want[128] = "";
    size_t used = 0;
    int i;

    for (i = 0; names[i]; i++)
        if (strcmp(v, names[i]) == 0) {
            *ret = i;
            return VOUCH_OK;
        }
    for (i = 0; names[i] && used < sizeof(want); i++)
        used += (size_t)snprintf(want + used, sizeof(want) - used, "%s%s",
                                 i == 0 ? "" : names[i + 1] ? ", " : " or ", names[i]);
    return vouch_fail(eb, VOUCH_E_INVALID, "want %s, got '%s'", want, v);
}

/* The options named by a word from a fixed set. */
static vouch_err option_set_choice(struct vouch_config *c, int id, const char *v,
                                   struct vouch_errbuf *eb)
{
    static const char *const algs[] = { "RS256", "ES256", NULL };
    static const char *const formats[] = { "flat", "ear", NULL };
    static const char *const ocsp[] = { "off", "soft", "require", NULL };
    static const char *const log_formats[] = { "text", "json", NULL };
    static const char *const booleans[] = { "true", "false", NULL };
    int i = 0;
    vouch_err e;

    switch (id) {
    case OPT_TOKEN_ALG:
        e = option_choice(v, algs, &i, eb);
        return e ? e : set_str(&c->token_alg, v);
    case OPT_TOKEN_FORMAT:
        e = option_choice(v, formats, &i, eb);
        c->token_ear = e ? c->token_ear : i == 1;
        return e;
    case OPT_NVGPU_OCSP:
        e = option_choice(v, ocsp, &i, eb);
        c->nvgpu_ocsp = e ? c->nvgpu_ocsp : i;
        return e;
    case OPT_LOG_FORMAT:
        e = option_choice(v, log_formats, &i, eb);
        c->log_json = e ? c->log_json : i == 1;
        return e;
    default: /* OPT_CONSOLE */
        e = option_choice(v, booleans, &i, eb);
        c->console = e ? c->console : i == 0;
        return e;
    }
}

/* A bearer token given as a value: at least 16 characters. */
static vouch_err option_set_token(char **dst, const char *what, const char *v,
                                  struct vouch_errbuf *eb)
{
    if (strlen(v) < 16)
        return vouch_fail(eb, VOUCH_E_INVALID, "%s token must be at least 16 characters", what);
    return set_str(dst, v);
}

/* The options with rules of their own. */
static vouch_err option_set_special(struct vouch_config *c, int id, const char *v,
                                    struct vouch_errbuf *eb)
{
    vouch_err e;
    int level;

    switch (id) {
    case OPT_LISTEN:
        e = parse_listen(c, v, eb);
        return e ? e : set_str(&c->listen, v);
    case OPT_DB:
        if (strncmp(v, "sqlite:", 7) && strncmp(v, "postgres://", 11) &&
            strncmp(v, "postgresql://", 13))
            return vouch_fail(eb, VOUCH_E_INVALID,
                              "want sqlite:PATH or postgres://..., got '%s'", v);
        return set_str(&c->db_url, v);
    case OPT_ISSUER:
        if (!is_http_url(v))
            return vouch_fail(eb, VOUCH_E_INVALID, "want an http(s) URL, got '%s'", v);
        if (v[strlen(v) - 1] == '/')
            return vouch_fail(eb, VOUCH_E_INVALID, "issuer URL must not end with '/'");
        return set_str(&c->issuer, v);
    case OPT_ADMIN_TOKEN:
        return option_set_token(&c->admin_token, "admin", v, eb);
    case OPT_ADMIN_TOKEN_FILE:
        return token_file(&c->admin_token, v, eb);
    case OPT_METRICS_TOKEN:
        return option_set_token(&c->metrics_token, "metrics", v, eb);
    case OPT_METRICS_TOKEN_FILE:
        return token_file(&c->metrics_token, v, eb);
    case OPT_FIXED_TIME:
        e = vouch_time_parse_rfc3339(v, strlen(v), &c->fixed_time, NULL, eb);
        c->fixed_time_set = c->fixed_time_set || !e;
        return e;
    case OPT_LOG_LEVEL:
        if ((level = vouch_log_level_parse(v)) < 0)
            return vouch_fail(eb, VOUCH_E_INVALID,
                              "want debug, info, warn or error, got '%s'", v);
        c->log_level = level;
        return VOUCH_OK;
    case OPT_ALLOWED_AUDIENCES:
        return parse_audiences(c, v, eb);
    default:
        return option_set_choice(c, id, v, eb);
    }
}

/* Set option `id` to `v`; `src` names where the value came from, for messages. */
static vouch_err option_set(struct vouch_config *c, int id, const char *v, const char *src,
                            struct vouch_errbuf *eb)
{
    vouch_err e = values[id].kind == V_SPECIAL ? option_set_special(c, id, v, eb)
                                               : option_set_value(c, &values[id], v, eb);

    if (e == VOUCH_E_NOMEM)
        return vouch_fail(eb, e, "out of memory");
    if (e)
        vouch_fail_prefix(eb, e, "%s: ", src);
    return e;
}

static int find_flag(const char *name, size_t len)
{
    int i;

    for (i = 0; i < OPT__COUNT; i++)
        if (strlen(opts[i].flag) == len && strncmp(opts[i].flag, name, len) == 0)
            return i;
    return -1;
}

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static vouch_err load_file(struct vouch_config *c, const char *path, struct vouch_errbuf *eb)
{
    char line[4096], src[600];
    unsigned lineno = 0;
    size_t total = 0;
    vouch_err e = VOUCH_OK;
    FILE *f = fopen(path, "r");

    if (!f)
        return vouch_fail(eb, VOUCH_E_IO, "config file %s: %s", path, strerror(errno));
    while (fgets(line, sizeof(line), f)) {
        char *k, *v, *eq;
        int id;

        lineno++;
        total += strlen(line);
        if (total > CONFIG_FILE_MAX) {
            e = vouch_fail(eb, VOUCH_E_TOO_LARGE, "config file %s: larger than %d bytes",
                           path, CONFIG_FILE_MAX);
            break;
        }
        if (!strchr(line, '\n') && !feof(f)) {
            e = vouch_fail(eb, VOUCH_E_INVALID, "%s:%u: line too long", path, lineno);
            break;
        }
        k = trim(line);
        if (!*k || *k == '#')
            continue;
        eq = strchr(k, '=');
        if (!eq) {
            e = vouch_fail(eb, VOUCH_E_INVALID, "%s:%u: want 'name = value'", path, lineno);
            break;
        }
        *eq = '\0';
        v = trim(eq + 1);
        k = trim(k);
        /* Allow quoted values. */
        if (strlen(v) >= 2 && v[0] == '"' && v[strlen(v) - 1] == '"') {
            v[strlen(v) - 1] = '\0';
            v++;
        }
        id = find_flag(k, strlen(k));
        if (id < 0 || id == OPT_CONFIG) {
            e = vouch_fail(eb, VOUCH_E_INVALID, "%s:%u: unknown option '%s'", path, lineno, k);
            break;
        }
        snprintf(src, sizeof(src), "%.500s:%u: %s", path, lineno, k);
        e = option_set(c, id, v, src, eb);
        if (e)
            break;
    }
    fclose(f);
    return e;
}

/* Find --config (FILE) in argv, so the file is read before env and flags. */
static const char *argv_config(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], "--config=", 9) == 0)
            return argv[i] + 9;
    }
    return NULL;
}

/* The defaults, before the file, the environment and the flags. */
static vouch_err config_defaults(struct vouch_config *c, struct vouch_errbuf *eb)
{
    vouch_err e;

    memset(c, 0, sizeof(*c));
    c->token_lifetime = 21600;
    c->pccs_refresh = 3600;
    c->vtpm_report_interval = 1800;
    c->vtpm_keep_reports = 100;
    c->vtpm_replay_records = VOUCH_REPLAY_CAPACITY;
    c->vtpm_replay_per_key = VOUCH_REPLAY_PER_KEY;
    c->vtpm_report_retention_days = 90;
    c->max_body = 1024 * 1024;
    c->vtpm_max_request = 16u << 20;
    /* libmicrohttpd zeroes the whole pool after every request: keep it small */
    c->max_request_head = 32u << 10;
    c->max_connections = 4096;
    c->max_connections_per_ip = 64;
    c->request_timeout = 10;
    c->admin_auth_failures = 10;
    c->audit_retention_days = 365;
    c->rego_timeout_ms = 50;
    c->rego_initdata_timeout_ms = 10;
    c->console = true;
    c->keep_attestations = 10000;
    c->log_level = VOUCH_LOG_INFO;
    if ((e = option_set(c, OPT_LISTEN, "127.0.0.1:8080", "default", eb)) ||
        (e = option_set(c, OPT_DB, "sqlite:./var/vouch.db", "default", eb)))
        return e;
    return option_set(c, OPT_TOKEN_ALG, "RS256", "default", eb);
}

/* Every VOUCH_* variable that is set, but VOUCH_CONFIG (read first). */
static vouch_err load_env(struct vouch_config *c, struct vouch_errbuf *eb)
{
    char src[128];
    vouch_err e;
    int i;

    for (i = 0; i < OPT__COUNT; i++) {
        const char *v = getenv(opts[i].env);

        if (!v || i == OPT_CONFIG)
            continue;
        snprintf(src, sizeof(src), "environment %s", opts[i].env);
        if ((e = option_set(c, i, v, src, eb)))
            return e;
    }
    return VOUCH_OK;
}

/* The flags, --name VALUE or --name=VALUE; --config was read first. */
static vouch_err load_argv(struct vouch_config *c, int argc, char **argv,
                           struct vouch_errbuf *eb)
{
    char src[128];
    vouch_err e;
    int i, id;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v, *eq;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "--version") == 0) {
            *(strcmp(a, "--version") == 0 ? &c->version : &c->help) = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            return vouch_fail(eb, VOUCH_E_INVALID, "unexpected argument '%s' (see --help)", a);
        eq = strchr(a + 2, '=');
        id = find_flag(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
        if (id < 0)
            return vouch_fail(eb, VOUCH_E_INVALID, "unknown option '%s' (see --help)", a);
        if (!eq && i + 1 >= argc)
            return vouch_fail(eb, VOUCH_E_INVALID, "option '%s' needs a value", a);
        v = eq ? eq + 1 : argv[++i];
        if (id == OPT_CONFIG)
            continue;
        snprintf(src, sizeof(src), "--%s", opts[id].flag);
        if ((e = option_set(c, id, v, src, eb)))
            return e;
    }
    return VOUCH_OK;
}

vouch_err vouch_config_load(struct vouch_config *c, int argc, char **argv, bool use_env,
                            struct vouch_errbuf *eb)
{
    const char *cfg;
    vouch_err e;

    e = config_defaults(c, eb);
    if (e)
        goto out;
    cfg = argv_config(argc, argv);
    if (!cfg && use_env)
        cfg = getenv(opts[OPT_CONFIG].env);
    if (cfg) {
        e = set_str(&c->config_file, cfg);
        if (!e)
            e = load_file(c, cfg, eb);
        if (e)
            goto out;
    }
    if (use_env && (e = load_env(c, eb)))
        goto out;
    if ((e = load_argv(c, argc, argv, eb)))
        goto out;
    if (!c->tls_cert != !c->tls_key)
        e = vouch_fail(eb, VOUCH_E_INVALID, "--tls-cert and --tls-key go together: %s is "
                       "missing", c->tls_cert ? "--tls-key" : "--tls-cert");
out:
    if (e)
        vouch_config_free(c);
    return e;
}

void vouch_config_free(struct vouch_config *c)
{
    if (!c)
        return;
    free(c->listen);
    free(c->db_url);
    free(c->issuer);
    if (c->admin_token) {
        memset(c->admin_token, 0, strlen(c->admin_token));
        free(c->admin_token);
    }
    if (c->metrics_token) {
        memset(c->metrics_token, 0, strlen(c->metrics_token));
        free(c->metrics_token);
    }
    free(c->config_file);
    free(c->kek_file);
    free(c->token_alg);
    free(c->dcap_root);
    free(c->pccs_upstream);
    free(c->nvgpu_device_root);
    free(c->nvgpu_rim_root);
    free(c->vtpm_ek_roots);
    free(c->nvgpu_rim_url);
    free(c->amd_kds_url);
    free(c->nvgpu_ocsp_url);
    free(c->tls_cert);
    free(c->tls_key);
    vouch_config_audiences_free(c);
    memset(c, 0, sizeof(*c));
}

void vouch_config_audiences_free(struct vouch_config *c)
{
    while (c->n_audiences)
        free(c->audiences[--c->n_audiences]);
}

bool vouch_config_audience_listed(const struct vouch_config *c, const char *aud)
{
    size_t i;

    for (i = 0; i < c->n_audiences; i++)
        if (strcmp(c->audiences[i], aud) == 0)
            return true;
    return false;
}

/*
 * The options verifiers read (struct vouch_verifier_host.option): the
 * string value of the flag `name`, or NULL when it is not set.
 */
const char *vouch_config_option(const struct vouch_config *c, const char *name)
{
    static const char *const ocsp_modes[] = { NULL, "soft", "require" };
    int id = find_flag(name, strlen(name));

    if (id == OPT_NVGPU_OCSP)
        return c->nvgpu_ocsp > 0 && c->nvgpu_ocsp < 3 ? ocsp_modes[c->nvgpu_ocsp] : NULL;
    if (id < 0 || !values[id].verifiers)
        return NULL;
    return *(char *const *)(const void *)((const char *)c + values[id].field);
}
