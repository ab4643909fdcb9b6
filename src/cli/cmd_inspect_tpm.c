/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vouch inspect eventlog | ima | tpmquote: offline inspection of TPM
 * evidence, printing what tpm2-tools prints where a user would compare the
 * two (tpm2_eventlog's "pcrs:" section, tpm2_checkquote's "pcrs:", "sig:"
 * and "calcDigest:" lines, tpm2_print's TPMS_ATTEST fields).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "common/codec.h"
#include "common/json.h"
#include "crypto/sig.h"
#include "evidence/tpm/eventlog.h"
#include "evidence/tpm/ima.h"
#include "evidence/tpm/quote.h"

#define MAX_FILE (256u << 20)

static int fail(vouch_err e, const struct vouch_errbuf *eb)
{
    fprintf(stderr, "vouch: %s: %s\n", vouch_err_name(e), eb->msg);
    return e == VOUCH_E_NOMEM || e == VOUCH_E_INTERNAL || e == VOUCH_E_IO ? VOUCH_EXIT_ERROR
                                                                          : VOUCH_EXIT_FAIL;
}

/* Read a file; a base64 text file (keylime's mb_log.b64) is decoded. */
static int read_input(const char *path, bool allow_b64, uint8_t **ret, size_t *ret_len)
{
    unsigned char *d;
    size_t len, i, o = 0;

    if (vouch_cli_read_file(path, MAX_FILE, &d, &len))
        return -1;
    if (allow_b64 && len >= 8) {
        for (i = 0; i < len; i++)
            if (!(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n",
                         d[i]) && d[i]))
                break;
        if (i == len) {
            uint8_t *raw;
            size_t rl;

            for (i = 0; i < len; i++)
                if (d[i] != '\n' && d[i] != '\r')
                    d[o++] = d[i];
            if (vouch_b64_decode((char *)d, o, VOUCH_B64_STD, MAX_FILE, &raw, &rl, NULL) == VOUCH_OK) {
                free(d);
                *ret = raw;
                *ret_len = rl;
                return 0;
            }
        }
    }
    *ret = d;
    *ret_len = len;
    return 0;
}

static int load_pcrs_file(const char *path, const struct vouch_tpm_pcr_select *sel,
                          struct vouch_tpm_pcrs *ret)
{
    struct vouch_errbuf eb = { "" };
    unsigned char *d;
    size_t len;
    vouch_err e;

    if (vouch_cli_read_file(path, MAX_FILE, &d, &len))
        return VOUCH_EXIT_ERROR;
    e = vouch_tpm_pcrs_load(d, len, sel, ret, &eb);
    free(d);
    if (e) {
        fprintf(stderr, "vouch: %s: %s\n", path, eb.msg);
        return VOUCH_EXIT_FAIL;
    }
    return VOUCH_EXIT_OK;
}

/* ---- inspect eventlog ---------------------------------------------------- */

/* The options of inspect eventlog. */
struct eventlog_args {
    const char *file, *pcrs;
    bool json;
    unsigned flags;                 /* VOUCH_TPM_EL_* */
};

/* Returns 0, or the usage status. */
static int parse_eventlog_args(int argc, char **argv, struct eventlog_args *ret_args)
{
    struct eventlog_args a = { NULL };
    int i;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            a.json = true;
        else if (!strcmp(argv[i], "--ebs-fixup"))
            a.flags |= VOUCH_TPM_EL_EBS_FIXUP;
        else if (!strcmp(argv[i], "--pcrs") && i + 1 < argc)
            a.pcrs = argv[++i];
        else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0) && !a.file)
            a.file = argv[i];
        else
            return vouch_cli_usage("inspect eventlog");
    }
    if (!a.file)
        return vouch_cli_usage("inspect eventlog");
    *ret_args = a;
    return VOUCH_EXIT_OK;
}

