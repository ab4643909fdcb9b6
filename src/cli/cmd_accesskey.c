/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vouch accesskey create|list|disable: AccessKey pairs of the vTPM
 * service's accounts, directly in the store (what POST/GET/DELETE
 * /admin/accesskeys do through vouchd).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "common/time.h"
#include "store/store.h"
#include "token/accesskey.h"

/* --db, --kek-file and --account NAME; the remaining argument in *ret_arg. */
static int parse(int argc, char **argv, const char *cmd, const char **db,
                 const char **kek_file, const char **account, const char **ret_arg)
{
    int i = 1, next;

    while (i < argc) {
        next = vouch_cli_db_opt(argc, argv, i, db);
        if (next == i && kek_file)
            next = vouch_cli_kek_opt(argc, argv, i, kek_file);
        if (next < 0)
            return vouch_cli_usage(cmd);
        if (next != i) {
            i = next;
            continue;
        }
        if (account && strcmp(argv[i], "--account") == 0 && i + 1 < argc) {
            *account = argv[i + 1];
            i += 2;
            continue;
        }
        if (ret_arg && !*ret_arg && argv[i][0] != '-') {
            *ret_arg = argv[i++];
            continue;
        }
        return vouch_cli_usage(cmd);
    }
    return 0;
}

int vouch_cmd_accesskey_create(int argc, char **argv)
{
    const char *db = vouch_cli_default_db(), *kek_file = vouch_cli_default_kek_file();
    const char *account = NULL;
    char id[VOUCH_ACCESSKEY_ID_LEN + 1], secret[VOUCH_ACCESSKEY_SECRET_LEN + 1];
    const struct vouch_kek *kek = NULL;
    struct vouch_store *s = NULL;
    struct vouch_kek kek_buf;
    struct vouch_errbuf eb;
    int rc;

    memset(&kek_buf, 0, sizeof(kek_buf));
    rc = parse(argc, argv, "accesskey create", &db, &kek_file, NULL, &account);
    if (rc)
        return rc;
    if (!account)
        return vouch_cli_usage("accesskey create");
    rc = vouch_cli_load_kek(kek_file, &kek_buf, &kek);
    if (!rc)
        rc = vouch_cli_store_open(db, VOUCH_CLI_STORE_CREATE, &s);
    if (!rc && vouch_accesskey_create(s, kek, account, vouch_clock_now() * 1000, id, secret,
                                      &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        rc = VOUCH_EXIT_ERROR;
    }
    if (!rc) {
        printf("{\"Account\": \"%s\", \"AccessKeyId\": \"%s\", \"AccessKeySecret\": \"%s\"}\n",
               account, id, secret);
        fprintf(stderr, "vouch: keep the secret now: it is not shown again\n");
    }
    if (s)
        vouch_cli_audit(s, "cli accesskey create", rc ? account : id, rc);
    OPENSSL_cleanse(secret, sizeof(secret));
    vouch_store_close(s);
    vouch_kek_wipe(&kek_buf);
    return rc;
}

int vouch_cmd_accesskey_list(int argc, char **argv)
{
    const char *db = vouch_cli_default_db(), *account = NULL;
    struct vouch_store_accesskey *k = NULL;
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;
    char created[VOUCH_RFC3339_LEN];
    size_t n = 0, i;
    int rc;

    rc = parse(argc, argv, "accesskey list", &db, NULL, &account, NULL);
    if (!rc)
        rc = vouch_cli_store_open(db, VOUCH_CLI_STORE_EXISTING, &s);
    if (rc)
        return rc;
    if (vouch_store_accesskey_list(s, account, &k, &n, &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        vouch_store_close(s);
        return VOUCH_EXIT_ERROR;
    }
    printf("%-24s %-24s %-8s %s\n", "ACCESSKEYID", "ACCOUNT", "STATE", "CREATED");
    for (i = 0; i < n; i++) {
        vouch_time_format_rfc3339(k[i].created_ms / 1000, created);
        printf("%-24s %-24s %-8s %s\n", k[i].id, k[i].account,
               k[i].enabled ? "enabled" : "disabled", created);
    }
    vouch_store_accesskeys_free(k, n);
    vouch_store_close(s);
    return VOUCH_EXIT_OK;
}

int vouch_cmd_accesskey_disable(int argc, char **argv)
{
    const char *db = vouch_cli_default_db(), *id = NULL;
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;
    int rc;

    rc = parse(argc, argv, "accesskey disable", &db, NULL, NULL, &id);
    if (!rc && !id)
        return vouch_cli_usage("accesskey disable");
    if (!rc)
        rc = vouch_cli_store_open(db, VOUCH_CLI_STORE_EXISTING, &s);
    if (!rc && vouch_store_accesskey_disable(s, id, &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        rc = VOUCH_EXIT_ERROR;
    }
    vouch_cli_audit(s, "cli accesskey disable", id, rc);
    vouch_store_close(s);
    return rc;
}
