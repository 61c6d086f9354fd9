/* hf_admin: consumer-group lag from the broker (see hf_admin.h). */
#include "hf_admin.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_kafka.h"

struct admin {
    const struct hf_config *cfg;
    rd_kafka_t *rk;
    rd_kafka_queue_t *q;
};

/* Waits for the answer to the request just made; err names `what`. */
static rd_kafka_event_t *answer(struct admin *a, const char *what, struct hf_err *err)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(a->q, a->cfg->kafka_timeout_ms + 2000);
    if (ev && !rd_kafka_event_error(ev))
        return ev;
    hf_err_set(err, HF_EUNAVAIL, true, "Kafka at %s did not answer %s: %s (is the broker up?)", a->cfg->kafka_brokers,
               what, ev ? rd_kafka_event_error_string(ev) : "timed out");
    rd_kafka_event_destroy(ev);
    return NULL;
}

static rd_kafka_AdminOptions_t *options(struct admin *a, rd_kafka_admin_op_t op)
{
    char errstr[256];
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(a->rk, op);
    rd_kafka_AdminOptions_set_request_timeout(o, a->cfg->kafka_timeout_ms, errstr, sizeof errstr);
    return o;
}

static int grow(void **v, size_t n, size_t *cap, size_t size, struct hf_err *err)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *nv = realloc(*v, ncap * size);
    if (!nv)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    *v = nv;
    *cap = ncap;
    return 0;
}

/* The names of the groups to report, into *names (caller frees each and the array). */
static int list_groups(struct admin *a, const char *only_group, char ***names, size_t *n, struct hf_err *err)
{
    size_t cap = 0;
    *names = NULL;
    *n = 0;
    if (only_group) {
        if (grow((void **)names, 0, &cap, sizeof **names, err) || !((*names)[0] = strdup(only_group)))
            return hf_err_set(err, HF_ENOMEM, false, "out of memory");
        *n = 1;
        return 0;
    }
    char prefix[96];
    hf_config_topic(a->cfg, "pool.", prefix, sizeof prefix);
    rd_kafka_AdminOptions_t *o = options(a, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
    rd_kafka_ListConsumerGroups(a->rk, o, a->q);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_event_t *ev = answer(a, "the list of consumer groups", err);
    if (!ev)
        return err->code;
    int rc = 0;
    size_t cnt = 0;
    const rd_kafka_ConsumerGroupListing_t **v =
        rd_kafka_ListConsumerGroups_result_valid(rd_kafka_event_ListConsumerGroups_result(ev), &cnt);
    for (size_t i = 0; i < cnt && rc == 0; i++) {
        const char *id = rd_kafka_ConsumerGroupListing_group_id(v[i]);
        if (strncmp(id, prefix, strlen(prefix)) != 0)
            continue;
        rc = grow((void **)names, *n, &cap, sizeof **names, err);
        if (rc == 0 && !((*names)[*n] = strdup(id)))
            rc = hf_err_set(err, HF_ENOMEM, false, "out of memory");
        if (rc == 0)
            (*n)++;
    }
    rd_kafka_event_destroy(ev);
    return rc;
}

static struct hf_lag *find_part(struct hf_lag_report *r, size_t from, const char *topic, int32_t partition)
{
    for (size_t i = from; i < r->n_parts; i++)
        if (r->parts[i].partition == partition && strcmp(r->parts[i].topic, topic) == 0)
            return &r->parts[i];
    return NULL;
}

/* Adds (group, topic, partition) unless present; returns it or NULL (err set). */
static struct hf_lag *add_part(struct hf_lag_report *r, size_t from, size_t *cap, const char *group, const char *topic,
                               int32_t partition, struct hf_err *err)
{
    struct hf_lag *p = find_part(r, from, topic, partition);
    if (p)
        return p;
    if (grow((void **)&r->parts, r->n_parts, cap, sizeof *r->parts, err))
        return NULL;
    p = &r->parts[r->n_parts++];
    memset(p, 0, sizeof *p);
    snprintf(p->group, sizeof p->group, "%s", group);
    snprintf(p->topic, sizeof p->topic, "%s", topic);
    p->partition = partition;
    p->committed = -1;
    return p;
}

/* State, members and who holds which partition. */
static int describe(struct admin *a, struct hf_lag_report *r, size_t from, size_t *cap, struct hf_group *g,
                    struct hf_err *err)
{
    const char *names[] = { g->group };
    rd_kafka_AdminOptions_t *o = options(a, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    rd_kafka_DescribeConsumerGroups(a->rk, names, 1, o, a->q);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_event_t *ev = answer(a, "a consumer group description", err);
    if (!ev)
        return err->code;
    int rc = 0;
    size_t cnt = 0;
    const rd_kafka_ConsumerGroupDescription_t **d =
        rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(ev), &cnt);
    if (cnt == 1 && !rd_kafka_ConsumerGroupDescription_error(d[0])) {
        snprintf(g->state, sizeof g->state, "%s",
                 rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(d[0])));
        g->members = (int)rd_kafka_ConsumerGroupDescription_member_count(d[0]);
        for (int m = 0; m < g->members && rc == 0; m++) {
            const rd_kafka_MemberDescription_t *md = rd_kafka_ConsumerGroupDescription_member(d[0], (size_t)m);
            const rd_kafka_topic_partition_list_t *as =
                rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(md));
            for (int i = 0; as && i < as->cnt && rc == 0; i++) {
                struct hf_lag *p = add_part(r, from, cap, g->group, as->elems[i].topic, as->elems[i].partition, err);
                if (!p)
                    rc = err->code;
                else
                    snprintf(p->owner, sizeof p->owner, "%s@%s", rd_kafka_MemberDescription_client_id(md),
                             rd_kafka_MemberDescription_host(md));
            }
        }
    }
    rd_kafka_event_destroy(ev);
    return rc;
}

