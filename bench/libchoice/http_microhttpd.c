/* http_microhttpd.c - POST /v1/events -> 202, on GNU libmicrohttpd.
 * Thread pool of N_THREADS epoll loops sharing one listening socket. */
#include "common.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <unistd.h>

struct req {
    struct defer_item item;
    struct MHD_Connection *conn;
    int state; /* 0 reading, 1 suspended, 2 delivered */
    size_t len;
    char body[MAX_BODY];
};

static int defer_mode;

static void delivered(struct defer_item *it) /* runs on the defer thread */
{
    struct req *r = container_of(it, struct req, item);
    r->state = 2;
    MHD_resume_connection(r->conn);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body)
{
    struct MHD_Response *res =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, res);
    MHD_destroy_response(res);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    (void)cls, (void)version;
    struct req *r = *con_cls;
    if (!r) { /* first call: headers only */
        if (strcmp(url, EVENTS_PATH) || strcmp(method, MHD_HTTP_METHOD_POST))
            return reply(c, MHD_HTTP_NOT_FOUND, "{\"error\":\"not found\"}");
        if (!(r = malloc(sizeof *r)))
            return MHD_NO;
        r->item.done = delivered;
        r->conn = c;
        r->state = 0;
        r->len = 0;
        *con_cls = r;
        return MHD_YES;
    }
    if (*data_size) { /* a piece of the body; replying is only allowed after the last */
        if (r->len + *data_size <= MAX_BODY)
            memcpy(r->body + r->len, data, *data_size);
        r->len += *data_size;
        *data_size = 0;
        return MHD_YES;
    }
    if (r->len > MAX_BODY)
        return reply(c, MHD_HTTP_CONTENT_TOO_LARGE, "{\"error\":\"too large\"}");
    if (r->state == 0 && !body_ok(r->body, r->len))
        return reply(c, MHD_HTTP_BAD_REQUEST, "{\"error\":\"bad body\"}");
    if (defer_mode && r->state == 0) { /* whole body read: park until "delivered" */
        r->state = 1;
        MHD_suspend_connection(c);
        defer_push(&r->item);
        return MHD_YES;
    }
    return reply(c, MHD_HTTP_ACCEPTED, REPLY_202);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

int main(int argc, char **argv)
{
    int port;
    defer_mode = parse_args(argc, argv, &port);
    if (defer_mode)
        defer_start();
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME,
        (uint16_t)port, NULL, NULL, on_request, NULL,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)N_THREADS,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "MHD_start_daemon failed\n");
        return 1;
    }
    for (;;)
        pause(); /* killed by the benchmark script */
}
