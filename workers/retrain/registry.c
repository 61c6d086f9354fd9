/* Registry rules; see registry.h. */
#include "registry.h"

#include <math.h>
#include <stdio.h>

bool registry_should_activate(bool passed, double new_score, bool has_active, double active_score)
{
    if (!passed || !isfinite(new_score))
        return false;
    if (!has_active || !isfinite(active_score))
        return true;
    return new_score >= active_score - 1e-9;
}

void registry_hash_text(uint64_t hash, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)hash);
}
