/* hf_cache: the one place that builds every Redis key of the fleet and knows
 * every TTL, and the versioned-namespace protocol that keeps stale values
 * from winning. The key table is documented in common/README.md.
 *
 * Every cached value lives in its entity's namespace, whose version is a
 * counter in Redis: hf:{p:7}:ver for program 7, and the values under
 * hf:{p:7}:<version>:adh:<from>:<to>. Invalidating everything of an entity is
 * one INCR of its version (never KEYS or SCAN); the old values are dead keys
 * that expire by their TTL.
 *
 * Why a stale value cannot win: a reader reads the version V BEFORE it
 * queries PostgreSQL, and stores what it computed under V's key. A writer
 * commits to PostgreSQL first and bumps the version AFTER the commit (the
 * pools emit cache.invalidate after commit; the cache pool bumps). Either the
 * bump came before the reader read V, so the reader's query started after the
 * commit and sees the new data; or the bump came after, so V is dead and
 * whatever the reader stores under it is never read again. No interleaving
 * stores an old value under a live version.
 *
 * A version that is absent (never read, or evicted, or Redis restarted) is
 * seeded with Redis's clock in microseconds, not 0: a re-created counter is
 * then above any earlier value of it (unless it was bumped more than a
 * million times a second), so dead namespaces are never revived. Version
 * keys carry no TTL.
 *
 * Keys carry a hash tag ({p:7}) so that an entity's keys share a cluster
 * slot, as the scripts, which build value keys from the version they read,
 * require.
 *
 * Adherence is finer grained (001 3.1: "field-level for adherence"; 3.2: a
 * new log deletes the day's value, not the program's): a log changes one
 * day, so its invalidation names the day and bumps only that day's WEEK
 * version, hf:{p:7}:ver:w:<monday>, not the program's. A range's value then
 * lives under the SUM of the program version and the week versions of every
 * week that meets from-6..to (the days of the range and the starts of the
 * weekly summaries it shows). Every component only grows (a bump adds 1, a
 * re-seed jumps to the clock), so any bump the range depends on raises the
 * sum and the argument above holds unchanged with the sum as the version;
 * a bump of another week leaves the sum, and the cached range, alone. The
 * sum is computed exactly (in two 9-digit halves: Lua's numbers are
 * doubles). Week versions expire after HF_CACHE_WEEK_VERSION_TTL_S: a
 * re-seed is above every earlier value, so expiry costs misses only. */
#ifndef HF_CACHE_H
#define HF_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hf_err.h"
#include "hf_redis.h"

/* Whose namespace a value lives in. */
enum hf_cache_entity {
    HF_CACHE_PROGRAM,    /* by care_programs.id */
    HF_CACHE_MEMBER,     /* by members.id: the person (the design documents' "user") */
    HF_CACHE_USER,       /* by users.id: the account holder */
    HF_CACHE_INGREDIENT, /* by normalised name (ingredient_scores.name) */
};

/* What is cached. */
enum hf_cache_kind {
    HF_CACHE_ADHERENCE,       /* program: daily scores and weekly summaries of days from..to */
    HF_CACHE_PREDICTIONS,     /* member: current predictions, all kinds or one (sub) */
    HF_CACHE_INSIGHTS,        /* member: current insights */
    HF_CACHE_MODEL,           /* member: active model metadata of kind sub */
    HF_CACHE_PROFILE,         /* user: profile */
    HF_CACHE_INGREDIENT_SCORE, /* ingredient: score */
    HF_CACHE_INGREDIENT_DATA, /* ingredient: raw provider data */
};

/* Names one cached value. */
struct hf_cache_ref {
    enum hf_cache_kind kind;
    int64_t id;       /* program, member or user id */
    const char *name; /* ingredient name (kinds INGREDIENT_*) */
    int32_t from, to; /* ADHERENCE: days since the epoch, from <= to */
    const char *sub;  /* PREDICTIONS: a kind or NULL for all; MODEL: the kind */
};

/* The entity whose namespace holds a kind. */
enum hf_cache_entity hf_cache_entity_of(enum hf_cache_kind kind);

/* Seconds a value of this kind lives in Redis: the safety net behind
 * event-driven invalidation (see the README table). */
int hf_cache_ttl_s(enum hf_cache_kind kind);

/* Writes the version key of an entity: id for programs, members and users,
 * name for ingredients. Returns 0, or HF_EINVAL (id < 1, empty or long name,
 * out too small). Pure. */
int hf_cache_version_key(enum hf_cache_entity entity, int64_t id, const char *name, char *out, size_t outsz);

/* Writes the version key of the week (Monday to Sunday) holding `day`
 * (days since the epoch) in a program's namespace: "hf:{p:7}:ver:w:2026-11-16".
 * Returns 0 or HF_EINVAL (program < 1, out too small). Pure. */
int hf_cache_week_version_key(int64_t program, int32_t day, char *out, size_t outsz);
#define HF_CACHE_WEEK_VERSION_TTL_S (8 * 86400)

/* Writes the key of a value under version. Returns 0 or HF_EINVAL (bad ref,
 * out too small). Pure. */
int hf_cache_key(const struct hf_cache_ref *ref, uint64_t version, char *out, size_t outsz);

/* Key of a member's last-data-change mark (milliseconds since the epoch,
 * Redis's clock), set by the cache pool when a log of the member's programs
 * is committed; insights computed before it are stale. */
int hf_cache_changed_key(int64_t member_id, char *out, size_t outsz);

/* Key of a member's refresh guard: one stale-read refresh job per member per
 * HF_CACHE_REFRESH_GUARD_S. */
int hf_cache_refresh_key(int64_t member_id, char *out, size_t outsz);
#define HF_CACHE_REFRESH_GUARD_S 300

/* Key of a rate-limit bucket: hf:rl:<scope>:<id>[:<what>] ("user", 12,
 * "read"), or hf:rl:<scope> when id is 0 ("api:usda"). */
int hf_cache_ratelimit_key(const char *scope, int64_t id, const char *what, char *out, size_t outsz);

/* Reads ref's namespace version (seeding it when absent; for ADHERENCE the
 * sum described above) and the value under it, in one round trip; also the value of `extra_key` when non-NULL (e.g.
 * the changed mark). *value and *extra are malloc'd NUL-terminated texts the
 * caller frees, NULL when absent (a miss). Returns 0 or what hf_redis says
 * (HF_EUNAVAIL when Redis is away). */
int hf_cache_get(hf_redis *r, const struct hf_cache_ref *ref, const char *extra_key, uint64_t *version, char **value,
                 size_t *len, char **extra, struct hf_err *err);

/* Stores value under the version hf_cache_get returned, with the kind's TTL.
 * Never call it with a version read after the data was queried. */
int hf_cache_put(hf_redis *r, const struct hf_cache_ref *ref, uint64_t version, const char *value, size_t len,
                 struct hf_err *err);

/* An entity to invalidate. */
struct hf_cache_target {
    enum hf_cache_entity entity;
    int64_t id;
    const char *name;
    int64_t mark_member; /* > 0: also set this member's changed mark */
    /* Programs only: bump just the week of `day` (adherence of that day or
     * of a weekly summary starting that day), not the whole namespace. */
    bool has_day;
    int32_t day;
};

/* Bumps the version of every target and sets the requested changed marks,
 * atomically, in one round trip. Safe to repeat (an extra bump only costs a
 * cache miss). Returns 0, HF_EINVAL for a bad target, or what hf_redis says. */
int hf_cache_invalidate(hf_redis *r, const struct hf_cache_target *targets, int n, struct hf_err *err);

#endif
