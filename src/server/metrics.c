/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "collateral/collateral.h"
#include "common/cache.h"
#include "server/app.h"
#include "server/metrics.h"

/* Latency buckets (upper bounds in µs), shared by every histogram. */
static const uint64_t bucket_us[] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000,
};
#define N_BUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))
/* The same bounds as `le` labels, in seconds. */
static const char *const bucket_le[N_BUCKETS] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
    "1", "2.5", "5", "10",
};

/* Counts per bucket (not cumulative; the last one is +Inf) and the sum in µs. */
struct histo {
    _Atomic uint64_t bucket[N_BUCKETS + 1];
    _Atomic uint64_t sum_us;
};

/* Status codes 100..599 each have a slot; STATUS_NONE counts "no answer" (0). */
#define STATUS_SLOTS 501
#define STATUS_NONE 500
/* Route slots: the table's routes, then "other" (past the cap), then "unmatched". */
#define ROUTE_OTHER VOUCH_METRICS_MAX_ROUTES
#define ROUTE_UNMATCHED (VOUCH_METRICS_MAX_ROUTES + 1)
#define ROUTE_SLOTS (VOUCH_METRICS_MAX_ROUTES + 2)
/* Registered tees counted one by one. */
#define MAX_TEES 32
/* Policy outcomes: one per error kind, then allow and deny. */
#define POLICY_ALLOW VOUCH_E__COUNT
#define POLICY_DENY (VOUCH_E__COUNT + 1)
/* Distinct cache names reported; more share "other". */
#define MAX_CACHES 32
/* Distinct store operations timed; more share the last slot ("other"). */
#define MAX_STORE_OPS 64
/* Collateral documents listed per prefix. */
#define COLLATERAL_LIST_MAX 4096

static struct {
    _Atomic uint64_t requests[ROUTE_SLOTS][STATUS_SLOTS];
    struct histo request_time[ROUTE_SLOTS];
    _Atomic uint64_t verifications[MAX_TEES][VOUCH_E__COUNT];
    struct histo verification_time[MAX_TEES];
    _Atomic uint64_t policy[VOUCH_E__COUNT + 2];
    struct histo policy_time;
    _Atomic uint64_t limited[VOUCH_LIMIT__COUNT];
    _Atomic int64_t connections;
    _Atomic uint64_t audit_failures;
    /* store operations: the name of each slot is claimed once, then fixed */
    const char *_Atomic store_op[MAX_STORE_OPS];
    struct histo store_time[MAX_STORE_OPS];
    _Atomic uint64_t store_errors[MAX_STORE_OPS];
} m;

