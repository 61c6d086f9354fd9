/* hf_utf8: strict UTF-8 (RFC 3629): no overlong forms, no surrogates,
 * nothing past U+10FFFF. */
#ifndef HF_UTF8_H
#define HF_UTF8_H

#include <stddef.h>

/* Length of the well-formed sequence at p (n bytes left, n > 0), 0 if none. */
size_t hf_utf8_seq(const unsigned char *p, size_t n);

#endif
