#include "meal_net.h"

#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

bool meal_host_allowed(const char *list, const char *host)
{
    size_t hlen = strlen(host);
    if (hlen == 0)
        return false;
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > start && end[-1] == ' ')
            end--;
        size_t n = (size_t)(end - start);
        if (n == 0)
            continue;
        if (start[0] == '.') {
            /* ".example.com": example.com itself, or a name ending in it */
            if ((hlen == n - 1 && strncasecmp(host, start + 1, n - 1) == 0) ||
                (hlen > n && strncasecmp(host + hlen - n, start, n) == 0))
                return true;
        } else if (hlen == n && strncasecmp(host, start, n) == 0) {
            return true;
        }
    }
    return false;
}

static const char *v4_refusal(uint32_t a, bool allow_private)
{
    uint8_t b0 = (uint8_t)(a >> 24), b1 = (uint8_t)(a >> 16), b2 = (uint8_t)(a >> 8);
    if (b0 == 169 && b1 == 254)
        return "a link-local address (cloud metadata services live there)";
    if (b0 == 0)
        return "an unspecified address";
    if (b0 >= 224)
        return "a multicast or reserved address";
    if ((b0 == 100 && (b1 & 0xC0) == 64) || (b0 == 192 && b1 == 0 && b2 == 0) || (b0 == 198 && (b1 & 0xFE) == 18))
        return "a reserved address";
    if (allow_private)
        return NULL;
    if (b0 == 127)
        return "a loopback address";
    if (b0 == 10 || (b0 == 172 && (b1 & 0xF0) == 16) || (b0 == 192 && b1 == 168))
        return "a private address";
    return NULL;
}

const char *meal_addr_refusal(const struct sockaddr *addr, bool allow_private)
{
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        return v4_refusal(ntohl(in->sin_addr.s_addr), allow_private);
    }
    if (addr->sa_family != AF_INET6)
        return "not an internet address";
    const uint8_t *b = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
    static const uint8_t nat64[12] = { 0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0 };
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return v4_refusal((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15], allow_private);
    static const uint8_t zero[15] = { 0 };
    if (memcmp(b, zero, 15) == 0 && b[15] == 0)
        return "an unspecified address";
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80)
        return "a link-local address (cloud metadata services live there)";
    if (b[0] == 0xFF)
        return "a multicast address";
    if (allow_private)
        return NULL;
    if (memcmp(b, zero, 15) == 0 && b[15] == 1)
        return "a loopback address";
    if ((b[0] & 0xFE) == 0xFC)
        return "a private address";
    return NULL;
}