int vouch_cmd_inspect_eventlog(int argc, char **argv)
{
    struct vouch_errbuf eb = { "" };
    struct vouch_tcg_eventlog *log = NULL;
    struct vouch_tpm_pcrs replayed, quoted;
    struct vouch_buf out = VOUCH_BUF_INIT(1u << 30);
    struct eventlog_args a = { NULL };
    bool fixed = false;
    json_t *claims = NULL, *report = NULL, *rj = NULL;
    uint8_t *d = NULL;
    size_t len;
    int rc = VOUCH_EXIT_ERROR;
    vouch_err e;

    if (parse_eventlog_args(argc, argv, &a))
        return VOUCH_EXIT_USAGE;
    if (read_input(a.file, true, &d, &len))
        return VOUCH_EXIT_ERROR;
    e = vouch_tcg_eventlog_parse(d, len, VOUCH_TPM_PCR_COUNT, &log, &eb);
    if (!e)
        e = vouch_tpm_eventlog_replay(log, a.pcrs ? 0 : a.flags, &replayed, &fixed, &eb);
    if (e) {
        rc = fail(e, &eb);
        goto out;
    }
    if (a.pcrs) {
        rc = load_pcrs_file(a.pcrs, NULL, &quoted);
        if (rc)
            goto out;
        e = vouch_tpm_eventlog_verify(log, &quoted, a.flags, &report, &eb);
        if (!e && json_is_true(json_object_get(report, "ebs_fixup")))
            vouch_tpm_eventlog_replay(log, a.flags, &replayed, &fixed, NULL);
    }
    if (a.json) {
        if (vouch_tpm_eventlog_claims(log, &claims) || vouch_tpm_pcrs_to_json(&replayed, &rj) ||
            json_object_set_new(claims, "pcrs", rj) ||
            (report && json_object_set(claims, "verification", report)) ||
            json_object_set_new(claims, "ebs_fixup", json_boolean(fixed))) {
            rc = VOUCH_EXIT_ERROR;
            goto out;
        }
        rc = vouch_cli_print_json(claims);
    } else {
        json_t *sb = NULL;

        if (vouch_tpm_eventlog_format_yaml(log, &replayed, &out) ||
            vouch_tpm_eventlog_claims(log, &claims)) {
            rc = VOUCH_EXIT_ERROR;
            goto out;
        }
        fputs(vouch_buf_str(&out), stdout);
        sb = json_object_get(json_object_get(claims, "secure_boot"), "enabled");
        printf("secureBoot: %s\n", !sb ? "unknown" : json_is_true(sb) ? "enabled" : "disabled");
        if (fixed)
            printf("ebsFixup: applied\n");
        rc = VOUCH_EXIT_OK;
    }
    if (a.pcrs && e) {
        rc = fail(e, &eb);
    } else if (a.pcrs) {
        fprintf(stderr, "event log matches the %lld PCR values it extends\n",
                (long long)json_integer_value(json_object_get(report, "compared")));
    }
out:
    json_decref(claims);
    json_decref(report);
    vouch_buf_free(&out);
    vouch_tcg_eventlog_free(log);
    free(d);
    return rc;
}

/* ---- inspect ima ---------------------------------------------------------- */

static int load_policy(const char *path, struct vouch_ima_policy **ret)
{
    struct vouch_errbuf eb = { "" };
    struct vouch_ima_policy *p = NULL;
    unsigned char *d;
    size_t len, i = 0;
    vouch_err e;

    if (vouch_cli_read_file(path, MAX_FILE, &d, &len))
        return VOUCH_EXIT_ERROR;
    e = vouch_ima_policy_new(&p);
    while (i < len && (d[i] == ' ' || d[i] == '\n' || d[i] == '\t' || d[i] == '\r'))
        i++;
    if (!e && i < len && d[i] == '{') {
        json_t *j = NULL;

        e = vouch_json_parse(d, len, &j, &eb);
        if (!e)
            e = vouch_ima_policy_load_keylime(p, j, &eb);
        json_decref(j);
    } else if (!e) {
        e = vouch_ima_policy_load_allowlist(p, (const char *)d, len, &eb);
    }
    free(d);
    if (e) {
        vouch_ima_policy_free(p);
        fprintf(stderr, "vouch: %s: %s\n", path, eb.msg);
        return VOUCH_EXIT_FAIL;
    }
    *ret = p;
    return VOUCH_EXIT_OK;
}

/* The options of inspect ima. */
struct ima_args {
    const char *file, *pcrs, *policy;
    bool json, ascii, legacy;
};

