#include "admin_prom.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCRAPE_MAX (4u << 20)

/* value of label key in `{a="x",b="y"}` (without the braces) into out;
 * false when absent or malformed. Escapes \\ \" \n as the format has them. */
static bool label(const char *labels, size_t len, const char *key, char *out, size_t outsz)
{
    size_t klen = strlen(key), i = 0;
    while (i < len) {
        size_t name = i;
        while (i < len && labels[i] != '=')
            i++;
        if (i + 1 >= len || labels[i + 1] != '"')
            return false;
        bool want = i - name == klen && memcmp(labels + name, key, klen) == 0;
        size_t o = 0;
        for (i += 2; i < len && labels[i] != '"'; i++) {
            char c = labels[i];
            if (c == '\\' && i + 1 < len) {
                c = labels[++i];
                if (c == 'n')
                    c = '\n';
            }
            if (want && o + 1 < outsz)
                out[o++] = c;
        }
        if (i >= len)
            return false;
        if (want) {
            out[o] = '\0';
            return true;
        }
        i++; /* the closing quote */
        if (i < len && labels[i] == ',')
            i++;
    }
    return false;
}

static struct admin_pool_stats *pool_of(struct admin_pools *p, const char *name, struct hf_err *err)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].pool, name) == 0)
            return &p->v[i];
    struct admin_pool_stats *v = realloc(p->v, (p->n + 1) * sizeof *v);
    if (!v) {
        hf_err_set(err, HF_ENOMEM, false, "out of memory");
        return NULL;
    }
    p->v = v;
    memset(&v[p->n], 0, sizeof v[p->n]);
    snprintf(v[p->n].pool, sizeof v[p->n].pool, "%s", name);
    return &v[p->n++];
}

static int add_bucket(struct admin_pool_stats *s, double le, double cum, struct hf_err *err)
{
    int i = 0;
    while (i < s->n_buckets && s->le[i] < le)
        i++;
    if (i < s->n_buckets && s->le[i] == le) {
        s->cum[i] += cum;
        return 0;
    }
    if (s->n_buckets == ADMIN_PROM_BUCKETS)
        return hf_err_set(err, HF_EINVAL, false, "pool %s: more than %d histogram buckets", s->pool,
                          ADMIN_PROM_BUCKETS);
    memmove(&s->le[i + 1], &s->le[i], (size_t)(s->n_buckets - i) * sizeof s->le[0]);
    memmove(&s->cum[i + 1], &s->cum[i], (size_t)(s->n_buckets - i) * sizeof s->cum[0]);
    s->le[i] = le;
    s->cum[i] = cum;
    s->n_buckets++;
    return 0;
}

/* One sample line; names we do not read are skipped. */
static int add_line(struct admin_pools *p, const char *line, size_t len, bool *seen, struct hf_err *err)
{
    static const char *const names[] = { "hf_messages_total",      "hf_attempts_failed_total", "hf_retries_total",
                                         "hf_consumer_lag_messages", "hf_dependency_outage",     "hf_handler_seconds_bucket",
                                         "hf_handler_seconds_count", "hf_handler_seconds_sum" };
    size_t nlen = strcspn(line, "{ ");
    int which = -1;
    for (int k = 0; k < (int)(sizeof names / sizeof names[0]); k++)
        if (nlen == strlen(names[k]) && memcmp(line, names[k], nlen) == 0)
            which = k;
    if (which < 0 || nlen >= len || line[nlen] != '{')
        return 0; /* not ours, or without labels: no pool to add it to */
    const char *labels = line + nlen + 1, *close = memchr(labels, '}', len - nlen - 1);
    char pool[64], outcome[32], le[32], *end = NULL;
    if (!close || !label(labels, (size_t)(close - labels), "pool", pool, sizeof pool))
        return hf_err_set(err, HF_EINVAL, false, "cannot read the labels of \"%.*s\"", (int)(len < 120 ? len : 120),
                          line);
    double v = strtod(close + 1, &end);
    if (end == close + 1 || isnan(v))
        return hf_err_set(err, HF_EINVAL, false, "no value in \"%.*s\"", (int)(len < 120 ? len : 120), line);
    struct admin_pool_stats *s = pool_of(p, pool, err);
    if (!s)
        return HF_ENOMEM;
    if (!seen[s - p->v]) {
        seen[s - p->v] = true;
        s->endpoints++;
    }
    size_t llen = (size_t)(close - labels);
    switch (which) {
    case 0:
        if (!label(labels, llen, "outcome", outcome, sizeof outcome))
            return 0;
        if (strcmp(outcome, "processed") == 0)
            s->processed += v;
        else if (strcmp(outcome, "replayed") == 0)
            s->replayed += v;
        else if (strcmp(outcome, "dead_lettered") == 0)
            s->dead_lettered += v;
        return 0;
    case 1: s->failed += v; return 0;
    case 2: s->retried += v; return 0;
    case 3: s->lag += v; return 0;
    case 4: s->outage = v > s->outage ? v : s->outage; return 0;
    case 5:
        if (!label(labels, llen, "le", le, sizeof le))
            return hf_err_set(err, HF_EINVAL, false, "a bucket of pool %s has no le label", pool);
        return add_bucket(s, strtod(le, NULL), v, err);
    case 6: s->count += v; return 0;
    default: s->sum += v; return 0;
    }
}

