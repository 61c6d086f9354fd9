#include "hf_cache.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_civil.h"
#include "hf_time.h"

#define DAY_US (86400LL * 1000000)
/* Weeks an adherence range's version may sum: a range of up to 92 days
 * (intake's limit) meets at most 15 weeks from from-6; a little room. */
#define MAX_WEEKS 17

static const struct {
    enum hf_cache_entity entity;
    const char *tag; /* after hf:{<tag>:id}: */
    int ttl_s;
} kinds[] = {
    /* 001 3.4: progress dashboards tolerate 1-5 minutes of staleness. */
    [HF_CACHE_ADHERENCE] = { HF_CACHE_PROGRAM, "adh", 300 },
    /* Replaced when the retraining pool writes (invalidation); a day at most. */
    [HF_CACHE_PREDICTIONS] = { HF_CACHE_MEMBER, "pred", 86400 },
    /* 002: insights 24 hours. */
    [HF_CACHE_INSIGHTS] = { HF_CACHE_MEMBER, "ins", 86400 },
    /* 002: "until retrain"; a retrain bumps the namespace, the week bounds dead keys. */
    [HF_CACHE_MODEL] = { HF_CACHE_MEMBER, "model", 7 * 86400 },
    /* 001: profiles change rarely, read often. */
    [HF_CACHE_PROFILE] = { HF_CACHE_USER, "profile", 3600 },
    /* 002: scores 7 days, provider data 24 hours. */
    [HF_CACHE_INGREDIENT_SCORE] = { HF_CACHE_INGREDIENT, "score", 7 * 86400 },
    [HF_CACHE_INGREDIENT_DATA] = { HF_CACHE_INGREDIENT, "data", 86400 },
};

#define N_KINDS (sizeof kinds / sizeof kinds[0])

enum hf_cache_entity hf_cache_entity_of(enum hf_cache_kind kind)
{
    return kinds[kind].entity;
}

int hf_cache_ttl_s(enum hf_cache_kind kind)
{
    return kinds[kind].ttl_s;
}

static bool name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 80)
        return false;
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '{' || *p == '}')
            return false;
    return true;
}

/* Writes the namespace "hf:{p:7}" of an entity. */
static int ns(enum hf_cache_entity entity, int64_t id, const char *name, char *out, size_t outsz, struct hf_err *err)
{
    static const char tags[] = { [HF_CACHE_PROGRAM] = 'p', [HF_CACHE_MEMBER] = 'm', [HF_CACHE_USER] = 'u',
                                 [HF_CACHE_INGREDIENT] = 'i' };
    int n;
    if (entity == HF_CACHE_INGREDIENT) {
        if (!name_ok(name))
            return hf_err_set(err, HF_EINVAL, false, "cache key: ingredient name must be 1-80 characters without braces");
        n = snprintf(out, outsz, "hf:{i:%s}", name);
    } else {
        if (id < 1)
            return hf_err_set(err, HF_EINVAL, false, "cache key: id %lld is not >= 1", (long long)id);
        n = snprintf(out, outsz, "hf:{%c:%lld}", tags[entity], (long long)id);
    }
    if (n < 0 || (size_t)n >= outsz)
        return hf_err_set(err, HF_EINVAL, false, "cache key: buffer of %zu bytes too small", outsz);
    return 0;
}

static int append(char *out, size_t outsz, struct hf_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int append(char *out, size_t outsz, struct hf_err *err, const char *fmt, ...)
{
    size_t used = strlen(out);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + used, outsz - used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= outsz - used)
        return hf_err_set(err, HF_EINVAL, false, "cache key: buffer of %zu bytes too small", outsz);
    return 0;
}

int hf_cache_version_key(enum hf_cache_entity entity, int64_t id, const char *name, char *out, size_t outsz)
{
    int rc = ns(entity, id, name, out, outsz, NULL);
    return rc ? rc : append(out, outsz, NULL, ":ver");
}

int hf_cache_week_version_key(int64_t program, int32_t day, char *out, size_t outsz)
{
    int rc = hf_cache_version_key(HF_CACHE_PROGRAM, program, NULL, out, outsz);
    char monday[16];
    hf_time_format_date((int64_t)hf_civil_monday(day) * DAY_US, monday, sizeof monday);
    return rc ? rc : append(out, outsz, NULL, ":w:%s", monday);
}

