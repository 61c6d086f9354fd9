/* Ingredient-scoring pool: for each job.ingredient_score, the ingredient's
 * data from the foods table, USDA FoodData Central and Open Food Facts,
 * merged and scored by 002's rules into ingredient_scores, then a
 * cache.invalidate. The HTTP happens in prepare (outside the transaction,
 * the whole batch at once); handle only merges, scores and writes. Design:
 * README.md beside this file. */
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_cache.h"
#include "hf_log.h"
#include "hf_redis.h"
#include "hf_runtime.h"
#include "hf_time.h"
#include "ingredient_data.h"
#include "ingredient_guard.h"
#include "ingredient_http.h"
#include "ingredient_rules.h"

enum api { API_USDA, API_OFF, API_N };
static const char *const api_key[API_N] = { "usda", "off" };
static const char *const api_title[API_N] = { "USDA FoodData Central", "Open Food Facts" };

/* What one API said about one ingredient: the record kept in
 * ingredient_scores.sources and in ingredient:data:{name}, and its parse. */
struct answer {
    json_t *rec;           /* {"query","fetched_at","status","error","found","item"}; NULL: not settled */
    struct ing_source src; /* parsed from rec's item */
    bool ok;               /* the API answered (found or not): cacheable */
};

/* One canonical ingredient name of the batch. */
struct entry {
    char name[HF_FOOD_NAME_MAX + 1];
    long long table_food_id; /* the foods row prepare found, 0: none */
    long long food_id;       /* the row this attempt uses: found, or added by it */
    struct ing_source table;
    bool fresh; /* a score younger than HF_INGREDIENT_STALE_DAYS exists */
    bool want;  /* to be scored: no fresh score, or a message asks (an app, an operator) */
    struct answer ans[API_N];
    uint64_t cache_version; /* of ingredient:data:{name} when read; 0: not read */
    bool fetched;           /* an answer came from the APIs in this prepare */
    long long score_id;     /* written by this attempt; 0: not yet */
};

struct slot {
    char event_id[40];
    int entry;       /* index into entries, -1 when the message is bad */
    char error[200]; /* why it is bad */
};

struct state {
    const struct hf_config *cfg;
    hf_pg *reader; /* prepare's own connection: the batch's is not open yet */
    hf_redis *redis; /* the data cache and the shared rate limits; may be away */
    ing_guard *guard[API_N];
    struct entry *entries;
    int n_entries;
    struct slot *slots;
    int n_slots;
    bool committed; /* the prepared batch committed: the next prepare is a new batch */
};

static void answer_clear(struct answer *a)
{
    json_decref(a->rec);
    a->rec = NULL;
    a->ok = false;
    ing_source_clear(&a->src);
}

static void entries_free(struct entry *e, int n)
{
    for (int i = 0; i < n; i++) {
        ing_source_clear(&e[i].table);
        for (int a = 0; a < API_N; a++)
            answer_clear(&e[i].ans[a]);
    }
    free(e);
}

static int init(hf_pool_ctx *ctx, void **out, struct hf_err *err)
{
    const struct hf_config *cfg = hf_pool_config(ctx);
    struct state *st = calloc(1, sizeof *st);
    if (!st)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    st->cfg = cfg;
    int rc = 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        rc = hf_err_set(err, HF_EIO, false, "libcurl could not initialise");
        goto out;
    }
    char bucket[API_N][96];
    for (int a = 0; a < API_N && rc == 0; a++) {
        /* per fleet: tests and fleets sharing one Redis keep their own budgets */
        char what[96];
        snprintf(what, sizeof what, "%s%s", cfg->topic_prefix, api_key[a]);
        if (hf_cache_ratelimit_key("api", 0, what, bucket[a], sizeof bucket[a]))
            rc = hf_err_set(err, HF_EINVAL, false, "HF_TOPIC_PREFIX makes no rate-limit key");
    }
    const struct ing_guard_conf conf[API_N] = {
        { "usda", bucket[API_USDA], cfg->fdc_rate, (int64_t)cfg->fdc_window_s * 1000,
          cfg->ingredient_breaker_failures, cfg->ingredient_breaker_recovery_ms, cfg->ingredient_breaker_successes,
          cfg->rate_local_share },
        { "off", bucket[API_OFF], cfg->off_rate, (int64_t)cfg->off_window_s * 1000, cfg->ingredient_breaker_failures,
          cfg->ingredient_breaker_recovery_ms, cfg->ingredient_breaker_successes, cfg->rate_local_share },
    };
    for (int a = 0; a < API_N && rc == 0; a++)
        rc = ing_guard_new(&conf[a], &st->guard[a], err);
    if (rc)
        goto out;
    /* Both connect lazily again after a failure: an outage now is not fatal. */
    struct hf_err ignored = { 0 };
    hf_pg_connect(cfg->pg_url, &st->reader, &ignored);
    rc = hf_redis_connect(cfg->redis_url, cfg->redis_timeout_ms, cfg->redis_retry_ms, &st->redis, &ignored);
    if (rc == HF_EINVAL)
        rc = hf_err_set(err, HF_EINVAL, false, "HF_REDIS_URL: %s", ignored.msg);
    else
        rc = 0;
