/* Loading a batch's members' data; see loader.h. */
#include "loader.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAMES 512 /* distinct ingredient names per member kept */
#define UNIT_SEP '\x1f'

struct mem {
    int64_t id;
    struct member_data d;
    struct fx_day *days;
    int cap_days;
    char **names;
    int *ing;        /* every day's ingredient indices, one pool */
    int n_ing, cap_ing;
    int *ing_off;    /* per day: offset into ing (pointers fixed at the end) */
    int32_t *starts;
    int n_starts, cap_starts;
    struct cycle_reading *bbt, *lh;
    int n_bbt, cap_bbt, n_lh, cap_lh;
    double *gut, *infl;
};

struct loader {
    struct mem *m;
    int n;
};

static int grow(void **p, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return 0;
    int c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, (size_t)c * size);
    if (!q)
        return HF_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}


static void mem_free(struct mem *m)
{
    for (int i = 0; i < m->d.fx.n_names; i++)
        free(m->names[i]);
    free(m->names);
    free(m->days);
    free(m->ing);
    free(m->ing_off);
    free(m->starts);
    free(m->bbt);
    free(m->lh);
    free(m->gut);
    free(m->infl);
}

void loader_free(loader *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->n; i++)
        mem_free(&l->m[i]);
    free(l->m);
    free(l);
}

