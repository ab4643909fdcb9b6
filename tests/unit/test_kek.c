/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/codec.h"
#include "crypto/kek.h"

static struct vouch_kek kek_a, kek_b;

static int setup(void **state)
{
    uint8_t a[VOUCH_KEK_LEN], b[VOUCH_KEK_LEN];

    (void)state;
    memset(a, 0xa5, sizeof(a));
    memset(b, 0x5a, sizeof(b));
    return vouch_kek_from_bytes(a, &kek_a, NULL) || vouch_kek_from_bytes(b, &kek_b, NULL);
}

static void test_round_trip(void **state)
{
    static const size_t lens[] = { 0, 1, 16, 32, 3300, VOUCH_KEK_SECRET_MAX };
    size_t i, j, got_len;
    uint8_t *secret, *got;
    char *w1, *w2;

    (void)state;
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        secret = malloc(lens[i] + 1);
        assert_non_null(secret);
        for (j = 0; j < lens[i]; j++)
            secret[j] = (uint8_t)(j * 7 + i);
        assert_int_equal(vouch_kek_wrap(&kek_a, "signing-key:k1", secret, lens[i], &w1, NULL),
                         VOUCH_OK);
        assert_int_equal(vouch_kek_wrap(&kek_a, "signing-key:k1", secret, lens[i], &w2, NULL),
                         VOUCH_OK);
        assert_true(vouch_kek_is_wrapped(w1));
        assert_string_not_equal(w1, w2);  /* a fresh nonce each time */
        assert_int_equal(vouch_kek_unwrap(&kek_a, "signing-key:k1", w1, &got, &got_len, NULL),
                         VOUCH_OK);
        assert_int_equal(got_len, lens[i]);
        assert_memory_equal(got, secret, lens[i]);
        assert_int_equal(got[got_len], 0);
        vouch_kek_secret_free(got, got_len);
        free(w1);
        free(w2);
        free(secret);
    }
    assert_int_equal(vouch_kek_wrap(&kek_a, "x", "", VOUCH_KEK_SECRET_MAX + 1, &w1, NULL),
                     VOUCH_E_TOO_LARGE);
}

/* How a wrapped value is altered before unwrapping, and what must happen. */
enum edit { NONE, FLIP_BYTE, DROP_BYTES, SET_PREFIX, APPEND_CHAR };

static const struct {
    const char *name;
    int use_kek_b;         /* unwrap with the other KEK */
    const char *purpose;   /* unwrap with this purpose */
    enum edit edit;
    long at;               /* byte offset in the blob (negative: from the end) */
    size_t n;              /* bytes to drop */
    vouch_err want;
} cases[] = {
    { "same key, same purpose", 0, "meta:challenge_secret", NONE, 0, 0, VOUCH_OK },
    { "other KEK", 1, "meta:challenge_secret", NONE, 0, 0, VOUCH_E_NOT_FOUND },
    { "other purpose (AAD)", 0, "signing-key:abc", NONE, 0, 0, VOUCH_E_VERIFY },
    { "purpose prefix (AAD)", 0, "meta:challenge_secre", NONE, 0, 0, VOUCH_E_VERIFY },
    { "version byte", 0, "meta:challenge_secret", FLIP_BYTE, 0, 0, VOUCH_E_UNSUPPORTED },
    { "kek id byte", 0, "meta:challenge_secret", FLIP_BYTE, 3, 0, VOUCH_E_NOT_FOUND },
    { "nonce byte", 0, "meta:challenge_secret", FLIP_BYTE, 12, 0, VOUCH_E_VERIFY },
    { "ciphertext byte", 0, "meta:challenge_secret", FLIP_BYTE, 25, 0, VOUCH_E_VERIFY },
    { "tag byte", 0, "meta:challenge_secret", FLIP_BYTE, -1, 0, VOUCH_E_VERIFY },
    { "tag cut short", 0, "meta:challenge_secret", DROP_BYTES, -4, 4, VOUCH_E_VERIFY },
    { "truncated to the header", 0, "meta:challenge_secret", DROP_BYTES, 9, 1000,
      VOUCH_E_TRUNCATED },
    { "empty blob", 0, "meta:challenge_secret", DROP_BYTES, 0, 1000, VOUCH_E_TRUNCATED },
    { "not wrapped", 0, "meta:challenge_secret", SET_PREFIX, 0, 0, VOUCH_E_INVALID },
    { "bad base64", 0, "meta:challenge_secret", APPEND_CHAR, 0, 0, VOUCH_E_INVALID },
};

/* Apply an edit to the decoded blob and re-encode it. */
static char *edited(const char *w, enum edit edit, long at, size_t n)
{
    size_t plen = strlen(VOUCH_KEK_PREFIX), len = 0, pos;
    uint8_t *blob = NULL;
    char *out;

    assert_int_equal(vouch_b64_decode(w + plen, strlen(w + plen), VOUCH_B64URL, 1 << 20, &blob,
                                      &len, NULL), VOUCH_OK);
    pos = at < 0 ? len - (size_t)-at : (size_t)at;
    if (edit == FLIP_BYTE)
        blob[pos] ^= 0x01;
    if (edit == DROP_BYTES)
        len = pos + (n < len - pos ? len - pos - n : 0);
    out = malloc(plen + vouch_b64_encoded_len(len, VOUCH_B64URL) + 2);
    assert_non_null(out);
    memcpy(out, VOUCH_KEK_PREFIX, plen);
    vouch_b64_encode(blob, len, VOUCH_B64URL, out + plen);
    if (edit == SET_PREFIX)
        memcpy(out, "vouch-kex:", plen);
    if (edit == APPEND_CHAR)
        strcat(out, "*");
    free(blob);
    return out;
}

