/* hf_pg: one PostgreSQL connection with the error handling the fleet needs.
 *
 * Every failure is classified for the runtime: a lost connection or server
 * shutdown is HF_EUNAVAIL (retry without limit), serialization failures,
 * deadlocks and lock timeouts are retriable, data and constraint errors are
 * not (the message is bad). A lost connection is re-established on the next
 * call. Not thread-safe: one hf_pg per thread. */
#ifndef HF_PG_H
#define HF_PG_H

#include <libpq-fe.h>

#include <stdint.h>

#include "hf_err.h"

typedef struct hf_pg hf_pg;

/* Connects to url (a libpq URI). Caller frees with hf_pg_free. Returns 0 or
 * HF_EUNAVAIL; *out is set even on failure, so a caller can keep the handle
 * and let later calls reconnect. */
int hf_pg_connect(const char *url, hf_pg **out, struct hf_err *err);
void hf_pg_free(hf_pg *pg);

/* Runs one statement with text parameters (NULL entries are SQL NULL).
 * On success *res (if res is non-NULL) holds the result; caller PQclear()s it.
 * Statements are prepared once per connection, by their SQL text. */
int hf_pg_exec(hf_pg *pg, const char *sql, int nparams, const char *const *params, PGresult **res,
               struct hf_err *err);

/* "{1,2,3}": ids as a PostgreSQL array literal, for one parameter ($1::bigint[])
 * instead of one statement per id. Caller frees; NULL when out of memory. */
char *hf_pg_id_array(const int64_t *ids, size_t n);

/* Runs a statement with no parameters and no result (BEGIN, COMMIT, DDL). */
int hf_pg_cmd(hf_pg *pg, const char *sql, struct hf_err *err);

/* Rolls back if a transaction is open; never fails loudly (used on error paths). */
void hf_pg_rollback(hf_pg *pg);

/* Non-zero while the connection is up. */
int hf_pg_ok(hf_pg *pg);

#endif
