/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_COMMON_TIME_H
#define VOUCH_COMMON_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "vouch/err.h"

/*
 * Time as the library sees it: Unix seconds (UTC) passed in by the caller.
 * Library code never reads the clock; only the server and the CLI call
 * vouch_clock_now().
 */

/* "2025-07-19T10:01:17Z" plus terminator. */
#define VOUCH_RFC3339_LEN 21

/*
 * Parse an RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)".
 * 't'/'z'/' ' are accepted as in RFC 3339 section 5.6.  Returns seconds
 * since the epoch and the fraction in nanoseconds (truncated to 9 digits).
 * ret_nsec may be NULL.
 */
vouch_err vouch_time_parse_rfc3339(const char *s, size_t len, int64_t *ret_sec,
                                   int32_t *ret_nsec, struct vouch_errbuf *eb);

/* Format Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" into buf (VOUCH_RFC3339_LEN). */
void vouch_time_format_rfc3339(int64_t t, char buf[VOUCH_RFC3339_LEN]);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
int64_t vouch_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Wall-clock time in Unix seconds.  For the server and the CLI only. */
int64_t vouch_clock_now(void);

/* The same in milliseconds (audit entries, vTPM times). */
int64_t vouch_clock_now_ms(void);

/* Monotonic microseconds, for measuring durations. */
uint64_t vouch_clock_us(void);

#endif
