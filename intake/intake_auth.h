/* intake_auth: who is calling and what they may do.
 *
 * API keys are looked up by SHA-256 in api_clients; ownership (a member
 * belongs to a user of this client, a program to that member) in PostgreSQL.
 * Answers are cached in-process for HF_INTAKE_AUTH_CACHE_S so the hot path
 * touches no database; a revoked key keeps working for at most that long.
 * API keys in a small table; ownership answers in HF_INTAKE_OWNER_CACHE
 * entries (4-way sets, the soonest to expire evicted), sized for the people
 * active within that time.
 * Rate limits are intake_limits.h's. Thread-safe. */
#ifndef INTAKE_AUTH_H
#define INTAKE_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "hf_config.h"
#include "hf_err.h"
#include "hf_pg.h"

typedef struct intake_auth intake_auth;

struct intake_client {
    int64_t id;
    int rpm;          /* events per minute allowed */
    char scopes[256]; /* comma-separated: "log.*,meal.photo_uploaded" or "*" */
};

/* Caller frees with intake_auth_free. Connects lazily. */
int intake_auth_new(const struct hf_config *cfg, intake_auth **out, struct hf_err *err);
void intake_auth_free(intake_auth *a);

/* 0 with *client filled; HF_EDENIED for an unknown or revoked key;
 * HF_EUNAVAIL when PostgreSQL cannot be asked. */
int intake_auth_client(intake_auth *a, const char *key, struct intake_client *client, struct hf_err *err);

/* May this client post events of this type? */
bool intake_auth_scope_allows(const struct intake_client *c, const char *type);

/* 0 when member_id belongs to the client and (when program_id > 0) the program
 * to the member, with *user_id (may be NULL) the member's user; HF_EDENIED
 * (err->field names which) otherwise; HF_EUNAVAIL. */
int intake_auth_owns(intake_auth *a, int64_t client_id, int64_t member_id, int64_t program_id, int64_t *user_id,
                     struct hf_err *err);

/* May the client read this member (program false) or program (true)? 0 with
 * *member_id (the program's member, or id) and *user_id filled;
 * HF_ENOTFOUND when the entity is not one of the client's (whether it exists
 * is not told); HF_EUNAVAIL. */
int intake_auth_reader(intake_auth *a, int64_t client_id, bool program, int64_t id, int64_t *member_id,
                       int64_t *user_id, struct hf_err *err);

/* The intake's PostgreSQL connections (one per HTTP thread): borrow one,
 * NULL with err when it cannot connect; give it back with the slot. */
hf_pg *intake_auth_pg_borrow(intake_auth *a, int *slot, struct hf_err *err);
void intake_auth_pg_return(intake_auth *a, int slot);

/* 0 when PostgreSQL answers (for /readyz). */
int intake_auth_ping(intake_auth *a, struct hf_err *err);

#endif
