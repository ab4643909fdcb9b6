/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Time builtins.  Timestamps are int64 nanoseconds since the Unix epoch,
 * as in OPA.  time.now_ns() is the evaluation's `now`, never the clock.
 * Layouts follow Go's reference time ("2006-01-02T15:04:05Z07:00").  Time
 * zones: UTC only (named zones would need the system's zoneinfo files,
 * which policies may not read); "Local" is UTC as well.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/time.h"
#include "rego/builtins.h"

#define NS 1000000000LL

/* Proleptic Gregorian date from days since 1970-01-01. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era, yoe, doy, mp, yy;
    uint64_t doe;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (uint64_t)(z - era * 146097);
    yoe = (int64_t)((doe - doe / 1460 + doe / 36524 - doe / 146096) / 365);
    yy = yoe + era * 400;
    doy = (int64_t)doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yy + (*m <= 2);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

struct tm_parts {
    int64_t year;
    unsigned month, day, hour, min, sec, wday, yday;
    int32_t nsec;
    int32_t off;   /* seconds east of UTC */
};

static void split_ns(int64_t ns, int32_t off, struct tm_parts *t)
{
    int64_t secs = ns / NS, days, rem;
    int32_t nsec = (int32_t)(ns % NS);

    if (nsec < 0) {
        nsec += (int32_t)NS;
        secs--;
    }
    secs += off;
    days = secs / 86400;
    rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil_from_days(days, &t->year, &t->month, &t->day);
    t->hour = (unsigned)(rem / 3600);
    t->min = (unsigned)(rem % 3600 / 60);
    t->sec = (unsigned)(rem % 60);
    t->nsec = nsec;
    t->wday = (unsigned)(((days % 7) + 11) % 7);   /* 1970-01-01 was a Thursday */
    t->yday = (unsigned)(days - vouch_days_from_civil(t->year, 1, 1) + 1);
    t->off = off;
}

/* Seconds since the epoch of a civil time (as UTC), without range checks. */
static int64_t civil_secs(int64_t y, int64_t mon, int64_t d, int64_t h, int64_t mi, int64_t s)
{
    /* normalise the month into 1..12 */
    y += (mon - 1) >= 0 ? (mon - 1) / 12 : -((12 - mon) / 12);
    mon = ((mon - 1) % 12 + 12) % 12 + 1;
    return (vouch_days_from_civil(y, (unsigned)mon, 1) + d - 1) * 86400 + h * 3600 + mi * 60 + s;
}

/* secs * 1e9 + nsec within int64, else false. */
static bool to_ns(int64_t secs, int64_t nsec, int64_t *ret)
{
    int64_t v;

    if (__builtin_mul_overflow(secs, NS, &v) || __builtin_add_overflow(v, nsec, &v)) {
        /* the very bottom of the range needs the nanoseconds first */
        if (secs < 0 && nsec > 0 && !__builtin_mul_overflow(secs + 1, NS, &v) &&
            !__builtin_add_overflow(v, nsec - NS, &v)) {
            *ret = v;
            return true;
        }
        return false;
    }
    *ret = v;
    return true;
}

/* A timestamp operand: ns, or [ns, tz] or [ns, tz, layout]. */
static int tz_time(struct ev *ev, const struct rval *v, int64_t *ret_ns, int32_t *ret_off,
                   const struct rval **ret_layout)
{
    const struct rval *n = v;
    int64_t ns;

    *ret_off = 0;
    if (ret_layout)
        *ret_layout = NULL;
    if (v->t == RT_ARR) {
        rv_force(v);
        if (v->n == 0)
            return vouch_bi_type(ev, 1, "either number (ns) or [number (ns), string (tz)]", v);
        n = v->u.a[0];
        if (v->n > 1) {
            const struct rval *tz = v->u.a[1];

            if (tz->t != RT_STR)
                return vouch_bi_type(ev, 1, "string", tz);
            if (!(tz->n == 0 || (tz->n == 3 && !memcmp(tz->u.s, "UTC", 3)) ||
                  (tz->n == 5 && !memcmp(tz->u.s, "Local", 5))))
                return vouch_bi_fail(ev, BI_ERR, "unknown time zone %.*s", (int)tz->n, tz->u.s);
        }
        if (v->n > 2 && ret_layout) {
            if (v->u.a[2]->t != RT_STR)
                return vouch_bi_type(ev, 1, "string", v->u.a[2]);
            *ret_layout = v->u.a[2];
        }
    } else if (v->t != RT_NUM) {
        return vouch_bi_type(ev, 1, "either number (ns) or [number (ns), string (tz)]", v);
    }
    if (n->t != RT_NUM)
        return vouch_bi_type(ev, 1, "number", n);
    if (!vouch_rv_to_i64(n, &ns)) {
        struct rdec d, t;
        uint8_t buf[20];

        /* non-integers truncate; integers beyond int64 are too big */
        num_view(n, &d, buf);
        vouch_rdec_round(ev->a, &d, RDEC_TRUNC, &t);
        if (!vouch_rdec_to_i64(&t, &ns))
            return vouch_bi_fail(ev, BI_ERR, "timestamp too big");
    }
    *ret_ns = ns;
    return BI_OK;
}

