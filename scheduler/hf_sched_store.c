#include "hf_sched_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_civil.h"

#define DAY 86400

static void format_utc(int64_t at, char *out, size_t outsz)
{
    int64_t day = hf_civil_floordiv(at, DAY), y;
    int m, d, sod = (int)(at - day * DAY);
    hf_civil_from_days(day, &y, &m, &d);
    snprintf(out, outsz, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, sod / 3600, sod % 3600 / 60,
             sod % 60);
}

void hf_firing_id(const char *schedule, int64_t at, char *out, size_t outsz)
{
    char ts[32];
    format_utc(at, ts, sizeof ts);
    snprintf(out, outsz, "%s@%s", schedule, ts);
}

void hf_firing_make(const struct hf_schedule *s, int64_t at, bool manual, struct hf_firing *f)
{
    memset(f, 0, sizeof *f);
    hf_firing_id(s->name, at, f->id, sizeof f->id);
    snprintf(f->schedule, sizeof f->schedule, "%s", s->name);
    f->scheduled_at = at;
    int64_t y;
    int m, d;
    hf_civil_from_days(hf_civil_floordiv(at + hf_tz_offset(s->tz, at), DAY), &y, &m, &d);
    snprintf(f->local_date, sizeof f->local_date, "%04lld-%02d-%02d", (long long)y, m, d);
    f->job = s->job;
    f->arg = s->arg;
    f->manual = manual;
}

int hf_lease_try(hf_pg *pg, const char *fleet, const char *holder, int ttl_ms, bool *held, long long *epoch,
                 struct hf_err *err)
{
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", ttl_ms);
    const char *params[] = { fleet, holder, ttl };
    PGresult *res = NULL;
    /* Taken when free or expired, renewed when ours; the database's clock
     * alone decides expiry, so replicas' clocks need not agree. */
    int rc = hf_pg_exec(pg,
                        "INSERT INTO scheduler_leases AS l (fleet, holder, epoch, expires_at)"
                        " VALUES ($1, $2, 1, now() + $3::int * interval '1 millisecond')"
                        " ON CONFLICT (fleet) DO UPDATE SET holder = EXCLUDED.holder,"
                        "  epoch = l.epoch + (l.holder <> EXCLUDED.holder)::int,"
                        "  expires_at = EXCLUDED.expires_at, renewed_at = now()"
                        " WHERE l.holder = EXCLUDED.holder OR l.expires_at < now()"
                        " RETURNING epoch",
                        3, params, &res, err);
    if (rc == 0) {
        *held = PQntuples(res) == 1;
        if (*held)
            *epoch = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    }
    PQclear(res);
    return rc;
}

int hf_lease_release(hf_pg *pg, const char *fleet, const char *holder, struct hf_err *err)
{
    const char *params[] = { fleet, holder };
    return hf_pg_exec(pg, "UPDATE scheduler_leases SET expires_at = now() - interval '1 millisecond'"
                          " WHERE fleet = $1 AND holder = $2",
                      2, params, NULL, err);
}

int hf_sched_decided_until(hf_pg *pg, const char *fleet, const char *name, int64_t *until, bool *found,
                           struct hf_err *err)
{
    const char *params[] = { fleet, name };
    PGresult *res = NULL;
    int rc = hf_pg_exec(pg,
                        "SELECT floor(extract(epoch FROM decided_until))::bigint FROM scheduler_state"
                        " WHERE fleet = $1 AND schedule = $2",
                        2, params, &res, err);
    if (rc == 0) {
        *found = PQntuples(res) == 1;
        if (*found)
            *until = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    }
    PQclear(res);
    return rc;
}

static int insert_firing(hf_pg *pg, const char *fleet, const char *by, const struct hf_firing *f, bool *created,
                         struct hf_err *err)
{
    char at[24], arg[16];
    snprintf(at, sizeof at, "%lld", (long long)f->scheduled_at);
    snprintf(arg, sizeof arg, "%d", f->arg);
    const char *params[] = { fleet, f->id, f->schedule, at, f->local_date, hf_job_kind_name(f->job), arg,
                             f->manual ? "true" : "false", by };
    PGresult *res = NULL;
    int rc = hf_pg_exec(pg,
                        "INSERT INTO scheduler_firings (fleet, firing_id, schedule, scheduled_at, local_date, job, arg,"
                        " manual, recorded_by) VALUES ($1, $2, $3, to_timestamp($4::bigint), $5::date, $6,"
                        " $7::int, $8::boolean, $9) ON CONFLICT (fleet, firing_id) DO NOTHING RETURNING 1",
                        9, params, &res, err);
    if (rc == 0 && created)
        *created = PQntuples(res) == 1;
    PQclear(res);
    return rc;
}

/* Share-locks the lease row if holder still owns it, so a takeover waits
 * for this transaction. HF_ECONFLICT otherwise. */