out:
    if (rc) {
        for (int a = 0; a < API_N; a++)
            ing_guard_free(st->guard[a]);
        hf_pg_free(st->reader);
        hf_redis_free(st->redis);
        free(st);
        return rc;
    }
    *out = st;
    return 0;
}

static void fini(void *arg)
{
    struct state *st = arg;
    entries_free(st->entries, st->n_entries);
    free(st->slots);
    for (int a = 0; a < API_N; a++)
        ing_guard_free(st->guard[a]);
    hf_redis_free(st->redis);
    hf_pg_free(st->reader);
    free(st);
    curl_global_cleanup();
}

static void after_commit(void *arg)
{
    struct state *st = arg;
    st->committed = true;
}

static void begin(void *arg)
{
    struct state *st = arg;
    for (int i = 0; i < st->n_entries; i++) {
        /* a rolled-back attempt's rows are gone */
        st->entries[i].score_id = 0;
        st->entries[i].food_id = st->entries[i].table_food_id;
    }
}

/* ---------- answers ---------- */

static void now_text(char *out, size_t outsz)
{
    hf_time_format_rfc3339(hf_time_now_us(), out, outsz);
}

/* Parses rec's item into a->src; false when the item is not the API's shape
 * (a cached record from an older layout, or a changed API). */
static bool answer_parse(struct answer *a, enum api api, struct hf_err *err)
{
    ing_source_clear(&a->src);
    json_t *item = json_object_get(a->rec, "item");
    if (!json_is_object(item))
        return true; /* not found: found stays false */
    if (api == API_USDA)
        return ing_parse_fdc(item, &a->src, err) == 0;
    json_t *wrapped = json_pack("{s:i, s:O}", "status", 1, "product", item);
    int rc = wrapped ? ing_parse_off(wrapped, &a->src, err) : HF_ENOMEM;
    json_decref(wrapped);
    return rc == 0;
}

/* Settles an answer from an HTTP outcome; returns whether the API worked
 * (for its breaker): it answered, even "not found". */
static bool answer_from_http(struct answer *a, enum api api, const struct ing_request *r)
{
    char at[40], error[256] = "";
    now_text(at, sizeof at);
    json_t *item = NULL;
    bool worked = false;
    if (r->error[0]) {
        snprintf(error, sizeof error, "%s", r->error);
    } else if (r->status == 404) {
        worked = true; /* no such food or product */
    } else if (r->status != 200) {
        snprintf(error, sizeof error, "%s: HTTP %ld%s", r->log_url, r->status,
                 r->status == 429 ? " (the provider's rate limit)" : "");
    } else {
        json_error_t je;
        json_t *body = json_loads(r->body ? r->body : "", 0, &je);
        struct ing_source s;
        ing_source_init(&s);
        struct hf_err perr = { 0 };
        int rc = !body ? hf_err_set(&perr, HF_EINVAL, false, "not JSON: %s", je.text)
                 : api == API_USDA ? ing_parse_fdc(body, &s, &perr)
                                   : ing_parse_off(body, &s, &perr);
        if (rc) {
            snprintf(error, sizeof error, "%s: %s", r->log_url, perr.msg);
        } else {
            worked = true;
            item = s.raw ? json_incref(s.raw) : NULL;
        }
        ing_source_clear(&s);
        json_decref(body);
    }
    answer_clear(a);
    a->rec = json_pack("{s:s, s:s, s:i, s:I, s:o, s:b, s:o}", "query", r->log_url, "fetched_at", at, "status",
                       (int)r->status, "elapsed_ms", (json_int_t)r->elapsed_ms, "error",
                       error[0] ? json_string(error) : json_null(), "found", item != NULL, "item",
                       item ? item : json_null());
    a->ok = worked;
    if (a->rec && worked)
        answer_parse(a, api, NULL);
    return worked;
}

static void answer_refused(struct answer *a, enum api api, const char *why)
{
    char at[40];
    now_text(at, sizeof at);
    answer_clear(a);
    a->rec = json_pack("{s:s, s:s, s:i, s:s, s:b, s:n}", "query", api_title[api], "fetched_at", at, "status", 0,
                       "error", why, "found", 0, "item");
}

/* ---------- prepare: names, table, cache, HTTP ---------- */

struct job {
    const char *name, *reason, *trigger;
};

static int find_entry(const struct entry *e, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(e[i].name, name) == 0)
            return i;
    return -1;
}

