/* What insight_data.c collects and insight_engine.c reads: private to the
 * insight module (include only from those two files). */
#ifndef HF_INSIGHT_INTERNAL_H
#define HF_INSIGHT_INTERNAL_H

#include <openssl/evp.h>
#include <stdbool.h>

#include "insight.h"

#define INS_N_SYMPTOMS 9
#define INS_N_BIOMETRICS 11
#define INS_N_PHASES 4
#define INS_MAX_INGREDIENTS 256
#define INS_MAX_EXPERIMENTS 32
#define INS_MAX_PERIODS 128
/* Days analysed: the most recent 3 years of a person's logs (intake keeps
 * 2 years), so the dense per-day arrays stay small. */
#define INS_MAX_SPAN 1100

extern const char *const ins_symptoms[INS_N_SYMPTOMS];
/* true for symptoms where a higher score is better (energy, focus, mood,
 * sleep_quality); the others are complaints (0 none, 5 severe). */
extern const bool ins_symptom_good[INS_N_SYMPTOMS];
extern const char *const ins_biometrics[INS_N_BIOMETRICS];
extern const char *const ins_phases[INS_N_PHASES];

struct ins_day {
    int32_t day;
    double sym_sum[INS_N_SYMPTOMS];
    int sym_n[INS_N_SYMPTOMS];
    double bio_sum[INS_N_BIOMETRICS];
    int bio_n[INS_N_BIOMETRICS];
    int8_t phase; /* logged phase, -1 none */
    bool food;    /* an ingredient list was logged that day (possibly empty) */
};

struct ins_eat {
    int32_t day;
    int ingredient;
};

struct ins_period {
    int32_t start, end; /* end INT32_MIN when not known */
};

struct ins_experiment {
    int64_t id;
    char *name, *intervention, *outcome;
    int32_t start, end;
};

struct hf_insight_data {
    struct ins_day *days; /* sorted by day, unique */
    int n_days, cap_days;
    struct ins_eat *eats;
    int n_eats, cap_eats;
    char *ingredients[INS_MAX_INGREDIENTS];
    int n_ingredients;
    int slots[2 * INS_MAX_INGREDIENTS]; /* open addressing over ingredients, -1 free */
    struct ins_period periods[INS_MAX_PERIODS];
    int n_periods;
    struct ins_experiment experiments[INS_MAX_EXPERIMENTS];
    int n_experiments;
    int logs, skipped_logs, skipped_values, dropped_ingredients;
    EVP_MD_CTX *sha;
};

#endif
