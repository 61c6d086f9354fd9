/* hf-chaos-poison: produces poison records straight to <prefix>logs, the way
 * a broken producer would, for the chaos run (tools/chaos/README.md).
 *
 *   hf-chaos-poison MEMBER_ID COUNT
 *
 * COUNT records, the kinds taken in turn: not msgpack, an unknown schema name,
 * an unknown schema version, a map failing validation (calories -1), a map
 * without event_id, and a valid record for a member that does not exist (a
 * foreign-key violation found only inside the batch transaction). Each goes
 * to partition of MEMBER_ID's key (the last to the missing member's) with the
 * usual hf-* headers and a fresh hf-event-id. Once the broker acknowledged
 * all of them, prints one line each: "<kind> <partition> <offset> <event id>",
 * which is what the dead-letter topic's hf-dlq-partition/offset must name.
 * Exits 1 when any record was not acknowledged (nothing printed then). */
#include <librdkafka/rdkafka.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_config.h"
#include "hf_err.h"
#include "hf_kafka.h"
#include "hf_time.h"
#include "hf_uuid.h"

enum kind { NOT_MSGPACK, UNKNOWN_SCHEMA, VERSION_99, INVALID, NO_EVENT_ID, NO_SUCH_MEMBER, N_KINDS };
static const char *const kind_names[N_KINDS] = { "not_msgpack", "unknown_schema", "version_99",
                                                 "invalid",     "no_event_id",    "no_such_member" };
#define MISSING_MEMBER 9000000000000LL

struct sent {
    enum kind kind;
    char event_id[HF_UUID_STRLEN];
    int32_t partition;
    int64_t offset;
    rd_kafka_resp_err_t err;
    int done;
};

static void pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

/* A log.nutrition map as the intake writes it (occurred_at: an hour ago). */
static void pack_log(msgpack_sbuffer *sb, const char *event_id, long long member, double calories)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, event_id ? 4 : 3);
    if (event_id) {
        pack_str(&pk, "event_id");
        pack_str(&pk, event_id);
    }
    pack_str(&pk, "member_id");
    msgpack_pack_int64(&pk, member);
    pack_str(&pk, "occurred_at");
    msgpack_pack_int64(&pk, hf_time_now_us() - 3600LL * 1000000);
    pack_str(&pk, "calories");
    msgpack_pack_double(&pk, calories);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    struct sent *s = m->_private;
    s->err = m->err;
    s->partition = m->partition;
    s->offset = m->offset;
    s->done = 1;
}

static int parse_ll(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    long long member, count;
    if (argc != 3 || parse_ll(argv[1], 1, MISSING_MEMBER - 1, &member) || parse_ll(argv[2], 1, 10000, &count)) {
        fputs("usage: hf-chaos-poison MEMBER_ID COUNT   (COUNT 1-10000)\n", stderr);
        return 2;
    }
    struct hf_config cfg;
    struct hf_err err = { 0 };
    char errstr[512], topic[256];
    rd_kafka_t *rk = NULL;
    struct sent *sent = calloc((size_t)count, sizeof *sent);
    int rc = 1;
    if (!sent) {
        fputs("hf-chaos-poison: out of memory\n", stderr);
        return 1;
    }
    if (hf_config_load(&cfg, &err)) {
        fprintf(stderr, "hf-chaos-poison: %s\n", err.msg);
        goto out;
    }
    hf_config_topic(&cfg, "logs", topic, sizeof topic);
    rd_kafka_conf_t *conf = hf_kafka_conf(&cfg, &err);
    if (!conf || hf_kafka_set(conf, "enable.idempotence", "true", &err) ||
        hf_kafka_set(conf, "message.timeout.ms", "120000", &err)) {
        fprintf(stderr, "hf-chaos-poison: %s\n", err.msg);
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "hf-chaos-poison: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    for (long long i = 0; i < count; i++) {
        struct sent *s = &sent[i];
        s->kind = (enum kind)(i % N_KINDS);
        hf_uuid_v4(s->event_id);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        const char *schema = "log.nutrition", *version = "1";
        long long key_member = member;
        switch (s->kind) {
        case NOT_MSGPACK:
            msgpack_sbuffer_write(&sb, "this is not msgpack {", 21);
            break;
        case UNKNOWN_SCHEMA:
            pack_log(&sb, s->event_id, member, 100);
            schema = "log.bogus";
            break;
        case VERSION_99:
            pack_log(&sb, s->event_id, member, 100);
            version = "99";
            break;
        case INVALID:
            pack_log(&sb, s->event_id, member, -1);
            break;
        case NO_EVENT_ID:
            pack_log(&sb, NULL, member, 100);
            break;
        case NO_SUCH_MEMBER:
            pack_log(&sb, s->event_id, MISSING_MEMBER, 100);
            key_member = MISSING_MEMBER;
            break;
        case N_KINDS:
            abort();
        }
        char key[24];
        snprintf(key, sizeof key, "%lld", key_member);
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(sb.data, sb.size),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADER("hf-schema", schema, -1),
            RD_KAFKA_V_HEADER("hf-version", version, -1), RD_KAFKA_V_HEADER("hf-event-id", s->event_id, -1),
            RD_KAFKA_V_HEADER("hf-producer", "chaos-poison", -1), RD_KAFKA_V_OPAQUE(s), RD_KAFKA_V_END);
        msgpack_sbuffer_destroy(&sb);
        if (e) {
            fprintf(stderr, "hf-chaos-poison: produce to %s: %s\n", topic, rd_kafka_err2str(e));
            goto out;
        }
    }
    rd_kafka_flush(rk, 130000);
    for (long long i = 0; i < count; i++)
        if (!sent[i].done || sent[i].err) {
            fprintf(stderr, "hf-chaos-poison: record %lld (%s) not acknowledged: %s\n", i, kind_names[sent[i].kind],
                    sent[i].done ? rd_kafka_err2str(sent[i].err) : "no delivery report");
            goto out;
        }
    for (long long i = 0; i < count; i++)
        printf("%s %d %lld %s\n", kind_names[sent[i].kind], (int)sent[i].partition, (long long)sent[i].offset,
               sent[i].event_id);
    rc = 0;
out:
    if (rk)
        rd_kafka_destroy(rk);
    free(sent);
    return rc;
}
