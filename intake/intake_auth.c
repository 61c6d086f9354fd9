#include "intake_auth.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_pg.h"
#include "hf_time.h"

/* Direct-mapped caches: fixed memory, a collision just evicts. */
#define CACHE_SLOTS 8192

struct cached {
    char key[72];
    int64_t expires_us;
    bool allowed;
    struct intake_client client;
    int64_t member_id, user_id; /* ownership answers: whose the entity is */
};

struct intake_auth {
    const struct hf_config *cfg;
    pthread_mutex_t pg_lock;
    pthread_cond_t pg_free;
    hf_pg **pgs;
    bool *busy;
    int n_pg;
    pthread_mutex_t cache_lock;
    struct cached *cache;
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
    a->cache = calloc(CACHE_SLOTS, sizeof *a->cache);
    pthread_mutex_init(&a->pg_lock, NULL);
    pthread_cond_init(&a->pg_free, NULL);
    pthread_mutex_init(&a->cache_lock, NULL);
    if (!a->pgs || !a->busy || !a->cache) {
        intake_auth_free(a);
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
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
    free(a->cache);
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
    return h % CACHE_SLOTS;
}

static bool cache_get(intake_auth *a, const char *key, struct cached *out)
{
    bool hit = false;
    pthread_mutex_lock(&a->cache_lock);
    struct cached *c = &a->cache[slot_of(key)];
    if (strcmp(c->key, key) == 0 && c->expires_us > hf_time_mono_us()) {
        *out = *c;
        hit = true;
    }
    pthread_mutex_unlock(&a->cache_lock);
    return hit;
}

static void cache_put(intake_auth *a, const struct cached *entry)
{
    pthread_mutex_lock(&a->cache_lock);
    struct cached *c = &a->cache[slot_of(entry->key)];
    *c = *entry;
    c->expires_us = hf_time_mono_us() + (int64_t)a->cfg->intake_auth_cache_s * 1000000;
    pthread_mutex_unlock(&a->cache_lock);
}

int intake_auth_client(intake_auth *a, const char *key, struct intake_client *client, struct hf_err *err)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_Digest(key, strlen(key), digest, &dlen, EVP_sha256(), NULL);
    struct cached entry = { 0 };
    strcpy(entry.key, "k:\\x");
    for (unsigned i = 0; i < dlen && i < 32; i++)
        snprintf(entry.key + 4 + 2 * i, 3, "%02x", digest[i]);
    if (cache_get(a, entry.key, &entry)) {
        *client = entry.client;
        return 0;
    }
    int slot, rc;
    PGresult *res = NULL;
    hf_pg *pg = intake_auth_pg_borrow(a, &slot, err);
    if (!pg)
        return HF_EUNAVAIL;
    const char *params[] = { entry.key + 2 };
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
    entry.client.id = atoll(PQgetvalue(res, 0, 0));
    entry.client.rpm = atoi(PQgetvalue(res, 0, 1));
    if (entry.client.rpm <= 0)
        entry.client.rpm = a->cfg->intake_client_rpm;
    snprintf(entry.client.scopes, sizeof entry.client.scopes, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    entry.allowed = true;
    cache_put(a, &entry);
    *client = entry.client;
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
    struct cached entry = { 0 };
    snprintf(entry.key, sizeof entry.key, "o:%lld:%lld:%lld", (long long)client_id, (long long)member_id,
             (long long)program_id);
    if (!cache_get(a, entry.key, &entry)) {
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
        entry.client.id = member_ok; /* remembers which check failed */
        cache_put(a, &entry);
    }
    if (user_id)
        *user_id = entry.user_id;
    if (entry.allowed)
        return 0;
    if (!entry.client.id)
        return hf_err_field(err, HF_EDENIED, "member_id", "member %lld is not a member of this client's users",
                            (long long)member_id);
    return hf_err_field(err, HF_EDENIED, "program_id", "program %lld does not belong to member %lld",
                        (long long)program_id, (long long)member_id);
}

int intake_auth_reader(intake_auth *a, int64_t client_id, bool program, int64_t id, int64_t *member_id,
                       int64_t *user_id, struct hf_err *err)
{
    struct cached entry = { 0 };
    snprintf(entry.key, sizeof entry.key, "r:%lld:%c:%lld", (long long)client_id, program ? 'p' : 'm', (long long)id);
    if (!cache_get(a, entry.key, &entry)) {
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
        cache_put(a, &entry);
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
