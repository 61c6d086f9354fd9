/* hf-scheduler: fires the schedules of HF_SCHEDULES exactly once per fleet,
 * however many replicas run. Design: README.md beside this file.
 *
 * Each turn of the loop (every HF_SCHEDULER_TICK_MS):
 *  1. lease: a follower tries to take the lease, the leader renews it every
 *     third of HF_SCHEDULER_LEASE_MS; the leader stops acting on its own
 *     once 4/5 of the lease passed since its last successful renewal began,
 *     before the database could hand the lease to someone else;
 *  2. decide (leader): for each schedule, the fire times due since it was
 *     last decided, filtered by its catch-up policy, recorded as firings
 *     (fenced by the lease) before anything is produced;
 *  3. produce (leader): every firing still 'recorded', including those a
 *     dead leader left, fanned out to Kafka, flushed, then marked produced.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "hf_config.h"
#include "hf_httpd.h"
#include "hf_kafka.h"
#include "hf_log.h"
#include "hf_metrics.h"
#include "hf_pg.h"
#include "hf_sched_fanout.h"
#include "hf_sched_plan.h"
#include "hf_sched_store.h"
#include "hf_time.h"

#define MAX_PENDING 16

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct sched {
    struct hf_config cfg;
    hf_schedules *schedules;
    hf_schema_registry *reg;
    hf_pg *pg;
    hf_producer *producer;
    char holder[128];
    const char *fleet;
    bool leader;
    long long epoch;
    int64_t lease_until_mono; /* act as leader only before this */
    int64_t next_renew_mono;
    int64_t *decided;  /* per schedule: decided_until, or INT64_MIN when not read since leading */
    /* Read by the HTTP thread: /healthz, /readyz, /metrics. */
    _Atomic int64_t turned_us; /* monotonic time the loop last turned */
    atomic_bool db_ok;
    hf_metrics *metrics;
    hf_metric *m_leader, *m_recorded, *m_produced, *m_jobs, *m_missed;
    hf_httpd *httpd;
};

static int64_t mono_ms(void)
{
    return hf_time_mono_us() / 1000;
}

/* Takes or renews the lease when due; returns whether we lead now. */
static bool lease_turn(struct sched *s)
{
    int64_t now = mono_ms();
    if (s->leader && now < s->next_renew_mono && now < s->lease_until_mono)
        return true;
    struct hf_err err = { 0 };
    bool held = false;
    long long epoch = 0;
    int rc = hf_lease_try(s->pg, s->fleet, s->holder, s->cfg.scheduler_lease_ms, &held, &epoch, &err);
    if (rc) {
        hf_warn("lease: %s", err.msg);
        /* keep leading until our own deadline: the lease is still ours */
        if (s->leader && mono_ms() >= s->lease_until_mono) {
            hf_warn("lease: not renewed in time, stepping down");
            s->leader = false;
        }
        return s->leader;
    }
    if (held) {
        if (!s->leader) {
            hf_info("leader of fleet %s (epoch %lld)", s->fleet, epoch);
            for (size_t i = 0; i < hf_schedules_count(s->schedules); i++)
                s->decided[i] = INT64_MIN;
        }
        s->leader = true;
        s->epoch = epoch;
        s->lease_until_mono = now + s->cfg.scheduler_lease_ms * 4 / 5;
        s->next_renew_mono = now + s->cfg.scheduler_lease_ms / 3;
    } else if (s->leader) {
        hf_warn("lease of fleet %s taken by another replica: following", s->fleet);
        s->leader = false;
    }
    return s->leader;
}

static bool still_leader(void *arg)
{
    struct sched *s = arg;
    return !stop_requested && lease_turn(s);
}