static double col_num(PGresult *res, int r, int c)
{
    return PQgetisnull(res, r, c) ? NAN : strtod(PQgetvalue(res, r, c), NULL);
}

/* Per normalised name: its canonical name (migration 0010),
 * its foods row (by alias, by name, or the one its last score used), and
 * whether a fresh score exists (younger than the stale age, and, if a source
 * failed when it was made, than HF_INGREDIENT_RETRY_FAILED_S); one query for
 * the batch. */
static const char *const lookup_sql =
    "SELECT n.name, ingredient_canonical(n.low), f.id, f.fdc_id, f.kcal, f.protein_g,"
    " f.carbs_g, f.fat_g, f.fiber_g, f.sugars_g, f.glycemic_index, f.added_sugars_g, f.sat_fat_g, f.trans_fat_g,"
    " f.omega3_g, f.omega6_g, f.vitamin_c_mg, f.vitamin_e_mg, f.caffeine_mg, f.name,"
    " s.scored_at > now() - make_interval(days => $2::int) AND (s.scored_at > now() - make_interval(secs => $3::int)"
    "  OR (s.sources->'usda'->>'error' IS NULL AND s.sources->'off'->>'error' IS NULL))"
    " FROM (SELECT e AS name, lower(e) AS low FROM jsonb_array_elements_text($1::jsonb) AS e) AS n"
    " LEFT JOIN food_aliases a ON a.alias = n.low"
    " LEFT JOIN foods f ON f.id = coalesce(a.food_id, (SELECT id FROM foods WHERE name = n.low),"
    "  (SELECT food_id FROM ingredient_scores WHERE name = n.low))"
    " LEFT JOIN ingredient_scores s ON s.name = ingredient_canonical(n.low)";

static void table_source(PGresult *res, int r, struct ing_source *t)
{
    ing_source_init(t);
    if (PQgetisnull(res, r, 2))
        return;
    t->found = true;
    t->fdc_id = PQgetisnull(res, r, 3) ? 0 : strtol(PQgetvalue(res, r, 3), NULL, 10);
    t->kcal = col_num(res, r, 4);
    t->protein_g = col_num(res, r, 5);
    t->carbs_g = col_num(res, r, 6);
    t->fat_g = col_num(res, r, 7);
    struct ing_facts *f = &t->facts;
    f->fiber_g = col_num(res, r, 8);
    f->sugars_g = col_num(res, r, 9);
    f->glycemic_index = col_num(res, r, 10);
    f->added_sugars_g = col_num(res, r, 11);
    f->sat_fat_g = col_num(res, r, 12);
    f->trans_fat_g = col_num(res, r, 13);
    f->omega3_g = col_num(res, r, 14);
    f->omega6_g = col_num(res, r, 15);
    f->vitamin_c_mg = col_num(res, r, 16);
    f->vitamin_e_mg = col_num(res, r, 17);
    f->caffeine_mg = col_num(res, r, 18);
    snprintf(t->description, sizeof t->description, "%s", PQgetvalue(res, r, 19));
    ing_detect(t->description, NULL, f);
}

/* Builds st->entries and st->slots for the batch. `prev` (the entries of the
 * last prepare, when its batch did not commit) lends its settled answers to
 * the same names: after a rewind the batch is prepared again, and what was
 * fetched is not fetched twice. */
