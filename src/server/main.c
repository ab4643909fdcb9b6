/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/time.h"
#include <curl/curl.h>

#include "server/app.h"
#include "server/history.h"
#include "server/refresh.h"
#include "server/vtpm_jobs.h"
#include "server/sdnotify.h"
#include "server/server.h"

#define DRAIN_MS 10000
/* Descriptors besides client connections: store, listener, epoll, logs, upstream fetches. */
#define FD_RESERVE 256
/* Fewer client connections than this and the limit is refused. */
#define MIN_CONNECTIONS 16

/*
 * Make the open-files limit hold --max-connections client sockets plus
 * the reserve: raise the soft limit (up to the hard one) if needed, or
 * lower the connection cap to what fits, with a warning.
 */
static vouch_err fit_open_files(struct vouch_config *cfg, struct vouch_errbuf *eb)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)cfg->max_connections + FD_RESERVE;
    char have[24], cap[24];

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return VOUCH_OK;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && getrlimit(RLIMIT_NOFILE, &rl) != 0)
            return VOUCH_OK;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return VOUCH_OK;
    if (rl.rlim_cur < MIN_CONNECTIONS + FD_RESERVE)
        return vouch_fail(eb, VOUCH_E_LIMIT, "the open-files limit (%llu) leaves room for "
                          "fewer than %d connections", (unsigned long long)rl.rlim_cur,
                          MIN_CONNECTIONS);
    cfg->max_connections = (unsigned)(rl.rlim_cur - FD_RESERVE);
    snprintf(have, sizeof(have), "%llu", (unsigned long long)rl.rlim_cur);
    snprintf(cap, sizeof(cap), "%u", cfg->max_connections);
    vouch_log(VOUCH_LOG_WARN, "the open-files limit is below --max-connections; lowered it",
              "nofile", have, "max_connections", cap, VOUCH_LOG_END);
    return VOUCH_OK;
}

/*
 * The store URL as the log may show it: a postgres:// URL's password
 * (user:PASSWORD@) becomes "***" and its query (which may hold
 * password=...) is dropped.  A sqlite: path is shown as is.
 */
static void db_url_for_log(const char *url, char *out, size_t size)
{
    const char *rest = strstr(url, "://"), *at, *colon, *end;

    if (!rest) {
        snprintf(out, size, "%s", url);
        return;
    }
    rest += 3;
    end = rest + strcspn(rest, "/?");
    at = memchr(rest, '@', (size_t)(end - rest));
    colon = at ? memchr(rest, ':', (size_t)(at - rest)) : NULL;
    if (colon)
        snprintf(out, size, "%.*s:***%.*s", (int)(colon - url), url,
                 (int)strcspn(at, "?"), at);
    else
        snprintf(out, size, "%.*s", (int)strcspn(url, "?"), url);
}

/* "2027-01-01T00:00:00Z" or "" */
static void tls_log(const char *msg, const struct vouch_tls_info *info)
{
    char until[VOUCH_RFC3339_LEN] = "", chain[8];

    if (info->not_after > 0)
        vouch_time_format_rfc3339((int64_t)info->not_after, until);
    snprintf(chain, sizeof(chain), "%u", info->chain);
    vouch_log(VOUCH_LOG_INFO, msg, "subject", info->subject, "sha256", info->sha256,
              "not_after", until, "chain", chain, VOUCH_LOG_END);
    if (info->not_after > 0 && info->not_after < time(NULL))
        vouch_log(VOUCH_LOG_WARN, "the TLS certificate has expired; clients will refuse it",
                  "not_after", until, VOUCH_LOG_END);
}

/* SIGHUP: reload the TLS certificate and key (a failed reload keeps the pair in service). */
static void reload_tls(struct vouch_server *srv, bool tls)
{
    struct vouch_tls_info info;
    struct vouch_errbuf eb;

    if (!tls)
        vouch_log(VOUCH_LOG_INFO, "SIGHUP: nothing to reload (no --tls-cert)", VOUCH_LOG_END);
    else if (vouch_server_reload_tls(srv, &info, &eb))
        vouch_log(VOUCH_LOG_ERROR, "SIGHUP: the TLS certificate was not reloaded; the "
                  "previous one stays in service", "error", eb.msg, VOUCH_LOG_END);
    else
        tls_log("SIGHUP: reloaded the TLS certificate", &info);
}

/*
 * Tell systemd we serve, then wait for a stop signal, reloading TLS on
 * SIGHUP; under a watchdog (WatchdogSec=), ping it at half its interval
 * from this loop.
 */
static int wait_for_stop(struct vouch_server *srv, bool tls, const sigset_t *set)
{
    uint64_t wd = vouch_sd_watchdog_usec();
    struct timespec ts = { (time_t)(wd / 2 / 1000000), (long)(wd / 2 % 1000000) * 1000 };
    int sig;

    vouch_sd_notify("READY=1\nSTATUS=serving");
    for (;;) {
        sig = wd ? sigtimedwait(set, NULL, &ts) : sigwaitinfo(set, NULL);
        if (sig == SIGHUP)
            reload_tls(srv, tls);
        else if (sig > 0)
            return sig;
        else if (wd && errno == EAGAIN)
            vouch_sd_notify("WATCHDOG=1");
    }
}

