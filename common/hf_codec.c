#include "hf_codec.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_time.h"
#include "hf_utf8.h"
#include "hf_uuid.h"

struct hf_doc {
    msgpack_zone zone;
    char *input; /* a copy of the decoded bytes: unpacked strings point into it */
    size_t input_cap;
    msgpack_object root;
    bool has_root;
    char event_id[HF_UUID_STRLEN];
};

/* Where a value sits in the event ("items[2].name"): a chain of frames on the
 * stack, rendered to text only when something is wrong, because formatting
 * every field's path for the rare error was a tenth of the intake's CPU. */
struct path {
    const struct path *up; /* NULL for the event itself */
    const char *name;      /* the member's name; NULL for an array item */
    size_t index;
};

static size_t path_text(const struct path *at, char *out, size_t outsz)
{
    if (!at) {
        out[0] = '\0';
        return 0;
    }
    size_t n = path_text(at->up, out, outsz);
    int w = at->name ? snprintf(out + n, outsz - n, n ? ".%s" : "%s", at->name)
                     : snprintf(out + n, outsz - n, "[%zu]", at->index);
    return w < 0 || (size_t)w >= outsz - n ? outsz - 1 : n + (size_t)w;
}

/* The error about the value at `at`: its path, then the rest of the sentence. */
__attribute__((format(printf, 3, 4))) static int fail(struct hf_err *err, const struct path *at, const char *fmt, ...)
{
    char path[160], rest[200];
    path_text(at, path, sizeof path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rest, sizeof rest, fmt, ap);
    va_end(ap);
    return hf_err_field(err, HF_EINVAL, path, "%s %s", *path ? path : "the event", rest);
}

/* ---------- validation of decoded values ---------- */

static const msgpack_object *map_get(const msgpack_object *map, const char *name, size_t name_len)
{
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == name_len && memcmp(k->via.str.ptr, name, name_len) == 0) {
            const msgpack_object *v = &map->via.map.ptr[i].val;
            return v->type == MSGPACK_OBJECT_NIL ? NULL : v;
        }
    }
    return NULL;
}

/* Counts the characters of well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing past U+10FFFF); returns (size_t)-1 for anything else,
 * so a malformed string can neither slip past maxLength nor reach JSONB. */
static size_t utf8_chars(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0, len; i < n; i += len, chars++)
        if (!(len = hf_utf8_seq((const unsigned char *)s + i, n - i)))
            return (size_t)-1;
    return chars;
}

static bool as_double(const msgpack_object *o, double *out)
{
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER: *out = (double)o->via.u64; return true;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *out = (double)o->via.i64; return true;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: *out = o->via.f64; return true;
    default: return false;
    }
}

static int validate_value(const struct hf_field *f, const msgpack_object *v, const struct path *at, struct hf_err *err);

static int validate_string(const struct hf_field *f, const msgpack_object *v, const struct path *at, struct hf_err *err)
{
    if (v->type != MSGPACK_OBJECT_STR)
        return fail(err, at, "must be a string (%s)", hf_ftype_name(f->type));
    const char *p = v->via.str.ptr;
    size_t n = v->via.str.size;
    if (memchr(p, '\0', n))
        return fail(err, at, "contains a NUL character");
    char buf[64];
    switch (f->type) {
    case HF_T_ENUM:
        for (size_t i = 0; i < f->n_values; i++)
            if (strlen(f->values[i]) == n && memcmp(f->values[i], p, n) == 0)
                return 0;
        {
            char allowed[512] = "";
            for (size_t i = 0; i < f->n_values; i++)
                snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s%s", i ? ", " : "",
                         f->values[i]);
            return fail(err, at, "must be one of: %s", allowed);
        }
    case HF_T_UUID:
    case HF_T_DATE:
        if (n >= sizeof buf)
            goto bad_format;
        memcpy(buf, p, n);
        buf[n] = '\0';
        if (f->type == HF_T_UUID ? !hf_uuid_valid(buf) : hf_time_parse_date(buf, &(int32_t){ 0 }) != 0)
            goto bad_format;
        return 0;
    case HF_T_URL:
        if (n < 9 || strncmp(p, "https://", 8) != 0 || p[8] == '/')
            return fail(err, at, "must be an https:// URL with a host");
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)p[i] <= 0x20 || p[i] == 0x7f)
                return fail(err, at, "must not contain spaces or control characters");
        break;
    default:
        break;
    }
    size_t chars = utf8_chars(p, n);
    if (chars == (size_t)-1)
        return fail(err, at, "is not valid UTF-8");
    if (f->has_max && chars > f->max)
        return fail(err, at, "is longer than %.0f characters", f->max);
    if (f->has_min && chars < f->min)
        return fail(err, at, "is shorter than %.0f characters", f->min);
    return 0;
