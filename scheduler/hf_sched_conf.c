#include "hf_sched_conf.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SCHEDULES 256
#define MAX_ZONES 32

/* Each job kind takes at most one integer argument, with a default. */
static const struct {
    const char *name;
    const char *arg; /* NULL: takes no arguments */
    int def, lo, hi;
} kinds[HF_JOB_KIND_COUNT] = {
    [HF_JOB_RETRAIN] = { "retrain", NULL, 0, 0, 0 },
    [HF_JOB_INSIGHT_REFRESH] = { "insight_refresh", NULL, 0, 0, 0 },
    [HF_JOB_CACHE_WARM] = { "cache_warm", "active_days", 7, 1, 90 },
    [HF_JOB_INGREDIENT_STALE] = { "ingredient_stale", "older_than_days", 7, 1, 365 },
    [HF_JOB_PURGE] = { "purge", "days", 30, 1, 3650 },
    [HF_JOB_PARTITIONS] = { "partitions", "months", 3, 1, 24 },
    [HF_JOB_ADHERENCE_WEEKLY] = { "adherence_weekly", NULL, 0, 0, 0 },
};

static const char *const catch_ups[] = { "skip", "once", "each" };

struct hf_schedules {
    struct hf_schedule *v;
    size_t n;
    hf_tz *zones[MAX_ZONES];
    size_t nzones;
};

const char *hf_job_kind_name(enum hf_job_kind k)
{
    return k < HF_JOB_KIND_COUNT ? kinds[k].name : "?";
}

int hf_job_kind_parse(const char *name)
{
    for (int i = 0; i < HF_JOB_KIND_COUNT; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return i;
    return -1;
}

const char *hf_catch_up_name(enum hf_catch_up c)
{
    return (size_t)c < sizeof catch_ups / sizeof catch_ups[0] ? catch_ups[c] : "?";
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= HF_SCHED_NAME_MAX)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            return false;
    return true;
}

static int zone(hf_schedules *s, const char *name, const hf_tz **out, struct hf_err *err)
{
    for (size_t i = 0; i < s->nzones; i++)
        if (strcmp(hf_tz_name(s->zones[i]), name) == 0) {
            *out = s->zones[i];
            return 0;
        }
    if (s->nzones == MAX_ZONES)
        return hf_err_set(err, HF_ETOOBIG, false, "more than %d time zones", MAX_ZONES);
    int rc = hf_tz_load(name, &s->zones[s->nzones], err);
    if (rc)
        return rc;
    *out = s->zones[s->nzones++];
    return 0;
}

static const char *const known_keys[] = { "name", "cron", "time_zone", "job", "args", "catch_up", "catch_up_max", NULL };

static int parse_args(struct hf_schedule *sc, json_t *args, struct hf_err *err)
{
    sc->arg = kinds[sc->job].def;
    if (!args)
        return 0;
    if (!json_is_object(args))
        return hf_err_set(err, HF_EINVAL, false, "args must be an object");
    const char *key;
    json_t *v;
    json_object_foreach(args, key, v)
    {
        if (!kinds[sc->job].arg)
            return hf_err_set(err, HF_EINVAL, false, "job %s takes no args, not \"%s\"", kinds[sc->job].name, key);
        if (strcmp(key, kinds[sc->job].arg) != 0)
            return hf_err_set(err, HF_EINVAL, false, "job %s takes only args.%s, not \"%s\"", kinds[sc->job].name,
                              kinds[sc->job].arg, key);
        if (!json_is_integer(v) || json_integer_value(v) < kinds[sc->job].lo ||
            json_integer_value(v) > kinds[sc->job].hi)
            return hf_err_set(err, HF_EINVAL, false, "args.%s must be an integer from %d to %d", key,
                              kinds[sc->job].lo, kinds[sc->job].hi);
        sc->arg = (int)json_integer_value(v);
    }
    return 0;
}

