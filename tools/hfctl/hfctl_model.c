/* hfctl model: the operator's view of user_models (workers/retrain).
 *
 *   hfctl model list MEMBER          every version: kind, algorithm, samples, score, active
 *   hfctl model rollback MEMBER KIND activate the newest passing version older
 *                                    than the active one, then queue a retrain
 *                                    job (reason manual) so the member's
 *                                    predictions come from it
 *   hfctl model retrain [--kind K] MEMBER...
 *                                    queue one job.retrain (reason manual) each
 *
 * The rollback takes the retraining pool's per-member advisory lock, so it
 * never interleaves with a retrain of the same member. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_kafka.h"
#include "hf_pg.h"
#include "hf_schema.h"
#include "hf_time.h"
#include "hfctl.h"

static int model_list(hf_pg *pg, const char *member, struct hf_err *err)
{
    PGresult *res = NULL;
    const char *params[] = { member };
    int rc = hf_pg_exec(pg,
                        "SELECT kind, version, algorithm, samples, coalesce(metrics->>'score', metrics->>'mae_days', '-'),"
                        " coalesce(metrics->>'passed', '-'), CASE WHEN active THEN 'active' ELSE '' END,"
                        " to_char(trained_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
                        " FROM user_models WHERE member_id = $1::bigint ORDER BY kind, version",
                        1, params, &res, err);
    if (rc)
        return rc;
    printf("%-9s %4s  %-13s %7s  %-10s %-6s %-6s %s\n", "kind", "ver", "algorithm", "samples", "score", "passed",
           "", "trained_at (UTC)");
    for (int r = 0; r < PQntuples(res); r++)
        printf("%-9s %4s  %-13s %7s  %-10s %-6s %-6s %s\n", PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
               PQgetvalue(res, r, 2), PQgetvalue(res, r, 3), PQgetvalue(res, r, 4), PQgetvalue(res, r, 5),
               PQgetvalue(res, r, 6), PQgetvalue(res, r, 7));
    PQclear(res);
    return 0;
}

/* The switch, in one transaction; *version gets the version now active. */
static int switch_back(hf_pg *pg, const char *member, const char *kind, int *version, struct hf_err *err)
{
    PGresult *res = NULL;
    const char *params[] = { member, kind };
    int rc = hf_pg_cmd(pg, "BEGIN", err);
    if (rc == 0)
        rc = hf_pg_exec(pg, "SELECT pg_advisory_xact_lock(1380, ($1::bigint % 2147483647)::int)", 1, params, NULL, err);
    if (rc == 0)
        rc = hf_pg_exec(pg,
                        "WITH cur AS (SELECT version FROM user_models WHERE member_id = $1::bigint AND kind = $2 AND active),"
                        " prev AS (SELECT u.version FROM user_models u, cur WHERE u.member_id = $1::bigint AND u.kind = $2"
                        "   AND u.version < cur.version AND u.metrics->>'passed' = 'true' ORDER BY u.version DESC LIMIT 1)"
                        " SELECT (SELECT version FROM cur), (SELECT version FROM prev)",
                        2, params, &res, err);
    if (rc)
        goto out;
    if (PQgetisnull(res, 0, 0)) {
        rc = hf_err_set(err, HF_ENOTFOUND, false, "member %s has no active %s model to roll back", member, kind);
        goto out;
    }
    if (PQgetisnull(res, 0, 1)) {
        rc = hf_err_set(err, HF_ENOTFOUND, false,
                        "member %s: no passing %s version older than the active version %s; nothing to roll back to",
                        member, kind, PQgetvalue(res, 0, 0));
        goto out;
    }
    *version = (int)strtol(PQgetvalue(res, 0, 1), NULL, 10);
    const char *sw[] = { member, kind, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 0) };
    rc = hf_pg_exec(pg, "UPDATE user_models SET active = false WHERE member_id = $1::bigint AND kind = $2 AND active", 2,
                    sw, NULL, err);
    if (rc == 0)
        rc = hf_pg_exec(pg,
                        "UPDATE user_models SET active = true WHERE member_id = $1::bigint AND kind = $2"
                        " AND version = $3::int",
                        3, sw, NULL, err);
    if (rc == 0)
        rc = hf_pg_exec(pg,
                        "INSERT INTO audit_logs (actor_id, target_resource, action, details) VALUES ('hfctl',"
                        " 'user_models/' || $1 || '/' || $2, 'ROLLBACK', jsonb_build_object('from', $4::int, 'to', $3::int))",
                        4, sw, NULL, err);
    if (rc == 0)
        rc = hf_pg_cmd(pg, "COMMIT", err);
out:
    if (rc)
        hf_pg_rollback(pg);
    PQclear(res);
    return rc;
}