bad_format:
    return fail(err, at, "must be a %s",
                        f->type == HF_T_UUID ? "UUID like 3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f"
                                             : "calendar date like 2026-11-20");
}

static int check_bounds(const struct hf_field *f, double x, const struct path *at, struct hf_err *err)
{
    if (f->has_min && x < f->min)
        return fail(err, at, "must be at least %g", f->min);
    if (f->has_max && x > f->max)
        return fail(err, at, "must be at most %g", f->max);
    return 0;
}

static int validate_object(const struct hf_field *f, const msgpack_object *v, const struct path *at, struct hf_err *err)
{
    if (v->type != MSGPACK_OBJECT_MAP)
        return fail(err, at, "must be an object");
    for (size_t i = 0; i < f->n_fields; i++) {
        const struct hf_field *m = &f->fields[i];
        const struct path here = { at, m->name, 0 };
        const msgpack_object *mv = map_get(v, m->name, strlen(m->name));
        if (!mv) {
            if (m->required)
                return fail(err, &here, "is required");
            continue;
        }
        int rc = validate_value(m, mv, &here, err);
        if (rc)
            return rc;
        if (!m->range_by)
            continue;
        const msgpack_object *by = map_get(v, m->range_by, strlen(m->range_by));
        double x;
        if (!by || by->type != MSGPACK_OBJECT_STR || !as_double(mv, &x))
            continue;
        for (size_t r = 0; r < m->n_ranges; r++)
            if (strlen(m->ranges[r].when) == by->via.str.size &&
                memcmp(m->ranges[r].when, by->via.str.ptr, by->via.str.size) == 0 &&
                (x < m->ranges[r].lo || x > m->ranges[r].hi))
                return fail(err, &here, "must be between %g and %g when %s is %s",
                                    m->ranges[r].lo, m->ranges[r].hi, m->range_by, m->ranges[r].when);
    }
    return 0;
}

static int validate_value(const struct hf_field *f, const msgpack_object *v, const struct path *at, struct hf_err *err)
{
    double x;
    switch (f->type) {
    case HF_T_STRING:
    case HF_T_ENUM:
    case HF_T_UUID:
    case HF_T_URL:
    case HF_T_DATE:
        return validate_string(f, v, at, err);
    case HF_T_INTEGER:
        if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER && v->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)
            return fail(err, at, "must be a whole number");
        if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 > INT64_MAX)
            return fail(err, at, "is too large");
        return check_bounds(f, (double)v->via.i64, at, err);
    case HF_T_NUMBER:
        if (!as_double(v, &x) || !isfinite(x))
            return fail(err, at, "must be a finite number");
        return check_bounds(f, x, at, err);
    case HF_T_BOOLEAN:
        if (v->type != MSGPACK_OBJECT_BOOLEAN)
            return fail(err, at, "must be true or false");
        return 0;
    case HF_T_TIMESTAMP:
        if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER && v->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)
            return fail(err, at, "must be a timestamp (int64 microseconds)");
        if ((v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 > (uint64_t)HF_TIME_MAX_US) ||
            (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && v->via.i64 < HF_TIME_MIN_US))
            return fail(err, at, "is outside years 1900 to 9999");
        return 0;
    case HF_T_ARRAY:
        if (v->type != MSGPACK_OBJECT_ARRAY)
            return fail(err, at, "must be an array");
        if (f->has_max && v->via.array.size > f->max)
            return fail(err, at, "has more than %.0f items", f->max);
        if (f->has_min && v->via.array.size < f->min)
            return fail(err, at, "has fewer than %.0f items", f->min);
        for (uint32_t i = 0; i < v->via.array.size; i++) {
            const struct path here = { at, NULL, i };
            int rc = validate_value(f->item, &v->via.array.ptr[i], &here, err);
            if (rc)
                return rc;
        }
        return 0;
    case HF_T_OBJECT:
        return validate_object(f, v, at, err);
    }
    return fail(err, at, "has an unknown type");
}

int hf_codec_validate(const struct hf_schema *s, const msgpack_object *root, struct hf_err *err)
{
    return validate_object(&s->root, root, NULL, err);
}

