/* hfctl schedule: the operator's view of the scheduler (scheduler/README.md).
 *   list             every schedule, its last firing and its next fire time
 *   next NAME [N] [--after TIME]   the next N fire times, UTC and local
 *   fire NAME [--wait SECONDS]     record a manual firing for the leader
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hf_civil.h"
#include "hf_config.h"
#include "hf_pg.h"
#include "hf_sched_conf.h"
#include "hf_sched_store.h"
#include "hf_time.h"
#include "hfctl.h"

static void format_at(int64_t t, int32_t off, char *out, size_t outsz)
{
    int64_t wall = t + off, day = hf_civil_floordiv(wall, 86400), y;
    int m, d, sod = (int)(wall - day * 86400), aoff = off < 0 ? -off : off;
    hf_civil_from_days(day, &y, &m, &d);
    snprintf(out, outsz, "%04lld-%02d-%02d %02d:%02d:%02d %c%02d:%02d", (long long)y, m, d, sod / 3600,
             sod % 3600 / 60, sod % 60, off < 0 ? '-' : '+', aoff / 3600, aoff % 3600 / 60);
}

static int64_t now_s(void)
{
    return hf_time_now_us() / 1000000;
}

static int cmd_list(const struct hf_config *cfg, const hf_schedules *s)
{
    struct hf_err err = { 0 };
    hf_pg *pg = NULL;
    bool db = hf_pg_connect(cfg->pg_url, &pg, &err) == 0;
    if (!db)
        fprintf(stderr, "hfctl schedule: no database (%s): last firings not shown\n", err.msg);
    printf("%-26s %-18s %-18s %-22s %-10s %-36s %s\n", "NAME", "CRON", "ZONE", "JOB", "CATCH-UP", "LAST FIRING",
           "NEXT (UTC)");
    for (size_t i = 0; i < hf_schedules_count(s); i++) {
        const struct hf_schedule *sc = hf_schedules_at(s, i);
        char job[40], catch_up[24], last[80] = "-", next[40] = "-";
        snprintf(job, sizeof job, sc->arg ? "%s(%d)" : "%s", hf_job_kind_name(sc->job), sc->arg);
        if (sc->catch_up == HF_CATCH_UP_EACH)
            snprintf(catch_up, sizeof catch_up, "each(%d)", sc->catch_up_max);
        else
            snprintf(catch_up, sizeof catch_up, "%s", hf_catch_up_name(sc->catch_up));
        int64_t t;
        if (hf_cron_next(sc->cron, sc->tz, now_s(), &t) == 0)
            format_at(t, 0, next, sizeof next);
        if (db) {
            const char *params[] = { cfg->topic_prefix, sc->name };
            PGresult *res = NULL;
            if (hf_pg_exec(pg,
                           "SELECT to_char(scheduled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' ' || state"
                           " FROM scheduler_firings WHERE fleet = $1 AND schedule = $2"
                           " ORDER BY scheduled_at DESC LIMIT 1",
                           2, params, &res, &err) == 0 &&
                PQntuples(res) == 1)
                snprintf(last, sizeof last, "%s", PQgetvalue(res, 0, 0));
            PQclear(res);
        }
        printf("%-26s %-18s %-18s %-22s %-10s %-36s %s\n", sc->name, sc->expr, hf_tz_name(sc->tz), job, catch_up,
               last, next);
    }
    hf_pg_free(pg);
    return 0;
}

static int cmd_next(const struct hf_schedule *sc, int argc, char **argv)
{
    long count = 5;
    int64_t after = now_s();
    for (int i = 0; i < argc; i++) {
        char *end = NULL;
        if (strcmp(argv[i], "--after") == 0 && i + 1 < argc) {
            int64_t us = 0;
            if (hf_time_parse_rfc3339(argv[++i], &us) != 0) {
                fprintf(stderr, "hfctl schedule next: --after wants an RFC 3339 time, like 2026-03-29T00:00:00Z\n");
                return 2;
            }
            after = us / 1000000;
        } else if ((count = strtol(argv[i], &end, 10)) < 1 || count > 1000 || *end) {
            fprintf(stderr, "hfctl schedule next: COUNT must be 1 to 1000, not \"%s\"\n", argv[i]);
            return 2;
        }
    }
    for (long k = 0; k < count; k++) {
        if (hf_cron_next(sc->cron, sc->tz, after, &after) != 0)
            break;
        char utc[40], local[40];
        format_at(after, 0, utc, sizeof utc);
        format_at(after, hf_tz_offset(sc->tz, after), local, sizeof local);
        printf("%s  %s  %s\n", utc, local, hf_tz_name(sc->tz));
    }
    return 0;
}

static int cmd_fire(const struct hf_config *cfg, const struct hf_schedule *sc, int argc, char **argv)
{
    long wait_s = 0;
    for (int i = 0; i < argc; i++) {
        char *end = NULL;
        if (strcmp(argv[i], "--wait") == 0 && i + 1 < argc && (wait_s = strtol(argv[i + 1], &end, 10)) >= 0 &&
            wait_s <= 3600 && !*end) {
            i++;
            continue;
        }
        fprintf(stderr, "hfctl schedule fire: unexpected \"%s\" (want --wait SECONDS)\n", argv[i]);
        return 2;
    }
    struct hf_err err = { 0 };
    hf_pg *pg = NULL;
    struct hf_firing f;
    hf_firing_make(sc, now_s(), true, &f);
    bool created = false;
    int rc = hf_pg_connect(cfg->pg_url, &pg, &err);
    if (rc == 0)
        rc = hf_firing_record_manual(pg, cfg->topic_prefix, "hfctl", &f, &created, &err);
    if (rc) {
        fprintf(stderr, "hfctl schedule fire: %s\n", err.msg);
        hf_pg_free(pg);
        return 1;
    }
    printf("%s %s\n", f.id, created ? "recorded" : "already recorded");
    int status = 0;
    if (wait_s > 0) {
        /* the leader produces it within a tick or two */
        const char *params[] = { cfg->topic_prefix, f.id };
        int64_t deadline = hf_time_mono_us() + (int64_t)wait_s * 1000000;
        status = 1;
        while (status && hf_time_mono_us() < deadline) {
            PGresult *res = NULL;
            if (hf_pg_exec(pg, "SELECT jobs FROM scheduler_firings WHERE fleet = $1 AND firing_id = $2"
                               " AND state = 'produced'",
                           2, params, &res, &err) == 0 &&
                PQntuples(res) == 1) {
                printf("%s produced: %s jobs\n", f.id, PQgetvalue(res, 0, 0));
                status = 0;
            }
            PQclear(res);
            if (status) {
                struct timespec ts = { 0, 100000000L };
                nanosleep(&ts, NULL);
            }
        }
        if (status)
            fprintf(stderr, "hfctl schedule fire: %s not produced within %ld s (is a scheduler running?)\n", f.id,
                    wait_s);
    }
    hf_pg_free(pg);
    return status;
}

