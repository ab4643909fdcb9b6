/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "common/time.h"
#include "store/store.h"
#include "token/keyring.h"

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

static int open_store(const char *db, struct vouch_store **ret)
{
    struct vouch_errbuf eb;

    if (vouch_store_open(db, ret, &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        return VOUCH_EXIT_ERROR;
    }
    return 0;
}

int vouch_cmd_keys_rotate(int argc, char **argv)
{
    const char *db = vouch_cli_default_db(), *alg = "all";
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;
    int i = 1, next, rc;
    size_t a;

    while (i < argc) {
        next = vouch_cli_db_opt(argc, argv, i, &db);
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
    rc = open_store(db, &s);
    if (rc)
        return rc;
    for (a = 0; a < sizeof(vouch_keyring_algs) / sizeof(vouch_keyring_algs[0]); a++) {
        enum vouch_jws_alg ja = vouch_keyring_algs[a];
        char kid[VOUCH_JWK_THUMBPRINT_LEN];

        if (strcmp(alg, "all") && strcmp(alg, vouch_jws_alg_name(ja)))
            continue;
        if (vouch_keyring_rotate(s, ja, vouch_clock_now(), kid, &eb)) {
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
    vouch_store_close(s);
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
    rc = open_store(db, &s);
    if (rc)
        return rc;
    if (vouch_store_keys_list(s, &keys, &n, &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        vouch_store_close(s);
        return VOUCH_EXIT_ERROR;
    }
    printf("%-6s %-44s %-21s %s\n", "ALG", "KID", "CREATED", "RETIRED");
    for (k = 0; k < n; k++) {
        vouch_time_format_rfc3339(keys[k].created_at, created);
        if (keys[k].retired_at)
            vouch_time_format_rfc3339(keys[k].retired_at, retired);
        printf("%-6s %-44s %-21s %s\n", keys[k].alg, keys[k].kid, created,
               keys[k].retired_at ? retired : "(active)");
    }
    vouch_store_keys_free(keys, n);
    vouch_store_close(s);
    return VOUCH_EXIT_OK;
}
