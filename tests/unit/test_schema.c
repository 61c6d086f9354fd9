/* Unit tests of common/hf_schema: the built-in registry, rejection of
 * malformed schema files, hf_schema_compatible, and the compatibility lock.
 *
 * THE COMPATIBILITY LOCK (test_schema_lock)
 * Every built-in schema schemas/<name>.v<N>.json has a snapshot
 * tests/unit/schema_lock/<name>.v<N>.json: the last reviewed text of that
 * version. The test compares the two and fails with one line per problem:
 *
 *  - "has no snapshot": you added a schema or a new version. Add its snapshot:
 *        cp schemas/<name>.v<N>.json tests/unit/schema_lock/
 *  - "changed compatibly since its snapshot": your edit is allowed within the
 *    version (an optional field added, a bound widened, an enum value added,
 *    a description or example edited). Refresh the snapshot in the same commit:
 *        cp schemas/<name>.v<N>.json tests/unit/schema_lock/
 *    (The refresh matters: later edits must stay compatible with what
 *    producers may already send, not only with the first text.)
 *  - "is NOT compatible with its snapshot": messages of this version already
 *    exist that readers of your edit would reject, or the reverse. Undo the
 *    edit in schemas/<name>.v<N>.json and put the change in a new file
 *    schemas/<name>.v<N+1>.json (plus its snapshot); both versions stay until
 *    every producer has moved. Never edit a snapshot to make this pass.
 *  - "has no built-in schema": a version was deleted from schemas/. Delete its
 *    snapshot too, but only once no producer sends it and no topic holds it.
 */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hf_schema.h"
#include "unit_util.h"

#define LOCK_DIR HF_SOURCE_DIR "/tests/unit/schema_lock"

static hf_schema_registry *builtin(void)
{
    hf_schema_registry *reg = NULL;
    struct hf_err err = { 0 };
    int rc = hf_schema_registry_new(&reg, &err);
    ck_assert_msg(rc == 0, "built-in schemas do not load: %s", err.msg);
    ck_assert_ptr_nonnull(reg);
    return reg;
}

static size_t registry_size(const hf_schema_registry *reg)
{
    size_t n = 0;
    while (hf_schema_at(reg, n))
        n++;
    return n;
}

/* ---------------------------------------------------------------- registry */

/* The schemas shipped today, in (name, version) order. Adding a schema means
 * adding a row here (and a snapshot, see the top of the file). */
static const struct {
    const char *name;
    int version;
    const char *family, *key;
    bool internal;
} BUILTIN[] = {
    { "biometric.reading", 1, "biometrics", "member_id", false },
    { "cache.invalidate", 1, "cache.invalidate", "entity_id", true },
    { "cycle.period", 1, "cycles", "member_id", false },
    { "job.adherence_recalc", 1, "jobs.adherence", "program_id", true },
    { "job.adherence_weekly", 1, "jobs.adherence", "program_id", true },
    { "job.cache_warm", 1, "jobs.cache", "member_id", true },
    { "job.ingredient_score", 1, "jobs.ingredients", "name", true },
    { "job.insight_refresh", 1, "jobs.insights", "member_id", true },
    { "job.maintenance", 1, "jobs.maintenance", "shard", true },
    { "job.meal_analyze", 1, "jobs.meals", "member_id", true },
    { "job.retrain", 1, "jobs.retrain", "member_id", true },
    { "log.nutrition", 1, "logs", "member_id", false },
    { "log.symptom", 1, "logs", "member_id", false },
    { "log.workout", 1, "logs", "member_id", false },
    { "meal.photo_uploaded", 1, "meals", "member_id", false },
};
#define N_BUILTIN (sizeof BUILTIN / sizeof BUILTIN[0])

START_TEST(test_builtin_loads)
{
    hf_schema_registry *reg = builtin();
    ck_assert_uint_eq(registry_size(reg), N_BUILTIN);
    for (size_t i = 0; i < N_BUILTIN; i++) {
        const struct hf_schema *s = hf_schema_at(reg, i);
        ck_assert_ptr_nonnull(s);
        ck_assert_str_eq(s->name, BUILTIN[i].name);
        ck_assert_int_eq(s->version, BUILTIN[i].version);
        ck_assert_str_eq(s->family, BUILTIN[i].family);
        ck_assert_str_eq(s->key_field, BUILTIN[i].key);
        ck_assert_msg(s->internal == BUILTIN[i].internal, "%s internal flag", s->name);
        ck_assert_msg(s->description && strlen(s->description) > 10, "%s has a description", s->name);
        ck_assert_ptr_nonnull(s->source_json);
        ck_assert_msg(strstr(s->source_json, s->name) != NULL, "%s source_json is its own file", s->name);
        ck_assert_int_eq(s->root.type, HF_T_OBJECT);
        ck_assert_uint_gt(s->root.n_fields, 0);
        const struct hf_field *key = hf_field_member(&s->root, s->key_field);
        ck_assert_ptr_nonnull(key);
        ck_assert(key->required);
        if (key->type == HF_T_STRING) { /* an ingredient's name */
            ck_assert(key->has_max && key->max <= 200);
        } else {
            ck_assert_int_eq(key->type, HF_T_INTEGER);
            ck_assert(key->has_min);
            ck_assert_double_le(key->min, 1); /* ids from 1; job.maintenance's shard from 0 */
        }
    }
    ck_assert_ptr_null(hf_schema_at(reg, N_BUILTIN));
    hf_schema_registry_free(reg);
}
END_TEST

