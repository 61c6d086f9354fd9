/* hf_redis: one Redis connection with the error handling the fleet needs.
 *
 * Built on hiredis (blocking API). The connection comes from a URL
 * (redis://[:password@]host[:port][/db]); connects and commands are bounded
 * by a timeout, so a Redis that hangs cannot hang an HTTP thread or a worker.
 *
 * Every failure is classified: the connection lost, refused or timed out, and
 * the server answering LOADING, BUSY, MASTERDOWN, TRYAGAIN, READONLY or OOM,
 * are HF_EUNAVAIL with err->unavailable set (Redis is away: callers fall back
 * to PostgreSQL or to a local limiter; pools rewind and retry). Any other
 * error reply is HF_EIO (a bug in the command). A lost connection is
 * re-established on a later call; for `retry_ms` after a failure, calls fail
 * at once with HF_EUNAVAIL instead of paying the connect timeout again, so a
 * request path stays fast while Redis is away.
 *
 * Not thread-safe: one hf_redis per thread. */
#ifndef HF_REDIS_H
#define HF_REDIS_H

#include <hiredis/hiredis.h>
#include <stddef.h>

#include "hf_err.h"

typedef struct hf_redis hf_redis;

/* A parsed HF_REDIS_URL. */
struct hf_redis_url {
    char host[128];
    int port;          /* default 6379 */
    int db;            /* default 0 */
    char password[128]; /* empty: no AUTH */
};

/* Parses url into out. Returns 0 or HF_EINVAL naming what is wrong (scheme,
 * port, database index). Pure: no I/O. */
int hf_redis_parse_url(const char *url, struct hf_redis_url *out, struct hf_err *err);

/* Connects to url (AUTH and SELECT as the URL says). timeout_ms bounds the
 * connect and every command; retry_ms is the quiet period after a failure
 * (see above). Caller frees with hf_redis_free. Returns 0, HF_EINVAL (bad
 * URL: *out is NULL), or HF_EUNAVAIL: *out is then set anyway, so a caller can
 * keep the handle and let later calls reconnect. */
int hf_redis_connect(const char *url, int timeout_ms, int retry_ms, hf_redis **out, struct hf_err *err);
void hf_redis_free(hf_redis *r);

/* One command of argc arguments (argvlen NULL: each is NUL-terminated text).
 * On success *reply (when non-NULL) holds the reply, which the caller frees
 * with freeReplyObject; an error reply is not a success (it is classified as
 * above and freed here). */
int hf_redis_cmd(hf_redis *r, int argc, const char **argv, const size_t *argvlen, redisReply **reply,
                 struct hf_err *err);

/* One command of a pipeline. */
struct hf_redis_call {
    int argc;
    const char **argv;
    const size_t *argvlen; /* NULL: NUL-terminated arguments */
};

/* Sends n commands in one write and reads the n replies: one round trip.
 * replies[i] receives each reply (caller frees every one with
 * freeReplyObject), error replies included: the caller decides what a failed
 * command of the batch means. Returns 0, or HF_EUNAVAIL when the connection
 * failed (then every replies[i] is NULL). */
int hf_redis_pipeline(hf_redis *r, const struct hf_redis_call *calls, int n, redisReply **replies,
                      struct hf_err *err);

/* A Lua script and its SHA-1, computed locally. A plain value: make one per
 * script, usually static, with hf_redis_script_init. */
struct hf_redis_script {
    const char *source; /* borrowed: a string literal */
    char sha[41];
};

void hf_redis_script_init(struct hf_redis_script *s, const char *source);

/* EVALSHA of the script; when the server does not know it (NOSCRIPT: a
 * restart or SCRIPT FLUSH), EVAL of the source, which also caches it there.
 * keys and args are NUL-terminated texts. *reply as for hf_redis_cmd. */
int hf_redis_eval(hf_redis *r, const struct hf_redis_script *s, int nkeys, const char *const *keys, int nargs,
                  const char *const *args, redisReply **reply, struct hf_err *err);

/* SCRIPT LOAD: for pipelines of EVALSHA that met NOSCRIPT. */
int hf_redis_script_load(hf_redis *r, const struct hf_redis_script *s, struct hf_err *err);

/* True when reply is an error reply whose text starts with NOSCRIPT. */
int hf_redis_is_noscript(const redisReply *reply);

/* Classifies an error reply's text (e.g. "LOADING Redis is loading...") into
 * err: HF_EUNAVAIL for the server-is-not-ready kinds listed above, else
 * HF_EIO. Returns the code. Pure. */
int hf_redis_error_reply(const char *text, struct hf_err *err);

#endif
