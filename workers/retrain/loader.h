/* loader: reads what a batch's members' models learn from, with three
 * queries for the whole batch (not per member):
 *
 *  - symptom and nutrition logs of the 90 days ending on the member's
 *    newest symptom log (002, 004), one fx_day per day: the day's last given
 *    value of each symptom, the log's cycle phase, every ingredient name of
 *    the day (symptom ingredients[] and nutrition items[].name, lower case);
 *  - every period start, and basal temperatures and LH tests of the last
 *    800 days;
 *  - ingredient_scores (gut, inflammation) of the names of members still in
 *    cold start.
 * Deleted members and deleted logs are left out; only VERIFIED logs count. */
#ifndef LOADER_H
#define LOADER_H

#include <stdint.h>

#include "hf_pg.h"
#include "model.h"

typedef struct loader loader;

/* Loads members ids[0..n-1] in the transaction of pg. Caller frees *out with
 * loader_free. Returns 0, HF_ENOMEM, or hf_pg's errors. */
int loader_load(hf_pg *pg, const int64_t *ids, int n, loader **out, struct hf_err *err);

/* The member's data, valid until loader_free; NULL when the member does not
 * exist (or is deleted). */
const struct member_data *loader_member(const loader *l, int64_t member_id);

void loader_free(loader *l);

#endif
