#include "hf_openapi.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_config.h"

#define REF_SCHEMA "#/components/schemas/"

/* Every error code the intake answers with (intake/README.md). */
static const char *const error_codes[] = {
    "invalid_json", "invalid_field", "invalid_header", "unauthorized", "forbidden", "not_found",
    "method_not_allowed", "payload_too_large", "batch_too_large", "unsupported_media_type", "rate_limited",
    "unavailable", "batch_refused", "invalid_batch",
};

/* Integral bounds print as integers (0, not 0.0). */
static json_t *num(double x)
{
    if (x == floor(x) && fabs(x) < 9007199254740992.0)
        return json_integer((json_int_t)x);
    return json_real(x);
}

static json_t *ref(const char *kind, const char *name)
{
    char path[160];
    snprintf(path, sizeof path, "#/components/%s/%s", kind, name);
    return json_pack("{s:s}", "$ref", path);
}

static json_t *strings(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* The default of a configuration variable, as a number (the document shows
 * defaults; an operator who changes them changes the service, not the
 * contract's shape). */
static long config_default(const char *var)
{
    const char *name, *def, *doc;
    for (int i = 0; hf_config_describe(i, &name, &def, &doc) == 0; i++)
        if (strcmp(name, var) == 0)
            return strtol(def, NULL, 10);
    return 0;
}

/* ---------- schemas/ fields to JSON Schema ---------- */

static json_t *field_schema(const struct hf_field *f, const json_t *spec);

/* The per-value ranges of a field whose bounds depend on a sibling enum
 * ("value" by "kind"): one if/then per value of the sibling. */
static void add_ranges(json_t *obj, const struct hf_field *m)
{
    json_t *all = json_object_get(obj, "allOf");
    if (!all) {
        all = json_array();
        json_object_set_new(obj, "allOf", all);
    }
    for (size_t r = 0; r < m->n_ranges; r++) {
        json_t *when = json_pack("{s:{s:{s:s}}, s:[s]}", "properties", m->range_by, "const", m->ranges[r].when,
                                 "required", m->range_by);
        json_t *bounds = json_pack("{s:o, s:o}", "minimum", num(m->ranges[r].lo), "maximum", num(m->ranges[r].hi));
        json_t *then = json_pack("{s:{s:o}}", "properties", m->name, bounds);
        json_array_append_new(all, json_pack("{s:o, s:o}", "if", when, "then", then));
    }
}

/* Object members, required list and additionalProperties: false (the intake
 * rejects unknown fields). Extra (may be NULL) is merged in first: the
 * envelope of an event. */
static json_t *object_schema(const struct hf_field *f, const json_t *spec_fields, json_t *extra_props,
                             json_t *extra_required)
{
    json_t *props = extra_props ? extra_props : json_object();
    json_t *required = extra_required ? extra_required : json_array();
    json_t *obj = json_pack("{s:s}", "type", "object");
    for (size_t i = 0; i < f->n_fields; i++) {
        const struct hf_field *m = &f->fields[i];
        json_object_set_new(props, m->name, field_schema(m, json_object_get(spec_fields, m->name)));
        if (m->required)
            json_array_append_new(required, json_string(m->name));
        if (m->range_by)
            add_ranges(obj, m);
    }
    if (json_array_size(required))
        json_object_set_new(obj, "required", required);
    else
        json_decref(required);
    json_object_set_new(obj, "properties", props);
    json_object_set_new(obj, "additionalProperties", json_false());
    return obj;
}

static json_t *field_schema(const struct hf_field *f, const json_t *spec)
{
    static const char *const json_type[] = {
        [HF_T_STRING] = "string",  [HF_T_INTEGER] = "integer", [HF_T_NUMBER] = "number", [HF_T_BOOLEAN] = "boolean",
        [HF_T_TIMESTAMP] = "string", [HF_T_DATE] = "string",   [HF_T_UUID] = "string",   [HF_T_URL] = "string",
        [HF_T_ENUM] = "string",    [HF_T_ARRAY] = "array",     [HF_T_OBJECT] = "object",
    };
    static const char *const format[] = {
        [HF_T_TIMESTAMP] = "date-time", [HF_T_DATE] = "date", [HF_T_UUID] = "uuid", [HF_T_URL] = "uri",
    };
    json_t *s;
    if (f->type == HF_T_OBJECT)
        s = object_schema(f, json_object_get(spec, "fields"), NULL, NULL);
    else
        s = json_pack("{s:s}", "type", json_type[f->type]);
    if (f->type <= HF_T_URL && format[f->type])
        json_object_set_new(s, "format", json_string(format[f->type]));
    if (f->type == HF_T_URL)
        json_object_set_new(s, "pattern", json_string("^https://[^/\\s]\\S*$"));
    if (f->type == HF_T_ENUM)
        json_object_set_new(s, "enum", strings(f->values, f->n_values));
    if (f->type == HF_T_ARRAY)
        json_object_set_new(s, "items", field_schema(f->item, json_object_get(spec, "items")));
    const char *lo = "minimum", *hi = "maximum";
    if (f->type == HF_T_STRING || f->type == HF_T_URL) {
        lo = "minLength";
        hi = "maxLength";
    } else if (f->type == HF_T_ARRAY) {
        lo = "minItems";
        hi = "maxItems";
    }
    if (f->has_min)
        json_object_set_new(s, lo, num(f->min));
    if (f->has_max)
        json_object_set_new(s, hi, num(f->max));
    const char *description = json_string_value(json_object_get(spec, "description"));
    if (description)
        json_object_set_new(s, "description", json_string(description));
    return s;
}

/* ---------- events ---------- */

static void component_name(const struct hf_schema *s, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s.v%d", s->name, s->version);
}

/* One event type at one version: the envelope plus the schema's fields.
 * *example gets the schema's example with its envelope (a new reference). */
static int event_schema(const hf_schema_registry *reg, const struct hf_schema *s, json_t **out, json_t **example,
                        struct hf_err *err)
{
    json_error_t jerr;
    json_t *src = json_loads(s->source_json, 0, &jerr);
    if (!src)
        return hf_err_set(err, HF_EINVAL, false, "schema %s v%d: %s", s->name, s->version, jerr.text);
    const json_t *given = json_object_get(src, "example");
    if (!json_is_object(given)) {
        json_decref(src);
        return hf_err_set(err, HF_EINVAL, false, "schema %s v%d has no example object", s->name, s->version);
    }
    bool newest = hf_schema_latest(reg, s->name) == s;
    json_t *version = json_pack("{s:s, s:[i]}", "type", "integer", "enum", s->version);
    json_object_set_new(version, "description",
                        json_string(newest ? "the schema version; absent means the newest (this one)"
                                           : "the schema version; required, because absent means the newest"));
    json_t *props = json_pack(
        "{s:{s:s, s:s, s:s}, s:o, s:{s:s, s:s, s:s}}", "type", "type", "string", "const", s->name, "description",
        "the event type", "schema_version", version, "event_id", "type", "string", "format", "uuid", "description",
        "the event's id; absent: derived from Idempotency-Key (and the item's index in a batch), else random");
    json_t *required = json_pack(newest ? "[s]" : "[s, s]", "type", "schema_version");
    json_t *obj = object_schema(&s->root, json_object_get(src, "fields"), props, required);
    json_object_set_new(obj, "title", json_sprintf("%s v%d", s->name, s->version));
    json_object_set_new(obj, "description", json_string(s->description));
    *example = json_pack("{s:s}", "type", s->name);
    if (!newest)
        json_object_set_new(*example, "schema_version", json_integer(s->version));
    json_object_update(*example, (json_t *)given);
    json_object_set_new(obj, "examples", json_pack("[O]", *example));
    json_decref(src);
    *out = obj;
    return 0;
}

/* Event: oneOf every type apps may post, discriminated by "type". A type
 * with several versions maps to its own oneOf of them (told apart by
 * schema_version). Internal schemas are left out: the intake answers 403. */
static int add_events(const hf_schema_registry *reg, json_t *schemas, json_t *examples, struct hf_err *err)
{
    json_t *one_of = json_array(), *mapping = json_object();
    const struct hf_schema *s;
    for (size_t i = 0; (s = hf_schema_at(reg, i)); i++) {
        if (s->internal)
            continue;
        char name[128];
        component_name(s, name, sizeof name);
        json_t *obj = NULL, *example = NULL;
        int rc = event_schema(reg, s, &obj, &example, err);
        if (rc) {
            json_decref(one_of);
            json_decref(mapping);
            return rc;
        }
        json_object_set_new(schemas, name, obj);
        char summary[160];
        snprintf(summary, sizeof summary, "%s v%d", s->name, s->version);
        json_object_set_new(examples, name, json_pack("{s:s, s:o}", "summary", summary, "value", example));
        /* The registry is in (name, version) order: a type's versions are adjacent. */
        const struct hf_schema *next = hf_schema_at(reg, i + 1);
        bool first = i == 0 || strcmp(hf_schema_at(reg, i - 1)->name, s->name) != 0;
        bool last = !next || strcmp(next->name, s->name) != 0;
        if (first && last) {
            json_object_set_new(mapping, s->name, json_pack("s+", REF_SCHEMA, name));
            json_array_append_new(one_of, ref("schemas", name));
            continue;
        }
        json_t *versions = json_object_get(schemas, s->name);
        if (!versions) {
            versions = json_pack("{s:[], s:s}", "oneOf", "description", "every version of this event type");
            json_object_set_new(schemas, s->name, versions);
            json_object_set_new(mapping, s->name, json_pack("s+", REF_SCHEMA, s->name));
            json_array_append_new(one_of, ref("schemas", s->name));
        }
        json_array_append_new(json_object_get(versions, "oneOf"), ref("schemas", name));
    }
    json_object_set_new(schemas, "Event",
                        json_pack("{s:s, s:o, s:{s:s, s:o}}", "description",
                                  "One event: \"type\" chooses the schema; unknown fields are refused.", "oneOf",
                                  one_of, "discriminator", "propertyName", "type", "mapping", mapping));
    return 0;
}

/* ---------- bodies ---------- */

static void add_bodies(json_t *schemas)
{
    json_object_set_new(
        schemas, "ErrorDetail",
        json_pack("{s:s, s:[s, s], s:{s:{s:s, s:o}, s:{s:s}, s:{s:s, s:s}}, s:b}", "type", "object", "required", "code",
                  "message", "properties", "code", "type", "string", "enum",
                  strings(error_codes, sizeof error_codes / sizeof error_codes[0]), "message", "type", "string",
                  "field", "type", "string", "description",
                  "the offending input: a field path like items[2].grams, or a header name",
                  "additionalProperties", 0));
    json_object_set_new(schemas, "Error",
                        json_pack("{s:s, s:[s], s:{s:o}, s:b}", "type", "object", "required", "error", "properties",
                                  "error", ref("schemas", "ErrorDetail"), "additionalProperties", 0));
    json_object_set_new(schemas, "Accepted",
                        json_pack("{s:s, s:[s, s], s:{s:{s:s, s:s}, s:{s:s}}, s:b}", "type", "object", "required",
                                  "event_id", "status", "properties", "event_id", "type", "string", "format", "uuid",
                                  "status", "const", "accepted", "additionalProperties", 0));
    json_t *batch = json_pack("{s:s, s:o, s:i, s:i}", "type", "array", "items", ref("schemas", "Event"), "minItems", 1,
                              "maxItems", (int)config_default("HF_INTAKE_BATCH_MAX"));
    json_object_set_new(batch, "description",
                        json_string("At most HF_INTAKE_BATCH_MAX events (the default shown; more: 413). One refused "
                                    "event refuses the whole batch."));
    json_object_set_new(schemas, "Batch", batch);
    json_object_set_new(
        schemas, "ItemResult",
        json_pack("{s:s, s:[s, s], s:{s:{s:s, s:i}, s:{s:s, s:[i, i, i, i, i], s:s}, s:{s:s, s:s}, s:o}, s:b}", "type",
                  "object", "required", "index", "status", "properties", "index", "type", "integer", "minimum", 0,
                  "status", "type", "integer", "enum", 202, 400, 403, 409, 503, "description",
                  "202 accepted; 400/403 refused; 409 valid but refused with the rest of the batch; 503 not stored, "
                  "retry",
                  "event_id", "type", "string", "format", "uuid", "error", ref("schemas", "ErrorDetail"),
                  "additionalProperties", 0));
    json_object_set_new(schemas, "BatchResult",
                        json_pack("{s:s, s:[s, s, s], s:{s:{s:s, s:i}, s:{s:s, s:i}, s:{s:s, s:o}, s:o}, s:b}",
                                  "type", "object", "required", "accepted", "rejected", "results", "properties",
                                  "accepted", "type", "integer", "minimum", 0, "rejected", "type", "integer",
                                  "minimum", 0, "results", "type", "array", "items", ref("schemas", "ItemResult"),
                                  "error", ref("schemas", "ErrorDetail"), "additionalProperties", 0));
    json_object_set_new(schemas, "Status",
                        json_pack("{s:s, s:[s], s:{s:{s:s, s:[s, s]}}, s:b}", "type", "object", "required", "status",
                                  "properties", "status", "type", "string", "enum", "ok", "ready",
                                  "additionalProperties", 0));
}

/* The read bodies: built by PostgreSQL (common/hf_reads.c); stored JSON
 * documents (details, value, insights) are open objects. */
static void add_reads(json_t *schemas)
{
    static const char *const kinds[] = { "cycle", "symptoms", "energy", "mood" };
    json_object_set_new(
        schemas, "Adherence",
        json_pack("{s:s, s:[s, s, s, s, s], s:{s:{s:s}, s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:{s:s, s:[s, s, s, s], "
                  "s:{s:{s:s, s:s}, s:{s:s, s:i, s:i}, s:{s:s}, s:{s:s, s:s}}}}, s:{s:s, s:{s:s, s:[s, s, s, s, s], "
                  "s:{s:{s:s, s:s}, s:{s:s, s:i, s:i}, s:{s:s, s:i, s:i}, s:{s:s}, s:{s:s, s:s}}}}}}",
                  "type", "object", "required", "program_id", "from", "to", "days", "weeks", "properties",
                  "program_id", "type", "integer", "from", "type", "string", "format", "date", "to", "type",
                  "string", "format", "date", "days", "type", "array", "items", "type", "object", "required", "date",
                  "total_score", "details", "computed_at", "properties", "date", "type", "string", "format", "date",
                  "total_score", "type", "number", "minimum", 0, "maximum", 100, "details", "type", "object",
                  "computed_at", "type", "string", "format", "date-time", "weeks", "type", "array", "items", "type",
                  "object", "required", "week_start", "avg_score", "days_logged", "details", "computed_at",
                  "properties", "week_start", "type", "string", "format", "date", "avg_score", "type", "number",
                  "minimum", 0, "maximum", 100, "days_logged", "type", "integer", "minimum", 0, "maximum", 7,
                  "details", "type", "object", "computed_at", "type", "string", "format", "date-time"));
    json_object_set_new(
        schemas, "Predictions",
        json_pack("{s:s, s:[s, s], s:{s:{s:s}, s:{s:s, s:{s:s, s:[s, s, s, s, s, s], s:{s:{s:s, s:o}, s:{s:s}, "
                  "s:{s:s, s:s}, s:{}, s:{s:[s, s]}, s:{s:s, s:s}}}}}}",
                  "type", "object", "required", "member_id", "predictions", "properties", "member_id", "type",
                  "integer", "predictions", "type", "array", "items", "type", "object", "required", "kind", "target",
                  "predicted_for", "value", "model_id", "created_at", "properties", "kind", "type", "string", "enum",
                  strings(kinds, 4), "target", "type", "string", "predicted_for", "type", "string", "format", "date",
                  "value", "model_id", "type", "integer", "null", "created_at", "type", "string", "format",
                  "date-time"));
    json_object_set_new(
        schemas, "Insights",
        json_pack("{s:s, s:[s, s, s, s], s:{s:{s:s}, s:{s:s}, s:{s:s, s:s}, s:{s:s}}}", "type", "object", "required",
                  "member_id", "data_hash", "computed_at", "insights", "properties", "member_id", "type", "integer",
                  "data_hash", "type", "string", "computed_at", "type", "string", "format", "date-time", "insights",
                  "type", "object"));
    json_t *score = json_pack("{s:s, s:i, s:i}", "type", "number", "minimum", 0, "maximum", 100);
    json_object_set_new(
        schemas, "IngredientScore",
        json_pack("{s:s, s:[s, s, s, s, s, s, s, s, s], s:{s:{s:s}, s:O, s:O, s:O, s:O, s:O, s:{s:s, s:i, s:i}, "
                  "s:{s:s}, s:{s:s, s:s}}}",
                  "type", "object", "required", "name", "blood_sugar", "inflammation", "gut", "hormonal", "overall",
                  "confidence", "details", "scored_at", "properties", "name", "type", "string", "blood_sugar", score,
                  "inflammation", score, "gut", score, "hormonal", score, "overall", score, "confidence", "type",
                  "number", "minimum", 0, "maximum", 1, "details", "type", "object", "scored_at", "type", "string",
                  "format", "date-time"));
    json_decref(score);
    json_object_set_new(schemas, "IngredientScoring",
                        json_pack("{s:s, s:[s, s], s:{s:{s:s}, s:{s:s, s:[s]}}}", "type", "object", "required", "name",
                                  "status", "properties", "name", "type", "string", "status", "type", "string", "enum",
                                  "scoring"));
}

/* ---------- parameters, headers, responses ---------- */

static void add_parameters(json_t *c)
{
    json_t *p = json_object();
    json_object_set_new(
        p, "IdempotencyKey",
        json_pack("{s:s, s:s, s:b, s:s, s:{s:s, s:i, s:i}}", "name", "Idempotency-Key", "in", "header", "required", 0,
                  "description",
                  "Makes a retry harmless: events without event_id get ids derived from this key (per API key), so "
                  "the same request twice is one effect downstream.",
                  "schema", "type", "string", "minLength", 1, "maxLength", 255));
    json_object_set_new(p, "IfNoneMatch",
                        json_pack("{s:s, s:s, s:b, s:s, s:{s:s}}", "name", "If-None-Match", "in", "header",
                                  "required", 0, "description",
                                  "An ETag of an earlier answer (or a list, or *): 304 when it still matches.",
                                  "schema", "type", "string"));
    json_object_set_new(p, "MemberId",
                        json_pack("{s:s, s:s, s:b, s:s, s:{s:s, s:i}}", "name", "id", "in", "path", "required", 1,
                                  "description", "a member (person) of one of the API client's users", "schema",
                                  "type", "integer", "minimum", 1));
    json_object_set_new(p, "ProgramId",
                        json_pack("{s:s, s:s, s:b, s:s, s:{s:s, s:i}}", "name", "id", "in", "path", "required", 1,
                                  "description", "a care program of one of the API client's members", "schema",
                                  "type", "integer", "minimum", 1));
    json_object_set_new(c, "parameters", p);

    json_t *h = json_object();
    json_object_set_new(h, "RetryAfter",
                        json_pack("{s:s, s:b, s:{s:s, s:i}}", "description", "seconds to wait before retrying",
                                  "required", 1, "schema", "type", "integer", "minimum", 1));
    json_object_set_new(h, "ETag",
                        json_pack("{s:s, s:b, s:{s:s}}", "description",
                                  "fingerprint of the body; send it back in If-None-Match", "required", 1, "schema",
                                  "type", "string"));
    json_object_set_new(h, "CacheControl",
                        json_pack("{s:s, s:b, s:{s:s}}", "description", "private, no-cache: keep it, but revalidate",
                                  "required", 1, "schema", "type", "string"));
    json_object_set_new(h, "Warning",
                        json_pack("{s:s, s:b, s:{s:s}}", "description",
                                  "110 - \"Response is Stale\": older than a day or than the member's latest data; "
                                  "a refresh was asked, read again later",
                                  "required", 0, "schema", "type", "string"));
    json_object_set_new(c, "headers", h);
}

static json_t *error_response(const char *description, bool retry_after, const char *body)
{
    json_t *r = json_pack("{s:s, s:{s:{s:o}}}", "description", description, "content", "application/json", "schema",
                          ref("schemas", body));
    if (retry_after)
        json_object_set_new(r, "headers", json_pack("{s:o}", "Retry-After", ref("headers", "RetryAfter")));
    return r;
}

static void add_responses(json_t *c)
{
    json_t *r = json_object();
    json_object_set_new(r, "BadRequest",
                        error_response("invalid JSON, a field that breaks its schema (error.field names it), or a "
                                       "bad header or query argument",
                                       false, "Error"));
    json_object_set_new(r, "Unauthorized",
                        error_response("no Authorization: Bearer <API key>, or an unknown or revoked key", false,
                                       "Error"));
    json_object_set_new(r, "Forbidden",
                        error_response("an internal event type, a type outside the key's scopes, or a member or "
                                       "program not of this client",
                                       false, "Error"));
    json_object_set_new(r, "NotFound",
                        error_response("not one of this client's members or programs (whether it exists is not "
                                       "told), or no insights computed yet",
                                       false, "Error"));
    json_object_set_new(r, "PayloadTooLarge",
                        error_response("body larger than HF_INTAKE_MAX_BODY, or a batch longer than "
                                       "HF_INTAKE_BATCH_MAX",
                                       false, "Error"));
    json_object_set_new(r, "UnsupportedMediaType",
                        error_response("Content-Type is not application/json", false, "Error"));
    json_object_set_new(r, "RateLimited",
                        error_response("the API client's or the user's rate limit is spent", true, "Error"));
    json_object_set_new(r, "Unavailable",
                        error_response("PostgreSQL, Redis or Kafka cannot answer now; retry (with the same "
                                       "event_id or Idempotency-Key)",
                                       true, "Error"));
    json_object_set_new(c, "responses", r);
}

/* ---------- operations ---------- */

struct op_error {
    const char *status, *response;
};

static json_t *operation(const char *id, const char *tag, const char *summary, const char *description, bool secured,
                         const struct op_error *errors, size_t n_errors)
{
    json_t *op = json_pack("{s:s, s:[s], s:s, s:s, s:{}}", "operationId", id, "tags", tag, "summary", summary,
                           "description", description, "responses");
    if (!secured)
        json_object_set_new(op, "security", json_array());
    json_t *responses = json_object_get(op, "responses");
    for (size_t i = 0; i < n_errors; i++)
        json_object_set_new(responses, errors[i].status, ref("responses", errors[i].response));
    if (secured)
        json_object_set_new(responses, "401", ref("responses", "Unauthorized"));
    return op;
}

static json_t *json_response(const char *description, json_t *schema)
{
    return json_pack("{s:s, s:{s:{s:o}}}", "description", description, "content", "application/json", "schema",
                     schema);
}

static json_t *post_operation(const char *id, const char *summary, const char *description, json_t *body_schema,
                              json_t *examples, json_t *accepted)
{
    static const struct op_error errors[] = {
        { "400", "BadRequest" },        { "403", "Forbidden" },   { "413", "PayloadTooLarge" },
        { "415", "UnsupportedMediaType" }, { "429", "RateLimited" }, { "503", "Unavailable" },
    };
    json_t *op = operation(id, "events", summary, description, true, errors, sizeof errors / sizeof errors[0]);
    json_object_set_new(op, "parameters", json_pack("[o]", ref("parameters", "IdempotencyKey")));
    json_object_set_new(op, "requestBody",
                        json_pack("{s:b, s:{s:{s:o, s:o}}}", "required", 1, "content", "application/json", "schema",
                                  body_schema, "examples", examples));
    json_object_set_new(json_object_get(op, "responses"), "202", accepted);
    return op;
}

static json_t *read_operation(const char *id, const char *summary, const char *description, bool takes_query,
                              const char *body, bool may_be_stale)
{
    static const struct op_error errors[] = {
        { "400", "BadRequest" },
        { "404", "NotFound" },
        { "429", "RateLimited" },
        { "503", "Unavailable" },
    };
    /* Only reads with query arguments can answer 400. */
    size_t skip = takes_query ? 0 : 1;
    json_t *op = operation(id, "reads", summary, description, true, errors + skip, sizeof errors / sizeof errors[0] - skip);
    json_t *ok = json_response("the current answer", ref("schemas", body));
    json_t *headers = json_pack("{s:o, s:o}", "ETag", ref("headers", "ETag"), "Cache-Control",
                                ref("headers", "CacheControl"));
    if (may_be_stale)
        json_object_set_new(headers, "Warning", ref("headers", "Warning"));
    json_object_set_new(ok, "headers", headers);
    json_t *responses = json_object_get(op, "responses");
    json_object_set_new(responses, "200", ok);
    json_object_set_new(responses, "304",
                        json_pack("{s:s, s:{s:o, s:o}}", "description",
                                  "unchanged since the ETag in If-None-Match (no body)", "headers", "ETag",
                                  ref("headers", "ETag"), "Cache-Control", ref("headers", "CacheControl")));
    return op;
}

static json_t *query(const char *name, const char *description, json_t *schema)
{
    return json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", name, "in", "query", "required", 0, "description",
                     description, "schema", schema);
}

static void add_paths(json_t *doc, json_t *examples)
{
    json_t *paths = json_object();
    json_t *batch_examples = json_object();
    json_t *two = json_array();
    const char *key;
    json_t *value;
    json_object_foreach(examples, key, value) {
        if (json_array_size(two) < 2)
            json_array_append(two, json_object_get(value, "value"));
    }
    json_object_set_new(batch_examples, "two events",
                        json_pack("{s:s, s:o}", "summary", "a batch of two events", "value", two));

    json_t *accepted = json_response("Kafka has the event (acks=all); it will be processed",
                                     ref("schemas", "Accepted"));
    json_t *post = post_operation("postEvent", "Post one event",
                                  "Validated against the event type's schema, then written to Kafka keyed by member; "
                                  "202 once the broker acknowledged it.",
                                  ref("schemas", "Event"), json_incref(examples), accepted);
    json_object_set_new(paths, "/v1/events", json_pack("{s:o}", "post", post));

    json_t *batch_ok = json_response("every event is on Kafka", ref("schemas", "BatchResult"));
    json_t *batch = post_operation("postEventBatch", "Post a batch of events",
                                   "A JSON array of events, with a result per item. One refused event refuses the "
                                   "whole batch (status 400 or 403, the others 409): nothing is half-written.",
                                   ref("schemas", "Batch"), batch_examples, batch_ok);
    /* Refusals of items come with the per-item results. */
    json_t *br = json_object_get(batch, "responses");
    json_object_set_new(br, "400",
                        json_pack("{s:s, s:{s:{s:{s:[o, o]}}}}", "description",
                                  "invalid JSON, or some events refused (per-item results, nothing accepted)",
                                  "content", "application/json", "schema", "anyOf", ref("schemas", "BatchResult"),
                                  ref("schemas", "Error")));
    json_object_set_new(br, "403",
                        json_response("some events may not be posted by this key (per-item results, nothing "
                                      "accepted)",
                                      ref("schemas", "BatchResult")));
    json_t *unavailable = error_response("a dependency cannot answer now, or some events were not stored; retry "
                                         "the batch with the same Idempotency-Key",
                                         true, "Error");
    json_object_set_new(json_object_get(json_object_get(unavailable, "content"), "application/json"), "schema",
                        json_pack("{s:[o, o]}", "anyOf", ref("schemas", "BatchResult"), ref("schemas", "Error")));
    json_object_set_new(br, "503", unavailable);
    json_object_set_new(paths, "/v1/events/batch", json_pack("{s:o}", "post", batch));

    static const char *const kinds[] = { "cycle", "symptoms", "energy", "mood" };
    json_t *adh = read_operation("getProgramAdherence", "A program's adherence",
                                 "Daily scores of from..to (default: the 7 days to today, UTC; at most 92 days) and "
                                 "the weekly summaries of every week overlapping the range.",
                                 true, "Adherence", false);
    json_object_set_new(
        adh, "parameters",
        json_pack("[o, o, o, o]", ref("parameters", "ProgramId"), ref("parameters", "IfNoneMatch"),
                  query("from", "first day (default: 6 days before to)", json_pack("{s:s, s:s}", "type", "string", "format", "date")),
                  query("to", "last day (default: today, UTC)", json_pack("{s:s, s:s}", "type", "string", "format", "date"))));
    json_object_set_new(paths, "/v1/programs/{id}/adherence", json_pack("{s:o}", "get", adh));

    json_t *pred = read_operation("getMemberPredictions", "A member's current predictions",
                                  "The newest prediction per kind and target.", true, "Predictions", false);
    json_object_set_new(pred, "parameters",
                        json_pack("[o, o, o]", ref("parameters", "MemberId"), ref("parameters", "IfNoneMatch"),
                                  query("kind", "only this kind", json_pack("{s:s, s:o}", "type", "string", "enum", strings(kinds, 4)))));
    json_object_set_new(paths, "/v1/members/{id}/predictions", json_pack("{s:o}", "get", pred));

    json_t *ins = read_operation("getMemberInsights", "A member's insights",
                                 "Served stale (with Warning) while a refresh is computed; 404 and a refresh asked "
                                 "when none exist yet.",
                                 false, "Insights", true);
    json_object_set_new(ins, "parameters",
                        json_pack("[o, o]", ref("parameters", "MemberId"), ref("parameters", "IfNoneMatch")));
    json_object_set_new(paths, "/v1/members/{id}/insights", json_pack("{s:o}", "get", ins));

    json_t *ing = read_operation("getIngredientScore", "An ingredient's health scores",
                                 "002's scores of an ingredient by any spelling (normalised: lowercase, punctuation "
                                 "to spaces; an alias stands for its food). Not scored yet: 202, and a score is "
                                 "asked for; read again after Retry-After.",
                                 true, "IngredientScore", false);
    json_object_del(json_object_get(ing, "responses"), "404");
    json_t *pending = json_response("no score yet; one is being made", ref("schemas", "IngredientScoring"));
    json_object_set_new(pending, "headers", json_pack("{s:o}", "Retry-After", ref("headers", "RetryAfter")));
    json_object_set_new(json_object_get(ing, "responses"), "202", pending);
    json_object_set_new(ing, "parameters",
                        json_pack("[{s:s, s:s, s:b, s:s, s:{s:s, s:i, s:i}}, o]", "name", "name", "in", "path",
                                  "required", 1, "description",
                                  "the ingredient as people write it (\"Greek Yogurt!\"); 80 characters once "
                                  "normalised, with a letter or digit",
                                  "schema", "type", "string", "minLength", 1, "maxLength", 200,
                                  ref("parameters", "IfNoneMatch")));
    json_object_set_new(paths, "/v1/ingredients/{name}", json_pack("{s:o}", "get", ing));

    json_t *health = operation("getHealth", "operations", "Liveness", "200 while the process serves HTTP.", false,
                               NULL, 0);
    json_object_set_new(json_object_get(health, "responses"), "200",
                        json_response("alive", ref("schemas", "Status")));
    json_object_set_new(paths, "/healthz", json_pack("{s:o}", "get", health));

    static const struct op_error unready[] = { { "503", "Unavailable" } };
    json_t *ready = operation("getReady", "operations", "Readiness", "200 when PostgreSQL and Kafka answer.", false,
                              unready, 1);
    json_object_set_new(json_object_get(ready, "responses"), "200",
                        json_response("ready for traffic", ref("schemas", "Status")));
    json_object_set_new(paths, "/readyz", json_pack("{s:o}", "get", ready));

    json_t *metrics = operation("getMetrics", "operations", "Prometheus metrics", "The text exposition format.",
                                false, NULL, 0);
    json_object_set_new(json_object_get(metrics, "responses"), "200",
                        json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", "every metric of this process", "content",
                                  "text/plain", "schema", "type", "string"));
    json_object_set_new(paths, "/metrics", json_pack("{s:o}", "get", metrics));

    json_t *self = operation("getOpenApi", "operations", "This document",
                             "Generated from schemas/ at build time; the same as intake/openapi.json.", false, NULL,
                             0);
    json_object_set_new(json_object_get(self, "responses"), "200",
                        json_response("the OpenAPI document", json_pack("{s:s}", "type", "object")));
    json_object_set_new(paths, "/openapi.json", json_pack("{s:o}", "get", self));

    json_object_set_new(doc, "paths", paths);
}

