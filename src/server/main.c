/* SPDX-License-Identifier: Apache-2.0 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/time.h"
#include <curl/curl.h>

#include "server/app.h"
#include "server/refresh.h"
#include "server/server.h"

#define DRAIN_MS 10000

int main(int argc, char **argv)
{
    struct vouch_config cfg;
    struct vouch_app app;
    struct vouch_server *srv = NULL;
    struct vouch_refresher *refresher = NULL;
    struct vouch_errbuf eb;
    char *new_token = NULL;
    char port_s[8], when[VOUCH_RFC3339_LEN];
    uint16_t port = 0;
    sigset_t set;
    int sig = 0, rc = 1;

    if (vouch_config_load(&cfg, argc, argv, true, &eb)) {
        fprintf(stderr, "vouchd: %s\n", eb.msg);
        return 2;
    }
    if (cfg.help) {
        vouch_config_usage(stdout);
        vouch_config_free(&cfg);
        return 0;
    }
    if (cfg.version) {
        printf("vouchd %s\n", VOUCH_VERSION);
        vouch_config_free(&cfg);
        return 0;
    }
    vouch_log_setup(stderr, (enum vouch_log_level)cfg.log_level);

    /*
     * Block the stop signals before any thread starts, so every thread
     * inherits the mask and only sigwait() below sees them.
     */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (vouch_app_init(&app, &cfg, &new_token, &eb)) {
        vouch_log(VOUCH_LOG_ERROR, "cannot start", "error", eb.msg, VOUCH_LOG_END);
        goto out;
    }
    if (new_token) {
        fprintf(stderr,
                "vouchd: generated the admin token. It is shown only this once; keep it:\n"
                "  %s\n", new_token);
        memset(new_token, 0, strlen(new_token));
        free(new_token);
    }
    if (app.cfg.fixed_time_set) {
        vouch_time_format_rfc3339(app.cfg.fixed_time, when);
        vouch_log(VOUCH_LOG_WARN,
                  "FIXED TIME: evidence is verified as if it were this instant, not now; "
                  "do not use in production", "fixed_time", when, VOUCH_LOG_END);
    }
    if (app.cfg.dcap_root)
        vouch_log(VOUCH_LOG_WARN,
                  "DCAP ROOT OVERRIDE: quotes and collateral are checked against this root, "
                  "not Intel's; for test PKIs only", "dcap_root", app.cfg.dcap_root,
                  VOUCH_LOG_END);
    if (vouch_server_start(&app, &srv, &port, &eb)) {
        vouch_log(VOUCH_LOG_ERROR, "cannot start", "error", eb.msg, VOUCH_LOG_END);
        goto out;
    }
    snprintf(port_s, sizeof(port_s), "%u", port);
    vouch_log(VOUCH_LOG_INFO, "listening", "addr", app.cfg.listen_host, "port", port_s,
              "issuer", app.issuer, "db", app.cfg.db_url, "version", VOUCH_VERSION, VOUCH_LOG_END);

    if (app.cfg.pccs_upstream) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (vouch_refresher_start(&app, &refresher, &eb)) {
            vouch_log(VOUCH_LOG_ERROR, "cannot start", "error", eb.msg, VOUCH_LOG_END);
            rc = 1;
            goto out;
        }
        vouch_log(VOUCH_LOG_INFO, "refreshing collateral from upstream", "upstream",
                  app.cfg.pccs_upstream, VOUCH_LOG_END);
    }
    if (sigwait(&set, &sig) == 0)
        vouch_log(VOUCH_LOG_INFO, "shutting down", "signal", strsignal(sig), VOUCH_LOG_END);
    rc = 0;
out:
    vouch_refresher_stop(refresher);
    vouch_server_stop(srv, DRAIN_MS);
    vouch_app_done(&app);
    if (rc == 0)
        vouch_log(VOUCH_LOG_INFO, "stopped", VOUCH_LOG_END);
    return rc;
}
