/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vouch-agent: the vTPM reporting agent (docs/agent.md).  Options and the
 * config file, then rounds (run.c) on a schedule: a short random delay,
 * one report every --interval, exponential backoff with jitter after a
 * failure.  --once runs one round and exits 0 when the service accepted
 * the report, 1 when it refused it (its Code in the message), 2 on a usage
 * error, 3 when the report could not be made (TPM, network, files).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_tpm.h"
#include "agent/run.h"
#include "common/file.h"
#include "common/log.h"
#include "common/time.h"

enum { EXIT_ACCEPTED = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_NOT_REPORTED = 3 };

#define CONFIG_MAX (64u << 10)

static volatile sig_atomic_t stopping;

static const char usage_text[] =
    "usage: vouch-agent --server URL [OPTIONS]\n"
    "\n"
    "The Vouch vTPM agent: enrols this machine's TPM with a Vouch vTPM service (an\n"
    "attestation key certified by credential activation), then reports a TPM quote with\n"
    "the UEFI event log and the new IMA entries every --interval.  See docs/agent.md.\n"
    "\n"
    "service:\n"
    "  --server URL             the vTPM service, e.g. https://vouch.example:8080\n"
    "  --access-key-id ID       the account's AccessKey pair; prefer the config file\n"
    "  --access-key-secret S    for the secret (a command line is visible in ps)\n"
    "  --config FILE            TOML settings, readable by its owner only (default\n"
    "                           " VOUCH_AGENT_DEFAULT_CONFIG " when it exists); keys are the\n"
    "                           long options with '_' for '-' (access_key_secret = \"...\")\n"
    "  --uuid ID                PropertyUuid (default: the one kept in the state dir, else\n"
    "                           the DMI product UUID, else a random UUID kept there)\n"
    "  --name NAME              PropertyName to register (default: the host name)\n"
    "TPM and logs:\n"
    "  --tcti TCTI              default " VOUCH_AGENT_DEFAULT_TCTI " (e.g.\n"
    "                           swtpm:host=127.0.0.1,port=2321)\n"
    "  --ak-handle HANDLE       the AK's persistent handle (default 0x81010003)\n"
    "  --pcrs SELECTION         PCRs to quote (default " VOUCH_AGENT_DEFAULT_PCRS ")\n"
    "  --eventlog FILE          UEFI event log, sent when present (default\n"
    "                           " VOUCH_AGENT_DEFAULT_EVENTLOG "; '' for none)\n"
    "  --ima-log FILE           binary IMA log, new entries sent (default\n"
    "                           " VOUCH_AGENT_DEFAULT_IMA_LOG "; '' for none)\n"
    "  --boot-id-file FILE      changes at each boot (default /proc/sys/kernel/random/boot_id)\n"
    "state and schedule:\n"
    "  --state-dir DIR          enrolment and IMA position (default " VOUCH_AGENT_DEFAULT_STATE_DIR
    ", 0700)\n"
    "  --interval DURATION      between reports: 90, 90s, 15m, 2h (default 30m)\n"
    "  --once                   report once, now; exit 0 accepted, 1 refused, 3 not sent\n"
    "  --log-level LEVEL        debug, info (default), warn, error\n"
    "  --log-format json        one JSON object per log line\n"
    "\n"
    "examples:\n"
    "  vouch-agent --config /etc/vouch/agent.toml           (contrib/vouch-agent.service)\n"
    "  vouch-agent --server http://127.0.0.1:8080 --access-key-id ID --access-key-secret S \\\n"
    "      --tcti swtpm:host=127.0.0.1,port=2321 --state-dir /tmp/agent --once\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "vouch-agent: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(vouch-agent --help lists the options)\n");
    return EXIT_USAGE;
}

/* The string options: name and where the value goes. */
static char **string_option(struct vouch_agent_conf *c, const char *name)
{
    struct { const char *name; char **slot; } opts[] = {
        { "--server", &c->server }, { "--access-key-id", &c->access_key_id },
        { "--access-key-secret", &c->access_key_secret }, { "--uuid", &c->uuid },
        { "--tcti", &c->tcti }, { "--state-dir", &c->state_dir },
        { "--eventlog", &c->eventlog }, { "--ima-log", &c->ima_log }, { "--pcrs", &c->pcrs },
        { "--name", &c->name },
    };
    size_t i;

    for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        if (strcmp(opts[i].name, name) == 0)
            return opts[i].slot;
    return NULL;
}

