/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "common/time.h"
#include "store/store.h"
#include "token/keyring.h"
#include "token/secrets.h"

/*
 * Options shared by the commands that open the store: --db URL (default
 * $VOUCH_DB, then sqlite:./var/vouch.db).  Returns the index of the first
 * argument it did not consume, or -1 on a usage error.
 */
int vouch_cli_db_opt(int argc, char **argv, int i, const char **db)
{
    if (strcmp(argv[i], "--db") == 0) {
        if (i + 1 >= argc)
            return -1;
        *db = argv[i + 1];
        return i + 2;
    }
    if (strncmp(argv[i], "--db=", 5) == 0) {
        *db = argv[i] + 5;
        return i + 1;
    }
    return i;
}

const char *vouch_cli_default_db(void)
{
    const char *env = getenv("VOUCH_DB");

    return env && *env ? env : "sqlite:./var/vouch.db";
}

/* --kek-file FILE (default $VOUCH_KEK_FILE), as --db above. */
int vouch_cli_kek_opt(int argc, char **argv, int i, const char **kek_file)
{
    if (strcmp(argv[i], "--kek-file") == 0) {
        if (i + 1 >= argc)
            return -1;
        *kek_file = argv[i + 1];
        return i + 2;
    }
    if (strncmp(argv[i], "--kek-file=", 11) == 0) {
        *kek_file = argv[i] + 11;
        return i + 1;
    }
    return i;
}

const char *vouch_cli_default_kek_file(void)
{
    const char *env = getenv("VOUCH_KEK_FILE");

    return env && *env ? env : NULL;
}

int vouch_cli_load_kek(const char *path, struct vouch_kek *kek, const struct vouch_kek **ret)
{
    struct vouch_errbuf eb;

    *ret = NULL;
    if (!path)
        return 0;
    if (vouch_kek_load_file(path, kek, &eb)) {
        fprintf(stderr, "vouch: KEK: %s\n", eb.msg);
        return VOUCH_EXIT_ERROR;
    }
    *ret = kek;
    return 0;
}

bool vouch_cli_db_exists(const char *db, const char *what)
{
    if (strncmp(db, "sqlite:", 7) != 0 || access(db + 7, F_OK) == 0)
        return true;
    fprintf(stderr, "vouch: %sno database at %s (vouchd or vouch db migrate creates it)\n",
            what, db + 7);
    return false;
}

int vouch_cli_store_open(const char *db, enum vouch_cli_store_mode mode,
                         struct vouch_store **ret)
{
    struct vouch_errbuf eb;