/* Returns 0, or the usage status. */
static int parse_ima_args(int argc, char **argv, struct ima_args *ret_args)
{
    struct ima_args a = { NULL };
    int i;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            a.json = true;
        else if (!strcmp(argv[i], "--ascii"))
            a.ascii = true;
        else if (!strcmp(argv[i], "--legacy-banks"))
            a.legacy = true;
        else if (!strcmp(argv[i], "--pcrs") && i + 1 < argc)
            a.pcrs = argv[++i];
        else if (!strcmp(argv[i], "--policy") && i + 1 < argc)
            a.policy = argv[++i];
        else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0) && !a.file)
            a.file = argv[i];
        else
            return vouch_cli_usage("inspect ima");
    }
    if (!a.file || (a.json && a.ascii))
        return vouch_cli_usage("inspect ima");
    *ret_args = a;
    return VOUCH_EXIT_OK;
}

/* The log as the kernel's ascii_runtime_measurements. */
static int print_ima_ascii(const struct vouch_ima_log *log)
{
    struct vouch_buf out = VOUCH_BUF_INIT(1u << 30);
    int rc = VOUCH_EXIT_ERROR;

    if (!vouch_ima_format_ascii(log, &out)) {
        fputs(vouch_buf_str(&out), stdout);
        rc = VOUCH_EXIT_OK;
    }
    vouch_buf_free(&out);
    return rc;
}

/* Replay the log against the quoted PCR 10, or (quoted NULL) replay it all as verified. */
static vouch_err replay_ima_log(const struct vouch_ima_log *log,
                                const struct vouch_tpm_pcrs *quoted, unsigned flags,
                                struct vouch_ima_result *ret_res, struct vouch_errbuf *eb)
{
    struct vouch_ima_result res;
    struct vouch_ima_state st;
    size_t i;
    vouch_err e;

    if (quoted) {
        e = vouch_ima_verify(log, 0, NULL, quoted, flags, &res, eb);
    } else {
        memset(&res, 0, sizeof(res));
        e = vouch_ima_replay(log, NULL, (1u << VOUCH_HASH__COUNT) - 1, flags, &st, eb);
        res.total = res.matched = log->n;
        res.state = st;
        res.banks = st.banks;
        for (i = 0; !e && i < log->n; i++)
            res.violations += log->entries[i].violation;
    }
    if (!e)
        *ret_res = res;
    return e;
}

/* "unknown: N", then the listed files: index, reason, digest and path. */
static void print_unknown_files(const json_t *unknown, size_t nunk)
{
    size_t k;

    printf("unknown: %zu\n", nunk);
    for (k = 0; k < json_array_size(unknown); k++) {
        json_t *u = json_array_get(unknown, k);

        printf("  - %lld %s %s %s\n", (long long)json_integer_value(json_object_get(u, "index")),
               json_string_value(json_object_get(u, "reason")),
               json_string_value(json_object_get(u, "digest")),
               json_string_value(json_object_get(u, "path")));
    }
}

/* The replay as text: counts, boot_aggregate, PCR 10 per bank, then the policy's unknown files. */
static int print_ima_text(const struct ima_args *a, const struct vouch_ima_result *res,
                          const json_t *unknown, size_t nunk)
{
    struct vouch_buf out = VOUCH_BUF_INIT(1u << 30);
    struct vouch_tpm_pcrs p10;
    int h;

    vouch_tpm_pcrs_init(&p10);
    for (h = 0; h < VOUCH_HASH__COUNT; h++)
        if (res->banks >> h & 1)
            vouch_tpm_pcrs_set(&p10, (enum vouch_hash)h, VOUCH_IMA_PCR, res->state.pcr[h],
                               vouch_hash_size((enum vouch_hash)h), NULL);
    printf("entries: %zu\nverified: %zu\nviolations: %zu\n", res->total, res->matched,
           res->violations);
    printf("boot_aggregate: %s\n", res->boot_aggregate == VOUCH_IMA_BA_VERIFIED ? "verified"
                                   : res->boot_aggregate == VOUCH_IMA_BA_NOT_CHECKED
                                       ? "not checked (PCRs 0-9 not supplied)"
                                       : a->pcrs ? "absent" : "not checked");
    if (vouch_tpm_pcrs_format_yaml(&p10, VOUCH_TPM_YAML_CHECKQUOTE, &out)) {
        vouch_buf_free(&out);
        return VOUCH_EXIT_ERROR;
    }
    printf("pcrs:\n%s", vouch_buf_str(&out));
    vouch_buf_free(&out);
    if (a->policy)
        print_unknown_files(unknown, nunk);
    return VOUCH_EXIT_OK;
}

