/* common.h - shared by the http_*.c benchmark servers.
 *
 * Usage of every server: http_<lib> PORT [direct|defer]
 *
 * The defer_* part stands in for librdkafka's delivery-report thread.
 * In "defer" mode a server parks each request, hands it to defer_push(), and
 * one separate thread later calls item->done(item), just as rd_kafka_poll()
 * would run dr_msg_cb on a thread that is not the HTTP thread. done() must
 * get the request resumed on the server's own thread. */
#ifndef COMMON_H
#define COMMON_H

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENTS_PATH "/v1/events"
#define REPLY_202 "{\"status\":\"accepted\"}"
#define MAX_BODY 8192
#define N_THREADS 2

/* Stands in for the JSON validation the intake will do on the whole body. */
static inline int body_ok(const char *p, size_t n)
{
    return n >= 2 && p[0] == '{' && p[n - 1] == '}';
}

/* Returns 1 for defer mode, 0 for direct; exits on bad usage. */
static inline int parse_args(int argc, char **argv, int *port)
{
    if (argc < 2 || (*port = atoi(argv[1])) <= 0 ||
        (argc > 2 && strcmp(argv[2], "direct") && strcmp(argv[2], "defer"))) {
        fprintf(stderr, "usage: %s PORT [direct|defer]\n", argv[0]);
        exit(2);
    }
    return argc > 2 && !strcmp(argv[2], "defer");
}

struct defer_item {
    struct defer_item *next;
    void (*done)(struct defer_item *);
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct defer_item *head, *tail;
} defer_q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL};

static inline void defer_push(struct defer_item *it)
{
    it->next = NULL;
    pthread_mutex_lock(&defer_q.mu);
    if (defer_q.tail)
        defer_q.tail->next = it;
    else
        defer_q.head = it;
    defer_q.tail = it;
    pthread_cond_signal(&defer_q.cv);
    pthread_mutex_unlock(&defer_q.mu);
}

static inline void *defer_thread(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&defer_q.mu);
        while (!defer_q.head)
            pthread_cond_wait(&defer_q.cv, &defer_q.mu);
        struct defer_item *it = defer_q.head;
        defer_q.head = defer_q.tail = NULL;
        pthread_mutex_unlock(&defer_q.mu);
        while (it) {
            struct defer_item *next = it->next; /* done() may free it */
            it->done(it);
            it = next;
        }
    }
    return NULL;
}

static inline void defer_start(void)
{
    pthread_t t;
    pthread_create(&t, NULL, defer_thread, NULL);
    pthread_detach(t);
}

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

#endif