BI(bi_now_ns)
{
    (void)a;
    *ret = vouch_rv_int(ev->a, ev->now_ns);
    return BI_OK;
}

static const char *const month_names[] = { "January", "February", "March",     "April",
                                           "May",     "June",     "July",      "August",
                                           "September", "October", "November", "December" };
static const char *const day_names[] = { "Sunday",   "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday" };

static const struct {
    const char *name, *layout;
} named_layouts[] = {
    { "ANSIC", "Mon Jan _2 15:04:05 2006" },
    { "UnixDate", "Mon Jan _2 15:04:05 MST 2006" },
    { "RubyDate", "Mon Jan 02 15:04:05 -0700 2006" },
    { "RFC822", "02 Jan 06 15:04 MST" },
    { "RFC822Z", "02 Jan 06 15:04 -0700" },
    { "RFC850", "Monday, 02-Jan-06 15:04:05 MST" },
    { "RFC1123", "Mon, 02 Jan 2006 15:04:05 MST" },
    { "RFC1123Z", "Mon, 02 Jan 2006 15:04:05 -0700" },
    { "RFC3339", "2006-01-02T15:04:05Z07:00" },
    { "RFC3339Nano", "2006-01-02T15:04:05.999999999Z07:00" },
};

static void layout_of(const struct rval *v, const char **ret, size_t *ret_n)
{
    size_t i;

    for (i = 0; i < sizeof(named_layouts) / sizeof(named_layouts[0]); i++)
        if (strlen(named_layouts[i].name) == v->n && !memcmp(named_layouts[i].name, v->u.s, v->n)) {
            *ret = named_layouts[i].layout;
            *ret_n = strlen(*ret);
            return;
        }
    *ret = v->u.s;
    *ret_n = v->n;
}

/* Layout tokens, as Go's time package reads them. */
enum {
    L_NONE, L_LONGMONTH, L_MONTH, L_NUMMONTH, L_ZEROMONTH, L_LONGWEEKDAY, L_WEEKDAY,
    L_DAY, L_UNDERDAY, L_ZERODAY, L_YEARDAY, L_ZEROYEARDAY, L_HOUR, L_HOUR12, L_ZEROHOUR12,
    L_MINUTE, L_ZEROMINUTE, L_SECOND, L_ZEROSECOND, L_LONGYEAR, L_YEAR, L_PM, L_pm, L_TZ,
    L_ISO8601TZ, L_ISO8601SECONDSTZ, L_ISO8601SHORTTZ, L_ISO8601COLONTZ,
    L_ISO8601COLONSECONDSTZ, L_NUMTZ, L_NUMSECONDSTZ, L_NUMSHORTTZ, L_NUMCOLONTZ,
    L_NUMCOLONSECONDSTZ, L_FRAC0, L_FRAC9,
};

static bool has_prefix(const char *s, size_t n, const char *p)
{
    size_t l = strlen(p);

    return n >= l && memcmp(s, p, l) == 0;
}

/* Find the next token at or after position i; returns its start, kind and
 * length (the literal text is l[i..start)). */
