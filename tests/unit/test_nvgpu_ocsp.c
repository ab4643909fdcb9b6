/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCSP for the NVIDIA chains, against a test PKI
 * (tests/vectors/nvgpu/ocsp/, made by make-pki.sh):
 *  - responses built here with OpenSSL, for every status and every way a
 *    response can be wrong, through a transport callback;
 *  - `openssl ocsp` as a real responder on 127.0.0.1, reached with the
 *    service's HTTP client (src/net/http_client.c).  The responder listens on all addresses of its
 *    network namespace, so this test first moves into a private one (user +
 *    network namespace) where loopback is the only interface; where that
 *    is not permitted those cases are skipped.  The responder process is
 *    killed when the group ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include "common/time.h"
#include "crypto/x509.h"
#include "evidence/nvgpu/ocsp.h"
#include "net/http_client.h"
#include "nvgpu_util.h"

/* The OCSP transport the service wires up: POST through the HTTP client. */
static vouch_err curl_post(void *ctx, const char *url, const uint8_t *req, size_t req_len,
                           size_t max, uint8_t **ret_resp, size_t *ret_len,
                           struct vouch_errbuf *eb)
{
    return vouch_http_post(ctx, url, "application/ocsp-request", req, req_len, max, ret_resp,
                           ret_len, eb);
}

#define PKI NV_VEC "ocsp/"

static X509 *load_cert(const char *name)
{
    char path[256];
    X509 *x = NULL;
    struct vouch_errbuf eb;

    snprintf(path, sizeof(path), "%s/" PKI "%s.pem", VOUCH_SOURCE_ROOT, name);
    if (vouch_x509_load_file(path, &x, &eb))
        fail_msg("%s", eb.msg);
    return x;
}

static EVP_PKEY *load_key(const char *name)
{
    char path[256];
    EVP_PKEY *k;
    FILE *f;

    snprintf(path, sizeof(path), "%s/" PKI "%s.key", VOUCH_SOURCE_ROOT, name);
    f = fopen(path, "r");
    assert_non_null(f);
    k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(k);
    return k;
}

static STACK_OF(X509) *one(X509 *x)
{
    STACK_OF(X509) *sk = sk_X509_new_null();

    assert_non_null(sk);
    X509_up_ref(x);
    sk_X509_push(sk, x);
    return sk;
}

/* ------------------------------------------------------------------ */
/* A responder inside the test: the transport builds the answer.       */

enum nonce_mode { NONCE_ECHO, NONCE_OMIT, NONCE_WRONG };

struct fake {
    int http_fail;              /* transport error */
    int resp_status;            /* OCSP_RESPONSE_STATUS_* */
    int cert_status;            /* V_OCSP_CERTSTATUS_* */
    int reason;
    const char *signer;         /* "responder", "inter", "rogue" */
    enum nonce_mode nonce;
    int64_t this_off, next_off; /* relative to `now`; next_off 0: no nextUpdate */
    const char *about;          /* answer about this certificate instead */
    int64_t now;
    int calls;
};

