/* hf-synth: synthetic members with known truth, for the retraining pool's
 * benchmark (bench/retrain) and its scale run. The distributions are stated
 * in tools/synth/README.md and repeated in the JSON's "generator" object.
 *
 *   hf-synth [--members N] [--logs N] [--seed S] [--today YYYY-MM-DD]
 *            [--json FILE] [--sql FILE]
 *
 * --json writes every member's logs and truth (what hf-retrain-eval and the
 * Python reference read); --sql writes a psql script that creates the members
 * (users.external_ref = :'prefix' || index, under the API client named
 * :'client') and COPYs their logs into daily_logs. One seed gives the same
 * members on every machine (GSL's mt19937). */
#include <getopt.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hf_time.h"

#define N_CYCLES 15   /* cycle lengths per member, the last one ends on the withheld next start */
#define N_ING 24
#define MAX_TRIGGERS 2
#define BBT_CYCLES 4  /* temperatures and LH tests over the last cycles */
#define DAY_US (86400LL * 1000000)

static const char *const ingredients[N_ING] = {
    "milk", "cheese", "yogurt", "wheat bread", "pasta", "oats", "rice", "beans", "lentils", "onion", "garlic", "apple",
    "banana", "coffee", "eggs", "chicken", "salmon", "tofu", "broccoli", "cabbage", "tomato", "chocolate", "red wine",
    "peanuts",
};

struct opts {
    int members, logs;
    unsigned long seed;
    int32_t today; /* days since the epoch */
    const char *json, *sql;
};

struct member {
    double mean_len, sd_len, phi, luteal_mean, energy_base, focus_base;
    int32_t starts[N_CYCLES + 1]; /* the last one is in the future: withheld */
    int32_t ovulation[N_CYCLES];  /* of the cycle starting at starts[k] */
    bool bbt_user, lh_user;
    int n_triggers;
    int trigger[MAX_TRIGGERS], lag[MAX_TRIGGERS];
    double pref[N_ING];
};