/* Print the outcome (JSON claims or text); 1 when the policy does not allow every file. */
static int print_ima_result(const struct ima_args *a, const struct vouch_ima_log *log,
                            const struct vouch_ima_result *res, json_t *unknown, size_t nunk)
{
    json_t *claims = NULL;
    int rc;

    if (a->json) {
        if (vouch_ima_claims(log, res, unknown, nunk, &claims))
            return VOUCH_EXIT_ERROR;
        rc = vouch_cli_print_json(claims);
        json_decref(claims);
    } else {
        rc = print_ima_text(a, res, unknown, nunk);
        if (rc)
            return rc;
    }
    return a->policy && nunk ? VOUCH_EXIT_FAIL : rc;
}

/* Replay a parsed log (against --pcrs), check its files against --policy, print the outcome. */
static int check_ima_log(const struct ima_args *a, const struct vouch_ima_log *log)
{
    struct vouch_errbuf eb = { "" };
    struct vouch_ima_policy *pol = NULL;
    struct vouch_ima_result res;
    struct vouch_tpm_pcrs quoted;
    json_t *unknown = NULL;
    size_t nunk = 0;
    int rc = VOUCH_EXIT_OK;
    vouch_err e;

    if (a->policy)
        rc = load_policy(a->policy, &pol);
    if (!rc && a->pcrs)
        rc = load_pcrs_file(a->pcrs, NULL, &quoted);
    if (rc)
        goto out;
    e = replay_ima_log(log, a->pcrs ? &quoted : NULL, a->legacy ? VOUCH_IMA_LEGACY_BANKS : 0,
                       &res, &eb);
    if (!e && pol) {
        unknown = json_array();
        e = vouch_ima_policy_check(pol, log, 0, res.matched, 0, unknown, 1000, &nunk, &eb);
    }
    rc = e ? fail(e, &eb) : print_ima_result(a, log, &res, unknown, nunk);
out:
    json_decref(unknown);
    vouch_ima_policy_free(pol);
    return rc;
}

int vouch_cmd_inspect_ima(int argc, char **argv)
{
    struct vouch_errbuf eb = { "" };
    struct vouch_ima_log *log = NULL;
    struct ima_args a = { NULL };
    uint8_t *d = NULL;
    size_t len;
    int rc;
    vouch_err e;

    rc = parse_ima_args(argc, argv, &a);
    if (rc)
        return rc;
    if (read_input(a.file, false, &d, &len))
        return VOUCH_EXIT_ERROR;
    e = vouch_ima_log_parse(d, len, &log, &eb);
    if (e)
        rc = fail(e, &eb);
    else if (a.ascii)
        rc = print_ima_ascii(log);
    else
        rc = check_ima_log(&a, log);
    vouch_ima_log_free(log);
    free(d);
    return rc;
}

/* ---- inspect tpmquote ------------------------------------------------------ */

static void print_hex(const char *label, const uint8_t *p, size_t n)
{
    size_t i;

    printf("%s", label);
    for (i = 0; i < n; i++)
        printf("%02x", p[i]);
    printf("\n");
}

/* The quote's fields as tpm2_print -t TPMS_ATTEST prints them (firmwareVersion as a number). */
static void print_attest(const struct vouch_tpm_quote *q)
{
    uint32_t b;

    printf("magic: ff544347\ntype: 8018\n");
    print_hex("qualifiedSigner: ", q->signer, q->signer_len);
    print_hex("extraData: ", q->extra, q->extra_len);
    printf("clockInfo:\n  clock: %llu\n  resetCount: %u\n  restartCount: %u\n  safe: %u\n",
           (unsigned long long)q->clock, q->reset_count, q->restart_count, q->safe);
    printf("firmwareVersion: %016llx\n", (unsigned long long)q->firmware_version);
    printf("attested:\n  quote:\n    pcrSelect:\n      count: %u\n      pcrSelections:\n",
           q->select.count);
    for (b = 0; b < q->select.count; b++) {
        const char *n = vouch_tpm_alg_name(q->select.bank[b].alg);
        uint32_t m = q->select.bank[b].mask;

        printf("        %u:\n          hash: %u (%s)\n          sizeofSelect: 3\n"
               "          pcrSelect: %02x%02x%02x\n", b, q->select.bank[b].alg, n ? n : "?",
               m & 0xff, m >> 8 & 0xff, m >> 16 & 0xff);
    }
    print_hex("    pcrDigest: ", q->pcr_digest, q->pcr_digest_len);
}