/* The configuration: 0 to go on, else the exit status (after --help, --version, an error). */
static int load_config(struct vouch_config *cfg, int argc, char **argv)
{
    struct vouch_errbuf eb;

    if (vouch_config_load(cfg, argc, argv, true, &eb)) {
        fprintf(stderr, "vouchd: %s\n", eb.msg);
        return 2;
    }
    if (cfg->help || cfg->version) {
        if (cfg->help)
            vouch_config_usage(stdout);
        else
            printf("vouchd %s\n", VOUCH_VERSION);
        vouch_config_free(cfg);
        return -1;
    }
    return 0;
}

/* What an operator must see at start: a new admin token, once; test-only settings. */
static void startup_notices(const struct vouch_app *app, char *new_token)
{
    char when[VOUCH_RFC3339_LEN];

    if (new_token) {
        fprintf(stderr,
                "vouchd: generated the admin token. It is shown only this once; keep it:\n"
                "  %s\n", new_token);
        memset(new_token, 0, strlen(new_token));
        free(new_token);
    }
    if (app->cfg.fixed_time_set) {
        vouch_time_format_rfc3339(app->cfg.fixed_time, when);
        vouch_log(VOUCH_LOG_WARN,
                  "FIXED TIME: evidence is verified as if it were this instant, not now; "
                  "do not use in production", "fixed_time", when, VOUCH_LOG_END);
    }
    if (app->cfg.dcap_root)
        vouch_log(VOUCH_LOG_WARN,
                  "DCAP ROOT OVERRIDE: quotes and collateral are checked against this root, "
                  "not Intel's; for test PKIs only", "dcap_root", app->cfg.dcap_root,
                  VOUCH_LOG_END);
}

/* The running parts besides the application, each NULL until started. */
struct daemon {
    struct vouch_history *history;
    struct vouch_server *srv;
    struct vouch_refresher *refresher;
    struct vouch_vtpm_jobs *vtpm_jobs;
};

/* The history writer, the HTTP server, the collateral refresher and the vTPM jobs. */
static vouch_err daemon_start(struct vouch_app *app, struct daemon *d, struct vouch_errbuf *eb)
{
    struct vouch_tls_info tls_info;
    char port_s[8], db[512];
    uint16_t port = 0;
    vouch_err e;

    if (app->cfg.keep_attestations > 0 &&
        (e = vouch_history_start(app->store, app->cfg.keep_attestations, &d->history, eb)))
        return e;
    app->history = d->history;
    if ((e = vouch_server_start(app, &d->srv, &port, &tls_info, eb)))
        return e;
    snprintf(port_s, sizeof(port_s), "%u", port);
    db_url_for_log(app->cfg.db_url, db, sizeof(db));
    if (app->cfg.tls_cert)
        tls_log("serving HTTPS", &tls_info);
    vouch_log(VOUCH_LOG_INFO, "listening", "addr", app->cfg.listen_host, "port", port_s,
              "issuer", app->issuer, "db", db, "version", VOUCH_VERSION, VOUCH_LOG_END);
    if (app->cfg.pccs_upstream) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if ((e = vouch_refresher_start(app, &d->refresher, eb)))
            return e;
        vouch_log(VOUCH_LOG_INFO, "refreshing collateral from upstream", "upstream",
                  app->cfg.pccs_upstream, VOUCH_LOG_END);
    }
    return vouch_vtpm_jobs_start(app, &d->vtpm_jobs, eb);
}

/* In the reverse order; the history after the last request, so what is queued is written. */
static void daemon_stop(struct vouch_app *app, struct daemon *d)
{
    vouch_vtpm_jobs_stop(d->vtpm_jobs);
    vouch_refresher_stop(d->refresher);
    vouch_server_stop(d->srv, DRAIN_MS);
    app->history = NULL;
    vouch_history_stop(d->history);
}

int main(int argc, char **argv)
{
    struct daemon d = { NULL, NULL, NULL, NULL };
    struct vouch_config cfg;
    struct vouch_app app;
    struct vouch_errbuf eb;
    char *new_token = NULL;
    sigset_t set;
    int sig, rc;

    vouch_app_tune_malloc();
    rc = load_config(&cfg, argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    vouch_log_setup(stderr, (enum vouch_log_level)cfg.log_level);
    vouch_log_json(cfg.log_json);
    if (fit_open_files(&cfg, &eb)) {
        vouch_log(VOUCH_LOG_ERROR, "cannot start", "error", eb.msg, VOUCH_LOG_END);
        vouch_config_free(&cfg);
        return 1;
    }
    /*
     * Block the stop signals (and SIGHUP, the TLS reload) before any
     * thread starts, so every thread inherits the mask and only sigwait()
     * below sees them.
     */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = 1;
    if (vouch_app_init(&app, &cfg, &new_token, &eb) == VOUCH_OK) {
        startup_notices(&app, new_token);
        if (daemon_start(&app, &d, &eb) == VOUCH_OK) {
            sig = wait_for_stop(d.srv, app.cfg.tls_cert != NULL, &set);
            vouch_log(VOUCH_LOG_INFO, "shutting down", "signal", strsignal(sig), VOUCH_LOG_END);
            rc = 0;
        }
    }
    if (rc)
        vouch_log(VOUCH_LOG_ERROR, "cannot start", "error", eb.msg, VOUCH_LOG_END);
    vouch_sd_notify("STOPPING=1");
    daemon_stop(&app, &d);
    vouch_app_done(&app);
    if (rc == 0)
        vouch_log(VOUCH_LOG_INFO, "stopped", VOUCH_LOG_END);
    return rc;
}
