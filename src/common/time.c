/* SPDX-License-Identifier: Apache-2.0 */
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "common/time.h"

int64_t vouch_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* The era-based method described by H. Hinnant ("chrono-compatible low-level date algorithms"). */
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Read exactly n decimal digits at s[*i]. */
static bool digits(const char *s, size_t len, size_t *i, size_t n, unsigned *ret)
{
    unsigned v = 0;
    size_t k;

    if (len - *i < n)
        return false;
    for (k = 0; k < n; k++) {
        char c = s[*i + k];

        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (unsigned)(c - '0');
    }
    *i += n;
    *ret = v;
    return true;
}

static bool expect(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return false;
    (*i)++;
    return true;
}

vouch_err vouch_time_parse_rfc3339(const char *s, size_t len, int64_t *ret_sec,
                                   int32_t *ret_nsec, struct vouch_errbuf *eb)
{
    unsigned Y = 0, M = 0, D = 0, h = 0, m = 0, sec = 0, oh = 0, om = 0;
    int32_t nsec = 0;
    int sign = 0;
    size_t i = 0;
    int64_t t;

    if (!digits(s, len, &i, 4, &Y) || !expect(s, len, &i, '-') ||
        !digits(s, len, &i, 2, &M) || !expect(s, len, &i, '-') ||
        !digits(s, len, &i, 2, &D))
        goto bad;
    if (i >= len || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
        goto bad;
    i++;
    if (!digits(s, len, &i, 2, &h) || !expect(s, len, &i, ':') ||
        !digits(s, len, &i, 2, &m) || !expect(s, len, &i, ':') ||
        !digits(s, len, &i, 2, &sec))
        goto bad;
    if (i < len && s[i] == '.') {
        int nd = 0;

        i++;
        if (i >= len || s[i] < '0' || s[i] > '9')
            goto bad;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (nd < 9) {
                nsec = nsec * 10 + (s[i] - '0');
                nd++;
            }
            i++;
        }
        while (nd++ < 9)
            nsec *= 10;
    }
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        sign = s[i] == '+' ? 1 : -1;
        i++;
        if (!digits(s, len, &i, 2, &oh) || !expect(s, len, &i, ':') ||
            !digits(s, len, &i, 2, &om) || oh > 23 || om > 59)
            goto bad;
    } else {
        goto bad;
    }
    if (i != len)
        goto bad;
    /* Second 60 is a leap second; like most parsers we fold it into :59. */
    if (M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) || h > 23 || m > 59 ||
        sec > 60)
        return vouch_fail(eb, VOUCH_E_INVALID, "date-time out of range: '%.*s'",
                          (int)(len > 64 ? 64 : len), s);
    if (sec == 60)
        sec = 59;
    t = vouch_days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + sec;
    t -= sign * (int64_t)(oh * 3600 + om * 60);
    *ret_sec = t;
    if (ret_nsec)
        *ret_nsec = nsec;
    return VOUCH_OK;
bad:
    return vouch_fail(eb, VOUCH_E_INVALID, "not an RFC 3339 date-time: '%.*s'",
                      (int)(len > 64 ? 64 : len), s);
}

void vouch_time_format_rfc3339(int64_t t, char buf[VOUCH_RFC3339_LEN])
{
    int64_t days = t / 86400, rem = t % 86400, y;
    unsigned m, d;

    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        snprintf(buf, VOUCH_RFC3339_LEN, "%s", y < 0 ? "0000-01-01T00:00:00Z"
                                                     : "9999-12-31T23:59:59Z");
        return;
    }
    snprintf(buf, VOUCH_RFC3339_LEN, "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)y, m, d,
             (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}

int64_t vouch_clock_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

int64_t vouch_clock_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t vouch_clock_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
