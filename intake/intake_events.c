#include "intake_events.h"

#include <stdio.h>
#include <string.h>

#include "hf_codec.h"
#include "hf_time.h"

static const char *const envelope[] = { "type", "schema_version", "event_id", NULL };

static int choose_id(const json_t *event, int64_t client_id, const char *idempotency_key, int index,
                     char out[HF_UUID_STRLEN], struct hf_err *err)
{
    const json_t *given = json_object_get(event, "event_id");
    if (given && !json_is_null(given)) {
        if (!json_is_string(given) || !hf_uuid_valid(json_string_value(given)))
            return hf_err_field(err, HF_EINVAL, "event_id", "event_id must be a UUID like 3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f");
        snprintf(out, HF_UUID_STRLEN, "%s", json_string_value(given));
        hf_uuid_normalise(out);
        return 0;
    }
    if (idempotency_key) {
        /* Per client, so two apps using the same key never collide. */
        char ns[48], name[320];
        snprintf(ns, sizeof ns, "healthfleet-client-%lld", (long long)client_id);
        snprintf(name, sizeof name, "%s#%d", idempotency_key, index);
        hf_uuid_v5(ns, name, out);
        return 0;
    }
    return hf_uuid_v4(out) ? hf_err_set(err, HF_EIO, true, "no randomness for an event id") : 0;
}

int intake_event_prepare(const struct hf_config *cfg, const hf_schema_registry *reg, const json_t *event,
                         int64_t client_id, const char *idempotency_key, int index, struct intake_record *rec,
                         struct hf_err *err)
{
    memset(rec, 0, sizeof *rec);
    msgpack_sbuffer_init(&rec->value);
    if (!json_is_object(event))
        return hf_err_field(err, HF_EINVAL, "", "an event must be a JSON object");
    const json_t *type = json_object_get(event, "type");
    if (!json_is_string(type))
        return hf_err_field(err, HF_EINVAL, "type", "type is required: the event type, like \"log.nutrition\"");
    const char *name = json_string_value(type);
    const json_t *ver = json_object_get(event, "schema_version");
    const struct hf_schema *s;
    if (ver && !json_is_null(ver)) {
        if (!json_is_integer(ver))
            return hf_err_field(err, HF_EINVAL, "schema_version", "schema_version must be a whole number");
        s = hf_schema_find(reg, name, (int)json_integer_value(ver));
        if (!s && hf_schema_latest(reg, name))
            return hf_err_field(err, HF_EINVAL, "schema_version", "%s has no version %lld (newest is %d)", name,
                                (long long)json_integer_value(ver), hf_schema_latest(reg, name)->version);
    } else {
        s = hf_schema_latest(reg, name);
    }
    if (!s)
        return hf_err_field(err, HF_EINVAL, "type", "unknown event type \"%s\"", name);
    if (s->internal)
        return hf_err_field(err, HF_EDENIED, "type", "%s is produced by the fleet itself and cannot be posted", name);
    rec->schema = s;
    int rc = choose_id(event, client_id, idempotency_key, index, rec->event_id, err);
    if (rc)
        return rc;
    rc = hf_codec_encode_json(s, event, envelope, rec->event_id, &rec->value, err);
    if (rc)
        return rc;
    const json_t *when = json_object_get(event, "occurred_at");
    int64_t at;
    if (when && hf_time_parse_rfc3339(json_string_value(when), &at) == 0) {
        int64_t now = hf_time_now_us();
        if (at > now + 86400LL * 1000000)
            return hf_err_field(err, HF_EINVAL, "occurred_at", "occurred_at is more than a day in the future");
        if (at < now - (int64_t)cfg->intake_max_skew_days * 86400 * 1000000)
            return hf_err_field(err, HF_EINVAL, "occurred_at", "occurred_at is more than %d days in the past",
                                cfg->intake_max_skew_days);
    }
    rec->member_id = json_integer_value(json_object_get(event, "member_id"));
    rec->program_id = json_integer_value(json_object_get(event, "program_id"));
    snprintf(rec->key, sizeof rec->key, "%lld", (long long)json_integer_value(json_object_get(event, s->key_field)));
    hf_config_topic(cfg, s->family, rec->topic, sizeof rec->topic);
    return 0;
}
