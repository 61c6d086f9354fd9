#include "hf_tz.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_civil.h"

#define MAX_TZ_FILE (1 << 20)
#define DAY 86400

/* One end of daylight time in a POSIX rule: Mm.w.d, Jn or n, and a time of
 * day (may be negative or past 24 h). */
struct rule_date {
    char form; /* 'M', 'J' or 'D' (zero-based day of the year) */
    int month, week, wday, yday;
    int32_t secs;
};

struct posix_rule {
    int32_t std_off, dst_off; /* seconds east of UTC */
    bool has_dst;
    struct rule_date start, end;
};

struct hf_tz {
    char name[128];
    int64_t *trans; /* transition instants, ascending */
    uint8_t *idx;   /* type index per transition */
    int32_t *offs;  /* utoff per type */
    uint32_t ntrans, ntypes;
    int32_t first_off; /* before the first transition */
    bool has_rule;
    struct posix_rule rule;
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ---------- POSIX TZ rule (the TZif footer) ---------- */

static const char *skip_name(const char *p)
{
    if (*p == '<') {
        const char *q = strchr(p, '>');
        return q ? q + 1 : NULL;
    }
    const char *q = p;
    while ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z'))
        q++;
    return q - p >= 3 ? q : NULL;
}

/* [+-]hh[:mm[:ss]] with hh up to 167; returns the end or NULL. */
static const char *parse_hms(const char *p, int32_t *out)
{
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    int32_t part[3] = { 0, 0, 0 };
    for (int i = 0; i < 3; i++) {
        if (*p < '0' || *p > '9')
            return i == 0 ? NULL : p - 1; /* a ':' with no digits after it */
        int v = 0;
        while (*p >= '0' && *p <= '9' && v < 1000)
            v = v * 10 + (*p++ - '0');
        part[i] = v;
        if (*p != ':')
            break;
        p++;
    }
    if (part[0] > 167 || part[1] > 59 || part[2] > 59)
        return NULL;
    *out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
    return p;
}

static const char *parse_int(const char *p, int lo, int hi, int *out)
{
    if (*p < '0' || *p > '9')
        return NULL;
    int v = 0;
    while (*p >= '0' && *p <= '9' && v <= hi)
        v = v * 10 + (*p++ - '0');
    if (v < lo || v > hi)
        return NULL;
    *out = v;
    return p;
}

static const char *parse_rule_date(const char *p, struct rule_date *d)
{
    memset(d, 0, sizeof *d);
    d->secs = 7200;
    if (*p == 'M') {
        d->form = 'M';
        p = parse_int(p + 1, 1, 12, &d->month);
        if (p && *p == '.')
            p = parse_int(p + 1, 1, 5, &d->week);
        else
            p = NULL;
        if (p && *p == '.')
            p = parse_int(p + 1, 0, 6, &d->wday);
        else
            p = NULL;
    } else if (*p == 'J') {
        d->form = 'J';
        p = parse_int(p + 1, 1, 365, &d->yday);
    } else {
        d->form = 'D';
        p = parse_int(p, 0, 365, &d->yday);
    }
    if (p && *p == '/')
        p = parse_hms(p + 1, &d->secs);
    return p;
}

/* "CET-1CEST,M3.5.0,M10.5.0/3": POSIX offsets count west, ours east. */
static bool parse_rule(const char *s, struct posix_rule *r)
{
    memset(r, 0, sizeof *r);
    const char *p = skip_name(s);
    int32_t v;
    if (!p || !(p = parse_hms(p, &v)))
        return false;
    r->std_off = -v;
    if (*p == '\0')
        return true;
    if (!(p = skip_name(p)))
        return false;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*p != ',' && *p != '\0') {
        if (!(p = parse_hms(p, &v)))
            return false;
        r->dst_off = -v;
    }
    /* A DST name with no dates: the POSIX default rule is US-specific and
     * no current zone relies on it. */
    if (*p != ',' || !(p = parse_rule_date(p + 1, &r->start)) || *p != ',' ||
        !(p = parse_rule_date(p + 1, &r->end)))
        return false;
    return *p == '\0';
}

/* Wall seconds (in the offset in force before the change) of a rule date in
 * year y. */
