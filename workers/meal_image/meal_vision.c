#include "meal_vision.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_err.h"

static const char PROMPT[] =
    "You estimate what is on a plate from a photo. Answer with one JSON object and nothing else, in exactly this "
    "shape: {\"items\": [{\"name\": \"<common food name, e.g. scrambled eggs>\", \"grams\": <estimated grams eaten>}],"
    " \"confidence\": <0 to 1>}. One entry per distinct food, at most 20. Use plain generic food names (\"white "
    "rice\", \"grilled chicken breast\"), not brands or dishes when the parts are visible. If there is no food in "
    "the photo, answer {\"items\": [], \"confidence\": 0}.";

static char *base64(const unsigned char *in, size_t len)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t olen = 4 * ((len + 2) / 3);
    char *out = malloc(olen + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = tbl[(v >> 18) & 63];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? tbl[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

char *meal_vision_request(const char *model, const unsigned char *image, size_t len, const char *mime,
                          const char *caption)
{
    char *b64 = base64(image, len), *url = NULL, *body = NULL;
    json_t *req = NULL;
    if (!b64)
        goto out;
    size_t ulen = strlen(b64) + strlen(mime) + 32;
    url = malloc(ulen);
    if (!url)
        goto out;
    snprintf(url, ulen, "data:%s;base64,%s", mime, b64);
    char hint[700];
    if (caption && *caption)
        snprintf(hint, sizeof hint, "The person's caption (a hint, may be wrong): %s", caption);
    else
        snprintf(hint, sizeof hint, "No caption.");
    req = json_pack("{s:s, s:f, s:i, s:{s:s}, s:[{s:s, s:s}, {s:s, s:[{s:s, s:s}, {s:s, s:{s:s, s:s}}]}]}", "model",
                    model, "temperature", 0.0, "max_tokens", 600, "response_format", "type", "json_object",
                    "messages", "role", "system", "content", PROMPT, "role", "user", "content", "type", "text", "text",
                    hint, "type", "image_url", "image_url", "url", url, "detail", "low");
    if (req)
        body = json_dumps(req, JSON_COMPACT);
out:
    json_decref(req);
    free(b64);
    free(url);
    return body;
}

static int bad(char *why, size_t whysz, const char *fmt, const char *arg)
{
    snprintf(why, whysz, fmt, arg);
    return HF_EINVAL;
}

/* The content without one surrounding ```json ... ``` fence, in a copy the
 * caller frees; NULL when out of memory. */
static char *unfence(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= 6 && strncmp(s, "```", 3) == 0 && strncmp(s + n - 3, "```", 3) == 0) {
        const char *nl = memchr(s, '\n', n);
        if (nl && nl < s + n - 3) {
            size_t k = (size_t)(s + n - 3 - (nl + 1));
            char *c = strndup(nl + 1, k);
            return c;
        }
    }
    return strndup(s, n);
}

static int parse_items(json_t *obj, struct meal_estimate *est, char *why, size_t whysz)
{
    json_t *items = json_object_get(obj, "items");
    if (!json_is_array(items))
        return bad(why, whysz, "the answer has no items list%s", "");
    if (json_array_size(items) > MEAL_PORTIONS_MAX)
        return bad(why, whysz, "the answer lists more than 20 foods%s", "");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        char path[32];
        snprintf(path, sizeof path, "items[%zu]", i);
        json_t *name = json_object_get(it, "name"), *grams = json_object_get(it, "grams");
        if (!json_is_object(it))
            return bad(why, whysz, "%s is not an object", path);
        if (!json_is_string(name) || json_string_length(name) == 0 || json_string_length(name) >= MEAL_NAME_MAX)
            return bad(why, whysz, "%s.name is not a food name of 1 to 80 characters", path);
        if (!json_is_number(grams) || !(json_number_value(grams) > 0) || json_number_value(grams) > MEAL_GRAMS_MAX)
            return bad(why, whysz, "%s.grams is not a number above 0 and at most 2000", path);
        struct meal_estimate_item *e = &est->items[est->n++];
        snprintf(e->name, sizeof e->name, "%s", json_string_value(name));
        e->grams = json_number_value(grams);
    }
    json_t *conf = json_object_get(obj, "confidence");
    if (conf && !json_is_null(conf)) {
        if (!json_is_number(conf) || json_number_value(conf) < 0 || json_number_value(conf) > 1)
            return bad(why, whysz, "the answer's confidence is not a number from 0 to 1%s", "");
        est->confidence = json_number_value(conf);
    }
    return 0;
}

int meal_vision_parse(const char *body, size_t len, struct meal_estimate *est, char *why, size_t whysz)
{
    memset(est, 0, sizeof *est);
    est->confidence = 0.7;
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr), *inner = NULL;
    char *text = NULL;
    int rc;
    if (!json_is_object(root)) {
        rc = bad(why, whysz, "the model's answer is not a JSON object%s", "");
        goto out;
    }
    json_t *choice = json_array_get(json_object_get(root, "choices"), 0);
    json_t *content = json_object_get(json_object_get(choice, "message"), "content");
    if (!json_is_string(content)) {
        rc = bad(why, whysz, "the model's answer has no choices[0].message.content text%s", "");
        goto out;
    }
    text = unfence(json_string_value(content));
    if (!text) {
        rc = HF_ENOMEM;
        snprintf(why, whysz, "out of memory");
        goto out;
    }
    inner = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(inner)) {
        rc = bad(why, whysz, "the model did not answer with the JSON object asked for%s", "");
        goto out;
    }
    rc = parse_items(inner, est, why, whysz);
out:
    json_decref(root);
    json_decref(inner);
    free(text);
    return rc;
}
