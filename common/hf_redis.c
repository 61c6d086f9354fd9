#include "hf_redis.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_time.h"

struct hf_redis {
    struct hf_redis_url url;
    int timeout_ms, retry_ms;
    redisContext *ctx;
    int64_t quiet_until_us; /* after a failure, fail fast until then */
    char last_error[160];
};

static int parse_int(const char *s, size_t n, long lo, long hi, long *out)
{
    char buf[16];
    if (n == 0 || n >= sizeof buf)
        return HF_EINVAL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end = NULL;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return HF_EINVAL;
    *out = v;
    return 0;
}

int hf_redis_parse_url(const char *url, struct hf_redis_url *out, struct hf_err *err)
{
    memset(out, 0, sizeof *out);
    out->port = 6379;
    if (strncmp(url, "redis://", 8) != 0)
        return hf_err_field(err, HF_EINVAL, "HF_REDIS_URL", "Redis URL \"%s\" must start with redis://", url);
    const char *p = url + 8;
    const char *at = strchr(p, '@');
    const char *slash = strchr(p, '/');
    if (at && (!slash || at < slash)) {
        /* userinfo: ":password" or "user:password" (Redis 6 users are not used: the password is what counts) */
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pw = colon ? colon + 1 : p;
        size_t n = (size_t)(at - pw);
        if (n >= sizeof out->password)
            return hf_err_field(err, HF_EINVAL, "HF_REDIS_URL", "Redis password is longer than %zu characters",
                                sizeof out->password - 1);
        memcpy(out->password, pw, n);
        p = at + 1;
    }
    size_t hostlen = strcspn(p, ":/");
    if (hostlen == 0 || hostlen >= sizeof out->host)
        return hf_err_field(err, HF_EINVAL, "HF_REDIS_URL", "Redis URL \"%s\" has no host (redis://host:port/db)", url);
    memcpy(out->host, p, hostlen);
    p += hostlen;
    long v;
    if (*p == ':') {
        size_t n = strcspn(p + 1, "/");
        if (parse_int(p + 1, n, 1, 65535, &v))
            return hf_err_field(err, HF_EINVAL, "HF_REDIS_URL", "Redis URL \"%s\": the port is not 1..65535", url);
        out->port = (int)v;
        p += 1 + n;
    }
    if (*p == '/' && p[1]) {
        if (parse_int(p + 1, strlen(p + 1), 0, 15, &v))
            return hf_err_field(err, HF_EINVAL, "HF_REDIS_URL",
                                "Redis URL \"%s\": the database index is not a number 0..15", url);
        out->db = (int)v;
    } else if (*p && strcmp(p, "/") != 0) {
        return hf_err_field(err, HF_EINVAL, "HF_REDIS_URL", "Redis URL \"%s\" has trailing text", url);
    }
    return 0;
}

int hf_redis_error_reply(const char *text, struct hf_err *err)
{
    static const char *const away[] = { "LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "READONLY", "OOM",
                                        "CLUSTERDOWN" };
    for (size_t i = 0; i < sizeof away / sizeof away[0]; i++) {
        size_t n = strlen(away[i]);
        if (strncmp(text, away[i], n) == 0 && (text[n] == ' ' || text[n] == '\0'))
            return hf_err_set(err, HF_EUNAVAIL, true, "Redis cannot serve now: %.200s", text);
    }
    return hf_err_set(err, HF_EIO, false, "Redis refused the command: %.200s", text);
}

/* Drops the connection and starts the quiet period; returns HF_EUNAVAIL. */
static int lost(hf_redis *r, const char *what, struct hf_err *err)
{
    snprintf(r->last_error, sizeof r->last_error, "%s", what);
    if (r->ctx)
        redisFree(r->ctx);
    r->ctx = NULL;
    r->quiet_until_us = hf_time_mono_us() + (int64_t)r->retry_ms * 1000;
    /* what may point into the context just freed: use the copy */
    return hf_err_set(err, HF_EUNAVAIL, true, "Redis at %s:%d is away: %s (check HF_REDIS_URL and that it runs)",
                      r->url.host, r->url.port, r->last_error);
}

static int handshake(hf_redis *r, const char *const *argv, int argc, struct hf_err *err)
{
    redisReply *rep = redisCommandArgv(r->ctx, argc, (const char **)argv, NULL);
    if (!rep)
        return lost(r, r->ctx->errstr[0] ? r->ctx->errstr : "no answer", err);
    int rc = 0;
    if (rep->type == REDIS_REPLY_ERROR) {
        rc = hf_redis_error_reply(rep->str, err);
        if (rc == HF_EUNAVAIL)
            rc = lost(r, rep->str, err);
        else /* a wrong password or database is not an outage: say so */
            rc = hf_err_set(err, HF_EINVAL, false, "Redis refused %s: %.180s (check HF_REDIS_URL)", argv[0], rep->str);
    }
    freeReplyObject(rep);
    return rc;
}

