/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_replay: an HTTP/1.1 load generator for bench/vtpm/run.sh and
 * describe.sh that sends each line of a prepared file once, as
 * POST TARGET with Content-Type application/x-www-form-urlencoded, over
 * keep-alive connections to one IPv4 address, and prints the summary line
 * of bench/vtpm/wrk_common.lua plus its own CPU per request.  It replaces
 * wrk there because wrk spent a quarter of the two cores' budget (a Lua
 * header table per answer, its own request framing) beside vouchd.
 *
 * A line "KEY<TAB>BODY" (KEY decimal digits) belongs to ordering key KEY:
 * every line of a key goes on connection KEY % CONNECTIONS, and a
 * connection has one request outstanding at a time, so a key's requests
 * arrive in file order, each after the previous one was answered (as
 * bodies.lua guarantees).  Other lines go round-robin over the connections.
 * Each request carries X-Request-Id "bench<KEY>x<LINE>" (vouchd echoes it).
 * Request heads are built once up front (bodies stay in the file's bytes);
 * the run only writes and reads.
 * Non-blocking sockets, one epoll per thread; a connection the server
 * closes is opened again and its unanswered request sent again.
 *
 * --rate R paces the run (open loop): line i (from 0) is due at
 * start + i / R seconds and is sent then, or when its connection is next
 * free if that is later; its latency counts from when it was due, so a
 * server that falls behind is charged for the queue it causes (the
 * coordinated-omission correction).  Without it each connection sends its
 * next request as soon as the previous one is answered (closed loop).
 * --warmup N: the first N lines are sent as the others but left out of the
 * summary, so that the counted ones meet a server whose threads have
 * served on these connections before.
 *   usage: http_replay [-c CONNECTIONS] [-t THREADS] [--rate R] [--warmup N]
 *                      [--max-seconds S] URL FILE
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>


#define FILE_MAX ((size_t)4 << 30)          /* the request file */
#define ANSWER_MAX ((size_t)64 << 20)        /* one answer, head and body */
#define ANSWER_CHUNK 65536
#define KEY_DIGITS_MAX 18                    /* fits uint64_t */
#define CONNECTIONS_MAX 4096
#define THREADS_MAX 64
#define RESENDS_MAX 3                        /* a request the server keeps dropping */
#define BAD_BODIES_SHOWN 2
#define RATE_MAX 10000000                    /* requests per second, --rate */
#define IDLE_WAIT_NS 200000000u              /* the wait when nothing is due */

/* A request's head, built up front; its body stays in the file's bytes
 * (sent with the head by one sendmsg, not copied). */
struct replay_request {
    char *head;
    size_t head_len;
    const char *body;
    size_t len;        /* head and body */
};

struct replay_conn {
    int fd;
    int epfd;
    size_t *queue;     /* request indices in file order */
    size_t queue_len, queue_cap, next;
    bool busy;         /* queue[next] is written (or being written), unanswered */
    size_t written;    /* bytes of queue[next] written */
    bool want_out;     /* EPOLLOUT registered */
    int resends;
    uint64_t sent_ns;
    char *in;
    size_t in_len, in_cap;
};

struct replay_thread {
    pthread_t tid;
    int epfd;
    struct replay_conn **conns;
    size_t nconns, total, answered, non200;
    size_t counted;        /* answers past the warm-up: latency_us[0..counted) */
    uint32_t *latency_us;
    uint64_t first_ns, last_ns;
};

struct replay_config {
    struct sockaddr_in addr;
    char host[64];         /* Host header: ADDRESS:PORT */
    const char *target;    /* request target, from the URL */
    size_t nconns, nthreads;
    double max_seconds;
    double rate;           /* requests per second; 0: closed loop */
    size_t warmup;         /* leading lines left out of the summary */
    const char *url, *file;
};

static struct replay_config config;
static struct replay_request *requests;
static size_t nrequests;
static const char *file_bytes;     /* the file, mapped */
static size_t file_len;
static uint64_t deadline_ns;
static uint64_t start_ns;          /* --rate: when line 0 is due */
static atomic_int bad_bodies_shown;

_Noreturn static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

_Noreturn static void fail(const char *fmt, ...)
{
    va_list ap;

    fputs("http_replay: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void *alloc_or_fail(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);

    if (!p)
        fail("out of memory");
    return p;
}

static uint64_t clock_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *to)
{
    fputs("usage: http_replay [-c CONNECTIONS] [-t THREADS] [--rate R] [--warmup N]\n"
          "                   [--max-seconds S] URL FILE\n"
          "Sends each line of FILE once as POST (the URL's path, default /) with\n"
          "Content-Type application/x-www-form-urlencoded to URL (http://IPv4:PORT/...),\n"
          "over keep-alive connections, and prints\n"
          "  bodies=N non200=N seconds=S per_second=R p50_ms=A p99_ms=B spare=0\n"
          "  client_cpu_us_per_request=C\n"
          "A line KEY<TAB>BODY (KEY: decimal digits) goes on connection KEY % CONNECTIONS;\n"
          "a connection has one request outstanding, so a key's requests are answered\n"
          "in file order.  Other lines go round-robin.  X-Request-Id: bench<KEY>x<LINE>.\n"
          "The first two answers other than 200 are printed to stderr.\n"
          "  -c, --connections N   connections (default 16)\n"
          "  -t, --threads N       threads, each with its share of the connections (default 1)\n"
          "  --rate R              pace the run: line I is due at I/R s and its latency counts\n"
          "                        from then, however long it waited for its connection\n"
          "                        (default: each connection sends when answered)\n"
          "  --warmup N            send the first N lines like the others, but leave them\n"
          "                        out of the summary (non200 and the latencies)\n"
          "  --max-seconds S       give up (exit 1) when not all is answered by then (default 600)\n"
          "  -h, --help            this text\n"
          "Exit status: 0 when every request was answered (whatever its status), 1 otherwise.\n",
          to);
}

static size_t parse_number(const char *what, const char *s, size_t min, size_t max)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
        fail("%s: \"%s\" is not a number from %zu to %zu", what, s, min, max);
    return (size_t)v;
}