static int committed(struct admin *a, struct hf_lag_report *r, size_t from, size_t *cap, const char *group,
                     struct hf_err *err)
{
    rd_kafka_ListConsumerGroupOffsets_t *req = rd_kafka_ListConsumerGroupOffsets_new(group, NULL);
    rd_kafka_AdminOptions_t *o = options(a, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
    rd_kafka_ListConsumerGroupOffsets(a->rk, &req, 1, o, a->q);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    rd_kafka_event_t *ev = answer(a, "committed offsets", err);
    if (!ev)
        return err->code;
    int rc = 0;
    size_t cnt = 0;
    const rd_kafka_group_result_t **g =
        rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(ev), &cnt);
    const rd_kafka_topic_partition_list_t *parts = cnt == 1 ? rd_kafka_group_result_partitions(g[0]) : NULL;
    for (int i = 0; parts && i < parts->cnt && rc == 0; i++) {
        struct hf_lag *p = add_part(r, from, cap, group, parts->elems[i].topic, parts->elems[i].partition, err);
        if (!p)
            rc = err->code;
        else if (parts->elems[i].offset >= 0)
            p->committed = parts->elems[i].offset;
    }
    rd_kafka_event_destroy(ev);
    return rc;
}

static int by_place(const void *x, const void *y)
{
    const struct hf_lag *a = x, *b = y;
    int c = strcmp(a->group, b->group);
    if (c == 0)
        c = strcmp(a->topic, b->topic);
    return c ? c : (a->partition > b->partition) - (a->partition < b->partition);
}