static int parse_one(hf_schedules *s, json_t *o, struct hf_schedule *sc, struct hf_err *err)
{
    if (!json_is_object(o))
        return hf_err_set(err, HF_EINVAL, false, "not an object");
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        bool known = false;
        for (int i = 0; known_keys[i]; i++)
            known = known || strcmp(key, known_keys[i]) == 0;
        if (!known)
            return hf_err_set(err, HF_EINVAL, false, "unknown key \"%s\"", key);
    }
    const char *name = json_string_value(json_object_get(o, "name"));
    const char *cron = json_string_value(json_object_get(o, "cron"));
    const char *tzname = json_string_value(json_object_get(o, "time_zone"));
    const char *job = json_string_value(json_object_get(o, "job"));
    const char *catch_up = json_string_value(json_object_get(o, "catch_up"));
    json_t *max = json_object_get(o, "catch_up_max");
    if (!name || !valid_name(name))
        return hf_err_set(err, HF_EINVAL, false, "name must be 1-%d characters of a-z, 0-9, - and _",
                          HF_SCHED_NAME_MAX - 1);
    snprintf(sc->name, sizeof sc->name, "%s", name);
    if (!cron)
        return hf_err_set(err, HF_EINVAL, false, "cron (a string) is required");
    if (strlen(cron) > HF_CRON_MAX_LEN)
        return hf_err_set(err, HF_EINVAL, false, "cron is longer than %d characters", HF_CRON_MAX_LEN);
    snprintf(sc->expr, sizeof sc->expr, "%s", cron);
    int k = job ? hf_job_kind_parse(job) : -1;
    if (k < 0)
        return hf_err_set(err, HF_EINVAL, false,
                          "job must be one of retrain, insight_refresh, cache_warm, ingredient_stale, purge, "
                          "partitions, adherence_weekly");
    sc->job = (enum hf_job_kind)k;
    int rc = parse_args(sc, json_object_get(o, "args"), err);
    if (rc)
        return rc;
    sc->catch_up = HF_CATCH_UP_ONCE;
    if (catch_up) {
        size_t i = 0;
        while (i < sizeof catch_ups / sizeof catch_ups[0] && strcmp(catch_ups[i], catch_up) != 0)
            i++;
        if (i == sizeof catch_ups / sizeof catch_ups[0])
            return hf_err_set(err, HF_EINVAL, false, "catch_up must be skip, once or each");
        sc->catch_up = (enum hf_catch_up)i;
    } else if (json_object_get(o, "catch_up")) {
        return hf_err_set(err, HF_EINVAL, false, "catch_up must be skip, once or each");
    }
    if ((sc->catch_up == HF_CATCH_UP_EACH) != (max != NULL))
        return hf_err_set(err, HF_EINVAL, false, "catch_up_max is required with catch_up \"each\" and only then");
    if (max) {
        if (!json_is_integer(max) || json_integer_value(max) < 1 || json_integer_value(max) > 1000)
            return hf_err_set(err, HF_EINVAL, false, "catch_up_max must be an integer from 1 to 1000");
        sc->catch_up_max = (int)json_integer_value(max);
    }
    if (!tzname && json_object_get(o, "time_zone"))
        return hf_err_set(err, HF_EINVAL, false, "time_zone must be a string");
    rc = zone(s, tzname ? tzname : "UTC", &sc->tz, err);
    if (rc)
        return rc;
    hf_cron *c = NULL;
    rc = hf_cron_parse(cron, &c, err);
    sc->cron = c;
    return rc;
}

int hf_schedules_parse(const char *text, const char *origin, hf_schedules **out, struct hf_err *err)
{
    *out = NULL;
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return hf_err_set(err, HF_EINVAL, false, "%s: line %d: %s", origin, jerr.line, jerr.text);
    hf_schedules *s = calloc(1, sizeof *s);
    int rc = 0;
    json_t *list = json_object_get(root, "schedules");
    if (!s) {
        rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
        goto out;
    }
    if (!json_is_array(list) || json_object_size(root) != 1) {
        rc = hf_err_set(err, HF_EINVAL, false, "%s: want an object with one key, \"schedules\": [ ... ]", origin);
        goto out;
    }
    if (json_array_size(list) > MAX_SCHEDULES) {
        rc = hf_err_set(err, HF_ETOOBIG, false, "%s: more than %d schedules", origin, MAX_SCHEDULES);
        goto out;
    }
    s->v = calloc(json_array_size(list) + 1, sizeof *s->v);
    if (!s->v) {
        rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(list); i++) {
        struct hf_schedule *sc = &s->v[i];
        rc = parse_one(s, json_array_get(list, i), sc, err);
        s->n = i + 1; /* so free() sees this one's cron */
        if (rc == 0 && hf_schedules_find(s, sc->name) != sc)
            rc = hf_err_set(err, HF_EINVAL, false, "the name is used twice");
        if (rc) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
            hf_err_set(err, rc, false, "%s: schedule %zu (%s): %s", origin, i + 1, sc->name[0] ? sc->name : "?",
                       msg);
            goto out;
        }
    }
out:
    json_decref(root);
    if (rc) {
        hf_schedules_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int hf_schedules_load(const char *path, hf_schedules **out, struct hf_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return hf_err_set(err, HF_EIO, false, "cannot open the schedules file %s (set HF_SCHEDULES)", path);
    char *text = malloc(1 << 20);
    size_t n = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
    bool bad = ferror(f) || n == (1 << 20) - 1;
    fclose(f);
    if (!text)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    int rc;
    if (bad) {
        rc = hf_err_set(err, HF_EIO, false, "%s is unreadable or larger than 1 MB", path);
    } else {
        text[n] = '\0';
        rc = hf_schedules_parse(text, path, out, err);
    }
    free(text);
    return rc;
}

void hf_schedules_free(hf_schedules *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        hf_cron_free((hf_cron *)s->v[i].cron);
    for (size_t i = 0; i < s->nzones; i++)
        hf_tz_free(s->zones[i]);
    free(s->v);
    free(s);
}

size_t hf_schedules_count(const hf_schedules *s)
{
    return s->n;
}

const struct hf_schedule *hf_schedules_at(const hf_schedules *s, size_t i)
{
    return i < s->n ? &s->v[i] : NULL;
}

const struct hf_schedule *hf_schedules_find(const hf_schedules *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return &s->v[i];
    return NULL;
}
