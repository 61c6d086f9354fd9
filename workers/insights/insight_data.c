/* Collecting one person's logs into per-day records (insight_internal.h). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_err.h"
#include "hf_time.h"
#include "insight_internal.h"

const char *const ins_symptoms[INS_N_SYMPTOMS] = { "bloating", "energy", "focus",  "mood",         "headache",
                                                   "cramps",   "nausea", "stress", "sleep_quality" };
const bool ins_symptom_good[INS_N_SYMPTOMS] = { false, true, true, true, false, false, false, false, true };
const char *const ins_biometrics[INS_N_BIOMETRICS] = { "basal_temp_c",  "weight_kg",   "resting_hr_bpm", "hrv_ms",
                                                       "sleep_hours",   "sleep_score", "steps",          "lh_test",
                                                       "glucose_mg_dl", "bp_systolic", "bp_diastolic" };
const char *const ins_phases[INS_N_PHASES] = { "menstrual", "follicular", "ovulation", "luteal" };

hf_insight_data *hf_insight_data_new(void)
{
    hf_insight_data *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    memset(d->slots, -1, sizeof d->slots);
    d->sha = EVP_MD_CTX_new();
    char version[32];
    int n = snprintf(version, sizeof version, "hf-insight-engine/%d", HF_INSIGHT_ENGINE_VERSION);
    if (!d->sha || !EVP_DigestInit_ex(d->sha, EVP_sha256(), NULL) || !EVP_DigestUpdate(d->sha, version, (size_t)n)) {
        hf_insight_data_free(d);
        return NULL;
    }
    return d;
}

void hf_insight_data_free(hf_insight_data *d)
{
    if (!d)
        return;
    free(d->days);
    free(d->eats);
    for (int i = 0; i < d->n_ingredients; i++)
        free(d->ingredients[i]);
    for (int i = 0; i < d->n_experiments; i++) {
        free(d->experiments[i].name);
        free(d->experiments[i].intervention);
        free(d->experiments[i].outcome);
    }
    EVP_MD_CTX_free(d->sha);
    free(d);
}

/* Length-prefixed, so ("ab","c") and ("a","bc") hash differently. */
static void hash_field(hf_insight_data *d, const void *p, size_t len)
{
    uint64_t n = len;
    EVP_DigestUpdate(d->sha, &n, sizeof n);
    EVP_DigestUpdate(d->sha, p, len);
}

