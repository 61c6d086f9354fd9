#include "hf_kafka.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_log.h"

struct hf_producer {
    rd_kafka_t *rk;
    hf_delivery_fn on_delivery;
    pthread_t poller;
    atomic_bool stop;
    atomic_int failures; /* deliveries failed since the last flush */
    char last_failure[200];
};

int hf_kafka_set(rd_kafka_conf_t *conf, const char *name, const char *value, struct hf_err *err)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        return hf_err_set(err, HF_EINVAL, false, "Kafka setting %s=%s: %s", name, value, errstr);
    return 0;
}

/* librdkafka's own messages, as JSON log lines like everything else. */
static void on_kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    hf_log(level <= 3 ? HF_LOG_ERROR : level <= 4 ? HF_LOG_WARN : level <= 6 ? HF_LOG_INFO : HF_LOG_DEBUG, NULL,
           "kafka %s: %s", fac, buf);
}

rd_kafka_conf_t *hf_kafka_conf(const struct hf_config *cfg, struct hf_err *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char client_id[96];
    snprintf(client_id, sizeof client_id, "healthfleet-%s", cfg->instance);
    if (hf_kafka_set(conf, "bootstrap.servers", cfg->kafka_brokers, err) ||
        hf_kafka_set(conf, "client.id", client_id, err) ||
        /* A broker restart must not surface as an error in the logs of every client. */
        hf_kafka_set(conf, "log.connection.close", "false", err)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, on_kafka_log);
    return conf;
}

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    hf_producer *p = opaque;
    int rc = 0;
    const char *reason = NULL;
    if (m->err) {
        rc = m->err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT ? HF_ETIMEOUT : HF_EUNAVAIL;
        reason = rd_kafka_err2str(m->err);
        atomic_fetch_add(&p->failures, 1);
        snprintf(p->last_failure, sizeof p->last_failure, "%s", reason);
    }
    if (p->on_delivery)
        p->on_delivery(m->_private, rc, reason);
}

static void *poll_loop(void *arg)
{
    hf_producer *p = arg;
    while (!atomic_load(&p->stop))
        rd_kafka_poll(p->rk, 50);
    return NULL;
}

int hf_producer_new(const struct hf_config *cfg, hf_delivery_fn on_delivery, hf_producer **out, struct hf_err *err)
{
    *out = NULL;
    char linger[16], timeout[16], queue[16], errstr[256];
    hf_producer *p = calloc(1, sizeof *p);
    if (!p)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    rd_kafka_conf_t *conf = hf_kafka_conf(cfg, err);
    if (!conf)
        goto fail;
    snprintf(linger, sizeof linger, "%d", cfg->kafka_linger_ms);
    snprintf(timeout, sizeof timeout, "%d", cfg->kafka_timeout_ms);
    snprintf(queue, sizeof queue, "%d", cfg->intake_queue_max);
    if (hf_kafka_set(conf, "acks", "all", err) || hf_kafka_set(conf, "enable.idempotence", "true", err) ||
        hf_kafka_set(conf, "linger.ms", linger, err) || hf_kafka_set(conf, "message.timeout.ms", timeout, err) ||
        hf_kafka_set(conf, "queue.buffering.max.messages", queue, err) ||
        hf_kafka_set(conf, "compression.type", "lz4", err)) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    p->on_delivery = on_delivery;
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!p->rk) {
        rd_kafka_conf_destroy(conf);
        hf_err_set(err, HF_EIO, false, "cannot create Kafka producer: %s", errstr);
        goto fail;
    }
    if (pthread_create(&p->poller, NULL, poll_loop, p) != 0) {
        rd_kafka_destroy(p->rk);
        hf_err_set(err, HF_EIO, false, "cannot start the producer's poll thread");
        goto fail;
    }
    *out = p;
    return 0;
fail:
    free(p);
    return err ? err->code : HF_EIO;
}

int hf_producer_send_message(hf_producer *p, const struct hf_config *cfg, const struct hf_schema *s, const char *key,
                             const char *event_id, const void *value, size_t len, const char *producer,
                             struct hf_err *err)
{
    char topic[256], version[12];
    hf_config_topic(cfg, s->family, topic, sizeof topic);
    snprintf(version, sizeof version, "%d", s->version);
    const struct hf_header h[] = { { "hf-schema", s->name, -1 },
                                   { "hf-version", version, -1 },
                                   { "hf-event-id", event_id, -1 },
                                   { "hf-producer", producer, -1 } };
    return hf_producer_send(p, topic, key, strlen(key), value, len, h, 4, NULL, err);
}