static void print_sig(const struct vouch_tpm_quote *q)
{
    uint8_t rs[132], *der = NULL;
    size_t half, slen, dlen;

    if (q->sig_alg != VOUCH_TPM_ALG_ECDSA) {
        print_hex("sig: ", q->sig, q->sig_len);
        return;
    }
    /* tpm2_checkquote prints ECDSA signatures DER-encoded */
    slen = q->sig_len - q->sig_r_len;
    half = q->sig_r_len > slen ? q->sig_r_len : slen;
    memset(rs, 0, sizeof(rs));
    memcpy(rs + half - q->sig_r_len, q->sig, q->sig_r_len);
    memcpy(rs + 2 * half - slen, q->sig + q->sig_r_len, slen);
    if (vouch_ecdsa_raw_to_der(rs, 2 * half, &der, &dlen) == VOUCH_OK)
        print_hex("sig: ", der, dlen);
    OPENSSL_free(der);
}

/* The options of inspect tpmquote. */
struct tpmquote_args {
    const char *ak, *quote, *sig, *pcrs, *nonce_hex;
    bool json;
    unsigned flags;                 /* VOUCH_TPM_QUOTE_* */
};

/* Returns 0, or the usage status. */
static int parse_tpmquote_args(int argc, char **argv, struct tpmquote_args *ret_args)
{
    struct tpmquote_args a = { NULL };
    int i;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            a.json = true;
        else if (!strcmp(argv[i], "--allow-sha1"))
            a.flags |= VOUCH_TPM_QUOTE_ALLOW_SHA1;
        else if (i + 1 < argc && !strcmp(argv[i], "--ak"))
            a.ak = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--quote"))
            a.quote = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--sig"))
            a.sig = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--pcrs"))
            a.pcrs = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--nonce"))
            a.nonce_hex = argv[++i];
        else
            return vouch_cli_usage("inspect tpmquote");
    }
    if (!a.ak || !a.quote || !a.sig)
        return vouch_cli_usage("inspect tpmquote");
    *ret_args = a;
    return VOUCH_EXIT_OK;
}

/* The AK, the TPMS_ATTEST and the TPMT_SIGNATURE: the files' bytes and what they parse to. */
struct tpmquote_files {
    unsigned char *akd, *qd, *sd;
    size_t akl, ql, sl;
    struct vouch_tpm_key *ak;
    struct vouch_tpm_quote q;
};

/* Free what load_tpmquote_files() read and parsed; NULL is fine. */
static void tpmquote_files_free(struct tpmquote_files *f)
{
    if (!f)
        return;
    vouch_tpm_key_free(f->ak);
    free(f->akd);
    free(f->qd);
    free(f->sd);
}

/* Read --ak, --quote and --sig and parse them; 0, or the exit status after saying why. */
static int load_tpmquote_files(const struct tpmquote_args *a, struct tpmquote_files *ret_files)
{
    struct vouch_errbuf eb = { "" };
    struct tpmquote_files f = { NULL };
    int rc = VOUCH_EXIT_ERROR;
    vouch_err e;

    if (vouch_cli_read_file(a->ak, MAX_FILE, &f.akd, &f.akl) ||
        vouch_cli_read_file(a->quote, MAX_FILE, &f.qd, &f.ql) ||
        vouch_cli_read_file(a->sig, MAX_FILE, &f.sd, &f.sl))
        goto out;
    e = vouch_tpm_key_load(f.akd, f.akl, 0, &f.ak, &eb);
    if (e) {
        vouch_fail_prefix(&eb, e, "%s: ", a->ak);
    } else {
        e = vouch_tpm_quote_parse(f.qd, f.ql, &f.q, &eb);
        if (!e)
            e = vouch_tpm_signature_parse(f.sd, f.sl, &f.q, &eb);
    }
    rc = e ? fail(e, &eb) : VOUCH_EXIT_OK;
out:
    if (rc)
        tpmquote_files_free(&f);
    else
        *ret_files = f;
    return rc;
}

