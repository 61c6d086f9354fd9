#include "intake_auth.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_pg.h"
#include "hf_time.h"

/* API keys: few, so a small direct-mapped table (a collision just evicts). */
#define KEY_SLOTS 1024
/* Ownership answers: one per member (or program) posting, so as many as the
 * fleet has active people. 4-way sets: two hot members sharing a slot of a
 * direct-mapped table would evict each other on every event, and each
 * eviction is a PostgreSQL query on the hot path. */
#define OWNER_WAYS 4

struct cached_key {
    char key[72];
    int64_t expires_us;
    struct intake_client client;
};

enum owner_kind { OWNS_POST = 1, READS_PROGRAM, READS_MEMBER };

struct cached_owner {
    int64_t client_id, a, b; /* (member, program) posted; (program or member, 0) read */
    int64_t expires_us;      /* 0: empty */
    int64_t member_id, user_id;
    uint8_t kind;
    bool allowed, member_ok;
};

struct intake_auth {
    const struct hf_config *cfg;
    pthread_mutex_t pg_lock;
    pthread_cond_t pg_free;
    hf_pg **pgs;
    bool *busy;
    int n_pg;
    pthread_mutex_t cache_lock;
    struct cached_key *keys;
    struct cached_owner *owners;
    size_t owner_sets; /* a power of two */
    /* Fetched once: OpenSSL 3 looks the algorithm up again on every
     * EVP_sha256() digest, which cost as much as the hash. */
    EVP_MD *sha256;
};

int intake_auth_new(const struct hf_config *cfg, intake_auth **out, struct hf_err *err)
{
    intake_auth *a = calloc(1, sizeof *a);
    *out = NULL;
    if (!a)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    a->cfg = cfg;
    a->n_pg = cfg->intake_threads;
    a->pgs = calloc((size_t)a->n_pg, sizeof *a->pgs);
    a->busy = calloc((size_t)a->n_pg, sizeof *a->busy);
    a->keys = calloc(KEY_SLOTS, sizeof *a->keys);
    a->owner_sets = OWNER_WAYS;
    while (a->owner_sets * 2 * OWNER_WAYS <= (size_t)cfg->intake_owner_cache)
        a->owner_sets *= 2;
    a->owners = calloc(a->owner_sets * OWNER_WAYS, sizeof *a->owners);
    pthread_mutex_init(&a->pg_lock, NULL);
    pthread_cond_init(&a->pg_free, NULL);
    pthread_mutex_init(&a->cache_lock, NULL);
    a->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!a->pgs || !a->busy || !a->keys || !a->owners || !a->sha256) {
        intake_auth_free(a);
        return hf_err_set(err, HF_ENOMEM, false, "out of memory (or no SHA-256 in OpenSSL)");
    }
    *out = a;
    return 0;
}

void intake_auth_free(intake_auth *a)
{
    if (!a)
        return;
    for (int i = 0; a->pgs && i < a->n_pg; i++)
        hf_pg_free(a->pgs[i]);
    free(a->pgs);
    free(a->busy);
    free(a->keys);
    free(a->owners);
    EVP_MD_free(a->sha256);
    pthread_mutex_destroy(&a->pg_lock);
    pthread_cond_destroy(&a->pg_free);
    pthread_mutex_destroy(&a->cache_lock);
    free(a);
}

/* One connection per HTTP thread is enough, so waits are rare. */
hf_pg *intake_auth_pg_borrow(intake_auth *a, int *slot, struct hf_err *err)
{
    pthread_mutex_lock(&a->pg_lock);
    int i;
    for (;;) {
        for (i = 0; i < a->n_pg && a->busy[i]; i++)
            ;
        if (i < a->n_pg)
            break;
        pthread_cond_wait(&a->pg_free, &a->pg_lock);
    }
    a->busy[i] = true;
    pthread_mutex_unlock(&a->pg_lock);
    *slot = i;
    if (!a->pgs[i] && hf_pg_connect(a->cfg->pg_url, &a->pgs[i], err) && !a->pgs[i]) {
        pthread_mutex_lock(&a->pg_lock);
        a->busy[i] = false;
        pthread_cond_signal(&a->pg_free);
        pthread_mutex_unlock(&a->pg_lock);
        return NULL;
    }
    return a->pgs[i];
}

void intake_auth_pg_return(intake_auth *a, int slot)
{
    pthread_mutex_lock(&a->pg_lock);
    a->busy[slot] = false;
    pthread_cond_signal(&a->pg_free);
    pthread_mutex_unlock(&a->pg_lock);
}

static unsigned slot_of(const char *key)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 16777619u;
    return h % KEY_SLOTS;
}

static bool key_get(intake_auth *a, const char *key, struct intake_client *out)
{
    bool hit = false;
    pthread_mutex_lock(&a->cache_lock);
    struct cached_key *c = &a->keys[slot_of(key)];
    if (strcmp(c->key, key) == 0 && c->expires_us > hf_time_mono_us()) {
        *out = c->client;
        hit = true;
    }
    pthread_mutex_unlock(&a->cache_lock);
    return hit;
}

