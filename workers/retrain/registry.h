/* registry: the rules of user_models, apart from SQL so they are tested.
 *
 * A member has versions 1, 2, ... per kind; at most one is active (the
 * database enforces it with a partial unique index). A new version becomes
 * active only when it passed its kind's threshold at validation AND it scores
 * at least as well as the active one on the same, newest data (both are
 * evaluated by model_evaluate on the rows of this retrain). A retrain whose
 * data fingerprint equals the newest version's trains nothing: the same data
 * would give the same model, so no useless version is stored. Rollback
 * (hfctl model rollback) activates the newest passing version older than the
 * active one. */
#ifndef REGISTRY_H
#define REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

/* The activation rule. active_score NAN (the active model cannot be scored
 * on this data, e.g. no validation rows) does not block a passing model. */
bool registry_should_activate(bool passed, double new_score, bool has_active, double active_score);

/* The fingerprint as stored in user_models.data_hash: 16 hex digits. */
void registry_hash_text(uint64_t hash, char out[17]);

#endif