static int build_entries(struct state *st, const struct hf_msg *const *msgs, int n, struct entry *prev, int n_prev,
                         struct hf_err *err)
{
    char (*norm)[HF_FOOD_NAME_MAX + 1] = calloc((size_t)n, sizeof *norm);
    bool *want = calloc((size_t)n, sizeof *want);
    json_t *names = json_array();
    PGresult *res = NULL;
    int rc = 0;
    st->slots = calloc((size_t)n, sizeof *st->slots);
    st->entries = calloc((size_t)n, sizeof *st->entries);
    if (!norm || !want || !names || !st->slots || !st->entries) {
        rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
        goto out;
    }
    st->n_slots = n;
    static const struct hf_bind bind[] = {
        HF_BIND(struct job, name, HF_B_STR),
        HF_BIND(struct job, reason, HF_B_STR),
        HF_BIND(struct job, trigger, HF_B_STR),
    };
    for (int i = 0; i < n; i++) {
        struct slot *s = &st->slots[i];
        snprintf(s->event_id, sizeof s->event_id, "%s", msgs[i]->event_id);
        s->entry = -1;
        if (strcmp(msgs[i]->schema->name, "job.ingredient_score") != 0)
            continue; /* another schema on the topic: not ours */
        struct job job = { 0 };
        struct hf_err e = { 0 };
        if (hf_doc_bind(msgs[i]->doc, bind, 3, &job, &e) || hf_food_name_normalise(job.name, norm[i], &e)) {
            snprintf(s->error, sizeof s->error, "%s", e.msg);
            continue;
        }
        want[i] = strcmp(job.reason, "app_request") == 0 || strcmp(job.reason, "manual") == 0;
        json_array_append_new(names, json_string(norm[i]));
    }
    if (json_array_size(names) == 0)
        goto out;
    char *text = json_dumps(names, JSON_COMPACT);
    char days[16], secs[16];
    snprintf(days, sizeof days, "%d", st->cfg->ingredient_stale_days);
    snprintf(secs, sizeof secs, "%d", st->cfg->ingredient_retry_failed_s);
    const char *params[] = { text, days, secs };
    rc = text ? hf_pg_exec(st->reader, lookup_sql, 3, params, &res, err)
              : hf_err_set(err, HF_ENOMEM, true, "out of memory");
    free(text);
    if (rc)
        goto out;
    for (int i = 0; i < n; i++) {
        if (st->slots[i].error[0])
            continue;
        int row = -1;
        for (int r = 0; r < PQntuples(res) && row < 0; r++)
            if (strcmp(PQgetvalue(res, r, 0), norm[i]) == 0)
                row = r;
        const char *canonical = row >= 0 ? PQgetvalue(res, row, 1) : norm[i];
        int k = find_entry(st->entries, st->n_entries, canonical);
        if (k < 0) {
            k = st->n_entries++;
            struct entry *e = &st->entries[k];
            snprintf(e->name, sizeof e->name, "%s", canonical);
            for (int a = 0; a < API_N; a++)
                ing_source_init(&e->ans[a].src);
            ing_source_init(&e->table);
            if (row >= 0) {
                table_source(res, row, &e->table);
                e->table_food_id = e->table.found ? strtoll(PQgetvalue(res, row, 2), NULL, 10) : 0;
                e->food_id = e->table_food_id;
                e->fresh = PQgetvalue(res, row, 20)[0] == 't';
            }
            int p = find_entry(prev, n_prev, canonical);
            for (int a = 0; p >= 0 && a < API_N; a++)
                if (prev[p].ans[a].rec) { /* hand over the settled answer */
                    e->ans[a] = prev[p].ans[a];
                    ing_source_init(&prev[p].ans[a].src);
                    prev[p].ans[a].rec = NULL;
                }
        }
        st->entries[k].want |= want[i] || !st->entries[k].fresh;
        st->slots[i].entry = k;
    }
out:
    PQclear(res);
    json_decref(names);
    free(want);
    free(norm);
    return rc;
}

static const char *const off_fields =
    "code,product_name,categories,categories_tags,additives_tags,allergens_tags,nova_group,nutriments,"
    "ingredients_text";

static bool is_barcode(const char *name)
{
    size_t n = strlen(name);
    return n >= 8 && n <= 14 && strspn(name, "0123456789") == n;
}

/* The URL of one API's call for e (caller frees both). */
static int make_url(const struct state *st, const struct entry *e, enum api api, char **url, char **log_url)
{
    char *q = curl_easy_escape(NULL, e->name, 0);
    if (!q)
        return -1;
    int n1 = -1, n2 = -1;
    if (api == API_USDA && e->table.fdc_id > 0) {
        n1 = asprintf(url, "%s/food/%ld?api_key=%s", st->cfg->fdc_url, e->table.fdc_id, st->cfg->fdc_api_key);
        n2 = asprintf(log_url, "USDA /food/%ld", e->table.fdc_id);
    } else if (api == API_USDA) {
        n1 = asprintf(url, "%s/foods/search?query=%s&pageSize=5&api_key=%s", st->cfg->fdc_url, q,
                      st->cfg->fdc_api_key);
        n2 = asprintf(log_url, "USDA /foods/search?query=%s", q);
    } else if (is_barcode(e->name)) {
        n1 = asprintf(url, "%s/api/v2/product/%s?fields=%s", st->cfg->off_url, e->name, off_fields);
        n2 = asprintf(log_url, "Open Food Facts /api/v2/product/%s", e->name);
    } else {
        n1 = asprintf(url, "%s/cgi-bin/search.pl?search_terms=%s&search_simple=1&action=process&json=1&page_size=5"
                           "&fields=%s",
                      st->cfg->off_url, q, off_fields);
        n2 = asprintf(log_url, "Open Food Facts search?search_terms=%s", q);
    }
    curl_free(q);
    if (n1 < 0 || n2 < 0) {
        if (n1 >= 0)
            free(*url);
        if (n2 >= 0)
            free(*log_url);
        return -1;
    }
    return 0;
}

struct call {
    int entry;
    enum api api;
};

/* Fetches every unsettled answer of the entries that need a score: through
 * each API's guard (an open breaker settles the answer as refused; a spent
 * rate limit leaves it unsettled), all at once. Returns HF_EUNAVAIL when a
 * rate limit held some back, so the runtime retries the batch later; what
 * was fetched is kept for that retry. */
