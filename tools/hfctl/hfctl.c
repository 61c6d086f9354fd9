/* hfctl: the operator's command line. Each command is one function below;
 * output is for people, --json (where offered) for scripts. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hf_codec.h"
#include "hf_config.h"
#include "hf_kafka.h"
#include "hf_migrate.h"
#include "hf_pg.h"
#include "hf_schema.h"
#include "hf_uuid.h"
#include "hfctl.h"

static void usage(void)
{
    fputs("usage: hfctl COMMAND\n"
          "  migrate up              apply pending migrations from HF_MIGRATIONS_DIR\n"
          "  migrate status          list migrations: applied, pending, edited, missing\n"
          "  topics ensure           create every topic the fleet uses (idempotent)\n"
          "  client create NAME [--scopes S1,S2] [--rpm N]\n"
          "                          register an app; prints its API key once\n"
          "  config                  list every environment variable with its default\n"
          "  schedule list           every schedule, its last firing and next fire time\n"
          "  schedule next NAME [N] [--after TIME]\n"
          "                          the next N fire times of a schedule, UTC and local\n"
          "  schedule fire NAME [--wait S]\n"
          "                          record a manual firing; the scheduler's leader produces it\n"
          "  lag [POOL|GROUP] [--json]\n"
          "                          lag per consumer group and partition, from the broker\n"
          "  dlq list|show|replay    dead letters of the pools (hfctl dlq for options)\n"
          "  insights refresh (--all | MEMBER_ID...)\n"
          "                          queue insight recomputations (job.insight_refresh)\n"
          "  model list MEMBER       a member's model versions (retraining pool)\n"
          "  model rollback MEMBER KIND\n"
          "                          activate the previous passing version; refresh predictions\n"
          "  model retrain [--kind K] MEMBER...\n"
          "                          queue retrain jobs (job.retrain, reason manual)\n"
          "  ingredient score NAME...\n"
          "                          (re)score ingredients (job.ingredient_score, reason manual)\n",
          stderr);
}

static void print_migration(void *arg, const struct hf_migration *m)
{
    (void)arg;
    printf("%04d  %-8s  %-20s  %s\n", m->version, m->state, m->applied_at[0] ? m->applied_at : "-", m->name);
}

static int cmd_migrate(const struct hf_config *cfg, int argc, char **argv)
{
    struct hf_err err = { 0 };
    int rc;
    if (argc >= 1 && strcmp(argv[0], "up") == 0)
        rc = hf_migrate_up(cfg->pg_url, cfg->migrations_dir, print_migration, NULL, &err);
    else if (argc >= 1 && strcmp(argv[0], "status") == 0)
        rc = hf_migrate_status(cfg->pg_url, cfg->migrations_dir, print_migration, NULL, &err);
    else {
        usage();
        return 2;
    }
    if (rc)
        fprintf(stderr, "hfctl migrate: %s\n", err.msg);
    return rc ? 1 : 0;
}

static int cmd_topics(const struct hf_config *cfg, int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "ensure") != 0) {
        usage();
        return 2;
    }
    struct hf_err err = { 0 };
    hf_schema_registry *reg = NULL;
    if (hf_schema_registry_new(&reg, &err)) {
        fprintf(stderr, "hfctl: %s\n", err.msg);
        return 1;
    }
    static const char *const pools[] = { "adherence", "meal_image", "meal_analyze", "cache_invalidation", "retrain",
                                         "insights", "maintenance", "ingredient_scoring" };
    const char *families[48];
    char names[64][160];
    const char *list[64];
    size_t n = hf_schema_families(reg, true, families, 48);
    for (size_t i = 0; i < n; i++)
        hf_config_topic(cfg, families[i], names[i], sizeof names[i]);
    for (size_t i = 0; i < sizeof pools / sizeof pools[0]; i++) {
        char fam[64];
        snprintf(fam, sizeof fam, "dlq.%s", pools[i]);
        hf_config_topic(cfg, fam, names[n++], sizeof names[0]);
    }
    for (size_t i = 0; i < n; i++)
        list[i] = names[i];
    int rc = hf_kafka_ensure_topics(cfg, list, n, &err);
    hf_schema_registry_free(reg);
    if (rc) {
        fprintf(stderr, "hfctl topics: %s\n", err.msg);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        printf("%s\n", names[i]);
    return 0;
}

static int cmd_client(const struct hf_config *cfg, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[0], "create") != 0) {
        usage();
        return 2;
    }
    const char *name = argv[1], *scopes = "*", *rpm = NULL;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--scopes") == 0)
            scopes = argv[i + 1];
        else if (strcmp(argv[i], "--rpm") == 0)
            rpm = argv[i + 1];
    }
    unsigned char raw[24], digest[32];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        fprintf(stderr, "hfctl: no randomness from the kernel\n");
        return 1;
    }
    char key[64] = "hf_", hash_hex[80] = "\\x", prefix[16], scope_array[512];
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(key + 3 + 2 * i, 3, "%02x", raw[i]);
    unsigned int dlen = 0;
    EVP_Digest(key, strlen(key), digest, &dlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < dlen; i++)
        snprintf(hash_hex + 2 + 2 * i, 3, "%02x", digest[i]);
    snprintf(prefix, sizeof prefix, "%.11s", key);
    snprintf(scope_array, sizeof scope_array, "{%s}", scopes);
    struct hf_err err = { 0 };
    hf_pg *pg = NULL;
    PGresult *res = NULL;
    const char *params[] = { name, prefix, hash_hex, scope_array, rpm };
    int rc = hf_pg_connect(cfg->pg_url, &pg, &err);
    if (rc == 0)
        rc = hf_pg_exec(pg,
                        "WITH c AS (INSERT INTO api_clients (name, key_prefix, key_hash, scopes, rate_limit_per_min)"
                        " VALUES ($1, $2, $3::bytea, $4::text[], $5::integer) RETURNING id)"
                        " , a AS (INSERT INTO audit_logs (actor_id, target_resource, action, details)"
                        "  SELECT 'hfctl', 'api_clients/' || id, 'CREATE', jsonb_build_object('name', $1::text) FROM c)"
                        " SELECT id FROM c",
                        5, params, &res, &err);
    if (rc == 0) {
        printf("client %s (id %s)\nkey: %s\n(store it now: only its hash is kept)\n", name, PQgetvalue(res, 0, 0), key);
    } else {
        fprintf(stderr, "hfctl client create: %s\n", err.msg);
    }
    PQclear(res);
    hf_pg_free(pg);
    return rc ? 1 : 0;
}

static int cmd_config(void)
{
    const char *name, *def, *doc;
    printf("| variable | default | meaning |\n|---|---|---|\n");
    for (int i = 0; hf_config_describe(i, &name, &def, &doc) == 0; i++)
        printf("| `%s` | `%s` | %s |\n", name, def, doc);
    return 0;
}

int hfctl_send_job(hf_producer *p, const struct hf_config *cfg, const struct hf_schema *s, const json_t *fields,
                   const char *key, const char *trigger, struct hf_err *err)
{
    char id_name[512], event_id[HF_UUID_STRLEN];
    snprintf(id_name, sizeof id_name, "%s|%s", key, trigger);
    hf_uuid_v5(s->name, id_name, event_id);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    int rc = hf_codec_encode_json(s, fields, NULL, event_id, &sb, err);
    if (rc == 0)
        rc = hf_producer_send_message(p, cfg, s, key, event_id, sb.data, sb.size, "hfctl", err);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

bool hfctl_flag(int argc, char **argv, const char *flag)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], flag) == 0)
            return true;
    return false;
}

const char *hfctl_option(int argc, char **argv, const char *option)
{
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], option) == 0)
            return argv[i + 1];
    return NULL;
}

int main(int argc, char **argv)
{
    struct hf_config cfg;
    struct hf_err err = { 0 };
    if (argc < 2) {
        usage();
        return 2;
    }
    if (hf_config_load(&cfg, &err)) {
        fprintf(stderr, "hfctl: configuration: %s\n", err.msg);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "migrate") == 0)
        return cmd_migrate(&cfg, argc - 2, argv + 2);
    if (strcmp(cmd, "topics") == 0)
        return cmd_topics(&cfg, argc - 2, argv + 2);
    if (strcmp(cmd, "client") == 0)
        return cmd_client(&cfg, argc - 2, argv + 2);
    if (strcmp(cmd, "model") == 0)
        return hfctl_model(&cfg, argc - 2, argv + 2);
    if (strcmp(cmd, "schedule") == 0)
        return hfctl_schedule(&cfg, argc - 2, argv + 2);
    if (strcmp(cmd, "config") == 0)
        return cmd_config();
    if (strcmp(cmd, "lag") == 0)
        return hfctl_lag(&cfg, argc - 2, argv + 2);
    if (strcmp(cmd, "dlq") == 0)
        return hfctl_dlq(&cfg, argc - 2, argv + 2);
    if (strcmp(cmd, "insights") == 0)
        return hfctl_insights(&cfg, argc - 2, argv + 2);
    if (strcmp(cmd, "ingredient") == 0)
        return hfctl_ingredient(&cfg, argc - 2, argv + 2);
    usage();
    return 2;
}
