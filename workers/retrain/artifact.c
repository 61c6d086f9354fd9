/* The model artifact: user_models.artifact, one msgpack map.
 *
 *   {"format": 1, "kind": "symptoms", "algorithm": "gbt", "samples": 87,
 *    "vocab": ["milk", ...], "p": 76,
 *    "targets": [{"type": 0|1|2, "c": [5 numbers], "beta": [p+1 numbers],
 *                 "trees": {gbt_pack} | nil}, ...],
 *    "cycle": {"n_lengths", "wmean", "has_ar", "ar_c", "ar_phi", "w_mean",
 *              "w_ar", "sigma", "luteal", "n_luteal"}}
 *
 * Decoding checks every field against the kind (sizes, types, ranges), so a
 * corrupt or foreign artifact is refused, never half-read. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model_impl.h"
#include "mp.h"

static int pack_target(msgpack_packer *pk, const model *m, const struct target *t, struct hf_err *err)
{
    int rc = msgpack_pack_map(pk, 4);
    rc = rc ? rc : mp_pack_kv_int(pk, "type", t->type);
    rc = rc ? rc : mp_pack_kv_nums(pk, "c", t->c, MAX_TARGETS);
    rc = rc ? rc : mp_pack_kv_nums(pk, "beta", t->beta, t->type == T_LINEAR ? (uint32_t)m->p + 1 : 0);
    rc = rc ? rc : mp_pack_str(pk, "trees");
    if (rc)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory packing a model");
    return t->type == T_GBT ? gbt_pack(t->g, pk, err) : (msgpack_pack_nil(pk) ? HF_ENOMEM : 0);
}

static int pack_cycle(msgpack_packer *pk, const struct cycle_model *c)
{
    int rc = msgpack_pack_map(pk, 10);
    rc = rc ? rc : mp_pack_kv_int(pk, "n_lengths", c->n_lengths);
    rc = rc ? rc : mp_pack_kv_num(pk, "wmean", c->wmean);
    rc = rc ? rc : mp_pack_kv_int(pk, "has_ar", c->has_ar);
    rc = rc ? rc : mp_pack_kv_num(pk, "ar_c", c->ar_c);
    rc = rc ? rc : mp_pack_kv_num(pk, "ar_phi", c->ar_phi);
    rc = rc ? rc : mp_pack_kv_num(pk, "w_mean", c->w_mean);
    rc = rc ? rc : mp_pack_kv_num(pk, "w_ar", c->w_ar);
    rc = rc ? rc : mp_pack_kv_num(pk, "sigma", c->sigma);
    rc = rc ? rc : mp_pack_kv_num(pk, "luteal", c->luteal);
    rc = rc ? rc : mp_pack_kv_int(pk, "n_luteal", c->n_luteal);
    return rc;
}

int model_encode(const model *m, msgpack_sbuffer *out, struct hf_err *err)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    int rc = msgpack_pack_map(&pk, 8);
    rc = rc ? rc : mp_pack_kv_int(&pk, "format", MODEL_FORMAT);
    rc = rc ? rc : mp_pack_kv_str(&pk, "kind", model_kind_name(m->kind));
    rc = rc ? rc : mp_pack_kv_str(&pk, "algorithm", m->algorithm);
    rc = rc ? rc : mp_pack_kv_int(&pk, "samples", m->samples);
    rc = rc ? rc : mp_pack_kv_int(&pk, "p", m->p);
    rc = rc ? rc : mp_pack_str(&pk, "vocab");
    rc = rc ? rc : msgpack_pack_array(&pk, (uint32_t)m->V);
    for (int v = 0; v < m->V && rc == 0; v++)
        rc = mp_pack_str(&pk, m->vocab[v]);
    rc = rc ? rc : mp_pack_str(&pk, "cycle");
    rc = rc ? rc : pack_cycle(&pk, &m->cyc);
    rc = rc ? rc : mp_pack_str(&pk, "targets");
    rc = rc ? rc : msgpack_pack_array(&pk, (uint32_t)m->n_targets);
    if (rc)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory packing a model");
    for (int j = 0; j < m->n_targets && rc == 0; j++)
        rc = pack_target(&pk, m, &m->t[j], err);
    return rc;
}

static bool unpack_cycle(const msgpack_object *o, struct cycle_model *c)
{
    int64_t n, has_ar, n_luteal;
    if (!o || !mp_int(o, "n_lengths", &n) || !mp_int(o, "has_ar", &has_ar) || !mp_int(o, "n_luteal", &n_luteal) ||
        !mp_num(o, "wmean", &c->wmean) || !mp_num(o, "ar_c", &c->ar_c) || !mp_num(o, "ar_phi", &c->ar_phi) ||
        !mp_num(o, "w_mean", &c->w_mean) || !mp_num(o, "w_ar", &c->w_ar) || !mp_num(o, "sigma", &c->sigma) ||
        !mp_num(o, "luteal", &c->luteal))
        return false;
    if (n < 0 || n > CYCLE_MAX_STARTS || has_ar < 0 || has_ar > 1 || n_luteal < 0 || n_luteal > CYCLE_MAX_STARTS)
        return false;
    c->n_lengths = (int)n;
    c->has_ar = has_ar;
    c->n_luteal = (int)n_luteal;
    c->mae = c->mae_mean = c->mae_ar = NAN;
    double v[] = { c->wmean, c->ar_c, c->ar_phi, c->w_mean, c->w_ar, c->sigma, c->luteal };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!isfinite(v[i]))
            return false;
    return c->sigma >= 0 && c->luteal >= 0 && c->luteal < 30;
}

static bool unpack_target(const msgpack_object *o, model *m, struct target *t, struct hf_err *err)
{
    int64_t type;
    if (!mp_int(o, "type", &type) || type < T_CONST || type > T_GBT || !mp_nums(o, "c", t->c, MAX_TARGETS))
        return false;
    t->type = (enum target_type)type;
    for (int c = 0; c < MAX_TARGETS; c++)
        if (!isfinite(t->c[c]))
            return false;
    if (t->type == T_LINEAR) {
        t->beta = malloc(sizeof *t->beta * (size_t)(m->p + 1));
        if (!t->beta || !mp_nums(o, "beta", t->beta, (uint32_t)m->p + 1))
            return false;
        for (int j = 0; j <= m->p; j++)
            if (!isfinite(t->beta[j]))
                return false;
    }
    if (t->type == T_GBT) {
        const msgpack_object *g = mp_get(o, "trees");
        if (!g || gbt_unpack(g, &t->g, err))
            return false;
        bool softmax = gbt_outputs(t->g) > 1;
        if (gbt_features(t->g) != m->p || softmax != (m->kind == KIND_MOOD) ||
            (softmax && gbt_outputs(t->g) != MAX_TARGETS))
            return false;
    }
    return true;
}

int model_decode(const void *data, size_t len, model **out, struct hf_err *err)
{
    *out = NULL;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    model *m = calloc(1, sizeof *m);
    int rc = HF_EINVAL;
    if (!m) {
        rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
        goto out;
    }
    if (msgpack_unpack_next(&u, data, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len) {
        hf_err_set(err, HF_EINVAL, false, "model artifact: not one msgpack value");
        goto out;
    }
    const msgpack_object *o = &u.data;
    int64_t format, samples, p;
    const msgpack_object *kind = mp_get(o, "kind"), *alg = mp_get(o, "algorithm"), *vocab = mp_array(o, "vocab"),
                         *targets = mp_array(o, "targets");
    if (!mp_int(o, "format", &format) || format != MODEL_FORMAT) {
        hf_err_set(err, HF_EINVAL, false, "model artifact: format is not %d", MODEL_FORMAT);
        goto out;
    }
    m->kind = -1;
    for (int k = 0; k < KIND_N; k++)
        if (mp_str_eq(kind, model_kind_name(k)))
            m->kind = k;
    if (m->kind < 0 || !alg || alg->type != MSGPACK_OBJECT_STR || alg->via.str.size >= sizeof m->algorithm ||
        !mp_int(o, "samples", &samples) || samples < 0 || samples > 1000000 || !mp_int(o, "p", &p) || !vocab ||
        vocab->via.array.size > FX_MAX_VOCAB || !targets || targets->via.array.size > MAX_TARGETS) {
        hf_err_set(err, HF_EINVAL, false, "model artifact: header fields missing or out of range");
        goto out;
    }
    memcpy(m->algorithm, alg->via.str.ptr, alg->via.str.size);
    m->samples = (int)samples;
    for (uint32_t v = 0; v < vocab->via.array.size; v++) {
        const msgpack_object *s = &vocab->via.array.ptr[v];
        if (s->type != MSGPACK_OBJECT_STR || s->via.str.size == 0 || s->via.str.size > 80 ||
            !(m->vocab[v] = strndup(s->via.str.ptr, s->via.str.size))) {
            hf_err_set(err, HF_EINVAL, false, "model artifact: vocabulary entry %u is not a name", v);
            goto out;
        }
        m->V++;
    }
    m->p = (int)p;
    m->n_targets = (int)targets->via.array.size;
    /* The target count and the feature width follow from the kind. */
    bool shape = m->kind == KIND_CYCLE ? m->n_targets == 0 && p == 0
                 : m->kind == KIND_SYMPTOMS ? m->n_targets == 3
                 : m->kind == KIND_MOOD ? m->n_targets == 1 || m->n_targets == MAX_TARGETS
                                        : m->n_targets == 1;
    if (!shape || (m->kind != KIND_CYCLE && p != 4 * m->V + 12)) {
        hf_err_set(err, HF_EINVAL, false, "model artifact: %d targets and %lld features do not fit kind %s",
                   m->n_targets, (long long)p, model_kind_name(m->kind));
        goto out;
    }
    for (int j = 0; j < m->n_targets; j++)
        if (!unpack_target(&targets->via.array.ptr[j], m, &m->t[j], err)) {
            hf_err_set(err, HF_EINVAL, false, "model artifact: target %d is corrupt", j);
            goto out;
        }
    if (!unpack_cycle(mp_get(o, "cycle"), &m->cyc)) {
        hf_err_set(err, HF_EINVAL, false, "model artifact: the cycle parameters are corrupt");
        goto out;
    }
    *out = m;
    m = NULL;
    rc = 0;
out:
    msgpack_unpacked_destroy(&u);
    model_free(m);
    return rc;
}