static void test_tamper_table(void **state)
{
    const uint8_t secret[32] = "0123456789abcdef0123456789abcdef";
    struct vouch_errbuf eb;
    uint8_t *got = NULL;
    size_t i, got_len = 0;
    char *w, *t;

    (void)state;
    assert_int_equal(vouch_kek_wrap(&kek_a, "meta:challenge_secret", secret, sizeof(secret), &w,
                                    NULL), VOUCH_OK);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        t = cases[i].edit == NONE ? strdup(w) : edited(w, cases[i].edit, cases[i].at, cases[i].n);
        vouch_err e = vouch_kek_unwrap(cases[i].use_kek_b ? &kek_b : &kek_a, cases[i].purpose, t,
                                       &got, &got_len, &eb);
        if (e != cases[i].want)
            fail_msg("%s: got %s, want %s (%s)", cases[i].name, vouch_err_name(e),
                     vouch_err_name(cases[i].want), e ? eb.msg : "");
        if (!e) {
            assert_int_equal(got_len, sizeof(secret));
            assert_memory_equal(got, secret, sizeof(secret));
            vouch_kek_secret_free(got, got_len);
        }
        free(t);
    }
    free(w);
}

static void test_wrapped_id(void **state)
{
    char id[VOUCH_KEK_ID_HEX_LEN + 1];
    char *w;

    (void)state;
    assert_int_equal(vouch_kek_wrap(&kek_b, "p", "s", 1, &w, NULL), VOUCH_OK);
    assert_int_equal(vouch_kek_wrapped_id(w, id, NULL), VOUCH_OK);
    assert_string_equal(id, kek_b.id_hex);
    assert_string_not_equal(kek_a.id_hex, kek_b.id_hex);
    assert_int_equal(vouch_kek_wrapped_id("-----BEGIN PRIVATE KEY-----", id, NULL),
                     VOUCH_E_INVALID);
    free(w);
}

/* KEK files: the accepted encodings, and the refusals. */
static const struct {
    const char *name;
    const char *content;   /* NULL: the 32 raw bytes */
    mode_t mode;
    vouch_err want;
} files[] = {
    { "raw 32 bytes", NULL, 0600, VOUCH_OK },
    { "hex", "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5\n", 0600,
      VOUCH_OK },
    { "hex, no newline", "A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5", 0400,
      VOUCH_OK },
    { "base64", "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU=\n", 0600, VOUCH_OK },
    { "base64url, no padding", "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU\r\n", 0600,
      VOUCH_OK },
    { "hex, too short", "a5a5a5\n", 0600, VOUCH_E_INVALID },
    { "31 raw bytes", "0123456789012345678901234567890", 0600, VOUCH_E_INVALID },
    { "base64 of 33 bytes", "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWl\n", 0600,
      VOUCH_E_INVALID },
    { "group-readable", NULL, 0640, VOUCH_E_AUTH },
    { "world-readable", NULL, 0604, VOUCH_E_AUTH },
    { "group-writable", NULL, 0620, VOUCH_E_AUTH },
};

static void test_key_files(void **state)
{
    char path[] = "/tmp/vouch-kek-XXXXXX";
    uint8_t raw[VOUCH_KEK_LEN];
    struct vouch_errbuf eb;
    struct vouch_kek k;
    size_t i;
    int fd;

    (void)state;
    memset(raw, 0xa5, sizeof(raw));
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        FILE *f = fopen(path, "wb");
        vouch_err e;

        assert_non_null(f);
        if (files[i].content)
            fputs(files[i].content, f);
        else
            fwrite(raw, 1, sizeof(raw), f);
        fclose(f);
        assert_int_equal(chmod(path, files[i].mode), 0);
        memset(&k, 0, sizeof(k));
        e = vouch_kek_load_file(path, &k, &eb);
        if (e != files[i].want)
            fail_msg("%s: got %s, want %s (%s)", files[i].name, vouch_err_name(e),
                     vouch_err_name(files[i].want), e ? eb.msg : "");
        if (!e) {
            assert_memory_equal(k.key, kek_a.key, VOUCH_KEK_LEN);
            assert_string_equal(k.id_hex, kek_a.id_hex);
        }
        if (e == VOUCH_E_AUTH)
            assert_non_null(strstr(eb.msg, "chmod 600"));
    }
    unlink(path);
    assert_int_equal(vouch_kek_load_file(path, &k, NULL), VOUCH_E_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_tamper_table),
        cmocka_unit_test(test_wrapped_id),
        cmocka_unit_test(test_key_files),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