static vouch_err fake_post(void *ctx, const char *url, const uint8_t *req, size_t req_len,
                           size_t max, uint8_t **ret, size_t *ret_len, struct vouch_errbuf *eb)
{
    struct fake *f = ctx;
    const unsigned char *p = req;
    OCSP_REQUEST *rq;
    OCSP_BASICRESP *bs;
    OCSP_RESPONSE *resp;
    OCSP_CERTID *id;
    ASN1_TIME *tu, *nu = NULL, *rev = NULL;
    X509 *signer;
    EVP_PKEY *key;
    unsigned char *der = NULL;
    int len;

    (void)url;
    (void)max;
    f->calls++;
    if (f->http_fail)
        return vouch_fail(eb, VOUCH_E_IO, "connection refused");
    rq = d2i_OCSP_REQUEST(NULL, &p, (long)req_len);
    assert_non_null(rq);
    bs = OCSP_BASICRESP_new();
    signer = load_cert(f->signer);
    key = load_key(f->signer);
    if (f->about) {
        X509 *c = load_cert(f->about), *i = load_cert("inter");

        id = OCSP_cert_to_id(EVP_sha1(), c, i);
        X509_free(c);
        X509_free(i);
    } else {
        id = OCSP_CERTID_dup(OCSP_onereq_get0_id(OCSP_request_onereq_get0(rq, 0)));
    }
    tu = ASN1_TIME_set(NULL, (time_t)(f->now + f->this_off));
    if (f->next_off)
        nu = ASN1_TIME_set(NULL, (time_t)(f->now + f->next_off));
    if (f->cert_status == V_OCSP_CERTSTATUS_REVOKED)
        rev = ASN1_TIME_set(NULL, (time_t)(f->now - 86400));
    assert_non_null(OCSP_basic_add1_status(bs, id, f->cert_status, f->reason, rev, tu, nu));
    if (f->nonce == NONCE_ECHO)
        OCSP_copy_nonce(bs, rq);
    else if (f->nonce == NONCE_WRONG)
        OCSP_basic_add1_nonce(bs, (unsigned char *)"0123456789abcdef0123456789abcdef", 32);
    assert_int_equal(OCSP_basic_sign(bs, signer, key, EVP_sha384(), NULL, 0), 1);
    resp = OCSP_response_create(f->resp_status, f->resp_status ? NULL : bs);
    len = i2d_OCSP_RESPONSE(resp, &der);
    assert_true(len > 0);
    *ret = malloc((size_t)len);
    memcpy(*ret, der, (size_t)len);
    *ret_len = (size_t)len;
    OPENSSL_free(der);
    OCSP_RESPONSE_free(resp);
    OCSP_BASICRESP_free(bs);
    OCSP_REQUEST_free(rq);
    OCSP_CERTID_free(id);
    ASN1_TIME_free(tu);
    ASN1_TIME_free(nu);
    ASN1_TIME_free(rev);
    X509_free(signer);
    EVP_PKEY_free(key);
    return VOUCH_OK;
}

struct fake_case {
    const char *what;
    const char *cert;
    enum vouch_ocsp_mode mode;
    bool allow_hold, no_nonce;
    struct fake f;
    vouch_err want;
    enum vouch_ocsp_status status;
    bool checked;
    const char *msg;
};

#define GOOD V_OCSP_CERTSTATUS_GOOD
#define REVOKED V_OCSP_CERTSTATUS_REVOKED
#define UNKNOWN V_OCSP_CERTSTATUS_UNKNOWN
#define OK_RESP OCSP_RESPONSE_STATUS_SUCCESSFUL