static int fence(hf_pg *pg, const char *fleet, const char *holder, struct hf_err *err)
{
    const char *params[] = { fleet, holder };
    PGresult *res = NULL;
    int rc = hf_pg_exec(pg,
                        "SELECT 1 FROM scheduler_leases WHERE fleet = $1 AND holder = $2 AND expires_at > now()"
                        " FOR SHARE",
                        2, params, &res, err);
    if (rc == 0 && PQntuples(res) != 1)
        rc = hf_err_set(err, HF_ECONFLICT, false, "the lease of fleet %s is no longer held by %s", fleet, holder);
    PQclear(res);
    return rc;
}

int hf_firings_record(hf_pg *pg, const char *fleet, const char *holder, const struct hf_firing *f, int n,
                      const char *schedule, int64_t until, long long missed, struct hf_err *err)
{
    int rc = hf_pg_cmd(pg, "BEGIN", err);
    if (rc)
        return rc;
    rc = fence(pg, fleet, holder, err);
    for (int i = 0; i < n && rc == 0; i++)
        rc = insert_firing(pg, fleet, holder, &f[i], NULL, err);
    if (rc == 0) {
        char u[24], m[24];
        snprintf(u, sizeof u, "%lld", (long long)until);
        snprintf(m, sizeof m, "%lld", missed);
        const char *params[] = { fleet, schedule, u, m };
        rc = hf_pg_exec(pg,
                        "INSERT INTO scheduler_state AS s (fleet, schedule, decided_until, missed)"
                        " VALUES ($1, $2, to_timestamp($3::bigint), $4::bigint) ON CONFLICT (fleet, schedule)"
                        " DO UPDATE SET decided_until = greatest(s.decided_until, EXCLUDED.decided_until),"
                        "  missed = s.missed + EXCLUDED.missed",
                        4, params, NULL, err);
    }
    if (rc == 0)
        rc = hf_pg_cmd(pg, "COMMIT", err);
    if (rc)
        hf_pg_rollback(pg);
    return rc;
}

int hf_firing_record_manual(hf_pg *pg, const char *fleet, const char *who, const struct hf_firing *f, bool *created,
                            struct hf_err *err)
{
    return insert_firing(pg, fleet, who, f, created, err);
}

int hf_firings_pending(hf_pg *pg, const char *fleet, struct hf_firing *out, int max, int *n, struct hf_err *err)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", max);
    const char *params[] = { fleet, lim };
    PGresult *res = NULL;
    *n = 0;
    int rc = hf_pg_exec(pg,
                        "SELECT firing_id, schedule, floor(extract(epoch FROM scheduled_at))::bigint,"
                        " local_date::text, job, arg, manual FROM scheduler_firings"
                        " WHERE fleet = $1 AND state = 'recorded' ORDER BY scheduled_at, firing_id LIMIT $2::int",
                        2, params, &res, err);
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        struct hf_firing *f = &out[*n];
        int kind = hf_job_kind_parse(PQgetvalue(res, i, 4));
        if (kind < 0) {
            rc = hf_err_set(err, HF_EINVAL, false, "firing %s has an unknown job \"%s\" (a newer scheduler's?)",
                            PQgetvalue(res, i, 0), PQgetvalue(res, i, 4));
            break;
        }
        memset(f, 0, sizeof *f);
        snprintf(f->id, sizeof f->id, "%s", PQgetvalue(res, i, 0));
        snprintf(f->schedule, sizeof f->schedule, "%s", PQgetvalue(res, i, 1));
        f->scheduled_at = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        snprintf(f->local_date, sizeof f->local_date, "%s", PQgetvalue(res, i, 3));
        f->job = (enum hf_job_kind)kind;
        f->arg = (int)strtol(PQgetvalue(res, i, 5), NULL, 10);
        f->manual = PQgetvalue(res, i, 6)[0] == 't';
        (*n)++;
    }
    PQclear(res);
    return rc;
}

int hf_firing_mark_produced(hf_pg *pg, const char *fleet, const char *holder, const char *id, long jobs,
                            struct hf_err *err)
{
    int rc = hf_pg_cmd(pg, "BEGIN", err);
    if (rc)
        return rc;
    rc = fence(pg, fleet, holder, err);
    if (rc == 0) {
        char n[24];
        snprintf(n, sizeof n, "%ld", jobs);
        const char *params[] = { fleet, id, holder, n };
        PGresult *res = NULL;
        rc = hf_pg_exec(pg,
                        "UPDATE scheduler_firings SET state = 'produced', produced_at = now(), produced_by = $3,"
                        " jobs = $4::int WHERE fleet = $1 AND firing_id = $2 AND state = 'recorded' RETURNING 1",
                        4, params, &res, err);
        if (rc == 0 && PQntuples(res) != 1)
            rc = hf_err_set(err, HF_ECONFLICT, false, "firing %s is not 'recorded' any more", id);
        PQclear(res);
    }
    if (rc == 0)
        rc = hf_pg_cmd(pg, "COMMIT", err);
    if (rc)
        hf_pg_rollback(pg);
    return rc;
}