static int decide_one(struct sched *s, size_t i, int64_t now_ms, struct hf_err *err)
{
    const struct hf_schedule *sc = hf_schedules_at(s->schedules, i);
    if (s->decided[i] == INT64_MIN) {
        bool found = false;
        int64_t until = 0;
        int rc = hf_sched_decided_until(s->pg, s->fleet, sc->name, &until, &found, err);
        if (rc)
            return rc;
        if (!found) {
            /* a new schedule starts now: nothing before it was missed */
            until = now_ms / 1000;
            rc = hf_firings_record(s->pg, s->fleet, s->holder, NULL, 0, sc->name, until, 0, err);
            if (rc)
                return rc;
            hf_info("schedule %s: new, first firing after now", sc->name);
        }
        s->decided[i] = until;
    }
    struct hf_sched_plan plan;
    int rc = hf_sched_plan(sc, s->decided[i], now_ms, s->cfg.scheduler_grace_ms, &plan, err);
    if (rc || plan.until == s->decided[i]) {
        free(plan.times);
        return rc;
    }
    struct hf_firing *f = calloc((size_t)plan.n + 1, sizeof *f);
    if (!f) {
        free(plan.times);
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    }
    for (int k = 0; k < plan.n; k++)
        hf_firing_make(sc, plan.times[k], false, &f[k]);
    rc = hf_firings_record(s->pg, s->fleet, s->holder, f, plan.n, sc->name, plan.until, plan.missed, err);
    if (rc == 0) {
        s->decided[i] = plan.until;
        hf_metric_add(s->m_recorded, (uint64_t)plan.n);
        hf_metric_add(s->m_missed, (uint64_t)plan.missed);
        for (int k = 0; k < plan.n; k++)
            hf_info("recorded firing %s", f[k].id);
        if (plan.missed)
            hf_warn("schedule %s: %lld missed fire times dropped (catch_up %s)", sc->name, plan.missed,
                    hf_catch_up_name(sc->catch_up));
    }
    free(f);
    free(plan.times);
    return rc;
}

static void decide(struct sched *s)
{
    int64_t now_ms = hf_time_now_us() / 1000;
    for (size_t i = 0; i < hf_schedules_count(s->schedules) && s->leader; i++) {
        struct hf_err err = { 0 };
        int rc = decide_one(s, i, now_ms, &err);
        if (rc == HF_ECONFLICT) {
            hf_warn("%s: following", err.msg);
            s->leader = false;
        } else if (rc) {
            hf_warn("schedule %s: %s (retrying next turn)", hf_schedules_at(s->schedules, i)->name, err.msg);
        }
    }
}

static void produce(struct sched *s)
{
    struct hf_firing pending[MAX_PENDING];
    int n = 0;
    struct hf_err err = { 0 };
    int rc = hf_firings_pending(s->pg, s->fleet, pending, MAX_PENDING, &n, &err);
    if (rc) {
        hf_warn("pending firings: %s", err.msg);
        return;
    }
    for (int i = 0; i < n && s->leader && !stop_requested; i++) {
        long jobs = 0;
        rc = hf_fanout(s->pg, s->producer, s->reg, &s->cfg, &pending[i], still_leader, s, &jobs, &err);
        if (rc == 0)
            rc = hf_firing_mark_produced(s->pg, s->fleet, s->holder, pending[i].id, jobs, &err);
        if (rc == HF_ECONFLICT) {
            hf_warn("firing %s: %s", pending[i].id, err.msg);
            s->leader = false;
            return;
        }
        if (rc) {
            hf_warn("firing %s: %s (retrying next turn)", pending[i].id, err.msg);
            return;
        }
        hf_metric_add(s->m_produced, 1);
        hf_metric_add(s->m_jobs, (uint64_t)jobs);
        hf_info("produced firing %s: %ld %s jobs", pending[i].id, jobs, hf_fanout_schema(pending[i].job));
    }
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL); /* a signal cuts it short, which is what we want */
}

static int make_holder(struct sched *s, struct hf_err *err)
{
    unsigned char r[4];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return hf_err_set(err, HF_EIO, false, "no randomness from the kernel");
    char host[64] = "";
    if (s->cfg.instance[0])
        snprintf(host, sizeof host, "%s", s->cfg.instance);
    else if (gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "unknown");
    snprintf(s->holder, sizeof s->holder, "%s/%ld/%02x%02x%02x%02x", host, (long)getpid(), r[0], r[1], r[2], r[3]);
    return 0;
}

/* /healthz: the loop turned within HF_LIVENESS_MS (a hung scheduler is
 * restarted); /readyz: PostgreSQL answers (a follower is ready too: it is
 * the standby). */
static int serve(void *arg, const char *path, char **body, size_t *len, const char **ctype)
{
    struct sched *s = arg;
    if (strcmp(path, "/metrics") == 0) {
        *body = hf_metrics_render(s->metrics, len);
        *ctype = "text/plain; version=0.0.4; charset=utf-8";
        return *body ? 200 : 500;
    }
    int status = 404;
    const char *text = "not found\n";
    if (strcmp(path, "/healthz") == 0) {
        bool alive = (hf_time_mono_us() - atomic_load(&s->turned_us)) / 1000 < s->cfg.liveness_ms;
        status = alive ? 200 : 503;
        text = alive ? "ok\n" : "loop stuck\n";
    } else if (strcmp(path, "/readyz") == 0) {
        bool ready = atomic_load(&s->db_ok);
        status = ready ? 200 : 503;
        text = ready ? "ready\n" : "waiting for PostgreSQL\n";
    }
    *body = strdup(text);
    *len = *body ? strlen(*body) : 0;
    return status;
}

