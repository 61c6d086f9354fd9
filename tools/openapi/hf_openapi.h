/* hf_openapi: the OpenAPI 3.1 document of the intake API, built from the
 * schema registry (schemas/), so the document and the validator cannot drift.
 *
 * One code path makes the document for everyone: hf-openapi writes it at
 * build time (<build>/openapi.json, compared with the committed
 * intake/openapi.json by a test), and hf-intake serves the same text at
 * GET /openapi.json. The document depends on the schemas only, never on the
 * running configuration, so every replica serves the same bytes. */
#ifndef HF_OPENAPI_H
#define HF_OPENAPI_H

#include <jansson.h>

#include "hf_err.h"
#include "hf_schema.h"

/* Builds the document. *out: a new reference, caller json_decrefs it.
 * Returns 0; HF_EINVAL when a schema's file text or example is malformed (a
 * build defect); HF_ENOMEM. */
int hf_openapi_build(const hf_schema_registry *reg, json_t **out, struct hf_err *err);

/* The document as the text committed and served: two-space indentation, a
 * trailing newline. *out is malloc'd, caller frees. Returns as
 * hf_openapi_build. */
int hf_openapi_render(const hf_schema_registry *reg, char **out, struct hf_err *err);

#endif
