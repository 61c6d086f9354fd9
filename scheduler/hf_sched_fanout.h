/* hf_sched_fanout: turns one recorded firing into its jobs on Kafka.
 *
 * Each job carries the firing id in `trigger` (job.adherence_weekly has no
 * trigger: its program and week are its identity), and its event id is a
 * UUIDv5 of its content, like hf_pool_emit's: producing a firing twice
 * (a leader died before marking it produced) yields the same ids, and the
 * pools' processed_events make the repeat a no-op. Who gets a job
 * (002's should_retrain and the rest) is in scheduler/README.md. */
#ifndef HF_SCHED_FANOUT_H
#define HF_SCHED_FANOUT_H

#include <stdbool.h>

#include "hf_config.h"
#include "hf_err.h"
#include "hf_kafka.h"
#include "hf_pg.h"
#include "hf_schema.h"
#include "hf_sched_store.h"

/* Called between pages of a long fan-out; return false to stop (the lease
 * is gone). May be NULL. */
typedef bool (*hf_fanout_keep_fn)(void *arg);

/* Reads the firing's recipients page by page (cfg->scheduler_page rows),
 * produces one job each and waits for the broker's acknowledgement of each
 * page (acks=all). *jobs gets the number produced. Returns 0, HF_EUNAVAIL
 * (PostgreSQL or Kafka away: try again later), HF_ECONFLICT when keep said
 * stop, or HF_EINVAL (a job that breaks its schema: a bug). */
int hf_fanout(hf_pg *pg, hf_producer *producer, const hf_schema_registry *reg, const struct hf_config *cfg,
              const struct hf_firing *f, hf_fanout_keep_fn keep, void *keep_arg, long *jobs, struct hf_err *err);

/* The schema a job kind produces ("job.retrain"). */
const char *hf_fanout_schema(enum hf_job_kind k);

#endif