static bool sub_ok(const char *sub)
{
    static const char *const known[] = { "cycle", "symptoms", "energy", "mood" };
    for (size_t i = 0; sub && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(sub, known[i]) == 0)
            return true;
    return false;
}

/* Writes the part of a value key after the version: ":adh:2026-11-01:2026-11-07". */
static int suffix(const struct hf_cache_ref *ref, char *out, size_t outsz, struct hf_err *err)
{
    if ((size_t)ref->kind >= N_KINDS)
        return hf_err_set(err, HF_EINVAL, false, "cache key: unknown kind %d", (int)ref->kind);
    out[0] = '\0';
    int rc = append(out, outsz, err, ":%s", kinds[ref->kind].tag);
    if (rc)
        return rc;
    switch (ref->kind) {
    case HF_CACHE_ADHERENCE: {
        if (ref->from > ref->to)
            return hf_err_set(err, HF_EINVAL, false, "cache key: adherence range ends before it starts");
        char from[16], to[16];
        hf_time_format_date((int64_t)ref->from * DAY_US, from, sizeof from);
        hf_time_format_date((int64_t)ref->to * DAY_US, to, sizeof to);
        return append(out, outsz, err, ":%s:%s", from, to);
    }
    case HF_CACHE_PREDICTIONS:
        if (ref->sub && !sub_ok(ref->sub))
            return hf_err_set(err, HF_EINVAL, false, "cache key: unknown prediction kind");
        return append(out, outsz, err, ":%s", ref->sub ? ref->sub : "all");
    case HF_CACHE_MODEL:
        if (!sub_ok(ref->sub))
            return hf_err_set(err, HF_EINVAL, false, "cache key: unknown model kind");
        return append(out, outsz, err, ":%s", ref->sub);
    default:
        return 0;
    }
}

static int ns_of(const struct hf_cache_ref *ref, char *out, size_t outsz, struct hf_err *err)
{
    if ((size_t)ref->kind >= N_KINDS)
        return hf_err_set(err, HF_EINVAL, false, "cache key: unknown kind %d", (int)ref->kind);
    return ns(kinds[ref->kind].entity, ref->id, ref->name, out, outsz, err);
}

int hf_cache_key(const struct hf_cache_ref *ref, uint64_t version, char *out, size_t outsz)
{
    char tail[128];
    int rc = ns_of(ref, out, outsz, NULL);
    if (rc == 0)
        rc = suffix(ref, tail, sizeof tail, NULL);
    if (rc == 0)
        rc = append(out, outsz, NULL, ":%llu%s", (unsigned long long)version, tail);
    return rc;
}

int hf_cache_changed_key(int64_t member_id, char *out, size_t outsz)
{
    int rc = ns(HF_CACHE_MEMBER, member_id, NULL, out, outsz, NULL);
    return rc ? rc : append(out, outsz, NULL, ":changed");
}

int hf_cache_refresh_key(int64_t member_id, char *out, size_t outsz)
{
    int rc = ns(HF_CACHE_MEMBER, member_id, NULL, out, outsz, NULL);
    return rc ? rc : append(out, outsz, NULL, ":refresh");
}

int hf_cache_ratelimit_key(const char *scope, int64_t id, const char *what, char *out, size_t outsz)
{
    if (!scope || !*scope || strpbrk(scope, "{} \t\r\n"))
        return HF_EINVAL;
    int n = id > 0 ? snprintf(out, outsz, "hf:rl:%s:%lld%s%s", scope, (long long)id, what ? ":" : "", what ? what : "")
                   : snprintf(out, outsz, "hf:rl:%s%s%s", scope, what ? ":" : "", what ? what : "");
    return n < 0 || (size_t)n >= outsz ? HF_EINVAL : 0;
}

/* ---------- the scripts ---------- */

/* KEYS[1] the version key, KEYS[2..] week version keys (adherence: the
 * version is the exact sum of all, see the header); ARGV: value key before
 * and after the version, an extra key to read ("" for none), the week
 * versions' TTL. Seeds an absent version with the clock in microseconds.
 * Returns {version, value, extra}. */
