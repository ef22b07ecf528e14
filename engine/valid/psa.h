/*
 * psa.h - Kubernetes' Pod Security Standards: the checks of the levels
 * privileged, baseline and restricted, at a version ("latest" or "v1.N"),
 * on a pod's metadata and spec, worded as Kubernetes' Pod Security
 * admission words them; and the namespace labels that choose the levels
 * (pod-security.kubernetes.io/enforce, warn, audit and their -version).
 *
 * Pure functions of their inputs: no store, no state.  The API layer
 * (engine/api/api_psa.c) applies them on writes.  Thread-safe.
 */
#ifndef CFS_PSA_H
#define CFS_PSA_H

#include <jansson.h>
#include <stdbool.h>

#include "engine/err.h"
#include "engine/kind.h"

enum psa_level { PSA_PRIVILEGED, PSA_BASELINE, PSA_RESTRICTED };

/* The newest version the checks know; "latest" evaluates as this one and
 * a newer "v1.N" as this one too, as Kubernetes does. */
#define PSA_MINOR_MAX 34
#define PSA_LATEST    (-1)

/* A level at a version: minor is N of "v1.N", or PSA_LATEST. */
struct psa_policy {
	enum psa_level level;
	int minor;
};

/* The three modes of a namespace. */
struct psa_ns {
	struct psa_policy enforce, warn, audit;
};

#define PSA_LABEL_PREFIX "pod-security.kubernetes.io/"

/* "privileged", "baseline", "restricted". */
const char *psa_level_name(enum psa_level l);

/* "baseline:latest", "restricted:v1.23"; out has room for 32 bytes. */
void psa_policy_string(const struct psa_policy *p, char out[32]);

/* The server flag's "LEVEL[:VERSION]" ("baseline", "restricted:v1.30").
 * 0, or -EINVAL with *e. */
int psa_parse_policy(const char *s, struct psa_policy *out, struct err **e);

/*
 * A namespace's policy from its labels (NULL: none): each mode's level and
 * version label, a mode without a level label taking dflt (its version
 * label still applies), a level label without a version label taking
 * "latest".  0, or -EINVAL with *e naming the label as Kubernetes does:
 *   metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value:
 *   "strict": must be one of privileged, baseline, restricted
 */
int psa_ns_policy(const json_t *labels, const struct psa_policy *dflt, struct psa_ns *out,
		  struct err **e);

/*
 * The pod metadata and spec to evaluate in obj of kind k: a Pod's own, a
 * Deployment's or ReplicaSet's spec.template's.  False for other kinds (or
 * a missing spec).
 */
bool psa_pod_of(const json_t *obj, const struct kind_info *k, const json_t **meta,
		const json_t **spec);

/*
 * Evaluates a pod (meta may be NULL) against p: NULL when it complies,
 * else a new string of the checks it fails, Kubernetes' way:
 *   privileged (container "c" must not set securityContext.privileged=true),
 *   hostPath volumes (volume "v")
 * The caller frees it.
 */
char *psa_evaluate(const json_t *meta, const json_t *spec, const struct psa_policy *p);

/*
 * True when an update of a pod from old to new matters to Pod Security, as
 * Kubernetes decides (its "significant" updates): the number of containers
 * or init containers, a container's image, a seccomp annotation or the
 * ephemeral containers changed.  Other changes (labels, annotations,
 * tolerations, ...) are not evaluated again.
 */
bool psa_significant_update(const json_t *old_pod, const json_t *new_pod);

#endif
