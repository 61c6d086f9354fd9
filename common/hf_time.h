/* hf_time: the few time conversions healthfleet needs, all in UTC. */
#ifndef HF_TIME_H
#define HF_TIME_H

#include <stddef.h>
#include <stdint.h>

/* The instants a timestamp may name, in UTC: 1900-01-01T00:00:00Z to
 * 9999-12-31T23:59:59.999999Z, in microseconds since the Unix epoch. One
 * outside is refused everywhere, so every stored one prints and parses back. */
#define HF_TIME_MIN_US (-2208988800000000LL)
#define HF_TIME_MAX_US 253402300799999999LL

/* Parses an RFC 3339 timestamp ("2026-11-20T08:30:00Z", fractions and
 * "+02:00" offsets allowed) into microseconds since the Unix epoch.
 * Returns 0, or HF_EINVAL when s is not such a timestamp, names a day that
 * does not exist (30 February), or falls outside HF_TIME_MIN_US..MAX_US in
 * UTC ("1900-01-01T00:00:00+01:00"). */
int hf_time_parse_rfc3339(const char *s, int64_t *out_us);

/* Writes "YYYY-MM-DDTHH:MM:SS.uuuuuuZ". */
void hf_time_format_rfc3339(int64_t us, char *out, size_t outsz);

/* Parses "YYYY-MM-DD" into days since the epoch; HF_EINVAL when invalid. */
int hf_time_parse_date(const char *s, int32_t *out_days);

/* Writes "YYYY-MM-DD" for the UTC day holding us. */
void hf_time_format_date(int64_t us, char *out, size_t outsz);

int64_t hf_time_now_us(void);
/* Monotonic clock in microseconds, for durations and deadlines. */
int64_t hf_time_mono_us(void);

#endif