static const char *const get_lua =
    "local function seed(k, ttl)\n"
    "  local v = redis.call('GET', k)\n"
    "  if not v then\n"
    "    local t = redis.call('TIME')\n"
    "    v = string.format('%.0f', tonumber(t[1]) * 1000000 + tonumber(t[2]))\n"
    "    if ttl then redis.call('SET', k, v, 'EX', ttl) else redis.call('SET', k, v) end\n"
    "  end\n"
    "  return v\n"
    "end\n"
    "local v = seed(KEYS[1], nil)\n"
    "if #KEYS > 1 then\n"
    "  local hi, lo = 0, 0\n"
    "  for i = 1, #KEYS do\n"
    "    local s = i == 1 and v or seed(KEYS[i], ARGV[4])\n"
    "    local n = #s\n"
    "    if n > 9 then\n"
    "      hi = hi + tonumber(string.sub(s, 1, n - 9))\n"
    "      lo = lo + tonumber(string.sub(s, n - 8))\n"
    "    else\n"
    "      lo = lo + tonumber(s)\n"
    "    end\n"
    "  end\n"
    "  hi = hi + math.floor(lo / 1000000000)\n"
    "  lo = lo % 1000000000\n"
    "  if hi > 0 then v = string.format('%.0f%09.0f', hi, lo) else v = string.format('%.0f', lo) end\n"
    "end\n"
    "local extra = false\n"
    "if ARGV[3] ~= '' then extra = redis.call('GET', ARGV[3]) end\n"
    "return {v, redis.call('GET', ARGV[1] .. v .. ARGV[2]), extra}\n";

/* KEYS: ARGV[1] version keys to bump, then ARGV[2] week version keys to bump
 * (seeded with a TTL of ARGV[4] seconds), then changed marks to set to the
 * clock in milliseconds, expiring after ARGV[3] seconds. */
static const char *const invalidate_lua =
    "local t = redis.call('TIME')\n"
    "local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local nv, nw = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "for i = 1, #KEYS do\n"
    "  if i <= nv + nw then\n"
    "    if redis.call('EXISTS', KEYS[i]) == 0 then\n"
    "      if i <= nv then redis.call('SET', KEYS[i], string.format('%.0f', now_us))\n"
    "      else redis.call('SET', KEYS[i], string.format('%.0f', now_us), 'EX', ARGV[4]) end\n"
    "    end\n"
    "    redis.call('INCR', KEYS[i])\n"
    "  else\n"
    "    redis.call('SET', KEYS[i], string.format('%.0f', math.floor(now_us / 1000)), 'EX', ARGV[3])\n"
    "  end\n"
    "end\n"
    "return #KEYS\n";

/* SHA-1s of constants: computed once, read-only after. */
static struct hf_redis_script get_script, invalidate_script;
static pthread_once_t scripts_once = PTHREAD_ONCE_INIT;

static void init_scripts(void)
{
    hf_redis_script_init(&get_script, get_lua);
    hf_redis_script_init(&invalidate_script, invalidate_lua);
}

static char *dup_reply(const redisReply *r, size_t *len)
{
    if (!r || r->type != REDIS_REPLY_STRING)
        return NULL;
    char *s = malloc(r->len + 1);
    if (s) {
        memcpy(s, r->str, r->len);
        s[r->len] = '\0';
        if (len)
            *len = r->len;
    }
    return s;
}

int hf_cache_get(hf_redis *r, const struct hf_cache_ref *ref, const char *extra_key, uint64_t *version, char **value,
                 size_t *len, char **extra, struct hf_err *err)
{
    char nsk[150], vkey[MAX_WEEKS + 1][200], before[160], after[128], week_ttl[16];
    *value = NULL;
    if (extra)
        *extra = NULL;
    int rc = ns_of(ref, nsk, sizeof nsk, err);
    if (rc == 0)
        rc = suffix(ref, after, sizeof after, err);
    if (rc)
        return rc;
    snprintf(before, sizeof before, "%s:", nsk);
    snprintf(vkey[0], sizeof vkey[0], "%s:ver", nsk);
    const char *keys[MAX_WEEKS + 1] = { vkey[0] };
    int nkeys = 1;
    /* Adherence of from..to shows days from..to and weekly summaries
     * starting from-6..to: it depends on every week meeting from-6..to. */
    for (int32_t d = ref->kind == HF_CACHE_ADHERENCE ? (int32_t)hf_civil_monday(ref->from - 6) : 1, end = ref->to;
         ref->kind == HF_CACHE_ADHERENCE && d <= end; d += 7) {
        if (nkeys > MAX_WEEKS)
            return hf_err_set(err, HF_EINVAL, false, "cache get: an adherence range of more than %d weeks", MAX_WEEKS - 2);
        hf_cache_week_version_key(ref->id, d, vkey[nkeys], sizeof vkey[nkeys]);
        keys[nkeys] = vkey[nkeys];
        nkeys++;
    }
    snprintf(week_ttl, sizeof week_ttl, "%d", HF_CACHE_WEEK_VERSION_TTL_S);
    pthread_once(&scripts_once, init_scripts);
    const char *args[] = { before, after, extra_key ? extra_key : "", week_ttl };
    redisReply *rep = NULL;
    rc = hf_redis_eval(r, &get_script, nkeys, keys, 4, args, &rep, err);
    if (rc)
        return rc;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 || rep->element[0]->type != REDIS_REPLY_STRING) {
        freeReplyObject(rep);
        return hf_err_set(err, HF_EIO, false, "cache get script answered an unexpected reply");
    }
    errno = 0;
    char *end = NULL;
    *version = strtoull(rep->element[0]->str, &end, 10);
    if (errno || *end) {
        freeReplyObject(rep);
        return hf_err_set(err, HF_EIO, false, "cache version %s of %s is not a number", rep->element[0]->str, vkey[0]);
    }
    *value = dup_reply(rep->element[1], len);
    if (extra)
        *extra = dup_reply(rep->element[2], NULL);
    freeReplyObject(rep);
    return 0;
}