static size_t parse_count(const char *what, const char *s, size_t max)
{
    return parse_number(what, s, 1, max);
}

/* http://A.B.C.D:PORT[/PATH] */
static void parse_url(const char *url)
{
    const char *hostport, *slash, *colon;
    char addr[32];
    size_t port;

    if (strncmp(url, "http://", 7) != 0)
        fail("URL %s: only http://ADDRESS:PORT/... is supported", url);
    hostport = url + 7;
    slash = strchr(hostport, '/');
    colon = memchr(hostport, ':', slash ? (size_t)(slash - hostport) : strlen(hostport));
    if (!colon || (size_t)(colon - hostport) >= sizeof(addr))
        fail("URL %s: no ADDRESS:PORT", url);
    memcpy(addr, hostport, (size_t)(colon - hostport));
    addr[colon - hostport] = '\0';
    config.addr.sin_family = AF_INET;
    if (inet_pton(AF_INET, addr, &config.addr.sin_addr) != 1)
        fail("URL %s: \"%s\" is not an IPv4 address", url, addr);
    {
        char portbuf[8];
        size_t plen = slash ? (size_t)(slash - colon - 1) : strlen(colon + 1);

        if (plen == 0 || plen >= sizeof(portbuf))
            fail("URL %s: bad port", url);
        memcpy(portbuf, colon + 1, plen);
        portbuf[plen] = '\0';
        port = parse_count("port", portbuf, 65535);
    }
    config.addr.sin_port = htons((uint16_t)port);
    snprintf(config.host, sizeof(config.host), "%s:%zu", addr, port);
    config.target = slash ? slash : "/";
}

static void parse_args(int argc, char **argv)
{
    int i;
    const char *pos[2] = { NULL, NULL };
    int npos = 0;

    config.nconns = 16;
    config.nthreads = 1;
    config.max_seconds = 600;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        } else if ((!strcmp(a, "-c") || !strcmp(a, "--connections")) && i + 1 < argc) {
            config.nconns = parse_count("connections", argv[++i], CONNECTIONS_MAX);
        } else if ((!strcmp(a, "-t") || !strcmp(a, "--threads")) && i + 1 < argc) {
            config.nthreads = parse_count("threads", argv[++i], THREADS_MAX);
        } else if (!strcmp(a, "--rate") && i + 1 < argc) {
            config.rate = (double)parse_count("rate", argv[++i], RATE_MAX);
        } else if (!strcmp(a, "--warmup") && i + 1 < argc) {
            config.warmup = parse_number("warmup", argv[++i], 0, FILE_MAX);
        } else if (!strcmp(a, "--max-seconds") && i + 1 < argc) {
            config.max_seconds = (double)parse_count("max-seconds", argv[++i], 86400);
        } else if (a[0] == '-' && a[1]) {
            usage(stderr);
            fail("unknown option or missing value: %s", a);
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            usage(stderr);
            fail("too many arguments: %s", a);
        }
    }
    if (npos != 2) {
        usage(stderr);
        fail("need URL and FILE");
    }
    if (config.nthreads > config.nconns)
        config.nthreads = config.nconns;
    config.url = pos[0];
    config.file = pos[1];
    parse_url(config.url);
}

