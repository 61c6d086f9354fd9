/* hf_civil: proleptic Gregorian calendar arithmetic on day numbers (days
 * since 1970-01-01), shared by hf_time, the cron and time zone modules. Header only: pure
 * functions, no state. Algorithms after H. Hinnant, "chrono-compatible
 * low-level date algorithms". */
#ifndef HF_CIVIL_H
#define HF_CIVIL_H

#include <stdbool.h>
#include <stdint.h>

static inline int64_t hf_civil_days(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static inline void hf_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* 0 = Sunday .. 6 = Saturday. */
static inline int hf_civil_weekday(int64_t z)
{
    return (int)(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

/* The Monday on or before day z: the first day of z's week, as the fleet's
 * weeks (Monday to Sunday) are keyed. */
static inline int64_t hf_civil_monday(int64_t z)
{
    return z - (hf_civil_weekday(z) + 6) % 7;
}

static inline bool hf_civil_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static inline int hf_civil_mdays(int64_t y, int m)
{
    static const int n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && hf_civil_leap(y) ? 29 : n[m - 1];
}

/* Floor division for seconds to days and the like. */
static inline int64_t hf_civil_floordiv(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

#endif