int hf_cache_put(hf_redis *r, const struct hf_cache_ref *ref, uint64_t version, const char *value, size_t len,
                 struct hf_err *err)
{
    char key[320], ttl[16];
    if (hf_cache_key(ref, version, key, sizeof key))
        return hf_err_set(err, HF_EINVAL, false, "cache put: bad reference");
    snprintf(ttl, sizeof ttl, "%d", kinds[ref->kind].ttl_s);
    const char *argv[] = { "SET", key, value, "EX", ttl };
    const size_t argvlen[] = { 3, strlen(key), len, 2, strlen(ttl) };
    return hf_redis_cmd(r, 5, argv, argvlen, NULL, err);
}

int hf_cache_invalidate(hf_redis *r, const struct hf_cache_target *targets, int n, struct hf_err *err)
{
    if (n <= 0)
        return 0;
    int rc = 0, nv = 0, nw = 0, nk = 0;
    char(*keys)[200] = calloc((size_t)n * 2, sizeof *keys);
    const char **kp = calloc((size_t)n * 2, sizeof *kp);
    if (!keys || !kp) {
        rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
        goto out;
    }
    /* Whole namespaces first, then weeks: the script tells them by position. */
    for (int week = 0; week < 2; week++) {
        for (int i = 0; i < n; i++) {
            const struct hf_cache_target *t = &targets[i];
            if (t->has_day != (week == 1))
                continue;
            int bad = t->has_day ? t->entity != HF_CACHE_PROGRAM ||
                                       hf_cache_week_version_key(t->id, t->day, keys[nk], sizeof keys[nk])
                                 : hf_cache_version_key(t->entity, t->id, t->name, keys[nk], sizeof keys[nk]);
            if (bad) {
                rc = hf_err_set(err, HF_EINVAL, false, "cache invalidate: bad target %d (id %lld)", i, (long long)t->id);
                goto out;
            }
            kp[nk] = keys[nk];
            nk++;
        }
        if (week == 0)
            nv = nk;
    }
    nw = nk - nv;
    for (int i = 0; i < n; i++)
        if (targets[i].mark_member > 0) {
            hf_cache_changed_key(targets[i].mark_member, keys[nk], sizeof keys[nk]);
            kp[nk] = keys[nk];
            nk++;
        }
    pthread_once(&scripts_once, init_scripts);
    char a_nv[16], a_nw[16], a_ttl[16], a_week_ttl[16];
    snprintf(a_nv, sizeof a_nv, "%d", nv);
    snprintf(a_nw, sizeof a_nw, "%d", nw);
    snprintf(a_ttl, sizeof a_ttl, "%d", kinds[HF_CACHE_INSIGHTS].ttl_s);
    snprintf(a_week_ttl, sizeof a_week_ttl, "%d", HF_CACHE_WEEK_VERSION_TTL_S);
    const char *args[] = { a_nv, a_nw, a_ttl, a_week_ttl };
    redisReply *rep = NULL;
    rc = hf_redis_eval(r, &invalidate_script, nk, kp, 4, args, &rep, err);
    freeReplyObject(rep);
out:
    free(keys);
    free(kp);
    return rc;
}
