#include "meal_analyzer.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hf_breaker.h"
#include "hf_log.h"
#include "hf_time.h"
#include "meal_bytes.h"
#include "meal_net.h"

#define MAX_REDIRECTS 3
#define ANSWER_MAX (1024 * 1024) /* a vision answer is a few hundred bytes */
#define RETRY_BASE_MS 250

struct meal_analyzer {
    struct hf_config cfg;
    CURLM *multi;
    hf_breaker *breaker;
    hf_bucket *bucket;
    char endpoint[600];
    struct curl_slist *provider_headers;
};

/* PH_READY: fetched and checked, the request built, waiting for one of the
 * concurrency's places at the model. */
enum phase { PH_FETCH, PH_READY, PH_ASK, PH_WAIT_ASK, PH_DONE };

struct slot {
    meal_analyzer *a;
    struct meal_job *job;
    enum phase phase;
    CURL *easy;
    char url[2100];
    char host[256];
    long port;
    int redirects, attempts;
    int64_t not_before_ms;
    unsigned char *data; /* the response body so far */
    size_t len, cap, limit;
    bool too_big;
    char refused[160]; /* set by the connect check */
    unsigned char *image;
    size_t image_len;
    char *request;
};

static int64_t now_ms(void)
{
    return hf_time_mono_us() / 1000;
}

static void finish(struct slot *s, enum meal_outcome outcome, const char *fmt, const char *arg)
{
    s->job->outcome = outcome;
    if (fmt)
        snprintf(s->job->why, sizeof s->job->why, fmt, arg);
    s->phase = PH_DONE;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct slot *s = arg;
    size_t n = size * nmemb;
    if (s->len + n > s->limit) {
        s->too_big = true;
        return 0; /* aborts the transfer */
    }
    if (s->len + n > s->cap) {
        size_t ncap = s->cap ? s->cap : 64 * 1024;
        while (ncap < s->len + n)
            ncap *= 2;
        if (ncap > s->limit)
            ncap = s->limit;
        unsigned char *d = realloc(s->data, ncap);
        if (!d)
            return 0;
        s->data = d;
        s->cap = ncap;
    }
    memcpy(s->data + s->len, ptr, n);
    s->len += n;
    return n;
}

/* Runs after DNS, before connect: the address itself is judged, so neither
 * a rebinding DNS answer nor a redirect reaches an internal address. */
static curl_socket_t on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *address)
{
    struct slot *s = arg;
    const char *why = meal_addr_refusal(&address->addr, s->a->cfg.meal_image_allow_private != 0);
    if (purpose != CURLSOCKTYPE_IPCXN || why) {
        snprintf(s->refused, sizeof s->refused, "%s", why ? why : "not a plain connection");
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

/* Host and port of url, which must be https; false with the reason in why. */
static bool url_parts(const char *url, char *host, size_t hostsz, long *port, char *why, size_t whysz)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *h = NULL, *p = NULL;
    bool ok = false;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK) {
        snprintf(why, whysz, "the image address is not a valid URL");
    } else if (strcasecmp(scheme, "https") != 0) {
        snprintf(why, whysz, "the image address is not https (%s)", scheme);
    } else {
        curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT);
        snprintf(host, hostsz, "%s", h);
        *port = p ? strtol(p, NULL, 10) : 443;
        ok = true;
    }
    curl_free(scheme);
    curl_free(h);
    curl_free(p);
    curl_url_cleanup(u);
    return ok;
}

static void reset_body(struct slot *s, size_t limit)
{
    s->len = 0;
    s->too_big = false;
    s->refused[0] = '\0';
    s->limit = limit;
}

static void start_fetch(struct slot *s)
{
    const struct hf_config *c = &s->a->cfg;
    if (!meal_host_allowed(c->meal_image_hosts, s->host)) {
        finish(s, MEAL_VISION_FAILED, "the image host %s is not on the allow list", s->host);
        return;
    }
    reset_body(s, (size_t)c->meal_image_max_bytes);
    CURL *e = s->easy;
    curl_easy_reset(e);
    curl_easy_setopt(e, CURLOPT_URL, s->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* redirects are judged below, one by one */
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");       /* the address checked is the one connected to */
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, s);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->meal_fetch_connect_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->meal_fetch_timeout_ms);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->meal_image_max_bytes);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "healthfleet-meal-image/1");
    curl_easy_setopt(e, CURLOPT_PRIVATE, s);
    if (c->meal_ca_file[0])
        curl_easy_setopt(e, CURLOPT_CAINFO, c->meal_ca_file);
    s->phase = PH_FETCH;
    curl_multi_add_handle(s->a->multi, e);
}