static void observe(struct histo *h, uint64_t us)
{
    size_t i = 0;

    while (i < N_BUCKETS && us > bucket_us[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
}

void vouch_metrics_request(int route_index, unsigned status, uint64_t us)
{
    size_t r = route_index < 0                           ? ROUTE_UNMATCHED
               : route_index >= VOUCH_METRICS_MAX_ROUTES ? ROUTE_OTHER
                                                         : (size_t)route_index;
    size_t s = status >= 100 && status <= 599 ? status - 100 : STATUS_NONE;

    atomic_fetch_add_explicit(&m.requests[r][s], 1, memory_order_relaxed);
    observe(&m.request_time[r], us);
}

static size_t tee_index(const struct vouch_verifier *v)
{
    const struct vouch_verifier *at;
    size_t i;

    for (i = 0; i < MAX_TEES && (at = vouch_verifier_at(i)); i++)
        if (at == v)
            return i;
    return MAX_TEES;
}

void vouch_metrics_verification(const struct vouch_verifier *v, vouch_err e, uint64_t us)
{
    size_t t = tee_index(v);

    if (t >= MAX_TEES || (unsigned)e >= VOUCH_E__COUNT)
        return;
    atomic_fetch_add_explicit(&m.verifications[t][e], 1, memory_order_relaxed);
    observe(&m.verification_time[t], us);
}

void vouch_metrics_policy(vouch_err e, bool allow, uint64_t us)
{
    size_t slot = e ? ((unsigned)e < VOUCH_E__COUNT ? (size_t)e : VOUCH_E_INTERNAL)
                    : allow ? POLICY_ALLOW : POLICY_DENY;

    atomic_fetch_add_explicit(&m.policy[slot], 1, memory_order_relaxed);
    observe(&m.policy_time, us);
}

void vouch_metrics_rate_limited(enum vouch_metrics_limit why)
{
    if ((unsigned)why < VOUCH_LIMIT__COUNT)
        atomic_fetch_add_explicit(&m.limited[why], 1, memory_order_relaxed);
}

/* The slot of store operation `op` (a string literal of store.c), claimed on first use. */
static size_t store_slot(const char *op)
{
    size_t i;
    const char *seen;

    for (i = 0; i < MAX_STORE_OPS - 1; i++) {
        seen = atomic_load(&m.store_op[i]);
        if (!seen) {
            const char *expect = NULL;

            if (atomic_compare_exchange_strong(&m.store_op[i], &expect, op))
                return i;
            seen = expect;              /* another thread claimed it first */
        }
        if (seen == op || strcmp(seen, op) == 0)
            return i;
    }
    atomic_store(&m.store_op[MAX_STORE_OPS - 1], "other");
    return MAX_STORE_OPS - 1;
}

void vouch_metrics_store_op(const char *op, uint64_t us, vouch_err e)
{
    size_t i = store_slot(op);

    observe(&m.store_time[i], us);
    if (e)
        atomic_fetch_add_explicit(&m.store_errors[i], 1, memory_order_relaxed);
}

void vouch_metrics_audit_failure(void)
{
    atomic_fetch_add_explicit(&m.audit_failures, 1, memory_order_relaxed);
}

void vouch_metrics_connection(int delta)
{
    atomic_fetch_add_explicit(&m.connections, delta, memory_order_relaxed);
}

/* ---- rendering ---------------------------------------------------------- */

static void head(struct vouch_buf *b, const char *name, const char *type, const char *help)
{
    vouch_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped as the exposition format wants. */
static void put_label(struct vouch_buf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            vouch_buf_printf(b, "\\%c", *v);
        else if (*v == '\n')
            vouch_buf_puts(b, "\\n");
        else
            vouch_buf_putc(b, *v);
    }
}

static void put_seconds(struct vouch_buf *b, uint64_t us)
{
    vouch_buf_printf(b, "%llu.%06llu", (unsigned long long)(us / 1000000),
                     (unsigned long long)(us % 1000000));
}

/* The series of histogram `h`; `labels` is "" or 'a="b",' (with the comma). */
static void put_histo(struct vouch_buf *b, const char *name, const char *labels,
                      const struct histo *h)
{
    uint64_t cum = 0;
    size_t i;

    for (i = 0; i <= N_BUCKETS; i++) {
        cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        vouch_buf_printf(b, "%s_bucket{%sle=\"%s\"} %llu\n", name, labels,
                         i < N_BUCKETS ? bucket_le[i] : "+Inf", (unsigned long long)cum);
    }
    vouch_buf_printf(b, "%s_sum%s%.*s%s ", name, *labels ? "{" : "",
                     *labels ? (int)strlen(labels) - 1 : 0, labels, *labels ? "}" : "");
    put_seconds(b, atomic_load_explicit(&h->sum_us, memory_order_relaxed));
    vouch_buf_printf(b, "\n%s_count%s%.*s%s %llu\n", name, *labels ? "{" : "",
                     *labels ? (int)strlen(labels) - 1 : 0, labels, *labels ? "}" : "",
                     (unsigned long long)cum);
}

static bool histo_empty(const struct histo *h)
{
    size_t i;

    for (i = 0; i <= N_BUCKETS; i++)
        if (atomic_load_explicit(&h->bucket[i], memory_order_relaxed))
            return false;
    return true;
}

/* 'route="...",method="...",' of route slot `r`. */
static void route_labels(const struct vouch_app *app, size_t r, char *out, size_t size)
{
    struct vouch_buf b = VOUCH_BUF_INIT(size - 1);
    size_t len;

    vouch_buf_puts(&b, "route=\"");
    if (r == ROUTE_UNMATCHED || r == ROUTE_OTHER || r >= app->n_routes)
        vouch_buf_puts(&b, r == ROUTE_UNMATCHED ? "unmatched\",method=\"any"
                                                : "other\",method=\"any");
    else {
        put_label(&b, app->routes[r].pattern);
        vouch_buf_printf(&b, "\",method=\"%s", app->routes[r].method);
    }
    vouch_buf_puts(&b, "\",");
    len = b.data ? b.len : 0;
    memcpy(out, b.data ? (const char *)b.data : "", len);
    out[len] = '\0';
    vouch_buf_free(&b);
}

static void render_requests(const struct vouch_app *app, struct vouch_buf *b)
{
    char labels[600];
    uint64_t n;
    size_t r, s;

    head(b, "vouch_http_requests_total", "counter",
         "HTTP requests answered, by route pattern, method and status");
    for (r = 0; r < ROUTE_SLOTS; r++) {
        route_labels(app, r, labels, sizeof(labels));
        for (s = 0; s < STATUS_SLOTS; s++) {
            n = atomic_load_explicit(&m.requests[r][s], memory_order_relaxed);
            if (n)
                vouch_buf_printf(b, "vouch_http_requests_total{%sstatus=\"%u\"} %llu\n",
                                 labels, s == STATUS_NONE ? 0u : (unsigned)s + 100,
                                 (unsigned long long)n);
        }
    }
    head(b, "vouch_http_request_duration_seconds", "histogram",
         "time from a request's first byte to its answer, by route pattern and method");
    for (r = 0; r < ROUTE_SLOTS; r++) {
        if (histo_empty(&m.request_time[r]))
            continue;
        route_labels(app, r, labels, sizeof(labels));
        put_histo(b, "vouch_http_request_duration_seconds", labels, &m.request_time[r]);
    }
}

static void render_verifications(struct vouch_buf *b)
{
    const struct vouch_verifier *v;
    char labels[128];
    uint64_t n;
    size_t t;
    int e;

    head(b, "vouch_verifications_total", "counter",
         "evidence verifications, by tee and result (ok or the kind of failure)");
    for (t = 0; t < MAX_TEES && (v = vouch_verifier_at(t)); t++)
        for (e = 0; e < VOUCH_E__COUNT; e++) {
            n = atomic_load_explicit(&m.verifications[t][e], memory_order_relaxed);
            if (n || e == VOUCH_OK)
                vouch_buf_printf(b, "vouch_verifications_total{tee=\"%s\",result=\"%s\"} "
                                 "%llu\n", v->tee, e ? vouch_err_name(e) : "ok",
                                 (unsigned long long)n);
        }
    head(b, "vouch_verification_duration_seconds", "histogram",
         "time to verify one piece of evidence, by tee");
    for (t = 0; t < MAX_TEES && (v = vouch_verifier_at(t)); t++) {
        snprintf(labels, sizeof(labels), "tee=\"%s\",", v->tee);
        put_histo(b, "vouch_verification_duration_seconds", labels, &m.verification_time[t]);
    }
}

static void render_policy(struct vouch_buf *b)
{
    uint64_t n;
    size_t i;

    head(b, "vouch_policy_evaluations_total", "counter",
         "appraisals of a request's devices by its policies, by result "
         "(allow, deny or the kind of failure)");
    for (i = 0; i < VOUCH_E__COUNT + 2; i++) {
        n = atomic_load_explicit(&m.policy[i], memory_order_relaxed);
        if (n || i >= POLICY_ALLOW)
            vouch_buf_printf(b, "vouch_policy_evaluations_total{result=\"%s\"} %llu\n",
                             i == POLICY_ALLOW ? "allow"
                             : i == POLICY_DENY ? "deny"
                                                : vouch_err_name((vouch_err)i),
                             (unsigned long long)n);
    }
    head(b, "vouch_policy_evaluation_duration_seconds", "histogram",
         "time to appraise a request's devices with its policies");
    put_histo(b, "vouch_policy_evaluation_duration_seconds", "", &m.policy_time);
}

static void render_server(struct vouch_buf *b)
{
    static const char *const why[VOUCH_LIMIT__COUNT] = {
        [VOUCH_LIMIT_ADDRESS] = "address",
        [VOUCH_LIMIT_CREDENTIAL] = "credential",
        [VOUCH_LIMIT_AUTH_FAILURES] = "auth_failures",
    };
    size_t i;

    head(b, "vouch_rate_limited_requests_total", "counter",
         "requests refused with 429 by a rate limit, by limit");
    for (i = 0; i < VOUCH_LIMIT__COUNT; i++)
        vouch_buf_printf(b, "vouch_rate_limited_requests_total{limit=\"%s\"} %llu\n", why[i],
                         (unsigned long long)atomic_load(&m.limited[i]));
    head(b, "vouch_audit_write_failures_total", "counter",
         "administrative actions whose audit entry could not be stored");
    vouch_buf_printf(b, "vouch_audit_write_failures_total %llu\n",
                     (unsigned long long)atomic_load(&m.audit_failures));
    head(b, "vouch_open_connections", "gauge", "client connections open now");
    vouch_buf_printf(b, "vouch_open_connections %lld\n",
                     (long long)atomic_load(&m.connections));
}

/*
 * vTPM instances by the system status DescribeInstance shows and whether
 * they report: one that stopped reporting shows as unmeasured (3).
 */
static void render_vtpm(struct vouch_app *app, int64_t now, struct vouch_buf *b)
{
    static const char *const names[5] = { "other", "trusted", "untrusted", "unmeasured",
                                          "not_evaluated" };
    int64_t since = (now - 2 * app->cfg.vtpm_report_interval) * 1000;
    struct vouch_store_census c;
    uint64_t shown[5][2] = { { 0 } };
    struct vouch_errbuf eb;
    size_t st, on, to;

    if (vouch_store_instance_census(app->store, since, &c, &eb))
        return;                 /* the store is away: /readyz says so */
    for (st = 0; st < 5; st++)
        for (on = 0; on < 2; on++) {
            to = !on && (st == 1 || st == 2) ? 3 : st;
            shown[to][on] += c.n[st][on];
        }
    head(b, "vouch_vtpm_instances", "gauge",
         "registered vTPM instances by system trust status and whether they report");
    for (st = 0; st < 5; st++)
        for (on = 0; on < 2; on++)
            vouch_buf_printf(b, "vouch_vtpm_instances{online=\"%s\",status=\"%s\"} %llu\n",
                             on ? "true" : "false", names[st],
                             (unsigned long long)shown[st][on]);
}

static void render_store(struct vouch_buf *b)
{
    char labels[96];
    const char *op;
    size_t i;

    head(b, "vouch_store_operation_duration_seconds", "histogram",
         "time of each store operation (a query or a transaction), by operation");
    for (i = 0; i < MAX_STORE_OPS && (op = atomic_load(&m.store_op[i])); i++) {
        snprintf(labels, sizeof(labels), "op=\"%s\",", op);
        put_histo(b, "vouch_store_operation_duration_seconds", labels, &m.store_time[i]);
    }
    head(b, "vouch_store_operation_errors_total", "counter",
         "store operations that failed (including not found and conflicts), by operation");
    for (i = 0; i < MAX_STORE_OPS && (op = atomic_load(&m.store_op[i])); i++)
        vouch_buf_printf(b, "vouch_store_operation_errors_total{op=\"%s\"} %llu\n", op,
                         (unsigned long long)atomic_load(&m.store_errors[i]));
}

struct cache_sums {
    size_t n;
    struct {
        const char *name;
        struct vouch_cache_stats s;
    } c[MAX_CACHES];
};

/* Caches of one name (several instances may share it) are summed. */
static void cache_add(const char *name, const struct vouch_cache_stats *s, void *arg)
{
    struct cache_sums *sums = arg;
    size_t i;

    for (i = 0; i < sums->n && strcmp(sums->c[i].name, name) != 0; i++)
        ;
    if (i == sums->n) {
        if (sums->n == MAX_CACHES)
            i = MAX_CACHES - 1, sums->c[i].name = "other";
        else
            sums->c[sums->n++].name = name;
    }
    sums->c[i].s.hits += s->hits;
    sums->c[i].s.misses += s->misses;
    sums->c[i].s.evictions += s->evictions;
    sums->c[i].s.expirations += s->expirations;
    sums->c[i].s.entries += s->entries;
    sums->c[i].s.bytes += s->bytes;
}

static void render_caches(struct vouch_buf *b)
{
    static const struct {
        const char *name, *type, *help;
        size_t off;
    } cols[] = {
        { "vouch_cache_hits_total", "counter", "lookups that found a live entry",
          offsetof(struct vouch_cache_stats, hits) },
        { "vouch_cache_misses_total", "counter", "lookups that found none",
          offsetof(struct vouch_cache_stats, misses) },
        { "vouch_cache_evictions_total", "counter", "entries dropped to respect a cap",
          offsetof(struct vouch_cache_stats, evictions) },
        { "vouch_cache_expirations_total", "counter", "entries dropped when their time was up",
          offsetof(struct vouch_cache_stats, expirations) },
        { "vouch_cache_entries", "gauge", "entries held now",
          offsetof(struct vouch_cache_stats, entries) },
        { "vouch_cache_size_bytes", "gauge", "bytes the entries count against the cap",
          offsetof(struct vouch_cache_stats, bytes) },
    };
    struct cache_sums sums;
    size_t i, k;

    memset(&sums, 0, sizeof(sums));
    vouch_cache_each(cache_add, &sums);
    for (k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
        head(b, cols[k].name, cols[k].type, cols[k].help);
        for (i = 0; i < sums.n; i++) {
            uint64_t v;

            memcpy(&v, (const char *)&sums.c[i].s + cols[k].off, sizeof(v));
            vouch_buf_printf(b, "%s{cache=\"", cols[k].name);
            put_label(b, sums.c[i].name);
            vouch_buf_printf(b, "\"} %llu\n", (unsigned long long)v);
        }
    }
}

/* One stored collateral document's series in both metrics. */
static void collateral_doc(struct vouch_buf *until, struct vouch_buf *at,
                           const struct vouch_store_doc *d, int64_t now)
{
    char fmspc[64] = "";
    const char *p;
    struct vouch_buf lab = VOUCH_BUF_INIT(1024);

    /* tcb/{tee}/{FMSPC}/v{n}: the third segment is the FMSPC */
    if (strncmp(d->id, "tcb/", 4) == 0 && (p = strchr(d->id + 4, '/')) != NULL)
        snprintf(fmspc, sizeof(fmspc), "%.*s", (int)strcspn(p + 1, "/"), p + 1);
    vouch_buf_puts(&lab, "{document=\"");
    put_label(&lab, d->id);
    if (*fmspc) {
        vouch_buf_puts(&lab, "\",fmspc=\"");
        put_label(&lab, fmspc);
    }
    vouch_buf_puts(&lab, "\"}");
    if (lab.data) {
        vouch_buf_printf(until, "vouch_collateral_next_update_seconds%.*s %lld\n",
                         (int)lab.len, (const char *)lab.data, (long long)(d->expires_at - now));
        vouch_buf_printf(at, "vouch_collateral_next_update_timestamp_seconds%.*s %lld\n",
                         (int)lab.len, (const char *)lab.data, (long long)d->expires_at);
    }
    vouch_buf_free(&lab);
}

/* Stored Intel collateral: seconds to each document's nextUpdate (negative: past it). */
static void render_collateral(struct vouch_app *app, int64_t now, struct vouch_buf *b)
{
    static const char *const prefixes[] = { "tcb/", "qe/", "pckcrl/", "rootcacrl" };
    struct vouch_buf until = VOUCH_BUF_INIT(4u << 20), at = VOUCH_BUF_INIT(4u << 20);
    struct vouch_store_doc *docs;
    struct vouch_errbuf eb;
    size_t i, k, n;

    for (k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
        docs = NULL;
        n = 0;
        if (vouch_store_doc_list(app->store, VOUCH_COLLATERAL_KIND, prefixes[k], 0,
                                 COLLATERAL_LIST_MAX, &docs, &n, &eb))
            continue;
        for (i = 0; i < n; i++)
            if (docs[i].expires_at)
                collateral_doc(&until, &at, &docs[i], now);
        vouch_store_docs_free(docs, n);
    }
    head(b, "vouch_collateral_next_update_seconds", "gauge",
         "seconds until a stored collateral document's nextUpdate (negative once past); "
         "fmspc is set on TCB info");
    if (until.data)
        vouch_buf_append(b, until.data, until.len);
    head(b, "vouch_collateral_next_update_timestamp_seconds", "gauge",
         "a stored collateral document's nextUpdate, in Unix seconds");
    if (at.data)
        vouch_buf_append(b, at.data, at.len);
    vouch_buf_free(&until);
    vouch_buf_free(&at);
}

/* Fields 14 (utime), 15 (stime) and 22 (starttime) of /proc/self/stat, in ticks. */
static bool proc_stat(unsigned long long *ret_cpu, unsigned long long *ret_start)
{
    char buf[1024], *p;
    unsigned long long utime, stime, start;
    size_t n;
    FILE *f = fopen("/proc/self/stat", "r");

    if (!f)
        return false;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');   /* the command name may hold spaces and parentheses */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
                     "%*d %*d %*d %*d %*d %*d %llu", &utime, &stime, &start) != 3)
        return false;
    *ret_cpu = utime + stime;
    *ret_start = start;
    return true;
}

