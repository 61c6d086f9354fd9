#include "meal_caption.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hf_err.h"

void meal_name_normalise(const char *in, char *out, size_t outsz)
{
    size_t o = 0;
    bool gap = false;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 1 < outsz && o + 1 < MEAL_NAME_MAX; p++) {
        if (isalnum(*p)) {
            if (gap && o > 0)
                out[o++] = ' ';
            gap = false;
            if (o + 1 < outsz && o + 1 < MEAL_NAME_MAX)
                out[o++] = (char)tolower(*p);
        } else if (*p != '\'') { /* "chef's" -> "chefs", not "chef s" */
            gap = true;
        }
    }
    /* A cut right after a gap leaves a trailing space (found by tests/fuzz). */
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

void meal_name_singular(const char *in, char *out, size_t outsz)
{
    size_t n = strlen(in);
    if (n >= outsz)
        n = outsz - 1;
    memmove(out, in, n);
    out[n] = '\0';
    const char *last = strrchr(out, ' ');
    size_t word = last ? n - (size_t)(last + 1 - out) : n;
    if (word <= 3)
        return;
    if (ends_with(out, n, "ies"))
        memcpy(out + n - 3, "y", 2);
    else if (ends_with(out, n, "oes") || ends_with(out, n, "ches") || ends_with(out, n, "shes") ||
             ends_with(out, n, "xes") || ends_with(out, n, "sses"))
        out[n - 2] = '\0';
    else if (ends_with(out, n, "s") && !ends_with(out, n, "ss") && !ends_with(out, n, "us") && !ends_with(out, n, "is"))
        out[n - 1] = '\0';
}

struct unit_word {
    const char *word;
    const char *unit;
    double factor; /* kg and lb are turned into g and oz */
};

static const struct unit_word UNITS[] = {
    { "g", "g", 1 },           { "gr", "g", 1 },            { "gram", "g", 1 },          { "grams", "g", 1 },
    { "kg", "g", 1000 },       { "oz", "oz", 1 },           { "ounce", "oz", 1 },        { "ounces", "oz", 1 },
    { "lb", "oz", 16 },        { "lbs", "oz", 16 },         { "cup", "cup", 1 },         { "cups", "cup", 1 },
    { "tbsp", "tbsp", 1 },     { "tablespoon", "tbsp", 1 }, { "tablespoons", "tbsp", 1 }, { "tsp", "tsp", 1 },
    { "teaspoon", "tsp", 1 },  { "teaspoons", "tsp", 1 },   { "slice", "slice", 1 },     { "slices", "slice", 1 },
    { "piece", "piece", 1 },   { "pieces", "piece", 1 },    { "pc", "piece", 1 },        { "pcs", "piece", 1 },
};

static const char *const NUMBER_WORDS[] = { "one", "two",   "three", "four", "five",   "six",
                                            "seven", "eight", "nine", "ten", "eleven", "twelve" };

/* Words before a food's name that say its size, not what it is. */
static const char *const SIZE_WORDS[] = { "large", "medium", "small", "big", "of" };

static const struct unit_word *find_unit(const char *w)
{
    for (size_t i = 0; i < sizeof UNITS / sizeof UNITS[0]; i++)
        if (strcmp(UNITS[i].word, w) == 0)
            return &UNITS[i];
    return NULL;
}

static bool in_list(const char *w, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], w) == 0)
            return true;
    return false;
}

/* The next space-separated word of s into w; returns the rest. */
static const char *next_word(const char *s, char *w, size_t wsz)
{
    while (*s == ' ')
        s++;
    size_t n = 0;
    while (s[n] && s[n] != ' ')
        n++;
    size_t k = n < wsz - 1 ? n : wsz - 1;
    memcpy(w, s, k);
    w[k] = '\0';
    return s + n;
}

/* Largest amount read from a caption: more is a typo or an attack, not a meal. */
#define MAX_AMOUNT 100000.0

/* A plain decimal ("2", "1.5") at the start of s: strtod would also take
 * "2e999" (infinity, found by tests/fuzz), "0x1p3" and "inf", which no one
 * writes for a meal. Sets *end past it; false when there is none. */
