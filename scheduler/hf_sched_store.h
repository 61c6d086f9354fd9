/* hf_sched_store: the scheduler's rows in PostgreSQL (migrations/0005):
 * the leader lease, the firings and how far each schedule was decided.
 *
 * Every write a leader makes is fenced: it runs in a transaction that first
 * share-locks the fleet's lease row and checks that this holder still owns
 * it, unexpired by the database's clock. A replica that lost the lease (a
 * network partition, a long pause) therefore cannot record or mark a firing,
 * and a takeover waits for such a transaction to end. */
#ifndef HF_SCHED_STORE_H
#define HF_SCHED_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hf_err.h"
#include "hf_pg.h"
#include "hf_sched_conf.h"

#define HF_FIRING_ID_MAX (HF_SCHED_NAME_MAX + 32)

/* One firing as recorded; a plain value. */
struct hf_firing {
    char id[HF_FIRING_ID_MAX]; /* "<schedule>@YYYY-MM-DDTHH:MM:SSZ" */
    char schedule[HF_SCHED_NAME_MAX];
    int64_t scheduled_at;      /* Unix seconds */
    char local_date[11];       /* "YYYY-MM-DD" in the schedule's zone */
    enum hf_job_kind job;
    int arg;
    bool manual;
};

/* "<schedule>@YYYY-MM-DDTHH:MM:SSZ" into out (HF_FIRING_ID_MAX bytes). */
void hf_firing_id(const char *schedule, int64_t at, char *out, size_t outsz);

/* Fills f for schedule s firing at `at` (id, local date, job, arg). */
void hf_firing_make(const struct hf_schedule *s, int64_t at, bool manual, struct hf_firing *f);

/* Takes or renews the fleet's lease for ttl_ms: *held tells whether holder
 * has it now; *epoch counts changes of holder. Returns 0 or an hf_pg error
 * (HF_EUNAVAIL when PostgreSQL is away: the caller must then stop leading
 * once its own deadline passes). */
int hf_lease_try(hf_pg *pg, const char *fleet, const char *holder, int ttl_ms, bool *held, long long *epoch,
                 struct hf_err *err);

/* Gives the lease up at once (clean shutdown), so another replica need not
 * wait for it to expire. Returns 0 or an hf_pg error. */
int hf_lease_release(hf_pg *pg, const char *fleet, const char *holder, struct hf_err *err);

/* How far schedule `name` has been decided: *found false when never. */
int hf_sched_decided_until(hf_pg *pg, const char *fleet, const char *name, int64_t *until, bool *found,
                           struct hf_err *err);

/* In one fenced transaction: records the n firings (ON CONFLICT DO NOTHING:
 * one recorded by an earlier leader stays as it is), advances the
 * schedule's decided_until to `until` (never backwards) and adds `missed`
 * dropped fire times to its count. Returns 0, HF_ECONFLICT when holder no
 * longer has the lease (nothing written), or an hf_pg error. */
int hf_firings_record(hf_pg *pg, const char *fleet, const char *holder, const struct hf_firing *f, int n,
                      const char *schedule, int64_t until, long long missed, struct hf_err *err);

/* An operator's firing (hfctl schedule fire): recorded without the lease,
 * for the leader to produce. *created false when that id already exists. */
int hf_firing_record_manual(hf_pg *pg, const char *fleet, const char *who, const struct hf_firing *f, bool *created,
                            struct hf_err *err);

/* Up to max firings still 'recorded', oldest first, into out. */
int hf_firings_pending(hf_pg *pg, const char *fleet, struct hf_firing *out, int max, int *n, struct hf_err *err);

/* Fenced: recorded -> produced with the number of jobs. HF_ECONFLICT when
 * the lease is lost or the firing is not 'recorded' any more. */
int hf_firing_mark_produced(hf_pg *pg, const char *fleet, const char *holder, const char *id, long jobs,
                            struct hf_err *err);

#endif
