/*
 * route.h - parses a Kubernetes API path into what it names.
 *
 * Pure string work, no I/O, no allocation: a struct route is filled in
 * place.  The dispatch table in http.c maps (route type, method) to a
 * handler; a handler reads the parsed fields.  Paths served:
 *
 *     /healthz /readyz /livez /version /api /apis /apis/GROUP
 *     /api/v1                      /apis/GROUP/VERSION        (resource lists)
 *     /api/v1/PLURAL               (cluster-scoped kinds, or a namespaced
 *                                   kind across all namespaces)
 *     /api/v1/PLURAL/NAME[/SUB]    (cluster-scoped kinds)
 *     /api/v1/namespaces/NS/PLURAL[/NAME[/SUB]]
 *     and the same under /apis/GROUP/VERSION.
 *     /openapi/v2  /openapi/v3  /openapi/v3/api/v1  /openapi/v3/apis/GROUP/VERSION
 *
 * /api/v1/namespaces/NAME/status and .../finalize are the Namespace's
 * subresources, not a kind in a namespace.  Thread-safe (no state).
 */
#ifndef CFS_HTTP_ROUTE_H
#define CFS_HTTP_ROUTE_H

#include <stdbool.h>

#include "engine/kind.h"

enum route_type {
	ROUTE_HEALTH,	     /* /healthz, /readyz, /livez (anonymous) */
	ROUTE_VERSION,	     /* /version */
	ROUTE_API,	     /* /api: APIVersions */
	ROUTE_APIS,	     /* /apis: APIGroupList */
	ROUTE_GROUP,	     /* /apis/GROUP: APIGroup */
	ROUTE_GROUP_VERSION, /* /api/v1, /apis/GROUP/VERSION: APIResourceList */
	ROUTE_COLLECTION,    /* .../PLURAL: list (ns "" with namespaced: all namespaces) */
	ROUTE_OBJECT,	     /* .../PLURAL/NAME[/SUB] */
	ROUTE_OPENAPI_V2,    /* /openapi/v2 */
	ROUTE_OPENAPI_V3, /* /openapi/v3 (version ""), /openapi/v3/api/v1, /openapi/v3/apis/G/V */
	ROUTE_TYPE_COUNT,
};

#define ROUTE_SEG_MAX 254 /* a name is at most 253 characters */

struct route {
	enum route_type type;
	char group[64];		      /* "" for the core group, "apps" */
	char version[16];	      /* "v1" */
	const struct kind_info *kind; /* COLLECTION, OBJECT */
	char ns[ROUTE_SEG_MAX];	      /* "" when cluster-scoped or all namespaces */
	char name[ROUTE_SEG_MAX];     /* OBJECT */
	char sub[32];		      /* OBJECT: "" or "status", "scale", "log", ... */
};

/*
 * Parses path (no query string; a trailing '/' is ignored).  Returns 0, or
 * -ENOENT for a path the API does not serve (an unknown group, version or
 * resource, a cluster-scoped kind under a namespace, too many segments, a
 * segment too long).
 */
int route_parse(const char *path, struct route *r);

/* "v1" or "apps/v1": the apiVersion of the route's group and version. */
void route_api_version(const struct route *r, char out[96]);

/* Groups served (discovery, version v1) that hold no kind of ours:
 * "policy", where kubectl drain looks before it evicts pods through
 * pods/NAME/eviction (policy/v1 Eviction).  NULL-ended. */
extern const char *const route_extra_groups[];

#endif
