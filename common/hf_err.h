/* hf_err: how every fallible healthfleet function reports failure.
 *
 * A function that can fail returns 0 on success or one of the negative HF_E*
 * codes below, and fills an optional struct hf_err (NULL is allowed) with a
 * message a person can act on. `retriable` tells the consumer runtime whether
 * trying the same message again could succeed; `unavailable` says the failure
 * is a dependency being away (PostgreSQL, Redis, Kafka), which the runtime
 * retries without limit instead of dead-lettering good messages. */
#ifndef HF_ERR_H
#define HF_ERR_H

#include <stdbool.h>

enum {
    HF_OK = 0,
    HF_EINVAL = -1,       /* input does not meet its contract */
    HF_ENOMEM = -2,
    HF_EIO = -3,          /* a system call or library failed */
    HF_EUNAVAIL = -4,     /* a dependency is away; try again later */
    HF_ETIMEOUT = -5,
    HF_ETOOBIG = -6,      /* past a configured size cap */
    HF_ENOTFOUND = -7,
    HF_ECONFLICT = -8,    /* state forbids it (lock held, edited migration) */
    HF_EDENIED = -9,      /* authentication or authorisation refused */
    HF_EPERM_MSG = -10,   /* the message itself can never succeed */
};

struct hf_err {
    int code;
    bool retriable;
    bool unavailable;
    char field[96]; /* offending input field, when there is one */
    char msg[256];
};

/* Fills err (when non-NULL) and returns code, so callers can write
 * `return hf_err_set(err, HF_EINVAL, false, "...")`. */
int hf_err_set(struct hf_err *err, int code, bool retriable, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Same, naming the input field the error is about. */
int hf_err_field(struct hf_err *err, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void hf_err_clear(struct hf_err *err);

#endif
