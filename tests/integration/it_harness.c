#include "it_harness.h"

#include "hf_codec.h"
#include "hf_schema.h"
#include "hf_uuid.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_PROCS 64

struct proc {
    pid_t pid;
    char name[64];
    bool running;
    int status; /* as it_stop returns it */
};

static struct {
    const char *suite;
    const char *bin_dir, *source_dir, *brokers, *pg_url;
    char intake_bin[512], hfctl_bin[512];
    char log_path[PATH_MAX];
    int log_fd;
    char prefix[64];
    char tag[64];
    int run; /* tests started in this binary */
    int64_t t0;
    struct proc procs[MAX_PROCS];
    int n_procs;
    volatile sig_atomic_t pg_down;
    char stack_path[PATH_MAX]; /* for the signal handler: tools/stack, ready to exec */
    PGconn *db;
    CURL *curl;
    rd_kafka_t *producer;
    bool keep_topics;
} G = { .log_fd = -1 };

/* ---------- small things ---------- */

int64_t it_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void it_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

int32_t it_day(int offset)
{
    return (int32_t)(time(NULL) / 86400) + offset;
}

void it_date(char out[11], int32_t day)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

void it_ts(char out[32], int32_t day, int hh, int mm, int ss)
{
    char d[11];
    it_date(d, day);
    snprintf(out, 32, "%sT%02d:%02d:%02dZ", d, hh, mm, ss);
}

int64_t it_ts_us(int32_t day, int hh, int mm, int ss)
{
    return ((int64_t)day * 86400 + hh * 3600 + mm * 60 + ss) * 1000000LL;
}

const char *it_prefix(void)
{
    return G.prefix;
}

const char *it_tag(void)
{
    return G.tag;
}

const char *it_topic(const char *family)
{
    static char bufs[8][192];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s%s", G.prefix, family);
    return b;
}

static void log_write(const char *text, size_t len)
{
    if (G.log_fd >= 0) {
        ssize_t w = write(G.log_fd, text, len);
        (void)w;
    }
}

void it_note(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char line[1200];
    int n = snprintf(line, sizeof line, "[it %7.3fs] %s\n", (double)(it_now_ms() - G.t0) / 1000.0, msg);
    if (n > (int)sizeof line - 1)
        n = (int)sizeof line - 1;
    log_write(line, (size_t)n);
    fputs(line, stderr);
}

void it_uuid4(char out[37])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        ck_abort_msg("getrandom failed");
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
             b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* ---------- log file ---------- */

void it_log_tail(int lines)
{
    int fd = open(G.log_path, O_RDONLY);
    if (fd < 0)
        return;
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > 65536 ? size - 65536 : 0;
    static char buf[65537];
    ssize_t n = pread(fd, buf, (size_t)(size - from), from);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    char *start = buf + n;
    int seen = 0;
    while (start > buf && seen <= lines)
        if (*--start == '\n')
            seen++;
    if (*start == '\n')
        start++;
    fprintf(stderr, "----- last %d lines of %s -----\n%s----- end of log -----\n", lines, G.log_path, start);
}

bool it_log_contains(const char *needle)
{
    FILE *f = fopen(G.log_path, "r");
    if (!f)
        return false;
    char line[8192];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

/* ---------- processes ---------- */

static struct proc *proc_of(pid_t pid)
{
    for (int i = 0; i < G.n_procs; i++)
        if (G.procs[i].pid == pid)
            return &G.procs[i];
    return NULL;
}

static int decode_status(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

/* NULL-terminated envp: the inherited environment, the harness's settings,
 * then `extra`, later ones replacing earlier ones of the same name. */
static char **build_env(const char *const *extra)
{
    char prefix_kv[96], instance_kv[96];
    snprintf(prefix_kv, sizeof prefix_kv, "HF_TOPIC_PREFIX=%s", G.prefix);
    snprintf(instance_kv, sizeof instance_kv, "HF_INSTANCE=%s", G.tag);
    const char *mine[64];
    int n_mine = 0;
    mine[n_mine++] = prefix_kv;
    mine[n_mine++] = instance_kv;
    for (int i = 0; extra && extra[i] && n_mine < 62; i++)
        mine[n_mine++] = extra[i];
    size_t n_env = 0;
    while (environ[n_env])
        n_env++;
    char **envp = calloc(n_env + (size_t)n_mine + 1, sizeof *envp);
    ck_assert(envp != NULL);
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++) {
        size_t nl = strcspn(environ[i], "=");
        bool replaced = false;
        for (int j = 0; j < n_mine && !replaced; j++)
            replaced = strncmp(mine[j], environ[i], nl) == 0 && mine[j][nl] == '=';
        if (!replaced)
            envp[k++] = strdup(environ[i]);
    }
    for (int j = 0; j < n_mine; j++) {
        size_t nl = strcspn(mine[j], "=");
        bool later = false;
        for (int l = j + 1; l < n_mine && !later; l++)
            later = strncmp(mine[l], mine[j], nl) == 0 && mine[l][nl] == '=';
        if (!later)
            envp[k++] = strdup(mine[j]);
    }
    envp[k] = NULL;
    return envp;
}

static void free_env(char **envp)
{
    for (size_t i = 0; envp[i]; i++)
        free(envp[i]);
    free(envp);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child_prepare(pid_t parent, int out_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    dup2(out_fd, STDOUT_FILENO);
    dup2(G.log_fd, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        close(devnull);
    }
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGALRM, SIG_DFL);
}

pid_t it_start(const char *name, const char *bin, const char *const *env)
{
    ck_assert_msg(G.n_procs < MAX_PROCS, "too many processes");
    char **envp = build_env(env);
    char *argv[] = { (char *)bin, NULL };
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        child_prepare(parent, G.log_fd);
        execve(bin, argv, envp);
        _exit(127);
    }
    free_env(envp);
    ck_assert_msg(pid > 0, "fork: %s", strerror(errno));
    struct proc *p = &G.procs[G.n_procs++];
    p->pid = pid;
    snprintf(p->name, sizeof p->name, "%s", name);
    p->running = true;
    p->status = -1;
    it_note("started %s (pid %d)", name, (int)pid);
    return pid;
}

