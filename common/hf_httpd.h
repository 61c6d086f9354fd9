/* hf_httpd: the small GET-only HTTP endpoint every worker process serves
 * (/metrics, /healthz, /readyz), on its own thread. */
#ifndef HF_HTTPD_H
#define HF_HTTPD_H

#include <stddef.h>

#include "hf_err.h"

typedef struct hf_httpd hf_httpd;

/* Answers one GET. Sets *body to a malloc'd text (the server frees it) and
 * *content_type to a static string; returns the HTTP status. */
typedef int (*hf_httpd_handler)(void *arg, const char *path, char **body, size_t *len, const char **content_type);

/* Starts serving on 127.0.0.1-or-any:port (all interfaces, for probes).
 * Caller stops and frees with hf_httpd_stop. Returns 0 or HF_EIO (port busy). */
int hf_httpd_start(int port, hf_httpd_handler fn, void *arg, hf_httpd **out, struct hf_err *err);
void hf_httpd_stop(hf_httpd *h);

#endif