int hf_admin_lag(const struct hf_config *cfg, const char *only_group, struct hf_lag_report *report,
                 struct hf_err *err)
{
    char errstr[256];
    char **names = NULL;
    size_t n_names = 0, cap = 0;
    struct admin a = { .cfg = cfg };
    memset(report, 0, sizeof *report);
    int rc = 0;
    rd_kafka_conf_t *conf = hf_kafka_conf(cfg, err);
    if (!conf)
        return err->code;
    a.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!a.rk) {
        rd_kafka_conf_destroy(conf);
        return hf_err_set(err, HF_EIO, false, "cannot create a Kafka admin client: %s", errstr);
    }
    a.q = rd_kafka_queue_new(a.rk);
    if ((rc = list_groups(&a, only_group, &names, &n_names, err)))
        goto out;
    report->groups = calloc(n_names ? n_names : 1, sizeof *report->groups);
    if (!report->groups) {
        rc = hf_err_set(err, HF_ENOMEM, false, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n_names && rc == 0; i++) {
        struct hf_group *g = &report->groups[report->n_groups];
        snprintf(g->group, sizeof g->group, "%s", names[i]);
        snprintf(g->state, sizeof g->state, "Unknown");
        size_t from = report->n_parts;
        rc = describe(&a, report, from, &cap, g, err);
        if (rc == 0)
            rc = committed(&a, report, from, &cap, g->group, err);
        for (size_t p = from; p < report->n_parts && rc == 0; p++) {
            struct hf_lag *l = &report->parts[p];
            int64_t lo = 0, hi = 0;
            rd_kafka_resp_err_t e =
                rd_kafka_query_watermark_offsets(a.rk, l->topic, l->partition, &lo, &hi, cfg->kafka_timeout_ms);
            if (e) {
                rc = hf_err_set(err, HF_EUNAVAIL, true, "end offset of %s[%d]: %s", l->topic, (int)l->partition,
                                rd_kafka_err2str(e));
                break;
            }
            l->end = hi;
            int64_t from_offset = l->committed >= 0 ? l->committed : lo;
            l->lag = hi > from_offset ? hi - from_offset : 0;
            g->lag += l->lag;
        }
        /* A named group that does not exist has no state, members or offsets. */
        if (rc == 0 && (report->n_parts > from || g->members > 0 || !only_group))
            report->n_groups++;
    }
    if (rc == 0)
        qsort(report->parts, report->n_parts, sizeof *report->parts, by_place);
out:
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    if (rc)
        hf_lag_report_clear(report);
    rd_kafka_queue_destroy(a.q);
    rd_kafka_destroy(a.rk);
    return rc;
}

void hf_lag_report_clear(struct hf_lag_report *report)
{
    free(report->groups);
    free(report->parts);
    memset(report, 0, sizeof *report);
}

int hf_record_header_at(const struct hf_record *r, size_t i, const char **name, const void **value, size_t *len)
{
    if (!r->headers_)
        return -1;
    return rd_kafka_header_get_all(r->headers_, i, name, value, len) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

const char *hf_record_header(const struct hf_record *r, const char *name, char *out, size_t outsz)
{
    const void *v = NULL;
    size_t len = 0;
    out[0] = '\0';
    if (r->headers_ && rd_kafka_header_get_last(r->headers_, name, &v, &len) == RD_KAFKA_RESP_ERR_NO_ERROR && v)
        snprintf(out, outsz, "%.*s", (int)len, (const char *)v);
    return out;
}

/* The partitions of topic as an assignment list starting at each one's low
 * watermark, and their high watermarks in *ends, indexed by partition id. */
static int scan_plan(rd_kafka_t *rk, const struct hf_config *cfg, const char *topic,
                     rd_kafka_topic_partition_list_t **plan, int64_t **ends, struct hf_err *err)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, cfg->kafka_timeout_ms);
    rd_kafka_topic_destroy(t);
    if (e)
        return hf_err_set(err, HF_EUNAVAIL, true, "metadata of %s: %s", topic, rd_kafka_err2str(e));
    int rc = 0;
    if (md->topic_cnt != 1 || md->topics[0].err) {
        rc = hf_err_set(err, HF_ENOTFOUND, false, "topic %s does not exist", topic);
        goto out;
    }
    int n = md->topics[0].partition_cnt;
    *plan = rd_kafka_topic_partition_list_new(n ? n : 1);
    *ends = calloc((size_t)(n ? n : 1), sizeof **ends);
    if (!*ends) {
        rc = hf_err_set(err, HF_ENOMEM, false, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        int32_t p = md->topics[0].partitions[i].id;
        int64_t lo = 0, hi = 0;
        e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, cfg->kafka_timeout_ms);
        if (e) {
            rc = hf_err_set(err, HF_EUNAVAIL, true, "offsets of %s[%d]: %s", topic, (int)p, rd_kafka_err2str(e));
            goto out;
        }
        rd_kafka_topic_partition_list_add(*plan, topic, p)->offset = lo;
        if (p >= 0 && p < n)
            (*ends)[p] = hi;
    }
out:
    rd_kafka_metadata_destroy(md);
    return rc;
}

