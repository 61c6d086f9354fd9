/* hf_log: one JSON object per line on stderr, for log shippers.
 *
 * Lines carry the process, the level, an optional event_id and a message.
 * Never put health data (payload values, names, free text from users) into a
 * message: event ids, counts, offsets and error texts only. */
#ifndef HF_LOG_H
#define HF_LOG_H

enum hf_log_level { HF_LOG_DEBUG, HF_LOG_INFO, HF_LOG_WARN, HF_LOG_ERROR };

/* Called once at start, before threads. proc is kept by pointer (a literal). */
void hf_log_init(const char *proc, const char *instance, const char *level);

void hf_log(enum hf_log_level level, const char *event_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define hf_debug(...) hf_log(HF_LOG_DEBUG, NULL, __VA_ARGS__)
#define hf_info(...) hf_log(HF_LOG_INFO, NULL, __VA_ARGS__)
#define hf_warn(...) hf_log(HF_LOG_WARN, NULL, __VA_ARGS__)
#define hf_error(...) hf_log(HF_LOG_ERROR, NULL, __VA_ARGS__)

/* Writes s into out as the inside of a JSON string (no quotes), truncating
 * to outsz. Shared by every module that hand-writes JSON. */
void hf_json_escape(const char *s, char *out, size_t outsz);

#endif