START_TEST(test_builtin_field_details)
{
    hf_schema_registry *reg = builtin();

    const struct hf_schema *n = hf_schema_find(reg, "log.nutrition", 1);
    ck_assert_ptr_nonnull(n);
    ck_assert_uint_eq(n->root.n_fields, 12);
    const struct hf_field *cal = hf_field_member(&n->root, "calories");
    ck_assert_ptr_nonnull(cal);
    ck_assert_str_eq(cal->name, "calories");
    ck_assert_int_eq(cal->type, HF_T_NUMBER);
    ck_assert(cal->required);
    ck_assert(cal->has_min && cal->has_max);
    ck_assert_double_eq(cal->min, 0);
    ck_assert_double_eq(cal->max, 10000);
    const struct hf_field *prog = hf_field_member(&n->root, "program_id");
    ck_assert(!prog->required);
    const struct hf_field *meal = hf_field_member(&n->root, "meal");
    ck_assert_int_eq(meal->type, HF_T_ENUM);
    ck_assert_uint_eq(meal->n_values, 5);
    ck_assert_str_eq(meal->values[0], "breakfast");
    ck_assert_str_eq(meal->values[4], "drink");
    const struct hf_field *items = hf_field_member(&n->root, "items");
    ck_assert_int_eq(items->type, HF_T_ARRAY);
    ck_assert(items->has_max && !items->has_min);
    ck_assert_double_eq(items->max, 50);
    ck_assert_ptr_nonnull(items->item);
    ck_assert_int_eq(items->item->type, HF_T_OBJECT);
    ck_assert_uint_eq(items->item->n_fields, 2);
    const struct hf_field *iname = hf_field_member(items->item, "name");
    ck_assert_int_eq(iname->type, HF_T_STRING);
    ck_assert(iname->required);
    ck_assert_double_eq(iname->min, 1);
    ck_assert_double_eq(iname->max, 120);
    ck_assert_ptr_null(hf_field_member(&n->root, "nope"));
    ck_assert_ptr_null(hf_field_member(&n->root, "calorie"));

    const struct hf_schema *b = hf_schema_find(reg, "biometric.reading", 1);
    const struct hf_field *value = hf_field_member(&b->root, "value");
    ck_assert_str_eq(value->range_by, "kind");
    ck_assert_uint_eq(value->n_ranges, 11);
    ck_assert_str_eq(value->ranges[0].when, "basal_temp_c");
    ck_assert_double_eq(value->ranges[0].lo, 34);
    ck_assert_double_eq(value->ranges[0].hi, 42);
    ck_assert_str_eq(value->ranges[6].when, "steps");
    ck_assert_double_eq(value->ranges[6].hi, 200000);
    ck_assert_uint_eq(hf_field_member(&b->root, "kind")->n_values, 11);

    const struct hf_schema *m = hf_schema_find(reg, "meal.photo_uploaded", 1);
    const struct hf_field *url = hf_field_member(&m->root, "image_url");
    ck_assert_int_eq(url->type, HF_T_URL);
    ck_assert(url->required);
    ck_assert_double_eq(url->max, 2048);

    const struct hf_schema *sy = hf_schema_find(reg, "log.symptom", 1);
    const struct hf_field *symptoms = hf_field_member(&sy->root, "symptoms");
    ck_assert_int_eq(symptoms->type, HF_T_OBJECT);
    ck_assert(symptoms->required);
    ck_assert_uint_eq(symptoms->n_fields, 9);
    const struct hf_field *bloating = hf_field_member(symptoms, "bloating");
    ck_assert_int_eq(bloating->type, HF_T_INTEGER);
    ck_assert_double_eq(bloating->max, 5);
    const struct hf_field *ingr = hf_field_member(&sy->root, "ingredients");
    ck_assert_int_eq(ingr->item->type, HF_T_STRING);
    ck_assert_double_eq(ingr->item->max, 80);

    const struct hf_schema *c = hf_schema_find(reg, "cycle.period", 1);
    ck_assert_int_eq(hf_field_member(&c->root, "start_date")->type, HF_T_DATE);
    ck_assert_int_eq(hf_field_member(&c->root, "occurred_at")->type, HF_T_TIMESTAMP);
    hf_schema_registry_free(reg);
}
END_TEST

START_TEST(test_ftype_names)
{
    ck_assert_str_eq(hf_ftype_name(HF_T_STRING), "string");
    ck_assert_str_eq(hf_ftype_name(HF_T_INTEGER), "integer");
    ck_assert_str_eq(hf_ftype_name(HF_T_NUMBER), "number");
    ck_assert_str_eq(hf_ftype_name(HF_T_BOOLEAN), "boolean");
    ck_assert_str_eq(hf_ftype_name(HF_T_TIMESTAMP), "timestamp");
    ck_assert_str_eq(hf_ftype_name(HF_T_DATE), "date");
    ck_assert_str_eq(hf_ftype_name(HF_T_UUID), "uuid");
    ck_assert_str_eq(hf_ftype_name(HF_T_URL), "url");
    ck_assert_str_eq(hf_ftype_name(HF_T_ENUM), "enum");
    ck_assert_str_eq(hf_ftype_name(HF_T_ARRAY), "array");
    ck_assert_str_eq(hf_ftype_name(HF_T_OBJECT), "object");
    ck_assert_str_eq(hf_ftype_name((enum hf_ftype)(HF_T_OBJECT + 1)), "?");
}
END_TEST

