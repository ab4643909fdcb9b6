/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The RPC parameter decoder and both signature computations over
 * arbitrary bytes: the first line is parsed as an Authorization header
 * value, the rest as a URL query whose parameters are then signed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc.h"

static const char *header(void *ctx, const char *name)
{
    (void)ctx;
    if (strcmp(name, "x-acs-content-sha256") == 0)
        return "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    return strcmp(name, "host") == 0 ? " example " : "v";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t first = nl ? (size_t)(nl - data) : 0;
    struct vouch_rpc_params p = VOUCH_RPC_PARAMS_INIT;
    struct vouch_rpc_v3_request r = { "POST", "/", &p, header, NULL, NULL, 0 };
    struct vouch_rpc_v3_auth auth;
    struct vouch_errbuf eb;
    char sig1[VOUCH_RPC_V1_SIG_LEN + 1], sig3[VOUCH_RPC_V3_SIG_LEN + 1];
    char *line = malloc(first + 1);

    if (!line)
        return 0;
    memcpy(line, data, first);
    line[first] = '\0';
    if (vouch_rpc_v3_parse_authorization(line, &auth, &eb) == VOUCH_OK &&
        vouch_rpc_v3_check_request(&r, auth.signed_headers, &eb) == VOUCH_OK)
        (void)vouch_rpc_v3_sign(&r, auth.signed_headers, "secret", sig3, &eb);
    (void)vouch_rpc_parse_timestamp(line, &(int64_t){ 0 }, &eb);
    free(line);
    if (nl)
        first++;
    if (vouch_rpc_params_parse(&p, (const char *)data + first, size - first, &eb) == VOUCH_OK) {
        (void)vouch_rpc_v1_sign(&p, "POST", "secret", sig1, &eb);
        (void)vouch_rpc_v3_sign(&r, "host;x-acs-action", "secret", sig3, &eb);
    }
    vouch_rpc_params_free(&p);
    return 0;
}