static size_t next_token(const char *l, size_t n, size_t i, int *kind, size_t *len, int *fdig)
{
    for (; i < n; i++) {
        const char *s = l + i;
        size_t r = n - i;

        switch (s[0]) {
        case 'J':
            if (has_prefix(s, r, "January")) { *kind = L_LONGMONTH; *len = 7; return i; }
            if (has_prefix(s, r, "Jan")) { *kind = L_MONTH; *len = 3; return i; }
            break;
        case 'M':
            if (has_prefix(s, r, "Monday")) { *kind = L_LONGWEEKDAY; *len = 6; return i; }
            if (has_prefix(s, r, "Mon")) { *kind = L_WEEKDAY; *len = 3; return i; }
            if (has_prefix(s, r, "MST")) { *kind = L_TZ; *len = 3; return i; }
            break;
        case '0':
            if (r >= 2 && s[1] >= '1' && s[1] <= '6') {
                static const int k[] = { L_ZEROMONTH, L_ZERODAY, L_ZEROHOUR12, L_ZEROMINUTE,
                                         L_ZEROSECOND, L_YEAR };
                *kind = k[s[1] - '1'];
                *len = 2;
                return i;
            }
            if (has_prefix(s, r, "002")) { *kind = L_ZEROYEARDAY; *len = 3; return i; }
            break;
        case '1':
            if (has_prefix(s, r, "15")) { *kind = L_HOUR; *len = 2; return i; }
            *kind = L_NUMMONTH; *len = 1; return i;
        case '2':
            if (has_prefix(s, r, "2006")) { *kind = L_LONGYEAR; *len = 4; return i; }
            *kind = L_DAY; *len = 1; return i;
        case '_':
            if (has_prefix(s, r, "_2")) {
                if (has_prefix(s, r, "_2006")) { /* "_" then year */
                    break;
                }
                *kind = L_UNDERDAY; *len = 2; return i;
            }
            if (has_prefix(s, r, "__2")) { *kind = L_YEARDAY; *len = 3; return i; }
            break;
        case '3': *kind = L_HOUR12; *len = 1; return i;
        case '4': *kind = L_MINUTE; *len = 1; return i;
        case '5': *kind = L_SECOND; *len = 1; return i;
        case 'P':
            if (has_prefix(s, r, "PM")) { *kind = L_PM; *len = 2; return i; }
            break;
        case 'p':
            if (has_prefix(s, r, "pm")) { *kind = L_pm; *len = 2; return i; }
            break;
        case '-':
            if (has_prefix(s, r, "-070000")) { *kind = L_NUMSECONDSTZ; *len = 7; return i; }
            if (has_prefix(s, r, "-07:00:00")) { *kind = L_NUMCOLONSECONDSTZ; *len = 9; return i; }
            if (has_prefix(s, r, "-0700")) { *kind = L_NUMTZ; *len = 5; return i; }
            if (has_prefix(s, r, "-07:00")) { *kind = L_NUMCOLONTZ; *len = 6; return i; }
            if (has_prefix(s, r, "-07")) { *kind = L_NUMSHORTTZ; *len = 3; return i; }
            break;
        case 'Z':
            if (has_prefix(s, r, "Z070000")) { *kind = L_ISO8601SECONDSTZ; *len = 7; return i; }
            if (has_prefix(s, r, "Z07:00:00")) { *kind = L_ISO8601COLONSECONDSTZ; *len = 9; return i; }
            if (has_prefix(s, r, "Z0700")) { *kind = L_ISO8601TZ; *len = 5; return i; }
            if (has_prefix(s, r, "Z07:00")) { *kind = L_ISO8601COLONTZ; *len = 6; return i; }
            if (has_prefix(s, r, "Z07")) { *kind = L_ISO8601SHORTTZ; *len = 3; return i; }
            break;
        case '.':
        case ',':
            if (r >= 2 && (s[1] == '0' || s[1] == '9')) {
                size_t j = 1;

                while (j < r && s[j] == s[1])
                    j++;
                if (!(j < r && s[j] >= '0' && s[j] <= '9')) {
                    *kind = s[1] == '0' ? L_FRAC0 : L_FRAC9;
                    *len = j;
                    *fdig = (int)(j - 1);
                    return i;
                }
            }
            break;
        default:
            break;
        }
    }
    *kind = L_NONE;
    *len = 0;
    return n;
}

static void put_num(struct sbuf *b, int64_t v, int width, char padc)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)(v < 0 ? -v : v)), i;

    if (v < 0)
        vouch_sb_putc(b, '-');
    for (i = n; i < width; i++)
        vouch_sb_putc(b, padc);
    vouch_sb_put(b, tmp, (size_t)n);
}

static void put_tz(struct sbuf *b, int32_t off, int kind)
{
    bool z = kind == L_ISO8601TZ || kind == L_ISO8601SECONDSTZ || kind == L_ISO8601SHORTTZ ||
             kind == L_ISO8601COLONTZ || kind == L_ISO8601COLONSECONDSTZ;
    int32_t a = off < 0 ? -off : off;

    if (z && off == 0) {
        vouch_sb_putc(b, 'Z');
        return;
    }
    vouch_sb_putc(b, off < 0 ? '-' : '+');
    put_num(b, a / 3600, 2, '0');
    if (kind == L_ISO8601COLONTZ || kind == L_NUMCOLONTZ || kind == L_ISO8601COLONSECONDSTZ ||
        kind == L_NUMCOLONSECONDSTZ)
        vouch_sb_putc(b, ':');
    if (kind != L_NUMSHORTTZ && kind != L_ISO8601SHORTTZ)
        put_num(b, a % 3600 / 60, 2, '0');
    if (kind == L_ISO8601SECONDSTZ || kind == L_NUMSECONDSTZ || kind == L_ISO8601COLONSECONDSTZ ||
        kind == L_NUMCOLONSECONDSTZ) {
        if (kind == L_ISO8601COLONSECONDSTZ || kind == L_NUMCOLONSECONDSTZ)
            vouch_sb_putc(b, ':');
        put_num(b, a % 60, 2, '0');
    }
}