/* Makes sure a connection is up; HF_EUNAVAIL while Redis is away. */
static int ensure(hf_redis *r, struct hf_err *err)
{
    if (r->ctx)
        return 0;
    if (hf_time_mono_us() < r->quiet_until_us)
        return hf_err_set(err, HF_EUNAVAIL, true, "Redis at %s:%d is away (%s); not retried for up to %d ms",
                          r->url.host, r->url.port, r->last_error, r->retry_ms);
    struct timeval tv = { r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000 };
    r->ctx = redisConnectWithTimeout(r->url.host, r->url.port, tv);
    if (!r->ctx)
        return lost(r, "out of memory", err);
    if (r->ctx->err)
        return lost(r, r->ctx->errstr, err);
    redisSetTimeout(r->ctx, tv);
    redisEnableKeepAlive(r->ctx);
    int rc = 0;
    if (r->url.password[0]) {
        const char *argv[] = { "AUTH", r->url.password };
        rc = handshake(r, argv, 2, err);
    }
    if (rc == 0 && r->url.db) {
        char db[8];
        snprintf(db, sizeof db, "%d", r->url.db);
        const char *argv[] = { "SELECT", db };
        rc = handshake(r, argv, 2, err);
    }
    if (rc && r->ctx) {
        redisFree(r->ctx);
        r->ctx = NULL;
    }
    return rc;
}

int hf_redis_connect(const char *url, int timeout_ms, int retry_ms, hf_redis **out, struct hf_err *err)
{
    *out = NULL;
    hf_redis *r = calloc(1, sizeof *r);
    if (!r)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    int rc = hf_redis_parse_url(url, &r->url, err);
    if (rc) {
        free(r);
        return rc;
    }
    r->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    r->retry_ms = retry_ms;
    *out = r;
    return ensure(r, err);
}

void hf_redis_free(hf_redis *r)
{
    if (!r)
        return;
    if (r->ctx)
        redisFree(r->ctx);
    free(r);
}

int hf_redis_cmd(hf_redis *r, int argc, const char **argv, const size_t *argvlen, redisReply **reply,
                 struct hf_err *err)
{
    if (reply)
        *reply = NULL;
    int rc = ensure(r, err);
    if (rc)
        return rc;
    redisReply *rep = redisCommandArgv(r->ctx, argc, argv, argvlen);
    if (!rep)
        return lost(r, r->ctx->errstr[0] ? r->ctx->errstr : "no answer", err);
    if (rep->type == REDIS_REPLY_ERROR) {
        rc = hf_redis_error_reply(rep->str, err);
        freeReplyObject(rep);
        return rc;
    }
    if (reply)
        *reply = rep;
    else
        freeReplyObject(rep);
    return 0;
}

int hf_redis_pipeline(hf_redis *r, const struct hf_redis_call *calls, int n, redisReply **replies,
                      struct hf_err *err)
{
    for (int i = 0; i < n; i++)
        replies[i] = NULL;
    int rc = ensure(r, err);
    if (rc)
        return rc;
    for (int i = 0; i < n; i++)
        if (redisAppendCommandArgv(r->ctx, calls[i].argc, calls[i].argv, calls[i].argvlen) != REDIS_OK)
            return lost(r, "out of memory", err);
    for (int i = 0; i < n; i++) {
        void *rep = NULL;
        if (redisGetReply(r->ctx, &rep) != REDIS_OK || !rep) {
            for (int j = 0; j < i; j++) {
                freeReplyObject(replies[j]);
                replies[j] = NULL;
            }
            return lost(r, r->ctx->errstr[0] ? r->ctx->errstr : "no answer", err);
        }
        replies[i] = rep;
    }
    return 0;
}

void hf_redis_script_init(struct hf_redis_script *s, const char *source)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    s->source = source;
    EVP_Digest(source, strlen(source), digest, &n, EVP_sha1(), NULL);
    for (unsigned i = 0; i < n && i < 20; i++)
        snprintf(s->sha + 2 * i, 3, "%02x", digest[i]);
}

int hf_redis_is_noscript(const redisReply *reply)
{
    return reply && reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "NOSCRIPT", 8) == 0;
}

int hf_redis_eval(hf_redis *r, const struct hf_redis_script *s, int nkeys, const char *const *keys, int nargs,
                  const char *const *args, redisReply **reply, struct hf_err *err)
{
    *reply = NULL;
    int rc = ensure(r, err);
    if (rc)
        return rc;
    const char **argv = malloc(sizeof *argv * (size_t)(nkeys + nargs + 3));
    if (!argv)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    char nk[12];
    snprintf(nk, sizeof nk, "%d", nkeys);
    int argc = 0;
    argv[argc++] = "EVALSHA";
    argv[argc++] = s->sha;
    argv[argc++] = nk;
    for (int i = 0; i < nkeys; i++)
        argv[argc++] = keys[i];
    for (int i = 0; i < nargs; i++)
        argv[argc++] = args[i];
    redisReply *rep = redisCommandArgv(r->ctx, argc, argv, NULL);
    if (hf_redis_is_noscript(rep)) {
        freeReplyObject(rep);
        argv[0] = "EVAL";
        argv[1] = s->source;
        rep = redisCommandArgv(r->ctx, argc, argv, NULL);
    }
    free(argv);
    if (!rep)
        return lost(r, r->ctx->errstr[0] ? r->ctx->errstr : "no answer", err);
    if (rep->type == REDIS_REPLY_ERROR) {
        rc = hf_redis_error_reply(rep->str, err);
        freeReplyObject(rep);
        return rc;
    }
    *reply = rep;
    return 0;
}

int hf_redis_script_load(hf_redis *r, const struct hf_redis_script *s, struct hf_err *err)
{
    const char *argv[] = { "SCRIPT", "LOAD", s->source };
    return hf_redis_cmd(r, 3, argv, NULL, NULL, err);
}
