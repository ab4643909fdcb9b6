/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dcap_forge: write a synthetic SGX or TDX quote, the matching dcap-qvl
 * QuoteCollateralV3 JSON and the test root certificate it chains to.
 * TEST ONLY: the PKI is generated afresh on every run (P-256 keys, a root
 * "Vouch Test SGX Root CA", a PCK Platform CA, a PCK certificate with
 * Intel's SGX extension OID 1.2.840.113741.1.13.1 carrying FMSPC 00906ED50000,
 * PCE-ID 0000, TCB components 05 05 02 02 03 01 00 05 00.. and PCESVN 11, a
 * TCB signing certificate, root and PCK CRLs).  Nothing it makes chains to
 * Intel: verify with the written root as trust anchor.
 *
 * usage: dcap_forge --quote FILE --collateral FILE --root FILE [options]
 *   --tee tdx|sgx          default tdx
 *   --version 3|4|5        quote version (default 3 for SGX, 4 for TDX; 5 = TD 1.5 body)
 *   --report-data HEX      up to 64 bytes, zero-padded (default zeros)
 *   --mr-config-id HEX     TDX MRCONFIGID (48 bytes) / SGX CONFIGID (64), zero-padded
 *   --td-attributes HEX    TD attributes as a little-endian 8-byte hex string
 *                          (default 0000001000000000: SEPT_VE_DISABLE)
 *   --rtmrs HEX            TDX RTMR0..3 (4 x 48 bytes, 384 hex digits), e.g. an event
 *                          log's replay (default a0.., a1.., a2.., a3..)
 *   --debug                set the debug bit (TD attribute bit 0 / SGX DEBUG)
 *   --status S             the platform TCB level the PCK matches: UpToDate (default),
 *                          SWHardeningNeeded, ConfigurationNeeded,
 *                          ConfigurationAndSWHardeningNeeded, OutOfDate,
 *                          OutOfDateConfigurationNeeded, Revoked
 *   --qe-status S          the QE identity level of the QE (default UpToDate)
 *   --module-status S      TDX module identity level (default UpToDate)
 *   --below-all            the platform is below every TCB level (TCB not supported)
 *   --revoked-pck          list the PCK certificate on the PCK CRL
 *   --bad-qe-report-data   QE report data is not SHA-256(attestation key || auth data)
 *   --bad-quote-sig        corrupt the quote signature
 *   --now UNIX             issue time base (default: the current time); collateral is
 *                          issued at now - 1 h and valid --days (default 30)
 *   --days N
 *
 * Example (then verify it):
 *   dcap_forge --quote q.bin --collateral c.json --root root.pem \
 *       --report-data $(printf nonce | xxd -p) --status OutOfDate
 *   vouch inspect quote q.bin --collateral c.json --root root.pem
 * Expected verdicts: the chosen --status (converged with --qe-status and
 * --module-status as Intel QVL does: a QE or module OutOfDate turns
 * UpToDate/SWHardeningNeeded into OutOfDate), advisory INTEL-SA-99999 for
 * any platform status but UpToDate.  Exit status 0 on success, 2 on usage
 * errors, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forge.h"

static int hexarg(const char *s, uint8_t *out, size_t max)
{
    size_t n = strlen(s), i;

    if (n % 2 || n / 2 > max)
        return -1;
    for (i = 0; i < n / 2; i++) {
        unsigned v;

        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static int write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    int rc = 0;

    if (!f || fwrite(data, 1, n, f) != n)
        rc = -1;
    if (f && fclose(f))
        rc = -1;
    if (rc)
        fprintf(stderr, "dcap_forge: cannot write %s\n", path);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: dcap_forge --quote FILE --collateral FILE --root FILE [--tee tdx|sgx] "
            "[--version N] [--report-data HEX] [--mr-config-id HEX] [--td-attributes HEX] "
            "[--rtmrs HEX] [--debug] [--status S] [--qe-status S] [--module-status S] [--below-all] "
            "[--revoked-pck] [--bad-qe-report-data] [--bad-quote-sig] [--now UNIX] "
            "[--days N]\n(see the top of tests/tools/dcap_forge.c)\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *qpath = NULL, *cpath = NULL, *rpath = NULL;
    struct forge_opts o;
    struct forge_out out;
    char err[256];
    bool debug = false;
    int i;

    forge_defaults(&o, (int64_t)time(NULL));
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--debug") == 0) { debug = true; continue; }
        if (strcmp(a, "--below-all") == 0) { o.below_all = true; continue; }
        if (strcmp(a, "--revoked-pck") == 0) { o.revoked_pck = true; continue; }
        if (strcmp(a, "--bad-qe-report-data") == 0) { o.bad_qe_report_data = true; continue; }
        if (strcmp(a, "--bad-quote-sig") == 0) { o.bad_quote_sig = true; continue; }
        if (!v)
            return usage();
        i++;
        if (strcmp(a, "--quote") == 0) {
            qpath = v;
        } else if (strcmp(a, "--collateral") == 0) {
            cpath = v;
        } else if (strcmp(a, "--root") == 0) {
            rpath = v;
        } else if (strcmp(a, "--tee") == 0) {
            if (strcmp(v, "tdx") && strcmp(v, "sgx"))
                return usage();
            o.tdx = strcmp(v, "tdx") == 0;
        } else if (strcmp(a, "--version") == 0) {
            o.version = atoi(v);
        } else if (strcmp(a, "--report-data") == 0) {
            if (hexarg(v, o.report_data, 64))
                return usage();
        } else if (strcmp(a, "--mr-config-id") == 0) {
            if (hexarg(v, o.init_data, 64))
                return usage();
        } else if (strcmp(a, "--rtmrs") == 0) {
            if (strlen(v) != 2 * sizeof(o.rtmrs) || hexarg(v, o.rtmrs, sizeof(o.rtmrs)))
                return usage();
            o.has_rtmrs = true;
        } else if (strcmp(a, "--td-attributes") == 0) {
            uint8_t b[8] = { 0 };
            int k;

            if (strlen(v) != 16 || hexarg(v, b, 8))
                return usage();
            o.td_attributes = 0;
            for (k = 7; k >= 0; k--)
                o.td_attributes = (o.td_attributes << 8) | b[k];
        } else if (strcmp(a, "--status") == 0) {
            o.status = v;
        } else if (strcmp(a, "--qe-status") == 0) {
            o.qe_status = v;
        } else if (strcmp(a, "--module-status") == 0) {
            o.module_status = v;
        } else if (strcmp(a, "--now") == 0) {
            o.now = strtoll(v, NULL, 10);
        } else if (strcmp(a, "--days") == 0) {
            o.days = atoi(v);
        } else {
            return usage();
        }
    }
    if (!qpath || !cpath || !rpath)
        return usage();
    if (o.version && (o.tdx ? (o.version != 4 && o.version != 5) : o.version != 3))
        return usage();
    if (debug) {
        if (o.tdx)
            o.td_attributes |= 1;
        else
            o.sgx_debug = true;
    }
    if (forge_make(&o, &out, err, sizeof(err))) {
        fprintf(stderr, "dcap_forge: %s\n", err);
        return 1;
    }
    if (write_file(qpath, out.quote, out.quote_len) ||
        write_file(cpath, out.collateral, strlen(out.collateral)) ||
        write_file(rpath, out.root_pem, strlen(out.root_pem))) {
        forge_out_free(&out);
        return 1;
    }
    forge_out_free(&out);
    return 0;
}