static int32_t iround(double x)
{
    return (int32_t)lround(x);
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void date_text(int32_t day, char out[16])
{
    hf_time_format_date((int64_t)day * DAY_US, out, 16);
}

/* Phase of `day` from the true cycles: 0 menstrual (5 days), 1 follicular,
 * 2 ovulation (within a day of it), 3 luteal; -1 before the first start. */
static int true_phase(const struct member *m, int32_t day)
{
    for (int k = N_CYCLES - 1; k >= 0; k--)
        if (m->starts[k] <= day) {
            int32_t d = day - m->starts[k];
            if (d < 5)
                return 0;
            if (abs(day - m->ovulation[k]) <= 1)
                return 2;
            return day < m->ovulation[k] ? 1 : 3;
        }
    return -1;
}

static void draw_member(gsl_rng *r, int32_t today, struct member *m)
{
    memset(m, 0, sizeof *m);
    m->mean_len = 28.5 + gsl_ran_gaussian(r, 1.5);
    m->sd_len = gsl_ran_flat(r, 1.5, 3.0);
    m->phi = gsl_ran_flat(r, 0.0, 0.4);
    m->luteal_mean = 13.5 + gsl_ran_gaussian(r, 0.5);
    m->energy_base = 3.2 + gsl_ran_gaussian(r, 0.5);
    m->focus_base = 3.0 + gsl_ran_gaussian(r, 0.5);
    m->bbt_user = gsl_rng_uniform(r) < 0.6;
    m->lh_user = gsl_rng_uniform(r) < 0.3;
    /* Cycle lengths: AR(1) around the member's mean, rounded to days. */
    int32_t len[N_CYCLES];
    double prev = m->mean_len;
    for (int k = 0; k < N_CYCLES; k++) {
        double l = m->mean_len + m->phi * (prev - m->mean_len) + gsl_ran_gaussian(r, m->sd_len);
        len[k] = clampi(iround(l), 20, 45);
        prev = len[k];
    }
    /* Today falls inside the last cycle, at least 3 days after its start;
     * its end (starts[N_CYCLES]) is the withheld next period. */
    int32_t into = 3 + (int32_t)gsl_rng_uniform_int(r, (unsigned long)(len[N_CYCLES - 1] - 3));
    m->starts[N_CYCLES - 1] = today - into;
    for (int k = N_CYCLES - 2; k >= 0; k--)
        m->starts[k] = m->starts[k + 1] - len[k];
    m->starts[N_CYCLES] = m->starts[N_CYCLES - 1] + len[N_CYCLES - 1];
    for (int k = 0; k < N_CYCLES; k++) {
        int lut = clampi(iround(m->luteal_mean + gsl_ran_gaussian(r, 1.0)), 9, 18);
        m->ovulation[k] = m->starts[k + 1] - lut;
    }
    for (int i = 0; i < N_ING; i++)
        m->pref[i] = gsl_ran_flat(r, 0.05, 0.4);
    m->n_triggers = gsl_rng_uniform(r) < 0.3 ? 2 : 1;
    for (int t = 0; t < m->n_triggers; t++) {
        do
            m->trigger[t] = (int)gsl_rng_uniform_int(r, N_ING);
        while (t == 1 && m->trigger[1] == m->trigger[0]);
        m->lag[t] = (int)gsl_rng_uniform_int(r, 4);
        m->pref[m->trigger[t]] = gsl_ran_flat(r, 0.2, 0.4); /* eaten often enough to be learnable */
    }
}

/* One symptom day. */
struct sday {
    int32_t day;
    int sym[4]; /* bloating, energy, focus, mood */
    bool eaten[N_ING];
};

/* The member's days from first to today - 1, with `logs` of them logged
 * (about 5% of days skipped). eaten[] is drawn for every day, logged or not,
 * so triggers act across skipped days as they would in life. */
static int draw_days(gsl_rng *r, const struct member *m, int32_t today, int logs, struct sday **out, bool **logged)
{
    int cap = logs * 2 + 8;
    struct sday *d = calloc((size_t)cap, sizeof *d);
    bool *lg = calloc((size_t)cap, sizeof *lg);
    if (!d || !lg) {
        free(d);
        free(lg);
        return -1;
    }
    /* Decide backwards which days are logged so exactly `logs` end on today - 1. */
    int n = 0, got = 0;
    while (got < logs && n < cap) {
        lg[n] = gsl_rng_uniform(r) >= 0.05;
        got += lg[n++];
    }
    for (int i = 0; i < n; i++) {
        struct sday *s = &d[i];
        s->day = today - n + i;
        for (int q = 0; q < N_ING; q++)
            s->eaten[q] = gsl_rng_uniform(r) < m->pref[q];
    }
    /* lg was drawn from today backwards: reverse it. */
    for (int i = 0; i < n / 2; i++) {
        bool t = lg[i];
        lg[i] = lg[n - 1 - i];
        lg[n - 1 - i] = t;
    }
    for (int i = 0; i < n; i++) {
        struct sday *s = &d[i];
        bool hit = false;
        for (int t = 0; t < m->n_triggers; t++)
            if (i - m->lag[t] >= 0 && d[i - m->lag[t]].eaten[m->trigger[t]])
                hit = true;
        int ph = true_phase(m, s->day);
        int wd = (int)(((s->day % 7) + 7 + 3) % 7);
        double p_high = 0.12 + (hit ? 0.55 : 0) + (ph == 0 || ph == 3 ? 0.08 : 0);
        bool high = gsl_rng_uniform(r) < p_high;
        s->sym[0] = high ? 3 + (int)gsl_rng_uniform_int(r, 3) : (int)gsl_rng_uniform_int(r, 3);
        double e = m->energy_base - (ph == 0 ? 1.0 : 0) - (ph == 3 ? 0.4 : 0) + (wd >= 5 ? 0.4 : 0) -
                   (high ? 0.3 : 0) + gsl_ran_gaussian(r, 0.8);
        s->sym[1] = clampi(iround(e), 0, 5);
        s->sym[2] = clampi(iround(0.6 * e + 0.4 * m->focus_base + gsl_ran_gaussian(r, 0.8)), 0, 5);
        s->sym[3] = clampi(iround(0.5 * e + 1.5 - (ph == 3 ? 0.5 : 0) + gsl_ran_gaussian(r, 0.9)), 0, 5);
    }
    *out = d;
    *logged = lg;
    return n;
}

/* Temperatures (every day of the last BBT_CYCLES cycles, 85% measured) and
 * LH tests (ovulation - 5 .. ovulation + 1 of the same cycles) as JSON
 * arrays of [day, value]. */
static void draw_readings(gsl_rng *r, const struct member *m, int32_t today, json_t *bbt, json_t *lh)
{
    int32_t from = m->starts[N_CYCLES - BBT_CYCLES];
    for (int32_t day = from; m->bbt_user && day < today; day++) {
        if (gsl_rng_uniform(r) >= 0.85)
            continue;
        int k = N_CYCLES - 1;
        while (m->starts[k] > day)
            k--;
        double v = 36.45 + gsl_ran_gaussian(r, 0.08) + (day > m->ovulation[k] ? 0.3 : 0);
        json_array_append_new(bbt, json_pack("[i, f]", day, round(v * 100) / 100));
    }
    for (int k = N_CYCLES - BBT_CYCLES; m->lh_user && k < N_CYCLES; k++)
        for (int32_t day = m->ovulation[k] - 5; day <= m->ovulation[k] + 1 && day < today; day++) {
            double v = day == m->ovulation[k] - 1 ? gsl_ran_flat(r, 0.7, 1.0) : gsl_ran_flat(r, 0.05, 0.3);
            json_array_append_new(lh, json_pack("[i, f]", day, round(v * 100) / 100));
        }
}

static json_t *member_json(gsl_rng *r, int idx, int32_t today, int logs)
{
    struct member m;
    draw_member(r, today, &m);
    struct sday *d = NULL;
    bool *lg = NULL;
    int n = draw_days(r, &m, today, logs, &d, &lg);
    if (n < 0)
        return NULL;
    json_t *starts = json_array(), *ovs = json_array(), *trig = json_array(), *days = json_array();
    json_t *bbt = json_array(), *lh = json_array();
    for (int k = 0; k < N_CYCLES; k++) {
        json_array_append_new(starts, json_integer(m.starts[k]));
        json_array_append_new(ovs, json_integer(m.ovulation[k]));
    }
    for (int t = 0; t < m.n_triggers; t++)
        json_array_append_new(trig, json_pack("{s:s, s:i}", "ingredient", ingredients[m.trigger[t]], "lag", m.lag[t]));
    for (int i = 0; i < n; i++) {
        if (!lg[i])
            continue;
        json_t *ing = json_array();
        for (int q = 0; q < N_ING; q++)
            if (d[i].eaten[q])
                json_array_append_new(ing, json_string(ingredients[q]));
        json_array_append_new(days, json_pack("{s:i, s:[i,i,i,i], s:o}", "day", d[i].day, "symptoms", d[i].sym[0],
                                              d[i].sym[1], d[i].sym[2], d[i].sym[3], "ingredients", ing));
    }
    draw_readings(r, &m, today, bbt, lh);
    free(d);
    free(lg);
    return json_pack("{s:i, s:o, s:o, s:o, s:o, s:{s:f, s:f, s:f, s:f, s:i, s:o, s:o, s:b, s:b}}", "index", idx,
                     "starts", starts, "days", days, "bbt", bbt, "lh", lh, "truth", "mean_length", m.mean_len,
                     "sd_length", m.sd_len, "phi", m.phi, "luteal_mean", m.luteal_mean, "next_start",
                     m.starts[N_CYCLES], "ovulation", ovs, "triggers", trig, "bbt_user", m.bbt_user, "lh_user",
                     m.lh_user);
}

/* COPY text format: the JSON we write has no tab, newline or backslash
 * (names and numbers only), so it goes in as is. */
static void sql_row(FILE *f, int idx, const char *type, const char *payload, int32_t day, const char *clock)
{
    char date[16];
    date_text(day, date);
    fprintf(f, "%d\t%s\t%s\t%sT%sZ\n", idx, type, payload, date, clock);
}

static int write_sql(FILE *f, json_t *members)
{
    fputs("-- hf-synth: psql -v prefix=P -v client=C -f FILE (members get external_ref P || index)\n"
          "\\set ON_ERROR_STOP 1\n"
          "BEGIN;\n"
          "CREATE TEMP TABLE synth_logs (idx int, log_type text, payload jsonb, logged_at timestamptz) ON COMMIT DROP;\n"
          "COPY synth_logs FROM stdin;\n",
          f);
    size_t i;
    json_t *mj;
    json_array_foreach(members, i, mj)
    {
        int idx = (int)json_integer_value(json_object_get(mj, "index"));
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(mj, "starts"), k, v)
        {
            char date[16], payload[64];
            date_text((int32_t)json_integer_value(v), date);
            snprintf(payload, sizeof payload, "{\"start_date\": \"%s\"}", date);
            sql_row(f, idx, "CYCLE", payload, (int32_t)json_integer_value(v), "08:00:00");
        }
        json_array_foreach(json_object_get(mj, "days"), k, v)
        {
            json_t *s = json_object_get(v, "symptoms");
            json_t *p = json_pack("{s:{s:O, s:O, s:O, s:O}, s:O}", "symptoms", "bloating", json_array_get(s, 0),
                                  "energy", json_array_get(s, 1), "focus", json_array_get(s, 2), "mood",
                                  json_array_get(s, 3), "ingredients", json_object_get(v, "ingredients"));
            char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
            json_decref(p);
            if (!text)
                return -1;
            sql_row(f, idx, "SYMPTOM", text, (int32_t)json_integer_value(json_object_get(v, "day")), "20:00:00");
            free(text);
        }
        static const char *const kinds[2] = { "basal_temp_c", "lh_test" };
        for (int q = 0; q < 2; q++)
            json_array_foreach(json_object_get(mj, q ? "lh" : "bbt"), k, v)
            {
                char payload[96];
                snprintf(payload, sizeof payload, "{\"kind\": \"%s\", \"value\": %.2f}", kinds[q],
                         json_real_value(json_array_get(v, 1)));
                sql_row(f, idx, "BIOMETRIC", payload, (int32_t)json_integer_value(json_array_get(v, 0)),
                        q ? "09:00:00" : "06:30:00");
            }
    }
    fputs("\\.\n"
          "CREATE TEMP TABLE synth_members ON COMMIT DROP AS\n"
          "WITH c AS (SELECT id FROM api_clients WHERE name = :'client'),\n"
          "u AS (INSERT INTO users (client_id, external_ref) SELECT c.id, :'prefix' || g.idx\n"
          "      FROM c, (SELECT DISTINCT idx FROM synth_logs) g RETURNING id, external_ref),\n"
          "m AS (INSERT INTO members (user_id, name, relation_type) SELECT id, 'synthetic', 'SELF' FROM u RETURNING id, user_id)\n"
          "SELECT m.id, substr(u.external_ref, length(:'prefix') + 1)::int AS idx FROM m JOIN u ON u.id = m.user_id;\n"
          "INSERT INTO daily_logs (event_id, member_id, log_type, payload, logged_at)\n"
          "SELECT gen_random_uuid(), m.id, s.log_type, s.payload || jsonb_build_object('member_id', m.id), s.logged_at\n"
          "FROM synth_logs s JOIN synth_members m ON m.idx = s.idx;\n"
          "COMMIT;\n",
          f);
    return ferror(f) ? -1 : 0;
}

