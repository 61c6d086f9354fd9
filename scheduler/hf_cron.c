#include "hf_cron.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hf_civil.h"

#define DAY 86400
#define SEARCH_DAYS (30 * 366)

enum { F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, N_FIELDS };

struct field_def {
    const char *name;
    int lo, hi;
    const char *const *names; /* index 0 is the name of value lo */
};

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun",
                                           "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const struct field_def defs[N_FIELDS] = {
    { "second", 0, 59, NULL },       { "minute", 0, 59, NULL }, { "hour", 0, 23, NULL },
    { "day of month", 1, 31, NULL }, { "month", 1, 12, month_names },
    /* 7 is Sunday too, folded into 0 after parsing */
    { "day of week", 0, 7, day_names },
};

struct hf_cron {
    uint64_t set[N_FIELDS]; /* bit v: value v allowed */
    bool dom_star, dow_star;
};

static const struct {
    const char *name;
    const char *expr;
} macros[] = {
    { "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
    { "@weekly", "0 0 * * 0" }, { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
    { "@hourly", "0 * * * *" },
};

/* A number or (where the field has them) a three-letter name; returns the
 * end or NULL with err filled. */
static const char *parse_value(const char *p, const char *end, int f, int pos, int *out, struct hf_err *err)
{
    const struct field_def *d = &defs[f];
    if (p < end && isdigit((unsigned char)*p)) {
        long v = 0;
        const char *q = p;
        while (q < end && isdigit((unsigned char)*q) && v < 1000)
            v = v * 10 + (*q++ - '0');
        if (q < end && isdigit((unsigned char)*q)) {
            hf_err_set(err, HF_EINVAL, false, "field %d (%s): number too long", pos, d->name);
            return NULL;
        }
        if (v < d->lo || v > d->hi) {
            hf_err_set(err, HF_EINVAL, false, "field %d (%s): %ld is out of range %d-%d", pos, d->name, v, d->lo,
                       d->hi);
            return NULL;
        }
        *out = (int)v;
        return q;
    }
    if (d->names && end - p >= 3) {
        for (int i = 0; d->names[i]; i++) {
            if (strncasecmp(p, d->names[i], 3) == 0 && (end - p == 3 || !isalpha((unsigned char)p[3]))) {
                *out = d->lo + i;
                return p + 3;
            }
        }
    }
    int len = (int)(end - p);
    hf_err_set(err, HF_EINVAL, false, "field %d (%s): \"%.*s\" is not a %s", pos, d->name, len > 20 ? 20 : len, p,
               d->names ? "number or name" : "number");
    return NULL;
}

/* One comma-separated item: `*`, `N`, `A-B`, each with an optional `/STEP`. */
static int parse_item(const char *p, const char *end, int f, int pos, uint64_t *set, struct hf_err *err)
{
    const struct field_def *d = &defs[f];
    int lo, hi, step = 1;
    bool ranged = false;
    if (p == end)
        return hf_err_set(err, HF_EINVAL, false, "field %d (%s): empty list item", pos, d->name);
    if (*p == '*') {
        lo = d->lo;
        hi = f == F_DOW ? 6 : d->hi;
        p++;
        ranged = true;
    } else {
        if (!(p = parse_value(p, end, f, pos, &lo, err)))
            return HF_EINVAL;
        hi = lo;
        if (p < end && *p == '-') {
            if (!(p = parse_value(p + 1, end, f, pos, &hi, err)))
                return HF_EINVAL;
            if (hi < lo)
                return hf_err_set(err, HF_EINVAL, false,
                                  "field %d (%s): range %d-%d runs backwards (write it as two ranges)", pos, d->name,
                                  lo, hi);
            ranged = true;
        }
    }
    if (p < end && *p == '/') {
        p++;
        if (p == end || !isdigit((unsigned char)*p))
            return hf_err_set(err, HF_EINVAL, false, "field %d (%s): a step needs a number after /", pos, d->name);
        long s = 0;
        while (p < end && isdigit((unsigned char)*p) && s < 1000)
            s = s * 10 + (*p++ - '0');
        if (s < 1 || s > d->hi)
            return hf_err_set(err, HF_EINVAL, false, "field %d (%s): step %ld is out of range 1-%d", pos, d->name,
                              s, d->hi);
        step = (int)s;
        if (!ranged)
            hi = f == F_DOW ? 6 : d->hi; /* N/STEP: from N to the end */
    }
    if (p != end)
        return hf_err_set(err, HF_EINVAL, false, "field %d (%s): unexpected \"%.*s\"", pos, d->name,
                          (int)(end - p) > 20 ? 20 : (int)(end - p), p);
    for (int v = lo; v <= hi; v += step)
        *set |= (uint64_t)1 << (f == F_DOW && v == 7 ? 0 : v);
    return 0;
}

static int parse_field(const char *p, const char *end, int f, int pos, struct hf_cron *c, struct hf_err *err)
{
    if (f == F_DOM)
        c->dom_star = *p == '*';
    if (f == F_DOW)
        c->dow_star = *p == '*';
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma ? comma : end;
        int rc = parse_item(p, item_end, f, pos, &c->set[f], err);
        if (rc)
            return rc;
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

/* Refuses day-of-month lists that name no real day of the listed months
 * (30 February), which would never fire. */
static int check_possible(const struct hf_cron *c, struct hf_err *err)
{
    if (c->dom_star || !c->dow_star)
        return 0;
    for (int m = 1; m <= 12; m++) {
        if (!(c->set[F_MON] & ((uint64_t)1 << m)))
            continue;
        int max = m == 2 ? 29 : hf_civil_mdays(2001, m);
        for (int d = 1; d <= max; d++)
            if (c->set[F_DOM] & ((uint64_t)1 << d))
                return 0;
    }
    return hf_err_set(err, HF_EINVAL, false, "day of month and month never meet (like 30 February): it would never fire");
}

int hf_cron_parse(const char *expr, hf_cron **out, struct hf_err *err)
{
    *out = NULL;
    if (!expr)
        return hf_err_set(err, HF_EINVAL, false, "empty cron expression");
    size_t len = strnlen(expr, HF_CRON_MAX_LEN + 1);
    if (len > HF_CRON_MAX_LEN)
        return hf_err_set(err, HF_EINVAL, false, "cron expression longer than %d characters", HF_CRON_MAX_LEN);
    while (*expr == ' ' || *expr == '\t')
        expr++;
    if (*expr == '@') {
        const char *end = expr;
        while (*end && *end != ' ' && *end != '\t')
            end++;
        const char *rest = end;
        while (*rest == ' ' || *rest == '\t')
            rest++;
        for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
            if ((size_t)(end - expr) == strlen(macros[i].name) && strncasecmp(expr, macros[i].name, (size_t)(end - expr)) == 0 &&
                *rest == '\0')
                return hf_cron_parse(macros[i].expr, out, err);
        return hf_err_set(err, HF_EINVAL, false,
                          "unknown macro \"%.*s\" (use @yearly, @monthly, @weekly, @daily or @hourly, alone)",
                          (int)(end - expr) > 20 ? 20 : (int)(end - expr), expr);
    }
    const char *start[N_FIELDS + 1], *stop[N_FIELDS + 1];
    int n = 0;
    for (const char *p = expr; *p;) {
        if (*p == ' ' || *p == '\t') {
            p++;
            continue;
        }
        if (!isprint((unsigned char)*p))
            return hf_err_set(err, HF_EINVAL, false, "cron expression has a control or non-ASCII character");
        if (n == N_FIELDS + 1)
            break;
        start[n] = p;
        while (*p && *p != ' ' && *p != '\t' && isprint((unsigned char)*p))
            p++;
        stop[n++] = p;
    }
    if (n != 5 && n != 6)
        return hf_err_set(err, HF_EINVAL, false,
                          "a cron expression has 5 fields (minute hour day-of-month month day-of-week) or 6 (with "
                          "seconds first); this one has %s%d",
                          n > N_FIELDS ? "more than " : "", n > N_FIELDS ? N_FIELDS : n);
    hf_cron *c = calloc(1, sizeof *c);
    if (!c)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    int first = n == 5 ? F_MIN : F_SEC;
    if (n == 5)
        c->set[F_SEC] = 1;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        rc = parse_field(start[i], stop[i], first + i, i + 1, c, err);
    if (rc == 0)
        rc = check_possible(c, err);
    if (rc) {
        hf_cron_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void hf_cron_free(hf_cron *c)
{
    free(c);
}

/* Lowest allowed value >= from in set, or -1. */
static int next_bit(uint64_t set, int from, int max)
{
    for (int v = from; v <= max; v++)
        if (set & ((uint64_t)1 << v))
            return v;
    return -1;
}

static bool day_matches(const struct hf_cron *c, int64_t day)
{
    int64_t y;
    int m, d;
    hf_civil_from_days(day, &y, &m, &d);
    if (!(c->set[F_MON] & ((uint64_t)1 << m)))
        return false;
    bool dom = c->set[F_DOM] & ((uint64_t)1 << d), dow = c->set[F_DOW] & ((uint64_t)1 << hf_civil_weekday(day));
    return c->dom_star || c->dow_star ? dom && dow : dom || dow;
}

/* The first matching wall second >= w, or INT64_MIN past the search bound. */
static int64_t next_wall(const struct hf_cron *c, int64_t w)
{
    int64_t day = hf_civil_floordiv(w, DAY);
    int sod = (int)(w - day * DAY);
    int h0 = sod / 3600, m0 = sod % 3600 / 60, s0 = sod % 60;
    for (int i = 0; i < SEARCH_DAYS; i++, day++, h0 = m0 = s0 = 0) {
        if (!day_matches(c, day))
            continue;
        for (int h = next_bit(c->set[F_HOUR], h0, 23); h >= 0; h = next_bit(c->set[F_HOUR], h + 1, 23)) {
            int mfrom = h == h0 ? m0 : 0;
            for (int m = next_bit(c->set[F_MIN], mfrom, 59); m >= 0; m = next_bit(c->set[F_MIN], m + 1, 59)) {
                int s = next_bit(c->set[F_SEC], h == h0 && m == m0 ? s0 : 0, 59);
                if (s >= 0)
                    return day * DAY + h * 3600 + m * 60 + s;
            }
        }
    }
    return INT64_MIN;
}

int hf_cron_next(const hf_cron *c, const hf_tz *tz, int64_t after, int64_t *next)
{
    /* Wall times ascend and map to ascending instants (gaps collapse to the
     * change's instant, folds to their first occurrence), so the first wall
     * time whose instant is past `after` is the answer. Only the second pass
     * of a fold makes a few candidates land at or before `after`. */
    int64_t w = after + hf_tz_offset(tz, after) + 1;
    for (;;) {
        w = next_wall(c, w);
        if (w == INT64_MIN)
            return HF_ENOTFOUND;
        int64_t at[2];
        hf_tz_resolve(tz, w, at);
        if (at[0] > after) {
            *next = at[0];
            return 0;
        }
        w++;
    }
}
