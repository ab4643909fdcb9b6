/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vouch-agent's rounds (run.h): the state directory, enrolment
 * (RegisterMessage, ProduceAikcert, TPM2_ActivateCredential) and reports
 * (GenerateNonce, TPM2_Quote, PutMessage).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_tpm.h"
#include "agent/run.h"
#include "common/codec.h"
#include "common/file.h"
#include "common/json.h"

#define STATE_FILE "state.json"
#define EVENTLOG_MAX (4u << 20)
#define IMA_LOG_MAX (64u << 20)
#define NONCE_LEN 32
#define ROUND_TRIES 3

/* ---- files of the state directory ---- */

static vouch_err state_path(const struct vouch_agent *a, const char *name, char *out,
                            size_t size, struct vouch_errbuf *eb)
{
    if ((size_t)snprintf(out, size, "%s/%s", a->conf.state_dir, name) >= size)
        return vouch_fail(eb, VOUCH_E_INVALID, "--state-dir: path too long");
    return VOUCH_OK;
}

/* Write a file of the state directory atomically (temporary file, fsync, rename). */
static vouch_err write_state_file(const struct vouch_agent *a, const char *name,
                                  const char *text, struct vouch_errbuf *eb)
{
    char path[512], tmp[520];
    size_t len = strlen(text);
    int fd;
    vouch_err e = state_path(a, name, path, sizeof(path), eb);

    if (e)
        return e;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return vouch_fail(eb, VOUCH_E_IO, "%s: %s", tmp, strerror(errno));
    if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
        e = vouch_fail(eb, VOUCH_E_IO, "%s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return e;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        e = vouch_fail(eb, VOUCH_E_IO, "%s: %s", path, strerror(errno));
        unlink(tmp);
    }
    return e;
}

static vouch_err save_state(const struct vouch_agent *a, struct vouch_errbuf *eb)
{
    char *text = NULL;
    vouch_err e = vouch_agent_state_format(&a->st, &text, eb);

    if (!e)
        e = write_state_file(a, STATE_FILE, text, eb);
    free(text);
    return e;
}

/* The first line of a small system file, trimmed and lower-cased; "" when unreadable. */
static void read_id(const char *path, char *out, size_t size)
{
    uint8_t *data = NULL;
    size_t len = 0, i, n = 0;

    out[0] = '\0';
    if (!path[0] || vouch_file_read(path, 4096, &data, &len, NULL))
        return;
    for (i = 0; i < len && n + 1 < size && data[i] != '\n'; i++)
        if (!isspace(data[i]))
            out[n++] = (char)tolower(data[i]);
    out[n] = '\0';
    free(data);
}