/* "KEY\t": the key's length (digits), 0 when the line has none. */
static size_t key_length(const char *line, size_t len)
{
    size_t n = 0;

    while (n < len && n <= KEY_DIGITS_MAX && line[n] >= '0' && line[n] <= '9')
        n++;
    if (n == 0 || n > KEY_DIGITS_MAX || n >= len || line[n] != '\t')
        return 0;
    return n;
}

static void queue_push(struct replay_conn *c, size_t request)
{
    if (c->queue_len == c->queue_cap) {
        size_t cap = c->queue_cap ? c->queue_cap * 2 : 64;
        size_t *q = realloc(c->queue, cap * sizeof(*q));

        if (!q)
            fail("out of memory");
        c->queue = q;
        c->queue_cap = cap;
    }
    c->queue[c->queue_len++] = request;
}

static void build_request(struct replay_request *r, const char *key, size_t key_len,
                          size_t line_no, const char *body, size_t body_len)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "POST %s HTTP/1.1\r\nHost: %s\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     "X-Request-Id: bench%.*sx%zu\r\nContent-Length: %zu\r\n\r\n",
                     config.target, config.host, (int)key_len, key, line_no, body_len);

    if (n < 0 || (size_t)n >= sizeof(head))
        fail("URL %s: request head too long", config.url);
    r->head_len = (size_t)n;
    r->head = alloc_or_fail(r->head_len, 1);
    memcpy(r->head, head, r->head_len);
    r->body = body;
    r->len = r->head_len + body_len;
}

/* The request file, mapped read-only: its bodies are sent from there as
 * they are (read and copied, 37 KB a PutMessage, it cost more than sending). */
static void file_map(const char *path)
{
    struct stat st;
    void *p;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        fail("%s: %s", path, strerror(errno));
    if (fstat(fd, &st))
        fail("%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode) || st.st_size == 0 || (uint64_t)st.st_size > FILE_MAX)
        fail("%s: empty, not a regular file, or over %zu bytes", path, FILE_MAX);
    p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        fail("%s: mmap: %s", path, strerror(errno));
    close(fd);
    file_bytes = p;
    file_len = (size_t)st.st_size;
}

/* Every line of the file as a request, queued on its connection. */
static void load_requests(struct replay_conn *conns)
{
    const char *data;
    size_t len, at = 0, cap = 1024, round_robin = 0;

    file_map(config.file);
    data = file_bytes;
    len = file_len;
    requests = alloc_or_fail(cap, sizeof(*requests));
    while (at < len) {
        const char *line = data + at;
        const char *nl = memchr(line, '\n', len - at);
        size_t line_len = nl ? (size_t)(nl - line) : len - at;
        size_t klen = key_length(line, line_len), conn;

        at += line_len + 1;
        if (line_len == 0)
            continue;
        if (nrequests == cap) {
            struct replay_request *more = realloc(requests, 2 * cap * sizeof(*requests));

            if (!more)
                fail("out of memory");
            requests = more;
            cap *= 2;
        }
        if (klen)
            conn = (size_t)(strtoull(line, NULL, 10) % config.nconns);
        else
            conn = round_robin++ % config.nconns;
        build_request(&requests[nrequests], line, klen, nrequests + 1,
                      line + (klen ? klen + 1 : 0), line_len - (klen ? klen + 1 : 0));
        queue_push(&conns[conn], nrequests);
        nrequests++;
    }
    if (nrequests == 0)
        fail("%s: no requests (only empty lines)", config.file);
    if (config.warmup >= nrequests)
        fail("--warmup %zu: %s has only %zu requests", config.warmup, config.file, nrequests);
}

static void conn_watch(struct replay_conn *c, bool want_out, int op)
{
    struct epoll_event ev = { .events = EPOLLIN | (want_out ? EPOLLOUT : 0u), .data.ptr = c };

    if (epoll_ctl(c->epfd, op, c->fd, &ev))
        fail("epoll_ctl: %s", strerror(errno));
    c->want_out = want_out;
}

static void conn_open(struct replay_conn *c)
{
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        fail("socket: %s", strerror(errno));
    if (connect(fd, (const struct sockaddr *)&config.addr, sizeof(config.addr)))
        fail("connect to %s: %s", config.host, strerror(errno));
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
        fail("socket options: %s", strerror(errno));
    c->fd = fd;
    c->in_len = 0;
    conn_watch(c, false, EPOLL_CTL_ADD);
}

static void conn_close(struct replay_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);    /* closing removes it from the epoll set */
    c->fd = -1;
    c->in_len = 0;
}

