#include "hf_time.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hf_civil.h"
#include "hf_err.h"

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int parse_ymd(const char *s, int *y, int *m, int *d)
{
    if (digits(s, 4, y) || s[4] != '-' || digits(s + 5, 2, m) || s[7] != '-' || digits(s + 8, 2, d))
        return HF_EINVAL;
    if (*y < 1900 || *m < 1 || *m > 12 || *d < 1 || *d > hf_civil_mdays(*y, *m))
        return HF_EINVAL;
    return 0;
}

int hf_time_parse_date(const char *s, int32_t *out_days)
{
    int y, m, d;
    if (strlen(s) != 10 || parse_ymd(s, &y, &m, &d))
        return HF_EINVAL;
    *out_days = (int32_t)hf_civil_days(y, m, d);
    return 0;
}

int hf_time_parse_rfc3339(const char *s, int64_t *out_us)
{
    int y, mo, d, h, mi, sec;
    if (strlen(s) < 20 || parse_ymd(s, &y, &mo, &d))
        return HF_EINVAL;
    if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) || s[13] != ':' ||
        digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
        return HF_EINVAL;
    if (h > 23 || mi > 59 || sec > 60)
        return HF_EINVAL;
    const char *p = s + 19;
    int64_t frac_us = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        int64_t scale = 100000;
        while (isdigit((unsigned char)*p)) {
            if (n < 6)
                frac_us += (*p - '0') * scale;
            scale /= 10;
            n++;
            p++;
        }
        if (n == 0 || n > 9)
            return HF_EINVAL;
    }
    int64_t offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return HF_EINVAL;
        offset_s = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return HF_EINVAL;
    }
    if (*p != '\0')
        return HF_EINVAL;
    if (sec == 60)
        sec = 59; /* a leap second is recorded as the second before it */
    int64_t t = hf_civil_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
    int64_t us = t * 1000000 + frac_us;
    if (us < HF_TIME_MIN_US || us > HF_TIME_MAX_US)
        return HF_EINVAL;
    *out_us = us;
    return 0;
}

void hf_time_format_rfc3339(int64_t us, char *out, size_t outsz)
{
    int64_t sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    int64_t frac = us - sec * 1000000;
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, outsz, "%s.%06ldZ", base, (long)frac);
}

void hf_time_format_date(int64_t us, char *out, size_t outsz)
{
    int64_t sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, outsz, "%Y-%m-%d", &tm);
}

int64_t hf_time_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t hf_time_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