int hfctl_schedule(const struct hf_config *cfg, int argc, char **argv)
{
    if (argc < 1 || (strcmp(argv[0], "list") != 0 && argc < 2)) {
        fputs("usage: hfctl schedule list | next NAME [COUNT] [--after TIME] | fire NAME [--wait SECONDS]\n", stderr);
        return 2;
    }
    struct hf_err err = { 0 };
    hf_schedules *s = NULL;
    if (hf_schedules_load(cfg->schedules, &s, &err)) {
        fprintf(stderr, "hfctl schedule: %s\n", err.msg);
        return 1;
    }
    int rc = 2;
    const struct hf_schedule *sc = argc >= 2 ? hf_schedules_find(s, argv[1]) : NULL;
    if (strcmp(argv[0], "list") == 0)
        rc = cmd_list(cfg, s);
    else if (!sc)
        fprintf(stderr, "hfctl schedule: no schedule named \"%s\" in %s\n", argv[1], cfg->schedules);
    else if (strcmp(argv[0], "next") == 0)
        rc = cmd_next(sc, argc - 2, argv + 2);
    else if (strcmp(argv[0], "fire") == 0)
        rc = cmd_fire(cfg, sc, argc - 2, argv + 2);
    else
        fprintf(stderr, "hfctl schedule: unknown command \"%s\" (list, next, fire)\n", argv[0]);
    hf_schedules_free(s);
    return rc;
}
