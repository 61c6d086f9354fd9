/* http_h2o.c - POST /v1/events -> 202, on libh2o (evloop flavour).
 * N_THREADS evloops sharing one global config, each with its own context
 * and its own SO_REUSEPORT listener on the same port. */
#define H2O_USE_LIBUV 0
#include "common.h"

#include <arpa/inet.h>
#include <h2o.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct worker {
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_multithread_receiver_t receiver; /* wakes the loop from other threads */
};

struct req {
    struct defer_item item;
    h2o_multithread_message_t msg;
    h2o_req_t *hreq;
    struct worker *w;
};

static h2o_globalconf_t config;
static int defer_mode, port;

static void send_202(h2o_req_t *hreq)
{
    hreq->res.status = 202;
    hreq->res.reason = "Accepted";
    h2o_add_header(&hreq->pool, &hreq->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json"));
    hreq->res.content_length = sizeof REPLY_202 - 1; /* else h2o closes the connection */
    h2o_send_inline(hreq, H2O_STRLIT(REPLY_202));
}

static void delivered(struct defer_item *it) /* runs on the defer thread */
{
    struct req *r = container_of(it, struct req, item);
    h2o_multithread_send_message(&r->w->receiver, &r->msg);
}

static void on_messages(h2o_multithread_receiver_t *rcv, h2o_linklist_t *msgs) /* loop thread */
{
    (void)rcv;
    while (!h2o_linklist_is_empty(msgs)) {
        h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, msgs->next);
        h2o_linklist_unlink(&m->link);
        send_202(container_of(m, struct req, msg)->hreq);
    }
}

static int on_req(h2o_handler_t *self, h2o_req_t *hreq)
{
    (void)self;
    if (!h2o_memis(hreq->method.base, hreq->method.len, H2O_STRLIT("POST")))
        return -1; /* falls through to h2o's 404 */
    /* h2o calls the handler once the whole body is in hreq->entity */
    if (!body_ok(hreq->entity.base, hreq->entity.len)) {
        h2o_send_error_400(hreq, "Bad Request", "bad body", 0);
        return 0;
    }
    if (!defer_mode) {
        send_202(hreq);
        return 0;
    }
    /* h2o keeps the request open until something is sent */
    struct req *r = h2o_mem_alloc_pool(&hreq->pool, sizeof *r);
    r->hreq = hreq;
    r->w = H2O_STRUCT_FROM_MEMBER(struct worker, ctx, hreq->conn->ctx);
    r->item.done = delivered;
    r->msg = (h2o_multithread_message_t){{NULL, NULL}};
    defer_push(&r->item);
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    struct worker *w = listener->data;
    h2o_socket_t *sock;
    if (!err && (sock = h2o_evloop_socket_accept(listener)))
        h2o_accept(&w->accept_ctx, sock);
}

/* h2o's evloop keeps per-thread state (__thread buffer and memory pools),
 * so each context must be created on the thread that runs it. */
static void *run_worker(void *arg)
{
    struct worker *w = arg;
    h2o_context_init(&w->ctx, h2o_evloop_create(), &config);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = config.hosts;
    h2o_multithread_register_receiver(w->ctx.queue, &w->receiver, on_messages);

    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 1024)) {
        perror("listen");
        exit(1);
    }
    h2o_socket_t *ls = h2o_evloop_socket_create(w->ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    ls->data = w;
    h2o_socket_read_start(ls, on_accept);

    while (h2o_evloop_run(w->ctx.loop, INT32_MAX) == 0)
        ;
    return NULL;
}

int main(int argc, char **argv)
{
    defer_mode = parse_args(argc, argv, &port);
    if (defer_mode)
        defer_start();
    h2o_config_init(&config);
    config.max_request_entity_size = MAX_BODY;
    h2o_hostconf_t *host = h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, EVENTS_PATH, 0);
    h2o_create_handler(path, sizeof(h2o_handler_t))->on_req = on_req;

    static struct worker workers[N_THREADS];
    pthread_t tids[N_THREADS];
    for (int i = 0; i < N_THREADS; i++)
        pthread_create(&tids[i], NULL, run_worker, &workers[i]);
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(tids[i], NULL);
    return 0;
}
