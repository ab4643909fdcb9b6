/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The systemd notification protocol (sd_notify(3)), written out so vouchd
 * needs no libsystemd: one datagram of "KEY=VALUE" lines to the unix socket
 * named by $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace).
 * Without the variable every call does nothing, so vouchd runs the same
 * outside systemd.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "server/sdnotify.h"

int vouch_sd_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa;
    socklen_t len;
    size_t n;
    ssize_t sent;
    int fd;

    if (!path || !*path)
        return 0;
    n = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path))
        return -EINVAL;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, n);
    if (path[0] == '@')
        sa.sun_path[0] = '\0';          /* abstract namespace */
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
    n = sent < 0 ? (size_t)errno : 0;
    close(fd);
    return sent < 0 ? -(int)n : 1;
}

uint64_t vouch_sd_watchdog_usec(void)
{
    const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
    unsigned long long v;
    char *end;

    if (!usec || !*usec)
        return 0;
    if (pid && *pid && strtoll(pid, &end, 10) != (long long)getpid())
        return 0;                       /* meant for another process */
    errno = 0;
    v = strtoull(usec, &end, 10);
    if (errno || *end || v == 0)
        return 0;
    return (uint64_t)v;
}