struct options {
    const char *config;
    const char *boot_id_file;
    bool once;
    int log_level;
    bool log_json;
};

/* One option with a value; returns 0 or an exit status. */
static int value_option(struct vouch_agent *a, struct options *o, const char *name,
                        const char *v)
{
    char **slot = string_option(&a->conf, name);
    struct vouch_errbuf eb;

    if (slot) {
        free(*slot);
        if (!(*slot = strdup(v)))
            return EXIT_NOT_REPORTED;
    } else if (strcmp(name, "--config") == 0) {
        o->config = v;
    } else if (strcmp(name, "--boot-id-file") == 0) {
        o->boot_id_file = v;
    } else if (strcmp(name, "--ak-handle") == 0) {
        if (vouch_agent_parse_handle(v, &a->conf.ak_handle, &eb))
            return usage_error("--ak-handle: %s", eb.msg);
    } else if (strcmp(name, "--interval") == 0) {
        if (vouch_agent_parse_duration(v, &a->conf.interval, &eb))
            return usage_error("--interval: %s", eb.msg);
    } else if (strcmp(name, "--log-level") == 0) {
        if ((o->log_level = vouch_log_level_parse(v)) < 0)
            return usage_error("--log-level: '%s' is not debug, info, warn or error", v);
    } else if (strcmp(name, "--log-format") == 0) {
        if (strcmp(v, "json") && strcmp(v, "text"))
            return usage_error("--log-format: '%s' is not text or json", v);
        o->log_json = strcmp(v, "json") == 0;
    } else {
        return usage_error("unknown option %s", name);
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct vouch_agent *a, struct options *o)
{
    int i, rc;

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(usage_text, stdout);
            exit(EXIT_ACCEPTED);
        }
        if (strcmp(arg, "--version") == 0) {
            printf("vouch-agent %s\n", VOUCH_VERSION);
            exit(EXIT_ACCEPTED);
        }
        if (strcmp(arg, "--once") == 0) {
            o->once = true;
            continue;
        }
        if (i + 1 >= argc)
            return usage_error(string_option(&a->conf, arg) ? "%s needs a value"
                                                           : "unknown option %s", arg);
        if ((rc = value_option(a, o, arg, argv[++i])))
            return rc;
    }
    return 0;
}

/* The config file: owned by us and not readable by others (it holds the secret). */
static int read_config(struct vouch_agent *a, const char *path, bool given)
{
    struct vouch_errbuf eb;
    struct stat sb;
    uint8_t *text = NULL;
    size_t len;
    vouch_err e;

    if (stat(path, &sb) != 0) {
        if (!given && errno == ENOENT)
            return 0;
        fprintf(stderr, "vouch-agent: --config %s: %s\n", path, strerror(errno));
        return EXIT_USAGE;
    }
    if (sb.st_uid != geteuid() || (sb.st_mode & 077)) {
        fprintf(stderr, "vouch-agent: %s holds the AccessKey secret: it must belong to uid %u "
                "and be readable by its owner only (chmod 600)\n", path, (unsigned)geteuid());
        return EXIT_USAGE;
    }
    e = vouch_file_read(path, CONFIG_MAX, &text, &len, &eb);
    if (!e)
        e = vouch_agent_conf_parse((const char *)text, len, &a->conf, &eb);
    free(text);
    if (e) {
        fprintf(stderr, "vouch-agent: %s: %s\n", path, eb.msg);
        return EXIT_USAGE;
    }
    return 0;
}

static int set_default(char **slot, const char *v)
{
    if (!*slot && !(*slot = strdup(v)))
        return EXIT_NOT_REPORTED;
    return 0;
}