static const struct fake_case fake_cases[] = {
    { "good via delegated responder", "good", VOUCH_OCSP_REQUIRE, false, false,
      { 0, OK_RESP, GOOD, -1, "responder", NONCE_ECHO, -60, 3600, NULL, 0, 0 },
      VOUCH_OK, VOUCH_OCSP_STATUS_GOOD, true, NULL },
    { "good signed by the issuer itself", "good", VOUCH_OCSP_REQUIRE, false, false,
      { 0, OK_RESP, GOOD, -1, "inter", NONCE_ECHO, -60, 0, NULL, 0, 0 },
      VOUCH_OK, VOUCH_OCSP_STATUS_GOOD, true, NULL },
    { "revoked", "revoked", VOUCH_OCSP_SOFT, false, false,
      { 0, OK_RESP, REVOKED, 1, "responder", NONCE_ECHO, -60, 3600, NULL, 0, 0 },
      VOUCH_E_REVOKED, VOUCH_OCSP_STATUS_REVOKED, true, "keyCompromise" },
    { "on hold, not allowed", "hold", VOUCH_OCSP_SOFT, false, false,
      { 0, OK_RESP, REVOKED, 6, "responder", NONCE_ECHO, -60, 3600, NULL, 0, 0 },
      VOUCH_E_REVOKED, VOUCH_OCSP_STATUS_REVOKED, true, "certificateHold" },
    { "on hold, allowed", "hold", VOUCH_OCSP_REQUIRE, true, false,
      { 0, OK_RESP, REVOKED, 6, "responder", NONCE_ECHO, -60, 3600, NULL, 0, 0 },
      VOUCH_OK, VOUCH_OCSP_STATUS_REVOKED, true, NULL },
    { "unknown, soft", "unknown", VOUCH_OCSP_SOFT, false, false,
      { 0, OK_RESP, UNKNOWN, -1, "responder", NONCE_ECHO, -60, 3600, NULL, 0, 0 },
      VOUCH_OK, VOUCH_OCSP_STATUS_UNKNOWN, true, NULL },
    { "unknown, required", "unknown", VOUCH_OCSP_REQUIRE, false, false,
      { 0, OK_RESP, UNKNOWN, -1, "responder", NONCE_ECHO, -60, 3600, NULL, 0, 0 },
      VOUCH_E_VERIFY, VOUCH_OCSP_STATUS_UNKNOWN, true, "does not know" },
    { "signed by a stranger", "good", VOUCH_OCSP_REQUIRE, false, false,
      { 0, OK_RESP, GOOD, -1, "rogue", NONCE_ECHO, -60, 3600, NULL, 0, 0 },
      VOUCH_E_VERIFY, VOUCH_OCSP_STATUS_UNKNOWN, false, "not trusted" },
    { "signed by a stranger, soft", "good", VOUCH_OCSP_SOFT, false, false,
      { 0, OK_RESP, GOOD, -1, "rogue", NONCE_ECHO, -60, 3600, NULL, 0, 0 },
      VOUCH_OK, VOUCH_OCSP_STATUS_UNKNOWN, false, NULL },
    { "nonce missing", "good", VOUCH_OCSP_REQUIRE, false, false,
      { 0, OK_RESP, GOOD, -1, "responder", NONCE_OMIT, -60, 3600, NULL, 0, 0 },
      VOUCH_E_VERIFY, VOUCH_OCSP_STATUS_UNKNOWN, false, "nonce" },
    { "nonce wrong", "good", VOUCH_OCSP_REQUIRE, false, false,
      { 0, OK_RESP, GOOD, -1, "responder", NONCE_WRONG, -60, 3600, NULL, 0, 0 },
      VOUCH_E_VERIFY, VOUCH_OCSP_STATUS_UNKNOWN, false, "nonce" },
    { "nonce not asked for", "good", VOUCH_OCSP_REQUIRE, false, true,
      { 0, OK_RESP, GOOD, -1, "responder", NONCE_OMIT, -60, 3600, NULL, 0, 0 },
      VOUCH_OK, VOUCH_OCSP_STATUS_GOOD, true, NULL },
    { "stale", "good", VOUCH_OCSP_REQUIRE, false, false,
      { 0, OK_RESP, GOOD, -1, "responder", NONCE_ECHO, -7200, -3600, NULL, 0, 0 },
      VOUCH_E_EXPIRED, VOUCH_OCSP_STATUS_UNKNOWN, false, "stale" },
    { "from the future", "good", VOUCH_OCSP_REQUIRE, false, false,
      { 0, OK_RESP, GOOD, -1, "responder", NONCE_ECHO, 3600, 7200, NULL, 0, 0 },
      VOUCH_E_NOT_YET_VALID, VOUCH_OCSP_STATUS_UNKNOWN, false, "future" },
    { "about another certificate", "good", VOUCH_OCSP_REQUIRE, false, false,
      { 0, OK_RESP, GOOD, -1, "responder", NONCE_ECHO, -60, 3600, "revoked", 0, 0 },
      VOUCH_E_VERIFY, VOUCH_OCSP_STATUS_UNKNOWN, false, "not about this certificate" },
    { "try later", "good", VOUCH_OCSP_REQUIRE, false, false,
      { 0, OCSP_RESPONSE_STATUS_TRYLATER, GOOD, -1, "responder", NONCE_ECHO, -60, 3600, NULL,
        0, 0 },
      VOUCH_E_VERIFY, VOUCH_OCSP_STATUS_UNKNOWN, false, "trylater" },
    { "responder unreachable, soft", "good", VOUCH_OCSP_SOFT, false, false,
      { 1, OK_RESP, GOOD, -1, "responder", NONCE_ECHO, -60, 3600, NULL, 0, 0 },
      VOUCH_OK, VOUCH_OCSP_STATUS_UNKNOWN, false, NULL },
    { "responder unreachable, required", "good", VOUCH_OCSP_REQUIRE, false, false,
      { 1, OK_RESP, GOOD, -1, "responder", NONCE_ECHO, -60, 3600, NULL, 0, 0 },
      VOUCH_E_IO, VOUCH_OCSP_STATUS_UNKNOWN, false, "connection refused" },
    { "off", "revoked", VOUCH_OCSP_OFF, false, false,
      { 0, OK_RESP, REVOKED, 1, "responder", NONCE_ECHO, -60, 3600, NULL, 0, 0 },
      VOUCH_OK, VOUCH_OCSP_STATUS_UNKNOWN, false, NULL },
};