START_TEST(test_find_latest_at_builtin)
{
    hf_schema_registry *reg = builtin();
    const struct hf_schema *s = hf_schema_find(reg, "log.nutrition", 1);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->name, "log.nutrition");
    ck_assert_int_eq(s->version, 1);
    size_t at = 0;
    while (hf_schema_at(reg, at) && hf_schema_at(reg, at) != s)
        at++;
    ck_assert_str_eq(BUILTIN[at].name, "log.nutrition"); /* at() walks in BUILTIN's (name, version) order */
    ck_assert_ptr_null(hf_schema_find(reg, "log.nutrition", 2));
    ck_assert_ptr_null(hf_schema_find(reg, "log.nutrition", 0));
    ck_assert_ptr_null(hf_schema_find(reg, "log", 1));
    ck_assert_ptr_null(hf_schema_find(reg, "log.nutrition.x", 1));
    ck_assert_ptr_null(hf_schema_find(reg, "", 1));
    ck_assert_ptr_eq(hf_schema_latest(reg, "log.nutrition"), s);
    ck_assert_ptr_null(hf_schema_latest(reg, "nope"));
    ck_assert_ptr_null(hf_schema_at(reg, 1000));
    hf_schema_registry_free(reg);
}
END_TEST

#define MINI_HEAD "{'name':'%s','version':%d,'family':'t','key':'member_id','description':'d','fields':{'member_id':{'type':'integer','required':true}"

static char *mini(const char *name, int version, const char *extra)
{
    char buf[1024];
    snprintf(buf, sizeof buf, MINI_HEAD "%s}}", name, version, extra);
    return unit_dq(buf);
}

START_TEST(test_find_latest_at_versions)
{
    /* Given out of order: the registry sorts by (name, version). */
    char *texts[] = { mini("t.x", 1, ""), mini("t.x", 3, ",'n':{'type':'number'}"), mini("a.y", 1, ""),
                      mini("t.x", 2, ""), NULL };
    hf_schema_registry *reg = NULL;
    struct hf_err err = { 0 };
    ck_assert_int_eq(hf_schema_registry_from_texts((const char *const *)texts, &reg, &err), 0);
    ck_assert_uint_eq(registry_size(reg), 4);
    ck_assert_str_eq(hf_schema_at(reg, 0)->name, "a.y");
    for (int v = 1; v <= 3; v++) {
        ck_assert_str_eq(hf_schema_at(reg, (size_t)v)->name, "t.x");
        ck_assert_int_eq(hf_schema_at(reg, (size_t)v)->version, v);
        ck_assert_ptr_eq(hf_schema_find(reg, "t.x", v), hf_schema_at(reg, (size_t)v));
    }
    const struct hf_schema *latest = hf_schema_latest(reg, "t.x");
    ck_assert_int_eq(latest->version, 3);
    ck_assert_ptr_nonnull(hf_field_member(&latest->root, "n"));
    ck_assert_ptr_null(hf_field_member(&hf_schema_find(reg, "t.x", 2)->root, "n"));
    ck_assert_int_eq(hf_schema_latest(reg, "a.y")->version, 1);
    ck_assert_ptr_null(hf_schema_find(reg, "t.x", 4));
    ck_assert_ptr_eq(hf_schema_find(reg, "t.x", 3)->source_json, texts[1]);
    hf_schema_registry_free(reg);
    for (char **t = texts; *t; t++)
        free(*t);
}
END_TEST

START_TEST(test_empty_registry)
{
    const char *texts[] = { NULL };
    hf_schema_registry *reg = NULL;
    ck_assert_int_eq(hf_schema_registry_from_texts(texts, &reg, NULL), 0);
    ck_assert_ptr_nonnull(reg);
    ck_assert_ptr_null(hf_schema_at(reg, 0));
    ck_assert_ptr_null(hf_schema_find(reg, "log.nutrition", 1));
    ck_assert_ptr_null(hf_schema_latest(reg, "log.nutrition"));
    hf_schema_registry_free(reg);
    hf_schema_registry_free(NULL);
}
END_TEST

/* --------------------------------------------------------------- malformed */

#define MINI(extra) "{'name':'t.a','version':1,'family':'t','key':'member_id','description':'d','fields':{'member_id':{'type':'integer','required':true}" extra "}}"