static void start_ask(struct slot *s)
{
    meal_analyzer *a = s->a;
    int64_t t = now_ms();
    /* The bucket first: a call that must wait has not been admitted by the
     * breaker, so it holds no half-open trial while it waits. */
    int64_t wait = hf_bucket_take(a->bucket, t);
    if (wait > 0) {
        s->phase = PH_WAIT_ASK;
        s->not_before_ms = t + wait;
        return;
    }
    if (!hf_breaker_allow(a->breaker, t)) {
        finish(s, MEAL_VISION_FAILED, "the vision service is failing; its circuit breaker is %s", "open");
        return;
    }
    reset_body(s, ANSWER_MAX);
    CURL *e = s->easy;
    curl_easy_reset(e);
    curl_easy_setopt(e, CURLOPT_URL, a->endpoint);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, a->provider_headers);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, s->request);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)a->cfg.meal_fetch_connect_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)a->cfg.meal_provider_timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PRIVATE, s);
    if (a->cfg.meal_ca_file[0])
        curl_easy_setopt(e, CURLOPT_CAINFO, a->cfg.meal_ca_file);
    s->phase = PH_ASK;
    curl_multi_add_handle(a->multi, e);
}

static const char *fetch_error(struct slot *s, CURLcode rc, char *buf, size_t bufsz)
{
    if (s->refused[0])
        snprintf(buf, bufsz, "the image host %s resolves to %s, which is not allowed", s->host, s->refused);
    else if (s->too_big || rc == CURLE_FILESIZE_EXCEEDED)
        snprintf(buf, bufsz, "the image is larger than %d bytes", s->a->cfg.meal_image_max_bytes);
    else if (rc == CURLE_OPERATION_TIMEDOUT)
        snprintf(buf, bufsz, "the image host %s did not send the image in time", s->host);
    else if (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR)
        snprintf(buf, bufsz, "the image download from %s was cut short", s->host);
    else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR)
        snprintf(buf, bufsz, "the image host %s has no trusted TLS certificate", s->host);
    else
        snprintf(buf, bufsz, "the image could not be fetched from %s (%s)", s->host, curl_easy_strerror(rc));
    return buf;
}

/* A 3xx: follow it only to the same host and port, over https. */
static void on_redirect(struct slot *s)
{
    char *loc = NULL, host[256];
    long port = 0;
    curl_easy_getinfo(s->easy, CURLINFO_REDIRECT_URL, &loc);
    if (!loc) {
        finish(s, MEAL_VISION_FAILED, "the image host answered a redirect without a location%s", "");
        return;
    }
    char target[2100], why[400];
    snprintf(target, sizeof target, "%s", loc);
    if (!url_parts(target, host, sizeof host, &port, why, sizeof why)) {
        finish(s, MEAL_VISION_FAILED, "the image URL redirects somewhere refused: %s", why);
        return;
    }
    if (strcasecmp(host, s->host) != 0 || port != s->port) {
        snprintf(why, sizeof why, "the image URL redirects to another host (%s), which is not allowed", host);
        finish(s, MEAL_VISION_FAILED, "%s", why);
        return;
    }
    if (++s->redirects > MAX_REDIRECTS) {
        finish(s, MEAL_VISION_FAILED, "the image URL redirects more than %s times", "3");
        return;
    }
    snprintf(s->url, sizeof s->url, "%s", target);
    start_fetch(s);
}