/* btime of /proc/stat: the boot time in Unix seconds. */
static long long boot_time(void)
{
    char line[256];
    long long t = 0;
    FILE *f = fopen("/proc/stat", "r");

    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "btime %lld", &t) == 1)
            break;
    fclose(f);
    return t;
}

static void render_process(struct vouch_buf *b)
{
    long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    unsigned long long cpu, start, vsize = 0, rss = 0;
    long long fds = -1;
    struct rlimit rl;
    struct dirent *de;
    DIR *d;
    FILE *f;

    if (tick > 0 && proc_stat(&cpu, &start)) {
        head(b, "process_cpu_seconds_total", "counter", "user and system CPU time spent");
        vouch_buf_printf(b, "process_cpu_seconds_total %.2f\n", (double)cpu / (double)tick);
        head(b, "process_start_time_seconds", "gauge", "start time since the Unix epoch");
        vouch_buf_printf(b, "process_start_time_seconds %.2f\n",
                         (double)boot_time() + (double)start / (double)tick);
    }
    f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%llu %llu", &vsize, &rss) == 2 && page > 0) {
        head(b, "process_resident_memory_bytes", "gauge", "resident memory size");
        vouch_buf_printf(b, "process_resident_memory_bytes %llu\n", rss * (unsigned long long)page);
        head(b, "process_virtual_memory_bytes", "gauge", "virtual memory size");
        vouch_buf_printf(b, "process_virtual_memory_bytes %llu\n",
                         vsize * (unsigned long long)page);
    }
    if (f)
        fclose(f);
    if ((d = opendir("/proc/self/fd")) != NULL) {
        for (fds = 0; (de = readdir(d)) != NULL;)
            fds += de->d_name[0] != '.';
        closedir(d);
        head(b, "process_open_fds", "gauge", "open file descriptors");
        vouch_buf_printf(b, "process_open_fds %lld\n", fds - 1);  /* less the one read here */
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        head(b, "process_max_fds", "gauge", "the open-files limit");
        vouch_buf_printf(b, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
    }
}

vouch_err vouch_metrics_render(struct vouch_app *app, int64_t now, struct vouch_buf *out)
{
    render_requests(app, out);
    render_verifications(out);
    render_policy(out);
    render_server(out);
    render_caches(out);
    render_store(out);
    render_vtpm(app, now, out);
    render_collateral(app, now, out);
    render_process(out);
    return out->data ? VOUCH_OK : VOUCH_E_NOMEM;
}