/* Write request r from byte `from` on: what send returns. */
static ssize_t request_write(int fd, const struct replay_request *r, size_t from)
{
    struct iovec iov[2];
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

    if (from < r->head_len) {
        iov[0] = (struct iovec){ r->head + from, r->head_len - from };
        iov[1] = (struct iovec){ (void *)r->body, r->len - r->head_len };
    } else {
        iov[0] = (struct iovec){ (void *)(r->body + (from - r->head_len)), r->len - from };
        msg.msg_iovlen = 1;
    }
    return sendmsg(fd, &msg, MSG_NOSIGNAL);
}

/* --rate: when request i is due. */
static uint64_t due_ns(size_t i)
{
    return start_ns + (uint64_t)((double)i * 1e9 / config.rate);
}

/* Write (more of) the connection's current request, starting it if idle. */
static void conn_send(struct replay_thread *t, struct replay_conn *c)
{
    const struct replay_request *r;
    ssize_t n;

    if (c->next >= c->queue_len)
        return;
    if (!c->busy && config.rate > 0 && due_ns(c->queue[c->next]) > clock_ns())
        return;    /* not due yet: thread_run sends it when it is */
    if (c->fd < 0)
        conn_open(c);
    r = &requests[c->queue[c->next]];
    if (!c->busy) {
        c->busy = true;
        c->written = 0;
        c->sent_ns = config.rate > 0 ? due_ns(c->queue[c->next]) : clock_ns();
        if (!t->first_ns && c->queue[c->next] >= config.warmup)
            t->first_ns = c->sent_ns;
    }
    while (c->written < r->len) {
        n = request_write(c->fd, r, c->written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n < 0)
            return;    /* the read side sees the reset and resends */
        c->written += (size_t)n;
    }
    if ((c->written < r->len) != c->want_out)
        conn_watch(c, c->written < r->len, EPOLL_CTL_MOD);
}

/* The server closed the connection or reset it: open a new one, resend. */
static void conn_lost(struct replay_thread *t, struct replay_conn *c)
{
    conn_close(c);
    if (!c->busy)
        return;
    if (++c->resends > RESENDS_MAX)
        fail("the server closed the connection %d times before answering request %zu",
             c->resends, c->queue[c->next] + 1);
    c->busy = false;
    conn_send(t, c);
}

/* The value of header `name` (with its colon) in head[0..len), or NULL. */
static const char *header_value(const char *head, size_t len, const char *name)
{
    size_t nlen = strlen(name), i = 0;

    while (i < len) {
        const char *eol = memchr(head + i, '\n', len - i);
        size_t line_len = eol ? (size_t)(eol - head - i) : len - i;

        if (line_len > nlen && strncasecmp(head + i, name, nlen) == 0) {
            const char *v = head + i + nlen;

            while (*v == ' ' || *v == '\t')
                v++;
            return v;
        }
        i += line_len + 1;
    }
    return NULL;
}

struct replay_answer {
    int status;
    size_t head_len, body_len;
    bool close;
};

/* Whether c->in holds a whole answer; fails on one it cannot frame. */
static bool answer_complete(const struct replay_conn *c, struct replay_answer *a)
{
    const char *end = c->in_len >= 4 ? memmem(c->in, c->in_len, "\r\n\r\n", 4) : NULL;
    const char *v;
    char *num_end;
    unsigned long long clen;

    if (!end)
        return false;
    a->head_len = (size_t)(end - c->in) + 4;
    if (a->head_len < 13 || strncmp(c->in, "HTTP/1.", 7) != 0)
        fail("answer to request %zu is not HTTP/1.x", c->queue[c->next] + 1);
    a->status = atoi(c->in + 9);
    if (header_value(c->in, a->head_len, "transfer-encoding:"))
        fail("answer to request %zu is chunked: not supported", c->queue[c->next] + 1);
    v = header_value(c->in, a->head_len, "content-length:");
    if (!v)
        fail("answer to request %zu has no Content-Length", c->queue[c->next] + 1);
    errno = 0;
    clen = strtoull(v, &num_end, 10);
    if (errno || num_end == v || a->head_len > ANSWER_MAX || clen > ANSWER_MAX - a->head_len)
        fail("answer to request %zu: bad Content-Length", c->queue[c->next] + 1);
    a->body_len = (size_t)clen;
    v = header_value(c->in, a->head_len, "connection:");
    a->close = v && strncasecmp(v, "close", 5) == 0;
    return c->in_len >= a->head_len + a->body_len;
}