static const struct {
    const char *what, *text, *msg;
    bool prefix; /* msg is only the start of the message */
} MALFORMED[] = {
    { "not JSON", "{", "schema JSON, line 1: ", true },
    { "missing name", "{'version':1,'family':'t','key':'member_id','description':'d','fields':{'member_id':{'type':'integer','required':true}}}",
      "schema (unnamed): needs name, version >= 1, family, key and description", false },
    { "missing version", "{'name':'t.a','family':'t','key':'member_id','description':'d','fields':{'member_id':{'type':'integer','required':true}}}",
      "schema t.a: needs name, version >= 1, family, key and description", false },
    { "version 0", "{'name':'t.a','version':0,'family':'t','key':'member_id','description':'d','fields':{'member_id':{'type':'integer','required':true}}}",
      "schema t.a: needs name, version >= 1, family, key and description", false },
    { "missing family", "{'name':'t.a','version':1,'key':'member_id','description':'d','fields':{'member_id':{'type':'integer','required':true}}}",
      "schema t.a: needs name, version >= 1, family, key and description", false },
    { "missing key", "{'name':'t.a','version':1,'family':'t','description':'d','fields':{'member_id':{'type':'integer','required':true}}}",
      "schema t.a: needs name, version >= 1, family, key and description", false },
    { "missing description", "{'name':'t.a','version':1,'family':'t','key':'member_id','fields':{'member_id':{'type':'integer','required':true}}}",
      "schema t.a: needs name, version >= 1, family, key and description", false },
    { "no fields", "{'name':'t.a','version':1,'family':'t','key':'member_id','description':'d'}",
      "t.a: an object needs a non-empty \"fields\" object", false },
    { "empty fields", "{'name':'t.a','version':1,'family':'t','key':'member_id','description':'d','fields':{}}",
      "t.a: an object needs a non-empty \"fields\" object", false },
    { "unknown type", MINI(",'x':{'type':'strnig','maxLength':5}"), "t.a.x: unknown type \"strnig\"", false },
    { "no type", MINI(",'x':{'maxLength':5}"), "t.a.x: unknown type \"(none)\"", false },
    { "spec not an object", MINI(",'x':'string'"), "t.a.x: field spec must be an object", false },
    { "string without maxLength", MINI(",'x':{'type':'string','minLength':1}"), "t.a.x: a string needs maxLength", false },
    { "url without maxLength", MINI(",'x':{'type':'url'}"), "t.a.x: a string needs maxLength", false },
    { "nested string without maxLength", MINI(",'o':{'type':'object','fields':{'s':{'type':'string'}}}"),
      "t.a.o.s: a string needs maxLength", false },
    { "array without maxItems", MINI(",'x':{'type':'array','items':{'type':'integer'}}"),
      "t.a.x: an array needs maxItems (an unbounded input is a hazard)", false },
    { "array of strings without maxLength", MINI(",'x':{'type':'array','maxItems':3,'items':{'type':'string'}}"),
      "t.a.x[]: a string needs maxLength", false },
    { "array without items", MINI(",'x':{'type':'array','maxItems':3}"), "t.a.x[]: field spec must be an object", false },
    { "enum without values", MINI(",'x':{'type':'enum'}"), "t.a.x: an enum needs \"values\"", false },
    { "enum with no values", MINI(",'x':{'type':'enum','values':[]}"), "t.a.x: an enum needs \"values\"", false },
    { "enum value not a string", MINI(",'x':{'type':'enum','values':['a',2]}"), "t.a.x: enum values must be strings", false },
    { "object without fields", MINI(",'o':{'type':'object'}"), "t.a.o: an object needs a non-empty \"fields\" object", false },
    { "range_by without ranges", MINI(",'k':{'type':'enum','values':['a']},'v':{'type':'number','range_by':'k'}"),
      "t.a.v: range_by needs a \"ranges\" object", false },
    { "range not a pair", MINI(",'k':{'type':'enum','values':['a']},'v':{'type':'number','range_by':'k','ranges':{'a':[1]}}"),
      "t.a.v: range for a must be [low, high]", false },
    { "key not required", "{'name':'t.a','version':1,'family':'t','key':'member_id','description':'d','fields':{'member_id':{'type':'integer'}}}",
      "schema t.a: key \"member_id\" must be a required integer, or a required string of maxLength 200 or less", false },
    { "key not an integer", "{'name':'t.a','version':1,'family':'t','key':'member_id','description':'d','fields':{'member_id':{'type':'number','required':true}}}",
      "schema t.a: key \"member_id\" must be a required integer, or a required string of maxLength 200 or less", false },
    { "key a string too long", "{'name':'t.a','version':1,'family':'t','key':'member_id','description':'d','fields':{'member_id':{'type':'string','maxLength':201,'required':true}}}",
      "schema t.a: key \"member_id\" must be a required integer, or a required string of maxLength 200 or less", false },
    { "key field absent", "{'name':'t.a','version':1,'family':'t','key':'nope','description':'d','fields':{'member_id':{'type':'integer','required':true}}}",
      "schema t.a: key \"nope\" must be a required integer, or a required string of maxLength 200 or less", false },
};
#define N_MALFORMED (sizeof MALFORMED / sizeof MALFORMED[0])

START_TEST(test_malformed_rejected)
{
    char *text = unit_dq(MALFORMED[_i].text);
    const char *texts[] = { text, NULL };
    hf_schema_registry *reg = (hf_schema_registry *)&text; /* must be reset to NULL */
    struct hf_err err = { 0 };
    int rc = hf_schema_registry_from_texts(texts, &reg, &err);
    ck_assert_msg(rc == HF_EINVAL, "%s: rc %d (%s)", MALFORMED[_i].what, rc, err.msg);
    ck_assert_int_eq(err.code, HF_EINVAL);
    ck_assert_ptr_null(reg);
    if (MALFORMED[_i].prefix)
        ck_assert_msg(strncmp(err.msg, MALFORMED[_i].msg, strlen(MALFORMED[_i].msg)) == 0, "%s: message \"%s\"",
                      MALFORMED[_i].what, err.msg);
    else
        ck_assert_msg(strcmp(err.msg, MALFORMED[_i].msg) == 0, "%s: message \"%s\", expected \"%s\"",
                      MALFORMED[_i].what, err.msg, MALFORMED[_i].msg);
    free(text);
}
END_TEST

START_TEST(test_minimal_schema_accepted)
{
    /* The positive twin of the table: the smallest valid schema loads. */
    char *text = unit_dq(MINI(",'x':{'type':'string','maxLength':5},'a':{'type':'array','maxItems':2,'items':{'type':'integer'}}"));
    const char *texts[] = { text, NULL };
    hf_schema_registry *reg = NULL;
    struct hf_err err = { 0 };
    ck_assert_msg(hf_schema_registry_from_texts(texts, &reg, &err) == 0, "%s", err.msg);
    const struct hf_schema *s = hf_schema_find(reg, "t.a", 1);
    ck_assert_ptr_nonnull(s);
    ck_assert(!s->internal);
    ck_assert_uint_eq(s->root.n_fields, 3);
    ck_assert_int_eq(hf_field_member(&s->root, "a")->item->type, HF_T_INTEGER);
    hf_schema_registry_free(reg);
    free(text);
}
END_TEST