static const char info_description[] =
    "The HTTP front door of healthfleet: apps post health events (validated against the schemas of the "
    "repository's schemas/, then written to Kafka) and read cached results.\n\n"
    "Every error is {\"error\":{\"code\",\"message\",\"field\"}} with field naming the offending input when "
    "there is one. A method an endpoint does not serve is 405 method_not_allowed; an unknown path 404 not_found. "
    "429 and 503 carry Retry-After. A JSON null in an optional field is the same as leaving it out.\n\n"
    "Generated by hf-openapi from the schemas built into the intake; served at GET /openapi.json.";

int hf_openapi_build(const hf_schema_registry *reg, json_t **out, struct hf_err *err)
{
    *out = NULL;
    json_t *doc = json_pack("{s:s, s:{s:s, s:s, s:s}, s:[{s:s, s:s}], s:[{s:[]}], s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}",
                            "openapi", "3.1.0", "info", "title", "healthfleet intake API", "version", "1",
                            "description", info_description, "servers", "url", "http://localhost:8080",
                            "description", "hf-intake on its default port (HF_INTAKE_PORT)", "security",
                            "bearerAuth", "tags", "name", "events", "description", "posting health events", "name",
                            "reads", "description", "cached reads of computed results", "name", "operations",
                            "description", "probes, metrics and this document");
    json_t *components = json_object(), *schemas = json_object(), *examples = json_object();
    if (!doc || !components || !schemas || !examples) {
        json_decref(doc);
        json_decref(components);
        json_decref(schemas);
        json_decref(examples);
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    }
    json_object_set_new(doc, "components", components);
    json_object_set_new(components, "securitySchemes",
                        json_pack("{s:{s:s, s:s, s:s}}", "bearerAuth", "type", "http", "scheme", "bearer",
                                  "description", "an API key: hfctl client create NAME prints one"));
    json_object_set_new(components, "schemas", schemas);
    int rc = add_events(reg, schemas, examples, err);
    if (rc)
        goto out;
    add_bodies(schemas);
    add_reads(schemas);
    add_parameters(components);
    add_responses(components);
    add_paths(doc, examples);
out:
    json_decref(examples);
    if (rc)
        json_decref(doc);
    else
        *out = doc;
    return rc;
}

int hf_openapi_render(const hf_schema_registry *reg, char **out, struct hf_err *err)
{
    *out = NULL;
    json_t *doc;
    int rc = hf_openapi_build(reg, &doc, err);
    if (rc)
        return rc;
    /* 15 digits: the examples' 36.62 stays 36.62. */
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    json_decref(doc);
    size_t n = text ? strlen(text) : 0;
    char *withnl = text ? realloc(text, n + 2) : NULL;
    if (!withnl) {
        free(text);
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    }
    withnl[n] = '\n';
    withnl[n + 1] = '\0';
    *out = withnl;
    return 0;
}