static int start_http(struct sched *s, struct hf_err *err)
{
    char l[160];
    snprintf(l, sizeof l, "fleet=\"%s\"", s->fleet);
    s->metrics = hf_metrics_new();
    if (!s->metrics)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    s->m_leader = hf_metrics_gauge(s->metrics, "hf_scheduler_leader", "1 while this replica holds the lease.", l);
    s->m_recorded = hf_metrics_counter(s->metrics, "hf_scheduler_firings_recorded_total",
                                       "Firings recorded by this replica while leading.", l);
    s->m_produced = hf_metrics_counter(s->metrics, "hf_scheduler_firings_produced_total",
                                       "Firings whose jobs this replica produced.", l);
    s->m_jobs = hf_metrics_counter(s->metrics, "hf_scheduler_jobs_total", "Jobs produced by fan-out.", l);
    s->m_missed = hf_metrics_counter(s->metrics, "hf_scheduler_missed_total",
                                     "Fire times dropped by a catch-up policy after downtime.", l);
    atomic_store(&s->turned_us, hf_time_mono_us());
    if (s->cfg.metrics_port == 0)
        return 0;
    return hf_httpd_start(s->cfg.metrics_port, serve, s, &s->httpd, err);
}

static int start(struct sched *s, struct hf_err *err)
{
    int rc = hf_config_load(&s->cfg, err);
    if (rc)
        return rc;
    hf_log_init("scheduler", s->cfg.instance, s->cfg.log_level);
    s->fleet = s->cfg.topic_prefix;
    if ((rc = make_holder(s, err)) || (rc = hf_schedules_load(s->cfg.schedules, &s->schedules, err)) ||
        (rc = hf_schema_registry_new(&s->reg, err)) || (rc = start_http(s, err)))
        return rc;
    s->decided = calloc(hf_schedules_count(s->schedules) + 1, sizeof *s->decided);
    if (!s->decided)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    char names[HF_JOB_KIND_COUNT][160];
    const char *topics[HF_JOB_KIND_COUNT];
    size_t nt = 0;
    for (int k = 0; k < HF_JOB_KIND_COUNT; k++) {
        const struct hf_schema *sc = hf_schema_latest(s->reg, hf_fanout_schema((enum hf_job_kind)k));
        if (!sc)
            return hf_err_set(err, HF_EINVAL, false, "no schema %s", hf_fanout_schema((enum hf_job_kind)k));
        hf_config_topic(&s->cfg, sc->family, names[nt], sizeof names[nt]);
        bool seen = false;
        for (size_t j = 0; j < nt; j++)
            seen = seen || strcmp(names[j], names[nt]) == 0;
        if (!seen) {
            topics[nt] = names[nt];
            nt++;
        }
    }
    if ((rc = hf_producer_new(&s->cfg, NULL, &s->producer, err)) ||
        (rc = hf_kafka_ensure_topics(&s->cfg, topics, nt, err)))
        return rc;
    rc = hf_pg_connect(s->cfg.pg_url, &s->pg, err);
    if (rc) /* the loop reconnects: a database outage at start is not fatal */
        hf_warn("PostgreSQL: %s", err->msg);
    hf_info("started as %s with %zu schedules from %s", s->holder, hf_schedules_count(s->schedules),
            s->cfg.schedules);
    return 0;
}

int main(void)
{
    struct sched s = { 0 };
    struct hf_err err = { 0 };
    struct sigaction sa = { 0 };
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int status = 0;
    if (start(&s, &err)) {
        fprintf(stderr, "hf-scheduler: %s\n", err.msg);
        status = 2;
        goto out;
    }
    while (!stop_requested) {
        if (lease_turn(&s)) {
            decide(&s);
            produce(&s);
        }
        atomic_store(&s.db_ok, s.pg && hf_pg_ok(s.pg));
        hf_metric_set(s.m_leader, s.leader ? 1 : 0);
        atomic_store(&s.turned_us, hf_time_mono_us());
        sleep_ms(s.cfg.scheduler_tick_ms);
    }
    if (s.leader && hf_lease_release(s.pg, s.fleet, s.holder, &err))
        hf_warn("lease release: %s", err.msg);
    hf_info("stopped");
out:
    hf_httpd_stop(s.httpd);
    hf_metrics_free(s.metrics);
    hf_producer_free(s.producer, s.cfg.kafka_timeout_ms);
    hf_pg_free(s.pg);
    hf_schema_registry_free(s.reg);
    hf_schedules_free(s.schedules);
    free(s.decided);
    return status;
}
