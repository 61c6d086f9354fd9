#include "hf_migrate.h"

#include <ctype.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_pg.h"

#define MAX_FILES 1000
#define MAX_SQL_BYTES (16 * 1024 * 1024)
/* Any constant works as long as every runner uses the same one. */
#define LOCK_KEY "7208431155"

struct file {
    int version;
    char name[128];
    char checksum[65];
    char *sql;
};

static int by_version(const void *a, const void *b)
{
    return ((const struct file *)a)->version - ((const struct file *)b)->version;
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data, len, d, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static int read_file(const char *path, char **out, struct hf_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return hf_err_set(err, HF_EIO, false, "cannot read %s", path);
    char *buf = malloc(MAX_SQL_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_SQL_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    if (n > MAX_SQL_BYTES) {
        free(buf);
        return hf_err_set(err, HF_ETOOBIG, false, "%s is larger than %d bytes", path, MAX_SQL_BYTES);
    }
    buf[n] = '\0';
    *out = buf;
    return 0;
}

static void free_files(struct file *files, int n)
{
    for (int i = 0; i < n; i++)
        free(files[i].sql);
    free(files);
}

static int load_files(const char *dir, struct file **out, int *count, struct hf_err *err)
{
    int rc = 0, n = 0;
    struct file *files = calloc(MAX_FILES, sizeof *files);
    DIR *d = opendir(dir);
    if (!files || !d) {
        rc = files ? hf_err_set(err, HF_EIO, false, "cannot open migrations folder %s (HF_MIGRATIONS_DIR)", dir)
                   : hf_err_set(err, HF_ENOMEM, false, "out of memory");
        goto out;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 4, ".sql") != 0)
            continue;
        if (len < 10 || !isdigit((unsigned char)e->d_name[0]) || !isdigit((unsigned char)e->d_name[1]) ||
            !isdigit((unsigned char)e->d_name[2]) || !isdigit((unsigned char)e->d_name[3]) || e->d_name[4] != '_') {
            rc = hf_err_set(err, HF_EINVAL, false, "%s/%s: name must be NNNN_description.sql", dir, e->d_name);
            goto out;
        }
        if (n == MAX_FILES || len >= sizeof files[n].name) {
            rc = hf_err_set(err, HF_ETOOBIG, false, "too many migrations or name too long: %s", e->d_name);
            goto out;
        }
        struct file *f = &files[n];
        f->version = atoi(e->d_name);
        snprintf(f->name, sizeof f->name, "%s", e->d_name);
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if ((rc = read_file(path, &f->sql, err)))
            goto out;
        n++;
        sha256_hex(f->sql, strlen(f->sql), f->checksum);
    }
    qsort(files, (size_t)n, sizeof *files, by_version);
    for (int i = 1; i < n; i++)
        if (files[i].version == files[i - 1].version) {
            rc = hf_err_set(err, HF_EINVAL, false, "%s and %s share version %d", files[i - 1].name, files[i].name,
                            files[i].version);
            goto out;
        }
out:
    if (d)
        closedir(d);
    if (rc) {
        free_files(files, n);
        files = NULL;
        n = 0;
    }
    *out = files;
    *count = n;
    return rc;
}

static const char *const ensure_table =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

