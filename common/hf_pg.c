#include "hf_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_log.h"

#define HF_PG_MAX_STMTS 64

struct hf_pg {
    char *url;
    PGconn *conn;
    /* Statements prepared on the current connection, by SQL text pointer:
     * callers pass string literals, so the pointer identifies the statement. */
    const char *prepared[HF_PG_MAX_STMTS];
    int n_prepared;
};

static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    hf_debug("postgres: %.*s", (int)strcspn(message, "\n"), message);
}

static int reconnect(hf_pg *pg, struct hf_err *err)
{
    if (pg->conn && PQstatus(pg->conn) == CONNECTION_OK)
        return 0;
    if (pg->conn)
        PQfinish(pg->conn);
    pg->n_prepared = 0;
    /* A server that accepts TCP but never answers (starting up, shutting
     * down, a dead host) must not hang a worker or an HTTP thread: bounded
     * connect, and keepalives to notice a connection that died silently. */
    const char *const keys[] = { "dbname", "connect_timeout", "keepalives_idle", "keepalives_interval", NULL };
    const char *const values[] = { pg->url, "5", "30", "10", NULL };
    pg->conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(pg->conn) != CONNECTION_OK) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(pg->conn));
        msg[strcspn(msg, "\n")] = '\0';
        return hf_err_set(err, HF_EUNAVAIL, true, "PostgreSQL unreachable: %s (check HF_PG_URL and that the server runs)",
                          msg);
    }
    /* Server notices ("already exists, skipping") are not errors; keep them
     * out of stderr, where every line must be a JSON log line. */
    PQsetNoticeProcessor(pg->conn, quiet_notice, NULL);
    /* Workers write in UTC; a server default elsewhere must not shift days.
     * No JIT: a batch's query over every month partition of daily_logs is
     * costed past jit_above_cost, and compiling it took 9 s of the 9.2 s it
     * ran (48 ms without); the fleet's statements are short and many. */
    PGresult *r = PQexec(pg->conn, "SET TIME ZONE 'UTC'; SET jit = off");
    PQclear(r);
    return 0;
}

int hf_pg_connect(const char *url, hf_pg **out, struct hf_err *err)
{
    hf_pg *pg = calloc(1, sizeof *pg);
    if (!pg || !(pg->url = strdup(url))) {
        free(pg);
        *out = NULL;
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    }
    *out = pg;
    return reconnect(pg, err);
}

void hf_pg_free(hf_pg *pg)
{
    if (!pg)
        return;
    if (pg->conn)
        PQfinish(pg->conn);
    free(pg->url);
    free(pg);
}

static int classify(hf_pg *pg, PGresult *res, const char *what, struct hf_err *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char msg[200];
    snprintf(msg, sizeof msg, "%s", PQerrorMessage(pg->conn));
    msg[strcspn(msg, "\n")] = '\0';
    if (PQstatus(pg->conn) != CONNECTION_OK || !state || strncmp(state, "08", 2) == 0 ||
        strncmp(state, "57P", 3) == 0 || strcmp(state, "53300") == 0)
        return hf_err_set(err, HF_EUNAVAIL, true, "PostgreSQL connection lost during %s: %s", what, msg);
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0 ||
        strncmp(state, "53", 2) == 0)
        return hf_err_set(err, HF_EIO, true, "PostgreSQL %s (%s), will retry: %s", what, state, msg);
    return hf_err_set(err, HF_EIO, false, "PostgreSQL rejected %s (SQLSTATE %s): %s", what, state, msg);
}

static int prepared_index(hf_pg *pg, const char *sql)
{
    for (int i = 0; i < pg->n_prepared; i++)
        if (pg->prepared[i] == sql)
            return i;
    return -1;
}

int hf_pg_exec(hf_pg *pg, const char *sql, int nparams, const char *const *params, PGresult **res,
               struct hf_err *err)
{
    if (res)
        *res = NULL;
    int rc = reconnect(pg, err);
    if (rc)
        return rc;
    int idx = prepared_index(pg, sql);
    char name[16];
    if (idx < 0 && pg->n_prepared < HF_PG_MAX_STMTS) {
        idx = pg->n_prepared;
        snprintf(name, sizeof name, "s%d", idx);
        PGresult *p = PQprepare(pg->conn, name, sql, nparams, NULL);
        if (PQresultStatus(p) != PGRES_COMMAND_OK) {
            rc = classify(pg, p, "prepare", err);
            PQclear(p);
            return rc;
        }
        PQclear(p);
        pg->prepared[pg->n_prepared++] = sql;
    }
    PGresult *r;
    if (idx >= 0) {
        snprintf(name, sizeof name, "s%d", idx);
        r = PQexecPrepared(pg->conn, name, nparams, params, NULL, NULL, 0);
    } else {
        r = PQexecParams(pg->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    }
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        rc = classify(pg, r, "a statement", err);
        PQclear(r);
        return rc;
    }
    if (res)
        *res = r;
    else
        PQclear(r);
    return 0;
}

int hf_pg_cmd(hf_pg *pg, const char *sql, struct hf_err *err)
{
    int rc = reconnect(pg, err);
    if (rc)
        return rc;
    PGresult *r = PQexec(pg->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = classify(pg, r, sql, err);
    PQclear(r);
    return rc;
}

void hf_pg_rollback(hf_pg *pg)
{
    if (pg->conn && PQstatus(pg->conn) == CONNECTION_OK && PQtransactionStatus(pg->conn) != PQTRANS_IDLE) {
        PGresult *r = PQexec(pg->conn, "ROLLBACK");
        PQclear(r);
    }
}

int hf_pg_ok(hf_pg *pg)
{
    return pg->conn && PQstatus(pg->conn) == CONNECTION_OK;
}


char *hf_pg_id_array(const int64_t *ids, size_t n)
{
    size_t cap = n * 21 + 3, len = 1;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    s[0] = '{';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s%lld", i ? "," : "", (long long)ids[i]);
    snprintf(s + len, cap - len, "}");
    return s;
}