int admin_prom_add(struct admin_pools *pools, const char *text, struct hf_err *err)
{
    /* which pools this endpoint has reported, to count endpoints per pool */
    bool *seen = NULL;
    size_t seen_n = 0;
    int rc = 0;
    for (const char *line = text; *line && rc == 0;) {
        size_t len = strcspn(line, "\n");
        if (seen_n < pools->n + 1) {
            bool *s = realloc(seen, (pools->n + 1) * sizeof *s);
            if (!s) {
                rc = hf_err_set(err, HF_ENOMEM, false, "out of memory");
                break;
            }
            memset(s + seen_n, 0, (pools->n + 1 - seen_n) * sizeof *s);
            seen = s;
            seen_n = pools->n + 1;
        }
        if (len > 0 && line[0] != '#')
            rc = add_line(pools, line, len, seen, err);
        line += len + (line[len] ? 1 : 0);
    }
    free(seen);
    return rc;
}

double admin_prom_quantile(const struct admin_pool_stats *s, double q)
{
    if (s->n_buckets == 0 || s->cum[s->n_buckets - 1] <= 0)
        return NAN;
    double rank = q * s->cum[s->n_buckets - 1];
    int i = 0;
    while (i < s->n_buckets - 1 && s->cum[i] < rank)
        i++;
    if (isinf(s->le[i]))
        return i > 0 ? s->le[i - 1] : NAN;
    double lo = i > 0 ? s->le[i - 1] : 0, below = i > 0 ? s->cum[i - 1] : 0, in = s->cum[i] - below;
    if (in <= 0)
        return s->le[i];
    return lo + (s->le[i] - lo) * (rank - below) / in;
}

static json_t *number_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *admin_prom_json(const struct admin_pools *pools)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < pools->n; i++) {
        const struct admin_pool_stats *s = &pools->v[i];
        json_array_append_new(
            a, json_pack("{s:s, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:b, s:f, s:o, s:o, s:o, s:o}", "pool", s->pool,
                         "endpoints", s->endpoints, "processed", s->processed, "replayed", s->replayed,
                         "dead_lettered", s->dead_lettered, "failed", s->failed, "retried", s->retried, "lag", s->lag,
                         "outage", s->outage > 0, "handled", s->count, "mean_s",
                         number_or_null(s->count > 0 ? s->sum / s->count : NAN), "p50_s",
                         number_or_null(admin_prom_quantile(s, 0.50)), "p95_s",
                         number_or_null(admin_prom_quantile(s, 0.95)), "p99_s",
                         number_or_null(admin_prom_quantile(s, 0.99))));
    }
    return a;
}

struct body {
    char *p;
    size_t len;
    bool too_big;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
    struct body *b = arg;
    size_t add = size * n;
    if (b->len + add >= SCRAPE_MAX) {
        b->too_big = true;
        return 0;
    }
    char *p = realloc(b->p, b->len + add + 1);
    if (!p)
        return 0;
    memcpy(p + b->len, data, add);
    b->p = p;
    b->len += add;
    p[b->len] = '\0';
    return add;
}

/* host:port with a port of digits; the port's colon or NULL. */
static const char *port_colon(const char *endpoint)
{
    size_t n = strlen(endpoint);
    const char *colon = strrchr(endpoint, ':');
    if (n == 0 || n > 200 || !colon || colon == endpoint || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
        !colon[1] || strlen(colon + 1) > 5 || strpbrk(endpoint, "/?#@ "))
        return NULL;
    return colon;
}

int admin_prom_addresses(const char *endpoint, char (*out)[ADMIN_PROM_ADDR], int max, int *n, struct hf_err *err)
{
    *n = 0;
    const char *colon = port_colon(endpoint);
    if (!colon)
        return hf_err_field(err, HF_EINVAL, "HF_ADMIN_SCRAPE", "\"%s\" is not host:port", endpoint);
    char host[208];
    snprintf(host, sizeof host, "%.*s", (int)(colon - endpoint), endpoint);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [ip6]:port */
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc)
        return hf_err_set(err, HF_EUNAVAIL, true, "%s: %s", endpoint, gai_strerror(rc));
    for (struct addrinfo *ai = res; ai && *n < max; ai = ai->ai_next) {
        char ip[INET6_ADDRSTRLEN], addr[ADMIN_PROM_ADDR];
        const void *a = ai->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                                                 : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) || !inet_ntop(ai->ai_family, a, ip, sizeof ip))
            continue;
        snprintf(addr, sizeof addr, ai->ai_family == AF_INET ? "%s:%s" : "[%s]:%s", ip, colon + 1);
        bool dup = false;
        for (int k = 0; k < *n && !dup; k++)
            dup = strcmp(out[k], addr) == 0;
        if (!dup)
            memcpy(out[(*n)++], addr, strlen(addr) + 1);
    }
    freeaddrinfo(res);
    return 0;
}

int admin_prom_scrape(const char *endpoint, int timeout_ms, char **text, struct hf_err *err)
{
    *text = NULL;
    if (!port_colon(endpoint))
        return hf_err_field(err, HF_EINVAL, "HF_ADMIN_SCRAPE", "\"%s\" is not host:port", endpoint);
    char url[256];
    snprintf(url, sizeof url, "http://%s/metrics", endpoint);
    struct body b = { 0 };
    CURL *c = curl_easy_init();
    if (!c)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    int rc = 0;
    if (b.too_big)
        rc = hf_err_set(err, HF_ETOOBIG, false, "%s/metrics is larger than %u bytes", endpoint, SCRAPE_MAX);
    else if (cc != CURLE_OK || status != 200)
        rc = hf_err_set(err, HF_EUNAVAIL, true, "%s/metrics: %s", endpoint,
                        cc != CURLE_OK ? curl_easy_strerror(cc) : "not HTTP 200");
    else if (!b.p && !(b.p = calloc(1, 1)))
        rc = hf_err_set(err, HF_ENOMEM, false, "out of memory");
    if (rc) {
        free(b.p);
        return rc;
    }
    *text = b.p;
    return 0;
}