int hf_producer_send(hf_producer *p, const char *topic, const char *key, size_t keylen, const void *value,
                     size_t len, const struct hf_header *headers, size_t nheaders, void *opaque, struct hf_err *err)
{
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(nheaders);
    for (size_t i = 0; i < nheaders; i++)
        rd_kafka_header_add(hdrs, headers[i].name, -1, headers[i].value, headers[i].len);
    rd_kafka_resp_err_t e = rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, keylen),
                                              RD_KAFKA_V_VALUE((void *)value, len),
                                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs),
                                              RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0; /* the message owns hdrs now */
    rd_kafka_headers_destroy(hdrs);
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        return hf_err_set(err, HF_EUNAVAIL, true, "producer queue is full (broker slow or away)");
    return hf_err_set(err, HF_EIO, false, "cannot produce to %s: %s", topic, rd_kafka_err2str(e));
}

int hf_producer_flush(hf_producer *p, int timeout_ms, struct hf_err *err)
{
    rd_kafka_resp_err_t e = rd_kafka_flush(p->rk, timeout_ms);
    int failed = atomic_exchange(&p->failures, 0);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return hf_err_set(err, HF_EUNAVAIL, true, "Kafka did not acknowledge %d records within %d ms",
                          rd_kafka_outq_len(p->rk), timeout_ms);
    if (failed)
        return hf_err_set(err, HF_EUNAVAIL, true, "Kafka refused %d records: %s", failed, p->last_failure);
    return 0;
}

int hf_producer_ping(hf_producer *p, const char *const *topics, size_t n, int timeout_ms, struct hf_err *err)
{
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (size_t i = 0; i < (n ? n : 1) && !e; i++) {
        rd_kafka_topic_t *t = n ? rd_kafka_topic_new(p->rk, topics[i], NULL) : NULL;
        const struct rd_kafka_metadata *md = NULL;
        e = n && !t ? rd_kafka_last_error() : rd_kafka_metadata(p->rk, 0, t, &md, timeout_ms);
        if (md)
            rd_kafka_metadata_destroy(md);
        if (t)
            rd_kafka_topic_destroy(t);
    }
    if (e)
        return hf_err_set(err, HF_EUNAVAIL, true, "Kafka does not answer: %s", rd_kafka_err2str(e));
    return 0;
}

void hf_producer_free(hf_producer *p, int timeout_ms)
{
    if (!p)
        return;
    rd_kafka_flush(p->rk, timeout_ms);
    atomic_store(&p->stop, true);
    pthread_join(p->poller, NULL);
    rd_kafka_destroy(p->rk);
    free(p);
}

int hf_kafka_ensure_topics(const struct hf_config *cfg, const char *const *topics, size_t n, struct hf_err *err)
{
    int rc = 0;
    char errstr[256];
    rd_kafka_t *rk = NULL;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_event_t *ev = NULL;
    rd_kafka_NewTopic_t **nt = calloc(n ? n : 1, sizeof *nt);
    rd_kafka_conf_t *conf = hf_kafka_conf(cfg, err);
    if (!nt || !conf) {
        rc = err ? err->code : HF_ENOMEM;
        goto out;
    }
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        rc = hf_err_set(err, HF_EIO, false, "cannot create Kafka admin client: %s", errstr);
        goto out;
    }
    conf = NULL;
    for (size_t i = 0; i < n; i++) {
        nt[i] = rd_kafka_NewTopic_new(topics[i], cfg->topic_partitions, 1, errstr, sizeof errstr);
        if (!nt[i]) {
            rc = hf_err_set(err, HF_EINVAL, false, "topic %s: %s", topics[i], errstr);
            goto out;
        }
    }
    q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(opts, cfg->kafka_timeout_ms, errstr, sizeof errstr);
    rd_kafka_CreateTopics(rk, nt, n, opts, q);
    rd_kafka_AdminOptions_destroy(opts);
    ev = rd_kafka_queue_poll(q, cfg->kafka_timeout_ms + 2000);
    if (!ev || rd_kafka_event_error(ev)) {
        rc = hf_err_set(err, HF_EUNAVAIL, true, "Kafka at %s did not answer topic creation: %s", cfg->kafka_brokers,
                        ev ? rd_kafka_event_error_string(ev) : "timed out");
        goto out;
    }
    size_t cnt = 0;
    const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev),
                                                                              &cnt);
    for (size_t i = 0; i < cnt; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            rc = hf_err_set(err, HF_EUNAVAIL, true, "cannot create topic %s: %s", rd_kafka_topic_result_name(res[i]),
                            rd_kafka_topic_result_error_string(res[i]));
            goto out;
        }
    }
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (q)
        rd_kafka_queue_destroy(q);
    for (size_t i = 0; nt && i < n; i++)
        if (nt[i])
            rd_kafka_NewTopic_destroy(nt[i]);
    free(nt);
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (rk)
        rd_kafka_destroy(rk);
    return rc;
}
