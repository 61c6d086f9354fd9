/* hf-admin's parts: the JSON API (admin_api.c) over what the server
 * (admin_main.c) holds for the life of the process. */
#ifndef ADMIN_H
#define ADMIN_H

#include <jansson.h>

#include "admin_rates.h"
#include "hf_config.h"
#include "hf_kafka.h"

/* Lives from start to exit; read-only after start except through rates
 * (thread-safe) and the producer (librdkafka's are thread-safe). */
struct admin {
    struct hf_config cfg;
    admin_rates *rates;
    hf_producer *producer; /* for the Kafka ping of /api/health */
};

/* One API request. `query` returns a query-string argument or NULL. body is
 * the POST body (NULL for GET); who names the operator (audit). Sets *out
 * to a new JSON document and returns the HTTP status; 404 with an error
 * document for a path it does not serve. */
typedef const char *(*admin_query_fn)(void *arg, const char *name);
int admin_api(struct admin *a, const char *method, const char *path, admin_query_fn query, void *qarg,
              const char *body, size_t body_len, const char *who, json_t **out);

/* One round of the sampler: every group's offsets into a->rates. */
int admin_sample(struct admin *a, struct hf_err *err);

#endif