static void answer_record(struct replay_thread *t, struct replay_conn *c,
                          const struct replay_answer *a)
{
    uint64_t now = clock_ns(), us = (now - c->sent_ns) / 1000;
    bool counted = c->queue[c->next] >= config.warmup;

    t->answered++;
    if (counted) {
        t->latency_us[t->counted++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
        t->last_ns = now;
    }
    if (a->status != 200) {
        t->non200 += counted;
        if (atomic_fetch_add(&bad_bodies_shown, 1) < BAD_BODIES_SHOWN)
            fprintf(stderr, "%.*s\n", (int)a->body_len, c->in + a->head_len);
    }
    c->busy = false;
    c->resends = 0;
    c->next++;
}

static void conn_make_room(struct replay_conn *c)
{
    size_t cap;
    char *in;

    if (c->in_cap - c->in_len >= ANSWER_CHUNK / 4)
        return;
    if (c->in_len >= ANSWER_MAX)
        fail("answer to request %zu is over %zu bytes", c->queue[c->next] + 1, ANSWER_MAX);
    cap = c->in_cap ? c->in_cap * 2 : ANSWER_CHUNK;
    in = realloc(c->in, cap);
    if (!in)
        fail("out of memory");
    c->in = in;
    c->in_cap = cap;
}

/* Read what the server sent; on a whole answer, record it and send the next request. */
static void conn_receive(struct replay_thread *t, struct replay_conn *c)
{
    struct replay_answer a;
    bool write_unfinished;
    ssize_t n;

    conn_make_room(c);
    n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        conn_lost(t, c);
        return;
    }
    c->in_len += (size_t)n;
    if (!c->busy)
        fail("%s sent %zu bytes nobody asked for", config.host, c->in_len);
    if (!answer_complete(c, &a))
        return;
    write_unfinished = c->written < requests[c->queue[c->next]].len;
    answer_record(t, c, &a);
    /* Bytes past the answer, or one that came before the request was all
     * written, leave the connection's state unknown: start a new one. */
    if (a.close || write_unfinished || c->in_len > a.head_len + a.body_len)
        conn_close(c);
    c->in_len = 0;
    conn_send(t, c);
}

/*
 * --rate: send what is due on the free connections; the time until the
 * next request of a free connection is due (IDLE_WAIT_NS at most).
 */
static uint64_t send_due(struct replay_thread *t)
{
    uint64_t now = clock_ns(), wait = IDLE_WAIT_NS, due;
    size_t i;

    for (i = 0; i < t->nconns; i++) {
        struct replay_conn *c = t->conns[i];

        if (c->busy || c->next >= c->queue_len)
            continue;
        due = due_ns(c->queue[c->next]);
        if (due <= now)
            conn_send(t, c);
        else if (due - now < wait)
            wait = due - now;
    }
    return wait;
}

static void *thread_run(void *arg)
{
    struct replay_thread *t = arg;
    struct epoll_event evs[64];
    struct timespec wait;
    uint64_t wait_ns = IDLE_WAIT_NS;
    size_t i;
    int n;

    for (i = 0; i < t->nconns; i++)
        conn_send(t, t->conns[i]);
    while (t->answered < t->total && clock_ns() < deadline_ns) {
        if (config.rate > 0)
            wait_ns = send_due(t);
        wait.tv_sec = (time_t)(wait_ns / 1000000000u);
        wait.tv_nsec = (long)(wait_ns % 1000000000u);
        n = epoll_pwait2(t->epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), &wait, NULL);
        if (n < 0 && errno != EINTR)
            fail("epoll_pwait2: %s", strerror(errno));
        for (i = 0; n > 0 && i < (size_t)n; i++) {
            struct replay_conn *c = evs[i].data.ptr;

            if (c->fd < 0)
                continue;    /* closed earlier in this batch */
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                conn_receive(t, c);
            else if (evs[i].events & EPOLLOUT)
                conn_send(t, c);
        }
    }
    return NULL;
}