static void usage(void)
{
    fputs("usage: hf-synth [--members N] [--logs N] [--seed S] [--today YYYY-MM-DD] [--json FILE] [--sql FILE]\n",
          stderr);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = { { "members", 1, NULL, 'm' }, { "logs", 1, NULL, 'l' },
                                        { "seed", 1, NULL, 's' },    { "today", 1, NULL, 't' },
                                        { "json", 1, NULL, 'j' },    { "sql", 1, NULL, 'q' },
                                        { NULL, 0, NULL, 0 } };
    *o = (struct opts){ .members = 100, .logs = 100, .seed = 1, .today = (int32_t)(time(NULL) / 86400) };
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'm':
            o->members = (int)strtol(optarg, &end, 10);
            break;
        case 'l':
            o->logs = (int)strtol(optarg, &end, 10);
            break;
        case 's':
            o->seed = strtoul(optarg, &end, 10);
            break;
        case 't': {
            if (hf_time_parse_date(optarg, &o->today) != 0)
                return -1;
            end = optarg + strlen(optarg);
            break;
        }
        case 'j':
            o->json = optarg;
            end = optarg + strlen(optarg);
            break;
        case 'q':
            o->sql = optarg;
            end = optarg + strlen(optarg);
            break;
        default:
            return -1;
        }
        if (!end || *end)
            return -1;
    }
    if (optind != argc || o->members < 1 || o->members > 100000 || o->logs < 1 || o->logs > 1000 ||
        (!o->json && !o->sql))
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse_args(argc, argv, &o)) {
        usage();
        return 2;
    }
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    json_t *members = json_array();
    int rc = 1;
    if (!r || !members)
        goto out;
    gsl_rng_set(r, o.seed);
    for (int i = 0; i < o.members; i++) {
        json_t *m = member_json(r, i, o.today, o.logs);
        if (!m || json_array_append_new(members, m))
            goto out;
    }
    char today[16];
    date_text(o.today, today);
    json_t *doc = json_pack(
        "{s:i, s:s, s:i, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}, s:O}", "seed", (int)o.seed, "today", today,
        "logs_per_member", o.logs, "generator", "cycle_length",
        "L_k = round(mu + phi (L_{k-1} - mu) + N(0, sd^2)), clamped 20..45; mu ~ N(28.5, 1.5^2), sd ~ U(1.5, 3), "
        "phi ~ U(0, 0.4); 15 lengths, the last ends on the withheld next start",
        "ovulation", "next start - luteal, luteal ~ round(N(m, 1)) clamped 9..18, m ~ N(13.5, 0.5^2)", "bbt",
        "60% of members, last 4 cycles, 85% of days: 36.45 + N(0, 0.08^2), +0.3 C from the day after ovulation",
        "lh", "30% of members, ovulation-5..ovulation+1 of the last 4 cycles: U(0.7, 1) the day before ovulation, "
              "else U(0.05, 0.3)",
        "ingredients", "24 names; member eats each with p ~ U(0.05, 0.4) a day (triggers U(0.2, 0.4))", "triggers",
        "1 (70%) or 2 (30%) trigger ingredients, lag ~ U{0..3} days",
        "bloating", "P(>= 3) = 0.12 + 0.55 if a trigger was eaten lag days before + 0.08 in menstrual/luteal; "
                    ">= 3: 3 + U{0,1,2}, else U{0,1,2}",
        "energy_focus_mood", "e = b - 1 menstrual - 0.4 luteal + 0.4 weekend - 0.3 bloated + N(0, 0.8^2), b ~ "
                             "N(3.2, 0.5^2); energy round(e); focus round(0.6 e + 0.4 f + N(0, 0.8^2)); mood round(0.5 "
                             "e + 1.5 - 0.5 luteal + N(0, 0.9^2)); all clamped 0..5",
        "members", members);
    if (!doc)
        goto out;
    rc = 0;
    if (o.json && json_dump_file(doc, o.json, JSON_COMPACT) != 0) {
        fprintf(stderr, "hf-synth: cannot write %s\n", o.json);
        rc = 1;
    }
    if (rc == 0 && o.sql) {
        FILE *f = fopen(o.sql, "w");
        if (!f || write_sql(f, members) != 0) {
            fprintf(stderr, "hf-synth: cannot write %s\n", o.sql);
            rc = 1;
        }
        if (f && fclose(f) != 0)
            rc = 1;
    }
    json_decref(doc);
out:
    if (rc && !members)
        fputs("hf-synth: out of memory\n", stderr);
    json_decref(members);
    gsl_rng_free(r);
    return rc;
}