/* Queues job.retrain (reason manual) for each member and kind (NULL: all),
 * one producer for them all; each job's trigger is tag:member@now, so a
 * repeated command is a new request. */
static int queue_retrain(const struct hf_config *cfg, char *const *members, int n, const char *kind, const char *tag,
                         struct hf_err *err)
{
    hf_schema_registry *reg = NULL;
    hf_producer *p = NULL;
    char at[40];
    hf_time_format_rfc3339(hf_time_now_us(), at, sizeof at);
    int rc = hf_schema_registry_new(&reg, err);
    const struct hf_schema *s = rc ? NULL : hf_schema_latest(reg, "job.retrain");
    if (rc == 0 && !s)
        rc = hf_err_set(err, HF_EINVAL, false, "job.retrain schema missing");
    if (rc == 0)
        rc = hf_producer_new(cfg, NULL, &p, err);
    for (int i = 0; i < n && rc == 0; i++) {
        char trigger[160];
        snprintf(trigger, sizeof trigger, "%s:%s:%s@%s", tag, members[i], kind ? kind : "all", at);
        json_t *job = json_pack("{s:I, s:s, s:s, s:s}", "member_id", (json_int_t)strtoll(members[i], NULL, 10),
                                "model", kind ? kind : "all", "reason", "manual", "trigger", trigger);
        rc = job ? hfctl_send_job(p, cfg, s, job, members[i], trigger, err)
                 : hf_err_set(err, HF_ENOMEM, true, "out of memory");
        json_decref(job);
    }
    if (rc == 0)
        rc = hf_producer_flush(p, cfg->kafka_timeout_ms, err);
    hf_producer_free(p, 1000);
    hf_schema_registry_free(reg);
    return rc;
}

static bool known_kind(const char *kind)
{
    static const char *const kinds[] = { "cycle", "symptoms", "energy", "mood" };
    for (size_t k = 0; k < 4; k++)
        if (strcmp(kind, kinds[k]) == 0)
            return true;
    return false;
}

/* hfctl model retrain [--kind K] MEMBER...: one job.retrain each. */
static int model_retrain(const struct hf_config *cfg, int argc, char **argv)
{
    const char *kind = NULL;
    if (argc >= 2 && strcmp(argv[0], "--kind") == 0) {
        kind = argv[1];
        argc -= 2;
        argv += 2;
    }
    bool ok = argc > 0 && (!kind || known_kind(kind));
    for (int i = 0; i < argc && ok; i++) {
        char *end = NULL;
        ok = strtoll(argv[i], &end, 10) >= 1 && *end == '\0';
    }
    if (!ok) {
        fputs("usage: hfctl model retrain [--kind cycle|symptoms|energy|mood] MEMBER...\n", stderr);
        return 2;
    }
    struct hf_err err = { 0 };
    int rc = queue_retrain(cfg, argv, argc, kind, "manual", &err);
    if (rc)
        fprintf(stderr, "hfctl model retrain: %s\n", err.msg);
    else
        printf("queued %d retrain jobs\n", argc);
    return rc ? 1 : 0;
}

int hfctl_model(const struct hf_config *cfg, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "retrain") == 0)
        return model_retrain(cfg, argc - 1, argv + 1);
    bool list = argc == 2 && strcmp(argv[0], "list") == 0, rollback = argc == 3 && strcmp(argv[0], "rollback") == 0;
    if ((!list && !rollback) || strtoll(argv[1], NULL, 10) < 1) {
        fputs("usage: hfctl model list MEMBER | hfctl model rollback MEMBER KIND | hfctl model retrain [--kind K] MEMBER...\n",
              stderr);
        return 2;
    }
    if (!list && !known_kind(argv[2])) {
        fprintf(stderr, "hfctl model: unknown kind \"%s\" (cycle, symptoms, energy, mood)\n", argv[2]);
        return 2;
    }
    struct hf_err err = { 0 };
    hf_pg *pg = NULL;
    int version = 0;
    int rc = hf_pg_connect(cfg->pg_url, &pg, &err);
    if (rc == 0)
        rc = list ? model_list(pg, argv[1], &err) : switch_back(pg, argv[1], argv[2], &version, &err);
    hf_pg_free(pg);
    if (rc == 0 && rollback) {
        printf("member %s %s: version %d is active\n", argv[1], argv[2], version);
        char tag[32];
        snprintf(tag, sizeof tag, "rollback:v%d", version);
        rc = queue_retrain(cfg, &argv[1], 1, argv[2], tag, &err);
        if (rc == 0)
            printf("queued a retrain job to refresh the predictions\n");
    }
    if (rc)
        fprintf(stderr, "hfctl model: %s\n", err.msg);
    return rc ? 1 : 0;
}
