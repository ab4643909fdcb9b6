/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_CONFIG_H
#define VOUCH_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vouch/err.h"

/* --allowed-audiences: entries at most, and characters in one. */
#define VOUCH_AUDIENCES_MAX 32
#define VOUCH_AUDIENCE_MAX 255

/*
 * vouchd's configuration.  Sources, lowest precedence first: built-in
 * defaults, the file named by --config (or VOUCH_CONFIG), VOUCH_*
 * environment variables, command-line flags.  The flag names are a
 * contract: docs, scripts and tests use them.
 */
struct vouch_config {
    char listen_host[64];      /* numeric IPv4/IPv6 address */
    uint16_t listen_port;      /* 0: pick a free port */
    char *listen;              /* as given, "127.0.0.1:8080" */
    char *db_url;
    char *issuer;              /* NULL: derived from the bound address */
    char *admin_token;         /* NULL: generated at first start */
    char *kek_file;            /* key-encryption key file, or NULL: secrets in clear */
    char *config_file;
    char *token_alg;           /* "RS256" (default) or "ES256" */
    bool token_ear;
    char *dcap_root;           /* test trust anchor instead of Intel's, or NULL */
    char *pccs_upstream;       /* collateral refresh source, or NULL (off) */
    int64_t pccs_refresh;      /* seconds between refresh passes */
    char *nvgpu_device_root;   /* PEM roots instead of NVIDIA's device CA, or NULL */
    char *nvgpu_rim_root;      /* PEM roots instead of NVIDIA's RIM root, or NULL */
    char *vtpm_ek_roots;       /* PEM TPM manufacturer roots EK certificates must chain to */
    int64_t vtpm_report_interval;  /* seconds between an instance's reports */
    int64_t vtpm_keep_reports;     /* report history rows kept per instance */
    size_t vtpm_replay_records;    /* SignatureNonce records held, all keys */
    size_t vtpm_replay_per_key;    /* and per AccessKey */
    int64_t vtpm_report_retention_days;  /* history older is deleted; 0: only by count */
    char *nvgpu_rim_url;       /* RIM service to fetch missing RIMs from, or NULL (off) */
    char *amd_kds_url;         /* AMD KDS to fetch missing VCEKs and CRLs from, or NULL (off) */
    int nvgpu_ocsp;            /* 0 off, 1 soft, 2 require (enum vouch_ocsp_mode) */
    char *nvgpu_ocsp_url;      /* OCSP responder, or NULL: the certificates' AIA */            /* default token shape: EAR instead of flat */
    int64_t token_lifetime;    /* seconds */
    size_t max_body;           /* bytes */
    size_t vtpm_max_request;   /* bytes: the vTPM RPC route's body */
    size_t max_request_head;   /* bytes: request line and headers (libmicrohttpd's pool) */
    uint32_t rego_timeout_ms;  /* wall-clock budget of an appraisal policy evaluation */
    uint32_t rego_initdata_timeout_ms;  /* ... of an init-data agent policy */
    bool fixed_time_set;
    int64_t fixed_time;        /* Unix seconds, when fixed_time_set */
    unsigned threads;          /* 0: the default per core (server.c) */
    unsigned max_connections;  /* open connections, all clients */
    unsigned max_connections_per_ip;
    unsigned request_timeout;  /* seconds for a request's headers and body */
    unsigned rate_limit;       /* requests/s per address and per credential; 0: off */
    unsigned rate_burst;       /* bucket size; 0: rate_limit */
    unsigned admin_auth_failures; /* per minute per address; 0: off */
    int log_level;             /* enum vouch_log_level */
    /* operations (docs/operations.md) */
    bool log_json;             /* --log-format json */
    char *metrics_token;       /* bearer token GET /metrics needs, or NULL: open */
    /* the console (docs/console.md) */
    bool console;              /* serve /console */
    uint64_t keep_attestations; /* attestation history rows kept; 0: none recorded */
    unsigned audit_retention_days; /* audit log entries older are deleted; 0: kept */
    char *tls_cert;            /* PEM chain to serve HTTPS with, or NULL: plain HTTP */
    char *tls_key;             /* its private key (both or neither) */
    /* OIDC (docs/oidc.md) */
    char *audiences[VOUCH_AUDIENCES_MAX];   /* --allowed-audiences, besides the issuer */
    size_t n_audiences;
    bool help;                 /* --help was given */
    bool version;              /* --version was given */
};

/*
 * Fill `c` from defaults, the config file, `envp`-style environment (getenv
 * is used when `use_env`) and argv.  On failure the message names the
 * flag, variable or file line at fault.  Free with vouch_config_free().
 */
vouch_err vouch_config_load(struct vouch_config *c, int argc, char **argv, bool use_env,
                            struct vouch_errbuf *eb);

void vouch_config_free(struct vouch_config *c);

/*
 * The value of option `name` (a flag without "--") as verifiers see it
 * through struct vouch_verifier_host, or NULL when unset.  Only the
 * trust options (roots, collateral and RIM sources, OCSP) are offered.
 */
const char *vouch_config_option(const struct vouch_config *c, const char *name);

/* Whether `aud` is one of --allowed-audiences (the issuer is allowed besides). */
bool vouch_config_audience_listed(const struct vouch_config *c, const char *aud);

/* Empty the audience list. */
void vouch_config_audiences_free(struct vouch_config *c);

/* The --help text. */
void vouch_config_usage(FILE *out);

#endif
