/* hf-loadgen: posts a file of requests to hf-intake over N keep-alive
 * connections (curl multi), at a target rate or as fast as the intake
 * answers, and reports what came back.
 *
 * Input, one request a line (blank lines and lines starting with # skipped):
 *   E {...}          one event, POST /v1/events
 *   B [{...}, ...]   a batch, POST /v1/events/batch
 * The file says nothing about where or how fast: that is the options' job, so
 * the same file serves the demo and a benchmark.
 *
 * Counts: requests by HTTP status; events accepted, and events refused by
 * error.code and error.field (a batch's per-item results when the answer has
 * them, else the whole batch under the answer's error). Latency is per
 * request, from handing it to curl to the last byte of the answer (202 means
 * Kafka has the records), kept for every request and sorted for percentiles.
 *
 * --log FILE writes one line per answered request, in the order answered:
 * "<request index in the input> <HTTP status, 0 when none came> <items>",
 * items being the batch answer's per-event statuses joined by commas, or "-".
 * A test that puts its own event_id in every event then knows which events
 * were accepted (tools/chaos).
 *
 * Bounded: it stops when the input is used up (or, with --loop, when
 * --duration is up), then waits for the requests in flight, each limited by
 * --timeout. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_config.h"
#include "hf_time.h"

enum kind { SINGLE, BATCH, N_KINDS };
static const char *const kind_names[N_KINDS] = { "single", "batch" };

struct request {
    enum kind kind;
    char *body;
    size_t len;
    int events; /* 1 for a single; the array's length for a batch (1 if it is not JSON) */
};

struct conn {
    CURL *easy;
    bool busy;
    size_t req;
    int64_t t0;
    char *resp;
    size_t resp_len, resp_cap;
};

struct reason {
    char *code, *field;
    long events;
};

struct latency {
    uint32_t *us;
    size_t n, cap;
};

struct stats {
    long requests, status[600], transport_errors;
    long events_started; /* in requests handed to curl */
    long events_sent, accepted, rejected; /* in requests answered (or failed) */
    struct reason *reasons;
    size_t n_reasons, cap_reasons;
    struct latency lat[N_KINDS + 1]; /* per kind, and all */
};

struct options {
    char url[512];
    const char *key;
    int connections;
    double rate;     /* requests per second, 0: as fast as possible */
    double duration; /* seconds, 0: no limit */
    double timeout;  /* seconds per request */
    bool loop, json;
    const char *status_file;
    const char *log_file;
    const char *input;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("hf-loadgen: out of memory\n", stderr);
        exit(1);
    }
    return q;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) {
        fputs("hf-loadgen: out of memory\n", stderr);
        exit(1);
    }
    return d;
}

static void usage(FILE *f)
{
    fputs("usage: hf-loadgen [options] FILE|-\n"
          "  FILE: one request a line, \"E <event JSON>\" or \"B <JSON array of events>\"\n"
          "  -u, --url URL          intake base URL (default http://127.0.0.1:$HF_INTAKE_PORT)\n"
          "  -k, --key KEY          API key (default $HF_API_KEY)\n"
          "  -c, --connections N    keep-alive connections, 1-1024 (default 32)\n"
          "  -r, --rate N           requests per second, 0 = as fast as possible (default 0)\n"
          "  -d, --duration S       stop sending after S seconds (default: when the input ends)\n"
          "  -l, --loop             start the input again when it ends (needs --duration)\n"
          "  -t, --timeout S        limit per request (default 30)\n"
          "  -s, --status FILE      rewrite FILE a few times a second with progress counters\n"
          "  -L, --log FILE         one line per answer: request index, HTTP status, batch item statuses\n"
          "  -j, --json             print the summary as JSON\n",
          f);
}

/* ---------- input ---------- */