void hf_insight_data_hash(const hf_insight_data *d, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    if (!copy || !EVP_MD_CTX_copy_ex(copy, d->sha) || !EVP_DigestFinal_ex(copy, md, &n))
        n = 0; /* out of memory: an empty hash never equals a stored one, so the work is redone */
    EVP_MD_CTX_free(copy);
    for (unsigned int i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[2 * (n < 32 ? n : 32)] = '\0';
}

/* The record of `day`, created in order; NULL when out of memory. Logs come
 * sorted by time, so the common case is the last record or a new one. */
static struct ins_day *day_of(hf_insight_data *d, int32_t day)
{
    int lo = 0, hi = d->n_days;
    if (d->n_days && d->days[d->n_days - 1].day < day)
        lo = d->n_days;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (d->days[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < d->n_days && d->days[lo].day == day)
        return &d->days[lo];
    if (d->n_days == d->cap_days) {
        int cap = d->cap_days ? 2 * d->cap_days : 128;
        struct ins_day *nd = realloc(d->days, (size_t)cap * sizeof *nd);
        if (!nd)
            return NULL;
        d->days = nd;
        d->cap_days = cap;
    }
    memmove(&d->days[lo + 1], &d->days[lo], (size_t)(d->n_days - lo) * sizeof *d->days);
    d->n_days++;
    d->days[lo] = (struct ins_day){ .day = day, .phase = -1 };
    return &d->days[lo];
}

/* Lower case, spaces trimmed and collapsed: "  Greek  Yogurt" -> "greek yogurt".
 * Returns the length, 0 for an empty or too long name. */
static size_t normalise(const char *s, char *out, size_t outsz)
{
    size_t n = 0;
    bool space = false;
    for (; *s; s++) {
        if (isspace((unsigned char)*s)) {
            space = n > 0;
            continue;
        }
        if (n + (space ? 2 : 1) >= outsz)
            return 0;
        if (space)
            out[n++] = ' ';
        space = false;
        out[n++] = (char)tolower((unsigned char)*s);
    }
    out[n] = '\0';
    return n;
}

/* The ingredient's id, added on first sight; -1 past INS_MAX_INGREDIENTS,
 * -2 when out of memory. */
static int ingredient_id(hf_insight_data *d, const char *name)
{
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    size_t nslots = sizeof d->slots / sizeof d->slots[0];
    for (size_t i = h % nslots;; i = (i + 1) % nslots) {
        if (d->slots[i] < 0) {
            if (d->n_ingredients == INS_MAX_INGREDIENTS)
                return -1;
            char *copy = strdup(name);
            if (!copy)
                return -2;
            d->ingredients[d->n_ingredients] = copy;
            d->slots[i] = d->n_ingredients;
            return d->n_ingredients++;
        }
        if (strcmp(d->ingredients[d->slots[i]], name) == 0)
            return d->slots[i];
    }
}

static int add_ingredient(hf_insight_data *d, struct ins_day *day, const json_t *name)
{
    char norm[96];
    if (!json_is_string(name) || normalise(json_string_value(name), norm, sizeof norm) == 0 ||
        strlen(norm) > 80) {
        d->skipped_values++;
        return 0;
    }
    int id = ingredient_id(d, norm);
    if (id == -2)
        return HF_ENOMEM;
    if (id < 0) {
        d->dropped_ingredients++;
        return 0;
    }
    if (d->n_eats == d->cap_eats) {
        int cap = d->cap_eats ? 2 * d->cap_eats : 256;
        struct ins_eat *ne = realloc(d->eats, (size_t)cap * sizeof *ne);
        if (!ne)
            return HF_ENOMEM;
        d->eats = ne;
        d->cap_eats = cap;
    }
    d->eats[d->n_eats++] = (struct ins_eat){ day->day, id };
    return 0;
}

/* A finite number in [lo, hi], else NAN (a missing field, a string "NaN",
 * null, true...). */
static double number_in(const json_t *v, double lo, double hi)
{
    if (!json_is_number(v))
        return NAN;
    double x = json_number_value(v);
    return isfinite(x) && x >= lo && x <= hi ? x : NAN;
}

static int add_symptom(hf_insight_data *d, struct ins_day *day, const json_t *doc)
{
    const json_t *symptoms = json_object_get(doc, "symptoms");
    for (int s = 0; s < INS_N_SYMPTOMS; s++) {
        const json_t *v = json_object_get(symptoms, ins_symptoms[s]);
        double x = number_in(v, 0, 5);
        if (isnan(x)) {
            d->skipped_values += v != NULL;
            continue;
        }
        day->sym_sum[s] += x;
        day->sym_n[s]++;
    }
    const char *phase = json_string_value(json_object_get(doc, "cycle_phase"));
    for (int p = 0; phase && p < INS_N_PHASES; p++)
        if (strcmp(phase, ins_phases[p]) == 0)
            day->phase = (int8_t)p;
    const json_t *list = json_object_get(doc, "ingredients");
    if (!json_is_array(list))
        return 0;
    day->food = true;
    size_t i;
    const json_t *name;
    json_array_foreach(list, i, name)
    {
        int rc = add_ingredient(d, day, name);
        if (rc)
            return rc;
    }
    return 0;
}

static int add_nutrition(hf_insight_data *d, struct ins_day *day, const json_t *doc)
{
    const json_t *items = json_object_get(doc, "items");
    if (!json_is_array(items))
        return 0;
    day->food = true;
    size_t i;
    const json_t *item;
    json_array_foreach(items, i, item)
    {
        int rc = add_ingredient(d, day, json_object_get(item, "name"));
        if (rc)
            return rc;
    }
    return 0;
}

static void add_biometric(hf_insight_data *d, struct ins_day *day, const json_t *doc)
{
    const char *kind = json_string_value(json_object_get(doc, "kind"));
    double v = number_in(json_object_get(doc, "value"), -1e9, 1e9);
    for (int b = 0; kind && !isnan(v) && b < INS_N_BIOMETRICS; b++)
        if (strcmp(kind, ins_biometrics[b]) == 0) {
            day->bio_sum[b] += v;
            day->bio_n[b]++;
            return;
        }
    d->skipped_values++;
}

static void add_period(hf_insight_data *d, const json_t *doc)
{
    struct ins_period p = { 0, INT32_MIN };
    const char *start = json_string_value(json_object_get(doc, "start_date"));
    const char *end = json_string_value(json_object_get(doc, "end_date"));
    if (!start || hf_time_parse_date(start, &p.start) != 0 || d->n_periods == INS_MAX_PERIODS) {
        d->skipped_values++;
        return;
    }
    if (end && (hf_time_parse_date(end, &p.end) != 0 || p.end < p.start))
        p.end = INT32_MIN;
    d->periods[d->n_periods++] = p;
}

int hf_insight_data_add_log(hf_insight_data *d, const char *log_type, int32_t day, const char *payload, size_t len)
{
    hash_field(d, log_type, strlen(log_type));
    hash_field(d, &day, sizeof day);
    hash_field(d, payload, len);
    d->logs++;
    bool symptom = strcmp(log_type, "SYMPTOM") == 0, nutrition = strcmp(log_type, "NUTRITION") == 0,
         biometric = strcmp(log_type, "BIOMETRIC") == 0, cycle = strcmp(log_type, "CYCLE") == 0;
    if (!symptom && !nutrition && !biometric && !cycle)
        return 0;
    json_t *doc = json_loadb(payload, len, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        d->skipped_logs++;
        return 0;
    }
    int rc = 0;
    if (cycle) {
        add_period(d, doc);
    } else {
        struct ins_day *rec = day_of(d, day);
        if (!rec)
            rc = HF_ENOMEM;
        else if (symptom)
            rc = add_symptom(d, rec, doc);
        else if (nutrition)
            rc = add_nutrition(d, rec, doc);
        else
            add_biometric(d, rec, doc);
    }
    json_decref(doc);
    return rc;
}

int hf_insight_data_add_experiment(hf_insight_data *d, int64_t id, const char *name, const char *intervention,
                                   const char *outcome, int32_t start_day, int32_t end_day)
{
    if (d->n_experiments == INS_MAX_EXPERIMENTS)
        return HF_ETOOBIG;
    struct ins_experiment *e = &d->experiments[d->n_experiments];
    *e = (struct ins_experiment){ id, strdup(name), strdup(intervention), strdup(outcome), start_day, end_day };
    if (!e->name || !e->intervention || !e->outcome) {
        free(e->name);
        free(e->intervention);
        free(e->outcome);
        return HF_ENOMEM;
    }
    d->n_experiments++;
    hash_field(d, &id, sizeof id);
    hash_field(d, name, strlen(name));
    hash_field(d, intervention, strlen(intervention));
    hash_field(d, outcome, strlen(outcome));
    hash_field(d, &start_day, sizeof start_day);
    hash_field(d, &end_day, sizeof end_day);
    return 0;
}
