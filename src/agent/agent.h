/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_AGENT_H
#define VOUCH_AGENT_H
/*
 * vouch-agent, the vTPM reporting agent (docs/agent.md): its configuration,
 * its state in --state-dir, the retry schedule, the enrolment blobs and the
 * FileData of a report.  The functions of this header are pure (no I/O, no
 * clock, no logging) so the unit tests drive them with tables; the TPM is
 * agent_tpm.h, the service agent_rpc.h, the program main.c.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evidence/tpm/tpm.h"
#include "vouch/err.h"

/* ---- configuration (command line over config file over defaults) ---- */

#define VOUCH_AGENT_DEFAULT_STATE_DIR "/var/lib/vouch-agent"
#define VOUCH_AGENT_DEFAULT_EVENTLOG "/sys/kernel/security/tpm0/binary_bios_measurements"
#define VOUCH_AGENT_DEFAULT_IMA_LOG "/sys/kernel/security/ima/binary_runtime_measurements"
#define VOUCH_AGENT_DEFAULT_PCRS "sha1:0-10+sha256:0-10"
#define VOUCH_AGENT_DEFAULT_INTERVAL (30 * 60)
#define VOUCH_AGENT_DEFAULT_CONFIG "/etc/vouch/agent.toml"
#define VOUCH_AGENT_MAX_INTERVAL (7 * 24 * 3600)

/* The settings a config file or the command line may give; NULL/0: not given. */
struct vouch_agent_conf {
    char *server;
    char *access_key_id;
    char *access_key_secret;
    char *uuid;
    char *tcti;
    char *state_dir;
    char *eventlog;
    char *ima_log;
    char *pcrs;
    char *name;                  /* PropertyName sent with RegisterMessage */
    uint32_t ak_handle;
    int64_t interval;            /* seconds */
};

void vouch_agent_conf_free(struct vouch_agent_conf *c);

/*
 * A config file's text (TOML): keys server, access_key_id,
 * access_key_secret, uuid, tcti, state_dir, eventlog, ima_log, pcrs, name
 * (strings), ak_handle (an integer or "0x81010003"), interval (seconds, or
 * a string "30m", "1h", "45s"); eventlog and ima_log may be "" (not sent).
 * Unknown keys are an error naming the key.
 * Fills the fields of *c that are still unset.
 */
vouch_err vouch_agent_conf_parse(const char *text, size_t len, struct vouch_agent_conf *c,
                                 struct vouch_errbuf *eb);

/* "90", "90s", "15m", "2h", "1d" to seconds, 1..VOUCH_AGENT_MAX_INTERVAL. */
vouch_err vouch_agent_parse_duration(const char *s, int64_t *ret, struct vouch_errbuf *eb);

/* A persistent handle "0x81010003" (or decimal) in 0x81000000..0x81ffffff. */
vouch_err vouch_agent_parse_handle(const char *s, uint32_t *ret, struct vouch_errbuf *eb);

/* ---- state kept in --state-dir/state.json across runs ---- */

#define VOUCH_AGENT_STATE_MAX (64u << 10)
#define VOUCH_AGENT_UUID_MAX 128

struct vouch_agent_state {
    char uuid[VOUCH_AGENT_UUID_MAX + 1];     /* the PropertyUuid used; "" before the first run */
    bool registered;                 /* RegisterMessage succeeded for uuid */
    uint32_t ak_handle;              /* where the AK lives; 0: no AK */
    uint8_t ak_name[66];             /* its Name, to recognise it */
    size_t ak_name_len;
    char *ak_cert;                   /* PEM of the AK certificate (owned), or NULL */
    bool ak_active;                  /* the service accepted a report carrying ak_cert */
    uint64_t ima_next;               /* the service's nextClientIMAIndex */
    char boot_id[40];                /* the kernel's boot id when ima_next was set */
};

void vouch_agent_state_init(struct vouch_agent_state *s);
void vouch_agent_state_done(struct vouch_agent_state *s);

/* Forget the enrolment (the service lost the AK or the instance). */
void vouch_agent_state_forget_ak(struct vouch_agent_state *s);

vouch_err vouch_agent_state_parse(const char *text, size_t len, struct vouch_agent_state *ret,
                                  struct vouch_errbuf *eb);
/* The state as JSON text (malloc'd, NUL-terminated). */
vouch_err vouch_agent_state_format(const struct vouch_agent_state *s, char **ret,
                                   struct vouch_errbuf *eb);

/* ---- schedule ---- */

#define VOUCH_AGENT_RETRY_BASE 15    /* seconds after the first failure */
#define VOUCH_AGENT_FIRST_DELAY_MAX 60

/*
 * Seconds to wait after `failures` (>= 1) failed rounds in a row: an
 * exponential backoff from VOUCH_AGENT_RETRY_BASE doubled per failure,
 * capped at `cap`, with "equal jitter" (half fixed, half from rnd).
 */
int64_t vouch_agent_backoff(unsigned failures, int64_t cap, uint32_t rnd);

/* The random delay before the first report: 0..min(interval, VOUCH_AGENT_FIRST_DELAY_MAX). */
int64_t vouch_agent_first_delay(int64_t interval, uint32_t rnd);

/* ---- enrolment ---- */

#define VOUCH_AGENT_PEM_MAX (64u << 10)

/*
 * Decrypt a DataCredentialBlob (u32 big-endian ciphertext length | 16-byte
 * IV | AES-128-CBC ciphertext, PKCS#7 padding) with the 16-byte secret
 * TPM2_ActivateCredential recovered.  *ret is the plain text (PEM),
 * malloc'd and NUL-terminated.
 */
vouch_err vouch_agent_data_credential_decrypt(const uint8_t *key, size_t key_len,
                                              const uint8_t *blob, size_t len, char **ret,
                                              size_t *ret_len, struct vouch_errbuf *eb);

/*
 * The first certificate of a PEM text, verbatim from "-----BEGIN
 * CERTIFICATE-----" to the end of its END line (malloc'd), after checking
 * that its public key is the AK's (`ak_public`: TPM2B_PUBLIC).
 */
vouch_err vouch_agent_ak_cert_pick(const char *pem, size_t len, const uint8_t *ak_public,
                                   size_t ak_public_len, char **ret, struct vouch_errbuf *eb);

/* ---- reports ---- */

/*
 * Which entries of a binary IMA log to send when the service expects
 * index `next`: *ret_start is `next`, or 0 when the log holds fewer
 * entries (it restarted: a reboot); *ret_off is the byte offset of that
 * entry; *ret_count the number of entries in the log.
 */
vouch_err vouch_agent_ima_slice(const uint8_t *log, size_t len, uint64_t next,
                                uint64_t *ret_start, size_t *ret_off, uint64_t *ret_count,
                                struct vouch_errbuf *eb);

/* What one report carries (docs/vtpm.md, FileData version 1). */
struct vouch_agent_report {
    const char *nonce_hex;
    const uint8_t *attest;
    size_t attest_len;
    const uint8_t *sig;
    size_t sig_len;
    const struct vouch_tpm_pcrs *pcrs;
    const uint8_t *eventlog;         /* NULL: not sent */
    size_t eventlog_len;
    const uint8_t *ima;              /* NULL: no "ima" member; else entries from ima_start */
    size_t ima_len;
    uint64_t ima_start;
    const char *ak_cert;             /* NULL: omitted (the AK is active) */
};

/* FileData: standard base64 of the report's JSON (malloc'd, NUL-terminated). */
vouch_err vouch_agent_filedata(const struct vouch_agent_report *r, char **ret,
                               struct vouch_errbuf *eb);

#endif