bool it_alive(pid_t pid)
{
    struct proc *p = proc_of(pid);
    if (!p || !p->running)
        return false;
    int st;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
        p->running = false;
        p->status = r == pid ? decode_status(st) : -1;
        return false;
    }
    return true;
}

static int wait_exit(struct proc *p, int64_t deadline_ms)
{
    while (p->running) {
        int st;
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid || (r < 0 && errno == ECHILD)) {
            p->running = false;
            p->status = r == p->pid ? decode_status(st) : -1;
            break;
        }
        if (it_now_ms() >= deadline_ms)
            return -2;
        it_sleep_ms(20);
    }
    return p->status;
}

int it_stop(pid_t pid, int timeout_ms)
{
    struct proc *p = proc_of(pid);
    ck_assert_msg(p != NULL, "it_stop: pid %d was not started by the harness", (int)pid);
    if (!p->running)
        return p->status;
    kill(pid, SIGTERM);
    int st = wait_exit(p, it_now_ms() + timeout_ms);
    if (st == -2) {
        it_note("%s (pid %d) did not stop within %d ms: SIGKILL", p->name, (int)pid, timeout_ms);
        kill(pid, SIGKILL);
        wait_exit(p, it_now_ms() + 10000);
        p->status = -1;
        return -1;
    }
    it_note("%s (pid %d) exited with status %d", p->name, (int)pid, st);
    return st;
}

void it_kill9(pid_t pid)
{
    struct proc *p = proc_of(pid);
    ck_assert_msg(p != NULL, "it_kill9: pid %d was not started by the harness", (int)pid);
    if (!p->running)
        return;
    kill(pid, SIGKILL);
    wait_exit(p, it_now_ms() + 10000);
    it_note("%s (pid %d) killed with SIGKILL", p->name, (int)pid);
}

void it_stop_all_ok(void)
{
    for (int i = 0; i < G.n_procs; i++)
        if (G.procs[i].running)
            kill(G.procs[i].pid, SIGTERM);
    int64_t deadline = it_now_ms() + 20000;
    char bad[512] = "";
    for (int i = 0; i < G.n_procs; i++) {
        struct proc *p = &G.procs[i];
        if (!p->running)
            continue;
        int st = wait_exit(p, deadline);
        if (st == -2) {
            kill(p->pid, SIGKILL);
            wait_exit(p, it_now_ms() + 10000);
            snprintf(bad + strlen(bad), sizeof bad - strlen(bad), " %s did not stop on SIGTERM within 20 s;", p->name);
            continue;
        }
        it_note("%s (pid %d) exited with status %d", p->name, (int)p->pid, st);
        if (st != 0)
            snprintf(bad + strlen(bad), sizeof bad - strlen(bad), " %s exited with status %d;", p->name, st);
    }
    ck_assert_msg(bad[0] == '\0', "graceful shutdown failed:%s", bad);
    ck_assert_msg(!it_log_contains("ERROR: AddressSanitizer") && !it_log_contains("ERROR: LeakSanitizer") &&
                      !it_log_contains("runtime error:"),
                  "a sanitizer reported an error in a child (see the log)");
}

static void kill_all_now(void)
{
    for (int i = 0; i < G.n_procs; i++)
        if (G.procs[i].running) {
            if (!it_alive(G.procs[i].pid)) { /* died on its own: say how */
                it_note("%s (pid %d) had exited with status %d", G.procs[i].name, (int)G.procs[i].pid,
                        G.procs[i].status);
                continue;
            }
            kill(G.procs[i].pid, SIGKILL);
            int st;
            waitpid(G.procs[i].pid, &st, 0);
            G.procs[i].running = false;
        }
}

