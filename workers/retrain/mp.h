/* mp: reading msgpack maps written by this pool's artifacts, with every type
 * and size checked (an artifact is data from the database, so it is
 * validated like any input). Writing helpers pack the same shapes. */
#ifndef MP_H
#define MP_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

/* Value of `key` in map o, NULL when o is not a map or has no such key. */
const msgpack_object *mp_get(const msgpack_object *o, const char *key);
/* Integer or float member as a double / integer; false when absent or not a number. */
bool mp_num(const msgpack_object *map, const char *key, double *out);
bool mp_int(const msgpack_object *map, const char *key, int64_t *out);
/* Array member of exactly n numbers into out; false otherwise. */
bool mp_nums(const msgpack_object *map, const char *key, double *out, uint32_t n);
/* Array member (any length), NULL when absent or not an array. */
const msgpack_object *mp_array(const msgpack_object *map, const char *key);
/* String equality. */
bool mp_str_eq(const msgpack_object *o, const char *s);

/* Packing: a string, and key + value pairs. Return msgpack's status (0 ok). */
int mp_pack_str(msgpack_packer *pk, const char *s);
int mp_pack_kv_num(msgpack_packer *pk, const char *k, double v);
int mp_pack_kv_int(msgpack_packer *pk, const char *k, int64_t v);
int mp_pack_kv_str(msgpack_packer *pk, const char *k, const char *v);
int mp_pack_kv_nums(msgpack_packer *pk, const char *k, const double *v, uint32_t n);

#endif