static int run(const char *pg_url, const char *dir, bool apply, hf_migration_fn fn, void *arg, struct hf_err *err)
{
    struct file *files = NULL;
    int n = 0;
    hf_pg *pg = NULL;
    PGresult *applied = NULL;
    bool locked = false;
    int rc = load_files(dir, &files, &n, err);
    if (rc)
        goto out;
    if ((rc = hf_pg_connect(pg_url, &pg, err)))
        goto out;
    if ((rc = hf_pg_cmd(pg, "SELECT pg_advisory_lock(" LOCK_KEY ")", err)))
        goto out;
    locked = true;
    if ((rc = hf_pg_cmd(pg, ensure_table, err)))
        goto out;
    if ((rc = hf_pg_exec(pg, "SELECT version, name, checksum, to_char(applied_at AT TIME ZONE 'UTC',"
                             " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM schema_migrations ORDER BY version",
                         0, NULL, &applied, err)))
        goto out;
    int rows = PQntuples(applied);
    /* Check everything before applying anything. */
    for (int i = 0; i < n; i++)
        for (int r = 0; r < rows; r++)
            if (atoi(PQgetvalue(applied, r, 0)) == files[i].version &&
                strcmp(PQgetvalue(applied, r, 2), files[i].checksum) != 0) {
                if (!apply && fn) {
                    struct hf_migration m = { .version = files[i].version, .state = "edited" };
                    snprintf(m.name, sizeof m.name, "%s", files[i].name);
                    fn(arg, &m);
                    continue;
                }
                rc = hf_err_set(err, HF_ECONFLICT, false,
                                "%s was edited after it was applied (checksum %.12s..., recorded %.12s...): restore it "
                                "and put the change in a new migration",
                                files[i].name, files[i].checksum, PQgetvalue(applied, r, 2));
                goto out;
            }
    for (int i = 0; i < n; i++) {
        int r = 0;
        while (r < rows && atoi(PQgetvalue(applied, r, 0)) != files[i].version)
            r++;
        struct hf_migration m = { .version = files[i].version, .state = r < rows ? "applied" : "pending" };
        snprintf(m.name, sizeof m.name, "%s", files[i].name);
        if (r < rows) {
            if (strcmp(PQgetvalue(applied, r, 2), files[i].checksum) != 0)
                continue; /* reported above */
            snprintf(m.applied_at, sizeof m.applied_at, "%s", PQgetvalue(applied, r, 3));
            if (!apply && fn)
                fn(arg, &m);
            continue;
        }
        if (!apply) {
            if (fn)
                fn(arg, &m);
            continue;
        }
        char version[16];
        snprintf(version, sizeof version, "%d", files[i].version);
        const char *params[] = { version, files[i].name, files[i].checksum };
        if ((rc = hf_pg_cmd(pg, "BEGIN", err)) || (rc = hf_pg_cmd(pg, files[i].sql, err)) ||
            (rc = hf_pg_exec(pg, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", 3,
                             params, NULL, err)) ||
            (rc = hf_pg_cmd(pg, "COMMIT", err))) {
            hf_pg_rollback(pg);
            char why[256];
            snprintf(why, sizeof why, "%s", err->msg);
            rc = hf_err_set(err, rc == HF_EUNAVAIL ? HF_EUNAVAIL : HF_EINVAL, false, "%s failed and was rolled back: %s",
                            files[i].name, why);
            goto out;
        }
        m.state = "applied";
        if (fn)
            fn(arg, &m);
    }
    if (!apply && fn)
        for (int r = 0; r < rows; r++) {
            int v = atoi(PQgetvalue(applied, r, 0)), i = 0;
            while (i < n && files[i].version != v)
                i++;
            if (i < n)
                continue;
            struct hf_migration m = { .version = v, .state = "missing" };
            snprintf(m.name, sizeof m.name, "%s", PQgetvalue(applied, r, 1));
            snprintf(m.applied_at, sizeof m.applied_at, "%s", PQgetvalue(applied, r, 3));
            fn(arg, &m);
        }
out:
    PQclear(applied);
    if (locked)
        hf_pg_cmd(pg, "SELECT pg_advisory_unlock(" LOCK_KEY ")", NULL);
    hf_pg_free(pg);
    free_files(files, n);
    return rc;
}

int hf_migrate_up(const char *pg_url, const char *dir, hf_migration_fn fn, void *arg, struct hf_err *err)
{
    return run(pg_url, dir, true, fn, arg, err);
}

int hf_migrate_status(const char *pg_url, const char *dir, hf_migration_fn fn, void *arg, struct hf_err *err)
{
    return run(pg_url, dir, false, fn, arg, err);
}