static int fetch(struct state *st, struct hf_err *err)
{
    int cap = st->n_entries * API_N, n = 0, rc = 0;
    struct ing_request *reqs = calloc((size_t)(cap ? cap : 1), sizeof *reqs);
    struct call *calls = calloc((size_t)(cap ? cap : 1), sizeof *calls);
    int64_t wait_ms = 0;
    const char *limited = NULL;
    if (!reqs || !calls) {
        rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
        goto out;
    }
    for (int i = 0; i < st->n_entries; i++) {
        struct entry *e = &st->entries[i];
        if (!e->want)
            continue;
        for (int a = 0; a < API_N; a++) {
            if (e->ans[a].rec)
                continue;
            int64_t retry = 0;
            enum ing_admit adm = ing_guard_admit(st->guard[a], st->redis, &retry);
            if (adm == ING_ADMIT_OPEN) {
                char why[160];
                snprintf(why, sizeof why, "%s: circuit breaker open (failing), not called", api_title[a]);
                answer_refused(&e->ans[a], (enum api)a, why);
                continue;
            }
            if (adm == ING_ADMIT_LIMITED) {
                limited = api_title[a];
                wait_ms = retry > wait_ms ? retry : wait_ms;
                continue;
            }
            char *url = NULL, *log_url = NULL;
            if (make_url(st, e, (enum api)a, &url, &log_url)) {
                ing_guard_done(st->guard[a], true); /* not the API's fault */
                rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
                goto out;
            }
            reqs[n] = (struct ing_request){ .url = url, .log_url = log_url };
            calls[n++] = (struct call){ i, (enum api)a };
        }
    }
    const struct ing_http_limits lim = {
        .connect_timeout_ms = st->cfg->ingredient_connect_timeout_ms,
        .timeout_ms = st->cfg->ingredient_timeout_ms,
        .max_body = (size_t)st->cfg->ingredient_max_body,
        .concurrency = st->cfg->ingredient_concurrency,
    };
    rc = ing_http_run(reqs, n, &lim, err);
    hf_debug("%d ingredient(s) in the batch, %d call(s) to the food APIs", st->n_entries, n);
    for (int k = 0; k < n; k++) {
        struct entry *e = &st->entries[calls[k].entry];
        bool worked = rc == 0 && answer_from_http(&e->ans[calls[k].api], calls[k].api, &reqs[k]);
        e->fetched |= worked;
        ing_guard_done(st->guard[calls[k].api], worked || rc != 0);
        if (rc == 0 && !worked)
            hf_warn("%s", reqs[k].error[0] ? reqs[k].error : "food API call failed");
    }
    if (rc == 0 && limited)
        rc = hf_err_set(err, HF_EUNAVAIL, true, "%s rate limit reached; the batch waits about %lld ms", limited,
                        (long long)wait_ms);
out:
    for (int k = 0; k < n; k++) {
        ing_request_clear(&reqs[k]);
        free((char *)reqs[k].url);
        free((char *)reqs[k].log_url);
    }
    free(reqs);
    free(calls);
    return rc;
}

/* ---------- ingredient:data:{name} (002: 24 h) ---------- */

/* Settles each wanted entry's answers from the data cache where it has them.
 * Redis away or a damaged value: the APIs are asked instead. */
static void cache_read(struct state *st)
{
    for (int i = 0; i < st->n_entries; i++) {
        struct entry *e = &st->entries[i];
        if (!e->want || (e->ans[API_USDA].rec && e->ans[API_OFF].rec))
            continue;
        const struct hf_cache_ref ref = { .kind = HF_CACHE_INGREDIENT_DATA, .name = e->name };
        char *value = NULL;
        size_t len = 0;
        struct hf_err err = { 0 };
        if (hf_cache_get(st->redis, &ref, NULL, &e->cache_version, &value, &len, NULL, &err)) {
            e->cache_version = 0;
            continue;
        }
        json_t *cached = value ? json_loadb(value, len, 0, NULL) : NULL;
        free(value);
        for (int a = 0; a < API_N; a++) {
            json_t *rec = json_object_get(cached, api_key[a]);
            if (e->ans[a].rec || !json_is_object(rec))
                continue;
            e->ans[a].rec = json_incref(rec);
            e->ans[a].ok = true;
            if (!answer_parse(&e->ans[a], (enum api)a, &err))
                answer_clear(&e->ans[a]);
        }
        json_decref(cached);
    }
}

/* Stores what the APIs answered (failures are not cached: the next job asks
 * again) under the version cache_read saw. */
