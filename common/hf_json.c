#include "hf_json.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
    char *buf;
    size_t len, cap;
    bool failed;
};

static char *room(struct out *o, size_t n)
{
    if (o->failed)
        return NULL;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (o->len + n + 1 > cap)
            cap *= 2;
        char *b = realloc(o->buf, cap);
        if (!b) {
            o->failed = true;
            return NULL;
        }
        o->buf = b;
        o->cap = cap;
    }
    return o->buf + o->len;
}

static void put(struct out *o, const char *s, size_t n)
{
    char *p = room(o, n);
    if (p) {
        memcpy(p, s, n);
        o->len += n;
    }
}

/* Decimal digits of u into the end of tmp; returns where they start. */
static char *digits(uint64_t u, char *end)
{
    do {
        *--end = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    return end;
}

static void put_integer(struct out *o, json_int_t v)
{
    char tmp[24], *end = tmp + sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *s = digits(u, end);
    if (v < 0)
        *--s = '-';
    put(o, s, (size_t)(end - s));
}

/* x with at most two decimals, when that text reads back as x exactly and
 * is what %g would write too: at most 9 significant digits, which %.9g to
 * %.15g all write so (from %.16g on, 0.1 is 0.10000000000000001). */
static size_t two_decimals(double x, int precision, char *text)
{
    if (precision < 9 || precision > 15 || !(fabs(x) < 1e7))
        return 0;
    long long cents = llround(x * 100);
    uint64_t u = (uint64_t)llabs(cents);
    char tmp[32], *end = tmp + sizeof tmp, *p = end;
    unsigned frac = (unsigned)(u % 100);
    if (frac % 10) {
        *--p = (char)('0' + frac % 10);
        *--p = (char)('0' + frac / 10);
    } else {
        *--p = (char)('0' + frac / 10);
    }
    *--p = '.';
    p = digits(u / 100, p);
    if (cents < 0 || (cents == 0 && signbit(x)))
        *--p = '-';
    size_t n = (size_t)(end - p);
    memcpy(text, p, n);
    text[n] = '\0';
    return strtod(text, NULL) == x ? n : 0;
}

static void put_real(struct out *o, double x, int precision)
{
    char text[40];
    size_t n = two_decimals(x, precision, text);
    if (!n) {
        int w = snprintf(text, sizeof text, "%.*g", precision, x);
        if (w < 0 || (size_t)w >= sizeof text) {
            o->failed = true;
            return;
        }
        n = (size_t)w;
        char *e = strchr(text, 'e');
        if (!e && !strchr(text, '.')) { /* a real stays a real, as json_dumps writes it */
            memcpy(text + n, ".0", 3);
            n += 2;
        } else if (e) { /* "1e+06" as json_dumps writes it: "1e6" */
            char *from = e + 1, *to = e + 1;
            if (*from == '-')
                *to++ = *from++;
            else if (*from == '+')
                from++;
            while (*from == '0' && from[1])
                from++;
            memmove(to, from, strlen(from) + 1);
            n = strlen(text);
        }
    }
    put(o, text, n);
}

static void put_string(struct out *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    put(o, "\"", 1);
    size_t run = 0; /* bytes to copy as they are */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        put(o, s + i - run, run);
        run = 0;
        char esc[6] = { '\\', 0 };
        size_t len = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0x0f];
            len = 6;
        }
        put(o, esc, len);
    }
    put(o, s + n - run, run);
    put(o, "\"", 1);
}

static void put_value(struct out *o, const json_t *v, int precision)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        const json_t *member;
        bool first = true;
        put(o, "{", 1);
        json_object_foreach((json_t *)v, key, member) {
            if (!first)
                put(o, ",", 1);
            first = false;
            put_string(o, key, strlen(key));
            put(o, ":", 1);
            put_value(o, member, precision);
        }
        put(o, "}", 1);
        return;
    }
    case JSON_ARRAY:
        put(o, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                put(o, ",", 1);
            put_value(o, json_array_get(v, i), precision);
        }
        put(o, "]", 1);
        return;
    case JSON_STRING:
        put_string(o, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        put_integer(o, json_integer_value(v));
        return;
    case JSON_REAL:
        if (!isfinite(json_real_value(v)))
            o->failed = true;
        else
            put_real(o, json_real_value(v), precision);
        return;
    case JSON_TRUE:
        put(o, "true", 4);
        return;
    case JSON_FALSE:
        put(o, "false", 5);
        return;
    case JSON_NULL:
        put(o, "null", 4);
        return;
    }
}

char *hf_json_text(const json_t *v, int precision)
{
    struct out o = { 0 };
    if (!v || precision < 1 || precision > 17)
        return NULL;
    put_value(&o, v, precision);
    if (!room(&o, 0)) {
        free(o.buf);
        return NULL;
    }
    o.buf[o.len] = '\0';
    return o.buf;
}