static void key_put(intake_auth *a, const char *key, const struct intake_client *client)
{
    pthread_mutex_lock(&a->cache_lock);
    struct cached_key *c = &a->keys[slot_of(key)];
    snprintf(c->key, sizeof c->key, "%s", key);
    c->client = *client;
    c->expires_us = hf_time_mono_us() + (int64_t)a->cfg->intake_auth_cache_s * 1000000;
    pthread_mutex_unlock(&a->cache_lock);
}

static struct cached_owner *owner_set(intake_auth *a, const struct cached_owner *q)
{
    uint64_t h = (uint64_t)q->client_id * 0x9e3779b97f4a7c15ull ^ (uint64_t)q->a * 0xc2b2ae3d27d4eb4full ^
                 (uint64_t)q->b * 0x165667b19e3779f9ull ^ q->kind;
    h ^= h >> 29;
    return &a->owners[(h & (a->owner_sets - 1)) * OWNER_WAYS];
}

static bool same_owner_key(const struct cached_owner *x, const struct cached_owner *q)
{
    return x->kind == q->kind && x->client_id == q->client_id && x->a == q->a && x->b == q->b;
}

/* Fills q's answer from the cache; q carries the key (kind, client_id, a, b). */
static bool owner_get(intake_auth *a, struct cached_owner *q)
{
    bool hit = false;
    int64_t now = hf_time_mono_us();
    pthread_mutex_lock(&a->cache_lock);
    struct cached_owner *set = owner_set(a, q);
    for (int w = 0; w < OWNER_WAYS && !hit; w++)
        if (set[w].expires_us > now && same_owner_key(&set[w], q)) {
            *q = set[w];
            hit = true;
        }
    pthread_mutex_unlock(&a->cache_lock);
    return hit;
}

/* Stores e over the same key, else over the way that expires first (an
 * empty or expired one first of all). */
static void owner_put(intake_auth *a, const struct cached_owner *e)
{
    pthread_mutex_lock(&a->cache_lock);
    struct cached_owner *set = owner_set(a, e), *victim = &set[0];
    for (int w = 0; w < OWNER_WAYS; w++) {
        if (same_owner_key(&set[w], e)) {
            victim = &set[w];
            break;
        }
        if (set[w].expires_us < victim->expires_us)
            victim = &set[w];
    }
    *victim = *e;
    victim->expires_us = hf_time_mono_us() + (int64_t)a->cfg->intake_auth_cache_s * 1000000;
    pthread_mutex_unlock(&a->cache_lock);
}

int intake_auth_client(intake_auth *a, const char *key, struct intake_client *client, struct hf_err *err)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_Digest(key, strlen(key), digest, &dlen, a->sha256, NULL);
    static const char hex[] = "0123456789abcdef";
    char cache_key[72] = "k:\\x";
    for (unsigned i = 0; i < dlen && i < 32; i++) {
        cache_key[4 + 2 * i] = hex[digest[i] >> 4];
        cache_key[5 + 2 * i] = hex[digest[i] & 15];
    }
    cache_key[4 + 2 * (dlen < 32 ? dlen : 32)] = 0;
    if (key_get(a, cache_key, client))
        return 0;
    int slot, rc;
    PGresult *res = NULL;
    hf_pg *pg = intake_auth_pg_borrow(a, &slot, err);
    if (!pg)
        return HF_EUNAVAIL;
    const char *params[] = { cache_key + 2 };
    rc = hf_pg_exec(pg,
                    "SELECT id, coalesce(rate_limit_per_min, 0), array_to_string(scopes, ',') FROM api_clients"
                    " WHERE key_hash = $1::bytea AND revoked_at IS NULL",
                    1, params, &res, err);
    intake_auth_pg_return(a, slot);
    if (rc)
        return err->unavailable || rc == HF_EUNAVAIL ? HF_EUNAVAIL : rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return hf_err_set(err, HF_EDENIED, false, "unknown or revoked API key");
    }
    struct intake_client found = { .id = atoll(PQgetvalue(res, 0, 0)), .rpm = atoi(PQgetvalue(res, 0, 1)) };
    if (found.rpm <= 0)
        found.rpm = a->cfg->intake_client_rpm;
    snprintf(found.scopes, sizeof found.scopes, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    key_put(a, cache_key, &found);
    *client = found;
    return 0;
}

bool intake_auth_scope_allows(const struct intake_client *c, const char *type)
{
    const char *p = c->scopes;
    size_t tlen = strlen(type);
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == 1 && p[0] == '*')
            return true;
        if (n == tlen && strncmp(p, type, n) == 0)
            return true;
        /* "log.*" allows "log.nutrition" */
        if (n >= 2 && p[n - 1] == '*' && p[n - 2] == '.' && tlen > n - 1 && strncmp(p, type, n - 1) == 0)
            return true;
        p += n;
        if (*p == ',')
            p++;
    }
    return false;
}

