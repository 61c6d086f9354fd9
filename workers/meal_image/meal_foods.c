#include "meal_foods.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meal_caption.h"

struct entry {
    char name[MEAL_NAME_MAX];      /* normalised */
    struct meal_food by_name, by_alias; /* unit_grams owned here */
};

struct meal_foods {
    struct entry *e;
    int n, cap;
};

meal_foods *meal_foods_new(void)
{
    return calloc(1, sizeof(meal_foods));
}

void meal_foods_reset(meal_foods *f)
{
    for (int i = 0; i < f->n; i++) {
        json_decref(f->e[i].by_name.unit_grams);
        json_decref(f->e[i].by_alias.unit_grams);
    }
    f->n = 0;
}

void meal_foods_free(meal_foods *f)
{
    if (!f)
        return;
    meal_foods_reset(f);
    free(f->e);
    free(f);
}

static int add(meal_foods *f, const char *name, struct hf_err *err)
{
    if (f->n == f->cap) {
        int ncap = f->cap ? f->cap * 2 : 256;
        struct entry *e = realloc(f->e, (size_t)ncap * sizeof *e);
        if (!e)
            return hf_err_set(err, HF_ENOMEM, true, "out of memory");
        f->e = e;
        f->cap = ncap;
    }
    struct entry *e = &f->e[f->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    return 0;
}

int meal_foods_want(meal_foods *f, const char *asked, struct hf_err *err)
{
    char name[MEAL_NAME_MAX], singular[MEAL_NAME_MAX];
    meal_name_normalise(asked, name, sizeof name);
    meal_name_singular(name, singular, sizeof singular);
    int rc = add(f, name, err);
    if (rc == 0 && strcmp(singular, name) != 0)
        rc = add(f, singular, err);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static struct entry *lookup(const meal_foods *f, const char *name)
{
    struct entry key;
    snprintf(key.name, sizeof key.name, "%s", name);
    return f->n ? bsearch(&key, f->e, (size_t)f->n, sizeof *f->e, by_name) : NULL;
}

/* "{"a","b"}": normalised names hold letters, digits and spaces only, so
 * quoting them is enough. Caller frees. */
static char *text_array(const meal_foods *f)
{
    size_t cap = 3, o = 0;
    for (int i = 0; i < f->n; i++)
        cap += strlen(f->e[i].name) + 3;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[o++] = '{';
    for (int i = 0; i < f->n; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s\"%s\"", i ? "," : "", f->e[i].name);
    snprintf(out + o, cap - o, "}");
    return out;
}

int meal_foods_load(meal_foods *f, hf_pg *pg, struct hf_err *err)
{
    if (f->n == 0)
        return 0;
    qsort(f->e, (size_t)f->n, sizeof *f->e, by_name);
    int u = 1;
    for (int i = 1; i < f->n; i++)
        if (strcmp(f->e[i].name, f->e[u - 1].name) != 0)
            f->e[u++] = f->e[i];
    f->n = u;
    char *names = text_array(f);
    if (!names)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    const char *params[] = { names };
    PGresult *res = NULL;
    int rc = hf_pg_exec(pg,
                        "SELECT q.name, 0, f.name, coalesce(f.fdc_id, 0), f.kcal, f.protein_g, f.carbs_g, f.fat_g,"
                        " f.fiber_g, f.sugars_g, f.unit_grams::text"
                        " FROM unnest($1::text[]) AS q(name) JOIN foods f ON f.name = q.name"
                        " UNION ALL"
                        " SELECT q.name, 1, f.name, coalesce(f.fdc_id, 0), f.kcal, f.protein_g, f.carbs_g, f.fat_g,"
                        " f.fiber_g, f.sugars_g, f.unit_grams::text"
                        " FROM unnest($1::text[]) AS q(name) JOIN food_aliases a ON a.alias = q.name"
                        " JOIN foods f ON f.id = a.food_id",
                        1, params, &res, err);
    free(names);
    if (rc)
        return rc;
    for (int r = 0; r < PQntuples(res); r++) {
        struct entry *e = lookup(f, PQgetvalue(res, r, 0));
        if (!e)
            continue;
        struct meal_food *food = strcmp(PQgetvalue(res, r, 1), "0") == 0 ? &e->by_name : &e->by_alias;
        json_decref(food->unit_grams);
        food->found = true;
        snprintf(food->name, sizeof food->name, "%s", PQgetvalue(res, r, 2));
        food->fdc_id = strtoll(PQgetvalue(res, r, 3), NULL, 10);
        for (int k = 0; k < MEAL_NUTRIENTS; k++)
            food->per100[k] = strtod(PQgetvalue(res, r, 4 + k), NULL);
        food->unit_grams = json_loads(PQgetvalue(res, r, 10), 0, NULL);
    }
    PQclear(res);
    return 0;
}

struct meal_food meal_foods_find(const meal_foods *f, const char *asked)
{
    char name[MEAL_NAME_MAX], singular[MEAL_NAME_MAX];
    meal_name_normalise(asked, name, sizeof name);
    meal_name_singular(name, singular, sizeof singular);
    const struct entry *a = lookup(f, name), *b = lookup(f, singular);
    if (a && a->by_name.found)
        return a->by_name;
    if (b && b->by_name.found)
        return b->by_name;
    if (a && a->by_alias.found)
        return a->by_alias;
    if (b && b->by_alias.found)
        return b->by_alias;
    return (struct meal_food){ .found = false };
}
