/* hf_tz: IANA time zones read from the system's TZif files, without TZ,
 * setenv or localtime (which would make one zone a hidden process-wide
 * setting). A zone is an immutable value: load it once, use it from any
 * thread.
 *
 * Times are seconds since the Unix epoch (UTC instants) or "wall" seconds:
 * the local calendar date and clock time counted as if they were UTC, so
 * civil arithmetic on them is plain integer arithmetic.
 *
 * Beyond the last transition of the file (2037 in "fat" files, earlier in
 * "slim" ones) the POSIX rule of the file's footer applies (M, J and plain
 * day forms). Assumption: at most one offset change within any 24 hours of
 * wall time, true of every zone since 1900 except a few one-off calendar
 * shifts (Samoa skipping 30 December 2011), which resolve to a valid but
 * possibly surprising instant. */
#ifndef HF_TZ_H
#define HF_TZ_H

#include <stdint.h>

#include "hf_err.h"

typedef struct hf_tz hf_tz;

/* Where zone files are read from. */
#define HF_TZ_DIR "/usr/share/zoneinfo"

/* Loads zone `name` ("Europe/Berlin"; "UTC" needs no file). Caller frees
 * with hf_tz_free. Returns 0, HF_EINVAL for a name that cannot be a zone
 * (empty, "..", absolute, odd characters) or a file that is not valid TZif,
 * HF_ENOTFOUND when no such zone is installed. */
int hf_tz_load(const char *name, hf_tz **out, struct hf_err *err);
void hf_tz_free(hf_tz *tz);

/* The name it was loaded with; valid while tz lives. */
const char *hf_tz_name(const hf_tz *tz);

/* Seconds east of UTC in effect at instant t (wall = t + offset). */
int32_t hf_tz_offset(const hf_tz *tz, int64_t t);

enum hf_tz_kind {
    HF_TZ_UNIQUE, /* the wall time happens once: out[0] */
    HF_TZ_FOLD,   /* twice (clocks went back): out[0] < out[1] */
    HF_TZ_GAP,    /* never (clocks went forward): out[0] is the first instant after the gap */
};

/* The instants at which the clocks of tz show `wall`. */
enum hf_tz_kind hf_tz_resolve(const hf_tz *tz, int64_t wall, int64_t out[2]);

#endif
