/* SPDX-License-Identifier: Apache-2.0 */
/* A software TPM for the tests: see swtpm_util.h. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/rand.h>

#include "swtpm_util.h"

/* What the signal handler cleans up (one TPM per test program). */
static volatile sig_atomic_t live_pid;
static char live_dir[64];

bool swtpm_in_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[4096];

    while (path && *path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);

        snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
        if (access(buf, X_OK) == 0)
            return true;
        path = colon ? colon + 1 : NULL;
    }
    return false;
}

int swtpm_run(const struct swtpm *s, char *const argv[])
{
    char log[128];
    pid_t pid;
    int st;

    snprintf(log, sizeof(log), "%s/log", s->dir);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Killed (e.g. a meson timeout): stop swtpm, remove the work directory, die of the signal. */
static void on_signal(int sig)
{
    pid_t pid = -1;

    if (live_pid > 0)
        kill(live_pid, SIGKILL);
    if (live_dir[0] && (pid = fork()) == 0) {
        execlp("rm", "rm", "-rf", live_dir, (char *)NULL);
        _exit(127);
    } else if (pid > 0) {
        waitpid(pid, NULL, 0);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

bool swtpm_write_file(const struct swtpm *s, const char *name, const char *text)
{
    char path[256];
    FILE *f;
    bool ok;

    snprintf(path, sizeof(path), "%s/%s", s->dir, name);
    f = fopen(path, "w");
    if (!f)
        return false;
    ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

/* Config of a local CA of our own, so the test needs no write access to /var/lib/swtpm-localca. */
static bool write_setup_conf(const struct swtpm *s)
{
    char conf[512];

    snprintf(conf, sizeof(conf), "statedir = %s/localca\nsigningkey = %s/localca/signkey.pem\n"
             "issuercert = %s/localca/issuercert.pem\ncertserial = %s/localca/certserial\n",
             s->dir, s->dir, s->dir, s->dir);
    if (!swtpm_write_file(s, "localca.conf", conf) ||
        !swtpm_write_file(s, "localca.options", "--platform-manufacturer Vouch\n"))
        return false;
    snprintf(conf, sizeof(conf), "create_certs_tool = swtpm_localca\n"
             "create_certs_tool_config = %s/localca.conf\n"
             "create_certs_tool_options = %s/localca.options\n", s->dir, s->dir);
    return swtpm_write_file(s, "setup.conf", conf);
}

static const char *const swtpm_progs[] = { "swtpm", "swtpm_setup", "swtpm_localca" };

static const char *first_missing(const char *const *progs, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!swtpm_in_path(progs[i]))
            return progs[i];
    return NULL;
}

int swtpm_tools_missing(const char *const *extra, size_t n_extra)
{
    const char *prog = first_missing(swtpm_progs, sizeof(swtpm_progs) / sizeof(swtpm_progs[0]));
    const char *required = getenv("VOUCH_TEST_REQUIRE_TOOLS");

    if (!prog)
        prog = first_missing(extra, n_extra);
    if (!prog)
        return 0;
    if (required && *required) {
        fprintf(stderr, "# %s not found, and VOUCH_TEST_REQUIRE_TOOLS is set: failing "
                "(scripts/bootstrap installs it)\n", prog);
        return -1;
    }
    fprintf(stderr, "# %s not found: swtpm cases skipped\n", prog);
    return 1;
}

bool swtpm_make(struct swtpm *s)
{
    char tpmstate[128], cfg[128], ca[128];

    memset(s, 0, sizeof(*s));
    if (swtpm_tools_missing(NULL, 0))
        return false;
    snprintf(s->dir, sizeof(s->dir), "%s/vouch-swtpm-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(s->dir))
        return false;
    snprintf(live_dir, sizeof(live_dir), "%s", s->dir);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    snprintf(tpmstate, sizeof(tpmstate), "%s/state", s->dir);
    snprintf(cfg, sizeof(cfg), "%s/setup.conf", s->dir);
    snprintf(ca, sizeof(ca), "%s/localca", s->dir);
    if (!write_setup_conf(s) || mkdir(tpmstate, 0700) || mkdir(ca, 0700))
        return false;
    {
        char *argv[] = { "swtpm_setup", "--tpm2", "--tpmstate", tpmstate, "--config", cfg,
                         "--create-ek-cert", "--pcr-banks", "sha1,sha256", "--overwrite", NULL };

        if (swtpm_run(s, argv) != 0) {
            fprintf(stderr, "# swtpm_setup failed, see %s/log\n", s->dir);
            return false;
        }
    }
    return true;
}

/* Whether 127.0.0.1:port can be bound (free), or connected to (open). */
static bool port_try(int port, bool open_it)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && (open_it ? connect(fd, (struct sockaddr *)&a, sizeof(a))
                             : bind(fd, (struct sockaddr *)&a, sizeof(a))) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static pid_t spawn(const struct swtpm *s, int port)
{
    char state[96], server[96], ctrl[96], log[96];
    pid_t parent = getpid(), pid;

    snprintf(state, sizeof(state), "dir=%s/state", s->dir);
    snprintf(server, sizeof(server), "type=tcp,port=%d,bindaddr=127.0.0.1", port);
    snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%d,bindaddr=127.0.0.1", port + 1);
    snprintf(log, sizeof(log), "%s/swtpm.log", s->dir);
    pid = fork();
    if (pid == 0) {
        char *argv[] = { "swtpm", "socket", "--tpm2", "--tpmstate", state, "--server", server,
                         "--ctrl", ctrl, "--flags", "not-need-init,startup-clear", NULL };
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

bool swtpm_start(struct swtpm *s)
{
    int attempt;

    for (attempt = 0; attempt < 8; attempt++) {
        uint16_t r;
        int port, i;
        pid_t pid;

        RAND_bytes((unsigned char *)&r, sizeof(r));
        port = 20000 + (r % 20000) * 2;
        if (!port_try(port, false) || !port_try(port + 1, false))
            continue;
        if ((pid = spawn(s, port)) < 0)
            return false;
        s->pid = live_pid = pid;
        for (i = 0; i < 100; i++) {
            if (waitpid(pid, NULL, WNOHANG) == pid) {
                s->pid = live_pid = 0;     /* lost the port to someone else: try another */
                break;
            }
            if (port_try(port, true)) {
                snprintf(s->port, sizeof(s->port), "%d", port);
                return true;
            }
            usleep(50000);
        }
        swtpm_stop(s);
    }
    return false;
}

void swtpm_stop(struct swtpm *s)
{
    pid_t pid = s->pid;
    int i;

    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (i = 0; i < 40 && waitpid(pid, NULL, WNOHANG) == 0; i++)
        usleep(50000);
    if (i == 40) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    s->pid = live_pid = 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void swtpm_destroy(struct swtpm *s)
{
    swtpm_stop(s);
    if (s->dir[0] && !getenv("VOUCH_KEEP_SWTPM"))
        nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    live_dir[0] = '\0';
}