/* A date element (month, weekday, day, day of year, year); false for any other kind. */
static bool format_date_element(struct sbuf *b, const struct tm_parts *t, int kind)
{
    const char *name;

    switch (kind) {
    case L_LONGMONTH:
    case L_MONTH:
        name = month_names[t->month - 1];
        vouch_sb_put(b, name, kind == L_MONTH ? 3 : strlen(name));
        return true;
    case L_NUMMONTH:
    case L_ZEROMONTH:
        put_num(b, t->month, kind == L_ZEROMONTH ? 2 : 0, '0');
        return true;
    case L_LONGWEEKDAY:
    case L_WEEKDAY:
        name = day_names[t->wday];
        vouch_sb_put(b, name, kind == L_WEEKDAY ? 3 : strlen(name));
        return true;
    case L_DAY:
    case L_UNDERDAY:
    case L_ZERODAY:
        put_num(b, t->day, kind == L_DAY ? 0 : 2, kind == L_UNDERDAY ? ' ' : '0');
        return true;
    case L_YEARDAY:
    case L_ZEROYEARDAY:
        put_num(b, t->yday, 3, kind == L_YEARDAY ? ' ' : '0');
        return true;
    case L_LONGYEAR:
        put_num(b, t->year, 4, '0');
        return true;
    case L_YEAR:
        put_num(b, ((t->year % 100) + 100) % 100, 2, '0');
        return true;
    default:
        return false;
    }
}

/* A clock element (hour, minute, second, AM/PM) or a zone. */
static void format_clock_element(struct sbuf *b, const struct tm_parts *t, int kind)
{
    int hour12 = t->hour % 12 ? t->hour % 12 : 12;

    switch (kind) {
    case L_HOUR:
        put_num(b, t->hour, 2, '0');
        break;
    case L_HOUR12:
    case L_ZEROHOUR12:
        put_num(b, hour12, kind == L_ZEROHOUR12 ? 2 : 0, '0');
        break;
    case L_MINUTE:
    case L_ZEROMINUTE:
        put_num(b, t->min, kind == L_ZEROMINUTE ? 2 : 0, '0');
        break;
    case L_SECOND:
    case L_ZEROSECOND:
        put_num(b, t->sec, kind == L_ZEROSECOND ? 2 : 0, '0');
        break;
    case L_PM:
    case L_pm:
        vouch_sb_put(b, t->hour >= 12 ? (kind == L_PM ? "PM" : "pm")
                                      : (kind == L_PM ? "AM" : "am"), 2);
        break;
    case L_TZ:
        if (t->off == 0)
            vouch_sb_put(b, "UTC", 3);
        else
            put_tz(b, t->off, L_NUMSHORTTZ);
        break;
    default:
        put_tz(b, t->off, kind);
    }
}

/*
 * A fraction of `fdig` digits after `sep` (L_FRAC0: all of them; L_FRAC9:
 * trailing zeros dropped, and nothing at all when none is left).
 */
static void format_fraction(struct sbuf *b, const struct tm_parts *t, int kind, int fdig,
                            char sep)
{
    char digs[10];
    int m = fdig > 9 ? 9 : fdig;

    snprintf(digs, sizeof(digs), "%09d", t->nsec);
    if (kind == L_FRAC9)
        while (m > 0 && digs[m - 1] == '0')
            m--;
    if (kind == L_FRAC9 && m == 0)
        return;
    vouch_sb_putc(b, sep);
    vouch_sb_put(b, digs, (size_t)m);
}

static void format_time(struct sbuf *b, const struct tm_parts *t, const char *l, size_t n)
{
    size_t i = 0;

    while (i < n) {
        int kind, fdig = 0;
        size_t len, start = next_token(l, n, i, &kind, &len, &fdig);

        vouch_sb_put(b, l + i, start - i);
        if (kind == L_NONE)
            break;
        i = start + len;
        if (kind == L_FRAC0 || kind == L_FRAC9)
            format_fraction(b, t, kind, fdig, l[start]);
        else if (!format_date_element(b, t, kind))
            format_clock_element(b, t, kind);
    }
}

BI(bi_time_format)
{
    int64_t ns;
    int32_t off;
    const struct rval *layout;
    const char *l = "2006-01-02T15:04:05.999999999Z07:00";
    size_t ln = strlen(l);
    struct tm_parts t;
    struct sbuf b;
    int rc;

    if ((rc = tz_time(ev, a[0], &ns, &off, &layout)))
        return rc;
    if (layout)
        layout_of(layout, &l, &ln);
    split_ns(ns, off, &t);
    vouch_sb_init(&b, ev);
    format_time(&b, &t, l, ln);
    *ret = vouch_sb_val(&b);
    return BI_OK;
}

/* ---- parsing ---- */

static bool get_num(const char **p, const char *end, int min, int max, int64_t *ret)
{
    const char *s = *p;
    int64_t v = 0;
    int n = 0;

    while (s < end && *s >= '0' && *s <= '9' && n < max) {
        v = v * 10 + (*s - '0');
        s++;
        n++;
    }
    if (n < min)
        return false;
    *p = s;
    *ret = v;
    return true;
}

static bool match_name(const char **p, const char *end, const char *const *names, int count,
                       size_t len, int *ret)
{
    int i;

    for (i = 0; i < count; i++) {
        size_t l = len ? len : strlen(names[i]);

        if ((size_t)(end - *p) >= l && strncasecmp(*p, names[i], l) == 0) {
            *p += l;
            *ret = i;
            return true;
        }
    }
    return false;
}

