/* it_harness: what every integration test of healthfleet needs to drive the
 * real binaries against the real stack (tools/stack up).
 *
 * A test binary is one Check suite run in CK_NOFORK mode; it_run_suite()
 * wraps every test in it_setup()/it_teardown():
 *
 *  - it_setup() gives the test its own world: a fresh HF_TOPIC_PREFIX
 *    ("it<time><pid>x<n>.", which also names the consumer group and the DLQ
 *    topic), migrates the shared database (`hfctl migrate up`, idempotent)
 *    and creates the prefix's topics (`hfctl topics ensure`);
 *  - processes are started with fork/exec (it_start*), their stdout/stderr
 *    appended to one log file per test, <HF_IT_LOG_DIR>/<test>.log, whose
 *    tail is printed when the test fails; children get PR_SET_PDEATHSIG so
 *    a crashed or killed test binary never leaves one running;
 *  - it_teardown() (also run after a failed assertion) kills every process
 *    still running, restarts PostgreSQL if the test stopped it, and deletes
 *    the prefix's topics and consumer group. On SIGTERM/SIGINT/SIGHUP, at exit,
 *    and when the binary's deadline passes (a watchdog thread, set below
 *    ctest's TIMEOUT), the children are killed and PostgreSQL restored too.
 *
 * Configuration (ctest passes these): HF_INTAKE_BIN, HF_ADHERENCE_BIN,
 * HF_HFCTL_BIN, HF_SOURCE_DIR, HF_IT_LOG_DIR; the stack's HF_KAFKA_BROKERS and
 * HF_PG_URL (defaults: the tools/stack ports). HF_IT_KEEP=1 keeps topics;
 * HF_IT_DEADLINE_S overrides the deadline.
 *
 * Helpers that can fail call ck_assert/ck_abort themselves, so a test reads
 * as a list of steps; *_try variants return a status instead (for polling).
 */
#ifndef IT_HARNESS_H
#define IT_HARNESS_H

#include <check.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---------- running a suite ---------- */

/* Runs the tests (Check's START_TEST objects) of one binary, each inside
 * it_setup/it_teardown, in CK_NOFORK mode, with a deadline in seconds for the
 * whole binary (keep it below ctest's TIMEOUT). Returns the process exit
 * status for main(). */
int it_run_suite(const char *name, const TTest *const *tests, int n_tests, int timeout_s);

const char *it_prefix(void);               /* "it...x1." */
/* "<prefix><family>" in one of 8 rotating static buffers. */
const char *it_topic(const char *family);
/* A short unique tag for names of rows (clients, users): the prefix without its dot. */
const char *it_tag(void);

/* Writes text to <HF_IT_LOG_DIR>/<tag>-<name> (a configuration file for a
 * program under test; kept with the logs) and returns its path, in one of 4
 * rotating static buffers. Asserts success. */
const char *it_write_file(const char *name, const char *text);

/* Appends a line to the test's log and prints it on stderr (numbers, phases). */
void it_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---------- time ---------- */

int64_t it_now_ms(void); /* monotonic */
void it_sleep_ms(int ms);
/* Today (UTC) plus `offset` days, as days since the epoch / "YYYY-MM-DD". */
int32_t it_day(int offset);
void it_date(char out[11], int32_t day);
/* "YYYY-MM-DDTHH:MM:SSZ" and microseconds since the epoch for a day and a time of it. */
void it_ts(char out[32], int32_t day, int hh, int mm, int ss);
int64_t it_ts_us(int32_t day, int hh, int mm, int ss);

/* Polls `cond` every 50 ms until it is true or `timeout_ms` passed; `ok`
 * (a bool lvalue) gets its last value. */
#define IT_WAIT_FOR(ok, cond, timeout_ms)                                  \
    do {                                                                   \
        int64_t it_deadline_ = it_now_ms() + (timeout_ms);                 \
        for (;;) {                                                         \
            (ok) = (cond);                                                 \
            if ((ok) || it_now_ms() >= it_deadline_)                       \
                break;                                                     \
            it_sleep_ms(50);                                               \
        }                                                                  \
    } while (0)

