/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_CONSOLE_H
#define VOUCH_SERVER_CONSOLE_H

#include <stddef.h>

/*
 * The web console's static files (console/ in the source tree), embedded at
 * build time by console/embed.py into console_files.c.
 */
struct vouch_console_file {
    const char *name;              /* "index.html", "app.js" */
    const char *content_type;
    const unsigned char *data;
    size_t len;
    const char *etag;              /* quoted, as sent in ETag */
};

extern const struct vouch_console_file vouch_console_files[];
extern const size_t vouch_console_n_files;

#endif
