/*
 * openapi.h - the OpenAPI documents kubectl reads, generated from the
 * validation's field tables (engine/valid/schema.h), never kept by hand.
 *
 *   /openapi/v2          Swagger 2.0: every definition and every path.  As
 *                        protobuf (gnostic's openapi.v2.Document) when the
 *                        Accept header names it (kubectl 1.27, 1.28, and
 *                        1.32's fallback), else JSON.
 *   /openapi/v3          the index: {"paths": {"api/v1": {"serverRelativeURL":
 *                        "/openapi/v3/api/v1?hash=H"}, "apis/apps/v1": ...}}
 *   /openapi/v3/api/v1, /openapi/v3/apis/GROUP/VERSION
 *                        OpenAPI 3.0: the group-version's paths and the
 *                        schemas (components.schemas), for kubectl explain
 *                        and kubectl's field validation check.
 *
 * Every patch operation lists the fieldValidation query parameter: kubectl
 * then leaves unknown-field checks to the server (fieldValidation=Strict)
 * rather than validating on the client.  The documents are built once
 * (they are constant per build) and kept; the functions below return new
 * references or copies, and are thread-safe.
 */
#ifndef CFS_HTTP_OPENAPI_H
#define CFS_HTTP_OPENAPI_H

#include <jansson.h>
#include <stddef.h>

#include "engine/mem.h"

/* The Swagger 2.0 document. */
json_t *openapi_v2(void);
/* The OpenAPI 3.0 index (/openapi/v3). */
json_t *openapi_v3_index(void);
/* The OpenAPI 3.0 document of group ("" for core) and version; NULL when
 * no kind is served there. */
json_t *openapi_v3(const char *group, const char *version);

/* Encodes a Swagger 2.0 document (as openapi_v2 builds it) as gnostic's
 * openapi.v2.Document protobuf message, appended to out (openapi_pb.c). */
void openapi_v2_protobuf(const json_t *doc, struct buf *out);

#endif