int it_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert(fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ck_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t len = sizeof a;
    ck_assert(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

bool it_port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static void wait_listening(pid_t pid, const char *name, int port, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    for (;;) {
        if (it_port_open(port))
            return;
        ck_assert_msg(it_alive(pid), "%s exited while starting (status %d); see the log", name, proc_of(pid)->status);
        ck_assert_msg(it_now_ms() < deadline, "%s not listening on port %d after %d ms", name, port, timeout_ms);
        it_sleep_ms(25);
    }
}

pid_t it_start_service(const char *name, const char *bin, const char *port_var, int *port,
                           const char *const *env, int timeout_ms)
{
    *port = it_free_port();
    char kv[48];
    snprintf(kv, sizeof kv, "%s=%d", port_var, *port);
    const char *all[40] = { kv };
    int n = 1;
    for (int i = 0; env && env[i] && n < 39; i++)
        all[n++] = env[i];
    all[n] = NULL;
    pid_t pid = it_start(name, bin, all);
    wait_listening(pid, name, *port, timeout_ms);
    return pid;
}

pid_t it_start_intake(int *port, const char *const *env)
{
    return it_start_service("hf-intake", G.intake_bin, "HF_INTAKE_PORT", port, env, 20000);
}

const char *it_bin(const char *program, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s/%s", G.bin_dir, program);
    ck_assert_msg(access(out, X_OK) == 0, "%s is not executable (is it built?)", out);
    return out;
}

pid_t it_start_pool(const char *pool, int *metrics_port, const char *const *env)
{
    char name[64], bin[600];
    snprintf(name, sizeof name, "hf-%s", pool);
    return it_start_service(name, it_bin(name, bin, sizeof bin), "HF_METRICS_PORT", metrics_port, env, 30000);
}

int it_run(char *out, size_t outsz, int timeout_ms, const char *const *argv, const char *const *env)
{
    int pipefd[2];
    ck_assert(pipe2(pipefd, O_CLOEXEC) == 0);
    char **envp = build_env(env);
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        child_prepare(parent, pipefd[1]);
        execve(argv[0], (char *const *)argv, envp);
        _exit(127);
    }
    free_env(envp);
    close(pipefd[1]);
    ck_assert_msg(pid > 0, "fork: %s", strerror(errno));
    size_t len = 0;
    char sink[4096];
    int64_t deadline = it_now_ms() + timeout_ms;
    bool timed_out = false;
    for (;;) {
        int left = (int)(deadline - it_now_ms());
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pfd = { pipefd[0], POLLIN, 0 };
        int pr = poll(&pfd, 1, left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        char *dst = out && len + 1 < outsz ? out + len : sink;
        size_t room = out && len + 1 < outsz ? outsz - len - 1 : sizeof sink;
        ssize_t n = read(pipefd[0], dst, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        log_write(dst, (size_t)n);
        if (dst != sink)
            len += (size_t)n;
    }
    close(pipefd[0]);
    if (out && outsz)
        out[len < outsz ? len : outsz - 1] = '\0';
    int st = 0;
    if (timed_out) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        it_note("%s did not finish within %d ms: killed", argv[0], timeout_ms);
        return -1;
    }
    waitpid(pid, &st, 0);
    return decode_status(st);
}

void it_hfctl(char *out, size_t outsz, ...)
{
    const char *argv[16] = { G.hfctl_bin };
    int n = 1;
    va_list ap;
    va_start(ap, outsz);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 15)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    char local[4096];
    int st = it_run(out ? out : local, out ? outsz : sizeof local, 60000, argv, NULL);
    ck_assert_msg(st == 0, "hfctl %s %s failed with status %d (see the log)", argv[1], n > 2 ? argv[2] : "", st);
}

void it_stack(const char *what, const char *component)
{
    if (strcmp(component, "pg") == 0 && strcmp(what, "down") == 0)
        G.pg_down = 1; /* before: if we die half-way, teardown still restarts it */
    const char *argv[] = { G.stack_path, what, component, NULL };
    int64_t t = it_now_ms();
    int st = it_run(NULL, 0, 60000, argv, NULL);
    it_note("tools/stack %s %s: status %d in %lld ms", what, component, st, (long long)(it_now_ms() - t));
    ck_assert_msg(st == 0, "tools/stack %s %s failed with status %d", what, component, st);
    if (strcmp(component, "pg") == 0 && strcmp(what, "up") == 0)
        G.pg_down = 0;
}

/* ---------- PostgreSQL ---------- */

static void db_connect(void)
{
    if (G.db && PQstatus(G.db) == CONNECTION_OK)
        return;
    if (G.db) {
        PQreset(G.db);
        if (PQstatus(G.db) == CONNECTION_OK)
            return;
        PQfinish(G.db);
    }
    G.db = PQconnectdb(G.pg_url);
    if (PQstatus(G.db) == CONNECTION_OK) {
        PGresult *r = PQexec(G.db, "SET TIME ZONE 'UTC'");
        PQclear(r);
    }
}

PGconn *it_db(void)
{
    db_connect();
    ck_assert_msg(PQstatus(G.db) == CONNECTION_OK, "cannot connect to PostgreSQL at %s: %s", G.pg_url,
                  PQerrorMessage(G.db));
    return G.db;
}

/* Runs sql; on a broken connection reconnects and tries once more. */
static PGresult *exec_sql(const char *sql, bool *ok)
{
    PGresult *r = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        db_connect();
        if (PQstatus(G.db) != CONNECTION_OK)
            continue;
        r = PQexec(G.db, sql);
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            *ok = true;
            return r;
        }
        if (PQstatus(G.db) == CONNECTION_OK)
            break; /* a real SQL error: do not retry */
        PQclear(r);
        r = NULL;
    }
    *ok = false;
    return r;
}

static char *vformat(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    ck_assert(s != NULL);
    return s;
}

PGresult *it_sql_result(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = vformat(fmt, ap);
    va_end(ap);
    bool ok;
    PGresult *r = exec_sql(sql, &ok);
    if (!ok) {
        char msg[600];
        snprintf(msg, sizeof msg, "SQL failed: %s -- %s", G.db ? PQerrorMessage(G.db) : "no connection", sql);
        PQclear(r);
        free(sql);
        ck_abort_msg("%s", msg);
    }
    free(sql);
    return r;
}