static void random_uuid(char out[37])
{
    uint8_t b[16];

    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        abort();            /* no randomness: nothing sane to do */
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

/* --uuid, else the one kept, else the DMI product UUID, else a random one. */
static void choose_uuid(struct vouch_agent *a)
{
    char dmi[VOUCH_AGENT_UUID_MAX + 1];

    if (a->conf.uuid && strcmp(a->conf.uuid, a->st.uuid) != 0) {
        if (a->st.uuid[0])
            vouch_agent_state_forget_ak(&a->st);   /* another instance: enrol it */
        snprintf(a->st.uuid, sizeof(a->st.uuid), "%s", a->conf.uuid);
    }
    if (a->st.uuid[0])
        return;
    read_id(a->dmi_uuid_path, dmi, sizeof(dmi));
    /* unset DMI fields read as all zeros or all F's */
    if (strlen(dmi) == 36 && strspn(dmi, "0-") != 36 && strspn(dmi, "f-") != 36)
        snprintf(a->st.uuid, sizeof(a->st.uuid), "%s", dmi);
    else
        random_uuid(a->st.uuid);
}

/* state.json into a->st (kept as it is when there is no file yet). */
static vouch_err load_state(struct vouch_agent *a, struct vouch_errbuf *eb)
{
    struct vouch_agent_state st;
    char path[512];
    uint8_t *text = NULL;
    size_t len;
    vouch_err e = state_path(a, STATE_FILE, path, sizeof(path), eb);

    if (!e)
        e = vouch_file_read(path, VOUCH_AGENT_STATE_MAX, &text, &len, eb);
    if (e == VOUCH_E_NOT_FOUND)
        e = VOUCH_OK;          /* the first run */
    else if (!e && !(e = vouch_agent_state_parse((const char *)text, len, &st, eb))) {
        vouch_agent_state_done(&a->st);
        a->st = st;
    }
    free(text);
    return e ? vouch_fail_prefix(eb, e, "%s: ", path) : VOUCH_OK;
}

vouch_err vouch_agent_reload(struct vouch_agent *a, struct vouch_errbuf *eb)
{
    return load_state(a, eb);
}

vouch_err vouch_agent_start(struct vouch_agent *a, struct vouch_errbuf *eb)
{
    struct stat sb;
    vouch_err e;

    if (mkdir(a->conf.state_dir, 0700) != 0 && errno != EEXIST)
        return vouch_fail(eb, VOUCH_E_IO, "--state-dir %s: %s", a->conf.state_dir,
                          strerror(errno));
    if (stat(a->conf.state_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return vouch_fail(eb, VOUCH_E_IO, "--state-dir %s: not a directory", a->conf.state_dir);
    if ((sb.st_mode & 077) && chmod(a->conf.state_dir, 0700) != 0)
        return vouch_fail(eb, VOUCH_E_IO, "--state-dir %s: cannot make it mode 0700: %s",
                          a->conf.state_dir, strerror(errno));
    e = load_state(a, eb);
    if (e)
        return e;
    choose_uuid(a);
    return save_state(a, eb);
}

void vouch_agent_done(struct vouch_agent *a)
{
    vouch_agent_state_done(&a->st);
    vouch_agent_conf_free(&a->conf);
}

/* ---- enrolment ---- */

static vouch_err call(struct vouch_agent *a, const char *action, const char *const *params,
                      int64_t now, json_t **ret, struct vouch_agent_outcome *out,
                      struct vouch_errbuf *eb)
{
    return vouch_agent_rpc_call(&a->rpc, action, params, now, ret, &out->fault, eb);
}

static vouch_err register_instance(struct vouch_agent *a, int64_t now,
                                   struct vouch_agent_outcome *out, struct vouch_errbuf *eb)
{
    char host[256] = "";
    const char *name = a->conf.name;
    json_t *ans = NULL;
    vouch_err e;

    if (!name && gethostname(host, sizeof(host) - 1) == 0)
        name = host;
    {
        const char *p[] = { "PropertyUuid", a->st.uuid, "PropertyName", name && *name ? name : NULL,
                            NULL };

        e = call(a, "RegisterMessage", p, now, &ans, out, eb);
    }
    json_decref(ans);
    if (e)
        return e;
    a->st.registered = true;
    return save_state(a, eb);
}

/* The AK at the configured handle: the one recorded in the state, or a new one. */
static vouch_err ensure_ak(struct vouch_agent *a, struct vouch_agent_tpm *tpm,
                           struct vouch_agent_tpm_object *ak, struct vouch_errbuf *eb)
{
    uint32_t h = a->conf.ak_handle;
    bool ours = a->st.ak_handle == h && a->st.ak_name_len;
    vouch_err e = vouch_agent_tpm_read_persistent(tpm, h, ak, eb);

    if (!e && ours && ak->name_len == a->st.ak_name_len &&
        memcmp(ak->name, a->st.ak_name, ak->name_len) == 0)
        return VOUCH_OK;
    if (!e)
        return vouch_fail(eb, VOUCH_E_CONFLICT, "handle 0x%x holds a key this agent did not "
                          "create; choose another --ak-handle, or remove that key "
                          "(tpm2_evictcontrol -c 0x%x) if nothing else uses it",
                          (unsigned)h, (unsigned)h);
    if (e != VOUCH_E_NOT_FOUND)
        return e;
    e = vouch_agent_tpm_create_ak(tpm, h, ak, eb);
    if (e)
        return e;
    a->st.ak_handle = h;
    memcpy(a->st.ak_name, ak->name, ak->name_len);
    a->st.ak_name_len = ak->name_len;
    return save_state(a, eb);
}

/* ProduceAikcert's request parameters and call. */
static vouch_err produce_aikcert(struct vouch_agent *a, struct vouch_agent_tpm *tpm,
                                 const struct vouch_agent_tpm_object *ak, int64_t now,
                                 json_t **ret, struct vouch_agent_outcome *out,
                                 struct vouch_errbuf *eb)
{
    uint8_t *ek_pub = NULL, *ek_cert = NULL;
    size_t ek_pub_len, ek_cert_len;
    char *ek_b64 = NULL, *cert_b64 = NULL, *ak_b64 = NULL, *name_hex = NULL;
    vouch_err e = vouch_agent_tpm_ek(tpm, &ek_pub, &ek_pub_len, &ek_cert, &ek_cert_len, eb);

    if (e)
        return e;
    ek_b64 = vouch_b64_alloc(ek_pub, ek_pub_len, VOUCH_B64_STD);
    cert_b64 = ek_cert ? vouch_b64_alloc(ek_cert, ek_cert_len, VOUCH_B64_STD) : NULL;
    ak_b64 = vouch_b64_alloc(ak->pub, ak->pub_len, VOUCH_B64_STD);
    name_hex = vouch_hex_alloc(ak->name, ak->name_len);
    if (!ek_b64 || (ek_cert && !cert_b64) || !ak_b64 || !name_hex) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    } else {
        const char *p[] = { "PropertyUuid", a->st.uuid, "EkPubKey", ek_b64, "EkCert", cert_b64,
                            "AikName", name_hex, "CertRequest", ak_b64,
                            "IncludeCertChain", "true", NULL };

        e = call(a, "ProduceAikcert", p, now, ret, out, eb);
    }
    free(ek_pub);
    free(ek_cert);
    free(ek_b64);
    free(cert_b64);
    free(ak_b64);
    free(name_hex);
    return e;
}

static vouch_err b64_member(const json_t *data, const char *key, uint8_t **ret, size_t *ret_len,
                            struct vouch_errbuf *eb)
{
    const char *s = NULL;
    size_t n = 0;
    vouch_err e = vouch_json_get_str(data, key, true, &s, &n, eb);

    if (!e)
        e = vouch_b64_decode(s, n, VOUCH_B64_STD, VOUCH_AGENT_PEM_MAX * 2, ret, ret_len, eb);
    return e ? vouch_fail_prefix(eb, e, "ProduceAikcert answer: %s: ", key) : VOUCH_OK;
}

/* Activate the credential, decrypt the certificate, keep it. */
static vouch_err accept_aikcert(struct vouch_agent *a, struct vouch_agent_tpm *tpm,
                                const struct vouch_agent_tpm_object *ak, const json_t *ans,
                                struct vouch_errbuf *eb)
{
    json_t *data = json_object_get(ans, "Data");
    uint8_t *kcb = NULL, *dcb = NULL, secret[64];
    size_t kcb_len, dcb_len, secret_len, pem_len;
    char *pem = NULL, *cert = NULL;
    vouch_err e;

    if (!json_is_object(data))
        return vouch_fail(eb, VOUCH_E_INVALID, "ProduceAikcert answer: no Data object");
    e = b64_member(data, "KeyCredentialBlob", &kcb, &kcb_len, eb);
    if (!e)
        e = b64_member(data, "DataCredentialBlob", &dcb, &dcb_len, eb);
    if (!e)
        e = vouch_agent_tpm_activate(tpm, a->conf.ak_handle, kcb, kcb_len, secret, &secret_len, eb);
    if (!e)
        e = vouch_agent_data_credential_decrypt(secret, secret_len, dcb, dcb_len, &pem, &pem_len,
                                                eb);
    if (!e)
        e = vouch_agent_ak_cert_pick(pem, pem_len, ak->pub, ak->pub_len, &cert, eb);
    if (!e)
        e = write_state_file(a, "ak-chain.pem", pem, eb);
    if (!e) {
        free(a->st.ak_cert);
        a->st.ak_cert = cert;
        cert = NULL;
        a->st.ak_active = false;
        a->st.ima_next = 0;
        e = save_state(a, eb);
    }
    free(kcb);
    free(dcb);
    free(pem);
    free(cert);
    return e;
}

static vouch_err enrol(struct vouch_agent *a, struct vouch_agent_tpm *tpm, int64_t now,
                       struct vouch_agent_outcome *out, struct vouch_errbuf *eb)
{
    struct vouch_agent_tpm_object ak;
    json_t *ans = NULL;
    vouch_err e = VOUCH_OK;

    if (!a->st.registered)
        e = register_instance(a, now, out, eb);
    if (!e && a->st.ak_cert) {
        /* still in the TPM (a TPM clear removes it)? */
        e = vouch_agent_tpm_read_persistent(tpm, a->conf.ak_handle, &ak, eb);
        if (e == VOUCH_E_NOT_FOUND) {
            vouch_agent_state_forget_ak(&a->st);
            a->st.ak_handle = 0;
            a->st.ak_name_len = 0;
            e = register_instance(a, now, out, eb);
        }
    }
    if (e || a->st.ak_cert)
        return e;
    e = ensure_ak(a, tpm, &ak, eb);
    if (!e)
        e = produce_aikcert(a, tpm, &ak, now, &ans, out, eb);
    if (!e)
        e = accept_aikcert(a, tpm, &ak, ans, eb);
    json_decref(ans);
    if (!e)
        out->enrolled = true;
    return e;
}

/* ---- reports ---- */

static vouch_err get_nonce(struct vouch_agent *a, int64_t now, char hex[2 * NONCE_LEN + 1],
                           uint8_t nonce[NONCE_LEN], struct vouch_agent_outcome *out,
                           struct vouch_errbuf *eb)
{
    const char *p[] = { "PropertyUuid", a->st.uuid, NULL };
    json_t *ans = NULL;
    const char *s = NULL;
    size_t n = 0;
    vouch_err e = call(a, "GenerateNonce", p, now, &ans, out, eb);

    if (!e)
        e = vouch_json_get_str(json_object_get(ans, "data"), "Nonce", true, &s, &n, eb);
    if (!e && (n != 2 * NONCE_LEN || vouch_hex_decode_exact(s, n, nonce, NONCE_LEN, NULL)))
        e = vouch_fail(eb, VOUCH_E_INVALID, "GenerateNonce answer: Nonce is not 64 hex digits");
    if (!e)
        memcpy(hex, s, n + 1);
    json_decref(ans);
    return e;
}

/* A log file the agent sends when it exists: NOT_FOUND is no log. */
static vouch_err read_log(const char *path, size_t max, uint8_t **ret, size_t *ret_len,
                          struct vouch_errbuf *eb)
{
    if (!path || !*path)
        return VOUCH_E_NOT_FOUND;
    return vouch_file_read(path, max, ret, ret_len, eb);
}

/* The IMA part: entries from the index the service expects (0 after a reboot). */
static vouch_err ima_part(struct vouch_agent *a, const uint8_t *log, size_t len,
                          struct vouch_agent_report *r, struct vouch_agent_outcome *out,
                          struct vouch_errbuf *eb)
{
    char boot[sizeof(a->st.boot_id)];
    uint64_t start, count;
    size_t off;
    vouch_err e;

    read_id(a->boot_id_path, boot, sizeof(boot));
    if (strcmp(boot, a->st.boot_id) != 0) {
        a->st.ima_next = 0;          /* a reboot: the kernel's log starts over */
        snprintf(a->st.boot_id, sizeof(a->st.boot_id), "%s", boot);
    }
    e = vouch_agent_ima_slice(log, len, a->st.ima_next, &start, &off, &count, eb);
    if (e)
        return e;
    r->ima = log + off;
    r->ima_len = len - off;
    r->ima_start = start;
    out->ima_start = start;
    out->ima_sent = count - start;
    return VOUCH_OK;
}

static int status_of(const json_t *data, const char *key, char *code, size_t size)
{
    const json_t *r = json_object_get(data, key);
    const char *c = json_string_value(json_object_get(r, "code"));

    snprintf(code, size, "%s", c ? c : "");
    return json_is_integer(json_object_get(r, "status"))
               ? (int)json_integer_value(json_object_get(r, "status")) : 0;
}

/* PutMessage's answer: the verdict and the next IMA index, kept. */
static vouch_err accept_answer(struct vouch_agent *a, const json_t *ans,
                               struct vouch_agent_outcome *out, struct vouch_errbuf *eb)
{
    const json_t *data = json_object_get(ans, "data");
    const json_t *next = json_object_get(data, "nextClientIMAIndex");

    out->accepted = true;
    out->system_status = status_of(data, "systemVerificationResult", out->system_code,
                                   sizeof(out->system_code));
    out->program_status = status_of(data, "programVerificationResult", out->program_code,
                                    sizeof(out->program_code));
    if (json_is_integer(next) && json_integer_value(next) >= 0)
        a->st.ima_next = (uint64_t)json_integer_value(next);
    out->ima_next = a->st.ima_next;
    a->st.ak_active = true;
    return save_state(a, eb);
}

/* Quote over the nonce, read the logs, send them. */
static vouch_err send_report(struct vouch_agent *a, struct vouch_agent_tpm *tpm, int64_t now,
                             const char *nonce_hex, const uint8_t *nonce,
                             struct vouch_agent_outcome *out, struct vouch_errbuf *eb)
{
    struct vouch_agent_quote q;
    struct vouch_agent_report r = { .nonce_hex = nonce_hex };
    uint8_t *el = NULL, *ima = NULL;
    size_t el_len = 0, ima_len = 0;
    char *filedata = NULL;
    json_t *ans = NULL;
    vouch_err e;

    memset(&q, 0, sizeof(q));
    e = vouch_agent_tpm_quote(tpm, a->conf.ak_handle, &a->sel, nonce, NONCE_LEN, &q, eb);
    if (e)
        goto out;
    /* the logs after the quote: they may have grown past it, never fallen behind */
    e = read_log(a->conf.eventlog, EVENTLOG_MAX, &el, &el_len, eb);
    if (e == VOUCH_E_NOT_FOUND)
        e = VOUCH_OK;
    if (!e)
        e = read_log(a->conf.ima_log, IMA_LOG_MAX, &ima, &ima_len, eb);
    if (e == VOUCH_E_NOT_FOUND)
        e = VOUCH_OK;
    else if (!e)
        e = ima_part(a, ima, ima_len, &r, out, eb);
    if (e)
        goto out;
    r.attest = q.attest;
    r.attest_len = q.attest_len;
    r.sig = q.sig;
    r.sig_len = q.sig_len;
    r.pcrs = &q.pcrs;
    r.eventlog = el;
    r.eventlog_len = el_len;
    r.ak_cert = a->st.ak_active ? NULL : a->st.ak_cert;
    e = vouch_agent_filedata(&r, &filedata, eb);
    if (e)
        goto out;
    out->filedata_len = strlen(filedata);
    {
        const char *p[] = { "PropertyUuid", a->st.uuid, "FileData", filedata, NULL };

        e = call(a, "PutMessage", p, now, &ans, out, eb);
    }
    if (!e)
        e = accept_answer(a, ans, out, eb);
out:
    json_decref(ans);
    free(filedata);
    free(el);
    free(ima);
    vouch_agent_quote_done(&q);
    return e;
}

static vouch_err report(struct vouch_agent *a, struct vouch_agent_tpm *tpm, int64_t now,
                        struct vouch_agent_outcome *out, struct vouch_errbuf *eb)
{
    char hex[2 * NONCE_LEN + 1];
    uint8_t nonce[NONCE_LEN];
    vouch_err e = get_nonce(a, now, hex, nonce, out, eb);

    return e ? e : send_report(a, tpm, now, hex, nonce, out, eb);
}

/*
 * After a refusal, what to change before trying again: true when the round
 * should be retried at once.
 */
static bool recover(struct vouch_agent *a, vouch_err e, const struct vouch_agent_rpc_fault *f,
                    struct vouch_errbuf *eb)
{
    if (strcmp(f->code, "InvalidParameter.IMAIndex") == 0 && f->next_ima_index >= 0) {
        a->st.ima_next = (uint64_t)f->next_ima_index;     /* the service's count wins */
        return save_state(a, eb) == VOUCH_OK;
    }
    if ((e == VOUCH_E_NOT_FOUND && strcmp(f->code, "InvalidPropertyUuid.NotFound") == 0) ||
        vouch_agent_lost_enrolment(f)) {
        vouch_agent_state_forget_ak(&a->st);               /* enrol again */
        return save_state(a, eb) == VOUCH_OK;
    }
    return false;
}

/* Append a Code to the ','-joined list (left out when it does not fit). */
static void note_recovery(char *list, size_t size, const char *code)
{
    size_t n = strlen(list), c = strlen(code);

    if (n + 1 + c + 1 > size)
        return;
    if (n)
        list[n++] = ',';
    memcpy(list + n, code, c + 1);
}

vouch_err vouch_agent_round(struct vouch_agent *a, int64_t now, struct vouch_agent_outcome *ret,
                            struct vouch_errbuf *eb)
{
    struct vouch_agent_tpm *tpm = NULL;
    struct vouch_agent_outcome out;
    vouch_err e;
    int i;

    memset(&out, 0, sizeof(out));
    e = vouch_agent_tpm_open(a->conf.tcti, &tpm, eb);
    for (i = 0; !e && i < ROUND_TRIES; i++) {
        struct vouch_errbuf keep;

        memset(&out.fault, 0, sizeof(out.fault));
        e = enrol(a, tpm, now, &out, eb);
        if (!e)
            e = report(a, tpm, now, &out, eb);
        if (!e || !out.fault.code[0])
            break;                /* done, or not the service's refusal */
        keep = *eb;
        if (i + 1 == ROUND_TRIES || !recover(a, e, &out.fault, &keep))
            break;
        note_recovery(out.recovered, sizeof(out.recovered), out.fault.code);
        e = VOUCH_OK;
    }
    vouch_agent_tpm_close(tpm);
    *ret = out;
    return e;
}