/* The quote's claims with "verified"; an error status when they cannot be built. */
static int print_tpmquote_json(const struct vouch_tpm_quote *q, const struct vouch_tpm_key *ak,
                               const struct vouch_tpm_pcrs *pcrs, bool verified)
{
    json_t *claims = NULL;
    int rc = VOUCH_EXIT_ERROR;

    if (!vouch_tpm_quote_claims(q, ak, pcrs, &claims) &&
        !json_object_set_new(claims, "verified", json_boolean(verified))) {
        vouch_cli_print_json(claims);
        rc = VOUCH_EXIT_OK;
    }
    json_decref(claims);
    return rc;
}

/* The quote as tpm2_print and tpm2_checkquote show it; with PCRs, their values and calcDigest. */
static int print_tpmquote_text(const struct vouch_tpm_quote *q, const struct vouch_tpm_pcrs *pcrs)
{
    struct vouch_buf out = VOUCH_BUF_INIT(1u << 20);
    uint8_t digest[VOUCH_HASH_MAX_SIZE];
    int h = vouch_tcg_alg_hash(q->sig_hash);

    print_attest(q);
    if (pcrs) {
        if (vouch_tpm_pcrs_format_yaml(pcrs, VOUCH_TPM_YAML_CHECKQUOTE, &out)) {
            vouch_buf_free(&out);
            return VOUCH_EXIT_ERROR;
        }
        printf("pcrs:\n%s", vouch_buf_str(&out));
        vouch_buf_free(&out);
    }
    print_sig(q);
    if (pcrs && h >= 0 &&
        vouch_tpm_pcr_digest(&q->select, pcrs, (enum vouch_hash)h, digest, NULL) == VOUCH_OK)
        print_hex("calcDigest: ", digest, vouch_hash_size((enum vouch_hash)h));
    return VOUCH_EXIT_OK;
}

int vouch_cmd_inspect_tpmquote(int argc, char **argv)
{
    struct vouch_errbuf eb = { "" };
    struct tpmquote_args a = { NULL };
    struct tpmquote_files f = { NULL };
    struct vouch_tpm_quote_check chk = { NULL, 0, NULL, NULL, 0, 0 };
    struct vouch_tpm_pcrs pcrs;
    uint8_t *nonce = NULL;
    size_t nl = 0;
    int rc;
    vouch_err e;

    rc = parse_tpmquote_args(argc, argv, &a);
    if (rc)
        return rc;
    if (a.nonce_hex && vouch_hex_decode(a.nonce_hex, strlen(a.nonce_hex), 64, &nonce, &nl, &eb)) {
        fprintf(stderr, "vouch: --nonce: %s\n", eb.msg);
        return VOUCH_EXIT_USAGE;
    }
    chk.nonce = nonce;
    chk.nonce_len = nl;
    chk.flags = a.flags;
    rc = load_tpmquote_files(&a, &f);
    if (!rc && a.pcrs)
        rc = load_pcrs_file(a.pcrs, &f.q.select, &pcrs);
    if (rc)
        goto out;
    chk.pcrs = a.pcrs ? &pcrs : NULL;
    e = vouch_tpm_quote_verify(f.ak, f.qd, f.ql, f.sd, f.sl, &chk, &f.q, &eb);
    rc = a.json ? print_tpmquote_json(&f.q, f.ak, chk.pcrs, !e)
                : print_tpmquote_text(&f.q, chk.pcrs);
    if (!rc && e)
        rc = fail(e, &eb);
    else if (!rc)
        fprintf(stderr, "quote verified: signature%s%s\n", nonce ? ", nonce" : "",
                a.pcrs ? ", pcrDigest" : "");
out:
    tpmquote_files_free(&f);
    free(nonce);
    return rc;
}
