#include "hf_uuid.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hf_err.h"

/* By hand, not snprintf: the intake names every event it accepts. */
static void format(const unsigned char b[16], char out[HF_UUID_STRLEN])
{
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 0x0f];
    }
    *o = '\0';
}

int hf_uuid_v4(char out[HF_UUID_STRLEN])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        return HF_EIO;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    format(b, out);
    return 0;
}

void hf_uuid_v5(const char *namespace_text, const char *name, char out[HF_UUID_STRLEN])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    /* Allocation failure here is unrecoverable for an id generator; abort loudly. */
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha1(), NULL))
        abort();
    EVP_DigestUpdate(ctx, namespace_text, strlen(namespace_text));
    EVP_DigestUpdate(ctx, "\0", 1); /* keeps ("ab","c") apart from ("a","bc") */
    EVP_DigestUpdate(ctx, name, strlen(name));
    EVP_DigestFinal_ex(ctx, digest, &len);
    EVP_MD_CTX_free(ctx);
    digest[6] = (unsigned char)((digest[6] & 0x0f) | 0x50);
    digest[8] = (unsigned char)((digest[8] & 0x3f) | 0x80);
    format(digest, out);
}

bool hf_uuid_valid(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

void hf_uuid_normalise(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}