void it_sql(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = vformat(fmt, ap);
    va_end(ap);
    PGresult *r = it_sql_result("%s", sql);
    free(sql);
    PQclear(r);
}

/* Runs sql (freed here) and fails the test unless it gives exactly one value. */
static PGresult *one_value(char *sql)
{
    PGresult *r = it_sql_result("%s", sql);
    int rows = PQntuples(r), cols = PQnfields(r);
    if (rows != 1 || cols != 1) {
        PQclear(r);
        char msg[600];
        snprintf(msg, sizeof msg, "expected one value, got %d rows x %d columns: %s", rows, cols, sql);
        free(sql);
        ck_abort_msg("%s", msg);
    }
    free(sql);
    return r;
}

long long it_sql_int(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = vformat(fmt, ap);
    va_end(ap);
    PGresult *r = one_value(sql);
    long long v = PQgetisnull(r, 0, 0) ? LLONG_MIN : atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

void it_sql_text(char *out, size_t outsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = vformat(fmt, ap);
    va_end(ap);
    PGresult *r = one_value(sql);
    snprintf(out, outsz, "%s", PQgetisnull(r, 0, 0) ? "" : PQgetvalue(r, 0, 0));
    PQclear(r);
}

bool it_sql_int_try(long long *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = vformat(fmt, ap);
    va_end(ap);
    bool ok;
    PGresult *r = exec_sql(sql, &ok);
    free(sql);
    if (ok && PQntuples(r) == 1 && PQnfields(r) == 1)
        *out = PQgetisnull(r, 0, 0) ? LLONG_MIN : atoll(PQgetvalue(r, 0, 0));
    else
        ok = false;
    PQclear(r);
    return ok;
}

/* ---------- test data ---------- */

void it_make_client(struct it_client *c, const char *suffix)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s-%s", G.tag, suffix);
    char out[1024];
    it_hfctl(out, sizeof out, "client", "create", c->name, NULL);
    const char *id = strstr(out, "(id ");
    const char *key = strstr(out, "key: ");
    ck_assert_msg(id && key, "unexpected output of hfctl client create: %s", out);
    c->id = atoll(id + 4);
    snprintf(c->key, sizeof c->key, "%.*s", (int)strcspn(key + 5, "\n"), key + 5);
    ck_assert_msg(c->id > 0 && strncmp(c->key, "hf_", 3) == 0, "bad client from hfctl: %s", out);
}

long long it_make_user(long long client_id, const char *suffix)
{
    return it_sql_int("INSERT INTO users (client_id, external_ref, email) VALUES (%lld, '%s-%s', '%s-%s@example.test')"
                      " RETURNING id",
                      client_id, G.tag, suffix, G.tag, suffix);
}

long long it_make_member(long long user_id, const char *name)
{
    return it_sql_int("INSERT INTO members (user_id, name, relation_type) VALUES (%lld, '%s', 'SELF') RETURNING id",
                      user_id, name);
}

long long it_make_program(long long member_id, int start_offset, const char *nutrition_goals,
                          const char *strength_goals)
{
    long long id = it_sql_int("INSERT INTO care_programs (member_id, title, start_date, end_date)"
                              " VALUES (%lld, 'it program', current_date + %d, current_date + %d + 89) RETURNING id",
                              member_id, start_offset, start_offset);
    it_sql("INSERT INTO program_configs (program_id, nutrition_goals, strength_goals) VALUES (%lld, '%s', '%s')", id,
           nutrition_goals ? nutrition_goals : "{}", strength_goals ? strength_goals : "{}");
    return id;
}

/* ---------- HTTP ---------- */

struct buf {
    char *p;
    size_t len, cap;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct buf *b = arg;
    size_t n = size * nmemb;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = (b->len + n + 1) * 2;
        char *np = realloc(b->p, ncap);
        if (!np)
            return 0;
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return n;
}

struct upload {
    const char *p;
    size_t left;
};

static size_t on_read(char *dst, size_t size, size_t nmemb, void *arg)
{
    struct upload *u = arg;
    size_t n = size * nmemb;
    if (n > 700)
        n = 700; /* several chunks */
    if (n > u->left)
        n = u->left;
    memcpy(dst, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

long it_request(struct it_http *r, const char *method, int port, const char *path, const char *const *headers,
                const char *body, size_t body_len, bool chunked)
{
    memset(r, 0, sizeof *r);
    if (!G.curl)
        G.curl = curl_easy_init();
    ck_assert(G.curl != NULL);
    CURL *c = G.curl;
    curl_easy_reset(c);
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    for (int i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    if (chunked)
        h = curl_slist_append(h, "Transfer-Encoding: chunked");
    struct buf b = { 0 }, hb = { 0 };
    struct upload u = { body, body_len };
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "POST") == 0 && chunked) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &u);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        if (body) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        }
    }
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    else
        it_note("%s http://127.0.0.1:%d%s: %s", method, port, path, curl_easy_strerror(rc));
    r->body = b.p ? b.p : strdup("");
    r->len = b.len;
    r->headers = hb.p ? hb.p : strdup("");
    r->json = json_loads(r->body, 0, NULL);
    return r->status;
}

long it_post(struct it_http *r, int port, const char *path, const char *key, const char *body,
             const char *idempotency_key)
{
    char auth[160], idem[320];
    const char *h[4];
    int n = 0;
    h[n++] = "Content-Type: application/json";
    if (key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
        h[n++] = auth;
    }
    if (idempotency_key) {
        snprintf(idem, sizeof idem, "Idempotency-Key: %s", idempotency_key);
        h[n++] = idem;
    }
    h[n] = NULL;
    return it_request(r, "POST", port, path, h, body, strlen(body), false);
}