static struct request *load_requests(const char *path, size_t *n_out)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "hf-loadgen: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    struct request *reqs = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    char *line = NULL;
    size_t linecap = 0;
    ssize_t len;
    while ((len = getline(&line, &linecap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        if (len < 3 || (line[0] != 'E' && line[0] != 'B') || line[1] != ' ') {
            fprintf(stderr, "hf-loadgen: %s:%zu: a line starts with \"E \" (one event) or \"B \" (a batch)\n", path,
                    lineno);
            exit(2);
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            reqs = xrealloc(reqs, cap * sizeof *reqs);
        }
        struct request *r = &reqs[n++];
        r->kind = line[0] == 'B' ? BATCH : SINGLE;
        r->body = xstrdup(line + 2);
        r->len = (size_t)len - 2;
        r->events = 1;
        if (r->kind == BATCH) {
            /* Deliberately broken bodies are allowed: they count as one event. */
            json_t *doc = json_loadb(r->body, r->len, 0, NULL);
            if (json_is_array(doc) && json_array_size(doc) > 0)
                r->events = (int)json_array_size(doc);
            json_decref(doc);
        }
    }
    free(line);
    if (f != stdin)
        fclose(f);
    *n_out = n;
    return reqs;
}

/* ---------- counting ---------- */

static void add_reason(struct stats *st, const char *code, const char *field, long events)
{
    code = code && *code ? code : "unknown";
    field = field ? field : "";
    st->rejected += events;
    for (size_t i = 0; i < st->n_reasons; i++)
        if (strcmp(st->reasons[i].code, code) == 0 && strcmp(st->reasons[i].field, field) == 0) {
            st->reasons[i].events += events;
            return;
        }
    if (st->n_reasons == st->cap_reasons) {
        st->cap_reasons = st->cap_reasons ? st->cap_reasons * 2 : 16;
        st->reasons = xrealloc(st->reasons, st->cap_reasons * sizeof *st->reasons);
    }
    st->reasons[st->n_reasons++] = (struct reason){ xstrdup(code), xstrdup(field), events };
}

static void add_error(struct stats *st, const json_t *error, long status, long events)
{
    char fallback[32];
    snprintf(fallback, sizeof fallback, "http_%ld", status);
    const char *code = json_string_value(json_object_get(error, "code"));
    add_reason(st, code ? code : fallback, json_string_value(json_object_get(error, "field")), events);
}

static void add_latency(struct latency *l, int64_t us)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        l->us = xrealloc(l->us, l->cap * sizeof *l->us);
    }
    l->us[l->n++] = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* One line of --log: see the header comment. */
static void log_answer(FILE *log, size_t idx, long status, const json_t *results)
{
    if (!log)
        return;
    fprintf(log, "%zu %ld ", idx, status);
    size_t i;
    const json_t *one;
    json_array_foreach(results, i, one) {
        fprintf(log, "%s%lld", i ? "," : "", (long long)json_integer_value(json_object_get(one, "status")));
    }
    fputs(json_array_size(results) ? "\n" : "-\n", log);
}

/* One answer: which of the request's events were accepted, and why the others were not. */
static void account(struct stats *st, FILE *log, size_t idx, const struct request *r, CURLcode cc, long status,
                    const char *body, size_t len, int64_t us)
{
    st->requests++;
    st->events_sent += r->events;
    if (cc != CURLE_OK) {
        log_answer(log, idx, 0, NULL);
        st->transport_errors++;
        add_reason(st, "transport", curl_easy_strerror(cc), r->events);
        return;
    }
    add_latency(&st->lat[r->kind], us);
    add_latency(&st->lat[N_KINDS], us);
    st->status[status > 0 && status < 600 ? status : 0]++;
    json_t *doc = json_loadb(body ? body : "", len, 0, NULL);
    const json_t *results = json_object_get(doc, "results");
    log_answer(log, idx, status, r->kind == BATCH && json_is_array(results) ? results : NULL);
    if (r->kind == BATCH && json_is_array(results)) {
        size_t i;
        const json_t *one;
        json_array_foreach(results, i, one) {
            json_int_t s = json_integer_value(json_object_get(one, "status"));
            if (s == 202)
                st->accepted++;
            else
                add_error(st, json_object_get(one, "error"), (long)s, 1);
        }
        long missing = r->events - (long)json_array_size(results);
        if (missing > 0) /* the answer does not cover every event: count the rest as refused */
            add_reason(st, "no_result", "", missing);
    } else if (status == 202) {
        st->accepted += r->events;
    } else {
        add_error(st, json_object_get(doc, "error"), status, r->events);
    }
    json_decref(doc);
}

/* ---------- reporting ---------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank, in milliseconds; the array must be sorted. */
static double pct_ms(const struct latency *l, double q)
{
    if (!l->n)
        return 0;
    size_t rank = (size_t)ceil(q * (double)l->n);
    if (rank < 1)
        rank = 1;
    return l->us[rank - 1] / 1000.0;
}

static int cmp_reason(const void *a, const void *b)
{
    const struct reason *x = a, *y = b;
    if (x->events != y->events)
        return x->events > y->events ? -1 : 1;
    int c = strcmp(x->code, y->code);
    return c ? c : strcmp(x->field, y->field);
}

