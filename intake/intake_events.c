#include "intake_events.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_codec.h"
#include "hf_time.h"
#include "hf_utf8.h"

static const char *const envelope[] = { "type", "schema_version", "event_id", NULL };

static int choose_id(const hf_jval *event, int64_t client_id, const char *idempotency_key, int index,
                     char out[HF_UUID_STRLEN], struct hf_err *err)
{
    const hf_jval *given = hf_jval_get(event, "event_id");
    if (hf_jval_type(given) != HF_J_NULL) {
        const char *text = hf_jval_str(given, NULL);
        if (!text || !hf_uuid_valid(text))
            return hf_err_field(err, HF_EINVAL, "event_id", "event_id must be a UUID like 3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f");
        snprintf(out, HF_UUID_STRLEN, "%s", text);
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

/* Text whose parts were cut to fixed buffers (a path cut inside a message,
 * the message cut again): the bytes of broken sequences are dropped. */
static json_t *cut_text(const char *s)
{
    size_t n = strlen(s), o = 0;
    char *clean = malloc(n + 1);
    if (!clean)
        return NULL;
    for (size_t i = 0; i < n;) {
        size_t len = hf_utf8_seq((const unsigned char *)s + i, n - i);
        if (!len) {
            i++;
            continue;
        }
        memcpy(clean + o, s + i, len);
        o += len;
        i += len;
    }
    json_t *j = json_stringn(clean, o);
    free(clean);
    return j;
}

json_t *intake_error_body(const char *code, const char *message, const char *field)
{
    json_t *e = json_pack("{s:s, s:o}", "code", code, "message", cut_text(message));
    if (e && field && *field)
        json_object_set_new(e, "field", cut_text(field));
    return e ? json_pack("{s:o}", "error", e) : NULL;
}

int intake_event_prepare(const struct hf_config *cfg, const hf_schema_registry *reg, const hf_jval *event,
                         int64_t client_id, const char *idempotency_key, int index, struct intake_record *rec,
                         struct hf_err *err)
{
    memset(rec, 0, sizeof *rec);
    msgpack_sbuffer_init(&rec->value);
    if (hf_jval_type(event) != HF_J_OBJECT)
        return hf_err_field(err, HF_EINVAL, "", "an event must be a JSON object");
    const char *name = hf_jval_str(hf_jval_get(event, "type"), NULL);
    if (!name)
        return hf_err_field(err, HF_EINVAL, "type", "type is required: the event type, like \"log.nutrition\"");
    const hf_jval *ver = hf_jval_get(event, "schema_version");
    const struct hf_schema *s;
    if (hf_jval_type(ver) != HF_J_NULL) {
        if (hf_jval_type(ver) != HF_J_INT)
            return hf_err_field(err, HF_EINVAL, "schema_version", "schema_version must be a whole number");
        int64_t v = hf_jval_int(ver);
        /* Checked before narrowing: 4294967297 must not become version 1. */
        s = v >= 1 && v <= INT_MAX ? hf_schema_find(reg, name, (int)v) : NULL;
        if (!s && hf_schema_latest(reg, name))
            return hf_err_field(err, HF_EINVAL, "schema_version", "%s has no version %lld (newest is %d)", name,
                                (long long)v, hf_schema_latest(reg, name)->version);
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
    rc = hf_codec_encode(s, event, envelope, rec->event_id, &rec->value, err);
    if (rc)
        return rc;
    const char *when = hf_jval_str(hf_jval_get(event, "occurred_at"), NULL);
    int64_t at;
    if (when && hf_time_parse_rfc3339(when, &at) == 0) {
        int64_t now = hf_time_now_us();
        if (at > now + 86400LL * 1000000)
            return hf_err_field(err, HF_EINVAL, "occurred_at", "occurred_at is more than a day in the future");
        if (at < now - (int64_t)cfg->intake_max_skew_days * 86400 * 1000000)
            return hf_err_field(err, HF_EINVAL, "occurred_at", "occurred_at is more than %d days in the past",
                                cfg->intake_max_skew_days);
    }
    rec->member_id = hf_jval_int(hf_jval_get(event, "member_id"));
    rec->program_id = hf_jval_int(hf_jval_get(event, "program_id"));
    snprintf(rec->key, sizeof rec->key, "%lld", (long long)hf_jval_int(hf_jval_get(event, s->key_field)));
    hf_config_topic(cfg, s->family, rec->topic, sizeof rec->topic);
    return 0;
}
