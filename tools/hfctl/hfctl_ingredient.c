/* hfctl ingredient score NAME...: asks the ingredient-scoring pool to score
 * the ingredients named, again if they have a score (job.ingredient_score,
 * reason manual, which the pool always rescores): after a curated food's
 * values were corrected, say, or to score a name before anyone logs it. */
#include <stdio.h>
#include <string.h>

#include "hf_food_name.h"
#include "hf_time.h"
#include "hfctl.h"

int hfctl_ingredient(const struct hf_config *cfg, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[0], "score") != 0) {
        fputs("usage: hfctl ingredient score NAME...\n", stderr);
        return 2;
    }
    struct hf_err err = { 0 };
    char names[argc - 1][HF_FOOD_NAME_MAX + 1];
    for (int i = 1; i < argc; i++)
        if (hf_food_name_normalise(argv[i], names[i - 1], &err)) {
            fprintf(stderr, "hfctl ingredient: \"%s\": %s\n", argv[i], err.msg);
            return 2;
        }
    hf_schema_registry *reg = NULL;
    hf_producer *p = NULL;
    char at[40], trigger[64];
    hf_time_format_rfc3339(hf_time_now_us(), at, sizeof at);
    snprintf(trigger, sizeof trigger, "hfctl@%s", at);
    int rc = hf_schema_registry_new(&reg, &err);
    const struct hf_schema *s = rc ? NULL : hf_schema_latest(reg, "job.ingredient_score");
    if (rc == 0 && !s)
        rc = hf_err_set(&err, HF_ENOTFOUND, false, "schema job.ingredient_score is not built in");
    if (rc == 0)
        rc = hf_producer_new(cfg, NULL, &p, &err);
    for (int i = 0; rc == 0 && i < argc - 1; i++) {
        json_t *job = json_pack("{s:s, s:s, s:s}", "name", names[i], "reason", "manual", "trigger", trigger);
        rc = job ? hfctl_send_job(p, cfg, s, job, names[i], trigger, &err)
                 : hf_err_set(&err, HF_ENOMEM, false, "out of memory");
        json_decref(job);
    }
    if (rc == 0)
        rc = hf_producer_flush(p, cfg->kafka_timeout_ms, &err);
    if (rc == 0)
        for (int i = 0; i < argc - 1; i++)
            printf("scoring asked for \"%s\"\n", names[i]);
    else
        fprintf(stderr, "hfctl ingredient: %s\n", err.msg);
    hf_producer_free(p, cfg->kafka_timeout_ms);
    hf_schema_registry_free(reg);
    return rc ? 1 : 0;
}
