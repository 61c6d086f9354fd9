/* 0007: the migration runner, on a database of its own.
 *
 * hfctl migrate against a scratch database and a scratch folder of SQL files:
 * status before and after; files applied in version order, each with its
 * SHA-256 in schema_migrations; a second `up` changes nothing; a failing file
 * is rolled back whole and stops the run; an applied file that was edited
 * stops everything before anything is applied (and status says "edited"); a
 * misnamed file is refused; two runners at once apply each file exactly once
 * (the advisory lock).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "it_harness.h"

static char dir[64], db[64], url[512];

static void write_file(const char *name, const char *sql)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(sql, f);
    fclose(f);
}

static int migrate(const char *what, char *out, size_t outsz)
{
    char env_url[600], env_dir[128];
    snprintf(env_url, sizeof env_url, "HF_PG_URL=%s", url);
    snprintf(env_dir, sizeof env_dir, "HF_MIGRATIONS_DIR=%s", dir);
    const char *const env[] = { env_url, env_dir, NULL };
    char hfctl[600];
    const char *const argv[] = { it_bin("hfctl", hfctl, sizeof hfctl), "migrate", what, NULL };
    return it_run(out, outsz, 60000, argv, env);
}

/* One value from the scratch database: the harness's SQL helpers talk to the
 * main one, so this asks psql. */
static long long scratch_int(const char *sql)
{
    char out[256];
    const char *const argv[] = { "/usr/lib/postgresql/15/bin/psql", "-X", "-A", "-t", "-d", url, "-c", sql, NULL };
    int st = it_run(out, sizeof out, 20000, argv, NULL);
    ck_assert_msg(st == 0, "psql failed on: %s", sql);
    return atoll(out);
}

START_TEST(migrations)
{
    snprintf(dir, sizeof dir, "/tmp/hfmig-%s-XXXXXX", it_tag());
    ck_assert(mkdtemp(dir) != NULL);
    snprintf(db, sizeof db, "hfmig_%d", (int)getpid());
    const char *base = getenv("HF_PG_URL");
    ck_assert(base != NULL);
    snprintf(url, sizeof url, "%.*s/%s", (int)(strrchr(base, '/') - base), base, db);
    it_sql("DROP DATABASE IF EXISTS %s", db);
    it_sql("CREATE DATABASE %s", db);

    char out[4096];
    write_file("0001_first.sql", "CREATE TABLE t1 (x int);\n");
    write_file("0002_second.sql", "INSERT INTO t1 VALUES (1);\n");
    ck_assert_int_eq(migrate("status", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "0001  pending") && strstr(out, "0002  pending"), "status: %s", out);

    ck_assert_int_eq(migrate("up", out, sizeof out), 0);
    ck_assert_int_eq(scratch_int("SELECT count(*) FROM schema_migrations"), 2);
    ck_assert_int_eq(scratch_int("SELECT count(*) FROM schema_migrations WHERE length(checksum) = 64"), 2);
    ck_assert_int_eq(scratch_int("SELECT count(*) FROM t1"), 1);
    ck_assert_int_eq(migrate("up", out, sizeof out), 0); /* nothing pending: nothing runs twice */
    ck_assert_int_eq(scratch_int("SELECT count(*) FROM t1"), 1);
    ck_assert_int_eq(migrate("status", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "0001  applied") && strstr(out, "0002  applied"), "status: %s", out);

    /* A failing file: its own first statement is rolled back with it. */
    write_file("0003_broken.sql", "CREATE TABLE t3 (y int);\nSELECT no_such_function();\n");
    ck_assert_int_ne(migrate("up", out, sizeof out), 0);
    ck_assert(it_log_contains("0003_broken.sql failed and was rolled back"));
    ck_assert_int_eq(scratch_int("SELECT count(*) FROM pg_tables WHERE tablename = 't3'"), 0);
    ck_assert_int_eq(scratch_int("SELECT count(*) FROM schema_migrations"), 2);
    write_file("0003_broken.sql", "CREATE TABLE t3 (y int);\n");
    ck_assert_int_eq(migrate("up", out, sizeof out), 0);
    ck_assert_int_eq(scratch_int("SELECT count(*) FROM schema_migrations"), 3);

    /* An applied file edited: refused before the pending 0004 runs. */
    write_file("0001_first.sql", "CREATE TABLE t1 (x int, z int);\n");
    write_file("0004_fourth.sql", "CREATE TABLE t4 (w int);\n");
    ck_assert_int_ne(migrate("up", out, sizeof out), 0);
    ck_assert(it_log_contains("0001_first.sql was edited after it was applied"));
    ck_assert_int_eq(scratch_int("SELECT count(*) FROM pg_tables WHERE tablename = 't4'"), 0);
    ck_assert_int_eq(migrate("status", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "0001  edited") && strstr(out, "0004  pending"), "status: %s", out);
    write_file("0001_first.sql", "CREATE TABLE t1 (x int);\n");

    /* A misnamed file is refused, naming it. */
    write_file("fifth.sql", "SELECT 1;\n");
    ck_assert_int_ne(migrate("up", out, sizeof out), 0);
    ck_assert(it_log_contains("fifth.sql: name must be NNNN_description.sql"));
    char path[160];
    snprintf(path, sizeof path, "%s/fifth.sql", dir);
    unlink(path);

    /* Two runners at once: the second waits for the first's lock, then finds
     * nothing pending. 0005 sleeps so that they really overlap. */
    write_file("0005_slow.sql", "SELECT pg_sleep(1);\nCREATE TABLE t5 (v int);\n");
    char script[2400], hfctl[600];
    it_bin("hfctl", hfctl, sizeof hfctl);
    snprintf(script, sizeof script,
             "export HF_PG_URL='%s' HF_MIGRATIONS_DIR='%s'; '%s' migrate up & a=$!; '%s' migrate up & b=$!; "
             "wait $a && wait $b",
             url, dir, hfctl, hfctl);
    const char *const sh[] = { "/bin/sh", "-c", script, NULL };
    ck_assert_int_eq(it_run(out, sizeof out, 60000, sh, NULL), 0);
    ck_assert_int_eq(scratch_int("SELECT count(*) FROM schema_migrations"), 5);
    ck_assert_int_eq(scratch_int("SELECT count(*) FROM pg_tables WHERE tablename IN ('t4', 't5')"), 2);

    it_sql("DROP DATABASE %s", db);
    const char *const rm[] = { "/bin/rm", "-rf", dir, NULL };
    it_run(NULL, 0, 10000, rm, NULL);
    it_note("migrations: apply, repeat, rollback, edited, misnamed and concurrent runners all behaved");
}
END_TEST

int main(void)
{
    const TTest *tests[] = { migrations };
    return it_run_suite("0007-migrations", tests, 1, 110);
}
