/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "common/json.h"
#include "common/time.h"
#include "crypto/kek.h"
#include "store/store.h"
#include "token/keyring.h"

#define CLAIMS_MAX (1u << 20)

/*
 * vouch token sign: sign a claims file with the service's active key, as
 * vouchd would.  iat/nbf/exp are added when the claims lack them.  Meant for
 * tests and tooling that need a token Vouch signed.
 */
struct sign_args {
    const char *db, *kek_file, *file;
    int alg;
    long long lifetime;
};

/* Returns 0, or the exit status after saying why. */
static int parse_sign_args(int argc, char **argv, struct sign_args *a)
{
    const char *alg_name = "RS256";
    char *end;
    int i = 1, next;

    while (i < argc) {
        next = vouch_cli_db_opt(argc, argv, i, &a->db);
        if (next == i)
            next = vouch_cli_kek_opt(argc, argv, i, &a->kek_file);
        if (next < 0)
            return vouch_cli_usage("token sign");
        if (next != i) {
            i = next;
        } else if (strcmp(argv[i], "--alg") == 0 && i + 1 < argc) {
            alg_name = argv[i + 1];
            i += 2;
        } else if (strcmp(argv[i], "--lifetime") == 0 && i + 1 < argc) {
            a->lifetime = strtoll(argv[i + 1], &end, 10);
            if (*end || a->lifetime <= 0) {
                fprintf(stderr, "vouch: --lifetime must be a positive number of seconds\n");
                return VOUCH_EXIT_USAGE;
            }
            i += 2;
        } else if (!a->file && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)) {
            a->file = argv[i++];
        } else {
            return vouch_cli_usage("token sign");
        }
    }
    a->alg = vouch_jws_alg_from_name(alg_name);
    if (a->file && a->alg != VOUCH_JWS_RS256 && a->alg != VOUCH_JWS_ES256)
        fprintf(stderr, "vouch: --alg must be RS256 or ES256\n");
    if (!a->file || (a->alg != VOUCH_JWS_RS256 && a->alg != VOUCH_JWS_ES256))
        return vouch_cli_usage("token sign");
    return 0;
}

/* The claims object of the file, iat, nbf and exp filled in when absent. */
static int read_claims(const struct sign_args *a, int64_t now, json_t **ret)
{
    struct vouch_errbuf eb;
    unsigned char *text = NULL;
    json_t *claims = NULL;
    int64_t exp;
    size_t len;
    int rc = VOUCH_EXIT_USAGE;

    if (vouch_cli_read_file(a->file, CLAIMS_MAX, &text, &len))
        return VOUCH_EXIT_ERROR;
    if (vouch_json_parse(text, len, &claims, &eb) || !json_is_object(claims)) {
        fprintf(stderr, "vouch: %s: %s\n", a->file,
                claims ? "claims must be a JSON object" : eb.msg);
        goto out;
    }
    if (!json_object_get(claims, "iat"))
        vouch_json_set_int(claims, "iat", now);
    if (!json_object_get(claims, "nbf"))
        vouch_json_set_int(claims, "nbf", now);
    if (!json_object_get(claims, "exp")) {
        if (__builtin_add_overflow(now, a->lifetime, &exp)) {
            fprintf(stderr, "vouch: --lifetime is too large\n");
            goto out;
        }
        vouch_json_set_int(claims, "exp", exp);
    }
    *ret = claims;
    claims = NULL;
    rc = 0;
out:
    json_decref(claims);
    free(text);
    return rc;
}

int vouch_cmd_token_sign(int argc, char **argv)
{
    struct sign_args a = { vouch_cli_default_db(), vouch_cli_default_kek_file(), NULL, 0,
                           21600 };
    const struct vouch_kek *kek = NULL;
    struct vouch_kek kek_buf = { { 0 } };
    struct vouch_keyring *kr = NULL;
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;
    json_t *claims = NULL;
    char *tok = NULL;
    size_t len;
    int64_t now = vouch_clock_now();
    int rc = parse_sign_args(argc, argv, &a);

    if (!rc)
        rc = read_claims(&a, now, &claims);
    if (!rc)
        rc = vouch_cli_load_kek(a.kek_file, &kek_buf, &kek);
    if (!rc)
        rc = vouch_cli_store_open(a.db, VOUCH_CLI_STORE_EXISTING, &s);
    if (rc)
        goto out;
    rc = VOUCH_EXIT_ERROR;
    if (vouch_keyring_ensure(s, kek, now, &eb) || vouch_keyring_load(s, kek, now, 0, &kr, &eb) ||
        vouch_keyring_sign(kr, (enum vouch_jws_alg)a.alg, claims, CLAIMS_MAX * 2, &tok, &len,
                           &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
    } else {
        printf("%s\n", tok);
        rc = VOUCH_EXIT_OK;
    }
    /* A token signed outside the service, with its key: who and which file. */
    vouch_cli_audit(s, "cli token sign", a.file, rc);
out:
    free(tok);
    json_decref(claims);
    vouch_keyring_unref(kr);
    vouch_store_close(s);
    vouch_kek_wipe(&kek_buf);
    return rc;
}