static struct mem *find(const loader *l, int64_t id)
{
    int lo = 0, hi = l->n - 1; /* members are sorted by id */
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (l->m[mid].id == id)
            return &l->m[mid];
        if (l->m[mid].id < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

const struct member_data *loader_member(const loader *l, int64_t id)
{
    struct mem *m = find(l, id);
    return m ? &m->d : NULL;
}

static int intern(struct mem *m, const char *s, size_t n)
{
    for (int i = 0; i < m->d.fx.n_names; i++)
        if (strlen(m->names[i]) == n && memcmp(m->names[i], s, n) == 0)
            return i;
    if (m->d.fx.n_names >= MAX_NAMES)
        return -1;
    if (!m->names && !(m->names = calloc(MAX_NAMES, sizeof *m->names)))
        return HF_ENOMEM;
    if (!(m->names[m->d.fx.n_names] = strndup(s, n)))
        return HF_ENOMEM;
    return m->d.fx.n_names++;
}

static int8_t sym_value(const char *s)
{
    return s[0] ? (int8_t)strtol(s, NULL, 10) : -1;
}

static int8_t phase_value(const char *s)
{
    static const char *const phases[] = { "menstrual", "follicular", "ovulation", "luteal" };
    for (int q = 0; q < 4; q++)
        if (strcmp(s, phases[q]) == 0)
            return (int8_t)q;
    return -1;
}

/* One log row: member, day, type, bloating, energy, focus, mood, phase, names. */
static int add_log(struct mem *m, PGresult *res, int r)
{
    int32_t day = (int32_t)strtol(PQgetvalue(res, r, 1), NULL, 10);
    int nd = m->d.fx.n_days;
    if (nd == 0 || m->days[nd - 1].day != day) {
        if (grow((void **)&m->days, &m->cap_days, nd + 1, sizeof *m->days) ||
            !(m->ing_off = realloc(m->ing_off, sizeof *m->ing_off * (size_t)m->cap_days)))
            return HF_ENOMEM;
        m->days[nd] = (struct fx_day){ .day = day, .sym = { -1, -1, -1, -1 }, .phase = -1 };
        m->ing_off[nd] = m->n_ing;
        m->d.fx.n_days = ++nd;
    }
    struct fx_day *dy = &m->days[nd - 1];
    if (PQgetvalue(res, r, 2)[0] == 'S') {
        dy->logged = true;
        for (int s = 0; s < FX_SYM; s++) {
            int8_t v = sym_value(PQgetvalue(res, r, 3 + s));
            if (v >= 0)
                dy->sym[s] = v;
        }
        int8_t ph = phase_value(PQgetvalue(res, r, 7));
        if (ph >= 0)
            dy->phase = ph;
    }
    const char *s = PQgetvalue(res, r, 8);
    while (*s) {
        const char *e = strchr(s, UNIT_SEP);
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len) {
            int id = intern(m, s, len);
            if (id == HF_ENOMEM)
                return id;
            bool dup = id < 0;
            for (int q = m->ing_off[nd - 1]; q < m->n_ing && !dup; q++)
                dup = m->ing[q] == id;
            if (!dup) {
                if (grow((void **)&m->ing, &m->cap_ing, m->n_ing + 1, sizeof *m->ing))
                    return HF_ENOMEM;
                m->ing[m->n_ing++] = id;
            }
        }
        s += len + (e ? 1 : 0);
    }
    dy->n_ing = m->n_ing - m->ing_off[nd - 1];
    return 0;
}

static int add_cycle(struct mem *m, PGresult *res, int r)
{
    char what = PQgetvalue(res, r, 1)[0];
    int32_t day = (int32_t)strtol(PQgetvalue(res, r, 2), NULL, 10);
    if (what == 'P') {
        if (grow((void **)&m->starts, &m->cap_starts, m->n_starts + 1, sizeof *m->starts))
            return HF_ENOMEM;
        m->starts[m->n_starts++] = day;
        return 0;
    }
    struct cycle_reading rd = { day, strtod(PQgetvalue(res, r, 3), NULL) };
    if (what == 'T') {
        if (grow((void **)&m->bbt, &m->cap_bbt, m->n_bbt + 1, sizeof *m->bbt))
            return HF_ENOMEM;
        m->bbt[m->n_bbt++] = rd;
    } else {
        if (grow((void **)&m->lh, &m->cap_lh, m->n_lh + 1, sizeof *m->lh))
            return HF_ENOMEM;
        m->lh[m->n_lh++] = rd;
    }
    return 0;
}

static const char *const members_sql =
    "SELECT id FROM members WHERE id = ANY($1::bigint[]) AND deleted_at IS NULL ORDER BY id";

/* Symptom days of the 90 days ending on the newest symptom log; nutrition
 * logs add what was eaten on those days. Names are cut to 80 characters, as
 * ingredient_scores keeps them. */
static const char *const logs_sql =
    "WITH last AS (SELECT member_id, date_trunc('day', max(logged_at) AT TIME ZONE 'UTC') AS t FROM daily_logs"
    "  WHERE member_id = ANY($1::bigint[]) AND log_type = 'SYMPTOM' AND status = 'VERIFIED' AND deleted_at IS NULL"
    "  GROUP BY member_id)"
    " SELECT l.member_id, (l.logged_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01', left(l.log_type, 1),"
    "  coalesce(l.payload->'symptoms'->>'bloating', ''), coalesce(l.payload->'symptoms'->>'energy', ''),"
    "  coalesce(l.payload->'symptoms'->>'focus', ''), coalesce(l.payload->'symptoms'->>'mood', ''),"
    "  coalesce(l.payload->>'cycle_phase', ''),"
    "  array_to_string(ARRAY(SELECT left(lower(btrim(x)), 80) FROM jsonb_array_elements_text("
    "    CASE WHEN jsonb_typeof(l.payload->'ingredients') = 'array' THEN l.payload->'ingredients' ELSE '[]' END) x"
    "   UNION ALL SELECT left(lower(btrim(i->>'name')), 80) FROM jsonb_array_elements("
    "    CASE WHEN jsonb_typeof(l.payload->'items') = 'array' THEN l.payload->'items' ELSE '[]' END) i"
    "    WHERE i->>'name' IS NOT NULL), chr(31))"
    " FROM daily_logs l JOIN last ON last.member_id = l.member_id"
    " WHERE l.member_id = ANY($1::bigint[]) AND l.log_type IN ('SYMPTOM', 'NUTRITION') AND l.status = 'VERIFIED'"
    "  AND l.deleted_at IS NULL AND l.logged_at >= (last.t - interval '89 days') AT TIME ZONE 'UTC'"
    "  AND l.logged_at < (last.t + interval '1 day') AT TIME ZONE 'UTC'"
    " ORDER BY l.member_id, l.logged_at, l.id";

static const char *const cycles_sql =
    "SELECT member_id, 'P', (payload->>'start_date')::date - DATE '1970-01-01', '' FROM daily_logs"
    " WHERE member_id = ANY($1::bigint[]) AND log_type = 'CYCLE' AND status = 'VERIFIED' AND deleted_at IS NULL"
    " UNION ALL"
    " SELECT member_id, CASE payload->>'kind' WHEN 'basal_temp_c' THEN 'T' ELSE 'L' END,"
    "  (logged_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01', payload->>'value' FROM daily_logs"
    " WHERE member_id = ANY($1::bigint[]) AND log_type = 'BIOMETRIC' AND status = 'VERIFIED' AND deleted_at IS NULL"
    "  AND payload->>'kind' IN ('basal_temp_c', 'lh_test') AND logged_at >= now() - interval '800 days'"
    " ORDER BY 1, 2, 3";

static const char *const scores_sql =
    "SELECT name, gut::float8, inflammation::float8 FROM ingredient_scores WHERE name = ANY($1::text[])";

/* Appends s as one quoted element of a text[] literal. */
static int append_text_elem(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t need = *len + 2 * strlen(s) + 4;
    if (need > *cap) {
        size_t c = *cap * 2 > need ? *cap * 2 : need;
        char *q = realloc(*buf, c);
        if (!q)
            return HF_ENOMEM;
        *buf = q;
        *cap = c;
    }
    char *o = *buf + *len;
    if (*len > 1)
        *o++ = ',';
    *o++ = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            *o++ = '\\';
        *o++ = *s;
    }
    *o++ = '"';
    *len = (size_t)(o - *buf);
    return 0;
}

