/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vouch-agent's parsers over arbitrary bytes, chosen by the first byte:
 *   0: state.json (vouch_agent_state_parse, then format it back)
 *   1: the config file (TOML, vouch_agent_conf_parse)
 *   2: a DataCredentialBlob from the service, decrypted with a fixed key,
 *      and an AK certificate picked from what it decrypts to
 *   3: an IMA log sliced from the index in the next 4 bytes
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A TPM2B_PUBLIC the picked certificate is compared with (not a valid key: it never matches). */
static const uint8_t ak_public[] = { 0x00, 0x04, 0x00, 0x01, 0x00, 0x0b };

static void blob(const uint8_t *data, size_t size)
{
    static const uint8_t key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    char *pem = NULL, *cert = NULL;
    size_t len;

    if (vouch_agent_data_credential_decrypt(key, sizeof(key), data, size, &pem, &len, NULL))
        return;
    if (vouch_agent_ak_cert_pick(pem, len, ak_public, sizeof(ak_public), &cert, NULL) == VOUCH_OK)
        free(cert);
    /* the plain text as such, too */
    if (vouch_agent_ak_cert_pick((const char *)data, size, ak_public, sizeof(ak_public), &cert,
                                 NULL) == VOUCH_OK)
        free(cert);
    free(pem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vouch_agent_state st;
    struct vouch_agent_conf conf;
    uint64_t start, count, next;
    size_t off;
    char *text = NULL;

    if (size < 1)
        return 0;
    switch (data[0] % 4) {
    case 0:
        if (vouch_agent_state_parse((const char *)data + 1, size - 1, &st, NULL) == VOUCH_OK) {
            if (vouch_agent_state_format(&st, &text, NULL) == VOUCH_OK)
                free(text);
            vouch_agent_state_done(&st);
        }
        break;
    case 1:
        memset(&conf, 0, sizeof(conf));
        (void)vouch_agent_conf_parse((const char *)data + 1, size - 1, &conf, NULL);
        vouch_agent_conf_free(&conf);
        break;
    case 2:
        blob(data + 1, size - 1);
        break;
    default:
        if (size < 5)
            return 0;
        next = (uint64_t)data[1] | (uint64_t)data[2] << 8 | (uint64_t)data[3] << 16 |
               (uint64_t)data[4] << 24;
        if (vouch_agent_ima_slice(data + 5, size - 5, next, &start, &off, &count, NULL) ==
            VOUCH_OK && (start > count || off > size - 5))
            abort();          /* a slice outside the log */
        break;
    }
    return 0;
}