int hf_admin_scan(const struct hf_config *cfg, const char *topic, hf_record_fn fn, void *arg, struct hf_err *err)
{
    char errstr[256];
    rd_kafka_topic_partition_list_t *plan = NULL;
    int64_t *ends = NULL;
    int rc = 0;
    rd_kafka_conf_t *conf = hf_kafka_conf(cfg, err);
    if (!conf)
        return err->code;
    /* A consumer needs a group id to exist, but nothing here joins or commits. */
    if (hf_kafka_set(conf, "group.id", "hf-admin-scan", err) || hf_kafka_set(conf, "enable.auto.commit", "false", err) ||
        hf_kafka_set(conf, "enable.partition.eof", "true", err)) {
        rd_kafka_conf_destroy(conf);
        return err->code;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return hf_err_set(err, HF_EIO, false, "cannot create a Kafka consumer: %s", errstr);
    }
    if ((rc = scan_plan(rk, cfg, topic, &plan, &ends, err)))
        goto out;
    /* A partition is done at its end as of the plan: records added since are
     * not waited for. ends[p] becomes -1 once p is done. */
    int open = 0;
    for (int i = 0; i < plan->cnt; i++) {
        int32_t p = plan->elems[i].partition;
        if (plan->elems[i].offset < ends[p])
            open++;
        else
            ends[p] = -1;
    }
    if (open == 0)
        goto out;
    rd_kafka_assign(rk, plan);
    while (open > 0 && rc == 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, cfg->kafka_timeout_ms);
        if (!m) {
            rc = hf_err_set(err, HF_EUNAVAIL, true, "no record from %s within %d ms", topic, cfg->kafka_timeout_ms);
            break;
        }
        int64_t end = m->partition < plan->cnt ? ends[m->partition] : -1;
        bool done = false;
        if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rc = hf_err_set(err, HF_EUNAVAIL, true, "reading %s: %s", topic, rd_kafka_message_errstr(m));
        } else if (end >= 0 && (m->err || m->offset >= end)) {
            done = true; /* at the end, or past it */
        } else if (end >= 0) {
            rd_kafka_headers_t *h = NULL;
            rd_kafka_message_headers(m, &h);
            struct hf_record r = { topic, m->partition, m->offset, rd_kafka_message_timestamp(m, NULL), m->key,
                                   m->key_len, m->payload, m->len, h };
            rc = fn(arg, &r, err);
            done = m->offset + 1 >= end;
        }
        if (done) {
            ends[m->partition] = -1;
            open--;
        }
        rd_kafka_message_destroy(m);
    }
out:
    if (plan)
        rd_kafka_topic_partition_list_destroy(plan);
    free(ends);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

static int by_topic(const void *x, const void *y)
{
    return strcmp(((const struct hf_topic_count *)x)->topic, ((const struct hf_topic_count *)y)->topic);
}

int hf_admin_topics(const struct hf_config *cfg, const char *prefix, struct hf_topic_count **out, size_t *n,
                    struct hf_err *err)
{
    char errstr[256];
    const rd_kafka_metadata_t *md = NULL;
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    int rc = 0;
    rd_kafka_conf_t *conf = hf_kafka_conf(cfg, err);
    if (!conf)
        return err->code;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return hf_err_set(err, HF_EIO, false, "cannot create a Kafka client: %s", errstr);
    }
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, cfg->kafka_timeout_ms);
    if (e) {
        rc = hf_err_set(err, HF_EUNAVAIL, true, "Kafka at %s did not list its topics: %s", cfg->kafka_brokers,
                        rd_kafka_err2str(e));
        goto out;
    }
    for (int t = 0; t < md->topic_cnt && rc == 0; t++) {
        const rd_kafka_metadata_topic_t *mt = &md->topics[t];
        if (strncmp(mt->topic, prefix, strlen(prefix)) != 0)
            continue;
        if ((rc = grow((void **)out, *n, &cap, sizeof **out, err)))
            break;
        struct hf_topic_count *c = &(*out)[*n];
        memset(c, 0, sizeof *c);
        snprintf(c->topic, sizeof c->topic, "%s", mt->topic);
        c->partitions = mt->partition_cnt;
        for (int p = 0; p < mt->partition_cnt && rc == 0; p++) {
            int64_t lo = 0, hi = 0;
            e = rd_kafka_query_watermark_offsets(rk, mt->topic, mt->partitions[p].id, &lo, &hi, cfg->kafka_timeout_ms);
            if (e)
                rc = hf_err_set(err, HF_EUNAVAIL, true, "offsets of %s: %s", mt->topic, rd_kafka_err2str(e));
            c->records += hi - lo;
        }
        (*n)++;
    }
    if (rc == 0)
        qsort(*out, *n, sizeof **out, by_topic);
out:
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    return rc;
}