static void test_fake_responder(void **state)
{
    X509 *inter = load_cert("inter"), *root = load_cert("root");
    STACK_OF(X509) *roots = one(root);
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(fake_cases) / sizeof(fake_cases[0]); i++) {
        const struct fake_case *c = &fake_cases[i];
        struct fake f = c->f;
        struct vouch_ocsp_config cfg;
        struct vouch_ocsp_result r;
        struct vouch_errbuf eb = { "" };
        X509 *cert = load_cert(c->cert);
        vouch_err e;

        f.now = nv_time("2025-01-01T00:00:00Z");
        memset(&cfg, 0, sizeof(cfg));
        cfg.mode = c->mode;
        cfg.allow_hold = c->allow_hold;
        cfg.no_nonce = c->no_nonce;
        cfg.certid_hash = i % 2 ? VOUCH_HASH_SHA384 : VOUCH_HASH_SHA1;
        cfg.transport.post = fake_post;
        cfg.transport.ctx = &f;
        e = vouch_ocsp_query(&cfg, cert, inter, roots, f.now, &r, &eb);
        if (e != c->want || r.status != c->status || r.checked != c->checked ||
            (c->msg && !strstr(eb.msg, c->msg)))
            fail_msg("%s: got %s status %s checked %d '%s'", c->what, vouch_err_name(e),
                     vouch_ocsp_status_name(r.status), r.checked, eb.msg);
        assert_int_equal(f.calls, c->mode == VOUCH_OCSP_OFF ? 0 : 1);
        if (r.status == VOUCH_OCSP_STATUS_REVOKED)
            assert_int_equal(r.reason, c->f.reason);
        X509_free(cert);
    }
    sk_X509_pop_free(roots, X509_free);
    X509_free(inter);
    X509_free(root);
}

/* A response signed while the responder certificate is not valid fails. */
static void test_responder_validity(void **state)
{
    X509 *inter = load_cert("inter"), *root = load_cert("root"), *cert = load_cert("good");
    STACK_OF(X509) *roots = one(root);
    struct fake f = { 0, OK_RESP, GOOD, -1, "responder", NONCE_ECHO, -60, 3600, NULL, 0, 0 };
    struct vouch_ocsp_config cfg;
    struct vouch_ocsp_result r;
    struct vouch_errbuf eb;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg.mode = VOUCH_OCSP_REQUIRE;
    cfg.transport.post = fake_post;
    cfg.transport.ctx = &f;
    f.now = nv_time("2023-06-01T00:00:00Z");   /* before the PKI's notBefore */
    assert_int_equal(vouch_ocsp_query(&cfg, cert, inter, roots, f.now, &r, &eb), VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "not trusted"));
    sk_X509_pop_free(roots, X509_free);
    X509_free(inter);
    X509_free(root);
    X509_free(cert);
}

/* Chains fold to the worst status; the leaf of a device chain is skipped. */
static void test_chain_fold(void **state)
{
    X509 *root = load_cert("root");
    STACK_OF(X509) *roots = one(root), *chain = sk_X509_new_null();
    struct fake f = { 0, OK_RESP, GOOD, -1, "responder", NONCE_ECHO, -60, 3600, NULL, 0, 0 };
    struct vouch_ocsp_config cfg;
    struct vouch_ocsp_result r;
    struct vouch_errbuf eb;

    (void)state;
    sk_X509_push(chain, load_cert("good"));
    sk_X509_push(chain, load_cert("inter"));
    sk_X509_push(chain, load_cert("root"));
    memset(&cfg, 0, sizeof(cfg));
    cfg.mode = VOUCH_OCSP_SOFT;
    cfg.transport.post = fake_post;
    cfg.transport.ctx = &f;
    f.now = nv_time("2025-01-01T00:00:00Z");
    /* intermediate -> root: signed by "responder", which the root did not delegate */
    assert_int_equal(vouch_ocsp_query_chain(&cfg, chain, 0, roots, f.now, &r, &eb), VOUCH_OK);
    assert_int_equal(f.calls, 2);
    assert_int_equal(r.status, VOUCH_OCSP_STATUS_UNKNOWN);
    f.calls = 0;
    assert_int_equal(vouch_ocsp_query_chain(&cfg, chain, 1, roots, f.now, &r, &eb), VOUCH_OK);
    assert_int_equal(f.calls, 1);
    f.calls = 0;
    assert_int_equal(vouch_ocsp_query_chain(&cfg, chain, 2, roots, f.now, &r, &eb), VOUCH_OK);
    assert_int_equal(f.calls, 0);
    f.cert_status = REVOKED;
    f.reason = 1;
    assert_int_equal(vouch_ocsp_query_chain(&cfg, chain, 0, roots, f.now, &r, &eb),
                     VOUCH_E_REVOKED);
    assert_int_equal(r.status, VOUCH_OCSP_STATUS_REVOKED);
    sk_X509_pop_free(chain, X509_free);
    sk_X509_pop_free(roots, X509_free);
    X509_free(root);
}

