/* http_libevent.c - POST /v1/events -> 202, on libevent's evhttp.
 * N_THREADS event bases, each with its own evhttp and its own SO_REUSEPORT
 * listener on the same port (evhttp is not thread-safe: one per base). */
#include "common.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <netinet/in.h>

struct worker {
    struct event_base *base;
    struct event *wake;        /* activated from the defer thread */
    pthread_mutex_t mu;
    struct defer_item *done;   /* delivered requests waiting for a reply */
};

struct req {
    struct defer_item item;
    struct evhttp_request *er;
    struct worker *w;
};

static int defer_mode;

static void send_202(struct evhttp_request *er)
{
    evhttp_add_header(evhttp_request_get_output_headers(er), "Content-Type", "application/json");
    evbuffer_add_reference(evhttp_request_get_output_buffer(er), REPLY_202,
                           sizeof REPLY_202 - 1, NULL, NULL);
    evhttp_send_reply(er, 202, "Accepted", NULL);
}

static void delivered(struct defer_item *it) /* runs on the defer thread */
{
    struct worker *w = container_of(it, struct req, item)->w;
    pthread_mutex_lock(&w->mu);
    it->next = w->done;
    w->done = it;
    pthread_mutex_unlock(&w->mu);
    event_active(w->wake, 0, 0); /* thread-safe after evthread_use_pthreads() */
}

static void on_wake(evutil_socket_t fd, short what, void *arg) /* worker thread */
{
    (void)fd, (void)what;
    struct worker *w = arg;
    pthread_mutex_lock(&w->mu);
    struct defer_item *it = w->done;
    w->done = NULL;
    pthread_mutex_unlock(&w->mu);
    while (it) {
        struct req *r = container_of(it, struct req, item);
        it = it->next;
        send_202(r->er);
        free(r);
    }
}

static void on_event(struct evhttp_request *er, void *arg)
{
    struct worker *w = arg;
    if (evhttp_request_get_command(er) != EVHTTP_REQ_POST) {
        evhttp_send_error(er, 405, NULL);
        return;
    }
    /* evhttp calls back only once the whole body is buffered (<= MAX_BODY) */
    struct evbuffer *in = evhttp_request_get_input_buffer(er);
    size_t len = evbuffer_get_length(in);
    if (!body_ok((const char *)evbuffer_pullup(in, -1), len)) {
        evhttp_send_error(er, 400, NULL);
        return;
    }
    if (!defer_mode) {
        send_202(er);
        return;
    }
    struct req *r = malloc(sizeof *r);
    if (!r) {
        evhttp_send_error(er, 503, NULL);
        return;
    }
    r->er = er; /* kept alive until evhttp_send_reply, even if the client leaves */
    r->w = w;
    r->item.done = delivered;
    defer_push(&r->item);
}

static void *run_worker(void *arg)
{
    struct worker *w = arg;
    event_base_dispatch(w->base);
    return NULL;
}

int main(int argc, char **argv)
{
    int port;
    defer_mode = parse_args(argc, argv, &port);
    evthread_use_pthreads(); /* in both modes: the intake needs it for event_active */
    if (defer_mode)
        defer_start();
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    static struct worker workers[N_THREADS];
    pthread_t tids[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        struct worker *w = &workers[i];
        w->base = event_base_new();
        struct evhttp *http = evhttp_new(w->base);
        struct evconnlistener *l = evconnlistener_new_bind(
            w->base, NULL, NULL,
            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT, 1024,
            (struct sockaddr *)&sa, sizeof sa);
        if (!http || !l || !evhttp_bind_listener(http, l)) {
            fprintf(stderr, "listen on port %d failed\n", port);
            return 1;
        }
        evhttp_set_cb(http, EVENTS_PATH, on_event, w);
        evhttp_set_max_body_size(http, MAX_BODY);
        evhttp_set_timeout(http, 30);
        pthread_mutex_init(&w->mu, NULL);
        w->wake = event_new(w->base, -1, 0, on_wake, w);
        pthread_create(&tids[i], NULL, run_worker, w);
    }
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(tids[i], NULL);
    return 0;
}