const char *it_http_header(const struct it_http *r, const char *name, char *out, size_t outsz)
{
    size_t n = strlen(name);
    for (const char *line = r->headers; line && *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != 0)) {
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            v += strspn(v, " ");
            snprintf(out, outsz, "%.*s", (int)strcspn(v, "\r\n"), v);
            return out;
        }
    }
    return NULL;
}

void it_emit(const char *schema_name, const char *json)
{
    hf_schema_registry *reg = NULL;
    struct hf_err err = { 0 };
    ck_assert_int_eq(hf_schema_registry_new(&reg, &err), 0);
    const struct hf_schema *s = hf_schema_latest(reg, schema_name);
    ck_assert_msg(s != NULL, "no schema %s", schema_name);
    json_t *fields = json_loads(json, 0, NULL);
    ck_assert_msg(fields != NULL, "not JSON: %s", json);
    char id[HF_UUID_STRLEN], version[8], key[64];
    hf_uuid_v4(id);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    ck_assert_msg(hf_codec_encode_json(s, fields, NULL, id, &buf, &err) == 0, "%s: %s", schema_name, err.msg);
    const json_t *k = json_object_get(fields, s->key_field);
    if (json_is_string(k))
        snprintf(key, sizeof key, "%s", json_string_value(k));
    else
        snprintf(key, sizeof key, "%lld", (long long)json_integer_value(k));
    snprintf(version, sizeof version, "%d", s->version);
    const struct it_kv h[] = { { "hf-schema", s->name }, { "hf-version", version }, { "hf-event-id", id } };
    it_produce(it_topic(s->family), key, buf.data, buf.size, h, 3, NULL, NULL);
    msgpack_sbuffer_destroy(&buf);
    json_decref(fields);
    hf_schema_registry_free(reg);
}

void it_http_free(struct it_http *r)
{
    free(r->headers);
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

static const char *err_part(const struct it_http *r, const char *part)
{
    const json_t *v = json_object_get(json_object_get(r->json, "error"), part);
    return json_is_string(v) ? json_string_value(v) : "";
}

const char *it_err_code(const struct it_http *r)
{
    return err_part(r, "code");
}

const char *it_err_field(const struct it_http *r)
{
    return err_part(r, "field");
}

double it_metric(int port, const char *series)
{
    struct it_http r;
    double v = NAN;
    if (it_request(&r, "GET", port, "/metrics", NULL, NULL, 0, false) == 200) {
        size_t sl = strlen(series);
        for (const char *line = r.body; line && *line;) {
            if (strncmp(line, series, sl) == 0 && line[sl] == ' ') {
                v = strtod(line + sl + 1, NULL);
                break;
            }
            line = strchr(line, '\n');
            if (line)
                line++;
        }
    }
    it_http_free(&r);
    return v;
}

/* ---------- Kafka ---------- */

struct delivery {
    bool done;
    rd_kafka_resp_err_t err;
    int32_t partition;
    int64_t offset;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    struct delivery *d = m->_private;
    if (!d)
        return;
    d->done = true;
    d->err = m->err;
    d->partition = m->partition;
    d->offset = m->offset;
}

static rd_kafka_conf_t *kafka_conf(void)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[256];
    ck_assert(rd_kafka_conf_set(conf, "bootstrap.servers", G.brokers, errstr, sizeof errstr) == RD_KAFKA_CONF_OK);
    rd_kafka_conf_set(conf, "log.connection.close", "false", errstr, sizeof errstr);
    return conf;
}

static rd_kafka_t *producer(void)
{
    if (G.producer)
        return G.producer;
    rd_kafka_conf_t *conf = kafka_conf();
    char errstr[256];
    rd_kafka_conf_set(conf, "acks", "all", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "linger.ms", "0", errstr, sizeof errstr);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    G.producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    ck_assert_msg(G.producer != NULL, "cannot create a Kafka producer: %s", errstr);
    return G.producer;
}

void it_produce(const char *topic, const char *key, const void *value, size_t len, const struct it_kv *headers,
                int n_headers, int32_t *partition, int64_t *offset)
{
    rd_kafka_t *rk = producer();
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new((size_t)(n_headers > 0 ? n_headers : 1));
    for (int i = 0; i < n_headers; i++)
        rd_kafka_header_add(hdrs, headers[i].name, -1, headers[i].value, -1);
    struct delivery d = { 0 };
    rd_kafka_resp_err_t e;
    if (n_headers > 0)
        e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                              RD_KAFKA_V_VALUE((void *)value, value ? len : 0), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(&d), RD_KAFKA_V_END);
    else
        e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                              RD_KAFKA_V_VALUE((void *)value, value ? len : 0), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_OPAQUE(&d), RD_KAFKA_V_END);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR || n_headers <= 0)
        rd_kafka_headers_destroy(hdrs);
    ck_assert_msg(e == RD_KAFKA_RESP_ERR_NO_ERROR, "produce to %s: %s", topic, rd_kafka_err2str(e));
    int64_t deadline = it_now_ms() + 15000;
    while (!d.done && it_now_ms() < deadline)
        rd_kafka_flush(rk, 100);
    ck_assert_msg(d.done, "no delivery report from Kafka for %s within 15 s", topic);
    ck_assert_msg(d.err == RD_KAFKA_RESP_ERR_NO_ERROR, "Kafka refused the record for %s: %s", topic,
                  rd_kafka_err2str(d.err));
    if (partition)
        *partition = d.partition;
    if (offset)
        *offset = d.offset;
}