/* Defaults for what neither the command line nor the file gave; then check. */
static int complete_conf(struct vouch_agent *a, const struct options *o)
{
    struct vouch_agent_conf *c = &a->conf;
    struct vouch_errbuf eb;

    if (set_default(&c->tcti, VOUCH_AGENT_DEFAULT_TCTI) ||
        set_default(&c->state_dir, VOUCH_AGENT_DEFAULT_STATE_DIR) ||
        set_default(&c->eventlog, VOUCH_AGENT_DEFAULT_EVENTLOG) ||
        set_default(&c->ima_log, VOUCH_AGENT_DEFAULT_IMA_LOG) ||
        set_default(&c->pcrs, VOUCH_AGENT_DEFAULT_PCRS))
        return EXIT_NOT_REPORTED;
    if (!c->ak_handle)
        c->ak_handle = VOUCH_AGENT_DEFAULT_AK_HANDLE;
    if (!c->interval)
        c->interval = VOUCH_AGENT_DEFAULT_INTERVAL;
    if (!c->server || !c->access_key_id || !c->access_key_secret)
        return usage_error("%s", "--server, --access-key-id and --access-key-secret (or "
                           "server, access_key_id, access_key_secret in --config) are required");
    if (c->uuid && (strlen(c->uuid) > VOUCH_AGENT_UUID_MAX || strpbrk(c->uuid, " \t\r\n")))
        return usage_error("--uuid: '%s' is not 1-128 characters without spaces", c->uuid);
    if (vouch_tpm_pcr_select_parse(c->pcrs, &a->sel, &eb))
        return usage_error("--pcrs: %s", eb.msg);
    snprintf(a->boot_id_path, sizeof(a->boot_id_path), "%s",
             o->boot_id_file ? o->boot_id_file : "/proc/sys/kernel/random/boot_id");
    snprintf(a->dmi_uuid_path, sizeof(a->dmi_uuid_path), "/sys/class/dmi/id/product_uuid");
    a->rpc.server = c->server;
    a->rpc.key_id = c->access_key_id;
    a->rpc.secret = c->access_key_secret;
    return 0;
}

static uint32_t random32(void)
{
    uint32_t r = 0;

    /* getrandom, not OpenSSL: the daemon's parent never loads libcrypto's state */
    if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
        r = (uint32_t)time(NULL);
    return r;
}

static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

/* Sleep `seconds`, waking early when asked to stop. */
static void pause_for(int64_t seconds)
{
    struct timespec ts = { .tv_sec = 1, .tv_nsec = 0 };
    int64_t i;

    for (i = 0; i < seconds && !stopping; i++)
        nanosleep(&ts, NULL);
}

static void log_round(const struct vouch_agent *a, vouch_err e,
                      const struct vouch_agent_outcome *o, const char *why)
{
    char sys[16], prog[16], start[24], sent[24], next[24];

    if (e) {
        vouch_log(e == VOUCH_E_UNAVAILABLE ? VOUCH_LOG_WARN : VOUCH_LOG_ERROR,
                  "report failed", "uuid", a->st.uuid, "error", why,
                  "code", o->fault.code, "recovered", o->recovered, VOUCH_LOG_END);
        return;
    }
    snprintf(sys, sizeof(sys), "%d", o->system_status);
    snprintf(prog, sizeof(prog), "%d", o->program_status);
    snprintf(start, sizeof(start), "%llu", (unsigned long long)o->ima_start);
    snprintf(sent, sizeof(sent), "%llu", (unsigned long long)o->ima_sent);
    snprintf(next, sizeof(next), "%llu", (unsigned long long)o->ima_next);
    vouch_log(VOUCH_LOG_INFO, "report accepted", "uuid", a->st.uuid,
              "enrolled", o->enrolled ? "now" : "before", "system_status", sys,
              "system_code", o->system_code, "program_status", prog,
              "program_code", o->program_code, "ima_start", start, "ima_sent", sent,
              "next_ima_index", next, o->recovered[0] ? "recovered" : VOUCH_LOG_END,
              o->recovered, VOUCH_LOG_END);
}

enum { ROUND_OK = 0, ROUND_FAILED = 1, ROUND_CREDENTIALS = 2 };

/*
 * One round in a child process: between rounds the daemon holds none of the
 * memory the TPM, TLS and HTTP libraries take while a round runs.  The
 * child writes the state file; the parent reads it back.
 */
