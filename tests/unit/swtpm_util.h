/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_TESTS_SWTPM_UTIL_H
#define VOUCH_TESTS_SWTPM_UTIL_H
/*
 * A software TPM for the tests (test_tpm_swtpm.c, test_agent_swtpm.c):
 * swtpm on a free 127.0.0.1 port pair, manufactured by swtpm_setup with
 * sha1 and sha256 banks and an EK certificate from a throw-away local CA in
 * the work directory.  swtpm dies with the test process
 * (PR_SET_PDEATHSIG); a SIGTERM/SIGINT (a meson timeout) kills it and
 * removes the work directory before the test dies of the signal.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct swtpm {
    char dir[64];          /* the work directory (mkdtemp) */
    char port[8];          /* the TPM's port; the control port is port + 1 */
    pid_t pid;
};

/* Whether `prog` is an executable in $PATH. */
bool swtpm_in_path(const char *prog);

/*
 * Whether swtpm's tools and the `extra` ones are all in $PATH: 0 when they
 * are; else, after naming the first missing one, 1 (skip the cases) or,
 * when VOUCH_TEST_REQUIRE_TOOLS is set (make test sets it, having installed
 * them), -1 (fail: a missing tool must not pass as a skip).
 */
int swtpm_tools_missing(const char *const *extra, size_t n_extra);

/* Run argv with stdout and stderr appended to DIR/log; its exit status, or -1. */
int swtpm_run(const struct swtpm *s, char *const argv[]);

/*
 * Make the work directory (under $TMPDIR) and manufacture a TPM in
 * DIR/state.  False, with the reason on stderr, when a tool is missing or
 * fails: the caller skips its cases.
 */
bool swtpm_make(struct swtpm *s);

/* Start swtpm on DIR/state; false when it did not come up. */
bool swtpm_start(struct swtpm *s);

/* Stop it (SIGTERM, then SIGKILL). */
void swtpm_stop(struct swtpm *s);

/* Stop it and remove the work directory (kept when VOUCH_KEEP_SWTPM is set). */
void swtpm_destroy(struct swtpm *s);

/* Write DIR/name; false on failure. */
bool swtpm_write_file(const struct swtpm *s, const char *name, const char *text);

#endif
