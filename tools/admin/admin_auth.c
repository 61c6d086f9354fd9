#include "admin_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define AUTH_MAX 1024

static bool same_secret(const char *token, const char *given, size_t given_len)
{
    unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, strlen(token), a);
    SHA256((const unsigned char *)given, given_len, b);
    return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

/* "user:password" from the base64 of a Basic header, NUL-terminated in out;
 * its length, or -1 when it is not base64 or has no colon. */
static int basic_decode(const char *b64, char *out, size_t outsz)
{
    size_t n = strlen(b64);
    if (n == 0 || n % 4 != 0 || n / 4 * 3 + 1 > outsz)
        return -1;
    int len = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)b64, (int)n);
    if (len < 0)
        return -1;
    /* EVP_DecodeBlock counts the padding as decoded zero bytes */
    for (size_t i = n; i > 0 && b64[i - 1] == '='; i--)
        len--;
    out[len] = '\0';
    if (memchr(out, '\0', (size_t)len) || !memchr(out, ':', (size_t)len))
        return -1;
    return len;
}

bool admin_auth_check(const char *token, const char *authorization, char *who, size_t whosz)
{
    if (!token || strlen(token) < ADMIN_TOKEN_MIN || !authorization || strlen(authorization) > AUTH_MAX)
        return false;
    if (strncasecmp(authorization, "Bearer ", 7) == 0) {
        const char *t = authorization + 7;
        if (!same_secret(token, t, strlen(t)))
            return false;
        snprintf(who, whosz, "bearer");
        return true;
    }
    if (strncasecmp(authorization, "Basic ", 6) != 0)
        return false;
    char plain[AUTH_MAX];
    int len = basic_decode(authorization + 6, plain, sizeof plain);
    if (len < 0)
        return false;
    char *colon = strchr(plain, ':');
    const char *password = colon + 1;
    if (!same_secret(token, password, strlen(password)))
        return false;
    *colon = '\0';
    /* the user name goes to audit_logs: a name of plain characters or none */
    bool plain_name = plain[0] && strlen(plain) < 64 &&
                      strspn(plain, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") == strlen(plain);
    snprintf(who, whosz, "%s", plain_name ? plain : "operator");
    return true;
}