START_TEST(test_duplicate_rejected)
{
    char *a = mini("t.a", 1, ""), *b = mini("t.a", 1, ",'n':{'type':'number'}"), *c = mini("t.a", 2, "");
    const char *texts[] = { a, c, b, NULL };
    hf_schema_registry *reg = (hf_schema_registry *)&a;
    struct hf_err err = { 0 };
    ck_assert_int_eq(hf_schema_registry_from_texts(texts, &reg, &err), HF_EINVAL);
    ck_assert_ptr_null(reg);
    ck_assert_str_eq(err.msg, "schema t.a v1 is defined twice");
    free(a);
    free(b);
    free(c);
}
END_TEST

START_TEST(test_bad_text_after_good_ones)
{
    /* The partly built registry is released (valgrind checks nothing leaks). */
    char *a = mini("t.a", 1, ",'o':{'type':'object','fields':{'p':{'type':'enum','values':['x']}}}");
    char *b = mini("t.b", 1, ",'x':{'type':'array','maxItems':3,'items':{'type':'object','fields':{'q':{'type':'bogus'}}}}");
    const char *texts[] = { a, b, NULL };
    hf_schema_registry *reg = NULL;
    struct hf_err err = { 0 };
    ck_assert_int_eq(hf_schema_registry_from_texts(texts, &reg, &err), HF_EINVAL);
    ck_assert_ptr_null(reg);
    ck_assert_str_eq(err.msg, "t.b.x[].q: unknown type \"bogus\"");
    free(a);
    free(b);
}
END_TEST

/* ----------------------------------------------------------- compatibility */

static const char COMPAT_BASE[] =
    "{'name':'t.c','version':1,'family':'t','key':'member_id','description':'d','fields':{"
    "'member_id':{'type':'integer','minimum':1,'required':true},"
    "'k2':{'type':'integer','required':true},"
    "'n':{'type':'number','minimum':0,'maximum':100},"
    "'w':{'type':'number'},"
    "'s':{'type':'string','maxLength':50},"
    "'e':{'type':'enum','values':['a','b','c']},"
    "'kind':{'type':'enum','values':['x','y','z'],'required':true},"
    "'v':{'type':'number','range_by':'kind','ranges':{'x':[0,10],'y':[5,50]}},"
    "'o':{'type':'object','fields':{'p':{'type':'integer','minimum':0,'maximum':5},'p2':{'type':'boolean'}}},"
    "'arr':{'type':'array','maxItems':10,'items':{'type':'object','fields':{'g':{'type':'number','minimum':0},'g2':{'type':'boolean'}}}}"
    "}}";

/* COMPAT_BASE with the field at target replaced by spec (NULL: removed).
 * target: "n" (top level), "o.p" (member of object o), "arr[].g" (member of
 * arr's item object), "@family" (a schema attribute), or NULL (unchanged).
 * Returns a malloc'd JSON text. */
