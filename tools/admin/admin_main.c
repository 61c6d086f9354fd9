/* hf-admin: the operator dashboard. Serves the built page (HF_ADMIN_WEB_DIR)
 * and the JSON API (admin_api.c) behind the operator credential
 * (HF_ADMIN_TOKEN), plus /healthz and /readyz for probes, and samples the
 * consumer groups every HF_ADMIN_SAMPLE_MS for rates and drain times.
 *
 * Requests run on their own threads (a slow broker answer delays one page
 * panel, not the others). Every response forbids framing and sniffing, and
 * the page may load only what this server sends (Content-Security-Policy).
 * A POST must be JSON from this origin: a browser sends Basic credentials
 * by itself, and another site's form cannot send application/json. */
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "admin_auth.h"
#include "hf_log.h"
#include "hf_time.h"

#define BODY_MAX 65536
#define FILE_MAX (8u << 20)

static const char CSP[] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
                          " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/* The page's files, read once at start. */
static const struct {
    const char *path, *file, *type;
} FILES[] = {
    { "/", "index.html", "text/html; charset=utf-8" },
    { "/app.js", "app.js", "text/javascript; charset=utf-8" },
    { "/app.css", "app.css", "text/css; charset=utf-8" },
};
#define N_FILES (sizeof FILES / sizeof FILES[0])

struct server {
    struct admin a;
    char *file[N_FILES];
    size_t file_len[N_FILES];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    (void)sig;
    got_signal = 1;
}

struct request {
    char *body;
    size_t len;
    bool too_big;
};

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, const char *type, const char *body,
                                 size_t len, enum MHD_ResponseMemoryMode mode, bool challenge)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, mode);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Content-Security-Policy", CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (challenge)
        MHD_add_response_header(resp, "WWW-Authenticate", "Basic realm=\"healthfleet admin\", charset=\"UTF-8\"");
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text)
        return send_text(conn, 500, "text/plain; charset=utf-8", "out of memory\n", 14, MHD_RESPMEM_PERSISTENT,
                         false);
    return send_text(conn, status, "application/json", text, strlen(text), MHD_RESPMEM_MUST_FREE, false);
}

static const char *query_arg(void *arg, const char *name)
{
    return MHD_lookup_connection_value(arg, MHD_GET_ARGUMENT_KIND, name);
}

/* A POST from a page of this server: JSON, and an Origin (when the browser
 * sends one) naming this host. */