static void cache_write(struct state *st)
{
    for (int i = 0; i < st->n_entries; i++) {
        struct entry *e = &st->entries[i];
        if (!e->fetched || !e->cache_version)
            continue;
        json_t *value = json_object();
        for (int a = 0; a < API_N; a++)
            if (e->ans[a].ok && e->ans[a].rec)
                json_object_set(value, api_key[a], e->ans[a].rec);
        char *text = json_dumps(value, JSON_COMPACT | JSON_REAL_PRECISION(12));
        const struct hf_cache_ref ref = { .kind = HF_CACHE_INGREDIENT_DATA, .name = e->name };
        struct hf_err err = { 0 };
        if (text && hf_cache_put(st->redis, &ref, e->cache_version, text, strlen(text), &err))
            hf_debug("ingredient data not cached: %s", err.msg);
        free(text);
        json_decref(value);
        e->fetched = false;
    }
}

static int prepare(hf_pool_ctx *ctx, void *arg, const struct hf_msg *const *msgs, int n, struct hf_err *err)
{
    (void)ctx;
    struct state *st = arg;
    struct entry *prev = st->entries;
    int n_prev = st->n_entries;
    free(st->slots);
    st->slots = NULL;
    st->entries = NULL;
    st->n_slots = st->n_entries = 0;
    /* answers are handed over only to a retry of the same batch */
    int rc = build_entries(st, msgs, n, prev, st->committed ? 0 : n_prev, err);
    st->committed = false;
    entries_free(prev, n_prev);
    if (rc)
        return rc;
    cache_read(st);
    rc = fetch(st, err);
    cache_write(st);
    return rc;
}

/* ---------- handle: merge, score, write ---------- */

/* A number as SQL text with two decimals, or NULL when unknown. */
static const char *num_param(double v, char *buf, size_t bufsz)
{
    if (isnan(v))
        return NULL;
    snprintf(buf, bufsz, "%.2f", v);
    return buf;
}

enum { X_GI, X_ADDED, X_SAT, X_TRANS, X_O3, X_O6, X_VITC, X_VITE, X_CAF, X_N };

static void extras(const struct ing_facts *f, double v[X_N])
{
    v[X_GI] = f->glycemic_index, v[X_ADDED] = f->added_sugars_g, v[X_SAT] = f->sat_fat_g;
    v[X_TRANS] = f->trans_fat_g, v[X_O3] = f->omega3_g, v[X_O6] = f->omega6_g;
    v[X_VITC] = f->vitamin_c_mg, v[X_VITE] = f->vitamin_e_mg, v[X_CAF] = f->caffeine_mg;
}

/* Gives the foods row `id` the rule nutrients it lacks: its own values win. */
static int fill_food(hf_pg *pg, long long id, const char *const extra[X_N], struct hf_err *err)
{
    char text[24];
    snprintf(text, sizeof text, "%lld", id);
    const char *p[1 + X_N] = { text };
    memcpy(p + 1, extra, sizeof(const char *) * X_N);
    return hf_pg_exec(pg,
                      "UPDATE foods SET glycemic_index = coalesce(glycemic_index, $2),"
                      " added_sugars_g = coalesce(added_sugars_g, $3), sat_fat_g = coalesce(sat_fat_g, $4),"
                      " trans_fat_g = coalesce(trans_fat_g, $5), omega3_g = coalesce(omega3_g, $6),"
                      " omega6_g = coalesce(omega6_g, $7), vitamin_c_mg = coalesce(vitamin_c_mg, $8),"
                      " vitamin_e_mg = coalesce(vitamin_e_mg, $9), caffeine_mg = coalesce(caffeine_mg, $10)"
                      " WHERE id = $1",
                      1 + X_N, p, NULL, err);
}

/* The foods row of e. An ingredient the table lacks gets a row of its own
 * (source usda or off) when its macros are known, or shares the row USDA's
 * food already has under another name (one row per food; no alias is made,
 * since USDA's best hit for "smoked salmon" may be plain salmon: aliases stay
 * the curated table's). A row that is not ours gets the rule nutrients it
 * lacks. Sets e->food_id (0: no row). */