/* ---------- JSON to msgpack ---------- */

static bool skipped(const char *key, const char *const *skip)
{
    for (; skip && *skip; skip++)
        if (strcmp(key, *skip) == 0)
            return true;
    return false;
}

static int encode_value(const struct hf_field *f, const hf_jval *v, const struct path *at, msgpack_packer *pk,
                        struct hf_err *err);

static int encode_object(const struct hf_field *f, const hf_jval *obj, const char *const *skip, const char *event_id,
                         const struct path *at, msgpack_packer *pk, struct hf_err *err)
{
    if (hf_jval_type(obj) != HF_J_OBJECT)
        return fail(err, at, "must be an object");
    size_t n = hf_jval_size(obj), count = event_id ? 1 : 0;
    if (n > HF_JDOC_MAX_MEMBERS)
        return fail(err, at, "has more than %d members", HF_JDOC_MAX_MEMBERS);
    /* Each key is looked up once (string compares were a sixth of the
     * intake's encode): its field, or NULL when it is skipped or null. */
    const struct hf_field *fields[HF_JDOC_MAX_MEMBERS];
    for (size_t i = 0; i < n; i++) {
        const char *key = hf_jval_key(obj, i);
        fields[i] = NULL;
        if (skip && skipped(key, skip))
            continue;
        const struct path here = { at, key, 0 };
        const struct hf_field *m = hf_field_member(f, key);
        if (!m)
            return fail(err, &here, "is not a field of this event type");
        if (hf_jval_type(hf_jval_at(obj, i)) != HF_J_NULL)
            fields[i] = m, count++;
    }
    msgpack_pack_map(pk, count);
    if (event_id) {
        msgpack_pack_str_with_body(pk, "event_id", 8);
        msgpack_pack_str_with_body(pk, event_id, strlen(event_id));
    }
    for (size_t i = 0; i < n; i++) {
        if (!fields[i])
            continue;
        const struct path here = { at, fields[i]->name, 0 };
        msgpack_pack_str_with_body(pk, fields[i]->name, strlen(fields[i]->name));
        int rc = encode_value(fields[i], hf_jval_at(obj, i), &here, pk, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int encode_value(const struct hf_field *f, const hf_jval *v, const struct path *at, msgpack_packer *pk,
                        struct hf_err *err)
{
    int64_t us;
    size_t len;
    const char *text = hf_jval_str(v, &len);
    enum hf_jtype t = hf_jval_type(v);
    switch (f->type) {
    case HF_T_STRING:
    case HF_T_ENUM:
    case HF_T_UUID:
    case HF_T_URL:
    case HF_T_DATE:
        if (!text)
            return fail(err, at, "must be a string");
        return msgpack_pack_str_with_body(pk, text, len);
    case HF_T_TIMESTAMP:
        if (!text || hf_time_parse_rfc3339(text, &us) != 0)
            return fail(err, at, "must be an RFC 3339 timestamp like 2026-11-20T08:30:00Z");
        return msgpack_pack_int64(pk, us);
    case HF_T_INTEGER:
        if (t != HF_J_INT)
            return fail(err, at, "must be a whole number");
        return msgpack_pack_int64(pk, hf_jval_int(v));
    case HF_T_NUMBER:
        if (t != HF_J_INT && t != HF_J_REAL)
            return fail(err, at, "must be a number");
        return msgpack_pack_double(pk, hf_jval_number(v));
    case HF_T_BOOLEAN:
        if (t != HF_J_BOOL)
            return fail(err, at, "must be true or false");
        return hf_jval_true(v) ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    case HF_T_ARRAY: {
        if (t != HF_J_ARRAY)
            return fail(err, at, "must be an array");
        size_t n = hf_jval_size(v);
        /* Checked here, before packing, so a huge array costs nothing. */
        if (f->has_max && n > f->max)
            return fail(err, at, "has more than %.0f items", f->max);
        msgpack_pack_array(pk, n);
        for (size_t i = 0; i < n; i++) {
            const struct path here = { at, NULL, i };
            const hf_jval *item = hf_jval_at(v, i);
            if (hf_jval_type(item) == HF_J_NULL)
                return fail(err, &here, "must not be null");
            int rc = encode_value(f->item, item, &here, pk, err);
            if (rc)
                return rc;
        }
        return 0;
    }
    case HF_T_OBJECT:
        return encode_object(f, v, NULL, NULL, at, pk, err);
    }
    return fail(err, at, "has an unknown type");
}

int hf_codec_encode(const struct hf_schema *s, const hf_jval *obj, const char *const *skip, const char *event_id,
                    msgpack_sbuffer *out, struct hf_err *err)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    size_t start = out->size;
    int rc = encode_object(&s->root, obj, skip, event_id, NULL, &pk, err);
    if (rc)
        return rc == HF_EINVAL ? rc : hf_err_set(err, HF_ENOMEM, false, "out of memory while encoding");
    msgpack_zone zone;
    if (!msgpack_zone_init(&zone, 2048))
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    msgpack_object root;
    size_t off = 0;
    if (msgpack_unpack(out->data + start, out->size - start, &off, &zone, &root) != MSGPACK_UNPACK_SUCCESS)
        rc = hf_err_set(err, HF_EIO, false, "encoder produced unreadable msgpack");
    else
        rc = hf_codec_validate(s, &root, err);
    msgpack_zone_destroy(&zone);
    return rc;
}

int hf_codec_encode_json(const struct hf_schema *s, const json_t *obj, const char *const *skip, const char *event_id,
                         msgpack_sbuffer *out, struct hf_err *err)
{
    hf_jdoc *doc = hf_jdoc_from_json(obj);
    int rc = doc ? hf_codec_encode(s, hf_jdoc_root(doc), skip, event_id, out, err)
                 : hf_err_set(err, HF_ENOMEM, false, "out of memory");
    hf_jdoc_free(doc);
    return rc;
}

/* ---------- decoding into a reusable doc ---------- */

hf_doc *hf_doc_new(void)
{
    hf_doc *doc = calloc(1, sizeof *doc);
    if (doc && !msgpack_zone_init(&doc->zone, 4096)) {
        free(doc);
        return NULL;
    }
    return doc;
}

void hf_doc_free(hf_doc *doc)
{
    if (!doc)
        return;
    msgpack_zone_destroy(&doc->zone);
    free(doc->input);
    free(doc);
}

/* Big-endian unsigned integer of n bytes at p. */
static size_t be(const uint8_t *p, int n)
{
    size_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Walks the first msgpack document in p without allocating, and says whether
 * it is complete and every container and string fits in the bytes that follow
 * it (trailing bytes are left for msgpack_unpack to report). msgpack-c allocates a container's declared size before reading
 * it, so 5 bytes claiming a map of 4 billion pairs would ask for 64 GiB (found
 * by tests/fuzz). Each element takes at least one byte, which bounds honest
 * counts by the bytes left. */
static bool msgpack_plausible(const uint8_t *p, size_t len)
{
    size_t pos = 0, pending = 1; /* elements still to read */
    while (pending > 0) {
        if (pos >= len)
            return false;
        uint8_t t = p[pos++];
        pending--;
        size_t items = 0, skip = 0;
        if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) {
            /* fixint, nil, false, true */
        } else if (t >= 0x80 && t <= 0x8f) {
            items = 2 * (size_t)(t & 0x0f);
        } else if (t >= 0x90 && t <= 0x9f) {
            items = t & 0x0f;
        } else if (t >= 0xa0 && t <= 0xbf) {
            skip = t & 0x1f;
        } else {
            /* width of the length or value that follows, and what it means */
            int w = 0;
            bool is_len = false, is_count = false, is_map = false, ext = false;
            switch (t) {
            case 0xc4: case 0xd9: w = 1; is_len = true; break; /* bin8, str8 */
            case 0xc5: case 0xda: w = 2; is_len = true; break;
            case 0xc6: case 0xdb: w = 4; is_len = true; break;
            case 0xc7: w = 1; is_len = ext = true; break; /* ext8: length, then a type byte */
            case 0xc8: w = 2; is_len = ext = true; break;
            case 0xc9: w = 4; is_len = ext = true; break;
            case 0xca: skip = 4; break; /* float32 */
            case 0xcb: skip = 8; break;
            case 0xcc: case 0xd0: skip = 1; break;
            case 0xcd: case 0xd1: skip = 2; break;
            case 0xce: case 0xd2: skip = 4; break;
            case 0xcf: case 0xd3: skip = 8; break;
            case 0xd4: skip = 2; break; /* fixext 1..16: type byte and data */
            case 0xd5: skip = 3; break;
            case 0xd6: skip = 5; break;
            case 0xd7: skip = 9; break;
            case 0xd8: skip = 17; break;
            case 0xdc: w = 2; is_count = true; break; /* array16 */
            case 0xdd: w = 4; is_count = true; break;
            case 0xde: w = 2; is_count = is_map = true; break; /* map16 */
            case 0xdf: w = 4; is_count = is_map = true; break;
            default: return false; /* 0xc1 is never used */
            }
            if (w) {
                if (len - pos < (size_t)w)
                    return false;
                size_t n = be(p + pos, w);
                pos += (size_t)w;
                if (is_len)
                    skip = n + (ext ? 1 : 0);
                if (is_count)
                    items = is_map ? 2 * n : n;
            }
        }
        if (skip > len - pos || items > len - pos)
            return false;
        pos += skip;
        pending += items;
    }
    return true;
}

int hf_codec_decode(hf_doc *doc, const struct hf_schema *s, const void *data, size_t len, struct hf_err *err)
{
    msgpack_zone_clear(&doc->zone);
    doc->has_root = false;
    doc->event_id[0] = '\0';
    if (len > doc->input_cap) {
        char *grown = realloc(doc->input, len);
        if (!grown)
            return hf_err_set(err, HF_ENOMEM, true, "out of memory");
        doc->input = grown;
        doc->input_cap = len;
    }
    if (len)
        memcpy(doc->input, data, len);
    if (!msgpack_plausible(data, len))
        return hf_err_field(err, HF_EINVAL, "", "value is not a complete msgpack document (malformed or truncated)");
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack(doc->input, len, &off, &doc->zone, &doc->root);
    if (ur != MSGPACK_UNPACK_SUCCESS)
        return hf_err_field(err, HF_EINVAL, "", "value is not a complete msgpack document (%s)",
                            ur == MSGPACK_UNPACK_EXTRA_BYTES ? "trailing bytes" : "malformed or truncated");
    if (doc->root.type != MSGPACK_OBJECT_MAP)
        return hf_err_field(err, HF_EINVAL, "", "value must be a msgpack map");
    doc->has_root = true;
    const msgpack_object *id = map_get(&doc->root, "event_id", 8);
    if (id && id->type == MSGPACK_OBJECT_STR && id->via.str.size == 36) {
        memcpy(doc->event_id, id->via.str.ptr, 36);
        doc->event_id[36] = '\0';
        if (!hf_uuid_valid(doc->event_id))
            doc->event_id[0] = '\0';
        hf_uuid_normalise(doc->event_id); /* one id, one spelling: claims compare text */
    }
    return hf_codec_validate(s, &doc->root, err);
}

const char *hf_doc_event_id(const hf_doc *doc)
{
    return doc->event_id[0] ? doc->event_id : NULL;
}

const msgpack_object *hf_doc_get(const hf_doc *doc, const char *name)
{
    return doc->has_root ? map_get(&doc->root, name, strlen(name)) : NULL;
}

static json_t *value_to_json(const struct hf_field *f, const msgpack_object *v)
{
    char text[48];
    switch (f->type) {
    case HF_T_TIMESTAMP:
        hf_time_format_rfc3339(v->via.i64, text, sizeof text);
        return json_string(text);
    case HF_T_INTEGER:
        return json_integer(v->via.i64);
    case HF_T_NUMBER: {
        double x = 0;
        as_double(v, &x);
        return json_real(x);
    }
    case HF_T_BOOLEAN:
        return json_boolean(v->via.boolean);
    case HF_T_ARRAY: {
        json_t *a = json_array();
        for (uint32_t i = 0; a && i < v->via.array.size; i++)
            json_array_append_new(a, value_to_json(f->item, &v->via.array.ptr[i]));
        return a;
    }
    case HF_T_OBJECT: {
        json_t *o = json_object();
        for (size_t i = 0; o && i < f->n_fields; i++) {
            const msgpack_object *m = map_get(v, f->fields[i].name, strlen(f->fields[i].name));
            if (m)
                json_object_set_new(o, f->fields[i].name, value_to_json(&f->fields[i], m));
        }
        return o;
    }
    default:
        return json_stringn(v->via.str.ptr, v->via.str.size);
    }
}

json_t *hf_doc_to_json(const hf_doc *doc, const struct hf_schema *s)
{
    return doc->has_root ? value_to_json(&s->root, &doc->root) : NULL;
}

int hf_doc_bind(const hf_doc *doc, const struct hf_bind *binds, size_t n, void *dst, struct hf_err *err)
{
    char *base = dst;
    for (size_t i = 0; i < n; i++) {
        const struct hf_bind *b = &binds[i];
        const msgpack_object *v = hf_doc_get(doc, b->name);
        if (!v) {
            if (b->has_offset < 0)
                return hf_err_field(err, HF_EINVAL, b->name, "%s is required", b->name);
            static const size_t width[] = { [HF_B_INT] = sizeof(int64_t), [HF_B_NUM] = sizeof(double),
                                            [HF_B_BOOL] = sizeof(bool), [HF_B_STR] = sizeof(const char *),
                                            [HF_B_TIMESTAMP] = sizeof(int64_t), [HF_B_DATE] = sizeof(int32_t),
                                            [HF_B_RAW] = sizeof(const msgpack_object *) };
            memset(base + b->offset, 0, width[b->type]);
            *(bool *)(base + b->has_offset) = false;
            continue;
        }
        void *slot = base + b->offset;
        double x;
        switch (b->type) {
        case HF_B_INT:
        case HF_B_TIMESTAMP:
            if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER && v->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)
                return hf_err_field(err, HF_EINVAL, b->name, "%s must be an integer", b->name);
            *(int64_t *)slot = v->via.i64;
            break;
        case HF_B_NUM:
            if (!as_double(v, &x))
                return hf_err_field(err, HF_EINVAL, b->name, "%s must be a number", b->name);
            *(double *)slot = x;
            break;
        case HF_B_BOOL:
            if (v->type != MSGPACK_OBJECT_BOOLEAN)
                return hf_err_field(err, HF_EINVAL, b->name, "%s must be a boolean", b->name);
            *(bool *)slot = v->via.boolean;
            break;
        case HF_B_STR:
        case HF_B_DATE: {
            if (v->type != MSGPACK_OBJECT_STR)
                return hf_err_field(err, HF_EINVAL, b->name, "%s must be a string", b->name);
            char *s = msgpack_zone_malloc((msgpack_zone *)&doc->zone, v->via.str.size + 1);
            if (!s)
                return hf_err_set(err, HF_ENOMEM, true, "out of memory");
            memcpy(s, v->via.str.ptr, v->via.str.size);
            s[v->via.str.size] = '\0';
            if (b->type == HF_B_STR)
                *(const char **)slot = s;
            else if (hf_time_parse_date(s, (int32_t *)slot) != 0)
                return hf_err_field(err, HF_EINVAL, b->name, "%s must be a date", b->name);
            break;
        }
        case HF_B_RAW:
            *(const msgpack_object **)slot = v;
            break;
        }
        if (b->has_offset >= 0)
            *(bool *)(base + b->has_offset) = true;
    }
    return 0;
}

static bool bind_fits(enum hf_btype b, enum hf_ftype t)
{
    switch (b) {
    case HF_B_INT: return t == HF_T_INTEGER;
    case HF_B_NUM: return t == HF_T_NUMBER || t == HF_T_INTEGER;
    case HF_B_BOOL: return t == HF_T_BOOLEAN;
    case HF_B_STR: return t == HF_T_STRING || t == HF_T_ENUM || t == HF_T_UUID || t == HF_T_URL || t == HF_T_DATE;
    case HF_B_TIMESTAMP: return t == HF_T_TIMESTAMP;
    case HF_B_DATE: return t == HF_T_DATE;
    case HF_B_RAW: return t == HF_T_ARRAY || t == HF_T_OBJECT;
    }
    return false;
}

int hf_bind_check(const struct hf_schema *s, const struct hf_bind *binds, size_t n, struct hf_err *err)
{
    for (size_t i = 0; i < n; i++) {
        const struct hf_field *f = hf_field_member(&s->root, binds[i].name);
        if (!f)
            return hf_err_set(err, HF_ECONFLICT, false, "%s v%d has no field %s", s->name, s->version, binds[i].name);
        if (!bind_fits(binds[i].type, f->type))
            return hf_err_set(err, HF_ECONFLICT, false, "%s v%d: %s is %s, bound as another type", s->name,
                              s->version, binds[i].name, hf_ftype_name(f->type));
        if (binds[i].has_offset < 0 && !f->required)
            return hf_err_set(err, HF_ECONFLICT, false, "%s v%d: %s is optional but bound as required", s->name,
                              s->version, binds[i].name);
    }
    return 0;
}