/* The topic's partition count, or -1. A topic created a moment ago may not
 * be in the broker's metadata yet (seen right after a broker start): asked
 * again for up to 5 s before it counts as missing. */
static int partitions_of(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    int n = -1;
    for (int64_t deadline = it_now_ms() + 5000; n <= 0 && it_now_ms() < deadline;) {
        const struct rd_kafka_metadata *md = NULL;
        if (rd_kafka_metadata(rk, 0, t, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
                n = md->topics[0].partition_cnt;
            rd_kafka_metadata_destroy(md);
        }
        if (n <= 0)
            it_sleep_ms(100);
    }
    rd_kafka_topic_destroy(t);
    return n;
}

static long long count_once(rd_kafka_t *rk, const char *topic)
{
    int n = partitions_of(rk, topic);
    if (n <= 0)
        return -1;
    long long total = 0;
    for (int p = 0; p < n; p++) {
        int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
            return -1;
        total += hi - lo;
    }
    return total;
}

long long it_topic_count(const char *topic)
{
    /* Right after a topic is created (a fresh broker, above all) its
     * partitions may have no leader for a moment: ask again, for up to 15 s. */
    rd_kafka_t *rk = producer();
    long long total = -1;
    for (int i = 0; i < 150 && total < 0; i++) {
        total = count_once(rk, topic);
        if (total < 0)
            usleep(100 * 1000);
    }
    return total;
}

static char *dup_bytes(const void *p, size_t n)
{
    if (!p)
        return NULL;
    char *s = malloc(n + 1);
    ck_assert(s != NULL);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

int it_consume(const char *topic, int min_count, int timeout_ms, struct it_records *out)
{
    memset(out, 0, sizeof *out);
    rd_kafka_conf_t *conf = kafka_conf();
    char errstr[256], group[160];
    snprintf(group, sizeof group, "%sit-reader", G.prefix);
    rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "enable.auto.offset.store", "false", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    ck_assert_msg(rk != NULL, "cannot create a Kafka consumer: %s", errstr);
    int n_parts = partitions_of(rk, topic);
    if (n_parts <= 0) {
        rd_kafka_destroy(rk);
        ck_abort_msg("topic %s does not exist or has no partitions", topic);
    }
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n_parts);
    for (int p = 0; p < n_parts; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    bool eof[1024] = { false };
    int cap = 0;
    int64_t deadline = it_now_ms() + timeout_ms;
    for (;;) {
        bool all_eof = true;
        for (int p = 0; p < n_parts && p < 1024; p++)
            all_eof = all_eof && eof[p];
        if ((all_eof && out->n >= min_count) || it_now_ms() >= deadline)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->partition >= 0 && m->partition < 1024)
                eof[m->partition] = true;
        } else if (m->err) {
            it_note("consume %s: %s", topic, rd_kafka_message_errstr(m));
        } else {
            if (m->partition >= 0 && m->partition < 1024)
                eof[m->partition] = false;
            if (out->n == cap) {
                cap = cap ? cap * 2 : 64;
                out->v = realloc(out->v, (size_t)cap * sizeof *out->v);
                ck_assert(out->v != NULL);
            }
            struct it_record *r = &out->v[out->n++];
            memset(r, 0, sizeof *r);
            r->key = dup_bytes(m->key, m->key_len);
            r->key_len = m->key_len;
            r->value = dup_bytes(m->payload, m->len);
            r->len = m->len;
            r->partition = m->partition;
            r->offset = m->offset;
            rd_kafka_headers_t *hdrs = NULL;
            if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                size_t cnt = rd_kafka_header_cnt(hdrs);
                r->header_names = calloc(cnt + 1, sizeof *r->header_names);
                r->header_values = calloc(cnt + 1, sizeof *r->header_values);
                r->header_lens = calloc(cnt + 1, sizeof *r->header_lens);
                const char *name;
                const void *val;
                size_t vlen;
                for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &vlen) == RD_KAFKA_RESP_ERR_NO_ERROR;
                     i++) {
                    r->header_names[r->n_headers] = strdup(name);
                    r->header_values[r->n_headers] = val ? dup_bytes(val, vlen) : strdup("");
                    r->header_lens[r->n_headers] = vlen;
                    r->n_headers++;
                }
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return out->n;
}

void it_records_free(struct it_records *rs)
{
    for (int i = 0; i < rs->n; i++) {
        struct it_record *r = &rs->v[i];
        free(r->key);
        free(r->value);
        for (int h = 0; h < r->n_headers; h++) {
            free(r->header_names[h]);
            free(r->header_values[h]);
        }
        free(r->header_names);
        free(r->header_values);
        free(r->header_lens);
    }
    free(rs->v);
    memset(rs, 0, sizeof *rs);
}

const char *it_header(const struct it_record *r, const char *name)
{
    const char *v = NULL;
    for (int i = 0; i < r->n_headers; i++)
        if (strcmp(r->header_names[i], name) == 0)
            v = r->header_values[i];
    return v;
}

void it_pack_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str_with_body(pk, s, strlen(s));
}

void it_pack_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    it_pack_str(pk, k);
    it_pack_str(pk, v);
}

