#include <stddef.h>

#include "hf_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *log_proc = "healthfleet";
static char log_instance[64] = "";
static enum hf_log_level log_min = HF_LOG_INFO;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

void hf_log_init(const char *proc, const char *instance, const char *level)
{
    log_proc = proc;
    snprintf(log_instance, sizeof log_instance, "%s", instance ? instance : "");
    for (int i = 0; i < 4; i++)
        if (level && strcmp(level, level_names[i]) == 0)
            log_min = (enum hf_log_level)i;
}

void hf_json_escape(const char *s, char *out, size_t outsz)
{
    size_t o = 0;
    for (; s && *s && o + 7 < outsz; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, outsz - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
}

void hf_log(enum hf_log_level level, const char *event_id, const char *fmt, ...)
{
    if (level < log_min)
        return;
    char msg[1024], esc[2048], eid[160] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hf_json_escape(msg, esc, sizeof esc);
    if (event_id) {
        char e[80];
        hf_json_escape(event_id, e, sizeof e);
        snprintf(eid, sizeof eid, ",\"event_id\":\"%s\"", e);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    /* One fprintf per line: stdio locks the stream, so lines from threads never interleave. */
    fprintf(stderr, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"proc\":\"%s\",\"instance\":\"%s\"%s,\"msg\":\"%s\"}\n",
            when, ts.tv_nsec / 1000000, level_names[level], log_proc, log_instance, eid, esc);
}
