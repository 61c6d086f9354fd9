/* hf_sched_conf: the schedules, read from a JSON file (scheduler/schedules.json
 * unless HF_SCHEDULES names another). Format and meaning: scheduler/README.md.
 *
 * Every schedule is checked when the file is read: name, cron expression,
 * time zone, job kind and its one parameter, catch-up policy. A file with
 * one bad schedule is refused whole, naming the schedule and the fault, so
 * a typo can never silently drop a nightly job. */
#ifndef HF_SCHED_CONF_H
#define HF_SCHED_CONF_H

#include <stddef.h>

#include "hf_cron.h"
#include "hf_err.h"
#include "hf_tz.h"

#define HF_SCHED_NAME_MAX 64

enum hf_job_kind {
    HF_JOB_RETRAIN,          /* job.retrain per member by 002's should_retrain */
    HF_JOB_INSIGHT_REFRESH,  /* job.insight_refresh per member with data newer than their insights */
    HF_JOB_CACHE_WARM,       /* job.cache_warm per member who logged in the last `arg` days */
    HF_JOB_INGREDIENT_STALE, /* job.ingredient_score per score older than `arg` days */
    HF_JOB_PURGE,            /* one job.maintenance purge of rows deleted more than `arg` days ago */
    HF_JOB_PARTITIONS,       /* one job.maintenance creating `arg` months of partitions ahead */
    HF_JOB_ADHERENCE_WEEKLY, /* job.adherence_weekly per active program, for the previous week */
    HF_JOB_KIND_COUNT
};

enum hf_catch_up {
    HF_CATCH_UP_SKIP, /* firings missed by more than the grace are dropped */
    HF_CATCH_UP_ONCE, /* the latest missed firing runs, older ones are dropped */
    HF_CATCH_UP_EACH, /* the latest catch_up_max missed firings run, oldest first */
};

/* A plain value, owned by its hf_schedules; read-only for everyone else. */
struct hf_schedule {
    char name[HF_SCHED_NAME_MAX];
    char expr[HF_CRON_MAX_LEN + 1];
    enum hf_job_kind job;
    int arg; /* the job kind's one parameter (days, months), 0 when it has none */
    enum hf_catch_up catch_up;
    int catch_up_max; /* for HF_CATCH_UP_EACH */
    const hf_cron *cron;
    const hf_tz *tz;
};

typedef struct hf_schedules hf_schedules;

/* Parses a schedules document; origin names it in messages (a path).
 * Caller frees with hf_schedules_free. Returns 0, HF_EINVAL naming the
 * schedule and field at fault, HF_ENOTFOUND for an unknown time zone, or
 * HF_ENOMEM. */
int hf_schedules_parse(const char *text, const char *origin, hf_schedules **out, struct hf_err *err);

/* Same, reading the file at path (HF_EIO when it cannot be read). */
int hf_schedules_load(const char *path, hf_schedules **out, struct hf_err *err);

void hf_schedules_free(hf_schedules *s);

size_t hf_schedules_count(const hf_schedules *s);
/* i-th schedule in file order; valid while s lives. */
const struct hf_schedule *hf_schedules_at(const hf_schedules *s, size_t i);
/* By name; NULL when absent. */
const struct hf_schedule *hf_schedules_find(const hf_schedules *s, const char *name);

/* "retrain", "skip": the names used in the file and the firings table. */
const char *hf_job_kind_name(enum hf_job_kind k);
/* Kind by name; -1 when unknown. */
int hf_job_kind_parse(const char *name);
const char *hf_catch_up_name(enum hf_catch_up c);

#endif