static int write_food(hf_pool_ctx *ctx, struct entry *e, const struct ing_merged *m, struct hf_err *err)
{
    hf_pg *pg = hf_pool_pg(ctx);
    char b[X_N + 6][32], fdc[24];
    double x[X_N];
    extras(&m->facts, x);
    const char *p[X_N + 9];
    for (int i = 0; i < X_N; i++)
        p[1 + i] = num_param(x[i], b[i], sizeof b[i]);
    if (e->food_id)
        return fill_food(pg, e->food_id, p + 1, err);
    if (isnan(m->kcal) || isnan(m->protein_g) || isnan(m->carbs_g) || isnan(m->fat_g))
        return 0; /* not enough for a row of the nutrition table */
    p[0] = e->name;
    snprintf(fdc, sizeof fdc, "%ld", m->fdc_id);
    p[1 + X_N] = m->fdc_id > 0 ? fdc : NULL;
    p[2 + X_N] = num_param(m->kcal, b[X_N], sizeof b[X_N]);
    p[3 + X_N] = num_param(m->protein_g, b[X_N + 1], sizeof b[X_N + 1]);
    p[4 + X_N] = num_param(m->carbs_g, b[X_N + 2], sizeof b[X_N + 2]);
    p[5 + X_N] = num_param(m->fat_g, b[X_N + 3], sizeof b[X_N + 3]);
    p[6 + X_N] = num_param(m->facts.fiber_g, b[X_N + 4], sizeof b[X_N + 4]);
    p[7 + X_N] = num_param(m->facts.sugars_g, b[X_N + 5], sizeof b[X_N + 5]);
    p[8 + X_N] = json_string_value(json_object_get(m->origin, "kcal"));
    if (!p[8 + X_N] || strcmp(p[8 + X_N], "table") == 0)
        p[8 + X_N] = "usda";
    /* ON CONFLICT without a target: the name or USDA's id may be taken (by
     * another process, or the same food under another name). */
    PGresult *res = NULL;
    int rc = hf_pg_exec(pg,
                        "WITH ins AS (INSERT INTO foods (name, glycemic_index, added_sugars_g, sat_fat_g,"
                        "  trans_fat_g, omega3_g, omega6_g, vitamin_c_mg, vitamin_e_mg, caffeine_mg, fdc_id, kcal,"
                        "  protein_g, carbs_g, fat_g, fiber_g, sugars_g, source)"
                        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
                        "  coalesce($16::numeric, 0), coalesce($17::numeric, 0), $18)"
                        " ON CONFLICT DO NOTHING RETURNING id)"
                        " SELECT id, true FROM ins UNION ALL"
                        " (SELECT id, false FROM foods WHERE name = $1 OR fdc_id = $11::int"
                        "  ORDER BY name = $1 DESC LIMIT 1)"
                        " LIMIT 1",
                        9 + X_N, p, &res, err);
    bool theirs = false;
    if (rc == 0 && PQntuples(res) == 1) {
        e->food_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        theirs = PQgetvalue(res, 0, 1)[0] == 'f';
    }
    PQclear(res);
    return rc == 0 && theirs ? fill_food(pg, e->food_id, p + 1, err) : rc;
}

static json_t *facts_json(const struct ing_merged *m)
{
    const struct ing_facts *f = &m->facts;
    json_t *o = json_object();
    const struct {
        const char *k;
        double v;
    } nums[] = {
        { "kcal", m->kcal },
        { "protein_g", m->protein_g },
        { "carbs_g", m->carbs_g },
        { "fat_g", m->fat_g },
        { "glycemic_index", f->glycemic_index },
        { "fiber_g", f->fiber_g },
        { "sugars_g", f->sugars_g },
        { "added_sugars_g", f->added_sugars_g },
        { "sat_fat_g", f->sat_fat_g },
        { "trans_fat_g", f->trans_fat_g },
        { "omega3_g", f->omega3_g },
        { "omega6_g", f->omega6_g },
        { "vitamin_c_mg", f->vitamin_c_mg },
        { "vitamin_e_mg", f->vitamin_e_mg },
        { "caffeine_mg", f->caffeine_mg },
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        json_object_set_new(o, nums[i].k, isnan(nums[i].v) ? json_null() : json_real(round(nums[i].v * 100) / 100));
    const struct {
        const char *k;
        bool v;
    } props[] = {
        { "refined_sugar", f->refined_sugar },   { "refined_grains", f->refined_grains },
        { "artificial_sweeteners", f->artificial_sweeteners }, { "polyphenols", f->polyphenols },
        { "fermented", f->fermented },           { "prebiotics", f->prebiotics },
        { "emulsifiers", f->emulsifiers },       { "artificial_colors", f->artificial_colors },
        { "phytoestrogens", f->phytoestrogens }, { "caffeinated", f->caffeinated },
    };
    json_t *list = json_array();
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++)
        if (props[i].v)
            json_array_append_new(list, json_string(props[i].k));
    json_object_set_new(o, "properties", list);
    return o;
}

/* The oldest answer the score rests on, or NULL when none answered. */
static const char *fetched_at(const struct entry *e)
{
    const char *oldest = NULL;
    for (int a = 0; a < API_N; a++) {
        const char *at = json_string_value(json_object_get(e->ans[a].rec, "fetched_at"));
        if (e->ans[a].ok && at && (!oldest || strcmp(at, oldest) < 0))
            oldest = at;
    }
    return oldest;
}