static int64_t rule_wall(const struct rule_date *d, int64_t y)
{
    int64_t day;
    if (d->form == 'M') {
        int64_t first = hf_civil_days(y, d->month, 1);
        int64_t dd = (d->wday - hf_civil_weekday(first) + 7) % 7 + (int64_t)(d->week - 1) * 7;
        if (dd >= hf_civil_mdays(y, d->month))
            dd -= 7;
        day = first + dd;
    } else if (d->form == 'J') {
        /* 1..365, 29 February never counted */
        day = hf_civil_days(y, 1, 1) + d->yday - 1 + (hf_civil_leap(y) && d->yday >= 60);
    } else {
        day = hf_civil_days(y, 1, 1) + d->yday;
    }
    return day * DAY + d->secs;
}

static int32_t rule_offset(const struct posix_rule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    int64_t y;
    int m, d;
    hf_civil_from_days(hf_civil_floordiv(t + r->std_off, DAY), &y, &m, &d);
    /* The year boundary in wall time can differ from UTC's: check the
     * neighbours too, so an instant near New Year sees the right rule. */
    int32_t off = r->std_off;
    int64_t best = INT64_MIN;
    for (int64_t yy = y - 1; yy <= y + 1; yy++) {
        int64_t start = rule_wall(&r->start, yy) - r->std_off;
        int64_t end = rule_wall(&r->end, yy) - r->dst_off;
        if (start <= t && start > best) {
            best = start;
            off = r->dst_off;
        }
        if (end <= t && end > best) {
            best = end;
            off = r->std_off;
        }
    }
    return off;
}

/* ---------- TZif ---------- */

struct counts {
    uint32_t isut, isstd, leap, time, type, chars;
};

static void read_counts(const unsigned char *h, struct counts *c)
{
    c->isut = be32(h + 20);
    c->isstd = be32(h + 24);
    c->leap = be32(h + 28);
    c->time = be32(h + 32);
    c->type = be32(h + 36);
    c->chars = be32(h + 40);
}

static size_t block_len(const struct counts *c, int tsize)
{
    return (size_t)c->time * (size_t)(tsize + 1) + (size_t)c->type * 6 + c->chars + (size_t)c->leap * (size_t)(tsize + 4) +
           c->isstd + c->isut;
}

static int parse_tzif(hf_tz *tz, const unsigned char *b, size_t n, struct hf_err *err)
{
    struct counts c;
    if (n < 44 || memcmp(b, "TZif", 4) != 0)
        return hf_err_set(err, HF_EINVAL, false, "time zone %s: not a TZif file", tz->name);
    read_counts(b, &c);
    size_t pos = 44 + block_len(&c, 4);
    int tsize = 4;
    if (b[4] >= '2') {
        /* version 2+: skip the 32-bit block, use the 64-bit one */
        if (pos + 44 > n || memcmp(b + pos, "TZif", 4) != 0)
            return hf_err_set(err, HF_EINVAL, false, "time zone %s: truncated TZif file", tz->name);
        read_counts(b + pos, &c);
        pos += 44;
        tsize = 8;
    }
    if (c.type == 0 || c.type > 256 || c.time > 100000 || pos + block_len(&c, tsize) > n)
        return hf_err_set(err, HF_EINVAL, false, "time zone %s: corrupt TZif counts", tz->name);
    const unsigned char *tp = b + pos, *ip = tp + (size_t)c.time * (size_t)tsize, *ty = ip + c.time;
    tz->trans = calloc(c.time + 1, sizeof *tz->trans);
    tz->idx = calloc(c.time + 1, 1);
    tz->offs = calloc(c.type, sizeof *tz->offs);
    if (!tz->trans || !tz->idx || !tz->offs)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    for (uint32_t i = 0; i < c.time; i++) {
        tz->trans[i] = tsize == 8 ? be64(tp + 8 * (size_t)i) : (int32_t)be32(tp + 4 * (size_t)i);
        tz->idx[i] = ip[i];
        if (ip[i] >= c.type || (i > 0 && tz->trans[i] <= tz->trans[i - 1]))
            return hf_err_set(err, HF_EINVAL, false, "time zone %s: corrupt transition %u", tz->name, i);
    }
    for (uint32_t i = 0; i < c.type; i++) {
        int32_t off = (int32_t)be32(ty + 6 * (size_t)i);
        if (off < -26 * 3600 || off > 26 * 3600)
            return hf_err_set(err, HF_EINVAL, false, "time zone %s: offset %d out of range", tz->name, off);
        tz->offs[i] = off;
    }
    tz->ntrans = c.time;
    tz->ntypes = c.type;
    tz->first_off = tz->offs[0];
    pos += block_len(&c, tsize);
    if (tsize == 8 && pos < n && b[pos] == '\n') {
        const unsigned char *end = memchr(b + pos + 1, '\n', n - pos - 1);
        char footer[128];
        size_t len = end ? (size_t)(end - (b + pos + 1)) : 0;
        if (end && len > 0 && len < sizeof footer) {
            memcpy(footer, b + pos + 1, len);
            footer[len] = '\0';
            if (!parse_rule(footer, &tz->rule))
                return hf_err_set(err, HF_EINVAL, false, "time zone %s: unsupported rule \"%s\"", tz->name, footer);
            tz->has_rule = true;
        }
    }
    return 0;
}

