/* hf_uuid: event ids. Apps may send their own (any RFC 4122 UUID); intake
 * derives one from an Idempotency-Key, or makes a random one. */
#ifndef HF_UUID_H
#define HF_UUID_H

#include <stdbool.h>
#include <stddef.h>

#define HF_UUID_STRLEN 37 /* 36 characters and the terminator */

/* Random (version 4) UUID from the kernel's generator. Returns 0 or HF_EIO. */
int hf_uuid_v4(char out[HF_UUID_STRLEN]);

/* Name-based (version 5, SHA-1) UUID: the same namespace text and name always
 * give the same id, so a retried request keeps its event id. */
void hf_uuid_v5(const char *namespace_text, const char *name, char out[HF_UUID_STRLEN]);

/* True when s is a UUID in canonical 8-4-4-4-12 hex form (any case). */
bool hf_uuid_valid(const char *s);

/* Lower-cases a valid UUID in place, so equal ids compare equal as text. */
void hf_uuid_normalise(char *s);

#endif