static void write_status(const struct options *o, const struct stats *st, long total_requests, long total_events,
                         int64_t elapsed_us, bool done)
{
    if (!o->status_file)
        return;
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", o->status_file);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    /* key=value on one line: easy to read from a shell loop. */
    fprintf(f,
            "requests=%ld total_requests=%ld sent=%ld answered=%ld total_events=%ld accepted=%ld rejected=%ld"
            " elapsed_ms=%lld done=%d\n",
            st->requests, total_requests, st->events_started, st->events_sent, total_events, st->accepted,
            st->rejected, (long long)(elapsed_us / 1000), done ? 1 : 0);
    if (fclose(f) == 0)
        rename(tmp, o->status_file);
}

static void print_text(const struct options *o, struct stats *st, double secs)
{
    printf("requests  %ld in %.2f s (%.0f/s) over %d connection(s)%s\n", st->requests, secs,
           secs > 0 ? st->requests / secs : 0, o->connections,
           o->rate > 0 ? "" : ", as fast as answered");
    printf("events    %ld sent, %ld accepted, %ld refused; %.0f events/s sent, %.0f accepted/s\n", st->events_sent,
           st->accepted, st->rejected, secs > 0 ? st->events_sent / secs : 0, secs > 0 ? st->accepted / secs : 0);
    static const char *const labels[N_KINDS + 1] = { "single", "batch", "all" };
    for (int k = N_KINDS; k >= 0; k--) {
        const struct latency *l = &st->lat[k];
        if (!l->n || (k < N_KINDS && l->n == st->lat[N_KINDS].n))
            continue; /* one kind only: "all" says it */
        printf("latency   %-6s p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms  max %7.2f ms  (%zu requests)\n", labels[k],
               pct_ms(l, 0.50), pct_ms(l, 0.90), pct_ms(l, 0.99), pct_ms(l, 1.0), l->n);
    }
    printf("status   ");
    for (int s = 0; s < 600; s++)
        if (st->status[s])
            printf(" %d: %ld", s, st->status[s]);
    if (st->transport_errors)
        printf("  transport errors: %ld", st->transport_errors);
    printf("\n");
    if (st->n_reasons) {
        printf("refused events by error.code and error.field:\n");
        for (size_t i = 0; i < st->n_reasons; i++) {
            const struct reason *r = &st->reasons[i];
            if (*r->field)
                printf("  %6ld  %-22s %s\n", r->events, r->code, r->field);
            else
                printf("  %6ld  %s\n", r->events, r->code);
        }
    }
}

