/* hfctl's subcommands that live in their own files. Each returns the
 * process exit status (0 ok, 1 failed, 2 usage). */
#ifndef HFCTL_H
#define HFCTL_H

#include "hf_config.h"

/* hfctl model list MEMBER | rollback MEMBER KIND (hfctl_model.c) */
int hfctl_model(const struct hf_config *cfg, int argc, char **argv);

#endif