static char *mutate(const char *target, const char *spec)
{
    char *base = unit_dq(COMPAT_BASE);
    json_error_t jerr;
    json_t *doc = json_loads(base, 0, &jerr);
    free(base);
    ck_assert_msg(doc != NULL, "COMPAT_BASE: %s", jerr.text);
    json_t *val = NULL;
    if (spec) {
        char *s = unit_dq(spec);
        val = json_loads(s, JSON_DECODE_ANY, &jerr);
        free(s);
        ck_assert_msg(val != NULL, "spec %s: %s", spec, jerr.text);
    }
    if (target && target[0] == '@') {
        json_object_set_new(doc, target + 1, val);
    } else if (target) {
        json_t *fields = json_object_get(doc, "fields");
        char path[128];
        snprintf(path, sizeof path, "%s", target);
        char *seg = path;
        for (char *dot; (dot = strchr(seg, '.')) != NULL; seg = dot + 1) {
            *dot = '\0';
            size_t n = strlen(seg);
            bool item = n > 2 && strcmp(seg + n - 2, "[]") == 0;
            if (item)
                seg[n - 2] = '\0';
            json_t *f = json_object_get(fields, seg);
            if (item)
                f = json_object_get(f, "items");
            fields = json_object_get(f, "fields");
            ck_assert_msg(fields != NULL, "no object at %s", target);
        }
        if (val)
            json_object_set_new(fields, seg, val);
        else
            ck_assert_int_eq(json_object_del(fields, seg), 0);
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    ck_assert_ptr_nonnull(text);
    return text;
}

/* hf_schema_compatible(COMPAT_BASE, mutated); fills err. */
static int compat(const char *target, const char *spec, struct hf_err *err)
{
    char *older = mutate(NULL, NULL), *newer = mutate(target, spec);
    const char *t1[] = { older, NULL }, *t2[] = { newer, NULL };
    hf_schema_registry *r1 = NULL, *r2 = NULL;
    ck_assert_msg(hf_schema_registry_from_texts(t1, &r1, err) == 0, "older: %s", err->msg);
    ck_assert_msg(hf_schema_registry_from_texts(t2, &r2, err) == 0, "newer (%s): %s", newer, err->msg);
    hf_err_clear(err);
    int rc = hf_schema_compatible(hf_schema_find(r1, "t.c", 1), hf_schema_find(r2, "t.c", 1), err);
    hf_schema_registry_free(r1);
    hf_schema_registry_free(r2);
    free(older);
    free(newer);
    return rc;
}

static const struct {
    const char *what, *target, *spec;
    int rc;
    const char *path, *says; /* both must appear in err.msg */
} COMPAT[] = {
    /* allowed within a version */
    { "identical", NULL, NULL, 0, NULL, NULL },
    { "optional field added", "extra", "{'type':'integer'}", 0, NULL, NULL },
    { "optional nested member added", "o.q", "{'type':'integer'}", 0, NULL, NULL },
    { "optional array item member added", "arr[].h", "{'type':'string','maxLength':5}", 0, NULL, NULL },
    { "bounds widened", "n", "{'type':'number','minimum':-1,'maximum':200}", 0, NULL, NULL },
    { "bounds dropped", "n", "{'type':'number'}", 0, NULL, NULL },
    { "maxLength widened", "s", "{'type':'string','maxLength':51}", 0, NULL, NULL },
    { "enum value added", "e", "{'type':'enum','values':['a','b','c','d']}", 0, NULL, NULL },
    { "range widened", "v", "{'type':'number','range_by':'kind','ranges':{'x':[-1,11],'y':[5,50]}}", 0, NULL, NULL },
    { "range dropped", "v", "{'type':'number','range_by':'kind','ranges':{'x':[0,10]}}", 0, NULL, NULL },
    { "description changed", "@description", "'other words'", 0, NULL, NULL },
    /* breaking */
    { "field removed", "n", NULL, HF_ECONFLICT, "t.c.n", "t.c.n was removed" },
    { "nested member removed", "o.p", NULL, HF_ECONFLICT, "t.c.o.p", "t.c.o.p was removed" },
    { "array item member removed", "arr[].g", NULL, HF_ECONFLICT, "t.c.arr", "g was removed" },
    { "type changed", "n", "{'type':'integer','minimum':0,'maximum':100}", HF_ECONFLICT, "t.c.n",
      "changed type from number to integer" },
    { "nested type changed", "o.p", "{'type':'number','minimum':0,'maximum':5}", HF_ECONFLICT, "t.c.o.p",
      "changed type from integer to number" },
    { "array item type changed", "arr", "{'type':'array','maxItems':10,'items':{'type':'string','maxLength':5}}",
      HF_ECONFLICT, "t.c.arr", "changed type from object to string" },
    { "field made required", "s", "{'type':'string','maxLength':50,'required':true}", HF_ECONFLICT, "t.c.s",
      "became required" },
    { "nested member made required", "o.p", "{'type':'integer','minimum':0,'maximum':5,'required':true}",
      HF_ECONFLICT, "t.c.o.p", "became required" },
    { "required field added", "extra", "{'type':'integer','required':true}", HF_ECONFLICT, "t.c.extra",
      "was added as required" },
    { "required nested member added", "o.q", "{'type':'integer','required':true}", HF_ECONFLICT, "t.c.o.q",
      "was added as required" },
    { "minimum raised", "n", "{'type':'number','minimum':1,'maximum':100}", HF_ECONFLICT, "t.c.n",
      "lower bound narrowed" },
    { "maximum lowered", "n", "{'type':'number','minimum':0,'maximum':99}", HF_ECONFLICT, "t.c.n",
      "upper bound narrowed" },
    { "maximum added", "w", "{'type':'number','maximum':1000}", HF_ECONFLICT, "t.c.w", "upper bound narrowed" },
    { "minimum added", "w", "{'type':'number','minimum':0}", HF_ECONFLICT, "t.c.w", "lower bound narrowed" },
    { "maxLength lowered", "s", "{'type':'string','maxLength':49}", HF_ECONFLICT, "t.c.s", "upper bound narrowed" },
    { "maxItems lowered", "arr",
      "{'type':'array','maxItems':9,'items':{'type':'object','fields':{'g':{'type':'number','minimum':0},'g2':{'type':'boolean'}}}}",
      HF_ECONFLICT, "t.c.arr", "upper bound narrowed" },
    { "nested maximum lowered", "o.p", "{'type':'integer','minimum':0,'maximum':4}", HF_ECONFLICT, "t.c.o.p",
      "upper bound narrowed" },
    { "array item bound raised", "arr[].g", "{'type':'number','minimum':1}", HF_ECONFLICT, "t.c.arr",
      "lower bound narrowed" },
    { "enum value removed", "e", "{'type':'enum','values':['a','c']}", HF_ECONFLICT, "t.c.e",
      "enum value \"b\" removed" },
    { "range low raised", "v", "{'type':'number','range_by':'kind','ranges':{'x':[1,10],'y':[5,50]}}",
      HF_ECONFLICT, "t.c.v", "range for x narrowed" },
    { "range high lowered", "v", "{'type':'number','range_by':'kind','ranges':{'x':[0,10],'y':[5,49]}}",
      HF_ECONFLICT, "t.c.v", "range for y narrowed" },
    { "family changed", "@family", "'u'", HF_ECONFLICT, "t.c v1", "key or topic family changed" },
    { "key changed", "@key", "'k2'", HF_ECONFLICT, "t.c v1", "key or topic family changed" },
};
#define N_COMPAT (sizeof COMPAT / sizeof COMPAT[0])

START_TEST(test_compatible)
{
    struct hf_err err = { 0 };
    int rc = compat(COMPAT[_i].target, COMPAT[_i].spec, &err);
    ck_assert_msg(rc == COMPAT[_i].rc, "%s: rc %d, expected %d (%s)", COMPAT[_i].what, rc, COMPAT[_i].rc, err.msg);
    if (rc == 0)
        return;
    ck_assert_int_eq(err.code, HF_ECONFLICT);
    ck_assert_msg(strstr(err.msg, COMPAT[_i].path) && strstr(err.msg, COMPAT[_i].says),
                  "%s: message \"%s\" should name %s and say \"%s\"", COMPAT[_i].what, err.msg, COMPAT[_i].path,
                  COMPAT[_i].says);
}
END_TEST

/* Narrowing by *adding* a per-kind range is as breaking as narrowing an
 * existing one: old messages with kind z and v = 1000 (valid under v1 as
 * shipped) would be rejected. See the report: hf_schema_compatible only
 * compares ranges present on both sides (common/hf_schema.c, the loop over
 * o->n_ranges in field_compatible). */
START_TEST(test_compat_added_range_is_breaking)
{
    struct hf_err err = { 0 };
    int rc = compat("v", "{'type':'number','range_by':'kind','ranges':{'x':[0,10],'y':[5,50],'z':[0,1]}}", &err);
    ck_assert_msg(rc == HF_ECONFLICT, "a range added for enum value z must be a conflict, got rc %d", rc);
    ck_assert_msg(strstr(err.msg, "t.c.v") != NULL, "message names t.c.v: %s", err.msg);

    hf_err_clear(&err);
    rc = compat("w", "{'type':'number','range_by':'kind','ranges':{'x':[0,1]}}", &err);
    ck_assert_msg(rc == HF_ECONFLICT, "range_by added to an unranged field must be a conflict, got rc %d", rc);
    ck_assert_msg(strstr(err.msg, "t.c.w") != NULL, "message names t.c.w: %s", err.msg);
}
END_TEST

START_TEST(test_compatible_builtin_with_itself)
{
    hf_schema_registry *a = builtin(), *b = builtin();
    for (size_t i = 0; hf_schema_at(a, i); i++) {
        struct hf_err err = { 0 };
        ck_assert_msg(hf_schema_compatible(hf_schema_at(a, i), hf_schema_at(b, i), &err) == 0, "%s: %s",
                      hf_schema_at(a, i)->name, err.msg);
    }
    hf_schema_registry_free(a);
    hf_schema_registry_free(b);
}
END_TEST

/* -------------------------------------------------------------------- lock */

struct report {
    char text[16384];
    size_t len;
    int problems;
};

static void problem(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (r->len < sizeof r->text) {
        int n = vsnprintf(r->text + r->len, sizeof r->text - r->len, fmt, ap);
        if (n > 0)
            r->len += (size_t)n;
        if (r->len < sizeof r->text - 1)
            r->text[r->len++] = '\n';
        r->text[r->len < sizeof r->text ? r->len : sizeof r->text - 1] = '\0';
    }
    va_end(ap);
    r->problems++;
}

static bool same_json(const char *a, const char *b)
{
    json_t *x = json_loads(a, 0, NULL), *y = json_loads(b, 0, NULL);
    bool same = x && y && json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return same;
}

/* Checks every schema of reg against dir/<name>.v<N>.json, and every
 * snapshot in dir against reg. Problems go to r, with what to do. */
static void lock_check(const hf_schema_registry *reg, const char *dir, struct report *r)
{
    memset(r, 0, sizeof *r);
    for (size_t i = 0; hf_schema_at(reg, i); i++) {
        const struct hf_schema *s = hf_schema_at(reg, i);
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.v%d.json", dir, s->name, s->version);
        char *text = unit_read_file(path);
        if (!text) {
            problem(r,
                    "schema %s v%d has no snapshot: add one with `cp schemas/%s.v%d.json tests/unit/schema_lock/` "
                    "(see the top of tests/unit/test_schema.c)",
                    s->name, s->version, s->name, s->version);
            continue;
        }
        const char *texts[] = { text, NULL };
        hf_schema_registry *snap = NULL;
        struct hf_err err = { 0 };
        const struct hf_schema *old = NULL;
        if (hf_schema_registry_from_texts(texts, &snap, &err) != 0)
            problem(r, "snapshot %s.v%d.json does not load: %s", s->name, s->version, err.msg);
        else if (!(old = hf_schema_find(snap, s->name, s->version)))
            problem(r, "snapshot %s.v%d.json does not hold %s v%d", s->name, s->version, s->name, s->version);
        else if (hf_schema_compatible(old, s, &err) != 0)
            problem(r,
                    "schema %s v%d is NOT compatible with its snapshot: %s. Undo the edit and make it a new "
                    "version, schemas/%s.v%d.json (see the top of tests/unit/test_schema.c)",
                    s->name, s->version, err.msg, s->name, s->version + 1);
        else if (!same_json(text, s->source_json))
            problem(r,
                    "schema %s v%d changed compatibly since its snapshot: refresh it with "
                    "`cp schemas/%s.v%d.json tests/unit/schema_lock/`",
                    s->name, s->version, s->name, s->version);
        hf_schema_registry_free(snap);
        free(text);
    }
    DIR *d = opendir(dir);
    if (!d) {
        problem(r, "cannot open %s", dir);
        return;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(n - 5), e->d_name);
        char *dotv = strrchr(name, '.');
        char *end = NULL;
        long version = dotv && dotv[1] == 'v' ? strtol(dotv + 2, &end, 10) : 0;
        if (!end || *end || end == dotv + 2 || version < 1) {
            problem(r, "snapshot %s is not named <schema>.v<version>.json", e->d_name);
            continue;
        }
        *dotv = '\0';
        if (!hf_schema_find(reg, name, (int)version))
            problem(r,
                    "snapshot %s has no built-in schema %s v%ld: delete it once no producer sends that version "
                    "and no topic holds it",
                    e->d_name, name, version);
    }
    closedir(d);
}

