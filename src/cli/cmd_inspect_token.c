/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "common/codec.h"
#include "common/json.h"

#define TOKEN_MAX (1u << 20)

/* Decode one base64url JWT segment as JSON. */
static json_t *segment(const char *s, size_t len, const char *what)
{
    struct vouch_errbuf eb;
    uint8_t *raw;
    size_t rawlen;
    json_t *v = NULL;

    if (vouch_b64_decode(s, len, VOUCH_B64URL, TOKEN_MAX, &raw, &rawlen, &eb)) {
        fprintf(stderr, "vouch: token %s: %s\n", what, eb.msg);
        return NULL;
    }
    if (vouch_json_parse(raw, rawlen, &v, &eb))
        fprintf(stderr, "vouch: token %s: %s\n", what, eb.msg);
    free(raw);
    return v;
}

int vouch_cmd_inspect_token(int argc, char **argv)
{
    unsigned char *buf = NULL;
    const char *tok, *d1, *d2;
    json_t *hdr = NULL, *payload = NULL, *out = NULL;
    size_t len;
    int rc = VOUCH_EXIT_FAIL;

    if (argc != 2)
        return vouch_cli_usage("inspect token");
    if (strcmp(argv[1], "-") == 0) {
        if (vouch_cli_read_file("-", TOKEN_MAX, &buf, &len))
            return VOUCH_EXIT_ERROR;
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
            buf[--len] = '\0';
        tok = (const char *)buf;
    } else {
        tok = argv[1];
    }
    d1 = strchr(tok, '.');
    d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2 || strchr(d2 + 1, '.')) {
        fprintf(stderr, "vouch: not a compact JWS (need three dot-separated parts)\n");
        goto out;
    }
    hdr = segment(tok, (size_t)(d1 - tok), "header");
    payload = segment(d1 + 1, (size_t)(d2 - d1 - 1), "payload");
    if (!hdr || !payload)
        goto out;
    out = json_pack("{s:O,s:O,s:b}", "header", hdr, "payload", payload, "verified", 0);
    if (!out || json_dumpf(out, stdout, JSON_INDENT(2)) != 0)
        goto out;
    putchar('\n');
    rc = VOUCH_EXIT_OK;
out:
    json_decref(out);
    json_decref(hdr);
    json_decref(payload);
    free(buf);
    return rc;
}