static void test_malformed(void **state)
{
    X509 *inter = load_cert("inter"), *root = load_cert("root"), *cert = load_cert("good");
    STACK_OF(X509) *roots = one(root);
    static const uint8_t junk[] = { 0x30, 0x03, 0x0a, 0x01, 0x00, 0x00 };
    struct vouch_ocsp_result r;
    uint8_t *req = NULL;
    size_t len;

    (void)state;
    assert_int_equal(vouch_ocsp_check_response(junk, sizeof(junk), cert, inter, roots, NULL, 0,
                                               0, 0, &r, NULL), VOUCH_E_INVALID);
    assert_int_equal(vouch_ocsp_check_response(junk, 3, cert, inter, roots, NULL, 0, 0, 0, &r,
                                               NULL), VOUCH_E_INVALID);
    assert_int_equal(vouch_ocsp_request(cert, inter, VOUCH_HASH_SHA384, (const uint8_t *)"n", 1,
                                        &req, &len, NULL), VOUCH_OK);
    assert_true(len > 60);
    OPENSSL_free(req);
    assert_string_equal(vouch_ocsp_reason_name(6), "certificateHold");
    assert_null(vouch_ocsp_reason_name(7));
    sk_X509_pop_free(roots, X509_free);
    X509_free(inter);
    X509_free(root);
    X509_free(cert);
}

/* ------------------------------------------------------------------ */
/* `openssl ocsp` on 127.0.0.1 in a private network namespace          */

static pid_t responder_pid = -1;
static FILE *responder_out;
static int responder_port;
static bool netns_ok;

static bool write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    bool ok;

    if (fd < 0)
        return false;
    ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    close(fd);
    return ok;
}

/* Enter a new user + network namespace and bring loopback up. */
static bool private_netns(void)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    struct ifreq ifr;
    char map[64];
    int s;

    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) {
        snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
        if (!write_file("/proc/self/setgroups", "deny") ||
            !write_file("/proc/self/uid_map", map))
            return false;
        snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
        if (!write_file("/proc/self/gid_map", map))
            return false;
    } else if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
        return false;
    }
    s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return false;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
        close(s);
        return false;
    }
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
        close(s);
        return false;
    }
    close(s);
    return true;
}

