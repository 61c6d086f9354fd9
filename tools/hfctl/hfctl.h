/* hfctl's commands, one file each; main() in hfctl.c dispatches by name.
 * Each returns the process exit status: 0 done, 1 failed, 2 usage. */
#ifndef HFCTL_H
#define HFCTL_H

#include <jansson.h>
#include <stdbool.h>

#include "hf_config.h"
#include "hf_kafka.h"
#include "hf_schema.h"

int hfctl_lag(const struct hf_config *cfg, int argc, char **argv);
int hfctl_dlq(const struct hf_config *cfg, int argc, char **argv);
int hfctl_insights(const struct hf_config *cfg, int argc, char **argv);
/* hfctl model list MEMBER | rollback MEMBER KIND (hfctl_model.c) */
int hfctl_model(const struct hf_config *cfg, int argc, char **argv);
int hfctl_schedule(const struct hf_config *cfg, int argc, char **argv);

int hfctl_ingredient(const struct hf_config *cfg, int argc, char **argv);

/* Produces one job of schema s from fields (borrowed), keyed by key. Its
 * event id is derived from s, key and trigger, so the same request sent
 * twice is one job downstream; headers name hfctl as the producer. */
int hfctl_send_job(hf_producer *p, const struct hf_config *cfg, const struct hf_schema *s, const json_t *fields,
                   const char *key, const char *trigger, struct hf_err *err);

/* Is flag (e.g. "--json") among argv? */
bool hfctl_flag(int argc, char **argv, const char *flag);
/* The value after option (e.g. "--limit"), or NULL. */
const char *hfctl_option(int argc, char **argv, const char *option);

#endif