/* ---------- processes ---------- */

/* Starts `bin` with the test's environment plus `env` ("NAME=value" strings,
 * NULL-terminated, may be NULL), which override inherited values. Output goes
 * to the test's log. Returns the pid; the harness kills it at teardown. */
pid_t it_start(const char *name, const char *bin, const char *const *env);
/* SIGTERM, wait up to timeout_ms, then SIGKILL. Returns the exit status
 * (0..255), 128 + signal when killed by one, or -1 when it had to be killed. */
int it_stop(pid_t pid, int timeout_ms);
/* SIGKILL and reap. */
void it_kill9(pid_t pid);
/* False once the process has exited (reaps it). */
bool it_alive(pid_t pid);
/* SIGTERMs every process still running (all at once), and asserts that each
 * exits 0 within 20 s and that the log shows no sanitizer report. */
void it_stop_all_ok(void);

/* Starts `bin` on a free port, given to it in the environment variable
 * port_var (and returned in *port), and waits up to timeout_ms until that
 * port accepts connections (a test's own servers: fakes of third parties). */
pid_t it_start_service(const char *name, const char *bin, const char *port_var, int *port, const char *const *env,
                       int timeout_ms);
/* hf-intake on a free port; waits until it accepts connections. */
pid_t it_start_intake(int *port, const char *const *env);
/* Path of a fleet program in the build's bin/ ("hfctl", "hf-scheduler"),
 * written into out; asserts it is executable. Returns out. */
const char *it_bin(const char *program, char *out, size_t outsz);
/* The pool binary hf-<pool> ("adherence") with its metrics on a free port;
 * waits until it answers. */
pid_t it_start_pool(const char *pool, int *metrics_port, const char *const *env);

/* Runs a command to completion (stdout into out, stderr into the log) with a
 * deadline; returns its exit status, or -1 on timeout. */
int it_run(char *out, size_t outsz, int timeout_ms, const char *const *argv, const char *const *env);
/* hfctl ARGS... (NULL-terminated); asserts exit status 0. */
void it_hfctl(char *out, size_t outsz, ...);
/* tools/stack ARGS... (NULL-terminated); asserts exit status 0. Stopping pg
 * through it marks PostgreSQL for restart at teardown. */
void it_stack(const char *what, const char *component);

int it_free_port(void);
bool it_port_open(int port);

/* ---------- PostgreSQL ---------- */