static int start_responder(void **state)
{
    char line[256];
    int pfd[2];
    FILE *out;

    (void)state;
    netns_ok = private_netns();
    if (!netns_ok)
        return 0;
    if (pipe(pfd) < 0)
        return -1;
    responder_pid = fork();
    if (responder_pid < 0)
        return -1;
    if (responder_pid == 0) {
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        close(pfd[0]);
        close(pfd[1]);
        if (chdir(VOUCH_SOURCE_ROOT "/" PKI) < 0)
            _exit(127);
        execlp("openssl", "openssl", "ocsp", "-index", "index.txt", "-port", "0", "-rsigner",
               "responder.pem", "-rkey", "responder.key", "-CA", "inter.pem", "-nmin", "10",
               (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    out = fdopen(pfd[0], "r");
    if (!out)
        return -1;
    while (fgets(line, sizeof(line), out)) {
        char *p = strstr(line, "ACCEPT ");

        if (p && (p = strrchr(p, ':')) && sscanf(p + 1, "%d", &responder_port) == 1)
            break;
    }
    /* the responder keeps writing to the pipe: hold it open until it stops */
    responder_out = out;
    return responder_port > 0 ? 0 : -1;
}

static int stop_responder(void **state)
{
    (void)state;
    if (responder_pid > 0) {
        kill(responder_pid, SIGTERM);
        waitpid(responder_pid, NULL, 0);
        responder_pid = -1;
    }
    if (responder_out)
        fclose(responder_out);
    responder_out = NULL;
    return 0;
}

struct live_case {
    const char *cert;
    bool allow_hold;
    enum vouch_hash hash;
    vouch_err want;
    enum vouch_ocsp_status status;
    int reason;
};

static const struct live_case live_cases[] = {
    { "good", false, VOUCH_HASH_SHA1, VOUCH_OK, VOUCH_OCSP_STATUS_GOOD, -1 },
    { "good", false, VOUCH_HASH_SHA384, VOUCH_OK, VOUCH_OCSP_STATUS_GOOD, -1 },
    { "revoked", false, VOUCH_HASH_SHA1, VOUCH_E_REVOKED, VOUCH_OCSP_STATUS_REVOKED, 1 },
    { "hold", true, VOUCH_HASH_SHA384, VOUCH_OK, VOUCH_OCSP_STATUS_REVOKED, 6 },
    { "hold", false, VOUCH_HASH_SHA384, VOUCH_E_REVOKED, VOUCH_OCSP_STATUS_REVOKED, 6 },
    { "unknown", false, VOUCH_HASH_SHA1, VOUCH_E_VERIFY, VOUCH_OCSP_STATUS_UNKNOWN, -1 },
};

static void test_openssl_responder(void **state)
{
    X509 *inter = load_cert("inter"), *root = load_cert("root");
    STACK_OF(X509) *roots = one(root);
    char url[64];
    size_t i;

    (void)state;
    if (!netns_ok) {
        sk_X509_pop_free(roots, X509_free);
        X509_free(inter);
        X509_free(root);
        skip();
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", responder_port);
    for (i = 0; i < sizeof(live_cases) / sizeof(live_cases[0]); i++) {
        const struct live_case *c = &live_cases[i];
        struct vouch_ocsp_config cfg;
        struct vouch_ocsp_result r;
        struct vouch_errbuf eb = { "" };
        X509 *cert = load_cert(c->cert);
        vouch_err e;

        memset(&cfg, 0, sizeof(cfg));
        cfg.mode = VOUCH_OCSP_REQUIRE;
        cfg.url = url;
        cfg.allow_hold = c->allow_hold;
        cfg.certid_hash = c->hash;
        cfg.transport.post = curl_post;
        e = vouch_ocsp_query(&cfg, cert, inter, roots, vouch_clock_now(), &r, &eb);
        if (e != c->want || r.status != c->status || r.reason != c->reason)
            fail_msg("%s: got %s %s/%d '%s'", c->cert, vouch_err_name(e),
                     vouch_ocsp_status_name(r.status), r.reason, eb.msg);
        assert_true(r.checked);
        assert_true(r.nonce_match);
        assert_true(r.next_update > r.this_update);
        X509_free(cert);
    }
    /* nothing listens on the AIA's port 9: soft mode says unknown */
    {
        struct vouch_ocsp_config cfg;
        struct vouch_ocsp_result r;
        struct vouch_errbuf eb;
        X509 *cert = load_cert("good");

        memset(&cfg, 0, sizeof(cfg));
        cfg.mode = VOUCH_OCSP_SOFT;
        cfg.transport.post = curl_post;
        assert_int_equal(vouch_ocsp_query(&cfg, cert, inter, roots, vouch_clock_now(), &r, &eb),
                         VOUCH_OK);
        assert_int_equal(r.status, VOUCH_OCSP_STATUS_UNKNOWN);
        assert_false(r.checked);
        cfg.mode = VOUCH_OCSP_REQUIRE;
        assert_int_equal(vouch_ocsp_query(&cfg, cert, inter, roots, vouch_clock_now(), &r, &eb),
                         VOUCH_E_UNAVAILABLE);
        X509_free(cert);
    }
    sk_X509_pop_free(roots, X509_free);
    X509_free(inter);
    X509_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fake_responder),
        cmocka_unit_test(test_responder_validity),
        cmocka_unit_test(test_chain_fold),
        cmocka_unit_test(test_malformed),
        /* last: its set-up moves the process into a private network namespace */
        cmocka_unit_test_setup_teardown(test_openssl_responder, start_responder, stop_responder),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
