/* The meal-image pools: a meal photo becomes a daily log at once (PROCESSING),
 * then, once analysed, its nutrients (VERIFIED) or the reason it could not be
 * read (FAILED). Two pools, one per stage, so a slow vision model never delays
 * the first stage (README.md beside this file says why):
 *
 *   meal_image    reads meals: inserts the PROCESSING row, emits job.meal_analyze;
 *   meal_analyze  reads jobs.meals: in prepare (outside the transaction) fetches
 *                 every photo of the batch and asks the model, concurrently;
 *                 in before_commit prices the foods and writes every row of
 *                 the batch at once, then emits job.adherence_recalc and
 *                 cache.invalidate once per program day. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hf_log.h"
#include "hf_runtime.h"
#include "hf_time.h"

/* ---------- stage 1: the PROCESSING row ---------- */

struct photo {
    int64_t member_id, program_id, occurred_at;
    bool has_program, has_caption;
    const char *image_url, *caption;
};

/* The image address without its query and fragment: a pre-signed URL's
 * signature is a credential, and the database keeps logs for years. */
static json_t *stored_image(const char *url)
{
    size_t n = strcspn(url, "?#");
    return json_stringn(url, n);
}

static int record_handle(hf_pool_ctx *ctx, void *arg, const struct hf_msg *msg, struct hf_err *err)
{
    if (strcmp(msg->schema->name, "meal.photo_uploaded") != 0)
        return 0;
    struct photo p = { 0 };
    const struct hf_bind bind[] = {
        HF_BIND(struct photo, member_id, HF_B_INT),
        HF_BIND(struct photo, occurred_at, HF_B_TIMESTAMP),
        HF_BIND(struct photo, image_url, HF_B_STR),
        HF_BIND_OPT(struct photo, program_id, HF_B_INT, has_program),
        HF_BIND_OPT(struct photo, caption, HF_B_STR, has_caption),
    };
    int rc = hf_doc_bind(msg->doc, bind, sizeof bind / sizeof bind[0], &p, err);
    if (rc)
        return rc;
    char at[40];
    hf_time_format_rfc3339(p.occurred_at, at, sizeof at);
    json_t *payload = NULL, *job = NULL;
    char *text = NULL;
    if (!msg->replayed) {
        payload = hf_doc_to_json(msg->doc, msg->schema);
        if (!payload || json_object_set_new(payload, "image_url", stored_image(p.image_url)) ||
            !(text = json_dumps(payload, JSON_COMPACT))) {
            rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
            goto out;
        }
        if ((rc = hf_pool_ensure_log_partition(ctx, p.occurred_at, err)))
            goto out;
        char member[24], program[24], client[24];
        snprintf(member, sizeof member, "%lld", (long long)p.member_id);
        snprintf(program, sizeof program, "%lld", (long long)p.program_id);
        snprintf(client, sizeof client, "%lld", (long long)msg->client_id);
        const char *params[] = { msg->event_id, member, p.has_program ? program : NULL, text,
                                 msg->client_id ? client : NULL, at };
        rc = hf_pg_exec(hf_pool_pg(ctx),
                        "INSERT INTO daily_logs (event_id, member_id, program_id, log_type, payload, status,"
                        " source_client, logged_at) VALUES ($1, $2, $3, 'MEAL_PHOTO', $4::jsonb, 'PROCESSING', $5, $6)"
                        " ON CONFLICT (event_id, logged_at) DO NOTHING",
                        6, params, NULL, err);
        if (rc)
            goto out;
    }
    /* Emitted on a replay too: the crash may have come before it was sent
     * (its id is derived from its content, so it is the same job). */
    job = json_pack("{s:s, s:I, s:s, s:s}", "log_event_id", msg->event_id, "member_id", (json_int_t)p.member_id,
                    "logged_at", at, "image_url", p.image_url);
    if (!job || (p.has_program && json_object_set_new(job, "program_id", json_integer(p.program_id))) ||
        (p.has_caption && json_object_set_new(job, "caption", json_string(p.caption)))) {
        rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
        goto out;
    }
    rc = hf_pool_emit(ctx, "job.meal_analyze", job, err);
out:
    json_decref(payload);
    json_decref(job);
    free(text);
    return rc;
}

static const char *const record_families[] = { "meals", NULL };

const struct hf_pool_def hf_pool_meal_image = {
    .name = "meal_image",
    .families = record_families,
    .handle = record_handle,
};