void it_pack_kv_int(msgpack_packer *pk, const char *k, int64_t v)
{
    it_pack_str(pk, k);
    msgpack_pack_int64(pk, v);
}

void it_pack_kv_double(msgpack_packer *pk, const char *k, double v)
{
    it_pack_str(pk, k);
    msgpack_pack_double(pk, v);
}

/* Deletes the prefix's topics and the pool's consumer group (housekeeping:
 * every run makes new ones). Errors are only noted. */
static void delete_kafka_objects(void)
{
    if (G.keep_topics || !G.prefix[0])
        return;
    rd_kafka_t *rk = producer();
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 1, NULL, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    rd_kafka_DeleteTopic_t *del[128];
    size_t n = 0;
    size_t pl = strlen(G.prefix);
    for (int i = 0; i < md->topic_cnt && n < 128; i++)
        if (strncmp(md->topics[i].topic, G.prefix, pl) == 0)
            del[n++] = rd_kafka_DeleteTopic_new(md->topics[i].topic);
    rd_kafka_metadata_destroy(md);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    if (n) {
        rd_kafka_DeleteTopics(rk, del, n, NULL, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 10000);
        if (ev)
            rd_kafka_event_destroy(ev);
        rd_kafka_DeleteTopic_destroy_array(del, n);
    }
    char group[160];
    snprintf(group, sizeof group, "%spool.adherence", G.prefix);
    rd_kafka_DeleteGroup_t *g = rd_kafka_DeleteGroup_new(group);
    rd_kafka_DeleteGroups(rk, &g, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 10000);
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_DeleteGroup_destroy(g);
    rd_kafka_queue_destroy(q);
}

/* ---------- setup, teardown, emergencies ---------- */

/* Async-signal-safe: starts PostgreSQL again if a test stopped it. */
static void restart_pg_raw(void)
{
    if (!G.pg_down || !G.stack_path[0])
        return;
    static const char msg[] = "[it] starting PostgreSQL again (tools/stack up pg)\n";
    if (G.log_fd >= 0) {
        ssize_t w = write(G.log_fd, msg, sizeof msg - 1);
        (void)w;
    }
    pid_t pid = vfork(); /* not fork: no atfork handlers, which may deadlock in a signal handler */
    if (pid == 0) {
        /* Its own session and no fd of ours but the log: the server it
         * starts must not hold ctest's pipes or die with our process group. */
        setsid();
        int out = G.log_fd >= 0 ? G.log_fd : open("/dev/null", O_WRONLY);
        dup2(out, STDOUT_FILENO);
        dup2(out, STDERR_FILENO);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        char *argv[] = { G.stack_path, (char *)"up", (char *)"pg", NULL };
        execve(G.stack_path, argv, environ);
        _exit(127);
    }
    if (pid > 0) {
        int st;
        waitpid(pid, &st, 0);
    }
    G.pg_down = 0;
}

/* The end of a test that cannot finish: kill the children, restore
 * PostgreSQL, show the log, exit. Called from a signal handler or the
 * watchdog thread, so raw calls only. */
static void emergency_exit(const char *why, int status)
{
    ssize_t w = write(STDERR_FILENO, why, strlen(why));
    (void)w;
    for (int i = 0; i < G.n_procs; i++)
        if (G.procs[i].running)
            kill(G.procs[i].pid, SIGKILL);
    restart_pg_raw();
    /* The log's tail, with raw calls only. */
    int fd = open(G.log_path, O_RDONLY);
    if (fd >= 0) {
        off_t size = lseek(fd, 0, SEEK_END);
        static char buf[16384];
        off_t from = size > (off_t)sizeof buf ? size - (off_t)sizeof buf : 0;
        ssize_t n = pread(fd, buf, sizeof buf, from);
        if (n > 0) {
            w = write(STDERR_FILENO, buf, (size_t)n);
            (void)w;
        }
        close(fd);
    }
    _exit(status);
}

static void on_fatal_signal(int sig)
{
    emergency_exit("\n[it] interrupted: killing children, restoring PostgreSQL\n", 128 + sig);
}

/* The test's deadline, below ctest's TIMEOUT (which would SIGKILL us and
 * leave PostgreSQL down in 0006). A thread, not alarm(): Check's own SIGALRM
 * handler kills the whole process group. */
static void *watchdog(void *arg)
{
    int64_t deadline = it_now_ms() + (int64_t)(intptr_t)arg * 1000;
    while (it_now_ms() < deadline)
        it_sleep_ms(200);
    emergency_exit("\n[it] out of time: killing children, restoring PostgreSQL\n", 124);
    return NULL;
}

/* Check installs SIGINT/SIGTERM handlers of its own in srunner_run_all (they
 * signal the whole process group); ours replace them once a test runs. */