PGconn *it_db(void);
/* Formats and runs SQL, asserting success. */
void it_sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The single value of a one-row one-column query; LLONG_MIN for NULL. */
long long it_sql_int(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, into text (empty for NULL). */
void it_sql_text(char *out, size_t outsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Polling variant: false (no assertion) when the query fails, e.g. during an outage. */
bool it_sql_int_try(long long *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The whole result; caller PQclear()s. Asserts success. */
PGresult *it_sql_result(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---------- test data ---------- */

struct it_client {
    long long id;
    char name[96];
    char key[96];
};

/* `hfctl client create <tag>-<suffix>`: id and API key. */
void it_make_client(struct it_client *c, const char *suffix);
long long it_make_user(long long client_id, const char *suffix);
long long it_make_member(long long user_id, const char *name);
/* A 90-day program starting `start_offset` days from today, with its
 * program_configs row (JSON objects as text). */
long long it_make_program(long long member_id, int start_offset, const char *nutrition_goals,
                          const char *strength_goals);

void it_uuid4(char out[37]);

/* ---------- HTTP ---------- */

struct it_http {
    long status;
    char *body;    /* NUL-terminated */
    size_t len;
    json_t *json;  /* parsed body, NULL when not JSON */
    char *headers; /* the response's header lines as received */
};

/* One request to 127.0.0.1:port (keep-alive between calls). headers: "Name:
 * value" strings, NULL-terminated, may be NULL. body may be NULL; chunked
 * sends it with Transfer-Encoding: chunked (no Content-Length). Returns the
 * status (0 when the connection failed). Free with it_http_free. */
long it_request(struct it_http *r, const char *method, int port, const char *path, const char *const *headers,
                const char *body, size_t body_len, bool chunked);
/* POST application/json with a Bearer key (NULL: no Authorization) and an
 * optional Idempotency-Key. */
long it_post(struct it_http *r, int port, const char *path, const char *key, const char *body,
             const char *idempotency_key);
void it_http_free(struct it_http *r);
/* Value of the response header `name` (any case) copied into out, or NULL
 * when absent. */
const char *it_http_header(const struct it_http *r, const char *name, char *out, size_t outsz);
/* error.code / error.field of a response ("" when absent). */
const char *it_err_code(const struct it_http *r);
const char *it_err_field(const struct it_http *r);

/* The value of one series on http://127.0.0.1:port/metrics, e.g.
 * it_metric(p, "hf_messages_total{pool=\"adherence\",outcome=\"processed\"}");
 * NAN when absent or unreachable. */
double it_metric(int port, const char *series);

/* ---------- Kafka ---------- */

struct it_kv {
    const char *name;
    const char *value;
};

struct it_record {
    char *key;       /* NUL-terminated copy, NULL for a null key */
    size_t key_len;
    char *value;     /* NUL-terminated copy, NULL for a null value */
    size_t len;
    int32_t partition;
    int64_t offset;
    int n_headers;
    char **header_names;
    char **header_values; /* NUL-terminated copies */
    size_t *header_lens;
};

struct it_records {
    struct it_record *v;
    int n;
};

/* Produces one record and waits for the broker's acknowledgement; asserts
 * success. value NULL: a null value. headers may be NULL. partition/offset
 * (either may be NULL) receive where it landed. */
void it_produce(const char *topic, const char *key, const void *value, size_t len, const struct it_kv *headers,
                int n_headers, int32_t *partition, int64_t *offset);
/* Produces a message of a built-in schema from its fields as JSON text, the
 * way a pool's hf_pool_emit would (msgpack, key from the schema's key field,
 * hf-schema/hf-version/hf-event-id headers, a random event id), to
 * <prefix><family>; asserts it encodes and is acknowledged. */
void it_emit(const char *schema_name, const char *json);
/* Reads `topic` from the beginning of every partition until at least
 * min_count records were read and every partition is at its end, or until
 * timeout_ms. Returns the number read (all of them are in out). */
int it_consume(const char *topic, int min_count, int timeout_ms, struct it_records *out);
void it_records_free(struct it_records *rs);
/* Produces to <prefix>logs a valid log.nutrition (420 kcal, two days ago)
 * from client_id for a member that does not exist yet: its id comes from
 * members_id_seq, so no member created later collides with it, and a pool
 * dead-letters the log until a row with that id is inserted. Fills event_id
 * and value (initialised by the caller, who destroys it); returns the member
 * id, which is also the record's key. */
long long it_produce_orphan_log(long long client_id, char event_id[37], msgpack_sbuffer *value);
/* Last value of a header, NULL when absent. */
const char *it_header(const struct it_record *r, const char *name);
/* Records currently in the topic (sum over partitions of high - low
 * watermark, asked of the broker); -1 when the broker cannot say. */
long long it_topic_count(const char *topic);

/* msgpack packing shorthands. */
void it_pack_str(msgpack_packer *pk, const char *s);
void it_pack_kv_str(msgpack_packer *pk, const char *k, const char *v);
void it_pack_kv_int(msgpack_packer *pk, const char *k, int64_t v);
void it_pack_kv_double(msgpack_packer *pk, const char *k, double v);

/* ---------- diagnostics ---------- */

/* Prints the last `lines` lines of the test's log on stderr. */
void it_log_tail(int lines);
/* True when the log contains `needle`. */
bool it_log_contains(const char *needle);

#endif