/* Connection i goes to thread i % threads. */
static struct replay_thread *threads_make(struct replay_conn *conns)
{
    struct replay_thread *ts = alloc_or_fail(config.nthreads, sizeof(*ts));
    size_t i;

    for (i = 0; i < config.nthreads; i++) {
        ts[i].epfd = epoll_create1(EPOLL_CLOEXEC);
        if (ts[i].epfd < 0)
            fail("epoll_create1: %s", strerror(errno));
        ts[i].conns = alloc_or_fail(config.nconns / config.nthreads + 1, sizeof(*ts[i].conns));
    }
    for (i = 0; i < config.nconns; i++) {
        struct replay_thread *t = &ts[i % config.nthreads];

        conns[i].epfd = t->epfd;
        t->conns[t->nconns++] = &conns[i];
        t->total += conns[i].queue_len;
    }
    for (i = 0; i < config.nthreads; i++)
        ts[i].latency_us = alloc_or_fail(ts[i].total, sizeof(uint32_t));
    return ts;
}

static uint64_t cpu_us(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

/* The p-th percentile (nearest rank) of sorted[0..n), in ms. */
static double percentile_ms(const uint32_t *sorted, size_t n, double p)
{
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);

    return sorted[rank ? rank - 1 : 0] / 1000.0;
}

/* The summary line of wrk_common.lua's done(), and the CPU per request. */
static int summarize(const struct replay_thread *ts, uint64_t cpu)
{
    uint32_t *all = alloc_or_fail(nrequests, sizeof(uint32_t));
    size_t i, answered = 0, counted = 0, non200 = 0;
    uint64_t first = 0, last = 0;
    double seconds;

    for (i = 0; i < config.nthreads; i++) {
        memcpy(all + counted, ts[i].latency_us, ts[i].counted * sizeof(uint32_t));
        counted += ts[i].counted;
        answered += ts[i].answered;
        non200 += ts[i].non200;
        if (ts[i].first_ns && (!first || ts[i].first_ns < first))
            first = ts[i].first_ns;
        if (ts[i].last_ns > last)
            last = ts[i].last_ns;
    }
    if (answered < nrequests) {
        printf("bodies=%zu not all answered within %.0f s (%zu were)\n", nrequests,
               config.max_seconds, answered);
        free(all);
        return 1;
    }
    qsort(all, counted, sizeof(uint32_t), compare_u32);
    seconds = (double)(last - first) / 1e9;
    printf("bodies=%zu non200=%zu seconds=%.2f per_second=%.0f p50_ms=%.2f p99_ms=%.2f spare=0\n",
           counted, non200, seconds, seconds > 0 ? (double)counted / seconds : 0.0,
           percentile_ms(all, counted, 50), percentile_ms(all, counted, 99));
    printf("client_cpu_us_per_request=%.1f\n", (double)cpu / (double)nrequests);
    free(all);
    return 0;
}

static void release(struct replay_thread *ts, struct replay_conn *conns)
{
    size_t i;

    for (i = 0; i < config.nthreads; i++) {
        close(ts[i].epfd);
        free(ts[i].conns);
        free(ts[i].latency_us);
    }
    free(ts);
    for (i = 0; i < config.nconns; i++) {
        conn_close(&conns[i]);
        free(conns[i].queue);
        free(conns[i].in);
    }
    free(conns);
    for (i = 0; i < nrequests; i++)
        free(requests[i].head);
    free(requests);
    munmap((void *)file_bytes, file_len);
}

int main(int argc, char **argv)
{
    struct replay_conn *conns;
    struct replay_thread *ts;
    uint64_t cpu0;
    size_t i;
    int err;

    parse_args(argc, argv);
    conns = alloc_or_fail(config.nconns, sizeof(*conns));
    for (i = 0; i < config.nconns; i++)
        conns[i].fd = -1;
    load_requests(conns);
    ts = threads_make(conns);
    cpu0 = cpu_us();
    start_ns = clock_ns();
    deadline_ns = start_ns + (uint64_t)(config.max_seconds * 1e9);
    for (i = 0; i < config.nthreads; i++) {
        err = pthread_create(&ts[i].tid, NULL, thread_run, &ts[i]);
        if (err)
            fail("pthread_create: %s", strerror(err));
    }
    for (i = 0; i < config.nthreads; i++)
        pthread_join(ts[i].tid, NULL);
    err = summarize(ts, cpu_us() - cpu0);
    release(ts, conns);
    return err;
}