static int write_score(hf_pool_ctx *ctx, struct entry *e, struct hf_err *err)
{
    struct ing_merged m;
    ing_merge(e->name, &e->table, &e->ans[API_USDA].src, &e->ans[API_OFF].src, &m);
    struct ing_scores s;
    json_t *details = NULL, *sources = json_object();
    char *dtext = NULL, *stext = NULL;
    PGresult *res = NULL;
    int rc = 0;
    ing_score(&m.facts, &m.evidence, &s, &details);
    if (!details || !sources) {
        rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
        goto out;
    }
    json_object_set_new(details, "facts", facts_json(&m));
    json_object_set(details, "origin", m.origin);
    json_object_set_new(details, "category", m.category ? json_string(m.category) : json_null());
    json_object_set_new(details, "allergens", m.allergens ? json_deep_copy(m.allergens) : json_array());
    json_object_set_new(details, "additives", m.additives ? json_deep_copy(m.additives) : json_array());
    json_object_set_new(details, "nova_group", m.nova ? json_integer(m.nova) : json_null());
    for (int a = 0; a < API_N; a++)
        if (e->ans[a].rec)
            json_object_set(sources, api_key[a], e->ans[a].rec);
    if (e->table.found)
        json_object_set_new(sources, "table", json_pack("{s:I, s:s}", "food_id", (json_int_t)e->food_id, "name",
                                                        e->table.description));
    if ((rc = write_food(ctx, e, &m, err)))
        goto out;
    dtext = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
    stext = json_dumps(sources, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(12));
    if (!dtext || !stext) {
        rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
        goto out;
    }
    char v[6][32], food[24], conf[16];
    snprintf(food, sizeof food, "%lld", e->food_id);
    snprintf(conf, sizeof conf, "%.2f", s.confidence);
    const char *p[] = {
        e->name,
        e->food_id ? food : NULL,
        num_param(s.blood_sugar, v[0], sizeof v[0]),
        num_param(s.inflammation, v[1], sizeof v[1]),
        num_param(s.gut, v[2], sizeof v[2]),
        num_param(s.hormonal, v[3], sizeof v[3]),
        num_param(s.overall, v[4], sizeof v[4]),
        conf,
        dtext,
        stext,
        fetched_at(e),
    };
    rc = hf_pg_exec(hf_pool_pg(ctx),
                    "INSERT INTO ingredient_scores (name, food_id, blood_sugar, inflammation, gut, hormonal, overall,"
                    " confidence, details, sources, fetched_at, scored_at)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11::timestamptz, now())"
                    " ON CONFLICT (name) DO UPDATE SET food_id = EXCLUDED.food_id, blood_sugar = EXCLUDED.blood_sugar,"
                    " inflammation = EXCLUDED.inflammation, gut = EXCLUDED.gut, hormonal = EXCLUDED.hormonal,"
                    " overall = EXCLUDED.overall, confidence = EXCLUDED.confidence, details = EXCLUDED.details,"
                    " sources = EXCLUDED.sources, fetched_at = EXCLUDED.fetched_at, scored_at = now()"
                    " RETURNING id",
                    11, p, &res, err);
    if (rc == 0)
        e->score_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
out:
    PQclear(res);
    free(dtext);
    free(stext);
    json_decref(details);
    json_decref(sources);
    json_decref(m.origin);
    return rc;
}


static int handle(hf_pool_ctx *ctx, void *arg, const struct hf_msg *msg, struct hf_err *err)
{
    struct state *st = arg;
    const struct slot *s = NULL;
    for (int i = 0; i < st->n_slots && !s; i++)
        if (strcmp(st->slots[i].event_id, msg->event_id) == 0)
            s = &st->slots[i];
    if (!s)
        return hf_err_set(err, HF_EIO, true, "message %s was not prepared", msg->event_id);
    if (s->entry < 0 && !s->error[0])
        return 0;
    if (s->entry < 0)
        return hf_err_field(err, HF_EPERM_MSG, "name", "%s", s->error);
    struct entry *e = &st->entries[s->entry];
    if (e->score_id)
        return 0; /* this attempt already wrote it (and emitted) */
    if (msg->replayed) {
        /* committed before a crash, which may have come before the
         * invalidation went out: send it again (an extra one costs a miss) */
        PGresult *res = NULL;
        const char *p[] = { e->name };
        int rc = hf_pg_exec(hf_pool_pg(ctx), "SELECT id FROM ingredient_scores WHERE name = $1", 1, p, &res, err);
        if (rc == 0 && PQntuples(res) == 1)
            e->score_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        return rc || !e->score_id ? rc : hf_pool_invalidate(ctx, "ingredient", e->score_id, "scores", NULL, err);
    }
    if (!e->want)
        return 0; /* a fresh score exists */
    int rc = write_score(ctx, e, err);
    return rc ? rc : hf_pool_invalidate(ctx, "ingredient", e->score_id, "scores", NULL, err);
}

static const char *const families[] = { "jobs.ingredients", NULL };

const struct hf_pool_def hf_pool_ingredient_scoring = {
    .name = "ingredient_scoring",
    .families = families,
    .init = init,
    .prepare = prepare,
    .begin = begin,
    .handle = handle,
    .after_commit = after_commit,
    .fini = fini,
};