static void print_json(const struct options *o, struct stats *st, double secs)
{
    json_t *out = json_object(), *status = json_object(), *errors = json_object(), *reasons = json_array(),
           *lat = json_object();
    for (int s = 0; s < 600; s++)
        if (st->status[s]) {
            char k[8];
            snprintf(k, sizeof k, "%d", s);
            json_object_set_new(status, k, json_integer(st->status[s]));
        }
    for (size_t i = 0; i < st->n_reasons; i++) {
        const struct reason *r = &st->reasons[i];
        json_int_t prev = json_integer_value(json_object_get(errors, r->code));
        json_object_set_new(errors, r->code, json_integer(prev + r->events));
        json_array_append_new(reasons,
                              json_pack("{s:s, s:s, s:I}", "code", r->code, "field", r->field, "events",
                                        (json_int_t)r->events));
    }
    for (int k = 0; k <= N_KINDS; k++) {
        const struct latency *l = &st->lat[k];
        json_object_set_new(lat, k == N_KINDS ? "all" : kind_names[k],
                            json_pack("{s:I, s:f, s:f, s:f, s:f}", "requests", (json_int_t)l->n, "p50", pct_ms(l, 0.5),
                                      "p90", pct_ms(l, 0.9), "p99", pct_ms(l, 0.99), "max", pct_ms(l, 1.0)));
    }
    json_object_set_new(out, "seconds", json_real(secs));
    json_object_set_new(out, "connections", json_integer(o->connections));
    json_object_set_new(out, "rate", json_real(o->rate));
    json_object_set_new(out, "requests", json_integer(st->requests));
    json_object_set_new(out, "transport_errors", json_integer(st->transport_errors));
    json_object_set_new(out, "events",
                        json_pack("{s:I, s:I, s:I}", "sent", (json_int_t)st->events_sent, "accepted",
                                  (json_int_t)st->accepted, "refused", (json_int_t)st->rejected));
    json_object_set_new(out, "per_second",
                        json_pack("{s:f, s:f, s:f}", "requests", secs > 0 ? st->requests / secs : 0.0, "events",
                                  secs > 0 ? st->events_sent / secs : 0.0, "accepted",
                                  secs > 0 ? st->accepted / secs : 0.0));
    json_object_set_new(out, "latency_ms", lat);
    json_object_set_new(out, "status", status);
    json_object_set_new(out, "errors", errors);
    json_object_set_new(out, "reasons", reasons);
    char *text = json_dumps(out, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    if (text)
        puts(text);
    free(text);
    json_decref(out);
}

/* ---------- HTTP ---------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct conn *c = arg;
    size_t n = size * nmemb;
    if (c->resp_len + n + 1 > c->resp_cap) {
        c->resp_cap = (c->resp_len + n + 1) * 2;
        c->resp = xrealloc(c->resp, c->resp_cap);
    }
    memcpy(c->resp + c->resp_len, data, n);
    c->resp_len += n;
    c->resp[c->resp_len] = '\0';
    return n;
}

static void start(CURLM *multi, struct conn *c, size_t idx, const struct request *r, const char *url_event,
                  const char *url_batch)
{
    c->busy = true;
    c->req = idx;
    c->resp_len = 0;
    curl_easy_setopt(c->easy, CURLOPT_URL, r->kind == BATCH ? url_batch : url_event);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
    c->t0 = hf_time_mono_us();
    curl_multi_add_handle(multi, c->easy);
}

static bool parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "url", required_argument, NULL, 'u' },      { "key", required_argument, NULL, 'k' },
        { "connections", required_argument, NULL, 'c' }, { "rate", required_argument, NULL, 'r' },
        { "duration", required_argument, NULL, 'd' }, { "loop", no_argument, NULL, 'l' },
        { "timeout", required_argument, NULL, 't' },  { "status", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' },           { "log", required_argument, NULL, 'L' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct hf_config cfg;
    struct hf_err err = { 0 };
    int port = 8080;
    if (hf_config_load(&cfg, &err) == 0)
        port = cfg.intake_port;
    snprintf(o->url, sizeof o->url, "http://127.0.0.1:%d", port);
    o->key = getenv("HF_API_KEY");
    o->connections = 32;
    o->timeout = 30;
    int ch;
    double v;
    while ((ch = getopt_long(argc, argv, "u:k:c:r:d:lt:s:L:jh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'u':
            snprintf(o->url, sizeof o->url, "%s", optarg);
            break;
        case 'k':
            o->key = optarg;
            break;
        case 'c':
            if (!parse_num(optarg, 1, 1024, &v) || v != floor(v))
                goto bad;
            o->connections = (int)v;
            break;
        case 'r':
            if (!parse_num(optarg, 0, 1e7, &o->rate))
                goto bad;
            break;
        case 'd':
            if (!parse_num(optarg, 0, 1e6, &o->duration))
                goto bad;
            break;
        case 'l':
            o->loop = true;
            break;
        case 't':
            if (!parse_num(optarg, 0.001, 3600, &o->timeout))
                goto bad;
            break;
        case 's':
            o->status_file = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        case 'L':
            o->log_file = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            exit(2);
        }
        continue;
    bad:
        fprintf(stderr, "hf-loadgen: bad value for -%c: %s\n", ch, optarg);
        exit(2);
    }
    if (optind != argc - 1) {
        usage(stderr);
        exit(2);
    }
    o->input = argv[optind];
    if (!o->key || !*o->key) {
        fputs("hf-loadgen: no API key: pass --key or set HF_API_KEY (hfctl client create NAME prints one)\n", stderr);
        exit(2);
    }
    if (o->loop && o->duration <= 0) {
        fputs("hf-loadgen: --loop needs --duration, or it would never stop\n", stderr);
        exit(2);
    }
    size_t ulen = strlen(o->url);
    while (ulen > 0 && o->url[ulen - 1] == '/')
        o->url[--ulen] = '\0';
}

int main(int argc, char **argv)
{
    struct options o = { 0 };
    parse_options(argc, argv, &o);
    size_t n_reqs = 0;
    struct request *reqs = load_requests(o.input, &n_reqs);
    if (n_reqs == 0) {
        fprintf(stderr, "hf-loadgen: %s has no requests\n", o.input);
        return 2;
    }
    long total_events = 0;
    for (size_t i = 0; i < n_reqs; i++)
        total_events += reqs[i].events;
    long total_requests = o.loop ? -1 : (long)n_reqs;
    if (o.loop)
        total_events = -1;

    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("hf-loadgen: curl_global_init failed\n", stderr);
        return 1;
    }
    char url_event[600], url_batch[620], auth[600];
    snprintf(url_event, sizeof url_event, "%s/v1/events", o.url);
    snprintf(url_batch, sizeof url_batch, "%s/v1/events/batch", o.url);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", o.key);
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, auth);
    headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip for large bodies */

    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o.connections);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)o.connections);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)o.connections);
    struct conn *conns = calloc((size_t)o.connections, sizeof *conns);
    if (!multi || !headers || !conns) {
        fputs("hf-loadgen: out of memory\n", stderr);
        return 1;
    }
    for (int i = 0; i < o.connections; i++) {
        CURL *e = conns[i].easy = curl_easy_init();
        if (!e) {
            fputs("hf-loadgen: curl_easy_init failed\n", stderr);
            return 1;
        }
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &conns[i]);
        curl_easy_setopt(e, CURLOPT_PRIVATE, &conns[i]);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(o.timeout * 1000));
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
        curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    }

    FILE *log = NULL;
    if (o.log_file && !(log = fopen(o.log_file, "w"))) {
        fprintf(stderr, "hf-loadgen: %s: %s\n", o.log_file, strerror(errno));
        return 2;
    }
    struct stats st = { 0 };
    int64_t t0 = hf_time_mono_us(), last_status = 0;
    size_t started = 0; /* requests handed to curl; the input index is started % n_reqs */
    int in_flight = 0;
    write_status(&o, &st, total_requests, total_events, 0, false);
    for (;;) {
        int64_t now = hf_time_mono_us();
        bool sending = !interrupted && (o.duration <= 0 || now - t0 < (int64_t)(o.duration * 1e6)) &&
                       (o.loop || started < n_reqs);
        while (sending && in_flight < o.connections &&
               (o.rate <= 0 || now >= t0 + (int64_t)((double)started * 1e6 / o.rate))) {
            struct conn *c = NULL;
            for (int i = 0; i < o.connections && !c; i++)
                if (!conns[i].busy)
                    c = &conns[i];
            size_t idx = started % n_reqs;
            start(multi, c, idx, &reqs[idx], url_event, url_batch);
            st.events_started += reqs[idx].events;
            started++;
            in_flight++;
            sending = o.loop || started < n_reqs;
        }
        if (!sending && in_flight == 0)
            break;
        int running = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct conn *c = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            CURLcode cc = msg->data.result;
            long status = 0;
            curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
            account(&st, log, c->req, &reqs[c->req], cc, status, c->resp, c->resp_len, hf_time_mono_us() - c->t0);
            curl_multi_remove_handle(multi, c->easy);
            c->busy = false;
            in_flight--;
        }
        now = hf_time_mono_us();
        if (now - last_status >= 200000) {
            write_status(&o, &st, total_requests, total_events, now - t0, false);
            last_status = now;
        }
        int wait_ms = 50;
        if (sending && in_flight < o.connections) {
            if (o.rate <= 0) {
                wait_ms = 0;
            } else {
                int64_t due = t0 + (int64_t)((double)started * 1e6 / o.rate) - now;
                wait_ms = due <= 0 ? 0 : due < 50000 ? (int)(due / 1000) : 50;
            }
        }
        if (wait_ms > 0 || in_flight > 0)
            curl_multi_poll(multi, NULL, 0, wait_ms, NULL);
    }
    double secs = (double)(hf_time_mono_us() - t0) / 1e6;
    if (log && fclose(log) != 0) {
        fprintf(stderr, "hf-loadgen: %s: %s\n", o.log_file, strerror(errno));
        return 1;
    }
    write_status(&o, &st, total_requests, total_events, hf_time_mono_us() - t0, true);

    /* qsort's array must not be NULL even when empty (UBSan holds it to that). */
    for (int k = 0; k <= N_KINDS; k++)
        if (st.lat[k].n)
            qsort(st.lat[k].us, st.lat[k].n, sizeof *st.lat[k].us, cmp_u32);
    if (st.n_reasons)
        qsort(st.reasons, st.n_reasons, sizeof *st.reasons, cmp_reason);
    if (o.json)
        print_json(&o, &st, secs);
    else
        print_text(&o, &st, secs);

    for (int i = 0; i < o.connections; i++) {
        curl_easy_cleanup(conns[i].easy);
        free(conns[i].resp);
    }
    free(conns);
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    curl_global_cleanup();
    for (size_t i = 0; i < n_reqs; i++)
        free(reqs[i].body);
    free(reqs);
    for (size_t i = 0; i < st.n_reasons; i++) {
        free(st.reasons[i].code);
        free(st.reasons[i].field);
    }
    free(st.reasons);
    for (int k = 0; k <= N_KINDS; k++)
        free(st.lat[k].us);
    return interrupted ? 130 : 0;
}
