/* hfctl insights refresh: asks the insights pool to recompute people's
 * insights (job.insight_refresh, reason "manual") for the members named, or
 * for every member with --all. Used by operators and by bench/insights. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_kafka.h"
#include "hf_pg.h"
#include "hf_schema.h"
#include "hf_time.h"
#include "hfctl.h"

static int send_job(hf_producer *p, const struct hf_config *cfg, const struct hf_schema *s, const char *member,
                    const char *trigger, struct hf_err *err)
{
    char *end = NULL;
    long long id = strtoll(member, &end, 10);
    if (!end || *end || id < 1)
        return hf_err_set(err, HF_EINVAL, false, "member id %s is not a positive integer", member);
    json_t *obj = json_pack("{s:I, s:s, s:s}", "member_id", (json_int_t)id, "reason", "manual", "trigger", trigger);
    int rc = obj ? hfctl_send_job(p, cfg, s, obj, member, trigger, err)
                 : hf_err_set(err, HF_ENOMEM, false, "out of memory");
    json_decref(obj);
    return rc;
}

int hfctl_insights(const struct hf_config *cfg, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[0], "refresh") != 0) {
        fputs("usage: hfctl insights refresh (--all | MEMBER_ID...)\n", stderr);
        return 2;
    }
    struct hf_err err = { 0 };
    hf_schema_registry *reg = NULL;
    hf_producer *p = NULL;
    hf_pg *pg = NULL;
    PGresult *res = NULL;
    int rc = hf_schema_registry_new(&reg, &err), sent = 0;
    const struct hf_schema *s = rc ? NULL : hf_schema_latest(reg, "job.insight_refresh");
    if (rc == 0 && !s)
        rc = hf_err_set(&err, HF_ENOTFOUND, false, "schema job.insight_refresh is not built in");
    if (rc == 0)
        rc = hf_producer_new(cfg, NULL, &p, &err);
    char trigger[64], at[40];
    hf_time_format_rfc3339(hf_time_now_us(), at, sizeof at);
    snprintf(trigger, sizeof trigger, "hfctl@%s", at);
    bool all = strcmp(argv[1], "--all") == 0;
    if (rc == 0 && all) {
        rc = hf_pg_connect(cfg->pg_url, &pg, &err);
        if (rc == 0)
            rc = hf_pg_exec(pg, "SELECT id FROM members ORDER BY id", 0, NULL, &res, &err);
        for (int r = 0; rc == 0 && r < PQntuples(res); r++, sent++)
            rc = send_job(p, cfg, s, PQgetvalue(res, r, 0), trigger, &err);
    }
    for (int i = 1; rc == 0 && !all && i < argc; i++, sent++)
        rc = send_job(p, cfg, s, argv[i], trigger, &err);
    if (rc == 0)
        rc = hf_producer_flush(p, cfg->kafka_timeout_ms, &err);
    if (rc == 0)
        printf("%d refresh job(s) sent\n", sent);
    else
        fprintf(stderr, "hfctl insights: %s\n", err.msg);
    PQclear(res);
    hf_pg_free(pg);
    hf_producer_free(p, cfg->kafka_timeout_ms);
    hf_schema_registry_free(reg);
    return rc ? 1 : 0;
}
