#include "hf_httpd.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

struct hf_httpd {
    struct MHD_Daemon *daemon;
    hf_httpd_handler fn;
    void *arg;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_size, void **ctx)
{
    hf_httpd *h = cls;
    char *body = NULL;
    size_t len = 0;
    const char *ctype = "text/plain; charset=utf-8";
    int status;
    if (strcmp(method, "GET") != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        body = strdup("only GET\n");
        len = body ? strlen(body) : 0;
    } else {
        status = h->fn(h->arg, url, &body, &len, &ctype);
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body ? body : "", body ? MHD_RESPMEM_MUST_FREE
                                                                                         : MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", ctype);
    enum MHD_Result r = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return r;
}

int hf_httpd_start(int port, hf_httpd_handler fn, void *arg, hf_httpd **out, struct hf_err *err)
{
    *out = NULL;
    hf_httpd *h = calloc(1, sizeof *h);
    if (!h)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    h->fn = fn;
    h->arg = arg;
    h->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)port, NULL, NULL, answer,
                                 h, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!h->daemon) {
        free(h);
        return hf_err_set(err, HF_EIO, false, "cannot serve HTTP on port %d (in use? set HF_METRICS_PORT)", port);
    }
    *out = h;
    return 0;
}

void hf_httpd_stop(hf_httpd *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->daemon);
    free(h);
}
