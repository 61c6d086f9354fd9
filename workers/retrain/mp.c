/* msgpack helpers for the retraining pool's artifacts. */
#include "mp.h"

#include <string.h>

bool mp_str_eq(const msgpack_object *o, const char *s)
{
    size_t n = strlen(s);
    return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == n && memcmp(o->via.str.ptr, s, n) == 0;
}

const msgpack_object *mp_get(const msgpack_object *o, const char *key)
{
    if (!o || o->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < o->via.map.size; i++)
        if (mp_str_eq(&o->via.map.ptr[i].key, key))
            return &o->via.map.ptr[i].val;
    return NULL;
}

static bool as_num(const msgpack_object *v, double *out)
{
    if (!v)
        return false;
    switch (v->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        *out = (double)v->via.u64;
        return true;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *out = (double)v->via.i64;
        return true;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        *out = v->via.f64;
        return true;
    default:
        return false;
    }
}

bool mp_num(const msgpack_object *map, const char *key, double *out)
{
    return as_num(mp_get(map, key), out);
}

bool mp_int(const msgpack_object *map, const char *key, int64_t *out)
{
    const msgpack_object *v = mp_get(map, key);
    if (!v)
        return false;
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= INT64_MAX) {
        *out = (int64_t)v->via.u64;
        return true;
    }
    if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = v->via.i64;
        return true;
    }
    return false;
}

const msgpack_object *mp_array(const msgpack_object *map, const char *key)
{
    const msgpack_object *v = mp_get(map, key);
    return v && v->type == MSGPACK_OBJECT_ARRAY ? v : NULL;
}

bool mp_nums(const msgpack_object *map, const char *key, double *out, uint32_t n)
{
    const msgpack_object *a = mp_array(map, key);
    if (!a || a->via.array.size != n)
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (!as_num(&a->via.array.ptr[i], &out[i]))
            return false;
    return true;
}

int mp_pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    int rc = msgpack_pack_str(pk, n);
    return rc ? rc : msgpack_pack_str_body(pk, s, n);
}

int mp_pack_kv_num(msgpack_packer *pk, const char *k, double v)
{
    int rc = mp_pack_str(pk, k);
    return rc ? rc : msgpack_pack_double(pk, v);
}

int mp_pack_kv_int(msgpack_packer *pk, const char *k, int64_t v)
{
    int rc = mp_pack_str(pk, k);
    return rc ? rc : msgpack_pack_int64(pk, v);
}

int mp_pack_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    int rc = mp_pack_str(pk, k);
    return rc ? rc : mp_pack_str(pk, v);
}

int mp_pack_kv_nums(msgpack_packer *pk, const char *k, const double *v, uint32_t n)
{
    int rc = mp_pack_str(pk, k);
    if (rc == 0)
        rc = msgpack_pack_array(pk, n);
    for (uint32_t i = 0; i < n && rc == 0; i++)
        rc = msgpack_pack_double(pk, v[i]);
    return rc;
}
