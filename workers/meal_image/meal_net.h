/* meal_net: which image hosts and addresses the pool may fetch from.
 *
 * An image URL comes from an app, so it is untrusted: fetched blindly it could
 * read the cloud metadata service (169.254.169.254) or an internal admin page
 * (server-side request forgery). Two checks, both needed: the URL's host
 * must be on the configured allow list, and the address actually connected
 * to (checked at connect time, after DNS, so a name that resolves to a public
 * address once and to 127.0.0.1 the next time gains nothing) must not be
 * private, loopback, link-local, multicast or reserved. Pure functions. */
#ifndef MEAL_NET_H
#define MEAL_NET_H

#include <stdbool.h>
#include <sys/socket.h>

/* Is host on list, a comma-separated list of host names ("photos.example.com,
 * .cdn.example.net"; an entry with a leading dot also allows every subdomain
 * and the name itself)? Case-insensitive; spaces around entries ignored. */
bool meal_host_allowed(const char *list, const char *host);

/* NULL when the pool may connect to addr, else why not ("a loopback
 * address", "a link-local address (cloud metadata lives there)").
 * allow_private admits private (10/8, 172.16/12, 192.168/16, fc00::/7) and
 * loopback addresses, for tests and private object stores; link-local (and
 * so metadata), multicast, unspecified and reserved addresses are never
 * admitted. IPv4-mapped IPv6 addresses are judged as the IPv4 they carry. */
const char *meal_addr_refusal(const struct sockaddr *addr, bool allow_private);

#endif