START_TEST(test_schema_lock)
{
    hf_schema_registry *reg = builtin();
    static struct report r;
    lock_check(reg, LOCK_DIR, &r);
    hf_schema_registry_free(reg);
    ck_assert_msg(r.problems == 0, "schema lock (%s), %d problem(s):\n%s", LOCK_DIR, r.problems, r.text);
}
END_TEST

/* The lock itself must notice each kind of problem: run it on scratch dirs. */
static char scratch[64];

static void scratch_make(void)
{
    snprintf(scratch, sizeof scratch, "/tmp/hf_schema_lock_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(scratch));
}

static void scratch_write(const char *file, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", scratch, file);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void scratch_remove(void)
{
    DIR *d = opendir(scratch);
    if (d) {
        for (struct dirent *e; (e = readdir(d)) != NULL;) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char path[512];
            snprintf(path, sizeof path, "%s/%s", scratch, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(scratch);
}

/* Snapshots equal to the built-in texts, except that log.nutrition's is
 * edited by fn (when given). */
static void scratch_snapshots(const hf_schema_registry *reg, void (*fn)(json_t *doc))
{
    for (size_t i = 0; hf_schema_at(reg, i); i++) {
        const struct hf_schema *s = hf_schema_at(reg, i);
        char file[128];
        snprintf(file, sizeof file, "%s.v%d.json", s->name, s->version);
        if (fn && strcmp(s->name, "log.nutrition") == 0) {
            json_t *doc = json_loads(s->source_json, 0, NULL);
            ck_assert_ptr_nonnull(doc);
            fn(doc);
            char *text = json_dumps(doc, JSON_INDENT(2));
            json_decref(doc);
            scratch_write(file, text);
            free(text);
        } else {
            scratch_write(file, s->source_json);
        }
    }
}

static void snapshot_wider(json_t *doc)
{
    /* The snapshot allowed more calories than the built-in schema does now. */
    json_t *cal = json_object_get(json_object_get(doc, "fields"), "calories");
    json_object_set_new(cal, "maximum", json_integer(20000));
}

static void snapshot_fewer_fields(json_t *doc)
{
    /* The built-in schema has since gained the optional water_ml. */
    json_object_del(json_object_get(doc, "fields"), "water_ml");
}

START_TEST(test_schema_lock_detects)
{
    hf_schema_registry *reg = builtin();
    static struct report r;

    scratch_make();
    lock_check(reg, scratch, &r);
    ck_assert_int_eq(r.problems, (int)N_BUILTIN);
    ck_assert_msg(strstr(r.text, "schema log.nutrition v1 has no snapshot: add one with "
                                 "`cp schemas/log.nutrition.v1.json tests/unit/schema_lock/`"),
                  "%s", r.text);

    scratch_snapshots(reg, NULL);
    lock_check(reg, scratch, &r);
    ck_assert_msg(r.problems == 0, "%s", r.text);

    scratch_snapshots(reg, snapshot_wider);
    lock_check(reg, scratch, &r);
    ck_assert_int_eq(r.problems, 1);
    ck_assert_msg(strstr(r.text, "schema log.nutrition v1 is NOT compatible with its snapshot: "
                                 "log.nutrition.calories: upper bound narrowed") &&
                      strstr(r.text, "schemas/log.nutrition.v2.json"),
                  "%s", r.text);

    scratch_snapshots(reg, snapshot_fewer_fields);
    lock_check(reg, scratch, &r);
    ck_assert_int_eq(r.problems, 1);
    ck_assert_msg(strstr(r.text, "schema log.nutrition v1 changed compatibly since its snapshot: refresh it"), "%s",
                  r.text);

    scratch_snapshots(reg, NULL);
    char *stray = mini("zzz.gone", 1, "");
    scratch_write("zzz.gone.v1.json", stray);
    free(stray);
    scratch_write("notes.json", "{}");
    lock_check(reg, scratch, &r);
    ck_assert_int_eq(r.problems, 2);
    ck_assert_msg(strstr(r.text, "snapshot zzz.gone.v1.json has no built-in schema zzz.gone v1"), "%s", r.text);
    ck_assert_msg(strstr(r.text, "snapshot notes.json is not named <schema>.v<version>.json"), "%s", r.text);

    scratch_remove();
    hf_schema_registry_free(reg);
}
END_TEST

static Suite *schema_suite(void)
{
    Suite *s = suite_create("schema");
    TCase *tc = tcase_create("registry");
    tcase_add_test(tc, test_builtin_loads);
    tcase_add_test(tc, test_builtin_field_details);
    tcase_add_test(tc, test_ftype_names);
    tcase_add_test(tc, test_find_latest_at_builtin);
    tcase_add_test(tc, test_find_latest_at_versions);
    tcase_add_test(tc, test_empty_registry);
    suite_add_tcase(s, tc);

    tc = tcase_create("malformed");
    tcase_add_loop_test(tc, test_malformed_rejected, 0, (int)N_MALFORMED);
    tcase_add_test(tc, test_minimal_schema_accepted);
    tcase_add_test(tc, test_duplicate_rejected);
    tcase_add_test(tc, test_bad_text_after_good_ones);
    suite_add_tcase(s, tc);

    tc = tcase_create("compatible");
    tcase_add_loop_test(tc, test_compatible, 0, (int)N_COMPAT);
    tcase_add_test(tc, test_compat_added_range_is_breaking);
    tcase_add_test(tc, test_compatible_builtin_with_itself);
    suite_add_tcase(s, tc);

    tc = tcase_create("lock");
    tcase_add_test(tc, test_schema_lock);
    tcase_add_test(tc, test_schema_lock_detects);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(schema_suite());
}