static bool parse_tz(const char **p, const char *end, int kind, int32_t *off)
{
    const char *s = *p;
    int64_t h = 0, m = 0, sec = 0;
    int sign;
    bool colon = kind == L_ISO8601COLONTZ || kind == L_NUMCOLONTZ ||
                 kind == L_ISO8601COLONSECONDSTZ || kind == L_NUMCOLONSECONDSTZ;
    bool secs = kind == L_ISO8601SECONDSTZ || kind == L_NUMSECONDSTZ ||
                kind == L_ISO8601COLONSECONDSTZ || kind == L_NUMCOLONSECONDSTZ;
    bool shrt = kind == L_ISO8601SHORTTZ || kind == L_NUMSHORTTZ;

    if (kind >= L_ISO8601TZ && kind <= L_ISO8601COLONSECONDSTZ && s < end && *s == 'Z') {
        *p = s + 1;
        *off = 0;
        return true;
    }
    if (s >= end || (*s != '+' && *s != '-'))
        return false;
    sign = *s == '-' ? -1 : 1;
    s++;
    if (!get_num(&s, end, 2, 2, &h))
        return false;
    if (!shrt) {
        if (colon) {
            if (s >= end || *s != ':')
                return false;
            s++;
        }
        if (!get_num(&s, end, 2, 2, &m))
            return false;
        if (secs) {
            if (colon) {
                if (s >= end || *s != ':')
                    return false;
                s++;
            }
            if (!get_num(&s, end, 2, 2, &sec))
                return false;
        }
    }
    if (h > 24 || m > 59 || sec > 59)
        return false;
    *off = (int32_t)(sign * (h * 3600 + m * 60 + sec));
    *p = s;
    return true;
}

/* What a value gives, element by element of its layout. */
struct time_fields {
    int64_t year, mon, day, hour, min, sec, nsec, yday;
    int32_t off;        /* seconds east of UTC */
    int pm;             /* -1 none, 0 AM, 1 PM */
};

/* Digits after '.' or ',' (at *p, already past it) as nanoseconds; returns their count. */
static int read_fraction(const char **p, const char *end, int64_t *ret_nsec)
{
    int64_t nsec = 0;
    int digits = 0, k;

    for (; *p < end && **p >= '0' && **p <= '9'; digits++, (*p)++)
        if (digits < 9)
            nsec = nsec * 10 + (**p - '0');
    for (k = digits; k < 9; k++)
        nsec *= 10;
    *ret_nsec = nsec;
    return digits;
}

/* A date element (month, weekday, day, day of year, year); false when it does not match. */
static bool parse_date_element(int kind, const char **p, const char *end,
                               struct time_fields *t)
{
    int idx;
    int64_t x;

    switch (kind) {
    case L_LONGMONTH:
    case L_MONTH:
        if (!match_name(p, end, month_names, 12, kind == L_MONTH ? 3 : 0, &idx))
            return false;
        t->mon = idx + 1;
        return true;
    case L_NUMMONTH:
    case L_ZEROMONTH:
        return get_num(p, end, kind == L_ZEROMONTH ? 2 : 1, 2, &t->mon) && t->mon >= 1 &&
               t->mon <= 12;
    case L_LONGWEEKDAY:
    case L_WEEKDAY:
        return match_name(p, end, day_names, 7, kind == L_WEEKDAY ? 3 : 0, &idx);
    case L_DAY:
    case L_UNDERDAY:
    case L_ZERODAY:
        if (kind == L_UNDERDAY && *p < end && **p == ' ')
            (*p)++;
        return get_num(p, end, kind == L_ZERODAY ? 2 : 1, 2, &t->day);
    case L_YEARDAY:
    case L_ZEROYEARDAY:
        while (kind == L_YEARDAY && *p < end && **p == ' ')
            (*p)++;
        return get_num(p, end, kind == L_ZEROYEARDAY ? 3 : 1, 3, &t->yday);
    case L_LONGYEAR:
        return get_num(p, end, 4, 4, &t->year);
    default: /* L_YEAR */
        if (!get_num(p, end, 2, 2, &x))
            return false;
        t->year = x >= 69 ? 1900 + x : 2000 + x;
        return true;
    }
}

/*
 * Seconds, and a fraction after them that the layout does not mention
 * (accepted, as Go does) unless the layout's next element is a fraction.
 */
static bool parse_seconds(int kind, const char **p, const char *end, const char *l, size_t ln,
                          size_t i, struct time_fields *t)
{
    int next, fdig;
    size_t nl;

    if (!get_num(p, end, kind == L_ZEROSECOND ? 2 : 1, 2, &t->sec) || t->sec > 59)
        return false;
    if (*p + 1 < end && (**p == '.' || **p == ',') && (*p)[1] >= '0' && (*p)[1] <= '9' &&
        !(next_token(l, ln, i, &next, &nl, &fdig) == i &&
          (next == L_FRAC0 || next == L_FRAC9))) {
        (*p)++;
        read_fraction(p, end, &t->nsec);
    }
    return true;
}