static int round_in_child(struct vouch_agent *a)
{
    struct vouch_errbuf eb = { "" };
    pid_t pid = fork();
    int st = 0;

    if (pid == 0) {
        struct vouch_agent_outcome o;
        vouch_err e = vouch_agent_round(a, vouch_clock_now(), &o, &eb);

        log_round(a, e, &o, eb.msg);
        if (e == VOUCH_E_AUTH)
            vouch_log(VOUCH_LOG_ERROR, "the service refused the AccessKey; fix the credentials",
                      "code", o.fault.code, VOUCH_LOG_END);
        _exit(e == VOUCH_E_AUTH ? ROUND_CREDENTIALS : e ? ROUND_FAILED : ROUND_OK);
    }
    if (pid < 0) {
        vouch_log(VOUCH_LOG_ERROR, "cannot fork a round", "error", strerror(errno),
                  VOUCH_LOG_END);
        return ROUND_FAILED;
    }
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return ROUND_FAILED;
    if (vouch_agent_reload(a, &eb))
        vouch_log(VOUCH_LOG_ERROR, "cannot read the state back", "error", eb.msg, VOUCH_LOG_END);
    return WIFEXITED(st) ? WEXITSTATUS(st) : ROUND_FAILED;
}

/* Report every interval until stopped; credentials refused end it (exit 1). */
static int run_forever(struct vouch_agent *a)
{
    unsigned failures = 0;

    pause_for(vouch_agent_first_delay(a->conf.interval, random32()));
    while (!stopping) {
        int r = round_in_child(a);
        int64_t wait;

        if (r == ROUND_CREDENTIALS)
            return EXIT_REFUSED;
        failures = r != ROUND_OK ? failures + 1 : 0;
        wait = failures ? vouch_agent_backoff(failures, a->conf.interval, random32())
                        : a->conf.interval;
        if (failures) {
            char w[24];

            snprintf(w, sizeof(w), "%lld", (long long)wait);
            vouch_log(VOUCH_LOG_INFO, "retrying", "in_seconds", w, VOUCH_LOG_END);
        }
        pause_for(wait);
    }
    return EXIT_ACCEPTED;
}

static int run_once(struct vouch_agent *a)
{
    struct vouch_agent_outcome o;
    struct vouch_errbuf eb = { "" };
    vouch_err e = vouch_agent_round(a, vouch_clock_now(), &o, &eb);

    log_round(a, e, &o, eb.msg);
    if (e)
        fprintf(stderr, "vouch-agent: %s\n", eb.msg);
    else
        printf("accepted: system %d %s, program %d %s, next IMA index %llu\n", o.system_status,
               o.system_code, o.program_status, o.program_code,
               (unsigned long long)o.ima_next);
    if (!e)
        return EXIT_ACCEPTED;
    return o.fault.status >= 400 && o.fault.status < 500 ? EXIT_REFUSED : EXIT_NOT_REPORTED;
}

int main(int argc, char **argv)
{
    struct vouch_agent a;
    struct options o = { .log_level = VOUCH_LOG_INFO };
    struct vouch_errbuf eb;
    int rc;

    memset(&a, 0, sizeof(a));
    /* tpm2-tss logs to stderr by itself; our messages carry its decoded codes */
    setenv("TSS2_LOG", "all+NONE", 0);
    rc = parse_args(argc, argv, &a, &o);
    if (!rc)
        rc = read_config(&a, o.config ? o.config : VOUCH_AGENT_DEFAULT_CONFIG, o.config != NULL);
    if (!rc)
        rc = complete_conf(&a, &o);
    if (rc)
        goto out;
    vouch_log_setup(stderr, (enum vouch_log_level)o.log_level);
    vouch_log_json(o.log_json);
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    signal(SIGPIPE, SIG_IGN);
    if (vouch_agent_start(&a, &eb)) {
        fprintf(stderr, "vouch-agent: %s\n", eb.msg);
        rc = EXIT_NOT_REPORTED;
        goto out;
    }
    rc = o.once ? run_once(&a) : run_forever(&a);
out:
    vouch_agent_done(&a);
    return rc;
}