int intake_auth_owns(intake_auth *a, int64_t client_id, int64_t member_id, int64_t program_id, int64_t *user_id,
                     struct hf_err *err)
{
    struct cached_owner entry = { .kind = OWNS_POST, .client_id = client_id, .a = member_id, .b = program_id };
    if (!owner_get(a, &entry)) {
        char c[24], m[24], p[24];
        snprintf(c, sizeof c, "%lld", (long long)client_id);
        snprintf(m, sizeof m, "%lld", (long long)member_id);
        snprintf(p, sizeof p, "%lld", (long long)program_id);
        const char *params[] = { c, m, p };
        int slot;
        PGresult *res = NULL;
        hf_pg *pg = intake_auth_pg_borrow(a, &slot, err);
        if (!pg)
            return HF_EUNAVAIL;
        int rc = hf_pg_exec(pg,
                            "SELECT EXISTS (SELECT 1 FROM members m JOIN users u ON u.id = m.user_id"
                            "  WHERE m.id = $2 AND u.client_id = $1 AND m.deleted_at IS NULL AND u.deleted_at IS NULL),"
                            " $3::bigint = 0 OR EXISTS (SELECT 1 FROM care_programs"
                            "  WHERE id = $3 AND member_id = $2 AND deleted_at IS NULL),"
                            " (SELECT user_id FROM members WHERE id = $2)",
                            3, params, &res, err);
        intake_auth_pg_return(a, slot);
        if (rc)
            return err->unavailable || rc == HF_EUNAVAIL ? HF_EUNAVAIL : rc;
        bool member_ok = PQgetvalue(res, 0, 0)[0] == 't', program_ok = PQgetvalue(res, 0, 1)[0] == 't';
        entry.user_id = member_ok ? strtoll(PQgetvalue(res, 0, 2), NULL, 10) : 0;
        PQclear(res);
        entry.allowed = member_ok && program_ok;
        entry.member_ok = member_ok; /* remembers which check failed */
        owner_put(a, &entry);
    }
    if (user_id)
        *user_id = entry.user_id;
    if (entry.allowed)
        return 0;
    if (!entry.member_ok)
        return hf_err_field(err, HF_EDENIED, "member_id", "member %lld is not a member of this client's users",
                            (long long)member_id);
    return hf_err_field(err, HF_EDENIED, "program_id", "program %lld does not belong to member %lld",
                        (long long)program_id, (long long)member_id);
}

int intake_auth_reader(intake_auth *a, int64_t client_id, bool program, int64_t id, int64_t *member_id,
                       int64_t *user_id, struct hf_err *err)
{
    struct cached_owner entry = { .kind = program ? READS_PROGRAM : READS_MEMBER, .client_id = client_id, .a = id };
    if (!owner_get(a, &entry)) {
        char c[24], e[24];
        snprintf(c, sizeof c, "%lld", (long long)client_id);
        snprintf(e, sizeof e, "%lld", (long long)id);
        const char *params[] = { c, e };
        int slot;
        PGresult *res = NULL;
        hf_pg *pg = intake_auth_pg_borrow(a, &slot, err);
        if (!pg)
            return HF_EUNAVAIL;
        /* A program is read through its member: same checks as posting. */
        int rc = hf_pg_exec(pg,
                            program ? "SELECT m.id, m.user_id FROM care_programs p JOIN members m ON m.id = p.member_id"
                                      " JOIN users u ON u.id = m.user_id WHERE p.id = $2 AND u.client_id = $1"
                                      " AND p.deleted_at IS NULL AND m.deleted_at IS NULL AND u.deleted_at IS NULL"
                                    : "SELECT m.id, m.user_id FROM members m JOIN users u ON u.id = m.user_id"
                                      " WHERE m.id = $2 AND u.client_id = $1 AND m.deleted_at IS NULL"
                                      " AND u.deleted_at IS NULL",
                            2, params, &res, err);
        intake_auth_pg_return(a, slot);
        if (rc)
            return err->unavailable || rc == HF_EUNAVAIL ? HF_EUNAVAIL : rc;
        entry.allowed = PQntuples(res) == 1;
        if (entry.allowed) {
            entry.member_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
            entry.user_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        }
        PQclear(res);
        owner_put(a, &entry);
    }
    if (!entry.allowed)
        return hf_err_set(err, HF_ENOTFOUND, false, "no %s %lld among this client's users", program ? "program" : "member",
                          (long long)id);
    *member_id = entry.member_id;
    *user_id = entry.user_id;
    return 0;
}

int intake_auth_ping(intake_auth *a, struct hf_err *err)
{
    int slot;
    hf_pg *pg = intake_auth_pg_borrow(a, &slot, err);
    if (!pg)
        return HF_EUNAVAIL;
    int rc = hf_pg_cmd(pg, "SELECT 1", err);
    intake_auth_pg_return(a, slot);
    return rc;
}