/* A clock element (hour, minute, AM/PM, fraction, zone); false when it does not match. */
static bool parse_clock_element(int kind, int fdig, const char **p, const char *end,
                                struct time_fields *t)
{
    switch (kind) {
    case L_HOUR:
        return get_num(p, end, 2, 2, &t->hour) && t->hour <= 23;
    case L_HOUR12:
    case L_ZEROHOUR12:
        return get_num(p, end, kind == L_ZEROHOUR12 ? 2 : 1, 2, &t->hour) && t->hour <= 12;
    case L_MINUTE:
    case L_ZEROMINUTE:
        return get_num(p, end, kind == L_ZEROMINUTE ? 2 : 1, 2, &t->min) && t->min <= 59;
    case L_PM:
    case L_pm:
        if ((size_t)(end - *p) < 2 ||
            (strncasecmp(*p, "PM", 2) != 0 && strncasecmp(*p, "AM", 2) != 0))
            return false;
        t->pm = strncasecmp(*p, "PM", 2) == 0;
        *p += 2;
        return true;
    case L_TZ:
        if ((size_t)(end - *p) >= 3 && !memcmp(*p, "UTC", 3)) {
            *p += 3;
            t->off = 0;
        } else if ((size_t)(end - *p) >= 3 && (*p)[0] >= 'A' && (*p)[0] <= 'Z') {
            /* an abbreviation: Go keeps the offset unknown (UTC) */
            while (*p < end && (*p)[0] >= 'A' && (*p)[0] <= 'Z')
                (*p)++;
        } else {
            return parse_tz(p, end, L_NUMTZ, &t->off);
        }
        return true;
    case L_FRAC0:
    case L_FRAC9:
        if (*p >= end || (**p != '.' && **p != ','))
            return kind == L_FRAC9;
        (*p)++;
        return read_fraction(p, end, &t->nsec) == fdig || kind == L_FRAC9;
    default:
        return parse_tz(p, end, kind, &t->off);
    }
}

static bool is_date_element(int kind)
{
    switch (kind) {
    case L_LONGMONTH: case L_MONTH: case L_NUMMONTH: case L_ZEROMONTH: case L_LONGWEEKDAY:
    case L_WEEKDAY: case L_DAY: case L_UNDERDAY: case L_ZERODAY: case L_YEARDAY:
    case L_ZEROYEARDAY: case L_LONGYEAR: case L_YEAR:
        return true;
    default:
        return false;
    }
}

/* The value against layout `l`, element by element: 1 matches, 0 does not, -1 extra text. */
static int match_layout(const char *l, size_t ln, const char *v, size_t vn,
                        struct time_fields *t)
{
    const char *p = v, *end = v + vn;
    size_t i = 0;

    while (i < ln) {
        int kind, fdig = 0;
        size_t len, start = next_token(l, ln, i, &kind, &len, &fdig), lit = start - i;
        bool ok;

        if ((size_t)(end - p) < lit || memcmp(p, l + i, lit) != 0)
            return 0;
        p += lit;
        if (kind == L_NONE)
            break;
        i = start + len;
        if (is_date_element(kind))
            ok = parse_date_element(kind, &p, end, t);
        else if (kind == L_SECOND || kind == L_ZEROSECOND)
            ok = parse_seconds(kind, &p, end, l, ln, i, t);
        else
            ok = parse_clock_element(kind, fdig, &p, end, t);
        if (!ok)
            return 0;
    }
    return p == end ? 1 : -1;
}

static int parse_time(struct ev *ev, const char *l, size_t ln, const char *v, size_t vn,
                      int64_t *ret_ns)
{
    struct time_fields t = { .year = 1, .mon = 1, .day = 1, .yday = -1, .pm = -1 };
    int64_t secs;
    int m = match_layout(l, ln, v, vn, &t);

    if (m < 0)
        return vouch_bi_fail(ev, BI_ERR, "parsing time \"%.*s\": extra text",
                             (int)(vn > 64 ? 64 : vn), v);
    if (m == 0)
        goto bad;
    if (t.pm == 1 && t.hour < 12)
        t.hour += 12;
    else if (t.pm == 0 && t.hour == 12)
        t.hour = 0;
    if (t.yday >= 0) {
        if (t.yday < 1 || t.yday > (is_leap(t.year) ? 366 : 365))
            goto bad;
        secs = (vouch_days_from_civil(t.year, 1, 1) + t.yday - 1) * 86400 + t.hour * 3600 +
               t.min * 60 + t.sec;
    } else {
        if (t.day < 1 || t.day > days_in_month(t.year, (unsigned)t.mon))
            return vouch_bi_fail(ev, BI_ERR, "parsing time \"%.*s\": day out of range",
                                 (int)(vn > 64 ? 64 : vn), v);
        secs = civil_secs(t.year, t.mon, t.day, t.hour, t.min, t.sec);
    }
    secs -= t.off;
    if (!to_ns(secs, t.nsec, ret_ns))
        return vouch_bi_fail(ev, BI_ERR, "time outside of valid range");
    return BI_OK;
bad:
    return vouch_bi_fail(ev, BI_ERR, "parsing time \"%.*s\" as \"%.*s\": cannot parse",
                         (int)(vn > 64 ? 64 : vn), v, (int)(ln > 64 ? 64 : ln), l);
}