static bool plain_decimal(const char *s, double *v, const char **end)
{
    size_t n = 0;
    bool dot = false;
    while (isdigit((unsigned char)s[n]) || (s[n] == '.' && !dot)) {
        dot = dot || s[n] == '.';
        n++;
    }
    if (n == 0 || !isdigit((unsigned char)s[0]))
        return false;
    char buf[40];
    if (n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    *v = strtod(buf, NULL);
    *end = s + n;
    return isfinite(*v) && *v <= MAX_AMOUNT;
}

/* A number at the start of w: "2", "1.5", "1/2", "200g" (then *suffix points
 * at "g"). False when w does not start with a digit or is not a number. */
static bool parse_number(const char *w, double *v, const char **suffix)
{
    const char *end = NULL;
    if (!plain_decimal(w, v, &end))
        return false;
    if (*end == '/') {
        double den = 0;
        if (!plain_decimal(end + 1, &den, &end) || den <= 0)
            return false;
        *v /= den;
    }
    *suffix = end;
    return true;
}

/* The amount at the start of a phrase: fills qty and unit and returns the
 * rest of the phrase (the food), or returns p itself when there is none. */
static const char *parse_amount(const char *p, double *qty, const char **unit)
{
    char w[32];
    const char *rest = next_word(p, w, sizeof w), *suffix = "";
    double v;
    if (parse_number(w, &v, &suffix)) {
        char w2[32];
        const char *after = next_word(rest, w2, sizeof w2), *s2 = "";
        double frac;
        if (!*suffix && strchr(w2, '/') && parse_number(w2, &frac, &s2) && !*s2 && frac < 1) { /* "1 1/2" */
            v += frac;
            rest = after;
        }
    } else if (strcmp(w, "a") == 0 || strcmp(w, "an") == 0) {
        v = 1;
    } else if (strcmp(w, "half") == 0) {
        v = 0.5;
        char w2[8];
        const char *after = next_word(rest, w2, sizeof w2);
        if (strcmp(w2, "a") == 0 || strcmp(w2, "an") == 0)
            rest = after;
    } else {
        v = 0;
        for (size_t i = 0; i < sizeof NUMBER_WORDS / sizeof NUMBER_WORDS[0] && v == 0; i++)
            if (strcmp(w, NUMBER_WORDS[i]) == 0)
                v = (double)(i + 1);
        if (v == 0)
            return p;
    }
    const struct unit_word *u = *suffix ? find_unit(suffix) : NULL;
    if (!u && !*suffix) {
        char w2[32];
        const char *after = next_word(rest, w2, sizeof w2);
        u = find_unit(w2);
        if (u)
            rest = after;
    }
    if (!u && *suffix) /* "2x": not an amount we understand */
        return p;
    *qty = v * (u ? u->factor : 1);
    *unit = u ? u->unit : "piece";
    return rest;
}

static void parse_phrase(const char *phrase, struct meal_portion *out, bool *ok)
{
    double qty = 1;
    const char *unit = "serving";
    const char *rest = parse_amount(phrase, &qty, &unit);
    for (;;) { /* "2 large eggs", "1 cup of rice" */
        char w[16];
        const char *after = next_word(rest, w, sizeof w);
        if (!in_list(w, SIZE_WORDS, sizeof SIZE_WORDS / sizeof SIZE_WORDS[0]))
            break;
        rest = after;
    }
    char norm[MEAL_NAME_MAX];
    meal_name_normalise(rest, norm, sizeof norm);
    meal_name_singular(norm, out->name, sizeof out->name);
    out->qty = qty;
    out->unit = unit;
    *ok = out->name[0] != '\0' && qty > 0 && !isdigit((unsigned char)out->name[0]);
}

/* Replaces every separator word (" and ", " with ") by a comma, in place. */
static void mark_word_separators(char *s)
{
    static const char *const words[] = { " and ", " with ", " plus " };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        for (char *p = strstr(s, words[i]); p; p = strstr(p, words[i])) {
            size_t k = strlen(words[i]);
            p[0] = ',';
            memset(p + 1, ' ', k - 1);
        }
}

int meal_caption_parse(const char *caption, struct meal_portion *out, int max, int *n)
{
    char text[1024];
    size_t len = 0;
    for (const char *p = caption; *p && len + 1 < sizeof text; p++) {
        char c = (char)tolower((unsigned char)*p);
        if (c == ';' || c == '+' || c == '&' || c == '\n' || c == '\r')
            c = ',';
        else if (c == '\t')
            c = ' ';
        text[len++] = c;
    }
    text[len] = '\0';
    mark_word_separators(text);
    *n = 0;
    char *save = text;
    while (save) {
        char *phrase = save;
        char *comma = strchr(save, ',');
        if (comma)
            *comma = '\0';
        save = comma ? comma + 1 : NULL;
        struct meal_portion p;
        bool ok = false;
        parse_phrase(phrase, &p, &ok);
        if (!ok)
            continue;
        if (*n == max)
            return HF_ETOOBIG;
        out[(*n)++] = p;
    }
    return 0;
}
