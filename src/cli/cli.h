/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_CLI_H
#define VOUCH_CLI_H

/*
 * The `vouch` command.  Each sub-command is a function taking the
 * arguments after its name (argv[0] is the sub-command's own name) and
 * returning the process exit status: 0 success, 1 a negative verdict or
 * failed check, 2 a usage error, 3 an I/O or internal error.
 */
struct vouch_cli_cmd {
    const char *name;     /* "inspect quote", "keys rotate", ... */
    const char *usage;    /* one line: the arguments */
    const char *summary;  /* one line: what it does */
    /*
     * Every option and argument of `usage`, one "NAME ARG\tdescription"
     * line each, separated by "\n"; `vouch NAME --help` lists them.
     */
    const char *options;
    int (*run)(int argc, char **argv);
};

enum {
    VOUCH_EXIT_OK = 0,
    VOUCH_EXIT_FAIL = 1,
    VOUCH_EXIT_USAGE = 2,
    VOUCH_EXIT_ERROR = 3,
};

/* Print "vouch NAME USAGE" to stderr and return VOUCH_EXIT_USAGE. */
int vouch_cli_usage(const char *name);

/* Print j as indented JSON and a newline: VOUCH_EXIT_OK, or VOUCH_EXIT_ERROR when NULL. */
struct json_t;
int vouch_cli_print_json(const struct json_t *j);

/* Read a whole file (at most max bytes); "-" reads stdin.  *ret is NUL-terminated. */
int vouch_cli_read_file(const char *path, size_t max, unsigned char **ret, size_t *ret_len);

#endif