BI(bi_parse_ns)
{
    const char *l;
    size_t ln;
    int64_t ns;
    int rc;

    NEED(0, RT_STR, "string");
    NEED(1, RT_STR, "string");
    layout_of(a[0], &l, &ln);
    if ((rc = parse_time(ev, l, ln, a[1]->u.s, a[1]->n, &ns)))
        return rc;
    *ret = vouch_rv_int(ev->a, ns);
    return BI_OK;
}

BI(bi_parse_rfc3339_ns)
{
    static const char l[] = "2006-01-02T15:04:05Z07:00";
    int64_t ns;
    int rc;

    NEED(0, RT_STR, "string");
    if ((rc = parse_time(ev, l, sizeof(l) - 1, a[0]->u.s, a[0]->n, &ns)))
        return rc;
    *ret = vouch_rv_int(ev->a, ns);
    return BI_OK;
}

/* A duration unit's length in ns, its text consumed; 0 when none. */
static uint64_t duration_unit(const char **p, const char *end)
{
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {
        { "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
        { "ms", 1000000 }, { "s", 1000000000ull }, { "m", 60000000000ull },
        { "h", 3600000000000ull },
    };
    size_t i;

    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        size_t n = strlen(units[i].name);

        /* "m" must not take the "m" of "ms" */
        if (has_prefix(*p, (size_t)(end - *p), units[i].name) &&
            !(n == 1 && *p + 1 < end && units[i].name[0] == 'm' && (*p)[1] == 's')) {
            *p += n;
            return units[i].ns;
        }
    }
    return 0;
}

/*
 * Go's time.ParseDuration, in the same unsigned arithmetic: the integer
 * part exact (an overflow is an error), the fraction scaled through a
 * double, the total at most 2^63 ns (2^63 itself only when negative).
 */
BI(bi_parse_duration_ns)
{
    const char *s, *end;
    bool neg = false;
    uint64_t total = 0;

    NEED(0, RT_STR, "string");
    vouch_ev_charge_scan(ev, a[0]->n);
    s = a[0]->u.s;
    end = s + a[0]->n;
    if (s < end && (*s == '-' || *s == '+'))
        neg = *s++ == '-';
    if (end - s == 1 && *s == '0') {
        *ret = vouch_rv_int(ev->a, 0);
        return BI_OK;
    }
    if (s == end)
        goto bad;
    while (s < end) {
        uint64_t v = 0, f = 0, unit;
        double scale = 1;
        bool digits = false, post = false;

        for (; s < end && *s >= '0' && *s <= '9'; s++, digits = true)
            if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
                goto bad;
        if (s < end && *s == '.') {
            for (s++; s < end && *s >= '0' && *s <= '9'; s++, digits = true) {
                if (post)
                    continue;   /* past what a uint64 holds: ignored, as Go does */
                if (f > (UINT64_MAX - 9) / 10) {
                    post = true;
                    continue;
                }
                f = f * 10 + (uint64_t)(*s - '0');
                scale *= 10;
            }
        }
        if (!digits || !(unit = duration_unit(&s, end)))
            goto bad;
        if (v > (1ull << 63) / unit)
            goto bad;
        v *= unit;
        if (f > 0) {
            double x = (double)f * ((double)unit / scale);

            /* x < unit <= 2^42: the conversion is defined */
            if (__builtin_add_overflow(v, (uint64_t)x, &v) || v > 1ull << 63)
                goto bad;
        }
        if (__builtin_add_overflow(total, v, &total) || total > 1ull << 63)
            goto bad;
    }
    if (!neg && total > (uint64_t)INT64_MAX)
        goto bad;
    *ret = vouch_rv_int(ev->a, neg ? (int64_t)(0 - total) : (int64_t)total);
    return BI_OK;
bad:
    return vouch_bi_fail(ev, BI_ERR, "time: invalid duration \"%.*s\"",
                         (int)(a[0]->n > 64 ? 64 : a[0]->n), a[0]->u.s);
}

/* The calendar fields of a time.date/clock/weekday argument (ns, or [ns, tz]). */
static int local_parts(struct ev *ev, const struct rval *arg, struct tm_parts *t)
{
    int64_t ns;
    int32_t off;
    int rc = tz_time(ev, arg, &ns, &off, NULL);

    if (!rc)
        split_ns(ns, off, t);
    return rc;
}