static bool valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= 100 || name[0] == '/' || strstr(name, ".."))
        return false;
    for (const char *p = name; *p; p++) {
        char ch = *p;
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '/' ||
              ch == '_' || ch == '-' || ch == '+' || ch == '.'))
            return false;
    }
    return true;
}

static int read_file(const char *path, const char *name, unsigned char **out, size_t *outlen, struct hf_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT || errno == ENOTDIR
                   ? hf_err_set(err, HF_ENOTFOUND, false, "unknown time zone \"%s\" (no %s)", name, path)
                   : hf_err_set(err, HF_EIO, false, "time zone %s: cannot open %s", name, path);
    unsigned char *buf = malloc(MAX_TZ_FILE);
    size_t n = buf ? fread(buf, 1, MAX_TZ_FILE, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    if (bad || n == MAX_TZ_FILE) {
        free(buf);
        return hf_err_set(err, HF_EINVAL, false, "time zone %s: %s is unreadable or too large", name, path);
    }
    *out = buf;
    *outlen = n;
    return 0;
}

int hf_tz_load(const char *name, hf_tz **out, struct hf_err *err)
{
    *out = NULL;
    if (!name || !valid_name(name))
        return hf_err_set(err, HF_EINVAL, false, "\"%s\" is not a time zone name (like Europe/Berlin or UTC)",
                          name ? name : "");
    hf_tz *tz = calloc(1, sizeof *tz);
    if (!tz)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    snprintf(tz->name, sizeof tz->name, "%s", name);
    if (strcmp(name, "UTC") == 0) {
        *out = tz;
        return 0;
    }
    char path[256];
    snprintf(path, sizeof path, "%s/%s", HF_TZ_DIR, name);
    unsigned char *buf = NULL;
    size_t n = 0;
    int rc = read_file(path, name, &buf, &n, err);
    if (rc == 0)
        rc = parse_tzif(tz, buf, n, err);
    free(buf);
    if (rc) {
        hf_tz_free(tz);
        return rc;
    }
    *out = tz;
    return 0;
}

void hf_tz_free(hf_tz *tz)
{
    if (!tz)
        return;
    free(tz->trans);
    free(tz->idx);
    free(tz->offs);
    free(tz);
}

const char *hf_tz_name(const hf_tz *tz)
{
    return tz->name;
}

int32_t hf_tz_offset(const hf_tz *tz, int64_t t)
{
    if (tz->ntrans == 0)
        return tz->has_rule ? rule_offset(&tz->rule, t) : tz->first_off;
    if (t < tz->trans[0])
        return tz->first_off;
    if (t >= tz->trans[tz->ntrans - 1] && tz->has_rule)
        return rule_offset(&tz->rule, t);
    uint32_t lo = 0, hi = tz->ntrans; /* trans[lo] <= t < trans[hi] */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return tz->offs[tz->idx[lo]];
}

enum hf_tz_kind hf_tz_resolve(const hf_tz *tz, int64_t wall, int64_t out[2])
{
    /* The offsets a day either side bracket the one change we may be near. */
    int32_t before = hf_tz_offset(tz, wall - DAY), after = hf_tz_offset(tz, wall + DAY);
    int64_t a = wall - before, b = wall - after;
    bool a_ok = a + hf_tz_offset(tz, a) == wall, b_ok = b + hf_tz_offset(tz, b) == wall;
    if (a_ok && b_ok && a != b) {
        out[0] = a < b ? a : b;
        out[1] = a < b ? b : a;
        return HF_TZ_FOLD;
    }
    if (a_ok || b_ok) {
        out[0] = a_ok ? a : b;
        return HF_TZ_UNIQUE;
    }
    /* A gap: the change lies in (b, a]; find its instant. */
    int64_t lo = b, hi = a;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (hf_tz_offset(tz, mid) == after)
            hi = mid;
        else
            lo = mid;
    }
    out[0] = hi;
    return HF_TZ_GAP;
}