static bool same_origin_json(struct MHD_Connection *conn)
{
    const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    if (!type || strncasecmp(type, "application/json", 16) != 0)
        return false;
    if (!origin)
        return true;
    const char *rest = strncmp(origin, "http://", 7) == 0 ? origin + 7 : strncmp(origin, "https://", 8) == 0 ? origin + 8 : NULL;
    return rest && host && strcmp(rest, host) == 0;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_size, void **ctx)
{
    struct server *s = cls;
    struct request *req = *ctx;
    if (!req) {
        if (!(req = calloc(1, sizeof *req)))
            return MHD_NO;
        *ctx = req;
        return MHD_YES;
    }
    if (*upload_size) {
        if (req->len + *upload_size > BODY_MAX) {
            req->too_big = true;
        } else {
            char *b = realloc(req->body, req->len + *upload_size + 1);
            if (!b)
                return MHD_NO;
            memcpy(b + req->len, upload_data, *upload_size);
            req->body = b;
            req->len += *upload_size;
            b[req->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    const char *ctype = "text/plain; charset=utf-8";
    /* probes: no credential, nothing about the fleet in the answer */
    if (strcmp(url, "/healthz") == 0)
        return send_text(conn, 200, ctype, "ok\n", 3, MHD_RESPMEM_PERSISTENT, false);
    if (strcmp(url, "/readyz") == 0)
        return s->file[0] ? send_text(conn, 200, ctype, "ready\n", 6, MHD_RESPMEM_PERSISTENT, false)
                          : send_text(conn, 503, ctype, "dashboard files missing\n", 24, MHD_RESPMEM_PERSISTENT,
                                      false);
    char who[64] = "";
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (!admin_auth_check(s->a.cfg.admin_token, auth, who, sizeof who))
        return send_text(conn, 401, ctype, "operator credential required\n", 29, MHD_RESPMEM_PERSISTENT, true);
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (strncmp(url, "/api/", 5) == 0) {
        if (req->too_big)
            return send_json(conn, 413, json_pack("{s:{s:s, s:s}}", "error", "code", "too_large", "message",
                                                  "the body is larger than 64 KiB"));
        if (!get && !same_origin_json(conn))
            return send_json(conn, 403, json_pack("{s:{s:s, s:s}}", "error", "code", "forbidden", "message",
                                                  "a POST must be application/json from this origin"));
        json_t *doc = NULL;
        int status = admin_api(&s->a, get ? "GET" : method, url, query_arg, conn, req->body, req->len, who, &doc);
        return send_json(conn, (unsigned)status, doc);
    }
    for (size_t i = 0; i < N_FILES; i++)
        if (strcmp(url, FILES[i].path) == 0) {
            if (!get)
                return send_text(conn, 405, ctype, "only GET\n", 9, MHD_RESPMEM_PERSISTENT, false);
            if (!s->file[i])
                return send_text(conn, 503, ctype, "dashboard files missing: build them with make\n", 46,
                                 MHD_RESPMEM_PERSISTENT, false);
            return send_text(conn, 200, FILES[i].type, s->file[i], s->file_len[i], MHD_RESPMEM_PERSISTENT, false);
        }
    return send_text(conn, 404, ctype, "not found\n", 10, MHD_RESPMEM_PERSISTENT, false);
}

static void completed(void *cls, struct MHD_Connection *conn, void **ctx, enum MHD_RequestTerminationCode toe)
{
    struct request *req = *ctx;
    if (req) {
        free(req->body);
        free(req);
        *ctx = NULL;
    }
}

static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (n == cap) {
            char *b = cap < FILE_MAX ? realloc(buf, cap ? cap * 2 : 65536) : NULL;
            if (!b) {
                rc = -1;
                break;
            }
            buf = b;
            cap = cap ? cap * 2 : 65536;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f))
        rc = -1;
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* HF_ADMIN_WEB_DIR, or admin-web beside the folder hf-admin runs from
 * (build/bin/hf-admin -> build/admin-web). */
static void web_dir(const struct hf_config *cfg, char *out, size_t outsz)
{
    if (cfg->admin_web_dir[0]) {
        snprintf(out, outsz, "%s", cfg->admin_web_dir);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    snprintf(out, outsz, "%s/admin-web", exe);
}

static void load_files(struct server *s)
{
    char dir[600];
    web_dir(&s->a.cfg, dir, sizeof dir);
    for (size_t i = 0; i < N_FILES; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s", dir, FILES[i].file);
        if (read_file(path, &s->file[i], &s->file_len[i]))
            hf_warn("cannot read %s (%s): the page is not served until it is built (make)", path, strerror(errno));
    }
}

static void *sampler(void *arg)
{
    struct server *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        pthread_mutex_unlock(&s->mu);
        struct hf_err err = { 0 };
        if (admin_sample(&s->a, &err))
            hf_warn("sampling consumer groups: %s", err.msg);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long long ns = until.tv_nsec + (long long)s->a.cfg.admin_sample_ms * 1000000LL;
        until.tv_sec += (time_t)(ns / 1000000000LL);
        until.tv_nsec = (long)(ns % 1000000000LL);
        pthread_mutex_lock(&s->mu);
        while (!s->stopping && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int main(int argc, char **argv)
{
    static struct server s;
    struct hf_err err = { 0 };
    if (hf_config_load(&s.a.cfg, &err)) {
        fprintf(stderr, "hf-admin: %s\n", err.msg);
        return 2;
    }
    hf_log_init("hf-admin", s.a.cfg.instance, s.a.cfg.log_level);
    if (strlen(s.a.cfg.admin_token) < ADMIN_TOKEN_MIN) {
        hf_error("HF_ADMIN_TOKEN must be set to a secret of %d characters or more: the dashboard replays dead "
                 "letters and shows the fleet, so it never runs open",
                 ADMIN_TOKEN_MIN);
        return 2;
    }
    /* before any thread: curl's implicit initialisation is not thread-safe */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int cap = s.a.cfg.admin_history_s * 1000 / s.a.cfg.admin_sample_ms + 1;
    if (admin_rates_new(cap < 2 ? 2 : cap, 256, &s.a.rates, &err) ||
        hf_producer_new(&s.a.cfg, NULL, &s.a.producer, &err)) {
        hf_error("hf-admin: %s", err.msg);
        admin_rates_free(s.a.rates);
        curl_global_cleanup();
        return 1;
    }
    load_files(&s);
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    struct sigaction sa = { 0 };
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int status = 0;
    pthread_t thread;
    bool sampling = false;
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
        (uint16_t)s.a.cfg.admin_port, NULL, NULL, answer, &s, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_END);
    if (!d) {
        hf_error("cannot serve HTTP on port %d (in use? set HF_ADMIN_PORT)", s.a.cfg.admin_port);
        status = 1;
    } else if (pthread_create(&thread, NULL, sampler, &s) != 0) {
        hf_error("cannot start the sampler thread");
        status = 1;
    } else {
        sampling = true;
        hf_info("serving the dashboard on port %d, scraping \"%s\"", s.a.cfg.admin_port, s.a.cfg.admin_scrape);
        while (!got_signal) {
            struct timespec tick = { 0, 200000000L };
            nanosleep(&tick, NULL);
        }
        hf_info("stopping");
    }
    if (sampling) {
        pthread_mutex_lock(&s.mu);
        s.stopping = true;
        pthread_cond_signal(&s.cv);
        pthread_mutex_unlock(&s.mu);
        pthread_join(thread, NULL);
    }
    if (d)
        MHD_stop_daemon(d);
    for (size_t i = 0; i < N_FILES; i++)
        free(s.file[i]);
    hf_producer_free(s.a.producer, 1000);
    admin_rates_free(s.a.rates);
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
    curl_global_cleanup();
    return status;
}
