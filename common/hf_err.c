#include "hf_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vfill(struct hf_err *err, int code, bool retriable, const char *fmt, va_list ap)
{
    err->code = code;
    err->retriable = retriable;
    err->unavailable = (code == HF_EUNAVAIL);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

int hf_err_set(struct hf_err *err, int code, bool retriable, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    err->field[0] = '\0';
    vfill(err, code, retriable, fmt, ap);
    va_end(ap);
    return code;
}

int hf_err_field(struct hf_err *err, int code, const char *field, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    vfill(err, code, false, fmt, ap);
    va_end(ap);
    return code;
}

void hf_err_clear(struct hf_err *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