static void on_fetched(struct slot *s, CURLcode rc)
{
    char buf[300];
    long status = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
        finish(s, MEAL_VISION_FAILED, "%s", fetch_error(s, rc, buf, sizeof buf));
        return;
    }
    if (status >= 300 && status < 400) {
        on_redirect(s);
        return;
    }
    if (status != 200) {
        snprintf(buf, sizeof buf, "the image host %s answered HTTP %ld instead of the image", s->host, status);
        finish(s, MEAL_VISION_FAILED, "%s", buf);
        return;
    }
    struct meal_image_info info;
    char why[200];
    if (meal_bytes_check(s->data, s->len, s->a->cfg.meal_image_max_dim, &info, why, sizeof why)) {
        snprintf(buf, sizeof buf, "the image was refused: %s", why);
        finish(s, MEAL_VISION_FAILED, "%s", buf);
        return;
    }
    s->request = meal_vision_request(s->a->cfg.meal_provider_model, s->data, s->len, info.mime, s->job->caption);
    if (!s->request) {
        finish(s, MEAL_VISION_FAILED, "out of memory while preparing the vision request%s", "");
        return;
    }
    s->phase = PH_READY;
}

static void on_answer(struct slot *s, CURLcode rc)
{
    meal_analyzer *a = s->a;
    long status = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    char what[160];
    if (rc == CURLE_OK && status == 200) {
        hf_breaker_success(a->breaker, now_ms());
        char why[200];
        if (meal_vision_parse((const char *)s->data, s->len, &s->job->est, why, sizeof why) == 0) {
            finish(s, MEAL_VISION_OK, NULL, NULL);
        } else {
            snprintf(what, sizeof what, "the vision answer was unusable: %s", why);
            finish(s, MEAL_VISION_FAILED, "%s", what);
        }
        return;
    }
    hf_breaker_failure(a->breaker, now_ms());
    if (rc != CURLE_OK)
        snprintf(what, sizeof what, "%s", rc == CURLE_OPERATION_TIMEDOUT ? "no answer in time" : curl_easy_strerror(rc));
    else
        snprintf(what, sizeof what, "HTTP %ld", status);
    bool transient = rc != CURLE_OK || status == 429 || status >= 500;
    if (transient && s->attempts < a->cfg.meal_provider_retries) {
        s->attempts++;
        s->phase = PH_WAIT_ASK;
        s->not_before_ms = now_ms() + ((int64_t)RETRY_BASE_MS << (s->attempts - 1));
        return;
    }
    char why[256];
    snprintf(why, sizeof why, "the vision service failed after %d tr%s (%s)", s->attempts + 1, s->attempts ? "ies" : "y", what);
    finish(s, MEAL_VISION_FAILED, "%s", why);
}

static void start_job(struct slot *s)
{
    if (!s->a->cfg.meal_provider_url[0]) {
        finish(s, MEAL_VISION_SKIPPED, "no vision service is configured%s", "");
        return;
    }
    snprintf(s->url, sizeof s->url, "%s", s->job->image_url);
    char why[200];
    if (url_parts(s->url, s->host, sizeof s->host, &s->port, why, sizeof why))
        start_fetch(s);
    else
        finish(s, MEAL_VISION_FAILED, "%s", why);
}

