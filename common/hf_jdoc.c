/* hf_jdoc: yajl's events built into one arena. Containers are collected on a
 * scratch stack while open and copied to the arena, contiguous, when they
 * close; so every value is written once and nothing is freed piecemeal. */
#include "hf_jdoc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "hf_utf8.h"

struct member;

struct hf_jval {
    enum hf_jtype type;
    size_t n; /* string length, or items / members */
    union {
        bool b;
        int64_t i;
        double d;
        const char *s;
        struct member *members; /* arrays too: their keys are NULL */
    } u;
};

/* A container's entry holds its value itself: one arena copy per
 * container, none per value. */
struct member {
    const char *key; /* NULL for an array item */
    size_t key_len;
    struct hf_jval value;
};

struct chunk {
    struct chunk *next;
    size_t used, size;
    max_align_t data[];
};

struct hf_jdoc {
    struct chunk *chunks;
    size_t next_chunk; /* size of the next chunk: twice the last, up to 1 MiB */
    hf_jval root;
};

static void *arena_alloc(hf_jdoc *doc, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    struct chunk *c = doc->chunks;
    if (!c || c->size - c->used < n) {
        size_t size = n > doc->next_chunk ? n : doc->next_chunk;
        if (!(c = malloc(sizeof *c + size)))
            return NULL;
        *c = (struct chunk){ doc->chunks, 0, size };
        doc->chunks = c;
        doc->next_chunk = size * 2 < (1u << 20) ? size * 2 : (1u << 20);
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

/* first_chunk: a guess of what the values will need, so that most
 * documents take one allocation. */
static hf_jdoc *doc_new(size_t first_chunk)
{
    hf_jdoc *doc = calloc(1, sizeof *doc);
    if (doc)
        doc->next_chunk = first_chunk < 1024 ? 1024 : first_chunk > (1u << 20) ? (1u << 20) : first_chunk;
    return doc;
}

void hf_jdoc_free(hf_jdoc *doc)
{
    if (!doc)
        return;
    for (struct chunk *c = doc->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(doc);
}

/* ---------- building from yajl's events ---------- */

struct frame {
    size_t first;    /* its first member on the scratch stack */
    bool is_object;
    const char *key; /* the key awaiting its value */
    size_t key_len;
};

struct builder {
    hf_jdoc *doc;
    struct member *scratch;
    size_t top, cap;
    struct frame frames[HF_JDOC_MAX_DEPTH];
    int depth;
    char why[160]; /* set when a callback stops the parse */
    yajl_handle h;
    size_t root_end; /* the byte after the root value */
    bool completing; /* inside yajl_complete_parse, which counts bytes from 0 again */
    size_t len;
};

static int stop(struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int stop(struct builder *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->why, sizeof b->why, fmt, ap);
    va_end(ap);
    return 0;
}

/* A string's or key's bytes into the arena, NUL-terminated, after checking
 * them in one pass: no NUL (from "\u0000"), strict UTF-8 (yajl's own check
 * lets overlong forms and surrogates through). */
static const char *copy_text(struct builder *b, const unsigned char *s, size_t n, const char *what)
{
    for (size_t i = 0, len; i < n; i += len) {
        if (s[i] == 0) {
            stop(b, "%s holds \\u0000, which is not allowed", what);
            return NULL;
        }
        if (!(len = s[i] < 0x80 ? 1 : hf_utf8_seq(s + i, n - i))) {
            stop(b, "%s is not valid UTF-8", what);
            return NULL;
        }
    }
    char *copy = arena_alloc(b->doc, n + 1);
    if (!copy) {
        stop(b, "out of memory");
        return NULL;
    }
    memcpy(copy, s, n);
    copy[n] = 0;
    return copy;
}

/* Places a finished value: into the open container, or as the root. */
static int put(struct builder *b, const hf_jval *v)
{
    if (b->depth == 0) {
        b->doc->root = *v;
        b->root_end = b->completing ? b->len : yajl_get_bytes_consumed(b->h);
        return 1;
    }
    struct frame *f = &b->frames[b->depth - 1];
    if (b->top == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        struct member *grown = realloc(b->scratch, cap * sizeof *grown);
        if (!grown)
            return stop(b, "out of memory");
        b->scratch = grown;
        b->cap = cap;
    }
    b->scratch[b->top++] = (struct member){ f->key, f->key_len, *v };
    f->key = NULL;
    return 1;
}

static int on_null(void *ctx)
{
    return put(ctx, &(hf_jval){ .type = HF_J_NULL });
}

static int on_bool(void *ctx, int value)
{
    return put(ctx, &(hf_jval){ .type = HF_J_BOOL, .u.b = value != 0 });
}

static int on_integer(void *ctx, long long value)
{
    return put(ctx, &(hf_jval){ .type = HF_J_INT, .u.i = value });
}

static int on_double(void *ctx, double value)
{
    return put(ctx, &(hf_jval){ .type = HF_J_REAL, .u.d = value });
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
    const char *copy = copy_text(ctx, s, n, "a string");
    return copy ? put(ctx, &(hf_jval){ .type = HF_J_STRING, .n = n, .u.s = copy }) : 0;
}

static int open_container(struct builder *b, bool is_object)
{
    if (b->depth == HF_JDOC_MAX_DEPTH)
        return stop(b, "nested deeper than %d levels", HF_JDOC_MAX_DEPTH);
    b->frames[b->depth++] = (struct frame){ b->top, is_object, NULL, 0 };
    return 1;
}

static int on_start_map(void *ctx)
{
    return open_container(ctx, true);
}

static int on_start_array(void *ctx)
{
    return open_container(ctx, false);
}

static int on_key(void *ctx, const unsigned char *s, size_t n)
{
    struct builder *b = ctx;
    struct frame *f = &b->frames[b->depth - 1];
    if (b->top - f->first == HF_JDOC_MAX_MEMBERS)
        return stop(b, "an object has more than %d members", HF_JDOC_MAX_MEMBERS);
    for (size_t i = f->first; i < b->top; i++)
        if (b->scratch[i].key_len == n && memcmp(b->scratch[i].key, s, n) == 0)
            return stop(b, "duplicate key \"%.*s\"", n > 64 ? 64 : (int)n, (const char *)s);
    if (!(f->key = copy_text(b, s, n, "a key")))
        return 0;
    f->key_len = n;
    return 1;
}

static int close_container(struct builder *b)
{
    struct frame *f = &b->frames[b->depth - 1];
    size_t n = b->top - f->first;
    struct member *members = n ? arena_alloc(b->doc, n * sizeof *members) : NULL;
    if (n && !members)
        return stop(b, "out of memory");
    if (n)
        memcpy(members, b->scratch + f->first, n * sizeof *members);
    b->top = f->first;
    hf_jval v = { .type = f->is_object ? HF_J_OBJECT : HF_J_ARRAY, .n = n, .u.members = members };
    b->depth--;
    return put(b, &v);
}

static int on_end(void *ctx)
{
    return close_container(ctx);
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_integer = on_integer,
    .yajl_double = on_double,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* yajl decodes a lone surrogate escape ("\ud800") to '?', and a high one
 * followed by any escape to some other character, where jansson refused
 * both. So escapes are checked first; most bodies have no backslash at all.
 * Returns the offset of the first bad escape, or len when there is none.
 * (A backslash outside a string is yajl's to refuse.) */
static size_t bad_surrogate(const char *text, size_t len)
{
    const char *p = memchr(text, '\\', len), *end = text + len;
    while (p && p + 1 < end) {
        if (p[1] != 'u' || end - p < 6) {
            p += 2;
        } else {
            int cp = hex4(p + 2);
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return (size_t)(p - text);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                int low = end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8) : -1;
                if (low < 0xDC00 || low > 0xDFFF)
                    return (size_t)(p - text);
                p += 6;
            }
            p += 6;
        }
        p = p < end ? memchr(p, '\\', (size_t)(end - p)) : NULL;
    }
    return len;
}

/* "line L, column C: why", from byte at (where the parse stopped). */
static int parse_error(struct hf_err *err, yajl_handle h, const struct builder *b, const char *text, size_t at)
{
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at; i++) {
        if (text[i] == '\n')
            line++, col = 1;
        else if (((unsigned char)text[i] & 0xC0) != 0x80)
            col++;
    }
    char why[200];
    if (b->why[0]) {
        snprintf(why, sizeof why, "%s", b->why);
    } else {
        unsigned char *msg = yajl_get_error(h, 0, NULL, 0);
        /* yajl says "parse error: premature EOF\n"; keep the reason only. */
        const char *reason = msg ? (const char *)msg : "malformed";
        const char *colon = strstr(reason, ": ");
        snprintf(why, sizeof why, "%s", colon ? colon + 2 : reason);
        why[strcspn(why, "\n")] = 0;
        if (msg)
            yajl_free_error(h, msg);
    }
    return hf_err_set(err, strcmp(why, "out of memory") ? HF_EINVAL : HF_ENOMEM, false, "line %zu, column %zu: %s",
                      line, col, why);
}

int hf_jdoc_parse(const char *text, size_t len, hf_jdoc **out, struct hf_err *err)
{
    *out = NULL;
    /* The values of a document take up to about four times its text. */
    struct builder b = { .doc = doc_new(len * 4 + 2048), .len = len };
    yajl_handle h = b.doc ? yajl_alloc(&callbacks, NULL, &b) : NULL;
    b.h = h;
    int rc = 0;
    if (!h) {
        rc = hf_err_set(err, HF_ENOMEM, false, "out of memory");
        goto out;
    }
    /* copy_text's check is stricter, so yajl's would be work done twice. */
    yajl_config(h, yajl_dont_validate_strings, 1);
    /* yajl takes vertical tab and form feed for white space; JSON does not,
     * and inside a string they are yajl's to refuse, so anywhere is wrong. */
    const char *vt = memchr(text, '\v', len), *ff = memchr(text, '\f', len);
    const char *blank = vt && (!ff || vt < ff) ? vt : ff;
    size_t bad = bad_surrogate(text, len);
    if (blank && (size_t)(blank - text) < bad) {
        snprintf(b.why, sizeof b.why, "invalid char in json text.");
        rc = parse_error(err, h, &b, text, (size_t)(blank - text));
        goto out;
    }
    if (bad < len) {
        snprintf(b.why, sizeof b.why, "\\u%.4s is half of a surrogate pair", text + bad + 2);
        rc = parse_error(err, h, &b, text, bad);
        goto out;
    }
    yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
    size_t at = yajl_get_bytes_consumed(h);
    if (st == yajl_status_ok) {
        b.completing = true;
        st = yajl_complete_parse(h);
        at = len; /* yajl counts from the end of what it was given */
    }
    if (st != yajl_status_ok) {
        rc = parse_error(err, h, &b, text, at > len ? len : at);
        goto out;
    }
    /* yajl misses trailing garbage that is the start of an unfinished token
     * ("{}\"x"): whatever follows the root must be white space. */
    size_t rest = b.root_end;
    while (rest < len && (text[rest] == ' ' || text[rest] == '\t' || text[rest] == '\n' || text[rest] == '\r'))
        rest++;
    if (rest < len) {
        snprintf(b.why, sizeof b.why, "trailing garbage");
        rc = parse_error(err, h, &b, text, rest);
        goto out;
    }
    *out = b.doc;
    b.doc = NULL;
out:
    if (h)
        yajl_free(h);
    free(b.scratch);
    hf_jdoc_free(b.doc);
    return rc;
}

/* ---------- copying a jansson value ---------- */

/* Fills *v with a copy of j; false when out of memory. */
static bool copy_json(hf_jdoc *doc, const json_t *j, hf_jval *v)
{
    *v = (hf_jval){ .type = HF_J_NULL };
    switch (json_typeof(j)) {
    case JSON_TRUE:
    case JSON_FALSE:
        *v = (hf_jval){ .type = HF_J_BOOL, .u.b = json_is_true(j) };
        return true;
    case JSON_INTEGER:
        *v = (hf_jval){ .type = HF_J_INT, .u.i = json_integer_value(j) };
        return true;
    case JSON_REAL:
        *v = (hf_jval){ .type = HF_J_REAL, .u.d = json_real_value(j) };
        return true;
    case JSON_STRING: {
        size_t n = json_string_length(j);
        char *s = arena_alloc(doc, n + 1);
        if (!s)
            return false;
        memcpy(s, json_string_value(j), n + 1);
        *v = (hf_jval){ .type = HF_J_STRING, .n = n, .u.s = s };
        return true;
    }
    case JSON_ARRAY:
    case JSON_OBJECT: {
        bool object = json_is_object(j);
        size_t n = object ? json_object_size(j) : json_array_size(j), i = 0;
        struct member *m = n ? arena_alloc(doc, n * sizeof *m) : NULL;
        if (n && !m)
            return false;
        *v = (hf_jval){ .type = object ? HF_J_OBJECT : HF_J_ARRAY, .n = n, .u.members = m };
        if (object) {
            const char *key;
            json_t *value;
            json_object_foreach((json_t *)j, key, value) {
                m[i] = (struct member){ .key = key, .key_len = strlen(key) };
                if (!copy_json(doc, value, &m[i++].value))
                    return false;
            }
        } else {
            for (; i < n; i++) {
                m[i] = (struct member){ .key = NULL };
                if (!copy_json(doc, json_array_get(j, i), &m[i].value))
                    return false;
            }
        }
        return true;
    }
    case JSON_NULL:
        return true;
    }
    return true;
}

hf_jdoc *hf_jdoc_from_json(const json_t *v)
{
    hf_jdoc *doc = doc_new(4096);
    if (doc && !copy_json(doc, v, &doc->root)) {
        hf_jdoc_free(doc);
        doc = NULL;
    }
    return doc;
}

/* ---------- reading ---------- */

const hf_jval *hf_jdoc_root(const hf_jdoc *doc)
{
    return &doc->root;
}

enum hf_jtype hf_jval_type(const hf_jval *v)
{
    return v ? v->type : HF_J_NULL;
}

bool hf_jval_true(const hf_jval *v)
{
    return v && v->type == HF_J_BOOL && v->u.b;
}

int64_t hf_jval_int(const hf_jval *v)
{
    return v && v->type == HF_J_INT ? v->u.i : 0;
}

double hf_jval_number(const hf_jval *v)
{
    return !v ? 0 : v->type == HF_J_INT ? (double)v->u.i : v->type == HF_J_REAL ? v->u.d : 0;
}

const char *hf_jval_str(const hf_jval *v, size_t *len)
{
    if (!v || v->type != HF_J_STRING)
        return NULL;
    if (len)
        *len = v->n;
    return v->u.s;
}

size_t hf_jval_size(const hf_jval *v)
{
    return v && (v->type == HF_J_ARRAY || v->type == HF_J_OBJECT) ? v->n : 0;
}

const hf_jval *hf_jval_at(const hf_jval *v, size_t i)
{
    return i < hf_jval_size(v) ? &v->u.members[i].value : NULL;
}

const char *hf_jval_key(const hf_jval *v, size_t i)
{
    return v && v->type == HF_J_OBJECT && i < v->n ? v->u.members[i].key : NULL;
}

const hf_jval *hf_jval_get(const hf_jval *v, const char *key)
{
    if (!v || v->type != HF_J_OBJECT)
        return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < v->n; i++)
        if (v->u.members[i].key_len == n && memcmp(v->u.members[i].key, key, n) == 0)
            return &v->u.members[i].value;
    return NULL;
}

bool hf_jval_equal(const hf_jval *a, const hf_jval *b)
{
    enum hf_jtype t = hf_jval_type(a);
    if (t != hf_jval_type(b))
        return false;
    switch (t) {
    case HF_J_NULL:
        return true;
    case HF_J_BOOL:
        return a->u.b == b->u.b;
    case HF_J_INT:
        return a->u.i == b->u.i;
    case HF_J_REAL:
        return a->u.d == b->u.d;
    case HF_J_STRING:
        return a->n == b->n && memcmp(a->u.s, b->u.s, a->n) == 0;
    case HF_J_ARRAY:
    case HF_J_OBJECT:
        if (a->n != b->n)
            return false;
        for (size_t i = 0; i < a->n; i++) {
            const struct member *x = &a->u.members[i], *y = &b->u.members[i];
            if (x->key_len != y->key_len || (x->key && memcmp(x->key, y->key, x->key_len) != 0) ||
                !hf_jval_equal(&x->value, &y->value))
                return false;
        }
        return true;
    }
    return false;
}