    if (mode == VOUCH_CLI_STORE_EXISTING && !vouch_cli_db_exists(db, ""))
        return VOUCH_EXIT_ERROR;
    if (vouch_store_open(db, ret, &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        return VOUCH_EXIT_ERROR;
    }
    return 0;
}

int vouch_cmd_keys_rotate(int argc, char **argv)
{
    const char *db = vouch_cli_default_db(), *alg = "all";
    const char *kek_file = vouch_cli_default_kek_file();
    const struct vouch_kek *kek = NULL;
    struct vouch_store *s = NULL;
    struct vouch_kek kek_buf;
    struct vouch_errbuf eb;
    int i = 1, next, rc;
    size_t a;

    while (i < argc) {
        next = vouch_cli_db_opt(argc, argv, i, &db);
        if (next == i)
            next = vouch_cli_kek_opt(argc, argv, i, &kek_file);
        if (next < 0)
            return vouch_cli_usage("keys rotate");
        if (next != i) {
            i = next;
            continue;
        }
        if (strcmp(argv[i], "--alg") == 0 && i + 1 < argc) {
            alg = argv[i + 1];
            i += 2;
            continue;
        }
        return vouch_cli_usage("keys rotate");
    }
    if (strcmp(alg, "all") && strcmp(alg, "RS256") && strcmp(alg, "ES256")) {
        fprintf(stderr, "vouch: --alg must be RS256, ES256 or all\n");
        return VOUCH_EXIT_USAGE;
    }
    rc = vouch_cli_load_kek(kek_file, &kek_buf, &kek);
    if (!rc)
        rc = vouch_cli_store_open(db, VOUCH_CLI_STORE_CREATE, &s);
    if (rc)
        return rc;
    for (a = 0; a < sizeof(vouch_keyring_algs) / sizeof(vouch_keyring_algs[0]); a++) {
        enum vouch_jws_alg ja = vouch_keyring_algs[a];
        char kid[VOUCH_JWK_THUMBPRINT_LEN];

        if (strcmp(alg, "all") && strcmp(alg, vouch_jws_alg_name(ja)))
            continue;
        if (vouch_keyring_rotate(s, kek, ja, vouch_clock_now(), kid, &eb)) {
            fprintf(stderr, "vouch: rotating %s: %s\n", vouch_jws_alg_name(ja), eb.msg);
            rc = VOUCH_EXIT_ERROR;
            break;
        }
        printf("%s %s\n", vouch_jws_alg_name(ja), kid);
    }
    if (!rc)
        fprintf(stderr, "vouch: new keys sign from now on (running servers pick them up "
                        "within %u s); old keys stay in the JWKS until their tokens expire\n",
                VOUCH_KEYRING_RELOAD_SECONDS);
    vouch_cli_audit(s, "cli keys rotate", alg, rc);
    vouch_store_close(s);
    vouch_kek_wipe(&kek_buf);
    return rc;
}

/* One of rewrap's KEK flags: --old-kek FILE or --new-kek FILE. */
static int kek_flag(int argc, char **argv, int i, const char *flag, const char **ret)
{
    size_t n = strlen(flag);

    if (strcmp(argv[i], flag) == 0 && i + 1 < argc) {
        *ret = argv[i + 1];
        return i + 2;
    }
    if (strncmp(argv[i], flag, n) == 0 && argv[i][n] == '=') {
        *ret = argv[i] + n + 1;
        return i + 1;
    }
    return i;
}

/*
 * vouch keys rewrap: re-wrap every stored secret under the new KEK, in one
 * transaction.  Without --old-kek only clear secrets are wrapped; without
 * --new-kek the secrets are unwrapped back to clear.
 */
int vouch_cmd_keys_rewrap(int argc, char **argv)
{
    const char *db = vouch_cli_default_db(), *old_file = NULL, *new_file = NULL;
    const struct vouch_kek *old_kek = NULL, *new_kek = NULL;
    struct vouch_kek old_buf, new_buf;
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;
    int i = 1, next, rc;
    size_t changed = 0;

    while (i < argc) {
        next = vouch_cli_db_opt(argc, argv, i, &db);
        if (next == i)
            next = kek_flag(argc, argv, i, "--old-kek", &old_file);
        if (next == i)
            next = kek_flag(argc, argv, i, "--new-kek", &new_file);
        if (next <= i)
            return vouch_cli_usage("keys rewrap");
        i = next;
    }
    if (!old_file && !new_file) {
        fprintf(stderr, "vouch: give --old-kek, --new-kek or both\n");
        return vouch_cli_usage("keys rewrap");
    }
    memset(&old_buf, 0, sizeof(old_buf));
    memset(&new_buf, 0, sizeof(new_buf));
    rc = vouch_cli_load_kek(old_file, &old_buf, &old_kek);
    if (!rc)
        rc = vouch_cli_load_kek(new_file, &new_buf, &new_kek);
    if (!rc)
        rc = vouch_cli_store_open(db, VOUCH_CLI_STORE_EXISTING, &s);
    if (!rc && vouch_secrets_rewrap(s, old_kek, new_kek, &changed, &eb)) {
        fprintf(stderr, "vouch: nothing changed: %s\n", eb.msg);
        rc = VOUCH_EXIT_ERROR;
    }
    if (!rc)
        fprintf(stderr, "vouch: %zu secret(s) %s; restart vouchd with %s\n", changed,
                new_kek ? "wrapped under the new KEK" : "stored in clear",
                new_kek ? "the new --kek-file" : "no --kek-file");
    if (!rc && new_kek)
        printf("%s\n", new_kek->id_hex);
    /* The target is the KEK the secrets are now under ("clear" without one). */
    vouch_cli_audit(s, "cli keys rewrap", new_kek ? new_kek->id_hex : "clear", rc);
    vouch_store_close(s);
    vouch_kek_wipe(&old_buf);
    vouch_kek_wipe(&new_buf);
    return rc;
}

int vouch_cmd_keys_list(int argc, char **argv)
{
    const char *db = vouch_cli_default_db();
    struct vouch_store_key *keys = NULL;
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;
    char created[VOUCH_RFC3339_LEN], retired[VOUCH_RFC3339_LEN];
    size_t n = 0, k;
    int i = 1, next, rc;

    while (i < argc) {
        next = vouch_cli_db_opt(argc, argv, i, &db);
        if (next <= i)
            return vouch_cli_usage("keys list");
        i = next;
    }
    rc = vouch_cli_store_open(db, VOUCH_CLI_STORE_EXISTING, &s);
    if (rc)
        return rc;
    if (vouch_store_keys_list(s, &keys, &n, &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        vouch_store_close(s);
        return VOUCH_EXIT_ERROR;
    }
    printf("%-6s %-44s %-21s %-21s %s\n", "ALG", "KID", "CREATED", "RETIRED", "STORED");
    for (k = 0; k < n; k++) {
        char kek_id[VOUCH_KEK_ID_HEX_LEN + 1], stored[32];

        vouch_time_format_rfc3339(keys[k].created_at, created);
        if (keys[k].retired_at)
            vouch_time_format_rfc3339(keys[k].retired_at, retired);
        if (!vouch_kek_is_wrapped(keys[k].private_pem))
            snprintf(stored, sizeof(stored), "clear");
        else if (vouch_kek_wrapped_id(keys[k].private_pem, kek_id, NULL))
            snprintf(stored, sizeof(stored), "wrapped (unreadable)");
        else
            snprintf(stored, sizeof(stored), "kek %s", kek_id);
        printf("%-6s %-44s %-21s %-21s %s\n", keys[k].alg, keys[k].kid, created,
               keys[k].retired_at ? retired : "(active)", stored);
    }
    vouch_store_keys_free(keys, n);
    vouch_store_close(s);
    return VOUCH_EXIT_OK;
}