void meal_analyzer_run(meal_analyzer *a, struct meal_job *jobs, int n)
{
    if (n <= 0)
        return;
    struct slot *slots = calloc((size_t)n, sizeof *slots);
    if (!slots) {
        for (int i = 0; i < n; i++) {
            jobs[i].outcome = MEAL_VISION_FAILED;
            snprintf(jobs[i].why, sizeof jobs[i].why, "out of memory");
        }
        return;
    }
    /* Two limits of `concurrency` each: calls at the model, and jobs staged
     * for it (fetching, fetched, or waiting to retry). The fetches run ahead
     * of the calls, so a call ending hands its place to a photo already in
     * memory: the model sees `concurrency` calls at all times, not calls
     * separated by image downloads. Memory: at most 2 x concurrency images. */
    const int conc = a->cfg.meal_concurrency;
    int next = 0, done = 0, lo = 0; /* slots[0..lo) are all done */
    while (done < n) {
        int asking = 0, staged = 0;
        for (int i = lo; i < next; i++) {
            asking += slots[i].phase == PH_ASK;
            staged += slots[i].phase == PH_FETCH || slots[i].phase == PH_READY || slots[i].phase == PH_WAIT_ASK;
        }
        while (staged < conc && next < n) {
            struct slot *s = &slots[next];
            s->a = a;
            s->job = &jobs[next++];
            memset(&s->job->est, 0, sizeof s->job->est);
            s->job->why[0] = '\0';
            s->easy = curl_easy_init();
            if (!s->easy)
                finish(s, MEAL_VISION_FAILED, "out of memory%s", "");
            else
                start_job(s);
            staged++;
        }
        int64_t t = now_ms(), wake = t + 100;
        for (int i = lo; i < next; i++) {
            struct slot *s = &slots[i];
            bool due = s->phase == PH_READY || (s->phase == PH_WAIT_ASK && s->not_before_ms <= t);
            if (due && asking < conc) {
                start_ask(s);
                asking += s->phase == PH_ASK;
            } else if (s->phase == PH_WAIT_ASK && s->not_before_ms > t && s->not_before_ms < wake) {
                wake = s->not_before_ms;
            }
        }
        int running = 0;
        curl_multi_perform(a->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(a->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct slot *s = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            CURLcode rc = m->data.result;
            curl_multi_remove_handle(a->multi, m->easy_handle);
            if (s->phase == PH_FETCH)
                on_fetched(s, rc);
            else
                on_answer(s, rc);
        }
        while (lo < next && slots[lo].phase == PH_DONE)
            lo++;
        done = lo;
        asking = 0;
        bool ready = false;
        for (int i = lo; i < next; i++) {
            done += slots[i].phase == PH_DONE;
            asking += slots[i].phase == PH_ASK;
            ready |= slots[i].phase == PH_READY;
        }
        /* A fetched photo with a free place goes at once; else wait for curl
         * or the next retry. */
        if (done < n && !(ready && asking < conc)) {
            int timeout = (int)(wake - now_ms());
            curl_multi_poll(a->multi, NULL, 0, timeout > 0 ? timeout : 0, NULL);
        }
    }
    for (int i = 0; i < n; i++) {
        curl_easy_cleanup(slots[i].easy);
        free(slots[i].data);
        free(slots[i].request);
    }
    free(slots);
}

int meal_analyzer_new(const struct hf_config *cfg, meal_analyzer **out, struct hf_err *err)
{
    *out = NULL;
    meal_analyzer *a = calloc(1, sizeof *a);
    if (!a)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    a->cfg = *cfg;
    struct hf_breaker_conf bc = { cfg->meal_breaker_failures, cfg->meal_breaker_recovery_ms, 2 };
    a->breaker = hf_breaker_new(&bc);
    a->bucket = hf_bucket_new(cfg->meal_provider_rpm, 60000, now_ms());
    a->multi = curl_multi_init();
    size_t ulen = strlen(cfg->meal_provider_url);
    while (ulen && cfg->meal_provider_url[ulen - 1] == '/')
        ulen--;
    snprintf(a->endpoint, sizeof a->endpoint, "%.*s/chat/completions", (int)ulen, cfg->meal_provider_url);
    a->provider_headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (a->provider_headers && cfg->meal_provider_key[0]) {
        char auth[300];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", cfg->meal_provider_key);
        struct curl_slist *h = curl_slist_append(a->provider_headers, auth);
        if (!h)
            curl_slist_free_all(a->provider_headers);
        a->provider_headers = h;
    }
    if (!a->breaker || !a->bucket || !a->provider_headers) {
        meal_analyzer_free(a);
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    }
    if (!a->multi) {
        meal_analyzer_free(a);
        return hf_err_set(err, HF_EIO, false, "curl could not start (curl_multi_init failed)");
    }
    /* The fetches ahead and the calls (see meal_analyzer_run), each up to
     * concurrency; connections are kept alive and reused between jobs. */
    curl_multi_setopt(a->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 2L * cfg->meal_concurrency);
    *out = a;
    return 0;
}

void meal_analyzer_free(meal_analyzer *a)
{
    if (!a)
        return;
    if (a->multi)
        curl_multi_cleanup(a->multi);
    curl_slist_free_all(a->provider_headers);
    hf_breaker_free(a->breaker);
    hf_bucket_free(a->bucket);
    free(a);
}

const char *meal_analyzer_breaker(meal_analyzer *a)
{
    return hf_breaker_state_name(hf_breaker_state(a->breaker));
}
