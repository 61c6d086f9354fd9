/* ingredient_http: many GET requests at once (libcurl multi), each bounded by
 * a connect timeout and a total timeout, answers capped in size.
 *
 * Used from the pool's prepare hook, outside any transaction, for a whole
 * batch. Not thread-safe; call curl_global_init once before (init does). */
#ifndef INGREDIENT_HTTP_H
#define INGREDIENT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "hf_err.h"

struct ing_request {
    /* in */
    const char *url;      /* borrowed, until ing_http_run returns */
    const char *log_url;  /* the url without secrets, for error texts */
    /* out */
    long status;          /* HTTP status; 0 when no answer came */
    char *body;           /* NUL-terminated answer (malloc'd; free with ing_request_clear) */
    size_t len;
    char error[200];      /* "" on an answer; else what happened (timeout, refused, too large) */
    int64_t elapsed_ms;
};

struct ing_http_limits {
    long connect_timeout_ms;
    long timeout_ms;   /* whole request */
    size_t max_body;   /* answers past this are cut off as an error */
    int concurrency;   /* requests in flight at once */
};

/* Runs the n requests concurrently and fills each one's outcome. A request
 * that fails is reported in its own `error`, not as a return value. Returns
 * 0, or HF_ENOMEM / HF_EIO when libcurl itself could not be set up. */
int ing_http_run(struct ing_request *reqs, int n, const struct ing_http_limits *lim, struct hf_err *err);

/* Frees what a run put into r and resets its outcome. */
void ing_request_clear(struct ing_request *r);

#endif