/* Scores the names of members under the cold-start threshold. */
static int load_scores(hf_pg *pg, loader *l, struct hf_err *err)
{
    size_t cap = 256, len = 1;
    char *arr = malloc(cap);
    PGresult *res = NULL;
    int rc = arr ? 0 : HF_ENOMEM, names = 0;
    if (arr)
        arr[0] = '{';
    for (int i = 0; i < l->n && rc == 0; i++) {
        struct mem *m = &l->m[i];
        int logged = 0;
        for (int t = 0; t < m->d.fx.n_days; t++)
            logged += m->days[t].logged;
        if (logged >= MODEL_COLD_START || m->d.fx.n_names == 0)
            continue;
        m->gut = malloc(sizeof *m->gut * (size_t)m->d.fx.n_names);
        m->infl = malloc(sizeof *m->infl * (size_t)m->d.fx.n_names);
        if (!m->gut || !m->infl) {
            rc = HF_ENOMEM;
            break;
        }
        for (int q = 0; q < m->d.fx.n_names && rc == 0; q++) {
            m->gut[q] = m->infl[q] = NAN;
            rc = append_text_elem(&arr, &len, &cap, m->names[q]);
            names++;
        }
        m->d.gut = m->gut;
        m->d.inflammation = m->infl;
    }
    if (rc) {
        free(arr);
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    }
    arr[len++] = '}';
    arr[len] = '\0';
    const char *params[] = { arr };
    if (names)
        rc = hf_pg_exec(pg, scores_sql, 1, params, &res, err);
    for (int r = 0; rc == 0 && res && r < PQntuples(res); r++) {
        const char *name = PQgetvalue(res, r, 0);
        for (int i = 0; i < l->n; i++) {
            struct mem *m = &l->m[i];
            for (int q = 0; m->gut && q < m->d.fx.n_names; q++)
                if (strcmp(m->names[q], name) == 0) {
                    m->gut[q] = strtod(PQgetvalue(res, r, 1), NULL);
                    m->infl[q] = strtod(PQgetvalue(res, r, 2), NULL);
                }
        }
    }
    PQclear(res);
    free(arr);
    return rc;
}

int loader_load(hf_pg *pg, const int64_t *ids, int n, loader **out, struct hf_err *err)
{
    *out = NULL;
    PGresult *res = NULL;
    loader *l = calloc(1, sizeof *l);
    char *arr = hf_pg_id_array(ids, (size_t)n);
    int rc = 0;
    if (!l || !arr)
        goto oom;
    const char *params[] = { arr };
    if ((rc = hf_pg_exec(pg, members_sql, 1, params, &res, err)))
        goto out;
    l->m = calloc((size_t)PQntuples(res) + 1, sizeof *l->m);
    if (!l->m)
        goto oom;
    for (int r = 0; r < PQntuples(res); r++)
        l->m[l->n++].id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
    PQclear(res);
    res = NULL;
    if ((rc = hf_pg_exec(pg, logs_sql, 1, params, &res, err)))
        goto out;
    for (int r = 0; r < PQntuples(res); r++) {
        struct mem *m = find(l, strtoll(PQgetvalue(res, r, 0), NULL, 10));
        if (m && add_log(m, res, r))
            goto oom;
    }
    PQclear(res);
    res = NULL;
    if ((rc = hf_pg_exec(pg, cycles_sql, 1, params, &res, err)))
        goto out;
    for (int r = 0; r < PQntuples(res); r++) {
        struct mem *m = find(l, strtoll(PQgetvalue(res, r, 0), NULL, 10));
        if (m && add_cycle(m, res, r))
            goto oom;
    }
    for (int i = 0; i < l->n; i++) {
        struct mem *m = &l->m[i];
        for (int t = 0; t < m->d.fx.n_days; t++)
            m->days[t].ing = m->ing ? m->ing + m->ing_off[t] : NULL;
        m->d.fx.days = m->days;
        m->d.fx.names = (const char *const *)m->names;
        m->d.fx.starts = m->starts;
        m->d.fx.n_starts = m->n_starts;
        m->d.cyc = (struct cycle_input){ m->starts, m->n_starts, m->bbt, m->n_bbt, m->lh, m->n_lh };
    }
    if ((rc = load_scores(pg, l, err)))
        goto out;
    *out = l;
    l = NULL;
    goto out;
oom:
    rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
out:
    PQclear(res);
    free(arr);
    loader_free(l);
    return rc;
}
