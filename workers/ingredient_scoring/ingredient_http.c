#include "ingredient_http.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct xfer {
    struct ing_request *req;
    size_t max_body;
    bool too_big;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb;
    if (x->req->len + n > x->max_body) {
        x->too_big = true;
        return 0; /* aborts the transfer */
    }
    char *nb = realloc(x->req->body, x->req->len + n + 1);
    if (!nb)
        return 0;
    memcpy(nb + x->req->len, data, n);
    x->req->len += n;
    nb[x->req->len] = '\0';
    x->req->body = nb;
    return n;
}

void ing_request_clear(struct ing_request *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
    r->status = 0;
    r->error[0] = '\0';
    r->elapsed_ms = 0;
}

static CURL *make_easy(struct xfer *x, const struct ing_http_limits *lim)
{
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    curl_easy_setopt(e, CURLOPT_URL, x->req->url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, lim->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, lim->timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "healthfleet-ingredient-scoring/1 (+https://example.invalid/healthfleet)");
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    return e;
}

static void finish(CURL *e, CURLcode code)
{
    struct xfer *x = NULL;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
    struct ing_request *r = x->req;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
    double secs = 0;
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME, &secs);
    r->elapsed_ms = (int64_t)(secs * 1000);
    const char *what = r->log_url ? r->log_url : "request";
    if (x->too_big)
        snprintf(r->error, sizeof r->error, "%s: answer larger than %zu bytes", what, x->max_body);
    else if (code == CURLE_OPERATION_TIMEDOUT)
        snprintf(r->error, sizeof r->error, "%s: no answer within %lld ms (timeout)", what, (long long)r->elapsed_ms);
    else if (code != CURLE_OK)
        snprintf(r->error, sizeof r->error, "%s: %s", what, curl_easy_strerror(code));
    if (code != CURLE_OK)
        r->status = 0;
}

int ing_http_run(struct ing_request *reqs, int n, const struct ing_http_limits *lim, struct hf_err *err)
{
    if (n == 0)
        return 0;
    int rc = 0;
    struct xfer *xs = calloc((size_t)n, sizeof *xs);
    CURL **easies = calloc((size_t)n, sizeof *easies);
    CURLM *multi = curl_multi_init();
    if (!xs || !easies || !multi) {
        rc = hf_err_set(err, HF_ENOMEM, true, "out of memory setting up %d HTTP requests", n);
        goto out;
    }
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)lim->concurrency);
    for (int i = 0; i < n; i++) {
        ing_request_clear(&reqs[i]);
        xs[i] = (struct xfer){ .req = &reqs[i], .max_body = lim->max_body };
        easies[i] = make_easy(&xs[i], lim);
        if (!easies[i] || curl_multi_add_handle(multi, easies[i]) != CURLM_OK) {
            rc = hf_err_set(err, HF_EIO, true, "libcurl could not set up request %d", i);
            goto out;
        }
    }
    int running = 1;
    while (running) {
        CURLMcode mc = curl_multi_perform(multi, &running);
        if (mc == CURLM_OK && running)
            mc = curl_multi_poll(multi, NULL, 0, 200, NULL);
        if (mc != CURLM_OK) {
            rc = hf_err_set(err, HF_EIO, true, "libcurl: %s", curl_multi_strerror(mc));
            goto out;
        }
        int left = 0;
        for (CURLMsg *m = curl_multi_info_read(multi, &left); m; m = curl_multi_info_read(multi, &left))
            if (m->msg == CURLMSG_DONE)
                finish(m->easy_handle, m->data.result);
    }
out:
    for (int i = 0; easies && i < n; i++)
        if (easies[i]) {
            curl_multi_remove_handle(multi, easies[i]);
            curl_easy_cleanup(easies[i]);
        }
    curl_multi_cleanup(multi);
    free(easies);
    free(xs);
    return rc;
}