static void catch_signals(void)
{
    struct sigaction sa = { .sa_handler = on_fatal_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static void at_exit(void)
{
    kill_all_now();
    restart_pg_raw();
}

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static void it_setup(void)
{
    catch_signals();
    G.run++;
    G.t0 = it_now_ms();
    G.n_procs = 0;
    snprintf(G.tag, sizeof G.tag, "it%lx%dx%d", (unsigned long)time(NULL), (int)getpid(), G.run);
    snprintf(G.prefix, sizeof G.prefix, "%s.", G.tag);
    it_note("test %s: topic prefix %s", G.suite, G.prefix);
    ck_assert_msg(G.bin_dir && G.source_dir, "set HF_BIN_DIR and HF_SOURCE_DIR (ctest does)");
    snprintf(G.intake_bin, sizeof G.intake_bin, "%s/hf-intake", G.bin_dir);
    snprintf(G.hfctl_bin, sizeof G.hfctl_bin, "%s/hfctl", G.bin_dir);
    ck_assert_msg(access(G.intake_bin, X_OK) == 0, "%s is not executable", G.intake_bin);
    ck_assert_msg(access(G.hfctl_bin, X_OK) == 0, "%s is not executable", G.hfctl_bin);
    /* A test killed while PostgreSQL was down (a timeout) leaves it down. */
    bool up = false;
    IT_WAIT_FOR(up, (db_connect(), PQstatus(G.db) == CONNECTION_OK), 5000);
    if (!up) {
        it_note("PostgreSQL is not answering: tools/stack up pg");
        it_stack("up", "pg");
    }
    it_db();
    it_hfctl(NULL, 0, "migrate", "up", NULL);
    it_hfctl(NULL, 0, "topics", "ensure", NULL);
    it_note("setup done");
}

static void it_teardown(void)
{
    kill_all_now();
    if (G.pg_down) {
        it_note("teardown: starting PostgreSQL again");
        restart_pg_raw();
    }
    delete_kafka_objects();
    if (G.producer) {
        rd_kafka_flush(G.producer, 2000);
        rd_kafka_destroy(G.producer);
        G.producer = NULL;
    }
    if (G.db) {
        PQfinish(G.db);
        G.db = NULL;
    }
    if (G.curl) {
        curl_easy_cleanup(G.curl);
        G.curl = NULL;
    }
    it_note("teardown done");
}

int it_run_suite(const char *name, const TTest *const *tests, int n_tests, int timeout_s)
{
    G.suite = name;
    G.bin_dir = getenv("HF_BIN_DIR");
    G.source_dir = getenv("HF_SOURCE_DIR");
    G.brokers = env_or("HF_KAFKA_BROKERS", "127.0.0.1:19092");
    G.pg_url = env_or("HF_PG_URL", "postgresql://postgres@127.0.0.1:15432/healthfleet");
    G.keep_topics = getenv("HF_IT_KEEP") && strcmp(getenv("HF_IT_KEEP"), "1") == 0;
    if (G.source_dir)
        snprintf(G.stack_path, sizeof G.stack_path, "%s/tools/stack", G.source_dir);
    const char *dir = env_or("HF_IT_LOG_DIR", ".");
    mkdir(dir, 0755);
    snprintf(G.log_path, sizeof G.log_path, "%s/%s.log", dir, name);
    G.log_fd = open(G.log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (G.log_fd < 0) {
        fprintf(stderr, "cannot open the log %s: %s\n", G.log_path, strerror(errno));
        return 2;
    }
    fprintf(stderr, "[it] %s: children's output in %s\n", name, G.log_path);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    atexit(at_exit);
    catch_signals();
    signal(SIGPIPE, SIG_IGN);
    /* Our own deadline (HF_IT_DEADLINE_S overrides it, to try that path). */
    if (getenv("HF_IT_DEADLINE_S"))
        timeout_s = atoi(getenv("HF_IT_DEADLINE_S"));
    pthread_t wd;
    if (pthread_create(&wd, NULL, watchdog, (void *)(intptr_t)timeout_s) == 0)
        pthread_detach(wd);

    Suite *s = suite_create(name);
    TCase *tc = tcase_create("integration");
    tcase_add_checked_fixture(tc, it_setup, it_teardown);
    for (int i = 0; i < n_tests; i++)
        tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (failed)
        it_log_tail(150);
    curl_global_cleanup();
    close(G.log_fd);
    G.log_fd = -1;
    if (failed) {
        /* A failed assertion jumps past the frees: skip LeakSanitizer's
         * report of that, which would only bury the real message. */
        at_exit();
        fflush(NULL);
        _exit(1);
    }
    return 0;
}

const char *it_write_file(const char *name, const char *text)
{
    static char bufs[4][512];
    static int next;
    char *path = bufs[next++ % 4];
    snprintf(path, sizeof bufs[0], "%s/%s-%s", env_or("HF_IT_LOG_DIR", "."), it_tag(), name);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_msg(fputs(text, f) >= 0 && fclose(f) == 0, "cannot write %s", path);
    return path;
}

long long it_produce_orphan_log(long long client_id, char event_id[37], msgpack_sbuffer *value)
{
    long long member = it_sql_int("SELECT nextval('members_id_seq')");
    char key[24], client[24];
    it_uuid4(event_id);
    snprintf(key, sizeof key, "%lld", member);
    snprintf(client, sizeof client, "%lld", client_id);
    msgpack_packer pk;
    msgpack_packer_init(&pk, value, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    it_pack_kv_str(&pk, "event_id", event_id);
    it_pack_kv_int(&pk, "member_id", member);
    it_pack_kv_int(&pk, "occurred_at", it_ts_us(it_day(-2), 12, 0, 0));
    it_pack_kv_double(&pk, "calories", 420);
    const struct it_kv h[] = { { "hf-schema", "log.nutrition" }, { "hf-version", "1" }, { "hf-event-id", event_id },
                               { "hf-client", client } };
    it_produce(it_topic("logs"), key, value->data, value->size, h, 4, NULL, NULL);
    return member;
}
