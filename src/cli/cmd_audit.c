/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vouch audit: read the audit log (what GET /admin/audit serves), and
 * vouch_cli_audit(): the entry the CLI's own state-changing commands
 * leave there, by "cli:USER".
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "common/time.h"
#include "store/audit.h"

void vouch_cli_audit(struct vouch_store *s, const char *action, const char *target, int rc)
{
    const struct passwd *pw = getpwuid(geteuid());
    char actor[VOUCH_STORE_NAME_MAX + 1];
    struct vouch_audit_entry a = { .actor = actor, .action = action, .target = target,
                                   .status = rc == VOUCH_EXIT_OK ? 200 : 500,
                                   .code = rc == VOUCH_EXIT_OK ? "" : "CLI.FAILED" };
    struct vouch_errbuf eb;

    if (!s)
        return;
    if (pw && pw->pw_name)
        snprintf(actor, sizeof(actor), "cli:%s", pw->pw_name);
    else
        snprintf(actor, sizeof(actor), "cli:uid%u", (unsigned)geteuid());
    if (vouch_audit_record(s, &a, vouch_clock_now_ms(), 0, &eb))
        fprintf(stderr, "vouch: warning: the audit entry was not stored: %s\n", eb.msg);
}

struct audit_args {
    const char *db;
    struct vouch_store_audit_filter f;
    long limit;
    int json;
};

/* --since/--until RFC3339 into epoch ms; 0 on success, else the exit status. */
static int time_arg(const char *flag, const char *v, int64_t *ret_ms)
{
    int64_t sec = 0;

    if (vouch_time_parse_rfc3339(v, strlen(v), &sec, NULL, NULL) || sec <= 0) {
        fprintf(stderr, "vouch: %s wants an RFC 3339 time, e.g. 2026-01-02T03:04:05Z\n", flag);
        return VOUCH_EXIT_USAGE;
    }
    *ret_ms = sec * 1000;
    return 0;
}

/* The value of flag argv[i] into the args; 0 or the exit status. */
static int flag_value(struct audit_args *a, const char *flag, const char *v)
{
    char *end;

    if (strcmp(flag, "--actor") == 0)
        a->f.actor = v;
    else if (strcmp(flag, "--action") == 0)
        a->f.action = v;
    else if (strcmp(flag, "--since") == 0)
        return time_arg(flag, v, &a->f.since_ms);
    else if (strcmp(flag, "--until") == 0)
        return time_arg(flag, v, &a->f.until_ms);
    else if (strcmp(flag, "--limit") == 0) {
        a->limit = strtol(v, &end, 10);
        if (*end || a->limit < 1 || a->limit > VOUCH_STORE_LIST_MAX) {
            fprintf(stderr, "vouch: --limit wants 1-%d\n", VOUCH_STORE_LIST_MAX);
            return VOUCH_EXIT_USAGE;
        }
    } else {
        return vouch_cli_usage("audit");
    }
    return 0;
}

static int parse(int argc, char **argv, struct audit_args *a)
{
    int i = 1, next, rc = 0;

    while (i < argc && !rc) {
        next = vouch_cli_db_opt(argc, argv, i, &a->db);
        if (next < 0)
            return vouch_cli_usage("audit");
        if (next != i) {
            i = next;
        } else if (strcmp(argv[i], "--json") == 0) {
            a->json = 1;
            i++;
        } else if (i + 1 < argc) {
            rc = flag_value(a, argv[i], argv[i + 1]);
            i += 2;
        } else {
            return vouch_cli_usage("audit");
        }
    }
    return rc;
}

static void print_entry(const struct vouch_store_audit *e, int json)
{
    char when[VOUCH_RFC3339_LEN];
    json_t *o;
    char *text;

    vouch_time_format_rfc3339(e->at_ms / 1000, when);
    if (!json) {
        printf("%s %-24s %-28s %-3lld %s%s%s\n", when, e->actor, e->action,
               (long long)e->status, e->target, *e->code ? " " : "", e->code);
        return;
    }
    o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s}", "id", e->id, "time", when, "actor",
                  e->actor, "action", e->action, "target", e->target, "status",
                  (json_int_t)e->status, "code", e->code, "request_id", e->request_id);
    text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(o);
}

int vouch_cmd_audit(int argc, char **argv)
{
    struct audit_args a = { .db = vouch_cli_default_db(), .limit = 100 };
    struct vouch_store_audit *rows = NULL;
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;
    uint64_t total = 0;
    size_t n = 0, i;
    int rc = parse(argc, argv, &a);

    if (rc)
        return rc;
    if ((rc = vouch_cli_store_open(a.db, VOUCH_CLI_STORE_EXISTING, &s)))
        return rc;
    if (vouch_store_audit_list(s, &a.f, 0, (size_t)a.limit, &rows, &n, &total, &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        vouch_store_close(s);
        return VOUCH_EXIT_ERROR;
    }
    for (i = 0; i < n; i++)
        print_entry(&rows[i], a.json);
    if (!a.json && total > n)
        fprintf(stderr, "vouch: %zu of %llu entries shown, newest first (--limit, --since)\n",
                n, (unsigned long long)total);
    vouch_store_audits_free(rows, n);
    vouch_store_close(s);
    return VOUCH_EXIT_OK;
}