static const struct rval *int_triple(struct ev *ev, int64_t x, int64_t y, int64_t z)
{
    const struct rval **items = ev_alloc(ev, 3 * sizeof(*items));

    items[0] = vouch_rv_int(ev->a, x);
    items[1] = vouch_rv_int(ev->a, y);
    items[2] = vouch_rv_int(ev->a, z);
    return vouch_rv_arr(ev->a, items, 3);
}

BI(bi_time_date)
{
    struct tm_parts t;
    int rc = local_parts(ev, a[0], &t);

    if (rc)
        return rc;
    *ret = int_triple(ev, t.year, t.month, t.day);
    return BI_OK;
}

BI(bi_time_clock)
{
    struct tm_parts t;
    int rc = local_parts(ev, a[0], &t);

    if (rc)
        return rc;
    *ret = int_triple(ev, t.hour, t.min, t.sec);
    return BI_OK;
}

BI(bi_time_weekday)
{
    struct tm_parts t;
    int rc = local_parts(ev, a[0], &t);

    if (rc)
        return rc;
    *ret = vouch_rv_cstr(ev->a, day_names[t.wday]);
    return BI_OK;
}

BI(bi_time_add_date)
{
    int64_t ns, y, m, d, secs, tod, res;
    int32_t off;
    struct tm_parts t;
    int rc;

    if ((rc = tz_time(ev, a[0], &ns, &off, NULL)))
        return rc;
    if ((rc = vouch_bi_int_arg(ev, a, 1, &y)) || (rc = vouch_bi_int_arg(ev, a, 2, &m)) ||
        (rc = vouch_bi_int_arg(ev, a, 3, &d)))
        return rc;
    if (y > 1000000 || y < -1000000 || m > 12000000 || m < -12000000 || d > 400000000 ||
        d < -400000000)
        return vouch_bi_fail(ev, BI_ERR, "time outside of valid range");
    split_ns(ns, off, &t);
    tod = t.hour * 3600 + t.min * 60 + t.sec;
    secs = civil_secs(t.year + y, (int64_t)t.month + m, (int64_t)t.day + d, 0, 0, 0) + tod - off;
    if (!to_ns(secs, t.nsec, &res))
        return vouch_bi_fail(ev, BI_ERR, "time outside of valid range");
    *ret = vouch_rv_int(ev->a, res);
    return BI_OK;
}

BI(bi_time_diff)
{
    int64_t n1, n2;
    int32_t o1, o2;
    struct tm_parts t1, t2;
    int64_t year, month, day, hour, min, sec;
    const struct rval **items = ev_alloc(ev, 6 * sizeof(*items));
    int rc;

    if ((rc = tz_time(ev, a[0], &n1, &o1, NULL)) || (rc = tz_time(ev, a[1], &n2, &o2, NULL)))
        return rc;
    if (n1 > n2) {
        int64_t tmp = n1;

        n1 = n2;
        n2 = tmp;
    }
    split_ns(n1, o1, &t1);
    split_ns(n2, o1, &t2);
    year = t2.year - t1.year;
    month = (int64_t)t2.month - t1.month;
    day = (int64_t)t2.day - t1.day;
    hour = (int64_t)t2.hour - t1.hour;
    min = (int64_t)t2.min - t1.min;
    sec = (int64_t)t2.sec - t1.sec;
    if (sec < 0) {
        sec += 60;
        min--;
    }
    if (min < 0) {
        min += 60;
        hour--;
    }
    if (hour < 0) {
        hour += 24;
        day--;
    }
    if (day < 0) {
        day += days_in_month(t1.year, t1.month);
        month--;
    }
    if (month < 0) {
        month += 12;
        year--;
    }
    items[0] = vouch_rv_int(ev->a, year);
    items[1] = vouch_rv_int(ev->a, month);
    items[2] = vouch_rv_int(ev->a, day);
    items[3] = vouch_rv_int(ev->a, hour);
    items[4] = vouch_rv_int(ev->a, min);
    items[5] = vouch_rv_int(ev->a, sec);
    *ret = vouch_rv_arr(ev->a, items, 6);
    return BI_OK;
}

const struct builtin vouch_bi_time_table[] = {
    { "time.now_ns", 0, 0, bi_now_ns },
    { "time.parse_ns", 2, 0, bi_parse_ns },
    { "time.parse_rfc3339_ns", 1, 0, bi_parse_rfc3339_ns },
    { "time.parse_duration_ns", 1, 0, bi_parse_duration_ns },
    { "time.format", 1, 0, bi_time_format },
    { "time.date", 1, 0, bi_time_date },
    { "time.clock", 1, 0, bi_time_clock },
    { "time.weekday", 1, 0, bi_time_weekday },
    { "time.add_date", 4, 0, bi_time_add_date },
    { "time.diff", 2, 0, bi_time_diff },
};

const size_t vouch_bi_time_count = sizeof(vouch_bi_time_table) / sizeof(vouch_bi_time_table[0]);
