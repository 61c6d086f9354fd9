/* hf_migrate: applies the numbered SQL files of migrations/ in order.
 *
 * Files are NNNN_description.sql. Each runs in one transaction together with
 * its row in schema_migrations (version, name, SHA-256 checksum, time). A
 * session advisory lock makes concurrent runners wait for each other, and a
 * file edited after it was applied stops everything: a schema change is a new
 * file, never an edit. */
#ifndef HF_MIGRATE_H
#define HF_MIGRATE_H

#include "hf_err.h"

struct hf_migration {
    int version;
    char name[128];
    const char *state; /* "applied", "pending", "edited" or "missing" (applied, file gone) */
    char applied_at[40];
};

typedef void (*hf_migration_fn)(void *arg, const struct hf_migration *m);

/* Applies pending files; reports each applied one through fn (may be NULL).
 * Returns 0, HF_ECONFLICT (an applied file changed; nothing is applied),
 * HF_EINVAL (a bad file name or SQL; that file's transaction rolled back),
 * or HF_EUNAVAIL. */
int hf_migrate_up(const char *pg_url, const char *dir, hf_migration_fn fn, void *arg, struct hf_err *err);

/* Reports every file and every applied version through fn. */
int hf_migrate_status(const char *pg_url, const char *dir, hf_migration_fn fn, void *arg, struct hf_err *err);

#endif
