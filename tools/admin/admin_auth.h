/* admin_auth: hf-admin's one operator credential (HF_ADMIN_TOKEN), given as
 * "Authorization: Bearer <token>" (scripts) or as the password of HTTP Basic
 * auth (a browser's own prompt, so the page and its files need no login form
 * of ours). The comparison takes the same time whatever the guess: both sides
 * are hashed with SHA-256 and the digests compared with CRYPTO_memcmp. */
#ifndef ADMIN_AUTH_H
#define ADMIN_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/* Shortest token accepted at start. */
#define ADMIN_TOKEN_MIN 16

/* Does the Authorization header value (NULL when absent) carry token? On
 * success the Basic user name (or "bearer") goes to who (whosz bytes), for
 * the audit log. */
bool admin_auth_check(const char *token, const char *authorization, char *who, size_t whosz);

#endif
