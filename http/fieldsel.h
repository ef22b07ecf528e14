/*
 * fieldsel.h - field selectors (?fieldSelector=, kubectl --field-selector).
 *
 * The syntax is Kubernetes': requirements "FIELD=VALUE", "FIELD==VALUE" or
 * "FIELD!=VALUE" joined by commas (a backslash escapes ',', '=', '!' or
 * '\' in a value).  The fields each kind supports are Kubernetes' own:
 * metadata.name and metadata.namespace for every kind, and
 *     pods         spec.nodeName status.phase spec.restartPolicy
 *                  spec.schedulerName spec.serviceAccountName
 *                  status.podIP status.nominatedNodeName
 *     events       involvedObject.{kind,namespace,name,uid,apiVersion,
 *                  resourceVersion,fieldPath} reason reportingComponent
 *                  source type
 *     nodes        spec.unschedulable
 *     namespaces   status.phase
 *     replicasets  status.replicas
 * evaluated on the object's JSON (an absent field is ""; booleans and
 * numbers as text).  A parsed selector is immutable: thread-safe to use.
 */
#ifndef CFS_HTTP_FIELDSEL_H
#define CFS_HTTP_FIELDSEL_H

#include <jansson.h>
#include <stdbool.h>

#include "engine/err.h"
#include "engine/kind.h"

struct fieldsel;

/* Parses s for kind k.  0 and *out (NULL for an empty selector), or
 * -EINVAL with *e for bad syntax or a field k does not support. */
int fieldsel_parse(const struct kind_info *k, const char *s, struct fieldsel **out, struct err **e);
/* True when obj meets every requirement (a NULL selector: always). */
bool fieldsel_matches(const struct fieldsel *fs, const json_t *obj);
void fieldsel_free(struct fieldsel *fs);

#endif
