/* hf_reads: the person- and program-level reads the intake serves and the
 * cache pool warms: one PostgreSQL query each (the JSON is built by the
 * database), cache-aside through hf_cache's versioned namespaces.
 *
 * hf_reads_get reads the namespace version first, then (on a miss) queries
 * PostgreSQL and stores the answer under that version: the order hf_cache.h
 * explains, which keeps a value computed before a write from outliving the
 * write's invalidation. With Redis away it answers from PostgreSQL alone and
 * says so (degraded). Bodies are compact JSON texts. */
#ifndef HF_READS_H
#define HF_READS_H

#include <stdbool.h>
#include <stddef.h>

#include "hf_cache.h"
#include "hf_err.h"
#include "hf_pg.h"
#include "hf_redis.h"

struct hf_read {
    char *body; /* malloc'd, NUL-terminated; freed by hf_read_clear */
    size_t len;
    bool hit;      /* from Redis */
    bool degraded; /* Redis away or failing: from PostgreSQL only, nothing stored */
    char *extra;   /* the extra key's value when asked and present (Redis only) */
};

/* Loads ref from PostgreSQL. Kinds served: ADHERENCE, PREDICTIONS, INSIGHTS,
 * INGREDIENT_SCORE (ref->name normalised by hf_food_name; never cached:
 * scores are kept under the canonical name, which takes PostgreSQL to know,
 * so a key by the asked name would miss the invalidations).
 * Returns 0 with *body malloc'd (caller frees); HF_ENOTFOUND when the member
 * has no insights, or the ingredient no score, yet; HF_EINVAL for a kind not
 * served; or what hf_pg says. */
int hf_reads_load(hf_pg *pg, const struct hf_cache_ref *ref, char **body, size_t *len, struct hf_err *err);

/* Cache-aside read of ref; redis may be NULL (PostgreSQL only). extra_key as
 * in hf_cache_get (may be NULL). Returns 0 with out filled, or what
 * hf_reads_load says; a Redis failure is not an error (out->degraded).
 * Whatever it returns, out must be released with hf_read_clear. */
int hf_reads_get(hf_redis *redis, hf_pg *pg, const struct hf_cache_ref *ref, const char *extra_key,
                 struct hf_read *out, struct hf_err *err);

/* Frees what out holds and zeroes it. */
void hf_read_clear(struct hf_read *out);

#endif
